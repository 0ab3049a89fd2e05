/**
 * Seeded, realistic records for the benchmarks: nested objects, arrays, numbers, nulls, and text
 * in several scripts with emoji (multi-byte UTF-8, surrogate pairs), about 350 bytes a record.
 * The same seed gives the same bytes on every machine, so runs compare.
 *
 * @module
 */

/** mulberry32: a small, fast, seeded PRNG (good enough to vary records, not for cryptography). */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NAMES = [
  'Zoë Ångström',
  'José Müller',
  '李小龍',
  'Мария Иванова',
  'Ἀριστοτέλης',
  'Nguyễn Thị Minh',
  'Ada Lovelace',
  'محمد علي',
  'Søren Kierkegaard',
  '佐藤 花子',
]
const LOCALES = ['en-GB', 'de-DE', 'zh-CN', 'ru-RU', 'el-GR', 'vi-VN', 'fr-FR', 'ar-EG', 'da-DK', 'ja-JP']
const TYPES = ['order.created', 'order.paid', 'order.shipped', 'cart.updated', 'review.posted', 'refund.issued']
const TAGS = ['vip', 'new', 'beta', 'mobile', 'eu', 'apac', 'returning', 'b2b']
const TEXTS = [
  'Arrived two days early, packaging was perfect 👍🏽',
  'Größe passt nicht ganz, aber die Qualität ist super ✨',
  '配達が早くて助かりました 😊 また利用します',
  'Качество отличное, рекомендую 🚀',
  'The café au lait mug cracked in transit ☕💔 — refund please',
  'Tốt lắm, giao hàng nhanh 🇻🇳',
  'Exactly as described. Five stars ⭐⭐⭐⭐⭐',
  'Le colis est arrivé abîmé 📦, service client réactif',
]

/** One record: `seq` makes each unique and lets consumers checksum what they received. */
function makeRecord(random, seq) {
  const n = Math.floor(random() * NAMES.length)
  const items = []
  const itemCount = 1 + Math.floor(random() * 3)
  for (let i = 0; i < itemCount; i++) {
    items.push({
      sku: `SKU-${Math.floor(random() * 100000)}`,
      qty: 1 + Math.floor(random() * 5),
      price: Math.round(random() * 20000) / 100,
    })
  }
  const tags = []
  for (let i = Math.floor(random() * 3); i > 0; i--) tags.push(TAGS[Math.floor(random() * TAGS.length)])
  return {
    id: `evt_${seq.toString(36).padStart(8, '0')}`,
    seq,
    type: TYPES[Math.floor(random() * TYPES.length)],
    at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    user: { id: Math.floor(random() * 1e6), name: NAMES[n], locale: LOCALES[n], tags },
    items,
    note: TEXTS[Math.floor(random() * TEXTS.length)],
    meta: { score: Math.round(random() * 1000) / 1000, verified: random() < 0.7, ref: null },
  }
}

/**
 * An NDJSON corpus of about `bytes` bytes: the whole buffer, the lines as strings (the
 * `JSON.parse`-alone limit reads these), and the checksum every contestant must reproduce.
 */
export function ndjsonCorpus(bytes, seed = 1) {
  const random = prng(seed)
  const lines = []
  let size = 0
  let checksum = 0
  for (let seq = 0; size < bytes; seq++) {
    const line = JSON.stringify(makeRecord(random, seq))
    lines.push(line)
    size += Buffer.byteLength(line) + 1
    checksum += seq
  }
  const buffer = Buffer.from(`${lines.join('\n')}\n`)
  return { kind: 'ndjson', buffer, lines, records: lines.length, checksum }
}

/**
 * An SSE corpus of about `bytes` bytes: events with `id`, `event` and JSON `data` (one in ten
 * split over two `data` lines), and a `: ping` comment heartbeat every 50 events.
 * The checksum is the total length of the events' data strings.
 */
export function sseCorpus(bytes, seed = 2) {
  const random = prng(seed)
  const blocks = []
  let size = 0
  let checksum = 0
  let events = 0
  for (let seq = 0; size < bytes; seq++) {
    const json = JSON.stringify(makeRecord(random, seq))
    let block
    let data
    if (seq % 10 === 9) {
      const cut = json.indexOf(',"items"')
      block = `id: ${seq}\nevent: update\ndata: ${json.slice(0, cut)}\ndata: ${json.slice(cut)}\n\n`
      data = `${json.slice(0, cut)}\n${json.slice(cut)}`
    } else {
      block = `id: ${seq}\nevent: update\ndata: ${json}\n\n`
      data = json
    }
    if (seq % 50 === 49) block += ': ping\n\n'
    blocks.push(block)
    size += Buffer.byteLength(block)
    checksum += data.length
    events++
  }
  return { kind: 'sse', buffer: Buffer.from(blocks.join('')), records: events, checksum }
}

const POOL = 4096

/** Seeded record bodies without `id` and `seq`, for streams generated on the fly (see {@link pooledLine}). */
export function bodyPool(seed) {
  const random = prng(seed)
  const bodies = []
  for (let i = 0; i < POOL; i++) {
    const { id: _id, seq: _seq, ...rest } = makeRecord(random, i)
    bodies.push(JSON.stringify(rest).slice(1))
  }
  return bodies
}

/** NDJSON line `seq` of an endless stream: unique `id` and `seq`, a body from the pool, a newline. */
export function pooledLine(bodies, seq) {
  return `{"id":"evt_${seq.toString(36).padStart(8, '0')}","seq":${seq},${bodies[seq % bodies.length]}\n`
}

/** Views of `buffer` in chunks of `size` bytes (the last one shorter), cutting through characters and lines. */
export function chunksOf(buffer, size) {
  const chunks = []
  for (let at = 0; at < buffer.length; at += size) chunks.push(buffer.subarray(at, Math.min(at + size, buffer.length)))
  return chunks
}

/** A fresh `ReadableStream` of the chunks, pulled one at a time as a `fetch` body is. */
export function streamOf(chunks) {
  let i = 0
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++])
      else controller.close()
    },
  })
}

/**
 * Arbitrary bytes under arbitrary chunkings: the decoders throw nothing but SluiceErrors, never
 * hang, and never buffer much more than maxLineBytes. Bounded here; SLUICE_FUZZ_RUNS raises it.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { decodeNdjson, decodeSse, NdjsonDecoderStream, SluiceError, SseDecoderStream } from '../../src/index.js'
import { recordFuzz } from './figures.js'

const runs = Number(process.env.SLUICE_FUZZ_RUNS ?? 300)
const MAX_LINE = 1024

/** Bytes biased toward the characters that matter to the decoders: line breaks, colons, braces, bad UTF-8. */
const byte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(10, 13, 58, 123, 125, 34, 0xef, 0xbb, 0xbf, 0xc3, 0x80, 0xff),
)
const noise = fc.tuple(fc.uint8Array({ maxLength: 3000 }), fc.array(byte, { maxLength: 600 })).map(([a, b]) => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(Uint8Array.from(b), a.length)
  return out
})
/** Well-formed NDJSON and SSE with a few bytes flipped: near-misses reach deeper than pure noise. */
const nearMiss = fc
  .tuple(
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 20 }),
    fc.boolean(),
    fc.array(fc.tuple(fc.nat(), byte), { maxLength: 3 }),
  )
  .map(([values, sse, flips]) => {
    const text = values.map((v) => (sse ? `data: ${JSON.stringify(v)}\n\n` : `${JSON.stringify(v)}\n`)).join('')
    const bytes = new TextEncoder().encode(text)
    for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value
    return bytes
  })
const input = fc.oneof(noise, nearMiss)
const cuts = fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 40 })

function* chunked(bytes: Uint8Array, sizes: number[]) {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!
    yield bytes.subarray(at, at + size)
    at += size
  }
}

/** A ReadableStream over chunks (ReadableStream.from is missing from the DOM lib's types). */
function streamOf(chunks: Iterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.iterator]()
  return new ReadableStream({
    pull(controller) {
      const next = iterator.next()
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
  })
}

/** Reads a stream to its end, counting what came out. */
async function drain(stream: ReadableStream<unknown>): Promise<number> {
  const reader = stream.getReader()
  let n = 0
  while (!(await reader.read()).done) n++
  return n
}

type Decoder = (bytes: Uint8Array, sizes: number[], fatal: boolean) => Promise<number>

const decoders: Record<string, Decoder> = {
  decodeNdjson: async (bytes, sizes, fatal) => {
    let n = 0
    for await (const _ of decodeNdjson(chunked(bytes, sizes), { maxLineBytes: MAX_LINE, fatal })) n++
    return n
  },
  decodeSse: async (bytes, sizes, fatal) => {
    let n = 0
    for await (const _ of decodeSse(chunked(bytes, sizes), { maxLineBytes: MAX_LINE, fatal, json: n % 2 === 0 })) n++
    return n
  },
  NdjsonDecoderStream: async (bytes, sizes, fatal) => {
    return drain(streamOf(chunked(bytes, sizes)).pipeThrough(new NdjsonDecoderStream({ maxLineBytes: MAX_LINE, fatal })))
  },
  SseDecoderStream: async (bytes, sizes, fatal) => {
    return drain(streamOf(chunked(bytes, sizes)).pipeThrough(new SseDecoderStream({ maxLineBytes: MAX_LINE, fatal })))
  },
}

/** Fails a case that neither finishes nor throws within `ms`: a hang. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no result within ${ms} ms`)), ms)
  })
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer))
}

describe.each(Object.keys(decoders))('%s on arbitrary bytes', (name) => {
  const decode = decoders[name]!

  test.each([false, true])('throws only SluiceErrors and never hangs (fatal: %s)', async (fatal) => {
    const codes = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(input, cuts, async (bytes, sizes) => {
        try {
          await within(decode(bytes, sizes, fatal), 5000)
          codes.set('ok', (codes.get('ok') ?? 0) + 1)
        } catch (error) {
          expect(error, String(error)).toBeInstanceOf(SluiceError)
          const code = (error as SluiceError).code
          expect(code).toMatch(/^[A-Z_]+$/)
          codes.set(code, (codes.get(code) ?? 0) + 1)
        }
      }),
      { numRuns: runs },
    )
    recordFuzz(`${name} (fatal: ${fatal})`, runs, codes)
    // The generator must reach the interesting cases, or the property proves little.
    if (!fatal) expect(codes.get('ok') ?? 0).toBeGreaterThan(0)
    else expect(codes.get('ENCODING_ERROR') ?? 0).toBeGreaterThan(0)
  }, 120_000)
})

test('a line with no end is refused after about maxLineBytes, whatever the chunking', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 4096 }), fc.boolean(), async (chunkSize, sse) => {
      let pulled = 0
      const endless = {
        async *[Symbol.asyncIterator]() {
          const chunk = new Uint8Array(chunkSize).fill(sse ? 0x61 : 0x7b) // 'a' or '{', never a newline
          for (;;) {
            pulled += chunk.length
            yield chunk
          }
        },
      }
      const decode = sse ? decodeSse(endless, { maxLineBytes: MAX_LINE }) : decodeNdjson(endless, { maxLineBytes: MAX_LINE })
      const error = await within((async () => { for await (const _ of decode); })(), 5000).catch((e: unknown) => e)
      expect((error as SluiceError).code).toBe('LINE_TOO_LONG')
      expect(pulled).toBeLessThanOrEqual(MAX_LINE + chunkSize)
    }),
    { numRuns: Math.min(runs, 200) },
  )
})

test('invalid UTF-8 becomes U+FFFD by default and an EncodingError with fatal: true', async () => {
  const bad = Uint8Array.from([...new TextEncoder().encode('{"name":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}\n')])
  const records: { name: string }[] = []
  for await (const r of decodeNdjson<{ name: string }>([bad])) records.push(r)
  expect(records).toEqual([{ name: '\uFFFD\uFFFD' }])
  const error = await (async () => { for await (const _ of decodeNdjson([bad], { fatal: true })); })().catch((e: unknown) => e)
  expect((error as SluiceError).code).toBe('ENCODING_ERROR')
})

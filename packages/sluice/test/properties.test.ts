/**
 * Property tests: random records (nested, multi-byte, emoji) encoded as NDJSON or SSE with random
 * line endings, heartbeats and a BOM, then cut into random chunks (one byte at a time, at random
 * points, inside CRLF pairs and multi-byte characters): the decoded sequence equals the one
 * decoded from the whole buffer, and the records that were encoded.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { decodeNdjson, decodeSse, type SseEvent } from '../src/index.js'
import { chunksAt } from './chunkings.js'
import { collect, utf8 } from './collect.js'

const RUNS = 150

const tricky = fc.constantFrom('😀', '👍🏽', 'é', '日本語', '\u2028', '\uFEFF', 'a\u0000b', '"\\', ' ', '\t', '')
const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), tricky)
const record = fc.oneof(
  fc.record({ id: fc.nat(), text, emoji: tricky, nested: fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 3 }) }),
  fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 }),
)

/** What JSON gives back for a value (`-0` becomes `0`, and so on). */
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

/** Split points for a chunking: fast-check shrinks them toward the failing cut. */
const points = fc.array(fc.nat(), { maxLength: 40 })

/** `text` cut at the given code-unit points, never between the halves of a surrogate pair. */
function cutText(text: string, cuts: readonly number[]): string[] {
  const parts: string[] = []
  let at = 0
  for (const raw of [...new Set(cuts.map((c) => (text.length === 0 ? 0 : c % text.length)))].sort((a, b) => a - b)) {
    const cut = raw > 0 && (text.charCodeAt(raw) & 0xfc00) === 0xdc00 ? raw - 1 : raw
    if (cut <= at) continue
    parts.push(text.slice(at, cut))
    at = cut
  }
  parts.push(text.slice(at))
  return parts
}

function oneByteAtATime(bytes: Uint8Array): Uint8Array[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
}

describe('ndjson properties', () => {
  const stream = fc.record({
    records: fc.array(record, { maxLength: 25 }),
    endings: fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 26, maxLength: 26 }),
    heartbeats: fc.array(fc.constantFrom('', '\n', '\r\n', ' \n', '\t \r\n', '\n\n'), { minLength: 26, maxLength: 26 }),
    bom: fc.boolean(),
    end: fc.constantFrom('trailer', 'newline', 'none'),
  })

  function encode(s: typeof stream extends fc.Arbitrary<infer T> ? T : never): string {
    let out = s.bom ? '\uFEFF' : ''
    s.records.forEach((r, i) => {
      out += s.heartbeats[i]! + JSON.stringify(r)
      // The last record may go without a newline: complete JSON is accepted at end-of-stream.
      if (i < s.records.length - 1 || s.end !== 'none') out += s.endings[i]!
    })
    if (s.end === 'trailer') out += `{"$sluice":"end","count":${s.records.length}}${s.endings[25]!}`
    return out
  }

  test('any chunking of the bytes decodes to the records encoded', async () => {
    await fc.assert(
      fc.asyncProperty(stream, points, async (s, cuts) => {
        const bytes = utf8(encode(s))
        const expected = s.records.map(roundTrip)
        const whole = await collect(decodeNdjson([bytes], { requireEnd: s.end === 'trailer' }))
        expect(whole).toEqual({ items: expected })
        for (const chunks of [chunksAt(bytes, cuts), oneByteAtATime(bytes)]) {
          expect(await collect(decodeNdjson(chunks, { requireEnd: s.end === 'trailer' }))).toEqual(whole)
        }
      }),
      { numRuns: RUNS },
    )
  })

  test('with fatal: true (each chunk decoded as it comes) any chunking decodes like the default', async () => {
    await fc.assert(
      fc.asyncProperty(stream, points, async (s, cuts) => {
        const bytes = utf8(encode(s))
        const options = { requireEnd: s.end === 'trailer' }
        const expected = await collect(decodeNdjson(chunksAt(bytes, cuts), options))
        expect(await collect(decodeNdjson(chunksAt(bytes, cuts), { ...options, fatal: true }))).toEqual(expected)
      }),
      { numRuns: RUNS },
    )
  })

  test('any chunking of the text as strings decodes like the bytes', async () => {
    await fc.assert(
      fc.asyncProperty(stream, points, async (s, cuts) => {
        const input = encode(s)
        const chunks: string[] = []
        let at = 0
        for (const cut of [...new Set(cuts.map((c) => (input.length === 0 ? 0 : c % input.length)))].sort((a, b) => a - b)) {
          chunks.push(input.slice(at, cut))
          at = cut
        }
        chunks.push(input.slice(at))
        expect(await collect(decodeNdjson(chunks))).toEqual({ items: s.records.map(roundTrip) })
      }),
      { numRuns: RUNS },
    )
  })

  test('byte and string chunks mixed decode like the whole body, a bad line reported at the same place', async () => {
    // Bytes wait for their line's end before decoding; a string chunk must first flush them, in order.
    await fc.assert(
      fc.asyncProperty(stream, points, points, fc.array(fc.boolean(), { maxLength: 41 }), fc.boolean(), async (s, textCuts, byteCuts, asBytes, bad) => {
        let input = encode(s)
        if (bad) input = input.replace(/\n/, '\n{oops}\n')
        const parts = cutText(input, textCuts)
        const chunks: (string | Uint8Array)[] = []
        parts.forEach((part, i) => {
          if (asBytes[i] ?? true) chunks.push(...chunksAt(utf8(part), byteCuts.map((c) => c + i)))
          else chunks.push(part)
        })
        const whole = await collect(decodeNdjson([utf8(input)], { requireEnd: s.end === 'trailer' }))
        expect(await collect(decodeNdjson(chunks, { requireEnd: s.end === 'trailer' }))).toEqual(whole)
      }),
      { numRuns: RUNS },
    )
  })

  test('a line just under, at or over maxLineBytes is accepted or refused by its bytes under any chunking', async () => {
    const char = fc.constantFrom('a', 'é', '日', '😀')
    await fc.assert(
      fc.asyncProperty(fc.array(char, { minLength: 1, maxLength: 40 }), fc.integer({ min: -4, max: 4 }), points, async (chars, delta, cuts) => {
        const line = JSON.stringify(chars.join(''))
        const size = utf8(line).length
        const limit = Math.max(1, size + delta)
        const bytes = utf8(`1\n${line}\n2\n`)
        for (const chunks of [chunksAt(bytes, cuts), oneByteAtATime(bytes)]) {
          const { items, error } = await collect(decodeNdjson(chunks, { maxLineBytes: limit }))
          if (size <= limit) expect({ items, error }).toEqual({ items: [1, chars.join(''), 2] })
          else {
            expect(items).toEqual([1])
            expect(error).toMatchObject({ code: 'LINE_TOO_LONG', limit, line: 2 })
          }
        }
      }),
      { numRuns: RUNS },
    )
  })

  test('a body cut at any byte yields a prefix of the records, then ends or reports the cut', async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.nat(), async (s, at) => {
        // Objects only: a number cut short is still a number, an object cut short is not JSON.
        const wrapped = { ...s, records: s.records.map((r) => ({ r })), end: 'trailer' as const }
        const bytes = utf8(encode(wrapped))
        const cut = bytes.subarray(0, at % (bytes.length + 1))
        const { items, error } = await collect(decodeNdjson([cut], { requireEnd: true }))
        const expected = wrapped.records.map(roundTrip)
        expect(items).toEqual(expected.slice(0, items.length))
        // requireEnd: only a body that holds the whole trailer (its line break aside) ends cleanly.
        if (cut.length >= bytes.length - wrapped.endings[25]!.length) expect(error).toBeUndefined()
        else expect(error).toMatchObject({ code: 'TRUNCATED_STREAM' })
      }),
      { numRuns: RUNS },
    )
  })
})

describe('sse properties', () => {
  // Field values: no CR or LF (they end a line); NUL is fine in data, and makes an id ignored.
  const value = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 10 }), tricky).map((v) => v.replace(/[\r\n]/g, ''))
  const event = fc.record({
    event: fc.option(fc.constantFrom('tick', 'ünï', 'message', 'x y'), { nil: undefined }),
    id: fc.oneof(fc.constant(undefined), fc.constant(''), value),
    retry: fc.option(fc.nat({ max: 100_000 }), { nil: undefined }),
    data: fc.array(value, { minLength: 1, maxLength: 3 }),
    comment: fc.option(value, { nil: undefined }),
  })
  const stream = fc.record({
    events: fc.array(event, { maxLength: 20 }),
    endings: fc.array(fc.constantFrom('\n', '\r', '\r\n'), { minLength: 1, maxLength: 40 }),
    bom: fc.boolean(),
    extraBlank: fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
  })
  type Stream = typeof stream extends fc.Arbitrary<infer T> ? T : never

  /** Encodes the events, and computes what the spec says they decode to (the model). */
  function encode(s: Stream, dataOf: (data: string[]) => string[] = (d) => d, extra?: { before: number; line: string }) {
    const lines: string[] = []
    const expected: SseEvent<string>[] = []
    // The index in `lines` of each event's first line, where its block starts.
    const firstLines: number[] = []
    let lastEventId = ''
    // The index in `lines` of the extra line, if any.
    let extraLine = -1
    s.events.forEach((e, i) => {
      if (extra?.before === i) {
        extraLine = lines.length
        lines.push(extra.line)
      }
      firstLines.push(lines.length)
      if (e.comment !== undefined) lines.push(`:${e.comment}`)
      if (e.event !== undefined) lines.push(`event: ${e.event}`)
      if (e.id !== undefined) lines.push(e.id === '' && i % 2 ? 'id' : `id: ${e.id}`)
      if (e.retry !== undefined) lines.push(`retry: ${e.retry}`)
      const data = dataOf(e.data)
      for (const d of data) lines.push(d === '' && i % 2 ? 'data' : d.startsWith(' ') || i % 3 ? `data: ${d}` : `data:${d}`)
      lines.push('')
      if (s.extraBlank[i % s.extraBlank.length]) lines.push('')
      if (e.id !== undefined && !e.id.includes('\0')) lastEventId = e.id
      const out: SseEvent<string> = { event: e.event ?? 'message', data: data.join('\n') }
      if (lastEventId !== '') out.id = lastEventId
      if (e.retry !== undefined) out.retry = e.retry
      expected.push(out)
    })
    let body = s.bom ? '\uFEFF' : ''
    let previous = ''
    // The byte offset of each line.
    const offsets: number[] = []
    lines.forEach((line, i) => {
      let ending = s.endings[i % s.endings.length]!
      // A lone CR then an empty line ended by LF reads as one CRLF: the spec's own ambiguity.
      if (previous === '\r' && line === '' && ending === '\n') ending = '\r\n'
      offsets.push(utf8(body).length)
      body += line + ending
      previous = ending
    })
    const startOf = (event: number) => ({ line: firstLines[event]! + 1, offset: offsets[firstLines[event]!]! })
    return { body, expected, startOf, extraLine: extraLine + 1 }
  }

  test('any chunking of the bytes decodes to the events the spec model gives', async () => {
    await fc.assert(
      fc.asyncProperty(stream, points, async (s, cuts) => {
        const { body, expected } = encode(s)
        const bytes = utf8(body)
        const whole = await collect(decodeSse([bytes]))
        expect(whole).toEqual({ items: expected })
        for (const chunks of [chunksAt(bytes, cuts), oneByteAtATime(bytes)]) {
          expect(await collect(decodeSse(chunks))).toEqual(whole)
        }
      }),
      { numRuns: RUNS },
    )
  })

  test('json events decode to the records encoded, under any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.array(record, { minLength: 20, maxLength: 20 }), points, async (s, records, cuts) => {
        let n = 0
        const { body, expected } = encode(s, () => [JSON.stringify(records[n++ % records.length])])
        const bytes = utf8(body)
        const want = expected.map((e) => ({ ...e, data: JSON.parse(e.data) as unknown }))
        expect(await collect(decodeSse(chunksAt(bytes, cuts), { json: true }))).toEqual({ items: want })
      }),
      { numRuns: RUNS },
    )
  })

  test('bad json is reported at the line and byte where its block starts, under any chunking', async () => {
    // Comments longer than any chunk: block starts carried across many chunks.
    const long = `: ${'ü'.repeat(70_000)}`
    await fc.assert(
      fc.asyncProperty(stream, fc.nat(), fc.boolean(), points, async (s, at, padded, cuts) => {
        fc.pre(s.events.length > 0)
        const bad = at % s.events.length
        if (padded) s.events = s.events.map((e) => ({ ...e, comment: e.comment === undefined ? undefined : long }))
        let n = 0
        const { body, startOf } = encode(s, () => [n++ === bad ? '{bad' : '1'])
        const bytes = utf8(body)
        const want = { code: 'PARSE_ERROR', ...startOf(bad), snippet: '{bad' }
        for (const chunks of [[bytes], chunksAt(bytes, cuts), ...(padded ? [] : [oneByteAtATime(bytes)])]) {
          const { items, error } = await collect(decodeSse(chunks, { json: true }))
          expect(items).toHaveLength(bad)
          expect(error).toMatchObject(want)
        }
      }),
      { numRuns: RUNS },
    )
    // Megabytes of multi-byte text through TextDecoder per run: a bound for a loaded machine, not a speed claim.
  }, 120_000)

  test('a line over maxLineBytes is refused on its line number, under any chunking', async () => {
    // A limit of 300 bytes: lines of up to 100 characters are within it by their length alone, longer
    // ones are counted in bytes, inside one chunk or carried across several.
    const sizes = fc.constantFrom(1, 7, 37, 100, 101, 512)
    await fc.assert(
      fc.asyncProperty(stream, fc.nat(), sizes, points, async (s, at, size, cuts) => {
        fc.pre(s.events.length > 0)
        const before = at % s.events.length
        const { body, expected, extraLine } = encode(s, undefined, { before, line: `: ${'é'.repeat(200)}` })
        const bytes = utf8(body)
        const fixed = Array.from({ length: Math.ceil(bytes.length / size) }, (_, k) => bytes.subarray(k * size, (k + 1) * size))
        for (const chunks of [[bytes], fixed, chunksAt(bytes, cuts)]) {
          const { items, error } = await collect(decodeSse(chunks, { maxLineBytes: 300 }))
          expect(items).toEqual(expected.slice(0, before))
          expect(error).toMatchObject({ code: 'LINE_TOO_LONG', line: extraLine })
        }
      }),
      { numRuns: RUNS },
    )
  })

  test('the end event ends any chunking with the right count and nothing after it', async () => {
    await fc.assert(
      fc.asyncProperty(stream, points, async (s, cuts) => {
        const { body, expected } = encode(s)
        const bytes = utf8(`${body}event: end\ndata: {"count":${expected.length}}\n\ndata: after\n\n`)
        const { items, error } = await collect(decodeSse(chunksAt(bytes, cuts), { requireEnd: true }))
        expect(error).toBeUndefined()
        expect(items).toEqual(expected)
      }),
      { numRuns: RUNS },
    )
  })
})

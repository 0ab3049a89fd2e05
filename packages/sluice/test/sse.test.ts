/**
 * SSE decoding (sse.ts): hooks at chunk and stream edges (comments, retry, the spec's discarding of an
 * unterminated last line); properties of decodeSse under any chunking against a model of the spec
 * (the events encoded, bad JSON and over-long lines reported at their line and byte); and sluice's
 * own parser against eventsource-parser's `createParser` as a differential oracle (random lines,
 * random chunkings), its known deviations left out of the generated input (docs/sse-conformance.md).
 */
import { createParser } from 'eventsource-parser'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { decodeSse } from '../src/index.js'
import { type SseEvent, SseParser } from '../src/sse.js'
import { chunkings, chunksAt } from './chunkings.js'
import { collect, utf8 } from './collect.js'
import { oneByteAtATime, points, propertyRuns, record, tricky } from './support/arbitraries.js'

/** fast-check runs per property. */
const RUNS = propertyRuns(150)

test('sse onComment sees every complete comment line, without the colon and one space', async () => {
  const input = ': ping\r\n:pong\r:  two\n\ndata: x\n: in event\n\n: unterminated'
  for (const { label, chunks } of chunkings(input, { randomRuns: 2 })) {
    const comments: string[] = []
    const { items } = await collect(decodeSse(chunks, { onComment: (c) => void comments.push(c) }))
    expect(items, label).toEqual([{ event: 'message', data: 'x' }])
    expect(comments, label).toEqual(['ping', 'pong', ' two', 'in event'])
  }
})

test('sse retryMs (read by the resilient layer) is the last valid retry line, and not an unterminated one', () => {
  for (const { label, chunks } of chunkings('retry: 10\n\nretry: x\nretry: 20\r\ndata: a\n\nretry: 30', {
    randomRuns: 2,
  })) {
    const parser = new SseParser({})
    const out: unknown[] = []
    for (const chunk of chunks) parser.push(chunk, out)
    parser.end(out)
    expect(parser.retryMs, label).toBe(20)
    expect(out, label).toEqual([{ event: 'message', data: 'a', retry: 20 }])
  }
  const parser = new SseParser({})
  parser.push('retry: 10\n\nretry: x\n', [])
  expect(parser.retryMs).toBe(10)
})

test('sse parser keeps the last-event-id for the resilient layer, seeded and across events', () => {
  const parser = new SseParser({}, '41')
  const out: unknown[] = []
  parser.push('data: a\n\nid: 42\ndata: b\n\nid: 43\n', out)
  parser.end(out)
  expect(out).toEqual([
    { event: 'message', data: 'a', id: '41' },
    { event: 'message', data: 'b', id: '42' },
  ])
  expect(parser.lastEventId).toBe('42')
})

describe('sse against eventsource-parser (differential oracle)', () => {
  // Lines from the whole field grammar: every field, no colon, an unknown field, a field name in
  // another case, comments, NUL in an id, digit and non-digit retry values, multi-byte text, blank lines.
  const value = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.constantFrom('😀', 'é', '', ' ', '  x', 'a\u0000b', ':', '\uFEFF'),
  )
  const line = fc.oneof(
    value.map((v) => `data:${v}`),
    value.map((v) => `data: ${v}`),
    fc.constant('data'),
    value.map((v) => `event: ${v}`),
    fc.constant('event'),
    value.map((v) => `id: ${v}`),
    fc.constant('id'),
    fc.oneof(fc.nat({ max: 99_999 }).map(String), value).map((v) => `retry: ${v}`),
    value.map((v) => `:${v}`),
    value.map((v) => `${v.replace(/:/g, '')}: ${v}`),
    fc.constantFrom('DATA: x', 'Data:y', 'unknown', ' data: z', 'data :w'),
    fc.constant(''),
    fc.constant(''),
  )
  const input = fc.record({
    lines: fc.array(
      line.map((l) => l.replace(/[\r\n]/g, '')),
      { maxLength: 40 },
    ),
    endings: fc.array(fc.constantFrom('\n', '\r', '\r\n'), { minLength: 1, maxLength: 10 }),
    bom: fc.boolean(),
  })

  /** What createParser gives for the whole text: events with the last-event-id and retry attached as sluice attaches them. */
  function oracle(text: string): { events: SseEvent[]; lastEventId: string; retries: number[] } {
    const events: SseEvent[] = []
    const retries: number[] = []
    let lastEventId = ''
    let retry: number | undefined
    const parser = createParser({
      onId: (id) => void (lastEventId = id),
      onRetry: (ms) => {
        retries.push(ms)
        retry = ms
      },
      onEvent: (message) => {
        const event: SseEvent = { event: message.event ?? 'message', data: message.data }
        if (lastEventId !== '') event.id = lastEventId
        if (retry !== undefined) event.retry = retry
        retry = undefined
        events.push(event)
      },
    })
    parser.feed(text)
    return { events, lastEventId, retries }
  }

  test('random lines under random chunkings decode to what createParser gives', async () => {
    await fc.assert(
      fc.asyncProperty(input, fc.array(fc.nat(), { maxLength: 30 }), async (s, cuts) => {
        // A final blank line, so the last block is dispatched (or discarded) the same way by both.
        let body = ''
        s.lines.forEach((l, i) => {
          let ending = s.endings[i % s.endings.length]!
          // A lone CR then an empty line ended by LF reads as one CRLF: the spec's own ambiguity.
          if (body.endsWith('\r') && l === '' && ending === '\n') ending = '\r\n'
          body += l + ending
        })
        body += body.endsWith('\r') ? '\r\r' : '\n\n'
        const want = oracle(body)
        const bytes = utf8((s.bom ? '\uFEFF' : '') + body)
        for (const chunks of [[bytes], chunksAt(bytes, cuts)]) {
          const parser = new SseParser({ endMarker: false })
          const out: unknown[] = []
          for (const chunk of chunks) parser.push(chunk, out)
          parser.end(out)
          expect(out).toEqual(want.events)
          expect(parser.lastEventId).toBe(want.lastEventId)
          expect(parser.retryMs).toBe(want.retries.at(-1))
        }
      }),
      { numRuns: propertyRuns(300) },
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
  function encode(
    s: Stream,
    dataOf: (data: string[]) => string[] = (d) => d,
    extra?: { before: number; line: string },
  ) {
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
      for (const d of data)
        lines.push(d === '' && i % 2 ? 'data' : d.startsWith(' ') || i % 3 ? `data: ${d}` : `data:${d}`)
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
        const fixed = Array.from({ length: Math.ceil(bytes.length / size) }, (_, k) =>
          bytes.subarray(k * size, (k + 1) * size),
        )
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

/**
 * SSE hooks at chunk and stream edges: comments, retry, and the spec's discarding of an
 * unterminated last line; and sluice's own parser against eventsource-parser's `createParser` as a
 * differential oracle (random lines, random chunkings), its known deviations left out of the
 * generated input (docs/sse-conformance.md).
 */
import { createParser } from 'eventsource-parser'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { decodeSse } from '../src/index.js'
import { SseParser, type SseEvent } from '../src/sse.js'
import { chunkings, chunksAt } from './chunkings.js'
import { collect, utf8 } from './collect.js'

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
  for (const { label, chunks } of chunkings('retry: 10\n\nretry: x\nretry: 20\r\ndata: a\n\nretry: 30', { randomRuns: 2 })) {
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
  const value = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('😀', 'é', '', ' ', '  x', 'a\u0000b', ':', '\uFEFF'))
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
    lines: fc.array(line.map((l) => l.replace(/[\r\n]/g, '')), { maxLength: 40 }),
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
      { numRuns: 300 },
    )
  })
})

/**
 * decodeSse and SseDecoderStream in every runtime: the HTML spec's parsing examples and edge cases
 * under every chunking, JSON data, errors with codes, the end event, and cancellation.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import { decodeSse, SseDecoderStream, type SseEvent } from 'sluice'
import { bytes, chunkings, streamOf } from './chunkings.js'
import { collect, expect, expectError, test } from './harness.js'

interface Vector {
  name: string
  input: string
  expected: SseEvent[]
  /** The stream ends inside an event: the events before it arrive, then TRUNCATED_STREAM. */
  truncated?: true
}

const message = (data: string, extra: Partial<SseEvent> = {}): SseEvent => ({ event: 'message', data, ...extra })

const vectors: Vector[] = [
  {
    name: 'the spec example of one event over three data lines',
    input: 'data: YHOO\ndata: +2\ndata: 10\n\n',
    expected: [message('YHOO\n+2\n10')],
  },
  {
    name: 'the spec example with a comment, an id, an id reset and a final event cut off',
    input: ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n',
    expected: [message('first event', { id: '1' }), message('second event')],
    truncated: true,
  },
  {
    name: 'the spec example of fields with no colon',
    input: 'data\n\ndata\ndata\n\ndata:',
    expected: [message(''), message('\n')],
    truncated: true,
  },
  {
    name: 'the spec example of one optional space after the colon',
    input: 'data:test\n\ndata: test\n\n',
    expected: [message('test'), message('test')],
  },
  {
    name: 'CRLF line endings',
    input: 'event: tick\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n',
    expected: [message('1', { event: 'tick' }), message('2')],
  },
  {
    name: 'lone CR line endings',
    input: 'event: tick\rdata: 1\r\rdata: 2\r\r',
    expected: [message('1', { event: 'tick' }), message('2')],
  },
  { name: 'a leading BOM', input: '\uFEFFdata: a\n\n', expected: [message('a')] },
  { name: 'multi-byte characters', input: 'data: é€😀\n\n', expected: [message('é€😀')] },
  {
    name: 'a last-event-id that persists across events',
    input: 'id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\n',
    expected: [message('a', { id: '7' }), message('b', { id: '7' }), message('c', { id: '8' })],
  },
  {
    name: 'an id containing NUL, which is ignored',
    input: 'id: 1\ndata: a\n\nid: 2\u0000x\ndata: b\n\n',
    expected: [message('a', { id: '1' }), message('b', { id: '1' })],
  },
  {
    name: 'a retry field, and a non-digit retry that is ignored',
    input: 'retry: 1500\ndata: x\n\nretry: 1.5s\ndata: y\n\n',
    expected: [message('x', { retry: 1500 }), message('y')],
  },
  {
    name: 'unknown fields and an event with no data, which are ignored',
    input: 'foo: bar\n\nevent: x\n\ndata: a\n\n',
    expected: [message('a')],
  },
  {
    name: 'the end event, which ends the stream and is not yielded',
    input: 'data: a\n\nevent: end\ndata: {"count":1}\n\ndata: after\n\n',
    expected: [message('a')],
  },
]

for (const v of vectors) {
  test(`sse decodes ${v.name} under every chunking`, async () => {
    for (const { name, chunks } of chunkings(v.input)) {
      const got: SseEvent[] = []
      const run = async () => {
        for await (const event of decodeSse(chunks)) got.push(event)
      }
      if (v.truncated) await expectError(run, { code: 'TRUNCATED_STREAM', reason: 'partial-record' })
      else await run()
      expect(got, `${v.name}, ${name}`).toEqual(v.expected)
    }
  })
}

test('sse SseDecoderStream decodes through pipeThrough and stops at the end event', async () => {
  const input = 'id: 1\r\ndata: a\r\n\r\nevent: end\r\ndata: {"count":1}\r\n\r\ndata: b\r\n\r\n'
  for (const { name, chunks } of chunkings(input, 2)) {
    const events = streamOf(chunks).pipeThrough(new SseDecoderStream())
    expect(await collect(events), name).toEqual([message('a', { id: '1' })])
  }
})

test('sse passes comments (heartbeats) to onComment and yields no event for them', async () => {
  const comments: string[] = []
  const events = await collect(decodeSse([': heartbeat\n\n:ping\ndata: a\n\n'], { onComment: (c) => comments.push(c) }))
  expect(events).toEqual([message('a')])
  expect(comments).toEqual(['heartbeat', 'ping'])
})

test('sse with json parses data and raises PARSE_ERROR with the line, offset and snippet of the bad data line', async () => {
  const input = 'data: {"a":1}\n\ndata: {bad\n\n'
  for (const { name, chunks } of chunkings(input)) {
    const got: SseEvent<unknown>[] = []
    await expectError(
      async () => {
        for await (const event of decodeSse(chunks, { json: true })) got.push(event)
      },
      { code: 'PARSE_ERROR', line: 3, offset: 15, snippet: '{bad' },
    )
    expect(got, name).toEqual([{ event: 'message', data: { a: 1 } }])
  }
})

test('sse raises TRUNCATED_STREAM (count-mismatch) when the end event counts other events than arrived', async () => {
  await expectError(() => collect(decodeSse(['data: a\n\nevent: end\ndata: {"count":2}\n\n'])), {
    code: 'TRUNCATED_STREAM',
    reason: 'count-mismatch',
    expected: 2,
    received: 1,
  })
})

test('sse with requireEnd raises TRUNCATED_STREAM (missing-end) for a clean end without the end event', async () => {
  await expectError(() => collect(decodeSse(['data: a\n\n'], { requireEnd: true })), {
    code: 'TRUNCATED_STREAM',
    reason: 'missing-end',
    received: 1,
  })
})

test('sse with a custom endMarker name ends on that event', async () => {
  const events = await collect(
    decodeSse(['data: a\n\nevent: done\ndata:\n\nevent: end\ndata: x\n\n'], { endMarker: 'done' }),
  )
  expect(events).toEqual([message('a')])
})

test('sse raises LINE_TOO_LONG for a line over maxLineBytes, complete or not, under every chunking', async () => {
  for (const { name, chunks } of chunkings(`data: a\n\ndata: ${'é'.repeat(20)}\n\n`, 2)) {
    const got: SseEvent[] = []
    await expectError(
      async () => {
        for await (const event of decodeSse(chunks, { maxLineBytes: 32 })) got.push(event)
      },
      { code: 'LINE_TOO_LONG', limit: 32 },
    )
    expect(got, name).toEqual([message('a')])
  }
})

test('sse leaving for-await early cancels the source', async () => {
  let cancelled = false
  let sent = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (++sent > 100_000) controller.error(new Error('pulled without bound'))
        else controller.enqueue(bytes(`id: ${sent}\ndata: ${sent}\n\n`))
      },
      cancel() {
        cancelled = true
      },
    },
    { highWaterMark: 0 },
  )
  const got: SseEvent[] = []
  for await (const event of decodeSse(stream)) {
    got.push(event)
    if (got.length === 2) break
  }
  expect(got).toEqual([message('1', { id: '1' }), message('2', { id: '2' })])
  expect(cancelled, 'cancelled').toBe(true)
})

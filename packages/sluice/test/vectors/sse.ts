/**
 * Server-Sent Events decoding vectors: `{ name, input, expected }`, with the error a vector ends
 * in (after its `expected` events) and the options it needs. Includes the parsing examples of the
 * HTML Standard's SSE section (§9.2.4 "Parsing an event stream" and §9.2.6 "Interpreting an event
 * stream"). Reused by the iterator and the TransformStream tests, under every chunking.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import type { SseEvent, SseOptions } from '../../src/sse.js'
import type { ExpectedError } from './expected.js'

export interface SseVector {
  name: string
  input: string
  expected: SseEvent<unknown>[]
  error?: ExpectedError
  options?: SseOptions<undefined>
}

const msg = (data: unknown, extra: Partial<SseEvent<unknown>> = {}): SseEvent<unknown> => ({
  event: 'message',
  data,
  ...extra,
})

export const sseVectors: SseVector[] = [
  { name: 'sse decodes nothing from an empty body', input: '', expected: [] },
  { name: 'sse decodes an event ended by LF LF', input: 'data: hello\n\n', expected: [msg('hello')] },
  { name: 'sse accepts CRLF line endings', input: 'data: a\r\n\r\ndata: b\r\n\r\n', expected: [msg('a'), msg('b')] },
  { name: 'sse accepts lone CR line endings', input: 'data: a\r\rdata: b\r\r', expected: [msg('a'), msg('b')] },
  {
    name: 'sse accepts CR, LF and CRLF mixed in one stream',
    input: 'data: a\rdata: b\n\r\nevent: x\r\ndata: c\r\n\ndata: d\n\r',
    expected: [msg('a\nb'), msg('c', { event: 'x' }), msg('d')],
  },
  {
    name: 'sse treats CR LF as one line break, not a blank line',
    input: 'data: a\r\ndata: b\r\n\r\n',
    expected: [msg('a\nb')],
  },
  {
    name: 'sse joins multi-line data with LF',
    input: 'data: one\ndata: two\ndata: three\n\n',
    expected: [msg('one\ntwo\nthree')],
  },
  {
    name: 'sse names events with the event field and defaults to message',
    input: 'event: update\ndata: 1\n\ndata: 2\n\n',
    expected: [msg('1', { event: 'update' }), msg('2')],
  },
  { name: 'sse treats an empty event field as message', input: 'event:\ndata: 1\n\n', expected: [msg('1')] },
  {
    name: 'sse keeps the last event field of a block',
    input: 'event: a\nevent: b\ndata: 1\n\n',
    expected: [msg('1', { event: 'b' })],
  },
  {
    name: 'sse strips one space after the colon, no more',
    input: 'data:  two spaces\n\n',
    expected: [msg(' two spaces')],
  },
  { name: 'sse keeps colons inside a value', input: 'data: a: b:c\n\n', expected: [msg('a: b:c')] },
  { name: 'sse reads a data field with no colon as empty data', input: 'data\n\n', expected: [msg('')] },
  { name: 'sse dispatches an empty data field as an empty string', input: 'data:\n\n', expected: [msg('')] },
  {
    name: 'sse ignores unknown fields and field names in other cases',
    input: 'foo: bar\nDATA: no\nData: no\ndata: yes\nunknown\n\n',
    expected: [msg('yes')],
  },
  {
    name: 'sse skips comments and blank lines as heartbeats',
    input: ': ping\n\n:\n\n\n\n: another\ndata: x\n: mid-event comment\n\n:bye\n\n',
    expected: [msg('x')],
  },
  {
    name: 'sse does not dispatch a block with no data field',
    input: 'event: lonely\n\ndata: x\n\n',
    expected: [msg('x')],
  },
  { name: 'sse drops a leading BOM', input: '\uFEFFdata: x\n\n', expected: [msg('x')] },
  {
    name: 'sse drops only one BOM: a second one starts an unknown field name',
    input: '\uFEFF\uFEFFdata: x\n\ndata: y\n\n',
    expected: [msg('y')],
  },
  {
    name: 'sse does not take the characters ï»¿ for a BOM',
    input: '\u00EF\u00BB\u00BFdata: x\n\ndata: y\n\n',
    expected: [msg('y')],
  },
  {
    name: 'sse decodes multi-byte UTF-8 in names, ids and data',
    input: 'event: ünïcode\nid: 日本\ndata: café 😀👍🏽\n\n',
    expected: [msg('café 😀👍🏽', { event: 'ünïcode', id: '日本' })],
  },
  {
    name: 'sse keeps the last event id across events (the spec last-event-id)',
    input: 'id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\ndata: d\n\n',
    expected: [msg('a', { id: '1' }), msg('b', { id: '1' }), msg('c', { id: '2' }), msg('d', { id: '2' })],
  },
  {
    name: 'sse takes the id from an id-only block for the events after it',
    input: 'data: a\n\nid: 7\n\ndata: b\n\n',
    expected: [msg('a'), msg('b', { id: '7' })],
  },
  {
    name: 'sse takes the id field anywhere in the block, the last one winning',
    input: 'data: a\nid: 1\nid: 2\n\n',
    expected: [msg('a', { id: '2' })],
  },
  {
    name: 'sse ignores an id containing NUL and keeps the previous one',
    input: 'id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n',
    expected: [msg('a', { id: '1' }), msg('b', { id: '1' })],
  },
  {
    name: 'sse resets the last event id on an empty id field',
    input: 'id: 1\ndata: a\n\nid:\ndata: b\n\ndata: c\n\n',
    expected: [msg('a', { id: '1' }), msg('b'), msg('c')],
  },
  {
    name: 'sse resets the last event id on an id field with no colon',
    input: 'id: 1\ndata: a\n\nid\ndata: b\n\n',
    expected: [msg('a', { id: '1' }), msg('b')],
  },
  {
    name: 'sse does not update the last event id from a block cut off at the end',
    input: 'id: 1\ndata: a\n\nid: 2\n',
    expected: [msg('a', { id: '1' })],
  },
  {
    name: 'sse attaches a digit-only retry to the event',
    input: 'retry: 3000\ndata: a\n\ndata: b\n\n',
    expected: [msg('a', { retry: 3000 }), msg('b')],
  },
  {
    name: 'sse ignores a retry that is not only ASCII digits',
    input:
      'retry: 10a\ndata: a\n\nretry: -1\ndata: b\n\nretry:  5\ndata: c\n\nretry: 1.5\ndata: d\n\nretry:\ndata: e\n\n',
    expected: [msg('a'), msg('b'), msg('c'), msg('d'), msg('e')],
  },
  {
    name: 'sse raises truncation for a final event with no blank line after it',
    input: 'data: a\n\ndata: b\n',
    expected: [msg('a')],
    error: { code: 'TRUNCATED_STREAM', reason: 'partial-record', received: 1, line: 3, snippet: 'b' },
  },
  {
    name: 'sse raises truncation for a final data line with no line break',
    input: 'data: a\n\ndata: b',
    expected: [msg('a')],
    error: { code: 'TRUNCATED_STREAM', reason: 'partial-record', received: 1, line: 3, snippet: 'b' },
  },
  {
    name: 'sse raises truncation for a final event ended by one CR only',
    input: 'data: a\r\rdata: b\r',
    expected: [msg('a')],
    error: { code: 'TRUNCATED_STREAM', reason: 'partial-record', received: 1, line: 3, snippet: 'b' },
  },
  {
    name: 'sse accepts a stream ending in a comment or an id without a blank line',
    input: 'data: a\n\n: bye\nid: 9',
    expected: [msg('a')],
  },
  {
    name: 'sse ends on the end event and reads nothing after it',
    input: 'data: a\n\ndata: b\n\nevent: end\ndata: {"count":2}\n\ndata: after\n\ngarbage',
    expected: [msg('a'), msg('b')],
  },
  {
    name: 'sse accepts an end event with empty data',
    input: 'data: a\n\nevent: end\ndata:\n\n',
    expected: [msg('a')],
  },
  {
    name: 'sse accepts an end event whose data is a bare count',
    input: 'data: a\n\nevent: end\ndata: 1\n\n',
    expected: [msg('a')],
  },
  {
    name: 'sse raises count-mismatch when the end event counts more events than arrived',
    input: 'data: a\n\nevent: end\ndata: {"count":3}\n\n',
    expected: [msg('a')],
    error: { code: 'TRUNCATED_STREAM', reason: 'count-mismatch', expected: 3, received: 1, line: 3 },
  },
  {
    name: 'sse raises count-mismatch when the end event counts fewer events than arrived',
    input: 'data: a\n\ndata: b\n\n: hb\n\nevent: end\ndata: {"count":1}\n\n',
    expected: [msg('a'), msg('b')],
    error: { code: 'TRUNCATED_STREAM', reason: 'count-mismatch', expected: 1, received: 2, line: 7 },
  },
  {
    name: 'sse with requireEnd raises missing-end when the end event never comes',
    input: 'data: a\n\ndata: b\n\n',
    expected: [msg('a'), msg('b')],
    error: { code: 'TRUNCATED_STREAM', reason: 'missing-end', received: 2, line: 4 },
    options: { requireEnd: true },
  },
  {
    name: 'sse with requireEnd accepts a stream ending in the end event',
    input: 'data: a\n\nevent: end\ndata: {"count":1}\n\n',
    expected: [msg('a')],
    options: { requireEnd: true },
  },
  {
    name: 'sse with a custom endMarker name ends on that event',
    input: 'data: a\n\nevent: end\ndata: x\n\nevent: done\ndata: {"count":2}\n\ndata: after\n\n',
    expected: [msg('a'), msg('x', { event: 'end' })],
    options: { endMarker: 'done' },
  },
  {
    name: 'sse with endMarker false yields the end event',
    input: 'data: a\n\nevent: end\ndata: {"count":1}\n\ndata: b\n\n',
    expected: [msg('a'), msg('{"count":1}', { event: 'end' }), msg('b')],
    options: { endMarker: false },
  },
  {
    name: 'sse with an endMarker predicate sees raw events, id included',
    input: 'id: 1\ndata: a\n\ndata: [DONE]\n\ndata: b\n\n',
    expected: [msg('a', { id: '1' })],
    options: { endMarker: (e) => e.data === '[DONE]' && e.id === '1' },
  },
  {
    name: 'sse with json parses each data as JSON',
    input: 'data: {"a":1}\n\nevent: n\ndata: [1,\ndata: 2]\n\ndata: "s"\n\n',
    expected: [msg({ a: 1 }), msg([1, 2], { event: 'n' }), msg('s')],
    options: { json: true },
  },
  {
    name: 'sse with json raises a parse error at the line where the bad event starts',
    input: 'data: {"a":1}\n\n: hb\n\nid: 5\r\ndata: {"a":\r\n\r\ndata: {"a":3}\n\n',
    expected: [msg({ a: 1 })],
    error: { code: 'PARSE_ERROR', line: 5, offset: 21, snippet: '{"a":' },
    options: { json: true },
  },
  {
    name: 'sse with json counts the BOM and multi-byte characters in byte offsets',
    input: '\uFEFFdata: "é😀"\n\n\ndata: nope\n\n',
    expected: [msg('é😀')],
    error: { code: 'PARSE_ERROR', line: 4, offset: 3 + 14 + 3, snippet: 'nope' },
    options: { json: true },
  },
  {
    name: 'sse with json and onInvalid skip drops bad data and counts it for the end event',
    input: 'data: 1\n\ndata: x\n\ndata: 3\n\nevent: end\ndata: {"count":3}\n\n',
    expected: [msg(1), msg(3)],
    options: { json: true, onInvalid: 'skip' },
  },

  // The HTML Standard's own examples (§9.2.4 and §9.2.6).
  {
    name: 'sse spec example: three data lines make one message',
    input: 'data: YHOO\ndata: +2\ndata: 10\n\n',
    expected: [msg('YHOO\n+2\n10')],
  },
  {
    name: 'sse spec example: comment, ids and the last-event-id that an id with no value resets',
    input: ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n',
    // The third block has no blank line after it: the spec discards it, sluice reports the cut.
    expected: [msg('first event', { id: '1' }), msg('second event')],
    error: { code: 'TRUNCATED_STREAM', reason: 'partial-record', received: 2, line: 9, snippet: ' third event' },
  },
  {
    name: 'sse spec example: the same stream with its final blank line dispatches the third event',
    input: ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n',
    expected: [msg('first event', { id: '1' }), msg('second event'), msg(' third event')],
  },
  {
    name: 'sse spec example: empty data, a single newline, and a last block without a blank line',
    input: 'data\n\ndata\ndata\n\ndata:',
    expected: [msg(''), msg('\n')],
    error: { code: 'TRUNCATED_STREAM', reason: 'partial-record', received: 2, line: 6, snippet: '' },
  },
  {
    name: 'sse spec example: a space after the colon is optional',
    input: 'data:test\n\ndata: test\n\n',
    expected: [msg('test'), msg('test')],
  },
  {
    name: 'sse spec example: named events',
    input: 'event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n',
    expected: [msg('73857293', { event: 'add' }), msg('2153', { event: 'remove' }), msg('113411', { event: 'add' })],
  },
]

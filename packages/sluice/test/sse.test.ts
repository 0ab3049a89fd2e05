/**
 * SSE hooks at chunk and stream edges: comments, retry, and the spec's discarding of an
 * unterminated last line.
 */
import { expect, test } from 'vitest'
import { decodeSse } from '../src/index.js'
import { SseParser } from '../src/sse.js'
import { chunkings } from './chunkings.js'
import { collect } from './collect.js'

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

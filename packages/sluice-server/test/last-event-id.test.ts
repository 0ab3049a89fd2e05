import { ndjson, sse } from 'sluice'
import { describe, expect, test } from 'vitest'
import { lastEventId, ndjsonResponse, sseResponse } from '../src/index.js'
import type { FetchHandler } from '../src/node.js'
import { serveForTest } from './helpers/loopback.js'

/** `text` as a header carries it on the wire: its UTF-8 bytes, one character per byte (what `Headers.get` returns). */
const wire = (text: string): string => String.fromCharCode(...new TextEncoder().encode(text))

const withHeader = (value: string): Request =>
  new Request('http://127.0.0.1/feed', { headers: { 'Last-Event-ID': value } })

describe('lastEventId', () => {
  test('no header, or an empty one, is undefined', () => {
    expect(lastEventId(new Request('http://127.0.0.1/feed'))).toBeUndefined()
    expect(lastEventId(withHeader(''))).toBeUndefined()
  })

  test('an ASCII id comes back as sent', () => {
    expect(lastEventId(withHeader('41'))).toBe('41')
    expect(lastEventId(withHeader('evt-2026-11-30T09:00:00Z#7'))).toBe('evt-2026-11-30T09:00:00Z#7')
  })

  test.each([
    ['é (2 bytes)', 'café-1'],
    ['CJK (3 bytes each)', '日本-東京-42'],
    ['emoji (4 bytes, a surrogate pair)', '🎉-7'],
    ['all of them', 'é日本🎌👩‍👩‍👧'],
    ['a leading BOM, kept', '\uFEFFid'],
  ])('a non-ASCII id sent as its UTF-8 bytes is decoded: %s', (_, id) => {
    const request = withHeader(wire(id))
    expect(request.headers.get('last-event-id'), 'what Headers hands over').not.toBe(id)
    expect(lastEventId(request)).toBe(id)
  })

  test.each([
    ['a lone Latin-1 byte', 'caf\xe9'],
    ['bytes never valid in UTF-8', '\xff\xfe'],
    ['a truncated sequence', 'x\xe6\x97'],
    ['an overlong encoding', '\xc0\xaf'],
    ['an encoded surrogate', '\xed\xa0\x80'],
    ['a continuation byte alone', '\x80abc'],
  ])('bytes that are not valid UTF-8 are kept as they came: %s', (_, value) => {
    expect(lastEventId(withHeader(value))).toBe(value)
  })

  test('a value some runtime already decoded (code units above U+00FF) is kept', () => {
    const headers = { get: (name: string) => (name.toLowerCase() === 'last-event-id' ? '日本' : null) }
    const request = { headers } as unknown as Request
    expect(lastEventId(request)).toBe('日本')
  })
})

describe('lastEventId over loopback, from the sluice client', () => {
  async function start(handler: FetchHandler): Promise<string> {
    return (await serveForTest(handler, { onError: () => undefined })).url
  }

  /** Ids with characters of 2, 3 and 4 UTF-8 bytes. */
  const ids = ['café-1', '日本-2', '🎉-3', '東京🎌-4', 'ß-5']
  const records = ids.map((id, i) => ({ id, n: i + 1 }))
  /** How many records each connection sends before it is cut mid-record (the last one ends properly). */
  const cuts = [2, 1]

  /** `response` with its end marker replaced by half a record: a stream cut short. */
  function cutShort(response: Response, partial: string): Response {
    const tail = new TransformStream<Uint8Array, Uint8Array>({
      flush: (c) => c.enqueue(new TextEncoder().encode(partial)),
    })
    void response.body!.pipeTo(tail.writable)
    return new Response(tail.readable, { headers: response.headers })
  }

  /**
   * Serves `records` after the `lastEventId` of each request, cutting the first connections as
   * `cuts` says, and logs each request's `lastEventId` and raw header.
   */
  function resumable(
    format: 'ndjson' | 'sse',
    seen: Array<{ id: string | undefined; raw: string | null }>,
  ): FetchHandler {
    return (request) => {
      const id = lastEventId(request)
      seen.push({ id, raw: request.headers.get('last-event-id') })
      const from = id === undefined ? 0 : records.findIndex((r) => r.id === id) + 1
      if (id !== undefined && from === 0)
        return new Response(`unknown Last-Event-ID ${JSON.stringify(id)}`, { status: 400 })
      const cut = cuts[seen.length - 1]
      const batch = records.slice(from, cut === undefined ? undefined : from + cut)
      const partial = format === 'sse' ? 'data: {"id":"half' : '{"id":"half'
      const response =
        format === 'sse'
          ? sseResponse(batch, { idOf: (r) => r.id, end: cut === undefined, heartbeatMs: 0 })
          : ndjsonResponse(batch, { end: cut === undefined, heartbeatMs: 0 })
      return cut === undefined ? response : cutShort(response, partial)
    }
  }

  const fast = { initialDelayMs: 1, minDelayMs: 0, maxAttempts: 5 }
  const expectedSeen = [
    { id: undefined, raw: null },
    { id: '日本-2', raw: wire('日本-2') },
    { id: '🎉-3', raw: wire('🎉-3') },
  ]

  test('sse(): the ids the server sent come back through lastEventId, CJK and emoji intact', async () => {
    const seen: Array<{ id: string | undefined; raw: string | null }> = []
    const url = await start(resumable('sse', seen))
    const got = []
    for await (const event of sse<(typeof records)[number]>(`${url}/feed`, { json: true, retry: fast })) got.push(event)
    expect(got.map((e) => e.data)).toEqual(records)
    expect(got.map((e) => e.id)).toEqual(ids)
    expect(seen).toEqual(expectedSeen)
  })

  test('ndjson() with idOf: the ids it derived come back through lastEventId, CJK and emoji intact', async () => {
    const seen: Array<{ id: string | undefined; raw: string | null }> = []
    const url = await start(resumable('ndjson', seen))
    const got = []
    for await (const record of ndjson<(typeof records)[number]>(`${url}/feed`, { idOf: (r) => r.id, retry: fast }))
      got.push(record)
    expect(got).toEqual(records)
    expect(seen).toEqual(expectedSeen)
  })

  test('the lastEventId option sends a non-ASCII id on the first request too', async () => {
    const seen: Array<{ id: string | undefined; raw: string | null }> = []
    const url = await start((request) => {
      seen.push({ id: lastEventId(request), raw: request.headers.get('last-event-id') })
      // The next id: an event carrying the id sent back would be an inclusive replay, and dropped.
      return sseResponse([{ data: 'done', id: '東京🎌-5' }], { heartbeatMs: 0 })
    })
    const got = []
    for await (const event of sse(`${url}/feed`, { lastEventId: '東京🎌-4' })) got.push(event.data)
    expect(got).toEqual(['done'])
    expect(seen).toEqual([{ id: '東京🎌-4', raw: wire('東京🎌-4') }])
  })
})

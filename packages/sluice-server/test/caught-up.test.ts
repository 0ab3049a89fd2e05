/**
 * The caught-up marker: a source yields `caughtUp` where its backfill ends, and the response helpers
 * and encoder streams send the wire marker of `sluice/protocol` there, once, uncounted.
 */
import { decodeNdjson } from 'sluice'
import { LIVE_JSON, NDJSON_LIVE_LINE, ndjsonEndLine, SSE_LIVE_BLOCK, sseEndData } from 'sluice/protocol'
import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from 'vitest'
import type { Feed, FeedEntry, FeedLive } from '../src/index.js'
import {
  caughtUp,
  feedResponse,
  NdjsonEncoderStream,
  ndjsonResponse,
  SseEncoderStream,
  type StreamSummary,
  sseResponse,
} from '../src/index.js'
import { type FeedKind, freshKey, memoryKind, redisKind, take } from './helpers/feeds.js'

async function* feed() {
  yield { seq: 0 }
  yield { seq: 1 }
  yield caughtUp
  yield { seq: 2 }
}

async function textOf(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text()
}

describe('caughtUp', () => {
  test('is the same symbol in every copy of sluice-server', () => {
    expect(caughtUp).toBe(Symbol.for('sluice.caughtUp'))
  })

  test('ndjsonResponse sends the live line between backfill and tail, not counted and with no id', async () => {
    const summaries: StreamSummary[] = []
    const response = ndjsonResponse(feed(), { idOf: (r) => r.seq, onClose: (s) => summaries.push(s) })
    expect(await response.text()).toBe(`{"seq":0}\n{"seq":1}\n${NDJSON_LIVE_LINE}{"seq":2}\n${ndjsonEndLine(3)}`)
    expect(NDJSON_LIVE_LINE).toBe('{"$sluice":"live"}\n')
    expect(summaries).toEqual([{ reason: 'end', count: 3, lastId: '2' }])
  })

  test('sseResponse sends the live event between backfill and tail, not counted and with no id', async () => {
    const response = sseResponse(feed(), { idOf: (r) => r.seq })
    expect(await response.text()).toBe(
      'data: {"seq":0}\nid: 0\n\n' +
        'data: {"seq":1}\nid: 1\n\n' +
        SSE_LIVE_BLOCK +
        'data: {"seq":2}\nid: 2\n\n' +
        `event: end\ndata: ${sseEndData(3)}\n\n`,
    )
    expect(SSE_LIVE_BLOCK).toBe(`event: live\ndata: ${LIVE_JSON}\n\n`)
  })

  test('a second caughtUp in one response is dropped', async () => {
    const text = await ndjsonResponse([caughtUp, { a: 1 }, caughtUp], { end: false }).text()
    expect(text).toBe(`${NDJSON_LIVE_LINE}{"a":1}\n`)
  })

  test('the encoder streams send it too', async () => {
    const items = () =>
      new ReadableStream<object | typeof caughtUp>({
        start(c) {
          for (const item of [{ a: 1 }, caughtUp, { a: 2 }] as const) c.enqueue(item)
          c.close()
        },
      })
    expect(await textOf(items().pipeThrough(new NdjsonEncoderStream({ end: false })))).toBe(
      `{"a":1}\n${NDJSON_LIVE_LINE}{"a":2}\n`,
    )
    expect(await textOf(items().pipeThrough(new SseEncoderStream({ end: false })))).toBe(
      `data: {"a":1}\n\n${SSE_LIVE_BLOCK}data: {"a":2}\n\n`,
    )
  })

  test('a record shaped like the marker is refused rather than taken for it by the client', async () => {
    await expect(ndjsonResponse([{ $sluice: 'live' }]).text()).rejects.toThrow(/caught-up marker/)
    await expect(sseResponse([{ event: 'live', data: { $sluice: 'live' } }]).text()).rejects.toThrow(/caught-up marker/)
    // An app's own `live` event with other data is an ordinary event.
    expect(await sseResponse([{ event: 'live', data: 'score 2-1' }], { end: false }).text()).toBe(
      'event: live\ndata: score 2-1\n\n',
    )
  })

  test('decodeNdjson never yields the marker as a record', async () => {
    const ndjsonRecords: unknown[] = []
    for await (const r of decodeNdjson(ndjsonResponse(feed()))) ndjsonRecords.push(r)
    expect(ndjsonRecords).toEqual([{ seq: 0 }, { seq: 1 }, { seq: 2 }])
  })

  test('the source item type leaves caughtUp out of the record type', () => {
    ndjsonResponse(feed(), { idOf: (r) => expectTypeOf(r).toEqualTypeOf<{ seq: number }>() && r.seq })
    sseResponse(feed(), { idOf: (r) => expectTypeOf(r).toEqualTypeOf<{ seq: number }>() && r.seq })
  })
})

describe.each<FeedKind>([memoryKind(), redisKind()])('$name feed read with live: true', (kind) => {
  let feed: Feed
  beforeAll(async () => {
    await kind.setup()
    feed = await kind.create()
  })
  afterAll(() => kind.teardown())

  test('yields { live: true } once, where the history held ends, then the tail', async () => {
    const key = freshKey()
    const ids = [await feed.publish(key, { n: 0 }), await feed.publish(key, { n: 1 })]
    const reader = feed.read<{ n: number }>(key, { live: true })
    expectTypeOf(reader).toEqualTypeOf<AsyncIterableIterator<FeedEntry<{ n: number }> | FeedLive>>()
    const before = await take(reader as AsyncIterator<FeedEntry>, 3)
    expect(before).toEqual([{ id: ids[0], data: { n: 0 } }, { id: ids[1], data: { n: 1 } }, { live: true }])
    const id = await feed.publish(key, { n: 2 })
    await feed.end(key)
    // The tail, then the end: no second marker.
    expect(await take(reader as AsyncIterator<FeedEntry>, 2)).toEqual([{ id, data: { n: 2 } }])
  })

  test('an empty feed is caught up at once; a resume after the last id too', async () => {
    const key = freshKey()
    const reader = feed.read(key, { live: true })
    expect(await take(reader as AsyncIterator<FeedEntry>, 1)).toEqual([{ live: true }])
    const id = await feed.publish(key, { n: 0 })
    expect(await take(reader as AsyncIterator<FeedEntry>, 1)).toEqual([{ id, data: { n: 0 } }])
    await reader.return?.()
    const resumed = feed.read(key, { live: true, after: id })
    expect(await take(resumed as AsyncIterator<FeedEntry>, 1)).toEqual([{ live: true }])
    await resumed.return?.()
  })

  test('without live, no marker', async () => {
    const key = freshKey()
    await feed.publish(key, { n: 0 })
    await feed.end(key)
    const entries: unknown[] = []
    for await (const entry of feed.read(key)) entries.push(entry)
    expect(entries).toHaveLength(1)
  })

  test('feedResponse sends the caught-up marker between backfill and tail, uncounted', async () => {
    const key = freshKey()
    await feed.publish(key, { n: 0 })
    const response = await feedResponse(feed, key, new Request('http://x/'), { format: 'ndjson', heartbeatMs: 0 })
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    while (!text.includes(NDJSON_LIVE_LINE)) text += (await reader.read()).value ?? ''
    await feed.publish(key, { n: 1 })
    await feed.end(key)
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value
    const lines = text.trimEnd().split('\n')
    expect(lines[1]).toBe(NDJSON_LIVE_LINE.trimEnd())
    expect(lines).toHaveLength(4)
    expect(lines[3]).toBe(ndjsonEndLine(2).trimEnd())
  })
})

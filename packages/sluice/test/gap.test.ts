/**
 * Feed lines on the client (gap.ts, the NDJSON decoder, ndjson()): entry lines yield their record
 * untouched and give ndjson() its resume position with no idOf; a gap marker is a GapError by
 * default, or goes on with onGap 'continue' or a callback. Against a real loopback sluice-server
 * feedResponse on a memoryFeed.
 */

import { type Feed, feedResponse, memoryFeed } from 'sluice-server'
import { describe, expect, test } from 'vitest'
import { decodeNdjson, type Gap, GapError, ndjson } from '../src/index.js'
import { chunkings } from './chunkings.js'
import { collect } from './collect.js'
import { serveForTest } from './support/loopback.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }

async function filled(count: number): Promise<{ feed: Feed; ids: string[] }> {
  const feed = memoryFeed()
  const ids: string[] = []
  for (let seq = 0; seq < count; seq++) ids.push(await feed.publish('k', { seq }))
  await feed.end('k')
  return { feed, ids }
}

/** Serves the feed; the first connection is cut (no end marker) after `cutAfter` entry lines. */
async function feedServer(feed: Feed, cutAfter?: number) {
  const seen: Array<string | null> = []
  const server = await serveForTest(
    async (request) => {
      seen.push(request.headers.get('last-event-id'))
      const response = await feedResponse(feed, 'k', request, { heartbeatMs: 0 })
      if (seen.length > 1 || cutAfter === undefined) return response
      // Forward `cutAfter` lines, then give the client time to read them before the body fails.
      const reader = response.body!.getReader()
      let lines = 0
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (lines >= cutAfter) {
            await new Promise((resolve) => setTimeout(resolve, 100))
            controller.error(new Error('cut'))
            return
          }
          const { done, value } = await reader.read()
          if (done) return controller.close()
          controller.enqueue(value)
          lines += new TextDecoder().decode(value).split('\n').length - 1
        },
      })
      return new Response(body, { headers: response.headers })
    },
    { onError: () => {} },
  )
  return { url: `http://127.0.0.1:${server.port}/`, seen }
}

async function bodyText(feed: Feed, lastEventId?: string): Promise<string> {
  const headers = lastEventId === undefined ? undefined : { 'Last-Event-ID': lastEventId }
  return (await feedResponse(feed, 'k', new Request('http://x/', { headers }))).text()
}

describe('decodeNdjson of feed lines', () => {
  test('entry lines yield their records untouched, under every chunking', async () => {
    const { feed } = await filled(3)
    const body = await bodyText(feed)
    for (const { chunks } of chunkings(body)) {
      const outcome = await collect(decodeNdjson(chunks, { requireEnd: true }))
      expect(outcome).toEqual({ items: [{ seq: 0 }, { seq: 1 }, { seq: 2 }] })
    }
  })

  test('a gap marker is a GapError by default, naming the reason, the position and where it resumes', async () => {
    const { feed, ids } = await filled(3)
    const body = await bodyText(feed, 'forged-id')
    for (const { chunks } of chunkings(body)) {
      const { items: records, error } = await collect(decodeNdjson(chunks))
      expect(records).toEqual([])
      expect(error).toBeInstanceOf(GapError)
      expect(error).toMatchObject({
        code: 'STREAM_GAP',
        reason: 'unknown',
        lastEventId: 'forged-id',
        resumeFrom: ids[0],
        line: 1,
      })
    }
  })

  test("onGap 'continue' goes on from resumeFrom; a callback sees the gap; a callback that throws ends the stream", async () => {
    const { feed, ids } = await filled(3)
    const body = await bodyText(feed, 'forged-id')
    const all = [{ seq: 0 }, { seq: 1 }, { seq: 2 }]
    expect(await collect(decodeNdjson([body], { onGap: 'continue', requireEnd: true }))).toEqual({ items: all })
    const gaps: Gap[] = []
    expect(await collect(decodeNdjson([body], { onGap: (gap) => gaps.push(gap) }))).toEqual({ items: all })
    expect(gaps).toEqual([{ reason: 'unknown', lastEventId: 'forged-id', resumeFrom: ids[0] }])
    const thrown = new Error('reload')
    const outcome = await collect(
      decodeNdjson([body], {
        onGap: () => {
          throw thrown
        },
      }),
    )
    expect(outcome).toEqual({ items: [], error: thrown })
    expect(() => decodeNdjson([body], { onGap: 'skip' as 'continue' })).toThrow(TypeError)
  })
})

describe('ndjson() on a feed', () => {
  test('resumes after a cut with no idOf: the entry id is sent as Last-Event-ID, every record once', async () => {
    const { feed, ids } = await filled(10)
    const { url, seen } = await feedServer(feed, 3)
    const stream = ndjson<{ seq: number }>(url, { retry: fast, requireEnd: true })
    const got: number[] = []
    for await (const record of stream) got.push(record.seq)
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(seen).toEqual([null, ids[2]])
    expect(stream.lastEventId).toBe(ids[9])
  })

  test('throws a GapError by default when the feed no longer holds the position, after nothing was delivered', async () => {
    const { feed, ids } = await filled(3)
    const { url } = await feedServer(feed)
    const stream = ndjson(url, { retry: fast, lastEventId: 'gone' })
    const outcome = await collect(stream)
    expect(outcome.items).toEqual([])
    expect(outcome.error).toMatchObject({
      code: 'STREAM_GAP',
      reason: 'unknown',
      lastEventId: 'gone',
      resumeFrom: ids[0],
    })
  })

  test("with onGap 'continue' carries on from resumeFrom", async () => {
    const { feed } = await filled(3)
    const { url } = await feedServer(feed)
    const outcome = await collect(ndjson<{ seq: number }>(url, { retry: fast, lastEventId: 'gone', onGap: 'continue' }))
    expect(outcome).toEqual({ items: [{ seq: 0 }, { seq: 1 }, { seq: 2 }] })
  })
})

/**
 * feedResponse over real loopback HTTP (the node:http adapter), on memoryFeed and on redisFeed with
 * a real redis-server: the wire form of entries and gaps, resume from Last-Event-ID, 503 with
 * Retry-After when the store cannot be reached, and a cut stream when it is lost mid-stream.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type Feed, feedResponse, memoryFeed } from '../../src/index.js'
import { type NodeServer, serve } from '../../src/node.js'
import { redisFeed } from '../../src/redis.js'
import { type FeedKind, freshKey, memoryKind, redisClient, redisKind } from '../helpers/feeds.js'
import { startRedis } from '../helpers/redis.js'

/** The whole body as text, or what came before the body failed (and that it failed); `onText` sees it grow. */
async function bodyOf(response: Response, onText?: (text: string) => void): Promise<{ text: string; cut: boolean }> {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { text, cut: false }
      text += decoder.decode(value, { stream: true })
      onText?.(text)
    }
  } catch {
    return { text, cut: true }
  }
}

async function withServer(
  feed: Feed,
  run: (url: string) => Promise<void>,
  options: { format?: 'ndjson' | 'sse' } = {},
) {
  const server: NodeServer = await serve((request) => {
    const key = new URL(request.url).searchParams.get('key')!
    return feedResponse(feed, key, request, { ...options, heartbeatMs: 0 })
  })
  try {
    await run(`http://127.0.0.1:${server.port}/`)
  } finally {
    await server.close()
  }
}

describe.each([memoryKind(), redisKind()] as FeedKind[])('feedResponse on $name', (kind) => {
  let feed: Feed
  beforeAll(async () => {
    await kind.setup()
    feed = await kind.create()
  })
  afterAll(() => kind.teardown())

  test('NDJSON: each record in an entry line with its id, the end marker counting records', async () => {
    const key = freshKey()
    const ids = [await feed.publish(key, { n: 0 }), await feed.publish(key, 'two\nlines')]
    await feed.end(key)
    await withServer(feed, async (url) => {
      const response = await fetch(`${url}?key=${key}`)
      expect(response.headers.get('content-type')).toBe('application/x-ndjson')
      expect((await bodyOf(response)).text).toBe(
        `{"$sluice":"entry","id":"${ids[0]}","data":{"n":0}}\n` +
          `{"$sluice":"entry","id":"${ids[1]}","data":"two\\nlines"}\n` +
          `{"$sluice":"end","count":2}\n`,
      )
    })
  })

  test('SSE (chosen by Accept): each record an event with its id; a forged Last-Event-ID gets a gap event first', async () => {
    const key = freshKey()
    const ids = [await feed.publish(key, { n: 0 }), await feed.publish(key, { n: 1 })]
    await feed.end(key)
    await withServer(feed, async (url) => {
      const headers = { Accept: 'text/event-stream', 'Last-Event-ID': 'forged' }
      const response = await fetch(`${url}?key=${key}`, { headers })
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
      expect((await bodyOf(response)).text).toBe(
        `event: gap\ndata: {"reason":"unknown","lastEventId":"forged","resumeFrom":"${ids[0]}"}\n\n` +
          `id: ${ids[0]}\ndata: {"n":0}\n\n` +
          `id: ${ids[1]}\ndata: {"n":1}\n\n` +
          `event: end\ndata: {"count":2}\n\n`,
      )
    })
  })

  test('a request with Last-Event-ID resumes after it; an NDJSON gap is a reserved-key line not counted as a record', async () => {
    const key = freshKey()
    const ids = [
      await feed.publish(key, { n: 0 }),
      await feed.publish(key, { n: 1 }),
      await feed.publish(key, { n: 2 }),
    ]
    await feed.end(key)
    await withServer(feed, async (url) => {
      const resumed = await fetch(`${url}?key=${key}`, { headers: { 'Last-Event-ID': ids[1]! } })
      expect((await bodyOf(resumed)).text).toBe(
        `{"$sluice":"entry","id":"${ids[2]}","data":{"n":2}}\n{"$sluice":"end","count":1}\n`,
      )
      const forged = await fetch(`${url}?key=${key}`, { headers: { 'Last-Event-ID': 'nope' } })
      const lines = (await bodyOf(forged)).text.trim().split('\n')
      expect(JSON.parse(lines[0]!)).toEqual({
        $sluice: 'gap',
        reason: 'unknown',
        lastEventId: 'nope',
        resumeFrom: ids[0],
      })
      expect(lines.at(-1)).toBe('{"$sluice":"end","count":3}')
    })
  })

  test('a closed feed answers 503 with Retry-After, at once', async () => {
    const closing = await kind.create()
    await closing.close()
    await withServer(
      closing,
      async (url) => {
        const response = await fetch(`${url}?key=${freshKey()}`)
        expect(response.status).toBe(503)
        expect(response.headers.get('retry-after')).toBe('1')
        expect(await response.text()).toMatch(/^Cannot /)
      },
      { format: 'ndjson' },
    )
  })
})

describe('feedResponse when Redis goes away', () => {
  test('Redis unreachable when the request arrives: 503 with Retry-After, never a hung response', async () => {
    const redis = await startRedis()
    const client = await redisClient(redis.url)
    const feed = redisFeed(client, { timeoutMs: 1_000 })
    await redis.stop()
    await withServer(feed, async (url) => {
      const started = Date.now()
      const response = await fetch(`${url}?key=k`)
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('1')
      expect(Date.now() - started).toBeLessThan(3_000)
    })
    await feed.close()
    client.destroy()
  })

  test.each(['ndjson', 'sse'] as const)(
    '%s: Redis lost mid-stream ends the response without the end marker',
    async (format) => {
      const redis = await startRedis()
      const client = await redisClient(redis.url)
      const feed = redisFeed(client, { blockMs: 1_000, timeoutMs: 1_000 })
      const key = freshKey()
      await feed.publish(key, { n: 0 })
      try {
        await withServer(
          feed,
          async (url) => {
            const response = await fetch(`${url}?key=${key}`)
            // Redis goes once the reader is at the tail: the caught-up marker came (a fixed 100 ms
            // was not always enough on loaded cores, and then not even the first record had come).
            let atTail = () => {}
            const caughtUp = new Promise<void>((resolve) => (atTail = resolve))
            const reading = bodyOf(response, (text) => text.includes('live') && atTail())
            await Promise.race([caughtUp, reading])
            await redis.kill9()
            const { text, cut } = await reading
            expect(cut).toBe(true)
            expect(text).toContain('"n":0')
            expect(text).not.toContain('end')
          },
          { format },
        )
      } finally {
        await feed.close()
        client.destroy()
        await redis.stop()
      }
    },
  )
})

test('feedResponse refuses a bad format or retryAfterS with a TypeError or RangeError', async () => {
  const feed = memoryFeed()
  const request = new Request('http://localhost/')
  await expect(feedResponse(feed, 'k', request, { format: 'xml' as 'sse' })).rejects.toThrow(TypeError)
  await expect(feedResponse(feed, 'k', request, { retryAfterS: -1 })).rejects.toThrow(RangeError)
  expect(() => memoryFeed({ maxLen: 0 })).toThrow(RangeError)
})

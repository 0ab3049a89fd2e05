/**
 * The feed implementations the behavioural suite runs against, each with a real store: memoryFeed
 * in process, redisFeed on a redis-server this helper starts.
 */
import { createClient } from 'redis'
import { type Feed, type FeedEntry, memoryFeed } from '../../src/index.js'
import { type RedisClientLike, type RedisFeedOptions, redisFeed } from '../../src/redis.js'
import { type RedisServer, type RedisServerOptions, startRedis } from './redis.js'

export interface FeedKind {
  name: 'memory' | 'redis'
  /** Starts what the kind needs (a redis-server). */
  setup(): Promise<void>
  teardown(): Promise<void>
  /** A new feed (on a new connection, for redis); closed at teardown. */
  create(options?: { maxLen?: number; maxAgeMs?: number }): Promise<Feed>
  /**
   * Moves the clock `maxAgeMs` is measured on by `ms`: memory feeds' injected clock at once; for
   * Redis, whose own clock stamps the stream ids, waits until that clock has moved that far.
   */
  advanceClock(ms: number): Promise<void>
}

/** A connected node-redis client with an error listener (a lost connection must not crash the test process). */
export async function redisClient(url: string): Promise<ReturnType<typeof createClient>> {
  const client = createClient({ url, socket: { reconnectStrategy: () => 50, connectTimeout: 2_000 } })
  client.on('error', () => {})
  await client.connect()
  return client
}

export function memoryKind(): FeedKind {
  const feeds: Feed[] = []
  let clock = Date.now()
  return {
    name: 'memory',
    setup: async () => {},
    teardown: async () => {
      await Promise.all(feeds.map((feed) => feed.close()))
    },
    create: async (options = {}) => {
      const feed = memoryFeed({ ...options, now: () => clock })
      feeds.push(feed)
      return feed
    },
    advanceClock: async (ms) => {
      clock += ms
    },
  }
}

export function redisKind(
  serverOptions: RedisServerOptions = {},
  feedOptions: RedisFeedOptions = {},
): FeedKind & { server(): RedisServer } {
  let server: RedisServer | undefined
  const opened: Array<{ feed: Feed; client: RedisClientLike }> = []
  return {
    name: 'redis',
    server: () => server!,
    setup: async () => {
      server = await startRedis(serverOptions)
    },
    teardown: async () => {
      for (const { feed, client } of opened) {
        await feed.close()
        client.destroy()
      }
      await server?.stop()
    },
    create: async (options = {}) => {
      const client = await redisClient(server!.url)
      try {
        const feed = redisFeed(client, { blockMs: 1_000, ...feedOptions, ...options })
        opened.push({ feed, client })
        return feed
      } catch (error) {
        client.destroy()
        throw error
      }
    },
    advanceClock: async (ms) => {
      const client = await redisClient(server!.url)
      try {
        const time = async () => {
          const [seconds, micros] = (await client.sendCommand(['TIME'])) as [string, string]
          return Number(seconds) * 1_000 + Number(micros) / 1_000
        }
        const target = (await time()) + ms
        for (let i = 0; i < 1_000 && (await time()) < target; i++) await new Promise((r) => setTimeout(r, 10))
      } finally {
        client.destroy()
      }
    },
  }
}

let counter = 0
/** A key no other test uses. */
export function freshKey(): string {
  return `k${++counter}-${Math.random().toString(36).slice(2, 8)}`
}

/** The next `count` entries of `entries`, failing after `timeoutMs` instead of hanging. */
export async function take<T>(
  entries: AsyncIterator<FeedEntry<T>>,
  count: number,
  timeoutMs = 5_000,
): Promise<Array<FeedEntry<T>>> {
  const out: Array<FeedEntry<T>> = []
  const deadline = Date.now() + timeoutMs
  while (out.length < count) {
    const left = deadline - Date.now()
    let timer: ReturnType<typeof setTimeout> | undefined
    const result = await Promise.race([
      entries.next(),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(left, 0)))),
    ]).finally(() => clearTimeout(timer))
    if (result === 'timeout') throw new Error(`Cannot take ${count} entries: got ${out.length} in ${timeoutMs} ms`)
    if (result.done) break
    out.push(result.value)
  }
  return out
}

/** Whether the iterator ends (done) within `timeoutMs`. */
export async function endsWithin(entries: AsyncIterator<unknown>, timeoutMs = 5_000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const result = await Promise.race([
    entries.next(),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ]).finally(() => clearTimeout(timer))
  return result !== 'timeout' && result.done === true
}

/**
 * Feeds across instances (issue 12): three sluice-server instances (child processes) on one Redis
 * (Debian's redis-server, AOF `always`) behind a real nginx upstream, each cutting its streams
 * every 1-3 s, a publisher at 200 records/s. Every client must receive exactly the published
 * sequence: across instances, across a `kill -9` of an instance, and across a `kill -9` of Redis.
 * Without persistence, a Redis restart must reach every client as a `reset` gap. Figures printed.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ndjson, type RecordStream, sse } from 'sluice'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Feed } from '../../src/index.js'
import { redisFeed } from '../../src/redis.js'
import { freePort } from '../helpers/daemon.js'
import { freshKey, redisClient } from '../helpers/feeds.js'
import { type Nginx, startNginx } from '../helpers/nginx.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

const INSTANCE = fileURLToPath(new URL('../helpers/feed-instance.ts', import.meta.url))
const RATE_PER_S = 200
const retry = { initialDelayMs: 20, maxDelayMs: 300, minDelayMs: 10, maxAttempts: 100 }

interface Instance {
  name: string
  port: number
  child: ChildProcess | undefined
}

async function startInstance(instance: Instance, redisUrl: string): Promise<void> {
  const child = spawn(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', INSTANCE], {
    env: { ...process.env, PORT: String(instance.port), REDIS_URL: redisUrl, NAME: instance.name },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  instance.child = child
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Cannot start instance ${instance.name}: ${log}`)), 45_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`Instance ${instance.name} exited (${code}): ${log}`)))
  })
}

async function kill9(instance: Instance): Promise<void> {
  const child = instance.child
  if (child === undefined || child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
  instance.child = undefined
}

/** Publishes `count` records `{ seq }` at RATE_PER_S, retrying each (same msgId: idempotent) while Redis is away, then ends the feed. */
async function publish(
  feed: Feed,
  key: string,
  count: number,
  onSeq?: (seq: number) => Promise<void>,
): Promise<{ retries: number }> {
  let retries = 0
  const started = performance.now()
  for (let seq = 0; seq < count; seq++) {
    const due = started + (seq * 1_000) / RATE_PER_S
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    for (let attempt = 0; ; attempt++) {
      try {
        await feed.publish(key, { seq }, { msgId: `${key}-${seq}` })
        break
      } catch (error) {
        if (attempt > 300) throw error
        retries++
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    await onSeq?.(seq)
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await feed.end(key)
      break
    } catch (error) {
      if (attempt > 300) throw error
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  return { retries }
}

interface Client {
  format: 'ndjson' | 'sse'
  seqs: number[]
  servedBy: string[]
  stream: RecordStream<unknown>
  done: Promise<unknown>
}

function client(url: string, format: 'ndjson' | 'sse', avoid = true): Client {
  const servedBy: string[] = []
  const seqs: number[] = []
  const onOpen = (response: Response) => servedBy.push(response.headers.get('x-instance') ?? '?')
  const base = `${url}&format=${format}`
  // Each resume asks to avoid the instance that served the last connection (see feed-instance.ts).
  const resume = () => (avoid ? `${base}&avoid=${servedBy.at(-1) ?? ''}` : base)
  const stream: RecordStream<unknown> =
    format === 'ndjson'
      ? ndjson<{ seq: number }>(base, { retry, onOpen, requireEnd: true, resume })
      : sse<{ seq: number }>(base, { json: true, retry, onOpen, resume })
  const done = (async () => {
    try {
      for await (const item of stream) {
        // SSE: the records are the default ('message') events; a caught-up 'live' event is a marker.
        if (format === 'sse' && (item as { event: string }).event !== 'message') continue
        const record = format === 'ndjson' ? (item as { seq: number }) : (item as { data: { seq: number } }).data
        seqs.push(record.seq)
      }
      return undefined
    } catch (error) {
      return error
    }
  })()
  return { format, seqs, servedBy, stream, done }
}

const range = (count: number) => Array.from({ length: count }, (_, seq) => seq)
const summary = (clients: Client[]) =>
  clients
    .map(
      (c) =>
        `${c.format}: ${c.seqs.length} records, ${c.stream.counters.reconnects} reconnects, served by ${[...new Set(c.servedBy)].join('+')} (${c.servedBy.length} connections)`,
    )
    .join('\n  ')

describe('three instances on Redis (AOF always) behind nginx', () => {
  let redis: RedisServer
  let nginx: Nginx
  let publisherClient: Awaited<ReturnType<typeof redisClient>>
  let feed: Feed
  const instances: Instance[] = [
    { name: 'a', port: 0, child: undefined },
    { name: 'b', port: 0, child: undefined },
    { name: 'c', port: 0, child: undefined },
  ]

  beforeAll(async () => {
    redis = await startRedis({ aof: true })
    for (const instance of instances) instance.port = await freePort()
    await Promise.all(instances.map((instance) => startInstance(instance, redis.url)))
    const directives = ['proxy_next_upstream error timeout http_503;', 'proxy_read_timeout 10s;']
    nginx = await startNginx([{ name: 'feeds', upstreams: instances.map((i) => `127.0.0.1:${i.port}`), directives }])
    publisherClient = await redisClient(redis.url)
    feed = redisFeed(publisherClient, { timeoutMs: 1_000 })
  }, 90_000)

  afterAll(async () => {
    await Promise.all(instances.map(kill9))
    await nginx?.stop()
    await feed?.close()
    publisherClient?.destroy()
    await redis?.stop()
  })

  test('every client receives exactly the published sequence, served by at least two instances', async () => {
    const key = freshKey()
    const count = 800 // 4 s at 200 records/s
    const clients = [
      client(`${nginx.urls['feeds']}/feed?key=${key}`, 'ndjson'),
      client(`${nginx.urls['feeds']}/feed?key=${key}`, 'sse'),
    ]
    clients.push(
      client(`${nginx.urls['feeds']}/feed?key=${key}`, 'ndjson'),
      client(`${nginx.urls['feeds']}/feed?key=${key}`, 'sse'),
    )
    await publish(feed, key, count)
    const errors = await Promise.all(clients.map((c) => c.done))
    console.log(
      `cross-instance resume, ${count} records at ${RATE_PER_S}/s, streams cut every 1-3 s:\n  ${summary(clients)}`,
    )
    expect(errors).toEqual([undefined, undefined, undefined, undefined])
    for (const c of clients) {
      expect(c.seqs).toEqual(range(count))
      expect(new Set(c.servedBy).size).toBeGreaterThanOrEqual(2)
    }
  }, 30_000)

  test('kill -9 of the busiest instance mid-stream, then a restart: no loss, no duplicate', async () => {
    const key = freshKey()
    const count = 800
    const clients = ['ndjson', 'sse', 'ndjson', 'sse'].map((f) =>
      client(`${nginx.urls['feeds']}/feed?key=${key}`, f as 'ndjson' | 'sse'),
    )
    let killed = ''
    await publish(feed, key, count, async (seq) => {
      if (seq !== 300) return
      const serving = clients.map((c) => c.servedBy.at(-1))
      const busiest = instances.reduce((a, b) =>
        serving.filter((s) => s === b.name).length > serving.filter((s) => s === a.name).length ? b : a,
      )
      killed = busiest.name
      await kill9(busiest)
      setTimeout(() => void startInstance(busiest, redis.url), 500)
    })
    const errors = await Promise.all(clients.map((c) => c.done))
    console.log(
      `kill -9 of instance ${killed} at record 300 of ${count}, restarted 500 ms later:\n  ${summary(clients)}`,
    )
    expect(errors).toEqual([undefined, undefined, undefined, undefined])
    for (const c of clients) expect(c.seqs).toEqual(range(count))
  }, 30_000)

  test('kill -9 of Redis (AOF always), restarted on the same directory: 0 lost, 0 duplicated', async () => {
    const key = freshKey()
    const count = 800
    const clients = ['ndjson', 'sse', 'ndjson', 'sse'].map((f) =>
      client(`${nginx.urls['feeds']}/feed?key=${key}`, f as 'ndjson' | 'sse'),
    )
    let downMs = 0
    const { retries } = await publish(feed, key, count, async (seq) => {
      if (seq !== 300) return
      const started = performance.now()
      await redis.kill9()
      await new Promise((r) => setTimeout(r, 300))
      await redis.restart()
      downMs = performance.now() - started
    })
    const errors = await Promise.all(clients.map((c) => c.done))
    console.log(
      `kill -9 of Redis (AOF always) at record 300 of ${count}, down ${Math.round(downMs)} ms, ${retries} publish retries:\n  ${summary(clients)}`,
    )
    expect(errors).toEqual([undefined, undefined, undefined, undefined])
    for (const c of clients) expect(c.seqs).toEqual(range(count))
  }, 40_000)
})

describe('Redis without persistence', () => {
  test('kill -9 and a restart empty: every client hears a reset gap, never a silent jump', async () => {
    const redis = await startRedis()
    const instance: Instance = { name: 'solo', port: await freePort(), child: undefined }
    await startInstance(instance, redis.url)
    const publisherClient = await redisClient(redis.url)
    const feed = redisFeed(publisherClient, { timeoutMs: 1_000 })
    const url = `http://127.0.0.1:${instance.port}/feed?key=k`
    try {
      const clients = ['ndjson', 'ndjson', 'sse'].map((f) => client(url, f as 'ndjson' | 'sse', false))
      for (let seq = 0; seq < 100; seq++) await feed.publish('k', { seq })
      // Bounded wait until every client is at the tail.
      for (let i = 0; i < 200 && clients.some((c) => c.seqs.length < 100); i++)
        await new Promise((r) => setTimeout(r, 20))
      await redis.kill9()
      await redis.restart()
      // The new history: its own epoch. Publish until every ndjson client has ended with its gap.
      for (
        let seq = 100;
        seq < 400 && clients.some((c) => c.format === 'ndjson' && c.stream.state !== 'closed');
        seq++
      ) {
        await feed.publish('k', { seq }).catch(() => undefined)
        await new Promise((r) => setTimeout(r, 10))
      }
      const ndjsonErrors = await Promise.all(clients.filter((c) => c.format === 'ndjson').map((c) => c.done))
      console.log(
        `Redis without persistence killed and restarted empty: ${ndjsonErrors.map((e) => String(e)).join('; ')}`,
      )
      for (const error of ndjsonErrors) {
        expect(error).toMatchObject({ code: 'STREAM_GAP', reason: 'reset' })
        expect((error as { lastEventId: string }).lastEventId).toMatch(/:/)
      }
      for (const c of clients) expect(c.seqs.slice(0, 100)).toEqual(range(100))
      // ndjson clients stopped at the gap: nothing after it was taken as continuity.
      for (const c of clients.filter((x) => x.format === 'ndjson')) expect(c.seqs).toEqual(range(100))
      clients.forEach((c) => c.stream.close())
    } finally {
      await kill9(instance)
      await feed.close()
      publisherClient.destroy()
      await redis.stop()
    }
  }, 30_000)
})

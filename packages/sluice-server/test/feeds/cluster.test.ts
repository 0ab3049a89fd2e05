/**
 * Feeds across instances (issue 12): three sluice-server instances (child processes) on one Redis
 * (Debian's redis-server, AOF `always`) behind a real nginx upstream, each cutting its streams
 * every 1-3 s, a publisher at 200 records/s. Every client must receive exactly the published
 * sequence: across instances, across a `kill -9` of an instance, and across a `kill -9` of Redis.
 * Without persistence, a Redis restart must reach every client as a `reset` gap; a client away
 * longer than the history gets one `trimmed` gap. Figures printed, and kept in RELIABILITY.md by
 * scripts/reliability.mjs.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Gap, ndjson, type RecordStream, sse } from 'sluice'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Feed } from '../../src/index.js'
import { redisFeed } from '../../src/redis.js'
import { freePort } from '../helpers/daemon.js'
import { freshKey, redisClient } from '../helpers/feeds.js'
import { recordFigure } from '../helpers/figures.js'
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

/** Runs once record `at` is acknowledged, with no publish in flight (a fault injected between two batches). */
interface Hook {
  at: number
  run(): Promise<void>
}

/**
 * Publishes `count` records `{ seq }` at RATE_PER_S, then ends the feed; resolves to how long it took.
 *
 * Every record due by now goes out at once, pipelined on the one connection (Redis runs a
 * connection's commands in order, so the order is the call order). Awaiting each round trip in
 * turn tied the rate to the machine's load: on two busy cores a round trip took 20-35 ms, and 800
 * records meant for 4 s took 15-30 s (the test timed out). No publish is retried: faults are
 * injected by `hook` between batches, which returns once the publisher's connection is back.
 */
async function publish(feed: Feed, key: string, count: number, hook?: Hook): Promise<number> {
  const started = performance.now()
  for (let seq = 0; seq < count; ) {
    const due = Math.min(count, Math.floor(((performance.now() - started) * RATE_PER_S) / 1_000) + 1)
    if (due <= seq) {
      await new Promise((r) => setTimeout(r, started + (seq * 1_000) / RATE_PER_S - performance.now()))
      continue
    }
    // A batch ends at the hook's record, so the fault comes right after it.
    const end = hook !== undefined && seq <= hook.at && hook.at < due ? hook.at + 1 : due
    const batch = Array.from({ length: end - seq }, (_, i) => seq + i)
    await Promise.all(batch.map((n) => feed.publish(key, { seq: n }, { msgId: `${key}-${n}` })))
    if (hook !== undefined && batch.includes(hook.at)) await hook.run()
    seq = end
  }
  await feed.end(key)
  return performance.now() - started
}

/** Bounded wait for a condition that a background event makes true. */
async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`Cannot wait for ${what}: not after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

interface Client {
  format: 'ndjson' | 'sse'
  seqs: number[]
  servedBy: string[]
  stream: RecordStream<unknown>
  /** Settles once the first connection caught up with the feed (its live marker came). */
  live: Promise<void>
  done: Promise<unknown>
}

function client(url: string, format: 'ndjson' | 'sse', avoid = true): Client {
  const servedBy: string[] = []
  const seqs: number[] = []
  const onOpen = (response: Response) => servedBy.push(response.headers.get('x-instance') ?? '?')
  let onLive = () => {}
  const live = new Promise<void>((resolve) => (onLive = resolve))
  const base = `${url}&format=${format}`
  // Each resume asks to avoid the instance that served the last connection (see feed-instance.ts).
  const resume = () => (avoid ? `${base}&avoid=${servedBy.at(-1) ?? ''}` : base)
  const stream: RecordStream<unknown> =
    format === 'ndjson'
      ? ndjson<{ seq: number }>(base, { retry, onOpen, onLive, requireEnd: true, resume })
      : sse<{ seq: number }>(base, { json: true, retry, onOpen, onLive, resume })
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
  return { format, seqs, servedBy, stream, live, done }
}

const range = (count: number) => Array.from({ length: count }, (_, seq) => seq)
const summary = (clients: Client[]) =>
  clients
    .map(
      (c) =>
        `${c.format}: ${c.seqs.length} records, ${c.stream.counters.reconnects} reconnects, served by ${[...new Set(c.servedBy)].join('+')} (${c.servedBy.length} connections)`,
    )
    .join('\n  ')

/** A RELIABILITY.md row (scripts/reliability.mjs): the records each client should have had, and how many it lost or got twice. */
function recordClients(scenario: string, count: number, clients: Client[], detail: string): void {
  const lost = clients.reduce((n, c) => n + count - new Set(c.seqs.filter((seq) => seq < count)).size, 0)
  const duplicated = clients.reduce((n, c) => n + c.seqs.length - new Set(c.seqs).size, 0)
  recordFigure({ scenario, records: count * clients.length, lost, duplicated, detail })
}

const reconnects = (clients: Client[]) => clients.reduce((n, c) => n + c.stream.counters.reconnects, 0)

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
    // Nothing is retried (see publish): a slow round trip on loaded cores must not fail a publish.
    feed = redisFeed(publisherClient, { timeoutMs: 10_000 })
  }, 90_000)

  afterAll(async () => {
    await Promise.all(instances.map(kill9))
    await nginx?.stop()
    await feed?.close()
    publisherClient?.destroy()
    await redis?.stop()
  })

  /** Four clients (NDJSON and SSE, two each) of the feed `key` through nginx, once all of them have caught up. */
  async function clientsOf(key: string): Promise<Client[]> {
    const clients = ['ndjson', 'sse', 'ndjson', 'sse'].map((f) =>
      client(`${nginx.urls['feeds']}/feed?key=${key}`, f as 'ndjson' | 'sse'),
    )
    // Publishing starts once every client is connected: each is then cut before the feed ends.
    await Promise.all(clients.map((c) => Promise.race([c.live, c.done])))
    return clients
  }

  test('every client receives exactly the published sequence, served by at least two instances', async () => {
    const key = freshKey()
    // 5 s at 200 records/s: each stream is cut within 3 s of its start, so every client resumes at least once.
    const count = 1_000
    const clients = await clientsOf(key)
    const ms = await publish(feed, key, count)
    const errors = await Promise.all(clients.map((c) => c.done))
    console.log(
      `cross-instance resume, ${count} records at ${RATE_PER_S}/s (published in ${Math.round(ms)} ms), streams cut every 1-3 s:\n  ${summary(clients)}`,
    )
    const servedBy = clients.map((c) => new Set(c.servedBy).size)
    recordClients(
      'feeds: cross-instance resume',
      count,
      clients,
      `4 clients (2 NDJSON, 2 SSE) through nginx to 3 instances, each cutting its streams every 1-3 s; ${count.toLocaleString('en-US')} records at ${RATE_PER_S}/s; ${reconnects(clients)} reconnects, every client served by ${Math.min(...servedBy) === Math.max(...servedBy) ? Math.min(...servedBy) : `${Math.min(...servedBy)}-${Math.max(...servedBy)}`} instances`,
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
    const clients = await clientsOf(key)
    let killed = ''
    let serving = 0
    let restarted: Promise<void> = Promise.resolve()
    const ms = await publish(feed, key, count, {
      at: 300,
      run: async () => {
        const current = clients.map((c) => c.servedBy.at(-1))
        const busiest = instances.reduce((a, b) =>
          current.filter((s) => s === b.name).length > current.filter((s) => s === a.name).length ? b : a,
        )
        killed = busiest.name
        serving = current.filter((s) => s === killed).length
        await kill9(busiest)
        // Restarted while the stream goes on; awaited below, so it never outlives this test.
        restarted = new Promise((r) => setTimeout(r, 500)).then(() => startInstance(busiest, redis.url))
      },
    })
    const errors = await Promise.all(clients.map((c) => c.done))
    await restarted
    console.log(
      `kill -9 of instance ${killed} at record 300 of ${count} (published in ${Math.round(ms)} ms), restarted 500 ms later:\n  ${summary(clients)}`,
    )
    recordClients(
      'feeds: kill -9 of an instance',
      count,
      clients,
      `the busiest of 3 instances (serving ${serving} of 4 clients) killed at record 300 of ${count}, restarted 500 ms later; ${reconnects(clients)} reconnects`,
    )
    expect(errors).toEqual([undefined, undefined, undefined, undefined])
    for (const c of clients) expect(c.seqs).toEqual(range(count))
  }, 60_000) // the restart alone may take up to 45 s (startInstance's bound) on two loaded cores

  test('kill -9 of Redis (AOF always), restarted on the same directory: 0 lost, 0 duplicated', async () => {
    const key = freshKey()
    const count = 800
    const clients = await clientsOf(key)
    let downMs = 0
    const ms = await publish(feed, key, count, {
      at: 300,
      run: async () => {
        const started = performance.now()
        await redis.kill9()
        await new Promise((r) => setTimeout(r, 300))
        await redis.restart()
        downMs = performance.now() - started
        // node-redis reconnects on its own (every 50 ms); publishing goes on once it has.
        await until('the publisher to reconnect', () => publisherClient.isReady)
      },
    })
    const errors = await Promise.all(clients.map((c) => c.done))
    console.log(
      `kill -9 of Redis (AOF always) at record 300 of ${count} (published in ${Math.round(ms)} ms), down ${Math.round(downMs)} ms:\n  ${summary(clients)}`,
    )
    recordClients(
      'feeds: kill -9 of Redis (AOF always)',
      count,
      clients,
      `killed at record 300 of ${count}, restarted on its directory ${Math.round(downMs)} ms later (appendfsync always); ${reconnects(clients)} reconnects through 3 instances`,
    )
    expect(errors).toEqual([undefined, undefined, undefined, undefined])
    for (const c of clients) expect(c.seqs).toEqual(range(count))
  }, 40_000)

  test.each(['ndjson', 'sse'] as const)(
    '%s: a client away longer than the history gets one trimmed gap naming resumeFrom; a forged id an unknown one',
    async (format) => {
      const key = freshKey()
      // maxLen 10 on the publishing side: Redis trims whole macro nodes (100 entries), so publish several.
      const trimmed = redisFeed(publisherClient, { maxLen: 10, timeoutMs: 10_000 })
      const count = 400
      const ids = [await trimmed.publish(key, { seq: 0 })]
      // Pipelined, in call order (see publish).
      ids.push(...(await Promise.all(range(count - 1).map((i) => trimmed.publish(key, { seq: i + 1 })))))
      await trimmed.end(key)
      const url = `${nginx.urls['feeds']}/feed?key=${key}&format=${format}`
      const read = async (lastEventId: string, onGap?: (gap: Gap) => void) => {
        const seqs: number[] = []
        const options = { lastEventId, retry, ...(onGap ? { onGap } : {}) }
        try {
          if (format === 'ndjson') {
            for await (const r of ndjson<{ seq: number }>(url, { ...options, requireEnd: true })) seqs.push(r.seq)
          } else {
            for await (const e of sse<{ seq: number }>(url, { ...options, json: true }))
              if (e.event === 'message') seqs.push(e.data.seq)
          }
          return { seqs, error: undefined }
        } catch (error) {
          return { seqs, error }
        }
      }
      // The client had records 0-4, then was away while 395 more were published.
      const gaps: Gap[] = []
      const away = await read(ids[4]!, (gap) => gaps.push(gap))
      expect(away.error).toBeUndefined()
      expect(gaps).toHaveLength(1)
      const gap = gaps[0]!
      const resumeAt = ids.indexOf(gap.resumeFrom!)
      expect(gap).toEqual({ reason: 'trimmed', lastEventId: ids[4], resumeFrom: ids[resumeAt] })
      expect(resumeAt).toBeGreaterThan(5)
      expect(away.seqs).toEqual(range(count).slice(resumeAt))
      // Had + declared missing + delivered = published.
      const missed = resumeAt - 5
      expect(5 + missed + away.seqs.length).toBe(count)
      // By default the gap ends the stream with a GapError: the app reloads its state.
      const strict = await read(ids[4]!)
      expect(strict.seqs).toEqual([])
      expect(strict.error).toMatchObject({ code: 'STREAM_GAP', reason: 'trimmed', resumeFrom: gap.resumeFrom })
      const forged = await read('forged')
      expect(forged.error).toMatchObject({ code: 'STREAM_GAP', reason: 'unknown', lastEventId: 'forged' })
      recordFigure({
        scenario: `feeds: trimming gap (${format})`,
        records: count,
        lost: count - 5 - missed - away.seqs.length,
        duplicated: away.seqs.length - new Set(away.seqs).size,
        detail: `maxLen 10 (MAXLEN ~ keeps whole macro nodes), ${count} published, a client resuming after record 4 got one 'trimmed' gap naming resumeFrom = record ${resumeAt}: 5 had + ${missed} declared missing + ${away.seqs.length} delivered = ${count}; GapError by default; a forged Last-Event-ID got an 'unknown' gap`,
      })
    },
  )
})

describe('Redis without persistence', () => {
  // Stopped by afterAll, which runs even when the test times out (a finally there would wait for the await that hung).
  let redis: RedisServer | undefined
  const instance: Instance = { name: 'solo', port: 0, child: undefined }
  let publisherClient: Awaited<ReturnType<typeof redisClient>> | undefined
  let feed: Feed | undefined
  const clients: Client[] = []

  afterAll(async () => {
    for (const c of clients) c.stream.close()
    await kill9(instance)
    await feed?.close()
    publisherClient?.destroy()
    await redis?.stop()
  })

  test('kill -9 and a restart empty: every client hears a reset gap, never a silent jump', async () => {
    redis = await startRedis()
    instance.port = await freePort()
    await startInstance(instance, redis.url)
    publisherClient = await redisClient(redis.url)
    feed = redisFeed(publisherClient, { timeoutMs: 1_000 })
    const url = `http://127.0.0.1:${instance.port}/feed?key=k`
    clients.push(...['ndjson', 'ndjson', 'sse'].map((f) => client(url, f as 'ndjson' | 'sse', false)))
    for (let seq = 0; seq < 100; seq++) await feed.publish('k', { seq })
    // Every client holds the first history before Redis goes (a poll bounded at 4 s used to go on regardless).
    await until('every client to receive 100 records', () => clients.every((c) => c.seqs.length >= 100))
    await redis.kill9()
    await redis.restart()
    // The new history: its own epoch. Publish until every ndjson client has ended with its gap.
    for (let seq = 100; seq < 400 && clients.some((c) => c.format === 'ndjson' && c.stream.state !== 'closed'); seq++) {
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
    recordClients(
      'feeds: kill -9 of Redis (no persistence)',
      100,
      clients,
      `restarted empty after 100 records: both NDJSON clients ended with a 'reset' GapError naming their last id, and no client (2 NDJSON, 1 SSE) took the new history as continuity`,
    )
    for (const c of clients) expect(c.seqs.slice(0, 100)).toEqual(range(100))
    // ndjson clients stopped at the gap: nothing after it was taken as continuity.
    for (const c of clients.filter((x) => x.format === 'ndjson')) expect(c.seqs).toEqual(range(100))
  }, 60_000) // the instance's start alone may take up to 45 s (startInstance's bound) on two loaded cores
})

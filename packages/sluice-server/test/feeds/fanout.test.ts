/**
 * Fan-out (issue 12, test 6): 1, 100 and 1,000 clients on one feed through one sluice-server
 * instance (a child process: node:http on loopback), on memoryFeed and on redisFeed with a real
 * redis-server. Asserts that the instance's Redis connections stay the same however many clients
 * watch, and that every client receives every record in order. Measures, never asserts, the memory
 * each idle client costs the instance and the publish-to-deliver latency.
 *
 * `node scripts/feeds-fanout.mjs` runs this file with more records (SLUICE_FANOUT_RECORDS) and
 * writes the figures (SLUICE_FANOUT_FIGURES, one JSON line per feed and size) into BENCHMARKS.md.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ndjson, type RecordStream } from 'sluice'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { freshKey, redisClient } from '../helpers/feeds.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

const INSTANCE = fileURLToPath(new URL('../helpers/fanout-instance.ts', import.meta.url))
const SIZES = [1, 100, 1_000]
const RECORDS = Number(process.env['SLUICE_FANOUT_RECORDS'] ?? 10)
// Clients connect this many at a time (each batch caught up before the next): the listen backlog is 511.
const BATCH = 250

/** The forked instance, one request and reply at a time by IPC. */
interface Instance {
  port: number
  request<T>(message: { op: string; [field: string]: unknown }): Promise<T>
  stop(): Promise<void>
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const child: ChildProcess = fork(INSTANCE, [], {
    execArgv: ['--conditions=sluice-source', '--import', 'tsx', '--expose-gc'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Cannot start the fan-out instance: no ready in 45 s')), 45_000)
    child.on('message', (message: { ready?: number }) => {
      if (message.ready === undefined) return
      clearTimeout(timer)
      resolve(message.ready)
    })
    void exited.then(() => reject(new Error('Cannot start the fan-out instance: it exited')))
  })
  let next = 0
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  child.on('message', (message: { id?: number; value?: unknown; error?: string }) => {
    const waiting = message.id === undefined ? undefined : pending.get(message.id)
    if (waiting === undefined) return
    pending.delete(message.id!)
    if (message.error === undefined) waiting.resolve(message.value)
    else waiting.reject(new Error(message.error))
  })
  void exited.then(() => {
    for (const waiting of pending.values()) waiting.reject(new Error('Cannot reach the fan-out instance: it exited'))
  })
  return {
    port,
    request: <T>(message: { op: string }) =>
      new Promise<T>((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
        child.send({ ...message, id })
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.disconnect() // it closes its server and exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

interface Client {
  seqs: number[]
  latenciesMs: number[]
  stream: RecordStream<{ seq: number; at: string }>
  live: Promise<void>
  done: Promise<unknown>
}

/** Counts deliveries per record: `all(seq)` settles once every client has record `seq`. */
class Deliveries {
  readonly #counts: number[] = []
  readonly #waiting = new Map<number, () => void>()
  constructor(readonly clients: number) {}
  got(seq: number): void {
    this.#counts[seq] = (this.#counts[seq] ?? 0) + 1
    if (this.#counts[seq] === this.clients) this.#waiting.get(seq)?.()
  }
  all(seq: number): Promise<void> {
    if (this.#counts[seq] === this.clients) return Promise.resolve()
    return new Promise((resolve) => this.#waiting.set(seq, resolve))
  }
}

function client(url: string, deliveries: Deliveries): Client {
  const seqs: number[] = []
  const latenciesMs: number[] = []
  let onLive = () => {}
  const live = new Promise<void>((resolve) => (onLive = resolve))
  const stream = ndjson<{ seq: number; at: string }>(url, { onLive, requireEnd: true })
  const done = (async () => {
    try {
      for await (const record of stream) {
        // CLOCK_MONOTONIC, the clock the instance stamped `at` with.
        latenciesMs.push(Number(process.hrtime.bigint() - BigInt(record.at)) / 1e6)
        seqs.push(record.seq)
        deliveries.got(record.seq)
      }
      return undefined
    } catch (error) {
      return error
    }
  })()
  return { seqs, latenciesMs, stream, live, done }
}

/** Bounded wait for a condition that a background event makes true. */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`Cannot wait for ${what}: not after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
const range = (count: number) => Array.from({ length: count }, (_, seq) => seq)

interface Row {
  feed: 'memory' | 'redis'
  clients: number
  records: number
  /** Redis connections named sluice-fanout (the instance's), and all of the server's, with the clients connected. */
  redisConnections?: { instance: number; total: number }
  heapPerClientB: number
  rssPerClientB: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** When the last client had a record, after its publish: the median over the records. */
  allMs: number
  connectMs: number
}

describe.each(['memory', 'redis'] as const)('fan-out on %s', (feed) => {
  let redis: RedisServer | undefined
  let admin: Awaited<ReturnType<typeof redisClient>> | undefined
  let instance: Instance

  beforeAll(async () => {
    if (feed === 'redis') {
      redis = await startRedis()
      admin = await redisClient(redis.url)
    }
    instance = await startInstance({ FEED: feed, REDIS_URL: redis?.url ?? '' })
  }, 60_000)

  afterAll(async () => {
    await instance?.stop()
    admin?.destroy()
    await redis?.stop()
  })

  /** The instance's Redis connections (named sluice-fanout) and all of the server's (this admin one included). */
  async function redisConnections(): Promise<{ instance: number; total: number }> {
    const lines = String(await admin!.sendCommand(['CLIENT', 'LIST']))
      .split('\n')
      .filter((line) => line.trim() !== '')
    return { instance: lines.filter((line) => / name=sluice-fanout /.test(line)).length, total: lines.length }
  }

  /** `size` clients of a fresh key, caught up, a batch at a time; then `records` records, each once all have the one before. */
  async function round(size: number, records: number, measure: (clients: Client[]) => Promise<void> = async () => {}) {
    const key = freshKey()
    const url = `http://127.0.0.1:${instance.port}/feed?key=${key}`
    const deliveries = new Deliveries(size)
    const started = performance.now()
    const clients: Client[] = []
    for (let i = 0; i < size; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, size - i) }, () => client(url, deliveries))
      clients.push(...batch)
      await Promise.all(batch.map((c) => Promise.race([c.live, c.done])))
    }
    const connectMs = performance.now() - started
    expect(await instance.request<number>({ op: 'streams' })).toBe(size)
    await measure(clients)
    // One record at a time, the next once every client has this one: latency, not queueing.
    const allMs: number[] = []
    for (let seq = 0; seq < records; seq++) {
      const published = process.hrtime.bigint()
      await instance.request({ op: 'publish', key, seq })
      await deliveries.all(seq)
      allMs.push(Number(process.hrtime.bigint() - published) / 1e6)
    }
    await instance.request({ op: 'end', key })
    const errors = await Promise.all(clients.map((c) => c.done))
    expect(errors.filter((e) => e !== undefined)).toEqual([])
    for (const c of clients) expect(c.seqs).toEqual(range(records))
    await until('every stream to close', async () => (await instance.request<number>({ op: 'streams' })) === 0)
    return { clients, connectMs, allMs }
  }

  test(`1, 100 and 1,000 clients each receive every record in order${feed === 'redis' ? '; the Redis connections stay the same' : ''}`, async () => {
    // A first round warms up both processes (code compiled, pools grown), so the figures are each client's own cost.
    await round(10, 2)
    const rows: Row[] = []
    for (const size of SIZES) {
      const before = await instance.request<{ heapUsed: number; rss: number }>({ op: 'memory' })
      let idle = before
      let connections: { instance: number; total: number } | undefined
      const { clients, connectMs, allMs } = await round(size, RECORDS, async () => {
        // Every client connected, caught up and idle: what each one holds on the instance.
        idle = await instance.request<{ heapUsed: number; rss: number }>({ op: 'memory' })
        if (feed === 'redis') connections = await redisConnections()
      })
      const latencies = clients.flatMap((c) => c.latenciesMs).sort((a, b) => a - b)
      rows.push({
        feed,
        clients: size,
        records: RECORDS,
        ...(connections === undefined ? {} : { redisConnections: connections }),
        heapPerClientB: Math.round((idle.heapUsed - before.heapUsed) / size),
        rssPerClientB: Math.round((idle.rss - before.rss) / size),
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        maxMs: latencies.at(-1)!,
        allMs: percentile(
          allMs.sort((a, b) => a - b),
          0.5,
        ),
        connectMs: Math.round(connectMs),
      })
    }
    console.log(
      `fan-out on ${feed}, ${RECORDS} records, each published once every client had the one before:\n` +
        rows
          .map(
            (r) =>
              `  ${r.clients} clients: ${r.redisConnections ? `Redis connections ${r.redisConnections.instance} of the instance (${r.redisConnections.total} in all), ` : ''}` +
              `idle client ${(r.heapPerClientB / 1024).toFixed(1)} KiB heap / ${(r.rssPerClientB / 1024).toFixed(1)} KiB RSS, ` +
              `latency p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(2)} ms, ` +
              `all clients ${r.allMs.toFixed(2)} ms, connected in ${r.connectMs} ms`,
          )
          .join('\n'),
    )
    const figures = process.env['SLUICE_FANOUT_FIGURES']
    if (figures) for (const row of rows) appendFileSync(figures, `${JSON.stringify(row)}\n`)
    if (feed === 'redis') {
      // One connection for commands, one for the blocking XREAD that serves every reader.
      expect(rows.map((r) => r.redisConnections!.instance)).toEqual([2, 2, 2])
    }
  }, 180_000)
})

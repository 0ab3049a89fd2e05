/**
 * sluice-server behind a real nginx (Debian's), in the configurations users run: the default
 * `proxy_buffering on`, and `gzip on` for the streaming content types. Prints the first-record
 * latency with and without `X-Accel-Buffering: no`, asserts that with sluice-server's headers
 * records arrive one by one, and kills one of two upstream instances mid-stream to show the
 * client resuming on the other with no loss and no duplicate.
 */
import { decodeNdjson, decodeSse, ndjson, sse } from 'sluice'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type NodeServer, serve } from '../src/node.js'
import { app, type Reading, reading } from './helpers/app.js'
import { freePort } from './helpers/daemon.js'
import { type Nginx, startNginx } from './helpers/nginx.js'

const RECORDS = 5
const INTERVAL_MS = 250 // five records over one second

const GZIP = ['gzip on;', 'gzip_types application/x-ndjson text/event-stream;']

let nginx: Nginx
let single: NodeServer
const pair: Record<'a' | 'b', { port: number; server: NodeServer | undefined }> = {
  a: { port: 0, server: undefined },
  b: { port: 0, server: undefined },
}
const resumedFrom: Array<{ instance: string; lastEventId: string | undefined }> = []

async function startInstance(name: 'a' | 'b'): Promise<void> {
  const onRequest = (_path: string, lastEventId: string | undefined) =>
    resumedFrom.push({ instance: name, lastEventId })
  pair[name].server = await serve(app({ instance: name, onRequest }), { port: pair[name].port })
}

beforeAll(async () => {
  single = await serve(app({ instance: 'single' }))
  pair.a.port = await freePort()
  pair.b.port = await freePort()
  await startInstance('a')
  await startInstance('b')
  nginx = await startNginx([
    // No proxy_buffering directive: nginx's default, on.
    { name: 'buffered', upstreams: [`127.0.0.1:${single.port}`] },
    { name: 'gzip', upstreams: [`127.0.0.1:${single.port}`], directives: GZIP },
    { name: 'pair', upstreams: [`127.0.0.1:${pair.a.port}`, `127.0.0.1:${pair.b.port}`] },
    // A read timeout short enough to test (the default is 60 s): an idle upstream is cut after it.
    { name: 'short-timeout', upstreams: [`127.0.0.1:${single.port}`], directives: ['proxy_read_timeout 1s;'] },
  ])
})

afterAll(async () => {
  await nginx?.stop()
  await Promise.all([single?.close(), pair.a.server?.close(), pair.b.server?.close()])
})

interface Arrival {
  /** ms from the request to each record. */
  at: number[]
  encoding: string | null
}

/** Fetches a stream through nginx (asking for gzip, as browsers do) and times each record. */
async function timeRecords(url: string, format: 'ndjson' | 'sse'): Promise<Arrival> {
  const started = performance.now()
  const response = await fetch(url, { headers: { 'Accept-Encoding': 'gzip' } })
  expect(response.status).toBe(200)
  const at: number[] = []
  const seqs: number[] = []
  const records =
    format === 'ndjson'
      ? decodeNdjson<Reading>(response, { requireEnd: true })
      : mapData(decodeSse<Reading>(response, { json: true, requireEnd: true }))
  for await (const record of records) {
    at.push(performance.now() - started)
    seqs.push(record.seq)
  }
  expect(seqs).toEqual([0, 1, 2, 3, 4])
  // nginx consumes X-Accel-* headers and does not pass them on to the client.
  expect(response.headers.has('x-accel-buffering')).toBe(false)
  return { at, encoding: response.headers.get('content-encoding') }
}

async function* mapData<T>(events: AsyncIterable<{ data: T }>): AsyncGenerator<T> {
  for await (const event of events) yield event.data
}

/** Gaps between consecutive records longer than a burst would have (100 ms), out of RECORDS - 1. */
function spreadGaps(at: number[]): number {
  let gaps = 0
  for (let i = 1; i < at.length; i++) if (at[i]! - at[i - 1]! > 100) gaps++
  return gaps
}

const fmt = (ms: number) => `${Math.round(ms)} ms`.padStart(8)

describe.each(['ndjson', 'sse'] as const)('%s through nginx', (format) => {
  test('records arrive one by one with sluice-server headers in every configuration; without them they are held back', async () => {
    const configs = ['buffered', 'gzip'] as const
    const runs = await Promise.all(
      configs.flatMap((config) =>
        [false, true].map(async (strip) => {
          const query = `n=${RECORDS}&intervalMs=${INTERVAL_MS}${strip ? '&strip=1' : ''}`
          const arrival = await timeRecords(`${nginx.urls[config]}/${format}?${query}`, format)
          return { config, strip, ...arrival }
        }),
      ),
    )
    const lines = runs.map(
      (r) =>
        `${r.config.padEnd(9)} ${r.strip ? 'header stripped      ' : 'X-Accel-Buffering: no'}  encoding ${String(r.encoding).padEnd(5)}` +
        `  first record ${fmt(r.at[0]!)}  last ${fmt(r.at.at(-1)!)}  spread gaps ${spreadGaps(r.at)}/${RECORDS - 1}`,
    )
    console.log(`nginx, ${format}, ${RECORDS} records one every ${INTERVAL_MS} ms:\n${lines.join('\n')}`)

    for (const run of runs.filter((r) => !r.strip)) {
      // The first record is sent at once and must not wait for the rest.
      expect(run.at[0], `${run.config}: first record`).toBeLessThan(INTERVAL_MS * 2)
      // Records arrive spread over the second, not in one burst at the end.
      expect(spreadGaps(run.at), `${run.config}: gaps`).toBeGreaterThanOrEqual(RECORDS - 2)
      expect(run.at.at(-1)! - run.at[0]!, `${run.config}: spread`).toBeGreaterThan(INTERVAL_MS * (RECORDS - 1) * 0.6)
    }
    // Control: gzip without the header holds everything back until the end (nginx 1.22, measured),
    // which shows this measurement can see buffering at all.
    const gzipStripped = runs.find((r) => r.config === 'gzip' && r.strip)!
    expect(gzipStripped.encoding).toBe('gzip')
    expect(gzipStripped.at[0]).toBeGreaterThan(INTERVAL_MS * (RECORDS - 1) * 0.8)
    expect(runs.find((r) => r.config === 'gzip' && !r.strip)!.encoding).toBe('gzip')
  })
})

describe('two instances behind one nginx upstream', () => {
  const COUNT = 16

  async function killServingInstance(instance: string | null): Promise<string> {
    expect(instance === 'a' || instance === 'b').toBe(true)
    const name = instance as 'a' | 'b'
    // close() destroys its sockets: to nginx and the client, the instance died mid-stream.
    await pair[name].server!.close()
    pair[name].server = undefined
    return name
  }

  test.each(['ndjson', 'sse'] as const)(
    '%s: the client resumes on the other instance via Last-Event-ID with no loss and no duplicate',
    async (format) => {
      resumedFrom.length = 0
      const url = `${nginx.urls['pair']}/${format}?n=${COUNT}&intervalMs=40`
      const servedBy: string[] = []
      const onOpen = (response: Response) => servedBy.push(response.headers.get('x-instance') ?? '?')
      const retry = { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 5 }
      const stream =
        format === 'ndjson'
          ? ndjson<Reading>(url, { idOf: (r) => r.seq, requireEnd: true, retry, onOpen })
          : sse<Reading>(url, { json: true, retry, onOpen })
      const received: Reading[] = []
      let killed: string | undefined
      for await (const item of stream) {
        const record = format === 'ndjson' ? (item as Reading) : (item as { data: Reading }).data
        received.push(record)
        if (received.length === 4 && killed === undefined) killed = await killServingInstance(servedBy[0] ?? null)
      }
      console.log(
        `${format} failover: served by ${servedBy.join(' -> ')}, resumed with Last-Event-ID ` +
          `${resumedFrom
            .filter((r) => r.lastEventId !== undefined)
            .map((r) => r.lastEventId)
            .join(', ')}`,
      )
      expect(received).toEqual(Array.from({ length: COUNT }, (_, seq) => reading(seq)))
      expect(stream.counters.reconnects).toBeGreaterThanOrEqual(1)
      expect(servedBy.length).toBeGreaterThanOrEqual(2)
      expect(servedBy.at(-1)).not.toBe(killed)
      // The surviving instance was asked to resume from a position, not from the start.
      const resumed = resumedFrom.filter((r) => r.instance !== killed && r.lastEventId !== undefined)
      expect(resumed.length).toBeGreaterThanOrEqual(1)
      expect(Number(resumed[0]!.lastEventId)).toBeGreaterThanOrEqual(3)
      await startInstance(killed as 'a' | 'b') // back in the pool for the next test
    },
  )

  test('a health check on a non-streaming endpoint answers through the proxy', async () => {
    const response = await fetch(`${nginx.urls['pair']}/health`)
    expect(await response.text()).toBe('ok')
  })
})

describe('heartbeats through nginx', () => {
  test('keep an idle stream open past proxy_read_timeout, which cuts the same stream without them', async () => {
    // Two records two seconds apart, behind a 1 s proxy_read_timeout.
    const url = (heartbeatMs: number) =>
      `${nginx.urls['short-timeout']}/ndjson?n=2&intervalMs=2000&heartbeatMs=${heartbeatMs}`
    const read = async (heartbeatMs: number) => {
      const seqs: number[] = []
      try {
        for await (const r of decodeNdjson<Reading>(await fetch(url(heartbeatMs)), { requireEnd: true }))
          seqs.push(r.seq)
        return { seqs, error: undefined }
      } catch (error) {
        return { seqs, error }
      }
    }
    const [withBeats, without] = await Promise.all([read(300), read(0)])
    console.log(
      `proxy_read_timeout 1s, 2 s idle: with heartbeats every 300 ms got ${JSON.stringify(withBeats.seqs)} and the end marker; ` +
        `without heartbeats got ${JSON.stringify(without.seqs)}, then ${String(without.error)}`,
    )
    expect(withBeats).toEqual({ seqs: [0, 1], error: undefined })
    expect(without.seqs).toEqual([0])
    expect(without.error).toBeDefined()
    expect(nginx.log()).toMatch(/upstream timed out/)
  })
})

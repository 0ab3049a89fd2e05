import { expect, test } from 'vitest'
import { z } from 'zod'
import { ndjson, sse } from '../../src/index.js'
import { seededInts } from '../support/arbitraries.js'
import { bodyFor, type ChaosServer, type Fault, type Format, startChaosServer } from '../support/chaos-server.js'
import { activeResources, recordFigure, retainedHeapMiB } from '../support/figures.js'

const targetFaults = Number(process.env.SLUICE_SOAK_FAULTS ?? 2000)
const total = 20
const fast = { initialDelayMs: 1, maxDelayMs: 2, minDelayMs: 0, maxAttempts: 50 }
const Record = z.object({ seq: z.number(), name: z.string(), text: z.string(), tags: z.array(z.unknown()) })

const tick = () => new Promise((resolve) => setTimeout(resolve, 10))

/** Waits (bounded) for `done`; returns whether it came true. */
async function eventually(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !done(); i++) await tick()
  return done()
}

/** One stream of `total` records through `server`, as ndjson() or sse(), half of them validated. */
function open(format: Format, server: ChaosServer, validated: boolean): AsyncIterable<number> {
  const idOf = (m: { seq: number }) => m.seq
  const records: AsyncIterable<{ seq: number } | { data: { seq: number } }> =
    format === 'ndjson'
      ? validated
        ? ndjson(server.url, { schema: Record, idOf, requireEnd: true, retry: fast })
        : ndjson<{ seq: number }>(server.url, { idOf, requireEnd: true, retry: fast })
      : validated
        ? sse(server.url, { schema: Record, retry: fast })
        : sse<{ seq: number }>(server.url, { json: true, retry: fast })
  return {
    async *[Symbol.asyncIterator]() {
      for await (const item of records) yield 'data' in item ? item.data.seq : item.seq
    },
  }
}

test(`${targetFaults} random disconnects: exactly once, in order, flat heap, nothing leaked`, async () => {
  const startedAt = performance.now()
  const baseline = activeResources()
  const sizes = {
    ndjson: Buffer.byteLength(await bodyFor('ndjson', 0, total)),
    sse: Buffer.byteLength(await bodyFor('sse', 0, total)),
  }
  const next = seededInts(42, 20_000)
  // One server per format and replay style for the whole run (keeping no request log, so the heap
  // measures the client): each new origin costs the runtime's fetch a connection pool it keeps.
  let plan: Fault[] = []
  let base = 0
  const servers: ChaosServer[] = []
  for (const format of ['ndjson', 'sse'] as const) {
    for (const inclusive of [false, true]) {
      servers.push(
        await startChaosServer({
          format,
          total,
          inclusive,
          keepLog: false,
          plan: (n) => plan[n - base] ?? { kind: 'ok' },
        }),
      )
    }
  }
  const formatOf = (i: number): Format => (i < 2 ? 'ndjson' : 'sse')
  let faults = 0
  let streams = 0
  let records = 0
  let lost = 0
  let duplicated = 0
  let leftInFlight = 0
  const heap: number[] = []
  const warmUp = 40 // JIT, connection pools and zod's caches settle before the first sample
  while (faults < targetFaults || streams <= warmUp) {
    const which = streams % servers.length
    const server = servers[which]!
    const format = formatOf(which)
    base = server.served()
    plan = Array.from({ length: 10 }, (): Fault => {
      const kind = next(8)
      if (kind === 0) return { kind: 'status', status: 503, retryAfter: '0' }
      if (kind === 1) return { kind: 'status', status: 429 }
      return { kind: kind % 2 ? 'cut' : 'end-early', atByte: next(sizes[format]) }
    })
    // The slow consumer: a macrotask per record, so the network runs ahead of it.
    const slow = streams % 10 === 5
    const got: number[] = []
    for await (const seq of open(format, server, streams % 4 < 2)) {
      got.push(seq)
      if (slow) await new Promise((resolve) => setTimeout(resolve, 1))
    }
    const injected = server.served() - base - 1
    if (streams >= warmUp) faults += injected
    streams++
    records += got.length
    const seen = new Set(got)
    duplicated += got.length - seen.size
    lost += total - seen.size
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i))
    // Every request the stream made is over at the server: none left hanging by the client.
    if (!(await eventually(() => server.inFlight() === 0))) leftInFlight += server.inFlight()
    if (streams === warmUp || (streams > warmUp && streams % 25 === 0)) heap.push(retainedHeapMiB())
  }
  heap.push(retainedHeapMiB())
  // Timers: the client's are gone once its streams end. Sockets: once the servers close theirs.
  await eventually(() => activeResources().timers <= baseline.timers)
  const timersLeft = activeResources().timers
  for (const server of servers) await server.close()
  await eventually(() => activeResources().sockets <= baseline.sockets)
  const socketsLeft = activeResources().sockets
  const first = heap[0]!
  const last = heap.at(-1)!
  const peak = Math.max(...heap)
  const half = heap.slice(Math.floor(heap.length / 2))
  console.log(`soak heap after GC (MiB), every 25 streams: ${heap.map((h) => h.toFixed(1)).join(' ')}`)
  expect(lost).toBe(0)
  expect(duplicated).toBe(0)
  expect(leftInFlight).toBe(0)
  // Flat: the end is within a little of the start, and the second half does not keep climbing.
  expect(last - first).toBeLessThan(4)
  expect(Math.max(...half) - Math.min(...half)).toBeLessThan(4)
  expect(timersLeft).toBeLessThanOrEqual(baseline.timers)
  expect(socketsLeft).toBeLessThanOrEqual(baseline.sockets)
  const seconds = (performance.now() - startedAt) / 1000
  recordFigure({
    scenario:
      'soak: random disconnects (cut, early end, 503, 429) over NDJSON and SSE, exclusive and inclusive replay, zod on half, slow consumer on 1 stream in 10',
    cases: streams,
    faults,
    records,
    lost,
    duplicated,
    peakMiB: +(peak - first).toFixed(1),
    detail: `heap after GC ${first.toFixed(1)} → peak ${peak.toFixed(1)} → ${last.toFixed(1)} MiB (${heap.length} samples); active timers ${baseline.timers} → ${timersLeft}, sockets ${baseline.sockets} → ${socketsLeft}; requests left open by the client ${leftInFlight}; ${seconds.toFixed(0)} s`,
  })
}, 300_000)

import { expect, test } from 'vitest'
import { ndjson, sse } from '../../src/index.js'
import { seededInts } from '../support/arbitraries.js'
import { bodyFor, type Fault, type Format, startChaosServer } from '../support/chaos-server.js'
import { activeResources, recordFigure, rssMiB } from '../support/figures.js'

const streams = Number(process.env.SLUICE_CONCURRENT_STREAMS ?? 200)
const total = 30
const retry = { initialDelayMs: 1, maxDelayMs: 20, minDelayMs: 0, maxAttempts: 50 }

test(`${streams} concurrent streams under random faults: each exactly once and in order, nothing left`, async () => {
  const baseline = activeResources()
  const sizes = {
    ndjson: Buffer.byteLength(await bodyFor('ndjson', 0, total)),
    sse: Buffer.byteLength(await bodyFor('sse', 0, total)),
  }
  // A fault per request, drawn from a seeded sequence: a cut or an early end at a random byte, or a 503.
  const next = seededInts(8, 10_000)
  const plan =
    (format: Format) =>
    (request: number): Fault => {
      // Four requests in five fail (requests of all streams interleave), so most streams meet several faults.
      if (request % 5 === 4) return { kind: 'ok' }
      const roll = next(5)
      if (roll === 0) return { kind: 'status', status: 503, retryAfter: '0' }
      return { kind: roll % 2 ? 'cut' : 'end-early', atByte: next(sizes[format]) }
    }
  const servers = {
    ndjson: await startChaosServer({ format: 'ndjson', total, plan: plan('ndjson'), keepLog: false }),
    sse: await startChaosServer({ format: 'sse', total, plan: plan('sse'), keepLog: false }),
  }
  const started = performance.now()
  const rssBefore = rssMiB()
  let rssPeak = 0
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB() - rssBefore)), 20)
  try {
    const results = await Promise.all(
      Array.from({ length: streams }, async (_, i) => {
        const format: Format = i % 2 === 0 ? 'ndjson' : 'sse'
        const got: number[] = []
        if (format === 'ndjson') {
          for await (const r of ndjson<{ seq: number }>(servers.ndjson.url, {
            idOf: (m) => m.seq,
            requireEnd: true,
            retry,
          }))
            got.push(r.seq)
        } else {
          for await (const e of sse<{ seq: number }>(servers.sse.url, { json: true, retry })) got.push(e.data.seq)
        }
        return got
      }),
    )
    const ms = performance.now() - started
    clearInterval(sampler)
    const expected = Array.from({ length: total }, (_, i) => i)
    let lost = 0
    let duplicated = 0
    for (const got of results) {
      lost += expected.filter((seq) => !got.includes(seq)).length
      duplicated += got.length - new Set(got).size
    }
    const requests = servers.ndjson.served() + servers.sse.served()
    const faults = requests - streams // every request beyond each stream's first followed a fault
    for (const got of results) expect(got).toEqual(expected)
    expect(lost).toBe(0)
    expect(duplicated).toBe(0)
    expect(faults).toBeGreaterThanOrEqual(streams)
    await servers.ndjson.close()
    await servers.sse.close()
    for (let i = 0; i < 100 && activeResources().sockets > baseline.sockets; i++)
      await new Promise((resolve) => setTimeout(resolve, 10))
    const after = activeResources()
    expect(after.timers).toBeLessThanOrEqual(baseline.timers)
    expect(after.sockets).toBeLessThanOrEqual(baseline.sockets)
    recordFigure({
      scenario: `concurrent: ${streams} streams at once (half NDJSON, half SSE) under random cuts, early ends and 503s`,
      cases: streams,
      faults,
      records: results.reduce((n, got) => n + got.length, 0),
      lost,
      duplicated,
      peakMiB: +rssPeak.toFixed(1),
      detail: `all done in ${Math.round(ms)} ms over ${requests} requests; timers ${baseline.timers} → ${after.timers}, sockets ${baseline.sockets} → ${after.sockets}; peak is RSS growth`,
    })
  } finally {
    clearInterval(sampler)
    await servers.ndjson.close()
    await servers.sse.close()
  }
})

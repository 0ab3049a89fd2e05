/**
 * The README's integration recipes, each over a loopback sluice-server: TanStack Query's
 * `streamedQuery` over `ndjson()`, and RxJS `from(stream)`.
 */
import { QueryClient, experimental_streamedQuery as streamedQuery } from '@tanstack/query-core'
import { from, lastValueFrom, take, toArray } from 'rxjs'
import { describe, expect, expectTypeOf, onTestFinished, test } from 'vitest'
import { z } from 'zod'
import { ndjson } from '../src/index.js'
import { lastEventId, ndjsonResponse } from '../../sluice-server/src/index.js'
import { serve } from '../../sluice-server/src/node.js'

const Metric = z.object({ seq: z.number(), rps: z.number() })
type Metric = z.infer<typeof Metric>

/** Metrics `from` the resume position to `total`; `endless`: never ends (the client leaves). */
async function metricsServer(total: number, endless = false) {
  let open = 0
  const server = await serve((request) => {
    const from = Number(lastEventId(request) ?? -1) + 1
    async function* metrics() {
      open++
      try {
        for (let seq = from; endless || seq < total; seq++) yield { seq, rps: 100 + seq }
      } finally {
        open--
      }
    }
    return ndjsonResponse(metrics(), { heartbeatMs: 0 })
  })
  onTestFinished(() => server.close())
  return { url: `${server.url}/api/metrics`, open: () => open }
}

describe('TanStack Query streamedQuery over ndjson()', () => {
  test('the query data grows record by record and is every record once the stream ends', async () => {
    const { url } = await metricsServer(5)
    const client = new QueryClient()
    const sizes: number[] = []
    const unsubscribe = client.getQueryCache().subscribe((event) => {
      const data = event.query.state.data as Metric[] | undefined
      if (event.type === 'updated' && data) sizes.push(data.length)
    })
    const data = await client.fetchQuery({
      queryKey: ['metrics'],
      queryFn: streamedQuery({
        streamFn: ({ signal }) => ndjson(url, { schema: Metric, idOf: (m) => m.seq, signal }),
      }),
    })
    unsubscribe()
    expectTypeOf(data).toEqualTypeOf<Metric[]>()
    expect(data.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4])
    expect(sizes.at(-1)).toBe(5)
    expect(new Set(sizes).size).toBeGreaterThan(1)
  })

  test('cancelling the query aborts the signal, which closes the stream and releases the server source', async () => {
    const server = await metricsServer(0, true)
    const client = new QueryClient()
    let seen = 0
    const fetching = client.fetchQuery({
      queryKey: ['endless'],
      queryFn: streamedQuery({
        streamFn: ({ signal }) => ndjson(server.url, { schema: Metric, idOf: (m) => m.seq, signal }),
        reducer: (count: number) => {
          if (++seen === 3) void client.cancelQueries({ queryKey: ['endless'] })
          return count + 1
        },
        initialValue: 0,
      }),
    })
    await fetching.catch(() => undefined)
    await expect.poll(server.open).toBe(0)
    expect(seen).toBeGreaterThanOrEqual(3)
  })
})

describe('RxJS from(stream)', () => {
  test('an ndjson() stream is an observable of its records', async () => {
    const { url } = await metricsServer(4)
    const records = await lastValueFrom(from(ndjson(url, { schema: Metric, idOf: (m) => m.seq })).pipe(toArray()))
    expectTypeOf(records).toEqualTypeOf<Metric[]>()
    expect(records.map((m) => m.seq)).toEqual([0, 1, 2, 3])
  })

  test('unsubscribing (take) ends the stream and releases the server source', async () => {
    const server = await metricsServer(0, true)
    const stream = ndjson(server.url, { schema: Metric, idOf: (m) => m.seq })
    const first = await lastValueFrom(from(stream).pipe(take(3), toArray()))
    expect(first.map((m) => m.seq)).toEqual([0, 1, 2])
    await expect.poll(() => stream.state).toBe('closed')
    await expect.poll(server.open).toBe(0)
  })
})

/**
 * The README's integration recipes, each over a loopback sluice-server: TanStack Query's
 * `streamedQuery` over `ndjson()`, RxJS `from(stream)`, and a generation started by a POST and resumed by
 * GETs (an agent-style run).
 */
import { QueryClient, experimental_streamedQuery as streamedQuery } from '@tanstack/query-core'
import { from, lastValueFrom, take, toArray } from 'rxjs'
import { lastEventId, ndjsonResponse } from 'sluice-server'
import { describe, expect, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import { ndjson, sse } from '../src/index.js'
import { agentStyleServer, signal } from './support/llm-servers.js'
import { serveForTest } from './support/loopback.js'

const Metric = z.object({ seq: z.number(), rps: z.number() })
type Metric = z.infer<typeof Metric>

/** Metrics `from` the resume position to `total`; `endless`: never ends (the client leaves). */
async function metricsServer(total: number, endless = false) {
  let open = 0
  const server = await serveForTest((request) => {
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

describe('a resumable generation: POST to start, GET to resume', () => {
  const Event = z.discriminatedUnion('type', [
    z.object({ type: z.literal('run_started'), run: z.string() }),
    z.object({ type: z.literal('step'), name: z.string(), input: z.string() }),
    z.object({ type: z.literal('message_delta'), text: z.string() }),
    z.object({ type: z.literal('run_completed'), usage: z.object({ tokens: z.number() }) }),
  ])

  test('cut mid-stream, the stream resumes through a GET of the run with the offset: no event lost or repeated', async () => {
    const delivered = signal()
    const server = await agentStyleServer({ words: 10, cutAfter: 4, cutWhen: delivered.promise })
    let run: string | undefined
    const stream = sse(`${server.url}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'weather', input: 'Paris?' }),
      schema: Event,
      onOpen: (response) => (run ??= response.headers.get('location') ?? undefined),
      // The POST is never re-sent: every reconnect GETs the run from the last offset delivered.
      resume: (lastEventId) => `${server.url}${run}?offset=${lastEventId}`,
      retry: { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 },
    })
    let text = ''
    const ids: string[] = []
    for await (const { data, id } of stream) {
      ids.push(id!)
      if (id === '4') delivered.resolve()
      if (data.type === 'message_delta') {
        expectTypeOf(data).toEqualTypeOf<{ type: 'message_delta'; text: string }>()
        text += data.text
      }
    }
    expect(text).toBe(server.text)
    expect(ids).toEqual(Array.from({ length: 13 }, (_, i) => String(i)))
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/runs', 'GET /v1/runs/run_1/stream'])
    expect(server.requests[1]!.lastEventId).toBe('4')
  })
})

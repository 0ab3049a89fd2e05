/**
 * The demo API, built with sluice-server: live service metrics published into a feed and served as
 * NDJSON and as SSE with `feedResponse` (history first, then the live tail; resumable from
 * `Last-Event-ID` on any instance that shares the feed), with faults the page can inject.
 *
 * - `GET /api/metrics.ndjson?client=ID`, `GET /api/metrics.sse?client=ID`: the feed `metrics`
 * - `POST /api/faults/{cut|stall|malformed|invalid|truncate|restart|slow}`: inject a fault
 * - `GET /api/rate`, `POST /api/rate?perSecond=N`: records per second (1 to 200)
 * - `GET /api/debug/sent?client=ID`: the distinct ids fully handed to each client's streams
 * - `GET /api/health`: a non-streaming endpoint for load balancers
 * - `GET /api/query.ndjson?rows=N`: a generated table streamed row by row (the query page, api/query.ts)
 *
 * Every response names the instance that served it in the `sluice-instance` header.
 */
import { type Feed, feedResponse } from 'sluice-server'
import { cutAll, FAULTS, type FaultKind, FaultStream, injectFault } from './faults.js'
import { METRICS, publishMetrics, type Turn } from './publisher.js'
import { queryStream } from './query.js'
import type { SentIds } from './sent.js'

/** The response header naming the instance that served a response. */
const INSTANCE_HEADER = 'sluice-instance'

/** Options of {@link demoApi}. */
export interface DemoApiOptions {
  /** Where the samples are published and read from: memoryFeed alone, redisFeed in the cluster. */
  feed: Feed
  /** This instance's name, sent in every response's `sluice-instance` header. */
  instance: string
  /** Whose turn it is to publish (see publisher.ts). */
  turn: Turn
  sent: SentIds
  /** Records per second at start. Default 8. */
  perSecond?: number
  /** The series' start (ms since the epoch), shared by every instance of a cluster. Default now. */
  startedAt?: number
}

/** The demo API: a fetch handler, and `close` to stop its publisher. */
export interface DemoApi {
  handle(request: Request): Promise<Response>
  close(): void
}

function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })
}

/** A record's id in the bytes on the wire (a chunk is one record today; matchAll keeps it right if that changes). */
const SEQ = /"seq":(\d+)/g

/** Starts the publisher and returns the API that serves what it publishes. */
export function demoApi(options: DemoApiOptions): DemoApi {
  const { feed, instance, sent } = options
  let perSecond = options.perSecond ?? 8
  let slowUntil = 0
  let restartingUntil = 0
  const stop = new AbortController()
  const wake = publishMetrics(feed, {
    rate: () => (Date.now() < slowUntil ? 0.5 : perSecond),
    startedAt: options.startedAt ?? Date.now(),
    turn: options.turn,
    signal: stop.signal,
    onError: (error) => console.error(`${instance}: cannot publish:`, error instanceof Error ? error.message : error),
  })

  async function stream(request: Request, format: 'ndjson' | 'sse'): Promise<Response> {
    const client = new URL(request.url).searchParams.get('client') ?? 'anonymous'
    // History, then the live tail; the caught-up marker between them tells the page it is live.
    const produced = await feedResponse(feed, METRICS, request, {
      format,
      heartbeatMs: 1000,
      ...(format === 'sse' ? { retryMs: 500 } : {}),
    })
    if (produced.status !== 200 || produced.body === null) return produced // the store is unreachable: 503, Retry-After
    const decoder = new TextDecoder()
    const faults = new FaultStream(
      format,
      (seqs) => sent.add(client, seqs),
      (chunk) => Array.from(decoder.decode(chunk).matchAll(SEQ), (match) => Number(match[1])),
    )
    // A client gone (its idle timeout after a stall, a closed tab) ends a stream held by a fault at once.
    request.signal.addEventListener('abort', () => faults.kill('fault: client went away'), { once: true })
    return new Response(produced.body.pipeThrough(faults.stream), {
      status: produced.status,
      headers: produced.headers,
    })
  }

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const path = url.pathname
    if (Date.now() < restartingUntil && path.startsWith('/api/metrics')) {
      return json({ error: 'restarting' }, 503, { 'retry-after': '1' })
    }
    if (request.method === 'GET' && path === '/api/metrics.ndjson') return stream(request, 'ndjson')
    if (request.method === 'GET' && path === '/api/metrics.sse') return stream(request, 'sse')
    if (request.method === 'GET' && path === '/api/health') return json({ ok: true })
    if (request.method === 'GET' && path === '/api/query.ndjson') return queryStream(request) // the query page
    if (request.method === 'GET' && path === '/api/debug/sent') {
      return json({ ids: await sent.ids(url.searchParams.get('client') ?? '') })
    }
    if (request.method === 'GET' && path === '/api/rate') return json({ perSecond })
    if (request.method === 'POST' && path === '/api/rate') {
      const value = Number(url.searchParams.get('perSecond'))
      if (!(value >= 1 && value <= 200)) return json({ error: 'perSecond must be 1 to 200' }, 400)
      perSecond = value
      wake()
      return json({ perSecond })
    }
    const fault = /^\/api\/faults\/([a-z]+)$/.exec(path)?.[1]
    if (request.method === 'POST' && fault !== undefined) {
      if (fault === 'restart') {
        // A simulated restart: every open stream dies at once, and for a second the API answers 503.
        restartingUntil = Date.now() + 1500
        cutAll()
        return json({ fault, downMs: 1500 })
      }
      if (fault === 'slow') {
        slowUntil = Date.now() + 4000
        return json({ fault, untilMs: 4000 })
      }
      if ((FAULTS as readonly string[]).includes(fault)) {
        return json({ fault, streams: injectFault(fault as FaultKind) })
      }
    }
    return json({ error: 'not found' }, 404)
  }

  return {
    async handle(request) {
      const response = await route(request)
      response.headers.set(INSTANCE_HEADER, instance)
      return response
    },
    close: () => stop.abort(),
  }
}

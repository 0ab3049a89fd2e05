/**
 * The demo API, built with sluice-server: live service metrics as NDJSON and as SSE, resumable
 * from `Last-Event-ID`, with faults the page can inject.
 *
 * - `GET /api/metrics.ndjson?client=ID`, `GET /api/metrics.sse?client=ID`: the live series
 * - `POST /api/faults/{cut|stall|malformed|invalid|truncate|restart|slow}`: inject a fault
 * - `GET /api/rate`, `POST /api/rate?perSecond=N`: records per second (1 to 200)
 * - `GET /api/debug/sent?client=ID`: the distinct ids fully handed to each client's streams
 * - `GET /api/health`: a non-streaming endpoint for load balancers
 * - `GET /api/query.ndjson?rows=N`: a generated table streamed row by row (the query page, api/query.ts)
 */
import { lastEventId, ndjsonResponse, sseResponse } from 'sluice-server'
import { metricAt } from '../src/metric.js'
import { cutAll, FAULTS, type FaultKind, FaultStream, injectFault } from './faults.js'
import { queryStream } from './query.js'

const startedAt = Date.now()
let perSecond = 8
let slowUntil = 0
let restartingUntil = 0
/** Ids each client was sent (distinct), for the end-to-end tests' "no gap, no duplicate" check. */
const sent = new Map<string, Set<number>>()
/** Clients remembered in `sent`: the oldest is forgotten past this, so a long-running demo stays bounded. */
const MAX_CLIENTS = 64

function currentRate(): number {
  return Date.now() < slowUntil ? 0.5 : perSecond
}

/** The series from `from` on, paced at the current rate; ends when the client goes away. */
async function* series(from: number, signal: AbortSignal) {
  for (let seq = from; !signal.aborted; seq++) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, 1000 / currentRate())
      signal.addEventListener('abort', done, { once: true })
    })
    if (signal.aborted) return
    yield metricAt(seq, startedAt)
  }
}

function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })
}

/** A record's id in the bytes on the wire (a chunk is one record today; matchAll keeps it right if that changes). */
const SEQ = /"seq":(\d+)/g

function stream(request: Request, format: 'ndjson' | 'sse'): Response {
  const url = new URL(request.url)
  const client = url.searchParams.get('client') ?? 'anonymous'
  const last = lastEventId(request)
  const from = last === undefined || !/^\d+$/.test(last) ? 0 : Number(last) + 1
  const ids = sent.get(client) ?? new Set<number>()
  // Re-inserted, so the Map's order is least recently streamed first.
  sent.delete(client)
  sent.set(client, ids)
  if (sent.size > MAX_CLIENTS) sent.delete(sent.keys().next().value!)
  const source = series(from, request.signal)
  const produced =
    format === 'ndjson'
      ? ndjsonResponse(source, { heartbeatMs: 1000, idOf: (m) => m.seq })
      : sseResponse(source, { heartbeatMs: 1000, idOf: (m) => m.seq, retryMs: 500 })
  const decoder = new TextDecoder()
  const faults = new FaultStream(
    format,
    (seqs) => {
      for (const seq of seqs) ids.add(seq)
    },
    (chunk) => Array.from(decoder.decode(chunk).matchAll(SEQ), (match) => Number(match[1])),
  )
  // A client gone (its idle timeout after a stall, a closed tab) ends a stream held by a fault at once.
  request.signal.addEventListener('abort', () => faults.kill(), { once: true })
  return new Response(produced.body!.pipeThrough(faults.stream), { headers: produced.headers })
}

/** The demo API as a fetch handler. */
export async function api(request: Request): Promise<Response> {
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
    const ids = [...(sent.get(url.searchParams.get('client') ?? '') ?? [])].sort((a, b) => a - b)
    return json({ ids })
  }
  if (request.method === 'GET' && path === '/api/rate') return json({ perSecond })
  if (request.method === 'POST' && path === '/api/rate') {
    const value = Number(url.searchParams.get('perSecond'))
    if (!(value >= 1 && value <= 200)) return json({ error: 'perSecond must be 1 to 200' }, 400)
    perSecond = value
    return json({ perSecond })
  }
  const fault = /^\/api\/faults\/([a-z]+)$/.exec(path)?.[1]
  if (request.method === 'POST' && fault !== undefined) {
    if (fault === 'restart') {
      // A restart: every open stream dies at once, and for a second the API answers 503.
      restartingUntil = Date.now() + 1500
      cutAll()
      return json({ fault, downMs: 1500 })
    }
    if (fault === 'slow') {
      slowUntil = Date.now() + 4000
      return json({ fault, untilMs: 4000 })
    }
    if ((FAULTS as readonly string[]).includes(fault)) return json({ fault, streams: injectFault(fault as FaultKind) })
  }
  return json({ error: 'not found' }, 404)
}

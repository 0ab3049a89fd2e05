/**
 * The app the nginx tests put behind the proxy: a stateless API over a shared deterministic source
 * (record n is a pure function of n), honouring Last-Event-ID, as several instances behind one
 * upstream would be.
 */
import { lastEventId, ndjsonResponse, sseResponse } from '../../src/index.js'
import type { FetchHandler } from '../../src/node.js'

export interface Reading {
  seq: number
  value: number
}

/** Record `seq` of the shared source: the same on every instance. */
export function reading(seq: number): Reading {
  return { seq, value: (seq * 7919) % 1000 }
}

/** Resolves after `ms`, or at once when `signal` aborts (the client left). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}

/** Readings `from` .. `count - 1`, the first at once and then one every `intervalMs`. */
async function* readings(
  from: number,
  count: number,
  intervalMs: number,
  signal: AbortSignal,
): AsyncGenerator<Reading> {
  for (let seq = from; seq < count && !signal.aborted; seq++) {
    if (seq > from) await pause(intervalMs, signal)
    if (signal.aborted) return
    yield reading(seq)
  }
}

export interface AppOptions {
  /** Named in the `X-Instance` response header, so a test knows which instance serves a stream. */
  instance: string
  /** Sees the Last-Event-ID of every stream request. */
  onRequest?: (path: string, lastEventId: string | undefined) => void
}

/**
 * Routes: `/health` (not streaming, for health checks), `/ndjson` and `/sse` with query `n`
 * (records), `intervalMs`, `heartbeatMs` (0: off), and `strip=1` to remove `X-Accel-Buffering`
 * (a producer without sluice-server's headers).
 */
export function app(options: AppOptions): FetchHandler {
  return (request) => {
    const url = new URL(request.url)
    if (url.pathname === '/health') return new Response('ok')
    const count = Number(url.searchParams.get('n') ?? 5)
    const intervalMs = Number(url.searchParams.get('intervalMs') ?? 250)
    const resumeFrom = lastEventId(request)
    options.onRequest?.(url.pathname, resumeFrom)
    const from = resumeFrom === undefined ? 0 : Number(resumeFrom) + 1
    const source = readings(from, count, intervalMs, request.signal)
    const headers = { 'X-Instance': options.instance }
    const heartbeatMs = Number(url.searchParams.get('heartbeatMs') ?? 15_000)
    const common = { headers, heartbeatMs, idOf: (r: Reading) => r.seq }
    let response: Response
    if (url.pathname === '/ndjson') response = ndjsonResponse(source, common)
    else if (url.pathname === '/sse') response = sseResponse(source, common)
    else return new Response('not found', { status: 404 })
    if (url.searchParams.get('strip') === '1') {
      const stripped = new Headers(response.headers)
      stripped.delete('X-Accel-Buffering')
      response = new Response(response.body, { status: response.status, headers: stripped })
    }
    return response
  }
}

// The loopback HTTP server the portable suite fetches from (127.0.0.1 only). Every runner starts
// it in Node and hands its URL to the runtime under test: vitest through globalSetup + provide,
// Deno and Bun through the SLUICE_FIXTURE_URL environment variable.
// CORS is open so a page on another loopback origin (vitest's browser mode) can read it.
//
// Every stream is produced by sluice-server (`ndjsonResponse`, `sseResponse`, `lastEventId`),
// served through `createNodeHandler` (`serve`), as the resilience tests claim. The only bytes
// written by hand are the ones that deliberately break the protocol (half a record, marked
// "deliberately broken" below); the record bytes around them are sluice-server's own encoding.
//
// sluice-server is imported from its TypeScript source, not its dist/: nothing needs building
// first, and the fixture never runs a stale build. vitest's globalSetup loads this file through
// Vite (which resolves `sluice/protocol` to sluice's src through the portable config's alias);
// scripts/run-portable.mjs loads it through tsx's `tsImport` (`sluice/protocol` then resolves to
// sluice's dist/, which that script builds before loading it).
import {
  encodeNdjson,
  encodeSseEvent,
  lastEventId,
  ndjsonResponse,
  sseResponse,
} from '../../../sluice-server/src/index.ts'
import { serve } from '../../../sluice-server/src/node.ts'

/** Records any route streams at most, and how long an endless stream may live: every loop is bounded. */
const MAX_RECORDS = 20_000
const MAX_STREAM_MS = 20_000

/** The error a route raises to cut its own stream on purpose (the connection is destroyed); not logged. */
class DeliberateCut extends Error {
  name = 'DeliberateCut'
}

/**
 * Starts the fixture server on an ephemeral port of 127.0.0.1; with `tls` ({ key, cert }, PEM),
 * over HTTPS with HTTP/2 (HTTP/1.1 by ALPN for clients without h2). `/protocols` lists the HTTP
 * versions of the requests served so far, so a runner can tell what its client negotiated.
 * @param {{ tls?: { key: string, cert: string } }} [options]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startFixtureServer(options = {}) {
  /** Streams by the `id` a test gave them: whether the client went away (cancellation reached the network). */
  const closed = new Map()
  /** Resumable streams by the `id` a test gave them: every attempt's Last-Event-ID and outcome. */
  const attempts = new Map()
  /** HTTP versions served ('1.1', '2.0'). */
  const versions = new Set()
  const server = await serve((request) => handle(request, closed, attempts, versions), {
    hostname: '127.0.0.1',
    onError: (error) => {
      if (!(error instanceof DeliberateCut)) console.error('fixture server:', error)
    },
    ...(options.tls ? { tls: options.tls } : {}),
  })
  // Every request but the ones asking for this list: a runner asks from Node, over its own protocol.
  server.server.on('request', (req) => {
    if (!req.url?.startsWith('/protocols')) versions.add(req.httpVersion)
  })
  return { url: `${server.url}/`, close: () => server.close() }
}

const cors = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': 'GET, POST',
  'access-control-expose-headers': '*',
}
/** Headers of the responses that are not streams (streams get sluice-server's own Cache-Control). */
const plain = { ...cors, 'cache-control': 'no-store' }

/**
 * @param {Request} request
 * @param {Map<string, boolean>} closed
 * @param {Map<string, Array<{ lastEventId: string | null, step: string }>>} attempts
 * @param {Set<string>} versions
 * @returns {Promise<Response> | Response}
 */
function handle(request, closed, attempts, versions) {
  const url = new URL(request.url)
  const q = url.searchParams
  const n = Math.min(Number(q.get('n') ?? 10), MAX_RECORDS)
  const format = q.get('format') === 'sse' ? 'sse' : 'ndjson'
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: plain })
  switch (url.pathname) {
    // n records, each written in three pieces (one cut inside a multi-byte character), then the
    // end marker; a heartbeat (SSE: a comment; NDJSON: a blank line) comes first, which the
    // decoders must skip.
    case '/stream': {
      const heartbeatMs = 10
      async function* records() {
        // Idle for a few heartbeat intervals: sluice-server sends a heartbeat before the first record.
        await sleep(4 * heartbeatMs)
        for (let seq = 1; seq <= n; seq++) yield tick(seq)
      }
      return inPieces(stream(format, records(), { heartbeatMs }))
    }
    // n records, then half of one more, then a clean end: a stream a proxy cut short.
    case '/cut':
      return cutShort(format, stream(format, range(1, n), { end: false }), n + 1, 'end')
    // n records and no end marker (sluice-server's `end: false`: what a producer without it sends).
    case '/unended':
      return stream(format, range(1, n), { end: false })
    // Records until the client goes away (or the bounds above are hit), honouring backpressure
    // (sluice-server pulls a record only when the socket has room). Marks the stream closed when
    // sluice-server saw the client go away: the body was cancelled and the source released.
    case '/endless': {
      const id = q.get('id') ?? ''
      closed.set(id, false)
      async function* records() {
        const started = Date.now()
        for (let seq = 1; seq <= MAX_RECORDS && Date.now() - started < MAX_STREAM_MS; seq++) {
          yield tick(seq)
          if (seq % 64 === 0) await sleep(1)
        }
      }
      // No end marker: an endless stream never finishes; the bounds only stop one a client forgot.
      return stream(format, records(), {
        end: false,
        onClose: (summary) => {
          if (summary.reason === 'cancel' || summary.reason === 'abort') closed.set(id, true)
        },
      })
    }
    // Whether the endless stream with this id saw its client go away.
    case '/closed': {
      const id = q.get('id') ?? ''
      return Response.json({ known: closed.has(id), closed: closed.get(id) === true }, { headers: plain })
    }
    // A resumable stream of n records whose connections fail as `plan` says, one step per attempt
    // (the last step repeats): `ok` serves the rest and the end marker; `end:K` sends K records and
    // half of one more, then ends cleanly; `destroy:K` does the same, then destroys the socket;
    // `stall:K` sends K records, then nothing while keeping the connection open;
    // `status:S` or `status:S:R` answers S with Retry-After R. Serves the records after the
    // Last-Event-ID it gets (from it, inclusively, with `inclusive=1`), as sluice-server advises.
    case '/resume': {
      const id = q.get('id') ?? ''
      const log = attempts.get(id) ?? []
      attempts.set(id, log)
      const plan = (q.get('plan') ?? 'ok').split(',')
      const step = plan[Math.min(log.length, plan.length - 1)] ?? 'ok'
      const resumeFrom = lastEventId(request) ?? null
      log.push({ lastEventId: resumeFrom, step })
      const [kind, arg, retryAfter] = step.split(':')
      if (kind === 'status') {
        const headers = { ...plain, 'content-type': 'text/plain' }
        if (retryAfter !== undefined) headers['retry-after'] = retryAfter
        return new Response(`status ${arg}`, { status: Number(arg), headers })
      }
      const after = resumeFrom === null ? 0 : Number(resumeFrom)
      const from = q.get('inclusive') === '1' && resumeFrom !== null ? after : after + 1
      const last = kind === 'ok' ? n : Math.min(n, from + Number(arg) - 1)
      if (kind === 'ok') return stream(format, range(from, last)) // the end marker counts this response's records
      if (kind === 'stall') {
        // Hold the connection open, sending nothing (no heartbeat either), until the client gives
        // up on it; after 10 s, cut it (sluice-server's `signal`: the connection is destroyed).
        const giveUp = new AbortController()
        const timer = setTimeout(() => giveUp.abort(new DeliberateCut('stalled for 10 s')), 10_000)
        async function* records() {
          yield* range(from, last)
          await untilAborted(request.signal, giveUp.signal)
        }
        return stream(format, records(), { end: false, signal: giveUp.signal, onClose: () => clearTimeout(timer) })
      }
      return cutShort(
        format,
        stream(format, range(from, last), { end: false }),
        last + 1,
        kind === 'destroy' ? 'destroy' : 'end',
      )
    }
    // What each attempt of the resumable stream with this id sent and got.
    case '/log':
      return Response.json(attempts.get(q.get('id') ?? '') ?? [], { headers: plain })
    case '/protocols':
      return Response.json([...versions].sort(), { headers: plain })
    default:
      return new Response('no such fixture', { status: 404, headers: { ...plain, 'content-type': 'text/plain' } })
  }
}

/** The record with sequence number `seq`. @param {number} seq */
function tick(seq) {
  return { seq, text: `café #${seq}` }
}

/** Records `from` .. `to`. @param {number} from @param {number} to */
function* range(from, to) {
  for (let seq = from; seq <= to; seq++) yield tick(seq)
}

/**
 * A sluice-server stream of `records` (SSE: each with `id` its `seq`), CORS open, heartbeats off
 * unless `options` turns them on.
 * @param {'ndjson' | 'sse'} format
 * @param {Iterable<ReturnType<typeof tick>> | AsyncIterable<ReturnType<typeof tick>>} records
 * @param {import('../../../sluice-server/src/index.ts').StreamOptions} [options]
 */
function stream(format, records, options = {}) {
  const shared = { heartbeatMs: 0, ...options, headers: cors }
  return format === 'sse' ? sseResponse(records, { ...shared, idOf: (t) => t.seq }) : ndjsonResponse(records, shared)
}

/**
 * `response` with its body (sluice-server's, ended without its end marker) followed by half of
 * record `seq`, then ended cleanly (`end`) or, 5 ms later, with the connection destroyed (`destroy`).
 * @param {'ndjson' | 'sse'} format
 * @param {Response} response
 * @param {number} seq
 * @param {'end' | 'destroy'} how
 */
function cutShort(format, response, seq, how) {
  // Deliberately broken: half a record, as sluice-server would encode it, and no end marker.
  const record = format === 'sse' ? encodeSseEvent({ data: tick(seq), id: seq }) : encodeNdjson(tick(seq))
  const half = new TextEncoder().encode(record.slice(0, Math.floor(record.length / 2)))
  const tail = new TransformStream({
    async flush(controller) {
      controller.enqueue(half)
      if (how === 'destroy') {
        // Let the half record reach the socket, then fail the body: createNodeHandler destroys the connection.
        await sleep(5)
        controller.error(new DeliberateCut('connection destroyed mid-record'))
      }
    },
  })
  return new Response(response.body.pipeThrough(tail), { status: response.status, headers: response.headers })
}

/**
 * `response` with every chunk that holds a `é` (sluice-server writes one chunk per record) split
 * in three: up to and including the é's first byte, the next three bytes, the rest. The bytes are
 * sluice-server's; only the writes are cut, so a read can end inside a multi-byte character.
 * @param {Response} response
 */
function inPieces(response) {
  const pieces = new TransformStream({
    /** @param {Uint8Array} chunk */
    transform(chunk, controller) {
      const cut = chunk.indexOf(0xc3) + 1 // inside the é
      if (cut === 0) return controller.enqueue(chunk)
      controller.enqueue(chunk.subarray(0, cut))
      controller.enqueue(chunk.subarray(cut, cut + 3))
      controller.enqueue(chunk.subarray(cut + 3))
    },
  })
  return new Response(response.body.pipeThrough(pieces), { status: response.status, headers: response.headers })
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Resolves when any of `signals` aborts. @param {AbortSignal[]} signals */
function untilAborted(...signals) {
  return new Promise((resolve) => {
    for (const signal of signals) {
      if (signal.aborted) return resolve(undefined)
      signal.addEventListener('abort', resolve, { once: true })
    }
  })
}

// The loopback HTTP server the portable suite fetches from (node:http, 127.0.0.1 only). Every
// runner starts it in Node and hands its URL to the runtime under test: vitest through
// globalSetup + provide, Deno and Bun through the SLUICE_FIXTURE_URL environment variable.
// CORS is open so a page on another loopback origin (vitest's browser mode) can read it.
import { createServer } from 'node:http'

/** Records any route streams at most, and how long an endless stream may live: every loop is bounded. */
const MAX_RECORDS = 20_000
const MAX_STREAM_MS = 20_000

/**
 * Starts the fixture server on an ephemeral port of 127.0.0.1.
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startFixtureServer() {
  /** Streams by the `id` a test gave them: whether the client went away (cancellation reached the network). */
  const closed = new Map()
  /** Resumable streams by the `id` a test gave them: every attempt's Last-Event-ID and outcome. */
  const attempts = new Map()
  const sockets = new Set()
  const server = createServer((req, res) => {
    handle(req, res, closed, attempts).catch((error) => {
      console.error('fixture server:', error)
      res.destroy()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve(undefined))
      }),
  }
}

const cors = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': 'GET, POST',
  'access-control-expose-headers': '*',
  'cache-control': 'no-store',
}

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {Map<string, boolean>} closed
 * @param {Map<string, Array<{ lastEventId: string | null, step: string }>>} attempts
 */
async function handle(req, res, closed, attempts) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  const q = url.searchParams
  const n = Math.min(Number(q.get('n') ?? 10), MAX_RECORDS)
  const format = q.get('format') === 'sse' ? 'sse' : 'ndjson'
  if (req.method === 'OPTIONS') {
    res.writeHead(204, cors).end()
    return
  }
  switch (url.pathname) {
    // n records, each written in three pieces (one cut inside a multi-byte character), then the end marker.
    case '/stream': {
      res.writeHead(200, { ...cors, 'content-type': contentType(format) })
      if (format === 'sse') res.write(': hello\n\n')
      for (let seq = 1; seq <= n; seq++) {
        const piece = Buffer.from(encode(format, seq))
        const cut = piece.indexOf(0xc3) + 1 // inside the é
        res.write(piece.subarray(0, cut))
        res.write(piece.subarray(cut, cut + 3))
        res.write(piece.subarray(cut + 3))
        if (seq % 16 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      res.end(endMarker(format, n))
      return
    }
    // n records, then half of one more, then a clean end: a stream a proxy cut short.
    case '/cut': {
      res.writeHead(200, { ...cors, 'content-type': contentType(format) })
      for (let seq = 1; seq <= n; seq++) res.write(encode(format, seq))
      const next = encode(format, n + 1)
      res.end(next.slice(0, Math.floor(next.length / 2)))
      return
    }
    // n records and no end marker.
    case '/unended': {
      res.writeHead(200, { ...cors, 'content-type': contentType(format) })
      for (let seq = 1; seq <= n; seq++) res.write(encode(format, seq))
      res.end()
      return
    }
    // Records until the client goes away (or the bounds above are hit), honouring backpressure.
    case '/endless': {
      const id = q.get('id') ?? ''
      closed.set(id, false)
      res.on('close', () => closed.set(id, true))
      res.writeHead(200, { ...cors, 'content-type': contentType(format) })
      const started = Date.now()
      for (let seq = 1; seq <= MAX_RECORDS && !res.destroyed && Date.now() - started < MAX_STREAM_MS; seq++) {
        if (!res.write(encode(format, seq))) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve))
        if (seq % 64 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      }
      res.end()
      return
    }
    // Whether the endless stream with this id saw its client go away.
    case '/closed': {
      res.writeHead(200, { ...cors, 'content-type': 'application/json' })
      res.end(JSON.stringify({ known: closed.has(q.get('id') ?? ''), closed: closed.get(q.get('id') ?? '') === true }))
      return
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
      const header = req.headers['last-event-id']
      const lastEventId = typeof header === 'string' ? header : null
      log.push({ lastEventId, step })
      const [kind, arg, retryAfter] = step.split(':')
      if (kind === 'status') {
        const headers = { ...cors, 'content-type': 'text/plain' }
        if (retryAfter !== undefined) headers['retry-after'] = retryAfter
        res.writeHead(Number(arg), headers).end(`status ${arg}`)
        return
      }
      const after = lastEventId === null ? 0 : Number(lastEventId)
      const from = q.get('inclusive') === '1' && lastEventId !== null ? after : after + 1
      const last = kind === 'ok' ? n : Math.min(n, from + Number(arg) - 1)
      res.writeHead(200, { ...cors, 'content-type': contentType(format) })
      for (let seq = from; seq <= last; seq++) res.write(encode(format, seq))
      if (kind === 'ok') {
        res.end(endMarker(format, last - from + 1))
        return
      }
      if (kind === 'stall') {
        // Hold the connection open, sending nothing, until the client gives up on it (at most 10 s).
        const timer = setTimeout(() => res.destroy(), 10_000)
        res.on('close', () => clearTimeout(timer))
        return
      }
      const next = encode(format, last + 1)
      res.write(next.slice(0, Math.floor(next.length / 2)))
      if (kind === 'destroy') setTimeout(() => res.destroy(), 5)
      else res.end()
      return
    }
    // What each attempt of the resumable stream with this id sent and got.
    case '/log': {
      res.writeHead(200, { ...cors, 'content-type': 'application/json' })
      res.end(JSON.stringify(attempts.get(q.get('id') ?? '') ?? []))
      return
    }
    default:
      res.writeHead(404, { ...cors, 'content-type': 'text/plain' }).end('no such fixture')
  }
}

/** @param {'ndjson' | 'sse'} format */
function contentType(format) {
  return format === 'sse' ? 'text/event-stream' : 'application/x-ndjson'
}

/** The record with sequence number `seq`, in the given format. @param {'ndjson' | 'sse'} format @param {number} seq */
function encode(format, seq) {
  const json = JSON.stringify({ seq, text: `café #${seq}` })
  return format === 'sse' ? `id: ${seq}\ndata: ${json}\n\n` : `${json}\n`
}

/** @param {'ndjson' | 'sse'} format @param {number} count */
function endMarker(format, count) {
  return format === 'sse' ? `event: end\ndata: {"count":${count}}\n\n` : `{"$sluice":"end","count":${count}}\n`
}

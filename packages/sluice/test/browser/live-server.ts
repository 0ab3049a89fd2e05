/**
 * The loopback server of the live UI suites (127.0.0.1 only): an endless NDJSON series paced at a rate,
 * resumed from Last-Event-ID, that counts its streaming connections and the distinct ids it wrote.
 * Optionally serves a page and its script, so several tabs of one origin share it.
 *
 * - `GET /stream?rate=N&count=M`: records `{"seq":n}` from Last-Event-ID + 1 (else 0), N a second, M at most
 * - `GET /stats`: `{ open, total, sent }`: streaming connections open now, made so far, ids written (sorted)
 * - `POST /pause`, `POST /resume`: hold every stream's next record (connections stay open)
 * - `GET /`: `page` (HTML), `GET /page.js`: `script`
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/** Every stream ends after this long, whatever the test does: loops are bounded. */
const MAX_STREAM_MS = 60_000
const TICK_MS = 10

export interface LiveServer {
  url: string
  stats(): { open: number; total: number; sent: number[] }
  close(): Promise<void>
}

export async function startLiveServer(options: { page?: string; script?: string } = {}): Promise<LiveServer> {
  let open = 0
  let total = 0
  let paused = false
  const sent = new Set<number>()
  const sockets = new Set<Socket>()

  // Open CORS: vitest's browser-mode page is another loopback origin.
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-headers': '*',
    'access-control-allow-methods': 'GET, POST',
    'access-control-expose-headers': '*',
  }

  function stream(request: IncomingMessage, response: ServerResponse, url: URL) {
    const rate = Math.min(10_000, Math.max(1, Number(url.searchParams.get('rate') ?? 50)))
    const count = Math.min(1_000_000, Number(url.searchParams.get('count') ?? 1_000_000))
    const last = request.headers['last-event-id']
    let seq = typeof last === 'string' && /^\d+$/.test(last) ? Number(last) + 1 : 0
    const end = seq + count
    open++
    total++
    response.writeHead(200, { ...cors, 'content-type': 'application/x-ndjson' })
    response.flushHeaders()
    let due = 0
    const started = Date.now()
    const timer = setInterval(() => {
      if (Date.now() - started > MAX_STREAM_MS || seq >= end) {
        response.end()
        return stop()
      }
      if (paused) return
      due += (rate * TICK_MS) / 1000
      let body = ''
      for (; due >= 1 && seq < end; due--, seq++) {
        body += `{"seq":${seq}}\n`
        sent.add(seq)
      }
      if (body) response.write(body)
    }, TICK_MS)
    const stop = () => {
      clearInterval(timer)
    }
    response.on('close', () => {
      stop()
      open--
    })
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (process.env['LIVE_SERVER_LOG']) console.log(request.method, request.url)
    if (request.method === 'OPTIONS') return response.writeHead(204, cors).end()
    if (url.pathname === '/stream') return stream(request, response, url)
    if (url.pathname === '/stats') {
      const body = JSON.stringify({ open, total, sent: [...sent].sort((a, b) => a - b) })
      return response.writeHead(200, { ...cors, 'content-type': 'application/json' }).end(body)
    }
    if (url.pathname === '/pause' || url.pathname === '/resume') {
      paused = url.pathname === '/pause'
      return response.writeHead(204, cors).end()
    }
    if (url.pathname === '/' && options.page !== undefined) {
      return response.writeHead(200, { 'content-type': 'text/html' }).end(options.page)
    }
    if (url.pathname === '/page.js' && options.script !== undefined) {
      return response.writeHead(200, { 'content-type': 'text/javascript' }).end(options.script)
    }
    response.writeHead(404, cors).end()
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ open, total, sent: [...sent].sort((a, b) => a - b) }),
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

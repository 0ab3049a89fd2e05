/// <reference types="node" />
/**
 * sluice-server/node: serve a fetch-style handler (`Request` in, `Response` out) from `node:http`,
 * streaming the response body with backpressure and releasing it when the client goes away.
 *
 * Written here rather than taken from `@hono/node-server`, whose `getRequestListener` writes with
 * backpressure but, when the client disconnects while it waits for `drain` or for the next chunk,
 * never cancels the body (so a generator's `finally` never runs), has no write timeout for a client
 * that stops reading, and replaces the global `Request`/`Response` by default.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { constants, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { CONNECTION_SPECIFIC_HEADERS, listenTls, type TlsOptions } from './http2.js'

export type { TlsOptions } from './http2.js'

/** A fetch-style handler, as Deno, Bun and workers serve them. */
export type FetchHandler = (request: Request) => Response | Promise<Response>

/** Options of {@link createNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * How long a write may wait for a client that reads nothing (the socket buffer stays full)
   * before the connection is destroyed and the body cancelled: the slow-read (slowloris) guard.
   * `0` turns it off. Default 60 000, like nginx's `send_timeout`.
   */
  writeTimeoutMs?: number
  /** Sees handler errors and bodies that fail mid-stream. Default: `console.error`. */
  onError?: (error: unknown) => void
}

/** Options of {@link serve}. */
export interface ServeOptions extends NodeHandlerOptions {
  /** Default 0: an ephemeral port, see `port` on the result. */
  port?: number
  /** Default `127.0.0.1`. */
  hostname?: string
  /**
   * Serve HTTPS: HTTP/2 from `node:http2`, with HTTP/1.1 on the same port for clients that do not
   * offer `h2` in ALPN. Without it, plain HTTP/1.1 from `node:http`.
   */
  tls?: TlsOptions
}

/** A running server. */
export interface NodeServer {
  /** `http://host:port` (`https://` with `tls`), without a trailing slash. */
  url: string
  port: number
  /** `node:http`'s server, or with `tls` the `node:http2` secure server. */
  server: Server | Http2SecureServer
  /** Stops listening and destroys every open connection, streams included (their sources are released). */
  close(): Promise<void>
}

/** 60 s, like nginx's `send_timeout` default. */
export const DEFAULT_WRITE_TIMEOUT_MS = 60_000

/**
 * A `node:http` request listener that serves `handler` (also a `node:http2` one, through Node's
 * compatibility API: each HTTP/2 stream is one request).
 *
 * Response headers are flushed at once (before the first record). The body is written with
 * backpressure (`res.write` returning `false` waits for `drain`), so a slow client slows the
 * source instead of growing a buffer. When the client closes the connection early, the body is
 * cancelled, which releases the source of an `ndjsonResponse` or `sseResponse`; the request's
 * `signal` aborts too. A body that fails mid-stream destroys the connection, so the client sees a
 * cut stream rather than a clean end. Over HTTP/2 each of these acts on the one stream: a client's
 * `RST_STREAM` cancels the body, and a failure or a write timeout resets only that stream.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { ndjsonResponse } from 'sluice-server'
 * import { createNodeHandler } from 'sluice-server/node'
 *
 * createServer(createNodeHandler(() => ndjsonResponse([{ seq: 1 }]))).listen(8080)
 * ```
 */
export function createNodeHandler(
  handler: FetchHandler,
  options: NodeHandlerOptions = {},
): (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void {
  const writeTimeoutMs = options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS
  if (!(writeTimeoutMs >= 0) || !Number.isFinite(writeTimeoutMs)) {
    throw new RangeError(`Cannot use writeTimeoutMs: expected a non-negative number, got ${String(writeTimeoutMs)}`)
  }
  const onError = options.onError ?? ((error: unknown) => console.error(error))
  return (req, anyRes) => {
    // Http2ServerResponse has every member used here (writeHead, write, drain, close, destroy,
    // flushHeaders...) with HTTP/1.1's meaning, on its one stream: one type keeps the code single.
    const res = anyRes as ServerResponse
    const aborter = new AbortController()
    res.once('close', () => {
      if (!completed(res)) aborter.abort(new Error('Client closed the connection'))
    })
    let request: Request
    try {
      request = toRequest(req, aborter.signal)
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Bad Request')
      return
    }
    Promise.resolve()
      .then(() => handler(request))
      .then(
        (response) => sendResponse(response, res, req.method === 'HEAD', writeTimeoutMs, onError),
        (error: unknown) => {
          onError(error)
          if (res.headersSent) cut(res, constants.NGHTTP2_INTERNAL_ERROR)
          else res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Internal Server Error')
        },
      )
      .catch(onError)
  }
}

/**
 * Serves `handler` on `hostname:port` (default `127.0.0.1`, an ephemeral port).
 *
 * @example
 * ```ts
 * import { sseResponse } from 'sluice-server'
 * import { serve } from 'sluice-server/node'
 *
 * const app = await serve(() => sseResponse([{ data: 'hello', id: 1 }]), { port: 8080 })
 * console.log(`listening on ${app.url}`)
 * await app.close()
 * ```
 */
export function serve(handler: FetchHandler, options: ServeOptions = {}): Promise<NodeServer> {
  const hostname = options.hostname ?? '127.0.0.1'
  const host = hostname.includes(':') ? `[${hostname}]` : hostname
  if (options.tls !== undefined) {
    return listenTls(createNodeHandler(handler, options), options.tls, options.port ?? 0, hostname).then(
      ({ server, port, close }) => ({ url: `https://${host}:${port}`, port, server, close }),
    )
  }
  const server = createServer(createNodeHandler(handler, options))
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, hostname, () => {
      server.off('error', reject)
      const { port } = server.address() as AddressInfo
      let closing: Promise<void> | undefined
      const close = (): Promise<void> =>
        (closing ??= new Promise<void>((done) => {
          server.close(() => done())
          // Streams never end on their own: cut them, so their clients resume elsewhere.
          server.closeAllConnections()
        }))
      resolve({ url: `http://${host}:${port}`, port, server, close })
    })
  })
}

function toRequest(req: IncomingMessage | Http2ServerRequest, signal: AbortSignal): Request {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true
  // HTTP/2 names the host in the :authority pseudo-header (RFC 9113 §8.3.1), not in Host.
  const authority = req.headers.host ?? (req.headers[':authority'] as string | undefined)
  const host = authority ?? `${req.socket.localAddress ?? 'localhost'}:${req.socket.localPort ?? 80}`
  const url = new URL(req.url ?? '/', `${encrypted ? 'https' : 'http'}://${host}`)
  const headers = new Headers()
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!
    if (!name.startsWith(':')) headers.append(name, req.rawHeaders[i + 1]!) // pseudo-headers are not fields
  }
  const method = req.method ?? 'GET'
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal }
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req as Readable) as unknown as ReadableStream<Uint8Array>
    init.duplex = 'half' // required by Node's fetch for a streamed request body
  }
  return new Request(url, init)
}

async function sendResponse(
  response: Response,
  res: ServerResponse,
  head: boolean,
  writeTimeoutMs: number,
  onError: (error: unknown) => void,
): Promise<void> {
  const h2 = 'stream' in res
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie' || (h2 && CONNECTION_SPECIFIC_HEADERS.has(name))) return
    headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  if (gone(res)) {
    await response.body?.cancel(new Error('Client closed the connection'))
    return
  }
  // HTTP/2 has no reason phrase (RFC 9113 §8.3.2): Node warns when given one.
  if (h2) (res as unknown as Http2ServerResponse).writeHead(response.status, headers)
  else res.writeHead(response.status, response.statusText || undefined, headers)
  if (response.body === null || head || response.status === 204 || response.status === 304) {
    // Node ignores body writes here: reading an endless stream into them would spin forever.
    await response.body?.cancel()
    res.end()
    return
  }
  // Headers go out now, not with the first chunk: the client (and a proxy) sees the stream open.
  res.flushHeaders()
  const reader = response.body.getReader()
  res.once('close', () => {
    if (!completed(res)) reader.cancel(new Error('Client closed the connection')).catch(() => undefined)
  })
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (gone(res)) return
      if (done) break
      if (!res.write(value) && !(await drained(res, writeTimeoutMs))) return
    }
    res.end()
  } catch (error) {
    // Destroying (not ending) the connection leaves the chunked body unterminated: the client
    // sees a cut stream and can resume, instead of a clean end it would trust.
    onError(error)
    cut(res, constants.NGHTTP2_INTERNAL_ERROR)
  }
}

/**
 * Whether the whole response was written. Both flags: an HTTP/2 stream reset by the client reports
 * `writableFinished` (its writable side was torn down) though `end()` was never called.
 */
function completed(res: ServerResponse): boolean {
  return res.writableEnded && res.writableFinished
}

/** Whether the connection (HTTP/1.1) or the stream (HTTP/2, whose compat response has no `destroyed`) is gone. */
function gone(res: ServerResponse): boolean {
  const stream = (res as unknown as Partial<Http2ServerResponse>).stream
  return stream === undefined ? res.destroyed : stream.destroyed || stream.closed
}

/**
 * Ends the response as a failure the client can tell from a clean end: HTTP/1.1 destroys the
 * connection (the chunked body stays unterminated); HTTP/2 resets the one stream with `code`
 * (a plain destroy() would send RST_STREAM NO_ERROR, which Node's client reads as a clean end).
 */
function cut(res: ServerResponse, code: number): void {
  const stream = (res as unknown as Partial<Http2ServerResponse>).stream
  if (stream === undefined) res.destroy()
  else stream.close(code)
}

/** Resolves `true` on `drain`; `false` when the connection closed or the client read nothing for `timeoutMs`. */
function drained(res: ServerResponse, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (ok: boolean): void => {
      res.off('drain', onDrain)
      res.off('close', onClose)
      if (timer !== undefined) clearTimeout(timer)
      resolve(ok)
    }
    const onDrain = (): void => settle(true)
    const onClose = (): void => settle(false)
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            settle(false)
            cut(res, constants.NGHTTP2_CANCEL) // 'close' follows, which cancels the body
          }, timeoutMs)
        : undefined
    res.on('drain', onDrain)
    res.on('close', onClose)
  })
}

/// <reference types="node" />
/**
 * The TLS listener behind `serve(handler, { tls })` in `sluice-server/node`: HTTP/2 from
 * `node:http2` with HTTP/1.1 fallback, chosen per connection by ALPN (RFC 7301; `h2` first, then
 * `http/1.1`, RFC 9113 §3.2). Both protocols reach the same request listener through Node's
 * compatibility API, so HTTP/2 streams keep the HTTP/1.1 adapter's guarantees: the body is
 * pulled only as the stream's flow-control window opens, a stream reset by the client
 * (`RST_STREAM`) cancels the body like a closed socket, and the write timeout resets only the
 * stalled stream, never its siblings on the same connection.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'

/** The certificate of {@link serve}'s `tls` option: PEM text or a Buffer, as `node:tls` takes them. */
export interface TlsOptions {
  /** Private key, PEM. */
  key: string | Buffer
  /** Certificate chain, PEM. */
  cert: string | Buffer
  /** Default `true`: clients without ALPN `h2` are served HTTP/1.1 on the same port. */
  allowHTTP1?: boolean
}

/** One request listener for both protocols: Node's HTTP/1.1 objects or its HTTP/2 compatibility ones. */
export type AnyRequestListener = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void

/** A started TLS server: where it listens, and how to stop it with every connection cut. */
export interface TlsListening {
  server: Http2SecureServer
  port: number
  close(): Promise<void>
}

/**
 * Listens with HTTP/2 over TLS (HTTP/1.1 too, unless `tls.allowHTTP1` is `false`) on
 * `hostname:port`, serving every request with `listener`.
 */
export function listenTls(
  listener: AnyRequestListener,
  tls: TlsOptions,
  port: number,
  hostname: string,
): Promise<TlsListening> {
  if (tls === null || typeof tls !== 'object' || tls.key === undefined || tls.cert === undefined) {
    throw new TypeError('Cannot serve over TLS: expected tls: { key, cert } (PEM)')
  }
  const server = createSecureServer({
    key: tls.key,
    cert: tls.cert,
    allowHTTP1: tls.allowHTTP1 ?? true,
    // ALPN order is the server's preference (RFC 7301 §3.2): h2 whenever the client offers it.
    ALPNProtocols: tls.allowHTTP1 === false ? ['h2'] : ['h2', 'http/1.1'],
  })
  server.on('request', listener as (req: Http2ServerRequest, res: Http2ServerResponse) => void)
  // Every TLS connection, h2 or HTTP/1.1: close() cuts them all, as closeAllConnections() does for node:http.
  const sockets = new Set<TLSSocket>()
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  // A client that resets a stream or drops the connection raises a session/stream error: the
  // response's 'close' handles the stream; nothing here may crash the process.
  server.on('sessionError', () => undefined)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, hostname, () => {
      server.off('error', reject)
      let closing: Promise<void> | undefined
      const close = (): Promise<void> =>
        (closing ??= new Promise<void>((done) => {
          server.close(() => done())
          for (const socket of sockets) socket.destroy()
        }))
      resolve({ server, port: (server.address() as AddressInfo).port, close })
    })
  })
}

/**
 * Response headers HTTP/2 forbids (RFC 9113 §8.2.2: connection-specific fields); `node:http2`
 * throws on them, and an HTTP/1.1 handler may well set them.
 */
export const CONNECTION_SPECIFIC_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
])

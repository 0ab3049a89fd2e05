/** A node:http2 client for tests: one session per origin, streams as web ReadableStreams for sluice's decoders. */
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from 'node:http2'
import { Readable } from 'node:stream'

/** An HTTP/2 session to `url` trusting `ca` (PEM), connected. */
export function h2Session(url: string, ca: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const client = connect(url, { ca })
    client.once('error', reject)
    client.once('connect', () => {
      client.off('error', reject)
      client.on('error', () => undefined) // a reset session fails its streams; they say so
      resolve(client)
    })
  })
}

/** Opens one GET stream on `client`; resolves with it and its status once the response headers arrive. */
export function h2Get(
  client: ClientHttp2Session,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ stream: ClientHttp2Stream; status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const stream = client.request({ ':path': path, ...headers })
    stream.on('error', () => undefined) // resets are what some tests do
    stream.once('response', (h) =>
      resolve({ stream, status: Number(h[':status']), headers: h as Record<string, unknown> }),
    )
    stream.once('error', reject)
  })
}

/** The stream's body as a web ReadableStream. */
export function bodyOf(stream: ClientHttp2Stream): ReadableStream<Uint8Array> {
  return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>
}

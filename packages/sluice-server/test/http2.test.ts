/**
 * `serve(handler, { tls })`: HTTP/2 from node:http2 with HTTP/1.1 fallback by ALPN, over real TLS
 * on loopback with a certificate made by openssl for the test. Each HTTP/1.1 guarantee is checked
 * per HTTP/2 stream: pull-based body, RST_STREAM releases the source, the write timeout resets the
 * stalled stream only, heartbeats, close() cuts everything.
 */

import { type ClientHttp2Session, constants } from 'node:http2'
import { request as httpsRequest, type RequestOptions } from 'node:https'
import { decodeNdjson } from 'sluice'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { ndjsonResponse } from '../src/index.js'
import { type FetchHandler, type NodeServer, type ServeOptions, serve } from '../src/node.js'
import { type Certificate, makeCertificate } from './helpers/certificate.js'
import { bodyOf, h2Get, h2Session } from './helpers/h2-client.js'
import { serveForTest } from './helpers/loopback.js'
import { countingSource, deferred, idleSource } from './helpers/sources.js'

let certificate: Certificate
beforeAll(async () => {
  certificate = await makeCertificate()
})
afterAll(async () => {
  await certificate?.remove()
})

const sessions: ClientHttp2Session[] = []
afterEach(() => {
  for (const session of sessions.splice(0)) session.destroy()
})

/** An HTTPS server (HTTP/2, HTTP/1.1 by ALPN) with the test certificate, for the running test. */
function start(handler: FetchHandler, options: ServeOptions = {}): Promise<NodeServer> {
  return serveForTest(handler, { ...options, tls: { key: certificate.key, cert: certificate.cert } })
}

/** An HTTP/2 session trusting the test certificate, destroyed after the test. */
async function session(url: string): Promise<ClientHttp2Session> {
  const client = await h2Session(url, certificate.cert)
  sessions.push(client)
  return client
}

const get = (client: ClientHttp2Session, path: string) => h2Get(client, path)

test('serves HTTP/2 to a client offering h2 in ALPN, and HTTP/1.1 on the same port to one that does not', async () => {
  const versions: string[] = []
  const server = await start((request) => {
    versions.push(new URL(request.url).protocol)
    return ndjsonResponse([{ seq: 0 }, { seq: 1 }])
  })
  expect(server.url).toBe(`https://127.0.0.1:${server.port}`)

  const client = await session(server.url)
  const { stream, status } = await get(client, '/ndjson?x=1')
  expect(status).toBe(200)
  expect(client.alpnProtocol).toBe('h2')
  const records: unknown[] = []
  for await (const record of decodeNdjson(bodyOf(stream), { requireEnd: true })) records.push(record)
  expect(records).toEqual([{ seq: 0 }, { seq: 1 }])

  const http1 = await new Promise<{ version: string; alpn: string | false; body: string }>((resolve, reject) => {
    const req = httpsRequest(
      `${server.url}/ndjson`,
      { ca: certificate.cert, ALPNProtocols: ['http/1.1'] } as RequestOptions & { ALPNProtocols: string[] },
      (res) => {
        const alpn = (res.socket as unknown as { alpnProtocol: string | false }).alpnProtocol
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ version: res.httpVersion, alpn, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
  expect(http1.version).toBe('1.1')
  expect(http1.alpn).toBe('http/1.1')
  expect(http1.body).toContain('{"seq":1}')
  expect(versions).toEqual(['https:', 'https:'])
})

test('the request a handler sees carries the path, query, :authority as host, and no pseudo-headers', async () => {
  let seen: { url: string; headers: string[] } | undefined
  const server = await start((request) => {
    seen = { url: request.url, headers: [...request.headers.keys()] }
    return new Response('ok')
  })
  const client = await session(server.url)
  const { stream } = await get(client, '/feed?from=7')
  stream.resume()
  await new Promise((r) => stream.once('end', r))
  expect(seen?.url).toBe(`https://127.0.0.1:${server.port}/feed?from=7`)
  expect(seen?.headers.some((name) => name.startsWith(':'))).toBe(false)
})

test('a handler setting connection-specific headers is still served over HTTP/2 (RFC 9113 §8.2.2 drops them)', async () => {
  const server = await start(
    () => new Response('ok', { headers: { Connection: 'keep-alive', 'Keep-Alive': 'timeout=5', 'X-Kept': 'yes' } }),
  )
  const client = await session(server.url)
  const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const stream = client.request({ ':path': '/' })
    stream.once('response', (h) => resolve(h as Record<string, unknown>))
    stream.once('error', reject)
    stream.resume()
  })
  expect(headers[':status']).toBe(200)
  expect(headers['x-kept']).toBe('yes')
  expect(headers['connection']).toBeUndefined()
})

test('RST_STREAM from the client releases the source, and a sibling stream on the same connection goes on', async () => {
  const released = deferred()
  const server = await start((request) => {
    if (new URL(request.url).pathname !== '/stall') return ndjsonResponse([{ seq: 0 }, { seq: 1 }, { seq: 2 }])
    const idle = idleSource([{ seq: 0 }], request.signal)
    void idle.released.then(released.resolve)
    return ndjsonResponse(idle.source, { heartbeatMs: 0 })
  })
  const client = await session(server.url)
  const { stream } = await get(client, '/stall')
  await new Promise((r) => stream.once('data', r)) // the first record arrived: the source is live
  stream.close(constants.NGHTTP2_CANCEL)
  await released.promise // the generator's finally ran: released like a closed socket
  expect(client.destroyed).toBe(false)
  const sibling = await get(client, '/other')
  const records: unknown[] = []
  for await (const record of decodeNdjson(bodyOf(sibling.stream), { requireEnd: true })) records.push(record)
  expect(records).toHaveLength(3)
})

test('a stream whose reader stops is pulled only as far as its flow-control window, then reset by the write timeout alone', async () => {
  const slow = countingSource(1024)
  const server = await start(
    (request) =>
      new URL(request.url).pathname === '/slow'
        ? ndjsonResponse(slow.source, { heartbeatMs: 0 })
        : new Response('alive'),
    { writeTimeoutMs: 400 },
  )
  const client = await session(server.url)
  const { stream } = await get(client, '/slow')
  stream.pause() // read nothing: the stream's window (64 KiB) fills and the server's writes stall
  const reset = new Promise<number>((resolve) => stream.once('close', () => resolve(stream.rstCode ?? -1)))
  await slow.released
  const pulled = slow.pulled()
  // 64 KiB window + the server stream's write buffer: a few hundred 1 KiB records, never unbounded.
  expect(pulled).toBeLessThan(400)
  expect(await reset).toBe(constants.NGHTTP2_CANCEL) // a reset the client tells from a clean end
  // The connection survived: only the stalled stream was reset.
  const next = await get(client, '/health')
  let body = ''
  next.stream.setEncoding('utf8')
  for await (const chunk of next.stream) body += chunk as string
  expect(body).toBe('alive')
  console.log(`h2 slow reader: ${pulled} records of 1 KiB pulled before the write timeout reset its stream`)
})

test('heartbeats flow over HTTP/2 while the source is idle', async () => {
  const released = deferred()
  const server = await start((request) => {
    const idle = idleSource<{ seq: number }>([], request.signal)
    void idle.released.then(released.resolve)
    return ndjsonResponse(idle.source, { heartbeatMs: 50 })
  })
  const client = await session(server.url)
  const { stream } = await get(client, '/idle')
  let text = ''
  stream.setEncoding('utf8')
  await new Promise<void>((resolve) =>
    stream.on('data', (chunk: string) => {
      text += chunk
      if (text.split('\n').length > 3) resolve()
    }),
  )
  // Three newline heartbeats (blank NDJSON lines) in ~150 ms, no record.
  expect(text.trim()).toBe('')
  stream.close(constants.NGHTTP2_CANCEL)
  await released.promise
})

test('close() cuts open HTTP/2 streams and releases their sources', async () => {
  const released = deferred()
  const server = await start((request) => {
    const idle = idleSource([{ seq: 0 }], request.signal)
    void idle.released.then(released.resolve)
    return ndjsonResponse(idle.source, { heartbeatMs: 0 })
  })
  const client = await session(server.url)
  const { stream } = await get(client, '/stall')
  await new Promise((r) => stream.once('data', r))
  const closed = deferred()
  stream.once('close', () => closed.resolve())
  await server.close()
  await released.promise
  await closed.promise
})

test('tls without key and cert is a TypeError', async () => {
  await expect(async () => serve(() => new Response('x'), { tls: {} as never })).rejects.toThrow(TypeError)
})

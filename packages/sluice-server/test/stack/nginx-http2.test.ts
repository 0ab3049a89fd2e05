/**
 * sluice-server behind a real nginx (Debian's, 1.22 syntax) that terminates TLS with HTTP/2
 * (`listen ... ssl http2`), with nginx's default `proxy_buffering on`: records arrive one by one
 * through it on HTTP/2 streams (first-record latency printed, as for HTTP/1.1 in nginx.test.ts),
 * many streams share one client connection, and a stream the client resets (RST_STREAM) releases
 * the source upstream.
 */
import { type ClientHttp2Session, constants } from 'node:http2'
import { decodeNdjson, decodeSse } from 'sluice'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { ndjsonResponse } from '../../src/index.js'
import { type NodeServer, serve } from '../../src/node.js'
import { app, type Reading } from '../helpers/app.js'
import { type Certificate, makeCertificate } from '../helpers/certificate.js'
import { recordFigure } from '../helpers/figures.js'
import { bodyOf, h2Get, h2Session } from '../helpers/h2-client.js'
import { type Nginx, startNginx } from '../helpers/nginx.js'
import { deferred, idleSource } from '../helpers/sources.js'

let certificate: Certificate
let nginx: Nginx
let upstream: NodeServer
let upstreamConnections = 0
const released: Array<() => void> = []
let client: ClientHttp2Session

beforeAll(async () => {
  certificate = await makeCertificate()
  const readings = app({ instance: 'one' })
  upstream = await serve((request) => {
    if (new URL(request.url).pathname !== '/idle') return readings(request)
    // Stays open with nothing to send until the client leaves; tells the test when it is released.
    const idle = idleSource([{ seq: 0 }], request.signal)
    void idle.released.then(() => released.shift()?.())
    return ndjsonResponse(idle.source, { heartbeatMs: 0 })
  })
  upstream.server.on('connection', () => upstreamConnections++)
  nginx = await startNginx([
    // No proxy_buffering directive: nginx's default, on. sluice-server's X-Accel-Buffering: no turns it off per response.
    {
      name: 'h2',
      upstreams: [`127.0.0.1:${upstream.port}`],
      tls: { certFile: certificate.certFile, keyFile: certificate.keyFile },
    },
  ])
  client = await h2Session(nginx.urls['h2']!, certificate.cert)
})

afterAll(async () => {
  client?.destroy()
  await nginx?.stop()
  await upstream?.close()
  await certificate?.remove()
})

/** ms from the request to each record of one stream over the shared h2 session. */
async function timeRecords(path: string, format: 'ndjson' | 'sse'): Promise<number[]> {
  const started = performance.now()
  const { stream, status } = await h2Get(client, path)
  expect(status).toBe(200)
  const body = bodyOf(stream)
  const records: AsyncIterable<Reading> =
    format === 'ndjson'
      ? decodeNdjson<Reading>(body, { requireEnd: true })
      : (async function* () {
          for await (const event of decodeSse<Reading>(body, { json: true, requireEnd: true })) yield event.data
        })()
  const at: number[] = []
  const seqs: number[] = []
  for await (const record of records) {
    at.push(performance.now() - started)
    seqs.push(record.seq)
  }
  expect(seqs).toEqual([0, 1, 2, 3, 4])
  return at
}

test('records arrive one by one through nginx terminating TLS with http2, ndjson and sse', async () => {
  expect(client.alpnProtocol).toBe('h2')
  for (const format of ['ndjson', 'sse'] as const) {
    const at = await timeRecords(`/${format}?n=5&intervalMs=250`, format)
    console.log(
      `nginx ssl http2, ${format}: first record after ${at[0]!.toFixed(0)} ms, records at ${at.map((t) => t.toFixed(0)).join(', ')} ms`,
    )
    // Streamed, not one late burst: the first record arrives before the source has made the last
    // (four intervals of 250 ms later); a buffered response would deliver all five together.
    expect(at[4]! - at[0]!).toBeGreaterThan(3 * 250)
  }
})

test('12 streams at once share one client connection through nginx, each delivering from the start', async () => {
  const before = upstreamConnections
  const all = await Promise.all(Array.from({ length: 12 }, () => timeRecords('/ndjson?n=5&intervalMs=200', 'ndjson')))
  const firsts = all.map((at) => at[0]!)
  const lasts = all.map((at) => at[4]!)
  console.log(
    `nginx ssl http2, 12 streams on one connection: first records ${Math.min(...firsts).toFixed(0)}-${Math.max(...firsts).toFixed(0)} ms, ` +
      `last records ${Math.min(...lasts).toFixed(0)}-${Math.max(...lasts).toFixed(0)} ms; upstream connections opened: ${upstreamConnections - before}`,
  )
  recordFigure({
    scenario: 'stack: nginx ssl http2, 12 streams on one client connection',
    cases: 12,
    records: 60,
    lost: 0,
    duplicated: 0,
    detail: `first records ${Math.min(...firsts).toFixed(0)}-${Math.max(...firsts).toFixed(0)} ms, last ${Math.min(...lasts).toFixed(0)}-${Math.max(...lasts).toFixed(0)} ms (5 records, 200 ms apart)`,
  })
  // Every stream's first record came before any stream's last: none waited for another to finish.
  expect(Math.max(...firsts)).toBeLessThan(Math.min(...lasts))
  // One TLS connection from the client carried them all (nginx opens its own upstream ones).
  expect(client.destroyed).toBe(false)
})

test('a stream the client resets (RST_STREAM) releases the source behind nginx', async () => {
  const gone = deferred()
  released.push(gone.resolve)
  const { stream } = await h2Get(client, '/idle')
  await new Promise((r) => stream.once('data', r)) // the first record came through: the source is live
  stream.close(constants.NGHTTP2_CANCEL)
  const cut = performance.now()
  await gone.promise
  const releasedMs = performance.now() - cut
  console.log(`nginx ssl http2: source released ${releasedMs.toFixed(0)} ms after the client's RST_STREAM`)
  recordFigure({
    scenario: 'stack: nginx ssl http2, client resets a stream (RST_STREAM)',
    cases: 1,
    detail: `upstream source released ${releasedMs.toFixed(0)} ms after the reset; the connection stayed open`,
  })
  expect(client.destroyed).toBe(false)
})

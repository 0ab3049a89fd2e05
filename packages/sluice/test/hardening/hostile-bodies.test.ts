/**
 * Hostile response bodies and headers over real loopback HTTP, beyond the wire format itself:
 * compression bombs, error bodies that never end or never come, and headers past the runtime's limit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type AddressInfo, createServer as createTcpServer } from 'node:net'
import { createGzip } from 'node:zlib'
import { afterAll, expect, onTestFinished, test } from 'vitest'
import { ndjson, type SluiceError, sse } from '../../src/index.js'
import { recordFigure, rssMiB } from '../support/figures.js'
import { listen, urlOf } from '../support/loopback.js'

type Handler = (request: IncomingMessage, response: ServerResponse, index: number) => void
async function serve(handler: Handler) {
  let index = 0
  const server = await listen((request, response) => handler(request, response, index++))
  return { url: urlOf(server), requests: () => index }
}

const MiB = 2 ** 20

/**
 * Feeds `make(i)` into gzip with backpressure until `limit` uncompressed bytes or the client leaves;
 * resolves with the uncompressed and compressed bytes that went out.
 */
function gzipBomb(
  response: ServerResponse,
  make: (i: number) => Buffer | null,
  limit: number,
): Promise<{ fed: number; sent: number }> {
  const gzip = createGzip({ level: 9 })
  let fed = 0
  let sent = 0
  gzip.on('data', (chunk: Buffer) => (sent += chunk.length))
  gzip.pipe(response)
  return new Promise((resolve) => {
    let i = 0
    const pump = () => {
      while (fed < limit && !response.destroyed) {
        const chunk = make(i++)
        if (chunk === null) break
        fed += chunk.length
        if (!gzip.write(chunk)) return void gzip.once('drain', pump)
      }
      gzip.end()
    }
    response.on('close', () => {
      gzip.destroy()
      resolve({ fed, sent })
    })
    pump()
  })
}

test('a gzip bomb of one endless line (10 GB inflated) is refused with LINE_TOO_LONG after little inflation, in bounded memory', async () => {
  let bomb: Promise<{ fed: number; sent: number }> | undefined
  const zeros = Buffer.alloc(MiB, 0x61) // 'a': one line that never ends
  const { url } = await serve((_, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' })
    bomb = gzipBomb(response, () => zeros, 10 * 1024 * MiB)
  })
  const before = rssMiB()
  const error = await (async () => {
    for await (const _ of ndjson(url, { maxLineBytes: MiB }));
  })().catch((e: SluiceError) => e)
  expect((error as SluiceError).code).toBe('LINE_TOO_LONG')
  const { fed, sent } = await bomb!
  const grew = rssMiB() - before
  // The client stopped pulling after about 1 MiB inflated; the server could feed only what the
  // pipes between them hold (compressed ~1000:1) before it saw the connection close.
  expect(fed).toBeLessThan(1024 * MiB)
  expect(grew).toBeLessThan(64)
  recordFigure({
    scenario: 'hostile: gzip bomb, one endless line (10 GiB inflated offered, maxLineBytes 1 MiB)',
    cases: 1,
    peakMiB: +grew.toFixed(1),
    detail: `LINE_TOO_LONG; the server fed gzip ${(fed / MiB).toFixed(0)} MiB (${(sent / 1024).toFixed(0)} KiB compressed) before the client left; peak is RSS growth`,
  })
}, 30_000)

test('a gzip-compressed stream of 500,000 tiny SSE events arrives in order, in flat memory', async () => {
  const events = 500_000
  const perChunk = 1000
  let bomb: Promise<{ fed: number; sent: number }> | undefined
  const { url } = await serve((_, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' })
    bomb = gzipBomb(
      response,
      (i) => {
        if (i * perChunk > events) return null
        if (i * perChunk === events) return Buffer.from(`event: end\ndata: {"count":${events}}\n\n`)
        let text = ''
        for (let n = i * perChunk; n < (i + 1) * perChunk; n++) text += `id:${n}\ndata:x\n\n`
        return Buffer.from(text)
      },
      Infinity,
    )
  })
  let expected = 0
  let peak = 0
  const before = rssMiB()
  const stream = sse(url)
  for await (const event of stream) {
    if (event.id !== String(expected)) throw new Error(`event ${event.id} where ${expected} was due`)
    expected++
    if (expected % 50_000 === 0) peak = Math.max(peak, rssMiB() - before)
  }
  const { sent } = await bomb!
  expect(expected).toBe(events)
  expect(stream.counters.reconnects).toBe(0)
  expect(peak).toBeLessThan(64)
  recordFigure({
    scenario: `hostile: gzip-compressed stream of ${events.toLocaleString('en-US')} tiny SSE events`,
    cases: 1,
    records: expected,
    lost: events - expected,
    duplicated: 0,
    peakMiB: +peak.toFixed(1),
    detail: `${(sent / 1024).toFixed(0)} KiB on the wire, ${(stream.counters.bytes / MiB).toFixed(1)} MiB inflated; peak is RSS growth`,
  })
}, 30_000)

test('a 503 whose body never ends is read for a snippet only, then retried', async () => {
  let written = 0
  const { url, requests } = await serve((_, response, index) => {
    if (index === 0) {
      response.writeHead(503, { 'content-type': 'text/plain' })
      const chunk = Buffer.alloc(64 * 1024, 0x78)
      const pump = () => {
        while (!response.destroyed && written < 512 * MiB) {
          written += chunk.length
          if (!response.write(chunk)) return void response.once('drain', pump)
        }
      }
      pump()
      return
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    response.end('{"seq":1}\n')
  })
  const errors: SluiceError[] = []
  const got: unknown[] = []
  for await (const r of ndjson(url, {
    retry: { initialDelayMs: 1, minDelayMs: 0 },
    onRetry: ({ error }) => errors.push(error),
  }))
    got.push(r)
  expect(got).toEqual([{ seq: 1 }])
  expect(requests()).toBe(2)
  expect(errors.map((e) => e.code)).toEqual(['HTTP_ERROR'])
  expect((errors[0] as SluiceError & { snippet: string }).snippet.length).toBeLessThanOrEqual(200)
  // The client cancelled the body after its snippet: the server could not push its 512 MiB.
  expect(written).toBeLessThan(64 * MiB)
  recordFigure({
    scenario: 'hostile: a 503 whose body never ends (512 MiB offered)',
    cases: 1,
    detail: `HTTP_ERROR with a ${(errors[0] as SluiceError & { snippet: string }).snippet.length}-character snippet, retried; the server got ${(written / MiB).toFixed(1)} MiB out before the client cancelled`,
  })
})

test('a 503 whose body never comes costs one connect timeout, not a hang', async () => {
  const { url, requests } = await serve((_, response, index) => {
    if (index === 0) {
      response.writeHead(503, { 'content-type': 'text/plain' })
      response.flushHeaders() // headers, then silence
      return
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    response.end('{"seq":1}\n')
  })
  const codes: string[] = []
  const started = Date.now()
  const got: unknown[] = []
  for await (const r of ndjson(url, {
    connectTimeoutMs: 300,
    retry: { initialDelayMs: 1, minDelayMs: 0 },
    onRetry: ({ error }) => codes.push(error.code),
  }))
    got.push(r)
  const elapsed = Date.now() - started
  expect(got).toEqual([{ seq: 1 }])
  expect(requests()).toBe(2)
  expect(codes).toEqual(['CONNECT_TIMEOUT'])
  expect(elapsed).toBeGreaterThanOrEqual(290)
  expect(elapsed).toBeLessThan(5000)
  recordFigure({
    scenario: 'hostile: a 503 whose body never comes (connectTimeoutMs 300)',
    cases: 1,
    detail: `one CONNECT_TIMEOUT, then delivered on the retry, ${elapsed} ms in all`,
  })
})

test('response headers past the runtime limit are a retried NETWORK_ERROR, final after maxAttempts', async () => {
  const { url, requests } = await serve((_, response) => {
    // 64 headers of 4 KiB: far past undici's 16 KiB default (and any browser's)
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' }
    for (let i = 0; i < 64; i++) headers[`x-junk-${i}`] = 'j'.repeat(4096)
    response.writeHead(200, headers)
    response.end('{"seq":1}\n')
  })
  const error = await (async () => {
    for await (const _ of ndjson(url, { retry: { initialDelayMs: 1, minDelayMs: 0, maxAttempts: 3 } }));
  })().catch((e: SluiceError) => e)
  expect((error as SluiceError).code).toBe('NETWORK_ERROR')
  expect((error as SluiceError).attempts).toBe(3)
  expect(requests()).toBe(3)
  recordFigure({
    scenario: 'hostile: 256 KiB of response headers',
    cases: 1,
    detail: `NETWORK_ERROR each attempt, final after ${requests()} (maxAttempts 3)`,
  })
})

/**
 * A raw TCP server that answers the n-th connection with `replies[n]` (then the last one), and closes:
 * for malformed HTTP that node:http (and so support/loopback.ts) cannot send.
 */
async function rawServer(replies: string[]) {
  let connections = 0
  const server = createTcpServer((socket) => {
    const reply = replies[Math.min(connections++, replies.length - 1)]!
    socket.on('error', () => {})
    socket.once('data', () => socket.end(reply))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, connections: () => connections }
}

const good =
  'HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\ncontent-length: 20\r\n\r\n{"seq":1}\n{"seq":2}\n'
const malformed: [string, string][] = [
  ['a status line that is not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n\r\n'],
  [
    'a chunk size that is not hex',
    'HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{"seq":1}\n\r\n',
  ],
  [
    'a body shorter than its content-length',
    'HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: 1000\r\n\r\n{"seq":1}\n{"se',
  ],
  [
    'both content-length and chunked (request smuggling shape)',
    'HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\na\r\n{"seq":1}\n\r\n0\r\n\r\n',
  ],
  [
    'a header line with no colon',
    'HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nthis is not a header\r\n\r\n{"seq":1}\n',
  ],
]

test.each(malformed)(
  'malformed HTTP (%s) is a NETWORK_ERROR that is retried, and the stream recovers',
  async (name, reply) => {
    const { url, connections } = await rawServer([reply, good])
    const codes: string[] = []
    const got: number[] = []
    for await (const r of ndjson<{ seq: number }>(url, {
      idOf: (r) => r.seq,
      retry: { initialDelayMs: 1, minDelayMs: 0 },
      onRetry: ({ error }) => codes.push(error.code),
    }))
      got.push(r.seq)
    // A record that arrived before the framing broke is kept, and the resumed stream does not repeat it
    // (this server ignores Last-Event-ID, so an inclusive replay of seq 1 is what it sends).
    expect(got).toEqual([1, 2])
    expect(codes).toEqual(['NETWORK_ERROR'])
    expect(connections()).toBe(2)
    recovered.push(name)
    delivered += got.length
  },
)

const recovered: string[] = []
let delivered = 0
afterAll(() => {
  recordFigure({
    scenario: 'hostile: malformed HTTP from a raw TCP server',
    cases: malformed.length,
    records: delivered,
    lost: 0,
    duplicated: 0,
    detail: `NETWORK_ERROR, retried and recovered without loss or duplicate: ${recovered.join('; ')}`,
  })
})

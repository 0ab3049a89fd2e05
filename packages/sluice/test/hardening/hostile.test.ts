/**
 * Hostile servers over real loopback HTTP: what the open internet can send a client.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, expect, test } from 'vitest'
import { z } from 'zod'
import { decodeNdjson, decodeSse, ndjson, sse, type SluiceError } from '../../src/index.js'
import { recordFigure, rssMiB } from './figures.js'

type Handler = (request: IncomingMessage, response: ServerResponse, index: number) => void
const servers: { close(): void }[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

async function serve(handler: Handler) {
  let index = 0
  const requests: IncomingMessage[] = []
  const server = createServer((request, response) => {
    requests.push(request)
    handler(request, response, index++)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push({ close: () => server.close() && server.closeAllConnections() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests }
}

/** Writes `chunk` until the client goes away or `limit` bytes were written; resolves with the count. */
function flood(response: ServerResponse, chunk: Buffer, limit: number): Promise<number> {
  return new Promise((resolve) => {
    let written = 0
    const pump = () => {
      while (written < limit && !response.destroyed) {
        written += chunk.length
        if (!response.write(chunk)) return void response.once('drain', pump)
      }
      response.end()
    }
    response.on('close', () => resolve(written))
    pump()
  })
}

test('an endless line is refused with LINE_TOO_LONG and memory stays bounded', async () => {
  let written: Promise<number> | undefined
  const { url } = await serve((_, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    written = flood(response, Buffer.alloc(64 * 1024, 0x61), 200 * 1024 * 1024)
  })
  const before = rssMiB()
  const error = await (async () => {
    for await (const _ of decodeNdjson(await fetch(url), { maxLineBytes: 1024 * 1024 }));
  })().catch((e: SluiceError) => e)
  expect((error as SluiceError).code).toBe('LINE_TOO_LONG')
  const sent = await written!
  const grew = rssMiB() - before
  // The client cancelled after about 1 MiB: the server could not push the 200 MB it meant to.
  expect(sent).toBeLessThan(32 * 1024 * 1024)
  expect(grew).toBeLessThan(64)
  recordFigure({ scenario: 'hostile: endless line (200 MB offered, maxLineBytes 1 MiB)', cases: 1, peakMiB: +grew.toFixed(1), detail: `refused with LINE_TOO_LONG after the server wrote ${(sent / 1048576).toFixed(1)} MiB` })
})

test('a million tiny events stream through in flat memory', async () => {
  const total = 1_000_000
  const event = Buffer.from('data:x\n\n'.repeat(1000))
  const { url } = await serve((_, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    void flood(response, event, (total / 1000) * event.length)
  })
  let count = 0
  let peak = 0
  const before = rssMiB()
  for await (const e of decodeSse(await fetch(url))) {
    count++
    if (count % 100_000 === 0) peak = Math.max(peak, rssMiB() - before)
    if (e.data !== 'x') throw new Error('bad data')
  }
  expect(count).toBe(total)
  expect(peak).toBeLessThan(64)
  recordFigure({ scenario: 'hostile: 1,000,000 tiny SSE events', cases: 1, records: count, lost: 0, duplicated: 0, peakMiB: +peak.toFixed(1) })
}, 60_000)

test('a retry: 0 storm never reconnects faster than minDelayMs', async () => {
  const { url } = await serve((_, response, index) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.end(`retry: 0\nid: ${index}\ndata: ${index}\n\n`)
  })
  const delays: number[] = []
  const stream = sse(url, { retry: { minDelayMs: 25 }, onRetry: ({ delayMs }) => delays.push(delayMs) })
  for await (const event of stream) if (Number(event.data) >= 8) break
  expect(delays.length).toBeGreaterThanOrEqual(8)
  expect(Math.min(...delays)).toBeGreaterThanOrEqual(25)
  recordFigure({ scenario: 'hostile: retry: 0 storm', cases: delays.length, detail: `shortest delay ${Math.min(...delays)} ms (floor 25 ms)` })
})

test('an endless redirect chain is a final REDIRECT_LOOP error, not retried', async () => {
  const { url, requests } = await serve((request, response) => {
    response.writeHead(302, { location: `/again${request.url}` })
    response.end()
  })
  const started = Date.now()
  const error = await (async () => {
    for await (const _ of ndjson(url, { retry: { initialDelayMs: 1 } }));
  })().catch((e: SluiceError) => e)
  expect((error as SluiceError).code).toBe('REDIRECT_LOOP')
  expect((error as SluiceError).attempts).toBe(1)
  expect(requests.length).toBeLessThanOrEqual(21) // fetch's own limit: 20 redirects
  recordFigure({ scenario: 'hostile: endless redirect chain', cases: 1, detail: `final REDIRECT_LOOP after ${requests.length} requests in ${Date.now() - started} ms` })
})

test('Retry-After of a year is capped by maxDelayMs', async () => {
  const { url } = await serve((_, response, index) => {
    if (index === 0) {
      response.writeHead(503, { 'retry-after': String(365 * 24 * 3600) })
      response.end()
      return
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    response.end('{"seq":1}\n')
  })
  const delays: number[] = []
  for await (const _ of ndjson(url, { retry: { maxDelayMs: 30 }, onRetry: ({ delayMs }) => delays.push(delayMs) }));
  expect(delays).toEqual([30])
})

test('an id with CR, LF or NUL never reaches a header, and resuming from it is refused rather than replayed', async () => {
  const { url, requests } = await serve((_, response, index) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    if (index === 0) {
      response.write('{"id":"a\\r\\nX-Injected: 1"}\n{"id":"b\\u0000"}\n{"id":"c')
      setImmediate(() => response.socket?.destroy())
    } else response.end('{"id":"d"}\n')
  })
  const got: string[] = []
  const error = await (async () => {
    for await (const r of ndjson<{ id: string }>(url, { idOf: (r) => r.id, retry: { initialDelayMs: 1, minDelayMs: 0 } })) got.push(r.id)
  })().catch((e: SluiceError) => e)
  expect(got).toEqual(['a\r\nX-Injected: 1', 'b\0'])
  expect((error as SluiceError).code).toBe('NETWORK_ERROR')
  expect(requests.every((r) => r.headers['last-event-id'] === undefined && r.headers['x-injected'] === undefined)).toBe(true)
  expect(requests).toHaveLength(1)

  // SSE: an id with NUL is ignored (HTML §9.2.6), so the last good id is what resumes.
  const events = await serve((request, response, index) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    if (index === 0) response.end('id: 1\ndata: one\n\nid: 2\0\ndata: two\n\n')
    else response.end(`data: resumed after ${request.headers['last-event-id']}\n\nevent: end\ndata: {}\n\n`)
  })
  const data: string[] = []
  for await (const e of sse(events.url, { retry: { minDelayMs: 0, initialDelayMs: 1 } })) data.push(e.data)
  expect(data).toEqual(['one', 'two', 'resumed after 1'])
})

test('__proto__, constructor and prototype keys pollute nothing', async () => {
  const hostile =
    '{"seq":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}\n' +
    '{"seq":2,"nested":{"__proto__":{"polluted":true}}}\n'
  const Record = z.object({ seq: z.number(), nested: z.object({}).passthrough().optional() }).passthrough()
  const raw: Record<string, unknown>[] = []
  for await (const r of decodeNdjson<Record<string, unknown>>([hostile])) raw.push(r)
  const validated: unknown[] = []
  for await (const r of decodeNdjson([hostile], { schema: Record })) validated.push(r)
  const events: unknown[] = []
  for await (const e of decodeSse([`data: ${hostile.split('\n')[0]}\n\n`], { json: true })) events.push(e.data)
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined()
  for (const record of [...raw, ...validated, ...events] as object[]) {
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype)
    expect((record as Record<string, unknown>).polluted).toBeUndefined()
  }
  // JSON.parse keeps "__proto__" as an own data key, which is what the producer sent.
  expect(Object.hasOwn(raw[0]!, '__proto__')).toBe(true)
  recordFigure({ scenario: 'hostile: __proto__ / constructor keys', cases: 3, detail: 'no prototype polluted (raw, zod-validated, SSE json)' })
})

/**
 * Hostile servers over real loopback HTTP: what the open internet can send a client.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { expect, test } from 'vitest'
import { z } from 'zod'
import { decodeNdjson, decodeSse, ndjson, type SluiceError, sse } from '../../src/index.js'
import { recordFigure, retainedHeapMiB, rssMiB } from '../support/figures.js'
import { listen, urlOf } from '../support/loopback.js'

type Handler = (request: IncomingMessage, response: ServerResponse, index: number) => void
async function serve(handler: Handler) {
  let index = 0
  const requests: IncomingMessage[] = []
  const server = await listen((request, response) => {
    requests.push(request)
    handler(request, response, index++)
  })
  // Connections that carried a request, and those of them the client has not let go of (no FIN,
  // no reset): an abandoned attempt shows here. (node:http keeps its side half-open until the
  // response ends; the runtime's fetch may also keep spare idle connections, which carry no request.)
  const sockets = { used: 0, open: 0 }
  const seen = new WeakSet<object>()
  server.on('request', ({ socket }: IncomingMessage) => {
    if (seen.has(socket)) return
    seen.add(socket)
    sockets.used++
    sockets.open++
    let gone = false
    const leave = () => {
      if (!gone) sockets.open--
      gone = true
    }
    socket.once('end', leave)
    socket.once('close', leave)
  })
  return { url: urlOf(server), requests, sockets }
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

/** Samples resident memory every few ms while `run` runs: growth over the start, at the peak, in MiB. */
async function peakRssGrowth<T>(run: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const before = rssMiB()
  let peak = before
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB())), 5)
  try {
    const result = await run()
    peak = Math.max(peak, rssMiB())
    return { result, growth: peak - before }
  } finally {
    clearInterval(timer)
  }
}

test.each(['ndjson', 'sse'] as const)(
  '%s(): an endless line (200 MB offered) is a final LINE_TOO_LONG and memory stays bounded',
  async (format) => {
    const limit = 1024 * 1024
    let written: Promise<number> | undefined
    const { url, requests } = await serve((_, response) => {
      response.writeHead(200, { 'content-type': format === 'ndjson' ? 'application/x-ndjson' : 'text/event-stream' })
      written = flood(response, Buffer.alloc(64 * 1024, format === 'ndjson' ? 0x7b : 0x61), 200 * 1024 * 1024)
    })
    const stream = format === 'ndjson' ? ndjson(url, { maxLineBytes: limit }) : sse(url, { maxLineBytes: limit })
    const { result: error, growth } = await peakRssGrowth(async () => {
      try {
        for await (const _ of stream);
      } catch (e) {
        return e as SluiceError
      }
    })
    expect(error?.code).toBe('LINE_TOO_LONG')
    expect(error?.attempts).toBe(1) // a data error: not retried
    expect(requests).toHaveLength(1)
    const received = stream.counters.bytes
    // The client stopped reading after maxLineBytes plus a chunk, and cancelled: the server could not push 200 MB.
    expect(received).toBeLessThanOrEqual(limit + 256 * 1024)
    const sent = await written!
    expect(sent).toBeLessThan(32 * 1024 * 1024)
    expect(growth).toBeLessThan(64)
    recordFigure({
      scenario: `hostile: endless line through ${format}() (200 MB offered, maxLineBytes 1 MiB)`,
      cases: 1,
      peakMiB: +growth.toFixed(1),
      detail: `final LINE_TOO_LONG after 1 request; client read ${(received / 1048576).toFixed(2)} MiB, server got ${(sent / 1048576).toFixed(1)} MiB out before the cancel; peak is RSS growth`,
    })
  },
)

/** Writes `count` tiny items, made `batch` at a time by `make(first, n)`, with backpressure; then `tail`. */
function trickle(
  response: ServerResponse,
  count: number,
  make: (first: number, n: number) => string,
  tail: string,
): void {
  const batch = 2000
  let next = 0
  const pump = () => {
    while (next < count && !response.destroyed) {
      const n = Math.min(batch, count - next)
      const ok = response.write(make(next, n))
      next += n
      if (!ok) return void response.once('drain', pump)
    }
    response.end(tail)
  }
  pump()
}

/** Samples the retained heap every `every` items: the first, peak and last, in MiB. */
function heapSampler(every: number) {
  const samples = [retainedHeapMiB()]
  return {
    tick(n: number) {
      if (n % every === 0) samples.push(retainedHeapMiB())
    },
    done() {
      samples.push(retainedHeapMiB())
      const first = samples[0]!
      const peak = Math.max(...samples)
      return { first, peak, last: samples.at(-1)!, growth: peak - first, samples }
    },
  }
}

const MILLION = 1_000_000

/** Checks a sequence 0, 1, 2...: counts what arrived, what came twice (or went backwards) and what was skipped. */
function inOrder() {
  let next = 0
  let received = 0
  let duplicated = 0
  let skipped = 0
  return {
    see(seq: number): number {
      received++
      if (seq < next) duplicated++
      else {
        skipped += seq - next
        next = seq + 1
      }
      return received
    },
    end(total: number) {
      return { expected: received, duplicated, lost: skipped + Math.max(0, total - next) }
    },
  }
}

test('a million tiny NDJSON records through ndjson() arrive in order in flat memory', async () => {
  const { url } = await serve((_, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    trickle(
      response,
      MILLION,
      (first, n) => {
        let text = ''
        for (let i = first; i < first + n; i++) text += `{"i":${i}}\n`
        return text
      },
      `{"$sluice":"end","count":${MILLION}}\n`,
    )
  })
  const heap = heapSampler(100_000)
  const started = performance.now()
  const order = inOrder()
  const stream = ndjson<{ i: number }>(url, { idOf: (r) => r.i, requireEnd: true })
  for await (const record of stream) heap.tick(order.see(record.i))
  const { expected, lost, duplicated } = order.end(MILLION)
  const ms = performance.now() - started
  const { first, peak, last, growth } = heap.done()
  expect([expected, lost, duplicated]).toEqual([MILLION, 0, 0])
  expect(stream.counters.reconnects).toBe(0)
  expect(growth).toBeLessThan(16)
  recordFigure({
    scenario: 'hostile: 1,000,000 tiny NDJSON records through ndjson() (idOf, requireEnd)',
    cases: 1,
    records: expected,
    lost,
    duplicated,
    peakMiB: +growth.toFixed(1),
    detail: `in order; heap after GC ${first.toFixed(1)} → peak ${peak.toFixed(1)} → ${last.toFixed(1)} MiB; ${Math.round(MILLION / (ms / 1000)).toLocaleString('en-US')} records/s`,
  })
}, 60_000)

test('a million tiny SSE events, each after a heartbeat comment, through sse() arrive in order in flat memory', async () => {
  const { url } = await serve((_, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    trickle(
      response,
      MILLION,
      (first, n) => {
        let text = ''
        for (let i = first; i < first + n; i++) text += `:\nid:${i}\ndata:x\n\n`
        return text
      },
      `event: end\ndata: {"count":${MILLION}}\n\n`,
    )
  })
  const heap = heapSampler(100_000)
  const started = performance.now()
  const order = inOrder()
  let heartbeats = 0
  const stream = sse(url, { onComment: () => heartbeats++ })
  let wrongData = 0
  for await (const event of stream) {
    if (event.data !== 'x') wrongData++
    heap.tick(order.see(Number(event.id)))
  }
  expect(wrongData).toBe(0)
  const { expected, lost, duplicated } = order.end(MILLION)
  const ms = performance.now() - started
  const { first, peak, last, growth } = heap.done()
  expect([expected, lost, duplicated]).toEqual([MILLION, 0, 0])
  expect(heartbeats).toBe(MILLION)
  expect(stream.counters.reconnects).toBe(0)
  expect(growth).toBeLessThan(16)
  recordFigure({
    scenario: 'hostile: 1,000,000 tiny SSE events + 1,000,000 heartbeat comments through sse()',
    cases: 1,
    records: expected,
    lost,
    duplicated,
    peakMiB: +growth.toFixed(1),
    detail: `in order; heap after GC ${first.toFixed(1)} → peak ${peak.toFixed(1)} → ${last.toFixed(1)} MiB; ${Math.round(MILLION / (ms / 1000)).toLocaleString('en-US')} events/s`,
  })
}, 60_000)

test('a retry: 0 storm never reconnects faster than the default minDelayMs floor (100 ms)', async () => {
  const at: number[] = []
  const { url } = await serve((_, response, index) => {
    at.push(performance.now())
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.end(`retry: 0\nid: ${index}\ndata: ${index}\n\n`)
  })
  const delays: number[] = []
  const stream = sse(url, { onRetry: ({ delayMs }) => delays.push(delayMs) })
  for await (const event of stream) if (Number(event.data) >= 5) break
  const gaps = at.slice(1).map((t, i) => t - at[i]!)
  expect(delays).toHaveLength(5)
  expect(Math.min(...delays)).toBeGreaterThanOrEqual(100)
  // Measured at the server: no two requests closer than the floor (less a timer's slack).
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(95)
  recordFigure({
    scenario: 'hostile: retry: 0 storm (default policy)',
    cases: delays.length,
    detail: `shortest delay chosen ${Math.min(...delays)} ms, shortest gap between requests at the server ${Math.min(...gaps).toFixed(0)} ms (floor 100 ms)`,
  })
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
  recordFigure({
    scenario: 'hostile: endless redirect chain',
    cases: 1,
    detail: `final REDIRECT_LOOP after ${requests.length} requests in ${Date.now() - started} ms`,
  })
})

test('Retry-After of a year, in seconds or as an HTTP-date, is capped by maxDelayMs', async () => {
  const aYear = 365 * 24 * 3600
  const hints = [String(aYear), new Date(Date.now() + aYear * 1000).toUTCString()]
  const { url } = await serve((_, response, index) => {
    if (index < hints.length) {
      response.writeHead(index === 0 ? 503 : 429, { 'retry-after': hints[index]! })
      response.end()
      return
    }
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    response.end('{"seq":1}\n')
  })
  const delays: number[] = []
  const started = Date.now()
  const got: unknown[] = []
  for await (const r of ndjson(url, { retry: { maxDelayMs: 30 }, onRetry: ({ delayMs }) => delays.push(delayMs) }))
    got.push(r)
  expect(got).toEqual([{ seq: 1 }])
  expect(delays).toEqual([30, 30])
  recordFigure({
    scenario: 'hostile: Retry-After of a year (seconds, then HTTP-date), maxDelayMs 30',
    cases: 2,
    detail: `waited ${delays.join(' + ')} ms, delivered after ${Date.now() - started} ms`,
  })
})

test('a server that never sends headers is a CONNECT_TIMEOUT per attempt, then a final error with the attempt count', async () => {
  const { url, sockets } = await serve(() => {})
  const codes: string[] = []
  const started = Date.now()
  const error = await (async () => {
    for await (const _ of sse(url, {
      connectTimeoutMs: 200,
      retry: { initialDelayMs: 1, minDelayMs: 0, maxAttempts: 3 },
      onRetry: ({ error }) => codes.push(error.code),
    }));
  })().catch((e: SluiceError) => e)
  const elapsed = Date.now() - started
  expect((error as SluiceError).code).toBe('CONNECT_TIMEOUT')
  expect((error as SluiceError).attempts).toBe(3)
  expect(codes).toEqual(['CONNECT_TIMEOUT', 'CONNECT_TIMEOUT'])
  expect(elapsed).toBeGreaterThanOrEqual(3 * 200 - 20)
  expect(elapsed).toBeLessThan(5000)
  // Each abandoned attempt closed its connection: none is left hanging on the server.
  for (let i = 0; i < 100 && sockets.open > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  expect(sockets.open).toBe(0)
  recordFigure({
    scenario: 'hostile: a server that never sends headers (connectTimeoutMs 200, maxAttempts 3)',
    cases: 1,
    detail: `final CONNECT_TIMEOUT after ${sockets.used} requests in ${elapsed} ms; ${sockets.open} of their connections left open`,
  })
})

test('an id with CR, LF or NUL never reaches a header: the stream goes on, and resumes only from a sendable id', async () => {
  const { url, requests } = await serve((_, response, index) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    if (index === 0) {
      response.write('{"id":"a\\r\\nX-Injected: 1"}\n{"id":"b\\u0000"}\n{"id":"c')
      setImmediate(() => response.socket?.destroy())
    } else response.end('{"id":"d"}\n')
  })
  const got: string[] = []
  const error = await (async () => {
    for await (const r of ndjson<{ id: string }>(url, {
      idOf: (r) => r.id,
      retry: { initialDelayMs: 1, minDelayMs: 0 },
    }))
      got.push(r.id)
  })().catch((e: SluiceError) => e)
  expect(got).toEqual(['a\r\nX-Injected: 1', 'b\0'])
  expect((error as SluiceError).code).toBe('NETWORK_ERROR')
  expect(requests.every((r) => r.headers['last-event-id'] === undefined && r.headers['x-injected'] === undefined)).toBe(
    true,
  )
  expect(requests).toHaveLength(1)

  // The stream goes on past such ids: once a later record has a sendable id, that id resumes.
  const later = await serve((request, response, index) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    if (index === 0) {
      response.write('{"id":"1"}\n{"id":"2\\r\\nX-Injected: 1"}\n{"id":"3\\u0000"}\n{"id":"4"}\n{"id":"5')
      setImmediate(() => response.socket?.destroy())
    } else {
      const after = Number(request.headers['last-event-id'])
      response.end(
        [5, 6]
          .filter((n) => n > after)
          .map((n) => `{"id":"${n}"}\n`)
          .join(''),
      )
    }
  })
  const ids: string[] = []
  for await (const r of ndjson<{ id: string }>(later.url, {
    idOf: (r) => r.id,
    retry: { initialDelayMs: 1, minDelayMs: 0 },
  }))
    ids.push(r.id)
  expect(ids).toEqual(['1', '2\r\nX-Injected: 1', '3\0', '4', '5', '6'])
  expect(later.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '4'])
  expect(later.requests.every((r) => r.headers['x-injected'] === undefined)).toBe(true)
  recordFigure({
    scenario: 'hostile: ids with CR, LF or NUL',
    cases: 3,
    records: ids.length,
    lost: 0,
    duplicated: 0,
    detail: `never in a header (${requests.length + later.requests.length} requests checked); resumed from the last sendable id`,
  })

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

test('ids beyond Latin-1 (CJK, emoji) resume: Last-Event-ID carries their UTF-8 bytes, as EventSource sends them', async () => {
  const ids = ['é-1', '日本-2', '🚀-3', 'plain-4']
  // node:http hands header values over as Latin-1: the bytes, one per character.
  const sent = (request: IncomingMessage) => {
    const value = request.headers['last-event-id']
    return typeof value === 'string' ? Buffer.from(value, 'latin1').toString('utf8') : undefined
  }
  const after = (request: IncomingMessage) => ids.indexOf(sent(request) ?? '') + 1
  const events = await serve((request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    const from = after(request)
    // Two events per connection, then a cut without the end event: three reconnects in all.
    const body = ids
      .slice(from, from + 2)
      .map((id) => `id: ${id}\ndata: ${id}\n\n`)
      .join('')
    response.end(from + 2 >= ids.length ? `${body}event: end\ndata: {}\n\n` : body)
  })
  const got: string[] = []
  for await (const e of sse(events.url, { retry: { initialDelayMs: 1, minDelayMs: 0, maxAttempts: 2 } }))
    got.push(e.data)
  expect(got).toEqual(ids)
  expect(events.requests.map(sent)).toEqual([undefined, '日本-2'])

  const records = await serve((request, response, index) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    const from = after(request)
    if (index === 0) {
      response.write(
        ids
          .slice(0, 3)
          .map((id) => `${JSON.stringify({ id })}\n`)
          .join(''),
      )
      setImmediate(() => response.socket?.destroy())
    } else
      response.end(
        ids
          .slice(from)
          .map((id) => `${JSON.stringify({ id })}\n`)
          .join(''),
      )
  })
  const got2: string[] = []
  for await (const r of ndjson<{ id: string }>(records.url, {
    idOf: (r) => r.id,
    retry: { initialDelayMs: 1, minDelayMs: 0, maxAttempts: 2 },
  }))
    got2.push(r.id)
  expect(got2).toEqual(ids)
  expect(records.requests.map(sent)).toEqual([undefined, '🚀-3'])
  recordFigure({
    scenario: 'hostile: ids beyond Latin-1 (é, CJK, emoji) as resume positions',
    cases: 2,
    records: got.length + got2.length,
    lost: 2 * ids.length - new Set(got).size - new Set(got2).size,
    duplicated: got.length - new Set(got).size + got2.length - new Set(got2).size,
    detail: `resumed from the UTF-8 id each time (${events.requests.length + records.requests.length} requests)`,
  })
})

test('__proto__, constructor and prototype keys pollute nothing', async () => {
  const hostile =
    '{"seq":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true}}\n' +
    '{"seq":2,"nested":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}\n'
  const Record = z.looseObject({ seq: z.number(), nested: z.looseObject({}).optional() })
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
  expect(Object.hasOwn(raw[1]!.nested as object, '__proto__')).toBe(true)
  recordFigure({
    scenario: 'hostile: __proto__ / constructor / prototype keys, top level and nested',
    cases: 3,
    records: raw.length + validated.length + events.length,
    detail: 'no prototype polluted (raw, zod-validated, SSE json); __proto__ kept as an own key, as JSON.parse does',
  })
})

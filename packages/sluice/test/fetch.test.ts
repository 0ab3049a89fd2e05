/**
 * Contract points of `ndjson()` / `sse()` that a review found broken, each over a real loopback
 * server (node:http, sluice-server for the streams): no mocked fetch.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { ndjson, sse, type RecordStream, type SluiceError, type StreamState } from '../src/index.js'
import { listen } from './support/loopback.js'
import { ndjsonResponse, sseResponse } from 'sluice-server'
import { serve } from 'sluice-server/node'
import { startChaosServer, type ChaosServer, type Fault, type Format } from './support/chaos-server.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
  delete (globalThis as { document?: unknown }).document
})

async function chaos(format: Format, total: number, faults: Fault[], inclusive = false): Promise<ChaosServer> {
  const server = await startChaosServer({ format, total, plan: (n) => faults[n] ?? { kind: 'ok' }, inclusive })
  closers.push(() => server.close())
  return server
}

/** Records `seq` of a stream, from ndjson() records or sse() events carrying JSON data. */
async function seqs(stream: AsyncIterable<unknown>, perRecord?: () => Promise<void>): Promise<number[]> {
  const out: number[] = []
  for await (const item of stream) {
    const record = (typeof (item as { data?: unknown }).data === 'object' ? (item as { data: unknown }).data : item) as { seq: number }
    out.push(record.seq)
    await perRecord?.()
  }
  return out
}

interface Received {
  method: string
  headers: IncomingHttpHeaders
  body: string
}

/**
 * A server that logs each request's method, headers and body, then answers as `plan` says:
 * a status with no records, `hang` (never answer), or `ok`: `total` NDJSON records.
 * `open: true` writes `lines` and keeps the connection open.
 */
async function echoServer(plan: (n: number) => number | 'ok' | 'hang' | 'redirect', total = 3) {
  const received: Received[] = []
  let onRequest: (() => void) | undefined
  const server = await listen((request, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const step = plan(received.length)
      received.push({ method: request.method!, headers: request.headers, body: Buffer.concat(chunks).toString() })
      onRequest?.()
      if (step === 'hang') return
      if (step === 'redirect') {
        response.writeHead(302, { location: '/elsewhere' }).end()
      } else if (step !== 'ok') {
        response.writeHead(step, { 'content-type': 'text/plain' }).end(`status ${step}`)
      } else {
        response.writeHead(200, { 'content-type': 'application/x-ndjson' })
        response.end(range(total).map((seq) => `{"seq":${seq}}\n`).join(''))
      }
    })
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`,
    received,
    /** Resolves once the server has received `n` requests. */
    requests: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => received.length >= n && resolve()
        onRequest = check
        check()
      }),
  }
}

describe('counters.skipped', () => {
  test('is current while the connection is open, not only once an attempt ends', async () => {
    const lines = ['{"seq":0}', '{"seq":"not a number"}', '{"seq":2}'].join('\n') + '\n'
    const server = await listen((_, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' })
      response.write(lines) // and the connection stays open
    })
    const stream = ndjson(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
      schema: z.object({ seq: z.number() }),
      onInvalid: 'skip',
      idOf: (r) => r.seq,
    })
    const iterator = stream[Symbol.asyncIterator]()
    expect((await iterator.next()).value).toEqual({ seq: 0 })
    expect((await iterator.next()).value).toEqual({ seq: 2 })
    expect(stream.state).toBe('open')
    expect(stream.counters.skipped).toBe(1)
    stream.close()
    expect(await iterator.next()).toEqual({ value: undefined, done: true })
    expect(stream.counters.skipped).toBe(1) // counted once, not again when the attempt ends
  })
})

describe('stallTimeoutMs and idleTimeoutMs time the producer, not the consumer', () => {
  /** Records every 30 ms from after Last-Event-ID (and heartbeats, if asked): the producer is never stuck. */
  async function paced(format: Format, total: number, heartbeatMs = 0) {
    let requests = 0
    async function* records(from: number) {
      for (let seq = from; seq < total; seq++) {
        if (seq > from) await new Promise((resolve) => setTimeout(resolve, 30))
        yield { seq }
      }
    }
    const server = await serve((request) => {
      requests++
      const last = request.headers.get('last-event-id')
      const from = last === null ? 0 : Number(last) + 1
      return format === 'ndjson'
        ? ndjsonResponse(records(from), { heartbeatMs })
        : sseResponse((async function* () {
            for await (const r of records(from)) yield { id: r.seq, data: r }
          })(), { heartbeatMs })
    })
    closers.push(() => server.close())
    return { url: server.url, requests: () => requests }
  }
  // The consumer takes 200 ms per record, twice the stall timeout.
  const slowly = () => new Promise<void>((resolve) => setTimeout(resolve, 200))

  test('ndjson() without idOf: a slow consumer is no stall (it would be final there)', async () => {
    const server = await paced('ndjson', 3, 20)
    const stream = ndjson(server.url, { stallTimeoutMs: 100, retry: fast })
    expect(await seqs(stream, slowly)).toEqual(range(3))
    expect(server.requests()).toBe(1)
  })

  test.each(['ndjson', 'sse'] as const)('%s() with a resume id: a slow consumer causes no reconnect', async (format) => {
    const server = await paced(format, 3, 20)
    const retries: string[] = []
    const onRetry = ({ error }: { error: SluiceError }) => void retries.push(error.code)
    const options = { stallTimeoutMs: 100, retry: fast, onRetry }
    const stream: RecordStream<unknown> =
      format === 'ndjson' ? ndjson<{ seq: number }>(server.url, { ...options, idOf: (r) => r.seq }) : sse(server.url, { ...options, json: true })
    expect(await seqs(stream, slowly)).toEqual(range(3))
    expect(retries).toEqual([])
    expect(server.requests()).toBe(1)
  })

  test('a consumer that does not read is not a dead connection (idle timer, no heartbeats)', async () => {
    const server = await paced('ndjson', 3)
    const stream = ndjson<{ seq: number }>(server.url, { idleTimeoutMs: 100, retry: false })
    expect(await seqs(stream, slowly)).toEqual(range(3))
    expect(server.requests()).toBe(1)
  })
})

describe('pauseWhenHidden follows the retry and resume rules', () => {
  /** A `document` whose visibility the test sets (the stream looks for `globalThis.document`). */
  function page() {
    const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' })
    ;(globalThis as { document?: unknown }).document = doc
    return (state: 'hidden' | 'visible') => {
      doc.visibilityState = state
      doc.dispatchEvent(new Event('visibilitychange'))
    }
  }

  /** Reads 3 records, hides the page while a read is pending, waits for the pause or the end, shows it again. */
  async function hideAndShow(stream: RecordStream<unknown>, states: StreamState[], setPage: ReturnType<typeof page>) {
    const iterator = stream[Symbol.asyncIterator]()
    const got: number[] = []
    for (let i = 0; i < 3; i++) got.push(((await iterator.next()).value as { seq: number }).seq)
    const pending = iterator.next().then(
      (result) => ({ result }),
      (error: SluiceError) => ({ error }),
    )
    const settled = new Promise<void>((resolve) => {
      const check = () => (stream.state === 'retrying' || stream.state === 'closed' ? resolve() : setImmediate(check))
      check()
    })
    setPage('hidden')
    await settled
    const stateWhileHidden = stream.state
    setPage('visible')
    const outcome = await pending
    stream.close()
    return { got, stateWhileHidden, outcome, states }
  }

  test('ndjson() without idOf: hiding after records were delivered throws instead of replaying them', async () => {
    const setPage = page()
    const server = await chaos('ndjson', 10, [{ kind: 'stall', afterRecords: 3 }])
    const states: StreamState[] = []
    const stream = ndjson(server.url, { pauseWhenHidden: true, retry: fast, onStateChange: (s) => states.push(s) })
    const { got, stateWhileHidden, outcome } = await hideAndShow(stream, states, setPage)
    expect(got).toEqual([0, 1, 2])
    expect(stateWhileHidden).toBe('closed')
    expect('error' in outcome && outcome.error.code).toBe('NETWORK_ERROR')
    expect(server.requests).toHaveLength(1) // nothing replayed
  })

  test('a POST without explicit retry is not re-sent when the page is shown again', async () => {
    const setPage = page()
    const server = await chaos('ndjson', 10, [{ kind: 'stall', afterRecords: 3 }])
    const stream = ndjson<{ seq: number }>(server.url, { method: 'POST', body: '{}', idOf: (r) => r.seq, pauseWhenHidden: true })
    const { outcome, stateWhileHidden } = await hideAndShow(stream, [], setPage)
    expect(stateWhileHidden).toBe('closed')
    expect('error' in outcome && outcome.error.code).toBe('NETWORK_ERROR')
    expect(server.requests).toHaveLength(1) // no second paid generation
  })

  test('a resumable GET still pauses and resumes from the last id when shown', async () => {
    const setPage = page()
    const server = await chaos('ndjson', 10, [{ kind: 'stall', afterRecords: 3 }])
    const stream = ndjson<{ seq: number }>(server.url, { idOf: (r) => r.seq, pauseWhenHidden: true, retry: fast })
    const { got, stateWhileHidden, outcome } = await hideAndShow(stream, [], setPage)
    expect(got).toEqual([0, 1, 2])
    expect(stateWhileHidden).toBe('retrying')
    expect('result' in outcome && outcome.result.value).toEqual(expect.objectContaining({ seq: 3 }))
    expect(server.requests.map((r) => r.lastEventId)).toEqual([undefined, '2'])
  })
})

describe('a Request input is sent as given', () => {
  test('its method, headers and body arrive, on the retry after a 503 too', async () => {
    const server = await echoServer((n) => (n === 0 ? 503 : 'ok'))
    const request = new Request(server.url, { method: 'POST', headers: { 'x-client': 'r1' }, body: '{"q":1}' })
    expect(await seqs(ndjson(request, { retry: fast }))).toEqual(range(3))
    expect(server.received.map(({ method, headers, body }) => [method, headers['x-client'], body])).toEqual([
      ['POST', 'r1', '{"q":1}'],
      ['POST', 'r1', '{"q":1}'],
    ])
  })

  test('a ReadableStream body in the Request is re-sent on retry', async () => {
    const server = await echoServer((n) => (n === 0 ? 503 : 'ok'))
    const body = new Blob(['streamed body']).stream()
    const request = new Request(server.url, { method: 'POST', body, duplex: 'half' } as RequestInit)
    expect(await seqs(ndjson(request, { retry: fast }))).toEqual(range(3))
    expect(server.received.map((r) => r.body)).toEqual(['streamed body', 'streamed body'])
  })

  test('options override the Request', async () => {
    const server = await echoServer(() => 'ok')
    const request = new Request(server.url, { method: 'PUT', headers: { 'x-client': 'request' }, body: 'from request' })
    await seqs(ndjson(request, { method: 'POST', headers: { 'x-client': 'options' }, body: 'from options' }))
    expect(server.received.map(({ method, headers, body }) => [method, headers['x-client'], body])).toEqual([
      ['POST', 'options', 'from options'],
    ])
  })

  test('a ReadableStream body from options is sent (duplex) and, from a function, re-sent', async () => {
    const server = await echoServer((n) => (n === 0 ? 503 : 'ok'))
    const stream = ndjson(server.url, { method: 'POST', body: () => new Blob(['fresh']).stream(), retry: fast })
    expect(await seqs(stream)).toEqual(range(3))
    expect(server.received.map((r) => r.body)).toEqual(['fresh', 'fresh'])
  })

  test("its signal stops the stream", async () => {
    const server = await echoServer(() => 'hang')
    const controller = new AbortController()
    const stream = ndjson(new Request(server.url, { signal: controller.signal }), { connectTimeoutMs: 2000, retry: false })
    const pending = seqs(stream).catch((error: Error) => error)
    await server.requests(1)
    controller.abort(new Error('user left'))
    expect(((await pending) as Error).message).toBe('user left')
  })

  test("its redirect setting is kept (redirect: 'error' does not follow)", async () => {
    const server = await echoServer((n) => (n === 0 ? 'redirect' : 'ok'))
    const stream = ndjson(new Request(server.url, { redirect: 'error' }), { retry: false })
    const outcome = await seqs(stream).catch((error: SluiceError) => error)
    expect(outcome).toBeInstanceOf(Error)
    expect(server.received).toHaveLength(1)
  })
})

describe('a Request whose body was read already', () => {
  test('is refused at once with a TypeError, before any request (it could never be sent)', async () => {
    const request = new Request('http://127.0.0.1:9/', { method: 'POST', body: 'prompt' })
    await request.text()
    expect(() => ndjson(request)).toThrow(/body was already read/)
  })
})

describe('an inclusive replay is dropped on the first attempt too', () => {
  test.each(['ndjson', 'sse'] as const)('%s() started from options.lastEventId', async (format) => {
    const server = await chaos(format, 8, [], true)
    const stream: RecordStream<unknown> =
      format === 'ndjson'
        ? ndjson<{ seq: number }>(server.url, { idOf: (r) => r.seq, lastEventId: '4' })
        : sse(server.url, { json: true, lastEventId: '4' })
    expect(await seqs(stream)).toEqual([5, 6, 7])
    expect(server.requests.map((r) => r.lastEventId)).toEqual(['4'])
  })
})

describe('the fetch option', () => {
  test('may return another implementation\'s Response: undici from npm, not the global class', async () => {
    const { fetch: undiciFetch } = await import('undici')
    const server = await serve(() => ndjsonResponse(range(3).map((seq) => ({ seq }))))
    closers.push(() => server.close())
    const viaUndici = ((input: string, init?: RequestInit) => undiciFetch(input, init as object)) as unknown as typeof fetch
    const response = await viaUndici(server.url)
    expect(response instanceof Response).toBe(false) // the case this test is for
    await response.body?.cancel()
    const records: unknown[] = []
    for await (const record of ndjson(server.url, { fetch: viaUndici })) records.push(record)
    expect(records).toEqual([{ seq: 0 }, { seq: 1 }, { seq: 2 }])
  })
})

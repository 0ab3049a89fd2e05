/**
 * `ndjson()` / `sse()` (fetch.ts: the reconnect loop and what it does with each attempt), each
 * behaviour over a real loopback server (node:http, sluice-server for the streams): no mocked fetch.
 * The states, hooks and close() of the returned stream: record-stream.test.ts.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ndjsonResponse, sseResponse } from 'sluice-server'
import { serve } from 'sluice-server/node'
import { afterEach, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { ndjson, type RecordStream, type SluiceError, type StreamState, sse } from '../src/index.js'
import { type ChaosServer, type Fault, type Format, recordStart, startChaosServer } from './support/chaos-server.js'
import { listen } from './support/loopback.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
  delete (globalThis as { document?: unknown }).document
})

async function chaos(
  format: Format,
  total: number,
  faults: Fault[],
  inclusive = false,
  retryMs?: number,
): Promise<ChaosServer> {
  const server = await startChaosServer({
    format,
    total,
    plan: (n) => faults[n] ?? { kind: 'ok' },
    inclusive,
    ...(retryMs !== undefined ? { retryMs } : {}),
  })
  closers.push(() => server.close())
  return server
}

const ChaosRecord = z.object({ seq: z.number(), name: z.string(), text: z.string(), tags: z.array(z.unknown()) })

/** ndjson() (resumable by `seq`) or sse() with the chaos server's record schema; `seqs` reads either. */
function open(format: Format, url: string, extra: Record<string, unknown> = {}): RecordStream<unknown> {
  return format === 'ndjson'
    ? ndjson(url, { schema: ChaosRecord, idOf: (r) => r.seq, retry: fast, ...extra })
    : sse(url, { schema: ChaosRecord, retry: fast, ...extra })
}

/** Records `seq` of a stream, from ndjson() records or sse() events carrying JSON data. */
async function seqs(stream: AsyncIterable<unknown>, perRecord?: () => Promise<void>): Promise<number[]> {
  const out: number[] = []
  for await (const item of stream) {
    const record = (
      typeof (item as { data?: unknown }).data === 'object' ? (item as { data: unknown }).data : item
    ) as { seq: number }
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
        response.end(
          range(total)
            .map((seq) => `{"seq":${seq}}\n`)
            .join(''),
        )
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

describe.each(['ndjson', 'sse'] as const)('%s() over a chaos server', (format) => {
  test('sends Last-Event-ID with the last delivered id on reconnect', async () => {
    // Cut 5 bytes into record 3: records 0-2 are delivered.
    const server = await chaos(format, 10, [{ kind: 'cut', atByte: (await recordStart(format, 10, 3)) + 5 }])
    expect(await seqs(open(format, server.url))).toEqual(range(10))
    expect(server.requests.map((r) => r.lastEventId)).toEqual([undefined, '2'])
  })

  test('drops the repeated record of an inclusive replay', async () => {
    const server = await chaos(format, 6, [{ kind: 'cut', atByte: 200 }], true)
    expect(await seqs(open(format, server.url))).toEqual(range(6))
    expect(server.requests).toHaveLength(2)
  })

  test('starts from options.lastEventId', async () => {
    const server = await chaos(format, 8, [])
    expect(await seqs(open(format, server.url, { lastEventId: '4' }))).toEqual([5, 6, 7])
    expect(server.requests[0]!.lastEventId).toBe('4')
  })

  test('a 401 is final: thrown at once with its status, no retry', async () => {
    const server = await chaos(format, 5, [{ kind: 'status', status: 401, body: 'token expired' }])
    const error = (await seqs(open(format, server.url)).catch((e) => e)) as SluiceError & { status: number }
    expect(error.code).toBe('HTTP_ERROR')
    expect(error.status).toBe(401)
    expect(error.message).toContain('token expired')
    expect(error.attempts).toBe(1)
    expect(server.requests).toHaveLength(1)
  })

  test('a wrong content type is final', async () => {
    const server = await chaos(format, 5, [{ kind: 'wrong-type' }])
    const error = (await seqs(open(format, server.url)).catch((e) => e)) as SluiceError
    expect(error.code).toBe('CONTENT_TYPE')
    expect(error.message).toContain('text/html')
    expect(server.requests).toHaveLength(1)
  })

  test('204 ends the stream cleanly without reconnecting', async () => {
    const server = await chaos(format, 5, [{ kind: 'no-content' }])
    const stream = open(format, server.url)
    expect(await seqs(stream)).toEqual([])
    expect(stream.state).toBe('closed')
    expect(server.requests).toHaveLength(1)
  })

  test('an idle connection (no bytes) is aborted and resumed', async () => {
    const server = await chaos(format, 6, [{ kind: 'stall', afterRecords: 2 }])
    const retries: string[] = []
    // Generous timers: a loaded CI machine must not turn an ordinary gap into a timeout.
    const got = await seqs(
      open(format, server.url, {
        idleTimeoutMs: 500,
        onRetry: ({ error }: { error: SluiceError }) => retries.push(error.code),
      }),
    )
    expect(got).toEqual(range(6))
    expect(retries).toEqual(['IDLE_TIMEOUT'])
  })

  test('a producer stuck behind heartbeats is a stall, not idle', async () => {
    const server = await chaos(format, 6, [{ kind: 'stall', afterRecords: 2, heartbeatMs: 20 }])
    const retries: string[] = []
    const got = await seqs(
      open(format, server.url, {
        idleTimeoutMs: 5000,
        stallTimeoutMs: 500,
        onRetry: ({ error }: { error: SluiceError }) => retries.push(error.code),
      }),
    )
    expect(got).toEqual(range(6))
    expect(retries).toEqual(['STALL_TIMEOUT'])
  })

  test('a server that never sends headers hits the connect timeout', async () => {
    const server = await chaos(format, 3, [{ kind: 'no-headers' }])
    const retries: string[] = []
    const got = await seqs(
      open(format, server.url, {
        connectTimeoutMs: 500,
        onRetry: ({ error }: { error: SluiceError }) => retries.push(error.code),
      }),
    )
    expect(got).toEqual(range(3))
    expect(retries).toEqual(['CONNECT_TIMEOUT'])
  })

  test('headers from a function are evaluated again on every attempt', async () => {
    const server = await chaos(format, 4, [
      { kind: 'status', status: 500 },
      { kind: 'cut', atByte: 120 },
    ])
    let token = 0
    await seqs(open(format, server.url, { headers: () => ({ authorization: `Bearer ${++token}` }) }))
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer 1', 'Bearer 2', 'Bearer 3'])
  })
})

describe('ndjson() without idOf', () => {
  test('throws instead of replaying records after the first one was delivered', async () => {
    const server = await chaos('ndjson', 10, [{ kind: 'cut', atByte: 300 }])
    const got: number[] = []
    const error = await (async () => {
      for await (const r of ndjson<{ seq: number }>(server.url, { retry: fast })) got.push(r.seq)
    })().catch((e: SluiceError) => e)
    expect((error as SluiceError).code).toBe('NETWORK_ERROR')
    expect(got.length).toBeGreaterThan(0)
    expect(got).toEqual(range(got.length))
    expect(server.requests).toHaveLength(1)
  })

  test('still retries failures before the first record', async () => {
    const server = await chaos('ndjson', 3, [{ kind: 'status', status: 503 }])
    expect(await seqs(ndjson<{ seq: number }>(server.url, { retry: fast }))).toEqual([0, 1, 2])
  })
})

describe('non-idempotent requests', () => {
  test('a POST is not re-sent unless retry is given', async () => {
    const server = await chaos('ndjson', 3, [{ kind: 'status', status: 503 }])
    const error = (await seqs(ndjson<{ seq: number }>(server.url, { method: 'POST', body: '{}' })).catch(
      (e) => e,
    )) as SluiceError
    expect(error.code).toBe('HTTP_ERROR')
    expect(server.requests).toHaveLength(1)
  })

  test('a POST is re-sent with a fresh body when retry is asked for', async () => {
    const server = await chaos('ndjson', 3, [{ kind: 'status', status: 503 }])
    let bodies = 0
    const stream = ndjson<{ seq: number }>(server.url, { method: 'POST', body: () => `{"n":${++bodies}}`, retry: fast })
    expect(await seqs(stream)).toEqual([0, 1, 2])
    expect(bodies).toBe(2)
  })
})

describe('server hints', () => {
  test('Retry-After sets the delay, capped by maxDelayMs', async () => {
    const server = await chaos('ndjson', 3, [
      { kind: 'status', status: 503, retryAfter: '0' },
      { kind: 'status', status: 429, retryAfter: '3600' },
    ])
    const delays: number[] = []
    const stream = ndjson<{ seq: number }>(server.url, {
      retry: { initialDelayMs: 1, minDelayMs: 0, maxDelayMs: 40 },
      onRetry: ({ delayMs }) => delays.push(delayMs),
    })
    expect(await seqs(stream)).toEqual([0, 1, 2])
    expect(delays).toEqual([0, 40])
  })

  test('the SSE retry: field sets the reconnection delay', async () => {
    const server = await chaos('sse', 4, [{ kind: 'cut', atByte: (await recordStart('sse', 4, 2)) + 3 }], false, 37)
    const delays: number[] = []
    const stream = sse(server.url, {
      json: true,
      retry: { minDelayMs: 0 },
      onRetry: ({ delayMs }) => delays.push(delayMs),
    })
    const got: number[] = []
    for await (const event of stream) got.push((event.data as { seq: number }).seq)
    expect(got).toEqual([0, 1, 2, 3])
    expect(delays).toEqual([37])
  })

  test('events carry the retry value of their block', async () => {
    const server = await chaos('sse', 2, [], false, 250)
    const retries: (number | undefined)[] = []
    for await (const event of sse(server.url)) retries.push(event.retry)
    expect(retries[0]).toBe(250)
  })
})

describe('sse()', () => {
  test('reconnects when the stream ends without the end event', async () => {
    const server = await chaos('sse', 5, [{ kind: 'end-early', atByte: await recordStart('sse', 5, 2) }])
    const stream = open('sse', server.url)
    expect(await seqs(stream)).toEqual(range(5))
    expect(stream.counters.reconnects).toBe(1)
    expect(server.requests[1]!.lastEventId).toBe('1')
  })
})

describe('counters.skipped', () => {
  test('is current while the connection is open, not only once an attempt ends', async () => {
    const lines = `${['{"seq":0}', '{"seq":"not a number"}', '{"seq":2}'].join('\n')}\n`
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
        : sseResponse(
            (async function* () {
              for await (const r of records(from)) yield { id: r.seq, data: r }
            })(),
            { heartbeatMs },
          )
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

  test.each(['ndjson', 'sse'] as const)(
    '%s() with a resume id: a slow consumer causes no reconnect',
    async (format) => {
      const server = await paced(format, 3, 20)
      const retries: string[] = []
      const onRetry = ({ error }: { error: SluiceError }) => void retries.push(error.code)
      const options = { stallTimeoutMs: 100, retry: fast, onRetry }
      const stream: RecordStream<unknown> =
        format === 'ndjson'
          ? ndjson<{ seq: number }>(server.url, { ...options, idOf: (r) => r.seq })
          : sse(server.url, { ...options, json: true })
      expect(await seqs(stream, slowly)).toEqual(range(3))
      expect(retries).toEqual([])
      expect(server.requests()).toBe(1)
    },
  )

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
    const stream = ndjson<{ seq: number }>(server.url, {
      method: 'POST',
      body: '{}',
      idOf: (r) => r.seq,
      pauseWhenHidden: true,
    })
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

  test('its signal stops the stream', async () => {
    const server = await echoServer(() => 'hang')
    const controller = new AbortController()
    const stream = ndjson(new Request(server.url, { signal: controller.signal }), {
      connectTimeoutMs: 2000,
      retry: false,
    })
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

describe('resume: reconnects through another request', () => {
  /** POST /generations starts a generation of `total` records, cut after `cutAfter`; GET /generations/g1/stream?after=N resumes it. */
  async function generations(format: Format, total: number, cutAfter: number) {
    const log: string[] = []
    const server = await serve(async (request) => {
      const url = new URL(request.url)
      log.push(`${request.method} ${url.pathname}${url.search}`)
      const after = url.searchParams.get('after')
      const from = after === null ? 0 : Number(after) + 1
      const to = after === null ? cutAfter : total
      const seqs = range(to).slice(from)
      // The first response is cut mid-stream: it ends without the end marker.
      if (format === 'ndjson') {
        const end = to === total ? `{"$sluice":"end","count":${seqs.length}}\n` : ''
        return new Response(seqs.map((seq) => `{"seq":${seq}}\n`).join('') + end, {
          headers: { 'content-type': 'application/x-ndjson' },
        })
      }
      const end = to === total ? `event: end\ndata: {"count":${seqs.length}}\n\n` : ''
      return new Response(seqs.map((seq) => `id: ${seq}\ndata: {"seq":${seq}}\n\n`).join('') + end, {
        headers: { 'content-type': 'text/event-stream' },
      })
    })
    closers.push(() => server.close())
    return { url: `${server.url}/generations`, log, base: server.url }
  }

  for (const format of ['ndjson', 'sse'] as const) {
    test(`${format}(): a POST that starts a generation resumes by GET with the cursor: no loss, no duplicate`, async () => {
      const { url, log, base } = await generations(format, 6, 3)
      const options = {
        method: 'POST',
        body: '{"prompt":"hi"}',
        retry: undefined,
        resume: (id: string) => `${base}/generations/g1/stream?after=${id}`,
      }
      const stream =
        format === 'ndjson'
          ? ndjson<{ seq: number }>(url, { ...options, idOf: (r) => r.seq, requireEnd: true })
          : sse(url, { ...options, json: true })
      expect(await seqs(stream)).toEqual(range(6))
      expect(log).toEqual(['POST /generations', 'GET /generations/g1/stream?after=2'])
    })
  }

  test('a resume function that throws is a final error, thrown as it is, with no further request', async () => {
    const { url, log } = await generations('ndjson', 6, 3)
    const broken = new Error('no generation id yet')
    let retried = 0
    const stream = ndjson<{ seq: number }>(url, {
      idOf: (r) => r.seq,
      requireEnd: true,
      retry: fast,
      onRetry: () => retried++,
      resume: () => {
        throw broken
      },
    })
    const got: number[] = []
    await expect(
      (async () => {
        for await (const r of stream) got.push(r.seq)
      })(),
    ).rejects.toBe(broken)
    expect(got).toEqual([0, 1, 2])
    expect(retried).toBe(1)
    expect(log).toEqual(['GET /generations'])
    expect(stream.state).toBe('closed')
  })

  test('a POST without explicit retry that fails before any resume position is not re-sent, even with resume', async () => {
    const { url, log } = await generations('ndjson', 6, 0)
    const stream = ndjson<{ seq: number }>(url, {
      method: 'POST',
      idOf: (r) => r.seq,
      requireEnd: true,
      resume: (id) => `${url}?after=${id}`,
    })
    await expect(seqs(stream)).rejects.toMatchObject({ code: 'TRUNCATED_STREAM' })
    expect(log).toEqual(['POST /generations'])
  })
})

describe('shouldRetry: the caller decides', () => {
  test('a 401 is retried once after headers() refreshed the token, then the stream completes (real server)', async () => {
    const seen: (string | undefined)[] = []
    const server = await serve((request) => {
      const auth = request.headers.get('authorization') ?? undefined
      seen.push(auth)
      if (auth !== 'Bearer fresh') return new Response('token expired', { status: 401 })
      return ndjsonResponse([{ seq: 0 }, { seq: 1 }])
    })
    closers.push(() => server.close())
    let token = 'stale'
    const asked: { code: string; attempt: number; lastEventId: string | undefined }[] = []
    const stream = ndjson<{ seq: number }>(server.url, {
      retry: fast,
      headers: () => ({ authorization: `Bearer ${token}` }),
      shouldRetry: async (error, { attempt, lastEventId }) => {
        asked.push({ code: error.code, attempt, lastEventId })
        if ((error as { status?: number }).status !== 401 || attempt > 1) return false
        token = await Promise.resolve('fresh')
        return true
      },
    })
    expect(await seqs(stream)).toEqual([0, 1])
    expect(seen).toEqual(['Bearer stale', 'Bearer fresh'])
    expect(asked).toEqual([{ code: 'HTTP_ERROR', attempt: 1, lastEventId: undefined }])
  })

  test('false stops a failure the default policy retries (a 503 in maintenance), { delayMs } sets the wait', async () => {
    let requests = 0
    const server = await serve(() => {
      requests++
      return new Response(requests === 1 ? 'busy' : 'maintenance', { status: 503 })
    })
    closers.push(() => server.close())
    const delays: number[] = []
    const stream = ndjson(server.url, {
      retry: { ...fast, maxDelayMs: 1000 },
      onRetry: ({ delayMs }) => delays.push(delayMs),
      shouldRetry: (error) => ((error as { snippet?: string }).snippet === 'maintenance' ? false : { delayMs: 20 }),
    })
    await expect(seqs(stream)).rejects.toMatchObject({ code: 'HTTP_ERROR', status: 503, attempts: 2 })
    expect(delays).toEqual([20])
    expect(requests).toBe(2)
  })

  test('a shouldRetry that throws ends the stream with what it threw', async () => {
    const server = await serve(() => new Response('nope', { status: 500 }))
    closers.push(() => server.close())
    const bug = new Error('bug in shouldRetry')
    const stream = ndjson(server.url, {
      retry: fast,
      shouldRetry: () => {
        throw bug
      },
    })
    await expect(seqs(stream)).rejects.toBe(bug)
    expect(stream.state).toBe('closed')
  })
})

describe('the server heartbeat announcement', () => {
  test('without idleTimeoutMs, a connection silent for 3 announced heartbeats (at least 1 s) is dead: reconnect and resume', async () => {
    let requests = 0
    const server = await listen((request, response) => {
      requests++
      const from = request.headers['last-event-id'] === undefined ? 0 : Number(request.headers['last-event-id']) + 1
      response.writeHead(200, { 'content-type': 'application/x-ndjson', 'sluice-heartbeat-ms': '100' })
      response.write(`{"seq":${from}}\n`)
      // The first connection goes silent (half-open, say): no heartbeat, no end.
      if (requests > 1) response.end(`{"seq":${from + 1}}\n{"$sluice":"end","count":2}\n`)
    })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const errors: string[] = []
    const started = Date.now()
    const stream = ndjson<{ seq: number }>(url, {
      idOf: (r) => r.seq,
      retry: fast,
      onRetry: ({ error }) => errors.push(error.code),
    })
    expect(await seqs(stream)).toEqual([0, 1, 2])
    expect(errors).toEqual(['IDLE_TIMEOUT'])
    // The floor: 3 x 100 ms would be 300 ms; the idle timeout is at least a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
  })

  test('an explicit idleTimeoutMs wins over the announcement', async () => {
    const server = await listen((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson', 'sluice-heartbeat-ms': '60000' })
      response.write('{"seq":0}\n')
    })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const stream = ndjson<{ seq: number }>(url, { idleTimeoutMs: 100, retry: false })
    await expect(seqs(stream)).rejects.toMatchObject({ code: 'IDLE_TIMEOUT', timeoutMs: 100 })
  })
})

describe('the fetch option', () => {
  test("may return another implementation's Response: undici from npm, not the global class", async () => {
    const { fetch: undiciFetch } = await import('undici')
    const server = await serve(() => ndjsonResponse(range(3).map((seq) => ({ seq }))))
    closers.push(() => server.close())
    const viaUndici = ((input: string, init?: RequestInit) =>
      undiciFetch(input, init as object)) as unknown as typeof fetch
    const response = await viaUndici(server.url)
    expect(response instanceof Response).toBe(false) // the case this test is for
    await response.body?.cancel()
    const records: unknown[] = []
    for await (const record of ndjson(server.url, { fetch: viaUndici })) records.push(record)
    expect(records).toEqual([{ seq: 0 }, { seq: 1 }, { seq: 2 }])
  })
})

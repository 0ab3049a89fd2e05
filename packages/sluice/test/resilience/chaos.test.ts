import fc from 'fast-check'
import { afterEach, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { ndjson, sse, type RecordStream, type SluiceError } from '../../src/index.js'
import { recordFigure } from '../support/figures.js'
import { bodyFor, startChaosServer, type ChaosServer, type Fault, type Format } from '../support/chaos-server.js'

const Record = z.object({ seq: z.number(), name: z.string(), text: z.string(), tags: z.array(z.unknown()) })
const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }

let servers: ChaosServer[] = []
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()))
  servers = []
})

async function serve(format: Format, total: number, faults: Fault[], inclusive = false, retryMs?: number) {
  const server = await startChaosServer({
    format,
    total,
    plan: (n) => faults[n] ?? { kind: 'ok' },
    inclusive,
    ...(retryMs !== undefined ? { retryMs } : {}),
  })
  servers.push(server)
  return server
}

function open(format: Format, url: string, extra: Record<string, unknown> = {}): RecordStream<{ seq: number }> {
  if (format === 'ndjson') {
    return ndjson(url, { schema: Record, idOf: (r) => r.seq, retry: fast, ...extra }) as RecordStream<{ seq: number }>
  }
  return sse(url, { schema: Record, retry: fast, ...extra }).map((event) => event.data)
}

async function seqs(stream: AsyncIterable<{ seq: number }>): Promise<number[]> {
  const out: number[] = []
  for await (const r of stream) out.push(r.seq)
  return out
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** The byte offset where `marker` starts in the body of `total` records (bodies hold multi-byte text). */
async function byteOffsetOf(format: Format, total: number, marker: string): Promise<number> {
  const body = await bodyFor(format, 0, total)
  return Buffer.byteLength(body.slice(0, body.indexOf(marker)))
}

/** The byte offset where record `seq` starts on the wire. */
const recordStart = (format: Format, total: number, seq: number) =>
  byteOffsetOf(format, total, format === 'ndjson' ? `{"seq":${seq},` : `id: ${seq}\n`)

describe.each(['ndjson', 'sse'] as const)('%s()', (format) => {
  test('delivers every record once and in order over hundreds of random faults', async () => {
    const total = 12
    const full = Buffer.byteLength(await bodyFor(format, 0, total))
    const fault = fc.oneof(
      fc.integer({ min: 0, max: full }).map((atByte): Fault => ({ kind: 'cut', atByte })),
      fc.integer({ min: 0, max: full }).map((atByte): Fault => ({ kind: 'end-early', atByte })),
      fc.constantFrom<Fault>(
        { kind: 'status', status: 500 },
        { kind: 'status', status: 503, retryAfter: '0' },
        { kind: 'status', status: 429 },
        { kind: 'status', status: 502, retryAfter: new Date(0).toUTCString() },
      ),
    )
    let faultsInjected = 0
    let cases = 0
    let records = 0
    let lost = 0
    let duplicated = 0
    await fc.assert(
      fc.asyncProperty(fc.array(fault, { maxLength: 6 }), fc.boolean(), async (faults, inclusive) => {
        const server = await serve(format, total, faults, inclusive)
        const got = await seqs(open(format, server.url, { requireEnd: true }))
        // Faults that struck: every request after the first was a reconnect caused by one.
        faultsInjected += server.requests.length - 1
        cases++
        records += got.length
        duplicated += got.length - new Set(got).size
        lost += range(total).filter((seq) => !got.includes(seq)).length
        await server.close()
        servers = servers.filter((s) => s !== server)
        expect(got).toEqual(range(total))
      }),
      { numRuns: 120 },
    )
    expect(faultsInjected).toBeGreaterThan(150) // faults that struck (a planned one after the end marker never does)
    recordFigure({
      scenario: `chaos property (${format}): random cuts, early ends, 5xx/429 with Retry-After, exclusive and inclusive replay`,
      cases,
      faults: faultsInjected,
      records,
      lost,
      duplicated,
    })
  }, 90_000)

  test('sends Last-Event-ID with the last delivered id on reconnect', async () => {
    // Cut 5 bytes into record 3: records 0-2 are delivered.
    const server = await serve(format, 10, [{ kind: 'cut', atByte: await recordStart(format, 10, 3) + 5 }])
    expect(await seqs(open(format, server.url))).toEqual(range(10))
    expect(server.requests.map((r) => r.lastEventId)).toEqual([undefined, '2'])
  })

  test('drops the repeated record of an inclusive replay', async () => {
    const server = await serve(format, 6, [{ kind: 'cut', atByte: 200 }], true)
    expect(await seqs(open(format, server.url))).toEqual(range(6))
    expect(server.requests).toHaveLength(2)
  })

  test('starts from options.lastEventId', async () => {
    const server = await serve(format, 8, [])
    expect(await seqs(open(format, server.url, { lastEventId: '4' }))).toEqual([5, 6, 7])
    expect(server.requests[0]!.lastEventId).toBe('4')
  })

  test('a 401 is final: thrown at once with its status, no retry', async () => {
    const server = await serve(format, 5, [{ kind: 'status', status: 401, body: 'token expired' }])
    const error = (await seqs(open(format, server.url)).catch((e) => e)) as SluiceError & { status: number }
    expect(error.code).toBe('HTTP_ERROR')
    expect(error.status).toBe(401)
    expect(error.message).toContain('token expired')
    expect(error.attempts).toBe(1)
    expect(server.requests).toHaveLength(1)
  })

  test('a wrong content type is final', async () => {
    const server = await serve(format, 5, [{ kind: 'wrong-type' }])
    const error = (await seqs(open(format, server.url)).catch((e) => e)) as SluiceError
    expect(error.code).toBe('CONTENT_TYPE')
    expect(error.message).toContain('text/html')
    expect(server.requests).toHaveLength(1)
  })

  test('204 ends the stream cleanly without reconnecting', async () => {
    const server = await serve(format, 5, [{ kind: 'no-content' }])
    const stream = open(format, server.url)
    expect(await seqs(stream)).toEqual([])
    expect(stream.state).toBe('closed')
    expect(server.requests).toHaveLength(1)
  })

  test('gives up after maxAttempts failures in a row, reporting the attempts', async () => {
    const server = await serve(format, 5, Array(10).fill({ kind: 'status', status: 503 }))
    const stream = open(format, server.url, { retry: { ...fast, maxAttempts: 3 } })
    const error = (await seqs(stream).catch((e) => e)) as SluiceError
    expect(error.code).toBe('HTTP_ERROR')
    expect(error.attempts).toBe(3)
    expect(server.requests).toHaveLength(3)
    expect(stream.counters.reconnects).toBe(2)
  })

  test('an idle connection (no bytes) is aborted and resumed', async () => {
    const server = await serve(format, 6, [{ kind: 'stall', afterRecords: 2 }])
    const retries: string[] = []
    // Generous timers: a loaded CI machine must not turn an ordinary gap into a timeout.
    const got = await seqs(
      open(format, server.url, { idleTimeoutMs: 500, onRetry: ({ error }: { error: SluiceError }) => retries.push(error.code) }),
    )
    expect(got).toEqual(range(6))
    expect(retries).toEqual(['IDLE_TIMEOUT'])
  })

  test('a producer stuck behind heartbeats is a stall, not idle', async () => {
    const server = await serve(format, 6, [{ kind: 'stall', afterRecords: 2, heartbeatMs: 20 }])
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
    const server = await serve(format, 3, [{ kind: 'no-headers' }])
    const retries: string[] = []
    const got = await seqs(
      open(format, server.url, { connectTimeoutMs: 500, onRetry: ({ error }: { error: SluiceError }) => retries.push(error.code) }),
    )
    expect(got).toEqual(range(3))
    expect(retries).toEqual(['CONNECT_TIMEOUT'])
  })

  test('headers from a function are evaluated again on every attempt', async () => {
    const server = await serve(format, 4, [{ kind: 'status', status: 500 }, { kind: 'cut', atByte: 120 }])
    let token = 0
    await seqs(open(format, server.url, { headers: () => ({ authorization: `Bearer ${++token}` }) }))
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer 1', 'Bearer 2', 'Bearer 3'])
  })

  test('close() mid-backoff ends iteration at once and leaves no timer behind', async () => {
    const server = await serve(format, 4, [{ kind: 'status', status: 503, retryAfter: '3600' }])
    const stream = open(format, server.url, { retry: { maxDelayMs: 60_000 } })
    const states: string[] = []
    const iterator = stream[Symbol.asyncIterator]()
    const pending = iterator.next()
    while (stream.state !== 'retrying') await new Promise((resolve) => setImmediate(resolve))
    expect(stream.retryAt! - Date.now()).toBeGreaterThan(50_000) // Retry-After of an hour, capped at maxDelayMs
    states.push(stream.state)
    stream.close()
    expect(await pending).toEqual({ value: undefined, done: true })
    expect(stream.state).toBe('closed')
    expect(states).toEqual(['retrying'])
  })

  test('an aborted signal rejects with its reason', async () => {
    const server = await serve(format, 4, [{ kind: 'no-headers' }])
    const controller = new AbortController()
    const stream = open(format, server.url, { signal: controller.signal })
    const pending = seqs(stream).catch((e) => e)
    setImmediate(() => controller.abort(new Error('user left')))
    expect(((await pending) as Error).message).toBe('user left')
  })
})

describe('ndjson() without idOf', () => {
  test('throws instead of replaying records after the first one was delivered', async () => {
    const server = await serve('ndjson', 10, [{ kind: 'cut', atByte: 300 }])
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
    const server = await serve('ndjson', 3, [{ kind: 'status', status: 503 }])
    expect(await seqs(ndjson<{ seq: number }>(server.url, { retry: fast }))).toEqual([0, 1, 2])
  })
})

describe('non-idempotent requests', () => {
  test('a POST is not re-sent unless retry is given', async () => {
    const server = await serve('ndjson', 3, [{ kind: 'status', status: 503 }])
    const error = (await seqs(ndjson<{ seq: number }>(server.url, { method: 'POST', body: '{}' })).catch(
      (e) => e,
    )) as SluiceError
    expect(error.code).toBe('HTTP_ERROR')
    expect(server.requests).toHaveLength(1)
  })

  test('a POST is re-sent with a fresh body when retry is asked for', async () => {
    const server = await serve('ndjson', 3, [{ kind: 'status', status: 503 }])
    let bodies = 0
    const stream = ndjson<{ seq: number }>(server.url, { method: 'POST', body: () => `{"n":${++bodies}}`, retry: fast })
    expect(await seqs(stream)).toEqual([0, 1, 2])
    expect(bodies).toBe(2)
  })
})

describe('server hints', () => {
  test("Retry-After sets the delay, capped by maxDelayMs", async () => {
    const server = await serve('ndjson', 3, [
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
    const server = await serve('sse', 4, [{ kind: 'cut', atByte: await recordStart('sse', 4, 2) + 3 }], false, 37)
    const delays: number[] = []
    const stream = sse(server.url, { json: true, retry: { minDelayMs: 0 }, onRetry: ({ delayMs }) => delays.push(delayMs) })
    const got: number[] = []
    for await (const event of stream) got.push((event.data as { seq: number }).seq)
    expect(got).toEqual([0, 1, 2, 3])
    expect(delays).toEqual([37])
  })

  test('events carry the retry value of their block', async () => {
    const server = await serve('sse', 2, [], false, 250)
    const retries: (number | undefined)[] = []
    for await (const event of sse(server.url)) retries.push(event.retry)
    expect(retries[0]).toBe(250)
  })
})

describe('leaving nothing behind', () => {
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

  test('close() mid-backoff clears the backoff timer', async () => {
    const before = timers()
    const server = await serve('ndjson', 3, [{ kind: 'status', status: 503, retryAfter: '60' }])
    const stream = ndjson(server.url, { retry: { maxDelayMs: 60_000 } })
    const pending = stream[Symbol.asyncIterator]().next()
    while (stream.state !== 'retrying') await new Promise((resolve) => setImmediate(resolve))
    expect(timers()).toBeGreaterThan(before)
    stream.close()
    await pending
    expect(timers()).toBe(before)
  })

  test('break out of for await closes the stream and its connection', async () => {
    const before = timers()
    const server = await serve('ndjson', 50, [{ kind: 'stall', afterRecords: 5 }])
    const stream = ndjson<{ seq: number }>(server.url, { idOf: (r) => r.seq, idleTimeoutMs: 10_000 })
    for await (const r of stream) if (r.seq === 2) break
    expect(stream.state).toBe('closed')
    expect(timers()).toBe(before)
  })
})

describe('sse()', () => {
  test('reconnects when the stream ends without the end event', async () => {
    const server = await serve('sse', 5, [{ kind: 'end-early', atByte: await recordStart('sse', 5, 2) }])
    const stream = open('sse', server.url)
    expect(await seqs(stream)).toEqual(range(5))
    expect(stream.counters.reconnects).toBe(1)
    expect(server.requests[1]!.lastEventId).toBe('1')
  })
})

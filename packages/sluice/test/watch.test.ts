/**
 * The idle and stall timers around a body's reads (watch.ts): `watch()` itself on a body reader the
 * test feeds, under fake timers; then `ndjson()` / `sse()` over real loopback servers: a dead
 * connection and a stuck producer are retried, a slow consumer is neither, and the server's
 * heartbeat announcement sets the idle timeout.
 */
import { ndjsonResponse, sseResponse } from 'sluice-server'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { z } from 'zod'
import { ContentTypeError, type SluiceError } from '../src/errors.js'
import { ndjson, type RecordStream, type RetryInfo, sse } from '../src/index.js'
import type { ChunkReader, RawRead } from '../src/source.js'
import { type WatchOptions, watch } from '../src/watch.js'
import { chaos, type Format, openChaos } from './support/chaos-server.js'
import { listen, serveForTest, urlOf } from './support/loopback.js'
import { fast, range, seqs } from './support/streams.js'

/**
 * `watch()` around a body reader the test feeds: each read waits for `send`, `fail`, or a cancel
 * (which ends it, as a stream's cancel does). The body fails a pending read with the reason when
 * the attempt is aborted, as a fetch body does, unless `tied: false`.
 */
function watched(
  options: WatchOptions = {},
  {
    received = () => 0,
    sniff,
    tied = true,
  }: { received?: () => number; sniff?: (chunk: Uint8Array) => SluiceError | undefined; tied?: boolean } = {},
) {
  const attempt = new AbortController()
  const counters = { bytes: 0 }
  const cancelled: unknown[] = []
  let pending: { resolve: (result: RawRead) => void; reject: (error: unknown) => void } | undefined
  if (tied) attempt.signal.addEventListener('abort', () => pending?.reject(attempt.signal.reason))
  const body: ChunkReader = {
    read: () => new Promise((resolve, reject) => (pending = { resolve, reject })),
    cancel: async (reason) => {
      cancelled.push(reason)
      pending?.resolve({ done: true, value: undefined })
    },
  }
  return {
    attempt,
    counters,
    cancelled,
    reader: watch(body, attempt, counters, options, received, sniff),
    send: (chunk: Uint8Array | string) => pending!.resolve({ done: false, value: chunk }),
    fail: (error: unknown) => pending!.reject(error),
  }
}

/** A read's outcome so far: `pending` until it settles. */
function track(read: Promise<RawRead>) {
  const state: { outcome: 'pending' | RawRead | { error: unknown } } = { outcome: 'pending' }
  read.then(
    (result) => (state.outcome = result),
    (error: unknown) => (state.outcome = { error }),
  )
  return state
}

const bytes = (text: string) => new TextEncoder().encode(text)

describe('watch(): the timers around a read', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  test('passes each read through, counting the bytes of each chunk', async () => {
    const { reader, send, counters } = watched()
    const first = reader.read()
    send(bytes('{"seq":0}\n'))
    expect(await first).toEqual({ done: false, value: bytes('{"seq":0}\n') })
    const second = reader.read()
    send(bytes('é\n'))
    await second
    expect(counters.bytes).toBe(13)
  })

  test('with neither idleTimeoutMs nor stallTimeoutMs, no timer runs', async () => {
    vi.useFakeTimers()
    const { reader, send } = watched()
    const read = reader.read()
    expect(vi.getTimerCount()).toBe(0)
    send(bytes('x'))
    await read
  })

  test('a read that waits idleTimeoutMs for a byte aborts the attempt with IDLE_TIMEOUT, cancels the body and rejects with it', async () => {
    vi.useFakeTimers()
    const { reader, attempt, cancelled } = watched({ idleTimeoutMs: 1000 })
    const read = track(reader.read())
    await vi.advanceTimersByTimeAsync(999)
    expect(read.outcome).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    const error = attempt.signal.reason as SluiceError
    expect(error).toMatchObject({ code: 'IDLE_TIMEOUT', timeoutMs: 1000 })
    expect(read.outcome).toEqual({ error })
    expect(cancelled).toEqual([error])
  })

  test('the idle timer runs only while a read waits: the time a consumer spends between reads is not counted', async () => {
    vi.useFakeTimers()
    const { reader, send, attempt } = watched({ idleTimeoutMs: 1000 })
    for (let i = 0; i < 3; i++) {
      const read = track(reader.read())
      await vi.advanceTimersByTimeAsync(900)
      send(bytes('x'))
      await vi.advanceTimersByTimeAsync(0)
      expect(read.outcome).toMatchObject({ done: false })
      expect(vi.getTimerCount()).toBe(0) // cleared once the read settled
      await vi.advanceTimersByTimeAsync(5000) // the consumer is busy
    }
    expect(attempt.signal.aborted).toBe(false)
  })

  test('bytes but no record for stallTimeoutMs: STALL_TIMEOUT, although the idle timer never fires', async () => {
    vi.useFakeTimers()
    const { reader, send, attempt } = watched({ idleTimeoutMs: 1000, stallTimeoutMs: 2500 })
    let read = track(reader.read())
    // A heartbeat every 500 ms: the connection is alive, the producer is not.
    for (let t = 500; t <= 2000; t += 500) {
      await vi.advanceTimersByTimeAsync(500)
      send(bytes('\n'))
      await vi.advanceTimersByTimeAsync(0)
      read = track(reader.read())
    }
    await vi.advanceTimersByTimeAsync(499)
    expect(read.outcome).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    const error = attempt.signal.reason as SluiceError
    expect(error).toMatchObject({ code: 'STALL_TIMEOUT', timeoutMs: 2500 })
    expect(read.outcome).toEqual({ error })
  })

  test('a record received restarts the stall clock at the next read', async () => {
    vi.useFakeTimers()
    let received = 0
    const { reader, send, attempt } = watched({ stallTimeoutMs: 1000 }, { received: () => received })
    for (let i = 0; i < 4; i++) {
      const read = track(reader.read())
      await vi.advanceTimersByTimeAsync(800)
      send(bytes('{"seq":0}\n'))
      await vi.advanceTimersByTimeAsync(0)
      expect(read.outcome).toMatchObject({ done: false })
      received++
    }
    expect(attempt.signal.aborted).toBe(false)
  })

  test('a stall clock that ran out before the read fails it at once', async () => {
    vi.useFakeTimers()
    const { reader, send, attempt, cancelled } = watched({ stallTimeoutMs: 1000 })
    const first = reader.read()
    await vi.advanceTimersByTimeAsync(600)
    send(bytes('\n'))
    await first
    vi.setSystemTime(Date.now() + 600)
    await expect(reader.read()).rejects.toMatchObject({ code: 'STALL_TIMEOUT' })
    expect(attempt.signal.reason).toMatchObject({ code: 'STALL_TIMEOUT' })
    expect(cancelled).toHaveLength(1)
  })

  test('a body that ends when cancelled (not tied to the attempt, as a custom fetch may give) still fails with the timeout', async () => {
    vi.useFakeTimers()
    // A cancelled read resolves { done: true }: it must not pass for the end of the body.
    const { reader } = watched({ idleTimeoutMs: 1000 }, { tied: false })
    const read = track(reader.read())
    await vi.advanceTimersByTimeAsync(1000)
    expect(read.outcome).toEqual({ error: expect.objectContaining({ code: 'IDLE_TIMEOUT' }) })
  })

  test('a chunk the sniffer refuses aborts the attempt with its error', async () => {
    const foreign = new ContentTypeError('text/event-stream', ['text/event-stream'], '', {
      kind: 'an HTML page',
      snippet: '<html>',
    })
    const sniff = (chunk: Uint8Array) => (chunk[0] === 0x3c ? foreign : undefined)
    const { reader, send, attempt, cancelled } = watched({}, { sniff })
    const read = reader.read()
    send(bytes('<html>'))
    await expect(read).rejects.toBe(foreign)
    expect(attempt.signal.reason).toBe(foreign)
    expect(cancelled).toEqual([foreign])
  })

  test('a value that is not bytes is passed on uncounted and unsniffed (the decoder refuses it)', async () => {
    const sniff = vi.fn(() => undefined)
    const { reader, send, counters } = watched({}, { sniff })
    const read = reader.read()
    send('text')
    expect(await read).toEqual({ done: false, value: 'text' })
    expect([counters.bytes, sniff.mock.calls.length]).toEqual([0, 0])
  })

  test('a read that fails is a NetworkError with the failure as its cause; once the attempt is aborted, its reason', async () => {
    const { reader, fail, attempt } = watched()
    const reset = new Error('socket reset')
    const failed = reader.read()
    fail(reset)
    await expect(failed).rejects.toMatchObject({ code: 'NETWORK_ERROR', cause: reset })
    const aborted = reader.read()
    attempt.abort('closed')
    await expect(aborted).rejects.toBe('closed')
  })
})

describe.each(['ndjson', 'sse'] as const)('%s(): dead connections and stuck producers are retried', (format) => {
  test('an idle connection (no bytes) is aborted and resumed', async () => {
    const server = await chaos(format, 6, [{ kind: 'stall', afterRecords: 2 }])
    const retries: string[] = []
    // Generous timers: a loaded CI machine must not turn an ordinary gap into a timeout.
    const got = await seqs(
      openChaos(format, server.url, {
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
      openChaos(format, server.url, {
        idleTimeoutMs: 5000,
        stallTimeoutMs: 500,
        onRetry: ({ error }: { error: SluiceError }) => retries.push(error.code),
      }),
    )
    expect(got).toEqual(range(6))
    expect(retries).toEqual(['STALL_TIMEOUT'])
  })

  test('a producer sending only invalid records is not stuck (no STALL_TIMEOUT)', async () => {
    let requests = 0
    const server = await listen((_, response) => {
      requests++
      response.writeHead(200, { 'content-type': format === 'ndjson' ? 'application/x-ndjson' : 'text/event-stream' })
      let sent = 0
      const send = (json: string) =>
        response.write(format === 'ndjson' ? `${json}\n` : `id: ${sent}\ndata: ${json}\n\n`)
      const timer = setInterval(() => {
        if (++sent <= 16) return void send(`{"seq":"${sent}"}`)
        clearInterval(timer)
        send('{"seq":17}')
        response.end(format === 'sse' ? 'event: end\ndata:\n\n' : '')
      }, 25)
      response.on('close', () => clearInterval(timer))
    })
    const retries: string[] = []
    const Seq = z.object({ seq: z.number() })
    const options = {
      schema: Seq,
      onInvalid: 'skip',
      retry: { ...fast, jitter: false },
      stallTimeoutMs: 200,
      onRetry: ({ error }: RetryInfo) => retries.push(error.code),
    } as const
    const stream: RecordStream<unknown> =
      format === 'ndjson' ? ndjson(urlOf(server), { ...options, idOf: (r) => r.seq }) : sse(urlOf(server), options)
    expect(await seqs(stream)).toEqual([17])
    expect(retries).toEqual([])
    expect(requests).toBe(1)
    expect(stream.counters.skipped).toBe(16)
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
    const server = await serveForTest((request) => {
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
    const errors: string[] = []
    const started = Date.now()
    const stream = ndjson<{ seq: number }>(urlOf(server), {
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
    const stream = ndjson<{ seq: number }>(urlOf(server), { idleTimeoutMs: 100, retry: false })
    await expect(seqs(stream)).rejects.toMatchObject({ code: 'IDLE_TIMEOUT', timeoutMs: 100 })
  })
})

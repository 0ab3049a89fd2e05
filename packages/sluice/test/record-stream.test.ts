/**
 * The `RecordStream` that `ndjson()` / `sse()` return (record-stream.ts, and the handle in fetch.ts):
 * its counters, states and hooks, `close()` and abort at every point leaving nothing behind, and
 * `map`. Real loopback servers only. What the reconnect loop delivers: fetch.test.ts.
 */
import type { ServerResponse } from 'node:http'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { ndjson, type RecordStream, type RetryInfo, type SluiceError, type StreamState } from '../src/index.js'
import { listen, urlOf } from './support/loopback.js'
import { openScripted, type Step, scripted } from './support/scripted-server.js'
import { seqs } from './support/streams.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0, jitter: false }

describe('counters.skipped', () => {
  test('sse(): several cuts among invalid events: each counted once, at every retry too (the last-event-id moves past them)', async () => {
    const items: (number | 'bad')[] = [0, 'bad', 'bad', 3, 'bad', 5, 'bad', 'bad', 8]
    const plan: Step[] = [{ cut: 2 }, { cut: 1 }, { cut: 4 }, { cut: 0 }, { cut: 2 }]
    const server = await scripted('sse', items, (n) => plan[n] ?? 'ok')
    const atRetry: number[] = []
    const stream: RecordStream<unknown> = openScripted('sse', server.url, {
      onRetry: () => atRetry.push(stream.counters.skipped),
    })
    expect(await seqs(stream)).toEqual([0, 3, 5, 8])
    expect(atRetry).toEqual([1, 2, 4, 4, 5])
    expect(stream.counters.skipped).toBe(5)
    expect(server.lastEventIds).toEqual([undefined, '1', '2', '6', '6', '8'])
  })

  test('is current while the connection is open, not only once an attempt ends', async () => {
    const lines = `${['{"seq":0}', '{"seq":"not a number"}', '{"seq":2}'].join('\n')}\n`
    const server = await listen((_, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' })
      response.write(lines) // and the connection stays open
    })
    const stream = ndjson(urlOf(server), {
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

describe('states, hooks and leaving nothing behind', () => {
  // At most the count before: a timer an earlier test left to expire may end meanwhile; none may be added.
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
  /** Waits (bounded) until every response the server began has closed (finished, or its connection gone). */
  async function responsesLeft(responses: Set<ServerResponse>) {
    for (let i = 0; i < 200 && responses.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    return responses.size
  }

  test.each(['ndjson', 'sse'] as const)(
    '%s(): connect, open, cut, retry, reconnect, end: every state once, in order',
    async (format) => {
      const server = await scripted(format, [0, 1, 2, 3], (n) => (n === 0 ? { cut: 2 } : 'ok'))
      const states: StreamState[] = []
      const retries: Omit<RetryInfo, 'error'>[] = []
      const opened: number[] = []
      const stream = openScripted(format, server.url, {
        onStateChange: (state: StreamState) => states.push(state),
        onRetry: ({ attempt, delayMs }: RetryInfo) => retries.push({ attempt, delayMs }),
        onOpen: (response: Response) => opened.push(response.status),
      })
      expect(stream.state).toBe('connecting')
      expect(await seqs(stream)).toEqual([0, 1, 2, 3])
      expect(states).toEqual(['open', 'retrying', 'connecting', 'open', 'closed'])
      expect(retries).toEqual([{ attempt: 1, delayMs: 1 }])
      expect(opened).toEqual([200, 200])
      expect(stream.state).toBe('closed')
      expect(await responsesLeft(server.responses)).toBe(0)
    },
  )

  test('onRetry counts failed attempts in a row and the delays grow by the policy', async () => {
    const server = await scripted('ndjson', [0, 1], (n) => (n < 3 ? 503 : 'ok'))
    const retries: [number, number, string][] = []
    const stream = openScripted('ndjson', server.url, {
      retry: { initialDelayMs: 2, factor: 3, maxDelayMs: 15, minDelayMs: 0, jitter: false },
      onRetry: ({ attempt, delayMs, error }: RetryInfo) => retries.push([attempt, delayMs, error.code]),
    })
    expect(await seqs(stream)).toEqual([0, 1])
    expect(retries).toEqual([
      [1, 2, 'HTTP_ERROR'],
      [2, 6, 'HTTP_ERROR'],
      [3, 15, 'HTTP_ERROR'],
    ])
  })

  test('retry: false throws the first failure: no onRetry, attempts 1, closed', async () => {
    const server = await scripted('ndjson', [0, 1], () => 503)
    const states: StreamState[] = []
    let retried = 0
    const stream = openScripted('ndjson', server.url, {
      retry: false,
      onRetry: () => retried++,
      onStateChange: (s: StreamState) => states.push(s),
    })
    const error = (await seqs(stream).catch((thrown: SluiceError) => thrown)) as SluiceError
    expect([error.code, error.attempts, retried]).toEqual(['HTTP_ERROR', 1, 0])
    expect(states).toEqual(['closed'])
    expect(server.lastEventIds).toHaveLength(1)
  })

  test('close() during the retry wait: no further request, timers cleared, closed, the iterator ends', async () => {
    const before = timers()
    const server = await scripted('ndjson', [0, 1], (n) => (n === 0 ? 503 : 'ok'))
    const states: StreamState[] = []
    const stream = openScripted('ndjson', server.url, {
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: false },
      onStateChange: (s: StreamState) => states.push(s),
    })
    const iterator = stream[Symbol.asyncIterator]()
    const pending = iterator.next()
    for (let i = 0; i < 1000 && stream.state !== 'retrying'; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(stream.retryAt).toBeGreaterThan(Date.now() + 50_000)
    stream.close()
    expect(await pending).toEqual({ value: undefined, done: true })
    expect(await iterator.next()).toEqual({ value: undefined, done: true })
    expect(states).toEqual(['retrying', 'closed'])
    expect(stream.retryAt).toBeUndefined()
    expect(server.lastEventIds).toHaveLength(1)
    expect(timers()).toBeLessThanOrEqual(before)
    expect(await responsesLeft(server.responses)).toBe(0)
  })

  test.each(['onRetry', 'onStateChange'] as const)(
    'close() from %s before the wait: the wait does not run, no timer is left',
    async (hook) => {
      const before = timers()
      const server = await scripted('ndjson', [0, 1], (n) => (n === 0 ? 503 : 'ok'))
      const stream: RecordStream<unknown> = openScripted('ndjson', server.url, {
        retry: { initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: false },
        [hook]: (state: unknown) => (hook === 'onRetry' || state === 'retrying') && stream.close(),
      })
      const iterator = stream[Symbol.asyncIterator]()
      let bound: ReturnType<typeof setTimeout> | undefined
      const outcome = await Promise.race([
        iterator.next(),
        new Promise((resolve) => (bound = setTimeout(resolve, 2000, 'still waiting'))),
      ])
      clearTimeout(bound)
      expect(outcome).toEqual({ value: undefined, done: true })
      expect(stream.state).toBe('closed')
      expect(timers()).toBeLessThanOrEqual(before)
      expect(server.lastEventIds).toHaveLength(1)
    },
  )

  test.each(['connecting', 'open', 'retrying'] as const)(
    'an onStateChange that throws on %s is final, thrown as it is, not retried',
    async (target) => {
      const server = await scripted('ndjson', [0, 1], (n) => (n === 0 ? { cut: 1 } : 'ok'))
      const bug = new Error('hook bug')
      const stream = openScripted('ndjson', server.url, {
        onStateChange: (state: StreamState) => {
          if (state === target) throw bug
        },
      })
      await expect(seqs(stream)).rejects.toBe(bug)
      expect(server.lastEventIds).toHaveLength(1) // the first 'connecting' is the initial state, not a change
      expect(stream.state).toBe('closed')
    },
  )

  test('maxAttempts failed attempts in a row: onRetry between them, then the error with the attempt count', async () => {
    const server = await scripted('ndjson', [0], () => 503)
    const attempts: number[] = []
    const stream = openScripted('ndjson', server.url, {
      retry: { ...fast, maxAttempts: 3 },
      onRetry: ({ attempt }: RetryInfo) => attempts.push(attempt),
    })
    const error = (await seqs(stream).catch((thrown: SluiceError) => thrown)) as SluiceError
    expect([error.code, error.attempts]).toEqual(['HTTP_ERROR', 3])
    expect(attempts).toEqual([1, 2])
    expect(server.lastEventIds).toHaveLength(3)
  })

  test('a reconnect that only replays the last record (dropped) does not reset the attempt count', async () => {
    // Every connection after the first sends the inclusive replay of 0, then ends without the end event.
    const server = await scripted('sse', [0, 1], () => ({ cut: 1 }), true)
    const stream = openScripted('sse', server.url, { retry: { ...fast, maxAttempts: 4 } })
    const got: number[] = []
    const error = await (async () => {
      for await (const event of stream) got.push((event as { data: { seq: number } }).data.seq)
    })().catch((thrown: SluiceError) => thrown)
    expect(got).toEqual([0])
    // The attempt that delivered 0 then failed is failure 1; three replays that deliver nothing make 4.
    expect((error as SluiceError).attempts).toBe(4)
    expect(server.lastEventIds).toEqual([undefined, '0', '0', '0'])
  })

  test.each(['close', 'abort'] as const)(
    '%s while the response headers are awaited ends the stream at once',
    async (how) => {
      const before = timers()
      const controller = new AbortController()
      const hang = await scripted('ndjson', [0], () => 'ok')
      // A server that accepts and never answers.
      const server = await listen(() => {})
      let requested!: () => void
      const arrived = new Promise<void>((resolve) => (requested = resolve))
      server.on('request', () => requested())
      const stream = openScripted('ndjson', urlOf(server), {
        signal: controller.signal,
      })
      const pending = seqs(stream).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      )
      await arrived
      if (how === 'close') stream.close()
      else controller.abort(new Error('left'))
      expect(await pending).toEqual(how === 'close' ? { value: [] } : { error: new Error('left') })
      expect(stream.state).toBe('closed')
      expect(timers()).toBeLessThanOrEqual(before)
      expect(hang.lastEventIds).toHaveLength(0)
    },
  )

  test('abort mid-body, while a read waits: rejects with the reason, nothing left', async () => {
    const before = timers()
    const server = await scripted('sse', [0, 1], () => 'stall')
    const controller = new AbortController()
    const stream = openScripted('sse', server.url, { signal: controller.signal, idleTimeoutMs: 10_000 })
    const iterator = stream[Symbol.asyncIterator]()
    await iterator.next()
    await iterator.next()
    const pending = iterator.next()
    controller.abort(new Error('left'))
    await expect(pending).rejects.toThrow('left')
    expect(stream.state).toBe('closed')
    expect(timers()).toBeLessThanOrEqual(before)
    expect(await responsesLeft(server.responses)).toBe(0)
  })

  test("close() from onStateChange('connecting') on a reconnect: no request is sent, no record delivered after it", async () => {
    const server = await scripted('ndjson', [0, 1, 2], (n) => (n === 0 ? { cut: 1 } : 'ok'))
    const stream: RecordStream<unknown> = openScripted('ndjson', server.url, {
      onStateChange: (state: StreamState) => state === 'connecting' && stream.close(),
    })
    expect(await seqs(stream)).toEqual([0])
    expect(stream.state).toBe('closed')
    expect(server.lastEventIds).toHaveLength(1)
  })

  test('close() before iterating: no request, closed, the iterator ends at once', async () => {
    const server = await scripted('ndjson', [0, 1], () => 'ok')
    const states: StreamState[] = []
    const stream = openScripted('ndjson', server.url, { onStateChange: (s: StreamState) => states.push(s) })
    stream.close()
    expect(stream.state).toBe('closed')
    expect(await seqs(stream)).toEqual([])
    expect(states).toEqual(['closed'])
    expect(server.lastEventIds).toHaveLength(0)
  })

  test.each(['ndjson', 'sse'] as const)(
    '%s(): break mid-stream closes it, releases the connection and its timers',
    async (format) => {
      const before = timers()
      const server = await scripted(format, [0, 1, 2, 3, 4], () => 'stall')
      const stream = openScripted(format, server.url, { idleTimeoutMs: 10_000, stallTimeoutMs: 10_000 })
      const got: number[] = []
      for await (const item of stream) {
        const record = ((item as { data?: unknown }).data ?? item) as { seq: number }
        got.push(record.seq)
        if (record.seq === 1) break
      }
      expect(got).toEqual([0, 1])
      expect(stream.state).toBe('closed')
      expect(timers()).toBeLessThanOrEqual(before)
      expect(await responsesLeft(server.responses)).toBe(0)
      expect(server.lastEventIds).toHaveLength(1)
    },
  )
})

describe('map', () => {
  /** `total` NDJSON records {seq} with ids, then the end marker. */
  async function records(total: number) {
    const server = await listen((_request, response: ServerResponse) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' })
      for (let seq = 0; seq < total; seq++) response.write(`{"seq":${seq}}\n`)
      response.end(`{"$sluice":"end","count":${total}}\n`)
    })
    return urlOf(server)
  }

  test('map returns a RecordStream of the mapped values sharing state, counters, lastEventId and close()', async () => {
    const source = ndjson<{ seq: number }>(await records(5), { idOf: (r) => r.seq })
    const doubled = source.map((r) => r.seq * 2)
    const labels = doubled.map((n) => `#${n}`)
    const got: string[] = []
    for await (const label of labels) {
      got.push(label)
      expect(labels.counters.records).toBe(got.length)
      expect(labels.lastEventId).toBe(String(got.length - 1))
      expect(labels.state).toBe('open')
      if (got.length === 3) labels.close()
    }
    expect(got).toEqual(['#0', '#2', '#4'])
    expect(source.state).toBe('closed')
    expect(doubled.state).toBe('closed')
    expect(doubled.retryAt).toBeUndefined()
  })

  test('a map function that throws ends the stream with its error and closes the source', async () => {
    const source = ndjson<{ seq: number }>(await records(5), { idOf: (r) => r.seq })
    const bug = new Error('bad record')
    const mapped = source.map((r) => {
      if (r.seq === 2) throw bug
      return r.seq
    })
    const got: number[] = []
    await expect(
      (async () => {
        for await (const n of mapped) got.push(n)
      })(),
    ).rejects.toBe(bug)
    expect(got).toEqual([0, 1])
    expect(source.state).toBe('closed')
    expect(() => source.map(undefined as unknown as (r: unknown) => unknown)).toThrow(TypeError)
  })
})

/**
 * Adversarial checks of `ndjson()` / `sse()` (second review): invalid records across reconnects,
 * the stall clock, a refused redirect, the state machine and its hooks. Real loopback servers only.
 */
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { ndjson, type RecordStream, type RetryInfo, type SluiceError, type StreamState, sse } from '../src/index.js'
import { listen } from './support/loopback.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0, jitter: false }
const Seq = z.object({ seq: z.number() })

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

type Step = { cut: number } | 'ok' | 'stall' | 'redirect' | number

/**
 * Serves `items` (a number is a valid record with that seq, `'bad'` an invalid one at its index)
 * from after Last-Event-ID (or from it, `inclusive`), as NDJSON or SSE with ids. Request n does
 * `plan(n)`: `ok` (all, then the end), `{ cut: k }` (k items, then the socket is destroyed), `stall`
 * (all items, then the connection stays open), `redirect`, or a status.
 */
async function script(
  format: 'ndjson' | 'sse',
  items: (number | 'bad')[],
  plan: (n: number) => Step,
  inclusive = false,
) {
  const lastEventIds: (string | undefined)[] = []
  const responses = new Set<ServerResponse>()
  const server = await listen((request, response: ServerResponse) => {
    responses.add(response)
    response.on('close', () => responses.delete(response))
    const step = plan(lastEventIds.length)
    const lei = request.headers['last-event-id'] as string | undefined
    lastEventIds.push(lei)
    if (step === 'redirect') return void response.writeHead(302, { location: '/elsewhere' }).end()
    if (typeof step === 'number') return void response.writeHead(step, { 'content-type': 'text/plain' }).end('no')
    const from = lei === undefined ? 0 : Number(lei) + (inclusive ? 0 : 1)
    const chosen = items.map((item, index) => [item, index] as const).slice(from)
    const shown = typeof step === 'object' ? chosen.slice(0, step.cut) : chosen
    const text = shown
      .map(([item, index]) => {
        const json = item === 'bad' ? `{"seq":"${index}"}` : `{"seq":${item}}`
        return format === 'ndjson' ? `${json}\n` : `id: ${index}\ndata: ${json}\n\n`
      })
      .join('')
    response.writeHead(200, { 'content-type': format === 'ndjson' ? 'application/x-ndjson' : 'text/event-stream' })
    if (typeof step === 'object') return void response.write(text, () => response.socket?.destroy())
    if (step === 'stall') return void response.write(text)
    response.end(format === 'ndjson' ? text : `${text}event: end\ndata:\n\n`)
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/s`, lastEventIds, responses }
}

function open(format: 'ndjson' | 'sse', url: string, extra: Record<string, unknown> = {}): RecordStream<unknown> {
  return format === 'ndjson'
    ? ndjson(url, { schema: Seq, onInvalid: 'skip', idOf: (r) => r.seq, retry: fast, ...extra })
    : sse(url, { schema: Seq, onInvalid: 'skip', retry: fast, ...extra })
}

async function seqs(stream: AsyncIterable<unknown>): Promise<number[]> {
  const out: number[] = []
  for await (const item of stream) {
    const record = ((item as { data?: unknown }).data ?? item) as { seq: number }
    out.push(record.seq)
  }
  return out
}

describe.each(['ndjson', 'sse'] as const)('%s(): invalid records (onInvalid: skip) across reconnects', (format) => {
  test.each([false, true])(
    'an invalid record, then a cut: every valid record once (inclusive replay: %s)',
    async (inclusive) => {
      // sse() inclusive: the replay is the invalid event 1, skipped again; event 2 after it is no replay.
      const server = await script(format, [0, 'bad', 2, 3], (n) => (n === 0 ? { cut: 2 } : 'ok'), inclusive)
      const stream = open(format, server.url)
      expect(await seqs(stream)).toEqual([0, 2, 3])
      expect(stream.counters.reconnects).toBe(1)
    },
  )

  test.each([false, true])(
    'a valid replay followed by an invalid record in the same chunk (inclusive replay: %s)',
    async (inclusive) => {
      const server = await script(format, [0, 1, 'bad', 3], (n) => (n === 0 ? { cut: 2 } : 'ok'), inclusive)
      const stream = open(format, server.url)
      expect(await seqs(stream)).toEqual([0, 1, 3])
    },
  )

  test('several cuts among invalid records: every valid record once, in order', async () => {
    const items: (number | 'bad')[] = [0, 'bad', 'bad', 3, 'bad', 5, 'bad', 'bad', 8]
    const plan: Step[] = [{ cut: 2 }, { cut: 1 }, { cut: 4 }, { cut: 0 }, { cut: 2 }]
    const server = await script(format, items, (n) => plan[n] ?? 'ok')
    expect(await seqs(open(format, server.url))).toEqual([0, 3, 5, 8])
  })
})

describe('sse(): counters.skipped across reconnects (the last-event-id moves past an invalid event)', () => {
  test('several cuts among invalid events: each counted once, at every retry too', async () => {
    const items: (number | 'bad')[] = [0, 'bad', 'bad', 3, 'bad', 5, 'bad', 'bad', 8]
    const plan: Step[] = [{ cut: 2 }, { cut: 1 }, { cut: 4 }, { cut: 0 }, { cut: 2 }]
    const server = await script('sse', items, (n) => plan[n] ?? 'ok')
    const atRetry: number[] = []
    const stream: RecordStream<unknown> = open('sse', server.url, {
      onRetry: () => atRetry.push(stream.counters.skipped),
    })
    expect(await seqs(stream)).toEqual([0, 3, 5, 8])
    expect(atRetry).toEqual([1, 2, 4, 4, 5])
    expect(stream.counters.skipped).toBe(5)
    expect(server.lastEventIds).toEqual([undefined, '1', '2', '6', '6', '8'])
  })
})

describe('ndjson(): an empty id from idOf is no resume position', () => {
  test('a cut after it throws instead of reconnecting without Last-Event-ID (which replays from the start)', async () => {
    const server = await script('ndjson', [0, 1, 2, 3], (n) => (n === 0 ? { cut: 2 } : 'ok'))
    const stream = ndjson<{ seq: number }>(server.url, { idOf: (r) => (r.seq === 1 ? '' : r.seq), retry: fast })
    const got: number[] = []
    const error = await (async () => {
      for await (const record of stream) got.push(record.seq)
    })().catch((thrown: SluiceError) => thrown)
    expect(got).toEqual([0, 1])
    expect((error as SluiceError).code).toBe('NETWORK_ERROR')
    expect(server.lastEventIds).toEqual([undefined])
  })
})

describe('the stall clock', () => {
  test.each(['ndjson', 'sse'] as const)(
    '%s(): a producer sending only invalid records is not stuck (no STALL_TIMEOUT)',
    async (format) => {
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
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
      const stream = open(format, url, {
        stallTimeoutMs: 200,
        onRetry: ({ error }: RetryInfo) => retries.push(error.code),
      })
      expect(await seqs(stream)).toEqual([17])
      expect(retries).toEqual([])
      expect(requests).toBe(1)
      expect(stream.counters.skipped).toBe(16)
    },
  )
})

describe("a Request with redirect: 'error'", () => {
  test('a redirect is a final RedirectError that says the request refused it, not a loop', async () => {
    const server = await script('ndjson', [0], (n) => (n === 0 ? 'redirect' : 'ok'))
    const stream = ndjson(new Request(server.url, { redirect: 'error' }), { retry: fast })
    const error = (await seqs(stream).catch((thrown: SluiceError) => thrown)) as SluiceError
    expect(error.name).toBe('RedirectError')
    expect(error.message).toMatch(/redirect mode/)
    expect(error.message).not.toMatch(/too many|loop/)
    expect(error.attempts).toBe(1)
    expect(server.lastEventIds).toHaveLength(1)
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
      const server = await script(format, [0, 1, 2, 3], (n) => (n === 0 ? { cut: 2 } : 'ok'))
      const states: StreamState[] = []
      const retries: Omit<RetryInfo, 'error'>[] = []
      const opened: number[] = []
      const stream = open(format, server.url, {
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
    const server = await script('ndjson', [0, 1], (n) => (n < 3 ? 503 : 'ok'))
    const retries: [number, number, string][] = []
    const stream = open('ndjson', server.url, {
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
    const server = await script('ndjson', [0, 1], () => 503)
    const states: StreamState[] = []
    let retried = 0
    const stream = open('ndjson', server.url, {
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
    const server = await script('ndjson', [0, 1], (n) => (n === 0 ? 503 : 'ok'))
    const states: StreamState[] = []
    const stream = open('ndjson', server.url, {
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
      const server = await script('ndjson', [0, 1], (n) => (n === 0 ? 503 : 'ok'))
      const stream: RecordStream<unknown> = open('ndjson', server.url, {
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
      const server = await script('ndjson', [0, 1], (n) => (n === 0 ? { cut: 1 } : 'ok'))
      const bug = new Error('hook bug')
      const stream = open('ndjson', server.url, {
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
    const server = await script('ndjson', [0], () => 503)
    const attempts: number[] = []
    const stream = open('ndjson', server.url, {
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
    const server = await script('sse', [0, 1], () => ({ cut: 1 }), true)
    const stream = open('sse', server.url, { retry: { ...fast, maxAttempts: 4 } })
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
      const hang = await script('ndjson', [0], () => 'ok')
      // A server that accepts and never answers.
      const server = await listen(() => {})
      let requested!: () => void
      const arrived = new Promise<void>((resolve) => (requested = resolve))
      server.on('request', () => requested())
      const stream = open('ndjson', `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
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
    const server = await script('sse', [0, 1], () => 'stall')
    const controller = new AbortController()
    const stream = open('sse', server.url, { signal: controller.signal, idleTimeoutMs: 10_000 })
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
    const server = await script('ndjson', [0, 1, 2], (n) => (n === 0 ? { cut: 1 } : 'ok'))
    const stream: RecordStream<unknown> = open('ndjson', server.url, {
      onStateChange: (state: StreamState) => state === 'connecting' && stream.close(),
    })
    expect(await seqs(stream)).toEqual([0])
    expect(stream.state).toBe('closed')
    expect(server.lastEventIds).toHaveLength(1)
  })

  test('close() before iterating: no request, closed, the iterator ends at once', async () => {
    const server = await script('ndjson', [0, 1], () => 'ok')
    const states: StreamState[] = []
    const stream = open('ndjson', server.url, { onStateChange: (s: StreamState) => states.push(s) })
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
      const server = await script(format, [0, 1, 2, 3, 4], () => 'stall')
      const stream = open(format, server.url, { idleTimeoutMs: 10_000, stallTimeoutMs: 10_000 })
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

describe('offline (browsers): no attempt until the online event', () => {
  /** A `navigator.onLine` and window events, as a browser has them; undone after each test. */
  function network(onLine: boolean) {
    const events = new EventTarget()
    const listeners = new Set<unknown>()
    const global = globalThis as Record<string, unknown>
    global['navigator'] = { onLine }
    global['addEventListener'] = (type: string, listener: () => void) => {
      listeners.add(listener)
      events.addEventListener(type, listener)
    }
    global['removeEventListener'] = (type: string, listener: () => void) => {
      listeners.delete(listener)
      events.removeEventListener(type, listener)
    }
    closers.push(async () => {
      delete global['navigator']
      delete global['addEventListener']
      delete global['removeEventListener']
    })
    return {
      listeners,
      online() {
        ;(global['navigator'] as { onLine: boolean }).onLine = true
        events.dispatchEvent(new Event('online'))
      },
    }
  }

  test('offline at the start: no request, retrying; online: it connects and delivers; no listener left', async () => {
    const net = network(false)
    const server = await script('ndjson', [0, 1, 2], () => 'ok')
    const states: StreamState[] = []
    const stream = open('ndjson', server.url, { onStateChange: (s: StreamState) => states.push(s) })
    const pending = seqs(stream)
    for (let i = 0; i < 100 && stream.state !== 'retrying'; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(stream.state).toBe('retrying')
    expect(server.lastEventIds).toHaveLength(0)
    net.online()
    expect(await pending).toEqual([0, 1, 2])
    expect(states).toEqual(['retrying', 'connecting', 'open', 'closed'])
    expect(server.lastEventIds).toHaveLength(1)
    expect(net.listeners.size).toBe(0)
  })

  test('close() while offline ends the stream at once, and from onStateChange too', async () => {
    const net = network(false)
    const server = await script('ndjson', [0], () => 'ok')
    const stream: RecordStream<unknown> = open('ndjson', server.url, {
      onStateChange: (state: StreamState) => state === 'retrying' && stream.close(),
    })
    let bound: ReturnType<typeof setTimeout> | undefined
    const outcome = await Promise.race([
      stream[Symbol.asyncIterator]().next(),
      new Promise((resolve) => (bound = setTimeout(resolve, 2000, 'still waiting'))),
    ])
    clearTimeout(bound)
    expect(outcome).toEqual({ value: undefined, done: true })
    expect(server.lastEventIds).toHaveLength(0)
    expect(net.listeners.size).toBe(0)
  })
})

describe('sse(): an inclusive replay of an invalid event, then an event without its own id', () => {
  /** Request 0: events 0 and an invalid 1, then a cut. Request 1 (inclusive): the invalid 1 again, then an event with no `id` field, then 3 and the end. */
  async function replayServer() {
    const lastEventIds: (string | undefined)[] = []
    const server = await listen((request, response) => {
      lastEventIds.push(request.headers['last-event-id'] as string | undefined)
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      const bad = 'id: 1\ndata: {"seq":"1"}\n\n'
      if (lastEventIds.length === 1)
        return void response.write(`id: 0\ndata: {"seq":0}\n\n${bad}`, () => response.socket?.destroy())
      response.end(`${bad}data: {"seq":2}\n\nid: 3\ndata: {"seq":3}\n\nevent: end\ndata:\n\n`)
    })
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/s`, lastEventIds }
  }

  // The event after the skipped replay inherits id 1 (HTML §9.2.6), yet it is new: it must arrive.
  test.each([
    ['a sync schema', Seq],
    ['an async schema', Seq.refine(async () => true)],
  ] as const)(
    'with %s, the event that inherits the replayed id is delivered, not taken for the replay',
    async (_, schema) => {
      const server = await replayServer()
      const stream = sse(server.url, { schema, onInvalid: 'skip', retry: fast })
      expect(await seqs(stream)).toEqual([0, 2, 3])
      expect(server.lastEventIds).toEqual([undefined, '1'])
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
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
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

/**
 * The resilient `ndjson()` and `sse()` against the loopback fixture server's `/resume` route, in
 * each runtime's own fetch (or the one its entry passes as the `fetch` option, as undici over HTTP/2
 * in entry.node-h2.ts): connections cut mid-record (cleanly or by a reset), a 503 with
 * Retry-After, final errors, and Last-Event-ID replay, exclusive and inclusive.
 */
import { ndjson, type RetryInfo, type RetryPolicy, type SseEvent, sse } from 'sluice'
import { collect, expect, expectError, runtime, serverUrl, test } from './harness.js'

interface Tick {
  seq: number
  text: string
}

const ticks = (from: number, to: number): Tick[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, text: `café #${from + i}` }))

/** Reconnect at once: these tests are about what is delivered, not about waiting. */
const fast: RetryPolicy = { initialDelayMs: 1, minDelayMs: 0, maxAttempts: 5 }

/** The `fetch` option of every client here: the runtime's own unless its entry set one (undici over HTTP/2 in Node). */
const via = () => (runtime.fetch === undefined ? {} : { fetch: runtime.fetch })

const streamId = () => Math.random().toString(36).slice(2)

interface Attempt {
  lastEventId: string | null
  step: string
}

async function attemptsOf(id: string): Promise<Attempt[]> {
  return (await (await (runtime.fetch ?? fetch)(serverUrl(`log?id=${id}`))).json()) as Attempt[]
}

test('resume: ndjson() with idOf survives cuts mid-record, sending Last-Event-ID, with no gap and no duplicate', async () => {
  const id = streamId()
  const stream = ndjson<Tick>(serverUrl(`resume?format=ndjson&n=12&id=${id}&plan=end:3,destroy:4,end:2,ok`), {
    ...via(),
    idOf: (tick) => tick.seq,
    retry: fast,
  })
  expect(await collect(stream)).toEqual(ticks(1, 12))
  expect(
    (await attemptsOf(id)).map((a) => a.lastEventId),
    'Last-Event-ID per attempt',
  ).toEqual([null, '3', '7', '9'])
  expect(stream.counters.reconnects, 'reconnects').toBe(3)
  expect(stream.state, 'state').toBe('closed')
}, ['server'])

test('resume: sse() survives cuts mid-event, resuming from the last event id, with no gap and no duplicate', async () => {
  const id = streamId()
  const stream = sse<Tick>(serverUrl(`resume?format=sse&n=10&id=${id}&plan=destroy:2,end:5,ok`), {
    ...via(),
    json: true,
    retry: fast,
  })
  const events: SseEvent<Tick>[] = await collect(stream)
  expect(events.map((e) => e.data)).toEqual(ticks(1, 10))
  expect(events.map((e) => e.id)).toEqual(ticks(1, 10).map((t) => String(t.seq)))
  expect(
    (await attemptsOf(id)).map((a) => a.lastEventId),
    'Last-Event-ID per attempt',
  ).toEqual([null, '2', '7'])
}, ['server'])

test('resume: a server that replays inclusively from Last-Event-ID does not duplicate the last record', async () => {
  const ndjsonId = streamId()
  const records = await collect(
    ndjson<Tick>(serverUrl(`resume?format=ndjson&n=8&id=${ndjsonId}&inclusive=1&plan=end:3,end:3,ok`), {
      ...via(),
      idOf: (tick) => tick.seq,
      retry: fast,
    }),
  )
  expect(records, 'ndjson').toEqual(ticks(1, 8))
  const sseId = streamId()
  const events = await collect(
    sse<Tick>(serverUrl(`resume?format=sse&n=8&id=${sseId}&inclusive=1&plan=end:3,end:3,ok`), {
      ...via(),
      json: true,
      retry: fast,
    }),
  )
  expect(
    events.map((e) => e.data),
    'sse',
  ).toEqual(ticks(1, 8))
}, ['server'])

test('resume: a connection that goes silent is dropped after idleTimeoutMs and resumed', async () => {
  const id = streamId()
  const retries: RetryInfo[] = []
  const stream = ndjson<Tick>(serverUrl(`resume?format=ndjson&n=6&id=${id}&plan=stall:2,ok`), {
    ...via(),
    idOf: (tick) => tick.seq,
    idleTimeoutMs: 150,
    retry: fast,
    onRetry: (info) => retries.push(info),
  })
  expect(await collect(stream)).toEqual(ticks(1, 6))
  expect(
    retries.map((r) => r.error.code),
    'retried errors',
  ).toEqual(['IDLE_TIMEOUT'])
  expect(
    (await attemptsOf(id)).map((a) => a.lastEventId),
    'Last-Event-ID per attempt',
  ).toEqual([null, '2'])
}, ['server'])

test('resume: a 503 is retried after the delay its Retry-After gives, not the backoff', async () => {
  const id = streamId()
  const retries: RetryInfo[] = []
  const records = await collect(
    ndjson<Tick>(serverUrl(`resume?format=ndjson&n=3&id=${id}&plan=status:503:0,ok`), {
      ...via(),
      idOf: (tick) => tick.seq,
      // Without the server's hint the wait would be a minute: the test would time out.
      retry: { initialDelayMs: 60_000, minDelayMs: 0, jitter: false },
      onRetry: (info) => retries.push(info),
    }),
  )
  expect(records).toEqual(ticks(1, 3))
  expect(retries.map((r) => [r.attempt, r.delayMs, r.error.code, (r.error as { status?: number }).status])).toEqual([
    [1, 0, 'HTTP_ERROR', 503],
  ])
}, ['server'])

test('resume: a 401 is final: thrown at once as HTTP_ERROR, never retried', async () => {
  const id = streamId()
  await expectError(
    () => collect(ndjson(serverUrl(`resume?format=ndjson&id=${id}&plan=status:401`), { ...via(), retry: fast })),
    {
      code: 'HTTP_ERROR',
      status: 401,
    },
  )
  expect((await attemptsOf(id)).length, 'attempts').toBe(1)
}, ['server'])

test('resume: the lastEventId option starts the stream after a known position', async () => {
  const id = streamId()
  const events = await collect(
    sse<Tick>(serverUrl(`resume?format=sse&n=6&id=${id}&plan=ok`), { ...via(), json: true, lastEventId: '4' }),
  )
  expect(events.map((e) => e.data)).toEqual(ticks(5, 6))
  expect((await attemptsOf(id)).map((a) => a.lastEventId)).toEqual(['4'])
}, ['server'])

test('resume: ndjson() without idOf throws a cut after records rather than replaying them', async () => {
  const id = streamId()
  const got: unknown[] = []
  await expectError(
    async () => {
      for await (const record of ndjson(serverUrl(`resume?format=ndjson&n=6&id=${id}&plan=end:2,ok`), {
        ...via(),
        retry: fast,
      }))
        got.push(record)
    },
    { code: 'TRUNCATED_STREAM', reason: 'partial-record' },
  )
  expect(got).toEqual(ticks(1, 2))
  expect((await attemptsOf(id)).length, 'attempts').toBe(1)
}, ['server'])

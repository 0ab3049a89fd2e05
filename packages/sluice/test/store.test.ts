/**
 * createStore (sluice/store) in Node, against real loopback servers: one stream however many
 * subscribers, closed lingerMs after the last; one notification for a chunk of 1,000 records with all
 * of them folded; snapshots stable between notifications; a reducer that throws ends the stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { ndjson } from '../src/index.js'
import { createStore, keepLast, keepWithin, type Store, type StoreSnapshot } from '../src/store.js'
import { listen } from './support/loopback.js'

interface Rec {
  seq: number
}

let keys = 0
const uniqueKey = () => `store-test-${++keys}`

/**
 * An NDJSON server: each request gets `count` records from Last-Event-ID + 1 on, all in one write
 * (or `hold` keeps the response open afterwards). Counts requests and open responses.
 */
async function recordServer(options: { count: number; hold?: boolean }) {
  const requests: (string | undefined)[] = []
  let open = 0
  const closed: number[] = []
  const server = await listen((request: IncomingMessage, response: ServerResponse) => {
    const last = request.headers['last-event-id']
    requests.push(typeof last === 'string' ? last : undefined)
    open++
    response.on('close', () => {
      open--
      closed.push(Date.now())
    })
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    const from = typeof last === 'string' ? Number(last) + 1 : 0
    let body = ''
    for (let seq = from; seq < from + options.count; seq++) body += `${JSON.stringify({ seq })}\n`
    response.write(body)
    if (!options.hold) response.end()
  })
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/records`,
    requests,
    closed,
    get open() {
      return open
    },
  }
}

/** Resolves with the first snapshot (after a notification) that satisfies `check`. */
function until<S>(store: Store<S>, check: (snap: StoreSnapshot<S>) => boolean): Promise<StoreSnapshot<S>> {
  return new Promise((resolve) => {
    if (check(store.getSnapshot())) return resolve(store.getSnapshot())
    const unsubscribe = store.subscribe(() => {
      if (!check(store.getSnapshot())) return
      unsubscribe()
      resolve(store.getSnapshot())
    })
  })
}

describe('createStore', () => {
  test('two subscribers share one stream; the last unsubscribe closes it after lingerMs, not before', async () => {
    const server = await recordServer({ count: 3, hold: true })
    const store = createStore(({ lastEventId }) => ndjson<Rec>(server.url, { idOf: (r) => r.seq, lastEventId }), {
      initial: [] as Rec[],
      reduce: (state, record) => [...state, record],
      lingerMs: 300,
    })
    const a = store.subscribe(() => {})
    const b = store.subscribe(() => {})
    await until(store, (s) => s.value.length === 3)
    expect(server.requests).toHaveLength(1)
    a()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(server.open).toBe(1) // one subscriber left
    b()
    const left = Date.now()
    await expect.poll(() => server.open, { timeout: 5000 }).toBe(0)
    expect(server.closed[0]! - left).toBeGreaterThanOrEqual(290) // timers may fire a millisecond early
    expect(store.getSnapshot().state).toBe('closed')
    expect(server.requests).toHaveLength(1)
  })

  test('a subscriber back within lingerMs keeps the same stream', async () => {
    const server = await recordServer({ count: 2, hold: true })
    const store = createStore(() => ndjson<Rec>(server.url), { initial: 0, reduce: (n) => n + 1, lingerMs: 200 })
    const a = store.subscribe(() => {})
    await until(store, (s) => s.value === 2)
    a()
    const b = store.subscribe(() => {})
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(server.requests).toHaveLength(1)
    expect(server.open).toBe(1)
    b()
  })

  test('1,000 records in one chunk give one notification, with all 1,000 folded', async () => {
    const server = await recordServer({ count: 1000 })
    const store = createStore(() => ndjson<Rec>(server.url), {
      initial: [] as number[],
      reduce: (s, r) => [...s, r.seq],
    })
    const seen: number[] = []
    const unsubscribe = store.subscribe(() => seen.push(store.getSnapshot().value.length))
    await until(store, (s) => s.state === 'closed')
    unsubscribe()
    // Notifications may also carry state changes (open, closed); exactly one carried records, all of them.
    const withRecords = seen.filter((n) => n > 0)
    expect(withRecords[0]).toBe(1000)
    expect(new Set(withRecords).size).toBe(1)
    expect(store.getSnapshot().value).toEqual(Array.from({ length: 1000 }, (_, i) => i))
  })

  test('snapshots are frozen and the same object between notifications', async () => {
    const server = await recordServer({ count: 5, hold: true })
    const store = createStore(() => ndjson<Rec>(server.url), {
      initial: [] as Rec[],
      reduce: (s, r) => [...s, r],
      schedule: 50,
    })
    const snaps: StoreSnapshot<Rec[]>[] = []
    const before = store.getSnapshot()
    expect(store.getSnapshot()).toBe(before)
    const unsubscribe = store.subscribe(() => snaps.push(store.getSnapshot()))
    await until(store, (s) => s.value.length === 5)
    // Between notifications every read is the same object, however many records were folded meanwhile.
    const last = store.getSnapshot()
    expect(store.getSnapshot()).toBe(last)
    expect(snaps.at(-1)).toBe(last)
    expect(Object.isFrozen(last)).toBe(true)
    expect(Object.isFrozen(last.counters)).toBe(true)
    expect(last).not.toBe(before)
    // live is the stream's own: this server sends no caught-up marker, so never live.
    expect(last).toMatchObject({ state: 'open', live: false, role: 'solo', error: undefined, lastEventId: undefined })
    unsubscribe()
  })

  test('a reducer that throws sets error and closes the stream, keeping the last state it returned', async () => {
    const server = await recordServer({ count: 10, hold: true })
    const boom = new Error('bad record')
    const store = createStore(({ lastEventId }) => ndjson<Rec>(server.url, { idOf: (r) => r.seq, lastEventId }), {
      initial: [] as number[],
      reduce: (state, record) => {
        if (record.seq === 4) throw boom
        return [...state, record.seq]
      },
    })
    const unsubscribe = store.subscribe(() => {})
    const snap = await until(store, (s) => s.error !== undefined)
    expect(snap.error).toBe(boom)
    expect(snap.state).toBe('closed')
    expect(snap.value).toEqual([0, 1, 2, 3])
    expect(snap.lastEventId).toBe('3')
    await expect.poll(() => server.open, { timeout: 5000 }).toBe(0)
    unsubscribe()
  })

  test('a stream that fails sets error: an HTTP 404 with retry off', async () => {
    const server = await listen((_request, response) => response.writeHead(404).end('no'))
    const { port } = server.address() as { port: number }
    const store = createStore(() => ndjson(`http://127.0.0.1:${port}/`, { retry: false }), {
      initial: 0,
      reduce: (n) => n + 1,
    })
    const unsubscribe = store.subscribe(() => {})
    const snap = await until(store, (s) => s.error !== undefined)
    expect(snap).toMatchObject({ state: 'closed', value: 0, error: { code: 'HTTP_ERROR' } })
    unsubscribe()
  })

  test('the factory gets lastEventId: the option first, then the id of the last record folded', async () => {
    const server = await recordServer({ count: 3, hold: true })
    const given: (string | undefined)[] = []
    const store = createStore(
      ({ lastEventId }) => {
        given.push(lastEventId)
        return ndjson<Rec>(server.url, { idOf: (r) => r.seq, lastEventId })
      },
      { initial: [] as number[], reduce: (s, r) => [...s, r.seq], lastEventId: '9' },
    )
    let unsubscribe = store.subscribe(() => {})
    await until(store, (s) => s.value.length === 3)
    unsubscribe()
    await expect.poll(() => server.open, { timeout: 5000 }).toBe(0)
    unsubscribe = store.subscribe(() => {})
    const snap = await until(store, (s) => s.value.length === 6)
    expect(given).toEqual(['9', '12'])
    expect(server.requests).toEqual(['9', '12'])
    expect(snap.value).toEqual([10, 11, 12, 13, 14, 15])
    unsubscribe()
  })

  test('any async iterable will do; it is ended with return() when the store closes', async () => {
    let finished = false
    async function* records() {
      try {
        yield 1
        yield 2
        await new Promise(() => {}) // never resolves: only return() ends it
      } finally {
        finished = true
      }
    }
    const store = createStore(() => records(), {
      initial: 0,
      reduce: (sum, n: number) => sum + n,
      schedule: 'microtask',
    })
    const unsubscribe = store.subscribe(() => {})
    expect((await until(store, (s) => s.value === 3)).state).toBe('open')
    unsubscribe()
    await expect.poll(() => store.getSnapshot().state).toBe('closed')
    // return() on a generator paused at an await takes effect once that await settles: here never,
    // so the store must not wait for it (the snapshot is closed regardless).
    expect(finished).toBe(false)
  })

  test("shareAcrossTabs where Web Locks are missing (Node) is 'solo'", async () => {
    const server = await recordServer({ count: 1, hold: true })
    const store = createStore(() => ndjson<Rec>(server.url), {
      initial: 0,
      reduce: (n) => n + 1,
      key: uniqueKey(),
      shareAcrossTabs: true,
    })
    const unsubscribe = store.subscribe(() => {})
    expect((await until(store, (s) => s.value === 1)).role).toBe('solo')
    unsubscribe()
  })

  test('a key already created in this page returns that store: one stream per key', () => {
    const key = uniqueKey()
    const first = createStore(() => ndjson('http://127.0.0.1:9/'), { initial: 0, reduce: (n) => n, key })
    expect(createStore(() => ndjson('http://127.0.0.1:9/'), { initial: 1, reduce: (n) => n, key })).toBe(first)
  })

  test('bad arguments are TypeError or RangeError at the call', () => {
    const f = () => ndjson('http://127.0.0.1:9/')
    expect(() => createStore(42 as never, { initial: 0, reduce: (n) => n })).toThrow(TypeError)
    expect(() => createStore(f, {} as never)).toThrow(/options.initial is required/)
    expect(() => createStore(f, { initial: 0 } as never)).toThrow(TypeError)
    expect(() => createStore(f, { initial: 0, reduce: (n) => n, shareAcrossTabs: true })).toThrow(/needs a key/)
    expect(() => createStore(f, { initial: 0, reduce: (n) => n, lingerMs: -1 })).toThrow(RangeError)
    expect(() => createStore(f, { initial: 0, reduce: (n) => n, schedule: 'soon' as never })).toThrow(RangeError)
    const store = createStore(f, { initial: 0, reduce: (n) => n })
    expect(() => store.subscribe('x' as never)).toThrow(TypeError)
  })

  test('a factory that returns no iterable sets a TypeError as the error', async () => {
    const store = createStore(() => 42 as never, { initial: 0, reduce: (n) => n })
    const unsubscribe = store.subscribe(() => {})
    const snap = await until(store, (s) => s.error !== undefined)
    expect(snap.error).toBeInstanceOf(TypeError)
    expect(snap.state).toBe('closed')
    unsubscribe()
  })
})

describe('window helpers', () => {
  test('keepLast folds any sequence into its last max entries, never mutating the state', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 20 }), (values, max) => {
        let state: readonly number[] = Object.freeze([])
        for (const value of values) {
          const next = keepLast(state, value, max)
          expect(next).not.toBe(state)
          state = Object.freeze(next)
        }
        expect(state).toEqual(values.slice(-max))
      }),
    )
    expect(() => keepLast([], 1, 0)).toThrow(RangeError)
  })

  test('keepWithin keeps the entries within windowMs of the newest', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100)), fc.nat(50), (steps, windowMs) => {
        let t = 0
        let state: { t: number }[] = []
        const all: { t: number }[] = []
        for (const step of steps) {
          t += step
          const point = { t }
          all.push(point)
          state = keepWithin(state, point, windowMs, (p) => p.t)
        }
        expect(state).toEqual(all.filter((p) => p.t >= t - windowMs))
      }),
    )
    expect(() => keepWithin([], { t: 0 }, -1, (p) => p.t)).toThrow(RangeError)
  })
})

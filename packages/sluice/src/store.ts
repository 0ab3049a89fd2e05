/**
 * `sluice/store`: a stream folded into state that a UI can render. One stream per store however many
 * subscribers, opened on the first and closed `lingerMs` after the last; listeners notified at most
 * once per animation frame however many records arrive, every record folded; and, with
 * `shareAcrossTabs`, one connection for every tab of the origin.
 *
 * @module
 */
import type { StreamCounters, StreamState } from './record-stream.js'
import { checkSchedule, createScheduler, nextTask, type Schedule, type Scheduler } from './schedule.js'
import { canShareAcrossTabs, TabLink } from './tabs.js'

export type { Schedule } from './schedule.js'
export { keepLast, keepWithin } from './window.js'

/** What this tab does for the stream: holds it for every tab, follows another tab's, or holds its own. */
export type StoreRole = 'leader' | 'follower' | 'solo'

/** An immutable view of a store, the same object until listeners are next notified. */
export interface StoreSnapshot<S> {
  /** The state: `initial` with every record folded in by `reduce`. */
  readonly value: S
  /** The stream's state (a follower shows the leader's). */
  readonly state: StreamState
  /** The stream's counters (a follower shows the leader's). */
  readonly counters: Readonly<StreamCounters>
  /** Why the stream ended early: the stream's error, or what `reduce` threw. `undefined` otherwise. */
  readonly error: unknown
  /** The id of the last record folded into `value`: where a new stream resumes. */
  readonly lastEventId: string | undefined
  /**
   * The stream caught up with the live tail: the stream's own `live` (sluice streams: the server's caught-up
   * marker came); for an iterable without `live`, `state === 'open'`. A follower shows the leader's.
   */
  readonly live: boolean
  /** `'leader'` or `'follower'` when shared across tabs, `'solo'` otherwise. */
  readonly role: StoreRole
}

/** What the factory is given each time the store opens a stream. */
export interface StreamContext {
  /**
   * Where to resume: `undefined` the first time (or the `lastEventId` option), then the id of the last
   * record folded, so a stream opened after a hand-over continues exactly where the shared state stands.
   */
  readonly lastEventId: string | undefined
  /** Aborted when the store closes this stream. */
  readonly signal: AbortSignal
}

/** Opens the stream: usually `ndjson()` or `sse()`; any async iterable of records will do. */
export type StreamFactory<R> = (context: StreamContext) => AsyncIterable<R>

/** Options of {@link createStore}. */
export interface StoreOptions<S, R> {
  /** The state before any record. */
  initial: S
  /** A pure fold: returns the next state and leaves `state` untouched. Bounded windows: `keepLast`, `keepWithin`. */
  reduce: (state: S, record: R) => S
  /**
   * Names the stream. A second `createStore` with a key already created in this page returns that
   * store. Required with `shareAcrossTabs`: tabs share the stream of the same key.
   */
  key?: string
  /**
   * One connection for every tab of the origin (Web Locks + BroadcastChannel; `'solo'` where either is
   * missing). The state and records must be structured-cloneable, and `reduce` the same in every tab.
   */
  shareAcrossTabs?: boolean
  /** Close the stream this long after the last subscriber leaves. Default 0 (on the next task). */
  lingerMs?: number
  /** When to notify: `'frame'` (default; a 16 ms timer outside browsers), `'microtask'`, or milliseconds. */
  schedule?: Schedule
  /** The id of the record `initial` already includes: the first stream resumes after it. */
  lastEventId?: string | undefined
}

/** A stream folded into state: `subscribe` and `getSnapshot` as `useSyncExternalStore` expects them. */
export interface Store<S> {
  /** Adds a listener (the first opens the stream); returns the function that removes it. */
  readonly subscribe: (listener: () => void) => () => void
  /** The current snapshot: the same object until listeners are next notified. */
  readonly getSnapshot: () => StoreSnapshot<S>
  /** The `key` option. */
  readonly key: string | undefined
}

/** How often a running stream's state and counters are sampled between records (a stream has no events for them). */
const SAMPLE_MS = 250
/** How often a follower that is missing records asks again for the state. */
const RESYNC_MS = 1000
/** Batches a follower keeps while it waits for the state; older ones are dropped and asked for again. */
const MAX_PENDING = 1024

const stores = new Map<string, Store<unknown>>()

/**
 * Creates a store: the stream `factory` opens, folded into `initial` by `reduce`.
 *
 * @example
 * ```ts
 * import { z } from 'zod'
 * import { ndjson } from 'sluice'
 * import { createStore, keepLast } from 'sluice/store'
 *
 * const Metric = z.object({ seq: z.number(), rps: z.number() })
 * const metrics = createStore(
 *   ({ lastEventId }) => ndjson('/api/metrics', { schema: Metric, idOf: (m) => m.seq, lastEventId }),
 *   { initial: [] as z.infer<typeof Metric>[], reduce: (state, m) => keepLast(state, m, 600), key: 'metrics' },
 * )
 * const unsubscribe = metrics.subscribe(() => console.log(metrics.getSnapshot().value.length))
 * ```
 */
export function createStore<S, R>(factory: StreamFactory<R>, options: StoreOptions<S, R>): Store<S> {
  if (typeof factory !== 'function')
    throw new TypeError('Cannot create store: the first argument must be a function that opens the stream')
  if (typeof options !== 'object' || options === null || !('initial' in options)) {
    throw new TypeError('Cannot create store: options.initial is required')
  }
  if (typeof options.reduce !== 'function')
    throw new TypeError('Cannot create store: options.reduce must be a function')
  const { key, lingerMs = 0, schedule = 'frame' } = options
  if (key !== undefined && (typeof key !== 'string' || key === ''))
    throw new TypeError('Cannot create store: key must be a non-empty string')
  if (options.shareAcrossTabs && key === undefined) {
    throw new TypeError('Cannot create store: shareAcrossTabs needs a key (the name the tabs share)')
  }
  if (!(typeof lingerMs === 'number' && lingerMs >= 0 && Number.isFinite(lingerMs))) {
    throw new RangeError(`Cannot create store: lingerMs must be a number of milliseconds >= 0, got ${String(lingerMs)}`)
  }
  checkSchedule(schedule)
  if (key !== undefined) {
    const existing = stores.get(key)
    if (existing) return existing as Store<S>
  }
  const store = new LiveStore<S, R>(factory, options, lingerMs, schedule)
  if (key !== undefined) stores.set(key, store as Store<unknown>)
  return store
}

/** The leader's stream as every tab shows it. Errors travel as plain fields: a structured clone drops a subclass's. */
interface Status {
  state: StreamState
  counters: StreamCounters
  live: boolean
  error: unknown
}

interface RelayedError {
  name: string
  message: string
  code?: string
}

/** A run of records: `records[i]` is the `position + i`-th record folded since `initial`. */
interface Batch<R> {
  position: number
  records: R[]
  ids: (string | undefined)[]
}

/** What tabs of one key say to each other (see README: one connection for all tabs). */
type Message<S, R> =
  /** A follower asks for the state (joining late, or after it missed records). */
  | { type: 'hello'; from: string }
  /** The leader's answer: its state, `position` records folded, `lastEventId` the last one's id. */
  | { type: 'snapshot'; from: string; position: number; value: S; lastEventId: string | undefined; status: Status }
  /** Records the leader folded, and its stream's status. */
  | ({ type: 'records'; from: string; status: Status } & Batch<R>)

interface Run<R> {
  stream: AsyncIterable<R> & Partial<LiveStream>
  iterator: AsyncIterator<R> | undefined
  abort: AbortController
  sampler: ReturnType<typeof setInterval> | undefined
  /** Records this stream delivered and the store folded. */
  folded: number
}

/** What a `RecordStream` offers beyond iteration, read when present. */
interface LiveStream {
  state: StreamState
  counters: StreamCounters
  lastEventId: string | undefined
  live: boolean
  close(): void
}

const ZERO: StreamCounters = Object.freeze({ bytes: 0, records: 0, reconnects: 0, skipped: 0 })

class LiveStore<S, R> implements Store<S> {
  readonly key: string | undefined
  readonly #factory: StreamFactory<R>
  readonly #reduce: (state: S, record: R) => S
  readonly #lingerMs: number
  readonly #scheduler: Scheduler
  readonly #share: boolean
  readonly #tabId = Math.random().toString(36).slice(2)
  readonly #listeners = new Set<() => void>()

  #value: S
  /** Records folded into #value since `initial`: the order every tab agrees on. */
  #position = 0
  #lastEventId: string | undefined
  #status: Status = { state: 'connecting', counters: ZERO, live: false, error: undefined }
  #role: StoreRole = 'solo'
  #snapshot: StoreSnapshot<S>
  #dirty = false
  #active = false
  #linger: ReturnType<typeof setTimeout> | undefined
  #run: Run<R> | undefined
  #link: TabLink<Message<S, R>> | undefined
  /** Leader: folded records not yet relayed. */
  #outbox: Batch<R> | undefined
  #relayPending = false
  /** Follower: batches past a gap, kept until the state they follow arrives. */
  #pending: Batch<R>[] = []
  #resync: ReturnType<typeof setInterval> | undefined

  constructor(factory: StreamFactory<R>, options: StoreOptions<S, R>, lingerMs: number, schedule: Schedule) {
    this.key = options.key
    this.#factory = factory
    this.#reduce = options.reduce
    this.#lingerMs = lingerMs
    this.#value = options.initial
    this.#lastEventId = options.lastEventId
    this.#share = options.shareAcrossTabs === true && canShareAcrossTabs()
    this.#scheduler = createScheduler(schedule, () => this.#flush())
    this.#snapshot = this.#build()
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('Cannot subscribe: the listener must be a function')
    // A Set: the same function twice is one subscriber, so wrap it to count it twice.
    const entry = () => listener()
    this.#listeners.add(entry)
    if (this.#linger !== undefined) {
      clearTimeout(this.#linger)
      this.#linger = undefined
    }
    if (!this.#active) this.#start()
    // Folded while nobody listened (lingering): publish it to the newcomer.
    else if (this.#dirty) this.#scheduler.request()
    let subscribed = true
    return () => {
      if (!subscribed) return
      subscribed = false
      this.#listeners.delete(entry)
      if (this.#listeners.size === 0 && this.#active) {
        this.#linger = setTimeout(() => {
          this.#linger = undefined
          if (this.#listeners.size === 0) this.#stop()
        }, this.#lingerMs)
      }
    }
  }

  readonly getSnapshot = (): StoreSnapshot<S> => this.#snapshot

  // ---- life: open on the first subscriber, close after the last --------------------------------

  #start(): void {
    this.#active = true
    this.#status = { state: 'connecting', counters: ZERO, live: false, error: undefined }
    if (this.#share) {
      this.#role = 'follower'
      this.#link = new TabLink<Message<S, R>>(`sluice-store:${this.key}`, {
        onLeader: () => this.#lead(),
        onMessage: (message) => this.#receive(message),
      })
      this.#link.start()
      this.#askForState()
    } else {
      this.#role = 'solo'
      this.#open()
    }
    this.#changed()
  }

  #stop(): void {
    this.#active = false
    this.#closeRun()
    this.#relay()
    this.#link?.stop()
    this.#link = undefined
    this.#clearFollowing()
    this.#status = { ...this.#status, state: 'closed', live: false }
    // Nobody listens: publish at once, so a later getSnapshot() tells the truth.
    this.#scheduler.cancel()
    this.#dirty = false
    this.#snapshot = this.#build()
  }

  // ---- leader or solo: this tab holds the stream ------------------------------------------------

  #lead(): void {
    if (!this.#active) return
    this.#role = 'leader'
    // Whatever a dead leader left half-relayed is fetched again from this tab's own position.
    this.#clearFollowing()
    this.#open()
    this.#changed()
  }

  #open(): void {
    const abort = new AbortController()
    let stream: Run<R>['stream']
    try {
      stream = this.#factory({ lastEventId: this.#lastEventId, signal: abort.signal }) as Run<R>['stream']
      if (typeof stream?.[Symbol.asyncIterator] !== 'function') {
        throw new TypeError('Cannot open stream: the factory must return an async iterable (ndjson(), sse(), ...)')
      }
    } catch (error) {
      this.#fail(error)
      return
    }
    const run: Run<R> = { stream, iterator: undefined, abort, sampler: undefined, folded: 0 }
    this.#run = run
    this.#status = { state: stream.state ?? 'connecting', counters: ZERO, live: false, error: undefined }
    run.sampler = setInterval(() => this.#sample(run), SAMPLE_MS)
    void this.#consume(run)
  }

  async #consume(run: Run<R>): Promise<void> {
    try {
      const iterator = (run.iterator = run.stream[Symbol.asyncIterator]())
      for (;;) {
        const step = await iterator.next()
        if (this.#run !== run) return
        if (step.done) break
        const id = 'lastEventId' in run.stream ? run.stream.lastEventId : undefined
        // A reducer that throws ends the stream; #value stays the last state it returned.
        this.#fold(step.value, id)
        run.folded++
        if (this.#role === 'leader') this.#queueRelay(step.value, id)
        this.#sample(run)
      }
      this.#closeRun()
      this.#setStatus({ ...this.#statusOf(run), state: 'closed', live: false })
    } catch (error) {
      if (this.#run !== run) return
      this.#fail(error)
    }
  }

  #statusOf(run: Run<R>): Status {
    const { stream, folded } = run
    const state = typeof stream.state === 'string' ? stream.state : folded > 0 ? 'open' : 'connecting'
    const counters =
      typeof stream.counters === 'object' && stream.counters !== null ? stream.counters : { ...ZERO, records: folded }
    const live = typeof stream.live === 'boolean' ? stream.live : state === 'open'
    return { state, counters, live, error: undefined }
  }

  /** Reads the stream's state and counters (it has no events for them) and publishes a change. */
  #sample(run: Run<R>): void {
    if (this.#run !== run) return
    this.#setStatus(this.#statusOf(run))
  }

  #setStatus(next: Status): void {
    const now = this.#status
    const same =
      now.state === next.state &&
      now.live === next.live &&
      now.error === next.error &&
      now.counters.bytes === next.counters.bytes &&
      now.counters.records === next.counters.records &&
      now.counters.reconnects === next.counters.reconnects &&
      now.counters.skipped === next.counters.skipped
    if (same) return
    this.#status = { ...next, counters: { ...next.counters } }
    if (this.#role === 'leader') this.#scheduleRelay()
    this.#changed()
  }

  #fail(error: unknown): void {
    const run = this.#run
    this.#closeRun()
    const counters = run ? this.#statusOf(run).counters : this.#status.counters
    this.#setStatus({ state: 'closed', counters, live: false, error })
    if (this.#role === 'follower') {
      // A follower whose reducer threw can no longer follow: it leaves the group and keeps its error.
      this.#link?.stop()
      this.#link = undefined
      this.#clearFollowing()
    }
  }

  #closeRun(): void {
    const run = this.#run
    if (!run) return
    this.#run = undefined
    clearInterval(run.sampler)
    run.abort.abort()
    try {
      run.stream.close?.()
    } catch {
      // closing is best effort: the stream is abandoned either way
    }
    // A generic async iterable has no close(): return() ends it (rejections are its own business).
    run.iterator?.return?.()?.catch(() => {})
  }

  #fold(record: R, id: string | undefined): void {
    this.#value = this.#reduce(this.#value, record)
    this.#position++
    if (id !== undefined) this.#lastEventId = id
    this.#changed()
  }

  // ---- relay: the leader tells the other tabs ---------------------------------------------------

  #queueRelay(record: R, id: string | undefined): void {
    const box = (this.#outbox ??= { position: this.#position, records: [], ids: [] })
    box.records.push(record)
    box.ids.push(id)
    this.#scheduleRelay()
  }

  /** One message per task, however many records a chunk held. */
  #scheduleRelay(): void {
    if (this.#relayPending) return
    this.#relayPending = true
    nextTask(() => {
      if (this.#relayPending) this.#relay()
    })
  }

  #relay(): void {
    this.#relayPending = false
    if (this.#role !== 'leader' || !this.#link) return
    const box = this.#outbox ?? { position: this.#position + 1, records: [], ids: [] }
    this.#outbox = undefined
    this.#post({ type: 'records', from: this.#tabId, status: this.#relayedStatus(), ...box })
  }

  #relayedStatus(): Status {
    const { error } = this.#status
    if (error === undefined) return this.#status
    const e = error as { name?: unknown; message?: unknown; code?: unknown }
    const relayed: RelayedError = { name: String(e.name ?? 'Error'), message: String(e.message ?? error) }
    if (typeof e.code === 'string') relayed.code = e.code
    return { ...this.#status, error: relayed }
  }

  #post(message: Message<S, R>): void {
    try {
      this.#link?.post(message)
    } catch (error) {
      // A state or record a structured clone refuses (a function, a class instance with private fields).
      this.#fail(error)
    }
  }

  // ---- follower: fold what the leader relays, in its order --------------------------------------

  #receive(message: Message<S, R>): void {
    if (!this.#active) return
    if (message.type === 'hello') {
      if (this.#role !== 'leader') return
      this.#relay() // records before the state, so no tab sees the state go back
      this.#post({
        type: 'snapshot',
        from: this.#tabId,
        position: this.#position,
        value: this.#value,
        lastEventId: this.#lastEventId,
        status: this.#relayedStatus(),
      })
      return
    }
    // A leader never folds what another tab relays: a late message from the one before it would repeat records.
    if (this.#role !== 'follower') return
    if (message.type === 'snapshot') {
      if (message.position < this.#position) return
      if (message.position > this.#position) {
        this.#value = message.value
        this.#position = message.position
        this.#lastEventId = message.lastEventId
      }
      this.#stopResync()
      this.#followStatus(message.status)
      this.#drain()
      this.#changed()
      return
    }
    this.#followStatus(message.status)
    this.#pending.push(message)
    this.#drain()
  }

  #followStatus(status: Status): void {
    const relayed = status.error as RelayedError | undefined
    const current = this.#status.error as (Error & { code?: string }) | undefined
    // The same error relayed again keeps its object: snapshots change only when something did.
    const same =
      relayed !== undefined &&
      current !== undefined &&
      current.name === relayed.name &&
      current.message === relayed.message &&
      current.code === relayed.code
    this.#setStatus({ ...status, error: relayed === undefined ? undefined : same ? current : reviveError(relayed) })
  }

  /** Folds the pending batches that continue the state, in position order; asks for the state at a gap. */
  #drain(): void {
    this.#pending.sort((a, b) => a.position - b.position)
    while (this.#pending.length > 0 && this.#role === 'follower') {
      const batch = this.#pending[0]!
      if (batch.position > this.#position + 1) {
        // Missed records (joined late, or a leader died mid-relay): the leader's state fills the gap.
        if (this.#pending.length > MAX_PENDING) this.#pending.splice(0, this.#pending.length - MAX_PENDING)
        this.#askForState()
        return
      }
      this.#pending.shift()
      for (let i = 0; i < batch.records.length; i++) {
        // Records this tab folded already (from the leader before, or twice relayed) are skipped: no duplicate.
        if (batch.position + i !== this.#position + 1) continue
        try {
          this.#fold(batch.records[i] as R, batch.ids[i])
        } catch (error) {
          this.#fail(error)
          return
        }
      }
    }
    if (this.#pending.length === 0) this.#stopResync()
  }

  #askForState(): void {
    if (this.#resync !== undefined) return
    const hello = () => this.#post({ type: 'hello', from: this.#tabId })
    hello()
    // Asked again until answered: the leader may be dying, and the next one answers.
    this.#resync = setInterval(hello, RESYNC_MS)
  }

  #stopResync(): void {
    clearInterval(this.#resync)
    this.#resync = undefined
  }

  #clearFollowing(): void {
    this.#pending = []
    this.#stopResync()
  }

  // ---- notification: at most once per schedule tick, snapshots built only then --------------------

  #changed(): void {
    this.#dirty = true
    if (this.#listeners.size > 0) this.#scheduler.request()
  }

  #flush(): void {
    if (!this.#dirty) return
    this.#dirty = false
    this.#snapshot = this.#build()
    for (const listener of [...this.#listeners]) {
      try {
        listener()
      } catch (error) {
        // One listener's failure must not starve the others; it is reported, not swallowed.
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  #build(): StoreSnapshot<S> {
    const { state, counters, live, error } = this.#status
    return Object.freeze({
      value: this.#value,
      state,
      counters: Object.freeze({ ...counters }),
      error,
      lastEventId: this.#lastEventId,
      live,
      role: this.#role,
    })
  }
}

function reviveError(relayed: RelayedError): Error {
  const error = new Error(relayed.message) as Error & { code?: string }
  error.name = relayed.name
  if (relayed.code !== undefined) error.code = relayed.code
  return error
}

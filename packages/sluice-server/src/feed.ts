/**
 * Feeds: a durable, ordered log per key that every server instance can replay from a client's
 * `Last-Event-ID`. This module holds the {@link Feed} contract, what both implementations share,
 * and {@link memoryFeed}, the embedded one (one process, nothing to install). `sluice-server/redis`
 * has `redisFeed`, the one shared by many instances.
 *
 * Never silent loss: when a reader's position is no longer held (trimmed, reset, unknown), the
 * read yields a `{ gap }` entry naming what is missing before it goes on.
 *
 * @module
 */
import { type Gap, type GapReason, isReservedRecord } from 'sluice/protocol'

export type { Gap, GapReason }

/** One record of a feed, with the id a client resumes after. Shared between readers: do not mutate `data`. */
export interface FeedRecord<T = unknown> {
  id: string
  data: T
}

/** Records were lost before the next entry (see {@link Gap}). */
export interface FeedGap {
  gap: Gap
}

/**
 * What {@link Feed.read} yields: a record, or a gap marker. Tell them apart with `'gap' in entry`
 * (more marker kinds may be added, each under its own key; records always have `id` and `data`).
 */
export type FeedEntry<T = unknown> = FeedRecord<T> | FeedGap

/**
 * The caught-up marker a read yields when asked (`live: true`): every entry held when it caught up
 * has been yielded, what follows is the live tail. `feedResponse` sends it as the wire marker.
 */
export interface FeedLive {
  live: true
}

/** Options of {@link Feed.read}. */
export interface FeedReadOptions {
  /** Yield the entries after this id (a client's `Last-Event-ID`). Absent: from the oldest entry held. */
  after?: string
  /** `'now'`: only entries published from now on (ignored when `after` is given). */
  from?: 'now'
  /** Aborting it ends the iteration (a waiting read returns at once). */
  signal?: AbortSignal
  /** Yield `{ live: true }` once, the first time the read reaches the tail (nothing more held to yield). Default `false`. */
  live?: boolean
}

/** Options of {@link Feed.publish}. */
export interface PublishOptions {
  /**
   * Makes the publish idempotent: a second publish with the same `msgId` (a retry after a timeout)
   * writes nothing and resolves to the first one's id. Remembered for the `maxLen` most recent
   * messages (memory) or `msgIdTtlMs` (Redis).
   */
  msgId?: string
}

/** A durable log of records per key: publish appends, read replays and then follows the live tail. */
export interface Feed {
  /** Appends `record` (a JSON value) to the feed `key`; resolves to the entry's id. */
  publish(key: string, record: unknown, options?: PublishOptions): Promise<string>
  /** Ends the feed `key`: its readers finish (and `feedResponse` sends the end marker); later publishes are refused. */
  end(key: string): Promise<void>
  /**
   * Every entry after `after`, then the live tail, pulled one at a time (a slow reader costs no
   * buffer). Yields `{ gap }` first when `after` is not held any more, and whenever a slow reader
   * falls behind the trimmed history. Ends after `end(key)`; throws {@link FeedUnavailableError}
   * when the store is lost.
   */
  read<T = unknown>(
    key: string,
    options: FeedReadOptions & { live: true },
  ): AsyncIterableIterator<FeedEntry<T> | FeedLive>
  read<T = unknown>(key: string, options?: FeedReadOptions): AsyncIterableIterator<FeedEntry<T>>
  /** Resolves when the store answers; rejects with {@link FeedUnavailableError} when it does not. */
  ready(): Promise<void>
  /** Releases the feed: readers end with {@link FeedUnavailableError}, later calls are refused. */
  close(): Promise<void>
}

/**
 * The feed's store cannot be reached (or the feed was closed). `feedResponse` answers 503 with
 * `Retry-After` when it happens before the response, and cuts the stream (no end marker, so the
 * client resumes) when it happens during it.
 */
export class FeedUnavailableError extends Error {
  readonly code = 'FEED_UNAVAILABLE'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'FeedUnavailableError'
  }
}

/** Whether `error` is a {@link FeedUnavailableError} (by `code`: two copies of the package break `instanceof`). */
export function isFeedUnavailable(error: unknown): error is FeedUnavailableError {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'FEED_UNAVAILABLE'
}

// The JSON text each record was stored as, so encoders send it without stringifying it again.
const jsonOfEntry = new WeakMap<object, string>()

/** A record entry (frozen) that remembers its JSON text. */
export function recordEntry<T>(id: string, json: string, data: T = JSON.parse(json) as T): FeedRecord<T> {
  const entry = Object.freeze({ id, data })
  jsonOfEntry.set(entry, json)
  return entry
}

/** The JSON text of a record entry's data. */
export function entryJson(entry: FeedRecord<unknown>): string {
  return jsonOfEntry.get(entry) ?? JSON.stringify(entry.data)
}

/** The JSON text of a record to publish; a `TypeError` for what a feed cannot carry. */
export function recordJson(record: unknown): string {
  if (isReservedRecord(record)) {
    // A client would read it as a marker (end, gap, entry envelope) and stop or skip there.
    throw new TypeError('Cannot publish record: it has the reserved key "$sluice" of the sluice markers')
  }
  const json = JSON.stringify(record)
  if (json === undefined) throw new TypeError(`Cannot publish record: a ${typeof record} has no JSON form`)
  return json
}

/** Checks a feed key: a non-empty string. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') throw new TypeError('Cannot use feed key: expected a non-empty string')
  return key
}

/** Checks `maxLen`: a positive safe integer. */
export function maxLenOf(maxLen: number | undefined, fallback: number): number {
  const value = maxLen ?? fallback
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Cannot use maxLen: expected a positive integer, got ${String(value)}`)
  }
  return value
}

/** Checks `maxAgeMs`: absent (no age limit) or a positive safe integer. */
export function maxAgeOf(maxAgeMs: number | undefined): number | undefined {
  if (maxAgeMs === undefined) return undefined
  if (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 1) {
    throw new RangeError(`Cannot use maxAgeMs: expected a positive integer of milliseconds, got ${String(maxAgeMs)}`)
  }
  return maxAgeMs
}

/** A fresh epoch: names one history, so an id from another (a store that restarted empty) is never taken as continuity. */
export function newEpoch(): string {
  return crypto.randomUUID().replaceAll('-', '').slice(0, 12)
}

/** `<epoch>:<position>` ids, as sent to clients. */
export function splitId(id: string): { epoch: string; position: string } | undefined {
  const colon = id.indexOf(':')
  if (colon <= 0 || colon === id.length - 1) return undefined
  return { epoch: id.slice(0, colon), position: id.slice(colon + 1) }
}

/**
 * The iterator behind `read()`: pulls one entry per `next()`, and ends at once on `return()` or
 * abort, even while waiting for the tail (a generator would only run its `return()` after the
 * pending await settles, which for an idle feed may be never).
 */
const TAIL = Symbol('tail')

export abstract class EntryIterator<T> implements AsyncIterableIterator<FeedEntry<T>> {
  /** Set by `return()`, abort, or the end: nothing more is pulled. */
  protected stopped = false
  #wake: (() => void) | undefined
  readonly #signal: AbortSignal | undefined
  readonly #onAbort = (): void => this.stop()
  /** With `live: true`, until the marker is yielded: called when `pull` first sleeps (it reached the tail). */
  #atTail: (() => void) | undefined
  #wantsLive: boolean
  /** A pull still running after the marker was yielded in its place: the next `next()` takes its entry. */
  #pending: Promise<FeedEntry<T> | undefined> | undefined

  constructor(signal: AbortSignal | undefined, live = false) {
    this.#wantsLive = live
    this.#signal = signal
    if (signal?.aborted) this.stopped = true
    else signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  /** The next entry, or `undefined` when the feed ended (or the iterator stopped). */
  protected abstract pull(): Promise<FeedEntry<T> | undefined>

  /** Called once when the iterator stops, to release what it holds. */
  protected release(): void {}

  async next(): Promise<IteratorResult<FeedEntry<T>, undefined>> {
    if (this.stopped) return { done: true, value: undefined }
    try {
      let entry: FeedEntry<T> | undefined
      if (this.#wantsLive) {
        // Armed before pull() runs: a reader with nothing held sleeps in its first synchronous step.
        const tail = new Promise<typeof TAIL>((resolve) => (this.#atTail = () => resolve(TAIL)))
        const pulling = this.#pending ?? this.pull()
        this.#pending = undefined
        const first = await Promise.race([pulling, tail])
        this.#atTail = undefined
        if (first === TAIL) {
          this.#wantsLive = false
          this.#pending = pulling
          pulling.catch(() => {}) // awaited by the next next(); never an unhandled rejection if none comes
          return { done: false, value: { live: true } as unknown as FeedEntry<T> }
        }
        entry = first
      } else {
        const pulling = this.#pending ?? this.pull()
        this.#pending = undefined
        entry = await pulling
      }
      if (entry === undefined || this.stopped) {
        this.stop()
        return { done: true, value: undefined }
      }
      return { done: false, value: entry }
    } catch (error) {
      this.stop()
      throw error
    }
  }

  async return(): Promise<IteratorResult<FeedEntry<T>, undefined>> {
    this.stop()
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** Waits until `wake()` (new entries, an end, a failure) or a stop. */
  protected sleep(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    this.#atTail?.()
    return new Promise((resolve) => (this.#wake = resolve))
  }

  /** Ends a pending {@link sleep}. */
  wake(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  protected stop(): void {
    if (this.stopped && this.#wake === undefined) return
    const first = !this.stopped
    this.stopped = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.wake()
    if (first) this.release()
  }
}

/** Options of {@link memoryFeed}. */
export interface MemoryFeedOptions {
  /** Entries kept per key; older ones are trimmed (readers behind them get a `'trimmed'` gap). Default 10 000. */
  maxLen?: number
  /**
   * Entries older than this are trimmed, checked at each publish to the key (an idle key keeps its
   * entries until the next one), with the same `'trimmed'` gap as `maxLen`. Default: no age limit.
   */
  maxAgeMs?: number
  /** The clock `maxAgeMs` is measured on, in milliseconds. Default `Date.now` (a test can inject its own). */
  now?: () => number
}

interface MemoryLog {
  epoch: string
  /** The sequence number of `entries[0]`. */
  first: number
  entries: FeedRecord<unknown>[]
  /** When each entry was published, by `now()` (kept only with `maxAgeMs`). */
  times: number[]
  ended: boolean
  readers: Set<MemoryReader<unknown>>
  msgIds: Map<string, string>
}

/**
 * A feed in this process's memory: nothing to install, one process only (a restart starts a new
 * history, which readers resuming from the old one hear about as a `'reset'` gap). Ids are
 * `<epoch>:<sequence>`.
 *
 * @example
 * ```ts
 * import { memoryFeed } from 'sluice-server'
 *
 * const feed = memoryFeed({ maxLen: 10_000, maxAgeMs: 3_600_000 })
 * await feed.publish('metrics', { rps: 42 })
 * for await (const entry of feed.read('metrics')) {
 *   if ('gap' in entry) console.log('missed records', entry.gap)
 *   else console.log(entry.id, entry.data)
 *   break
 * }
 * ```
 */
export function memoryFeed(options: MemoryFeedOptions = {}): Feed {
  const maxLen = maxLenOf(options.maxLen, 10_000)
  const maxAgeMs = maxAgeOf(options.maxAgeMs)
  const now = options.now ?? Date.now
  const logs = new Map<string, MemoryLog>()
  let closed = false

  const open = (what: string): void => {
    if (closed) throw new FeedUnavailableError(`Cannot ${what}: the feed is closed`)
  }
  const logOf = (key: string): MemoryLog => {
    let log = logs.get(key)
    if (log === undefined) {
      log = { epoch: newEpoch(), first: 0, entries: [], times: [], ended: false, readers: new Set(), msgIds: new Map() }
      logs.set(key, log)
    }
    return log
  }
  const wakeAll = (log: MemoryLog): void => {
    for (const reader of log.readers) reader.wake()
  }

  return {
    async publish(key, record, publishOptions = {}) {
      checkKey(key)
      const json = recordJson(record)
      open('publish')
      const log = logOf(key)
      const { msgId } = publishOptions
      if (msgId !== undefined) {
        const id = log.msgIds.get(msgId)
        if (id !== undefined) return id
      }
      if (log.ended) throw new Error(`Cannot publish: the feed "${key}" has ended`)
      const id = `${log.epoch}:${log.first + log.entries.length}`
      log.entries.push(recordEntry(id, json))
      let drop = Math.max(0, log.entries.length - maxLen)
      if (maxAgeMs !== undefined) {
        const at = now()
        log.times.push(at)
        while (drop < log.times.length && log.times[drop]! < at - maxAgeMs) drop++
        log.times.splice(0, drop)
      }
      if (drop > 0) {
        log.entries.splice(0, drop)
        log.first += drop
      }
      if (msgId !== undefined) {
        log.msgIds.set(msgId, id)
        // Map iteration is insertion order: the first key is the oldest message.
        if (log.msgIds.size > maxLen) log.msgIds.delete(log.msgIds.keys().next().value as string)
      }
      wakeAll(log)
      return id
    },
    async end(key) {
      checkKey(key)
      open('end')
      const log = logOf(key)
      log.ended = true
      wakeAll(log)
    },
    read<T>(key: string, readOptions: FeedReadOptions = {}): AsyncIterableIterator<FeedEntry<T>> {
      checkKey(key)
      open('read')
      return new MemoryReader<T>(logOf(key), readOptions, () => closed)
    },
    async ready() {
      open('read')
    },
    async close() {
      closed = true
      for (const log of logs.values()) wakeAll(log)
    },
  }
}

class MemoryReader<T> extends EntryIterator<T> {
  readonly #log: MemoryLog
  readonly #closed: () => boolean
  /** The sequence number of the next entry to yield. */
  #next: number
  /** The id of the last entry yielded (or the position resumed after). */
  #last: string | undefined
  /** A gap to yield before anything else. */
  #gap: Gap | undefined

  constructor(log: MemoryLog, options: FeedReadOptions, closed: () => boolean) {
    super(options.signal, options.live)
    this.#log = log
    this.#closed = closed
    const held = log.first + log.entries.length
    const { after } = options
    this.#last = after
    if (after === undefined) {
      this.#next = options.from === 'now' ? held : log.first
    } else {
      const reason = memoryGapReason(log, after)
      this.#next = reason === undefined ? Number(splitId(after)!.position) + 1 : log.first
      if (reason !== undefined) this.#gap = { reason, lastEventId: after, resumeFrom: log.entries[0]?.id ?? null }
    }
    log.readers.add(this as MemoryReader<unknown>)
  }

  protected override release(): void {
    this.#log.readers.delete(this as MemoryReader<unknown>)
  }

  protected async pull(): Promise<FeedEntry<T> | undefined> {
    const log = this.#log
    for (;;) {
      if (this.stopped) return undefined
      if (this.#closed()) throw new FeedUnavailableError('Cannot read feed: the feed is closed')
      if (this.#gap !== undefined) {
        const gap = this.#gap
        this.#gap = undefined
        return { gap }
      }
      if (this.#next < log.first) {
        // This reader fell behind the history kept: say what it missed, then go on from the oldest held.
        this.#next = log.first
        if (this.#last !== undefined) {
          return { gap: { reason: 'trimmed', lastEventId: this.#last, resumeFrom: log.entries[0]?.id ?? null } }
        }
      }
      const entry = log.entries[this.#next - log.first]
      if (entry !== undefined) {
        this.#next++
        this.#last = entry.id
        return entry as FeedRecord<T>
      }
      if (log.ended) return undefined
      await this.sleep()
    }
  }
}

function memoryGapReason(log: MemoryLog, after: string): GapReason | undefined {
  const parts = splitId(after)
  if (parts === undefined || !/^(0|[1-9]\d{0,15})$/.test(parts.position)) return 'unknown'
  // Another epoch: an id from a history this process no longer has (it restarted).
  if (parts.epoch !== log.epoch) return 'reset'
  const seq = Number(parts.position)
  if (seq >= log.first + log.entries.length) return 'unknown' // never issued: forged
  // Continuity holds when the entry after `after` is still held (after itself may be trimmed).
  if (seq + 1 < log.first) return 'trimmed'
  return undefined
}

/**
 * `ndjson()` and `sse()`: fetch a stream, detect truncation, reconnect with backoff, and resume
 * from the last record delivered, so the consumer sees every record once and in order.
 *
 * The parts: {@link connect} makes one attempt, {@link watch} times its reads, `wait.ts` holds the
 * waits between attempts, {@link retryDelay} decides whether and when to retry; this module is the
 * loop that ties them together.
 *
 * @module
 */
import { type Accepts, connect, isRequest, NotAResponseError, type RequestOptions, type Target } from './connect.js'
import type { Infer } from './decode.js'
import { ContentTypeError, NetworkError, SluiceError } from './errors.js'
import type { EventSchemas, TypedEventOptions, TypedSseEvent } from './events.js'
import { EntryId } from './gap.js'
import { type PushParser, RecordIterator } from './iterate.js'
import { LIVE } from './live.js'
import { type NdjsonOptions, NdjsonParser } from './ndjson.js'
import { type Cursor, cursorOf, type PersistOptions } from './persist.js'
import {
  HEARTBEAT_HEADER,
  HEARTBEAT_TIMEOUT_FACTOR,
  isSendableId,
  NDJSON_CONTENT_TYPES,
  SSE_CONTENT_TYPE,
} from './protocol.js'
import { mapStream, type RecordStream, type StreamCounters, type StreamState } from './record-stream.js'
import type { ResumeTracker } from './resume.js'
import {
  isIdempotent,
  type ResolvedRetryPolicy,
  type RetryHistory,
  type RetryPolicy,
  resolveRetry,
  retryDelay,
} from './retry.js'
import { bodySniffer, FOREIGN_BODY_FIX } from './sniff.js'
import { readerOf } from './source.js'
import { type SseEvent, type SseOptions, SseParser } from './sse.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import { mustWait, onHidden, pageChange, sleep } from './wait.js'
import { type WatchOptions, watch } from './watch.js'

/** What `onRetry` is told before each wait. */
export interface RetryInfo {
  /** Failed attempts in a row so far (1 for the first retry). */
  attempt: number
  /** How long the stream waits before the next attempt. */
  delayMs: number
  /** The failure that caused the retry. */
  error: SluiceError
}

/** What `shouldRetry` is told besides the failure. */
export interface RetryContext {
  /** Failed attempts in a row so far, this one included. */
  attempt: number
  /** The resume position the next attempt would send. */
  lastEventId: string | undefined
}

/** A `shouldRetry` answer: retry (after the policy's delay, or after `delayMs`) or not. */
export type RetryVerdict = boolean | { delayMs: number }

/** Request and policy options of `ndjson()` and `sse()`. */
export interface FetchOptions extends RequestOptions, WatchOptions {
  /** Aborting it stops the stream; the iterator rejects with the signal's reason. Default: a `Request` input's signal. */
  signal?: AbortSignal | undefined
  /** The reconnection policy, or `false` for no reconnecting. */
  retry?: RetryPolicy | boolean
  /**
   * Decides whether a failure is retried, replacing the default classification (network errors,
   * timeouts, 408, 429 and 5xx): `true` retries after the policy's delay, `{ delayMs }` after that
   * delay (within `minDelayMs`..`maxDelayMs`), `false` throws the failure. It is asked only where a
   * retry is possible at all: the policy allows one, the stream can resume, and fewer than
   * `maxAttempts` attempts in a row failed. If it throws, the stream ends with what it threw.
   *
   * @example
   * ```ts
   * import { sse } from 'sluice'
   *
   * let token = 'expired'
   * const events = sse('/api/events', {
   *   headers: () => ({ authorization: `Bearer ${token}` }), // called per attempt
   *   shouldRetry: (error, { attempt }) => {
   *     const status = (error as { status?: number }).status
   *     if (status === 401) return attempt === 1 && ((token = 'refreshed'), true) // once, with a new token
   *     return status === undefined || status >= 500 // network errors, timeouts and 5xx, not other 4xx
   *   },
   * })
   * ```
   */
  shouldRetry?: (error: SluiceError, context: RetryContext) => RetryVerdict | Promise<RetryVerdict>
  /** The resume position to start from (sent as `Last-Event-ID` on the first request too). */
  lastEventId?: string | undefined
  /**
   * The request for every attempt that has a resume position (a non-empty `lastEventId`): a stream
   * started by a POST reconnects through a GET of another URL with the cursor in the query or a
   * header (`Last-Event-ID` and `headers` are sent with it too). A URL is fetched with GET, a
   * `Request` as it is; either is re-sent like a GET, whatever the first request's method. It
   * throwing ends the stream with what it threw.
   */
  resume?: (lastEventId: string) => string | URL | Request
  /**
   * Keep the resume position in `storage` (default `sessionStorage`) under `key`: a stream started
   * with the same key starts from the stored id (before `lastEventId`), so a page reloaded
   * mid-stream continues with no gap and no duplicate; the entry is removed when the stream ends
   * complete. A storage that throws is reported once (`onError`, default `console.warn`) and the
   * stream goes on without persisting.
   */
  persist?: PersistOptions
  /**
   * Pause while the page is hidden and resume from the last id when it is shown (browsers). Default `false`.
   * Hiding is an interruption like any other: where a reconnect is not allowed (a POST without explicit
   * `retry`, `retry: false`, or ndjson() without `idOf` once records were delivered), hiding the page
   * ends the stream with a `NetworkError` rather than re-sending the request or replaying records.
   */
  pauseWhenHidden?: boolean
  /** Called with each accepted response. */
  onOpen?: (response: Response) => void
  /** Called before each wait to reconnect. */
  onRetry?: (info: RetryInfo) => void
  /** Called on every state change. */
  onStateChange?: (state: StreamState) => void
  /**
   * Called when the server's caught-up marker arrives (sluice-server: a source yields `caughtUp`): the
   * records before it were history, those after it are live. Once per connection; see `stream.live`.
   */
  onLive?: () => void
}

/** Options of `ndjson()`. */
export interface NdjsonStreamOptions<S extends StandardSchemaV1 | undefined = undefined, T = unknown>
  extends FetchOptions,
    NdjsonOptions<S> {
  /** A record's resume id. Without it, a failure after the first record cannot resume and is thrown. */
  idOf?: (record: T) => string | number
  /** More content types to accept as NDJSON, or `'*'` for any. */
  contentTypes?: readonly string[] | '*'
}

/** Options of `sse()`. */
export interface SseStreamOptions<S extends StandardSchemaV1 | undefined = undefined>
  extends FetchOptions,
    SseOptions<S> {}

/**
 * Streams NDJSON records from a URL, reconnecting and resuming (with `idOf`) until the end marker.
 *
 * @example
 * ```ts
 * import { z } from 'zod'
 * import { ndjson } from 'sluice'
 *
 * const Metric = z.object({ seq: z.number(), rps: z.number() })
 * for await (const m of ndjson('/api/metrics', { schema: Metric, idOf: (m) => m.seq })) {
 *   console.log(m.seq, m.rps)
 * }
 * ```
 */
export function ndjson<S extends StandardSchemaV1>(
  input: string | URL | Request,
  options: NdjsonStreamOptions<S, Infer<S>> & { schema: S },
): RecordStream<Infer<S>>
export function ndjson<T = unknown>(
  input: string | URL | Request,
  options?: NdjsonStreamOptions<undefined, T>,
): RecordStream<T>
export function ndjson(
  input: string | URL | Request,
  options: NdjsonStreamOptions<StandardSchemaV1 | undefined, unknown> = {},
): RecordStream<unknown> {
  const { idOf, contentTypes } = options
  const id = idOf && ((record: unknown) => String(idOf(record)))
  // NDJSON tracks no position of its own (no lastEventId, no retryMs): a record's id is its resume
  // position and its replay test.
  const resume: ResumeTracker<unknown> = { isReplay: (record, sentId) => id?.(record) === sentId }
  return new ResilientStream<unknown>(input, options, {
    accept: contentTypes === '*' ? '*' : [...NDJSON_CONTENT_TYPES, ...(contentTypes ?? [])],
    acceptHeader: 'application/x-ndjson, application/jsonl;q=0.9, */*;q=0.1',
    typeFix: (type) => `if it is NDJSON, accept it with contentTypes: ['${type}']`,
    starts: '<',
    open: () => [new NdjsonParser(options, true), resume],
    // With idOf, or once a feed line carried its id (feedResponse), a record has a resume position; else none.
    idOf: id,
    openEnded: false,
  })
}

/**
 * Streams Server-Sent Events from a URL as EventSource does (reconnecting, sending `Last-Event-ID`,
 * honouring `retry:`), until the `end` event.
 *
 * @example
 * ```ts
 * import { sse } from 'sluice'
 *
 * for await (const { event, data } of sse('/api/events')) console.log(event, data)
 * ```
 */
export function sse<E extends EventSchemas>(
  input: string | URL | Request,
  options: SseStreamOptions & TypedEventOptions<E> & { events: E; schema?: undefined },
): RecordStream<TypedSseEvent<E>>
export function sse<S extends StandardSchemaV1>(
  input: string | URL | Request,
  options: SseStreamOptions<S> & { schema: S },
): RecordStream<SseEvent<Infer<S>>>
export function sse<T = unknown>(
  input: string | URL | Request,
  options: SseStreamOptions & { json: true },
): RecordStream<SseEvent<T>>
export function sse<T = string>(input: string | URL | Request, options?: SseStreamOptions): RecordStream<SseEvent<T>>
export function sse(
  input: string | URL | Request,
  options: SseStreamOptions<StandardSchemaV1 | undefined> = {},
): RecordStream<SseEvent<unknown>> {
  return new ResilientStream<SseEvent<unknown>>(input, options, {
    accept: [SSE_CONTENT_TYPE],
    acceptHeader: SSE_CONTENT_TYPE,
    typeFix: () => 'the server did not answer with an event stream: check the URL',
    starts: '<{[',
    open: (lastEventId) => {
      // The parser tracks the last-event-id itself (HTML §9.2.6): it is its own resume tracker.
      const parser = new SseParser(options, lastEventId, true)
      return [parser, parser]
    },
    idOf: (event) => event.id ?? '',
    openEnded: true,
  })
}

/** A parser as the reconnect loop drives it. */
interface StreamParser extends PushParser {
  /** Its record gate, whose skips the counters show. */
  readonly gate: { skipped: number }
  /** Records received so far, invalid ones included (the stall clock). */
  readonly received: number
}

/** How `ndjson()` and `sse()` differ. */
interface Format<T> extends Accepts {
  /** A parser for one connection, starting from `lastEventId` (`''`: none), and its resume tracker. */
  open(lastEventId: string): [parser: StreamParser, resume: ResumeTracker<T>]
  /** The resume id of a delivered record (`''`: none). */
  idOf: ((record: T) => string) | undefined
  /** The first characters by which a body under the right type is something else (see sniff.ts). */
  starts: string
  /** Whether end-of-stream without the end marker means "reconnect" (SSE) rather than "done" (NDJSON). */
  openEnded: boolean
}

/** Why an attempt was aborted, besides a `SluiceError`. */
const CLOSED = Symbol('closed')
const PAUSED = Symbol('paused')
const ENDED = Symbol('ended')

/** A failure that is not the network's (a hook that threw, a record a schema or `idOf` chokes on): thrown as it is, never retried. */
class Final {
  declare readonly error: unknown

  constructor(error: unknown) {
    this.error = error
  }
}

class ResilientStream<T> implements RecordStream<T> {
  #state: StreamState = 'connecting'
  #counters: StreamCounters = { bytes: 0, records: 0, reconnects: 0, skipped: 0 }
  #lastEventId: string | undefined
  #retryAt: number | undefined
  #live = false
  #serverRetryMs: number | undefined
  #closed = false
  /** The running attempt's record gate, whose skips are added to the counters when the attempt ends. */
  #gate: { skipped: number } | undefined
  #iterating = false
  readonly #signal: AbortSignal | undefined
  /** Aborts whatever is in flight: the attempt's fetch and body, or the wait between attempts. */
  #inflight: AbortController | undefined
  readonly #input: string | URL | Request
  readonly #options: FetchOptions
  readonly #format: Format<T>
  /** The reconnection policy, `undefined` with `retry: false`. */
  readonly #retry: ResolvedRetryPolicy | undefined
  /** Whether the first request may be sent again (idempotent, or `retry` given explicitly). */
  readonly #resendable: boolean
  readonly #fetch: typeof fetch
  readonly #method: string
  readonly #cursor: Cursor | undefined

  constructor(input: string | URL | Request, options: FetchOptions, format: Format<T>) {
    // Each attempt sends a clone of it: a body read already could never be sent.
    if (isRequest(input) && input.bodyUsed) throw new TypeError('Cannot stream: the Request body was already read')
    this.#input = input
    this.#options = options
    this.#format = format
    this.#method = (options.method ?? (isRequest(input) ? input.method : 'GET')).toUpperCase()
    // A non-idempotent request (a POST that starts a paid generation) is only re-sent when asked.
    const { retry, persist } = options
    this.#resendable = retry !== undefined || isIdempotent(this.#method)
    this.#retry = retry === false ? undefined : resolveRetry(retry as RetryPolicy | true | undefined)
    for (const name of ['resume', 'shouldRetry'] as const) {
      const fn = options[name]
      if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`Cannot use ${name}: expected a function`)
    }
    const fetchImpl = options.fetch ?? globalThis.fetch
    if (typeof fetchImpl !== 'function') {
      throw new TypeError('Cannot stream: no global fetch in this runtime; pass options.fetch')
    }
    // Called unbound: browsers reject window.fetch invoked with another `this` ("Illegal invocation").
    this.#fetch = (url, init) => fetchImpl(url, init)
    if (options.lastEventId !== undefined) this.#lastEventId = String(options.lastEventId)
    this.#cursor = persist && cursorOf(persist)
    this.#lastEventId = this.#cursor?.load() ?? this.#lastEventId
    for (const key of ['idleTimeoutMs', 'stallTimeoutMs', 'connectTimeoutMs'] as const) {
      const value = options[key]
      if (value !== undefined && !(value > 0)) {
        throw new RangeError(`Cannot use ${key}: expected a positive number of milliseconds, got ${String(value)}`)
      }
    }
    // Already aborted: closed from the start, so iterating sends nothing and rejects with the reason.
    const signal = (this.#signal = options.signal ?? (isRequest(input) ? input.signal : undefined))
    if (signal?.aborted) this.#stop()
    // Removed again in #stop: an app-wide signal passed to every stream must not keep each one alive.
    else signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  readonly #onAbort = (): void => this.#stop()

  get state(): StreamState {
    return this.#state
  }

  get counters(): StreamCounters {
    return { ...this.#counters, skipped: this.#counters.skipped + (this.#gate?.skipped ?? 0) }
  }

  get lastEventId(): string | undefined {
    return this.#lastEventId
  }

  get live(): boolean {
    return this.#live
  }

  get retryAt(): number | undefined {
    return this.#state === 'retrying' ? this.#retryAt : undefined
  }

  close(): void {
    this.#stop()
  }

  map<U>(fn: (record: T) => U): RecordStream<U> {
    return mapStream(this, fn)
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new TypeError('Cannot iterate stream: it is already being consumed')
    this.#iterating = true
    return this.#run()
  }

  #stop(): void {
    if (this.#closed) return
    this.#closed = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#inflight?.abort(CLOSED)
    this.#setState('closed')
  }

  #setState(state: StreamState): void {
    if (this.#state === state || this.#state === 'closed') return
    this.#state = state
    this.#options.onStateChange?.(state)
  }

  /** The reconnect loop: one connection after another until the end marker, a final failure, or `close()`. */
  async *#run(): AsyncGenerator<T, void, undefined> {
    let failures = 0 // attempts in a row that delivered no record
    let attempts = 0 // every attempt made, for the error report
    try {
      while (!this.#closed) {
        while (!this.#closed && mustWait(this.#options.pauseWhenHidden)) await this.#pause(pageChange)
        if (this.#closed) break
        if (attempts++ > 0) this.#counters.reconnects++
        const attempt = (this.#inflight = new AbortController())
        // A new connection catches up again: live once its caught-up marker comes.
        this.#live = false
        // After #inflight: an onStateChange that calls close() aborts this attempt before it sends anything.
        this.#setState('connecting')
        const before = this.#counters.records
        const ended = yield* this.#connection(attempt)
        if (this.#closed) break
        const reason = attempt.signal.reason
        const resumable = this.#resumable()
        // The next request: re-sendable, or a resume request (re-sent like a GET).
        const policy = this.#resendable || this.#resumeId() !== undefined ? this.#retry : undefined
        // Hidden: reconnect when shown only where any interruption may (re-sendable, resumable); else end here.
        if (reason === PAUSED && policy !== undefined && resumable) continue
        if (ended instanceof Final) throw ended.error
        const failure = asSluiceError(
          reason === PAUSED
            ? new Error('paused while hidden, and cannot resume')
            : reason instanceof SluiceError
              ? reason
              : ended,
        )
        failures = this.#counters.records > before ? 1 : failures + 1
        const history: RetryHistory = { failures, resumable, serverRetryMs: this.#serverRetryMs }
        const { shouldRetry } = this.#options
        if (shouldRetry && retryDelay(failure, { ...history, verdict: true }, policy) !== undefined) {
          history.verdict = await shouldRetry(failure, { attempt: failures, lastEventId: this.#lastEventId })
          if (this.#closed) break
        }
        const delayMs = retryDelay(failure, history, policy)
        if (delayMs === undefined) {
          failure.attempts = attempts
          throw failure
        }
        this.#options.onRetry?.({ attempt: failures, delayMs, error: failure })
        this.#retryAt = Date.now() + delayMs
        await this.#pause((signal) => sleep(delayMs, signal))
        this.#retryAt = undefined
      }
      if (this.#signal?.aborted) throw this.#signal.reason
    } finally {
      this.#stop()
    }
  }

  /**
   * Whether another attempt can go without replaying delivered records: none delivered yet, or a
   * resume position that can be sent (an id with CR, LF or NUL cannot go into a header; for NDJSON,
   * an empty id from `idOf` is none either, while sse() without ids reconnects as EventSource does).
   */
  #resumable(): boolean {
    const id = this.#lastEventId
    return this.#counters.records === 0 || (isSendableId(id) && (this.#format.openEnded || !!id))
  }

  /** The resume position the next attempt sends through `resume`, if it has one and that option is set. */
  #resumeId(): string | undefined {
    const id = this.#lastEventId
    return this.#options.resume && id && isSendableId(id) ? id : undefined
  }

  /** Waits between attempts in state `retrying`; `close()` ends the wait at once. */
  async #pause(wait: (signal: AbortSignal) => Promise<void>): Promise<void> {
    // Closed already (by onRetry, say): no wait at all.
    if (this.#closed) return
    const waiting = (this.#inflight = new AbortController())
    const done = wait(waiting.signal)
    // After the wait is armed: an onStateChange that calls close() ends it.
    this.#setState('retrying')
    await done
    this.#inflight = undefined
  }

  /** One connection: yields its records, and returns why it ended (`undefined`: the stream is over). */
  async *#connection(attempt: AbortController): AsyncGenerator<T, unknown, undefined> {
    const unwatch = onHidden(this.#options.pauseWhenHidden, () => attempt.abort(PAUSED))
    try {
      const response = await connect(
        this.#target(),
        this.#options,
        this.#fetch,
        this.#format,
        this.#lastEventId,
        attempt,
      )
      // 204 No Content: the server says do not reconnect (HTML §9.2.3).
      if (response === undefined) return this.#stop()
      try {
        this.#setState('open')
        this.#options.onOpen?.(response)
      } catch (error) {
        // The caller's bug (onStateChange or onOpen), not the network's.
        return new Final(error)
      }
      // The server's heartbeat interval bounds its silences, where the caller set no idle timeout.
      const heartbeatMs = Number(response.headers.get(HEARTBEAT_HEADER))
      const {
        idleTimeoutMs = heartbeatMs > 0 ? Math.max(heartbeatMs * HEARTBEAT_TIMEOUT_FACTOR, 1000) : undefined,
        stallTimeoutMs,
      } = this.#options
      return yield* this.#records(response, attempt, { idleTimeoutMs, stallTimeoutMs })
    } catch (error) {
      return error instanceof NotAResponseError ? new Final(error) : error
    } finally {
      unwatch()
      this.#inflight = undefined
      // Whatever ended the attempt, its request and body go with it: a body left unread (a hook
      // that threw, an error before the first read) would hold its connection open.
      if (!attempt.signal.aborted) attempt.abort(ENDED)
    }
  }

  /** Moves the resume position to `id` (`''`: none), in `persist` storage too. */
  #moveTo(id: string): void {
    this.#lastEventId = id || undefined
    this.#cursor?.save(this.#lastEventId)
  }

  /** What this attempt sends: the input, or with a resume position, what `resume` makes of it. */
  #target(): Target {
    const id = this.#resumeId()
    if (id === undefined) return { input: this.#input, method: this.#method, body: this.#options.body }
    let input: string | URL | Request
    try {
      input = this.#options.resume!(id)
    } catch (error) {
      throw new Final(error)
    }
    return { input, method: isRequest(input) ? input.method : 'GET' }
  }

  /** Delivers one response's records, dropping an inclusive replay; returns why the body ended. */
  async *#records(
    response: Response,
    attempt: AbortController,
    timers: WatchOptions,
  ): AsyncGenerator<T, unknown, undefined> {
    const sentId = this.#lastEventId
    const [parser, resume] = this.#format.open(sentId ?? '')
    this.#gate = parser.gate
    const type = (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase()
    const { accept, starts } = this.#format
    const sniff = bodySniffer(
      starts,
      (kind, snippet) => new ContentTypeError(type, accept === '*' ? [] : accept, FOREIGN_BODY_FIX, { kind, snippet }),
    )
    const reader = watch(readerOf(response), attempt, this.#counters, timers, () => parser.received, sniff)
    let first = true
    let atYield = false
    // The id the last NDJSON feed line carried: the next record's resume position when there is no idOf.
    let entryId: string | undefined
    try {
      for await (const record of new RecordIterator<T>(reader, parser)) {
        if (record instanceof EntryId) {
          entryId = record.id
          continue
        }
        if (record === LIVE) {
          // Taken out in order: every backfill record before it has been delivered.
          this.#live = true
          this.#options.onLive?.()
          continue
        }
        // An inclusive replay repeats the record named by the Last-Event-ID sent, first attempt included.
        const replay =
          first && !!sentId && isSendableId(sentId) && (entryId === sentId || resume.isReplay(record, sentId))
        first = false
        if (replay) continue
        const id = this.#format.idOf?.(record) ?? entryId
        entryId = undefined
        if (id !== undefined) this.#moveTo(id)
        this.#counters.records++
        atYield = true
        yield record
        atYield = false
        if (this.#closed) break
      }
    } catch (error) {
      // The reader's failures are SluiceErrors already; anything else came from decoding the
      // records (a schema or an idOf that threw, say on a record nested too deep for it). The
      // next attempt would meet the same record: not a network error, and not retried.
      if (!(error instanceof SluiceError) && !attempt.signal.aborted) return new Final(error)
      throw error
    } finally {
      this.#counters.skipped += parser.gate.skipped
      this.#gate = undefined
      const tracked = resume.lastEventId
      // Events parsed but never delivered (the consumer left at a yield, or close()) must not move the resume position.
      if (tracked !== undefined && !atYield && !this.#closed) this.#moveTo(tracked)
      this.#serverRetryMs = resume.retryMs ?? this.#serverRetryMs
    }
    if (this.#closed) return
    // The end marker came, or an NDJSON body ended cleanly (a missing marker under requireEnd threw above):
    // complete, so a stream started again with the same persist key starts afresh.
    if (parser.done || !this.#format.openEnded) {
      this.#cursor?.save(undefined)
      return this.#stop()
    }
    return new NetworkError(new Error('the event stream ended without its end event'))
  }
}

function asSluiceError(error: unknown): SluiceError {
  return error instanceof SluiceError ? error : new NetworkError(error)
}

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
import { connect, isRequest, type Accepts, type RequestOptions } from './connect.js'
import { ContentTypeError, NetworkError, SluiceError } from './errors.js'
import { RecordIterator, type PushParser } from './iterate.js'
import { LIVE } from './live.js'
import { NdjsonParser, type NdjsonOptions } from './ndjson.js'
import { NDJSON_CONTENT_TYPES, SSE_CONTENT_TYPE, isSendableId } from './protocol.js'
import type { RecordStream, StreamCounters, StreamState } from './record-stream.js'
import type { ResumeTracker } from './resume.js'
import { isIdempotent, resolveRetry, retryDelay, type ResolvedRetryPolicy, type RetryPolicy } from './retry.js'
import { BodySniffer, FOREIGN_BODY_FIX } from './sniff.js'
import { readerOf } from './source.js'
import { SseParser, type SseEvent, type SseOptions } from './sse.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { EventSchemas, TypedEventOptions, TypedSseEvent } from './events.js'
import type { Infer } from './decode.js'
import { mustWait, onHidden, pageChange, sleep } from './wait.js'
import { watch, type WatchOptions } from './watch.js'

/** What `onRetry` is told before each wait. */
export interface RetryInfo {
  /** Failed attempts in a row so far (1 for the first retry). */
  attempt: number
  /** How long the stream waits before the next attempt. */
  delayMs: number
  /** The failure that caused the retry. */
  error: SluiceError
}

/** Request and policy options of `ndjson()` and `sse()`. */
export interface FetchOptions extends RequestOptions, WatchOptions {
  /** Aborting it stops the stream; the iterator rejects with the signal's reason. Default: a `Request` input's signal. */
  signal?: AbortSignal | undefined
  /** The reconnection policy, or `false` for no reconnecting. */
  retry?: RetryPolicy | boolean
  /** The resume position to start from (sent as `Last-Event-ID` on the first request too). */
  lastEventId?: string
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
  // NDJSON tracks no position of its own: a record's id is its resume position and its replay test.
  const resume: ResumeTracker<unknown> = { lastEventId: undefined, retryMs: undefined, isReplay: (record, sentId) => id?.(record) === sentId }
  return new ResilientStream<unknown>(input, options, {
    accept: contentTypes === '*' ? '*' : [...NDJSON_CONTENT_TYPES, ...(contentTypes ?? [])],
    acceptHeader: 'application/x-ndjson, application/jsonl;q=0.9, */*;q=0.1',
    typeFix: (type) => `if it is NDJSON, accept it with contentTypes: ['${type}']`,
    starts: '<',
    open: () => ({ parser: new NdjsonParser(options, true), resume }),
    idOf: id,
    canResume: !!idOf,
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
      const parser = new SseParser(options, lastEventId)
      return { parser, resume: parser }
    },
    idOf: (event) => event.id ?? '',
    canResume: true,
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
  open(lastEventId: string): { parser: StreamParser; resume: ResumeTracker<T> }
  /** The resume id of a delivered record (`''`: none). */
  idOf: ((record: T) => string) | undefined
  /** The first characters by which a body under the right type is something else (see sniff.ts). */
  starts: string
  /** Whether a failure after records were delivered can resume without replaying them. */
  canResume: boolean
  /** Whether end-of-stream without the end marker means "reconnect" (SSE) rather than "done" (NDJSON). */
  openEnded: boolean
}

/** Why an attempt was aborted, besides a `SluiceError`. */
const CLOSED = Symbol('closed')
const PAUSED = Symbol('paused')
const ENDED = Symbol('ended')

/** A failure that is not the network's (a hook that threw, a record a schema or `idOf` chokes on): thrown as it is, never retried. */
class Final {
  constructor(readonly error: unknown) {}
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
  readonly #retry: ResolvedRetryPolicy | undefined
  readonly #fetch: typeof fetch
  readonly #method: string

  constructor(input: string | URL | Request, options: FetchOptions, format: Format<T>) {
    // Each attempt sends a clone of it: a body read already could never be sent.
    if (isRequest(input) && input.bodyUsed) throw new TypeError('Cannot stream: the Request body was already read')
    this.#input = input
    this.#options = options
    this.#format = format
    this.#method = (options.method ?? (isRequest(input) ? input.method : 'GET')).toUpperCase()
    // A non-idempotent request (a POST that starts a paid generation) is only re-sent when asked.
    const { retry } = options
    const mayRetry = retry !== false && (retry !== undefined || isIdempotent(this.#method))
    this.#retry = mayRetry ? resolveRetry(retry as RetryPolicy | true | undefined) : undefined
    const fetchImpl = options.fetch ?? globalThis.fetch
    if (typeof fetchImpl !== 'function') {
      throw new TypeError('Cannot stream: no global fetch in this runtime; pass options.fetch')
    }
    // Called unbound: browsers reject window.fetch invoked with another `this` ("Illegal invocation").
    this.#fetch = (url, init) => fetchImpl(url, init)
    if (options.lastEventId !== undefined) this.#lastEventId = String(options.lastEventId)
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
        // Hidden: reconnect when shown only where any interruption may (re-sendable, resumable); else end here.
        if (reason === PAUSED && this.#retry !== undefined && resumable) continue
        if (ended instanceof Final) throw ended.error
        const failure = asSluiceError(
          reason === PAUSED ? new Error('paused while hidden, and cannot resume') : reason instanceof SluiceError ? reason : ended,
        )
        failures = this.#counters.records > before ? 1 : failures + 1
        const delayMs = retryDelay(failure, { failures, resumable, serverRetryMs: this.#serverRetryMs }, this.#retry)
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
    const { canResume, openEnded } = this.#format
    return this.#counters.records === 0 || (canResume && isSendableId(id) && (openEnded || !!id))
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
      const target = { input: this.#input, method: this.#method, body: this.#options.body }
      const response = await connect(target, this.#options, this.#fetch, this.#format, this.#lastEventId, attempt)
      // 204 No Content: the server says do not reconnect (HTML §9.2.3).
      if (response === undefined) return this.#stop()
      try {
        this.#setState('open')
        this.#options.onOpen?.(response)
      } catch (error) {
        // The caller's bug (onStateChange or onOpen), not the network's.
        return new Final(error)
      }
      return yield* this.#records(response, attempt)
    } catch (error) {
      return error
    } finally {
      unwatch()
      this.#inflight = undefined
      // Whatever ended the attempt, its request and body go with it: a body left unread (a hook
      // that threw, an error before the first read) would hold its connection open.
      if (!attempt.signal.aborted) attempt.abort(ENDED)
    }
  }

  /** Delivers one response's records, dropping an inclusive replay; returns why the body ended. */
  async *#records(response: Response, attempt: AbortController): AsyncGenerator<T, unknown, undefined> {
    const sentId = this.#lastEventId
    const { parser, resume } = this.#format.open(sentId ?? '')
    this.#gate = parser.gate
    const type = (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase()
    const { accept, starts } = this.#format
    const sniffer = new BodySniffer(starts, (kind, snippet) =>
      new ContentTypeError(type, accept === '*' ? [] : accept, FOREIGN_BODY_FIX, { kind, snippet }),
    )
    const reader = watch(readerOf(response), attempt, this.#counters, this.#options, () => parser.received, (chunk) => sniffer.check(chunk))
    let first = true
    let atYield = false
    try {
      for await (const record of new RecordIterator<T>(reader, parser)) {
        if (record === LIVE) {
          // Taken out in order: every backfill record before it has been delivered.
          this.#live = true
          this.#options.onLive?.()
          continue
        }
        // An inclusive replay repeats the record named by the Last-Event-ID sent, first attempt included.
        const replay = first && !!sentId && isSendableId(sentId) && resume.isReplay(record, sentId)
        first = false
        if (replay) continue
        const id = this.#format.idOf?.(record)
        if (id !== undefined) this.#lastEventId = id || undefined
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
      if (tracked !== undefined && !atYield && !this.#closed) this.#lastEventId = tracked || undefined
      this.#serverRetryMs = resume.retryMs ?? this.#serverRetryMs
    }
    if (this.#closed) return
    // The end marker came, or an NDJSON body ended cleanly (a missing marker under requireEnd threw above).
    if (parser.done || !this.#format.openEnded) return this.#stop()
    return new NetworkError(new Error('the event stream ended without its end event'))
  }
}

function asSluiceError(error: unknown): SluiceError {
  return error instanceof SluiceError ? error : new NetworkError(error)
}

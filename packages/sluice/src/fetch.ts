/**
 * `ndjson()` and `sse()`: fetch a stream, detect truncation, reconnect with backoff, and resume
 * from the last record delivered, so the consumer sees every record once and in order.
 *
 * @module
 */
import { ContentTypeError, HttpError, NetworkError, RedirectError, SluiceError, TimeoutError, snippetOf } from './errors.js'
import { RecordIterator, type PushParser } from './iterate.js'
import { LIVE } from './live.js'
import { BodySniffer, FOREIGN_BODY_FIX } from './sniff.js'
import { NdjsonParser, type NdjsonOptions } from './ndjson.js'
import { LAST_EVENT_ID_HEADER, NDJSON_CONTENT_TYPES, SSE_CONTENT_TYPE } from './protocol.js'
import type { RecordStream, StreamCounters, StreamState } from './record-stream.js'
import {
  delayFor,
  isIdempotent,
  isRetryable,
  parseRetryAfter,
  resolveRetry,
  type ResolvedRetryPolicy,
  type RetryPolicy,
} from './retry.js'
import { readerOf, type ChunkReader } from './source.js'
import { SseParser, type SseEvent, type SseOptions } from './sse.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { Infer } from './decode.js'

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
export interface FetchOptions {
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch
  /** Request headers; a function is called before every attempt (a refreshed token is used on reconnect). */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>)
  /**
   * Request method. Default `GET`, or a `Request` input's (whose headers, body and other settings are sent
   * on every attempt; these options override them). Non-idempotent methods are only re-sent when `retry` is given explicitly.
   */
  method?: string
  /** Request body, or a function returning a fresh one per attempt (a `ReadableStream` is sent with `duplex: 'half'`). */
  body?: BodyInit | null | (() => BodyInit | null | Promise<BodyInit | null>)
  credentials?: RequestCredentials
  /** Aborting it stops the stream; the iterator rejects with the signal's reason. Default: a `Request` input's signal. */
  signal?: AbortSignal | undefined
  /** The reconnection policy, or `false` for no reconnecting. */
  retry?: RetryPolicy | boolean
  /** No bytes at all (heartbeats included) for this long: the connection is dead, reconnect. Default off. */
  idleTimeoutMs?: number
  /** No record for this long although bytes arrive: the producer is stuck, reconnect. Default off. */
  stallTimeoutMs?: number
  /** No response headers within this long: give up the attempt. Default 30 000. */
  connectTimeoutMs?: number
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
  const accepted = options.contentTypes === '*' ? '*' : [...NDJSON_CONTENT_TYPES, ...(options.contentTypes ?? [])]
  const idOf = options.idOf
  return new ResilientStream<unknown>(input, options, {
    accept: accepted,
    acceptHeader: 'application/x-ndjson, application/jsonl;q=0.9, */*;q=0.1',
    typeFix: (type) => `if it is NDJSON, accept it with contentTypes: ['${type}']`,
    starts: '<',
    parser: () => new NdjsonParser(options, true),
    idOf: idOf === undefined ? undefined : (record) => String(idOf(record)),
    canResume: idOf !== undefined,
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
  let stream: ResilientStream<SseEvent<unknown>> | undefined = undefined
  stream = new ResilientStream<SseEvent<unknown>>(input, options, {
    accept: [SSE_CONTENT_TYPE],
    acceptHeader: SSE_CONTENT_TYPE,
    typeFix: () => 'the server did not answer with an event stream: check the URL',
    starts: '<{[',
    parser: (lastEventId) =>
      new SseParser(options, { lastEventId, onRetry: (ms) => stream?.serverRetry(ms) }),
    idOf: (event) => event.id ?? '',
    replayIdOf: (parser, event) => {
      const { firstEvent, firstOwnId } = parser as SseParser
      return event === firstEvent ? firstOwnId : undefined
    },
    lastEventIdOf: (parser) => (parser as SseParser).lastEventId,
    canResume: true,
    openEnded: true,
  })
  return stream
}

/** How `ndjson()` and `sse()` differ. */
interface Format<T> {
  accept: readonly string[] | '*'
  acceptHeader: string
  /** How to fix a response of another type: the end of the error message. */
  typeFix: (contentType: string) => string
  /** The first characters by which a body under the right type is something else (see sniff.ts). */
  starts: string
  parser: (lastEventId: string) => PushParser & { gate: { skipped: number }; readonly received: number }
  /** The resume id of a delivered record. */
  idOf: ((record: T) => string) | undefined
  /**
   * The id by which a record could be an inclusive replay, where it is not its resume id (SSE: only the
   * first event dispatched can be the replay, and only by its own `id` field, not an inherited one).
   */
  replayIdOf?: (parser: PushParser, record: T) => string | undefined | null
  /** The resume position after a connection ends, when the format tracks it itself (SSE). */
  lastEventIdOf?: (parser: PushParser) => string
  /** Whether a failure after records were delivered can resume without replaying them. */
  canResume: boolean
  /** Whether end-of-stream without the end marker means "reconnect" (SSE) rather than "done" (NDJSON). */
  openEnded: boolean
}

const CLOSED = Symbol('closed')
const PAUSED = Symbol('paused')
const ENDED = Symbol('ended')

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
  readonly #options: FetchOptions & { requireEnd?: boolean }
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
    const retryAsked = options.retry !== undefined && options.retry !== false
    const mayRetry = options.retry !== false && (isIdempotent(this.#method) || retryAsked)
    this.#retry = mayRetry ? resolveRetry(options.retry === false ? undefined : options.retry) : undefined
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

  /** SSE `retry:` sets the reconnection time (HTML §9.2.6). */
  serverRetry(ms: number): void {
    this.#serverRetryMs = ms
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
    if (this.#state === state) return
    if (this.#state === 'closed') return
    this.#state = state
    this.#options.onStateChange?.(state)
  }

  async *#run(): AsyncGenerator<T, void, undefined> {
    let failures = 0 // attempts in a row that delivered no record
    let attempts = 0 // every attempt made, for the error report
    let delivered = 0 // records delivered over the stream's life
    try {
      for (;;) {
        if (this.#closed) {
          if (this.#signal?.aborted) throw this.#signal.reason
          return
        }
        await this.#whenOnlineAndVisible()
        if (this.#closed) continue
        attempts++
        if (attempts > 1) this.#counters.reconnects++
        const attempt = new AbortController()
        this.#inflight = attempt
        // A new connection catches up again: live once its caught-up marker comes.
        this.#live = false
        // After #inflight: an onStateChange that calls close() aborts this attempt before it sends anything.
        this.#setState('connecting')
        const hideWatch = this.#watchVisibility(attempt)
        let deliveredThisAttempt = 0
        let error: unknown
        /** A failure that is not the network's, raised while decoding: final, thrown as it is. */
        let notNetwork: { error: unknown } | undefined
        try {
          const response = await this.#connect(attempt)
          if (response === undefined) {
            // 204 No Content: the server says do not reconnect (HTML §9.2.3).
            this.#stop()
            continue
          }
          try {
            this.#setState('open')
            this.#options.onOpen?.(response)
          } catch (thrown) {
            // The caller's bug (onStateChange or onOpen), not the network's: final (the attempt's finally releases the body).
            notNetwork = { error: thrown }
            throw thrown
          }
          const parser = this.#format.parser(this.#lastEventId ?? '')
          this.#gate = parser.gate
          // The stall clock restarts at the first read after any record came, invalid ones included (the
          // producer is not stuck); reads only happen while sluice waits, never while the consumer holds one.
          let waitingSince = 0
          let seen = -1
          const stallClock = (now: number): number => {
            if (parser.received !== seen) {
              seen = parser.received
              waitingSince = now
            }
            return waitingSince
          }
          const type = mediaTypeOf(response.headers.get('content-type'))
          const sniffer = new BodySniffer(this.#format.starts, (kind, snippet) =>
            new ContentTypeError(type, this.#format.accept === '*' ? [] : this.#format.accept, FOREIGN_BODY_FIX, { kind, snippet }),
          )
          const records = new RecordIterator<T>(this.#watch(readerOf(response), attempt, stallClock, sniffer), parser)
          const sentId = this.#lastEventId
          let first = true
          let atYield = false
          try {
            for await (const record of records) {
              if (record === LIVE) {
                // Taken out in order: every backfill record before it has been delivered.
                this.#live = true
                this.#options.onLive?.()
                continue
              }
              if (first) {
                first = false
                // An inclusive replay repeats the record named by the Last-Event-ID sent, first attempt included.
                if (sentId && isSendableId(sentId) && this.#isReplayOf(record, parser, sentId)) continue
              }
              const id = this.#format.idOf?.(record)
              if (id !== undefined) this.#lastEventId = id === '' ? undefined : id
              this.#counters.records++
              deliveredThisAttempt++
              delivered++
              failures = 0
              atYield = true
              yield record
              atYield = false
              if (this.#closed) break
            }
          } catch (thrown) {
            // The reader's failures are SluiceErrors already; anything else came from decoding the
            // records (a schema or an idOf that threw, say on a record nested too deep for it). The
            // next attempt would meet the same record: not a network error, and not retried.
            if (!(thrown instanceof SluiceError) && !attempt.signal.aborted) notNetwork = { error: thrown }
            throw thrown
          } finally {
            this.#counters.skipped += parser.gate.skipped
            this.#gate = undefined
            const tracked = this.#format.lastEventIdOf?.(parser)
            // Events parsed but never delivered (the consumer left at a yield, or close()) must not move the resume position.
            if (tracked !== undefined && !atYield && !this.#closed) this.#lastEventId = tracked === '' ? undefined : tracked
          }
          if (this.#closed) continue
          if (parser.done || !this.#format.openEnded) {
            // The end marker came, or an NDJSON body ended cleanly (a missing marker under requireEnd threw above).
            this.#stop()
            continue
          }
          error = new NetworkError(new Error('the event stream ended without its end event'))
        } catch (thrown) {
          error = thrown
        } finally {
          hideWatch()
          this.#inflight = undefined
          // Whatever ended the attempt, its request and body go with it: a body left unread (a hook
          // that threw, an error before the first read) would hold its connection open.
          if (!attempt.signal.aborted) attempt.abort(ENDED)
        }
        if (this.#closed) continue
        const reason = attempt.signal.reason
        // A resume id that cannot go into a header (CR, LF, NUL) is no resume position: replaying would duplicate.
        // NDJSON: an empty id from idOf is none either (sse() without ids reconnects as EventSource does).
        const resumable =
          delivered === 0 || (this.#format.canResume && isSendableId(this.#lastEventId) && (this.#format.openEnded || !!this.#lastEventId))
        if (reason === PAUSED) {
          // Hidden: reconnect when shown only where any interruption may (re-sendable, resumable); else end here.
          if (this.#retry !== undefined && resumable) continue
          error = new NetworkError(new Error('paused while hidden, and cannot resume'))
        } else if (reason instanceof SluiceError) error = reason
        if (notNetwork !== undefined) throw notNetwork.error
        const failure = asSluiceError(error)
        failures = deliveredThisAttempt > 0 ? 1 : failures + 1
        if (this.#retry === undefined || !isRetryable(failure) || !resumable || failures >= this.#retry.maxAttempts) {
          failure.attempts = attempts
          throw failure
        }
        const hint = failure instanceof HttpError ? failure.retryAfterMs : undefined
        const serverRetry = deliveredThisAttempt > 0 || failures === 1 ? this.#serverRetryMs : undefined
        const delayMs = delayFor(failures, this.#retry, hint ?? serverRetry)
        this.#options.onRetry?.({ attempt: failures, delayMs, error: failure })
        await this.#wait(delayMs)
      }
    } finally {
      this.#stop()
    }
  }

  /** Whether the first record delivered repeats the one named by the Last-Event-ID sent (an inclusive replay). */
  #isReplayOf(record: T, parser: PushParser, sentId: string): boolean {
    const { replayIdOf, idOf } = this.#format
    return (replayIdOf ? replayIdOf(parser, record) : idOf?.(record)) === sentId
  }

  /** Sends the request; resolves with an accepted response, `undefined` for 204, or throws a typed error. */
  async #connect(attempt: AbortController): Promise<Response | undefined> {
    const options = this.#options
    const timeoutMs = options.connectTimeoutMs ?? 30_000
    const timer = setTimeout(() => attempt.abort(new TimeoutError('connect', timeoutMs)), timeoutMs)
    try {
      const headers = new Headers(isRequest(this.#input) ? this.#input.headers : undefined)
      const extra = typeof options.headers === 'function' ? await options.headers() : options.headers
      new Headers(extra).forEach((value, key) => headers.set(key, value))
      if (!headers.has('accept')) headers.set('accept', this.#format.acceptHeader)
      if (!headers.has('cache-control')) headers.set('cache-control', 'no-cache')
      const id = this.#lastEventId
      // An id with CR, LF or NUL would split or corrupt the header: never send it (HTML §9.2.4).
      if (id !== undefined && id !== '' && isSendableId(id)) headers.set(LAST_EVENT_ID_HEADER, headerValueOf(id))
      const body = typeof options.body === 'function' ? await options.body() : options.body
      const init: RequestInit = { method: this.#method, headers, signal: attempt.signal }
      if (body !== undefined && body !== null) init.body = body
      // Node's fetch (and Chromium's) refuses a stream body without it.
      if (body instanceof ReadableStream) (init as { duplex?: string }).duplex = 'half'
      if (options.credentials !== undefined) init.credentials = options.credentials
      let response: Response
      try {
        // A Request is cloned per attempt: its body can be sent again, and its settings (mode, redirect,
        // cache...) go with it; init overrides method, headers (merged above), signal and any options.body.
        response = await this.#fetch(isRequest(this.#input) ? this.#input.clone() : String(this.#input), init)
      } catch (error) {
        if (attempt.signal.aborted) throw attempt.signal.reason
        if (!isRedirectLoop(error)) throw new NetworkError(error)
        throw new RedirectError(error, isRequest(this.#input) && this.#input.redirect === 'error')
      }
      if (response.status === 204) {
        await response.body?.cancel().catch(() => undefined)
        return undefined
      }
      if (!response.ok) {
        const snippet = await readSnippet(response)
        throw new HttpError(response.status, response.statusText, snippet, parseRetryAfter(response.headers.get('retry-after')))
      }
      const contentType = mediaTypeOf(response.headers.get('content-type'))
      const accept = this.#format.accept
      if (accept !== '*' && !accept.includes(contentType)) {
        await response.body?.cancel().catch(() => undefined)
        throw new ContentTypeError(contentType, accept, this.#format.typeFix(contentType))
      }
      return response
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Wraps the body reader: counts bytes, and while a read is pending runs the idle timer (no bytes)
   * and the stall timer (no record although heartbeats arrive). Timers only run while the stream
   * waits for the network, never while the consumer is busy, so a slow consumer is not a dead server.
   */
  #watch(reader: ChunkReader, attempt: AbortController, waitingSince: (now: number) => number, sniffer: BodySniffer): ChunkReader {
    const { idleTimeoutMs, stallTimeoutMs } = this.#options
    const counters = this.#counters
    const abort = (error: SluiceError) => {
      attempt.abort(error)
      void reader.cancel(error)
    }
    return {
      read: async () => {
        let timer: ReturnType<typeof setTimeout> | undefined
        if (idleTimeoutMs !== undefined || stallTimeoutMs !== undefined) {
          const now = Date.now()
          const stallLeft = stallTimeoutMs === undefined ? Infinity : waitingSince(now) + stallTimeoutMs - now
          const idle = idleTimeoutMs ?? Infinity
          if (stallLeft <= 0) {
            const error = new TimeoutError('stall', stallTimeoutMs!)
            abort(error)
            throw error
          }
          const stalls = stallLeft < idle
          timer = setTimeout(
            () => abort(stalls ? new TimeoutError('stall', stallTimeoutMs!) : new TimeoutError('idle', idle)),
            Math.min(stallLeft, idle),
          )
        }
        try {
          const result = await reader.read()
          // A fetch body yields Uint8Arrays; anything else is left for the decoder's chunk check to refuse.
          if (!result.done && result.value instanceof Uint8Array) {
            counters.bytes += result.value.byteLength
            const foreign = sniffer.check(result.value)
            if (foreign !== undefined) {
              abort(foreign)
              throw foreign
            }
          }
          return result
        } catch (error) {
          throw attempt.signal.aborted ? attempt.signal.reason : new NetworkError(error)
        } finally {
          if (timer !== undefined) clearTimeout(timer)
        }
      },
      cancel: (reason) => reader.cancel(reason),
    }
  }

  /** Waits between attempts; `close()` and the signal end the wait at once, leaving no timer behind. */
  async #wait(delayMs: number): Promise<void> {
    this.#retryAt = Date.now() + delayMs
    this.#setState('retrying')
    const waiting = new AbortController()
    this.#inflight = waiting
    // Closed already by onRetry or onStateChange: no wait at all.
    if (!this.#closed) await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs)
      waiting.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer)
          resolve()
        },
        { once: true },
      )
    })
    this.#inflight = undefined
    this.#retryAt = undefined
  }

  /** In browsers: no attempt while offline (retries would burn for nothing), nor while hidden if asked. */
  async #whenOnlineAndVisible(): Promise<void> {
    const target = globalThis as {
      navigator?: { onLine?: boolean }
      addEventListener?: (type: string, listener: () => void) => void
      removeEventListener?: (type: string, listener: () => void) => void
    }
    const doc = pageOf()
    const offline = () => target.navigator?.onLine === false && typeof target.addEventListener === 'function'
    const hidden = () => this.#options.pauseWhenHidden === true && doc?.visibilityState === 'hidden'
    while (!this.#closed && (offline() || hidden())) {
      const waiting = new AbortController()
      this.#inflight = waiting
      await new Promise<void>((resolve) => {
        const done = () => {
          target.removeEventListener?.('online', done)
          doc?.removeEventListener('visibilitychange', done)
          resolve()
        }
        target.addEventListener?.('online', done)
        doc?.addEventListener('visibilitychange', done)
        waiting.signal.addEventListener('abort', done, { once: true })
        // Last: an onStateChange that calls close() aborts this wait.
        this.#setState('retrying')
      })
      this.#inflight = undefined
    }
  }

  /** With `pauseWhenHidden`, ends the attempt when the page is hidden; the stream resumes when it is shown. */
  #watchVisibility(attempt: AbortController): () => void {
    const doc = pageOf()
    if (this.#options.pauseWhenHidden !== true || doc === undefined) return () => {}
    const onChange = () => {
      if (doc.visibilityState === 'hidden') attempt.abort(PAUSED)
    }
    doc.addEventListener('visibilitychange', onChange)
    return () => doc.removeEventListener('visibilitychange', onChange)
  }
}

/** What the stream needs of `document` (typed here: Deno's and workers' types have no `Document`). */
interface PageVisibility {
  readonly visibilityState: string
  addEventListener(type: 'visibilitychange', listener: () => void): void
  removeEventListener(type: 'visibilitychange', listener: () => void): void
}

function pageOf(): PageVisibility | undefined {
  return (globalThis as { document?: PageVisibility }).document
}

/** Whether an id can be sent as `Last-Event-ID`: CR, LF or NUL would split or corrupt the header. */
function isSendableId(id: string | undefined): boolean {
  return id === undefined || !/[\r\n\0]/.test(id)
}

/**
 * An id as `Last-Event-ID` carries it: its UTF-8 bytes (HTML §9.2.4, as EventSource sends them),
 * one per character, since `Headers` takes a byte string and throws on any character above U+00FF.
 */
function headerValueOf(id: string): string {
  if (!/[^\x00-\x7f]/.test(id)) return id
  let bytes = ''
  for (const byte of new TextEncoder().encode(id)) bytes += String.fromCharCode(byte)
  return bytes
}

function isRequest(input: unknown): input is Request {
  return typeof Request !== 'undefined' && input instanceof Request
}

/**
 * Whether fetch failed on a redirect: its limit (undici: cause "redirect count exceeded"; Deno, Bun:
 * "redirect" in the message) or a `redirect: 'error'` request (undici: cause "unexpected redirect").
 */
function isRedirectLoop(error: unknown): boolean {
  return /redirect/i.test(`${(error as Error | null)?.message} ${(error as Error | null)?.cause}`)
}

function asSluiceError(error: unknown): SluiceError {
  return error instanceof SluiceError ? error : new NetworkError(error)
}

/** The media type of a `Content-Type` header, lower-cased, without parameters (RFC 9110 §8.3.1). */
function mediaTypeOf(header: string | null): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase()
}

/** Reads at most a few hundred bytes of an error body for the error message, then lets it go. */
async function readSnippet(response: Response): Promise<string> {
  const body = response.body
  if (body === null) return ''
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (text.length < 200) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    // A body that fails mid-read still leaves the status to report.
  } finally {
    void reader.cancel().catch(() => undefined)
  }
  return snippetOf(text.trim())
}

/**
 * Text to events for Server-Sent Events: a synchronous push parser around eventsource-parser's
 * field parsing, holding it to the spec at stream edges and adding what sluice needs on top
 * (last-event-id, JSON data, schema validation, end marker, a bound on line length).
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @module
 */
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser'
import { EndTracker, type EndMarkerPredicate } from './end-marker.js'
import { LineTooLongError, ParseError, TruncatedStreamError, snippetOf, type RecordPosition } from './errors.js'
import { maxLineBytesOf, type DecodeOptions } from './options.js'
import { SSE_END_EVENT, sseEndOf } from './protocol.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import { SseLineTracker, type BlockStart } from './sse-lines.js'
import type { ResumeTracker } from './resume.js'
import { ChunkDecoder } from './text.js'
import { Outbox, Pending, RecordGate, SKIPPED } from './validate.js'

/** One Server-Sent Event. */
export interface SseEvent<T = string> {
  /** The event type; `"message"` when the event names none (HTML §9.2.6). */
  event: string
  /** The data: the raw string, or the parsed (and validated) JSON value with `json` or `schema`. */
  data: T
  /**
   * The event's last-event-id: the most recent `id` field at or before this event, which persists
   * across events as the spec defines it. Absent while it is empty.
   */
  id?: string
  /** The reconnection time from a `retry` field in this event's block, in milliseconds. */
  retry?: number
}

/** The raw event a custom SSE `endMarker` sees. */
export interface RawSseEvent {
  event: string
  data: string
  id?: string
}

/** Options of the SSE decoders. */
export interface SseOptions<S extends StandardSchemaV1 | undefined = undefined> extends DecodeOptions<S> {
  /** Parse each event's data as JSON (implied by `schema`). Default `false`: data is the raw string. */
  json?: boolean
  /** Sees each comment line's text (heartbeats), without the leading colon. */
  onComment?: (comment: string) => void
  /**
   * The end-of-stream event: its name (default `"end"`), a predicate over raw events, or `false`
   * to turn marker detection off. Its data may carry the record count: `{"count":N}`.
   */
  endMarker?: string | EndMarkerPredicate<RawSseEvent> | false
}

/**
 * Decodes an event stream chunk by chunk: `push` returns what completed, `end` finishes the stream.
 * It is its own {@link ResumeTracker} for the resilient `sse()`.
 */
export class SseParser implements ResumeTracker<unknown> {
  readonly gate: RecordGate
  /** The last-event-id: persists across events, updated at each dispatch (HTML §9.2.6 step 1). */
  #lastEventId: string
  /** The last valid `retry` field, whether or not an event was dispatched. */
  #retryMs: number | undefined
  readonly #decoder: ChunkDecoder
  readonly #parser: EventSourceParser
  readonly #end: EndTracker<RawSseEvent>
  readonly #json: boolean
  readonly #maxLineBytes: number
  readonly #box = new Outbox()
  #retry: number | undefined
  #probing = false
  #truncated: string | undefined
  // Line numbers and event positions, for errors: eventsource-parser reports neither.
  readonly #lines: SseLineTracker
  #eventsInChunk = 0
  /**
   * The `id` field of the first event dispatched, `null` before it: whether a server replaying from
   * `Last-Event-ID` included the last event already seen (the seeded last-event-id cannot tell).
   */
  #firstOwnId: string | undefined | null = null
  /** The first event dispatched, as delivered (if it is): only it can be that replay. */
  #firstEvent: unknown = undefined

  /** `lastEventId`: carried over from an earlier connection (it persists across reconnections, HTML §9.2.3). */
  constructor(options: SseOptions<StandardSchemaV1 | undefined> = {}, lastEventId = '') {
    this.gate = new RecordGate(options.schema, options.onInvalid)
    this.#decoder = new ChunkDecoder(options)
    this.#maxLineBytes = maxLineBytesOf(options)
    this.#lines = new SseLineTracker(this.#maxLineBytes)
    this.#json = options.json === true || options.schema !== undefined
    this.#lastEventId = lastEventId
    this.#end = new EndTracker(endPredicate(options.endMarker), options.requireEnd)
    const onComment = options.onComment
    this.#parser = createParser({
      onEvent: this.#onEvent,
      onId: (id) => {
        if (!this.#probing) this.#lastEventId = id
      },
      onRetry: (ms) => {
        // At end-of-stream the parser is fed the unterminated last line, which the spec discards (§9.2.5).
        if (this.#probing) return
        this.#retry = this.#retryMs = ms
      },
      ...(onComment
        ? {
            onComment: (comment: string) => {
              if (!this.#probing) onComment(comment)
            },
          }
        : {}),
      onError: (error) => {
        // Unknown fields and bad `retry` values are ignored, as the spec says; only overflow is ours to raise.
        if (error.type === 'max-buffer-size-exceeded') {
          this.#fail(new LineTooLongError(this.#maxLineBytes, this.#lines.lastLine, ''))
        }
      },
      // A bound on one event's buffered data as well as on a line (counted in characters by the parser).
      maxBufferSize: this.#maxLineBytes,
    })
    // eventsource-parser drops a BOM at the start of the first text it is fed, decoded (U+FEFF) or
    // not (the characters ï»¿). The ChunkDecoder already dropped the stream's one BOM (§9.2.5): a blank
    // line first, which dispatches nothing, ends the parser's BOM check so it drops no second one.
    this.#parser.feed('\n')
  }

  get lastEventId(): string {
    return this.#lastEventId
  }

  get retryMs(): number | undefined {
    return this.#retryMs
  }

  /** Only the first event dispatched can be an inclusive replay, and only by its own `id` field, not an inherited one. */
  isReplay(record: unknown, sentId: string): boolean {
    return record === this.#firstEvent && this.#firstOwnId === sentId
  }

  /** Events received so far, invalid ones included, the end marker excluded. */
  get received(): number {
    return this.#end.received
  }

  /** Whether the end event arrived or an error stopped decoding. */
  get done(): boolean {
    return this.#end.ended || this.#box.failed
  }

  /** Decodes one chunk, appending events (and {@link Pending} slots) to `out`. */
  push(chunk: Uint8Array | string, out: unknown[]): void {
    if (this.done) return
    this.#box.items = out
    try {
      const text = this.#decoder.decode(chunk)
      if (text.length === 0) return
      const lines = this.#lines
      lines.scan(text, this.#decoder.textStart)
      this.#eventsInChunk = 0
      const tooLong = lines.tooLong
      if (tooLong === undefined) {
        this.#parser.feed(text)
        return
      }
      // Deliver the events before the long line, then refuse it before the parser buffers it.
      if (tooLong.at > 0) this.#parser.feed(text.slice(0, tooLong.at))
      if (!this.done) this.#fail(new LineTooLongError(this.#maxLineBytes, tooLong.line, tooLong.snippet))
    } catch (error) {
      this.#fail(error)
    }
  }

  /**
   * Ends the stream. An event with no blank line after it was cut off: the spec discards it, and
   * sluice also reports it as a {@link TruncatedStreamError} (unless it is the end event).
   */
  end(out: unknown[]): void {
    if (this.done) return
    this.#box.items = out
    try {
      const rest = this.#decoder.end()
      if (rest) this.push(rest, out)
      if (this.done) return
      // Terminate a partial line, then dispatch whatever is buffered: any event that comes out was cut off.
      const lastLine = this.#lines.lastLine
      this.#probing = true
      this.#lines.scan('\n\n\n', this.#decoder.textStart)
      this.#eventsInChunk = 0
      this.#parser.feed('\n\n\n')
      this.#probing = false
      if (this.done) return
      if (this.#truncated !== undefined) {
        this.#fail(
          new TruncatedStreamError('partial-record', {
            line: lastLine,
            received: this.#end.received,
            snippet: this.#truncated,
          }),
        )
        return
      }
      const missing = this.#end.missing(lastLine)
      if (missing) this.#fail(missing)
    } catch (error) {
      this.#fail(error)
    }
  }

  readonly #onEvent = (message: EventSourceMessage): void => {
    this.#eventsInChunk++
    if (this.done) return
    const raw: RawSseEvent = { event: message.event ?? 'message', data: message.data }
    if (this.#lastEventId !== '') raw.id = this.#lastEventId
    if (this.#firstOwnId === null && !this.#probing) {
      this.#firstOwnId = message.id
      this.#firstEvent = raw
    }
    const end = this.#end.test(raw, this.#eventLine)
    if (end !== false) {
      if (end !== true) this.#fail(end)
      return
    }
    if (this.#probing) {
      this.#truncated = snippetOf(message.data)
      return
    }
    this.#end.received++
    const event = raw as SseEvent<unknown>
    if (this.#retry !== undefined) {
      event.retry = this.#retry
      this.#retry = undefined
    }
    if (!this.#json) {
      this.#box.items.push(event)
      return
    }
    let value: unknown
    try {
      value = JSON.parse(message.data)
    } catch (cause) {
      this.#box.emit(this.gate.reject(new ParseError(this.#position(message.data), cause)))
      return
    }
    const checked = this.gate.check(value, () => this.#position(message.data))
    if (checked instanceof Pending && checked.promise !== undefined) {
      this.#box.emit(new Pending(undefined, checked.promise.then((data) => (data === SKIPPED ? data : ((event.data = data), event)))))
      return
    }
    if (checked === SKIPPED || checked instanceof Pending) {
      this.#box.emit(checked)
      return
    }
    event.data = checked
    this.#box.items.push(event)
  }


  #fail(error: unknown): void {
    this.#box.fail(error)
    this.#parser.reset()
  }

  readonly #eventLine = (): number => this.#blockStart().line

  /** Where the block of the event being dispatched starts. */
  #blockStart(): BlockStart {
    return this.#lines.blockOf(this.#eventsInChunk - 1) ?? { line: this.#lines.lastLine, text: '', index: 0, textStart: 0 }
  }

  /** Where the event being dispatched starts: its block's first line (error path only: the offset costs a rescan). */
  #position(data: string): RecordPosition {
    const start = this.#blockStart()
    const offset = this.#decoder.offsetIn(start.text, start.index, start.textStart)
    return { line: start.line, offset, snippet: snippetOf(data) }
  }
}

function endPredicate(option: SseOptions['endMarker']): EndMarkerPredicate<RawSseEvent> | undefined {
  if (option === false) return undefined
  if (typeof option === 'function') return option
  const name = option ?? SSE_END_EVENT
  if (typeof name !== 'string') throw new TypeError('Cannot use endMarker: expected an event name, a function or false')
  return (event) => (event.event === name ? sseEndOf(event.data) : undefined)
}

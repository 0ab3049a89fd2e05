/**
 * Text to events for Server-Sent Events: a synchronous push parser, one pass over the text. Lines
 * come from {@link SseLineScanner} (sse-lines.ts); this module interprets them as HTML §9.2.6 says,
 * its steps numbered below, and adds what sluice needs on top (last-event-id across reconnections,
 * JSON data, schema validation, the end marker, the partial-record report, positions in errors).
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @module
 */
import { type EndMarkerPredicate, EndTracker } from './end-marker.js'
import { LineTooLongError, ParseError, type RecordPosition, snippetOf, TruncatedStreamError } from './errors.js'
import { eventValidators, type TypedEventOptions, unknownEventError } from './events.js'
import { applyGap, type OnGap, onGapOf } from './gap.js'
import { keepLayout } from './layouts.js'
import { LIVE } from './live.js'
import { type DecodeOptions, maxLineBytesOf } from './options.js'
import { isSseLive, SSE_END_EVENT, SSE_GAP_EVENT, sseEndOf, sseGapOf } from './protocol.js'
import type { ResumeTracker } from './resume.js'
import { SseLineScanner, type SseLineSink } from './sse-lines.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import { ChunkDecoder, utf8Length } from './text.js'
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

const COLON = 58
const SPACE = 32
/** One or more ASCII digits, nothing else (a `retry` value). */
const DIGITS = /^\d+$/

/**
 * Decodes an event stream chunk by chunk: `push` returns what completed, `end` finishes the stream.
 * It is its own {@link ResumeTracker} for the resilient `sse()`.
 */
export class SseParser implements SseLineSink, ResumeTracker<unknown> {
  readonly gate: RecordGate
  /** The last-event-id string: persists across events, updated at each dispatch (HTML §9.2.6, dispatch step 1). */
  #lastEventId: string
  /** The last valid `retry` field, whether or not an event was dispatched. */
  #retryMs: number | undefined
  /**
   * The `id` field of the first event dispatched, `null` before it: whether a server replaying from
   * `Last-Event-ID` included the last event already seen (the seeded last-event-id cannot tell).
   */
  #firstOwnId: string | undefined | null = null
  /** The first event dispatched, as delivered (if it is): only it can be that replay. */
  #firstEvent: unknown
  readonly #decoder: ChunkDecoder
  readonly #lines: SseLineScanner
  readonly #end: EndTracker<RawSseEvent>
  readonly #json: boolean
  readonly #maxLineBytes: number
  readonly #onComment: ((comment: string) => void) | undefined
  readonly #box = new Outbox()
  readonly #onGap: OnGap
  /** Whether to hand the caught-up marker on as {@link LIVE} (the resilient stream) or drop it (the plain decoders). */
  readonly #marks: boolean
  /** Typed events: a validator per event name (`events`), `undefined` without them. */
  readonly #validators: ReturnType<typeof eventValidators>
  readonly #unknownThrows: boolean
  // The buffers of §9.2.6: data (undefined: no data field yet; joined with LF as lines come), event
  // type, last event ID. `#ownId` is this block's own id field, for `firstOwnId`.
  #data: string | undefined
  #type = ''
  #idBuffer: string
  #ownId: string | undefined
  // UTF-16 units of the data buffer, then (past a third of the limit) its exact UTF-8 bytes: one event's data is bounded too.
  #dataUnits = 0
  #dataBytes = -1
  #retry: number | undefined
  // At end of stream, the unterminated last line is read only to report what was cut off.
  #probing = false

  /** `lastEventId`: carried over from an earlier connection (it persists across reconnections, HTML §9.2.3). */
  constructor(
    options: SseOptions<StandardSchemaV1 | undefined> & TypedEventOptions = {},
    lastEventId = '',
    marks = false,
  ) {
    this.#onGap = onGapOf(options)
    this.#marks = marks
    this.#validators = eventValidators(options)
    this.#unknownThrows = options.onUnknownEvent === 'throw'
    this.gate = new RecordGate(options.schema, options.onInvalid)
    this.#decoder = new ChunkDecoder(options)
    this.#maxLineBytes = maxLineBytesOf(options)
    this.#lines = new SseLineScanner(this.#maxLineBytes)
    this.#json = options.json === true || options.schema !== undefined || this.#validators !== undefined
    this.#onComment = options.onComment
    this.#lastEventId = this.#idBuffer = lastEventId
    this.#end = new EndTracker(endPredicate(options.endMarker), options.requireEnd)
    keepLayout(SseParser, () => new SseParser())
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
      // The decoder drops the stream's one leading BOM (§9.2.5) and keeps byte offsets (read once it has decoded).
      this.#lines.scan(this.#decoder.decode(chunk), this.#decoder.textStart, this)
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
      const lines = this.#lines
      // "Once the end of the file is reached, any pending data must be discarded" (§9.2.6): the
      // unterminated line and the open block are read only to tell a cut event from a clean end.
      this.#probing = true
      const partial = lines.end()
      // The last line received, an unterminated one included: where a stream that ends now was cut.
      const lastLine = lines.line
      if (partial !== undefined) this.line(partial, 0, partial.length)
      if (this.done) return
      const data = this.#data
      // An open block is the end event, or an event cut off; without one, the end event may be missing.
      const end = data === undefined ? this.#end.missing(lastLine) : this.#end.test(this.#raw(data), lines.markLine)
      if (end === false) {
        this.#fail(
          new TruncatedStreamError('partial-record', {
            line: lastLine,
            offset: lines.markOffset(),
            received: this.#end.received,
            snippet: snippetOf(data!),
          }),
        )
      } else if (end instanceof Error) this.#fail(end)
    } catch (error) {
      this.#fail(error)
    }
  }

  /** Interprets one line (HTML §9.2.6); the scanner calls it. */
  line(text: string, start: number, end: number): void {
    // Step: "If the line is empty (a blank line): dispatch the event."
    if (start === end) {
      if (this.#lines.markLine !== 0) this.#dispatch()
      return
    }
    if (this.#lines.markLine === 0) this.#lines.mark(start)
    // The usual line, `data:` (recognised unrolled: it is the hot path).
    const data =
      text.charCodeAt(start) === 100 &&
      text.charCodeAt(start + 4) === COLON &&
      text.charCodeAt(start + 1) === 97 &&
      text.charCodeAt(start + 2) === 116 &&
      text.charCodeAt(start + 3) === 97
    // Step: "If the line contains a U+003A COLON character (:)": the field name is what comes
    // before the first colon, the value what comes after it, less one leading space.
    // Step: "Otherwise, the string is not empty but does not contain a U+003A COLON character
    // (:)": the whole line is the field name, and the value is the empty string.
    // (A line that starts with a colon, a comment, has an empty name: #field tells it apart.)
    let colon = data ? start + 4 : start
    while (colon < end && text.charCodeAt(colon) !== COLON) colon++
    let from = colon + 1
    if (from < end && text.charCodeAt(from) === SPACE) from++
    const value = from < end ? text.slice(from, end) : ''
    if (data) this.#addData(value)
    else this.#field(text.slice(start, colon), value)
  }

  /** "Process the field" (§9.2.6): names are compared literally, with no case folding. */
  #field(name: string, value: string): void {
    if (name === '') {
      // Step: "If the line starts with a U+003A COLON character (:): ignore the line" (a comment).
      if (!this.#probing) this.#onComment?.(value)
    } else if (name === 'data') {
      // "data": append the value, then a LF, to the data buffer.
      this.#addData(value)
    } else if (name === 'event') {
      // "event": set the event type buffer to the value.
      this.#type = value
    } else if (name === 'id') {
      // "id": if the value does not contain U+0000 NULL, set the last event ID buffer to it; otherwise ignore the field.
      if (value.indexOf('\0') === -1 && !this.#probing) {
        this.#idBuffer = value
        this.#ownId = value
      }
    } else if (name === 'retry') {
      // "retry": if the value consists of only ASCII digits, set the reconnection time to it
      // (base ten); otherwise ignore the field. An empty value sets nothing.
      if (DIGITS.test(value) && !this.#probing) this.#retry = this.#retryMs = Number(value)
    }
    // Otherwise: the field is ignored.
  }

  /** Appends to the data buffer, kept joined by LF without the final one (dispatch step 3 removes it). */
  #addData(value: string): void {
    const data = this.#data
    this.#data = data === undefined ? value : `${data}\n${value}`
    // One event's buffered data is bounded like a line: a block that never ends holds no more than maxLineBytes.
    this.#dataUnits += value.length + 1
    if (this.#dataUnits * 3 > this.#maxLineBytes) this.#checkData(value)
  }

  #checkData(value: string): void {
    this.#dataBytes = this.#dataBytes === -1 ? utf8Length(this.#data!) : this.#dataBytes + utf8Length(value) + 1
    // Thrown through the scanner to push or end, whose #fail stops it.
    if (this.#dataBytes > this.#maxLineBytes) {
      throw new LineTooLongError(this.#maxLineBytes, this.#lines.line, '', this.#lines.markOffset())
    }
  }

  /** Dispatches the event at a blank line (HTML §9.2.6, "dispatch the event"). */
  #dispatch(): void {
    const lines = this.#lines
    // The block ends here (the next line that is not blank starts another); errors point at its first line.
    const line = lines.markLine
    lines.markLine = 0
    // Step 1: set the last event ID string to the last event ID buffer (which is not reset).
    this.#lastEventId = this.#idBuffer
    const data = this.#data
    const ownId = this.#ownId
    this.#ownId = undefined
    // Step 2: if the data buffer is empty (no data field), reset the buffers and return.
    if (data === undefined) return void (this.#type = '')
    // Steps 3-5: the data (its final LF never added), the event type ("message" when empty), the last event ID.
    const raw = this.#raw(data)
    this.#data = undefined
    this.#type = ''
    this.#dataUnits = 0
    this.#dataBytes = -1
    // sluice's feed markers (sluice/protocol): a declared gap, and the caught-up point. Neither is a record.
    const gap = raw.event === SSE_GAP_EVENT ? sseGapOf(data) : undefined
    if (gap !== undefined) {
      const error = applyGap(this.#onGap, gap, line)
      if (error !== undefined) this.#fail(error)
      return
    }
    if (isSseLive(raw.event, data)) {
      if (this.#marks) this.#box.items.push(LIVE)
      return
    }
    if (this.#firstOwnId === null) {
      this.#firstOwnId = ownId
      this.#firstEvent = raw
    }
    const end = this.#end.test(raw, line)
    if (end !== false) {
      lines.stopped = true
      if (end !== true) this.#fail(end)
      return
    }
    this.#end.received++
    const event = raw as SseEvent<unknown>
    if (this.#retry !== undefined) {
      event.retry = this.#retry
      this.#retry = undefined
    }
    if (!this.#json) return void this.#box.items.push(event)
    // Where the event starts, for errors (the offset costs a rescan, so only on the error path).
    const position = (): RecordPosition => ({ line, offset: lines.markOffset(), snippet: snippetOf(data) })
    // Typed events: an event with no schema is skipped, or fails under onUnknownEvent: 'throw'.
    const validators = this.#validators
    // A typed event's schema, else the gate's own (the `schema` option), if any.
    const validate = validators?.get(event.event)
    if (validators !== undefined && validate === undefined) {
      if (this.#unknownThrows) this.#fail(unknownEventError(event.event, position(), validators))
      return
    }
    let value: unknown
    try {
      value = JSON.parse(data)
    } catch (cause) {
      this.#box.emit(this.gate.reject(new ParseError(position(), cause)))
      if (this.#box.failed) lines.stopped = true
      return
    }
    const checked = validate !== undefined || this.gate.validates ? this.gate.check(value, position, validate) : value
    if (checked instanceof Pending && checked.promise !== undefined) {
      const settled = checked.promise.then((data) => {
        if (data === SKIPPED) return data
        event.data = data
        return event
      })
      return this.#box.emit(new Pending(undefined, settled))
    }
    if (checked instanceof Pending || checked === SKIPPED) {
      this.#box.emit(checked)
      if (this.#box.failed) lines.stopped = true
      return
    }
    event.data = checked
    this.#box.items.push(event)
  }

  /** The event as a custom end marker sees it (§9.2.6 step 5: type "message" when the buffer is empty). */
  #raw(data: string): RawSseEvent {
    const event = this.#type === '' ? 'message' : this.#type
    const id = this.#lastEventId
    // One literal per shape (an object that gains `id` later would need its own layout kept alive, see layouts.ts).
    return id === '' ? { event, data } : { event, data, id }
  }

  #fail(error: unknown): void {
    this.#lines.stopped = true
    this.#box.fail(error)
  }
}

const endOf =
  (name: string): EndMarkerPredicate<RawSseEvent> =>
  (event) =>
    event.event === name ? sseEndOf(event.data) : undefined

// One function for the default marker, not one per parser: optimised code keeps it (see layouts.ts).
const isEndEvent = endOf(SSE_END_EVENT)

function endPredicate(option: SseOptions['endMarker']): EndMarkerPredicate<RawSseEvent> | undefined {
  if (option === false) return undefined
  if (typeof option === 'function') return option
  if (option === undefined || option === SSE_END_EVENT) return isEndEvent
  if (typeof option !== 'string')
    throw new TypeError('Cannot use endMarker: expected an event name, a function or false')
  return endOf(option)
}

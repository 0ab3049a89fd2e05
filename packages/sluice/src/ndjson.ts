/**
 * Lines to records for NDJSON (newline-delimited JSON, also called JSON Lines): a synchronous
 * push parser with no I/O. Stream and iterator forms wrap it.
 *
 * @see https://github.com/ndjson/ndjson-spec
 * @module
 */
import { type EndMarkerPredicate, EndTracker } from './end-marker.js'
import { ParseError, type RecordPosition, snippetOf, TruncatedStreamError } from './errors.js'
import { applyGap, EntryId, type OnGap, onGapOf } from './gap.js'
import { LineGatherer } from './gather.js'
import { keepLayout } from './layouts.js'
import { type LineSink, LineSplitter } from './lines.js'
import { LIVE } from './live.js'
import { type DecodeOptions, maxLineBytesOf } from './options.js'
import { isNdjsonLive, ndjsonEndOf, ndjsonFeedLineOf } from './protocol.js'
import { ChunkDecoder } from './text.js'
import { Outbox, type Pending, RecordGate } from './validate.js'

/** Options of the NDJSON decoders. */
export interface NdjsonOptions<S extends import('./standard-schema.js').StandardSchemaV1 | undefined = undefined>
  extends DecodeOptions<S> {
  /**
   * Recognises the end-of-stream trailer among parsed values. Default: the sluice trailer
   * `{"$sluice":"end","count":N}`. `false` turns marker detection off (every line is a record).
   */
  endMarker?: EndMarkerPredicate<unknown> | false
}

/** Decodes NDJSON chunk by chunk: `push` returns what completed, `end` finishes the stream. */
export class NdjsonParser implements LineSink {
  readonly gate: RecordGate
  readonly #decoder: ChunkDecoder
  readonly #lines: LineSplitter
  // Without `fatal`, bytes wait for their line's end before decoding; with it, each chunk is decoded
  // as it comes, so an EncodingError names the chunk with the bad bytes.
  readonly #gather: LineGatherer | undefined
  readonly #end: EndTracker<unknown>
  readonly #box = new Outbox()
  /** Whether to hand the caught-up marker on as {@link LIVE} (the resilient stream) or drop it (the plain decoders). */
  readonly #marks: boolean
  readonly #onGap: OnGap

  constructor(options: NdjsonOptions<import('./standard-schema.js').StandardSchemaV1 | undefined> = {}, marks = false) {
    this.#marks = marks
    this.#onGap = onGapOf(options)
    this.gate = new RecordGate(options.schema, options.onInvalid)
    this.#decoder = new ChunkDecoder(options)
    const maxLineBytes = maxLineBytesOf(options)
    this.#lines = new LineSplitter(this.#decoder, maxLineBytes)
    this.#gather = options.fatal === true ? undefined : new LineGatherer(this.#decoder, this.#lines, maxLineBytes)
    const marker = options.endMarker === undefined ? ndjsonEndOf : options.endMarker || undefined
    if (marker !== undefined && typeof marker !== 'function') {
      throw new TypeError('Cannot use endMarker: expected a function or false')
    }
    this.#end = new EndTracker(marker, options.requireEnd)
    keepLayout(NdjsonParser, () => new NdjsonParser())
  }

  /** Records received so far, invalid ones included, the end marker excluded. */
  get received(): number {
    return this.#end.received
  }

  /** Whether the end marker arrived (nothing more is read after it) or an error stopped decoding. */
  get done(): boolean {
    return this.#end.ended || this.#box.failed
  }

  /** Decodes one chunk, appending records (and {@link Pending} slots) to `out`. */
  push(chunk: Uint8Array | string, out: unknown[]): void {
    if (this.done) return
    this.#box.items = out
    try {
      const gather = this.#gather
      if (gather && typeof chunk !== 'string') gather.push(chunk, this)
      else {
        // Bytes waiting for their line's end come before the string.
        gather?.flush(this)
        this.#lines.push(this.#decoder.decode(chunk), this)
      }
    } catch (error) {
      this.#box.fail(error)
    }
  }

  /** Ends the stream: a partial last line is a record if it is complete JSON, truncation if not. */
  end(out: unknown[]): void {
    if (this.done) return
    this.#box.items = out
    try {
      this.#gather?.flush(this)
      if (this.done) return
      const rest = this.#decoder.end()
      if (rest) this.#lines.push(rest, this)
      const last = this.#lines.end()
      if (last !== undefined && !isBlank(last) && !this.done) this.#acceptLast(last)
      const missing = !this.done && this.#end.missing(this.#lines.lineNumber)
      if (missing) this.#box.fail(missing)
    } catch (error) {
      this.#box.fail(error)
    }
  }

  #acceptLast(line: string): void {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      const error = new TruncatedStreamError('partial-record', {
        line: this.#lines.lineNumber,
        received: this.#end.received,
        snippet: snippetOf(line),
      })
      this.#box.fail(error)
      return
    }
    this.#record(value, line, -1)
  }

  /** Decodes one complete line (the line splitter calls it): a record, a heartbeat or a marker. */
  line(line: string, start: number): void {
    if (this.done) return
    const first = line.charCodeAt(0)
    // `{` and `[` start nearly every record: skip the blank-line test for them.
    if (first !== 123 && first !== 91 && isBlank(line)) return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (cause) {
      this.#end.received++
      this.#box.emit(this.gate.reject(new ParseError(this.#position(line, start), cause)))
      return
    }
    this.#record(value, line, start)
  }

  #record(value: unknown, line: string, start: number): void {
    // A feed line (sluice-server's feedResponse): a record in its envelope, or a gap marker.
    const feed = ndjsonFeedLineOf(value)
    if (feed !== undefined) {
      if ('gap' in feed) {
        const error = applyGap(this.#onGap, feed.gap, this.#lines.lineNumber)
        if (error !== undefined) this.#box.fail(error)
        return
      }
      if (this.#marks) this.#box.items.push(new EntryId(feed.id))
      value = feed.data
    }
    if (isNdjsonLive(value)) {
      if (this.#marks) this.#box.items.push(LIVE)
      return
    }
    const end = this.#end.test(value, this.#lines.lineNumber)
    if (end !== false) {
      if (end !== true) this.#box.fail(end)
      return
    }
    this.#end.received++
    // No schema: skip the position closure on the hot path.
    if (!this.gate.validates) this.#box.items.push(value)
    else this.#box.emit(this.gate.check(value, () => this.#position(line, start)))
  }

  #position(line: string, start: number): RecordPosition {
    return { line: this.#lines.lineNumber, offset: this.#lines.offsetOf(start), snippet: snippetOf(line) }
  }
}

/** Whether a line holds only JSON whitespace (RFC 8259 §2): a heartbeat, not a record. */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i)
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false
  }
  return true
}

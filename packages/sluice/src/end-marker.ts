/**
 * End-of-stream markers: how a decoder tells a finished stream from a cut one. A cut connection
 * looks like a normal end to TCP; the producer's marker (with its record count) does not.
 *
 * @module
 */
import { TruncatedStreamError } from './errors.js'
import type { EndOfStream } from './protocol.js'

/**
 * Recognises the end marker: return `true` or an {@link EndOfStream} (with the announced record
 * count) for the marker, anything falsy for an ordinary record.
 */
export type EndMarkerPredicate<V> = (value: V) => EndOfStream | boolean | null | undefined

/**
 * An SSE end marker for a sentinel data value, such as the `data: [DONE]` that ends OpenAI-style chat
 * completion streams: the event whose data is exactly `data` (and, when `event` is given, whose name
 * is that) ends the stream. Markers are tested before `json` parses an event's data, so the sentinel
 * is never parsed, never validated and never yielded. Pass it as the `endMarker` option of `sse()`,
 * `decodeSse` or `SseDecoderStream`.
 *
 * @example
 * ```ts
 * import { endMarker, sse } from 'sluice'
 *
 * for await (const { data } of sse('/v1/chat/completions', { json: true, endMarker: endMarker({ data: '[DONE]' }) })) {
 *   console.log(data)
 * }
 * ```
 */
export function endMarker(sentinel: {
  data: string
  event?: string
}): EndMarkerPredicate<{ event: string; data: string }> {
  const { data, event } = sentinel ?? {}
  if (typeof data !== 'string') throw new TypeError('Cannot use endMarker: expected { data: string, event?: string }')
  return (raw) => raw.data === data && (event === undefined || raw.event === event)
}

/** Options shared by both decoders for truncation detection. */
export interface EndOptions {
  /** Treat end-of-stream without the marker as truncation ({@link TruncatedStreamError}). Default `false`. */
  requireEnd?: boolean
}

/** Counts records and checks them against the marker, for one response. */
export class EndTracker<V> {
  /** Records received before the marker (invalid ones included: the producer counted them). */
  received = 0
  /** Whether the marker arrived. */
  ended = false
  readonly #match: EndMarkerPredicate<V> | undefined
  readonly #requireEnd: boolean

  constructor(match: EndMarkerPredicate<V> | undefined, requireEnd = false) {
    this.#match = match
    this.#requireEnd = requireEnd
  }

  /**
   * Whether `value` is the marker. On the marker, returns the count mismatch error if there is one
   * (or `true` when all is well); on an ordinary value, `false`. `line` may be computed lazily.
   */
  test(value: V, line: number | (() => number)): TruncatedStreamError | boolean {
    if (this.#match === undefined) return false
    const end = this.#match(value)
    if (!end) return false
    this.ended = true
    const expected = end === true ? undefined : end.count
    if (expected !== undefined && expected !== this.received) {
      const at = typeof line === 'number' ? line : line()
      return new TruncatedStreamError('count-mismatch', { line: at, expected, received: this.received })
    }
    return true
  }

  /** At end-of-stream: the error to raise when the marker was required and did not come. */
  missing(line: number): TruncatedStreamError | undefined {
    if (this.ended || !this.#requireEnd) return undefined
    return new TruncatedStreamError('missing-end', { line, received: this.received })
  }
}

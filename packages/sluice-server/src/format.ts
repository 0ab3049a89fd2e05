/**
 * What a wire format supplies to the shared streaming machinery: how to encode one item, the
 * heartbeat, and the end marker.
 *
 * @module
 */

/** One encoded item, and its resume id when it has one. */
export interface Encoded {
  text: string
  id?: string
  /** A marker (a feed's gap), not a record: not counted in the end marker's count. */
  marker?: true
}

/** A wire format (NDJSON or SSE), as the body and the encoder streams use it. */
export interface WireFormat<T> {
  /** Sent once before the first item ('' for none). */
  readonly preamble: string
  /** Sent while the stream is idle. */
  readonly heartbeat: string
  /** Encodes one item; throws a `TypeError` for an item the format cannot carry. */
  encode(item: T): Encoded
  /** The caught-up marker (backfill over, live from here). */
  readonly live: string
  /** The end marker for a stream of `count` items. */
  end(count: number): string
}

/** `idOf`'s answer as the id string sent on the wire or reported. */
export function idString(id: string | number, what: string): string {
  if (typeof id === 'number') {
    if (!Number.isFinite(id)) throw new TypeError(`Cannot use ${what}: expected a finite number, got ${id}`)
    return String(id)
  }
  if (typeof id === 'string') return id
  throw new TypeError(`Cannot use ${what}: expected a string or a number, got ${typeof id}`)
}

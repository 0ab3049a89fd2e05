/**
 * The caught-up marker (`{"$sluice":"live"}`, see `protocol.ts`) as a decoder hands it to the
 * resilient streams: an item in its output, in order with the records, which `ndjson()` and `sse()`
 * take out to set `stream.live`. The plain decoders drop the marker instead.
 *
 * @module
 */

/** Stands for the caught-up marker in a decoder's output, where the records before it were the backfill. */
export const LIVE: unique symbol = Symbol('sluice.live')

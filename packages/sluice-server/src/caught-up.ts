/**
 * The caught-up marker a record source yields where its backfill (history) ends and the live tail
 * begins; the response helpers send it as the wire marker of `sluice/protocol` (`{"$sluice":"live"}`).
 *
 * @module
 */

/**
 * Yield it from a record source between the last backfill record and the first live one:
 * `ndjsonResponse` and `sseResponse` send the caught-up marker there, and a sluice client sets
 * `stream.live` and calls `onLive`. Not a record: not counted in the end marker, no id. Sent once
 * per response: a second one is dropped. `Symbol.for`, so two copies of sluice-server agree.
 *
 * @example
 * ```ts
 * import { caughtUp, sseResponse } from 'sluice-server'
 *
 * declare function history(): AsyncIterable<{ seq: number }>
 * declare function tail(): AsyncIterable<{ seq: number }>
 * async function* feed() {
 *   yield* history()
 *   yield caughtUp
 *   yield* tail()
 * }
 * const response = sseResponse(feed(), { idOf: (m) => m.seq })
 * ```
 */
export const caughtUp: unique symbol = Symbol.for('sluice.caughtUp')

/** The type of {@link caughtUp}. */
export type CaughtUp = typeof caughtUp

/**
 * Gap markers from a feed (`sluice/protocol`): the `onGap` policy the decoders apply, and the
 * entry id an NDJSON feed line carries, handed to the reconnect loop as its resume position.
 *
 * @module
 */
import { GapError } from './errors.js'
import type { Gap } from './protocol.js'

/**
 * What a decoder does with a gap marker: `'throw'` (default) a {@link GapError}, so the app
 * reloads its state; `'continue'` goes on from `resumeFrom`; a callback sees the gap and goes on
 * (a callback that throws ends the stream with its error).
 */
export type OnGap = 'throw' | 'continue' | ((gap: Gap) => void)

/** Options of both decoders for feed gaps. */
export interface GapOptions {
  /** What to do when the producer declares missing records. Default `'throw'` ({@link GapError}). */
  onGap?: OnGap
}

/** Checks `onGap`. */
export function onGapOf(options: GapOptions): OnGap {
  const onGap = options.onGap ?? 'throw'
  if (onGap !== 'throw' && onGap !== 'continue' && typeof onGap !== 'function') {
    throw new TypeError("Cannot use onGap: expected 'throw', 'continue' or a function")
  }
  return onGap
}

/** Applies the policy to a gap at `line`: the error that ends the stream, or `undefined` to go on. */
export function applyGap(onGap: OnGap, gap: Gap, line: number): unknown {
  if (onGap === 'throw') return new GapError(gap, line)
  if (onGap === 'continue') return undefined
  try {
    onGap(gap)
    return undefined
  } catch (error) {
    return error
  }
}

/**
 * Stands before a record in the resilient stream's parser output: the id its NDJSON feed line
 * carried (`{"$sluice":"entry","id":...}`), its resume position when there is no `idOf`.
 */
export class EntryId {
  declare readonly id: string

  constructor(id: string) {
    this.id = id
  }
}

/**
 * Reducers for bounded windows: fold a record into an array state without letting it grow forever.
 * Each returns a new array (a store's snapshots are immutable) and leaves its input untouched.
 *
 * @module
 */

/**
 * Appends `record` and keeps the last `max` entries.
 *
 * @example
 * ```ts
 * import { keepLast } from 'sluice/store'
 *
 * keepLast([1, 2, 3], 4, 3) // [2, 3, 4]
 * ```
 */
export function keepLast<T>(state: readonly T[], record: T, max: number): T[] {
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError(`Cannot keep the last entries: max must be an integer >= 1, got ${max}`)
  const start = Math.max(0, state.length + 1 - max)
  const next = state.slice(start)
  next.push(record)
  return next
}

/**
 * Appends `record` and keeps the entries whose time is within `windowMs` of the newest record's.
 *
 * @example
 * ```ts
 * import { keepWithin } from 'sluice/store'
 *
 * const points = [{ t: 0 }, { t: 500 }]
 * keepWithin(points, { t: 1200 }, 1000, (p) => p.t) // [{ t: 500 }, { t: 1200 }]
 * ```
 */
export function keepWithin<T>(state: readonly T[], record: T, windowMs: number, timeOf: (entry: T) => number): T[] {
  if (!(windowMs >= 0)) throw new RangeError(`Cannot keep a time window: windowMs must be >= 0, got ${windowMs}`)
  const since = timeOf(record) - windowMs
  let start = 0
  while (start < state.length && timeOf(state[start] as T) < since) start++
  const next = state.slice(start)
  next.push(record)
  return next
}

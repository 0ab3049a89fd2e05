/**
 * Keeps an object layout warm between streams. V8 gives a class's objects a layout (a hidden
 * class) that lives only while one of them does, and discards the optimised code built on it once
 * the last is collected: a stream opened after that starts cold, and after a few such rounds the
 * decoder's code stays generic, about half as fast (BENCHMARKS.md, issue 11). One idle object per
 * class, made with the first real one and never used, holds the layout for the life of the page or
 * process: a few hundred bytes.
 *
 * @module
 */

const idle = new Map<object, unknown>()

/** Makes and keeps one idle object for `key` (a class), the first time it is called for it. */
export function keepLayout(key: object, make: () => unknown): void {
  if (idle.has(key)) return
  idle.set(key, undefined) // Before `make`, which constructs `key` again.
  idle.set(key, make())
}

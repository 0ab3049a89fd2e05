/**
 * fast-check arbitraries shared by the decoders' property tests (ndjson.test.ts, sse.test.ts): values
 * that trip decoders (emoji, combining marks, U+2028, a BOM, NUL, quotes), JSON records made of them,
 * and split points for a chunking; and the seeded numbers the soak and concurrency runs draw faults from.
 */
import fc from 'fast-check'

/** Strings that trip decoders: multi-byte and combined characters, U+2028, a BOM, NUL, JSON escapes. */
export const tricky = fc.constantFrom('😀', '👍🏽', 'é', '日本語', '\u2028', '\uFEFF', 'a\u0000b', '"\\', ' ', '\t', '')
const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), tricky)

/** A JSON record: an object with tricky text and nesting, or any JSON value. */
export const record = fc.oneof(
  fc.record({ id: fc.nat(), text, emoji: tricky, nested: fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 3 }) }),
  fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 }),
)

/** Split points for a chunking: fast-check shrinks them toward the failing cut. */
export const points = fc.array(fc.nat(), { maxLength: 40 })

/**
 * How many cases a property runs: `n`, or at most `$SLUICE_PROPERTY_RUNS` when it is set (`npm run
 * test:quick` sets it, for an inner loop of seconds; `npm test` runs every case).
 */
export function propertyRuns(n: number): number {
  const cap = Number(process.env['SLUICE_PROPERTY_RUNS'])
  return cap > 0 ? Math.min(n, cap) : n
}

/** A seeded stream of whole numbers, `next(max)` in `[0, max)`: the same faults on every run of a soak. */
export function seededInts(seed: number, runs: number): (max: number) => number {
  const random = fc.sample(fc.integer({ min: 0, max: 1_000_000 }), { numRuns: runs, seed })
  let r = 0
  return (max) => random[r++ % random.length]! % max
}

/** The bytes one at a time. */
export function oneByteAtATime(bytes: Uint8Array): Uint8Array[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
}

/**
 * Every way a test splits one input into chunks: whole, in two at every point, one unit at a time,
 * at every "interesting" point at once (around CR and LF, inside multi-byte characters and the
 * BOM), and seeded random chunkings. The same split points are applied to the UTF-8 bytes
 * (`Uint8Array` chunks) and to the string (string chunks), so both source kinds are covered.
 */

// A small seeded PRNG: the same seed gives the same chunking on every run (shared with the portable suite).
import { mulberry32 as prng } from './portable/chunkings.js'

/** One way of splitting an input, with a label that names it in failure messages. */
export interface Chunking<C> {
  label: string
  chunks: C[]
}

export interface ChunkingOptions {
  /** How many seeded random chunkings to add (default 6). */
  randomRuns?: number
  /** The first seed; runs use `seed`, `seed + 1`... (default 1). */
  seed?: number
  /** Skip the O(n) "split in two at every point" chunkings above this many units (default 4096). */
  maxPairwise?: number
}

const encoder = new TextEncoder()

/** Splits `length` units at the given points (sorted, deduplicated, inside `(0, length)`). */
function splitPoints(length: number, points: Iterable<number>): number[] {
  const set = new Set<number>()
  for (const p of points) if (p > 0 && p < length) set.add(p)
  return [...set].sort((a, b) => a - b)
}

function cut<C extends Uint8Array | string>(input: C, points: readonly number[]): C[] {
  const chunks: C[] = []
  let start = 0
  for (const p of points) {
    chunks.push(slice(input, start, p))
    start = p
  }
  chunks.push(slice(input, start, input.length))
  return chunks
}

function slice<C extends Uint8Array | string>(input: C, start: number, end: number): C {
  return (typeof input === 'string' ? input.slice(start, end) : input.subarray(start, end)) as C
}

/**
 * Points next to CR and LF and inside every multi-byte character (the BOM included): splitting at
 * all of them at once puts every CRLF pair and every character's bytes in different chunks.
 */
function interestingPoints(input: Uint8Array | string): number[] {
  const points: number[] = []
  for (let i = 0; i < input.length; i++) {
    const unit = typeof input === 'string' ? input.charCodeAt(i) : input[i]!
    if (unit === 10 || unit === 13) points.push(i, i + 1)
    // A UTF-8 continuation byte, or the low half of a surrogate pair: split just before it.
    else if (typeof input === 'string' ? unit >= 0xdc00 && unit <= 0xdfff : (unit & 0xc0) === 0x80) points.push(i)
  }
  return points
}

/** Seeded random split points: chunk sizes drawn from 1..max, with max itself random (small chunks are the trap). */
function randomPoints(length: number, random: () => number): number[] {
  const max = 1 + Math.floor(random() * (random() < 0.5 ? 8 : Math.max(1, length)))
  const points: number[] = []
  for (let at = 1 + Math.floor(random() * max); at < length; at += 1 + Math.floor(random() * max)) points.push(at)
  return points
}

/** Every chunking of `input` (bytes or a string). */
export function* chunkingsOf<C extends Uint8Array | string>(
  input: C,
  options: ChunkingOptions = {},
): Generator<Chunking<C>> {
  const { randomRuns = 6, seed = 1, maxPairwise = 4096 } = options
  const n = input.length
  yield { label: 'whole', chunks: [input] }
  if (n > 1 && n <= maxPairwise) {
    for (let i = 1; i < n; i++) yield { label: `split at ${i}`, chunks: cut(input, [i]) }
  }
  yield {
    label: 'one unit at a time',
    chunks: cut(
      input,
      splitPoints(
        n,
        Array.from({ length: n }, (_, i) => i),
      ),
    ),
  }
  yield {
    label: 'at every CR, LF and inside every multi-byte character',
    chunks: cut(input, splitPoints(n, interestingPoints(input))),
  }
  for (let run = 0; run < randomRuns; run++) {
    const random = prng(seed + run)
    yield { label: `random (seed ${seed + run})`, chunks: cut(input, splitPoints(n, randomPoints(n, random))) }
  }
}

/** A chunking of either kind, tagged so failures say which. */
export type AnyChunking = Chunking<Uint8Array> | Chunking<string>

/** Every chunking of `text`, as UTF-8 bytes and as strings. */
export function* chunkings(text: string, options: ChunkingOptions = {}): Generator<AnyChunking> {
  for (const c of chunkingsOf(encoder.encode(text), options)) yield { label: `bytes, ${c.label}`, chunks: c.chunks }
  for (const c of chunkingsOf(text, options)) yield { label: `string, ${c.label}`, chunks: c.chunks }
}

/** Bytes cut at the given points (taken modulo the length): for fast-check generated split points. */
export function chunksAt(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  return cut(bytes, splitPoints(bytes.length, bytes.length === 0 ? [] : points.map((p) => p % bytes.length)))
}

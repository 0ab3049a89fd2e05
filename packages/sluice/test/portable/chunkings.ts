/**
 * Ways to cut one byte sequence into chunks, as a network would: whole, split in two at every
 * offset (inside CRLF, inside a multi-byte character, inside the BOM), one byte at a time, and
 * seeded random cuts. Deterministic, so a failure names the chunking that caused it.
 *
 * @module
 */

const encoder = new TextEncoder()

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

/** One way of cutting the input, with a name for failure messages. */
export interface Chunking {
  name: string
  chunks: Uint8Array[]
}

/** Every chunking the suite applies to a vector of this length. */
export function chunkings(input: Uint8Array | string, randomRuns = 8): Chunking[] {
  const all = typeof input === 'string' ? bytes(input) : input
  const out: Chunking[] = [{ name: 'whole', chunks: [all] }]
  for (let at = 1; at < all.length; at++) {
    out.push({ name: `split at ${at}`, chunks: [all.subarray(0, at), all.subarray(at)] })
  }
  out.push({ name: 'bytewise', chunks: Array.from(all, (_, i) => all.subarray(i, i + 1)) })
  const random = mulberry32(all.length * 7919 + 1)
  for (let run = 0; run < randomRuns; run++) {
    const chunks: Uint8Array[] = []
    for (let at = 0; at < all.length; ) {
      const size = 1 + Math.floor(random() * 7)
      chunks.push(all.subarray(at, at + size))
      at += size
    }
    out.push({ name: `random #${run}`, chunks })
  }
  return out
}

/** The chunks as a `ReadableStream`, the shape a `fetch` body has, with copies so no view is shared. */
export function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++]
      if (chunk === undefined) controller.close()
      else controller.enqueue(chunk.slice())
    },
  })
}

/** A small seeded PRNG (mulberry32): the same cuts in every runtime. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

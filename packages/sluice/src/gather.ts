/**
 * Bytes to whole lines before decoding: the bytes of a partial line wait, undecoded, until its LF
 * arrives, so small chunks cost one decode per line instead of one per chunk, and the text handed
 * on always ends with a line break (nothing for the line splitter to carry).
 *
 * Cutting bytes at LF never cuts a character: every byte of a multi-byte UTF-8 sequence is 0x80 or
 * above (RFC 3629 §3), so 0x0A is always a whole character.
 *
 * @module
 */
import type { LineSink, LineSplitter } from './lines.js'
import type { ChunkDecoder } from './text.js'

const LF = 10
/** A held buffer grown past this (by a long line) is dropped once the line is decoded. */
const SHRINK_ABOVE = 64 * 1024
/** Below this many bytes, a loop beats a call into the runtime (and a `subarray` view per call). */
const SMALL = 64
/** Up to this many bytes, lines after a carried one are copied to decode all in one call. */
const COPY_MAX = 4096

/** Holds the undecoded bytes of a partial line and feeds whole lines to a decoder and a splitter. */
export class LineGatherer {
  readonly #decoder: ChunkDecoder
  readonly #lines: LineSplitter
  readonly #maxLineBytes: number
  #held = new Uint8Array(256)
  #length = 0

  constructor(decoder: ChunkDecoder, lines: LineSplitter, maxLineBytes: number) {
    this.#decoder = decoder
    this.#lines = lines
    this.#maxLineBytes = maxLineBytes
  }

  /** Splits one chunk of bytes: complete lines go to `sink`, the bytes after the last LF wait. */
  push(chunk: Uint8Array, sink: LineSink): void {
    if (chunk.length < SMALL) {
      this.#pushSmall(chunk, sink)
      return
    }
    const last = chunk.lastIndexOf(LF)
    if (last === -1) {
      this.#hold(chunk, 0, chunk.length)
      // Bound memory: past the limit, hand the bytes on, and the splitter raises LineTooLongError.
      if (this.#length + this.#lines.partialBytes > this.#maxLineBytes) this.flush(sink)
      return
    }
    let start = 0
    if (this.#length > 0) {
      // The waiting bytes and this chunk's first line are one line: decode them together, with the
      // lines after it too when copying them costs less than a second decode call.
      start = last < COPY_MAX ? last + 1 : chunk.indexOf(LF) + 1
      this.#hold(chunk, 0, start)
      this.flush(sink)
    }
    if (start <= last) this.#emit(start === 0 && last === chunk.length - 1 ? chunk : viewOf(chunk, start, last + 1), sink)
    if (last + 1 < chunk.length) this.#hold(chunk, last + 1, chunk.length)
  }

  /** {@link push} for a short chunk: a loop finds its last LF (cheaper than a call into the runtime). */
  #pushSmall(chunk: Uint8Array, sink: LineSink): void {
    let last = chunk.length - 1
    while (last >= 0 && chunk[last] !== LF) last--
    const start = this.#length
    const length = start + chunk.length
    this.#reserve(length)
    const held = this.#held
    held.set(chunk, start)
    if (last === -1) {
      this.#length = length
      if (length + this.#lines.partialBytes > this.#maxLineBytes) this.flush(sink)
      return
    }
    const end = start + last + 1
    this.#length = 0
    this.#emit(held.subarray(0, end), sink)
    // Move the bytes after the last LF to the front (decode has copied the lines out).
    for (let i = end; i < length; i++) held[i - end] = held[i]!
    this.#length = length - end
  }

  /** Decodes the waiting bytes as they are (before a string chunk, at the end, or past the limit). */
  flush(sink: LineSink): void {
    if (this.#length === 0) return
    const bytes = this.#held.subarray(0, this.#length)
    this.#length = 0
    // After a long line, give the large buffer back (decode copies the bytes out first).
    if (this.#held.length > SHRINK_ABOVE) this.#held = new Uint8Array(256)
    this.#emit(bytes, sink)
  }

  #emit(bytes: Uint8Array, sink: LineSink): void {
    this.#lines.push(this.#decoder.decode(bytes), sink)
  }

  /** Copies `chunk[from, to)` in: a source may reuse its buffer once the chunk is handed over. */
  #hold(chunk: Uint8Array, from: number, to: number): void {
    const length = this.#length + (to - from)
    this.#reserve(length)
    const held = this.#held
    if (to - from < SMALL) for (let i = from, j = this.#length; i < to; i++, j++) held[j] = chunk[i]!
    else held.set(from === 0 && to === chunk.length ? chunk : viewOf(chunk, from, to), this.#length)
    this.#length = length
  }

  /** Grows the held buffer to take `length` bytes, keeping what it holds. */
  #reserve(length: number): void {
    if (length <= this.#held.length) return
    const grown = new Uint8Array(Math.max(length, this.#held.length * 2))
    grown.set(this.#held.subarray(0, this.#length))
    this.#held = grown
  }
}

/** A plain view of `bytes[from, to)` (`subarray` on a Node Buffer makes another Buffer, slowly). */
function viewOf(bytes: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + from, to - from)
}

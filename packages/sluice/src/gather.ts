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

/** Holds the undecoded bytes of a partial line and feeds whole lines to a decoder and a splitter. */
export class LineGatherer {
  readonly #decoder: ChunkDecoder
  readonly #lines: LineSplitter
  readonly #maxLineBytes: number
  // Grows (doubling) to hold a partial line and one chunk; the line is bounded by maxLineBytes.
  #held = new Uint8Array(256)
  #length = 0

  constructor(decoder: ChunkDecoder, lines: LineSplitter, maxLineBytes: number) {
    this.#decoder = decoder
    this.#lines = lines
    this.#maxLineBytes = maxLineBytes
  }

  /** Splits one chunk of bytes: complete lines go to `sink`, the bytes after the last LF wait. */
  push(chunk: Uint8Array, sink: LineSink): void {
    const n = chunk.length
    let last = n - 1
    // A loop beats a call into the runtime on a short chunk.
    if (n < 64) while (last >= 0 && chunk[last] !== LF) last--
    else last = chunk.lastIndexOf(LF)
    // Copied in (a source may reuse its buffer once the chunk is handed over), after the waiting bytes.
    const start = this.#length
    const length = start + n
    if (length > this.#held.length) {
      const grown = new Uint8Array(Math.max(length, this.#held.length * 2))
      grown.set(this.#held.subarray(0, start))
      this.#held = grown
    }
    const held = this.#held
    held.set(chunk, start)
    if (last === -1) {
      this.#length = length
      // Bound memory: past the limit, hand the bytes on, and the splitter raises LineTooLongError.
      if (length + this.#lines.partialBytes > this.#maxLineBytes) this.flush(sink)
      return
    }
    const end = start + last + 1
    this.#length = 0
    this.#lines.push(this.#decoder.decode(held.subarray(0, end)), sink)
    // Decode has copied the lines out: move the bytes after the last LF to the front.
    held.copyWithin(0, end, length)
    this.#length = length - end
  }

  /** Decodes the waiting bytes as they are (before a string chunk, at the end, or past the limit). */
  flush(sink: LineSink): void {
    if (this.#length === 0) return
    const bytes = this.#held.subarray(0, this.#length)
    this.#length = 0
    this.#lines.push(this.#decoder.decode(bytes), sink)
  }
}

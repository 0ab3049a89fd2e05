/**
 * Text to lines for NDJSON: LF and CRLF breaks (RFC 8259 whitespace lets a CR before the LF
 * stay on the line), partial lines carried between chunks, and a bound on a line's length.
 *
 * A line split over many chunks is kept as a list of fragments and joined once, so it costs
 * linear time however small the chunks are.
 *
 * @module
 */
import { LineTooLongError, snippetOf } from './errors.js'
import { type ChunkDecoder, offsetOf, utf8Length } from './text.js'

/** Receives each complete line: its text, and where it starts in the chunk (`-1`: in an earlier chunk). */
export interface LineSink {
  line(line: string, start: number): void
}

/** Splits decoded text into lines, carrying a partial last line to the next chunk. */
export class LineSplitter {
  /** Lines completed so far, blank ones included: the 1-based number of the last line handed out. */
  lineNumber = 0
  readonly #maxLineBytes: number
  readonly #decoder: ChunkDecoder
  #parts: string[] = []
  #carryBytes = 0
  // Where the carried line began, kept to compute its byte offset only if an error needs it.
  #carryText = ''
  #carryIndex = 0
  #carryTextStart = 0
  // The chunk being split, for offsets of lines that start in it.
  #text = ''

  constructor(decoder: ChunkDecoder, maxLineBytes: number) {
    this.#decoder = decoder
    this.#maxLineBytes = maxLineBytes
  }

  /** UTF-8 bytes of the partial line waiting for its end. */
  get partialBytes(): number {
    return this.#carryBytes
  }

  /** Splits one chunk of text, handing each complete line to `sink`. */
  push(text: string, sink: LineSink): void {
    // A chunk that only held back part of a character decodes to nothing: it must not start a line.
    if (text.length === 0) return
    this.#text = text
    let start = 0
    let lf = text.indexOf('\n')
    // No LF: all of it is carried (below).
    if (lf !== -1 && this.#parts.length > 0) {
      this.#checkLength(text, this.#carryBytes + utf8Length(text.slice(0, lf)), -1)
      // end() joins the carried fragments, lets them go and counts the line.
      sink.line(this.end()! + text.slice(0, lf), -1)
      start = lf + 1
      lf = text.indexOf('\n', start)
    }
    const max = this.#maxLineBytes
    while (lf !== -1) {
      const line = text.slice(start, lf)
      // UTF-16 units never exceed UTF-8 bytes, and bytes never exceed 3 per unit: count exactly only in between.
      if (line.length * 3 > max) this.#checkLength(line, utf8Length(line), start)
      this.lineNumber++
      sink.line(line, start)
      start = lf + 1
      lf = text.indexOf('\n', start)
    }
    if (start < text.length) this.#carry(text, start)
  }

  /** Ends the stream: returns the partial last line, if any (the caller decides whether it is complete). */
  end(): string | undefined {
    if (this.#parts.length === 0) return undefined
    const line = this.#parts.join('')
    this.#parts = []
    this.#carryBytes = 0
    this.lineNumber++
    return line
  }

  /** Byte offset of a line handed to the sink, `start` as it was given. */
  offsetOf(start: number): number {
    if (start === -1) return offsetOf(this.#carryText, this.#carryIndex, this.#carryTextStart)
    return offsetOf(this.#text, start, this.#decoder.textStart)
  }

  #carry(text: string, start: number): void {
    const fragment = start === 0 ? text : text.slice(start)
    if (this.#parts.length === 0) {
      this.#carryText = text
      this.#carryIndex = start
      this.#carryTextStart = this.#decoder.textStart
    }
    this.#carryBytes += utf8Length(fragment)
    this.#parts.push(fragment)
    this.#checkLength(fragment, this.#carryBytes, -1)
  }

  #checkLength(head: string, bytes: number, start: number): void {
    if (bytes > this.#maxLineBytes) {
      const snippet = snippetOf(this.#parts.length > 0 ? this.#parts[0]! : head)
      this.#parts = []
      throw new LineTooLongError(this.#maxLineBytes, this.lineNumber + 1, snippet, this.offsetOf(start))
    }
  }
}

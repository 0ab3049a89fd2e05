/**
 * The exact line structure of an event stream, chunk by chunk: each chunk is scanned for line
 * breaks (HTML §9.2.5: CRLF, lone LF, lone CR), and the blank lines that will dispatch an event are
 * noted with the line where that event's block began. It also bounds line length (`maxLineBytes`,
 * in bytes) before the parser buffers anything.
 *
 * This is the slow, complete pass: {@link SseLineTracker} (sse-lines.ts) runs it only on chunks
 * with a CR or a line that may be too long, and when an error asks where an event started.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
 * @module
 */

import { snippetOf } from './errors.js'
import { utf8Length } from './text.js'

const LF = 10
const COLON = 58

/** The first line of an event's block: its byte offset is computed from here on demand. */
export interface BlockStart {
  /** 1-based line number. */
  line: number
  /** The decoded chunk the line starts in, and where. */
  text: string
  index: number
  /** Byte offset of `text` within the stream. */
  textStart: number
}

/** A line over the limit, found by {@link SseLineScanner.scan}. */
export interface LongLine {
  /** Where it starts (or continues) in the chunk: the text before it is safe to parse. */
  at: number
  /** Its 1-based line number. */
  line: number
  snippet: string
}

/** Follows the line structure of an event stream chunk by chunk, every line break of it. */
export class SseLineScanner {
  /** The first line over `maxLineBytes`; scanning stops there. */
  tooLong: LongLine | undefined = undefined
  readonly #maxLineBytes: number
  // UTF-16 units never exceed UTF-8 bytes, and bytes never exceed 3 per unit: a line this short is within the limit.
  readonly #safeUnits: number
  #partialBytes = 0
  /** Complete lines so far. */
  lines = 0
  /** How many blank lines of the chunk last scanned dispatch an event (their blocks: {@link blockOf}). */
  dispatches = 0
  // Per dispatch in the chunk: the line its block starts on, and the index there (-1: an earlier chunk).
  readonly #dispatchLines: number[] = []
  readonly #dispatchIndexes: number[] = []
  #text = ''
  #textStart = 0
  // A CR ended the last chunk: an LF starting the next one is the rest of that CRLF (§9.2.5).
  #afterCr = false
  // Length in UTF-16 units of the line still open at the end of the last chunk, and its first units.
  #partial = 0
  #partialHead = ''
  // The block being read: its first line (0: none open), where that line starts in `#text` (-1: in an
  // earlier chunk, kept in `#earlier`), and whether it has a data field, so its blank line dispatches.
  #startLine = 0
  #startIndex = 0
  #earlier: BlockStart | undefined = undefined
  #hasData = false

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes
    this.#safeUnits = Math.floor(maxLineBytes / 3)
  }

  /** Length in UTF-16 units of the line still open at the end of the last chunk (0: none is). */
  get partial(): number {
    return this.#partial
  }

  /** Whether the last chunk ended with a CR, so an LF starting the next one ends no line. */
  get afterCr(): boolean {
    return this.#afterCr
  }

  /** Where the block of the n-th (0-based) dispatch of the chunk last scanned starts. */
  blockOf(n: number): BlockStart | undefined {
    if (n < 0 || n >= this.dispatches) return undefined
    const index = this.#dispatchIndexes[n]!
    const line = this.#dispatchLines[n]!
    if (index === -1) return { ...this.#earlier!, line }
    return { line, text: this.#text, index, textStart: this.#textStart }
  }

  /**
   * Scans one chunk of decoded text from `from` on (the text before it was scanned already, or
   * is known to end at a line break outside any block); `textStart` is its byte offset in the stream.
   */
  scan(text: string, textStart: number, from = 0): void {
    if (this.#startLine !== 0 && this.#startIndex !== -1) {
      // A block stays open across the chunk boundary: keep where it started.
      this.#earlier = { line: this.#startLine, text: this.#text, index: this.#startIndex, textStart: this.#textStart }
      this.#startIndex = -1
    }
    this.#text = text
    this.#textStart = textStart
    this.dispatches = 0
    const n = text.length
    let i = from
    if (this.#afterCr) {
      this.#afterCr = false
      if (text.charCodeAt(i) === LF) i++
    }
    if (text.indexOf('\r', i) === -1) {
      let lf = text.indexOf('\n', i)
      if (lf !== -1 && this.#partial > 0) {
        if (!this.#line(text, i, lf)) return
        i = lf + 1
        lf = text.indexOf('\n', i)
      }
      // Hot path: LF only, no partial line; the state lives in locals.
      let lines = this.lines
      let startLine = this.#startLine
      let startIndex = this.#startIndex
      let hasData = this.#hasData
      while (lf !== -1) {
        lines++
        if (lf === i) {
          if (hasData) this.#dispatch(startLine, startIndex)
          startLine = 0
          hasData = false
        } else {
          if (lf - i > this.#safeUnits && this.#isTooLong(text, i, lf, 0, lines)) return
          if (startLine === 0) {
            startLine = lines
            startIndex = i
          }
          if (!hasData) hasData = isDataField(text, i, lf - i)
        }
        i = lf + 1
        lf = text.indexOf('\n', i)
      }
      this.lines = lines
      this.#startLine = startLine
      this.#startIndex = startIndex
      this.#hasData = hasData
    } else {
      let cr = text.indexOf('\r', i)
      let lf = text.indexOf('\n', i)
      while (cr !== -1 || lf !== -1) {
        const end = cr === -1 ? lf : lf === -1 ? cr : cr < lf ? cr : lf
        if (!this.#line(text, i, end)) return
        i = end + 1
        if (end === cr) {
          if (i === n) {
            this.#afterCr = true
            break
          }
          if (text.charCodeAt(i) === LF) i++
        }
        if (cr !== -1 && cr < i) cr = text.indexOf('\r', i)
        if (lf !== -1 && lf < i) lf = text.indexOf('\n', i)
      }
    }
    if (i < n) this.#extend(text, i)
  }

  /** Whether `text[i, end)`, after `before` bytes of the same line in earlier chunks, is over the limit (then noted). */
  #isTooLong(text: string, i: number, end: number, before: number, line: number): boolean {
    const bytes = before + utf8Length(text.slice(i, end))
    if (bytes <= this.#maxLineBytes) return false
    this.tooLong = { at: i, line, snippet: snippetOf(text.slice(i, i + 200)) }
    return true
  }

  #dispatch(line: number, index: number): void {
    this.#dispatchLines[this.dispatches] = line
    this.#dispatchIndexes[this.dispatches] = index
    this.dispatches++
  }

  /** Reads one complete line; `false` when it is too long (scanning stops). */
  #line(text: string, i: number, end: number): boolean {
    const partial = this.#partial
    if (partial === 0 && end === i) {
      // A blank line: it dispatches the block if the block has data (§9.2.6).
      this.lines++
      if (this.#hasData) this.#dispatch(this.#startLine, this.#startIndex)
      this.#startLine = 0
      this.#hasData = false
      return true
    }
    if ((partial > 0 || end - i > this.#safeUnits) && this.#isTooLong(text, i, end, this.#partialBytes, this.lines + 1)) {
      return false
    }
    this.lines++
    if (this.#startLine === 0) {
      this.#startLine = this.lines
      this.#startIndex = i
    }
    if (!this.#hasData) {
      this.#hasData =
        partial === 0
          ? isDataField(text, i, end - i)
          : isDataField(this.#partialHead + text.slice(i, i + 5), 0, partial + end - i)
    }
    this.#partial = 0
    this.#partialBytes = 0
    this.#partialHead = ''
    return true
  }

  #extend(text: string, i: number): void {
    if (this.#partial === 0 && this.#startLine === 0) {
      this.#startLine = this.lines + 1
      this.#startIndex = i
    }
    if (this.#partialHead.length < 5) this.#partialHead += text.slice(i, i + 5 - this.#partialHead.length)
    this.#partial += text.length - i
    this.#partialBytes += utf8Length(i === 0 ? text : text.slice(i))
    if (this.#partialBytes > this.#maxLineBytes) {
      this.tooLong = { at: i, line: this.lines + 1, snippet: snippetOf(text.slice(i, i + 200)) }
    }
  }
}

/** Whether the line of `length` units at `text[i]` is a data field: `data` alone or `data:...`. */
function isDataField(text: string, i: number, length: number): boolean {
  return (length === 4 || (length > 4 && text.charCodeAt(i + 4) === COLON)) && text.startsWith('data', i)
}

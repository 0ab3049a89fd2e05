/**
 * Text to lines for Server-Sent Events, in one pass: CRLF, lone LF and lone CR each end a line
 * (HTML §9.2.5), a CR at the end of a chunk waits for the next one to tell CRLF from CR, a partial
 * line is carried to the next chunk as fragments joined once (linear however small the chunks),
 * lines are numbered, and a line over `maxLineBytes` (counted in UTF-8 bytes) is refused before it
 * is buffered.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
 * @module
 */
import { LineTooLongError, snippetOf } from './errors.js'
import { offsetOf, utf8Length } from './text.js'

const LF = 10
const CR = 13

/** Receives each complete line as `text.slice(start, end)`, its line break excluded. */
export interface SseLineSink {
  line(text: string, start: number, end: number): void
}

/** Splits decoded text into lines, chunk by chunk, and hands each to a sink. */
export class SseLineScanner {
  /** Complete lines so far: the 1-based number of the line last handed out. */
  line = 0
  /** Set by the sink to stop scanning (the end event came, or an error). */
  stopped = false
  /** The line a {@link mark} was set on (0: none). */
  markLine = 0
  #markText = ''
  #markIndex = 0
  #markTextStart = 0
  // The chunk being scanned, and its byte offset in the stream; -1 while the sink sees a carried line.
  #text = ''
  #textStart = 0
  #carried = false
  readonly #maxLineBytes: number
  #afterCr = false
  #parts: string[] = []
  #partBytes = 0
  #carryText = ''
  #carryIndex = 0
  #carryTextStart = 0

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes
  }

  /** Scans one chunk of decoded text; `textStart` is its byte offset in the stream. */
  scan(text: string, textStart: number, sink: SseLineSink): void {
    if (text.length === 0 || this.stopped) return
    this.#text = text
    this.#textStart = textStart
    let i = 0
    // A CR ended the last chunk: an LF here is the rest of that CRLF, not a blank line (§9.2.5).
    if (this.#afterCr) {
      this.#afterCr = false
      if (text.charCodeAt(0) === LF) i = 1
    }
    let cr = text.indexOf('\r', i)
    let lf = text.indexOf('\n', i)
    while (cr !== -1 || lf !== -1) {
      const end = cr === -1 ? lf : lf === -1 || cr < lf ? cr : lf
      if (this.#parts.length > 0) {
        // The line carried from earlier chunks ends here: the sink sees it alone, its position where it began.
        const bytes = this.#partBytes + utf8Length(text.slice(i, end))
        // end() joins the fragments, lets them go, counts the line and marks it carried.
        const line = this.end()! + text.slice(i, end)
        if (bytes > this.#maxLineBytes) this.#tooLong(line, -1)
        sink.line(line, 0, line.length)
        this.#carried = false
      } else {
        this.line++
        // UTF-16 units never exceed UTF-8 bytes, and bytes never exceed 3 per unit: count exactly only in between.
        if ((end - i) * 3 > this.#maxLineBytes && utf8Length(text.slice(i, end)) > this.#maxLineBytes) {
          this.#tooLong(text.slice(i, i + 200), i)
        }
        sink.line(text, i, end)
      }
      if (this.stopped) return
      i = end + 1
      if (text.charCodeAt(end) === CR) {
        // A CR at the chunk's end: whether an LF follows is the next chunk's to say.
        if (i === text.length) return void (this.#afterCr = true)
        if (text.charCodeAt(i) === LF) i++
      }
      if (cr !== -1 && cr < i) cr = text.indexOf('\r', i)
      if (lf !== -1 && lf < i) lf = text.indexOf('\n', i)
    }
    if (i < text.length) this.#carry(text, i)
  }

  /**
   * Ends the stream: returns the unterminated last line, if any (the spec discards it; the caller
   * decides what it tells), numbered as a line.
   */
  end(): string | undefined {
    this.#afterCr = false
    if (this.#parts.length === 0) return undefined
    const line = this.#parts.join('')
    this.#parts = []
    this.#partBytes = 0
    this.line++
    this.#carried = true
    return line
  }

  /** Notes that the line being handed out (its `start` as the sink saw it) begins a block, for {@link markOffset}. */
  mark(start: number): void {
    this.markLine = this.line
    if (this.#carried) {
      this.#markText = this.#carryText
      this.#markIndex = this.#carryIndex
      this.#markTextStart = this.#carryTextStart
    } else {
      this.#markText = this.#text
      this.#markIndex = start
      this.#markTextStart = this.#textStart
    }
  }

  /** Byte offset in the stream of the marked line's first byte (error path only: it rescans the chunk). */
  markOffset(): number {
    return offsetOf(this.#markText, this.#markIndex, this.#markTextStart)
  }

  #carry(text: string, i: number): void {
    const fragment = i === 0 ? text : text.slice(i)
    if (this.#parts.length === 0) {
      this.#carryText = text
      this.#carryIndex = i
      this.#carryTextStart = this.#textStart
    }
    this.#parts.push(fragment)
    this.#partBytes += utf8Length(fragment)
    if (this.#partBytes > this.#maxLineBytes) {
      const head = this.#parts[0]!
      this.#parts = []
      this.#tooLong(head, -1, this.line + 1)
    }
  }

  /**
   * Raises LineTooLongError for line `line`, starting at `index` of the chunk scanned (-1: the carried
   * line's start). The sink catches it where it called {@link scan} and stops the scan.
   */
  #tooLong(head: string, index: number, line = this.line): never {
    const offset =
      index === -1
        ? offsetOf(this.#carryText, this.#carryIndex, this.#carryTextStart)
        : offsetOf(this.#text, index, this.#textStart)
    throw new LineTooLongError(this.#maxLineBytes, line, snippetOf(head), offset)
  }
}

/**
 * Where Server-Sent Events sit in the stream, for error reports, at the cost of a line count: the
 * exact pass ({@link SseLineScanner}) runs only when it must.
 *
 * eventsource-parser reports neither line numbers nor where an event started, so sluice counts
 * lines itself. On a chunk with only LF line breaks (HTML §9.2.5) and no line that could be over
 * `maxLineBytes`, one `indexOf` per line counts them and finds the last blank line, after which
 * no event block is open. The text from there on is kept (at most {@link MAX_PENDING_UNITS} of
 * it) so that, when an error asks where an event started, the exact pass can be run over it and
 * over the current chunk. A chunk with a CR, one right after a chunk ending with CR, and one that
 * might hold a line over the limit are scanned exactly at once.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
 * @module
 */

import { SseLineScanner, type BlockStart, type LongLine } from './sse-line-scan.js'

export type { BlockStart, LongLine } from './sse-line-scan.js'

/**
 * How much text (UTF-16 units) after the last blank line is kept for a later exact pass; past
 * this, the pass runs at once and the text is dropped, so a block that never ends holds no more than this.
 */
export const MAX_PENDING_UNITS = 64 * 1024

// How many chunks' entries the pending list may keep after it is cleared.
const MAX_KEPT_ENTRIES = 64

/** Follows the line structure of an event stream chunk by chunk, counting on the fast path. */
export class SseLineTracker {
  /** The first line over `maxLineBytes`; scanning stops there. */
  tooLong: LongLine | undefined = undefined
  /** Complete lines so far. */
  lines = 0
  readonly #maxLineBytes: number
  // UTF-16 units never exceed UTF-8 bytes, and bytes never exceed 3 per unit: a line this short is within the limit.
  readonly #safeUnits: number
  // Length in UTF-16 units of the line still open at the end of the last chunk.
  #partial = 0
  #afterCr = false
  // The exact state where the pending text starts: a scanner, or (undefined) no block open after `#baseLines` lines.
  #base: SseLineScanner | undefined = undefined
  #baseLines = 0
  // The text since then, not yet run through the exact pass: `#headText` from `#headFrom` on, then
  // whole chunks (kept apart so that the usual case, one chunk with a blank line, allocates nothing).
  #headText = ''
  #headFrom = 0
  #headStart = 0
  // `#moreTexts` and `#moreStarts` hold `#more` entries: clearing them resets the count, and their
  // storage stays (no reallocation per event when chunks are small).
  readonly #moreTexts: string[] = []
  readonly #moreStarts: number[] = []
  #more = 0
  #pendingUnits = 0
  // The chunk last scanned, and after which of its characters no block is open (-1: none such).
  #text = ''
  #textStart = 0
  #syncAt = -1
  #syncLines = 0
  // The exact pass over the chunk last scanned, once run: its dispatches are known.
  #exact: SseLineScanner | undefined = undefined

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes
    this.#safeUnits = Math.floor(maxLineBytes / 3)
  }

  /** The last line received (the open one included): where a stream that ends now was cut. */
  get lastLine(): number {
    return this.lines + (this.#partial > 0 ? 1 : 0)
  }

  /** Where the block of the n-th (0-based) dispatch of the chunk last scanned starts (runs the exact pass). */
  blockOf(n: number): BlockStart | undefined {
    if (this.#exact === undefined) {
      const scanner = this.#catchUp()
      scanner.scan(this.#text, this.#textStart)
      this.#exact = scanner
    }
    return this.#exact.blockOf(n)
  }

  /** Scans one chunk of decoded text; `textStart` is its byte offset within the stream. */
  scan(text: string, textStart: number): void {
    this.#commit()
    this.#text = text
    this.#textStart = textStart
    if (this.#afterCr || this.#partial + text.length > this.#safeUnits || text.indexOf('\r') !== -1) {
      this.#scanExactly()
      return
    }
    // LF only, every line within the limit: count lines, and note the last blank one.
    let lines = this.lines
    let sync = -1
    let syncLines = 0
    // The previous line break: just before the chunk when no line is open (-2: one is).
    let previous = this.#partial === 0 ? -1 : -2
    let lf = text.indexOf('\n')
    while (lf !== -1) {
      lines++
      if (lf === previous + 1) {
        sync = lf + 1
        syncLines = lines
      }
      previous = lf
      lf = text.indexOf('\n', lf + 1)
    }
    this.lines = lines
    this.#partial = previous < -1 ? this.#partial + text.length : text.length - previous - 1
    this.#syncAt = sync
    this.#syncLines = syncLines
  }

  /** Files the chunk last scanned as text still to run through the exact pass (or as past it). */
  #commit(): void {
    const exact = this.#exact
    if (exact !== undefined) {
      this.#exact = undefined
      this.#base = exact
      this.#clearPending()
      return
    }
    const text = this.#text
    if (text === '') return
    let from = 0
    if (this.#syncAt !== -1) {
      this.#base = undefined
      this.#baseLines = this.#syncLines
      this.#clearPending()
      from = this.#syncAt
      if (from === text.length) return
    }
    if (this.#headText === '') {
      this.#headText = text
      this.#headFrom = from
      this.#headStart = this.#textStart
    } else {
      this.#moreTexts[this.#more] = text
      this.#moreStarts[this.#more] = this.#textStart
      this.#more++
    }
    this.#pendingUnits += text.length - from
    if (this.#pendingUnits > MAX_PENDING_UNITS) this.#catchUp()
  }

  #clearPending(): void {
    this.#headText = ''
    this.#pendingUnits = 0
    this.#more = 0
    // Entries past the count still hold chunks: few small ones at most, else drop them.
    if (this.#moreTexts.length > MAX_KEPT_ENTRIES) {
      this.#moreTexts.length = 0
      this.#moreStarts.length = 0
    }
  }

  /** Runs the exact pass over the pending text: the scanner returned stands where the chunk last scanned starts. */
  #catchUp(): SseLineScanner {
    let scanner = this.#base
    if (scanner === undefined) {
      scanner = new SseLineScanner(this.#maxLineBytes)
      scanner.lines = this.#baseLines
    }
    if (this.#headText !== '') scanner.scan(this.#headText, this.#headStart, this.#headFrom)
    for (let k = 0; k < this.#more; k++) scanner.scan(this.#moreTexts[k]!, this.#moreStarts[k]!)
    this.#clearPending()
    this.#base = scanner
    return scanner
  }

  #scanExactly(): void {
    const scanner = this.#catchUp()
    scanner.scan(this.#text, this.#textStart)
    this.#exact = scanner
    this.tooLong = scanner.tooLong
    this.lines = scanner.lines
    this.#partial = scanner.partial
    this.#afterCr = scanner.afterCr
  }
}

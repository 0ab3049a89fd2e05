/**
 * Bytes to text across chunk boundaries: UTF-8 characters split between chunks, a leading BOM, and
 * the byte offset of each decoded chunk, kept cheaply so errors can say where they are.
 *
 * @module
 */
import { EncodingError } from './errors.js'

/** How a decoder treats bytes that are not UTF-8. */
export interface TextOptions {
  /** Raise {@link EncodingError} on invalid UTF-8 instead of decoding it as U+FFFD. Default `false`. */
  fatal?: boolean
}

/** Decodes a stream of chunks (bytes or strings) to text, one chunk at a time. */
export class ChunkDecoder {
  /** Byte offset, within the stream, of the first character of the text last returned. */
  textStart = 0
  #bytesSeen = 0
  #held = 0
  #heldLength = 0
  #atStart = true
  readonly #decoder: TextDecoder

  constructor(options: TextOptions = {}) {
    // ignoreBOM keeps the BOM in the output so its three bytes are counted before it is dropped.
    this.#decoder = new TextDecoder('utf-8', { fatal: options.fatal === true, ignoreBOM: true })
  }

  /** Decodes one chunk; characters split at its end are completed by the next call. */
  decode(chunk: Uint8Array | string): string {
    let text: string
    // The text starts with the bytes held back from the last chunk, if any.
    this.textStart = this.#bytesSeen - this.#held
    if (typeof chunk === 'string') {
      text = chunk
      // Bytes held back for a character the string cannot finish: they are invalid now (U+FFFD, or
      // an error with fatal), and come before the string, not after it with the next byte chunk.
      if (this.#held > 0) {
        text = this.end() + text
        this.#held = 0
      }
      this.#bytesSeen += utf8Length(chunk)
    } else {
      try {
        text = this.#decoder.decode(chunk, { stream: true })
      } catch (error) {
        throw new EncodingError(this.#bytesSeen, error)
      }
      this.#bytesSeen += chunk.length
      this.#hold(chunk)
    }
    if (this.#atStart && text.length > 0) {
      this.#atStart = false
      // HTML §9.2.5 and RFC 8259 §8.1 both let a reader drop one leading U+FEFF.
      if (text.charCodeAt(0) === 0xfeff) {
        text = text.slice(1)
        this.textStart += 3
      }
    }
    return text
  }

  /**
   * Counts the bytes at the end of the stream that start a UTF-8 character not finished yet: the
   * decoder holds them back, and the next text starts with them. A chunk shorter than a character
   * may only continue one held from earlier chunks (a BOM fed a byte at a time).
   */
  #hold(bytes: Uint8Array): void {
    const n = bytes.length
    for (let back = 1; back <= 3 && back <= n; back++) {
      const byte = bytes[n - back]!
      if ((byte & 0xc0) === 0x80) continue
      const length = byte < 0xc0 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2
      this.#heldLength = length
      this.#held = length > back ? back : 0
      return
    }
    // Only continuation bytes (and fewer than 3): they extend the held character, if there is one.
    const held = this.#held + n
    this.#held = n < 3 && this.#held > 0 && held < this.#heldLength ? held : 0
  }

  /** Ends the stream: returns what a truncated last character decodes to (U+FFFD), if anything. */
  end(): string {
    try {
      return this.#decoder.decode()
    } catch (error) {
      throw new EncodingError(this.#bytesSeen - this.#held, error)
    }
  }
}

/** Byte offset of `text[index]`, `text` starting at byte `textStart`, for error reports (O(index): not for the hot path). */
export function offsetOf(text: string, index: number, textStart: number): number {
  return textStart + utf8Length(text.slice(0, index))
}

/**
 * The UTF-8 byte length of a string, without encoding it. Each half of a surrogate pair counts 2
 * bytes, so a pair split between two string chunks still adds up to its 4 bytes.
 */
export function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) continue
    bytes += code < 0x800 || (code >= 0xd800 && code <= 0xdfff) ? 1 : 2
  }
  return bytes
}

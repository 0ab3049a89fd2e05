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
  #atStart = true
  readonly #decoder: TextDecoder
  readonly #fatal: boolean

  constructor(options: TextOptions = {}) {
    this.#fatal = options.fatal === true
    // ignoreBOM keeps the BOM in the output so its three bytes are counted before it is dropped.
    this.#decoder = new TextDecoder('utf-8', { fatal: this.#fatal, ignoreBOM: true })
  }

  /** Decodes one chunk; characters split at its end are completed by the next call. */
  decode(chunk: Uint8Array | string): string {
    let text: string
    let bytes: number
    if (typeof chunk === 'string') {
      text = chunk
      bytes = utf8Length(chunk)
      this.textStart = this.#bytesSeen
    } else {
      try {
        text = this.#decoder.decode(chunk, { stream: true })
      } catch (error) {
        throw new EncodingError(this.#bytesSeen, error)
      }
      const held = heldBytes(chunk)
      this.textStart = this.#bytesSeen - this.#held
      bytes = chunk.length
      this.#held = held
    }
    this.#bytesSeen += bytes
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

  /** Ends the stream: returns what a truncated last character decodes to (U+FFFD), if anything. */
  end(): string {
    try {
      return this.#decoder.decode()
    } catch (error) {
      throw new EncodingError(this.#bytesSeen - this.#held, error)
    }
  }

  /** Byte offset of `text[index]`, for error reports (O(index): not for the hot path). */
  offsetIn(text: string, index: number, textStart = this.textStart): number {
    return textStart + utf8Length(text.slice(0, index))
  }
}

/** How many bytes at the end of `bytes` start a UTF-8 character that the chunk does not finish. */
function heldBytes(bytes: Uint8Array): number {
  const n = bytes.length
  for (let back = 1; back <= 3 && back <= n; back++) {
    const byte = bytes[n - back]!
    if ((byte & 0xc0) === 0x80) continue
    if (byte < 0xc0) return 0
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2
    return length > back ? back : 0
  }
  return 0
}

/** The UTF-8 byte length of a string, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) continue
    if (code < 0x800) bytes += 1
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 2 // a surrogate pair: 2 units, 4 bytes
      i++
    }
    else bytes += 2
  }
  return bytes
}

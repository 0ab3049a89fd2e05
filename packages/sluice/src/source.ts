/**
 * Whatever a caller has (a `Response`, a `ReadableStream`, a Node `Readable`, a Deno file, a
 * generator) as one pull-based reader of chunks. Sources are recognised by their shape, never by
 * `instanceof`: a `Response` or a stream from another realm (an iframe, `node:vm`) or another
 * implementation (a polyfill, a fetch from npm, a framework that replaced `globalThis.Response`) is
 * as good as the global one.
 *
 * The readers of streams and iterables are the same for any item: `sluice-server` reads its record
 * sources with {@link itemReaderOf} through the `sluice/source` entry point.
 *
 * @module
 */

/** Anything a decoder reads from. */
export type ByteSource =
  | ReadableStream<Uint8Array>
  | Response
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>

/** A chunk as a decoder accepts it. */
export type Chunk = Uint8Array | string

/** Pulls one item at a time; `cancel` releases the source (aborts a fetch, closes a cursor, returns a generator). */
export interface ItemReader<T> {
  read(): Promise<RawRead<T>>
  cancel(reason?: unknown): Promise<void>
}

/** An {@link ItemReader} of chunks, unchecked (one promise less per chunk): its user runs {@link checkChunk}. */
export type ChunkReader = ItemReader<unknown>

/** Turns any supported source into a {@link ChunkReader}. */
export function readerOf(source: ByteSource): ChunkReader {
  if (isResponse(source)) {
    if (source.bodyUsed) throw new TypeError('Cannot read response: its body was already used')
    if (source.body === null) return emptyReader()
    return streamReader(source.body)
  }
  const reader = itemReaderOf(source)
  if (reader !== undefined) return reader
  throw new TypeError(
    `Cannot read source: expected a ReadableStream, a Response or an AsyncIterable of bytes, got ${kindOf(source)}`,
  )
}

/**
 * A `ReadableStream`, an `AsyncIterable` or an `Iterable` (a string is none) as an {@link ItemReader},
 * recognised by shape; `undefined` for anything else. A stream is read through its reader, whose
 * `cancel` reaches the stream's own cancel algorithm (some runtimes make streams async-iterable too).
 */
export function itemReaderOf<T>(source: unknown): ItemReader<T> | undefined {
  if (isReadableStream<T>(source)) return streamReader(source)
  if (source !== null && typeof source === 'object') {
    const asyncIterator = (source as AsyncIterable<T>)[Symbol.asyncIterator]
    if (typeof asyncIterator === 'function') return iteratorReader(asyncIterator.call(source))
    const iterator = (source as Iterable<T>)[Symbol.iterator]
    if (typeof iterator === 'function') return syncIteratorReader(iterator.call(source))
  }
  return undefined
}

function streamReader<T>(stream: ReadableStream<T>): ItemReader<T> {
  if (stream.locked) throw new TypeError('Cannot read stream: it is locked to another reader')
  const reader = stream.getReader()
  return {
    read: () => reader.read(),
    // A minimal reader (a polyfill's, a hand-made one) may lack cancel, or return no promise.
    cancel: async (reason) => {
      try {
        await reader.cancel?.(reason)
      } catch {
        // Cancelling a source that already failed: nothing more to read from it anyway.
      }
    },
  }
}

function iteratorReader<T>(iterator: AsyncIterator<T>): ItemReader<T> {
  return {
    read: () => iterator.next(),
    cancel: async (reason) => {
      try {
        await iterator.return?.(reason)
      } catch {
        // The source failed while closing: nothing more to read from it anyway.
      }
    },
  }
}

function syncIteratorReader<T>(iterator: Iterator<T>): ItemReader<T> {
  return {
    // Async: a next() that throws is a rejection, like an async iterator's.
    read: async () => iterator.next(),
    cancel: async (reason) => {
      try {
        iterator.return?.(reason)
      } catch {
        // The source failed while closing, as the other readers allow: nothing more to read from it.
      }
    },
  }
}

/** A reader of nothing (a `Response` with no body). */
export function emptyReader<T>(): ItemReader<T> {
  return syncIteratorReader([].values())
}

/** One read as sources return it: an iterator result, or a stream read (whose `value` is optional when done). */
export interface RawRead<T = unknown> {
  done?: boolean | undefined
  value?: T
}

/**
 * Checks a chunk read from a source: bytes or text; other buffers become bytes; anything else is a
 * TypeError. `undefined` when the source is done (no result object per chunk on the hot path).
 */
export function checkChunk(result: RawRead): Chunk | undefined {
  return result.done ? undefined : chunkOf(result.value)
}

/** A value written or read as a chunk: bytes or text; other buffers become bytes; anything else is a TypeError. */
export function chunkOf(value: unknown): Chunk {
  if (value instanceof Uint8Array || typeof value === 'string') return value
  // Views and buffers by brand, not instanceof: a Uint8Array from another realm is one too.
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  if (Object.prototype.toString.call(value) === '[object ArrayBuffer]') return new Uint8Array(value as ArrayBuffer)
  throw new TypeError(`Cannot decode chunk: expected Uint8Array or string, got ${kindOf(value)}`)
}

/**
 * Whether `value` has the shape of a fetch `Response`: a `body` that is a stream or `null`. Any
 * realm, any implementation; `bodyUsed` is honoured where it exists.
 */
export function isResponse(value: unknown): value is Response {
  if (typeof value !== 'object' || value === null || isReadableStream(value) || !('body' in value)) return false
  const body = (value as { body: unknown }).body
  return body === null || isReadableStream(body)
}

/** Whether `value` has the shape of a `ReadableStream`: a `getReader` method. */
function isReadableStream<T>(value: unknown): value is ReadableStream<T> {
  return typeof value === 'object' && value !== null && typeof (value as ReadableStream).getReader === 'function'
}

/** What `value` is, for an error message: `null`, its `typeof`, or its constructor's name. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  return value.constructor?.name ?? 'object'
}

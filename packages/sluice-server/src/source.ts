/**
 * Any record source (an async generator, an array, a `ReadableStream`) as one pull-based reader,
 * read one item at a time, with a `cancel` that releases it.
 *
 * @module
 */

/** What `ndjsonResponse` and `sseResponse` read records from. */
export type RecordSource<T> = AsyncIterable<T> | Iterable<T> | ReadableStream<T>

/** Pulls one item at a time; `cancel` releases the source (a generator's `return()`, a stream's `cancel`). */
export interface SourceReader<T> {
  read(): Promise<IteratorResult<T, unknown>>
  cancel(reason?: unknown): Promise<void>
}

/** Turns a {@link RecordSource} into a {@link SourceReader}; throws a `TypeError` for anything else. */
export function readerOf<T>(source: RecordSource<T>): SourceReader<T> {
  // A ReadableStream is also async-iterable in some runtimes: prefer its reader, whose cancel()
  // reaches the stream's own cancel algorithm.
  if (isReadableStream<T>(source)) return streamReader(source)
  if (source !== null && typeof source === 'object') {
    const asyncIterator = (source as AsyncIterable<T>)[Symbol.asyncIterator]
    if (typeof asyncIterator === 'function') return iteratorReader(asyncIterator.call(source))
    const iterator = (source as Iterable<T>)[Symbol.iterator]
    if (typeof iterator === 'function') return iteratorReader(iterator.call(source))
  }
  throw new TypeError(
    `Cannot read records: expected an AsyncIterable, an Iterable or a ReadableStream, got ${describe(source)}`,
  )
}

function streamReader<T>(stream: ReadableStream<T>): SourceReader<T> {
  if (stream.locked) throw new TypeError('Cannot read records: the stream is locked to another reader')
  const reader = stream.getReader()
  return {
    read: () => reader.read() as Promise<IteratorResult<T, unknown>>,
    cancel: (reason) => reader.cancel(reason).catch(() => undefined),
  }
}

function iteratorReader<T>(iterator: Iterator<T> | AsyncIterator<T>): SourceReader<T> {
  return {
    // A sync iterator's next() may throw: turn that into a rejection like an async one's.
    read: () => Promise.resolve().then(() => iterator.next()),
    cancel: async (reason) => {
      try {
        await iterator.return?.(reason)
      } catch {
        // The source failed while closing: there is nothing left to release.
      }
    },
  }
}

function isReadableStream<T>(value: unknown): value is ReadableStream<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ReadableStream).getReader === 'function' &&
    typeof (value as ReadableStream).cancel === 'function'
  )
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  return value.constructor?.name ?? 'object'
}

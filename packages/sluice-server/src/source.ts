/**
 * Any record source (an async generator, an array, a `ReadableStream`) as one pull-based reader,
 * read one item at a time, with a `cancel` that releases it: the client's readers (`sluice/source`),
 * which recognise each kind by shape.
 *
 * @module
 */
import { itemReaderOf, kindOf } from 'sluice/source'

/** What `ndjsonResponse` and `sseResponse` read records from. */
export type RecordSource<T> = AsyncIterable<T> | Iterable<T> | ReadableStream<T>

/** Pulls one item at a time; `cancel` releases the source (a generator's `return()`, a stream's `cancel`). */
interface SourceReader<T> {
  read(): Promise<IteratorResult<T, unknown>>
  cancel(reason?: unknown): Promise<void>
}

/** Turns a {@link RecordSource} into a {@link SourceReader}; throws a `TypeError` for anything else. */
export function readerOf<T>(source: RecordSource<T>): SourceReader<T> {
  const reader = itemReaderOf<T>(source)
  if (reader === undefined) {
    throw new TypeError(
      `Cannot read records: expected an AsyncIterable, an Iterable or a ReadableStream, got ${kindOf(source)}`,
    )
  }
  // A stream's read and an iterator's result: `{ done, value }` either way (a stream's value is absent when done).
  return reader as SourceReader<T>
}

/**
 * The handle a resilient stream returns: an async iterable of records with its connection state,
 * counters and `close()`.
 *
 * @module
 */

/** Where a resilient stream is in its life. */
export type StreamState = 'connecting' | 'open' | 'retrying' | 'closed'

/** What a resilient stream has done so far. */
export interface StreamCounters {
  /** Body bytes received, over every connection. */
  bytes: number
  /** Records (or events) delivered to the consumer. */
  records: number
  /** Connections made after the first. */
  reconnects: number
  /** Invalid records skipped under `onInvalid: 'skip'` or a callback. */
  skipped: number
}

/** An async iterable of records that survives the network: consume it once with `for await`. */
export interface RecordStream<T> extends AsyncIterable<T> {
  /** `connecting`, `open`, `retrying` (waiting to reconnect) or `closed`. */
  readonly state: StreamState
  /** A snapshot of the counters. */
  readonly counters: StreamCounters
  /** The resume position: the id of the last record delivered (sent as `Last-Event-ID` on reconnect). */
  readonly lastEventId: string | undefined
  /**
   * Whether this connection has caught up: the server's caught-up marker came, so the records before it
   * were history and those from now on are live. `false` again from each reconnect until the marker
   * comes again, and always `false` from a server that sends no marker.
   */
  readonly live: boolean
  /** When `state` is `retrying`: the time (ms since epoch) of the next attempt. */
  readonly retryAt: number | undefined
  /** Stops everything at once (connection, timers); a pending `next()` resolves as done. */
  close(): void
  /**
   * The same stream with each record passed through `fn`: its `state`, `counters`, `live`,
   * `lastEventId`, `retryAt` and `close()` are this stream's. `fn` throwing ends the stream with that error.
   *
   * @example
   * ```ts
   * import { ndjson } from 'sluice'
   *
   * const prices = ndjson<{ sym: string; px: number }>('/api/ticks').map((t) => t.px)
   * for await (const px of prices) console.log(px, prices.counters.records)
   * ```
   */
  map<U>(fn: (record: T) => U): RecordStream<U>
}

/** `source` with each record passed through `fn`, sharing its state, counters and `close()`. */
export function mapStream<T, U>(source: RecordStream<T>, fn: (record: T) => U): RecordStream<U> {
  if (typeof fn !== 'function') throw new TypeError('Cannot map stream: expected a function')
  const stream: RecordStream<U> = {
    get state() {
      return source.state
    },
    get counters() {
      return source.counters
    },
    get live() {
      return source.live
    },
    get lastEventId() {
      return source.lastEventId
    },
    get retryAt() {
      return source.retryAt
    },
    close: () => source.close(),
    map: (next) => mapStream(stream, next),
    async *[Symbol.asyncIterator]() {
      for await (const record of source) yield fn(record)
    },
  }
  return stream
}

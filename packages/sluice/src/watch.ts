/**
 * The idle and stall timers around a response body's reads.
 *
 * @module
 */
import { NetworkError, type SluiceError, TimeoutError } from './errors.js'
import type { ChunkReader } from './source.js'

/** The liveness options of `ndjson()` and `sse()`. */
export interface WatchOptions {
  /** No bytes at all (heartbeats included) for this long: the connection is dead, reconnect. Default off. */
  idleTimeoutMs?: number | undefined
  /** No record for this long although bytes arrive: the producer is stuck, reconnect. Default off. */
  stallTimeoutMs?: number | undefined
}

/**
 * Wraps a body reader: counts bytes into `counters`, hands each chunk to `sniff` (which may refuse the body), and while a read is pending runs the idle
 * timer (no bytes) and the stall timer (no record although heartbeats arrive), aborting `attempt`
 * with a `TimeoutError` when one fires. Timers only run while the stream waits for the network,
 * never while the consumer is busy, so a slow consumer is not a dead server.
 *
 * `received` counts the records decoded so far, invalid ones included: the stall clock restarts
 * at the first read after it moved (the producer is not stuck).
 */
export function watch(
  reader: ChunkReader,
  attempt: AbortController,
  counters: { bytes: number },
  { idleTimeoutMs, stallTimeoutMs }: WatchOptions,
  received: () => number,
  sniff: (chunk: Uint8Array) => SluiceError | undefined = () => undefined,
): ChunkReader {
  /** Ends the attempt and its body with `error`, and returns it (to throw). */
  const abort = (error: SluiceError): SluiceError => {
    attempt.abort(error)
    void reader.cancel(error)
    return error
  }
  let waitingSince = 0
  let seen = -1
  return {
    read: async () => {
      let timer: ReturnType<typeof setTimeout> | undefined
      if (idleTimeoutMs !== undefined || stallTimeoutMs !== undefined) {
        const now = Date.now()
        if (received() !== seen) {
          seen = received()
          waitingSince = now
        }
        const stallLeft = stallTimeoutMs === undefined ? Infinity : waitingSince + stallTimeoutMs - now
        const idle = idleTimeoutMs ?? Infinity
        if (stallLeft <= 0) throw abort(new TimeoutError('stall', stallTimeoutMs!))
        const stalls = stallLeft < idle
        timer = setTimeout(
          () => abort(stalls ? new TimeoutError('stall', stallTimeoutMs!) : new TimeoutError('idle', idle)),
          Math.min(stallLeft, idle),
        )
      }
      try {
        const result = await reader.read()
        // A body not tied to the attempt's signal (a custom fetch's) ends a read when cancelled: a timeout, not the end.
        if (attempt.signal.aborted) throw attempt.signal.reason
        // A fetch body yields Uint8Arrays; anything else is left for the decoder's chunk check to refuse.
        if (!result.done && ArrayBuffer.isView(result.value)) {
          counters.bytes += result.value.byteLength
          // A page or a document under the stream's type (see sniff.ts): final, so the attempt ends here.
          const foreign = sniff(result.value as Uint8Array)
          if (foreign !== undefined) throw abort(foreign)
        }
        return result
      } catch (error) {
        throw attempt.signal.aborted ? attempt.signal.reason : new NetworkError(error)
      } finally {
        clearTimeout(timer)
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }
}

/**
 * The pull-based response body behind `ndjsonResponse` and `sseResponse`: reads the source one
 * item at a time, only when the consumer asks for more, with heartbeats while idle, the end marker,
 * and release of the source however the stream ends.
 *
 * @see https://streams.spec.whatwg.org/#rs-model (pull sources and backpressure)
 * @module
 */
import { type CaughtUp, caughtUp } from './caught-up.js'
import type { Encoded, WireFormat } from './format.js'
import { heartbeatMsOf, type StreamOptions, type StreamSummary } from './options.js'
import { type RecordSource, readerOf } from './source.js'

/**
 * A byte stream of `source` encoded by `format`.
 *
 * The stream's queue holds at most one encoded item (plus a heartbeat): the source is read only
 * when the consumer (the socket, through the runtime's backpressure) has room, so a slow client
 * never makes the server buffer without bound. `cancel` (the client went away) releases the source.
 */
export function recordBody<T>(
  source: RecordSource<T | CaughtUp>,
  format: WireFormat<T>,
  options: StreamOptions,
): ReadableStream<Uint8Array> {
  const heartbeatMs = heartbeatMsOf(options)
  const withEnd = options.end ?? true
  const { signal } = options
  const reader = readerOf(source)
  const bytes = new TextEncoder()
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let count = 0
  let lastId: string | undefined
  let live = false
  let finished = false
  let lastSendAt = Date.now()
  let timer: ReturnType<typeof setTimeout> | undefined

  const send = (text: string): void => {
    controller.enqueue(bytes.encode(text))
    lastSendAt = Date.now()
  }

  const finish = (summary: Omit<StreamSummary, 'count' | 'lastId'>): boolean => {
    if (finished) return false
    finished = true
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    signal?.removeEventListener('abort', onAbort)
    const report: StreamSummary = { ...summary, count }
    if (lastId !== undefined) report.lastId = lastId
    options.onClose?.(report)
    return true
  }

  // Re-armed lazily: records only move `lastSendAt`, so a busy stream costs no timer churn.
  const arm = (delayMs: number): void => {
    timer = setTimeout(beat, delayMs)
    ;(timer as { unref?: () => void }).unref?.()
  }
  const beat = (): void => {
    timer = undefined
    if (finished) return
    const idleMs = Date.now() - lastSendAt
    if (idleMs < heartbeatMs) return arm(heartbeatMs - idleMs)
    // Bytes still queued mean the client is slow, not that the connection is idle.
    if ((controller.desiredSize ?? 0) > 0) send(format.heartbeat)
    else lastSendAt = Date.now()
    arm(heartbeatMs)
  }

  function onAbort(): void {
    const reason: unknown = signal?.reason
    if (!finish({ reason: 'abort', error: reason })) return
    controller.error(reason)
    void reader.cancel(reason)
  }

  const fail = async (error: unknown, release: boolean): Promise<void> => {
    if (!finish({ reason: 'error', error })) return
    controller.error(error)
    if (release) await reader.cancel(error)
  }

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        if (signal?.aborted) return onAbort()
        signal?.addEventListener('abort', onAbort, { once: true })
        if (format.preamble !== '') send(format.preamble)
        if (heartbeatMs > 0) arm(heartbeatMs)
      },
      async pull() {
        let result: IteratorResult<T | CaughtUp, unknown>
        // A second caughtUp is dropped and the next item read: a pull that enqueues nothing is not called again.
        do {
          try {
            result = await reader.read()
          } catch (error) {
            // The source failed and is done: error the body, so the client sees a cut stream.
            return fail(error, false)
          }
          if (finished) return // cancelled or aborted while the source was producing
        } while (live && result.value === caughtUp)
        if (result.done) {
          if (withEnd) send(format.end(count))
          finish({ reason: 'end' })
          controller.close()
          return
        }
        if (result.value === caughtUp) {
          // Once per response, and not a record: no count, no id.
          send(format.live)
          live = true
          return
        }
        let encoded: Encoded
        try {
          encoded = format.encode(result.value)
        } catch (error) {
          return fail(error, true)
        }
        send(encoded.text)
        if (encoded.marker) return
        count++
        if (encoded.id !== undefined) lastId = encoded.id
      },
      cancel(reason) {
        finish({ reason: 'cancel' })
        // Not awaited: a generator suspended in an `await` only runs its `return()` once that
        // await settles, and the consumer that cancels must not hang on it.
        void reader.cancel(reason)
      },
    },
    // One item in the queue: the source runs at most one item ahead of the consumer.
    { highWaterMark: 1 },
  )
}

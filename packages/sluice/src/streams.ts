/**
 * What the decoder streams share: a `TransformStream` transformer around a push parser
 * (`NdjsonDecoderStream` in ndjson-stream.ts, `SseDecoderStream` in sse-stream.ts, a file each so a
 * bundle keeps only the one it imports: a class that extends a global is not dropped within its file).
 *
 * @module
 */

import type { PushParser } from './iterate.js'
import { type Chunk, chunkOf } from './source.js'
import { Pending, SKIPPED } from './validate.js'

/** `cancel` is in the Streams spec (the readable side cancelled) but not yet in TypeScript's DOM types. */
type CancellableTransformer<I, O> = Transformer<I, O> & { cancel?: (reason: unknown) => void }

/**
 * A transformer around `parser`. Aborting `signal` errors both sides with its reason, so a pipe into
 * the stream cancels its source, as it does for the iterator decoders.
 */
export function transformerOf<T>(
  parser: PushParser,
  signal: AbortSignal | undefined,
): CancellableTransformer<Chunk, T> {
  let out: unknown[] = []
  let onAbort: (() => void) | undefined
  const release = () => {
    if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort)
    onAbort = undefined
  }
  // Records go out synchronously (no promise per chunk: most small chunks complete nothing); a
  // pending slot (an error to raise, an async validation) is awaited before what follows it.
  const deliver = (
    controller: TransformStreamDefaultController<T>,
    items = out,
    from = 0,
  ): Promise<void> | undefined => {
    if (items === out && items.length > 0) out = []
    for (let i = from; i < items.length; i++) {
      const item = items[i]
      if (item instanceof Pending) {
        return item.settle().then((value) => {
          if (value !== SKIPPED) controller.enqueue(value as T)
          return deliver(controller, items, i + 1)
        })
      }
      controller.enqueue(item as T)
    }
    // The end marker came: close the readable side and cancel whatever pipes in.
    if (parser.done) {
      release()
      controller.terminate()
    }
  }
  return {
    start(controller) {
      if (signal === undefined) return
      if (signal.aborted) return controller.error(signal.reason)
      onAbort = () => {
        release()
        controller.error(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
    },
    transform(chunk, controller) {
      if (parser.done) return
      parser.push(chunkOf(chunk), out)
      return deliver(controller)
    },
    flush(controller) {
      release()
      if (parser.done) return
      parser.end(out)
      return deliver(controller)
    },
    // The readable side cancelled (where the runtime reports it to the transformer).
    cancel: release,
  }
}

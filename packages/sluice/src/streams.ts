/**
 * The decoders as `TransformStream`s (bytes in, records out), for `pipeThrough`.
 *
 * @module
 */

import type { Infer } from './decode.js'
import type { EventSchemas, TypedEventOptions, TypedSseEvent } from './events.js'
import type { PushParser } from './iterate.js'
import { type NdjsonOptions, NdjsonParser } from './ndjson.js'
import { type Chunk, chunkOf } from './source.js'
import { type SseEvent, type SseOptions, SseParser } from './sse.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import { Pending, SKIPPED } from './validate.js'

/** The constructor of {@link NdjsonDecoderStream}: the record type comes from `schema` when there is one. */
interface NdjsonDecoderStreamConstructor {
  new <S extends StandardSchemaV1>(options: NdjsonOptions<S> & { schema: S }): NdjsonDecoderStream<Infer<S>>
  new <T = unknown>(options?: NdjsonOptions<StandardSchemaV1 | undefined>): NdjsonDecoderStream<T>
  readonly prototype: NdjsonDecoderStream<unknown>
}

/** The constructor of {@link SseDecoderStream}: the data type comes from `schema` when there is one. */
interface SseDecoderStreamConstructor {
  new <E extends EventSchemas>(
    options: SseOptions & TypedEventOptions<E> & { events: E; schema?: undefined },
  ): TransformStream<Chunk, TypedSseEvent<E>>
  new <S extends StandardSchemaV1>(options: SseOptions<S> & { schema: S }): SseDecoderStream<Infer<S>>
  new <T = unknown>(options: SseOptions<StandardSchemaV1 | undefined> & { json: true }): SseDecoderStream<T>
  new <T = string>(options?: SseOptions<StandardSchemaV1 | undefined>): SseDecoderStream<T>
  readonly prototype: SseDecoderStream<unknown>
}

class NdjsonTransform<T> extends TransformStream<Chunk, T> {
  constructor(options: NdjsonOptions<StandardSchemaV1 | undefined> = {}) {
    super(transformerOf(new NdjsonParser(options), options.signal))
  }
}

class SseTransform<T> extends TransformStream<Chunk, SseEvent<T>> {
  constructor(options: SseOptions<StandardSchemaV1 | undefined> = {}) {
    super(transformerOf(new SseParser(options), options.signal))
  }
}

/**
 * Decodes NDJSON bytes into records: a `TransformStream` for `pipeThrough`. It ends (and cancels
 * what pipes into it) on the end trailer; records are typed by `schema` when one is given.
 *
 * @example
 * ```ts
 * import { NdjsonDecoderStream } from 'sluice'
 *
 * const response = await fetch('/api/metrics')
 * const records = response.body!.pipeThrough(new NdjsonDecoderStream<{ seq: number }>())
 * ```
 */
export type NdjsonDecoderStream<T = unknown> = NdjsonTransform<T>
export const NdjsonDecoderStream = NdjsonTransform as NdjsonDecoderStreamConstructor

/**
 * Decodes Server-Sent Events bytes into {@link SseEvent}s: a `TransformStream` for `pipeThrough`.
 * It ends on the end event; `data` is typed by `schema` when one is given.
 *
 * @example
 * ```ts
 * import { SseDecoderStream } from 'sluice'
 *
 * const response = await fetch('/api/events')
 * const events = response.body!.pipeThrough(new SseDecoderStream())
 * ```
 */
export type SseDecoderStream<T = string> = SseTransform<T>
export const SseDecoderStream = SseTransform as SseDecoderStreamConstructor

/** `cancel` is in the Streams spec (the readable side cancelled) but not yet in TypeScript's DOM types. */
type CancellableTransformer<I, O> = Transformer<I, O> & { cancel?: (reason: unknown) => void }

/**
 * A transformer around `parser`. Aborting `signal` errors both sides with its reason, so a pipe into
 * the stream cancels its source, as it does for the iterator decoders.
 */
function transformerOf<T>(parser: PushParser, signal: AbortSignal | undefined): CancellableTransformer<Chunk, T> {
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
    cancel() {
      release()
    },
  }
}

/**
 * `SseDecoderStream`: the SSE decoder as a `TransformStream` (bytes in, events out), for
 * `pipeThrough`. In a file of its own, so a bundle that imports only the NDJSON stream drops it.
 *
 * @module
 */

import type { Infer } from './decode.js'
import type { EventSchemas, TypedEventOptions, TypedSseEvent } from './events.js'
import type { Chunk } from './source.js'
import { type SseEvent, type SseOptions, SseParser } from './sse.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import { transformerOf } from './streams.js'

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

class SseTransform<T> extends TransformStream<Chunk, SseEvent<T>> {
  constructor(options: SseOptions<StandardSchemaV1 | undefined> = {}) {
    super(transformerOf(new SseParser(options), options.signal))
  }
}

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

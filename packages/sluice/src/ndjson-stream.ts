/**
 * `NdjsonDecoderStream`: the NDJSON decoder as a `TransformStream` (bytes in, records out), for
 * `pipeThrough`. In a file of its own, so a bundle that imports only the SSE stream drops it.
 *
 * @module
 */

import type { Infer } from './decode.js'
import { type NdjsonOptions, NdjsonParser } from './ndjson.js'
import type { Chunk } from './source.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import { transformerOf } from './streams.js'

/** The constructor of {@link NdjsonDecoderStream}: the record type comes from `schema` when there is one. */
interface NdjsonDecoderStreamConstructor {
  new <S extends StandardSchemaV1>(options: NdjsonOptions<S> & { schema: S }): NdjsonDecoderStream<Infer<S>>
  new <T = unknown>(options?: NdjsonOptions<StandardSchemaV1 | undefined>): NdjsonDecoderStream<T>
  readonly prototype: NdjsonDecoderStream<unknown>
}

class NdjsonTransform<T> extends TransformStream<Chunk, T> {
  constructor(options: NdjsonOptions<StandardSchemaV1 | undefined> = {}) {
    super(transformerOf(new NdjsonParser(options), options.signal))
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

/**
 * The decoders as `TransformStream`s (bytes in, records out), for `pipeThrough`.
 *
 * @module
 */
import { NdjsonParser, type NdjsonOptions } from './ndjson.js'
import type { Chunk } from './source.js'
import { SseParser, type SseEvent, type SseOptions } from './sse.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import { Pending, SKIPPED } from './validate.js'
import type { PushParser } from './iterate.js'

/**
 * Decodes NDJSON bytes into records.
 *
 * @example
 * ```ts
 * const records = response.body!.pipeThrough(new NdjsonDecoderStream<{ seq: number }>())
 * ```
 */
export class NdjsonDecoderStream<T = unknown> extends TransformStream<Chunk, T> {
  constructor(options: NdjsonOptions<StandardSchemaV1 | undefined> = {}) {
    super(transformerOf(new NdjsonParser(options)))
  }
}

/**
 * Decodes Server-Sent Events bytes into {@link SseEvent}s.
 *
 * @example
 * ```ts
 * const events = response.body!.pipeThrough(new SseDecoderStream())
 * ```
 */
export class SseDecoderStream<T = string> extends TransformStream<Chunk, SseEvent<T>> {
  constructor(options: SseOptions<StandardSchemaV1 | undefined> = {}) {
    super(transformerOf(new SseParser(options)))
  }
}

function transformerOf<T>(parser: PushParser): Transformer<Chunk, T> {
  const out: unknown[] = []
  const deliver = async (controller: TransformStreamDefaultController<T>) => {
    try {
      for (const item of out) {
        if (!(item instanceof Pending)) {
          controller.enqueue(item as T)
          continue
        }
        if (item.promise === undefined) throw item.error
        const value = await item.promise
        if (value !== SKIPPED) controller.enqueue(value as T)
      }
    } finally {
      out.length = 0
    }
    // The end marker came: close the readable side and cancel whatever pipes in.
    if (parser.done) controller.terminate()
  }
  return {
    transform(chunk, controller) {
      if (parser.done) return
      parser.push(chunk, out)
      return deliver(controller)
    },
    flush(controller) {
      if (parser.done) return
      parser.end(out)
      return deliver(controller)
    },
  }
}

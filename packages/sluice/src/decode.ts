/**
 * `decodeNdjson` and `decodeSse`: records from any byte source, consumed with `for await`.
 *
 * @module
 */

import type { EventSchemas, TypedEventOptions, TypedSseEvent } from './events.js'
import { RecordIterator } from './iterate.js'
import { type NdjsonOptions, NdjsonParser } from './ndjson.js'
import { type ByteSource, readerOf } from './source.js'
import { type SseEvent, type SseOptions, SseParser } from './sse.js'
import type { StandardSchemaV1 } from './standard-schema.js'

/** The record type a schema produces. */
export type Infer<S extends StandardSchemaV1> = StandardSchemaV1.InferOutput<S>

/**
 * Decodes an NDJSON byte stream into records, one JSON value per line.
 *
 * Blank lines are heartbeats. The sluice end trailer ends the iteration (and is checked against
 * the records received); a last line cut short raises `TruncatedStreamError`. Leaving the loop
 * early cancels the source.
 *
 * @example
 * ```ts
 * import { z } from 'zod'
 * import { decodeNdjson } from 'sluice'
 *
 * const Metric = z.object({ seq: z.number(), rps: z.number() })
 * const res = await fetch('https://api.example.com/metrics')
 * for await (const metric of decodeNdjson(res, { schema: Metric })) {
 *   console.log(metric.seq, metric.rps)
 * }
 * ```
 */
export function decodeNdjson<S extends StandardSchemaV1>(
  source: ByteSource,
  options: NdjsonOptions<S> & { schema: S },
): AsyncIterableIterator<Infer<S>>
export function decodeNdjson<T = unknown>(source: ByteSource, options?: NdjsonOptions): AsyncIterableIterator<T>
export function decodeNdjson(
  source: ByteSource,
  options: NdjsonOptions<StandardSchemaV1 | undefined> = {},
): AsyncIterableIterator<unknown> {
  const parser = new NdjsonParser(options)
  // An already aborted signal rejects the first read (and cancels the source) like a later abort.
  return new RecordIterator(readerOf(source), parser, options.signal)
}

/**
 * Decodes a Server-Sent Events byte stream into events (HTML §9.2).
 *
 * `data` is the raw string, or with `json: true` or a `schema` the parsed (and validated) value.
 * Comments are heartbeats (`onComment` sees them). The `end` event ends the iteration. With
 * `events` (a schema per event name), events are a union discriminated by `event`: `switch (e.event)`
 * narrows `e.data`; events with no schema are skipped (or, with `onUnknownEvent: 'throw'`, fail).
 *
 * @example
 * ```ts
 * import { decodeSse } from 'sluice'
 *
 * const res = await fetch('https://api.example.com/events')
 * for await (const { event, data, id } of decodeSse(res)) {
 *   console.log(event, id, data)
 * }
 * ```
 */
export function decodeSse<E extends EventSchemas>(
  source: ByteSource,
  options: SseOptions & TypedEventOptions<E> & { events: E; schema?: undefined },
): AsyncIterableIterator<TypedSseEvent<E>>
export function decodeSse<S extends StandardSchemaV1>(
  source: ByteSource,
  options: SseOptions<S> & { schema: S },
): AsyncIterableIterator<SseEvent<Infer<S>>>
export function decodeSse<T = unknown>(
  source: ByteSource,
  options: SseOptions & { json: true },
): AsyncIterableIterator<SseEvent<T>>
export function decodeSse<T = string>(source: ByteSource, options?: SseOptions): AsyncIterableIterator<SseEvent<T>>
export function decodeSse(
  source: ByteSource,
  options: SseOptions<StandardSchemaV1 | undefined> = {},
): AsyncIterableIterator<SseEvent<unknown>> {
  const parser = new SseParser(options)
  return new RecordIterator(readerOf(source), parser, options.signal)
}

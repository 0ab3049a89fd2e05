/**
 * sluice: stream NDJSON and Server-Sent Events over HTTP without losing a record.
 *
 * @module
 */
export { decodeNdjson, decodeSse, type Infer } from './decode.js'
export { type EndMarkerPredicate, endMarker } from './end-marker.js'
export {
  ContentTypeError,
  EncodingError,
  GapError,
  HttpError,
  LineTooLongError,
  NetworkError,
  ParseError,
  type RecordPosition,
  RedirectError,
  SluiceError,
  TimeoutError,
  type TimeoutKind,
  TruncatedStreamError,
  type TruncationReason,
  ValidationError,
  type ValidationIssue,
} from './errors.js'
export type { EventSchemas, OnUnknownEvent, TypedEvent, TypedEventOptions, TypedSseEvent } from './events.js'
export {
  type FetchOptions,
  type NdjsonStreamOptions,
  ndjson,
  type RetryContext,
  type RetryInfo,
  type RetryVerdict,
  type SseStreamOptions,
  sse,
} from './fetch.js'
export type { GapOptions, OnGap } from './gap.js'
export type { NdjsonOptions } from './ndjson.js'
export { NdjsonDecoderStream } from './ndjson-stream.js'
export type { DecodeOptions } from './options.js'
export type { PersistOptions } from './persist.js'
export type { EndOfStream, Gap, GapReason } from './protocol.js'
export type { RecordStream, StreamCounters, StreamState } from './record-stream.js'
export type { RetryPolicy } from './retry.js'
export type { ByteSource, Chunk } from './source.js'
export type { RawSseEvent, SseEvent, SseOptions } from './sse.js'
export { SseDecoderStream } from './sse-stream.js'
export type { StandardSchemaV1 } from './standard-schema.js'
export type { OnInvalid } from './validate.js'

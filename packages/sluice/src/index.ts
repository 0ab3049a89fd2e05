/**
 * sluice: stream NDJSON and Server-Sent Events over HTTP without losing a record.
 *
 * @module
 */
export { decodeNdjson, decodeSse, type Infer } from './decode.js'
export { NdjsonDecoderStream, SseDecoderStream } from './streams.js'
export type { NdjsonOptions } from './ndjson.js'
export type { SseEvent, SseOptions, RawSseEvent } from './sse.js'
export type { EventSchemas, OnUnknownEvent, TypedEvent, TypedEventOptions, TypedSseEvent } from './events.js'
export type { DecodeOptions } from './options.js'
export type { ByteSource, Chunk } from './source.js'
export type { OnInvalid } from './validate.js'
export { endMarker, type EndMarkerPredicate } from './end-marker.js'
export type { StandardSchemaV1 } from './standard-schema.js'
export type { EndOfStream } from './protocol.js'
export {
  SluiceError,
  ParseError,
  ValidationError,
  TruncatedStreamError,
  LineTooLongError,
  EncodingError,
  GapError,
  type RecordPosition,
  type TruncationReason,
  type ValidationIssue,
} from './errors.js'
export {
  ndjson,
  sse,
  type FetchOptions,
  type NdjsonStreamOptions,
  type SseStreamOptions,
  type RetryInfo,
  type RetryContext,
  type RetryVerdict,
} from './fetch.js'
export type { PersistOptions } from './persist.js'
export type { RecordStream, StreamCounters, StreamState } from './record-stream.js'
export type { RetryPolicy } from './retry.js'
export { HttpError, ContentTypeError, NetworkError, RedirectError, TimeoutError, type TimeoutKind } from './errors.js'
export type { OnGap, GapOptions } from './gap.js'
export type { Gap, GapReason } from './protocol.js'

/**
 * sluice-server: produce NDJSON and Server-Sent Events streams that get through proxies, release
 * their source when the client leaves, and end with the sluice end marker. Built only on WHATWG
 * `Request`, `Response` and streams: Node, Deno, Bun and workers. For `node:http`, see
 * `sluice-server/node`.
 *
 * @module
 */

export { type CaughtUp, caughtUp } from './caught-up.js'
export {
  type Feed,
  type FeedEntry,
  type FeedGap,
  type FeedLive,
  type FeedReadOptions,
  type FeedRecord,
  FeedUnavailableError,
  type Gap,
  type GapReason,
  isFeedUnavailable,
  type MemoryFeedOptions,
  memoryFeed,
  type PublishOptions,
} from './feed.js'
export { type FeedResponseOptions, feedResponse } from './feed-response.js'
export { streamHeaders } from './headers.js'
export { lastEventId } from './last-event-id.js'
export {
  encodeNdjson,
  NdjsonEncoderStream,
  type NdjsonEncoderStreamOptions,
  type NdjsonResponseOptions,
  ndjsonResponse,
} from './ndjson.js'
export { type CloseReason, DEFAULT_HEARTBEAT_MS, type StreamOptions, type StreamSummary } from './options.js'
export type { RecordSource } from './source.js'
export {
  encodeSseEvent,
  isSseEvent,
  type SseDataOf,
  SseEncoderStream,
  type SseEncoderStreamOptions,
  type SseEventInit,
  type SseResponseOptions,
  sseResponse,
} from './sse.js'

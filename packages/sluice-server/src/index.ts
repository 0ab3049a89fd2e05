/**
 * sluice-server: produce NDJSON and Server-Sent Events streams that get through proxies, release
 * their source when the client leaves, and end with the sluice end marker. Built only on WHATWG
 * `Request`, `Response` and streams: Node, Deno, Bun and workers. For `node:http`, see
 * `sluice-server/node`.
 *
 * @module
 */
export { ndjsonResponse, NdjsonEncoderStream, encodeNdjson, type NdjsonResponseOptions, type NdjsonEncoderStreamOptions } from './ndjson.js'
export {
  sseResponse,
  SseEncoderStream,
  encodeSseEvent,
  isSseEvent,
  type SseEventInit,
  type SseDataOf,
  type SseResponseOptions,
  type SseEncoderStreamOptions,
} from './sse.js'
export { lastEventId } from './last-event-id.js'
export { caughtUp, type CaughtUp } from './caught-up.js'
export { streamHeaders } from './headers.js'
export { DEFAULT_HEARTBEAT_MS, type StreamOptions, type StreamSummary, type CloseReason } from './options.js'
export type { RecordSource } from './source.js'
export {
  memoryFeed,
  FeedUnavailableError,
  isFeedUnavailable,
  type Feed,
  type FeedEntry,
  type FeedLive,
  type FeedRecord,
  type FeedGap,
  type FeedReadOptions,
  type PublishOptions,
  type MemoryFeedOptions,
  type Gap,
  type GapReason,
} from './feed.js'
export { feedResponse, type FeedResponseOptions } from './feed-response.js'

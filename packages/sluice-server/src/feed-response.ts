/**
 * Serving a feed: a streaming NDJSON or SSE `Response` that resumes from the request's
 * `Last-Event-ID`, on whichever instance answers.
 *
 * @module
 */
import {
  NDJSON_CONTENT_TYPE,
  NDJSON_LIVE_LINE,
  ndjsonEndLine,
  ndjsonEntryLine,
  ndjsonGapLine,
  SSE_CONTENT_TYPE,
  SSE_END_EVENT,
  SSE_GAP_EVENT,
  SSE_LIVE_BLOCK,
  sseEndData,
  sseGapData,
} from 'sluice/protocol'
import { recordBody } from './body.js'
import { entryJson, type Feed, type FeedEntry, type FeedLive, isFeedUnavailable } from './feed.js'
import type { Encoded, WireFormat } from './format.js'
import { streamHeaders } from './headers.js'
import { lastEventId } from './last-event-id.js'
import type { StreamOptions } from './options.js'

/** Options of {@link feedResponse}. */
export interface FeedResponseOptions extends Omit<StreamOptions, 'end'> {
  /** The wire format. Default: `'sse'` when the request's `Accept` names `text/event-stream`, else `'ndjson'`. */
  format?: 'ndjson' | 'sse'
  /** For a request without `Last-Event-ID`: `'now'` serves only new entries (default: from the oldest held). */
  from?: 'now'
  /** SSE: send a `retry:` field first, in milliseconds. */
  retryMs?: number
  /** The `Retry-After` of the 503 sent when the feed's store cannot be reached, in seconds. Default 1. */
  retryAfterS?: number
}

/**
 * A streaming `Response` of the feed `key`: the entries after the request's `Last-Event-ID` (or
 * from the oldest held), then the live tail, then the end marker once the feed ends.
 *
 * NDJSON sends each record as `{"$sluice":"entry","id":...,"data":record}` (the sluice client
 * yields `record` and resumes with no `idOf`); SSE sends it as an event with `id:`. A gap (the
 * position is no longer held) is sent as a marker before the stream goes on: NDJSON
 * `{"$sluice":"gap",...}`, SSE an event named `gap`. When the store cannot be reached the answer
 * is `503` with `Retry-After`; when it is lost mid-stream the stream is cut without the end
 * marker, so the client resumes.
 *
 * @example
 * ```ts
 * import { feedResponse, memoryFeed } from 'sluice-server'
 *
 * const feed = memoryFeed()
 * export function handle(request: Request): Promise<Response> {
 *   return feedResponse(feed, 'metrics', request, { format: 'sse', heartbeatMs: 10_000 })
 * }
 * ```
 */
export async function feedResponse(
  feed: Feed,
  key: string,
  request: Request,
  options: FeedResponseOptions = {},
): Promise<Response> {
  const format = options.format ?? (request.headers.get('accept')?.includes(SSE_CONTENT_TYPE) ? 'sse' : 'ndjson')
  if (format !== 'ndjson' && format !== 'sse') {
    throw new TypeError(`Cannot serve feed: format must be 'ndjson' or 'sse', got ${String(format)}`)
  }
  const retryAfterS = options.retryAfterS ?? 1
  if (!Number.isSafeInteger(retryAfterS) || retryAfterS < 0) {
    throw new RangeError(`Cannot use retryAfterS: expected a non-negative integer, got ${String(retryAfterS)}`)
  }
  try {
    await feed.ready()
  } catch (error) {
    if (!isFeedUnavailable(error)) throw error
    // RFC 9110 §15.6.4 and §10.2.3: the client may retry after this many seconds.
    return new Response(`${error.message}\n`, {
      status: 503,
      headers: {
        'Content-Type': 'text/plain; charset=utf-8',
        'Retry-After': String(retryAfterS),
        'Cache-Control': 'no-store',
      },
    })
  }
  const after = lastEventId(request)
  const entries = feed.read(key, {
    ...(after === undefined ? {} : { after }),
    ...(options.from === undefined ? {} : { from: options.from }),
    signal: request.signal,
    live: true,
  })
  const wire = format === 'sse' ? sseFeedFormat(options.retryMs) : ndjsonFeedFormat
  const contentType = format === 'sse' ? `${SSE_CONTENT_TYPE}; charset=utf-8` : NDJSON_CONTENT_TYPE
  const body = recordBody(entries, wire, { ...options, end: true })
  return new Response(body, { status: options.status ?? 200, headers: streamHeaders(contentType, options.headers) })
}

const ndjsonFeedFormat: WireFormat<FeedEntry | FeedLive> = {
  preamble: '',
  heartbeat: '\n',
  encode: (entry): Encoded => {
    if ('live' in entry) return { text: NDJSON_LIVE_LINE, marker: true }
    if ('gap' in entry) return { text: ndjsonGapLine(entry.gap), marker: true }
    return { text: ndjsonEntryLine(entry.id, entryJson(entry)), id: entry.id }
  },
  live: NDJSON_LIVE_LINE,
  end: ndjsonEndLine,
}

function sseFeedFormat(retryMs: number | undefined): WireFormat<FeedEntry | FeedLive> {
  if (retryMs !== undefined && (!Number.isSafeInteger(retryMs) || retryMs < 0)) {
    throw new RangeError(`Cannot use retryMs: expected a non-negative integer of milliseconds, got ${String(retryMs)}`)
  }
  return {
    preamble: retryMs === undefined ? '' : `retry: ${retryMs}\n\n`,
    heartbeat: ': heartbeat\n\n',
    encode: (entry): Encoded => {
      if ('live' in entry) return { text: SSE_LIVE_BLOCK, marker: true }
      if ('gap' in entry) return { text: `event: ${SSE_GAP_EVENT}\ndata: ${sseGapData(entry.gap)}\n\n`, marker: true }
      // JSON text is one line (JSON.stringify escapes CR and LF), and feed ids are `<epoch>:<position>`.
      return { text: `id: ${entry.id}\ndata: ${entryJson(entry)}\n\n`, id: entry.id }
    },
    live: SSE_LIVE_BLOCK,
    end: (count) => `event: ${SSE_END_EVENT}\ndata: ${sseEndData(count)}\n\n`,
  }
}

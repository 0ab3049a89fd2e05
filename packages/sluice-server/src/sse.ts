/**
 * Producing Server-Sent Events: events with `data`, `id`, `event` and `retry` fields, comments as
 * heartbeats, and the sluice `end` event with data `{"count":N}` last.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @module
 */
import { isSendableId, isSseLive, SSE_CONTENT_TYPE, SSE_END_EVENT, SSE_LIVE_BLOCK, sseEndData } from 'sluice/protocol'
import { recordBody } from './body.js'
import type { CaughtUp } from './caught-up.js'
import { idString, type WireFormat } from './format.js'
import { streamHeaders } from './headers.js'
import { heartbeatMsOf, type StreamOptions } from './options.js'
import type { RecordSource } from './source.js'
import { encoderTransformer } from './transform.js'

/** One event to send. */
export interface SseEventInit<T = unknown> {
  /** A string is sent as is (split into one `data:` line per line); anything else as JSON. */
  data: T
  /** The event's id, which the client sends back as `Last-Event-ID` on reconnect. No CR, LF or NUL. */
  id?: string | number
  /** The event type; the client's default is `"message"`. No CR or LF. */
  event?: string
  /** The client's reconnection delay from now on, in milliseconds. */
  retry?: number
}

/**
 * The data of an SSE source item: an event's `data`, or the item itself for a plain value.
 * At run time an object counts as an event when it has a `data` key and no keys but `data`,
 * `id`, `event` and `retry` (see {@link isSseEvent}).
 */
export type SseDataOf<T> = T extends SseEventInit
  ? [Exclude<keyof T, keyof SseEventInit>] extends [never]
    ? T['data']
    : T
  : T

/** Options of {@link sseResponse}. */
export interface SseResponseOptions<T = unknown> extends StreamOptions {
  /** The id of an event that carries none, from its data (a plain value is its own data). */
  idOf?: (data: T) => string | number
  /** Send a `retry:` field first: the client's reconnection delay, in milliseconds. */
  retryMs?: number
}

/** Options of {@link SseEncoderStream}. */
export interface SseEncoderStreamOptions<T = unknown> {
  /** Emit the sluice `end` event with the event count when the input ends. Default `true`. */
  end?: boolean
  /** The id of an event that carries none, from its data. */
  idOf?: (data: T) => string | number
  /** Send a `retry:` field first, in milliseconds. */
  retryMs?: number
}

/**
 * A streaming Server-Sent Events `Response` of the items of `source`, read only as fast as the client reads.
 *
 * Headers: `Content-Type: text/event-stream; charset=utf-8`, `Cache-Control: no-cache, no-transform`,
 * `X-Accel-Buffering: no`, no `Content-Length`. Heartbeats are comment lines. When the source
 * ends, the `end` event carries the event count. When the client goes away, the source is released.
 *
 * @example
 * ```ts
 * import { lastEventId, sseResponse } from 'sluice-server'
 *
 * export function handle(request: Request): Response {
 *   const from = Number(lastEventId(request) ?? -1) + 1
 *   async function* ticks() {
 *     for (let seq = from; seq < from + 100; seq++) yield { data: { seq }, id: seq, event: 'tick' }
 *   }
 *   return sseResponse(ticks(), { retryMs: 2_000, signal: request.signal })
 * }
 * ```
 */
export function sseResponse<T>(
  source: RecordSource<T | CaughtUp>,
  options: SseResponseOptions<SseDataOf<T>> = {},
): Response {
  const body = recordBody(source, sseFormat<T>(options, options.end ?? true), options)
  const headers = streamHeaders(`${SSE_CONTENT_TYPE}; charset=utf-8`, options.headers, heartbeatMsOf(options))
  return new Response(body, { status: options.status ?? 200, headers })
}

/**
 * Encodes events (or plain values) as Server-Sent Events bytes, for `pipeThrough`; ends with the
 * `end` event unless `end: false`.
 *
 * @example
 * ```ts
 * import { SseEncoderStream } from 'sluice-server'
 *
 * const events = new ReadableStream({ start: (c) => (c.enqueue({ data: 'hi', id: 1 }), c.close()) })
 * const bytes = events.pipeThrough(new SseEncoderStream())
 * ```
 */
export class SseEncoderStream<T = unknown> extends TransformStream<T | CaughtUp, Uint8Array> {
  constructor(options: SseEncoderStreamOptions<SseDataOf<T>> = {}) {
    const withEnd = options.end ?? true
    super(encoderTransformer(sseFormat<T>(options, withEnd), withEnd))
  }
}

const EVENT_KEYS = new Set(['data', 'id', 'event', 'retry'])

/** Whether `item` is an {@link SseEventInit} rather than a plain value. */
export function isSseEvent(item: unknown): item is SseEventInit {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return false
  if (!Object.hasOwn(item, 'data')) return false
  return Object.keys(item).every((key) => EVENT_KEYS.has(key))
}

/**
 * Encodes one event, blank line included. Multi-line data becomes one `data:` line per line (CR,
 * LF and CRLF all end a line, HTML §9.2.5), which the client joins back with LF.
 */
export function encodeSseEvent(event: SseEventInit): string {
  let text = ''
  if (event.event !== undefined) {
    if (typeof event.event !== 'string' || /[\r\n]/.test(event.event)) {
      throw new TypeError('Cannot encode event: its event type must be a string without CR or LF')
    }
    text += `event: ${event.event}\n`
  }
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data)
  if (data === undefined) throw new TypeError(`Cannot encode event: a ${typeof event.data} data has no JSON form`)
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`
  if (event.id !== undefined) {
    const id = idString(event.id, 'id')
    // The client would drop the field or cut it into another one (HTML §9.2.6 "id" field).
    if (!isSendableId(id)) throw new TypeError('Cannot encode event: its id contains CR, LF or NUL')
    text += `id: ${id}\n`
  }
  if (event.retry !== undefined) text += `retry: ${retryOf(event.retry, 'retry')}\n`
  return `${text}\n`
}

function sseFormat<T>(
  options: { idOf?: (data: SseDataOf<T>) => string | number; retryMs?: number },
  withEnd: boolean,
): WireFormat<T> {
  const { idOf } = options
  return {
    // A block with only `retry:` sets the delay and dispatches nothing (HTML §9.2.6).
    preamble: options.retryMs === undefined ? '' : `retry: ${retryOf(options.retryMs, 'retryMs')}\n\n`,
    heartbeat: ': heartbeat\n\n',
    live: SSE_LIVE_BLOCK,
    encode: (item) => {
      const event: SseEventInit = isSseEvent(item) ? { ...item } : { data: item }
      if (withEnd && event.event === SSE_END_EVENT) {
        throw new TypeError(
          `Cannot encode event: the event type "${SSE_END_EVENT}" is the sluice end marker (pass end: false to send it yourself)`,
        )
      }
      if (event.id === undefined && idOf !== undefined) event.id = idOf(event.data as SseDataOf<T>)
      const text = encodeSseEvent(event)
      if (
        event.event !== undefined &&
        isSseLive(event.event, typeof event.data === 'string' ? event.data : JSON.stringify(event.data))
      ) {
        throw new TypeError('Cannot encode event: it has the shape of the caught-up marker; yield caughtUp instead')
      }
      return event.id === undefined ? { text } : { text, id: String(event.id) }
    },
    end: (count) => `event: ${SSE_END_EVENT}\ndata: ${sseEndData(count)}\n\n`,
  }
}

function retryOf(ms: number, what: string): number {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`Cannot use ${what}: expected a non-negative integer of milliseconds, got ${String(ms)}`)
  }
  return ms
}

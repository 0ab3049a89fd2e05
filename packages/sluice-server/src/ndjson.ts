/**
 * Producing NDJSON: one JSON value per line, blank lines as heartbeats, and the sluice end trailer
 * `{"$sluice":"end","count":N}` as the last line.
 *
 * @see https://github.com/ndjson/ndjson-spec
 * @module
 */
import { isNdjsonLive, NDJSON_CONTENT_TYPE, NDJSON_LIVE_LINE, ndjsonEndLine, ndjsonEndOf } from 'sluice/protocol'
import { recordBody } from './body.js'
import type { CaughtUp } from './caught-up.js'
import { idString, type WireFormat } from './format.js'
import { streamHeaders } from './headers.js'
import { heartbeatMsOf, type StreamOptions } from './options.js'
import type { RecordSource } from './source.js'
import { encoderTransformer } from './transform.js'

/** Options of {@link ndjsonResponse}. */
export interface NdjsonResponseOptions<T = unknown> extends StreamOptions {
  /**
   * A record's resume id. NDJSON has no id field, so it is not sent: the client derives it with
   * its own `idOf`. Here it names the last record sent in `onClose`, for logs and metrics.
   */
  idOf?: (record: T) => string | number
}

/** Options of {@link NdjsonEncoderStream}. */
export interface NdjsonEncoderStreamOptions {
  /** Emit the sluice end trailer with the record count when the input ends. Default `true`. */
  end?: boolean
}

/**
 * A streaming NDJSON `Response` of the records of `source`, read only as fast as the client reads.
 *
 * Headers: `Content-Type: application/x-ndjson`, `Cache-Control: no-cache, no-transform`,
 * `X-Accel-Buffering: no`, no `Content-Length`. When the source ends, the end trailer carries the
 * record count, so a client can tell a finished stream from a cut one. When the client goes
 * away, the source is released: a generator's `return()` runs its `finally` blocks, a stream's
 * `cancel` is called.
 *
 * @example
 * ```ts
 * import { lastEventId, ndjsonResponse } from 'sluice-server'
 *
 * export function handle(request: Request): Response {
 *   const from = Number(lastEventId(request) ?? -1) + 1
 *   async function* metrics() {
 *     for (let seq = from; seq < from + 100; seq++) yield { seq, rps: 40 + (seq % 7) }
 *   }
 *   return ndjsonResponse(metrics(), { idOf: (m) => m.seq, heartbeatMs: 10_000 })
 * }
 * ```
 */
export function ndjsonResponse<T>(
  source: RecordSource<T | CaughtUp>,
  options: NdjsonResponseOptions<T> = {},
): Response {
  const body = recordBody(source, ndjsonFormat(options.idOf), options)
  return new Response(body, {
    status: options.status ?? 200,
    headers: streamHeaders(NDJSON_CONTENT_TYPE, options.headers, heartbeatMsOf(options)),
  })
}

/**
 * Encodes records as NDJSON bytes, for `pipeThrough`; ends with the end trailer unless `end: false`.
 *
 * @example
 * ```ts
 * import { NdjsonEncoderStream } from 'sluice-server'
 *
 * const records = new ReadableStream({ start: (c) => (c.enqueue({ seq: 1 }), c.close()) })
 * const bytes = records.pipeThrough(new NdjsonEncoderStream())
 * ```
 */
export class NdjsonEncoderStream<T = unknown> extends TransformStream<T | CaughtUp, Uint8Array> {
  constructor(options: NdjsonEncoderStreamOptions = {}) {
    super(encoderTransformer(ndjsonFormat<T>(undefined), options.end ?? true))
  }
}

/** Encodes one record as an NDJSON line, newline included. */
export function encodeNdjson(record: unknown): string {
  if (ndjsonEndOf(record) !== undefined) {
    // The client would take it for the end of the stream and stop reading there.
    throw new TypeError('Cannot encode record: it has the shape of the sluice end trailer ("$sluice": "end")')
  }
  if (isNdjsonLive(record)) {
    throw new TypeError(
      'Cannot encode record: it has the shape of the caught-up marker ("$sluice": "live"); yield caughtUp instead',
    )
  }
  // JSON.stringify escapes CR and LF inside strings, so one value is always one line.
  const json = JSON.stringify(record)
  if (json === undefined) throw new TypeError(`Cannot encode record: a ${typeof record} has no JSON form`)
  return `${json}\n`
}

function ndjsonFormat<T>(idOf: ((record: T) => string | number) | undefined): WireFormat<T> {
  return {
    preamble: '',
    heartbeat: '\n',
    live: NDJSON_LIVE_LINE,
    encode: (record) => {
      const text = encodeNdjson(record)
      return idOf === undefined ? { text } : { text, id: idString(idOf(record), 'idOf') }
    },
    end: ndjsonEndLine,
  }
}

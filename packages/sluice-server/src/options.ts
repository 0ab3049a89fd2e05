/**
 * Options every stream response takes, and the summary reported when a stream finishes.
 *
 * @module
 */

/** How a stream finished: its source ended, the client went away, `signal` aborted it, or the source failed. */
export type CloseReason = 'end' | 'cancel' | 'abort' | 'error'

/** What `onClose` sees once a stream has finished, for logging and metrics. */
export interface StreamSummary {
  reason: CloseReason
  /** Records sent (the end marker and heartbeats excluded). */
  count: number
  /** The id of the last record sent (SSE: the last `id` field; NDJSON: `idOf` of the last record). */
  lastId?: string
  /** What failed, for `"error"`, or the abort reason, for `"abort"`. */
  error?: unknown
}

/** Options shared by `ndjsonResponse` and `sseResponse`. */
export interface StreamOptions {
  /**
   * While no record was sent for this long, send a heartbeat (NDJSON: a blank line; SSE: a comment)
   * so idle firewalls, NATs and proxies keep the connection. `0` turns heartbeats off. Default 15 000.
   */
  heartbeatMs?: number
  /** Emit the sluice end marker with the record count when the source ends. Default `true`. */
  end?: boolean
  /** Extra response headers; they override the defaults. */
  headers?: HeadersInit
  /** The response status. Default 200. */
  status?: number
  /**
   * Aborting it stops the stream at once: the source is released and the body errors, so the
   * client sees a cut stream (no end marker) and resumes elsewhere. Use it on server shutdown.
   */
  signal?: AbortSignal
  /** Called once when the stream finishes, however it finishes. */
  onClose?: (summary: StreamSummary) => void
}

/** 15 s: well under the 60 s idle timeouts of nginx and HAProxy defaults and most NAT tables. */
export const DEFAULT_HEARTBEAT_MS = 15_000

/** Checks `heartbeatMs` and returns the interval in force (`0`: off). */
export function heartbeatMsOf(options: { heartbeatMs?: number }): number {
  const ms = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  if (!(ms >= 0) || !Number.isFinite(ms)) {
    throw new RangeError(`Cannot use heartbeatMs: expected a non-negative number, got ${String(ms)}`)
  }
  return ms
}

/**
 * What a parser tells the reconnect loop about where a stream can resume.
 *
 * @module
 */

/**
 * The resume state one connection's parser keeps for the reconnect loop. SSE tracks it itself
 * (the last-event-id persists across events and connections, HTML §9.2.3); NDJSON has only the
 * ids `idOf` gives delivered records.
 */
export interface ResumeTracker<T> {
  /** The resume position when the connection ended, where the format tracks it (SSE); else absent or `undefined`. */
  readonly lastEventId?: string | undefined
  /** The reconnection time from the last valid SSE `retry:` field of the connection, if any (HTML §9.2.6). */
  readonly retryMs?: number | undefined
  /**
   * Whether `record`, the first delivered on a connection, repeats the record named by the
   * `Last-Event-ID` sent (`sentId`): an inclusive replay, which is dropped.
   */
  isReplay(record: T, sentId: string): boolean
}

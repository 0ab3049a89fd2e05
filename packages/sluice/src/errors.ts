/**
 * Errors raised by sluice. Every one extends {@link SluiceError} and carries a stable string `code`:
 * branch on `code`, not `instanceof`, when two copies of the package may be loaded.
 *
 * @module
 */

/** Longest raw input kept on an error, in characters. */
const SNIPPET_LENGTH = 200

/** Cuts raw input down to a snippet short enough to log. */
export function snippetOf(text: string): string {
  return text.length > SNIPPET_LENGTH ? `${text.slice(0, SNIPPET_LENGTH - 1)}…` : text
}

/** The base of every error sluice raises. */
export abstract class SluiceError extends Error {
  /** A stable identifier of the error's kind, such as `PARSE_ERROR`. */
  declare readonly code: string
  /** How many connection attempts had been made when the error was thrown (resilient streams only). */
  declare attempts?: number

  /**
   * The one builder every subclass goes through: the message, the fields (`code` among them)
   * copied onto the error, and the wrapped error kept as `cause` when there is one.
   */
  constructor(message: string, fields: object, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = new.target.name
    Object.assign(this, fields)
  }
}
/** Where in the stream a bad record sits. */
export interface RecordPosition {
  /** 1-based line number within the response. */
  line: number
  /** Byte offset of the line's first byte within the response body. */
  offset: number
  /** At most 200 characters of the raw line (or SSE `data`). */
  snippet: string
}

/** A line (NDJSON) or an event's data (SSE with `json`) that is not valid JSON. */
export class ParseError extends SluiceError {
  declare readonly code: 'PARSE_ERROR'
  declare readonly line: number
  declare readonly offset: number
  declare readonly snippet: string

  constructor(position: RecordPosition, cause?: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message}` : ''
    super(
      `Cannot parse JSON on line ${position.line} (byte ${position.offset})${reason}`,
      { code: 'PARSE_ERROR', ...position },
      cause,
    )
  }
}

/** One problem a Standard Schema reported, with the path into the record where it lies. */
export interface ValidationIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/** A record that the `schema` option rejected. `issues` are the schema's own, unchanged. */
export class ValidationError extends SluiceError {
  declare readonly code: 'VALIDATION_ERROR'
  declare readonly line: number
  declare readonly offset: number
  declare readonly snippet: string
  declare readonly issues: readonly ValidationIssue[]

  constructor(position: RecordPosition, issues: readonly ValidationIssue[]) {
    const first = issues[0]
    // The path's segments are keys, or objects holding them, joined with dots.
    const path = first?.path?.map((segment) => String(typeof segment === 'object' ? segment.key : segment))
    const where = path?.length ? ` at ${path.join('.')}` : ''
    const what = first ? `: ${first.message}${where}` : ''
    super(`Cannot accept record on line ${position.line}: schema rejected it${what}`, {
      code: 'VALIDATION_ERROR',
      ...position,
      issues,
    })
  }
}

/** Why a stream is known to be cut short. */
export type TruncationReason =
  /** The body ended inside a record: a last line that is not complete JSON, or an SSE event with no blank line after it. */
  | 'partial-record'
  /** The body ended without the end-of-stream marker although `requireEnd` asked for one. */
  | 'missing-end'
  /** The end marker's record count differs from the records received. */
  | 'count-mismatch'

/** The stream ended before the producer finished it. A cut connection looks like a normal end to TCP: this is how sluice tells. */
export class TruncatedStreamError extends SluiceError {
  declare readonly code: 'TRUNCATED_STREAM'
  declare readonly reason: TruncationReason
  /** 1-based line number where the stream was found cut (the last line received). */
  declare readonly line: number
  /** Byte offset, within the response body, of the record cut off (`partial-record`), of the end marker (`count-mismatch`), or of the end (`missing-end`). */
  declare readonly offset: number | undefined
  /** The record count the end marker announced, for `count-mismatch`. */
  declare readonly expected: number | undefined
  /** The records received before the end marker or the cut. */
  declare readonly received: number
  /** The partial last record, for `partial-record`. */
  declare readonly snippet: string

  constructor(
    reason: TruncationReason,
    {
      line,
      received,
      expected,
      snippet = '',
      offset,
    }: { line: number; received: number; expected?: number; snippet?: string; offset?: number },
  ) {
    super(
      `Cannot complete stream: ${
        reason === 'partial-record'
          ? `it ended inside a record on line ${line}`
          : reason === 'missing-end'
            ? `it ended after ${received} records without the end marker`
            : `end marker on line ${line} counts ${expected} records but ${received} arrived`
      }`,
      { code: 'TRUNCATED_STREAM', reason, line, offset, expected, received, snippet },
    )
  }
}

/** A line longer than `maxLineBytes`: refused before more than about that many bytes are buffered. */
export class LineTooLongError extends SluiceError {
  declare readonly code: 'LINE_TOO_LONG'
  declare readonly limit: number
  declare readonly line: number
  /** Byte offset of the line's first byte within the response body. */
  declare readonly offset: number
  declare readonly snippet: string

  constructor(limit: number, line: number, snippet: string, offset: number) {
    super(`Cannot buffer line ${line}: longer than maxLineBytes (${limit})`, {
      code: 'LINE_TOO_LONG',
      limit,
      line,
      offset,
      snippet,
    })
  }
}

/** Bytes that are not valid UTF-8, raised only with `fatal: true` (otherwise they become U+FFFD). */
export class EncodingError extends SluiceError {
  declare readonly code: 'ENCODING_ERROR'
  /** Byte offset of the chunk that held the bad bytes. */
  declare readonly offset: number

  constructor(offset: number, cause: unknown) {
    super(
      `Cannot decode UTF-8: invalid bytes in the chunk at byte ${offset}`,
      { code: 'ENCODING_ERROR', offset },
      cause,
    )
  }
}

/** A response whose status is not 2xx. Retried for 408, 429 and 5xx; final for other statuses. */
export class HttpError extends SluiceError {
  declare readonly code: 'HTTP_ERROR'
  declare readonly status: number
  /** The start of the response body (at most 200 characters), often the server's explanation. */
  declare readonly snippet: string
  /** The delay the server asked for in `Retry-After`, in milliseconds, if it sent one. */
  declare readonly retryAfterMs: number | undefined

  constructor(status: number, statusText: string, snippet: string, retryAfterMs?: number) {
    const text = statusText ? ` ${statusText}` : ''
    const body = snippet ? `: ${snippet.slice(0, 80)}` : ''
    super(`Cannot stream: the server answered ${status}${text}${body}`, {
      code: 'HTTP_ERROR',
      status,
      snippet,
      retryAfterMs,
    })
  }
}

/**
 * A 2xx response that is not the stream's format: its `Content-Type` is another (a JSON error, an
 * NDJSON API labelled `application/json`), or its body is a page or a document under the stream's
 * type (`body`: a captive portal's HTML served as `text/event-stream`). Final: another attempt gets the same.
 */
export class ContentTypeError extends SluiceError {
  declare readonly code: 'CONTENT_TYPE'
  declare readonly contentType: string
  declare readonly expected: readonly string[]
  /** What the body turned out to be, when the type was right but the body was not (`"an HTML page"`). */
  declare readonly body: string | undefined
  /** The start of that body, when `body` is set. */
  declare readonly snippet: string

  /** `fix` ends the message: the option or the action that makes it work. */
  constructor(contentType: string, expected: readonly string[], fix = '', body?: { kind: string; snippet: string }) {
    const type = contentType || 'untyped'
    super(
      (body === undefined
        ? `Cannot stream: expected ${expected.join(' or ')} but the response is ${type}`
        : `Cannot stream: the response is labelled ${type} but its body is ${body.kind} (${body.snippet})`) +
        (fix && `; ${fix}`),
      { code: 'CONTENT_TYPE', contentType, expected, body: body?.kind, snippet: body?.snippet ?? '' },
    )
  }
}

/** The connection failed: refused, reset, cut mid-body, or a redirect loop. `cause` is the runtime's error. */
export class NetworkError extends SluiceError {
  declare readonly code: 'NETWORK_ERROR'

  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super(`Cannot stream: the connection failed (${reason})`, { code: 'NETWORK_ERROR' }, cause)
  }
}

/**
 * The server redirected in a loop (or past the runtime's redirect limit), or at all when the request's
 * redirect mode is `'error'` (`refused`): final, never retried.
 */
export class RedirectError extends SluiceError {
  declare readonly code: 'REDIRECT_LOOP'

  constructor(cause: unknown, refused?: boolean) {
    super(
      `Cannot stream: the server redirected ${refused ? "and the request's redirect mode 'error' refuses that" : 'too many times (a redirect loop)'}`,
      { code: 'REDIRECT_LOOP' },
      cause,
    )
  }
}

/** Which timer fired: headers never came (`connect`), no bytes came (`idle`), or only heartbeats came (`stall`). */
export type TimeoutKind = 'connect' | 'idle' | 'stall'

/** A timeout of the resilient streams; retried like a network error. */
export class TimeoutError extends SluiceError {
  declare readonly code: 'CONNECT_TIMEOUT' | 'IDLE_TIMEOUT' | 'STALL_TIMEOUT'
  declare readonly kind: TimeoutKind
  declare readonly timeoutMs: number

  constructor(kind: TimeoutKind, timeoutMs: number) {
    super(
      kind === 'connect'
        ? `Cannot connect: no response headers within ${timeoutMs} ms`
        : kind === 'idle'
          ? `Cannot keep stream: no bytes for ${timeoutMs} ms (the connection is dead)`
          : `Cannot keep stream: no record for ${timeoutMs} ms although the connection is alive (the producer is stuck)`,
      { code: `${kind.toUpperCase()}_TIMEOUT`, kind, timeoutMs },
    )
  }
}

/**
 * The producer said records are missing (its feed's gap marker): the history after
 * `lastEventId` was trimmed, reset, or the id was unknown to it, and the stream goes on from
 * `resumeFrom`. Thrown by default so the app reloads its state; `onGap: 'continue'` (or a callback)
 * carries on instead. Final: another attempt would be told the same.
 */
export class GapError extends SluiceError {
  declare readonly code: 'STREAM_GAP'
  /** `'trimmed'`, `'reset'` or `'unknown'` (see `GapReason` in `sluice/protocol`). */
  declare readonly reason: 'trimmed' | 'reset' | 'unknown'
  /** The position the stream asked to resume after. */
  declare readonly lastEventId: string
  /** The id of the first record after the gap; `null` when the producer held none yet. */
  declare readonly resumeFrom: string | null
  /** The 1-based line of the marker in the response. */
  declare readonly line: number

  constructor(
    {
      reason,
      lastEventId,
      resumeFrom,
    }: { reason: 'trimmed' | 'reset' | 'unknown'; lastEventId: string; resumeFrom: string | null },
    line: number,
  ) {
    const from = resumeFrom === null ? 'its next record' : resumeFrom
    super(
      `Cannot continue stream: the records after ${snippetOf(lastEventId)} are gone (${reason}); it resumes from ${snippetOf(from)}`,
      {
        code: 'STREAM_GAP',
        reason,
        lastEventId,
        resumeFrom,
        line,
      },
    )
  }
}

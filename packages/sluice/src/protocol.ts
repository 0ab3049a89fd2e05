/**
 * The sluice wire contract, shared by the client (`sluice`) and the producer (`sluice-server`) so
 * the two cannot drift apart. See the README's "Protocol" section.
 *
 * @module
 */

/** The NDJSON media type sluice-server sends. */
export const NDJSON_CONTENT_TYPE = 'application/x-ndjson'
/** Media types a client accepts as NDJSON (JSON Lines is the same format under another name). */
export const NDJSON_CONTENT_TYPES: readonly string[] = [
  NDJSON_CONTENT_TYPE,
  'application/jsonl',
  'application/x-jsonlines',
]
/** The Server-Sent Events media type (HTML §9.2). */
export const SSE_CONTENT_TYPE = 'text/event-stream'

/**
 * The request header that carries the resume position, as EventSource sends it (HTML §9.2.4).
 * sluice sends it for NDJSON streams too.
 */
export const LAST_EVENT_ID_HEADER = 'Last-Event-ID'

/** Whether an id can be sent as `Last-Event-ID`: CR, LF or NUL would split or corrupt the header (HTML §9.2.4). */
export function isSendableId(id: string | undefined): boolean {
  return id === undefined || !/[\r\n\0]/.test(id)
}

/**
 * An id as `Last-Event-ID` carries it: its UTF-8 bytes (HTML §9.2.4, as EventSource sends them),
 * one per character, since `Headers` takes a byte string and throws on any character above U+00FF.
 */
export function encodeLastEventId(id: string): string {
  // ASCII (every numeric id): the same in both readings.
  if (!/[^\x00-\x7f]/.test(id)) return id
  let bytes = ''
  for (const byte of new TextEncoder().encode(id)) bytes += String.fromCharCode(byte)
  return bytes
}

/**
 * The id a `Last-Event-ID` header value carries, as {@link encodeLastEventId} sent it: a value whose
 * characters are bytes forming valid UTF-8 is decoded as UTF-8; any other value (ASCII, an id some
 * client sent as Latin-1, a value a runtime already decoded) is returned as it is.
 */
export function decodeLastEventId(value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value
  const bytes = new Uint8Array(value.length)
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i)
    // Not a byte string: a runtime already decoded it (or a test built it so); leave it alone.
    if (unit > 0xff) return value
    bytes[i] = unit
  }
  try {
    // fatal: invalid UTF-8 throws instead of turning into U+FFFD; ignoreBOM: a leading EF BB BF is kept.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return value
  }
}

/**
 * The response header in which sluice-server announces its heartbeat interval, in ms: the longest
 * the server stays silent. A client that set no `idleTimeoutMs` declares the connection dead after
 * {@link HEARTBEAT_TIMEOUT_FACTOR} intervals without a byte (and at least one second, so a busy
 * event loop on either side is not taken for a dead connection).
 */
export const HEARTBEAT_HEADER = 'Sluice-Heartbeat-Ms'
/** Heartbeat intervals without a byte before a client declares the connection dead (two missed, plus slack). */
export const HEARTBEAT_TIMEOUT_FACTOR = 3

/** The reserved key of the NDJSON end-of-stream trailer: `{"$sluice":"end","count":N}`. */
export const END_KEY = '$sluice'
/** The value of {@link END_KEY} on the end-of-stream trailer. */
export const END_VALUE = 'end'
/** The SSE event name that ends a stream; its data is `{"count":N}` (or empty). */
export const SSE_END_EVENT = 'end'

/** The value of {@link END_KEY} on the caught-up marker: the NDJSON line `{"$sluice":"live"}`. */
export const LIVE_VALUE = 'live'
/** The SSE event name of the caught-up marker; its data is the NDJSON marker's JSON, `{"$sluice":"live"}`. */
export const SSE_LIVE_EVENT = 'live'
/**
 * The caught-up marker, the same JSON in both formats: the records before it were the backfill
 * (history read from storage), the records after it are live. A producer sends it at most once per
 * response; it is not a record (not counted by the end marker, no id).
 */
export const LIVE_JSON = '{"$sluice":"live"}'

// The marker strings are spelled out, not built from END_KEY and LIVE_VALUE: a bundler drops an
// unused plain string but keeps an unused template, and the client never sends these lines.
/** The NDJSON caught-up line, newline included. */
export const NDJSON_LIVE_LINE = '{"$sluice":"live"}\n'
/** The SSE caught-up event, blank line included (a named event: an EventSource's `onmessage` never sees it). */
export const SSE_LIVE_BLOCK = 'event: live\ndata: {"$sluice":"live"}\n\n'

// The client's readers below spell out END_KEY and its values ('$sluice', 'end', 'live', 'entry',
// 'gap') instead of naming the constants: a bundler keeps each named constant as a variable of its
// own in the client's bundle. The producer's writers name them.

/** Whether a parsed NDJSON value is the caught-up marker. */
export function isNdjsonLive(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)['$sluice'] === 'live'
}

/** Whether a raw SSE event is the caught-up marker: both its name and its data must match, so an app's own `live` event passes. */
export function isSseLive(event: string, data: string): boolean {
  return event === 'live' && data.trim() === LIVE_JSON
}

/** What an end marker tells: the number of records the producer sent before it, when it says. */
export interface EndOfStream {
  count?: number
}

/** The NDJSON trailer line for a stream of `count` records, newline included. */
export function ndjsonEndLine(count: number): string {
  return `{"${END_KEY}":"${END_VALUE}","count":${count}}\n`
}

/** The SSE data of the end event for a stream of `count` records. */
export function sseEndData(count: number): string {
  return `{"count":${count}}`
}

/** Reads an NDJSON value as the end trailer; `undefined` when it is an ordinary record. */
export function ndjsonEndOf(value: unknown): EndOfStream | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const record = value as Record<string, unknown>
  if (record['$sluice'] !== 'end') return undefined
  return countOf(record['count'])
}

/** Reads the data of an SSE end event (`{"count":N}`, a bare number, or empty). */
export function sseEndOf(data: string): EndOfStream {
  const text = data.trim()
  if (text === '') return {}
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'number') return countOf(value)
    if (typeof value === 'object' && value !== null) return countOf((value as Record<string, unknown>)['count'])
  } catch {
    // An end event with data that is not JSON still ends the stream; it just carries no count.
  }
  return {}
}

function countOf(count: unknown): EndOfStream {
  return Number.isSafeInteger(count) && (count as number) >= 0 ? { count: count as number } : {}
}

// Feeds (sluice-server's `feedResponse`): entry lines that carry their id, and the gap marker.

/**
 * The value of {@link END_KEY} on an NDJSON feed entry line:
 * `{"$sluice":"entry","id":"<entry id>","data":<record>}`. The client yields `data` as the record,
 * untouched, and keeps `id` as its resume position (sent back as `Last-Event-ID`), so an NDJSON
 * feed resumes with no `idOf`. SSE needs no envelope: an entry is an event with an `id:` field.
 */
export const ENTRY_VALUE = 'entry'
/** The value of {@link END_KEY} on the NDJSON gap marker: `{"$sluice":"gap","reason":...}`. */
export const GAP_VALUE = 'gap'
/** The SSE event name of the gap marker; its data is the {@link Gap} as JSON. */
export const SSE_GAP_EVENT = 'gap'

/**
 * Why records are missing: `'trimmed'` (the resume position fell out of the history kept),
 * `'reset'` (the history was lost: the store restarted empty or failed over), `'unknown'` (an id
 * the feed never issued: forged, malformed or from another feed).
 */
export type GapReason = 'trimmed' | 'reset' | 'unknown'

/** What a gap marker tells: records after `lastEventId` up to (not including) `resumeFrom` are gone. */
export interface Gap {
  reason: GapReason
  /** The position the reader asked to resume after. */
  lastEventId: string
  /** The id of the first entry delivered after the gap; `null` when the feed holds none yet. */
  resumeFrom: string | null
}

const GAP_REASONS: readonly string[] = ['trimmed', 'reset', 'unknown']

/** The NDJSON line of a feed entry whose record is already JSON text, newline included. */
export function ndjsonEntryLine(id: string, json: string): string {
  return `{"${END_KEY}":"${ENTRY_VALUE}","id":${JSON.stringify(id)},"data":${json}}\n`
}

/** The NDJSON gap marker line, newline included. */
export function ndjsonGapLine(gap: Gap): string {
  return `{"${END_KEY}":"${GAP_VALUE}",${sseGapData(gap).slice(1)}\n`
}

/** The SSE data of the gap event. */
export function sseGapData(gap: Gap): string {
  return JSON.stringify({ reason: gap.reason, lastEventId: gap.lastEventId, resumeFrom: gap.resumeFrom })
}

/** A parsed NDJSON value read as a feed line: an entry (record and id), a gap, or `undefined` for anything else. */
export function ndjsonFeedLineOf(value: unknown): { id: string; data: unknown } | { gap: Gap } | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const line = value as Record<string, unknown>
  const kind = line['$sluice']
  if (kind === 'entry') {
    const id = line['id']
    return typeof id === 'string' && Object.hasOwn(line, 'data') ? { id, data: line['data'] } : undefined
  }
  if (kind === 'gap') {
    const gap = gapOf(line)
    return gap === undefined ? undefined : { gap }
  }
  return undefined
}

/** Reads the data of an SSE `gap` event; `undefined` when it is not a well-formed gap. */
export function sseGapOf(data: string): Gap | undefined {
  try {
    const value: unknown = JSON.parse(data)
    return typeof value === 'object' && value !== null ? gapOf(value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function gapOf(value: Record<string, unknown>): Gap | undefined {
  const { reason, lastEventId, resumeFrom } = value
  // `includes` compares strictly: a reason that is not a string is not among them.
  if (!GAP_REASONS.includes(reason as string) || typeof lastEventId !== 'string') return undefined
  if (resumeFrom !== null && typeof resumeFrom !== 'string') return undefined
  return { reason: reason as GapReason, lastEventId, resumeFrom }
}

/**
 * Whether a record would read as a sluice marker on the wire (an object with the reserved key
 * {@link END_KEY}): feeds refuse such records at publish, since a client would stop or skip there.
 */
export function isReservedRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, END_KEY)
}

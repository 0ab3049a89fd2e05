/**
 * One attempt of a resilient stream: the request built (headers, body, `Last-Event-ID`), sent with
 * a connect timeout, and the response checked (status, content type) before any byte is decoded.
 *
 * @module
 */
import { ContentTypeError, HttpError, NetworkError, RedirectError, snippetOf, TimeoutError } from './errors.js'
import { encodeLastEventId, isSendableId, LAST_EVENT_ID_HEADER } from './protocol.js'
import { parseRetryAfter } from './retry.js'
import { isResponse } from './source.js'

/** The request options of `ndjson()` and `sse()`. */
export interface RequestOptions {
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch
  /** Request headers; a function is called before every attempt (a refreshed token is used on reconnect). */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>)
  /**
   * Request method. Default `GET`, or a `Request` input's (whose headers, body and other settings are sent
   * on every attempt; these options override them). Non-idempotent methods are only re-sent when `retry` is given explicitly.
   */
  method?: string
  /** Request body, or a function returning a fresh one per attempt (a `ReadableStream` is sent with `duplex: 'half'`). */
  body?: BodyInit | null | (() => BodyInit | null | Promise<BodyInit | null>)
  credentials?: RequestCredentials
  /** No response headers within this long: give up the attempt. Default 30 000. */
  connectTimeoutMs?: number
}

/** What one attempt sends. */
export interface Target {
  input: string | URL | Request
  method: string
  /** None for a resume request. */
  body?: RequestOptions['body']
}

/** The media types a format accepts (`'*'`: any), and the `Accept` header it sends. */
export interface Accepts {
  accept: readonly string[] | '*'
  acceptHeader: string
  /** How to fix a response of another type: the end of the error message. */
  typeFix: (contentType: string) => string
}

/**
 * Sends one attempt's request; resolves with an accepted response, `undefined` for 204 No Content,
 * or throws a typed error (`HttpError`, `ContentTypeError`, `NetworkError`, `RedirectError`,
 * `TimeoutError`), or the reason `attempt` was aborted with.
 */
export async function connect(
  target: Target,
  options: RequestOptions,
  fetchImpl: typeof fetch,
  format: Accepts,
  lastEventId: string | undefined,
  attempt: AbortController,
): Promise<Response | undefined> {
  const timeoutMs = options.connectTimeoutMs ?? 30_000
  const timer = setTimeout(() => attempt.abort(new TimeoutError('connect', timeoutMs)), timeoutMs)
  const { input } = target
  const request = isRequest(input) ? input : undefined
  try {
    const headers = new Headers(request?.headers)
    const extra = typeof options.headers === 'function' ? await options.headers() : options.headers
    new Headers(extra).forEach((value, key) => headers.set(key, value))
    if (!headers.has('accept')) headers.set('accept', format.acceptHeader)
    if (!headers.has('cache-control')) headers.set('cache-control', 'no-cache')
    // An id with CR, LF or NUL would split or corrupt the header: never send it (HTML §9.2.4).
    if (lastEventId && isSendableId(lastEventId)) headers.set(LAST_EVENT_ID_HEADER, encodeLastEventId(lastEventId))
    const body = typeof target.body === 'function' ? await target.body() : target.body
    const init: RequestInit & { duplex?: string } = { method: target.method, headers, signal: attempt.signal }
    if (body != null) init.body = body
    // Node's fetch (and Chromium's) refuses a stream body without it.
    if (body instanceof ReadableStream) init.duplex = 'half'
    if (options.credentials !== undefined) init.credentials = options.credentials
    let response: Response
    try {
      // A Request is cloned per attempt: its body can be sent again, and its settings (mode, redirect,
      // cache...) go with it; init overrides method, headers (merged above), signal and any options.body.
      response = await fetchImpl(request ? request.clone() : String(input), init)
    } catch (error) {
      if (attempt.signal.aborted) throw attempt.signal.reason
      // A redirect limit (undici: cause "redirect count exceeded"; Deno, Bun: "redirect" in the message)
      // or a `redirect: 'error'` request (undici: cause "unexpected redirect").
      const { message, cause } = (error ?? {}) as Error
      if (!/redirect/i.test(`${message} ${cause}`)) throw new NetworkError(error)
      throw new RedirectError(error, request?.redirect === 'error')
    }
    // By shape, never instanceof: a Response from another realm or another fetch implementation is one.
    if (!isResponse(response) || typeof response.status !== 'number' || typeof response.headers?.get !== 'function') {
      throw new NotAResponseError(response)
    }
    if (response.status === 204) {
      await response.body?.cancel().catch(() => undefined)
      return undefined
    }
    if (!response.ok) {
      const snippet = await readSnippet(response)
      throw new HttpError(
        response.status,
        response.statusText,
        snippet,
        parseRetryAfter(response.headers.get('retry-after')),
      )
    }
    // The media type, lower-cased, without parameters (RFC 9110 §8.3.1).
    const contentType = (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase()
    if (format.accept !== '*' && !format.accept.includes(contentType)) {
      await response.body?.cancel().catch(() => undefined)
      throw new ContentTypeError(contentType, format.accept, format.typeFix(contentType))
    }
    return response
  } finally {
    clearTimeout(timer)
  }
}

/** What `fetch` resolved to has no status, headers and body (or null body): the caller's fetch, not the network; never retried. */
export class NotAResponseError extends TypeError {
  constructor(value: unknown) {
    const what =
      value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value
    super(`Cannot stream: fetch resolved to ${what}, not a Response`)
  }
}

/** Whether `input` is a `Request` (whose body, headers and settings each attempt sends). */
export function isRequest(input: unknown): input is Request {
  return typeof Request !== 'undefined' && input instanceof Request
}

/** Reads at most a few hundred bytes of an error body for the error message, then lets it go. */
async function readSnippet(response: Response): Promise<string> {
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (text.length < 200) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    // A body that fails mid-read still leaves the status to report.
  } finally {
    void reader.cancel().catch(() => undefined)
  }
  return snippetOf(text.trim())
}

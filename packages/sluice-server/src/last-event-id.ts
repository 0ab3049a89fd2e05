/**
 * Reading the resume position a client sends.
 *
 * @module
 */
import { decodeLastEventId, LAST_EVENT_ID_HEADER } from 'sluice/protocol'

/**
 * The `Last-Event-ID` a client sent to resume a stream (HTML §9.2.4), or `undefined` when it
 * sent none or an empty one (which the spec uses to mean "from the start").
 *
 * sluice clients send it for NDJSON streams too, with the `idOf` of the last record they received.
 * Serve the records after it, or from it inclusively: the client drops a replayed duplicate.
 *
 * An id with characters beyond ASCII comes back as the client had it: EventSource and sluice send
 * an id's UTF-8 bytes, which `Headers` hands over one character per byte (`'日本'` would read
 * `'æ\x97¥æ\x9C¬'`), so a value whose bytes are valid UTF-8 is decoded as UTF-8. Any other value
 * is returned as it is.
 *
 * @example
 * ```ts
 * import { lastEventId } from 'sluice-server'
 *
 * const request = new Request('https://api.example.com/metrics', { headers: { 'Last-Event-ID': '41' } })
 * const next = Number(lastEventId(request) ?? -1) + 1 // 42
 * ```
 */
export function lastEventId(request: Request): string | undefined {
  const id = request.headers.get(LAST_EVENT_ID_HEADER)
  return id === null || id === '' ? undefined : decodeLastEventId(id)
}

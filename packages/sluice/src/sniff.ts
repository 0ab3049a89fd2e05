/**
 * Tells a page or a document served under a stream's media type from a stream, by the body's first
 * character: an event stream's lines start with a field name, a colon or a line break (HTML §9.2.5),
 * and an NDJSON line with a JSON value, so `<` (HTML, XML) or, for SSE, `{` and `[` (JSON) mean
 * that something else answered: a captive portal, a login page, a misrouted proxy.
 *
 * @module
 */
import type { ContentTypeError } from './errors.js'

/** The action that fixes a body that is not the stream (no option of the client's would). */
export const FOREIGN_BODY_FIX =
  'a captive portal, a login page or a proxy answered instead: check the URL and the network'

/**
 * A check for a body's first chunks: it looks at each until one holds a character that is not
 * blank, then returns the error for a body that is not the stream (`undefined`: it is, or it is
 * still blank), and `undefined` for every later chunk.
 *
 * `starts`: the characters that cannot begin this format's body; `error` builds the error for one that does.
 */
export function bodySniffer(
  starts: string,
  error: (kind: string, snippet: string) => ContentTypeError,
): (chunk: Uint8Array) => ContentTypeError | undefined {
  let done = false
  return (chunk) => {
    if (done) return undefined
    // Once per connection, so decoding the whole chunk costs nothing that matters. `\s` covers a BOM.
    const text = new TextDecoder().decode(chunk).replace(/\s+/g, ' ').trimStart()
    if (text === '') return undefined
    done = true
    const first = text[0]!
    if (!starts.includes(first)) return undefined
    return error(first === '<' ? 'an HTML page' : 'a JSON document', text.length > 80 ? `${text.slice(0, 80)}…` : text)
  }
}

/**
 * The response headers every stream needs to get through proxies unbuffered and untransformed.
 *
 * @module
 */

import { HEARTBEAT_HEADER } from 'sluice/protocol'

/**
 * Headers for a streaming response of `contentType`, with `extra` applied on top.
 *
 * - `Cache-Control: no-cache, no-transform`: no cache stores it, and no proxy recompresses or
 *   rewrites it (RFC 9111 §5.2.2.6), which would hold records back.
 * - `X-Accel-Buffering: no`: nginx passes the response on as it arrives instead of buffering it
 *   (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering).
 * - No `Content-Length`: the length is unknown, so HTTP/1.1 uses chunked transfer coding.
 * - `Sluice-Heartbeat-Ms` (`HEARTBEAT_HEADER` of `sluice/protocol`), when `heartbeatMs` is given and
 *   positive: the heartbeat interval, from which a sluice client sets its idle timeout. Exposed to
 *   cross-origin scripts (`Access-Control-Expose-Headers`), which cannot read it otherwise.
 */
export function streamHeaders(contentType: string, extra?: HeadersInit, heartbeatMs?: number): Headers {
  const headers = new Headers({
    'Content-Type': contentType,
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
  })
  if (extra !== undefined) {
    // Iteration yields each Set-Cookie on its own (Fetch §5.2 "sort and combine"): keep them all.
    new Headers(extra).forEach((value, name) => {
      if (name === 'set-cookie') headers.append(name, value)
      else headers.set(name, value)
    })
  }
  if (heartbeatMs! > 0) {
    headers.set(HEARTBEAT_HEADER, String(heartbeatMs))
    headers.append('Access-Control-Expose-Headers', HEARTBEAT_HEADER)
  }
  headers.delete('Content-Length')
  return headers
}

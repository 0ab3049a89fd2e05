/**
 * The one way sluice-server's tests start a loopback server for a test: `serve()` (src/node.ts:
 * `node:http`, or with `tls` `node:http2` and HTTP/1.1 by ALPN) on 127.0.0.1 and a free port,
 * listening when returned, closed (its open connections cut) when the running test finishes. A
 * server shared by a file's tests, or one a helper owns, is `serve()` itself, closed in `afterAll`
 * or by its owner.
 */
import { onTestFinished } from 'vitest'
import { type FetchHandler, type NodeServer, type ServeOptions, serve } from '../../src/node.js'

/** `serve(handler, options)` for the running test: closed when it finishes (closing twice is fine). */
export async function serveForTest(handler: FetchHandler, options: ServeOptions = {}): Promise<NodeServer> {
  const server = await serve(handler, options)
  onTestFinished(() => server.close())
  return server
}

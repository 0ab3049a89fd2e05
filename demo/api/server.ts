/**
 * The demo API on `node:http`: `/api/*` to the API, `GET /api/connections` (the streams this
 * process holds open), anything else to `fallback` (the page, in `npm run demo`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createNodeHandler } from 'sluice-server/node'
import type { DemoApi } from './app.js'

/** A `node:http` server for `api`; `instance` names it in `/api/connections`. */
export function apiServer(
  api: DemoApi,
  instance: string,
  fallback?: (request: IncomingMessage, response: ServerResponse) => void,
): Server {
  const handleApi = createNodeHandler(api.handle, {
    writeTimeoutMs: 30_000,
    // Injected faults end streams on purpose: one line for those, the whole error for anything else.
    onError: (error) => {
      const message = error instanceof Error ? error.message : String(error)
      if (message.startsWith('fault:')) console.log(`${instance}: stream ended by ${message}`)
      else console.error(error)
    },
  })
  /** Streaming responses open now: tabs sharing one store (sluice/store) hold one between them. */
  let streaming = 0
  return createServer((request, response) => {
    if (request.url === '/api/connections') {
      response
        .writeHead(200, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
          'sluice-instance': instance,
        })
        .end(JSON.stringify({ streaming, instances: { [instance]: streaming } }))
      return
    }
    if (request.url?.startsWith('/api/metrics.')) {
      streaming++
      response.once('close', () => streaming--)
    }
    if (request.url?.startsWith('/api/') || fallback === undefined) handleApi(request, response)
    else fallback(request, response)
  })
}

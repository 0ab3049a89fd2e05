/**
 * `npm run demo`: the demo API (sluice-server) and the page (Vite, in middleware mode) on one port.
 */
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createNodeHandler } from 'sluice-server/node'
import { createServer as createVite } from 'vite'
import { api } from './api/app.js'

const root = fileURLToPath(new URL('.', import.meta.url))
const port = Number(process.env.PORT ?? 5173)
const host = process.env.HOST ?? '127.0.0.1'

const vite = await createVite({
  root,
  configFile: `${root}vite.config.ts`,
  server: { middlewareMode: true, hmr: false },
  appType: 'spa',
})
const handleApi = createNodeHandler(api, {
  writeTimeoutMs: 30_000,
  // Injected faults end streams on purpose: one line for those, the whole error for anything else.
  onError: (error) => {
    const message = error instanceof Error ? error.message : String(error)
    if (message.startsWith('fault:')) console.log(`stream ended by ${message}`)
    else console.error(error)
  },
})

/** Streaming responses open now: tabs sharing one store (sluice/store) hold one between them. */
let streaming = 0

const server = createServer((request, response) => {
  if (request.url === '/api/connections') {
    response
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify({ streaming }))
    return
  }
  if (request.url?.startsWith('/api/metrics.')) {
    streaming++
    response.once('close', () => streaming--)
  }
  if (request.url?.startsWith('/api/')) handleApi(request, response)
  else vite.middlewares(request, response)
})
server.listen(port, host, () => {
  console.log(`sluice demo: http://${host}:${port}/`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.closeAllConnections()
    server.close()
    void vite.close().then(() => process.exit(0))
  })
}

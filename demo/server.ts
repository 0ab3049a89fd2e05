/**
 * `npm run demo`: the demo API (sluice-server, its metrics in a `memoryFeed`) and the page (Vite,
 * in middleware mode) on one port. Nothing to install; `npm run demo:cluster` (cluster.ts) runs
 * the same API as three instances on Redis behind nginx.
 */
import { fileURLToPath } from 'node:url'
import { memoryFeed } from 'sluice-server'
import { createServer as createVite } from 'vite'
import { demoApi } from './api/app.js'
import { HISTORY, soleTurn } from './api/publisher.js'
import { memorySentIds } from './api/sent.js'
import { apiServer } from './api/server.js'

const root = fileURLToPath(new URL('.', import.meta.url))
const port = Number(process.env.PORT ?? 5173)
const host = process.env.HOST ?? '127.0.0.1'

const vite = await createVite({
  root,
  configFile: `${root}vite.config.ts`,
  server: { middlewareMode: true, hmr: false },
  appType: 'spa',
})
const api = demoApi({
  feed: memoryFeed({ maxLen: HISTORY }),
  instance: 'demo',
  turn: soleTurn(),
  sent: memorySentIds(),
})
const server = apiServer(api, 'demo', vite.middlewares)
server.listen(port, host, () => {
  console.log(`sluice demo: http://${host}:${port}/`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    api.close()
    server.closeAllConnections()
    server.close()
    void vite.close().then(() => process.exit(0))
  })
}

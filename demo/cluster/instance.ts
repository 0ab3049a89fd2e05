/**
 * One API instance of `npm run demo:cluster` (started by cluster.ts, three of them behind nginx):
 * the demo API on a `redisFeed`, publishing only while it holds the publisher's lease. Prints
 * `ready <port>` once it listens.
 *
 * Env: PORT, NAME, REDIS_URL, STARTED_AT (the series' start, shared), PER_SECOND (the current rate).
 */
import { createClient } from 'redis'
import { redisFeed } from 'sluice-server/redis'
import { demoApi } from '../api/app.js'
import { HISTORY } from '../api/publisher.js'
import { apiServer } from '../api/server.js'
import { redisSentIds, redisTurn } from './shared.js'

const port = Number(process.env.PORT)
const name = process.env.NAME ?? 'instance'

const redis = createClient({ url: process.env.REDIS_URL, socket: { reconnectStrategy: () => 200 } })
// A lost Redis is reported per request (a 503, a cut stream) and by the publisher, never a crash.
redis.on('error', () => {})
await redis.connect()

const api = demoApi({
  // A msgId only guards a publisher's retry or a lease takeover (seconds), so it is kept a minute, not the
  // default day: at 8 samples/s a day of msgId keys would hold about 110 MiB (169 B each, docs/deployment.md).
  feed: redisFeed(redis, { maxLen: HISTORY, blockMs: 1000, msgIdTtlMs: 60_000 }),
  instance: name,
  turn: redisTurn(redis, name),
  sent: redisSentIds(redis),
  perSecond: Number(process.env.PER_SECOND ?? 8),
  startedAt: Number(process.env.STARTED_AT ?? Date.now()),
})
const server = apiServer(api, name)
server.listen(port, '127.0.0.1', () => process.stdout.write(`ready ${port}\n`))

process.on('SIGTERM', () => {
  api.close()
  server.closeAllConnections()
  server.close()
  redis.destroy()
  process.exit(0)
})

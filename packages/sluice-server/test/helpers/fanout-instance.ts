/**
 * The one sluice-server instance of the fan-out test, forked with an IPC channel and `--expose-gc`:
 * serves the feed at `/feed?key=` (NDJSON, from `feedResponse`) over node:http on loopback, with
 * memoryFeed, or redisFeed on REDIS_URL (its connections named `sluice-fanout`, so `CLIENT LIST`
 * tells them apart). The parent drives it by message; each request gets one reply:
 *
 * - `{ op: 'memory' }`: heap used and RSS after a full GC, in bytes.
 * - `{ op: 'streams' }`: how many feed responses are open.
 * - `{ op: 'publish', key, seq }`: publishes `{ seq, at }`, `at` being `process.hrtime.bigint()`
 *   (CLOCK_MONOTONIC, one clock for every process of the machine) just before `publish` is called,
 *   so a client subtracts it from its own reading on arrival.
 * - `{ op: 'end', key }`.
 *
 * Env: FEED (`memory` | `redis`), REDIS_URL. Sends `{ ready: port }` once listening.
 */
import { createClient } from 'redis'
import { type Feed, feedResponse, memoryFeed } from '../../src/index.js'
import { serve } from '../../src/node.js'
import { redisFeed } from '../../src/redis.js'

type Request =
  | { id: number; op: 'memory' | 'streams' }
  | { id: number; op: 'publish'; key: string; seq: number }
  | { id: number; op: 'end'; key: string }

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined || process.send === undefined) throw new Error('Cannot run: fork me with --expose-gc and IPC')

let feed: Feed
if (process.env['FEED'] === 'redis') {
  const client = createClient({ url: process.env['REDIS_URL'], name: 'sluice-fanout' })
  client.on('error', () => {})
  await client.connect()
  feed = redisFeed(client)
} else {
  feed = memoryFeed()
}

let streams = 0
const server = await serve((request) => {
  const key = new URL(request.url).searchParams.get('key') ?? 'k'
  streams++
  return feedResponse(feed, key, request, { format: 'ndjson', onClose: () => streams-- })
})

async function answer(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'memory':
      gc!()
      gc!()
      return { heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss }
    case 'streams':
      return streams
    case 'publish':
      await feed.publish(request.key, { seq: request.seq, at: String(process.hrtime.bigint()) })
      return null
    case 'end':
      await feed.end(request.key)
      return null
  }
}

process.on('message', (request: Request) => {
  answer(request).then(
    (value) => process.send!({ id: request.id, value }),
    (error: unknown) => process.send!({ id: request.id, error: String(error) }),
  )
})
process.on('disconnect', () => void server.close().then(() => process.exit(0)))
process.send({ ready: server.port })

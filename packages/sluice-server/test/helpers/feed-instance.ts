/**
 * One sluice-server instance of the cluster tests, run as a child process: serves the Redis feed
 * `key` at `/feed` (NDJSON or SSE by `?format=`), names itself in `X-Instance`, and cuts each of
 * its streams after CUT_MIN_MS..CUT_MAX_MS (as deploys and balancers do), so every client resumes
 * elsewhere. A request with `avoid=<its name>` gets a 503 (nginx tries the next upstream).
 * Prints `ready <port>` once listening.
 *
 * Env: PORT, REDIS_URL, NAME, CUT_MIN_MS (default 1000), CUT_MAX_MS (default 3000).
 */
import { createClient } from 'redis'
import { feedResponse } from '../../src/index.js'
import { serve } from '../../src/node.js'
import { redisFeed } from '../../src/redis.js'

const port = Number(process.env['PORT'])
const name = process.env['NAME'] ?? 'instance'
const cutMin = Number(process.env['CUT_MIN_MS'] ?? 1_000)
const cutMax = Number(process.env['CUT_MAX_MS'] ?? 3_000)

const client = createClient({
  url: process.env['REDIS_URL'],
  socket: { reconnectStrategy: () => 100, connectTimeout: 1_000 },
})
client.on('error', () => {}) // a lost Redis is reported per request (503, cut stream), never a crash
await client.connect()
const feed = redisFeed(client, { blockMs: 1_000, timeoutMs: 1_000 })

await serve(
  (request) => {
    const url = new URL(request.url)
    if (url.pathname !== '/feed') return new Response('not found', { status: 404 })
    // A test's way to make a resume land on another instance, as a balancer draining this one
    // would: nginx passes a 503 on to the next upstream (proxy_next_upstream http_503).
    if (url.searchParams.get('avoid') === name)
      return new Response('draining', { status: 503, headers: { 'Retry-After': '0' } })
    const format = url.searchParams.get('format') === 'sse' ? 'sse' : 'ndjson'
    const cutAfterMs = Math.round(cutMin + Math.random() * (cutMax - cutMin))
    return feedResponse(feed, url.searchParams.get('key') ?? 'k', request, {
      format,
      heartbeatMs: 500,
      headers: { 'X-Instance': name },
      signal: AbortSignal.timeout(cutAfterMs),
    })
  },
  { port, hostname: '127.0.0.1', onError: (error) => process.env['DEBUG_INSTANCE'] && console.error(error) },
)
process.stdout.write(`ready ${port}\n`)

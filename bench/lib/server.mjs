/**
 * The benchmark's HTTP producer, run as a child process so its CPU and memory are not the
 * consumer's. Prints `{"port":N}` on stdout once listening on 127.0.0.1, and serves:
 *
 * - `GET /ndjson?bytes=N&seed=S`: about N bytes of NDJSON generated on the fly (unique `seq` and
 *   `id` per record over a pool of seeded record bodies), written in ~64 KiB batches with
 *   backpressure: when `write` returns false it waits for `drain`, so memory stays flat here and
 *   the consumer's reading speed paces the stream.
 * - `GET /latency?count=N&intervalMs=M`: N records, one per write, M ms apart, each stamped with
 *   `sentNs`, the server's `process.hrtime.bigint()` at the moment of writing (CLOCK_MONOTONIC on
 *   Linux, one clock for every process on the machine, so the consumer can subtract it from its own).
 *
 * @module
 */
import { createServer } from 'node:http'
import { bodyPool, pooledLine } from './corpus.mjs'

const BATCH = 64 * 1024

/** Resolves when the socket takes more (`drain`) or is gone (`close`), leaving no listener behind. */
function drainedOrClosed(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

async function streamNdjson(res, bytes, seed) {
  const bodies = bodyPool(seed)
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
  let sent = 0
  let seq = 0
  while (sent < bytes) {
    let batch = ''
    while (batch.length < BATCH) {
      batch += pooledLine(bodies, seq)
      seq++
    }
    const chunk = Buffer.from(batch)
    sent += chunk.length
    if (!res.write(chunk)) {
      await drainedOrClosed(res)
      if (res.destroyed) return
    }
  }
  res.end()
}

async function streamLatency(res, count, intervalMs) {
  const bodies = bodyPool(3)
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
  for (let seq = 0; seq < count && !res.destroyed; seq++) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
    res.write(`{"sentNs":"${process.hrtime.bigint()}",${pooledLine(bodies, seq).slice(1)}`)
  }
  res.end()
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1')
  const number = (name, fallback) => Number(url.searchParams.get(name) ?? fallback)
  const done = (error) => {
    if (error) res.destroy(error)
  }
  if (url.pathname === '/ndjson') streamNdjson(res, number('bytes', 1 << 20), number('seed', 1)).catch(done)
  else if (url.pathname === '/latency') streamLatency(res, number('count', 100), number('intervalMs', 1)).catch(done)
  else res.writeHead(404).end()
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))

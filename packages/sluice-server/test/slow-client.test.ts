/**
 * Slow and absent readers (Slowloris-style slow reads) and many concurrent streams, over real
 * node:http on loopback.
 */
import { appendFileSync } from 'node:fs'
import { connect } from 'node:net'
import { decodeNdjson } from 'sluice'
import { afterEach, expect, test } from 'vitest'
import { ndjsonResponse } from '../src/index.js'
import { serve, type NodeServer } from '../src/node.js'
import { countingSource } from './helpers/sources.js'

/** A figure for RELIABILITY.md (scripts/reliability.mjs sets SLUICE_FIGURES). */
function recordFigure(figure: Record<string, unknown>) {
  if (process.env.SLUICE_FIGURES) appendFileSync(process.env.SLUICE_FIGURES, `${JSON.stringify(figure)}\n`)
}

const servers: NodeServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

test('a raw socket that sends a request and never reads: bounded pulls, then the write timeout reaps it', async () => {
  const counting = countingSource(16 * 1024)
  const server = await serve(() => ndjsonResponse(counting.source, { heartbeatMs: 0 }), { writeTimeoutMs: 500 })
  servers.push(server)
  const socket = connect(server.port, '127.0.0.1')
  socket.on('error', () => {})
  socket.write(`GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
  socket.pause() // never read a byte: the kernel buffers fill, then the server's writes stall
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await counting.released // the write timeout destroyed the connection and released the source
  const pulled = counting.pulled()
  // A few MB of socket buffers at most, never the 10 million records the source could make.
  expect(pulled).toBeLessThan(2000)
  expect(counting.isReleased()).toBe(true)
  socket.resume()
  await closed
  console.log(`slow-read client: ${pulled} records of 16 KiB pulled before the write timeout reaped it`)
  recordFigure({ scenario: 'server: slow-read client that never reads (writeTimeoutMs 500)', cases: 1, detail: `${pulled} records of 16 KiB pulled (socket buffers), then reaped and the source released` })
})

test('200 concurrent streams all complete with their end markers', async () => {
  const perStream = 50
  const server = await serve(
    () =>
      ndjsonResponse(
        (async function* () {
          for (let seq = 0; seq < perStream; seq++) {
            await new Promise((resolve) => setImmediate(resolve))
            yield { seq }
          }
        })(),
        { heartbeatMs: 0 },
      ),
    { writeTimeoutMs: 10_000 },
  )
  servers.push(server)
  const counts = await Promise.all(
    Array.from({ length: 200 }, async () => {
      let n = 0
      // requireEnd: each stream must reach its end marker with the right count.
      for await (const _ of decodeNdjson(await fetch(`${server.url}/s`), { requireEnd: true })) n++
      return n
    }),
  )
  expect(counts).toEqual(Array(200).fill(perStream))
  recordFigure({ scenario: 'server: 200 concurrent streams', cases: 200, records: 200 * perStream, lost: 0, duplicated: 0, detail: 'every stream reached its end marker with the right count' })
}, 60_000)

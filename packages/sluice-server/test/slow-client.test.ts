/**
 * Slow and absent readers (Slowloris-style slow reads) and many concurrent streams, over real
 * node:http on loopback.
 */
import { appendFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { decodeNdjson } from 'sluice'
import { expect, test } from 'vitest'
import { ndjsonResponse } from '../src/index.js'
import { serveForTest } from './helpers/loopback.js'
import { countingSource } from './helpers/sources.js'

/** A figure for RELIABILITY.md (scripts/reliability.mjs sets SLUICE_FIGURES). */
function recordFigure(figure: Record<string, unknown>) {
  if (process.env.SLUICE_FIGURES) appendFileSync(process.env.SLUICE_FIGURES, `${JSON.stringify(figure)}\n`)
}

test('a raw socket that sends a request and never reads: bounded pulls, then the write timeout reaps it', async () => {
  const counting = countingSource(16 * 1024)
  const server = await serveForTest(() => ndjsonResponse(counting.source, { heartbeatMs: 0 }), { writeTimeoutMs: 500 })
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
  recordFigure({
    scenario: 'server: slow-read client that never reads (writeTimeoutMs 500)',
    cases: 1,
    detail: `${pulled} records of 16 KiB pulled (socket buffers), then reaped and the source released`,
  })
})

/** A raw HTTP/1.1 request on a socket that reads nothing until told to. */
function rawClient(port: number): { socket: Socket; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.pause()
  socket.write(`GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return { socket, closed }
}

/** Reads whatever is buffered (at most `max` bytes) without letting the socket flow; returns the count. */
function readUpTo(socket: Socket, max: number): number {
  let read = 0
  while (read < max) {
    const chunk = socket.read() as Buffer | null
    if (chunk === null) break
    read += chunk.length
  }
  return read
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('a client that reads slowly holds the source to its own pace: the server runs ahead by a bounded amount', async () => {
  const pad = 1024
  const counting = countingSource(pad)
  const server = await serveForTest(() => ndjsonResponse(counting.source, { heartbeatMs: 0 }), { writeTimeoutMs: 2000 })
  const { socket, closed } = rawClient(server.port)
  const recordBytes = pad + 30 // {"seq":n,"pad":"…"}\n
  let consumed = 0
  let maxLead = 0
  // 32 KiB every 10 ms: about 3 MB/s, far below what loopback and the source could do.
  for (let i = 0; i < 150; i++) {
    await tick(10)
    consumed += readUpTo(socket, 32 * 1024)
    maxLead = Math.max(maxLead, counting.pulled() * recordBytes - consumed)
  }
  expect(counting.isReleased()).toBe(false) // a slow reader that keeps reading is served, not reaped
  socket.destroy()
  await closed
  await counting.released
  const pulledMiB = (counting.pulled() * recordBytes) / 2 ** 20
  console.log(
    `slow reader: read ${(consumed / 2 ** 20).toFixed(1)} MiB, source pulled ${pulledMiB.toFixed(1)} MiB, lead at most ${(maxLead / 2 ** 20).toFixed(1)} MiB`,
  )
  expect(consumed).toBeGreaterThan(1024 * 1024)
  // Socket buffers on both sides, node's writable buffer and one queued record: a few MiB, not the
  // hundreds the source makes in the same time when nobody holds it back.
  expect(maxLead).toBeLessThan(8 * 2 ** 20)
  recordFigure({
    scenario: 'server: slow-read client (reads 32 KiB every 10 ms for 1.5 s, writeTimeoutMs 2000)',
    cases: 1,
    detail: `read ${(consumed / 2 ** 20).toFixed(1)} MiB; source pulled ${pulledMiB.toFixed(1)} MiB; the server ran at most ${(maxLead / 2 ** 20).toFixed(1)} MiB ahead; not reaped while it kept reading, source released when it left`,
  })
})

test('a client that stops reading mid-stream is kept for a pause shorter than writeTimeoutMs and reaped after a longer one', async () => {
  const writeTimeoutMs = 600
  const counting = countingSource(1024)
  const server = await serveForTest(() => ndjsonResponse(counting.source, { heartbeatMs: 0 }), { writeTimeoutMs })
  const { socket, closed } = rawClient(server.port)
  let consumed = 0
  const readFor = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      await tick(5)
      consumed += readUpTo(socket, 256 * 1024)
    }
  }
  await readFor(200)
  const beforeShortPause = consumed
  await tick(writeTimeoutMs / 3) // shorter than the timeout: kept
  await readFor(200)
  expect(counting.isReleased()).toBe(false)
  expect(consumed).toBeGreaterThan(beforeShortPause)
  const pausedAt = Date.now()
  const pulledAtPause = counting.pulled()
  await counting.released // longer than the timeout: the server destroys the connection and releases the source
  const reapedAfter = Date.now() - pausedAt
  // Let the socket drain what the kernel already holds: then the server's close arrives.
  socket.resume()
  await closed
  // The timer runs from the start of the write that could not complete, which may precede the
  // pause by the time one drain takes (measured: up to ~80 ms on loopback).
  expect(reapedAfter).toBeGreaterThanOrEqual(writeTimeoutMs - 250)
  expect(reapedAfter).toBeLessThan(writeTimeoutMs + 2000)
  // While the client read nothing, the source was pulled only to fill the buffers already in flight.
  const pulledWhilePaused = counting.pulled() - pulledAtPause
  expect(pulledWhilePaused).toBeLessThan(8000)
  recordFigure({
    scenario: `server: client pauses mid-stream (writeTimeoutMs ${writeTimeoutMs})`,
    cases: 2,
    detail: `a ${writeTimeoutMs / 3} ms pause is kept; a longer one is reaped ${reapedAfter} ms after it began, source released; ${pulledWhilePaused} records of 1 KiB pulled while it read nothing`,
  })
})

test('200 concurrent streams are all open at once and all complete, in order, with their end markers', async () => {
  const perStream = 50
  const streams = 200
  let open = 0
  let peakOpen = 0
  let released = 0
  // Each source yields its first record, then waits until all are open (or 10 s went by): the
  // server must hold every stream at once, not serve them one after another.
  let allOpen!: () => void
  const barrier = new Promise<void>((resolve) => (allOpen = resolve))
  const giveUp = setTimeout(allOpen, 10_000)
  const server = await serveForTest(
    () =>
      ndjsonResponse(
        (async function* () {
          open++
          peakOpen = Math.max(peakOpen, open)
          if (open === streams) allOpen()
          try {
            yield { seq: 0 }
            await barrier
            for (let seq = 1; seq < perStream; seq++) {
              await new Promise((resolve) => setImmediate(resolve))
              yield { seq }
            }
          } finally {
            open--
            released++
          }
        })(),
        { heartbeatMs: 0 },
      ),
    { writeTimeoutMs: 10_000 },
  )
  const received = await Promise.all(
    Array.from({ length: streams }, async () => {
      const seqs: number[] = []
      // requireEnd: each stream must reach its end marker with the right count.
      for await (const r of decodeNdjson<{ seq: number }>(await fetch(`${server.url}/s`), { requireEnd: true }))
        seqs.push(r.seq)
      return seqs
    }),
  )
  clearTimeout(giveUp)
  const records = received.reduce((n, seqs) => n + seqs.length, 0)
  const duplicated = received.reduce((n, seqs) => n + seqs.length - new Set(seqs).size, 0)
  const lost = received.reduce((n, seqs) => n + perStream - new Set(seqs).size, 0)
  for (const seqs of received) expect(seqs).toEqual(Array.from({ length: perStream }, (_, i) => i))
  expect(released).toBe(streams)
  expect(peakOpen).toBe(streams)
  recordFigure({
    scenario: `server: ${streams} concurrent streams`,
    cases: streams,
    records,
    lost,
    duplicated,
    detail: `${peakOpen} open at once; every stream in order to its end marker, every source released`,
  })
}, 60_000)

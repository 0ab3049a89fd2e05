/**
 * Contract points of `ndjson()` / `sse()` that a review found broken, each over a real loopback
 * server (node:http, sluice-server for the streams): no mocked fetch.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { z } from 'zod'
import { ndjson, sse, type RecordStream, type SluiceError, type StreamState } from '../src/index.js'
import { ndjsonResponse, sseResponse } from '../../sluice-server/src/index.js'
import { serve } from '../../sluice-server/src/node.js'
import { startChaosServer, type ChaosServer, type Fault, type Format } from './support/chaos-server.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
  delete (globalThis as { document?: unknown }).document
})

async function chaos(format: Format, total: number, faults: Fault[], inclusive = false): Promise<ChaosServer> {
  const server = await startChaosServer({ format, total, plan: (n) => faults[n] ?? { kind: 'ok' }, inclusive })
  closers.push(() => server.close())
  return server
}

/** Records `seq` of a stream, from ndjson() records or sse() events carrying JSON data. */
async function seqs(stream: AsyncIterable<unknown>, perRecord?: () => Promise<void>): Promise<number[]> {
  const out: number[] = []
  for await (const item of stream) {
    const record = (typeof (item as { data?: unknown }).data === 'object' ? (item as { data: unknown }).data : item) as { seq: number }
    out.push(record.seq)
    await perRecord?.()
  }
  return out
}

interface Received {
  method: string
  headers: IncomingHttpHeaders
  body: string
}

/**
 * A server that logs each request's method, headers and body, then answers as `plan` says:
 * a status with no records, `hang` (never answer), or `ok`: `total` NDJSON records.
 * `open: true` writes `lines` and keeps the connection open.
 */
async function echoServer(plan: (n: number) => number | 'ok' | 'hang' | 'redirect', total = 3) {
  const received: Received[] = []
  const sockets = new Set<Socket>()
  let onRequest: (() => void) | undefined
  const server = createServer((request, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const step = plan(received.length)
      received.push({ method: request.method!, headers: request.headers, body: Buffer.concat(chunks).toString() })
      onRequest?.()
      if (step === 'hang') return
      if (step === 'redirect') {
        response.writeHead(302, { location: '/elsewhere' }).end()
      } else if (step !== 'ok') {
        response.writeHead(step, { 'content-type': 'text/plain' }).end(`status ${step}`)
      } else {
        response.writeHead(200, { 'content-type': 'application/x-ndjson' })
        response.end(range(total).map((seq) => `{"seq":${seq}}\n`).join(''))
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`,
    received,
    /** Resolves once the server has received `n` requests. */
    requests: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => received.length >= n && resolve()
        onRequest = check
        check()
      }),
  }
}

describe('counters.skipped', () => {
  test('is current while the connection is open, not only once an attempt ends', async () => {
    const lines = ['{"seq":0}', '{"seq":"not a number"}', '{"seq":2}'].join('\n') + '\n'
    const sockets = new Set<Socket>()
    const server = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' })
      response.write(lines) // and the connection stays open
    })
    server.on('connection', (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
    const stream = ndjson(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
      schema: z.object({ seq: z.number() }),
      onInvalid: 'skip',
      idOf: (r) => r.seq,
    })
    const iterator = stream[Symbol.asyncIterator]()
    expect((await iterator.next()).value).toEqual({ seq: 0 })
    expect((await iterator.next()).value).toEqual({ seq: 2 })
    expect(stream.state).toBe('open')
    expect(stream.counters.skipped).toBe(1)
    stream.close()
    expect(await iterator.next()).toEqual({ value: undefined, done: true })
    expect(stream.counters.skipped).toBe(1) // counted once, not again when the attempt ends
  })
})

/**
 * What a finished stream leaves behind in objects that outlive it: an app-wide AbortSignal passed
 * to every stream (a shutdown signal) must not collect one listener, and one stream, per stream.
 */
import { getEventListeners } from 'node:events'
import type { RequestListener } from 'node:http'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { ndjson, sse } from '../../src/index.js'
import { recordFigure, retainedHeapMiB } from '../support/figures.js'
import { type Loopback, startLoopback } from '../support/loopback.js'

let url = ''
const handler: RequestListener = (request, response) => {
  if (request.url === '/sse') {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.end('id: 1\ndata: {"seq":1}\n\nevent: end\ndata: {"count":1}\n\n')
  } else {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' })
    response.end('{"seq":1}\n{"$sluice":"end","count":1}\n')
  }
}
let server: Loopback
beforeAll(async () => {
  server = await startLoopback(handler)
  url = new URL(server.url).origin
})
afterAll(() => server.close())

test('streams that end, break or close leave no listener on a shared signal, and are collected', async () => {
  const shutdown = new AbortController()
  const streams = 600
  // Warm up (the runtime's fetch keeps a connection pool per origin) before the heap baseline.
  for await (const _ of ndjson(`${url}/ndjson`, { signal: shutdown.signal }));
  const before = retainedHeapMiB()
  for (let i = 0; i < streams; i++) {
    const ending = i % 3
    const stream =
      i % 2 === 0
        ? ndjson(`${url}/ndjson`, { signal: shutdown.signal, requireEnd: true })
        : sse(`${url}/sse`, { signal: shutdown.signal, json: true })
    if (ending === 0)
      for await (const _ of stream); // to the end marker
    else if (ending === 1)
      for await (const _ of stream) break // the consumer leaves
    else {
      for await (const _ of stream) {
        stream.close() // closed from outside
      }
    }
  }
  const after = retainedHeapMiB()
  const listeners = getEventListeners(shutdown.signal, 'abort').length
  expect(listeners).toBe(0)
  expect(after - before).toBeLessThan(4)
  recordFigure({
    scenario: `leaks: ${streams} streams (NDJSON and SSE; ended, broken out of, closed) sharing one AbortSignal`,
    cases: streams,
    detail: `${listeners} listeners left on the signal; retained heap ${before.toFixed(1)} → ${after.toFixed(1)} MiB after GC`,
  })
})

test('a stream never iterated and then closed leaves no listener on its signal', () => {
  const shutdown = new AbortController()
  for (let i = 0; i < 100; i++) ndjson(`${url}/ndjson`, { signal: shutdown.signal }).close()
  expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0)
})

test.each(['ndjson', 'sse'] as const)(
  '%s(): a signal aborted before the stream starts sends no request and rejects with its reason',
  async (format) => {
    let requests = 0
    const counting: typeof fetch = (input, init) => {
      requests++
      return fetch(input, init)
    }
    const controller = new AbortController()
    controller.abort(new Error('too late'))
    const got: unknown[] = []
    const stream =
      format === 'ndjson'
        ? ndjson(`${url}/ndjson`, { fetch: counting, signal: controller.signal })
        : sse(`${url}/sse`, { fetch: counting, signal: controller.signal })
    const error = await (async () => {
      for await (const r of stream) got.push(r)
    })().then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.message).toBe('too late')
    expect(got).toEqual([])
    expect(requests).toBe(0)
    expect(stream.state).toBe('closed')
  },
)

test.each(['ndjson', 'sse'] as const)(
  '%s(): an onOpen hook that throws is final, thrown as it is, and the connection is released',
  async (format) => {
    let opened = 0
    let released = 0
    const endless = await startLoopback((_, response) => {
      opened++
      response.writeHead(200, { 'content-type': format === 'ndjson' ? 'application/x-ndjson' : 'text/event-stream' })
      const timer = setInterval(() => response.write(format === 'ndjson' ? '{"seq":1}\n' : 'data: 1\n\n'), 5)
      response.on('close', () => {
        clearInterval(timer)
        released++
      })
    })
    const target = endless.url
    const hookError = new Error('bug in onOpen')
    const options = {
      retry: { initialDelayMs: 1, minDelayMs: 0, maxAttempts: 3 },
      onOpen: () => {
        throw hookError
      },
    }
    try {
      const error = await (async () => {
        for await (const _ of format === 'ndjson' ? ndjson(target, options) : sse(target, options));
      })().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBe(hookError)
      expect(opened).toBe(1)
      for (let i = 0; i < 100 && released < opened; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(released).toBe(opened)
    } finally {
      await endless.close()
    }
  },
)

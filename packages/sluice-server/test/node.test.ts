import { request as httpRequest, type IncomingMessage } from 'node:http'
import { decodeNdjson } from 'sluice'
import { describe, expect, test } from 'vitest'
import { lastEventId, ndjsonResponse, type StreamSummary, sseResponse } from '../src/index.js'
import { serveForTest } from './helpers/loopback.js'
import { countingSource, deferred } from './helpers/sources.js'

/** Records `first`, then waits for the client to leave (the request's signal), like a live feed with nothing new. */
function idleFeed<T>(first: T[], signal: AbortSignal, released: () => void): AsyncGenerator<T> {
  return (async function* () {
    try {
      yield* first
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
    } finally {
      released()
    }
  })()
}

/** A raw GET whose response is handed over paused: nothing is read until the test says so. */
function pausedGet(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      res.pause()
      resolve(res)
    })
    req.on('error', reject)
    req.end()
  })
}

/** Polls `value` until it stops changing for `quietMs` (bounded by `maxMs`); returns the last value. */
async function plateau(value: () => number, quietMs: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs
  let last = value()
  let stableSince = Date.now()
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25))
    const now = value()
    if (now !== last) {
      last = now
      stableSince = Date.now()
    } else if (Date.now() - stableSince >= quietMs) break
  }
  return last
}

describe('serve', () => {
  test('listens on 127.0.0.1 on an ephemeral port and reports its url', async () => {
    const server = await serveForTest(() => new Response('ok'))
    expect(server.port).toBeGreaterThan(0)
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    expect(await (await fetch(`${server.url}/health`)).text()).toBe('ok')
  })

  test('flushes the headers before the first record: the client sees the stream open', async () => {
    const released = deferred()
    const server = await serveForTest((request) => ndjsonResponse(idleFeed([], request.signal, released.resolve)))
    const aborter = new AbortController()
    const response = await fetch(server.url, { signal: aborter.signal })
    expect(response.headers.get('content-type')).toBe('application/x-ndjson')
    expect(response.headers.get('transfer-encoding')).toBe('chunked')
    expect(response.headers.has('content-length')).toBe(false)
    aborter.abort()
    await released.promise
  })

  test('delivers a record while the stream is still open', async () => {
    const released = deferred()
    const server = await serveForTest((request) =>
      ndjsonResponse(idleFeed([{ seq: 0 }], request.signal, released.resolve)),
    )
    const aborter = new AbortController()
    const records = decodeNdjson(await fetch(server.url, { signal: aborter.signal }))
    expect(await records.next()).toEqual({ done: false, value: { seq: 0 } })
    aborter.abort()
    await released.promise
  })

  test('a client that disconnects mid-stream makes the server call the source return()', async () => {
    const { source, released } = countingSource()
    const closed = deferred<StreamSummary>()
    const server = await serveForTest(() => ndjsonResponse(source, { idOf: (r) => r.seq, onClose: closed.resolve }))
    const aborter = new AbortController()
    const records = decodeNdjson<{ seq: number }>(await fetch(server.url, { signal: aborter.signal }))
    for (let i = 0; i < 3; i++) expect((await records.next()).value).toMatchObject({ seq: i })
    aborter.abort()
    await released
    expect((await closed.promise).reason).toBe('cancel')
  })

  test('a client that stops reading stops the source: the server buffers a bounded amount', async () => {
    const recordBytes = 16 * 1024
    const { source, pulled, released } = countingSource(recordBytes)
    const server = await serveForTest(() => ndjsonResponse(source))
    const res = await pausedGet(server.url)
    const stalled = await plateau(pulled, 300, 10_000)
    console.log(`slow client: the endless source stopped after ${stalled} records of 16 KiB (socket buffers full)`)
    // Socket buffers on both sides hold a few MiB on loopback at most; an unbounded server would keep going.
    expect(stalled * recordBytes).toBeLessThan(32 * 1024 * 1024)
    expect(await plateau(pulled, 300, 2_000)).toBe(stalled)
    // Reading again makes the source move again.
    res.resume()
    const moving = deferred()
    const timer = setInterval(() => pulled() > stalled + 100 && moving.resolve(), 10)
    await moving.promise
    clearInterval(timer)
    res.destroy()
    await released
  })

  test('a client that reads nothing for writeTimeoutMs is cut off and the source released', async () => {
    const { source, released } = countingSource(16 * 1024)
    const server = await serveForTest(() => ndjsonResponse(source), { writeTimeoutMs: 300 })
    const res = await pausedGet(server.url)
    const cut = deferred()
    res.on('error', () => cut.resolve())
    res.on('aborted', () => cut.resolve())
    res.on('close', () => cut.resolve())
    await released
    res.resume() // drain what was buffered, so the client notices the end
    await cut.promise
    expect(res.complete).toBe(false)
  })

  test('a body that fails mid-stream cuts the connection instead of ending it cleanly', async () => {
    const errors: unknown[] = []
    async function* failing() {
      yield { seq: 0 }
      throw new Error('cursor lost')
    }
    const server = await serveForTest(() => ndjsonResponse(failing()), { onError: (e) => errors.push(e) })
    const response = await fetch(server.url)
    await expect(response.text()).rejects.toThrow()
    expect(errors).toHaveLength(1)
  })

  test('a handler that throws gets a 500 and onError sees the error', async () => {
    const errors: unknown[] = []
    const server = await serveForTest(
      () => {
        throw new Error('boom')
      },
      { onError: (e) => errors.push(e) },
    )
    const response = await fetch(server.url)
    expect(response.status).toBe(500)
    expect((errors[0] as Error).message).toBe('boom')
  })

  test('hands the handler a Request with method, url, headers and a streamed body', async () => {
    const server = await serveForTest(async (request) => {
      const url = new URL(request.url)
      return Response.json({
        method: request.method,
        path: url.pathname + url.search,
        lastEventId: lastEventId(request) ?? null,
        body: await request.text(),
      })
    })
    const response = await fetch(`${server.url}/feed?x=1`, {
      method: 'POST',
      headers: { 'Last-Event-ID': '41' },
      body: 'hello',
    })
    expect(await response.json()).toEqual({ method: 'POST', path: '/feed?x=1', lastEventId: '41', body: 'hello' })
  })

  test('a HEAD request gets the headers and cancels the body without reading it', async () => {
    const { source, pulled } = countingSource()
    const closed = deferred<StreamSummary>()
    const server = await serveForTest(() => ndjsonResponse(source, { onClose: closed.resolve }))
    const response = await fetch(server.url, { method: 'HEAD' })
    expect(response.headers.get('content-type')).toBe('application/x-ndjson')
    expect((await closed.promise).reason).toBe('cancel')
    expect(pulled()).toBeLessThanOrEqual(1)
  })

  test('passes every Set-Cookie header through', async () => {
    const server = await serveForTest(() => {
      const headers = new Headers()
      headers.append('Set-Cookie', 'a=1')
      headers.append('Set-Cookie', 'b=2')
      return new Response(null, { status: 204, headers })
    })
    const response = await fetch(server.url)
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
  })

  test('close() cuts open streams, so their sources are released and clients see a cut stream', async () => {
    const released = deferred()
    const server = await serveForTest((request) =>
      sseResponse(idleFeed([{ data: 'a', id: 1 }], request.signal, released.resolve)),
    )
    const response = await fetch(server.url)
    const text = response.text()
    await server.close()
    await released.promise
    await expect(text).rejects.toThrow()
  })
})

/**
 * Sources recognised by shape, never by `instanceof` (source.ts, and the fetch layer's response
 * check): a Response and its bytes from a second realm (`node:vm`), a Response class that is not the
 * global one (as a framework's Node adapter installs), an object with only `body.getReader()`, and a
 * fetch whose responses come from another implementation; through decode*, the stream classes and
 * ndjson() / sse(). A value that is no source is a TypeError at the call, never a retried NetworkError.
 */
import { runInNewContext } from 'node:vm'
import { describe, expect, test } from 'vitest'
import {
  decodeNdjson,
  decodeSse,
  type FetchOptions,
  NdjsonDecoderStream,
  ndjson,
  SseDecoderStream,
  sse,
} from '../src/index.js'
import { collect, collectStream, streamOf, utf8 } from './collect.js'
import { listen } from './support/loopback.js'

const NDJSON = '{"seq":0,"t":"é"}\n{"seq":1,"t":"日本"}\n'
const SSE = 'id: 1\ndata: {"seq":0}\n\nid: 2\ndata: {"seq":1}\n\n'
const ndjsonItems = [
  { seq: 0, t: 'é' },
  { seq: 1, t: '日本' },
]
const sseItems = [
  { event: 'message', data: '{"seq":0}', id: '1' },
  { event: 'message', data: '{"seq":1}', id: '2' },
]

/**
 * A Response built in a second realm: its class, its stream, its reader, its promises and its
 * Uint8Array chunks all belong to the vm context, so none is an instance of this realm's classes.
 */
function vmResponse(text: string, status = 200, contentType = 'application/x-ndjson'): Response {
  const bytes = Array.from(utf8(text))
  const response = runInNewContext(
    `
    class Headers { constructor(h) { this.h = h } get(name) { return this.h[name.toLowerCase()] ?? null } }
    class ReadableStream {
      constructor(chunks) { this.chunks = chunks; this.locked = false }
      getReader() {
        this.locked = true
        const chunks = this.chunks
        return {
          read: async () => (chunks.length > 0 ? { done: false, value: chunks.shift() } : { done: true, value: undefined }),
          cancel: async () => { chunks.length = 0 },
          releaseLock() {},
        }
      }
    }
    class Response {
      constructor(chunks, status, type) {
        this.body = new ReadableStream(chunks)
        this.bodyUsed = false
        this.status = status
        this.ok = status >= 200 && status < 300
        this.statusText = ''
        this.headers = new Headers({ 'content-type': type })
      }
    }
    // Cut in three, inside multi-byte characters.
    const all = new Uint8Array(bytes)
    const third = Math.ceil(all.length / 3)
    new Response([all.subarray(0, third), all.subarray(third, 2 * third), all.subarray(2 * third)], status, type)
    `,
    { bytes, status, type: contentType },
  ) as Response
  return response
}

/** A Response class that is not the global one, over a real ReadableStream (a framework's lightweight Response). */
class OtherResponse {
  readonly bodyUsed = false
  readonly ok = true
  readonly status = 200
  readonly statusText = 'OK'
  readonly headers: Headers
  readonly body: ReadableStream<Uint8Array>
  constructor(text: string, contentType: string) {
    this.body = streamOf([utf8(text)])
    this.headers = new Headers({ 'content-type': contentType })
  }
}

/** The least a source can be: an object whose body has only `getReader()`, whose reader has only `read()`. */
function bareBody(text: string): { body: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }> } } } {
  const chunks = [utf8(text)]
  return {
    body: {
      getReader: () => ({
        read: async () => (chunks.length > 0 ? { done: false, value: chunks.shift()! } : { done: true }),
      }),
    },
  }
}

describe('decoders take any Response and any stream by shape', () => {
  test("a Response from a second realm (node:vm), its chunks that realm's Uint8Arrays", async () => {
    expect(vmResponse(NDJSON)).not.toBeInstanceOf(Response)
    expect(await collect(decodeNdjson(vmResponse(NDJSON)))).toEqual({ items: ndjsonItems })
    expect(await collect(decodeSse(vmResponse(SSE)))).toEqual({ items: sseItems })
    // Its body alone is a stream too.
    expect(await collect(decodeNdjson(vmResponse(NDJSON).body!))).toEqual({ items: ndjsonItems })
  })

  test('a Response class that is not the global one', async () => {
    expect(await collect(decodeNdjson(new OtherResponse(NDJSON, '') as unknown as Response))).toEqual({
      items: ndjsonItems,
    })
    expect(await collect(decodeSse(new OtherResponse(SSE, '') as unknown as Response))).toEqual({ items: sseItems })
  })

  test('an object with only body.getReader() (no cancel, no bodyUsed)', async () => {
    expect(await collect(decodeNdjson(bareBody(NDJSON) as unknown as Response))).toEqual({ items: ndjsonItems })
    expect(await collect(decodeSse(bareBody(SSE) as unknown as Response))).toEqual({ items: sseItems })
    // Leaving early cancels a reader that has no cancel without failing.
    for await (const record of decodeNdjson(bareBody(NDJSON) as unknown as Response)) {
      expect(record).toEqual(ndjsonItems[0])
      break
    }
  })

  test('a foreign Response whose body was used is refused at the call', () => {
    const used = { ...new OtherResponse(NDJSON, ''), bodyUsed: true }
    expect(() => decodeNdjson(used as unknown as Response)).toThrow(/body was already used/)
  })

  test("the stream classes take another realm's chunks", async () => {
    const chunks = (text: string): unknown[] =>
      runInNewContext('bytes.map((b) => new Uint8Array([b]))', { bytes: Array.from(utf8(text)) })
    const ndjsonOut = streamOf(chunks(NDJSON) as Uint8Array[]).pipeThrough(new NdjsonDecoderStream())
    expect(await collectStream(ndjsonOut)).toEqual({ items: ndjsonItems })
    const sseOut = streamOf(chunks(SSE) as Uint8Array[]).pipeThrough(new SseDecoderStream())
    expect(await collectStream(sseOut)).toEqual({ items: sseItems })
    // An ArrayBuffer from another realm is bytes too.
    const buffers = runInNewContext('[new Uint8Array(bytes).buffer]', {
      bytes: Array.from(utf8(NDJSON)),
    }) as ArrayBuffer[]
    expect(
      await collectStream(streamOf(buffers as unknown as Uint8Array[]).pipeThrough(new NdjsonDecoderStream())),
    ).toEqual({ items: ndjsonItems })
  })

  test('leaving early closes any iterable source, and a source that throws while closing is ignored alike', async () => {
    const closed: string[] = []
    function* sync() {
      try {
        yield utf8(NDJSON)
        yield utf8(NDJSON)
      } finally {
        closed.push('sync')
        // biome-ignore lint/correctness/noUnsafeFinally: a source that fails while closing is the case under test
        throw new Error('closing failed')
      }
    }
    async function* async() {
      try {
        yield utf8(NDJSON)
        yield utf8(NDJSON)
      } finally {
        closed.push('async')
        // biome-ignore lint/correctness/noUnsafeFinally: a source that fails while closing is the case under test
        throw new Error('closing failed')
      }
    }
    for (const source of [sync(), async()]) {
      const seen: unknown[] = []
      for await (const record of decodeNdjson(source)) {
        seen.push(record)
        break
      }
      expect(seen).toEqual([ndjsonItems[0]])
    }
    expect(closed).toEqual(['sync', 'async'])
  })

  test('a value that is no source is a TypeError at the call', () => {
    for (const value of [{ body: 42 }, { getReader: 1 }, 'data: x\n\n', 42, null])
      for (const decode of [(v: Response) => decodeNdjson(v), (v: Response) => decodeSse(v)])
        expect(() => decode(value as unknown as Response)).toThrow(TypeError)
  })
})

describe("ndjson() and sse() take another implementation's Responses", () => {
  async function server() {
    const http = await listen((req, res) => {
      const isSse = req.url === '/sse'
      res.writeHead(200, { 'content-type': isSse ? 'text/event-stream' : 'application/x-ndjson' })
      res.end(isSse ? `${SSE}event: end\ndata: {"count":2}\n\n` : `${NDJSON}{"$sluice":"end","count":2}\n`)
    })
    const { port } = http.address() as { port: number }
    return `http://127.0.0.1:${port}`
  }

  test("with globalThis.Response replaced (as a framework's Node adapter does), the global fetch's responses still are", async () => {
    const url = await server()
    const original = globalThis.Response
    ;(globalThis as { Response: unknown }).Response = class Replaced {}
    try {
      expect(await collect(ndjson(`${url}/ndjson`, { retry: false }))).toEqual({ items: ndjsonItems })
      expect(await collect(sse(`${url}/sse`, { retry: false }))).toEqual({ items: sseItems })
    } finally {
      globalThis.Response = original
    }
  })

  test('a fetch whose responses come from another realm or another class', async () => {
    const url = await server()
    const through = (wrap: (text: string, type: string) => unknown) =>
      (async (input: RequestInfo | URL, init?: RequestInit) => {
        const real = await fetch(input, init)
        return wrap(await real.text(), real.headers.get('content-type') ?? '') as Response
      }) as typeof fetch
    for (const wrap of [
      (t: string, type: string) => vmResponse(t, 200, type),
      (t: string, type: string) => new OtherResponse(t, type),
    ]) {
      expect(await collect(ndjson(`${url}/ndjson`, { fetch: through(wrap), retry: false }))).toEqual({
        items: ndjsonItems,
      })
      expect(await collect(sse(`${url}/sse`, { fetch: through(wrap), retry: false }))).toEqual({ items: sseItems })
    }
  })

  test('a fetch from npm (undici), whose Responses are not the global class', async () => {
    const { fetch: undiciFetch } = await import('undici')
    const url = await server()
    const viaUndici = ((input: string, init?: RequestInit) =>
      undiciFetch(input, init as object)) as unknown as typeof fetch
    const response = await viaUndici(`${url}/ndjson`)
    expect(response instanceof Response).toBe(false) // the case this test is for
    await response.body?.cancel()
    expect(await collect(ndjson(`${url}/ndjson`, { fetch: viaUndici, retry: false }))).toEqual({ items: ndjsonItems })
  })

  test('a fetch that resolves to no Response fails once with a TypeError, not a retried NetworkError', async () => {
    for (const value of [undefined, {}, { status: 200, body: 42 }, 'text']) {
      let calls = 0
      const fetchImpl = (async () => {
        calls++
        return value
      }) as unknown as typeof fetch
      for (const open of [
        (url: string, o: FetchOptions) => ndjson(url, o),
        (url: string, o: FetchOptions) => sse(url, o),
      ]) {
        calls = 0
        const { error } = await collect(
          open('http://127.0.0.1:9/', { fetch: fetchImpl, retry: { maxAttempts: 5, initialDelayMs: 1 } }),
        )
        expect(error).toBeInstanceOf(TypeError)
        expect(String(error)).toMatch(/Cannot stream: fetch resolved to .*, not a Response/)
        expect(calls).toBe(1)
      }
    }
  })
})

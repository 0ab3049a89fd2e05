/**
 * One attempt (connect.ts): the request built (headers, body, `Last-Event-ID`, a `Request` input's
 * settings), sent with a connect timeout, and the response checked before any byte is decoded.
 * `connect()` itself over a real loopback server, then the same through `ndjson()` / `sse()`, where
 * every attempt sends its own request.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import { describe, expect, test } from 'vitest'
import { type Accepts, connect } from '../src/connect.js'
import type { SluiceError } from '../src/errors.js'
import { ndjson } from '../src/index.js'
import { chaos, openChaos } from './support/chaos-server.js'
import { listen, urlOf } from './support/loopback.js'
import { fast, range, seqs } from './support/streams.js'

interface Received {
  method: string
  headers: IncomingHttpHeaders
  body: string
}

/**
 * A server that logs each request's method, headers and body, then answers as `plan` says:
 * a status with no records, `hang` (never answer), `redirect`, or `ok`: `total` NDJSON records.
 */
async function echoServer(plan: (n: number) => number | 'ok' | 'hang' | 'redirect', total = 3) {
  const received: Received[] = []
  let onRequest: (() => void) | undefined
  const server = await listen((request, response: ServerResponse) => {
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
        response.writeHead(step, { 'content-type': 'text/plain', 'retry-after': '7' }).end(`status ${step}`)
      } else {
        response.writeHead(200, { 'content-type': 'application/x-ndjson' })
        response.end(
          range(total)
            .map((seq) => `{"seq":${seq}}\n`)
            .join(''),
        )
      }
    })
  })
  return {
    url: `${urlOf(server)}stream`,
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

/** A loopback server answering every request with `status`, `contentType` and `body`. */
async function answering(status: number, contentType: string, body = '') {
  const server = await listen((_request, response) => {
    response.writeHead(status, contentType ? { 'content-type': contentType } : {}).end(body)
  })
  return urlOf(server)
}

const ndjsonFormat: Accepts = {
  accept: ['application/x-ndjson'],
  acceptHeader: 'application/x-ndjson',
  typeFix: (type) => `accept ${type} with contentTypes`,
}

/** One `connect()` with the global fetch: `options` and `lastEventId` as given, on a fresh attempt. */
function attempt(
  input: string | Request,
  options: Parameters<typeof connect>[1] = {},
  lastEventId?: string,
  format = ndjsonFormat,
  controller = new AbortController(),
) {
  const method = typeof input === 'string' ? 'GET' : input.method
  return connect({ input, method, body: options.body }, options, fetch, format, lastEventId, controller)
}

describe('connect(): the request', () => {
  test("sends the format's Accept and Cache-Control: no-cache, unless the caller set its own", async () => {
    const server = await echoServer(() => 'ok')
    await (await attempt(server.url))!.body!.cancel()
    await (await attempt(server.url, {
      headers: { accept: 'application/jsonl', 'cache-control': 'max-age=0' },
    }))!.body!.cancel()
    expect(server.received.map((r) => [r.headers.accept, r.headers['cache-control']])).toEqual([
      ['application/x-ndjson', 'no-cache'],
      ['application/jsonl', 'max-age=0'],
    ])
  })

  test('sends lastEventId as Last-Event-ID (beyond Latin-1: its UTF-8 bytes), and none for an id with CR, LF or NUL', async () => {
    const server = await echoServer(() => 'ok')
    for (const id of ['41', 'é-日本-🚀', 'a\nb', 'a\rb', 'a\0b'])
      await (await attempt(server.url, {}, id))!.body!.cancel()
    const sent = server.received.map((r) => r.headers['last-event-id'] as string | undefined)
    expect(sent.map((value) => value && Buffer.from(value, 'latin1').toString('utf8'))).toEqual([
      '41',
      'é-日本-🚀',
      undefined,
      undefined,
      undefined,
    ])
  })

  test('an aborted attempt rejects with the reason it was aborted with', async () => {
    const server = await echoServer(() => 'hang')
    const controller = new AbortController()
    const pending = attempt(server.url, {}, undefined, ndjsonFormat, controller)
    await server.requests(1)
    const reason = new Error('closed')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
  })
})

describe('connect(): the response', () => {
  test('a 2xx of an accepted type is returned unread; its media type is compared without parameters or case', async () => {
    const url = await answering(200, 'Application/X-NDJSON; charset=utf-8', '{"seq":0}\n')
    const response = await attempt(url)
    expect(await response!.text()).toBe('{"seq":0}\n')
  })

  test('204 No Content resolves to undefined: no stream, nothing to decode', async () => {
    expect(await attempt(await answering(204, ''))).toBeUndefined()
  })

  test('any other status is an HttpError with the status, a snippet of the body and Retry-After', async () => {
    const server = await echoServer(() => 503)
    const error = await attempt(server.url).catch((thrown: SluiceError) => thrown)
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 503, snippet: 'status 503', retryAfterMs: 7000 })
    expect((error as Error).message).toContain('503 Service Unavailable')
  })

  test("another media type is a ContentTypeError naming it, the types expected and the format's fix; '*' accepts any", async () => {
    const url = await answering(200, 'text/html', '<html></html>')
    const error = await attempt(url).catch((thrown: SluiceError) => thrown)
    expect(error).toMatchObject({ code: 'CONTENT_TYPE', contentType: 'text/html', expected: ['application/x-ndjson'] })
    expect((error as Error).message).toContain('accept text/html with contentTypes')
    const any = await attempt(url, {}, undefined, { ...ndjsonFormat, accept: '*' })
    expect(await any!.text()).toBe('<html></html>')
  })

  test('a connection refused is a NetworkError with the failure as its cause', async () => {
    const server = await listen(() => {})
    const url = urlOf(server)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const error = await attempt(url).catch((thrown: SluiceError) => thrown)
    expect(error).toMatchObject({ code: 'NETWORK_ERROR' })
    expect((error as Error).cause).toBeInstanceOf(Error)
  })
})

describe.each(['ndjson', 'sse'] as const)('%s(): every attempt sends its own request', (format) => {
  test('a server that never sends headers hits the connect timeout', async () => {
    const server = await chaos(format, 3, [{ kind: 'no-headers' }])
    const retries: string[] = []
    const got = await seqs(
      openChaos(format, server.url, {
        connectTimeoutMs: 500,
        onRetry: ({ error }: { error: SluiceError }) => retries.push(error.code),
      }),
    )
    expect(got).toEqual(range(3))
    expect(retries).toEqual(['CONNECT_TIMEOUT'])
  })

  test('headers from a function are evaluated again on every attempt', async () => {
    const server = await chaos(format, 4, [
      { kind: 'status', status: 500 },
      { kind: 'cut', atByte: 120 },
    ])
    let token = 0
    await seqs(openChaos(format, server.url, { headers: () => ({ authorization: `Bearer ${++token}` }) }))
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer 1', 'Bearer 2', 'Bearer 3'])
  })
})

describe('a Request input is sent as given', () => {
  test('its method, headers and body arrive, on the retry after a 503 too', async () => {
    const server = await echoServer((n) => (n === 0 ? 503 : 'ok'))
    const request = new Request(server.url, { method: 'POST', headers: { 'x-client': 'r1' }, body: '{"q":1}' })
    expect(await seqs(ndjson(request, { retry: fast }))).toEqual(range(3))
    expect(server.received.map(({ method, headers, body }) => [method, headers['x-client'], body])).toEqual([
      ['POST', 'r1', '{"q":1}'],
      ['POST', 'r1', '{"q":1}'],
    ])
  })

  test('a ReadableStream body in the Request is re-sent on retry', async () => {
    const server = await echoServer((n) => (n === 0 ? 503 : 'ok'))
    const body = new Blob(['streamed body']).stream()
    const request = new Request(server.url, { method: 'POST', body, duplex: 'half' } as RequestInit)
    expect(await seqs(ndjson(request, { retry: fast }))).toEqual(range(3))
    expect(server.received.map((r) => r.body)).toEqual(['streamed body', 'streamed body'])
  })

  test('options override the Request', async () => {
    const server = await echoServer(() => 'ok')
    const request = new Request(server.url, { method: 'PUT', headers: { 'x-client': 'request' }, body: 'from request' })
    await seqs(ndjson(request, { method: 'POST', headers: { 'x-client': 'options' }, body: 'from options' }))
    expect(server.received.map(({ method, headers, body }) => [method, headers['x-client'], body])).toEqual([
      ['POST', 'options', 'from options'],
    ])
  })

  test('a ReadableStream body from options is sent (duplex) and, from a function, re-sent', async () => {
    const server = await echoServer((n) => (n === 0 ? 503 : 'ok'))
    const stream = ndjson(server.url, { method: 'POST', body: () => new Blob(['fresh']).stream(), retry: fast })
    expect(await seqs(stream)).toEqual(range(3))
    expect(server.received.map((r) => r.body)).toEqual(['fresh', 'fresh'])
  })

  test('its signal stops the stream', async () => {
    const server = await echoServer(() => 'hang')
    const controller = new AbortController()
    const stream = ndjson(new Request(server.url, { signal: controller.signal }), {
      connectTimeoutMs: 2000,
      retry: false,
    })
    const pending = seqs(stream).catch((error: Error) => error)
    await server.requests(1)
    controller.abort(new Error('user left'))
    expect(((await pending) as Error).message).toBe('user left')
  })

  test("its redirect: 'error' is kept: a redirect is a final RedirectError that says the request refused it, not a loop", async () => {
    const server = await echoServer((n) => (n === 0 ? 'redirect' : 'ok'))
    const stream = ndjson(new Request(server.url, { redirect: 'error' }), { retry: fast })
    const error = (await seqs(stream).catch((thrown: SluiceError) => thrown)) as SluiceError
    expect(error.name).toBe('RedirectError')
    expect(error.message).toMatch(/redirect mode/)
    expect(error.message).not.toMatch(/too many|loop/)
    expect(error.attempts).toBe(1)
    expect(server.received).toHaveLength(1)
  })
})

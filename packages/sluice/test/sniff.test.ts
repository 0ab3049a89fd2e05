/**
 * Errors that say the fix, tried as a new user would over real loopback servers: a response of
 * another type, and a page or a document served under the stream's type (bodySniffer, sniff.ts).
 */
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, test } from 'vitest'
import { ContentTypeError, ndjson, type SluiceError, sse } from '../src/index.js'
import { bodySniffer } from '../src/sniff.js'
import { listen } from './support/loopback.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }

/** A server answering every request with `type` and the body written in `chunks` (one write each). */
async function answer(type: string, ...chunks: string[]) {
  let requests = 0
  const server = await listen((_request, response: ServerResponse) => {
    requests++
    response.writeHead(200, { 'content-type': type })
    for (const chunk of chunks) response.write(chunk)
    response.end()
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests: () => requests }
}

async function failure(stream: AsyncIterable<unknown>): Promise<SluiceError> {
  try {
    for await (const _ of stream) void _
  } catch (error) {
    return error as SluiceError
  }
  throw new Error('expected the stream to fail')
}

const portal =
  '<!DOCTYPE html>\n<html><head><title>Sign in to CoffeeShop Wi-Fi</title></head><body>Accept the terms</body></html>\n'

describe('a response of another type', () => {
  test('an NDJSON API labelled application/json names the contentTypes option that accepts it, which works', async () => {
    const server = await answer('application/json; charset=utf-8', '{"seq":0}\n{"seq":1}\n')
    const error = await failure(ndjson(server.url))
    expect(error).toBeInstanceOf(ContentTypeError)
    expect(error.message).toBe(
      "Cannot stream: expected application/x-ndjson or application/jsonl or application/x-jsonlines but the response is application/json; if it is NDJSON, accept it with contentTypes: ['application/json']",
    )
    // What the message says to do:
    const records: unknown[] = []
    for await (const r of ndjson(server.url, { contentTypes: ['application/json'] })) records.push(r)
    expect(records).toEqual([{ seq: 0 }, { seq: 1 }])
  })

  test('sse() answered with JSON says the server did not stream, and what to check', async () => {
    const server = await answer('application/json', '{"error":"not found"}')
    const error = await failure(sse(server.url))
    expect(error.code).toBe('CONTENT_TYPE')
    expect(error.message).toBe(
      'Cannot stream: expected text/event-stream but the response is application/json; the server did not answer with an event stream: check the URL',
    )
    expect(server.requests()).toBe(1)
  })
})

describe('a page or a document under the stream type', () => {
  test('an HTML page served as text/event-stream fails at once, naming the page and the fix, not "the connection failed"', async () => {
    const server = await answer('text/event-stream', portal)
    const error = await failure(sse(server.url, { retry: fast }))
    expect(error).toBeInstanceOf(ContentTypeError)
    expect(error).toMatchObject({
      code: 'CONTENT_TYPE',
      contentType: 'text/event-stream',
      body: 'an HTML page',
      attempts: 1,
    })
    expect(error.message).toMatch(
      /^Cannot stream: the response is labelled text\/event-stream but its body is an HTML page \(<!DOCTYPE html> <html><head><title>Sign in to CoffeeShop/,
    )
    expect(error.message).toContain('captive portal')
    expect(error.message).toContain('check the URL')
    expect(error.message).not.toContain('connection failed')
    // Not retried: every attempt would get the same page.
    expect(server.requests()).toBe(1)
  })

  test('a JSON error body served as text/event-stream is named as one, even after blank lines in their own chunk', async () => {
    const server = await answer('text/event-stream', '\n\r\n', '{"error":{"type":"overloaded_error"}}')
    const error = (await failure(sse(server.url, { retry: fast }))) as ContentTypeError
    expect(error.body).toBe('a JSON document')
    expect(error.snippet).toBe('{"error":{"type":"overloaded_error"}}')
    expect(server.requests()).toBe(1)
  })

  test('an HTML page served as application/x-ndjson is named as one (not a parse error on line 1)', async () => {
    const server = await answer('application/x-ndjson', portal)
    const error = await failure(ndjson(server.url))
    expect(error.code).toBe('CONTENT_TYPE')
    expect(error.message).toContain('its body is an HTML page')
  })

  test('event streams and NDJSON that start with a BOM, blanks, comments or fields pass', async () => {
    const events = await answer(
      'text/event-stream',
      '\ufeff\n',
      ': hi\n',
      'data: {"a":1}\n\nevent: end\ndata: {"count":1}\n\n',
    )
    const got: unknown[] = []
    for await (const e of sse(events.url, { json: true })) got.push(e.data)
    expect(got).toEqual([{ a: 1 }])
    const lines = await answer('application/x-ndjson', ' \n', '[1]\n{"a":2}\n')
    const records: unknown[] = []
    for await (const r of ndjson(lines.url)) records.push(r)
    expect(records).toEqual([[1], { a: 2 }])
  })
})

describe('bodySniffer', () => {
  const sniffer = () =>
    bodySniffer('<{[', (kind, snippet) => new ContentTypeError('text/event-stream', [], '', { kind, snippet }))
  const bytes = (text: string) => new TextEncoder().encode(text)

  test('decides on the first character that is not blank or a BOM, in whatever chunk it comes', () => {
    const s = sniffer()
    expect(s(bytes(''))).toBeUndefined()
    expect(s(bytes('\ufeff \r\n\t'))).toBeUndefined()
    expect(s(bytes('<html>'))?.body).toBe('an HTML page')
    const ok = sniffer()
    expect(ok(bytes('data: x\n\n'))).toBeUndefined()
    // Decided once: a later chunk is never looked at.
    expect(ok(bytes('<html>'))).toBeUndefined()
  })

  test('keeps the snippet short', () => {
    const error = sniffer()(bytes(`<p>${'x'.repeat(500)}</p>`))!
    expect(error.snippet.length).toBe(81)
    expect(error.snippet.endsWith('…')).toBe(true)
  })
})

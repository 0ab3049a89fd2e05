/**
 * Typed events (`events`, `onUnknownEvent`): a Standard Schema per SSE event name, records a union
 * discriminated by `event`; over a loopback Anthropic-style messages stream, cut and resumed.
 */
import { describe, expect, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import { decodeSse, SseDecoderStream, sse, type TypedSseEvent, ValidationError } from '../src/index.js'
import { anthropicStyleServer, signal } from './support/llm-servers.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }

const Delta = z.object({ text: z.string() })
const Done = z.object({ reason: z.string() })
const events = { delta: Delta, done: Done }

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

const body = (text: string) => new Response(text)

describe('decodeSse with events', () => {
  test('parses and validates each event by its own schema, and switch (e.event) narrows e.data', async () => {
    const text =
      'event: delta\nid: 1\ndata: {"text":"Hel"}\n\nevent: delta\ndata: {"text":"lo"}\n\nevent: done\ndata: {"reason":"stop"}\n\n'
    let out = ''
    const got = await all(decodeSse(body(text), { events }))
    for (const e of got) {
      switch (e.event) {
        case 'delta':
          expectTypeOf(e.data).toEqualTypeOf<{ text: string }>()
          out += e.data.text
          break
        case 'done':
          expectTypeOf(e.data).toEqualTypeOf<{ reason: string }>()
          out += `|${e.data.reason}`
          break
        default:
          expectTypeOf(e).toBeNever()
      }
    }
    expect(out).toBe('Hello|stop')
    expect(got[1]).toEqual({ event: 'delta', data: { text: 'lo' }, id: '1' })
  })

  test('skips events with no schema by default; onUnknownEvent: "throw" fails on the first with its line', async () => {
    const text = 'event: ping\ndata: {}\n\ndata: plain message\n\nevent: delta\ndata: {"text":"a"}\n\n'
    expect((await all(decodeSse(body(text), { events }))).map((e) => e.event)).toEqual(['delta'])
    const error = await all(decodeSse(body(text), { events, onUnknownEvent: 'throw' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', line: 1 })
    expect((error as Error).message).toContain('no schema for event "ping"')
  })

  test('an event whose data fails its schema follows onInvalid', async () => {
    const text =
      'event: delta\ndata: {"text":1}\n\nevent: delta\ndata: not json\n\nevent: delta\ndata: {"text":"ok"}\n\n'
    const error = await all(decodeSse(body(text), { events })).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', line: 1 })
    const skipped: string[] = []
    const got = await all(decodeSse(body(text), { events, onInvalid: (e) => skipped.push(e.code) }))
    expect(got).toEqual([{ event: 'delta', data: { text: 'ok' } }])
    expect(skipped).toEqual(['VALIDATION_ERROR', 'PARSE_ERROR'])
  })

  test('async schemas validate in order', async () => {
    const Slow = z.object({ text: z.string() }).refine(async () => true)
    const text =
      'event: delta\ndata: {"text":"a"}\n\nevent: done\ndata: {"reason":"x"}\n\nevent: delta\ndata: {"text":"b"}\n\n'
    const got = await all(decodeSse(body(text), { events: { delta: Slow, done: Done } }))
    expect(got.map((e) => e.event)).toEqual(['delta', 'done', 'delta'])
  })

  test('the end event still ends the stream and is not an unknown event', async () => {
    const text =
      'event: delta\ndata: {"text":"a"}\n\nevent: end\ndata: {"count":1}\n\nevent: delta\ndata: {"text":"after"}\n\n'
    expect(await all(decodeSse(body(text), { events, onUnknownEvent: 'throw' }))).toHaveLength(1)
  })

  test('SseDecoderStream takes events too', async () => {
    const stream = body('event: done\ndata: {"reason":"r"}\n\n').body!.pipeThrough(new SseDecoderStream({ events }))
    expectTypeOf(stream).toEqualTypeOf<ReadableStream<TypedSseEvent<typeof events>>>()
    const reader = stream.getReader()
    expect((await reader.read()).value).toEqual({ event: 'done', data: { reason: 'r' } })
  })

  test('refuses events with a schema, a non-schema, or a bad onUnknownEvent', () => {
    expect(() => decodeSse(body(''), { events, schema: Delta } as never)).toThrow(/Cannot use events with schema/)
    expect(() => decodeSse(body(''), { events: { delta: {} as never } })).toThrow(/Cannot use events.delta/)
    expect(() => decodeSse(body(''), { events, onUnknownEvent: 'ignore' as never })).toThrow(TypeError)
  })
})

const MessageStart = z.object({
  type: z.literal('message_start'),
  message: z.object({ id: z.string(), model: z.string() }),
})
const BlockDelta = z.object({
  type: z.literal('content_block_delta'),
  index: z.number(),
  delta: z.object({ type: z.literal('text_delta'), text: z.string() }),
})
const MessageDelta = z.object({
  type: z.literal('message_delta'),
  delta: z.object({ stop_reason: z.string().nullable() }),
})
const ApiError = z.object({ type: z.literal('error'), error: z.object({ type: z.string(), message: z.string() }) })
const anthropic = {
  message_start: MessageStart,
  content_block_delta: BlockDelta,
  message_delta: MessageDelta,
  error: ApiError,
}

describe('an Anthropic-style messages stream', () => {
  const request = (url: string) =>
    sse(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'msg-1' },
      body: JSON.stringify({ model: 'claude-style', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      retry: fast,
      events: anthropic,
      endMarker: 'message_stop',
    })

  test('typed events narrow; pings and blocks without a schema are skipped; cut mid-stream, it resumes with no loss or duplicate', async () => {
    const delivered = signal()
    const server = await anthropicStyleServer({ words: 12, cutAfter: 7, cutWhen: delivered.promise })
    const stream = request(server.url)
    let text = ''
    let model = ''
    let stop: string | null = null
    const ids: number[] = []
    for await (const e of stream) {
      ids.push(Number(e.id))
      if (Number(e.id) >= 7) delivered.resolve()
      switch (e.event) {
        case 'message_start':
          model = e.data.message.model
          break
        case 'content_block_delta':
          expectTypeOf(e.data.delta.text).toEqualTypeOf<string>()
          text += e.data.delta.text
          break
        case 'message_delta':
          stop = e.data.delta.stop_reason
          break
        case 'error':
          throw new Error(e.data.error.message)
      }
    }
    expect(text).toBe(server.text)
    expect(model).toBe('claude-style')
    expect(stop).toBe('end_turn')
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(new Set(ids).size).toBe(ids.length)
    expect(server.requests).toHaveLength(2)
    expect(Number(server.requests[1]!.lastEventId)).toBeGreaterThanOrEqual(7)
  })

  test('an error event mid-stream arrives typed, and the consumer decides', async () => {
    const server = await anthropicStyleServer({ words: 12, errorAfter: 4 })
    let text = ''
    let failure = ''
    for await (const e of request(server.url)) {
      if (e.event === 'content_block_delta') text += e.data.delta.text
      if (e.event === 'error') {
        expectTypeOf(e.data.error).toEqualTypeOf<{ type: string; message: string }>()
        failure = e.data.error.type
        break
      }
    }
    expect(failure).toBe('overloaded_error')
    expect(text).toBe('w0 w1 w2 w3')
  })
})

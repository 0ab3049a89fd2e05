/**
 * `endMarker({ data })`: a sentinel data value such as OpenAI's `data: [DONE]` ends the stream and is
 * never parsed as JSON; over a loopback OpenAI-style server, cut mid-stream and resumed.
 */
import { describe, expect, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import { decodeSse, endMarker, ParseError, SseDecoderStream, sse } from '../src/index.js'
import { openaiStyleServer, signal } from './support/llm-servers.js'

const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }

const Chunk = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  choices: z.array(
    z.object({
      index: z.number(),
      delta: z.object({ role: z.string().optional(), content: z.string().optional() }),
      finish_reason: z.string().nullable(),
    }),
  ),
})

const body = 'data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n'

describe('endMarker', () => {
  test('ends a json stream at the sentinel, which is never parsed or yielded', async () => {
    const got: unknown[] = []
    for await (const e of decodeSse(new Response(body), { json: true, endMarker: endMarker({ data: '[DONE]' }) }))
      got.push(e.data)
    expect(got).toEqual([{ n: 1 }, { n: 2 }])
  })

  test('without it, json: true meets the sentinel as bad JSON', async () => {
    const got: unknown[] = []
    const error = await (async () => {
      for await (const e of decodeSse(new Response(body), { json: true })) got.push(e.data)
    })().catch((e: unknown) => e)
    expect(got).toEqual([{ n: 1 }, { n: 2 }])
    expect(error).toBeInstanceOf(ParseError)
    expect((error as ParseError).snippet).toBe('[DONE]')
  })

  test('stops reading at the sentinel: what follows it is never decoded', async () => {
    const got: unknown[] = []
    const stream = new Response(`${body}data: not json\n\n`).body!.pipeThrough(
      new SseDecoderStream({ json: true, endMarker: endMarker({ data: '[DONE]' }) }),
    )
    const reader = stream.getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) got.push(r.value.data)
    expect(got).toEqual([{ n: 1 }, { n: 2 }])
  })

  test('with an event name, matches only that event', async () => {
    const text = 'event: note\ndata: [DONE]\n\ndata: [DONE]\n\nevent: done\ndata: [DONE]\n\ndata: after\n\n'
    const got: string[] = []
    for await (const e of decodeSse(new Response(text), { endMarker: endMarker({ data: '[DONE]', event: 'done' }) }))
      got.push(`${e.event}:${e.data}`)
    expect(got).toEqual(['note:[DONE]', 'message:[DONE]'])
  })

  test('under requireEnd, a stream cut before the sentinel is truncated', async () => {
    const error = await (async () => {
      for await (const _ of decodeSse(new Response('data: {"n":1}\n\n'), {
        json: true,
        requireEnd: true,
        endMarker: endMarker({ data: '[DONE]' }),
      }))
        void _
    })().catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'TRUNCATED_STREAM', reason: 'missing-end' })
  })

  test('refuses anything but { data: string }', () => {
    expect(() => endMarker('[DONE]' as never)).toThrow(TypeError)
    expect(() => endMarker({} as never)).toThrow(/Cannot use endMarker/)
  })
})

describe('an OpenAI-style chat completion stream', () => {
  test('streams the chunks to [DONE]; cut mid-stream, the re-sent POST resumes with no token lost or repeated', async () => {
    const delivered = signal()
    const server = await openaiStyleServer({ words: 12, cutAfter: 5, cutWhen: delivered.promise })
    const stream = sse(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'gen-1' },
      body: JSON.stringify({ model: 'gpt-style', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      // A POST is only re-sent when retry is given: here the key makes the re-send continue the same generation.
      retry: fast,
      schema: Chunk,
      endMarker: endMarker({ data: '[DONE]' }),
    })
    let text = ''
    const ids: string[] = []
    let finish: string | null = null
    for await (const { data, id } of stream) {
      expectTypeOf(data).toEqualTypeOf<z.infer<typeof Chunk>>()
      text += data.choices[0]?.delta.content ?? ''
      finish = data.choices[0]?.finish_reason ?? finish
      ids.push(id!)
      if (id === '5') delivered.resolve()
    }
    expect(text).toBe(server.text)
    expect(finish).toBe('stop')
    expect(ids).toEqual(Array.from({ length: 14 }, (_, i) => String(i)))
    expect(server.requests.map((r) => [r.method, r.key])).toEqual([
      ['POST', 'gen-1'],
      ['POST', 'gen-1'],
    ])
    expect(server.requests[1]!.lastEventId).toBe('5')
    expect(stream.state).toBe('closed')
  })
})

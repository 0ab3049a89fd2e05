import fc from 'fast-check'
import { decodeSse } from 'sluice'
import { sseEndData } from 'sluice/protocol'
import { describe, expect, expectTypeOf, test } from 'vitest'
import {
  encodeSseEvent,
  isSseEvent,
  type SseDataOf,
  SseEncoderStream,
  type StreamSummary,
  sseResponse,
} from '../src/index.js'

const end = (count: number) => `event: end\ndata: ${sseEndData(count)}\n\n`

describe('sseResponse', () => {
  test('sends the streaming headers and no Content-Length', () => {
    const response = sseResponse([])
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform')
    expect(response.headers.get('x-accel-buffering')).toBe('no')
    expect(response.headers.has('content-length')).toBe(false)
  })

  test('sends events with their fields, then the end event with the count', async () => {
    const text = await sseResponse([
      { data: 'hello', id: 1, event: 'greeting' },
      { data: { seq: 2 }, id: '2' },
      { data: 'x', retry: 500 },
    ]).text()
    expect(text).toBe(
      `event: greeting\ndata: hello\nid: 1\n\ndata: {"seq":2}\nid: 2\n\ndata: x\nretry: 500\n\n${end(3)}`,
    )
  })

  test('sends plain values as JSON data, with idOf giving their ids', async () => {
    const summaries: StreamSummary[] = []
    const text = await sseResponse([{ seq: 4, data: 'not an event: it has another key' }, 5], {
      idOf: (value) => (typeof value === 'number' ? value : value.seq),
      onClose: (s) => summaries.push(s),
    }).text()
    expect(text).toBe(`data: {"seq":4,"data":"not an event: it has another key"}\nid: 4\n\ndata: 5\nid: 5\n\n${end(2)}`)
    expect(summaries).toEqual([{ reason: 'end', count: 2, lastId: '5' }])
  })

  test('an event id wins over idOf', async () => {
    const text = await sseResponse([{ data: 1, id: 'own' }], { idOf: () => 'derived', end: false }).text()
    expect(text).toBe('data: 1\nid: own\n\n')
  })

  test('retryMs sends a retry field before the first event', async () => {
    expect(await sseResponse([], { retryMs: 2500 }).text()).toBe(`retry: 2500\n\n${end(0)}`)
    expect(() => sseResponse([], { retryMs: 1.5 })).toThrow(RangeError)
  })

  test('an event id with CR, LF or NUL errors the body with a TypeError', async () => {
    for (const id of ['a\nb', 'a\rb', 'a\0b']) {
      await expect(sseResponse([{ data: 1, id }]).text()).rejects.toThrow(TypeError)
    }
  })

  test('an event named like the end marker is refused unless end is off', async () => {
    await expect(sseResponse([{ data: 1, event: 'end' }]).text()).rejects.toThrow(/end marker/)
    expect(await sseResponse([{ data: 1, event: 'end' }], { end: false }).text()).toBe('event: end\ndata: 1\n\n')
  })

  test('round-trips arbitrary events through decodeSse', async () => {
    const idArb = fc.string({ minLength: 1 }).filter((s) => !/[\r\n\0]/.test(s))
    const eventArb = fc.record(
      {
        data: fc.oneof(fc.string(), fc.jsonValue()),
        id: idArb,
        event: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/).filter((s) => s !== 'end'),
      },
      { requiredKeys: ['data', 'id'] },
    )
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 10 }), async (events) => {
        const decoded = []
        for await (const event of decodeSse(sseResponse(events), { requireEnd: true })) decoded.push(event)
        expect(decoded).toEqual(
          events.map((e) => ({
            event: e.event ?? 'message',
            // The spec's line ends are CR, LF and CRLF; the client joins lines with LF.
            data: typeof e.data === 'string' ? e.data.replace(/\r\n|\r/g, '\n') : JSON.stringify(e.data),
            id: e.id,
          })),
        )
      }),
      { numRuns: 150 },
    )
  })
})

describe('encodeSseEvent', () => {
  test('splits multi-line data into one data line per line', () => {
    expect(encodeSseEvent({ data: 'a\nb\r\nc\rd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n')
    expect(encodeSseEvent({ data: '' })).toBe('data: \n\n')
    expect(encodeSseEvent({ data: 'end\n' })).toBe('data: end\ndata: \n\n')
  })

  test('rejects an event type with a line break and data with no JSON form', () => {
    expect(() => encodeSseEvent({ data: 1, event: 'a\nb' })).toThrow(TypeError)
    expect(() => encodeSseEvent({ data: undefined })).toThrow(/no JSON form/)
  })
})

describe('isSseEvent', () => {
  test('counts objects with data and only event keys as events', () => {
    expect(isSseEvent({ data: 1 })).toBe(true)
    expect(isSseEvent({ data: 1, id: 2, event: 'x', retry: 3 })).toBe(true)
    expect(isSseEvent({ data: 1, seq: 2 })).toBe(false)
    expect(isSseEvent({ id: 1 })).toBe(false)
    expect(isSseEvent([1])).toBe(false)
    expect(isSseEvent('data')).toBe(false)
  })
})

describe('SseEncoderStream', () => {
  test('encodes piped items, with retry first and the end event last', async () => {
    const items = new ReadableStream({
      start(controller) {
        controller.enqueue({ data: 'a', id: 1 })
        controller.enqueue({ seq: 2 })
        controller.close()
      },
    })
    const text = await new Response(items.pipeThrough(new SseEncoderStream({ retryMs: 100 }))).text()
    expect(text).toBe(`retry: 100\n\ndata: a\nid: 1\n\ndata: {"seq":2}\n\n${end(2)}`)
  })
})

describe('SseDataOf', () => {
  test('is the data of an event and the value itself for anything else', () => {
    expectTypeOf<SseDataOf<{ data: number; id: string }>>().toEqualTypeOf<number>()
    expectTypeOf<SseDataOf<{ data: number; seq: number }>>().toEqualTypeOf<{ data: number; seq: number }>()
    expectTypeOf<SseDataOf<string | { data: boolean }>>().toEqualTypeOf<string | boolean>()
  })
})

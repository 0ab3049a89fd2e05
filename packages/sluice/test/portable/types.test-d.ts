/**
 * Type tests (vitest typecheck, run by the `node: sluice` suite): record types inferred from a
 * zod schema flow through the decoders and the resilient streams, and wrong use does not compile.
 */

import {
  decodeNdjson,
  decodeSse,
  type Infer,
  NdjsonDecoderStream,
  ndjson,
  type ParseError,
  type RecordStream,
  type SluiceError,
  type SseEvent,
  sse,
} from 'sluice'
import { describe, expectTypeOf, test } from 'vitest'
import { z } from 'zod'

const Metric = z.object({ seq: z.number(), rps: z.number(), host: z.string().optional() })
type Metric = z.infer<typeof Metric>
declare const body: ReadableStream<Uint8Array>

describe('decodeNdjson', () => {
  test('yields the output type of a zod schema', () => {
    expectTypeOf(decodeNdjson(body, { schema: Metric })).toEqualTypeOf<AsyncIterableIterator<Metric>>()
    expectTypeOf<Infer<typeof Metric>>().toEqualTypeOf<Metric>()
  })

  test('yields the output of a transforming schema, not its input', () => {
    const Seq = z.string().transform((s) => Number(s))
    expectTypeOf(decodeNdjson(body, { schema: Seq })).toEqualTypeOf<AsyncIterableIterator<number>>()
  })

  test('yields unknown without a schema, or the type argument given', () => {
    expectTypeOf(decodeNdjson(body)).toEqualTypeOf<AsyncIterableIterator<unknown>>()
    expectTypeOf(decodeNdjson<{ id: string }>(body)).toEqualTypeOf<AsyncIterableIterator<{ id: string }>>()
  })

  test('gives for-await records whose fields are typed', async () => {
    for await (const metric of decodeNdjson(body, { schema: Metric })) {
      expectTypeOf(metric.seq).toBeNumber()
      expectTypeOf(metric.host).toEqualTypeOf<string | undefined>()
      // @ts-expect-error -- not a field of Metric
      void metric.nope
    }
  })

  test('rejects what is not a byte source, a schema or an option', () => {
    // @ts-expect-error -- a number is not a byte source
    decodeNdjson(42)
    // @ts-expect-error -- a schema must implement Standard Schema (~standard)
    decodeNdjson(body, { schema: { parse: (v: unknown) => v } })
    // @ts-expect-error -- onInvalid is "throw", "skip" or a callback
    decodeNdjson(body, { onInvalid: 'ignore' })
    // @ts-expect-error -- maxLineBytes is a number of bytes
    decodeNdjson(body, { maxLineBytes: '1MB' })
  })

  test('accepts Responses, strings and async generators as sources', () => {
    async function* chunks() {
      yield '{"seq":1}\n'
    }
    expectTypeOf(decodeNdjson(new Response(''), { schema: Metric })).toEqualTypeOf<AsyncIterableIterator<Metric>>()
    expectTypeOf(decodeNdjson(chunks())).toEqualTypeOf<AsyncIterableIterator<unknown>>()
  })
})

describe('decodeSse', () => {
  test('types data by the schema, as unknown with json, and as a string otherwise', () => {
    expectTypeOf(decodeSse(body, { schema: Metric })).toEqualTypeOf<AsyncIterableIterator<SseEvent<Metric>>>()
    expectTypeOf(decodeSse(body, { json: true })).toEqualTypeOf<AsyncIterableIterator<SseEvent<unknown>>>()
    expectTypeOf(decodeSse(body)).toEqualTypeOf<AsyncIterableIterator<SseEvent<string>>>()
  })

  test('gives events with a typed event name, data and optional id', async () => {
    for await (const event of decodeSse(body, { schema: Metric })) {
      expectTypeOf(event.event).toBeString()
      expectTypeOf(event.data).toEqualTypeOf<Metric>()
      expectTypeOf(event.id).toEqualTypeOf<string | undefined>()
    }
  })

  test('rejects an endMarker that is neither a name, a predicate nor false', () => {
    // @ts-expect-error -- endMarker: true is not a marker
    decodeSse(body, { endMarker: true })
  })
})

describe('NdjsonDecoderStream', () => {
  test('pipes bytes to records of the type argument', () => {
    expectTypeOf(body.pipeThrough(new NdjsonDecoderStream<Metric>())).toEqualTypeOf<ReadableStream<Metric>>()
  })
})

describe('ndjson() and sse()', () => {
  test('ndjson() streams the schema output type and types the record idOf sees', () => {
    const stream = ndjson('/metrics', {
      schema: Metric,
      idOf: (metric) => {
        expectTypeOf(metric).toEqualTypeOf<Metric>()
        return metric.seq
      },
    })
    expectTypeOf(stream).toEqualTypeOf<RecordStream<Metric>>()
    expectTypeOf(stream.lastEventId).toEqualTypeOf<string | undefined>()
  })

  test('sse() streams events whose data has the schema output type', () => {
    expectTypeOf(sse('/events', { schema: Metric })).toEqualTypeOf<RecordStream<SseEvent<Metric>>>()
    expectTypeOf(sse('/events')).toEqualTypeOf<RecordStream<SseEvent<string>>>()
  })

  test('rejects an idOf that returns neither a string nor a number, or reads a field the schema lacks', () => {
    // @ts-expect-error -- a resume id is a string or a number
    ndjson('/metrics', { schema: Metric, idOf: (metric) => ({ at: metric.seq }) })
    // @ts-expect-error -- Metric has no field "id"
    ndjson('/metrics', { schema: Metric, idOf: (metric) => metric.id })
    // @ts-expect-error -- retry is a policy or a boolean
    sse('/events', { retry: 3 })
  })
})

describe('errors', () => {
  test('carry literal codes to branch on', () => {
    expectTypeOf<ParseError['code']>().toEqualTypeOf<'PARSE_ERROR'>()
    expectTypeOf<SluiceError['code']>().toBeString()
  })
})

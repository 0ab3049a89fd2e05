/**
 * Record types: inferred from a schema through every decoder, and the defaults without one.
 */
import { describe, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import {
  decodeNdjson,
  decodeSse,
  type Infer,
  NdjsonDecoderStream,
  ndjson,
  type RecordStream,
  SseDecoderStream,
  type SseEvent,
  type StandardSchemaV1,
  sse,
} from '../src/index.js'

const Metric = z.object({ seq: z.number(), name: z.string(), tags: z.array(z.string()).optional() })
type Metric = z.infer<typeof Metric>
const Coerced = z.object({ at: z.string().transform((s) => new Date(s)) })
declare const body: ReadableStream<Uint8Array>

describe('decodeNdjson', () => {
  test('infers the record type from a zod schema', () => {
    expectTypeOf(decodeNdjson(body, { schema: Metric })).toEqualTypeOf<AsyncIterableIterator<Metric>>()
    expectTypeOf<Infer<typeof Metric>>().toEqualTypeOf<Metric>()
  })

  test('uses the schema output type, not its input', () => {
    expectTypeOf(decodeNdjson(body, { schema: Coerced })).toEqualTypeOf<AsyncIterableIterator<{ at: Date }>>()
  })

  test('yields unknown without a schema, or the type argument given', () => {
    expectTypeOf(decodeNdjson(body)).toEqualTypeOf<AsyncIterableIterator<unknown>>()
    expectTypeOf(decodeNdjson<{ id: number }>(body)).toEqualTypeOf<AsyncIterableIterator<{ id: number }>>()
  })

  test('infers from any Standard Schema, not only zod', () => {
    const schema = {} as StandardSchemaV1<unknown, { ok: true }>
    expectTypeOf(decodeNdjson(body, { schema })).toEqualTypeOf<AsyncIterableIterator<{ ok: true }>>()
  })

  test('accepts a Response, an async iterable of strings or bytes, and refuses a number', () => {
    expectTypeOf(decodeNdjson).toBeCallableWith(new Response(''))
    expectTypeOf(decodeNdjson).toBeCallableWith(
      (async function* () {
        yield 'x'
      })(),
    )
    expectTypeOf(decodeNdjson).toBeCallableWith([new Uint8Array()])
    // @ts-expect-error a number is not a byte source
    decodeNdjson(42)
  })

  test('types the options', () => {
    // @ts-expect-error onInvalid is "throw", "skip" or a callback
    decodeNdjson(body, { onInvalid: 'ignore' })
    decodeNdjson(body, { onInvalid: (error) => expectTypeOf(error.code).toEqualTypeOf<string>() })
    decodeNdjson(body, {
      endMarker: (value) => {
        expectTypeOf(value).toEqualTypeOf<unknown>()
        return false
      },
    })
  })
})

describe('decodeSse', () => {
  test('gives SseEvent<string> without json or a schema', () => {
    expectTypeOf(decodeSse(body)).toEqualTypeOf<AsyncIterableIterator<SseEvent<string>>>()
    expectTypeOf<SseEvent>().toEqualTypeOf<SseEvent<string>>()
  })

  test('infers the data type from a zod schema', () => {
    expectTypeOf(decodeSse(body, { schema: Metric })).toEqualTypeOf<AsyncIterableIterator<SseEvent<Metric>>>()
  })

  test('gives unknown data with json: true, or the type argument given', () => {
    expectTypeOf(decodeSse(body, { json: true })).toEqualTypeOf<AsyncIterableIterator<SseEvent<unknown>>>()
    expectTypeOf(decodeSse<{ a: 1 }>(body, { json: true })).toEqualTypeOf<AsyncIterableIterator<SseEvent<{ a: 1 }>>>()
  })

  test('types the event fields', () => {
    expectTypeOf<SseEvent<Metric>>().toEqualTypeOf<{ event: string; data: Metric; id?: string; retry?: number }>()
    decodeSse(body, {
      endMarker: (event) => {
        expectTypeOf(event.data).toEqualTypeOf<string>()
        return false
      },
    })
    decodeSse(body, { onComment: (comment) => expectTypeOf(comment).toEqualTypeOf<string>() })
  })
})

describe('TransformStreams', () => {
  test('NdjsonDecoderStream carries its record type to pipeThrough', () => {
    expectTypeOf(body.pipeThrough(new NdjsonDecoderStream<Metric>({ schema: Metric }))).toEqualTypeOf<
      ReadableStream<Metric>
    >()
    expectTypeOf(body.pipeThrough(new NdjsonDecoderStream())).toEqualTypeOf<ReadableStream<unknown>>()
  })

  test('SseDecoderStream gives SseEvent<string> by default', () => {
    expectTypeOf(body.pipeThrough(new SseDecoderStream())).toEqualTypeOf<ReadableStream<SseEvent<string>>>()
    expectTypeOf(body.pipeThrough(new SseDecoderStream<Metric>({ schema: Metric }))).toEqualTypeOf<
      ReadableStream<SseEvent<Metric>>
    >()
  })

  test('infers the record type from the schema without a type argument', () => {
    expectTypeOf(body.pipeThrough(new NdjsonDecoderStream({ schema: Metric }))).toEqualTypeOf<ReadableStream<Metric>>()
    expectTypeOf(body.pipeThrough(new SseDecoderStream({ schema: Metric }))).toEqualTypeOf<
      ReadableStream<SseEvent<Metric>>
    >()
  })
})

test('map keeps the RecordStream handle with the mapped type', () => {
  const stream = ndjson<{ seq: number }>('/x').map((r) => r.seq)
  expectTypeOf(stream).toEqualTypeOf<RecordStream<number>>()
  expectTypeOf(sse('/x', { json: true }).map((e) => e.id)).toEqualTypeOf<RecordStream<string | undefined>>()
})

/**
 * How decoding drives its source: leaving the loop or aborting cancels it, a paused consumer stops
 * it being drained, the TransformStreams terminate on the end marker, and async schemas keep order.
 */
import { Readable } from 'node:stream'
import { describe, expect, test } from 'vitest'
import {
  decodeNdjson,
  decodeSse,
  NdjsonDecoderStream,
  SseDecoderStream,
  type StandardSchemaV1,
  ValidationError,
} from '../src/index.js'
import { collect, collectStream, endlessStream, streamOf, utf8 } from './collect.js'

/** Lets every pending promise job and timer of this turn run: enough for a greedy reader to pull again. */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
}

const ndjsonChunk = utf8('{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n')
const sseChunk = utf8('data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n')
const decoders = [
  [
    'ndjson',
    ndjsonChunk,
    (source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, signal?: AbortSignal) =>
      decodeNdjson(source, { signal }),
  ],
  [
    'sse',
    sseChunk,
    (source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, signal?: AbortSignal) =>
      decodeSse(source, { signal }),
  ],
] as const

describe('cancellation', () => {
  for (const [name, chunk, decode] of decoders) {
    test(`${name}: break out of for await cancels the ReadableStream`, async () => {
      const { stream, state } = endlessStream(chunk)
      let seen = 0
      for await (const _ of decode(stream)) if (++seen === 6) break
      expect(seen).toBe(6)
      expect(state.cancelled).toBe(true)
    })

    test(`${name}: break out of for await calls return() on an async generator source`, async () => {
      const log: string[] = []
      async function* source() {
        try {
          for (let i = 0; i < 1000; i++) yield chunk
        } finally {
          log.push('finally')
        }
      }
      for await (const _ of decode(source())) break
      expect(log).toEqual(['finally'])
    })

    test(`${name}: aborting the signal rejects the pending read with its reason and cancels the stream`, async () => {
      // A stream that never answers a read: the iterator waits on it when the abort comes.
      let cancelled: unknown = 'not cancelled'
      const stream = new ReadableStream<Uint8Array>(
        { pull: () => new Promise(() => {}), cancel: (r) => void (cancelled = r) },
        { highWaterMark: 0 },
      )
      const controller = new AbortController()
      const iterator = decode(stream, controller.signal)
      const pending = iterator.next()
      const reason = new Error('user left')
      controller.abort(reason)
      await expect(pending).rejects.toBe(reason)
      expect(cancelled).toBe(reason)
    })

    test(`${name}: aborting the signal rejects at once even when an async generator source is stuck`, async () => {
      async function* stuck() {
        yield chunk
        await new Promise(() => {})
      }
      const controller = new AbortController()
      const iterator = decode(stuck(), controller.signal)
      for (let i = 0; i < 4; i++) expect((await iterator.next()).done).toBe(false)
      const pending = iterator.next()
      controller.abort(new Error('stop'))
      await expect(pending).rejects.toThrow('stop')
      expect(await iterator.next()).toEqual({ done: true, value: undefined })
    })

    test(`${name}: a signal aborted before decoding rejects the first read and cancels the stream`, async () => {
      const { stream, state } = endlessStream(chunk)
      const reason = new Error('too late')
      const { items, error } = await collect(decode(stream, AbortSignal.abort(reason)))
      expect(items).toEqual([])
      expect(error).toBe(reason)
      expect(state.cancelled).toBe(true)
      expect(state.pulls).toBe(0)
    })
  }

  test('aborting after the iteration ended changes nothing', async () => {
    const controller = new AbortController()
    const iterator = decodeNdjson(['1\n'], { signal: controller.signal })
    expect(await collect(iterator)).toEqual({ items: [1] })
    controller.abort(new Error('late'))
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  test('leaving the loop cancels the body of a Response', async () => {
    const { stream, state } = endlessStream(ndjsonChunk)
    const response = new Response(stream, { headers: { 'content-type': 'application/x-ndjson' } })
    for await (const _ of decodeNdjson(response)) break
    await settle(2)
    expect(state.cancelled).toBe(true)
  })

  test('the end marker stops reading and cancels the source', async () => {
    const { stream, state } = endlessStream(utf8('{"n":1}\n{"$sluice":"end","count":1}\n'))
    const { items, error } = await collect(decodeNdjson(stream))
    expect(error).toBeUndefined()
    expect(items).toEqual([{ n: 1 }])
    expect(state.pulls).toBe(1)
    expect(state.cancelled).toBe(true)
  })
})

describe('backpressure', () => {
  for (const [name, chunk, decode] of decoders) {
    test(`${name}: a paused consumer stops the source being pulled`, async () => {
      const { stream, state } = endlessStream(chunk)
      const iterator = decode(stream)
      await iterator.next()
      await settle()
      const paused = state.pulls
      expect(paused).toBeLessThanOrEqual(2)
      await settle()
      expect(state.pulls).toBe(paused)
      // Resuming pulls only what the consumer asks for: 4 records per chunk.
      for (let i = 0; i < 40; i++) await iterator.next()
      expect(state.pulls).toBeGreaterThanOrEqual(10)
      expect(state.pulls).toBeLessThanOrEqual(12)
      await iterator.return?.()
      expect(state.cancelled).toBe(true)
    })

    test(`${name}: a paused consumer stops an async iterable being pulled`, async () => {
      let pulls = 0
      const source = {
        [Symbol.asyncIterator]: () => ({
          next: async () => {
            pulls++
            return { done: false as const, value: chunk }
          },
        }),
      }
      const iterator = decode(source)
      await iterator.next()
      await settle()
      expect(pulls).toBe(1)
    })
  }

  test('NdjsonDecoderStream passes backpressure through pipeThrough', async () => {
    const { stream, state } = endlessStream(ndjsonChunk)
    const reader = stream.pipeThrough(new NdjsonDecoderStream()).getReader()
    expect((await reader.read()).value).toEqual({ n: 1 })
    await settle()
    const paused = state.pulls
    // The queues between the two are bounded (a few chunks), not the whole source.
    expect(paused).toBeLessThanOrEqual(4)
    await settle()
    expect(state.pulls).toBe(paused)
    await reader.cancel()
  })
})

describe('TransformStreams', () => {
  test('NdjsonDecoderStream decodes through pipeThrough and ends on the trailer, cancelling the source', async () => {
    let cancelled = false
    let pulled = 0
    const parts = ['{"n":1}\n{"n"', ':2}\n{"$sluice":"end","count":2}\n', '{"n":3}\n']
    const source = new ReadableStream<Uint8Array>(
      {
        pull: (c) => void c.enqueue(utf8(parts[pulled++] ?? '{"more":true}\n')),
        cancel: () => void (cancelled = true),
      },
      { highWaterMark: 0 },
    )
    const { items, error } = await collectStream(source.pipeThrough(new NdjsonDecoderStream<{ n: number }>()))
    expect(error).toBeUndefined()
    expect(items).toEqual([{ n: 1 }, { n: 2 }])
    await settle(5)
    expect(cancelled).toBe(true)
    expect(pulled).toBeLessThanOrEqual(4)
  })

  test('SseDecoderStream decodes events and ends on the end event', async () => {
    const input = 'id: 1\ndata: {"a":1}\n\nevent: end\ndata: {"count":1}\n\ndata: {"a":2}\n\n'
    const stream = streamOf([utf8(input)]).pipeThrough(new SseDecoderStream({ json: true }))
    expect(await collectStream(stream)).toEqual({ items: [{ event: 'message', data: { a: 1 }, id: '1' }] })
  })

  test('the TransformStreams error their readable side with the decoding error, after the records before it', async () => {
    const stream = streamOf([utf8('{"n":1}\n{"n":')]).pipeThrough(new NdjsonDecoderStream())
    const { items, error } = await collectStream(stream)
    expect(items).toEqual([{ n: 1 }])
    expect(error).toMatchObject({ code: 'TRUNCATED_STREAM', reason: 'partial-record' })
  })
})

/** A hand-written Standard Schema whose validation is asynchronous (a lookup, say). */
const asyncPositive: StandardSchemaV1<unknown, { n: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: async (value) => {
      await new Promise((resolve) => setImmediate(resolve))
      const n = (value as { n?: unknown } | null)?.n
      return typeof n === 'number' && n > 0
        ? { value: { n } }
        : { issues: [{ message: 'n must be positive', path: ['n'] }] }
    },
  },
}

describe('TransformStreams and a signal', () => {
  const streams = [
    ['NdjsonDecoderStream', ndjsonChunk, (signal: AbortSignal) => new NdjsonDecoderStream({ signal })],
    ['SseDecoderStream', sseChunk, (signal: AbortSignal) => new SseDecoderStream({ signal })],
  ] as const
  for (const [name, chunk, create] of streams) {
    test(`${name}: aborting the signal errors the readable side with its reason and cancels the piped source`, async () => {
      const { stream, state } = endlessStream(chunk)
      const controller = new AbortController()
      const reader = stream.pipeThrough(create(controller.signal)).getReader()
      expect((await reader.read()).done).toBe(false)
      const reason = new Error('user left')
      controller.abort(reason)
      // Records already decoded may still be queued: drain them until the error arrives (bounded).
      let error: unknown
      for (let i = 0; i < 100 && error === undefined; i++) {
        try {
          if ((await reader.read()).done) break
        } catch (caught) {
          error = caught
        }
      }
      expect(error).toBe(reason)
      await expect.poll(() => state.cancelled).toBe(true)
      expect(state.reason).toBe(reason)
    })

    test(`${name}: a signal already aborted errors the stream before any chunk is read`, async () => {
      const { stream, state } = endlessStream(chunk)
      const reason = new Error('too late')
      const reader = stream.pipeThrough(create(AbortSignal.abort(reason))).getReader()
      await expect(reader.read()).rejects.toBe(reason)
      await expect.poll(() => state.cancelled).toBe(true)
    })

    test(`${name}: no abort listener is left once the stream has ended`, async () => {
      const controller = new AbortController()
      let listeners = 0
      const signal = controller.signal
      const add = signal.addEventListener.bind(signal)
      const remove = signal.removeEventListener.bind(signal)
      signal.addEventListener = ((...args: Parameters<typeof add>) => {
        listeners++
        add(...args)
      }) as typeof add
      signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
        listeners--
        remove(...args)
      }) as typeof remove
      const { items } = await collectStream(streamOf([chunk]).pipeThrough(create(signal)))
      expect(items).toHaveLength(4)
      expect(listeners).toBe(0)
    })
  }
})

describe('async Standard Schema', () => {
  const input = '{"n":1}\n{"n":2}\n{"n":-3}\n{"n":4}\n'

  test('decodeNdjson awaits each validation and keeps the order', async () => {
    const { items, error } = await collect(decodeNdjson([input], { schema: asyncPositive }))
    expect(items).toEqual([{ n: 1 }, { n: 2 }])
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({
      line: 3,
      offset: 16,
      snippet: '{"n":-3}',
      issues: [{ message: 'n must be positive', path: ['n'] }],
    })
  })

  test('an async validation failure is skipped with onInvalid skip', async () => {
    const { items, error } = await collect(decodeNdjson([input], { schema: asyncPositive, onInvalid: 'skip' }))
    expect(error).toBeUndefined()
    expect(items).toEqual([{ n: 1 }, { n: 2 }, { n: 4 }])
  })

  test('decodeSse validates event data asynchronously and keeps the event fields', async () => {
    const sse = 'id: a\ndata: {"n":1}\n\nevent: x\ndata: {"n":0}\n\n'
    const seen: string[] = []
    const { items, error } = await collect(
      decodeSse([sse], { schema: asyncPositive, onInvalid: (e) => void seen.push(e.code) }),
    )
    expect(error).toBeUndefined()
    expect(items).toEqual([{ event: 'message', id: 'a', data: { n: 1 } }])
    expect(seen).toEqual(['VALIDATION_ERROR'])
  })

  test('the TransformStreams await async validation too', async () => {
    const stream = streamOf([utf8(input)]).pipeThrough(
      new NdjsonDecoderStream({ schema: asyncPositive, onInvalid: 'skip' }),
    )
    expect(await collectStream(stream)).toEqual({ items: [{ n: 1 }, { n: 2 }, { n: 4 }] })
  })
})

describe('sources', () => {
  test('a Node Readable of Buffers is a source', async () => {
    const readable = Readable.from([Buffer.from('{"a":'), Buffer.from('1}\n{"b":"é'), Buffer.from('"}\n')])
    expect(await collect(decodeNdjson(readable))).toEqual({ items: [{ a: 1 }, { b: 'é' }] })
  })

  test('a Readable with a string encoding (string chunks) is a source', async () => {
    const readable = Readable.from([utf8('data: é'), utf8('\n\n')]).map((b: Uint8Array) =>
      Buffer.from(b).toString('utf8'),
    )
    expect(await collect(decodeSse(readable))).toEqual({ items: [{ event: 'message', data: 'é' }] })
  })

  test('a source that reuses one buffer for every chunk (as a BYOB reader may) decodes each as it was', async () => {
    // Bytes of a partial line wait for their LF: they must be copied, not kept as a view of the chunk.
    const text = '{"a":"éé"}\n{"b":[1,2,3]}\n{"c":"日本"}\n'
    for (const size of [1, 3, 7, 16, 64, 100]) {
      const bytes = utf8(text)
      const shared = new Uint8Array(size)
      const reused = function* () {
        for (let at = 0; at < bytes.length; at += size) {
          const part = bytes.subarray(at, at + size)
          shared.fill(0x7b)
          shared.set(part)
          yield shared.subarray(0, part.length)
        }
      }
      expect(await collect(decodeNdjson(reused())), `${size} B`).toEqual({
        items: [{ a: 'éé' }, { b: [1, 2, 3] }, { c: '日本' }],
      })
    }
  })

  test('a source that yields something other than bytes or strings is refused', async () => {
    const { error } = await collect(decodeNdjson([42 as unknown as string]))
    expect(error).toBeInstanceOf(TypeError)
  })

  test('a value that is not a source is refused with a TypeError', () => {
    expect(() => decodeNdjson(42 as unknown as Iterable<string>)).toThrow(TypeError)
  })
})

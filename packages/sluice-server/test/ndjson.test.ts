import fc from 'fast-check'
import { decodeNdjson } from 'sluice'
import { HEARTBEAT_HEADER, NDJSON_CONTENT_TYPE, ndjsonEndLine } from 'sluice/protocol'
import { describe, expect, test } from 'vitest'
import { encodeNdjson, NdjsonEncoderStream, ndjsonResponse, type StreamSummary } from '../src/index.js'
import { chunksOf } from './helpers/sources.js'

describe('ndjsonResponse', () => {
  test('sends the streaming headers and no Content-Length', () => {
    const response = ndjsonResponse([])
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(NDJSON_CONTENT_TYPE)
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform')
    expect(response.headers.get('x-accel-buffering')).toBe('no')
    expect(response.headers.has('content-length')).toBe(false)
  })

  test('announces its heartbeat interval (HEARTBEAT_HEADER, exposed to cross-origin scripts); none when heartbeats are off', async () => {
    const { sseResponse } = await import('../src/index.js')
    for (const make of [ndjsonResponse, sseResponse]) {
      expect(make([]).headers.get(HEARTBEAT_HEADER)).toBe('15000')
      expect(make([], { heartbeatMs: 250 }).headers.get(HEARTBEAT_HEADER)).toBe('250')
      expect(make([], { heartbeatMs: 250 }).headers.get('access-control-expose-headers')).toBe(HEARTBEAT_HEADER)
      expect(make([], { heartbeatMs: 0 }).headers.has(HEARTBEAT_HEADER)).toBe(false)
    }
  })

  test('extra headers override the defaults and never bring a Content-Length', () => {
    const response = ndjsonResponse([], {
      status: 201,
      headers: { 'Access-Control-Allow-Origin': '*', 'Content-Length': '5', 'Cache-Control': 'no-store' },
    })
    expect(response.status).toBe(201)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.has('content-length')).toBe(false)
  })

  test('sends one line per record, then the end trailer with the count', async () => {
    const response = ndjsonResponse([{ seq: 1 }, 'two', [3], null])
    expect(await response.text()).toBe(`{"seq":1}\n"two"\n[3]\nnull\n${ndjsonEndLine(4)}`)
  })

  test('sends each record as its own chunk, as soon as it is read', async () => {
    const chunks = await chunksOf(ndjsonResponse([{ a: 1 }, { a: 2 }]).body!)
    expect(chunks).toEqual(['{"a":1}\n', '{"a":2}\n', ndjsonEndLine(2)])
  })

  test('end: false leaves the trailer out', async () => {
    expect(await ndjsonResponse([1, 2], { end: false }).text()).toBe('1\n2\n')
  })

  test('reads a ReadableStream source', async () => {
    const source = new ReadableStream({
      start(controller) {
        controller.enqueue({ seq: 0 })
        controller.close()
      },
    })
    expect(await ndjsonResponse(source).text()).toBe(`{"seq":0}\n${ndjsonEndLine(1)}`)
  })

  test('a string is not a record source', () => {
    expect(() => ndjsonResponse('abc' as unknown as string[])).toThrow(TypeError)
    expect(() => ndjsonResponse(42 as unknown as number[])).toThrow(/Cannot read records/)
  })

  test('onClose reports the count and the idOf of the last record', async () => {
    const summaries: StreamSummary[] = []
    const response = ndjsonResponse([{ seq: 7 }, { seq: 8 }], { idOf: (r) => r.seq, onClose: (s) => summaries.push(s) })
    await response.text()
    expect(summaries).toEqual([{ reason: 'end', count: 2, lastId: '8' }])
  })

  test('a record with the shape of the end trailer errors the body instead of ending the stream early', async () => {
    const response = ndjsonResponse([{ seq: 1 }, { $sluice: 'end', count: 1 }])
    await expect(response.text()).rejects.toThrow(/end trailer/)
  })

  test('a record with no JSON form errors the body and releases the source', async () => {
    let released = false
    async function* source() {
      try {
        yield 1
        yield undefined
        yield 3
      } finally {
        released = true
      }
    }
    await expect(ndjsonResponse(source()).text()).rejects.toThrow(TypeError)
    expect(released).toBe(true)
  })

  test('a failing source errors the body, so a client sees a cut stream, not the end trailer', async () => {
    const summaries: StreamSummary[] = []
    async function* source() {
      yield { seq: 0 }
      throw new Error('database went away')
    }
    const chunks: string[] = []
    const reader = ndjsonResponse(source(), { onClose: (s) => summaries.push(s) }).body!.getReader()
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return
          chunks.push(new TextDecoder().decode(value))
        }
      })(),
    ).rejects.toThrow('database went away')
    expect(chunks).toEqual(['{"seq":0}\n'])
    expect(summaries[0]).toMatchObject({ reason: 'error', count: 1 })
  })

  test('heartbeatMs rejects a negative interval', () => {
    expect(() => ndjsonResponse([], { heartbeatMs: -1 })).toThrow(RangeError)
  })

  test('round-trips arbitrary JSON records through decodeNdjson in arbitrary chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue(), { maxLength: 20 }),
        fc.integer({ min: 1, max: 17 }),
        async (records, size) => {
          // A record with the end trailer's shape is rejected by design; the property is about the rest.
          fc.pre(
            records.every(
              (r) => typeof r !== 'object' || r === null || (r as Record<string, unknown>)['$sluice'] !== 'end',
            ),
          )
          const bytes = new Uint8Array(await ndjsonResponse(records).arrayBuffer())
          const chunks: Uint8Array[] = []
          for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
          const decoded: unknown[] = []
          for await (const record of decodeNdjson(chunks, { requireEnd: true })) decoded.push(record)
          expect(decoded).toEqual(records.map((r) => JSON.parse(JSON.stringify(r))))
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('NdjsonEncoderStream', () => {
  test('encodes piped records and ends with the trailer', async () => {
    const records = new ReadableStream({
      start(controller) {
        controller.enqueue({ seq: 1 })
        controller.enqueue({ seq: 2 })
        controller.close()
      },
    })
    const text = await new Response(records.pipeThrough(new NdjsonEncoderStream())).text()
    expect(text).toBe(`{"seq":1}\n{"seq":2}\n${ndjsonEndLine(2)}`)
  })

  test('end: false leaves the trailer out', async () => {
    const records = new ReadableStream({
      start(controller) {
        controller.enqueue(1)
        controller.close()
      },
    })
    expect(await new Response(records.pipeThrough(new NdjsonEncoderStream({ end: false }))).text()).toBe('1\n')
  })
})

describe('encodeNdjson', () => {
  test('keeps a record on one line whatever its strings hold', () => {
    expect(encodeNdjson({ text: 'a\nb\r\nc\u2028' })).toBe('{"text":"a\\nb\\r\\nc\u2028"}\n')
  })

  test('rejects a value with no JSON form', () => {
    expect(() => encodeNdjson(() => 1)).toThrow(/Cannot encode record/)
  })
})

/**
 * Every error class the decoders raise, with the fields a caller reads: `code`, line, byte offset,
 * a snippet of at most 200 characters, and the `onInvalid` policies.
 */
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import {
  decodeNdjson,
  decodeSse,
  EncodingError,
  LineTooLongError,
  ParseError,
  SluiceError,
  TruncatedStreamError,
  ValidationError,
} from '../src/index.js'
import { chunkings } from './chunkings.js'
import { collect, endlessStream, utf8 } from './collect.js'

const User = z.object({ id: z.number(), user: z.object({ name: z.string(), tags: z.array(z.string()) }) })

describe('ParseError', () => {
  test('ndjson reports a bad line with its code, line, byte offset, snippet and cause', async () => {
    const { items, error } = await collect(decodeNdjson(['{"a":1}\n', '{"b":2}\r\n{"c" 3}\n{"d":4}\n']))
    expect(items).toEqual([{ a: 1 }, { b: 2 }])
    expect(error).toBeInstanceOf(ParseError)
    expect(error).toBeInstanceOf(SluiceError)
    expect(error).toMatchObject({ code: 'PARSE_ERROR', name: 'ParseError', line: 3, offset: 17, snippet: '{"c" 3}' })
    expect((error as ParseError).cause).toBeInstanceOf(SyntaxError)
    expect((error as ParseError).message).toMatch(/^Cannot parse JSON on line 3 \(byte 17\)/)
  })

  test('ndjson cuts the snippet of a long bad line to 200 characters', async () => {
    const line = `{"x":"${'y'.repeat(5000)}"`
    const { error } = await collect(decodeNdjson([`${line}\n`]))
    expect(error).toMatchObject({ code: 'PARSE_ERROR', line: 1, offset: 0 })
    const snippet = (error as ParseError).snippet
    expect(snippet.length).toBe(200)
    expect(line.startsWith(snippet.slice(0, 199))).toBe(true)
  })

  test('sse with json reports bad data at the line and byte where its event starts', async () => {
    const input = 'data: 1\n\n: keepalive\n\nevent: tick\ndata: {oops}\n\ndata: 3\n\n'
    for (const { label, chunks } of chunkings(input, { randomRuns: 2 })) {
      const { items, error } = await collect(decodeSse(chunks, { json: true }))
      expect(items, label).toEqual([{ event: 'message', data: 1 }])
      expect(error, label).toBeInstanceOf(ParseError)
      expect(error, label).toMatchObject({ code: 'PARSE_ERROR', line: 5, offset: 22, snippet: '{oops}' })
    }
  })
})

describe('ValidationError', () => {
  test('ndjson reports the zod issues with their paths, the line, offset and snippet', async () => {
    const input = [
      '{"id":1,"user":{"name":"ann","tags":[]}}',
      '',
      '{"id":2,"user":{"name":42,"tags":["a",7]}}',
      '{"id":3,"user":{"name":"cy","tags":[]}}',
    ].join('\n')
    const { items, error } = await collect(decodeNdjson([input], { schema: User }))
    expect(items).toEqual([{ id: 1, user: { name: 'ann', tags: [] } }])
    expect(error).toBeInstanceOf(ValidationError)
    const e = error as ValidationError
    expect(e).toMatchObject({
      code: 'VALIDATION_ERROR',
      line: 3,
      offset: 42,
      snippet: '{"id":2,"user":{"name":42,"tags":["a",7]}}',
    })
    expect(e.issues.map((issue) => issue.path)).toEqual([
      ['user', 'name'],
      ['user', 'tags', 1],
    ])
    expect(e.message).toBe(`Cannot accept record on line 3: schema rejected it: ${e.issues[0]!.message} at user.name`)
  })

  test('sse reports the issues of a rejected event with its line and data snippet', async () => {
    const input = 'data: {"id":1,"user":{"name":"a","tags":[]}}\n\nid: 9\ndata: {"id":"2"}\n\n'
    const { items, error } = await collect(decodeSse([input], { schema: User }))
    expect(items).toEqual([{ event: 'message', data: { id: 1, user: { name: 'a', tags: [] } } }])
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', line: 3, offset: 46, snippet: '{"id":"2"}' })
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([['id'], ['user']])
  })

  test('the snippet of a rejected record is at most 200 characters', async () => {
    const { error } = await collect(decodeNdjson([`{"id":"x","pad":"${'p'.repeat(1000)}"}\n`], { schema: User }))
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).snippet.length).toBeLessThanOrEqual(200)
  })
})

describe('onInvalid', () => {
  const input =
    '{"id":1,"user":{"name":"a","tags":[]}}\nnot json\n{"id":"bad"}\n{"id":4,"user":{"name":"d","tags":[]}}\n'

  test('"skip" drops unparsable and invalid records and keeps going', async () => {
    const { items, error } = await collect(decodeNdjson([input], { schema: User, onInvalid: 'skip' }))
    expect(error).toBeUndefined()
    expect(items.map((r) => r.id)).toEqual([1, 4])
  })

  test('a callback sees each bad record as its error, in order, and decoding goes on', async () => {
    const seen: SluiceError[] = []
    const { items, error } = await collect(decodeNdjson([input], { schema: User, onInvalid: (e) => void seen.push(e) }))
    expect(error).toBeUndefined()
    expect(items.map((r) => r.id)).toEqual([1, 4])
    expect(seen.map((e) => [e.code, (e as ParseError).line])).toEqual([
      ['PARSE_ERROR', 2],
      ['VALIDATION_ERROR', 3],
    ])
  })

  test('an error thrown by the callback ends the iteration after the records before it', async () => {
    const stop = new Error('stop here')
    const { items, error } = await collect(
      decodeNdjson([input], {
        schema: User,
        onInvalid: () => {
          throw stop
        },
      }),
    )
    expect(items.map((r) => r.id)).toEqual([1])
    expect(error).toBe(stop)
  })

  test('"throw" (the default) delivers the records before the bad one, then throws', async () => {
    const received: unknown[] = []
    const iterator = decodeNdjson([input], { schema: User })
    await expect(
      (async () => {
        for await (const record of iterator) received.push(record)
      })(),
    ).rejects.toBeInstanceOf(ParseError)
    expect(received).toHaveLength(1)
  })

  test('a bad record in the same chunk as good ones does not drop them', async () => {
    const { items, error } = await collect(decodeSse(['data: 1\n\ndata: 2\n\ndata: x\n\ndata: 4\n\n'], { json: true }))
    expect(items.map((e) => e.data)).toEqual([1, 2])
    expect(error).toBeInstanceOf(ParseError)
  })
})

describe('TruncatedStreamError', () => {
  test('partial-record: ndjson reports the cut last line, its number and the records before it', async () => {
    const { items, error } = await collect(decodeNdjson(['{"a":1}\n\n{"a":2}\n{"a":3']))
    expect(items).toEqual([{ a: 1 }, { a: 2 }])
    expect(error).toBeInstanceOf(TruncatedStreamError)
    expect(error).toMatchObject({
      code: 'TRUNCATED_STREAM',
      reason: 'partial-record',
      line: 4,
      received: 2,
      snippet: '{"a":3',
    })
    expect((error as Error).message).toBe('Cannot complete stream: it ended inside a record on line 4')
  })

  test('partial-record: sse reports an event cut before its blank line, with its data as the snippet', async () => {
    const { items, error } = await collect(decodeSse(['data: a\n\nevent: x\ndata: ', 'partial']))
    expect(items).toEqual([{ event: 'message', data: 'a' }])
    expect(error).toMatchObject({
      code: 'TRUNCATED_STREAM',
      reason: 'partial-record',
      line: 4,
      received: 1,
      snippet: 'partial',
    })
  })

  test('partial-record: the snippet of a long cut record is at most 200 characters', async () => {
    const { error } = await collect(decodeNdjson([`{"a":"${'z'.repeat(900)}`]))
    expect(error).toMatchObject({ reason: 'partial-record' })
    expect((error as TruncatedStreamError).snippet.length).toBe(200)
  })

  test('missing-end: requireEnd reports how many records arrived without the marker', async () => {
    const { items, error } = await collect(decodeNdjson(['{"a":1}\n{"a":2}\n'], { requireEnd: true }))
    expect(items).toHaveLength(2)
    expect(error).toMatchObject({ code: 'TRUNCATED_STREAM', reason: 'missing-end', received: 2, line: 2 })
    expect((error as Error).message).toBe('Cannot complete stream: it ended after 2 records without the end marker')
  })

  test('count-mismatch: the marker count and the records received are both reported', async () => {
    const { error } = await collect(decodeSse(['data: a\n\nevent: end\ndata: {"count":4}\n\n']))
    expect(error).toMatchObject({
      code: 'TRUNCATED_STREAM',
      reason: 'count-mismatch',
      expected: 4,
      received: 1,
      line: 3,
    })
    expect((error as Error).message).toBe('Cannot complete stream: end marker on line 3 counts 4 records but 1 arrived')
  })
})

describe('LineTooLongError', () => {
  test('ndjson refuses a line longer than maxLineBytes within one chunk', async () => {
    const { items, error } = await collect(decodeNdjson([`{"a":1}\n"${'x'.repeat(200)}"\n`], { maxLineBytes: 100 }))
    expect(items).toEqual([{ a: 1 }])
    expect(error).toBeInstanceOf(LineTooLongError)
    expect(error).toMatchObject({ code: 'LINE_TOO_LONG', limit: 100, line: 2 })
    expect((error as LineTooLongError).snippet.length).toBeLessThanOrEqual(200)
  })

  test('maxLineBytes counts bytes, not characters', async () => {
    const line = `"${'é'.repeat(60)}"\n` // 62 characters, 122 bytes
    expect((await collect(decodeNdjson([line], { maxLineBytes: 130 }))).error).toBeUndefined()
    expect((await collect(decodeNdjson([line], { maxLineBytes: 100 }))).error).toBeInstanceOf(LineTooLongError)
    expect((await collect(decodeSse([`data: ${'é'.repeat(60)}\n\n`], { maxLineBytes: 100 }))).error).toMatchObject({
      code: 'LINE_TOO_LONG',
      line: 1,
    })
  })

  test('the events and records before a long line in the same chunk are delivered first', async () => {
    const sse = await collect(decodeSse([`data: a\n\ndata: b\n\ndata: ${'x'.repeat(300)}\n\n`], { maxLineBytes: 100 }))
    expect(sse.items.map((e) => e.data)).toEqual(['a', 'b'])
    expect(sse.error).toMatchObject({ code: 'LINE_TOO_LONG', line: 5 })
    expect((sse.error as LineTooLongError).snippet).toBe(`data: ${'x'.repeat(194)}`)
    const ndjson = await collect(decodeNdjson([`1\n2\n"${'x'.repeat(300)}"\n`], { maxLineBytes: 100 }))
    expect(ndjson.items).toEqual([1, 2])
    expect(ndjson.error).toMatchObject({ code: 'LINE_TOO_LONG', line: 3 })
  })

  test('a line exactly maxLineBytes long is accepted', async () => {
    const { items, error } = await collect(decodeNdjson([`"${'x'.repeat(98)}"\n`], { maxLineBytes: 100 }))
    expect(error).toBeUndefined()
    expect(items).toHaveLength(1)
  })

  for (const [name, decode] of [
    ['ndjson', (s: ReadableStream<Uint8Array>) => decodeNdjson(s, { maxLineBytes: 4096 })],
    ['sse', (s: ReadableStream<Uint8Array>) => decodeSse(s, { maxLineBytes: 4096 })],
  ] as const) {
    test(`${name} refuses an endless line in small chunks before pulling much more than maxLineBytes`, async () => {
      const { stream, state } = endlessStream(
        utf8(name === 'sse' ? 'data: xxxxxxxxxxxxxxxxx' : '[1,2,3,4,5,6,7,8,9,0,1'),
      )
      const { error } = await collect(decode(stream))
      expect(error).toMatchObject({ code: 'LINE_TOO_LONG', limit: 4096, line: 1 })
      // One chunk past the limit, no more (the chunk is 23 bytes).
      expect(state.bytes).toBeGreaterThan(4096)
      expect(state.bytes).toBeLessThanOrEqual(4096 + 23)
      expect(state.cancelled).toBe(true)
    })
  }

  test('sse refuses an endless comment line too', async () => {
    const { stream, state } = endlessStream(utf8(': heartbeat heartbeat '))
    const { error } = await collect(decodeSse(stream, { maxLineBytes: 1000, onComment: () => {} }))
    expect(error).toMatchObject({ code: 'LINE_TOO_LONG', line: 1 })
    expect(state.bytes).toBeLessThanOrEqual(1000 + 22)
  })

  test('maxLineBytes must be a positive number', () => {
    expect(() => decodeNdjson([], { maxLineBytes: 0 })).toThrow(RangeError)
    expect(() => decodeSse([], { maxLineBytes: Number.NaN })).toThrow(RangeError)
  })
})

describe('EncodingError and replacement', () => {
  const bad = new Uint8Array([...utf8('{"a":"x'), 0xff, 0xfe, ...utf8('"}\n')])

  test('invalid UTF-8 becomes U+FFFD by default', async () => {
    const { items, error } = await collect(decodeNdjson([bad]))
    expect(error).toBeUndefined()
    expect(items).toEqual([{ a: 'x\uFFFD\uFFFD' }])
    const sse = await collect(decodeSse([new Uint8Array([...utf8('data: '), 0xc3, 0x28, ...utf8('\n\n')])]))
    expect(sse.items).toEqual([{ event: 'message', data: '\uFFFD(' }])
  })

  test('fatal: true raises EncodingError at the offset of the chunk with the bad bytes', async () => {
    const { items, error } = await collect(decodeNdjson([utf8('{"a":1}\n'), bad], { fatal: true }))
    expect(items).toEqual([{ a: 1 }])
    expect(error).toBeInstanceOf(EncodingError)
    expect(error).toMatchObject({ code: 'ENCODING_ERROR', offset: 8 })
    expect((error as EncodingError).cause).toBeInstanceOf(TypeError)
  })

  test('fatal: true raises EncodingError for a character cut off at the end of the body', async () => {
    const { error } = await collect(
      decodeSse([utf8('data: a\n\ndata: '), new Uint8Array([0xe6, 0x97])], { fatal: true }),
    )
    expect(error).toMatchObject({ code: 'ENCODING_ERROR', offset: 15 })
  })

  test('a character cut off at the end of the body is U+FFFD by default, and the record is cut', async () => {
    const { items, error } = await collect(decodeNdjson([utf8('1\n"ab'), new Uint8Array([0xe6, 0x97])]))
    expect(items).toEqual([1])
    expect(error).toMatchObject({ code: 'TRUNCATED_STREAM', reason: 'partial-record', snippet: '"ab\uFFFD' })
  })
})

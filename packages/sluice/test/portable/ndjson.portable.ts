/**
 * decodeNdjson and NdjsonDecoderStream in every runtime: vectors under every chunking, errors with
 * their codes and positions, end markers, and cancellation reaching the source.
 */
import { decodeNdjson, NdjsonDecoderStream, type StandardSchemaV1 } from 'sluice'
import { bytes, chunkings, streamOf } from './chunkings.js'
import { collect, expect, expectError, fail, test } from './harness.js'

interface Vector {
  name: string
  input: string
  expected: unknown[]
}

const vectors: Vector[] = [
  {
    name: 'LF-separated records',
    input: '{"a":1}\n{"b":[1,2]}\n"s"\n3\n',
    expected: [{ a: 1 }, { b: [1, 2] }, 's', 3],
  },
  { name: 'CRLF-separated records', input: '{"a":1}\r\n{"a":2}\r\n', expected: [{ a: 1 }, { a: 2 }] },
  { name: 'a leading BOM', input: '\uFEFF{"a":1}\n', expected: [{ a: 1 }] },
  { name: 'multi-byte characters', input: '{"t":"é€😀"}\n{"t":"ß"}\n', expected: [{ t: 'é€😀' }, { t: 'ß' }] },
  {
    name: 'blank and whitespace-only heartbeat lines',
    input: '\n{"a":1}\n \t\n\r\n{"a":2}\n\n',
    expected: [{ a: 1 }, { a: 2 }],
  },
  { name: 'a complete last line without a newline', input: '{"a":1}\n{"a":2}', expected: [{ a: 1 }, { a: 2 }] },
  {
    name: 'the end trailer, which ends the stream and is not yielded',
    input: '{"a":1}\n{"a":2}\n{"$sluice":"end","count":2}\n',
    expected: [{ a: 1 }, { a: 2 }],
  },
  {
    name: 'bytes after the end trailer, which are never read as records',
    input: '{"a":1}\n{"$sluice":"end","count":1}\nnot json at all\n',
    expected: [{ a: 1 }],
  },
]

for (const v of vectors) {
  test(`ndjson decodes ${v.name} under every chunking`, async () => {
    for (const { name, chunks } of chunkings(v.input)) {
      expect(await collect(decodeNdjson(chunks)), `${v.name}, ${name}`).toEqual(v.expected)
    }
  })
}

test('ndjson reads strings, async generators, ReadableStreams and Responses alike', async () => {
  const text = '{"n":1}\n{"n":2}\n'
  async function* generate() {
    yield '{"n":1}\n{"n"'
    yield bytes(':2}\n')
  }
  const expected = [{ n: 1 }, { n: 2 }]
  expect(await collect(decodeNdjson(['{"n":1}\n', '{"n":2}\n'])), 'string chunks').toEqual(expected)
  expect(await collect(decodeNdjson(generate())), 'async generator').toEqual(expected)
  expect(await collect(decodeNdjson(streamOf([bytes(text)]))), 'ReadableStream').toEqual(expected)
  expect(await collect(decodeNdjson(new Response(text))), 'Response').toEqual(expected)
})

test('ndjson NdjsonDecoderStream decodes through pipeThrough and stops at the end trailer', async () => {
  const input = '{"a":1}\r\n{"a":"é"}\n{"$sluice":"end","count":2}\n{"a":3}\n'
  for (const { name, chunks } of chunkings(input, 2)) {
    const records = streamOf(chunks).pipeThrough(new NdjsonDecoderStream())
    expect(await collect(records), name).toEqual([{ a: 1 }, { a: 'é' }])
  }
})

test('ndjson raises PARSE_ERROR with the line, byte offset and snippet after delivering the records before it', async () => {
  const input = '{"a":"é"}\n\n{oops}\n{"a":2}\n'
  for (const { name, chunks } of chunkings(input)) {
    const got: unknown[] = []
    const error = await expectError(
      async () => {
        for await (const record of decodeNdjson(chunks)) got.push(record)
      },
      { code: 'PARSE_ERROR', name: 'ParseError', line: 3, offset: 12, snippet: '{oops}' },
    )
    expect(got, name).toEqual([{ a: 'é' }])
    expect(error.message, name).toContain('line 3')
  }
})

test('ndjson skips bad lines with onInvalid "skip" and reports them to an onInvalid callback', async () => {
  const input = '{"a":1}\nnope\n{"a":2}\n'
  expect(await collect(decodeNdjson([input], { onInvalid: 'skip' }))).toEqual([{ a: 1 }, { a: 2 }])
  const seen: string[] = []
  const records = await collect(decodeNdjson([input], { onInvalid: (error) => seen.push(error.code) }))
  expect(records).toEqual([{ a: 1 }, { a: 2 }])
  expect(seen).toEqual(['PARSE_ERROR'])
})

/** A Standard Schema v1 written by hand, so the portable suite needs no validation library. */
const Tick: StandardSchemaV1<unknown, { seq: number }> = {
  '~standard': {
    version: 1,
    vendor: 'portable-test',
    validate(value) {
      const seq = (value as { seq?: unknown } | null)?.seq
      if (typeof seq === 'number') return { value: { seq } }
      return { issues: [{ message: 'seq must be a number', path: ['seq'] }] }
    },
  },
}

test('ndjson validates records with a Standard Schema and raises VALIDATION_ERROR with the issue path', async () => {
  expect(await collect(decodeNdjson(['{"seq":1,"x":0}\n{"seq":2}\n'], { schema: Tick }))).toEqual([
    { seq: 1 },
    { seq: 2 },
  ])
  const error = await expectError(() => collect(decodeNdjson(['{"seq":1}\n{"seq":"2"}\n'], { schema: Tick })), {
    code: 'VALIDATION_ERROR',
    line: 2,
    snippet: '{"seq":"2"}',
  })
  expect(error['issues'], 'issues').toEqual([{ message: 'seq must be a number', path: ['seq'] }])
})

test('ndjson raises TRUNCATED_STREAM (partial-record) for a last line cut inside a record', async () => {
  const input = '{"a":1}\n{"a":2}\n{"a":'
  for (const { name, chunks } of chunkings(input)) {
    const got: unknown[] = []
    await expectError(
      async () => {
        for await (const record of decodeNdjson(chunks)) got.push(record)
      },
      { code: 'TRUNCATED_STREAM', reason: 'partial-record', line: 3, received: 2, snippet: '{"a":' },
    )
    expect(got, name).toEqual([{ a: 1 }, { a: 2 }])
  }
})

test('ndjson raises TRUNCATED_STREAM (count-mismatch) when the end trailer counts other records than arrived', async () => {
  await expectError(() => collect(decodeNdjson(['{"a":1}\n{"$sluice":"end","count":3}\n'])), {
    code: 'TRUNCATED_STREAM',
    reason: 'count-mismatch',
    expected: 3,
    received: 1,
  })
})

test('ndjson with requireEnd raises TRUNCATED_STREAM (missing-end) for a clean end without the trailer', async () => {
  expect(await collect(decodeNdjson(['{"a":1}\n']))).toEqual([{ a: 1 }])
  await expectError(() => collect(decodeNdjson(['{"a":1}\n'], { requireEnd: true })), {
    code: 'TRUNCATED_STREAM',
    reason: 'missing-end',
    received: 1,
  })
})

test('ndjson with endMarker false yields the trailer as an ordinary record', async () => {
  const records = await collect(decodeNdjson(['{"a":1}\n{"$sluice":"end","count":1}\n'], { endMarker: false }))
  expect(records).toEqual([{ a: 1 }, { $sluice: 'end', count: 1 }])
})

test('ndjson raises LINE_TOO_LONG for a line over maxLineBytes, counted in bytes, under every chunking', async () => {
  const input = '{"a":1}\n{"t":"éééééééééé"}\n'
  for (const { name, chunks } of chunkings(input)) {
    const got: unknown[] = []
    await expectError(
      async () => {
        for await (const record of decodeNdjson(chunks, { maxLineBytes: 20 })) got.push(record)
      },
      { code: 'LINE_TOO_LONG', limit: 20, line: 2 },
    )
    expect(got, name).toEqual([{ a: 1 }])
  }
})

/** An endless source that counts how often it was pulled and whether it was cancelled. */
function endless() {
  const state = { pulls: 0, cancelled: false, reason: undefined as unknown }
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        state.pulls++
        if (state.pulls > 100_000) controller.error(new Error('pulled without bound'))
        else controller.enqueue(bytes(`{"n":${state.pulls}}\n`))
      },
      cancel(reason) {
        state.cancelled = true
        state.reason = reason
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, state }
}

test('ndjson leaving for-await early cancels the source', async () => {
  const { stream, state } = endless()
  const got: unknown[] = []
  for await (const record of decodeNdjson(stream)) {
    got.push(record)
    if (got.length === 3) break
  }
  expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
  expect(state.cancelled, 'cancelled').toBe(true)
})

test('ndjson does not drain a source while the consumer is paused', async () => {
  const { stream, state } = endless()
  const records = decodeNdjson(stream)
  await records.next()
  await records.next()
  const pullsWhenPaused = state.pulls
  // Give a greedy implementation every chance to read ahead: several macrotask turns.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0))
  expect(state.pulls, 'pulls while paused').toBeLessThanOrEqual(pullsWhenPaused + 1)
  await records.return?.()
  expect(state.cancelled, 'cancelled by return()').toBe(true)
})

test('ndjson aborting the signal rejects with its reason and cancels the source', async () => {
  const { stream, state } = endless()
  const controller = new AbortController()
  const reason = new Error('consumer gave up')
  const got: unknown[] = []
  const error = await expectError(
    async () => {
      for await (const record of decodeNdjson(stream, { signal: controller.signal })) {
        got.push(record)
        if (got.length === 2) controller.abort(reason)
      }
    },
    { message: 'consumer gave up' },
  )
  if (error !== reason) fail('the abort reason itself should be thrown')
  expect(got.length, 'records before abort').toBe(2)
  expect(state.cancelled, 'cancelled').toBe(true)
})

test('ndjson with an already aborted signal throws before reading', async () => {
  const { stream, state } = endless()
  const controller = new AbortController()
  controller.abort(new Error('too late'))
  await expectError(() => collect(decodeNdjson(stream, { signal: controller.signal })), { message: 'too late' })
  expect(state.pulls, 'pulls').toBe(0)
})

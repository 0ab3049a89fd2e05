/**
 * Arbitrary bytes under arbitrary chunkings and options: the decoders (both iterators, both
 * TransformStreams, and the resilient ndjson()/sse() over an injected fetch) throw nothing but
 * SluiceErrors, never hang, and never buffer much more than maxLineBytes.
 * Bounded here (300 cases per property); SLUICE_FUZZ_RUNS raises it.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import {
  decodeNdjson,
  decodeSse,
  NdjsonDecoderStream,
  type NdjsonOptions,
  ndjson,
  SluiceError,
  SseDecoderStream,
  type SseOptions,
  sse,
} from '../../src/index.js'
import { recordFigure, recordFuzz } from '../support/figures.js'

const runs = Number(process.env.SLUICE_FUZZ_RUNS ?? 300)
const MAX_LINE = 1024
/** A case that neither finishes nor throws within this is a hang. */
const CASE_TIMEOUT_MS = 5000

/** Bytes biased toward the characters that matter to the decoders: line breaks, colons, braces, bad UTF-8. */
const byte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(10, 13, 58, 123, 125, 34, 0, 0xef, 0xbb, 0xbf, 0xc3, 0x80, 0xff, 0xf0, 0x9f),
)
const noise = fc.tuple(fc.uint8Array({ maxLength: 3000 }), fc.array(byte, { maxLength: 600 })).map(([a, b]) => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(Uint8Array.from(b), a.length)
  return out
})
/** SSE field lines, comments, ids, retry values and end events, in any order: a near-miss event stream. */
const sseLine = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).map((v) => `data: ${JSON.stringify(v)}`),
  fc.string({ maxLength: 30 }).map((s) => `data:${s}`),
  fc.string({ maxLength: 10 }).map((s) => `id: ${s}`),
  fc.string({ maxLength: 6 }).map((s) => `retry: ${s}`),
  fc.constantFrom('', ':', ': heartbeat', 'event: end', 'data: {"count":1}', 'event: x', 'data', 'id'),
)
/** Well-formed NDJSON and SSE with a few bytes flipped: near-misses reach deeper than pure noise. */
const nearMiss = fc
  .tuple(
    fc.oneof(
      fc
        .array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 20 })
        .map((values) => values.map((v) => `${JSON.stringify(v)}\n`).join('')),
      fc
        .array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 20 })
        .map((values) => values.map((v) => `data: ${JSON.stringify(v)}\n\n`).join('')),
      fc
        .array(fc.tuple(sseLine, fc.constantFrom('\n', '\r', '\r\n')), { maxLength: 40 })
        .map((lines) => lines.map(([l, eol]) => l + eol).join('')),
      fc
        .array(fc.record({ seq: fc.nat(50) }), { maxLength: 20 })
        .map((rs) => `${rs.map((r) => `${JSON.stringify(r)}\n`).join('')}{"$sluice":"end","count":${rs.length}}\n`),
    ),
    fc.array(fc.tuple(fc.nat(), byte), { maxLength: 3 }),
  )
  .map(([text, flips]) => {
    const bytes = new TextEncoder().encode(text)
    for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value
    return bytes
  })
const input = fc.oneof(noise, nearMiss)
/**
 * Chunk sizes, cycled: one byte at a time, splits inside multi-byte characters, whole bodies. A
 * negative size gives that chunk as a string (decoded on its own, as a caller's text would be).
 */
const cuts = fc.array(fc.oneof(fc.integer({ min: 1, max: 97 }), fc.integer({ min: -40, max: -1 })), {
  minLength: 1,
  maxLength: 40,
})
const bytesOnly = fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 40 })

/** The options a consumer might pass: JSON or raw SSE data, a schema, skipping invalid records, requiring the end marker. */
const Loose = z.looseObject({ seq: z.number() })
const options = fc.record({
  json: fc.boolean(),
  schema: fc.boolean(),
  skip: fc.boolean(),
  requireEnd: fc.boolean(),
})
type Picked = { json: boolean; schema: boolean; skip: boolean; requireEnd: boolean }
/** Typed loosely on purpose: one options object feeds every decoder, with or without a schema. */
type AnyOptions = NdjsonOptions & SseOptions & { requireEnd: boolean }
function decodeOptions(picked: Picked, fatal: boolean): AnyOptions {
  return {
    maxLineBytes: MAX_LINE,
    fatal,
    json: picked.json,
    requireEnd: picked.requireEnd,
    ...(picked.schema ? { schema: Loose } : {}),
    ...(picked.skip ? { onInvalid: 'skip' as const } : {}),
  } as AnyOptions
}

function* chunked(bytes: Uint8Array, sizes: number[]): Generator<Uint8Array | string> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!
    const chunk = bytes.subarray(at, at + Math.abs(size))
    yield size < 0 ? new TextDecoder().decode(chunk) : chunk
    at += Math.abs(size)
  }
}

/** A ReadableStream over chunks (ReadableStream.from is missing from the DOM lib's types). */
function streamOf<C extends Uint8Array | string>(chunks: Iterable<C>): ReadableStream<C> {
  const iterator = chunks[Symbol.iterator]()
  return new ReadableStream({
    pull(controller) {
      const next = iterator.next()
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
  })
}

/** Reads a stream to its end, counting what came out. */
async function drain(stream: ReadableStream<unknown>): Promise<number> {
  const reader = stream.getReader()
  let n = 0
  while (!(await reader.read()).done) n++
  return n
}

async function count(records: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of records) n++
  return n
}

/**
 * A fetch that answers the first two requests with `bytes` in `sizes`-sized chunks, as
 * `contentType`, then 204 (do not reconnect): a stream that delivers a record and ends on every
 * connection is an endless stream by design (EventSource reconnects forever), not a hang.
 */
function fetchOf(bytes: Uint8Array, sizes: number[], contentType: string): typeof fetch {
  let requests = 0
  return async () =>
    ++requests > 2
      ? new Response(null, { status: 204 })
      : new Response(streamOf(chunked(bytes, sizes.map(Math.abs)) as Iterable<Uint8Array>), {
          status: 200,
          headers: { 'content-type': contentType },
        })
}
const noWait = { initialDelayMs: 0, minDelayMs: 0, maxDelayMs: 0, maxAttempts: 3 }
const idOf = (r: unknown) =>
  typeof r === 'object' && r !== null && 'seq' in r ? String((r as { seq: unknown }).seq) : ''

type Decoder = (bytes: Uint8Array, sizes: number[], picked: Picked, fatal: boolean) => Promise<number>

const decoders: Record<string, Decoder> = {
  decodeNdjson: (bytes, sizes, picked, fatal) =>
    count(decodeNdjson(chunked(bytes, sizes), decodeOptions(picked, fatal))),
  decodeSse: (bytes, sizes, picked, fatal) => count(decodeSse(chunked(bytes, sizes), decodeOptions(picked, fatal))),
  NdjsonDecoderStream: (bytes, sizes, picked, fatal) =>
    drain(streamOf(chunked(bytes, sizes)).pipeThrough(new NdjsonDecoderStream(decodeOptions(picked, fatal)))),
  SseDecoderStream: (bytes, sizes, picked, fatal) =>
    drain(streamOf(chunked(bytes, sizes)).pipeThrough(new SseDecoderStream(decodeOptions(picked, fatal)))),
  // The resilient layer on top: reconnects (up to 3 attempts, no waits) replay the same bytes.
  'ndjson()': (bytes, sizes, picked, fatal) =>
    count(
      ndjson('http://fuzz.invalid/', {
        ...decodeOptions(picked, fatal),
        fetch: fetchOf(bytes, sizes, 'application/x-ndjson'),
        retry: noWait,
        idOf,
      }),
    ),
  'sse()': (bytes, sizes, picked, fatal) =>
    count(
      sse('http://fuzz.invalid/', {
        ...decodeOptions(picked, fatal),
        fetch: fetchOf(bytes, sizes, 'text/event-stream'),
        retry: noWait,
      }),
    ),
}

/** Fails a case that neither finishes nor throws within `ms`: a hang. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no result within ${ms} ms`)), ms)
  })
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer))
}

describe.each(Object.keys(decoders))('%s on arbitrary bytes', (name) => {
  const decode = decoders[name]!

  test.each([false, true])(
    'throws only SluiceErrors with a code and never hangs (fatal: %s)',
    async (fatal) => {
      const codes = new Map<string, number>()
      let slowest = 0
      await fc.assert(
        fc.asyncProperty(input, cuts, options, async (bytes, sizes, picked) => {
          const started = performance.now()
          try {
            await within(decode(bytes, sizes, picked, fatal), CASE_TIMEOUT_MS)
            codes.set('ok', (codes.get('ok') ?? 0) + 1)
          } catch (error) {
            expect(error, String(error)).toBeInstanceOf(SluiceError)
            const code = (error as SluiceError).code
            expect(code).toMatch(/^[A-Z_]+$/)
            // The injected fetch never fails: a NETWORK_ERROR there would be an internal error in disguise.
            if (name.endsWith('()')) expect(code, String((error as Error).cause)).not.toBe('NETWORK_ERROR')
            codes.set(code, (codes.get(code) ?? 0) + 1)
          }
          slowest = Math.max(slowest, performance.now() - started)
        }),
        { numRuns: runs },
      )
      recordFuzz(`${name} (fatal: ${fatal})`, runs, codes, slowest)
      // The generator must reach the interesting cases, or the property proves little.
      expect(codes.get('ok') ?? 0).toBeGreaterThan(0)
      if (fatal) expect(codes.get('ENCODING_ERROR') ?? 0).toBeGreaterThan(0)
    },
    120_000,
  )
})

/** Records (or SSE data) and the error code a decoder ends with. */
async function outcome(records: AsyncIterable<unknown>, isSse: boolean): Promise<{ got: unknown[]; code: string }> {
  const got: unknown[] = []
  try {
    for await (const r of records) got.push(isSse ? (r as { data: unknown }).data : r)
    return { got, code: 'ok' }
  } catch (error) {
    return { got, code: (error as SluiceError).code }
  }
}

test.each(['decodeNdjson', 'decodeSse'])(
  '%s gives the same records and the same error for any chunking of the same arbitrary bytes',
  async (name) => {
    const isSse = name === 'decodeSse'
    await fc.assert(
      fc.asyncProperty(input, bytesOnly, options, async (bytes, sizes, picked) => {
        const decode = (chunks: Iterable<Uint8Array | string>) =>
          isSse ? decodeSse(chunks, decodeOptions(picked, false)) : decodeNdjson(chunks, decodeOptions(picked, false))
        const whole = await within(outcome(decode([bytes]), isSse), CASE_TIMEOUT_MS)
        const split = await within(outcome(decode(chunked(bytes, sizes)), isSse), CASE_TIMEOUT_MS)
        expect(split).toEqual(whole)
      }),
      { numRuns: runs },
    )
  },
)

/** A line with no end, `chunkSize` bytes at a time, counting what the decoder pulled. */
function endless(chunkSize: number, sse: boolean) {
  const state = { pulled: 0 }
  const chunk = new Uint8Array(chunkSize).fill(sse ? 0x61 : 0x7b) // 'a' or '{', never a newline
  const chunks = {
    *[Symbol.iterator]() {
      for (;;) {
        state.pulled += chunk.length
        yield chunk
      }
    },
  }
  return { state, chunks }
}

test('a line with no end is refused with LINE_TOO_LONG after at most maxLineBytes plus one chunk, whatever the chunking', async () => {
  let worst = 0
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 4096 }), fc.boolean(), async (chunkSize, isSse) => {
      const { state, chunks } = endless(chunkSize, isSse)
      const decode = isSse
        ? decodeSse(chunks, { maxLineBytes: MAX_LINE })
        : decodeNdjson(chunks, { maxLineBytes: MAX_LINE })
      const error = await within(count(decode), CASE_TIMEOUT_MS).catch((e: unknown) => e)
      expect((error as SluiceError).code).toBe('LINE_TOO_LONG')
      expect(state.pulled).toBeLessThanOrEqual(MAX_LINE + chunkSize)
      worst = Math.max(worst, state.pulled - MAX_LINE)
    }),
    { numRuns: Math.min(runs, 200) },
  )
  recordFigure({
    scenario: 'fuzz: endless line, decodeNdjson/decodeSse (maxLineBytes 1 KiB, chunks of 1 B to 4 KiB)',
    cases: Math.min(runs, 200),
    detail: `LINE_TOO_LONG every time; at most ${worst} B pulled past the limit (bound: one chunk)`,
  })
})

test("through the TransformStreams, an endless line is refused after maxLineBytes plus the streams' queues (a few chunks)", async () => {
  let worstChunks = 0
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 4096 }), fc.boolean(), async (chunkSize, isSse) => {
      const { state, chunks } = endless(chunkSize, isSse)
      const decoder = isSse
        ? new SseDecoderStream({ maxLineBytes: MAX_LINE })
        : new NdjsonDecoderStream({ maxLineBytes: MAX_LINE })
      const error = await within(drain(streamOf(chunks).pipeThrough(decoder)), CASE_TIMEOUT_MS).catch((e: unknown) => e)
      expect((error as SluiceError).code).toBe('LINE_TOO_LONG')
      // One chunk in the decoder, one queued in the source stream, one in the pipe's read-ahead.
      expect(state.pulled).toBeLessThanOrEqual(MAX_LINE + 3 * chunkSize)
      worstChunks = Math.max(worstChunks, Math.ceil((state.pulled - MAX_LINE) / chunkSize))
    }),
    { numRuns: Math.min(runs, 200) },
  )
  recordFigure({
    scenario: 'fuzz: endless line, NdjsonDecoderStream/SseDecoderStream (maxLineBytes 1 KiB)',
    cases: Math.min(runs, 200),
    detail: `LINE_TOO_LONG every time; at most ${worstChunks} chunk(s) pulled past the limit (bound: 3)`,
  })
})

test('an over-long line among good records: every record before it is delivered, then LINE_TOO_LONG', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ seq: fc.nat() }), { maxLength: 10 }),
      fc.integer({ min: MAX_LINE + 1, max: 3 * MAX_LINE }),
      fc.boolean(),
      bytesOnly,
      async (records, longBytes, isSse, sizes) => {
        const frame = (json: string) => (isSse ? `data: ${json}\n\n` : `${json}\n`)
        const long = `{"pad":"${'é'.repeat(Math.ceil(longBytes / 2))}"}` // two UTF-8 bytes per character
        const text = records.map((r) => frame(JSON.stringify(r))).join('') + frame(long) + frame('{"seq":-1}')
        const bytes = new TextEncoder().encode(text)
        const got: unknown[] = []
        const decode = isSse
          ? decodeSse(chunked(bytes, sizes), { maxLineBytes: MAX_LINE, json: true })
          : decodeNdjson(chunked(bytes, sizes), { maxLineBytes: MAX_LINE })
        const error = await within(
          (async () => {
            for await (const r of decode) got.push(isSse ? (r as { data: unknown }).data : r)
          })(),
          CASE_TIMEOUT_MS,
        ).catch((e: unknown) => e)
        expect((error as SluiceError).code).toBe('LINE_TOO_LONG')
        expect(got).toEqual(records)
      },
    ),
    { numRuns: Math.min(runs, 200) },
  )
})

test('invalid UTF-8 becomes U+FFFD by default and an EncodingError with fatal: true', async () => {
  const bad = Uint8Array.from([
    ...new TextEncoder().encode('{"name":"'),
    0xff,
    0xfe,
    ...new TextEncoder().encode('"}\n'),
  ])
  const records: { name: string }[] = []
  for await (const r of decodeNdjson<{ name: string }>([bad])) records.push(r)
  expect(records).toEqual([{ name: '\uFFFD\uFFFD' }])
  const error = await count(decodeNdjson([bad], { fatal: true })).catch((e: unknown) => e)
  expect((error as SluiceError).code).toBe('ENCODING_ERROR')

  const events: string[] = []
  for await (const e of decodeSse(['data: a', Uint8Array.of(0xc3), '\n\n'])) events.push(e.data)
  expect(events).toEqual(['a\uFFFD'])
  const sseError = await count(decodeSse(['data: a', Uint8Array.of(0xc3), '\n\n'], { fatal: true })).catch(
    (e: unknown) => e,
  )
  expect((sseError as SluiceError).code).toBe('ENCODING_ERROR')
})

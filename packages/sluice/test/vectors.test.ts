/**
 * Every vector of `test/vectors/` at every layer (the async iterator and the TransformStream), fed
 * whole, in two at every point, one unit at a time, split at every CR/LF and inside every
 * multi-byte character, and in seeded random chunks, as bytes and as strings.
 */
import { describe, expect, test } from 'vitest'
import { decodeNdjson, decodeSse, NdjsonDecoderStream, SseDecoderStream } from '../src/index.js'
import { chunkings, chunkingsOf } from './chunkings.js'
import { collect, collectStream, type Outcome, streamOf, utf8 } from './collect.js'
import type { ExpectedError } from './vectors/expected.js'
import { ndjsonVectors } from './vectors/ndjson.js'
import { sseVectors } from './vectors/sse.js'

function check(outcome: Outcome<unknown>, expected: unknown[], error: ExpectedError | undefined, label: string): void {
  expect(outcome.items, label).toEqual(expected)
  if (error === undefined) {
    expect(outcome.error, label).toBeUndefined()
  } else {
    expect(outcome.error, label).toMatchObject(error)
  }
}

describe('ndjson vectors through decodeNdjson', () => {
  for (const v of ndjsonVectors) {
    test(v.name, async () => {
      for (const { label, chunks } of chunkings(v.input)) {
        check(await collect(decodeNdjson(chunks, v.options)), v.expected, v.error, label)
      }
    })
  }
})

describe('sse vectors through decodeSse', () => {
  for (const v of sseVectors) {
    test(v.name, async () => {
      for (const { label, chunks } of chunkings(v.input)) {
        check(await collect(decodeSse(chunks, v.options)), v.expected, v.error, label)
      }
    })
  }
})

// The stream layer costs a promise hop per chunk: a smaller set of chunkings keeps it quick.
const streamChunkings = { randomRuns: 2, maxPairwise: 0 }

describe('ndjson vectors through NdjsonDecoderStream', () => {
  for (const v of ndjsonVectors) {
    test(v.name, async () => {
      for (const { label, chunks } of chunkingsOf(utf8(v.input), streamChunkings)) {
        const stream = streamOf(chunks).pipeThrough(new NdjsonDecoderStream(v.options))
        check(await collectStream(stream), v.expected, v.error, label)
      }
    })
  }
})

describe('sse vectors through SseDecoderStream', () => {
  for (const v of sseVectors) {
    test(v.name, async () => {
      for (const { label, chunks } of chunkingsOf(utf8(v.input), streamChunkings)) {
        const stream = streamOf(chunks).pipeThrough(new SseDecoderStream(v.options))
        check(await collectStream(stream), v.expected, v.error, label)
      }
    })
  }
})

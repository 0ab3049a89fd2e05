/**
 * NDJSON decoding (ndjson.ts through decodeNdjson) as properties: random records (nested, multi-byte,
 * emoji) with random line endings, heartbeats and a BOM, cut into random chunks (one byte at a time, at
 * random points, inside CRLF pairs and multi-byte characters), as bytes and as strings: the decoded
 * sequence equals the records encoded, and a bad or over-long line is reported at the same place.
 * The spec vectors at every layer: vectors.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { decodeNdjson } from '../src/index.js'
import { chunksAt } from './chunkings.js'
import { collect, utf8 } from './collect.js'
import { oneByteAtATime, points, propertyRuns, record } from './support/arbitraries.js'

const RUNS = propertyRuns(150)

/** What JSON gives back for a value (`-0` becomes `0`, and so on). */
const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

/** `text` cut at the given code-unit points, never between the halves of a surrogate pair. */
function cutText(text: string, cuts: readonly number[]): string[] {
  const parts: string[] = []
  let at = 0
  for (const raw of [...new Set(cuts.map((c) => (text.length === 0 ? 0 : c % text.length)))].sort((a, b) => a - b)) {
    const cut = raw > 0 && (text.charCodeAt(raw) & 0xfc00) === 0xdc00 ? raw - 1 : raw
    if (cut <= at) continue
    parts.push(text.slice(at, cut))
    at = cut
  }
  parts.push(text.slice(at))
  return parts
}

describe('ndjson properties', () => {
  const stream = fc.record({
    records: fc.array(record, { maxLength: 25 }),
    endings: fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 26, maxLength: 26 }),
    heartbeats: fc.array(fc.constantFrom('', '\n', '\r\n', ' \n', '\t \r\n', '\n\n'), { minLength: 26, maxLength: 26 }),
    bom: fc.boolean(),
    end: fc.constantFrom('trailer', 'newline', 'none'),
  })

  function encode(s: typeof stream extends fc.Arbitrary<infer T> ? T : never): string {
    let out = s.bom ? '\uFEFF' : ''
    s.records.forEach((r, i) => {
      out += s.heartbeats[i]! + JSON.stringify(r)
      // The last record may go without a newline: complete JSON is accepted at end-of-stream.
      if (i < s.records.length - 1 || s.end !== 'none') out += s.endings[i]!
    })
    if (s.end === 'trailer') out += `{"$sluice":"end","count":${s.records.length}}${s.endings[25]!}`
    return out
  }

  test('any chunking of the bytes decodes to the records encoded', async () => {
    await fc.assert(
      fc.asyncProperty(stream, points, async (s, cuts) => {
        const bytes = utf8(encode(s))
        const expected = s.records.map(roundTrip)
        const whole = await collect(decodeNdjson([bytes], { requireEnd: s.end === 'trailer' }))
        expect(whole).toEqual({ items: expected })
        for (const chunks of [chunksAt(bytes, cuts), oneByteAtATime(bytes)]) {
          expect(await collect(decodeNdjson(chunks, { requireEnd: s.end === 'trailer' }))).toEqual(whole)
        }
      }),
      { numRuns: RUNS },
    )
  })

  test('with fatal: true (each chunk decoded as it comes) any chunking decodes like the default', async () => {
    await fc.assert(
      fc.asyncProperty(stream, points, async (s, cuts) => {
        const bytes = utf8(encode(s))
        const options = { requireEnd: s.end === 'trailer' }
        const expected = await collect(decodeNdjson(chunksAt(bytes, cuts), options))
        expect(await collect(decodeNdjson(chunksAt(bytes, cuts), { ...options, fatal: true }))).toEqual(expected)
      }),
      { numRuns: RUNS },
    )
  })

  test('any chunking of the text as strings decodes like the bytes', async () => {
    await fc.assert(
      fc.asyncProperty(stream, points, async (s, cuts) => {
        const input = encode(s)
        const chunks: string[] = []
        let at = 0
        for (const cut of [...new Set(cuts.map((c) => (input.length === 0 ? 0 : c % input.length)))].sort(
          (a, b) => a - b,
        )) {
          chunks.push(input.slice(at, cut))
          at = cut
        }
        chunks.push(input.slice(at))
        expect(await collect(decodeNdjson(chunks))).toEqual({ items: s.records.map(roundTrip) })
      }),
      { numRuns: RUNS },
    )
  })

  test('byte and string chunks mixed decode like the whole body, a bad line reported at the same place', async () => {
    // Bytes wait for their line's end before decoding; a string chunk must first flush them, in order.
    await fc.assert(
      fc.asyncProperty(
        stream,
        points,
        points,
        fc.array(fc.boolean(), { maxLength: 41 }),
        fc.boolean(),
        async (s, textCuts, byteCuts, asBytes, bad) => {
          let input = encode(s)
          if (bad) input = input.replace(/\n/, '\n{oops}\n')
          const parts = cutText(input, textCuts)
          const chunks: (string | Uint8Array)[] = []
          parts.forEach((part, i) => {
            if (asBytes[i] ?? true)
              chunks.push(
                ...chunksAt(
                  utf8(part),
                  byteCuts.map((c) => c + i),
                ),
              )
            else chunks.push(part)
          })
          const whole = await collect(decodeNdjson([utf8(input)], { requireEnd: s.end === 'trailer' }))
          expect(await collect(decodeNdjson(chunks, { requireEnd: s.end === 'trailer' }))).toEqual(whole)
        },
      ),
      { numRuns: RUNS },
    )
  })

  test('a line just under, at or over maxLineBytes is accepted or refused by its bytes under any chunking', async () => {
    const char = fc.constantFrom('a', 'é', '日', '😀')
    await fc.assert(
      fc.asyncProperty(
        fc.array(char, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: -4, max: 4 }),
        points,
        async (chars, delta, cuts) => {
          const line = JSON.stringify(chars.join(''))
          const size = utf8(line).length
          const limit = Math.max(1, size + delta)
          const bytes = utf8(`1\n${line}\n2\n`)
          for (const chunks of [chunksAt(bytes, cuts), oneByteAtATime(bytes)]) {
            const { items, error } = await collect(decodeNdjson(chunks, { maxLineBytes: limit }))
            if (size <= limit) expect({ items, error }).toEqual({ items: [1, chars.join(''), 2] })
            else {
              expect(items).toEqual([1])
              expect(error).toMatchObject({ code: 'LINE_TOO_LONG', limit, line: 2 })
            }
          }
        },
      ),
      { numRuns: RUNS },
    )
  })

  test('a body cut at any byte yields a prefix of the records, then ends or reports the cut', async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.nat(), async (s, at) => {
        // Objects only: a number cut short is still a number, an object cut short is not JSON.
        const wrapped = { ...s, records: s.records.map((r) => ({ r })), end: 'trailer' as const }
        const bytes = utf8(encode(wrapped))
        const cut = bytes.subarray(0, at % (bytes.length + 1))
        const { items, error } = await collect(decodeNdjson([cut], { requireEnd: true }))
        const expected = wrapped.records.map(roundTrip)
        expect(items).toEqual(expected.slice(0, items.length))
        // requireEnd: only a body that holds the whole trailer (its line break aside) ends cleanly.
        if (cut.length >= bytes.length - wrapped.endings[25]!.length) expect(error).toBeUndefined()
        else expect(error).toMatchObject({ code: 'TRUNCATED_STREAM' })
      }),
      { numRuns: RUNS },
    )
  })
})

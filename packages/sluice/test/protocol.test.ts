/**
 * The wire contract, which client and server both import from protocol.ts: the Last-Event-ID rules,
 * and every marker the producer writes read back as that marker by the client's readers (which spell
 * the strings out for size: this is what keeps them and the constants from drifting apart).
 */
import fc from 'fast-check'
import { expect, test } from 'vitest'
import {
  decodeLastEventId,
  END_KEY,
  ENTRY_VALUE,
  encodeLastEventId,
  GAP_VALUE,
  type Gap,
  isNdjsonLive,
  isSendableId,
  isSseLive,
  LIVE_JSON,
  LIVE_VALUE,
  NDJSON_LIVE_LINE,
  ndjsonEndLine,
  ndjsonEndOf,
  ndjsonEntryLine,
  ndjsonFeedLineOf,
  ndjsonGapLine,
  SSE_LIVE_BLOCK,
  SSE_LIVE_EVENT,
  sseGapData,
  sseGapOf,
} from '../src/protocol.js'
import { propertyRuns } from './support/arbitraries.js'

test('an id with CR, LF or NUL cannot be sent as Last-Event-ID; any other can', () => {
  expect(['', '42', 'a b', '日本', 'ü'].every(isSendableId)).toBe(true)
  expect(['a\rb', 'a\nb', 'a\0b', '\r\n'].some(isSendableId)).toBe(false)
})

/**
 * Any string of Unicode scalar values, as fc.string({ unit: 'binary' }) gives, without its one-off cost
 * (fast-check maps all 1.1 million code points when that unit is first made: about 2 s).
 */
const anyText = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })), { maxLength: 24 })
  .map((codePoints) => String.fromCodePoint(...codePoints))

test('every sendable id survives encode, a Headers round trip and decode unchanged', () => {
  fc.assert(
    fc.property(anyText, (id) => {
      fc.pre(isSendableId(id) && id.trim() === id)
      const headers = new Headers({ 'Last-Event-ID': encodeLastEventId(id) })
      expect(decodeLastEventId(headers.get('Last-Event-ID')!)).toBe(id)
    }),
    { numRuns: propertyRuns(100) },
  )
})

test('a Last-Event-ID value that is not UTF-8 bytes is returned as it came', () => {
  expect(decodeLastEventId('caf\xe9')).toBe('caf\xe9') // Latin-1 bytes from some other client
  expect(decodeLastEventId('日本')).toBe('日本') // already decoded by a runtime
  expect(decodeLastEventId('\xe6\x97\xa5')).toBe('日')
})

test('every marker the producer writes is read back as that marker, built from the shared constants', () => {
  expect(LIVE_JSON).toBe(JSON.stringify({ [END_KEY]: LIVE_VALUE }))
  expect(NDJSON_LIVE_LINE).toBe(`${LIVE_JSON}\n`)
  expect(SSE_LIVE_BLOCK).toBe(`event: ${SSE_LIVE_EVENT}\ndata: ${LIVE_JSON}\n\n`)
  expect(isNdjsonLive(JSON.parse(NDJSON_LIVE_LINE))).toBe(true)
  expect(isSseLive(SSE_LIVE_EVENT, LIVE_JSON)).toBe(true)
  expect(ndjsonEndOf(JSON.parse(ndjsonEndLine(3)))).toEqual({ count: 3 })
  expect(ndjsonEndOf({ [END_KEY]: ENTRY_VALUE })).toBeUndefined()
  expect(ndjsonFeedLineOf(JSON.parse(ndjsonEntryLine('7', '{"n":1}')))).toEqual({ id: '7', data: { n: 1 } })
  const gap: Gap = { reason: 'trimmed', lastEventId: '3', resumeFrom: null }
  expect(JSON.parse(ndjsonGapLine(gap))[END_KEY]).toBe(GAP_VALUE)
  expect(ndjsonFeedLineOf(JSON.parse(ndjsonGapLine(gap)))).toEqual({ gap })
  expect(sseGapOf(sseGapData(gap))).toEqual(gap)
})

/** The wire contract's Last-Event-ID rules, which client and server both import from protocol.ts. */
import fc from 'fast-check'
import { expect, test } from 'vitest'
import { decodeLastEventId, encodeLastEventId, isSendableId } from '../src/protocol.js'
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

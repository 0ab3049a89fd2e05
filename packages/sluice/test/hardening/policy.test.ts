/**
 * The reconnection delay under whatever a server can send (`Retry-After`, SSE `retry:`) and
 * whatever a policy allows: never below the floor, never above the ceiling, always a number.
 */
import fc from 'fast-check'
import { expect, test } from 'vitest'
import { delayFor, parseRetryAfter, resolveRetry } from '../../src/retry.js'
import { recordFigure } from '../support/figures.js'

const runs = Number(process.env.SLUICE_FUZZ_RUNS ?? 300)

/** A policy with any mix of fields set; `minDelayMs <= maxDelayMs` when both are given. */
const policy = fc
  .record(
    {
      initialDelayMs: fc.nat(100_000),
      maxDelayMs: fc.nat(100_000),
      minDelayMs: fc.nat(100_000),
      factor: fc.double({ min: 1, max: 10, noNaN: true }),
      maxAttempts: fc.nat(100),
      jitter: fc.boolean(),
    },
    { requiredKeys: [] },
  )
  .filter((p) => p.minDelayMs === undefined || p.maxDelayMs === undefined || p.minDelayMs <= p.maxDelayMs)

/** What a server hint can become: nothing, zero, huge, a fraction, Infinity, or garbage. */
const hint = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(0, 1, Infinity, Number.MAX_SAFE_INTEGER, 365 * 24 * 3600 * 1000),
  fc.double({ min: 0, noNaN: false }),
  fc.nat(),
)

test('every delay lies within [floor, ceiling] and is a finite number, whatever the hint and the attempt', () => {
  let shortest = Infinity
  fc.assert(
    fc.property(
      policy,
      hint,
      fc.integer({ min: 1, max: 10_000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (p, h, attempt, random) => {
        const resolved = resolveRetry(p)
        const delay = delayFor(attempt, resolved, h, () => random)
        const floor = Math.min(resolved.minDelayMs, resolved.maxDelayMs)
        expect(Number.isFinite(delay)).toBe(true)
        expect(delay).toBeGreaterThanOrEqual(floor)
        expect(delay).toBeLessThanOrEqual(resolved.maxDelayMs)
        if (resolved.minDelayMs === 100 && resolved.maxDelayMs >= 100) shortest = Math.min(shortest, delay)
      },
    ),
    { numRuns: runs * 3 },
  )
  recordFigure({
    scenario:
      'policy: reconnection delay for any policy, server hint (0, NaN, Infinity, a year) and attempt (1 to 10,000)',
    cases: runs * 3,
    detail: `every delay finite and within [minDelayMs, maxDelayMs]; shortest under the default 100 ms floor: ${shortest} ms`,
  })
})

test('a retry: 0 or Retry-After: 0 storm waits at least minDelayMs every time', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 1000 }), (min, attempt) => {
      const resolved = resolveRetry({ minDelayMs: min, maxDelayMs: Math.max(min, 30_000) })
      expect(delayFor(attempt, resolved, 0)).toBe(min)
      expect(delayFor(attempt, resolved, parseRetryAfter('0'))).toBe(min)
    }),
    { numRuns: runs },
  )
})

test('Retry-After of any size, in seconds or as an HTTP-date, is capped by maxDelayMs', () => {
  const now = Date.UTC(2026, 0, 1)
  fc.assert(
    fc.property(
      fc.oneof(
        fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String),
        fc.date({ min: new Date(now), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toUTCString()),
      ),
      fc.integer({ min: 100, max: 3_600_000 }),
      (header, max) => {
        const ms = parseRetryAfter(header, now)
        expect(ms).toBeDefined()
        expect(delayFor(1, resolveRetry({ maxDelayMs: max }), ms)).toBeLessThanOrEqual(max)
      },
    ),
    { numRuns: runs },
  )
})

test('a Retry-After that is no delay (negative, fractional, text, a past or malformed date) is ignored, not a zero wait', () => {
  for (const header of [
    '-5',
    '1.5',
    'soon',
    '',
    '  ',
    '1e3',
    '0x10',
    'Wed, 99 Foo 2026 00:00:00 GMT',
    'NaN',
    'Infinity',
  ]) {
    expect(parseRetryAfter(header), header).toBeUndefined()
  }
  expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:00 GMT')).toBe(0) // a past date: retry now (then the floor applies)
})

test('parseRetryAfter on arbitrary text never throws and gives nothing or a delay of at least 0', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.string({ unit: 'binary' }),
        fc.nat().map(String),
        fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      ),
      (header) => {
        const ms = parseRetryAfter(header)
        if (ms !== undefined) expect(ms).toBeGreaterThanOrEqual(0)
      },
    ),
    { numRuns: runs * 3 },
  )
})

test('a floor above the ceiling is refused when both are given', () => {
  expect(() => resolveRetry({ minDelayMs: 500, maxDelayMs: 100 })).toThrow(RangeError)
})

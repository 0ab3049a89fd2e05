import { describe, expect, test } from 'vitest'
import { DEFAULT_RETRY, delayFor, isIdempotent, isRetryableStatus, parseRetryAfter, resolveRetry } from '../src/retry.js'

describe('delayFor', () => {
  const policy = resolveRetry({ initialDelayMs: 100, maxDelayMs: 1000, minDelayMs: 10, factor: 2, jitter: false })

  test('grows the ceiling exponentially per failed attempt, up to maxDelayMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => delayFor(attempt, policy, undefined))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ])
  })

  test('full jitter spreads delays uniformly below the ceiling', () => {
    const jittered = resolveRetry({ initialDelayMs: 100, maxDelayMs: 1000, minDelayMs: 0 })
    expect(delayFor(3, jittered, undefined, () => 0.5)).toBe(200)
    expect(delayFor(3, jittered, undefined, () => 0)).toBe(0)
    expect(delayFor(3, jittered, undefined, () => 0.999)).toBeCloseTo(399.6)
  })

  test('a server hint replaces the backoff but stays within [minDelayMs, maxDelayMs]', () => {
    expect(delayFor(1, policy, 250)).toBe(250)
    expect(delayFor(1, policy, 0)).toBe(10) // a retry: 0 storm is floored
    expect(delayFor(1, policy, 365 * 24 * 3600 * 1000)).toBe(1000) // Retry-After of a year is capped
  })

  test('defaults are sane', () => {
    expect(resolveRetry(undefined)).toEqual(DEFAULT_RETRY)
    expect(resolveRetry(true)).toEqual(DEFAULT_RETRY)
    expect(DEFAULT_RETRY.minDelayMs).toBeGreaterThan(0)
  })

  test('bad policies are RangeErrors', () => {
    expect(() => resolveRetry({ initialDelayMs: -1 })).toThrow(RangeError)
    expect(() => resolveRetry({ factor: 0.5 })).toThrow(RangeError)
    expect(() => resolveRetry({ maxAttempts: Number.NaN })).toThrow(RangeError)
  })
})

describe('parseRetryAfter', () => {
  test('reads delay-seconds', () => {
    expect(parseRetryAfter('120')).toBe(120_000)
    expect(parseRetryAfter(' 0 ')).toBe(0)
  })
  test('reads an HTTP-date relative to now', () => {
    const now = Date.parse('Tue, 24 Nov 2026 10:00:00 GMT')
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Tue, 24 Nov 2026 09:00:00 GMT', now)).toBe(0)
  })
  test('ignores absent or malformed values', () => {
    expect(parseRetryAfter(null)).toBeUndefined()
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter('-5')).toBeUndefined()
  })
})

test('only 408, 429 and 5xx are retryable statuses', () => {
  expect([408, 429, 500, 502, 503, 599].every(isRetryableStatus)).toBe(true)
  expect([400, 401, 403, 404, 409, 410, 422, 600].some(isRetryableStatus)).toBe(false)
})

test('POST and PATCH are not idempotent; GET, PUT and DELETE are', () => {
  expect(['GET', 'get', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'].every(isIdempotent)).toBe(true)
  expect(['POST', 'PATCH', 'post'].some(isIdempotent)).toBe(false)
})

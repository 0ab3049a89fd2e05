import { describe, expect, test } from 'vitest'
import { HttpError, NetworkError, ParseError, type SluiceError, TimeoutError } from '../src/errors.js'
import {
  DEFAULT_RETRY,
  delayFor,
  isIdempotent,
  isRetryableStatus,
  parseRetryAfter,
  type RetryHistory,
  resolveRetry,
  retryDelay,
} from '../src/retry.js'

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

  test('a policy that is not an object, true or false is a TypeError naming the option', () => {
    for (const bad of [null, 'yes', 3]) {
      expect(() => resolveRetry(bad as never)).toThrow(
        new TypeError(`Cannot use retry: expected a policy object, true or false, got ${String(bad)}`),
      )
    }
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

describe('retryDelay: the retry decision (failure, history, policy) -> delay or throw', () => {
  const policy = resolveRetry({
    initialDelayMs: 100,
    maxDelayMs: 1000,
    minDelayMs: 10,
    factor: 2,
    maxAttempts: 3,
    jitter: false,
  })
  const network = new NetworkError(new Error('reset'))
  const position = { line: 1, offset: 0, snippet: '{' }
  const table: {
    name: string
    failure: SluiceError
    history: RetryHistory
    policy?: typeof policy | undefined
    expected: number | undefined
  }[] = [
    {
      name: 'a network error is retried after the backoff',
      failure: network,
      history: { failures: 1, resumable: true },
      expected: 100,
    },
    {
      name: 'the backoff grows with failures in a row',
      failure: network,
      history: { failures: 2, resumable: true },
      expected: 200,
    },
    {
      name: 'maxAttempts failures in a row are final',
      failure: network,
      history: { failures: 3, resumable: true },
      expected: undefined,
    },
    {
      name: 'no policy (retry: false, a POST): final',
      failure: network,
      history: { failures: 1, resumable: true },
      policy: undefined,
      expected: undefined,
    },
    {
      name: 'a stream that cannot resume: final',
      failure: network,
      history: { failures: 1, resumable: false },
      expected: undefined,
    },
    {
      name: 'timeouts are retried',
      failure: new TimeoutError('idle', 50),
      history: { failures: 1, resumable: true },
      expected: 100,
    },
    {
      name: 'a 503 is retried',
      failure: new HttpError(503, '', ''),
      history: { failures: 1, resumable: true },
      expected: 100,
    },
    {
      name: "a 503's Retry-After replaces the backoff",
      failure: new HttpError(503, '', '', 700),
      history: { failures: 2, resumable: true },
      expected: 700,
    },
    {
      name: 'Retry-After is capped at maxDelayMs',
      failure: new HttpError(429, '', '', 60_000),
      history: { failures: 1, resumable: true },
      expected: 1000,
    },
    {
      name: 'a 401 is final',
      failure: new HttpError(401, '', ''),
      history: { failures: 1, resumable: true },
      expected: undefined,
    },
    {
      name: 'a data error is final',
      failure: new ParseError(position),
      history: { failures: 1, resumable: true },
      expected: undefined,
    },
    {
      name: "SSE retry: sets the first attempt's delay",
      failure: network,
      history: { failures: 1, resumable: true, serverRetryMs: 300 },
      expected: 300,
    },
    {
      name: 'after repeated failures the backoff takes over from retry:',
      failure: network,
      history: { failures: 2, resumable: true, serverRetryMs: 300 },
      expected: 200,
    },
    {
      name: 'retry: 0 is floored at minDelayMs',
      failure: network,
      history: { failures: 1, resumable: true, serverRetryMs: 0 },
      expected: 10,
    },
    {
      name: 'Retry-After wins over retry:',
      failure: new HttpError(503, '', '', 50),
      history: { failures: 1, resumable: true, serverRetryMs: 300 },
      expected: 50,
    },
    {
      name: 'verdict true retries a 401',
      failure: new HttpError(401, '', ''),
      history: { failures: 1, resumable: true, verdict: true },
      expected: 100,
    },
    {
      name: 'verdict false stops a 503',
      failure: new HttpError(503, '', ''),
      history: { failures: 1, resumable: true, verdict: false },
      expected: undefined,
    },
    {
      name: 'verdict { delayMs } sets the delay',
      failure: new HttpError(401, '', ''),
      history: { failures: 1, resumable: true, verdict: { delayMs: 40 } },
      expected: 40,
    },
    {
      name: 'verdict { delayMs } stays within the bounds',
      failure: network,
      history: { failures: 1, resumable: true, verdict: { delayMs: 0 } },
      expected: 10,
    },
    {
      name: 'a verdict cannot lift maxAttempts',
      failure: network,
      history: { failures: 3, resumable: true, verdict: true },
      expected: undefined,
    },
    {
      name: 'a verdict cannot resume what cannot resume',
      failure: network,
      history: { failures: 1, resumable: false, verdict: true },
      expected: undefined,
    },
  ]
  for (const row of table) {
    test(row.name, () => {
      expect(retryDelay(row.failure, row.history, 'policy' in row ? row.policy : policy, () => 0.5)).toBe(row.expected)
    })
  }

  test('with jitter, the delay is spread below the ceiling', () => {
    const jittered = resolveRetry({ initialDelayMs: 100, minDelayMs: 0 })
    expect(retryDelay(network, { failures: 2, resumable: true }, jittered, () => 0.25)).toBe(50)
  })
})

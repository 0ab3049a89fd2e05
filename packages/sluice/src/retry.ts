/**
 * Reconnection policy as pure functions: exponential backoff with full jitter, the server's
 * `Retry-After` and SSE `retry:` hints, and which failures are worth another attempt.
 *
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/ (full jitter)
 * @module
 */
import { SluiceError } from './errors.js'

/** How a resilient stream reconnects. */
export interface RetryPolicy {
  /** Ceiling of the first delay, in ms. Default 500. */
  initialDelayMs?: number
  /** Ceiling of any delay, server hints included, in ms. Default 30 000. */
  maxDelayMs?: number
  /** No delay is shorter than this, whatever the server says (a `retry: 0` storm), in ms. Default 100. */
  minDelayMs?: number
  /** Growth of the ceiling per failed attempt. Default 2. */
  factor?: number
  /** Attempts in a row that deliver no record before giving up. Default 10. */
  maxAttempts?: number
  /** Spread delays uniformly below the ceiling ("full jitter"), so clients do not reconnect in lockstep. Default `true`. */
  jitter?: boolean
}

/** The policy with every default filled in. */
export type ResolvedRetryPolicy = Required<RetryPolicy>

export const DEFAULT_RETRY: ResolvedRetryPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  minDelayMs: 100,
  factor: 2,
  maxAttempts: 10,
  jitter: true,
}

/** Fills in and checks a policy. */
export function resolveRetry(policy: RetryPolicy | true | undefined): ResolvedRetryPolicy {
  // From plain JavaScript: null, a string or a number would spread into nonsense or throw deep inside.
  if (policy !== true && policy !== undefined && (typeof policy !== 'object' || policy === null)) {
    throw new TypeError(`Cannot use retry: expected a policy object, true or false, got ${String(policy)}`)
  }
  const resolved = { ...DEFAULT_RETRY, ...(policy === true || policy === undefined ? {} : policy) }
  for (const key of ['initialDelayMs', 'maxDelayMs', 'minDelayMs', 'factor', 'maxAttempts'] as const) {
    const value = resolved[key]
    // NaN is not >= 0 either.
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new RangeError(`Cannot use retry.${key}: expected a non-negative number, got ${String(value)}`)
    }
  }
  if (resolved.factor < 1) throw new RangeError(`Cannot use retry.factor: expected at least 1, got ${resolved.factor}`)
  // Both given and contradictory: no delay could honour both. (A ceiling given alone below the
  // default floor lowers the floor with it.)
  if (
    typeof policy === 'object' &&
    policy.minDelayMs !== undefined &&
    policy.maxDelayMs !== undefined &&
    policy.minDelayMs > policy.maxDelayMs
  ) {
    throw new RangeError(
      `Cannot use retry.minDelayMs ${policy.minDelayMs}: above retry.maxDelayMs ${policy.maxDelayMs}`,
    )
  }
  return resolved
}

/**
 * The delay before attempt `attempt + 1`, after `attempt` failed attempts in a row (1-based).
 * A server hint (`Retry-After`, or SSE `retry:` for the first reconnect) replaces the backoff; every
 * delay is clamped to `[minDelayMs, maxDelayMs]`.
 */
export function delayFor(
  attempt: number,
  policy: ResolvedRetryPolicy,
  hintMs: number | undefined,
  random: () => number = Math.random,
): number {
  let delay: number
  if (hintMs !== undefined && !Number.isNaN(hintMs)) {
    delay = hintMs
  } else {
    // factor ** attempt overflows to Infinity after ~1000 attempts, and 0 * Infinity is NaN, which
    // setTimeout reads as 1 ms: a zero initial delay stays zero (then the floor applies).
    const growth = policy.initialDelayMs === 0 ? 0 : policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1)
    const ceiling = Math.min(policy.maxDelayMs, growth)
    delay = policy.jitter ? random() * ceiling : ceiling
  }
  return Math.min(policy.maxDelayMs, Math.max(policy.minDelayMs, delay))
}

/** What the reconnect loop knows when an attempt has failed. */
export interface RetryHistory {
  /** Failed attempts in a row, this one included: an attempt that delivered a record starts a new run at 1. */
  failures: number
  /** Whether another attempt can resume without replaying delivered records (nothing delivered yet, or a resume id). */
  resumable: boolean
  /** The reconnection time from the last SSE `retry:` field (HTML §9.2.6), if any. */
  serverRetryMs?: number | undefined
  /** The caller's `shouldRetry` answer, which replaces the default classification ({@link isRetryable}). */
  verdict?: boolean | { delayMs: number } | undefined
}

/**
 * The retry decision: the delay in ms before the next attempt, or `undefined` when `failure` is
 * final and must be thrown. `policy` is `undefined` where nothing may be re-sent (`retry: false`,
 * or a non-idempotent request without an explicit `retry`).
 *
 * A failure is retried while the stream can resume, the failure may go away (or the caller's
 * verdict says so), and fewer than `maxAttempts` attempts in a row failed. The delay is the
 * caller's, else the server's (`Retry-After`, or SSE `retry:` for the first attempt of a run: after
 * repeated failures the backoff takes over), else the backoff; clamped to the policy's bounds.
 */
export function retryDelay(
  failure: SluiceError,
  history: RetryHistory,
  policy: ResolvedRetryPolicy | undefined,
  random: () => number = Math.random,
): number | undefined {
  const { failures, verdict } = history
  const retries = verdict === undefined ? isRetryable(failure) : verdict !== false
  if (policy === undefined || !history.resumable || !retries || failures >= policy.maxAttempts) return undefined
  const hint =
    typeof verdict === 'object'
      ? verdict.delayMs
      : ((failure as { retryAfterMs?: number }).retryAfterMs ?? (failures === 1 ? history.serverRetryMs : undefined))
  return delayFor(failures, policy, hint, random)
}

/**
 * Reads `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. `undefined` when absent
 * or malformed.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // An HTTP-date names its day and month (IMF-fixdate and the obsolete forms): Date.parse alone takes "-5" too.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

/** Statuses worth retrying (RFC 9110 §15): request timeout, too many requests, and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599)
}

/** Whether a failure may go away on another attempt. Data errors (bad JSON, schema, line length) do not. */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof SluiceError)) return false
  if (error.code === 'HTTP_ERROR') return isRetryableStatus((error as SluiceError & { status: number }).status)
  return ['NETWORK_ERROR', 'CONNECT_TIMEOUT', 'IDLE_TIMEOUT', 'STALL_TIMEOUT', 'TRUNCATED_STREAM'].includes(error.code)
}

/** Methods that may be sent again without a second effect (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'].includes(method.toUpperCase())
}

/**
 * The portable suite's whole test framework: `test()` registers, `expect()` asserts, and each
 * runtime's entry (`entry.vitest.ts`, `entry.deno.ts`, `entry.bun.ts`) hands the registered tests
 * to its own runner. Web globals only, so the same suite files load in Node, Chromium, Deno and Bun.
 *
 * @module
 */

/** What a runtime can offer a test beyond the language itself. */
export interface Runtime {
  /** `node`, `chromium`, `deno` or `bun`: for messages only, never to branch a test's claim on. */
  name: string
  /** Base URL of the loopback fixture server (`fixture-server.mjs`), started by the runner. */
  serverUrl?: string
  /**
   * The `fetch` the resume scenarios give their clients through the `fetch` option; unset, the
   * runtime's global. entry.node-h2.ts sets undici's fetch over HTTP/2 (`Agent({ allowH2: true })`).
   */
  fetch?: typeof fetch
  /** Serves a fetch handler on 127.0.0.1 with the runtime's own server (`Deno.serve`, `Bun.serve`). */
  serve?: (handler: (request: Request) => Response | Promise<Response>) => Promise<Served>
}

/** A server started by {@link Runtime.serve}. */
export interface Served {
  url: string
  close(): Promise<void>
}

/** What a test needs from the runtime; a runtime without it does not register the test. */
export type Need = 'server' | 'serve'

/** One registered test. */
export interface PortableTest {
  name: string
  needs: readonly Need[]
  fn: () => Promise<void> | void
}

/** Every test registered so far, in order. */
const registry: PortableTest[] = []

/** The runtime the entry configured; tests read it when they run, never at import. */
export const runtime: Runtime = { name: 'unknown' }

/** Registers a test. Names are claims ("ndjson decodes ..."). */
export function test(name: string, fn: () => Promise<void> | void, needs: readonly Need[] = []): void {
  if (registry.some((t) => t.name === name)) throw new Error(`duplicate portable test name: ${name}`)
  registry.push({ name, needs, fn })
}

/** The tests this runtime can run: those whose needs it meets. */
export function runnable(): PortableTest[] {
  return registry.filter((t) => t.needs.every((need) => (need === 'server' ? runtime.serverUrl : runtime.serve)))
}

/** The fixture server's URL for `path`; throws when the runner started none (the test then fails, loudly). */
export function serverUrl(path: string): string {
  if (!runtime.serverUrl) throw new Error('no fixture server: the runner must set runtime.serverUrl')
  return new URL(path, runtime.serverUrl).href
}

/** Thrown by a failed assertion. */
class AssertionError extends Error {
  override name = 'AssertionError'
}

/** Fails the test with `message`. */
export function fail(message: string): never {
  throw new AssertionError(message)
}

/** Assertions on one value, named like vitest's so the suite reads familiar. */
export function expect<T>(actual: T, label = 'value') {
  return {
    toBe(expected: T): void {
      if (!Object.is(actual, expected)) fail(`${label}: expected ${show(expected)}, got ${show(actual)}`)
    },
    toEqual(expected: unknown): void {
      const path = difference(actual, expected, '')
      if (path !== undefined) {
        fail(`${label}: differs at ${path || '(root)'}\n  expected ${show(expected)}\n  got      ${show(actual)}`)
      }
    },
    toBeLessThanOrEqual(limit: number): void {
      if (!(typeof actual === 'number' && actual <= limit))
        fail(`${label}: expected at most ${limit}, got ${show(actual)}`)
    },
    toBeGreaterThanOrEqual(limit: number): void {
      if (!(typeof actual === 'number' && actual >= limit))
        fail(`${label}: expected at least ${limit}, got ${show(actual)}`)
    },
    toContain(part: string): void {
      if (typeof actual !== 'string' || !actual.includes(part))
        fail(`${label}: expected ${show(actual)} to contain ${show(part)}`)
    },
  }
}

/**
 * Runs `fn` and returns what it threw, checking the fields given (`code`, `name`, `line`, ...).
 * Fails when `fn` does not throw.
 */
export async function expectError(
  fn: () => unknown,
  fields: Record<string, unknown>,
): Promise<Error & Record<string, unknown>> {
  let thrown: unknown
  let threw = false
  try {
    await fn()
  } catch (error) {
    threw = true
    thrown = error
  }
  if (!threw) fail(`expected an error with ${show(fields)}, but nothing was thrown`)
  if (!(thrown instanceof Error)) fail(`expected an Error, got ${show(thrown)}`)
  const error = thrown as Error & Record<string, unknown>
  for (const [key, value] of Object.entries(fields)) {
    if (difference(error[key], value, '') !== undefined) {
      fail(`error.${key}: expected ${show(value)}, got ${show(error[key])} (${error.name}: ${error.message})`)
    }
  }
  return error
}

/**
 * Everything an async iterable or a `ReadableStream` yields, as an array. Streams are read with a
 * reader: not every browser makes `ReadableStream` async-iterable.
 */
export async function collect<T>(source: AsyncIterable<T> | ReadableStream<T>): Promise<T[]> {
  const out: T[] = []
  if ('getReader' in source) {
    const reader = source.getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) out.push(r.value)
    return out
  }
  for await (const item of source) out.push(item)
  return out
}

/** Waits for `condition` to hold, polling every 10 ms for at most `timeoutMs`; fails with `what` when it does not. */
export async function eventually(
  condition: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The first path where `actual` and `expected` differ structurally, or `undefined` when they are equal. */
function difference(actual: unknown, expected: unknown, path: string): string | undefined {
  if (Object.is(actual, expected)) return undefined
  if (typeof actual !== 'object' || typeof expected !== 'object' || actual === null || expected === null) return path
  if (Array.isArray(actual) !== Array.isArray(expected)) return path
  if (Object.getPrototypeOf(actual) !== Object.getPrototypeOf(expected)) return path
  if (ArrayBuffer.isView(actual) && ArrayBuffer.isView(expected)) {
    const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength)
    const b = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength)
    return a.length === b.length && a.every((byte, i) => byte === b[i]) ? undefined : path
  }
  const a = actual as Record<string, unknown>
  const b = expected as Record<string, unknown>
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  for (const key of keys) {
    // An absent key and a key holding `undefined` are alike, as in vitest's toEqual.
    const found = difference(a[key], b[key], `${path}.${key}`)
    if (found !== undefined) return found
  }
  return undefined
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 300 ? `${value.slice(0, 300)}…` : value)
  if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)})`
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
    if (text === undefined) return String(value)
    return text.length > 300 ? `${text.slice(0, 300)}…` : text
  } catch {
    return String(value)
  }
}

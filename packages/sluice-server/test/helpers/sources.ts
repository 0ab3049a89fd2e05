/** Record sources for tests that count what was pulled and see when they are released. */

/** A deferred promise. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/**
 * An endless generator of `{ seq, pad }` records that counts how many were pulled and resolves
 * `released` when its `finally` runs (a client going away must get there).
 */
export function countingSource(padBytes = 0): {
  source: AsyncGenerator<{ seq: number; pad: string }>
  pulled: () => number
  released: Promise<void>
  isReleased: () => boolean
} {
  let pulled = 0
  let isReleased = false
  const done = deferred()
  const pad = 'x'.repeat(padBytes)
  async function* generate() {
    try {
      for (let seq = 0; seq < 10_000_000; seq++) {
        pulled++
        yield { seq, pad }
      }
    } finally {
      isReleased = true
      done.resolve()
    }
  }
  return { source: generate(), pulled: () => pulled, released: done.promise, isReleased: () => isReleased }
}

/** A generator that yields `first` records and then waits until `release` is called. */
export function stallingSource<T>(first: T[]): {
  source: AsyncGenerator<T>
  released: Promise<void>
  proceed: () => void
} {
  const done = deferred()
  const gate = deferred()
  async function* generate() {
    try {
      yield* first
      await gate.promise
    } finally {
      done.resolve()
    }
  }
  return { source: generate(), released: done.promise, proceed: () => gate.resolve() }
}

/** Lets queued microtasks and stream pulls run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setTimeout(r, 0))
}

/** The text of every chunk of a byte stream, in order. */
export async function chunksOf(body: ReadableStream<Uint8Array>): Promise<string[]> {
  const text = new TextDecoder()
  const out: string[] = []
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return out
    out.push(text.decode(value))
  }
}

/**
 * `first` records, then nothing until `signal` aborts (the client left), like a live feed with
 * nothing new; `released` resolves when its `finally` runs.
 */
export function idleSource<T>(first: T[], signal: AbortSignal): { source: AsyncGenerator<T>; released: Promise<void> } {
  const done = deferred()
  async function* generate() {
    try {
      yield* first
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
    } finally {
      done.resolve()
    }
  }
  return { source: generate(), released: done.promise }
}

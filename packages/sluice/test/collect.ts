/**
 * Test helpers: drain an iterator or a stream into the records it gave and the error it ended with,
 * and sources that count what was pulled from them.
 */

/** What a decoder delivered: every record before the end, and the error it ended with, if any. */
export interface Outcome<T> {
  items: T[]
  error?: unknown
}

/** Drains an async iterable, keeping the records delivered before an error. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<Outcome<T>> {
  const items: T[] = []
  try {
    for await (const item of iterable) items.push(item)
  } catch (error) {
    return { items, error }
  }
  return { items }
}

/** Drains a ReadableStream, keeping the records delivered before an error. */
export async function collectStream<T>(stream: ReadableStream<T>): Promise<Outcome<T>> {
  const items: T[] = []
  const reader = stream.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { items }
      items.push(value)
    }
  } catch (error) {
    return { items, error }
  }
}

/** A ReadableStream over fixed chunks, one per pull. */
export function streamOf<C>(chunks: readonly C[]): ReadableStream<C> {
  let i = 0
  return new ReadableStream<C>(
    {
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]!)
        else controller.close()
      },
    },
    { highWaterMark: 0 },
  )
}

/** An endless byte stream that counts pulls and bytes handed out, and records whether it was cancelled. */
export function endlessStream(chunk: Uint8Array, highWaterMark = 0) {
  const state = { pulls: 0, bytes: 0, cancelled: false, reason: undefined as unknown }
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        state.pulls++
        state.bytes += chunk.length
        controller.enqueue(chunk)
      },
      cancel(reason) {
        state.cancelled = true
        state.reason = reason
      },
    },
    { highWaterMark },
  )
  return { stream, state }
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

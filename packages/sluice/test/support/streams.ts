/**
 * What the tests of `ndjson()` / `sse()` share: a retry policy that waits next to nothing, and the
 * `seq` of each record a stream delivers.
 */

/** Retries after 1-5 ms: the tests wait for no backoff. */
export const fast = { initialDelayMs: 1, maxDelayMs: 5, minDelayMs: 0 }

/** `[0, 1, ..., n - 1]` */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/**
 * The `seq` of every record of `stream`, from ndjson() records or sse() events carrying JSON data,
 * `perRecord` awaited after each (a slow consumer).
 */
export async function seqs(stream: AsyncIterable<unknown>, perRecord?: () => Promise<void>): Promise<number[]> {
  const out: number[] = []
  for await (const item of stream) {
    const record = (
      typeof (item as { data?: unknown }).data === 'object' ? (item as { data: unknown }).data : item
    ) as { seq: number }
    out.push(record.seq)
    await perRecord?.()
  }
  return out
}

/**
 * The demo's one producer: a loop that publishes a metrics sample into the feed at the current
 * rate, whoever reads it. Every stream the API serves is a reader of that feed.
 */
import type { Feed } from 'sluice-server'
import { metricAt } from '../src/metric.js'

/** The feed key the samples go to. */
export const METRICS = 'metrics'

/**
 * Samples the feed keeps (its `maxLen`): 2,000, about 1.4 MB in a memoryFeed. That is 250 s at the
 * default 8/s and 10 s at the API's top rate (200/s): longer than the page's longest way back
 * (idle timeout 2.5 s, then retries of at most 3 s), and more than the 240 points a page draws.
 */
export const HISTORY = 2_000

/**
 * Whose turn it is to publish, and at which `seq`. Alone (`npm run demo`) it is always this
 * process's; in the cluster, the instance holding a lease in Redis (cluster/redis.ts).
 */
export interface Turn {
  /** The `seq` to publish next, or `undefined` when another instance publishes. */
  next(): Promise<number | undefined>
  /** `seq` is in the feed: the next turn publishes `seq + 1`. */
  published(seq: number): Promise<void>
}

/** A {@link Turn} that is always this process's, counting from 0. */
export function soleTurn(): Turn {
  let seq = 0
  return {
    next: async () => seq,
    published: async (done) => {
      seq = done + 1
    },
  }
}

/** Options of {@link publishMetrics}. */
export interface PublisherOptions {
  /** Records per second, read before each wait (the rate control and the slow fault change it). */
  rate: () => number
  /** The series' start: sample `seq` stands for second `seq` after it (see metricAt). */
  startedAt: number
  turn: Turn
  /** Stops the loop. */
  signal: AbortSignal
  /** A publish that failed (the store unreachable): the same `seq` is tried again on the next tick. */
  onError?: (error: unknown) => void
}

/**
 * Publishes sample after sample into `feed` until `signal` aborts. Each publish carries the msgId
 * `metric-<seq>`, so a publish retried after a timeout, or repeated by an instance taking over
 * the turn, never writes a sample twice. Returns `wake`, which ends the current wait (the rate
 * changed: the next sample follows the new rate at once).
 */
export function publishMetrics(feed: Feed, options: PublisherOptions): () => void {
  const { rate, startedAt, turn, signal } = options
  let wake: (() => void) | undefined
  const tick = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        wake = undefined
        resolve()
      }
      const timer = setTimeout(done, 1000 / rate())
      signal.addEventListener('abort', done, { once: true })
      wake = done
    })
  void (async () => {
    while (!signal.aborted) {
      await tick()
      if (signal.aborted) return
      try {
        const seq = await turn.next()
        if (seq === undefined) continue
        await feed.publish(METRICS, metricAt(seq, startedAt), { msgId: `metric-${seq}` })
        await turn.published(seq)
      } catch (error) {
        if (!signal.aborted) options.onError?.(error)
      }
    }
  })()
  return () => wake?.()
}

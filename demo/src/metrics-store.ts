/**
 * The demo's shared state: the live series folded by `createStore` (sluice/store), one store per format,
 * shared by every tab of the origin (one streaming connection however many dashboards and React pages
 * are open). Both pages (main.ts, react-page.ts) render from it.
 */
import { type Gap, ndjson, type RecordStream, type RetryInfo, type SluiceError, type StreamState, sse } from 'sluice'
import { createStore, keepLast, type Store } from 'sluice/store'
import { Metric } from './metric.js'

export type Format = 'ndjson' | 'sse'

/** The folded state: a window for the charts, and what the fold saw of the ids (each must be the last + 1). */
export interface MetricsState {
  /** The last samples, oldest first, for the charts and the endpoint table. */
  recent: Metric[]
  /** Records folded, and the first and last id. */
  count: number
  first: number | undefined
  last: number | undefined
  /** Records whose id was not the last + 1 (a skipped or repeated record). */
  gaps: number
  lastGap: { expected: number; got: number } | undefined
}

export const MAX_POINTS = 240

const initial: MetricsState = { recent: [], count: 0, first: undefined, last: undefined, gaps: 0, lastGap: undefined }

/**
 * A pure fold: every id is checked against the one before, so `gaps` counts any loss or duplicate.
 * The first can be any id: the feed's history starts at the oldest sample it still holds.
 */
export function foldMetric(state: MetricsState, metric: Metric): MetricsState {
  const expected = state.last === undefined ? metric.seq : state.last + 1
  const gap = metric.seq !== expected
  return {
    recent: keepLast(state.recent, metric, MAX_POINTS),
    count: state.count + 1,
    first: state.first ?? metric.seq,
    last: metric.seq,
    gaps: state.gaps + (gap ? 1 : 0),
    lastGap: gap ? { expected, got: metric.seq } : state.lastGap,
  }
}

/** What the stream reports in the tab that holds it (the leader): the dashboard logs it. */
export interface StreamEvents {
  onInvalid?: (error: SluiceError) => void
  onStateChange?: (state: StreamState) => void
  onRetry?: (info: RetryInfo) => void
  /** A connection was accepted: `instance` is the API instance serving it (its `sluice-instance` header). */
  onOpen?: (instance: string) => void
  /** The feed's caught-up marker came: the records before it were history, those after it are live. */
  onLive?: () => void
  /** The feed declared records lost (its history was trimmed or reset): the stream goes on after them. */
  onGap?: (gap: Gap) => void
}
export const streamEvents: StreamEvents = {}

/** The stream this tab holds, if it leads: for the retry countdown. */
export let heldStream: RecordStream<Metric> | undefined

/**
 * The series' client id, shared by the tabs of this browser profile (the server keeps the ids it sent per
 * client, which the end-to-end tests compare with every tab's).
 */
export function sharedClient(): string {
  const key = 'sluice-demo-client'
  let client = localStorage.getItem(key)
  if (!client) {
    client = Math.random().toString(36).slice(2, 10)
    localStorage.setItem(key, client)
  }
  return client
}

/** The store of one format's series: one per page and key, one connection for all tabs. */
export function metricsStore(format: Format, client: string): Store<MetricsState> {
  const url = `/api/metrics.${format}?client=${client}-${format}`
  const common = {
    idleTimeoutMs: 2500,
    retry: { initialDelayMs: 300, maxDelayMs: 3000, maxAttempts: 30 },
    onInvalid: (error: SluiceError) => streamEvents.onInvalid?.(error),
    onStateChange: (state: StreamState) => streamEvents.onStateChange?.(state),
    onRetry: (info: RetryInfo) => streamEvents.onRetry?.(info),
    onOpen: (response: Response) => streamEvents.onOpen?.(response.headers.get('sluice-instance') ?? 'unnamed'),
    onLive: () => streamEvents.onLive?.(),
    // Told, then carried on past: the fold counts the jump in ids, the log says what the server lost.
    onGap: (gap: Gap) => streamEvents.onGap?.(gap),
  }
  return createStore<MetricsState, Metric>(
    ({ lastEventId }) => {
      // requireEnd: this stream is endless, so a body that ends without the marker was truncated: resume.
      // No idOf: each line of a feed carries its entry id, which is where the stream resumes.
      if (format === 'ndjson')
        return (heldStream = ndjson(url, { schema: Metric, requireEnd: true, lastEventId, ...common }))
      // SSE carries the id on the wire (`id:`); the page wants the data.
      return (heldStream = sse(url, { schema: Metric, lastEventId, ...common }).map((event) => event.data))
    },
    { initial, reduce: foldMetric, key: `demo-metrics-${client}-${format}`, shareAcrossTabs: true, lingerMs: 1000 },
  )
}

/** The streaming connections the demo server holds right now (all clients, both formats). */
export async function serverStreams(): Promise<number | undefined> {
  try {
    const response = await fetch('/api/connections', { cache: 'no-store' })
    return ((await response.json()) as { streaming: number }).streaming
  } catch {
    return undefined
  }
}

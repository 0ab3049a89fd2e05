/**
 * The dashboard: the demo API's live series folded by `createStore` (sluice/store, see metrics-store.ts),
 * rendered when the store notifies (at most once per animation frame, however fast records arrive),
 * one streaming connection shared by every tab of the origin.
 */
import type { SluiceError } from 'sluice'
import type { Store, StoreSnapshot } from 'sluice/store'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { ENDPOINTS } from './metric.js'
import {
  type Format,
  heldStream,
  type MetricsState,
  metricsStore,
  serverStreams,
  sharedClient,
  streamEvents,
} from './metrics-store.js'
import './style.css'

const client = sharedClient()

/** What the end-to-end tests read: the ids folded (checked one by one by the fold), counters, role. */
const debug = {
  /** The client id the server logs this series' sent ids under. */
  client: '',
  format: 'ndjson' as Format,
  /** The ids folded: first..last, every one checked to be the last + 1 (else `gaps` counts it). */
  ids: [] as number[],
  rejected: 0,
  reconnects: 0,
  gaps: 0,
  state: 'connecting' as string,
  role: 'solo' as string,
  firstRecordMs: undefined as number | undefined,
  renders: 0,
  /** Streaming connections the server holds, as last polled. */
  serverStreams: undefined as number | undefined,
  /** The feed indicator's texts in the order shown, from the page's first paint: 'loading history', then 'live'. */
  feed: ['loading history'] as string[],
  /** Records of history each connection delivered before the caught-up marker, in order. */
  history: [] as number[],
  /** The API instance that served each connection this tab opened, in order (`sluice-instance`). */
  instances: [] as string[],
}
;(window as unknown as { __sluiceDemo: typeof debug }).__sluiceDemo = debug

const $ = <E extends HTMLElement>(id: string) => document.getElementById(id) as E
const MAX_LOG = 200
const log: HTMLLIElement[] = []
let store: Store<MetricsState> | undefined
let unsubscribe: (() => void) | undefined
let previous: StoreSnapshot<MetricsState> | undefined
let started = performance.now()
let resuming = false
let notedRole: string | undefined
/** Records delivered when the current connection opened: the history it sends is counted from there. */
let recordsAtOpen = 0
/** (time, records folded) pairs of the last 5 s, for the rate. */
let samples: [number, number][] = []

/** Adds a line to the event log at once (lines are rare; the data is what arrives fast). */
function note(text: string, tone = '') {
  const item = document.createElement('li')
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`
  item.title = text // a long line is cut with an ellipsis; the whole of it on hover
  if (tone) item.className = tone
  const list = $('log')
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 20
  list.append(item)
  log.push(item)
  while (log.length > MAX_LOG) log.shift()!.remove()
  if (atBottom) list.scrollTop = list.scrollHeight
}

function chart(target: HTMLElement, labels: string[], colors: string[]): uPlot {
  const axis = {
    stroke: 'gray',
    grid: { stroke: 'rgba(128, 128, 128, 0.18)' },
    ticks: { stroke: 'rgba(128, 128, 128, 0.3)' },
  }
  return new uPlot(
    {
      width: Math.max(240, target.clientWidth),
      height: 200,
      // A static legend: live values would change its width (and the layout) on every hover.
      legend: { show: true, live: false },
      cursor: { show: false },
      series: [{}, ...labels.map((label, i) => ({ label, stroke: colors[i], width: 1.5, points: { show: false } }))],
      axes: [axis, axis],
    },
    [[], ...labels.map(() => [])],
    target,
  )
}

type Series = { time: number[]; rps: number[]; p50: number[]; p95: number[]; p99: number[]; errors: number[] }
const charts = [
  { el: $('chart-rps'), plot: chart($('chart-rps'), ['req/s'], ['#d9480f']), data: (s: Series) => [s.time, s.rps] },
  {
    el: $('chart-latency'),
    plot: chart($('chart-latency'), ['p50', 'p95', 'p99'], ['#2b8a3e', '#e67700', '#c92a2a']),
    data: (s: Series) => [s.time, s.p50, s.p95, s.p99],
  },
  {
    el: $('chart-errors'),
    plot: chart($('chart-errors'), ['errors %'], ['#7048e8']),
    data: (s: Series) => [s.time, s.errors],
  },
]
const resize = new ResizeObserver(() => {
  for (const { el, plot } of charts) plot.setSize({ width: Math.max(240, el.clientWidth), height: 200 })
})
for (const { el } of charts) resize.observe(el)

/** Called by the store when it notifies: once per frame at most, with every record folded since. */
function render() {
  const snap = store!.getSnapshot()
  const { value } = snap
  debug.renders++
  const now = performance.now()
  samples.push([now, value.count])
  samples = samples.filter(([t]) => now - t < 5000)
  const [t0, c0] = samples[0]!
  const rate = now - t0 > 500 ? ((value.count - c0) * 1000) / (now - t0) : 0
  narrate(snap)
  debug.ids =
    value.first === undefined || value.last === undefined
      ? []
      : Array.from({ length: value.last - value.first + 1 }, (_, i) => value.first! + i)
  debug.rejected = snap.counters.skipped
  debug.reconnects = snap.counters.reconnects
  debug.gaps = value.gaps
  debug.state = snap.state
  debug.role = snap.role
  setText('c-records', String(value.count))
  setText('c-bytes', formatBytes(snap.counters.bytes))
  setText('c-rate', `${rate.toFixed(1)}/s`)
  setText('c-reconnects', String(snap.counters.reconnects))
  setText('c-rejected', String(snap.counters.skipped))
  setText('c-gaps', String(value.gaps))
  setText('c-last', value.last === undefined ? '–' : String(value.last))
  setText('c-first', debug.firstRecordMs === undefined ? '–' : `${debug.firstRecordMs.toFixed(0)} ms`)
  setText('c-role', snap.role)
  const series: Series = { time: [], rps: [], p50: [], p95: [], p99: [], errors: [] }
  for (const m of value.recent) {
    series.time.push(m.time / 1000)
    series.rps.push(m.rps)
    series.p50.push(m.p50)
    series.p95.push(m.p95)
    series.p99.push(m.p99)
    series.errors.push(m.errorRate * 100)
  }
  for (const { plot, data } of charts) plot.setData(data(series) as uPlot.AlignedData)
  const latest = value.recent.at(-1)
  const cells = $('endpoints').querySelectorAll('tbody td:nth-child(2)')
  ENDPOINTS.forEach((path, i) => {
    const cell = cells[i]
    if (cell) cell.textContent = latest ? String(latest.endpoints[path] ?? 0) : '–'
  })
  renderBadge()
  renderFeed(snap.live)
  previous = snap
}

/** "loading history" until the feed's caught-up marker, then "live" (a follower shows the leader's). */
function renderFeed(live: boolean) {
  const text = live ? 'live' : 'loading history'
  if (debug.feed.at(-1) === text) return
  debug.feed.push(text)
  $('feed').dataset.live = String(live)
  setText('feed', text)
}

/** Log lines for what changed since the last render: first record, a resume, a gap, the tab's role. */
function narrate(snap: StoreSnapshot<MetricsState>) {
  const before = previous
  const { value } = snap
  if (debug.firstRecordMs === undefined && value.count > 0) {
    debug.firstRecordMs = performance.now() - started
    note(`first record after ${debug.firstRecordMs.toFixed(0)} ms (stream still open)`, 'ok')
  }
  if (before && value.gaps > before.value.gaps && value.lastGap) {
    note(`gap: expected id ${value.lastGap.expected}, got ${value.lastGap.got}`, 'bad')
  } else if (resuming && before && value.count > before.value.count) {
    // The fold checked every id against the one before: no new gap means the series went on at last + 1.
    const after = before.value.last
    note(`resumed at id ${after === undefined ? 0 : after + 1}, right after ${after ?? 'the start'}: no gap`, 'ok')
    resuming = false
  }
  // Said once the role is settled (a new tab follows until the lock is granted, a few ms later).
  if (snap.role !== notedRole && snap.state !== 'connecting') {
    notedRole = snap.role
    if (snap.role === 'leader') note('this tab holds the stream for every tab (leader)', 'ok')
    else if (snap.role === 'follower') note('another tab holds the stream; this one follows it', 'ok')
  }
  if (snap.error !== undefined && snap.error !== before?.error) {
    const e = snap.error as SluiceError
    note(`stream failed (${e.code ?? 'error'}): ${e.message}`, 'bad')
  }
}

function setText(id: string, text: string) {
  const el = $(id)
  if (el.textContent !== text) el.textContent = text
}

let countdown: ReturnType<typeof setInterval> | undefined
function renderBadge() {
  const snap = store?.getSnapshot()
  const state = snap?.state ?? 'connecting'
  $('badge').dataset.state = state
  setText('badge-state', state)
  const retryAt = snap?.role === 'follower' ? undefined : heldStream?.retryAt
  setText(
    'badge-detail',
    state === 'retrying' && retryAt ? ` in ${Math.max(0, (retryAt - Date.now()) / 1000).toFixed(1)} s` : '',
  )
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`
}

// What the stream reports in the tab holding it: the log says it as it happens.
streamEvents.onInvalid = (error) => note(`rejected a record (${error.code}): ${error.message}`, 'bad')
streamEvents.onStateChange = (state) => {
  if (state === 'retrying') note('connection retrying', 'warn')
  clearInterval(countdown)
  if (state === 'retrying') countdown = setInterval(renderBadge, 100)
}
streamEvents.onOpen = (instance) => {
  recordsAtOpen = heldStream?.counters.records ?? 0
  debug.instances.push(instance)
  setText('instance', instance)
  note(`connection open, served by instance ${instance}; loading history`, 'ok')
}
streamEvents.onLive = () => {
  const history = (heldStream?.counters.records ?? 0) - recordsAtOpen
  debug.history.push(history)
  note(`live: caught up after ${history} record${history === 1 ? '' : 's'} of history`, 'ok')
}
streamEvents.onGap = ({ reason, lastEventId, resumeFrom }) => {
  note(`the server no longer holds what followed ${lastEventId} (${reason}); going on from ${resumeFrom}`, 'bad')
}
streamEvents.onRetry = ({ attempt, delayMs, error }) => {
  resuming = true
  note(`${error.code}: ${error.message}; retry ${attempt} in ${delayMs.toFixed(0)} ms`, 'warn')
}

/** Shows `format`'s series: its shared store, subscribed for as long as this page shows it. */
function show(format: Format) {
  unsubscribe?.()
  debug.format = format
  debug.client = `${client}-${format}`
  debug.firstRecordMs = undefined
  started = performance.now()
  previous = undefined
  notedRole = undefined
  resuming = false
  samples = []
  note(`streaming ${format.toUpperCase()} from /api/metrics.${format} (shared by every tab of this browser)`)
  store = metricsStore(format, client)
  unsubscribe = store.subscribe(render)
}

// `?format=sse` picks the format (the select keeps the address in step, so a reload keeps it).
const params = new URLSearchParams(location.search)
const initial: Format = params.get('format') === 'sse' ? 'sse' : 'ndjson'
const select = $<HTMLSelectElement>('format')
select.value = initial
select.addEventListener('change', () => {
  const format = select.value as Format
  params.set('format', format)
  history.replaceState(null, '', `?${params}`)
  show(format)
})

// The server's count of streaming connections: one for all the tabs of a browser, however many are open.
async function pollStreams() {
  debug.serverStreams = await serverStreams()
  setText('c-connections', debug.serverStreams === undefined ? '–' : String(debug.serverStreams))
}
void pollStreams()
setInterval(pollStreams, 1000)

const rate = $<HTMLInputElement>('rate')
rate.addEventListener('input', () => ($('rate-value').textContent = rate.value))
rate.addEventListener('change', async () => {
  $('rate-value').textContent = rate.value
  await fetch(`/api/rate?perSecond=${rate.value}`, { method: 'POST' })
  note(`rate set to ${rate.value} records/s`)
})
void fetch('/api/rate')
  .then((response) => response.json() as Promise<{ perSecond: number }>)
  .then(({ perSecond }) => {
    rate.value = String(perSecond)
    $('rate-value').textContent = String(perSecond)
  })
  .catch(() => {})

for (const button of document.querySelectorAll<HTMLButtonElement>('[data-fault]')) {
  button.addEventListener('click', async () => {
    // Logged once the API has applied it, so what follows in the log is its effect.
    // The instance serving this tab's stream: the one a cluster's restart kills (alone, there is one).
    const instance = debug.instances.at(-1) ?? ''
    const response = await fetch(`/api/faults/${button.dataset.fault}?instance=${instance}`, { method: 'POST' })
    if (!response.ok) return note(`fault not applied (${button.textContent}): HTTP ${response.status}`, 'bad')
    note(`fault injected: ${button.textContent}`, 'warn')
    const { killed } = (await response.json()) as { killed?: { instance: string; pid: number } }
    if (killed) note(`instance ${killed.instance} killed (kill -9 of pid ${killed.pid}); it is being respawned`, 'warn')
  })
}

show(initial)

/**
 * The dashboard: consumes the demo API with `for await` over sluice's `ndjson()` / `sse()` and a
 * zod schema, and renders at most once per animation frame however fast records arrive.
 */
import { ndjson, sse, type RecordStream, type SluiceError, type StreamState } from 'sluice'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { ENDPOINTS, Metric } from './metric.js'
import './style.css'

type Format = 'ndjson' | 'sse'

/** What the end-to-end tests read: every id received, in order, and the counters. */
const debug = {
  client: newClient(),
  format: 'ndjson' as Format,
  ids: [] as number[],
  rejected: 0,
  reconnects: 0,
  gaps: 0,
  state: 'connecting' as StreamState,
  firstRecordMs: undefined as number | undefined,
  renders: 0,
}
;(window as unknown as { __sluiceDemo: typeof debug }).__sluiceDemo = debug

const $ = <E extends HTMLElement>(id: string) => document.getElementById(id) as E
const MAX_POINTS = 240
const MAX_LOG = 200
const series = {
  time: [] as number[],
  rps: [] as number[],
  p50: [] as number[],
  p95: [] as number[],
  p99: [] as number[],
  errors: [] as number[],
}
const log: HTMLLIElement[] = []
let logAdded = 0
let latest: Metric | undefined
let stream: RecordStream<Metric> | undefined
let rateWindow: number[] = []
let resuming = false
let dirty = false

function newClient(): string {
  return Math.random().toString(36).slice(2, 10)
}

/** Adds a line to the event log (shown on the next frame). */
function note(text: string, tone = '') {
  const item = document.createElement('li')
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`
  item.title = text // a long line is cut with an ellipsis; the whole of it on hover
  if (tone) item.className = tone
  log.push(item)
  logAdded++
  schedule()
}

function chart(target: HTMLElement, labels: string[], colors: string[]): uPlot {
  const axis = { stroke: 'gray', grid: { stroke: 'rgba(128, 128, 128, 0.18)' }, ticks: { stroke: 'rgba(128, 128, 128, 0.3)' } }
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

const charts = [
  { el: $('chart-rps'), plot: chart($('chart-rps'), ['req/s'], ['#d9480f']), data: () => [series.time, series.rps] },
  {
    el: $('chart-latency'),
    plot: chart($('chart-latency'), ['p50', 'p95', 'p99'], ['#2b8a3e', '#e67700', '#c92a2a']),
    data: () => [series.time, series.p50, series.p95, series.p99],
  },
  { el: $('chart-errors'), plot: chart($('chart-errors'), ['errors %'], ['#7048e8']), data: () => [series.time, series.errors] },
]
const resize = new ResizeObserver(() => {
  for (const { el, plot } of charts) plot.setSize({ width: Math.max(240, el.clientWidth), height: 200 })
})
for (const { el } of charts) resize.observe(el)

function schedule() {
  if (dirty) return
  dirty = true
  requestAnimationFrame(render)
}

/** One render per frame, however many records arrived since the last: counters, charts, endpoints, log. */
function render() {
  dirty = false
  debug.renders++
  const now = performance.now()
  rateWindow = rateWindow.filter((t) => now - t < 5000)
  setText('c-records', String(debug.ids.length))
  setText('c-bytes', formatBytes(stream?.counters.bytes ?? 0))
  setText('c-rate', `${(rateWindow.length / 5).toFixed(1)}/s`)
  setText('c-reconnects', String(debug.reconnects))
  setText('c-rejected', String(debug.rejected))
  setText('c-gaps', String(debug.gaps))
  setText('c-last', latest ? String(latest.seq) : '–')
  setText('c-first', debug.firstRecordMs === undefined ? '–' : `${debug.firstRecordMs.toFixed(0)} ms`)
  for (const { plot, data } of charts) plot.setData(data() as uPlot.AlignedData)
  const cells = $('endpoints').querySelectorAll('tbody td:nth-child(2)')
  ENDPOINTS.forEach((path, i) => {
    const cell = cells[i]
    if (cell) cell.textContent = latest ? String(latest.endpoints[path] ?? 0) : '–'
  })
  renderLog()
  renderBadge()
}

/** Appends only the lines added since the last frame, and drops the oldest past MAX_LOG. */
function renderLog() {
  if (logAdded === 0) return
  const list = $('log')
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 20
  list.append(...log.slice(-Math.min(logAdded, MAX_LOG)))
  logAdded = 0
  while (log.length > MAX_LOG) log.shift()!.remove()
  if (atBottom) list.scrollTop = list.scrollHeight
}

function setText(id: string, text: string) {
  const el = $(id)
  if (el.textContent !== text) el.textContent = text
}

let countdown: ReturnType<typeof setInterval> | undefined
function renderBadge() {
  const state = stream?.state ?? 'connecting'
  $('badge').dataset.state = state
  setText('badge-state', state)
  const retryAt = stream?.retryAt
  setText('badge-detail', state === 'retrying' && retryAt ? ` in ${Math.max(0, (retryAt - Date.now()) / 1000).toFixed(1)} s` : '')
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`
}

function accept(metric: Metric, started: number) {
  if (debug.firstRecordMs === undefined) {
    debug.firstRecordMs = performance.now() - started
    note(`first record after ${debug.firstRecordMs.toFixed(0)} ms (stream still open)`, 'ok')
  }
  // The series must continue exactly where it stopped: a skipped or repeated id is a gap.
  const previous = debug.ids.at(-1)
  const expected = previous === undefined ? 0 : previous + 1
  if (metric.seq !== expected) {
    debug.gaps++
    note(`gap: expected id ${expected}, got ${metric.seq}`, 'bad')
  } else if (resuming) {
    note(`resumed at id ${metric.seq}, right after ${previous ?? 'the start'}: no gap`, 'ok')
  }
  resuming = false
  debug.ids.push(metric.seq)
  latest = metric
  rateWindow.push(performance.now())
  series.time.push(metric.time / 1000)
  series.rps.push(metric.rps)
  series.p50.push(metric.p50)
  series.p95.push(metric.p95)
  series.p99.push(metric.p99)
  series.errors.push(metric.errorRate * 100)
  if (series.time.length > MAX_POINTS) for (const values of Object.values(series)) values.shift()
  schedule()
}

/** Consumes the chosen stream until it is closed: `for await`, with every resilience option on. */
async function consume(format: Format) {
  const started = performance.now()
  const common = {
    idleTimeoutMs: 2500,
    retry: { initialDelayMs: 300, maxDelayMs: 3000, maxAttempts: 30 },
    onInvalid: (error: SluiceError) => {
      debug.rejected++
      note(`rejected a record (${error.code}): ${error.message}`, 'bad')
    },
    onStateChange: (state: StreamState) => {
      debug.state = state
      if (state === 'retrying' || state === 'open') note(`connection ${state}`, state === 'open' ? 'ok' : 'warn')
      clearInterval(countdown)
      if (state === 'retrying') countdown = setInterval(renderBadge, 100)
      schedule()
    },
    onRetry: ({ attempt, delayMs, error }: { attempt: number; delayMs: number; error: SluiceError }) => {
      debug.reconnects++
      resuming = true
      note(`${error.code}: ${error.message}; retry ${attempt} in ${delayMs.toFixed(0)} ms`, 'warn')
    },
  }
  const url = `/api/metrics.${format}?client=${debug.client}`
  if (format === 'ndjson') {
    // requireEnd: this stream is endless, so a body that ends without the marker was truncated: resume.
    stream = ndjson(url, { schema: Metric, idOf: (m) => m.seq, requireEnd: true, ...common })
  } else {
    // SSE carries the id on the wire (`id:`), so resuming needs no idOf; the page wants the data.
    stream = sse(url, { schema: Metric, ...common }).map((event) => event.data)
  }
  for await (const metric of stream) accept(metric, started)
}

async function run(format: Format) {
  debug.format = format
  note(`streaming ${format.toUpperCase()} from /api/metrics.${format}`)
  try {
    await consume(format)
    note('stream closed')
  } catch (error) {
    const e = error as SluiceError
    note(`stream failed (${e.code ?? 'error'}): ${e.message}`, 'bad')
  }
  clearInterval(countdown)
  schedule()
}

// `?format=sse` picks the format (the select keeps the address in step, so a reload keeps it).
const params = new URLSearchParams(location.search)
const initial: Format = params.get('format') === 'sse' ? 'sse' : 'ndjson'
const select = $<HTMLSelectElement>('format')
select.value = initial
select.addEventListener('change', () => {
  const format = select.value as Format
  stream?.close()
  params.set('format', format)
  history.replaceState(null, '', `?${params}`)
  // A new series for the other format: ids start over for a new client.
  debug.client = newClient()
  debug.ids = []
  debug.firstRecordMs = undefined
  latest = undefined
  resuming = false
  for (const values of Object.values(series)) values.length = 0
  void run(format)
})

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
    const response = await fetch(`/api/faults/${button.dataset.fault}`, { method: 'POST' })
    if (response.ok) note(`fault injected: ${button.textContent}`, 'warn')
    else note(`fault not applied (${button.textContent}): HTTP ${response.status}`, 'bad')
  })
}

void run(initial)

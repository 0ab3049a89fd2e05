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
  client: Math.random().toString(36).slice(2, 10),
  ids: [] as number[],
  rejected: 0,
  reconnects: 0,
  state: 'connecting' as StreamState,
  firstRecordMs: undefined as number | undefined,
}
;(window as unknown as { __sluiceDemo: typeof debug }).__sluiceDemo = debug

const $ = <E extends HTMLElement>(id: string) => document.getElementById(id) as E
const MAX_POINTS = 240
const series = { time: [] as number[], rps: [] as number[], p50: [] as number[], p95: [] as number[], p99: [] as number[] }
const log: { text: string; tone: string }[] = []
let latest: Metric | undefined
let stream: RecordStream<Metric> | undefined
let rateWindow: number[] = []
let dirty = false

function note(text: string, tone = '') {
  const time = new Date().toLocaleTimeString()
  log.push({ text: `${time}  ${text}`, tone })
  if (log.length > 200) log.splice(0, log.length - 200)
  schedule()
}

function chart(target: HTMLElement, labels: string[], colors: string[]): uPlot {
  const width = Math.max(280, target.clientWidth)
  return new uPlot(
    {
      width,
      height: 200,
      legend: { show: true },
      series: [{}, ...labels.map((label, i) => ({ label, stroke: colors[i], width: 1.5 }))],
      axes: [{ stroke: 'gray' }, { stroke: 'gray' }],
    },
    [[], ...labels.map(() => [])],
    target,
  )
}

const rpsChart = chart($('chart-rps'), ['req/s'], ['#d9480f'])
const latencyChart = chart($('chart-latency'), ['p50', 'p95', 'p99'], ['#2b8a3e', '#e67700', '#c92a2a'])
new ResizeObserver(() => {
  rpsChart.setSize({ width: Math.max(280, $('chart-rps').clientWidth), height: 200 })
  latencyChart.setSize({ width: Math.max(280, $('chart-latency').clientWidth), height: 200 })
}).observe($('chart-rps'))

function schedule() {
  if (dirty) return
  dirty = true
  requestAnimationFrame(render)
}

/** One render per frame: counters, charts, endpoints, log. */
function render() {
  dirty = false
  const counters = stream?.counters
  $('c-records').textContent = String(debug.ids.length)
  $('c-bytes').textContent = formatBytes(counters?.bytes ?? 0)
  const now = performance.now()
  rateWindow = rateWindow.filter((t) => now - t < 5000)
  $('c-rate').textContent = `${(rateWindow.length / 5).toFixed(1)}/s`
  $('c-reconnects').textContent = String(debug.reconnects)
  $('c-rejected').textContent = String(debug.rejected)
  $('c-last').textContent = latest ? String(latest.seq) : '–'
  $('c-first').textContent = debug.firstRecordMs === undefined ? '–' : `${debug.firstRecordMs.toFixed(0)} ms`
  rpsChart.setData([series.time, series.rps])
  latencyChart.setData([series.time, series.p50, series.p95, series.p99])
  if (latest) {
    const body = $('endpoints').querySelector('tbody')!
    body.replaceChildren(
      ...ENDPOINTS.map((path) => {
        const row = document.createElement('tr')
        row.innerHTML = `<td>${path}</td><td>${latest!.endpoints[path] ?? 0}</td>`
        return row
      }),
    )
  }
  const list = $('log')
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 20
  list.replaceChildren(
    ...log.map(({ text, tone }) => {
      const item = document.createElement('li')
      item.textContent = text
      if (tone) item.className = tone
      return item
    }),
  )
  if (atBottom) list.scrollTop = list.scrollHeight
  renderBadge()
}

let countdown: ReturnType<typeof setInterval> | undefined
function renderBadge() {
  const badge = $('badge')
  const state = stream?.state ?? 'connecting'
  badge.dataset.state = state
  const retryAt = stream?.retryAt
  const text = state === 'retrying' && retryAt ? `retrying in ${Math.max(0, (retryAt - Date.now()) / 1000).toFixed(1)} s` : state
  if (badge.textContent !== text) badge.textContent = text
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
  debug.ids.push(metric.seq)
  latest = metric
  rateWindow.push(performance.now())
  series.time.push(metric.time / 1000)
  series.rps.push(metric.rps)
  series.p50.push(metric.p50)
  series.p95.push(metric.p95)
  series.p99.push(metric.p99)
  if (series.time.length > MAX_POINTS) for (const values of Object.values(series)) values.shift()
  schedule()
}

/** Consumes the chosen stream until the format changes: `for await`, with every resilience option on. */
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
      note(`${error.code}: ${error.message}; retry ${attempt} in ${delayMs.toFixed(0)} ms`, 'warn')
    },
  }
  const url = `/api/metrics.${format}?client=${debug.client}`
  if (format === 'ndjson') {
    // requireEnd: an endless stream that ends without the marker was truncated, so resume.
    stream = ndjson(url, { schema: Metric, idOf: (m) => m.seq, requireEnd: true, ...common })
    for await (const metric of stream) accept(metric, started)
  } else {
    const events = sse(url, { schema: Metric, ...common })
    stream = {
      get state() { return events.state },
      get counters() { return events.counters },
      get lastEventId() { return events.lastEventId },
      get retryAt() { return events.retryAt },
      close: () => events.close(),
      async *[Symbol.asyncIterator]() {
        for await (const event of events) yield event.data
      },
    }
    for await (const metric of stream) accept(metric, started)
  }
}

async function run(format: Format) {
  note(`streaming ${format.toUpperCase()}`)
  try {
    await consume(format)
    note('stream closed')
  } catch (error) {
    const e = error as SluiceError
    note(`stream failed (${e.code ?? 'error'}): ${e.message}`, 'bad')
  }
  schedule()
}

$<HTMLSelectElement>('format').addEventListener('change', (event) => {
  stream?.close()
  // A new series for the other format: ids start over for this client.
  debug.client = Math.random().toString(36).slice(2, 10)
  debug.ids = []
  for (const values of Object.values(series)) values.length = 0
  void run((event.target as HTMLSelectElement).value as Format)
})

const rate = $<HTMLInputElement>('rate')
rate.addEventListener('change', async () => {
  $('rate-value').textContent = rate.value
  await fetch(`/api/rate?perSecond=${rate.value}`, { method: 'POST' })
  note(`rate set to ${rate.value}/s`)
})
rate.addEventListener('input', () => ($('rate-value').textContent = rate.value))

for (const button of document.querySelectorAll<HTMLButtonElement>('[data-fault]')) {
  button.addEventListener('click', async () => {
    const fault = button.dataset.fault!
    note(`fault injected: ${button.textContent}`, 'warn')
    await fetch(`/api/faults/${fault}`, { method: 'POST' })
  })
}

void run('ndjson')

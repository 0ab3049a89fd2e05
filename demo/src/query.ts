/**
 * The query page: `ndjson()` over `/api/query.ndjson` (api/query.ts), rendering at most one frame's
 * worth of work per animation frame and keeping only the last rows shown, so a million rows cost
 * the page no more memory than a thousand. Pausing stops pulling from the stream: the body is
 * pull-based end to end, so the server stops producing too.
 */
import { ndjson, type RecordStream } from 'sluice'
import type { QueryRow } from '../api/query.js'
import './style.css'

const KEPT_ROWS = 50
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

const ui = {
  rows: $<HTMLSelectElement>('q-rows'),
  run: $<HTMLButtonElement>('q-run'),
  pause: $<HTMLButtonElement>('q-pause'),
  stop: $<HTMLButtonElement>('q-stop'),
  state: $('q-state'),
  count: $('q-count'),
  first: $('q-first'),
  rate: $('q-rate'),
  bytes: $('q-bytes'),
  reconnects: $('q-reconnects'),
  last: $('q-last'),
  body: $<HTMLTableElement>('q-table').tBodies[0]!,
}

let stream: RecordStream<QueryRow> | undefined
let paused = false
let resume: (() => void) | undefined

function show(rows: QueryRow[], count: number, startedAt: number, from: RecordStream<QueryRow>): void {
  const seconds = (performance.now() - startedAt) / 1000
  ui.count.textContent = count.toLocaleString('en-US')
  ui.rate.textContent = seconds > 0 ? Math.round(count / seconds).toLocaleString('en-US') : '–'
  ui.bytes.textContent = from.counters.bytes.toLocaleString('en-US')
  ui.reconnects.textContent = String(from.counters.reconnects)
  const last = rows.at(-1)
  if (last) ui.last.textContent = String(last.id)
  const fragment = document.createDocumentFragment()
  for (const row of rows.slice(-KEPT_ROWS).reverse()) {
    // newest first
    const tr = document.createElement('tr')
    for (const cell of [row.id, row.region, row.sku, row.quantity, row.price.toFixed(2)]) {
      const td = document.createElement('td')
      td.textContent = String(cell)
      tr.append(td)
    }
    fragment.append(tr)
  }
  ui.body.prepend(fragment)
  while (ui.body.rows.length > KEPT_ROWS) ui.body.lastElementChild?.remove()
}

async function run(): Promise<void> {
  stream?.close()
  const count = Number(ui.rows.value)
  const current = ndjson<QueryRow>(`/api/query.ndjson?rows=${count}`, { idOf: (row) => row.id })
  stream = current
  ui.body.replaceChildren()
  ui.first.textContent = '–'
  ui.pause.disabled = false
  ui.stop.disabled = false
  ui.state.textContent = 'streaming'
  const startedAt = performance.now()
  let received = 0
  let pending: QueryRow[] = []
  let frame = 0
  const flush = () => {
    frame = 0
    show(pending, received, startedAt, current)
    pending = []
  }
  try {
    for await (const row of current) {
      if (received === 0) ui.first.textContent = `${Math.round(performance.now() - startedAt)} ms`
      received++
      pending.push(row)
      if (pending.length > KEPT_ROWS) pending = pending.slice(-KEPT_ROWS)
      frame ||= requestAnimationFrame(flush)
      // Yield to the page once per frame's worth of rows, so rendering and input keep up.
      if (received % 2000 === 0) await new Promise((r) => setTimeout(r, 0))
      if (paused) {
        // Parked: the rows that arrived are on screen, and nothing more is pulled until Resume.
        if (frame) cancelAnimationFrame(frame)
        flush()
        ui.state.textContent = 'paused: nothing is pulled'
        await new Promise<void>((r) => (resume = r))
      }
    }
    // Stopped or replaced meanwhile: the handler that did it has said so already.
    if (stream === current) ui.state.textContent = `done: ${received.toLocaleString('en-US')} rows`
  } catch (error) {
    ui.state.textContent = `failed: ${error instanceof Error ? error.message : String(error)}`
  } finally {
    if (frame) cancelAnimationFrame(frame)
    show(pending, received, startedAt, current)
    if (stream === current) {
      ui.pause.disabled = true
      ui.stop.disabled = true
    }
  }
}

ui.run.addEventListener('click', () => {
  paused = false
  resume?.()
  ui.pause.setAttribute('aria-pressed', 'false')
  void run()
})
ui.pause.addEventListener('click', () => {
  paused = !paused
  ui.pause.setAttribute('aria-pressed', String(paused))
  ui.pause.textContent = paused ? 'Resume reading' : 'Pause reading'
  // "paused" once the loop has parked (a row already on its way is read and shown first).
  ui.state.textContent = paused ? 'pausing' : 'streaming'
  if (!paused) resume?.()
})
ui.stop.addEventListener('click', () => {
  const current = stream
  stream = undefined
  current?.close()
  paused = false
  resume?.()
  ui.state.textContent = 'stopped'
  ui.pause.disabled = true
  ui.stop.disabled = true
})
document.body.dataset.ready = 'true'

/**
 * The results as one SVG image, drawn by hand (no network, no dependencies): throughput bars per
 * chunk size for NDJSON and SSE, peak RSS per consumer, RSS over the largest stream, and latency.
 *
 * @module
 */
import { formatBytes } from './stats.mjs'

const WIDTH = 960
const LABEL = 250
const BAR = 14
const GAP = 4
const COLORS = { sluice: '#d9480f', limit: '#868e96', other: '#4c6ef5' }
const SERIES = ['#4c6ef5', '#d9480f', '#2b8a3e', '#ae3ec9']

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function colorOf(name, limit) {
  if (name === 'sluice') return COLORS.sluice
  return limit ? COLORS.limit : COLORS.other
}

/** Horizontal bars in groups: `groups` = [{ title, bars: [{ label, value, color, note }] }]. */
function barPanel(y, title, unit, groups) {
  const max = Math.max(...groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite), 1)
  const scale = (WIDTH - LABEL - 250) / max
  let svg = `<text x="10" y="${y + 18}" class="title">${esc(title)}</text>`
  y += 30
  for (const group of groups) {
    svg += `<text x="10" y="${y + 12}" class="group">${esc(group.title)}</text>`
    y += 18
    for (const bar of group.bars) {
      const w = Number.isFinite(bar.value) ? Math.max(1, bar.value * scale) : 0
      svg += `<text x="${LABEL - 6}" y="${y + BAR - 3}" class="label" text-anchor="end">${esc(bar.label)}</text>`
      svg += `<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR}" fill="${bar.color}"/>`
      const text = bar.note ?? `${bar.value.toFixed(bar.value < 10 ? 2 : 1)} ${unit}`
      svg += `<text x="${LABEL + w + 6}" y="${y + BAR - 3}" class="value">${esc(text)}</text>`
      y += BAR + GAP
    }
    y += 8
  }
  return { svg, y }
}

/** RSS (MiB) against bytes received (MiB), one line per consumer. */
function linePanel(y, title, series) {
  const height = 200
  const left = 70
  const right = WIDTH - 40
  const maxX = Math.max(...series.flatMap((s) => s.points.map((p) => p[0])), 1)
  const maxY = Math.max(...series.flatMap((s) => s.points.map((p) => p[1])), 1)
  const sx = (x) => left + (x / maxX) * (right - left)
  const sy = (v) => y + 30 + height - (v / maxY) * height
  let svg = `<text x="10" y="${y + 18}" class="title">${esc(title)}</text>`
  svg += `<line x1="${left}" y1="${sy(0)}" x2="${right}" y2="${sy(0)}" class="axis"/>`
  svg += `<line x1="${left}" y1="${sy(0)}" x2="${left}" y2="${sy(maxY)}" class="axis"/>`
  for (const f of [0, 0.5, 1]) {
    svg += `<text x="${left - 6}" y="${sy(maxY * f) + 4}" class="value" text-anchor="end">${(maxY * f).toFixed(0)}</text>`
    svg += `<text x="${sx(maxX * f)}" y="${sy(0) + 16}" class="value" text-anchor="middle">${(maxX * f).toFixed(0)} MiB</text>`
  }
  series.forEach((s, i) => {
    const color = s.color ?? SERIES[i % SERIES.length]
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('')
    svg += `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`
    svg += `<rect x="${left + 20}" y="${sy(0) - 50 + i * 18}" width="12" height="3" fill="${color}"/>`
    svg += `<text x="${left + 38}" y="${sy(0) - 45 + i * 18}" class="label">${esc(s.label)}</text>`
  })
  return { svg, y: y + height + 60 }
}

/** Builds the SVG document from the collected results. */
export function chart(results) {
  let y = 40
  let body = `<text x="10" y="24" class="head">sluice benchmarks: ${esc(results.machine.line)}</text>`
  const add = (panel) => {
    body += panel.svg
    y = panel.y + 10
  }
  for (const [key, title] of [
    ['ndjson', 'NDJSON throughput, MB/s (median), higher is better'],
    ['sse', 'SSE throughput, MB/s (median), higher is better'],
  ]) {
    if (!results[key]) continue
    add(
      barPanel(
        y,
        title,
        'MB/s',
        results[key].map((size) => ({
          title: `${formatBytes(size.chunkSize)} chunks`,
          bars: size.rows.map((r) => ({ label: r.name, value: r.mbPerS, color: colorOf(r.name, r.limit) })),
        })),
      ),
    )
  }
  if (results.memory) {
    const sizes = [...new Set(results.memory.runs.map((r) => r.size))].sort((a, b) => a - b)
    add(
      barPanel(
        y,
        'Peak RSS of the consumer process, MiB, lower is better',
        'MiB',
        sizes.map((size) => ({
          title: `${formatBytes(size)} NDJSON response over loopback HTTP`,
          bars: results.memory.runs
            .filter((r) => r.size === size)
            .map((r) => ({
              label: MODE_LABELS[r.mode],
              value: r.maxRss / 2 ** 20,
              color: r.mode === 'sluice' ? COLORS.sluice : r.mode === 'bare' ? COLORS.limit : COLORS.other,
              note: r.error ? `${(r.maxRss / 2 ** 20).toFixed(0)} MiB, then failed: string too long` : undefined,
            })),
        })),
      ),
    )
    const largest = Math.max(...sizes)
    add(
      linePanel(
        y,
        `RSS in MiB while receiving ${formatBytes(largest)}, sluice and the bare read loop (sampled every 100 ms)`,
        results.memory.runs
          .filter((r) => r.size === largest && r.mode !== 'text')
          .map((r) => ({
            label: MODE_LABELS[r.mode],
            color: r.mode === 'sluice' ? COLORS.sluice : r.mode === 'bare' ? COLORS.limit : COLORS.other,
            points: r.samples.map(([bytes, rss]) => [bytes / 2 ** 20, rss / 2 ** 20]),
          })),
      ),
    )
  }
  if (results.latency) {
    add(
      barPanel(
        y,
        'Delivery latency, server write to consumer loop, ms, lower is better',
        'ms',
        results.latency.runs.map((r) => ({
          title: MODE_LABELS[r.mode],
          bars: [
            { label: 'p50', value: r.p50, color: r.mode === 'latency-sluice' ? COLORS.sluice : COLORS.other },
            { label: 'p99', value: r.p99, color: r.mode === 'latency-sluice' ? COLORS.sluice : COLORS.other },
          ],
        })),
      ),
    )
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}">
<style>
text { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 12px; fill: #212529 }
.head { font-size: 15px; font-weight: 600 } .title { font-size: 14px; font-weight: 600 }
.group { font-weight: 600; fill: #495057 } .value { fill: #495057; font-size: 11px }
.axis { stroke: #adb5bd; stroke-width: 1 }
</style>
<rect width="100%" height="100%" fill="#fff"/>
${body}
</svg>
`
}

export const MODE_LABELS = {
  sluice: 'sluice decodeNdjson(res.body)',
  bare: 'bare read loop (bytes only)',
  text: 'store-and-forward await res.text()',
  'latency-sluice': 'sluice decodeNdjson(res)',
  'latency-loop': 'hand-written read + indexOf + JSON.parse loop',
}

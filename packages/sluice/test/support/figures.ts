/**
 * Figures the hardening tests measure, written for scripts/reliability.mjs (RELIABILITY.md) when
 * SLUICE_FIGURES names a file. One JSON line per scenario, appended.
 */
import { appendFileSync } from 'node:fs'
import v8 from 'node:v8'
import vm from 'node:vm'

export interface Figure {
  scenario: string
  cases?: number
  faults?: number
  records?: number
  lost?: number
  duplicated?: number
  peakMiB?: number
  detail?: string
}

export function recordFigure(figure: Figure): void {
  const file = process.env.SLUICE_FIGURES
  if (file) appendFileSync(file, `${JSON.stringify(figure)}\n`)
}

/** A fuzz property's outcomes: how many cases ended in records (`ok`) or in each error code, and the slowest case. */
export function recordFuzz(name: string, cases: number, outcomes: Map<string, number>, slowestMs: number): void {
  const sorted = [...outcomes].sort((a, b) => b[1] - a[1])
  const detail = `${sorted.map(([code, n]) => `${code} ${n}`).join(', ')}; slowest case ${slowestMs.toFixed(0)} ms`
  recordFigure({ scenario: `fuzz: ${name}`, cases, detail })
}

/** The timers and sockets alive now: after a run, no more than before it, or something leaked. */
export function activeResources(): { timers: number; sockets: number } {
  const counts = new Map<string, number>()
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  return {
    timers: counts.get('Timeout') ?? 0,
    sockets: (counts.get('TCPSocketWrap') ?? 0) + (counts.get('TCPWrap') ?? 0),
  }
}

/** Resident memory now, in MiB. */
export const rssMiB = () => process.memoryUsage().rss / 1024 / 1024
const heapMiB = () => process.memoryUsage().heapUsed / 1024 / 1024

/**
 * A full garbage collection, so heap samples measure what is retained, not what is waiting to be
 * collected. `--expose-gc` set at run time reaches a fresh context's `gc` in any worker.
 */
const gc: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed) return exposed
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
})()

/** Heap in use after a full collection, in MiB. */
export function retainedHeapMiB(): number {
  gc()
  return heapMiB()
}

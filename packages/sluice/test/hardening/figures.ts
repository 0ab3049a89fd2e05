/**
 * Figures the hardening tests measure, written for scripts/reliability.mjs (RELIABILITY.md) when
 * SLUICE_FIGURES names a file. One JSON line per scenario, appended.
 */
import { appendFileSync } from 'node:fs'

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

export function recordFuzz(name: string, cases: number, outcomes: Map<string, number>): void {
  const detail = [...outcomes].map(([code, n]) => `${code} ${n}`).join(', ')
  recordFigure({ scenario: `fuzz: ${name}`, cases, detail })
}

/** Resident memory now, in MiB. */
export const rssMiB = () => process.memoryUsage().rss / 1024 / 1024
export const heapMiB = () => process.memoryUsage().heapUsed / 1024 / 1024

/** Figures for RELIABILITY.md: scripts/reliability.mjs sets SLUICE_FIGURES, each test appends one JSON line. */
import { appendFileSync } from 'node:fs'

export function recordFigure(figure: {
  scenario: string
  cases?: number
  records?: number
  lost?: number
  duplicated?: number
  detail: string
}): void {
  if (process.env['SLUICE_FIGURES']) appendFileSync(process.env['SLUICE_FIGURES'], `${JSON.stringify(figure)}\n`)
}

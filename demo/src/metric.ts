/**
 * The demo's record: one sample of a service's metrics. Shared by the API (which produces it) and
 * the page (which validates it with this schema).
 */
import { z } from 'zod'

export const ENDPOINTS = ['/api/users', '/api/orders', '/api/search', '/api/login'] as const

export const Metric = z.object({
  seq: z.number().int().nonnegative(),
  time: z.number(),
  rps: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p95: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  errorRate: z.number().min(0).max(1),
  endpoints: z.record(z.string(), z.number().int().nonnegative()),
})

export type Metric = z.infer<typeof Metric>

/** A deterministic pseudo-random number in [0, 1) for (seq, salt): replays of seq are identical. */
function noise(seq: number, salt: number): number {
  let x = Math.imul(seq ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt, 0xc2b2ae35)
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  return (x >>> 0) / 2 ** 32
}

/**
 * Record `seq`, a pure function of `seq` (and the series' start time), so a stream resumed from
 * `Last-Event-ID` replays exactly what was lost. Sample `seq` covers second `seq` of the service's
 * time, whatever the rate the demo streams samples at.
 */
export function metricAt(seq: number, startedAt: number, intervalMs = 1000): Metric {
  const wave = Math.sin(seq / 40) * 0.25 + Math.sin(seq / 7) * 0.05
  const rps = Math.round(1200 * (1 + wave) + noise(seq, 1) * 80)
  const p50 = +(18 + wave * 6 + noise(seq, 2) * 3).toFixed(1)
  const p95 = +(p50 * 2.4 + noise(seq, 3) * 10).toFixed(1)
  const spike = noise(seq, 4) > 0.97 ? 80 : 0
  const p99 = +(p95 * 1.6 + spike + noise(seq, 5) * 15).toFixed(1)
  const errorRate = +Math.min(1, 0.004 + (spike ? 0.03 : 0) + noise(seq, 6) * 0.004).toFixed(4)
  const endpoints: Record<string, number> = {}
  ENDPOINTS.forEach((path, i) => {
    endpoints[path] = Math.round((rps / 4) * (0.5 + noise(seq, 10 + i)))
  })
  return { seq, time: startedAt + seq * intervalMs, rps, p50, p95, p99, errorRate, endpoints }
}

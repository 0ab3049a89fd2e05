/** Small statistics and formatting helpers for the benchmark report. */

export function median(values) {
  return quantile(values, 0.5)
}

/** The q-quantile by linear interpolation between order statistics. */
export function quantile(values, q) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low)
}

const MiB = 1024 * 1024

export function formatBytes(bytes) {
  if (bytes >= 1024 * MiB) return `${(bytes / (1024 * MiB)).toFixed(bytes % (1024 * MiB) === 0 ? 0 : 2)} GiB`
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 1)} KiB`
  return `${bytes} B`
}

export function fixed(value, digits = 2) {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
}

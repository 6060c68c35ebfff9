import type { LatencyNs } from './result.js'

/**
 * Summary statistics of latency samples (nanoseconds). Percentiles use the
 * nearest-rank method on the sorted samples: p is the smallest sample with at least
 * p% of the samples at or below it, so every reported percentile is a real sample.
 */
export function summarizeNs(samples: Float64Array | readonly number[]): LatencyNs {
  const n = samples.length
  if (n === 0) throw new RangeError('summarizeNs: no samples')
  const sorted = Float64Array.from(samples).sort()
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i]
  const mean = sum / n
  let sq = 0
  for (let i = 0; i < n; i++) sq += (sorted[i] - mean) ** 2
  // Sample standard deviation (n - 1); a single sample has none.
  const sd = n > 1 ? Math.sqrt(sq / (n - 1)) : 0
  return {
    n,
    min: sorted[0],
    mean,
    sd,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    p999: percentileSorted(sorted, 99.9),
    max: sorted[n - 1],
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentileSorted(sorted: Float64Array | readonly number[], p: number): number {
  const n = sorted.length
  if (n === 0) throw new RangeError('percentileSorted: empty')
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentileSorted: p=${p} outside (0, 100]`)
  // p * n / 100 in floating point can land a hair above an integer (99.9% of 1000).
  const rank = Math.ceil((p * n) / 100 - 1e-9)
  return sorted[Math.min(n, Math.max(1, rank)) - 1]
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median: empty')
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Coefficient of variation in percent (sample sd over mean); 0 for fewer than two values. */
export function cvPct(values: readonly number[]): number {
  if (values.length < 2) return 0
  const mean = values.reduce((a, b) => a + b, 0) / values.length
  if (mean === 0) return 0
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1))
  return (sd / mean) * 100
}

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

/** Student's t at 0.975 for 1 to 30 degrees of freedom (the two-sided 95% point), to nine decimals. */
const T975 = [
  12.706204736, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852, 2.20098516,
  2.17881283, 2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.10092204, 2.093024054, 2.085963447, 2.079613845, 2.073873068,
  2.06865761, 2.063898562, 2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
]

/**
 * The 0.975 quantile of Student's t with `df` degrees of freedom: the table up to 30,
 * then the Cornish–Fisher expansion around the normal's 1.96, within 3e-8 from 31 on.
 */
export function studentT975(df: number): number {
  if (!(Number.isInteger(df) && df >= 1)) throw new RangeError(`studentT975: ${df} degrees of freedom`)
  if (df <= T975.length) return T975[df - 1]
  const z = 1.959963984540054
  const v = df
  return (
    z +
    (z ** 3 + z) / (4 * v) +
    (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2) +
    (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3) +
    (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / (92160 * v ** 4)
  )
}

/**
 * The relative margin of error of the mean, in percent: the half-width of its 95%
 * Student t interval over the mean, t(0.975, n − 1)·sd/√n/mean. Infinity for fewer
 * than two values or a mean of 0: no agreement can be claimed from them.
 */
export function rmePct(values: readonly number[]): number {
  const n = values.length
  if (n < 2) return Infinity
  const mean = values.reduce((a, b) => a + b, 0) / n
  if (mean === 0) return Infinity
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1))
  return ((studentT975(n - 1) * sd) / Math.sqrt(n) / Math.abs(mean)) * 100
}

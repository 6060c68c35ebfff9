import { median } from './stats.js'

/**
 * The statistics behind `ipcbench compare`: pure functions, exact on small inputs.
 * A comparison needs two answers (criterion.rs does the same): is the difference
 * real (Mann–Whitney U, which assumes nothing about the shape of the per-repetition
 * figures), and how big is it (a bootstrap interval of the ratio of medians).
 */

export { median }

/**
 * The significance level `compare` and `ab` use unless `--alpha` says otherwise; the run
 * also reads it for the fewest repetitions a case keeps (its early stop, its warning).
 */
export const DEFAULT_ALPHA = 0.05

export interface MannWhitney {
  /** min(U1, U2): 0 when every x is below (or above) every y. */
  u: number
  /** U of the first sample: pairs (x, y) with x > y, ties counting one half. */
  u1: number
  /** Two-sided p-value. */
  p: number
  /** `exact` (no ties, small samples) or `normal` (tie- and continuity-corrected). */
  method: 'exact' | 'normal'
}

/** Above this many values per sample the exact table costs more than it is worth. */
const EXACT_MAX_N = 50

export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitney {
  const m = x.length
  const n = y.length
  if (m === 0 || n === 0) throw new RangeError('mannWhitneyU: both samples need at least one value')
  const { rankSumX, tieTerm } = ranks(x, y)
  const u1 = rankSumX - (m * (m + 1)) / 2
  const u = Math.min(u1, m * n - u1)
  if (tieTerm === 0 && m <= EXACT_MAX_N && n <= EXACT_MAX_N) {
    return { u, u1, p: Math.min(1, 2 * exactCdf(u, m, n)), method: 'exact' }
  }
  const big = m + n
  const variance = ((m * n) / 12) * (big + 1 - tieTerm / (big * (big - 1)))
  // Every value tied: no evidence either way.
  if (variance <= 0) return { u, u1, p: 1, method: 'normal' }
  const z = Math.max(0, Math.abs(u1 - (m * n) / 2) - 0.5) / Math.sqrt(variance)
  return { u, u1, p: Math.min(1, erfc(z / Math.SQRT2)), method: 'normal' }
}

/** Mid-ranks of the pooled samples; `tieTerm` is Σ(t³ − t) over groups of tied values. */
function ranks(x: readonly number[], y: readonly number[]): { rankSumX: number; tieTerm: number } {
  const pooled = [...x.map((v) => ({ v, fromX: true })), ...y.map((v) => ({ v, fromX: false }))].sort((a, b) => a.v - b.v)
  let rankSumX = 0
  let tieTerm = 0
  for (let i = 0; i < pooled.length;) {
    let j = i
    while (j + 1 < pooled.length && pooled[j + 1].v === pooled[i].v) j++
    const t = j - i + 1
    const midRank = (i + j + 2) / 2
    for (let k = i; k <= j; k++) if (pooled[k].fromX) rankSumX += midRank
    tieTerm += t ** 3 - t
    i = j + 1
  }
  return { rankSumX, tieTerm }
}

/**
 * P(U ≤ u) under the null hypothesis, no ties: the number of arrangements of m x's
 * and n y's with U = k follows c(k; m, n) = c(k − n; m − 1, n) + c(k; m, n − 1)
 * (the largest value is either an x, beating all n y's, or a y, beating nothing).
 */
function exactCdf(u: number, m: number, n: number): number {
  const maxU = Math.floor(u)
  // counts[j][k] for the current m: arrangements of (i x's, j y's) with U = k.
  let prev: number[][] = Array.from({ length: n + 1 }, () => [1, ...new Array<number>(maxU).fill(0)])
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [[1, ...new Array<number>(maxU).fill(0)]]
    for (let j = 1; j <= n; j++) {
      const row = new Array<number>(maxU + 1).fill(0)
      for (let k = 0; k <= maxU; k++) row[k] = (k >= j ? prev[j][k - j] : 0) + cur[j - 1][k]
      cur.push(row)
    }
    prev = cur
  }
  let below = 0
  for (let k = 0; k <= maxU; k++) below += prev[n][k]
  return below / binomial(m + n, m)
}

export function binomial(n: number, k: number): number {
  let r = 1
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i
  return Math.round(r)
}

/**
 * The smallest two-sided p the exact test can give for these sample sizes (all of one
 * sample beyond all of the other). With 3 and 3 it is 2/20 = 0.1: no difference can
 * ever be significant at 0.05, however large.
 */
export function minAttainableP(m: number, n: number): number {
  return Math.min(1, 2 / binomial(m + n, m))
}

/**
 * Holm's step-down adjustment of p-values for a family of tests: the adjusted p of
 * the k-th smallest (0-based) is the largest of (m − j)·p₍ⱼ₎ for j ≤ k, capped at 1. A
 * test is significant at family level alpha when its adjusted p is below alpha; the
 * chance of any false alarm among the m stays within alpha, whatever their dependence.
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p)
  const adjusted = new Array<number>(m)
  let running = 0
  order.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p))
    adjusted[i] = running
  })
  return adjusted
}

/** The fewest repetitions per run (equal on both sides) at which p can fall below alpha. */
export function repetitionsNeeded(alpha: number): number {
  let n = 1
  while (minAttainableP(n, n) >= alpha) n++
  return n
}

/**
 * Complementary error function, W. J. Cody's rational Chebyshev fit as given in
 * Numerical Recipes (`erfcc`): relative error below 1.2e-7 everywhere, which is far
 * finer than any alpha a user will pass.
 */
export function erfc(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? r : 2 - r
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). Reproducible bootstrap intervals need a seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** FNV-1a of a string: a per-case seed, so each case's interval is reproducible on its own. */
export function hashSeed(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h
}

export interface RatioInterval {
  /** Ratio of the sample medians, current over base. */
  ratio: number
  lower: number
  upper: number
}

export interface BootstrapOptions {
  seed: number
  /** Resamples; 2000 keeps the 2.5% and 97.5% points stable to a few tenths of a percent. */
  resamples?: number
  /** Coverage of the interval (0.95). */
  level?: number
}

/**
 * Percentile-bootstrap interval of median(current) / median(base): each resample
 * draws both runs' repetitions with replacement, independently, since the two runs
 * are independent experiments.
 */
export function bootstrapRatioOfMedians(base: readonly number[], current: readonly number[], o: BootstrapOptions): RatioInterval {
  if (base.length === 0 || current.length === 0) throw new RangeError('bootstrapRatioOfMedians: both samples need at least one value')
  const resamples = o.resamples ?? 2000
  const level = o.level ?? 0.95
  const rand = mulberry32(o.seed)
  const ratios = new Float64Array(resamples)
  const b = new Array<number>(base.length)
  const c = new Array<number>(current.length)
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < b.length; i++) b[i] = base[Math.floor(rand() * base.length)]
    for (let i = 0; i < c.length; i++) c[i] = current[Math.floor(rand() * current.length)]
    ratios[r] = median(c) / median(b)
  }
  ratios.sort()
  const tail = (1 - level) / 2
  // 0.975 * 2000 is a hair above 1950 in floating point; the 1e-9 keeps the ranks exact.
  const lo = Math.min(resamples - 1, Math.max(0, Math.floor(tail * resamples + 1e-9)))
  const hi = Math.min(resamples - 1, Math.max(0, Math.ceil((1 - tail) * resamples - 1e-9) - 1))
  return { ratio: median(current) / median(base), lower: ratios[lo], upper: ratios[hi] }
}

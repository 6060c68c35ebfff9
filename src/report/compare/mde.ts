import { mannWhitneyU, minAttainableP, type RatioInterval } from '../../core/inference.js'

/**
 * The minimum detectable effect of one compared case: the smallest change in the
 * worse direction that `compare` would have flagged as a regression had the current
 * run's repetitions been these very repetitions, scaled to show that change. It asks
 * the verdict's two questions of the scaled figures:
 *
 * - the interval: scaling every current figure by k scales the bootstrap interval of
 *   the ratio by exactly k (same seed, same resamples), so the interval clears the
 *   threshold from k = (1 + threshold) · ratio / lower on (latency; for throughput,
 *   from k = (1 − threshold) · ratio / upper down);
 * - significance: the Mann–Whitney p of base against the scaled current figures must
 *   be below alpha / family, Holm's strictest step (so the figure is an upper bound:
 *   when other cases are significant too, Holm asks a little less of this one).
 *
 * It is computed from this host's spread in these runs, so it is what this comparison
 * could see, not a property of the mechanism. Undefined when no change, however
 * large, could be flagged (too few repetitions for the family).
 */
export function minimumDetectablePct(
  base: readonly number[],
  current: readonly number[],
  ci: RatioInterval,
  worseWhen: 'higher' | 'lower',
  thresholdPct: number,
  pNeeded: number,
): number | undefined {
  if (minAttainableP(base.length, current.length) >= pNeeded) return undefined
  const t = thresholdPct / 100
  const up = worseWhen === 'higher'
  // The ratio k at which the scaled interval just clears the threshold.
  const fromInterval = up ? ((1 + t) * ci.ratio) / ci.lower : ((1 - t) * ci.ratio) / ci.upper
  // U, and so p, changes only where a scaled current figure passes a base figure:
  // at k = ratio · b / c. Between two such points p is constant.
  const crossings = base.flatMap((b) => current.map((c) => (ci.ratio * b) / c))
  const beyond = (k: number): boolean => (up ? k > fromInterval : k < fromInterval)
  const candidates = [fromInterval, ...crossings.filter(beyond)].sort((x, y) => (up ? x - y : y - x))
  // Just past a crossing, away from no change.
  const nudge = (k: number): number => k * (up ? 1 + 1e-9 : 1 - 1e-9)
  const significant = (k: number): boolean =>
    mannWhitneyU(
      base,
      current.map((c) => (c * nudge(k)) / ci.ratio),
    ).p < pNeeded
  // Past the last crossing the samples are apart: the smallest p, below pNeeded (checked above).
  // U only grows with k, so the first significant candidate is found by bisection.
  let lo = 0
  let hi = candidates.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (significant(candidates[mid])) hi = mid
    else lo = mid + 1
  }
  const k = candidates[lo]
  return (up ? k - 1 : 1 - k) * 100
}

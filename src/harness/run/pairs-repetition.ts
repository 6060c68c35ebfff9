import { decodeHistogram, encodeHistogram, merge, percentile } from '../../core/histogram.js'
import type { LatencyNs, PairFigures, PairsRun, RepetitionResult, SideCost, CpuTotal, Cost } from '../../core/result.js'
import { median } from '../../core/stats.js'
import type { CasePlan } from '../plan/case-plan.js'
import type { RepetitionExecutor, RepOutcome } from './executor.js'

/**
 * How long before the pairs' common start the orchestrator sets it: every pair's
 * processes or threads must be started and ready by then. Node peers take ~100–250 ms
 * each to start here, and N pairs start at once on the same CPUs; the C floor, a fork.
 */
export function startMarginMs(executor: RepetitionExecutor['name'], pairs: number): number {
  return executor === 'floor' ? 100 + 20 * pairs : 500 + 250 * pairs
}

/**
 * One repetition of a case run as several pairs at once: every pair a repetition of
 * its own (its own objects and peers, its own placement from the plan), all told to
 * start their loops at one instant of the clock and each measuring the whole duration
 * (no sample target: a pair that stopped early would leave the others uncontended).
 * The first failure is the repetition's. `--samples` is not kept for pairs.
 */
export async function runPairs(executor: RepetitionExecutor, plan: CasePlan, index: number, signal?: AbortSignal): Promise<RepOutcome> {
  const { placements, described } = plan.pairs!
  const startAtNs = Number(process.hrtime.bigint()) + startMarginMs(executor.name, placements.length) * 1e6
  const outcomes = await Promise.all(
    placements.map((placement) =>
      executor.run(
        { ...plan, placement, pairs: undefined, samplesDir: undefined, loop: { ...plan.loop, startAtNs, targetSamples: 0 } },
        index,
        signal,
      ),
    ),
  )
  const failed = outcomes.find((o) => !o.ok)
  if (failed) return failed
  const done = outcomes.flatMap((o) => (o.ok ? [o] : []))
  return {
    ok: true,
    rep: combinePairs(
      plan,
      done.map((o) => o.rep),
      described,
    ),
    describe: done[0].describe,
    warnings: done.flatMap((o) => o.warnings),
  }
}

/**
 * The pairs' repetitions as one: messages added; latency over every pair's samples (the
 * histograms merged: percentiles within the histogram's precision); throughput and
 * round trips per second added (the aggregate); CPU per message the mean of the pairs';
 * and the pairs' own figures, with how much their measured phases overlapped.
 */
export function combinePairs(plan: CasePlan, reps: readonly RepetitionResult[], described: string): RepetitionResult {
  const size = plan.spec.sizeBytes
  const perPair: PairFigures[] = reps.map((r, k) => ({
    pair: k,
    ...(plan.pairs?.placements[k].cpuA !== undefined ? { cpuA: plan.pairs.placements[k].cpuA } : {}),
    ...(plan.pairs?.placements[k].cpuB !== undefined ? { cpuB: plan.pairs.placements[k].cpuB } : {}),
    ...(r.latencyNs ? { latencyNs: { p50: r.latencyNs.p50, p99: r.latencyNs.p99 } } : {}),
    ...(r.throughput ? { throughput: r.throughput } : {}),
  }))
  const rate = (r: RepetitionResult): number => r.throughput?.msgsPerSec ?? r.roundTripsPerSec ?? 0
  const msgsPerSec = reps.reduce((n, r) => n + rate(r), 0)
  const pairsRun: PairsRun = {
    pairs: reps.length,
    placement: described,
    perPair,
    aggregate: { msgsPerSec, bytesPerSec: msgsPerSec * size },
    overlap: overlapOf(reps.map((r) => r.phaseNs)),
  }
  const first = reps[0]
  const rep: RepetitionResult = {
    ...first,
    messages: reps.reduce((n, r) => n + r.messages, 0),
    elapsedNs: Math.max(...reps.map((r) => r.elapsedNs)),
    cpu: meanCost(reps.map((r) => r.cpu)),
    placement: {
      ...first.placement,
      cpusA: [...new Set(reps.flatMap((r) => r.placement.cpusA))],
      cpusB: [...new Set(reps.flatMap((r) => r.placement.cpusB))],
    },
    pairsRun,
  }
  delete rep.phaseNs
  if (first.throughput) rep.throughput = pairsRun.aggregate
  if (first.roundTripsPerSec !== undefined) rep.roundTripsPerSec = msgsPerSec
  const merged = mergedLatency(reps)
  if (merged) {
    rep.latencyNs = merged.latencyNs
    rep.histogram = merged.histogram
  }
  return rep
}

/**
 * The share of the pairs' whole span (first start to last end) that every pair was
 * measuring: 1 when they measured at once, 0 when one ended before another began (or a
 * pair recorded no phase).
 */
export function overlapOf(phases: ReadonlyArray<[number, number] | undefined>): number {
  if (phases.length === 0 || phases.some((p) => p === undefined)) return 0
  const ps = phases as Array<[number, number]>
  const span = Math.max(...ps.map((p) => p[1])) - Math.min(...ps.map((p) => p[0]))
  const common = Math.min(...ps.map((p) => p[1])) - Math.max(...ps.map((p) => p[0]))
  return span > 0 ? Math.max(0, common / span) : 1
}

function mergedLatency(reps: readonly RepetitionResult[]): { latencyNs: LatencyNs; histogram: RepetitionResult['histogram'] } | undefined {
  const lats = reps.flatMap((r) => (r.latencyNs ? [r.latencyNs] : []))
  if (lats.length !== reps.length || reps.some((r) => !r.histogram)) return undefined
  const h = reps.map((r) => decodeHistogram(r.histogram)).reduce(merge)
  const n = lats.reduce((s, l) => s + l.n, 0)
  const mean = lats.reduce((s, l) => s + l.mean * l.n, 0) / n
  // The pooled sd: each pair's spread about its own mean and its mean's distance from the whole's.
  const sd = Math.sqrt(lats.reduce((s, l) => s + l.n * (l.sd ** 2 + (l.mean - mean) ** 2), 0) / n)
  return {
    latencyNs: {
      n,
      min: Math.min(...lats.map((l) => l.min)),
      mean,
      sd,
      p50: percentile(h, 50),
      p90: percentile(h, 90),
      p99: percentile(h, 99),
      p999: percentile(h, 99.9),
      max: Math.max(...lats.map((l) => l.max)),
    },
    histogram: encodeHistogram(h),
  }
}

function meanCost(costs: readonly Cost[]): Cost {
  const mean = <T extends SideCost | CpuTotal>(sides: readonly T[]): T => {
    const avg = (pick: (s: T) => number): number => sides.reduce((n, s) => n + pick(s), 0) / sides.length
    return {
      ...sides[0],
      userUsPerMsg: avg((s) => s.userUsPerMsg),
      sysUsPerMsg: avg((s) => s.sysUsPerMsg),
      voluntaryCtxPerMsg: avg((s) => s.voluntaryCtxPerMsg),
      involuntaryCtxPerMsg: avg((s) => s.involuntaryCtxPerMsg),
    }
  }
  const cost: Cost = { a: mean(costs.map((c) => c.a)), b: mean(costs.map((c) => c.b)) }
  if (costs.every((c) => c.total)) cost.total = mean(costs.map((c) => c.total!))
  return cost
}

/** Several pairs' figures over repetitions: each the median of the repetitions' own, pair by pair. */
export function medianPairs(reps: readonly RepetitionResult[]): PairsRun | undefined {
  const runs = reps.flatMap((r) => (r.pairsRun ? [r.pairsRun] : []))
  if (runs.length === 0) return undefined
  const med = (pick: (p: PairsRun) => number): number => median(runs.map(pick))
  const perPair = runs[0].perPair.map((p, k): PairFigures => {
    const of = (pick: (f: PairFigures) => number | undefined): number | undefined => {
      const xs = runs.flatMap((r) => {
        const v = r.perPair[k] ? pick(r.perPair[k]) : undefined
        return v === undefined ? [] : [v]
      })
      return xs.length > 0 ? median(xs) : undefined
    }
    const p50 = of((f) => f.latencyNs?.p50)
    const p99 = of((f) => f.latencyNs?.p99)
    const msgs = of((f) => f.throughput?.msgsPerSec)
    const bytes = of((f) => f.throughput?.bytesPerSec)
    return {
      pair: k,
      ...(p.cpuA !== undefined ? { cpuA: p.cpuA } : {}),
      ...(p.cpuB !== undefined ? { cpuB: p.cpuB } : {}),
      ...(p50 !== undefined && p99 !== undefined ? { latencyNs: { p50, p99 } } : {}),
      ...(msgs !== undefined && bytes !== undefined ? { throughput: { msgsPerSec: msgs, bytesPerSec: bytes } } : {}),
    }
  })
  return {
    pairs: runs[0].pairs,
    placement: runs[0].placement,
    perPair,
    aggregate: { msgsPerSec: med((p) => p.aggregate.msgsPerSec), bytesPerSec: med((p) => p.aggregate.bytesPerSec) },
    overlap: med((p) => p.overlap),
  }
}

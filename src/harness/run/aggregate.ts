import type { Cost, Figures, Pattern, RepetitionResult, SideCost, Spread } from '../../core/result.js'
import { cvPct, median, summarizeNs } from '../../core/stats.js'
import { warning, type Warning } from '../../core/warnings.js'

/** A repetition figure varying more than this (cv, percent) across repetitions is flagged as noisy. */
export const NOISY_CV_PCT = 15
/** A repetition with fewer measured messages than this is flagged. */
export const FEW_MESSAGES = 100

/**
 * A case's figures from its repetitions, the same for the Node run and the C floor:
 * latency pooled over every repetition's samples (ping-pong), the median of the
 * per-repetition throughput (stream), the median CPU per side, the spread of the
 * per-repetition figure, and what about them deserves a warning. Pure.
 */
export function aggregate(
  pattern: Pattern,
  reps: readonly RepetitionResult[],
  pooled: readonly Float64Array[],
): { figures: Figures; warnings: Warning[] } {
  const figures: Figures = {}
  const warnings: Warning[] = []
  if (reps.length === 0) return { figures, warnings }
  if (pattern === 'pingpong') {
    const total = pooled.reduce((n, s) => n + s.length, 0)
    const all = new Float64Array(total)
    let off = 0
    for (const s of pooled) {
      all.set(s, off)
      off += s.length
    }
    if (total > 0) figures.latencyNs = summarizeNs(all)
    const batch = Math.max(...reps.map((r) => r.batch))
    figures.timing =
      batch > 1
        ? `batches of ${batch} round trips, each sample the batch mean (a round trip is too short to time alone)`
        : 'each sample one round trip'
    const p50s = reps.flatMap((r) => (r.latencyNs ? [r.latencyNs.p50] : []))
    if (p50s.length > 0) figures.spread = spreadOf('latencyNs.p50', p50s)
  } else {
    const tputs = reps.flatMap((r) => (r.throughput ? [r.throughput] : []))
    if (tputs.length > 0) {
      figures.throughput = { bytesPerSec: median(tputs.map((t) => t.bytesPerSec)), msgsPerSec: median(tputs.map((t) => t.msgsPerSec)) }
      figures.spread = spreadOf(
        'throughput.bytesPerSec',
        tputs.map((t) => t.bytesPerSec),
      )
    }
    figures.timing = 'receiver side, from the last warm-up message to the end of the stream'
  }
  figures.cpu = medianCost(reps)
  if (figures.spread && figures.spread.cvPct > NOISY_CV_PCT && reps.length > 1) {
    warnings.push(
      warning('noisy', `noisy: the per-repetition figure varies ${figures.spread.cvPct.toFixed(0)}% (cv) across ${reps.length} repetitions`),
    )
  }
  const small = reps.filter((r) => r.messages < FEW_MESSAGES)
  if (small.length > 0)
    warnings.push(warning('few-messages', `only ${Math.min(...small.map((r) => r.messages))} messages measured in a repetition; raise --duration`))
  return { figures, warnings }
}

function spreadOf(metric: Spread['metric'], values: number[]): Spread {
  return { metric, min: Math.min(...values), median: median(values), max: Math.max(...values), cvPct: cvPct(values) }
}

function medianCost(reps: readonly RepetitionResult[]): Cost {
  const side = (pick: (r: RepetitionResult) => SideCost): SideCost => ({
    userUsPerMsg: median(reps.map((r) => pick(r).userUsPerMsg)),
    sysUsPerMsg: median(reps.map((r) => pick(r).sysUsPerMsg)),
    voluntaryCtxPerMsg: median(reps.map((r) => pick(r).voluntaryCtxPerMsg)),
    involuntaryCtxPerMsg: median(reps.map((r) => pick(r).involuntaryCtxPerMsg)),
    scope: pick(reps[0]).scope,
  })
  return { a: side((r) => r.cpu.a), b: side((r) => r.cpu.b) }
}

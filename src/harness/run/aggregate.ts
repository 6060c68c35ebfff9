import {
  RATE_KEPT,
  type Cost,
  type CpuTotal,
  type FanIn,
  type FanInSender,
  type Figures,
  type Load,
  type Pattern,
  type RepetitionResult,
  type SideCost,
  type Spread,
} from '../../core/result.js'
import { cvPct, median } from '../../core/stats.js'
import { warning, type Warning } from '../../core/warnings.js'
import { medianPairs } from './pairs-repetition.js'

/** A repetition figure varying more than this (cv, percent) across repetitions is flagged as noisy. */
export const NOISY_CV_PCT = 15
/** Several pairs whose measured phases overlapped less than this share of their span are flagged. */
export const MIN_OVERLAP = 0.9
/** A repetition with fewer measured messages than this is flagged. */
export const FEW_MESSAGES = 100

/**
 * A case's figures from its repetitions, the same for the Node run and the C floor.
 * Every repetition weighs the same, however many samples its time bound let it take
 * (on a bistable host a fast repetition takes several times the samples of a slow
 * one, and pooling would lean to it): a latency percentile, the mean and the sd are
 * the median over repetitions of each repetition's own, min and max the least and
 * largest; throughput, round trips per second and CPU are medians over repetitions;
 * the spread is the per-repetition figure's min, median, max and cv. Pure.
 */
export function aggregate(pattern: Pattern, reps: readonly RepetitionResult[]): { figures: Figures; warnings: Warning[] } {
  const figures: Figures = {}
  const warnings: Warning[] = []
  if (reps.length === 0) return { figures, warnings }
  if (pattern === 'pingpong' || pattern === 'oneway' || pattern === 'load') {
    const lat = reps.flatMap((r) => (r.latencyNs ? [r.latencyNs] : []))
    if (lat.length > 0) {
      const med = (k: 'mean' | 'sd' | 'p50' | 'p90' | 'p99' | 'p999'): number => median(lat.map((l) => l[k]))
      figures.latencyNs = {
        n: lat.reduce((n, l) => n + l.n, 0),
        min: Math.min(...lat.map((l) => l.min)),
        mean: med('mean'),
        sd: med('sd'),
        p50: med('p50'),
        p90: med('p90'),
        p99: med('p99'),
        p999: med('p999'),
        max: Math.max(...lat.map((l) => l.max)),
      }
      figures.spread = spreadOf(
        'latencyNs.p50',
        lat.map((l) => l.p50),
      )
    }
    const rates = reps.flatMap((r) => (r.roundTripsPerSec ? [r.roundTripsPerSec] : []))
    if (rates.length > 0) figures.roundTripsPerSec = median(rates)
    figures.timing = TIMING[pattern]
    const oneWay = reps.flatMap((r) => (r.oneWay ? [r.oneWay] : []))
    if (oneWay.length > 0) {
      const roundTripP50Ns = median(oneWay.map((w) => w.roundTripP50Ns))
      figures.oneWay = { roundTripP50Ns, p50OverRoundTrip: figures.latencyNs && roundTripP50Ns > 0 ? figures.latencyNs.p50 / roundTripP50Ns : 0 }
    }
    const loads = reps.flatMap((r) => (r.load ? [r.load] : []))
    if (loads.length > 0) {
      const med = (pick: (l: Load) => number): number => median(loads.map(pick))
      figures.load = {
        ...loads[0],
        achievedMsgsPerSec: med((l) => l.achievedMsgsPerSec),
        achievedOverOffered: med((l) => l.achievedOverOffered),
        cpuUsPerMsg: med((l) => l.cpuUsPerMsg),
      }
      if (figures.load.achievedOverOffered < RATE_KEPT)
        warnings.push(
          warning(
            'rate-not-kept',
            `the sender kept ${(figures.load.achievedOverOffered * 100).toFixed(1)}% of the offered ${Math.round(figures.load.offeredMsgsPerSec)} msg/s: the channel (or the sender) cannot carry this rate, so its latencies are a growing queue`,
          ),
        )
    }
  } else {
    const tputs = reps.flatMap((r) => (r.throughput ? [r.throughput] : []))
    if (tputs.length > 0) {
      figures.throughput = { bytesPerSec: median(tputs.map((t) => t.bytesPerSec)), msgsPerSec: median(tputs.map((t) => t.msgsPerSec)) }
      figures.spread = spreadOf(
        'throughput.bytesPerSec',
        tputs.map((t) => t.bytesPerSec),
      )
    }
    figures.timing =
      pattern === 'fanin'
        ? "receiver side, from the first message's receipt to the last's, every sender sending at once; latency one way, from the send time each message carries"
        : 'receiver side, from its echo of the last warm-up message (the warm-up drained) to the end of the stream'
    const fan = medianFanIn(reps)
    if (fan) figures.fanIn = fan
  }
  figures.cpu = medianCost(reps)
  const pairs = medianPairs(reps)
  if (pairs) {
    figures.pairsRun = pairs
    if (pairs.overlap < MIN_OVERLAP)
      warnings.push(
        warning(
          'pairs-apart',
          `the ${pairs.pairs} pairs measured at once for only ${(pairs.overlap * 100).toFixed(0)}% of their span (a pair started late or ended early): the aggregate overstates what they sustain together`,
        ),
      )
  }
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

const EACH_THE_MEDIAN = "each figure the median over repetitions of the repetition's own"
const TIMING: Record<'pingpong' | 'oneway' | 'load', string> = {
  pingpong: `each sample one round trip (one clock read per round trip); ${EACH_THE_MEDIAN}`,
  oneway:
    `each sample one message a to b: the receiver's clock read on receipt less the sender's just before its send (CLOCK_MONOTONIC), ` +
    `each message acknowledged before the next; ${EACH_THE_MEDIAN}`,
  load:
    `each sample one message: its receipt less its scheduled send time (coordinated omission corrected: a late send counts its lateness); ` +
    EACH_THE_MEDIAN,
}

/**
 * Fan-in figures over repetitions, sender by sender: each figure the median of the
 * repetitions' own (counts and fairness too), the max the largest.
 */
export function medianFanIn(reps: readonly RepetitionResult[]): FanIn | undefined {
  const fans = reps.flatMap((r) => (r.fanIn ? [r.fanIn] : []))
  if (fans.length === 0) return undefined
  const med = (pick: (f: FanIn) => number): number => median(fans.map(pick))
  const perSender: FanInSender[] = fans[0].perSender.map((_, k) => {
    const of = (pick: (s: FanInSender) => number): number => median(fans.map((f) => pick(f.perSender[k])))
    return {
      sender: k,
      sent: of((s) => s.sent),
      received: of((s) => s.received),
      latencyNs: {
        p50: of((s) => s.latencyNs.p50),
        p90: of((s) => s.latencyNs.p90),
        p99: of((s) => s.latencyNs.p99),
        max: Math.max(...fans.map((f) => f.perSender[k].latencyNs.max)),
      },
      cpuUsPerMsg: of((s) => s.cpuUsPerMsg),
    }
  })
  return {
    senders: fans[0].senders,
    reorderedBetweenSenders: med((f) => f.reorderedBetweenSenders),
    receiverCpuUsPerMsg: med((f) => f.receiverCpuUsPerMsg),
    perSender,
    fairness: { p50Ratio: med((f) => f.fairness.p50Ratio), minShareOfEven: med((f) => f.fairness.minShareOfEven) },
  }
}

function spreadOf(metric: Spread['metric'], values: number[]): Spread {
  return { metric, min: Math.min(...values), median: median(values), max: Math.max(...values), cvPct: cvPct(values) }
}

function medianCost(reps: readonly RepetitionResult[]): Cost {
  const per = <T extends SideCost | CpuTotal>(pick: (r: RepetitionResult) => T): Omit<T, 'scope'> & { scope: T['scope'] } => ({
    ...pick(reps[0]),
    userUsPerMsg: median(reps.map((r) => pick(r).userUsPerMsg)),
    sysUsPerMsg: median(reps.map((r) => pick(r).sysUsPerMsg)),
    voluntaryCtxPerMsg: median(reps.map((r) => pick(r).voluntaryCtxPerMsg)),
    involuntaryCtxPerMsg: median(reps.map((r) => pick(r).involuntaryCtxPerMsg)),
  })
  const cost: Cost = { a: per((r) => r.cpu.a), b: per((r) => r.cpu.b) }
  if (reps.every((r) => r.cpu.total)) cost.total = per((r) => r.cpu.total!)
  return cost
}

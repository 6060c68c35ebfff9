import { describe, expect, it } from 'vitest'
import type { CpuTotal, RepetitionResult, SideCost } from '../src/core/result.js'
import { summarizeNs } from '../src/core/stats.js'
import { aggregate, FEW_MESSAGES, NOISY_CV_PCT } from '../src/harness/run/aggregate.js'

/** aggregate() on repetitions built by hand: exact figures from small inputs. */
const side = (userUsPerMsg: number, scope: SideCost['scope'] = 'process'): SideCost => ({
  userUsPerMsg,
  sysUsPerMsg: userUsPerMsg / 2,
  voluntaryCtxPerMsg: 1,
  involuntaryCtxPerMsg: 0,
  scope,
})

const total = (userUsPerMsg: number, scope: CpuTotal['scope'] = 'both processes'): CpuTotal => ({
  userUsPerMsg,
  sysUsPerMsg: userUsPerMsg * 2,
  voluntaryCtxPerMsg: userUsPerMsg / 10,
  involuntaryCtxPerMsg: 0,
  scope,
})

function rep(
  index: number,
  o: Partial<RepetitionResult> & { p50?: number; samples?: number[]; bytesPerSec?: number; userA?: number; userB?: number; total?: CpuTotal } = {},
): RepetitionResult {
  const r: RepetitionResult = {
    index,
    messages: o.messages ?? 1000,
    elapsedNs: 1e6,
    batch: 1,
    cpu: { a: side(o.userA ?? 1, 'thread'), b: side(o.userB ?? 2) },
    placement: { requested: 'none', applied: 'none', cpusA: [0], cpusB: [1] },
  }
  if (o.total) r.cpu.total = o.total
  if (o.samples) r.latencyNs = summarizeNs(o.samples)
  if (o.p50 !== undefined) r.latencyNs = { ...summarizeNs([o.p50]), p50: o.p50 }
  if (o.roundTripsPerSec !== undefined) r.roundTripsPerSec = o.roundTripsPerSec
  if (o.bytesPerSec !== undefined) r.throughput = { bytesPerSec: o.bytesPerSec, msgsPerSec: o.bytesPerSec / 64 }
  return r
}

const filled = (n: number, v: number): number[] => new Array<number>(n).fill(v)

describe('aggregate, ping-pong: every repetition weighs the same', () => {
  it('percentiles, mean and sd are the median of the repetitions’ own; min the least, max the largest, n the sum', () => {
    const reps = [
      // n 5, mean 30, p50 30, p90 50, sd √250
      rep(0, { samples: [50, 10, 40, 20, 30] }),
      // n 5, mean 80, p50 80, p90 100, sd √250
      rep(1, { samples: [100, 60, 90, 70, 80] }),
      // n 3, mean 5, p50 5, p90 9, sd 4
      rep(2, { samples: [1, 5, 9] }),
    ]
    const { figures } = aggregate('pingpong', reps)
    expect(figures.latencyNs).toEqual({ n: 13, min: 1, mean: 30, sd: Math.sqrt(250), p50: 30, p90: 50, p99: 50, p999: 50, max: 100 })
    expect(figures.spread).toEqual({ metric: 'latencyNs.p50', min: 5, median: 30, max: 80, cvPct: expect.any(Number) })
  })

  it('a fast repetition with many samples does not outvote a slow one with few (pooling would)', () => {
    // 9000 samples of 500 ns and 1000 of 1500 ns: pooled, p50 would be 500 and the mean 600.
    const { figures } = aggregate('pingpong', [rep(0, { samples: filled(9000, 500) }), rep(1, { samples: filled(1000, 1500) })])
    expect(figures.latencyNs).toEqual({ n: 10_000, min: 500, mean: 1000, sd: 0, p50: 1000, p90: 1000, p99: 1000, p999: 1000, max: 1500 })
  })

  it('rare spikes stay in the tail: 0.5 µs round trips with five 50 µs ones give p99 500 and max 50000', () => {
    const samples = filled(10_000, 500)
    for (const k of [1000, 3000, 5000, 7000, 9000]) samples[k] = 50_000
    const { figures } = aggregate('pingpong', [rep(0, { samples })])
    expect(figures.latencyNs).toMatchObject({ n: 10_000, min: 500, p50: 500, p90: 500, p99: 500, p999: 500, max: 50_000, mean: 524.75 })
    // What the old batch-of-16 means made of the same round trips: no sample near the 50 µs that happened.
    const means = Array.from({ length: 625 }, (_, b) => samples.slice(16 * b, 16 * b + 16).reduce((x, y) => x + y, 0) / 16)
    expect(summarizeNs(means).max).toBe(3593.75)
  })

  it('round trips per second is the median of the repetitions’ own (measured, not 1e9 / mean)', () => {
    const reps = [
      rep(0, { p50: 1, roundTripsPerSec: 1000 }),
      rep(1, { p50: 1, roundTripsPerSec: 3000 }),
      rep(2, { p50: 1, roundTripsPerSec: 2000 }),
      rep(3, { p50: 1, roundTripsPerSec: 2500 }),
    ]
    expect(aggregate('pingpong', reps).figures.roundTripsPerSec).toBe(2250)
    expect(aggregate('pingpong', [rep(0, { p50: 1 })]).figures).not.toHaveProperty('roundTripsPerSec')
  })

  it('spread is min, median, max and cv of the per-repetition p50', () => {
    const { figures, warnings } = aggregate('pingpong', [rep(0, { p50: 100 }), rep(1, { p50: 120 }), rep(2, { p50: 110 })])
    expect(figures.spread).toEqual({ metric: 'latencyNs.p50', min: 100, median: 110, max: 120, cvPct: (10 / 110) * 100 })
    expect(warnings).toEqual([])
  })

  it('median CPU per side, with the scope of each side; no total when the repetitions have none (run@1)', () => {
    const reps = [rep(0, { p50: 1, userA: 1, userB: 9 }), rep(1, { p50: 1, userA: 5, userB: 3 }), rep(2, { p50: 1, userA: 3, userB: 6 })]
    const { figures } = aggregate('pingpong', reps)
    expect(figures.cpu).toEqual({
      a: { userUsPerMsg: 3, sysUsPerMsg: 1.5, voluntaryCtxPerMsg: 1, involuntaryCtxPerMsg: 0, scope: 'thread' },
      b: { userUsPerMsg: 6, sysUsPerMsg: 3, voluntaryCtxPerMsg: 1, involuntaryCtxPerMsg: 0, scope: 'process' },
    })
  })

  it('the total CPU is the median of the repetitions’ totals, with their scope, when every repetition has one', () => {
    const reps = [
      rep(0, { p50: 1, total: total(10, 'whole process') }),
      rep(1, { p50: 1, total: total(30, 'whole process') }),
      rep(2, { p50: 1, total: total(20, 'whole process') }),
    ]
    expect(aggregate('pingpong', reps).figures.cpu?.total).toEqual({
      userUsPerMsg: 20,
      sysUsPerMsg: 40,
      voluntaryCtxPerMsg: 2,
      involuntaryCtxPerMsg: 0,
      scope: 'whole process',
    })
    const partly = [rep(0, { p50: 1, total: total(10) }), rep(1, { p50: 1 })]
    expect(aggregate('pingpong', partly).figures.cpu).not.toHaveProperty('total')
  })

  it('timing says one clock read per round trip and how the repetitions are combined', () => {
    expect(aggregate('pingpong', [rep(0, { p50: 1 })]).figures.timing).toBe(
      "each sample one round trip (one clock read per round trip); each figure the median over repetitions of the repetition's own",
    )
  })

  it(`'noisy' above ${NOISY_CV_PCT}% cv across repetitions, not below it`, () => {
    const noisy = aggregate('pingpong', [rep(0, { p50: 100 }), rep(1, { p50: 150 }), rep(2, { p50: 200 })])
    expect(noisy.figures.spread?.cvPct).toBeCloseTo(33.333, 3)
    expect(noisy.warnings).toEqual([{ code: 'noisy', message: 'noisy: the per-repetition figure varies 33% (cv) across 3 repetitions' }])
    // cv of 100 and 122: 14.3%.
    const calm = aggregate('pingpong', [rep(0, { p50: 100 }), rep(1, { p50: 122 })])
    expect(calm.figures.spread!.cvPct).toBeLessThan(NOISY_CV_PCT)
    expect(calm.figures.spread!.cvPct).toBeGreaterThan(14)
    expect(calm.warnings.map((w) => w.code)).toEqual([])
  })

  it(`'few-messages' when a repetition measured under ${FEW_MESSAGES} messages, naming the fewest`, () => {
    const few = aggregate('pingpong', [rep(0, { p50: 1, messages: 99 }), rep(1, { p50: 1, messages: 40 }), rep(2, { p50: 1, messages: 5000 })])
    expect(few.warnings).toEqual([{ code: 'few-messages', message: 'only 40 messages measured in a repetition; raise --duration' }])
    const enough = aggregate('pingpong', [rep(0, { p50: 1, messages: FEW_MESSAGES })])
    expect(enough.warnings).toEqual([])
  })

  it('no samples in any repetition: no latency figures and no spread, the rest still there', () => {
    const { figures } = aggregate('pingpong', [rep(0), rep(1)])
    expect(figures.latencyNs).toBeUndefined()
    expect(figures.spread).toBeUndefined()
    expect(figures.cpu).toBeDefined()
    expect(figures.timing).toBeDefined()
  })

  it('a repetition without samples does not count towards the latency figures', () => {
    const { figures } = aggregate('pingpong', [rep(0, { samples: [10, 20, 30] }), rep(1)])
    expect(figures.latencyNs).toMatchObject({ n: 3, min: 10, p50: 20, max: 30 })
  })

  it('no repetitions: nothing at all', () => {
    expect(aggregate('pingpong', [])).toEqual({ figures: {}, warnings: [] })
    expect(aggregate('stream', [])).toEqual({ figures: {}, warnings: [] })
  })
})

describe('aggregate, stream', () => {
  it('throughput is the median of the repetitions, spread over bytes/s, no latency', () => {
    const reps = [rep(0, { bytesPerSec: 6400 }), rep(1, { bytesPerSec: 19200 }), rep(2, { bytesPerSec: 12800 })]
    const { figures, warnings } = aggregate('stream', reps)
    expect(figures.throughput).toEqual({ bytesPerSec: 12800, msgsPerSec: 200 })
    expect(figures.spread).toEqual({ metric: 'throughput.bytesPerSec', min: 6400, median: 12800, max: 19200, cvPct: 50 })
    expect(figures.latencyNs).toBeUndefined()
    expect(figures.roundTripsPerSec).toBeUndefined()
    expect(figures.timing).toBe('receiver side, from its echo of the last warm-up message (the warm-up drained) to the end of the stream')
    expect(warnings).toEqual([{ code: 'noisy', message: 'noisy: the per-repetition figure varies 50% (cv) across 3 repetitions' }])
  })

  it('an even number of repetitions takes the mean of the middle two', () => {
    const reps = [rep(0, { bytesPerSec: 640 }), rep(1, { bytesPerSec: 704 }), rep(2, { bytesPerSec: 768 }), rep(3, { bytesPerSec: 6400 })]
    expect(aggregate('stream', reps).figures.throughput).toEqual({ bytesPerSec: 736, msgsPerSec: 11.5 })
  })

  it('the total CPU per message is the median of the repetitions’ totals', () => {
    const reps = [rep(0, { bytesPerSec: 1, total: total(4, 'both threads') }), rep(1, { bytesPerSec: 1, total: total(2, 'both threads') })]
    const t = aggregate('stream', reps).figures.cpu?.total
    expect(t).toEqual({ userUsPerMsg: 3, sysUsPerMsg: 6, voluntaryCtxPerMsg: expect.any(Number), involuntaryCtxPerMsg: 0, scope: 'both threads' })
    expect(t!.voluntaryCtxPerMsg).toBeCloseTo(0.3, 12)
  })

  it('one repetition is never noisy', () => {
    expect(aggregate('stream', [rep(0, { bytesPerSec: 1 })]).warnings).toEqual([])
  })
})

import { describe, expect, it } from 'vitest'
import type { RepetitionResult, SideCost } from '../src/core/result.js'
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

function rep(
  index: number,
  o: Partial<RepetitionResult> & { p50?: number; bytesPerSec?: number; userA?: number; userB?: number } = {},
): RepetitionResult {
  const r: RepetitionResult = {
    index,
    messages: o.messages ?? 1000,
    elapsedNs: 1e6,
    batch: o.batch ?? 1,
    cpu: { a: side(o.userA ?? 1, 'thread'), b: side(o.userB ?? 2) },
    placement: { requested: 'none', applied: 'none', cpusA: [0], cpusB: [1] },
  }
  if (o.p50 !== undefined) r.latencyNs = { ...summarizeNs([o.p50]), p50: o.p50 }
  if (o.bytesPerSec !== undefined) r.throughput = { bytesPerSec: o.bytesPerSec, msgsPerSec: o.bytesPerSec / 64 }
  return r
}

const f64 = (...v: number[]) => Float64Array.from(v)

describe('aggregate, ping-pong', () => {
  it('pools every repetition’s samples for the percentiles (nearest rank)', () => {
    const { figures } = aggregate('pingpong', [rep(0, { p50: 30 }), rep(1, { p50: 80 })], [f64(50, 10, 40, 20, 30), f64(100, 60, 90, 70, 80)])
    const { sd, ...rest } = figures.latencyNs!
    expect(rest).toEqual({ n: 10, min: 10, mean: 55, p50: 50, p90: 90, p99: 100, p999: 100, max: 100 })
    // Sample sd of 10, 20, …, 100.
    expect(sd).toBeCloseTo(Math.sqrt(8250 / 9), 9)
  })

  it('the percentiles are the pooled ones, not the median of the repetitions’ percentiles', () => {
    // 1000 samples: 999 of 1 ns and one of 1000 ns, split unevenly over two repetitions.
    const a = new Float64Array(900).fill(1)
    const b = new Float64Array(100).fill(1)
    b[99] = 1000
    const { figures } = aggregate('pingpong', [rep(0, { p50: 1 }), rep(1, { p50: 1 })], [a, b])
    expect(figures.latencyNs).toMatchObject({ n: 1000, p50: 1, p99: 1, p999: 1, max: 1000 })
  })

  it('spread is min, median, max and cv of the per-repetition p50', () => {
    const { figures, warnings } = aggregate('pingpong', [rep(0, { p50: 100 }), rep(1, { p50: 120 }), rep(2, { p50: 110 })], [f64(1)])
    expect(figures.spread).toEqual({ metric: 'latencyNs.p50', min: 100, median: 110, max: 120, cvPct: (10 / 110) * 100 })
    expect(warnings).toEqual([])
  })

  it('median CPU per side, with the scope of each side', () => {
    const reps = [rep(0, { p50: 1, userA: 1, userB: 9 }), rep(1, { p50: 1, userA: 5, userB: 3 }), rep(2, { p50: 1, userA: 3, userB: 6 })]
    const { figures } = aggregate('pingpong', reps, [f64(1)])
    expect(figures.cpu).toEqual({
      a: { userUsPerMsg: 3, sysUsPerMsg: 1.5, voluntaryCtxPerMsg: 1, involuntaryCtxPerMsg: 0, scope: 'thread' },
      b: { userUsPerMsg: 6, sysUsPerMsg: 3, voluntaryCtxPerMsg: 1, involuntaryCtxPerMsg: 0, scope: 'process' },
    })
  })

  it('timing says so when samples are batch means (the largest batch of any repetition)', () => {
    expect(aggregate('pingpong', [rep(0, { p50: 1 })], [f64(1)]).figures.timing).toBe('each sample one round trip')
    const batched = aggregate('pingpong', [rep(0, { p50: 1, batch: 16 }), rep(1, { p50: 1, batch: 64 })], [f64(1)])
    expect(batched.figures.timing).toBe('batches of 64 round trips, each sample the batch mean (a round trip is too short to time alone)')
  })

  it(`'noisy' above ${NOISY_CV_PCT}% cv across repetitions, not below it`, () => {
    const noisy = aggregate('pingpong', [rep(0, { p50: 100 }), rep(1, { p50: 150 }), rep(2, { p50: 200 })], [f64(1)])
    expect(noisy.figures.spread?.cvPct).toBeCloseTo(33.333, 3)
    expect(noisy.warnings).toEqual([{ code: 'noisy', message: 'noisy: the per-repetition figure varies 33% (cv) across 3 repetitions' }])
    // cv of 100 and 122: 14.3%.
    const calm = aggregate('pingpong', [rep(0, { p50: 100 }), rep(1, { p50: 122 })], [f64(1)])
    expect(calm.figures.spread!.cvPct).toBeLessThan(NOISY_CV_PCT)
    expect(calm.figures.spread!.cvPct).toBeGreaterThan(14)
    expect(calm.warnings.map((w) => w.code)).toEqual([])
  })

  it(`'few-messages' when a repetition measured under ${FEW_MESSAGES} messages, naming the fewest`, () => {
    const few = aggregate(
      'pingpong',
      [rep(0, { p50: 1, messages: 99 }), rep(1, { p50: 1, messages: 40 }), rep(2, { p50: 1, messages: 5000 })],
      [f64(1)],
    )
    expect(few.warnings).toEqual([{ code: 'few-messages', message: 'only 40 messages measured in a repetition; raise --duration' }])
    const enough = aggregate('pingpong', [rep(0, { p50: 1, messages: FEW_MESSAGES })], [f64(1)])
    expect(enough.warnings).toEqual([])
  })

  it('no samples: no latency figures, the rest still there', () => {
    const { figures } = aggregate('pingpong', [rep(0, { p50: 7 })], [])
    expect(figures.latencyNs).toBeUndefined()
    expect(figures.spread).toMatchObject({ min: 7, max: 7, cvPct: 0 })
    expect(figures.cpu).toBeDefined()
  })

  it('no repetitions: nothing at all', () => {
    expect(aggregate('pingpong', [], [])).toEqual({ figures: {}, warnings: [] })
    expect(aggregate('stream', [], [])).toEqual({ figures: {}, warnings: [] })
  })
})

describe('aggregate, stream', () => {
  it('throughput is the median of the repetitions, spread over bytes/s, no latency', () => {
    const reps = [rep(0, { bytesPerSec: 6400 }), rep(1, { bytesPerSec: 19200 }), rep(2, { bytesPerSec: 12800 })]
    const { figures, warnings } = aggregate('stream', reps, [])
    expect(figures.throughput).toEqual({ bytesPerSec: 12800, msgsPerSec: 200 })
    expect(figures.spread).toEqual({ metric: 'throughput.bytesPerSec', min: 6400, median: 12800, max: 19200, cvPct: 50 })
    expect(figures.latencyNs).toBeUndefined()
    expect(figures.timing).toBe('receiver side, from the last warm-up message to the end of the stream')
    expect(warnings).toEqual([{ code: 'noisy', message: 'noisy: the per-repetition figure varies 50% (cv) across 3 repetitions' }])
  })

  it('an even number of repetitions takes the mean of the middle two', () => {
    const reps = [rep(0, { bytesPerSec: 640 }), rep(1, { bytesPerSec: 704 }), rep(2, { bytesPerSec: 768 }), rep(3, { bytesPerSec: 6400 })]
    expect(aggregate('stream', reps, []).figures.throughput).toEqual({ bytesPerSec: 736, msgsPerSec: 11.5 })
  })

  it('one repetition is never noisy', () => {
    expect(aggregate('stream', [rep(0, { bytesPerSec: 1 })], []).warnings).toEqual([])
  })
})

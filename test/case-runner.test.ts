import { describe, expect, it } from 'vitest'
import type { CaseError, CaseResult, CaseSpec, CompletedCase, ErroredCase, Pattern, RepetitionResult } from '../src/core/result.js'
import { summarizeNs } from '../src/core/stats.js'
import { warning, type Warning } from '../src/core/warnings.js'
import type { CasePlan } from '../src/harness/plan/case-plan.js'
import { earlyStopMinimum, EARLY_STOP_MIN, runCase, runConfigurations } from '../src/harness/run/case-runner.js'
import type { RepetitionExecutor, RepOutcome } from '../src/harness/run/executor.js'

/**
 * runCase with fake executors that return canned outcomes and record when they were
 * asked: the order of floor and Node repetitions, how a failure of either ends what,
 * and the figures put together from what they returned.
 */
function planFor(pattern: Pattern, warnings: Warning[] = []): CasePlan {
  const spec: CaseSpec = {
    id: `pipe/blocking/process/${pattern}/64B`,
    mechanism: 'pipe',
    mode: 'blocking',
    endpoints: 'process',
    pattern,
    sizeBytes: 64,
  }
  return {
    spec,
    loop: { sizeBytes: 64, warmup: 20, durationMs: 20, maxMessages: 200, targetSamples: 0, minWindowMs: 10 },
    placement: { requested: 'none', applied: 'none' },
    timeoutMs: 1000,
    warnings,
  }
}

const zeroCost = { userUsPerMsg: 0, sysUsPerMsg: 0, voluntaryCtxPerMsg: 0, involuntaryCtxPerMsg: 0, scope: 'process' as const }

/** A successful repetition: ping-pong with these samples, or a stream at this rate. */
function ok(index: number, o: { samples?: number[]; bytesPerSec?: number; warnings?: Warning[]; describe?: Record<string, string> }): RepOutcome {
  const samples = Float64Array.from(o.samples ?? [])
  const rep: RepetitionResult = {
    index,
    messages: 1000,
    elapsedNs: 1e6,
    batch: 1,
    cpu: { a: { ...zeroCost }, b: { ...zeroCost } },
    placement: { requested: 'none', applied: 'none', cpusA: [0], cpusB: [1] },
  }
  if (samples.length > 0) rep.latencyNs = summarizeNs(samples)
  if (o.bytesPerSec !== undefined) rep.throughput = { bytesPerSec: o.bytesPerSec, msgsPerSec: o.bytesPerSec / 64 }
  return { ok: true, rep, describe: o.describe ?? { io: 'fake' }, warnings: o.warnings ?? [] }
}

const failed = (state: 'errored' | 'skipped' | 'aborted', error: CaseError): RepOutcome => ({ ok: false, state, error })

/** An executor answering repetition i with outcome(i), recording each call in `log`. */
function fake(name: 'node' | 'floor', log: string[], outcome: (i: number) => RepOutcome, unsupported?: string): RepetitionExecutor {
  return {
    name,
    ...(unsupported !== undefined ? { unsupported: () => unsupported } : {}),
    async run(_plan, i) {
      log.push(`${name} ${i}`)
      return outcome(i)
    },
  }
}

const nodePing = (i: number) => ok(i, { samples: [200, 200, 200] })
const floorPing = (i: number) => ok(i, { samples: [50, 50, 50], describe: { channel: 'pipe(2)' } })

function completed(c: CaseResult): CompletedCase {
  expect(c.state, 'reason' in c ? c.reason : '').toBe('completed')
  return c as CompletedCase
}

describe('runCase: order', () => {
  it('runs the floor repetition before each Node repetition', async () => {
    const log: string[] = []
    const c = completed(
      await runCase(
        planFor('pingpong'),
        { repetitions: 3, subtractOverhead: false },
        { node: fake('node', log, nodePing), floor: fake('floor', log, floorPing) },
      ),
    )
    expect(log).toEqual(['floor 0', 'node 0', 'floor 1', 'node 1', 'floor 2', 'node 2'])
    expect(c.repetitions.map((r) => r.index)).toEqual([0, 1, 2])
    expect(c.floor).toMatchObject({ state: 'completed', describe: { channel: 'pipe(2)' } })
    expect(c.floor!.repetitions).toHaveLength(3)
    expect(c.describe).toEqual({ io: 'fake' })
  })

  it('without a floor executor there is no floor and no ratio', async () => {
    const log: string[] = []
    const c = completed(await runCase(planFor('pingpong'), { repetitions: 2, subtractOverhead: false }, { node: fake('node', log, nodePing) }))
    expect(log).toEqual(['node 0', 'node 1'])
    expect(c.floor).toBeUndefined()
    expect(c.ratioToFloor).toBeUndefined()
  })
})

describe('runCase: the floor failing ends only the floor', () => {
  it.each(['skipped', 'errored'] as const)('a floor %s at repetition 1: not asked again, the case completes, no ratio', async (state) => {
    const log: string[] = []
    const floor = fake('floor', log, (i) => (i === 1 ? failed(state, { message: `floor ${state} here` }) : floorPing(i)))
    const c = completed(await runCase(planFor('pingpong'), { repetitions: 3, subtractOverhead: false }, { node: fake('node', log, nodePing), floor }))
    expect(log).toEqual(['floor 0', 'node 0', 'floor 1', 'node 1', 'node 2'])
    expect(c.repetitions).toHaveLength(3)
    expect(c.floor).toMatchObject({ state, reason: `floor ${state} here` })
    expect(c.floor!.repetitions).toHaveLength(1)
    expect(c.ratioToFloor).toBeUndefined()
  })

  it('a floor failing at its first repetition leaves a floor with the state, the reason and no repetitions', async () => {
    const log: string[] = []
    const floor = fake('floor', log, () => failed('errored', { message: 'ipcfloor: exit code 3' }))
    const c = completed(await runCase(planFor('pingpong'), { repetitions: 2, subtractOverhead: false }, { node: fake('node', log, nodePing), floor }))
    expect(log).toEqual(['floor 0', 'node 0', 'node 1'])
    expect(c.floor).toEqual({ state: 'errored', reason: 'ipcfloor: exit code 3', repetitions: [] })
    expect(c.ratioToFloor).toBeUndefined()
  })

  it('unsupported() skips the floor without ever calling run', async () => {
    const log: string[] = []
    const floor = fake('floor', log, floorPing, 'no C counterpart of this mechanism')
    const c = completed(await runCase(planFor('pingpong'), { repetitions: 2, subtractOverhead: false }, { node: fake('node', log, nodePing), floor }))
    expect(log).toEqual(['node 0', 'node 1'])
    expect(c.floor).toEqual({ state: 'skipped', reason: 'no C counterpart of this mechanism', repetitions: [] })
  })
})

describe('runCase: a Node failure ends the case', () => {
  it.each([
    ['b', 'peer (side b): read failed'],
    ['a', 'side a: read failed'],
    ['harness', 'harness: read failed'],
    [undefined, 'harness: read failed'],
  ] as const)('side %s: errored, reason prefixed, error kept, repetitions so far kept', async (side, reason) => {
    const log: string[] = []
    const error: CaseError = { message: 'read failed', code: 'EIO', errno: 5, syscall: 'read', ...(side ? { side } : {}) }
    const node = fake('node', log, (i) => (i === 1 ? failed('errored', error) : nodePing(i)))
    const c = await runCase(planFor('pingpong'), { repetitions: 3, subtractOverhead: false }, { node, floor: fake('floor', log, floorPing) })
    expect(c.state).toBe('errored')
    const e = c as ErroredCase
    expect(e.reason).toBe(reason)
    expect(e.error).toEqual(error)
    expect(e.repetitions.map((r) => r.index)).toEqual([0])
    expect(e.describe).toEqual({ io: 'fake' })
    expect(log).toEqual(['floor 0', 'node 0', 'floor 1', 'node 1'])
    expect('latencyNs' in e).toBe(false)
  })

  it('a signal already aborted: aborted, nothing run', async () => {
    const log: string[] = []
    const ac = new AbortController()
    ac.abort()
    const c = await runCase(
      planFor('pingpong'),
      { repetitions: 3, subtractOverhead: false },
      { node: fake('node', log, nodePing) },
      undefined,
      ac.signal,
    )
    expect(c).toMatchObject({ state: 'aborted', reason: 'interrupted (SIGINT/SIGTERM) while this case was running', repetitions: [] })
    expect(log).toEqual([])
  })

  it('aborted during a repetition: aborted, the repetitions before it kept, no later one run', async () => {
    const log: string[] = []
    const ac = new AbortController()
    const node = fake('node', log, (i) => {
      if (i === 1) ac.abort()
      return nodePing(i)
    })
    const c = await runCase(planFor('pingpong'), { repetitions: 3, subtractOverhead: false }, { node }, undefined, ac.signal)
    expect(c.state).toBe('aborted')
    expect(c.repetitions.map((r) => r.index)).toEqual([0, 1])
    expect(log).toEqual(['node 0', 'node 1'])
  })

  it("the Node executor's own 'aborted' outcome ends the case aborted", async () => {
    const log: string[] = []
    const node = fake('node', log, (i) => (i === 1 ? failed('aborted', { message: 'interrupted', side: 'harness' }) : nodePing(i)))
    const c = await runCase(planFor('pingpong'), { repetitions: 3, subtractOverhead: false }, { node })
    expect(c).toMatchObject({ state: 'aborted', reason: 'interrupted (SIGINT/SIGTERM) while this case was running' })
    expect(c.repetitions).toHaveLength(1)
  })
})

describe('runCase: figures', () => {
  it('ping-pong: ratioToFloor is node p50 over floor p50, latency the median of the repetitions’ own', async () => {
    const log: string[] = []
    // p50s 100 and 300: their median is 200 (pooled, the eight samples' p50 would be 100).
    const node = fake('node', log, (i) => ok(i, { samples: i === 0 ? [100, 100, 100, 100, 900] : [300, 300, 300] }))
    const c = completed(
      await runCase(planFor('pingpong'), { repetitions: 2, subtractOverhead: false }, { node, floor: fake('floor', log, floorPing) }),
    )
    expect(c.latencyNs).toMatchObject({ n: 8, min: 100, p50: 200, max: 900 })
    expect(c.floor!.latencyNs).toMatchObject({ n: 6, p50: 50 })
    expect(c.ratioToFloor).toEqual({ p50: 4 })
  })

  it('ping-pong: round trips per second and the total CPU reach the case as medians over repetitions', async () => {
    const log: string[] = []
    const total = (us: number) => ({
      userUsPerMsg: us,
      sysUsPerMsg: 0,
      voluntaryCtxPerMsg: 0,
      involuntaryCtxPerMsg: 0,
      scope: 'whole process' as const,
    })
    const node = fake('node', log, (i) => {
      const o = ok(i, { samples: [200] })
      if (o.ok) {
        o.rep.roundTripsPerSec = [5000, 1000, 3000][i]
        o.rep.cpu.total = total([4, 8, 6][i])
      }
      return o
    })
    const c = completed(await runCase(planFor('pingpong'), { repetitions: 3, subtractOverhead: false }, { node }))
    expect(c.roundTripsPerSec).toBe(3000)
    expect(c.cpu?.total).toEqual(total(6))
  })

  it('stream: ratioToFloor is floor throughput over node throughput', async () => {
    const log: string[] = []
    const node = fake('node', log, (i) => ok(i, { bytesPerSec: [100, 300, 200][i] }))
    const floor = fake('floor', log, (i) => ok(i, { bytesPerSec: 600 }))
    const c = completed(await runCase(planFor('stream'), { repetitions: 3, subtractOverhead: false }, { node, floor }))
    expect(c.throughput).toEqual({ bytesPerSec: 200, msgsPerSec: 200 / 64 })
    expect(c.floor!.throughput!.bytesPerSec).toBe(600)
    expect(c.ratioToFloor).toEqual({ throughput: 3 })
  })

  it('--subtract-overhead takes the calibrated echo off every latency figure, before the ratio, and records it', async () => {
    const log: string[] = []
    const calibration = { emptySampleNs: 20, sameThreadEchoNs: 30 }
    const c = completed(
      await runCase(
        planFor('pingpong'),
        { repetitions: 2, subtractOverhead: true },
        { node: fake('node', log, nodePing), floor: fake('floor', log, floorPing) },
        calibration,
      ),
    )
    expect(c.overheadSubtractedNs).toBe(30)
    expect(c.latencyNs).toMatchObject({ p50: 170, min: 170, max: 170, p99: 170 })
    for (const r of c.repetitions) expect(r.latencyNs).toMatchObject({ p50: 170, mean: 170 })
    // The C floor is not the harness: its figures stay.
    expect(c.floor!.latencyNs!.p50).toBe(50)
    expect(c.ratioToFloor).toEqual({ p50: 170 / 50 })
    expect(c.warnings.map((w) => w.code)).toEqual([])
  })

  it('a calibration without --subtract-overhead changes no figure', async () => {
    const c = completed(
      await runCase(
        planFor('pingpong'),
        { repetitions: 1, subtractOverhead: false },
        { node: fake('node', [], nodePing) },
        { emptySampleNs: 20, sameThreadEchoNs: 30 },
      ),
    )
    expect(c.overheadSubtractedNs).toBeUndefined()
    expect(c.latencyNs!.p50).toBe(200)
  })

  it("a p50 within 5× the harness's own round trip gets a 'near-harness-cost' warning", async () => {
    const c = completed(
      await runCase(
        planFor('pingpong'),
        { repetitions: 1, subtractOverhead: false },
        { node: fake('node', [], nodePing) },
        { emptySampleNs: 20, sameThreadEchoNs: 41 },
      ),
    )
    expect(c.warnings.map((w) => w.code)).toEqual(['near-harness-cost'])
    const far = completed(
      await runCase(
        planFor('pingpong'),
        { repetitions: 1, subtractOverhead: false },
        { node: fake('node', [], nodePing) },
        { emptySampleNs: 20, sameThreadEchoNs: 40 },
      ),
    )
    expect(far.warnings).toEqual([])
  })

  it('an event-loop case is measured against the event-loop echo: subtracted, and warned about by it', async () => {
    const plan = planFor('pingpong')
    const nb: CasePlan = { ...plan, spec: { ...plan.spec, id: 'pipe/nonblocking/process/pingpong/64B', mode: 'nonblocking' } }
    const calibration = { emptySampleNs: 20, sameThreadEchoNs: 30, sameThreadAsyncEchoNs: 45 }
    const c = completed(await runCase(nb, { repetitions: 1, subtractOverhead: true }, { node: fake('node', [], nodePing) }, calibration))
    expect(c.overheadSubtractedNs).toBe(45)
    expect(c.latencyNs!.p50).toBe(155)
    // 200 ns is within 5× of 45 ns: the warning names the event-loop echo.
    const near = completed(await runCase(nb, { repetitions: 1, subtractOverhead: false }, { node: fake('node', [], nodePing) }, calibration))
    expect(near.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/45 ns, the event-loop ping-pong/)])
    // The blocking case beside it keeps the synchronous echo.
    const blocking = completed(await runCase(plan, { repetitions: 1, subtractOverhead: true }, { node: fake('node', [], nodePing) }, calibration))
    expect(blocking.overheadSubtractedNs).toBe(30)
  })

  it("the plan's warnings come first and a repetition's warning repeated in each repetition is kept once", async () => {
    const mismatch = warning('count-mismatch', 'sender counted 200 messages, receiver 199')
    const node = fake('node', [], (i) => ok(i, { bytesPerSec: 6400, warnings: [mismatch] }))
    const c = completed(
      await runCase(planFor('stream', [warning('placement', 'could not pin')]), { repetitions: 3, subtractOverhead: false }, { node }),
    )
    expect(c.warnings).toEqual([{ code: 'placement', message: 'could not pin' }, mismatch])
  })
})

describe('runConfigurations: several configurations of one case, interleaved (A/B)', () => {
  /** A named Node executor for one configuration (the log tells them apart). */
  const config = (label: string, log: string[], outcome: (i: number) => RepOutcome): RepetitionExecutor => ({
    name: 'node',
    async run(_plan, i) {
      log.push(`${label} ${i}`)
      return outcome(i)
    },
  })

  it('asks for the floor, then each configuration in turn, repetition by repetition; each result has the same floor', async () => {
    const log: string[] = []
    const [base, current] = await runConfigurations(
      planFor('pingpong'),
      { repetitions: 2, subtractOverhead: false },
      [config('base', log, nodePing), config('current', log, (i) => ok(i, { samples: [400, 400, 400] }))],
      fake('floor', log, floorPing),
    )
    expect(log).toEqual(['floor 0', 'base 0', 'current 0', 'floor 1', 'base 1', 'current 1'])
    expect(completed(base).latencyNs?.p50).toBe(200)
    expect(completed(current).latencyNs?.p50).toBe(400)
    expect(completed(base).floor).toEqual(completed(current).floor)
    expect(completed(base).ratioToFloor?.p50).toBe(4)
    expect(completed(current).ratioToFloor?.p50).toBe(8)
  })

  it('a configuration that fails ends as errored while the other goes on to the end', async () => {
    const log: string[] = []
    const [base, current] = await runConfigurations(planFor('pingpong'), { repetitions: 3, subtractOverhead: false }, [
      config('base', log, (i) => (i === 1 ? failed('errored', { message: 'boom', side: 'b' }) : nodePing(i))),
      config('current', log, nodePing),
    ])
    expect(log).toEqual(['base 0', 'current 0', 'base 1', 'current 1', 'current 2'])
    expect(base).toMatchObject({ state: 'errored', reason: 'peer (side b): boom' })
    expect(base.repetitions).toHaveLength(1)
    expect(completed(current).repetitions).toHaveLength(3)
  })

  it('an interrupt ends every configuration as aborted, keeping what each measured', async () => {
    const log: string[] = []
    const [base, current] = await runConfigurations(planFor('pingpong'), { repetitions: 3, subtractOverhead: false }, [
      config('base', log, nodePing),
      config('current', log, (i) => (i === 1 ? failed('aborted', { message: 'interrupted', side: 'harness' }) : nodePing(i))),
    ])
    expect(log).toEqual(['base 0', 'current 0', 'base 1', 'current 1'])
    expect(base).toMatchObject({ state: 'aborted' })
    expect(current).toMatchObject({ state: 'aborted' })
    expect(base.repetitions).toHaveLength(2)
    expect(current.repetitions).toHaveLength(1)
  })
})

describe('early stop: the repetitions agree within --target-rme', () => {
  /** Repetition i's p50 (one sample each) from a list of figures. */
  const pings = (figures: number[]) => (i: number) => ok(i, { samples: [figures[i]] })
  const agreeing = pings([100, 102, 98, 100, 100])
  const floorSteady = pings([50, 50, 50, 50, 50])
  const five = { repetitions: 5, subtractOverhead: false, targetRmePct: 5 }
  /** A load case already paced, so no capacity repetition comes first. */
  const planLoad = (): CasePlan => ({ ...planFor('load'), load: { requested: { msgsPerSec: 1000 }, offeredMsgsPerSec: 1000 } })

  it('takes at least the repetitions compare needs for one case: 4 at alpha 0.05', () => {
    expect(EARLY_STOP_MIN).toBe(4)
  })

  it('agreeing repetitions stop at 4 of 5, Node and the floor alike, and the case says so', async () => {
    const log: string[] = []
    const c = completed(await runCase(planFor('pingpong'), five, { node: fake('node', log, agreeing), floor: fake('floor', log, floorSteady) }))
    expect(log).toEqual(['floor 0', 'node 0', 'floor 1', 'node 1', 'floor 2', 'node 2', 'floor 3', 'node 3'])
    expect(c.repetitions).toHaveLength(4)
    expect(c.floor!.repetitions).toHaveLength(4)
    // Node's 100, 102, 98, 100: t(0.975, 3) · √(8/3) / √4 / 100 = 2.5985%; the floor's 0%.
    expect(c.earlyStop).toEqual({ repetitions: 4, of: 5, rmePct: 2.6, targetPct: 5 })
  })

  it('one disagreeing figure keeps every repetition', async () => {
    const log: string[] = []
    const node = fake('node', log, pings([100, 102, 98, 130, 100]))
    const c = completed(await runCase(planFor('pingpong'), five, { node, floor: fake('floor', log, floorSteady) }))
    expect(c.repetitions).toHaveLength(5)
    expect(c.floor!.repetitions).toHaveLength(5)
    expect(c.earlyStop).toBeUndefined()
  })

  it('the floor disagreeing keeps Node going too', async () => {
    const c = completed(
      await runCase(planFor('pingpong'), five, { node: fake('node', [], agreeing), floor: fake('floor', [], pings([50, 50, 80, 50, 50])) }),
    )
    expect(c.repetitions).toHaveLength(5)
    expect(c.earlyStop).toBeUndefined()
  })

  it('a floor that stopped does not hold the case back', async () => {
    const floor = fake('floor', [], () => failed('skipped', { message: 'no C floor for this' }))
    const c = completed(await runCase(planFor('pingpong'), five, { node: fake('node', [], agreeing), floor }))
    expect(c.repetitions).toHaveLength(4)
    expect(c.earlyStop?.repetitions).toBe(4)
  })

  it('--target-rme 0 keeps every repetition', async () => {
    const c = completed(await runCase(planFor('pingpong'), { ...five, targetRmePct: 0 }, { node: fake('node', [], agreeing) }))
    expect(c.repetitions).toHaveLength(5)
    expect(c.earlyStop).toBeUndefined()
  })

  it('3 repetitions never stop early, nor does a case at its last repetition', async () => {
    const three = completed(await runCase(planFor('pingpong'), { ...five, repetitions: 3 }, { node: fake('node', [], agreeing) }))
    expect(three.repetitions).toHaveLength(3)
    expect(three.earlyStop).toBeUndefined()
    const four = completed(await runCase(planFor('pingpong'), { ...five, repetitions: 4 }, { node: fake('node', [], agreeing) }))
    expect(four.repetitions).toHaveLength(4)
    expect(four.earlyStop).toBeUndefined()
  })

  it('a repetition without the figure rules it out', async () => {
    const node = fake('node', [], (i) => (i === 2 ? ok(i, {}) : agreeing(i)))
    const c = completed(await runCase(planFor('pingpong'), five, { node }))
    expect(c.repetitions).toHaveLength(5)
    expect(c.earlyStop).toBeUndefined()
  })

  it("streams by their throughput, several pairs by their aggregate's", async () => {
    const bytes = (figures: number[]) => (i: number) => ok(i, { bytesPerSec: figures[i] })
    const s = completed(await runCase(planFor('stream'), five, { node: fake('node', [], bytes([1e9, 1.01e9, 0.99e9, 1e9, 1e9])) }))
    expect(s.earlyStop).toMatchObject({ repetitions: 4, of: 5 })
    // Each repetition's own throughput disagrees, the aggregate over the pairs agrees, or the other way round.
    const pairs = (own: number[], aggregate: number[]) => (i: number) => {
      const o = bytes(own)(i)
      if (o.ok) o.rep.pairsRun = { pairs: 2, placement: 'spread', perPair: [], aggregate: { bytesPerSec: aggregate[i], msgsPerSec: 1 }, overlap: 1 }
      return o
    }
    const plan: CasePlan = { ...planFor('stream'), spec: { ...planFor('stream').spec, pairs: 2 } }
    const agreed = completed(await runCase(plan, five, { node: fake('node', [], pairs([1e9, 3e9, 1e9, 3e9, 1e9], [2e9, 2e9, 2e9, 2e9, 2e9])) }))
    expect(agreed.earlyStop).toMatchObject({ repetitions: 4, of: 5 })
    const spread = completed(await runCase(plan, five, { node: fake('node', [], pairs([2e9, 2e9, 2e9, 2e9, 2e9], [1e9, 3e9, 1e9, 3e9, 1e9])) }))
    expect(spread.repetitions).toHaveLength(5)
  })

  it('load cases by their p99', async () => {
    const load = (p99s: number[]) => (i: number) => {
      const o = ok(i, { samples: [100] })
      if (o.ok) o.rep.latencyNs = { ...o.rep.latencyNs!, p99: p99s[i] }
      return o
    }
    const calm = completed(await runCase(planLoad(), five, { node: fake('node', [], load([900, 910, 890, 900, 900])) }))
    expect(calm.earlyStop).toMatchObject({ repetitions: 4 })
    const tail = completed(await runCase(planLoad(), five, { node: fake('node', [], load([900, 2000, 890, 900, 900])) }))
    expect(tail.repetitions).toHaveLength(5)
  })

  it('A/B: both configurations stop together, and only when both agree', async () => {
    const log: string[] = []
    const config = (label: string, outcome: (i: number) => RepOutcome): RepetitionExecutor => ({
      name: 'node',
      async run(_plan, i) {
        log.push(`${label} ${i}`)
        return outcome(i)
      },
    })
    const [base, current] = await runConfigurations(planFor('pingpong'), five, [
      config('base', agreeing),
      config('current', pings([200, 200, 200, 200, 200])),
    ])
    expect(log).toEqual(['base 0', 'current 0', 'base 1', 'current 1', 'base 2', 'current 2', 'base 3', 'current 3'])
    expect(completed(base).earlyStop).toEqual(completed(current).earlyStop)
    const [, late] = await runConfigurations(planFor('pingpong'), five, [
      config('base', agreeing),
      config('current', pings([200, 200, 200, 260, 200])),
    ])
    expect(late.repetitions).toHaveLength(5)
  })

  it("a run sized for compare's verdict over all its cases keeps that many repetitions", async () => {
    // 86 cases: Holm's strictest step needs 8 repetitions; a run that asked for fewer could never have had a verdict from them.
    expect(earlyStopMinimum({ repetitions: 5, family: 86 })).toBe(4)
    expect(earlyStopMinimum({ repetitions: 8, family: 86 })).toBe(8)
    expect(earlyStopMinimum({ repetitions: 12, family: 86 })).toBe(8)
    const steady = pings(new Array<number>(12).fill(100))
    const c = completed(await runCase(planFor('pingpong'), { ...five, repetitions: 12, family: 86 }, { node: fake('node', [], steady) }))
    expect(c.earlyStop).toEqual({ repetitions: 8, of: 12, rmePct: 0, targetPct: 5 })
  })
})

import { DEFAULT_ALPHA, repetitionsNeeded } from '../../core/inference.js'
import {
  autoMetric,
  repetitionFigure,
  type CaseError,
  type CaseResult,
  type CaseSpec,
  type CompletedCase,
  type EarlyStop,
  type FloorRatio,
  type FloorResult,
  type HarnessCalibration,
  type RepetitionResult,
  type ResolvedOptions,
} from '../../core/result.js'
import { rmePct } from '../../core/stats.js'
import { addWarning, warning, type Warning } from '../../core/warnings.js'
import { cpuThrottling, throttledSince, throttledWarning } from '../host/cgroup.js'
import type { CasePlan } from '../plan/case-plan.js'
import { aggregate } from './aggregate.js'
import type { RepetitionExecutor } from './executor.js'
import { overheadWarning, subtractOverhead } from './overhead.js'
import { runPairs } from './pairs-repetition.js'

/** What runs a case's repetitions: the Node peers always, the C floor beside them when the run has it. */
export interface Executors {
  node: RepetitionExecutor
  floor?: RepetitionExecutor
}

/** What the case runner reads of the run's options; `targetRmePct` absent or 0: every repetition. */
export type CaseOptions = Pick<ResolvedOptions, 'repetitions' | 'subtractOverhead' | 'targetRmePct'> & {
  /** How many cases the run has: the family compare's Holm correction counts them in (absent: one). */
  family?: number
}

/** The fewest repetitions with which compare can call a change of one case significant at its default alpha (4 at 0.05). */
export const EARLY_STOP_MIN = repetitionsNeeded(DEFAULT_ALPHA)

/**
 * The fewest repetitions a case takes before it may stop early: EARLY_STOP_MIN, or, when
 * the run asked for enough for compare to reach a verdict over all its cases (Holm, the
 * rule of the run's few-repetitions warning), that many, so that an early stop never
 * takes from a run the verdicts it was sized for.
 */
export function earlyStopMinimum(o: Pick<CaseOptions, 'repetitions' | 'family'>): number {
  const overRun = repetitionsNeeded(DEFAULT_ALPHA / (o.family ?? 1))
  return overRun <= o.repetitions ? overRun : EARLY_STOP_MIN
}

/** What one executor's repetitions of a case came to. */
interface Collected {
  reps: RepetitionResult[]
  describe: Record<string, string>
  warnings: Warning[]
  /** Set when the executor stopped: no later repetition of the case is asked of it. */
  stopped?: { state: 'skipped' | 'errored' | 'aborted'; reason: string; error: CaseError }
}

/**
 * Runs one planned case: for each repetition, the C floor's first, then the Node
 * peers' (so drift on a noisy host hits both alike), then the same aggregation for
 * both. A Node failure ends the case; a C floor failure ends only the floor. Never
 * throws.
 */
export async function runCase(
  plan: CasePlan,
  o: CaseOptions,
  executors: Executors,
  calibration?: HarnessCalibration,
  signal?: AbortSignal,
): Promise<CaseResult> {
  const [result] = await runConfigurations(plan, o, [executors.node], executors.floor, calibration, signal)
  return result
}

/**
 * One planned case under several configurations (e.g. a base and a current Node
 * binary, for an A/B comparison), their repetitions interleaved: for each repetition
 * the C floor's first, then each configuration's in turn, so that drift on a noisy
 * host hits all of them alike. One result per configuration, each with the same C
 * floor beside it. A configuration that fails ends as errored while the others go
 * on; an interrupt ends them all as aborted. Once every one still running agrees
 * within `targetRmePct` (see `agreement`), they all stop, so each keeps as many
 * repetitions as the others and the floor. Never throws.
 */
export async function runConfigurations(
  plan: CasePlan,
  o: CaseOptions,
  nodes: readonly RepetitionExecutor[],
  floorExecutor?: RepetitionExecutor,
  calibration?: HarnessCalibration,
  signal?: AbortSignal,
): Promise<CaseResult[]> {
  const startedAt = new Date()
  const elapsed = (): number => Date.now() - startedAt.getTime()
  if (plan.spec.pattern === 'load' && !plan.load) {
    const paced = await paceLoad(plan, nodes[0], signal)
    if ('failed' in paced) {
      const c = collected()
      c.stopped = paced.failed
      return nodes.map(() => finish(plan, o, c, undefined, paced.failed.state === 'aborted', startedAt, elapsed(), calibration))
    }
    plan = paced.plan
  }
  const configs = nodes.map(() => collected())
  const floor = floorExecutor ? collected() : undefined
  const floorWhy = floorExecutor?.unsupported?.(plan)
  if (floor && floorWhy) floor.stopped = { state: 'skipped', reason: floorWhy, error: { message: floorWhy } }

  // A cgroup CPU quota that held the run back while the case ran is said in the case.
  const throttling = cpuThrottling()
  let interrupted = false
  let earlyStop: EarlyStop | undefined
  for (let i = 0; i < o.repetitions && !interrupted; i++) {
    if (signal?.aborted || configs.every((c) => c.stopped)) break
    if (floorExecutor && floor && !floor.stopped) await take(floorExecutor, floor, plan, i, signal)
    for (const [k, node] of nodes.entries()) {
      const c = configs[k]
      if (c.stopped) continue
      await take(node, c, plan, i, signal)
      if (wasAborted(c)) interrupted = true
    }
    earlyStop = interrupted ? undefined : agreement(plan, o, i + 1, floor ? [...configs, floor] : configs)
    if (earlyStop) break
  }
  if (signal?.aborted) interrupted = true
  const throttled = throttledSince(throttling)
  if (throttled) for (const c of configs) addWarning(c.warnings, warning('cpu-throttled', throttledWarning(throttled)))
  return configs.map((c) => finish(plan, o, c, floor, interrupted, startedAt, elapsed(), calibration, earlyStop))
}

/**
 * An early stop after `taken` repetitions, when `o.targetRmePct` asks for one and every
 * executor still running (each configuration, the floor unless it stopped) has the
 * case's figure (compare's `auto` metric) in every repetition with a relative margin of
 * error within the target. Never before `earlyStopMinimum`, so a stopped case can still
 * be called changed by compare, and never at the last repetition, which ends the case anyway.
 */
function agreement(plan: CasePlan, o: CaseOptions, taken: number, all: readonly Collected[]): EarlyStop | undefined {
  const targetPct = o.targetRmePct ?? 0
  const running = all.filter((c) => !c.stopped)
  if (!(targetPct > 0) || taken < earlyStopMinimum(o) || taken >= o.repetitions || running.length === 0) return undefined
  const metric = autoMetric(plan.spec)
  let worst = 0
  for (const c of running) {
    const figures = c.reps.map((r) => repetitionFigure(r, metric)).filter((v): v is number => v !== undefined)
    // A repetition without the figure says nothing of the agreement: no early stop.
    if (figures.length < c.reps.length) return undefined
    const rme = rmePct(figures)
    if (!(rme <= targetPct)) return undefined
    worst = Math.max(worst, rme)
  }
  return { repetitions: taken, of: o.repetitions, rmePct: Math.round(worst * 100) / 100, targetPct }
}

/**
 * The capacity a load case's percentages are shares of: the first configuration's
 * messages per second through the same case sent at full speed (the load loop with no
 * gap), one repetition, measured once per run for each mechanism, mode, endpoints and
 * size, however many rates follow.
 */
const capacities = new WeakMap<RepetitionExecutor, Map<string, number>>()

/** A load plan with its sender's gap set: the rate as asked, or its share of the case's capacity. */
async function paceLoad(
  plan: CasePlan,
  executor: RepetitionExecutor,
  signal?: AbortSignal,
): Promise<{ plan: CasePlan } | { failed: NonNullable<Collected['stopped']> }> {
  const rate = plan.spec.rate ?? { percent: 100 }
  let capacity: number | undefined
  if ('percent' in rate) {
    const key = plan.spec.id.replace(/\/load-[^/]+\//, '/load/')
    const known = capacities.get(executor) ?? new Map<string, number>()
    capacities.set(executor, known)
    capacity = known.get(key)
    if (capacity === undefined) {
      const probe: CasePlan = {
        ...plan,
        loop: { ...plan.loop, intervalNs: 0 },
        load: { requested: { percent: 100 }, offeredMsgsPerSec: 0 },
        samplesDir: undefined,
      }
      const outcome = await executor.run(probe, 0, signal)
      if (!outcome.ok) return { failed: { state: outcome.state, reason: `capacity: ${outcome.error.message}`, error: outcome.error } }
      capacity = outcome.rep.throughput?.msgsPerSec ?? 0
      if (!(capacity > 0)) {
        const message = 'capacity: the full-speed repetition sent nothing measurable'
        return { failed: { state: 'errored', reason: message, error: { message, side: 'harness' } } }
      }
      known.set(key, capacity)
    }
  }
  const offeredMsgsPerSec = 'percent' in rate ? (capacity! * rate.percent) / 100 : rate.msgsPerSec
  // A warm-up of at most a quarter of the measured time at this rate (at least 16 messages).
  const warmup = Math.min(plan.loop.warmup, Math.max(16, Math.floor((offeredMsgsPerSec * plan.loop.durationMs) / 4000)))
  return {
    plan: {
      ...plan,
      loop: { ...plan.loop, warmup, intervalNs: 1e9 / offeredMsgsPerSec },
      load: { requested: rate, offeredMsgsPerSec, ...(capacity !== undefined ? { capacityMsgsPerSec: capacity } : {}) },
    },
  }
}

/** One configuration's result from what its repetitions (and the floor's) came to. */
function finish(
  plan: CasePlan,
  o: CaseOptions,
  node: Collected,
  floor: Collected | undefined,
  interrupted: boolean,
  startedAt: Date,
  durationMs: number,
  calibration?: HarnessCalibration,
  earlyStop?: EarlyStop,
): CaseResult {
  const { spec } = plan
  // What the repetitions gave so far is kept when the case ends early.
  const sofar = {
    ...spec,
    repetitions: node.reps,
    describe: node.describe,
    warnings: [...plan.warnings, ...node.warnings],
    startedAt: startedAt.toISOString(),
    durationMs,
  }
  if (interrupted) return { ...sofar, state: 'aborted', reason: 'interrupted (SIGINT/SIGTERM) while this case was running' }
  if (node.stopped?.state === 'skipped') return { ...sofar, state: 'skipped', reason: node.stopped.reason }
  if (node.stopped) {
    const e = node.stopped.error
    const where = e.side === 'b' ? 'peer (side b)' : e.side === 'a' ? 'side a' : 'harness'
    return { ...sofar, state: 'errored', reason: `${where}: ${e.message}`, error: e }
  }
  const { figures, warnings } = aggregate(spec.pattern, node.reps)
  const result: CompletedCase = { ...sofar, ...figures, state: 'completed', warnings: [...plan.warnings] }
  if (earlyStop) result.earlyStop = earlyStop
  for (const w of [...node.warnings, ...warnings]) addWarning(result.warnings, w)
  if (calibration) {
    // Before the ratio to C, so that --subtract-overhead applies to it too.
    if (o.subtractOverhead) subtractOverhead(result, calibration)
    const near = overheadWarning(result, calibration)
    if (near) result.warnings.push(near)
  }
  if (floor) {
    result.floor = floorResult(spec, floor)
    const ratio = ratioOf(result, result.floor)
    if (ratio) result.ratioToFloor = ratio
  }
  return result
}

const wasAborted = (c: Collected): boolean => c.stopped?.state === 'aborted'

function collected(): Collected {
  return { reps: [], describe: {}, warnings: [] }
}

async function take(executor: RepetitionExecutor, into: Collected, plan: CasePlan, index: number, signal?: AbortSignal): Promise<void> {
  const t0 = performance.now()
  const outcome = plan.pairs ? await runPairs(executor, plan, index, signal) : await executor.run(plan, index, signal)
  if (!outcome.ok) {
    into.stopped = { state: outcome.state, reason: outcome.error.message, error: outcome.error }
    return
  }
  into.reps.push({ ...outcome.rep, wallMs: Math.round((performance.now() - t0) * 10) / 10 })
  into.describe = outcome.describe
  for (const w of outcome.warnings) addWarning(into.warnings, w)
}

function floorResult(spec: CaseSpec, c: Collected): FloorResult {
  const stopped = c.stopped && c.stopped.state !== 'aborted' ? c.stopped : undefined
  if (stopped && c.reps.length === 0) return { state: stopped.state, reason: stopped.reason, repetitions: [] }
  const { figures } = aggregate(spec.pattern, c.reps)
  const f: FloorResult = { state: stopped ? stopped.state : 'completed', repetitions: c.reps, cpu: figures.cpu }
  if (stopped) f.reason = stopped.reason
  if (figures.latencyNs) f.latencyNs = figures.latencyNs
  if (figures.throughput) f.throughput = figures.throughput
  if (figures.roundTripsPerSec) f.roundTripsPerSec = figures.roundTripsPerSec
  if (figures.fanIn) f.fanIn = figures.fanIn
  if (figures.oneWay) f.oneWay = figures.oneWay
  if (figures.load) f.load = figures.load
  if (figures.pairsRun) f.pairsRun = figures.pairsRun
  if (Object.keys(c.describe).length > 0) f.describe = c.describe
  return f
}

/** p50 latency Node over C (> 1: Node slower); throughput C over Node (> 1: Node slower). */
function ratioOf(node: CompletedCase, c: FloorResult): FloorRatio | undefined {
  if (c.state !== 'completed') return undefined
  if (node.latencyNs && c.latencyNs && c.latencyNs.p50 > 0) return { p50: node.latencyNs.p50 / c.latencyNs.p50 }
  if (node.throughput && c.throughput && node.throughput.bytesPerSec > 0)
    return { throughput: c.throughput.bytesPerSec / node.throughput.bytesPerSec }
  return undefined
}

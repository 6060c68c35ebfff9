import type {
  CaseError,
  CaseResult,
  CaseSpec,
  CompletedCase,
  FloorRatio,
  FloorResult,
  HarnessCalibration,
  RepetitionResult,
  ResolvedOptions,
} from '../../core/result.js'
import { addWarning, type Warning } from '../../core/warnings.js'
import type { CasePlan } from '../plan/case-plan.js'
import { aggregate } from './aggregate.js'
import type { RepetitionExecutor } from './executor.js'
import { overheadWarning, subtractOverhead } from './overhead.js'

/** What runs a case's repetitions: the Node peers always, the C floor beside them when the run has it. */
export interface Executors {
  node: RepetitionExecutor
  floor?: RepetitionExecutor
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
  o: Pick<ResolvedOptions, 'repetitions' | 'subtractOverhead'>,
  executors: Executors,
  calibration?: HarnessCalibration,
  signal?: AbortSignal,
): Promise<CaseResult> {
  const { spec } = plan
  const startedAt = new Date()
  const base = { ...spec, repetitions: [] as RepetitionResult[], describe: {}, warnings: [...plan.warnings], startedAt: startedAt.toISOString() }
  const elapsed = (): number => Date.now() - startedAt.getTime()
  const node = collected()
  // What the Node repetitions gave so far, kept when the case ends early.
  const sofar = () => ({
    ...base,
    repetitions: node.reps,
    describe: node.describe,
    warnings: [...base.warnings, ...node.warnings],
    durationMs: elapsed(),
  })
  const aborted = (): CaseResult => ({ ...sofar(), state: 'aborted', reason: 'interrupted (SIGINT/SIGTERM) while this case was running' })

  const floor = executors.floor ? collected() : undefined
  const floorWhy = executors.floor?.unsupported?.(plan)
  if (floor && floorWhy) floor.stopped = { state: 'skipped', reason: floorWhy, error: { message: floorWhy } }

  for (let i = 0; i < o.repetitions; i++) {
    if (signal?.aborted) return aborted()
    if (executors.floor && floor && !floor.stopped) await take(executors.floor, floor, plan, i, signal)
    await take(executors.node, node, plan, i, signal)
    if (node.stopped?.state === 'aborted') return aborted()
    if (node.stopped) {
      const e = node.stopped.error
      const where = e.side === 'b' ? 'peer (side b)' : e.side === 'a' ? 'side a' : 'harness'
      return { ...sofar(), state: 'errored', reason: `${where}: ${e.message}`, error: e }
    }
  }

  const { figures, warnings } = aggregate(spec.pattern, node.reps)
  const result: CompletedCase = { ...base, ...figures, state: 'completed', repetitions: node.reps, describe: node.describe }
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
  result.durationMs = elapsed()
  return result
}

function collected(): Collected {
  return { reps: [], describe: {}, warnings: [] }
}

async function take(executor: RepetitionExecutor, into: Collected, plan: CasePlan, index: number, signal?: AbortSignal): Promise<void> {
  const outcome = await executor.run(plan, index, signal)
  if (!outcome.ok) {
    into.stopped = { state: outcome.state, reason: outcome.error.message, error: outcome.error }
    return
  }
  into.reps.push(outcome.rep)
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

import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  RUN_SCHEMA,
  type CaseResult,
  type CaseSpec,
  type Environment,
  type Figures,
  type HarnessCalibration,
  type ResolvedOptions,
  type RunConfiguration,
  type RunResult,
} from '../../core/result.js'
import { caseId } from '../../core/cases.js'
import { errorFields, ExitCode } from '../../core/errors.js'
import type { Warning } from '../../core/warnings.js'
import { loadNative } from '../../native/index.js'
import { planCase } from '../plan/case-plan.js'
import { runConfigurations, type Executors } from './case-runner.js'
import type { RepetitionExecutor } from './executor.js'

/**
 * Keeps the result file current: written when the run starts (so an unwritable
 * place fails before any measuring), after every case (so a crash or Ctrl-C loses
 * nothing finished) and at the end. Each write replaces the file atomically.
 *
 * Compact JSON, each case serialised once when it is first written (a case is
 * complete when it joins the run and never changes after): rewriting a full run's
 * growing file after each of its hundreds of cases took 118 ms a write at the end
 * pretty-printed and whole, 69 ms compact, and is now mostly the write itself.
 */
export class ResultWriter {
  /** Cases in the last copy that reached the disk whole; undefined before the first. */
  private written: number | undefined
  private readonly serialised = new WeakMap<CaseResult, string>()

  constructor(
    readonly path: string,
    readonly run: RunResult,
  ) {}

  /**
   * A write that fails (a full disk, EIO, a quota) removes its temporary file, leaves
   * the last complete copy in place and ends the run with exit 1 and a message that
   * names the file, what it still holds and what to do.
   */
  write(): void {
    const tmp = `${this.path}.${process.pid}.tmp`
    this.run.context.peakRssKiB = process.resourceUsage().maxRSS
    try {
      mkdirSync(dirname(this.path), { recursive: true })
      writeFileSync(tmp, this.serialise() + '\n')
      renameSync(tmp, this.path)
      this.written = this.run.cases.length
    } catch (err) {
      rmSync(tmp, { force: true })
      const { code, message } = errorFields(err)
      const kept =
        this.written === undefined
          ? 'nothing was written there'
          : `it keeps the last complete copy: ${this.written} finished case(s), with status "running" because the run could not record its end`
      const advice = code === 'ENOSPC' || code === 'EDQUOT' ? 'free space on its file system, or' : 'check that file system, or'
      throw new ExitCode(
        1,
        `Error: cannot write the result file ${this.path} (${message}); ${kept}. The run stopped: ${advice} pass --out with a place that has room.`,
      )
    }
  }

  /** The run as JSON: everything but the cases as it is now, then each case as it was serialised first. */
  private serialise(): string {
    const { cases, ...rest } = this.run
    const parts = cases.map((c) => {
      let s = this.serialised.get(c)
      if (s === undefined) this.serialised.set(c, (s = JSON.stringify(c)))
      return s
    })
    return `${JSON.stringify(rest).slice(0, -1)},"cases":[${parts.join(',')}]}`
  }
}

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`
}

export interface Session {
  writer: ResultWriter
  specs: CaseSpec[]
}

export function startSession(
  runId: string,
  o: ResolvedOptions,
  env: Environment,
  specs: CaseSpec[],
  warnings: Warning[] = [],
  calibration?: HarnessCalibration,
  configuration?: RunConfiguration,
): Session {
  const run: RunResult = {
    schema: RUN_SCHEMA,
    context: {
      runId,
      startedAt: new Date().toISOString(),
      status: 'running',
      env,
      options: o,
      ...(calibration ? { calibration } : {}),
      ...(configuration ? { configuration } : {}),
      warnings,
    },
    cases: [],
  }
  const writer = new ResultWriter(o.out, run)
  writer.write()
  return { writer, specs }
}

export interface SessionHooks {
  executors: Executors
  onCaseStart?(spec: CaseSpec, index: number, total: number): void
  onCaseEnd?(result: CaseResult, index: number, total: number): void
}

/** Runs the cases in order, writing after each; an abort marks the running case and stops. */
export async function runSession(s: Session, o: ResolvedOptions, hooks: SessionHooks, signal: AbortSignal): Promise<RunResult> {
  const { onCaseStart, onCaseEnd } = hooks
  const [run] = await runSessions(
    [s],
    o,
    {
      nodes: [hooks.executors.node],
      floor: hooks.executors.floor,
      onCaseStart,
      onCaseEnd: onCaseEnd && ((results, i, total) => onCaseEnd(results[0], i, total)),
    },
    signal,
  )
  return run
}

export interface InterleavedHooks {
  /** One Node executor per session, in the same order. */
  nodes: readonly RepetitionExecutor[]
  floor?: RepetitionExecutor
  onCaseStart?(spec: CaseSpec, index: number, total: number): void
  onCaseEnd?(results: CaseResult[], index: number, total: number): void
}

/**
 * A case of several pairs against the same case with one pair in this run (measured
 * before it, in matrix order): its aggregate over pairs × the one pair's figure, for the
 * Node run and for the C floor.
 */
export function scaleAgainstOnePair(r: CaseResult, earlier: readonly CaseResult[]): void {
  if (r.state !== 'completed' || !r.pairsRun) return
  const oneId = caseId({ ...r, pairs: undefined })
  const one = earlier.find((c) => c.id === oneId)
  if (!one || one.state !== 'completed') return
  // Load cases carry no throughput of their own: what they carried is the rate they kept.
  const rate = (f: Figures): number | undefined => f.throughput?.msgsPerSec ?? f.roundTripsPerSec ?? f.load?.achievedMsgsPerSec
  const efficiency = (many: Figures, single: Figures | undefined): number | undefined => {
    const base = single ? rate(single) : undefined
    return many.pairsRun && base && base > 0 ? many.pairsRun.aggregate.msgsPerSec / (many.pairsRun.pairs * base) : undefined
  }
  const node = efficiency(r, one)
  if (node !== undefined) r.pairsRun.scalingEfficiency = node
  const floor = r.floor && one.floor ? efficiency(r.floor, one.floor) : undefined
  if (floor !== undefined && r.floor?.pairsRun) r.floor.pairsRun.scalingEfficiency = floor
}

/**
 * Several sessions over the same cases, one per configuration (an A/B): each case is
 * planned once and its repetitions interleaved across the configurations (see
 * runConfigurations); every session's file is written after every case. The cases and
 * the environment the plan reads are the first session's.
 */
export async function runSessions(
  sessions: readonly Session[],
  o: ResolvedOptions,
  hooks: InterleavedHooks,
  signal: AbortSignal,
): Promise<RunResult[]> {
  const runs = sessions.map((s) => s.writer.run)
  const { specs } = sessions[0]
  const { env, calibration } = runs[0].context
  const canPinThreads = loadNative().ok
  for (const [i, spec] of specs.entries()) {
    if (signal.aborted) break
    hooks.onCaseStart?.(spec, i, specs.length)
    const planned = planCase(spec, o, env, canPinThreads)
    const skipped = (reason: string): CaseResult => ({
      ...spec,
      state: 'skipped',
      reason,
      repetitions: [],
      describe: {},
      warnings: [],
      startedAt: new Date().toISOString(),
    })
    const results =
      'skip' in planned
        ? runs.map(() => skipped(planned.skip))
        : await runConfigurations(planned.plan, { ...o, family: specs.length }, hooks.nodes, hooks.floor, calibration, signal)
    results.forEach((r, k) => {
      scaleAgainstOnePair(r, runs[k].cases)
      runs[k].cases.push(r)
      sessions[k].writer.write()
    })
    hooks.onCaseEnd?.(results, i, specs.length)
    if (results.some((r) => r.state === 'aborted')) break
  }
  for (const [k, run] of runs.entries()) {
    run.context.finishedAt = new Date().toISOString()
    run.context.status = signal.aborted ? 'interrupted' : 'finished'
    sessions[k].writer.write()
  }
  return runs
}

import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  RUN_SCHEMA,
  type CaseResult,
  type CaseSpec,
  type Environment,
  type HarnessCalibration,
  type ResolvedOptions,
  type RunConfiguration,
  type RunResult,
} from '../../core/result.js'
import type { Warning } from '../../core/warnings.js'
import { loadNative } from '../../native/index.js'
import { planCase } from '../plan/case-plan.js'
import { runConfigurations, type Executors } from './case-runner.js'
import type { RepetitionExecutor } from './executor.js'

/**
 * Keeps the result file current: written when the run starts (so an unwritable
 * place fails before any measuring), after every case (so a crash or Ctrl-C loses
 * nothing finished) and at the end. Each write replaces the file atomically.
 */
export class ResultWriter {
  constructor(
    readonly path: string,
    readonly run: RunResult,
  ) {}

  write(): void {
    mkdirSync(dirname(this.path), { recursive: true })
    const tmp = `${this.path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(this.run, null, 2) + '\n')
    renameSync(tmp, this.path)
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
        : await runConfigurations(planned.plan, o, hooks.nodes, hooks.floor, calibration, signal)
    results.forEach((r, k) => {
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

import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  RUN_SCHEMA,
  type CaseResult,
  type CaseSpec,
  type Environment,
  type HarnessCalibration,
  type ResolvedOptions,
  type RunResult,
} from '../../core/result.js'
import type { Warning } from '../../core/warnings.js'
import { loadNative } from '../../native/index.js'
import { planCase } from '../plan/case-plan.js'
import { runCase, type Executors } from './case-runner.js'

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
): Session {
  const run: RunResult = {
    schema: RUN_SCHEMA,
    context: { runId, startedAt: new Date().toISOString(), status: 'running', env, options: o, ...(calibration ? { calibration } : {}), warnings },
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
  const run = s.writer.run
  const total = s.specs.length
  const canPinThreads = loadNative().ok
  for (const [i, spec] of s.specs.entries()) {
    if (signal.aborted) break
    hooks.onCaseStart?.(spec, i, total)
    const planned = planCase(spec, o, run.context.env, canPinThreads)
    const result: CaseResult =
      'skip' in planned
        ? { ...spec, state: 'skipped', reason: planned.skip, repetitions: [], describe: {}, warnings: [], startedAt: new Date().toISOString() }
        : await runCase(planned.plan, o, hooks.executors, run.context.calibration, signal)
    run.cases.push(result)
    s.writer.write()
    hooks.onCaseEnd?.(result, i, total)
    if (result.state === 'aborted') break
  }
  run.context.finishedAt = new Date().toISOString()
  run.context.status = signal.aborted ? 'interrupted' : 'finished'
  s.writer.write()
  return run
}

import { join } from 'node:path'
import type { CaseSpec, Environment, HarnessCalibration, MechanismModule, ResolvedOptions, RunResult } from '../../core/result.js'
import type { Warning } from '../../core/warnings.js'
import { startSamples } from '../plan/options.js'
import { configurationRecord, type Configuration } from './configuration.js'
import type { RepetitionExecutor } from './executor.js'
import { nodeExecutor } from './node-executor.js'
import { runSessions, startSession, type InterleavedHooks } from './session.js'

/**
 * One round of `ipcbench ab`: the same cases under a base and a current
 * configuration, each case's repetitions interleaved (C floor, base, current, then
 * the next repetition), so that drift on a noisy host hits both alike. Each
 * configuration's results go to an ordinary result file of its own, written after
 * every case, with the configuration in its context and its Node in `env.node`.
 */

export interface AbSide {
  configuration: Configuration
  /** The result file. */
  out: string
  /** Test-only fault for side b, by case id. */
  faultFor?: (id: string) => string | undefined
  /** Another version of custom mechanisms for this side (`--base-mechanism`), replacing the run's by id. */
  mechanismModules?: readonly MechanismModule[]
}

export interface AbRound {
  /** The session's run id: each file's run id is `<session>-<label>` (`-confirm` in round 2). */
  session: string
  round: 1 | 2
  o: ResolvedOptions
  env: Environment
  specs: CaseSpec[]
  warnings: Warning[]
  calibration?: HarnessCalibration
  base: AbSide
  current: AbSide
  floor?: RepetitionExecutor
}

export type AbHooks = Pick<InterleavedHooks, 'onCaseStart' | 'onCaseEnd'>

export async function runAbRound(r: AbRound, hooks: AbHooks, signal: AbortSignal): Promise<{ base: RunResult; current: RunResult }> {
  const sides = [r.base, r.current]
  // --samples: the confirmation round's (its C floor's too) go to a folder of their own.
  const samples = r.round === 2 && r.o.samplesDir ? { samplesDir: startSamples(join(r.o.samplesDir, 'confirm')) } : {}
  // Every repetition asked for, never an early stop: each side agreeing with itself says
  // nothing of the difference between them, which is what ab measures, and the verdicts
  // (Holm over the cases, and over the few flagged in round 2) need more repetitions
  // than one case's minimum.
  const o: ResolvedOptions = { ...r.o, ...samples, targetRmePct: 0 }
  const executors = sides.map(({ configuration: c, faultFor, mechanismModules }) =>
    nodeExecutor({
      execPath: c.node.execPath,
      env: c.env,
      caseEntry: c.caseEntry,
      nodeArgs: o.nodeArgs,
      faultFor,
      mechanismModules: byId(mechanismModules),
      samplesLabel: c.label,
    }),
  )
  const sessions = sides.map(({ configuration: c, out, mechanismModules }) =>
    startSession(
      `${r.session}-${c.label}${r.round === 2 ? '-confirm' : ''}`,
      { ...o, out, ...recorded(o, mechanismModules) },
      { ...r.env, node: c.node },
      r.specs,
      [...r.warnings],
      r.calibration,
      configurationRecord(c, r.session, r.round),
    ),
  )
  try {
    const [base, current] = await runSessions(sessions, o, { nodes: executors, floor: r.floor, ...hooks }, signal)
    return { base, current }
  } finally {
    for (const e of executors) e.dispose()
  }
}

const byId = (modules: readonly MechanismModule[] = []): Record<string, MechanismModule> => Object.fromEntries(modules.map((m) => [m.id, m]))

/** Each side's result records the custom modules that side ran. */
function recorded(o: ResolvedOptions, replacing: readonly MechanismModule[] | undefined): Pick<ResolvedOptions, 'mechanismModules'> {
  if (!o.mechanismModules || !replacing) return {}
  return { mechanismModules: o.mechanismModules.map((m) => byId(replacing)[m.id] ?? m) }
}

import { matchesCase } from '../../core/cases.js'
import { UsageError } from '../../core/errors.js'
import { repetitionsNeeded } from '../../core/inference.js'
import type { CaseSpec, Environment, HarnessCalibration, MechanismModule, ResolvedOptions } from '../../core/result.js'
import { warning, type Warning } from '../../core/warnings.js'
import { getMechanism, MECHANISMS } from '../../mechanisms/registry.js'
import { cpuQuota, quotaWarning } from '../host/cgroup.js'
import { cleanStale } from '../host/cleanup.js'
import { captureEnvironment } from '../host/env.js'
import { takeRunLock, waitForRunLock } from '../host/run-lock.js'
import { planCases } from '../plan/matrix.js'
import { deprecations, resolveRunOptions, type RawRunOptions } from '../plan/options.js'
import type { RepetitionExecutor } from './executor.js'
import { floorExecutor } from './floor-executor.js'
import { measureCalibration } from './overhead.js'

/**
 * What every measuring entry point shares, the command line's `run`, `all` and `ab`
 * and the API's `run()`: the options resolved and the cases planned (every usage
 * error before the host is touched), then the host prepared: the run lock, stale
 * objects, the environment, the run's warnings, the C floor and the harness's own
 * cost. Nothing here prints; what a person should see goes to `notify`.
 */

/** The custom mechanisms of a run, loaded and registered (mechanisms/custom.ts). */
export interface CustomSelection {
  modules: readonly MechanismModule[]
  /**
   * With no mechanism named: true measures every built-in beside the custom ones
   * (`all`); false only the custom ones (`run --mechanism m.js`: naming a module says
   * what to measure).
   */
  withEveryBuiltIn: boolean
}

/** Options resolved and the cases planned: every usage error before anything touches the host. */
export function planRun(
  mechanisms: string[],
  raw: Omit<RawRunOptions, 'mechanisms'>,
  runId: string,
  custom: CustomSelection = { modules: [], withEveryBuiltIn: true },
): { o: ResolvedOptions; specs: CaseSpec[] } {
  const customIds = custom.modules.map((m) => m.id)
  // Only this run's custom mechanisms: an earlier run in this process may have registered others.
  const known = [...MECHANISMS, ...customIds.map(getMechanism)]
  const named = mechanisms.length > 0 ? [...mechanisms, ...customIds] : custom.withEveryBuiltIn ? [] : customIds
  const o = resolveRunOptions({ ...raw, mechanisms: named }, known, runId)
  const modules = custom.modules.filter((m) => o.mechanisms.includes(m.id))
  if (modules.length > 0) o.mechanismModules = [...modules]
  const patterns = raw.cases
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const specs = planCases(o, patterns ? (id) => matchesCase(id, patterns) : undefined)
  if (specs.length === 0) throw new UsageError('no case matches the options given; "ipcbench list" shows what each mechanism offers')
  return { o, specs }
}

export interface PreparedHost {
  env: Environment
  /** The run's warnings so far (also what was told of them). */
  warnings: Warning[]
  floor?: RepetitionExecutor
  calibration: HarnessCalibration
  /** Gives the host-wide run lock back (also done when the process exits); idempotent. */
  releaseLock(): void
}

export interface PrepareOptions {
  /** Wait for another run that is measuring on this host to end, instead of measuring beside it. */
  wait?: boolean
  /** The family significance level `compare` will use: fewer repetitions than it needs get a warning. */
  alpha: number
  /** A line a person should see now (the command line writes it to stderr). */
  notify(line: string): void
}

/** Clean-up of dead runs, the environment, the warnings every run carries, the C floor and the harness's own cost. */
export async function prepareHost(
  o: ResolvedOptions,
  specs: readonly CaseSpec[],
  raw: RawRunOptions,
  runId: string,
  p: PrepareOptions,
): Promise<PreparedHost> {
  // Before anything else touches the host: another run measuring now would be measured too.
  const lock = p.wait
    ? await waitForRunLock(runId, (other) => p.notify(`Waiting for the ipcbench run ${other.runId} (pid ${other.pid}) to end (--wait)…`))
    : takeRunLock(runId)
  try {
    const stale = cleanStale()
    const env = captureEnvironment()
    const warnings: Warning[] = deprecations(raw)
    if (lock.other) {
      env.concurrentRun = lock.other
      const { pid, runId: other, since } = lock.other
      warnings.push(
        warning(
          'concurrent-run',
          `another ipcbench run (${other}, pid ${pid}, since ${since}) is measuring on this host: each disturbs the other's figures, and compare refuses this run unless --force (use --wait to run after it)`,
        ),
      )
    }
    // Said at once, as the concurrent run is: both make every figure of the run suspect.
    const quota = quotaWarning(
      cpuQuota(),
      specs.some((s) => s.mode === 'busy-poll'),
    )
    if (quota) warnings.push(warning('cpu-quota', quota))
    for (const w of warnings) p.notify(`Warning: ${w.message}`)
    if (env.host.loadAvg[0] > env.host.cpuCount * 0.5)
      warnings.push(
        warning('busy-host', `busy host: load average ${env.host.loadAvg[0].toFixed(2)} on ${env.host.cpuCount} CPUs; figures will be noisy`),
      )
    if (env.host.governor && env.host.governor !== 'performance')
      warnings.push(warning('cpu-governor', `CPU frequency governor is "${env.host.governor}", not "performance"`))
    // The same rule as compare's: the fewest repetitions at which its test can reach
    // significance at family level alpha over this run's cases (Holm).
    const needed = repetitionsNeeded(p.alpha / specs.length)
    if (o.repetitions < needed) {
      const over = specs.length > 1 ? ` over ${specs.length} cases (Holm)` : ''
      const why = `too few for "ipcbench compare" to call a change significant at alpha ${p.alpha}${over}`
      warnings.push(warning('few-repetitions', `${o.repetitions} repetitions per case: ${why} (use --repetitions ${needed} or more)`))
    }
    if (stale.removed.length > 0) warnings.push(warning('stale-objects', `removed ${stale.removed.length} object(s) left by dead ipcbench runs`))
    const floor = o.floor ? floorExecutor(env) : {}
    if (floor.warning) warnings.push(floor.warning)
    return { env, warnings, floor: floor.executor, calibration: await measureCalibration(), releaseLock: () => lock.release() }
  } catch (err) {
    lock.release()
    throw err
  }
}

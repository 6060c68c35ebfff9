import { Option, type Command } from 'commander'
import { matchesCase } from '../core/cases.js'
import { UsageError } from '../core/errors.js'
import { repetitionsNeeded } from '../core/inference.js'
import type { CaseSpec, Environment, HarnessCalibration, ResolvedOptions } from '../core/result.js'
import { warning, type Warning } from '../core/warnings.js'
import { cleanStale } from '../harness/host/cleanup.js'
import { cpuQuota, quotaWarning } from '../harness/host/cgroup.js'
import { captureEnvironment } from '../harness/host/env.js'
import { planCases } from '../harness/plan/matrix.js'
import { deprecations, resolveRunOptions, type RawRunOptions } from '../harness/plan/options.js'
import type { RepetitionExecutor } from '../harness/run/executor.js'
import { floorExecutor } from '../harness/run/floor-executor.js'
import { measureCalibration } from '../harness/run/overhead.js'
import { takeRunLock, waitForRunLock } from '../harness/host/run-lock.js'
import { MECHANISMS } from '../mechanisms/registry.js'
import { COMPARE_DEFAULTS } from '../report/compare/compare.js'
import type { Progress } from './progress.js'

/**
 * What every measuring command (`run`, `all`, `ab`) shares: the options of the case
 * matrix, their resolution and the plan, the host's preparation (stale objects, the
 * environment, the run's warnings, the C floor, the harness's own cost), Ctrl-C, and
 * the test-only fault.
 */

export interface MatrixFlags extends Omit<RawRunOptions, 'mechanisms' | 'out'> {
  progress?: boolean
  /** Wait for another run that is measuring on this host to end, instead of measuring beside it. */
  wait?: boolean
}

/** The options that choose the cases and how each is measured. */
export function addMatrixOptions(cmd: Command): Command {
  return cmd
    .option('--modes <list>', 'blocking,nonblocking,busy-poll')
    .option('--endpoints <list>', 'process,thread')
    .option('--patterns <list>', 'pingpong,stream')
    .option('--sizes <list>', 'message sizes, e.g. 64,1k,64k,1m')
    .option('--cases <list>', 'only these case ids (a * matches anything), e.g. "pipe/blocking/*"')
    .option('--repetitions <n>', 'repetitions per case, each in fresh peers (default 5; 3 with --quick)')
    .option('--duration <time>', 'measured time per repetition, e.g. 500ms, 2s')
    .option('--warmup <n>', 'warm-up messages before measuring')
    .option('--max-messages <n>', 'upper bound of measured messages per repetition')
    .option('--timeout <time>', 'a repetition still running after this is killed and the case errored (default 30s)')
    .option('--pin <placement>', 'auto|none|same|split: both ends on one CPU, or on different CPUs (default auto)')
    .option(
      '--quick',
      'a smaller matrix: 64 B ping-pong, 64 KiB streams, 3 short repetitions, processes only where a mechanism offers both (unless --endpoints)',
    )
    .option('--no-floor', 'do not run the C floor beside the Node cases')
    .addOption(new Option('--no-baseline', 'deprecated name of --no-floor').hideHelp())
    .option('--subtract-overhead', "take the harness's own round trip (measured at the start of the run) off every latency figure")
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .option('--wait', 'when another ipcbench run is measuring on this host, wait for it to end (default: measure anyway, with a warning)')
}

/** Options resolved and the cases planned: every usage error before anything touches the host. */
export function planRun(mechanisms: string[], flags: MatrixFlags & { out?: string }, runId: string): { o: ResolvedOptions; specs: CaseSpec[] } {
  const o = resolveRunOptions({ ...flags, mechanisms }, MECHANISMS, runId)
  const patterns = flags.cases
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const specs = planCases(o, patterns ? (id) => matchesCase(id, patterns) : undefined)
  if (specs.length === 0) throw new UsageError('no case matches the options given; "ipcbench list" shows what each mechanism offers')
  return { o, specs }
}

export interface PreparedHost {
  env: Environment
  /** The run's warnings so far (also what was printed of them). */
  warnings: Warning[]
  floor?: RepetitionExecutor
  calibration: HarnessCalibration
}

/** Clean-up of dead runs, the environment, the warnings every run carries, the C floor and the harness's own cost. */
export async function prepareHost(o: ResolvedOptions, specs: readonly CaseSpec[], flags: MatrixFlags, runId: string): Promise<PreparedHost> {
  // Before anything else touches the host: another run measuring now would be measured too.
  const lock = flags.wait
    ? await waitForRunLock(runId, (other) =>
        process.stderr.write(`Waiting for the ipcbench run ${other.runId} (pid ${other.pid}) to end (--wait)…\n`),
      )
    : takeRunLock(runId)
  const stale = cleanStale()
  const env = captureEnvironment()
  const warnings: Warning[] = deprecations(flags)
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
  for (const w of warnings) process.stderr.write(`Warning: ${w.message}\n`)
  if (env.host.loadAvg[0] > env.host.cpuCount * 0.5)
    warnings.push(
      warning('busy-host', `busy host: load average ${env.host.loadAvg[0].toFixed(2)} on ${env.host.cpuCount} CPUs; figures will be noisy`),
    )
  if (env.host.governor && env.host.governor !== 'performance')
    warnings.push(warning('cpu-governor', `CPU frequency governor is "${env.host.governor}", not "performance"`))
  // The same rule as compare's: the fewest repetitions at which its test can reach
  // significance at family level alpha over this run's cases (Holm).
  const alpha = COMPARE_DEFAULTS.alpha
  const needed = repetitionsNeeded(alpha / specs.length)
  if (o.repetitions < needed) {
    const over = specs.length > 1 ? ` over ${specs.length} cases (Holm)` : ''
    const why = `too few for "ipcbench compare" to call a change significant at alpha ${alpha}${over}`
    warnings.push(warning('few-repetitions', `${o.repetitions} repetitions per case: ${why} (use --repetitions ${needed} or more)`))
  }
  if (stale.removed.length > 0) warnings.push(warning('stale-objects', `removed ${stale.removed.length} object(s) left by dead ipcbench runs`))
  const floor = o.floor ? floorExecutor(env) : {}
  if (floor.warning) warnings.push(floor.warning)
  return { env, warnings, floor: floor.executor, calibration: await measureCalibration() }
}

export interface Interrupts {
  signal: AbortSignal
  /** The signal that stopped the run, if one did. */
  readonly received: NodeJS.Signals | undefined
  dispose(): void
}

/** SIGINT and SIGTERM abort the run after the running case is cleaned up (the result files keep what finished). */
export function onInterrupt(progress: Progress): Interrupts {
  const controller = new AbortController()
  let received: NodeJS.Signals | undefined
  const onSignal = (sig: NodeJS.Signals): void => {
    received = sig
    progress.note(`\n${sig}: stopping after cleaning up the running case…`)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    get received() {
      return received
    },
    dispose() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}

/** The shell's convention for a process ended by a signal: 128 + its number. */
export const interruptExitCode = (sig: NodeJS.Signals): number => (sig === 'SIGINT' ? 130 : 143)

/**
 * Test-only: IPCBENCH_TEST_FAULT=<fault>[@<case-id pattern>] injects a fault in side b
 * (see harness/case/faults.ts), only with IPCBENCH_TEST_FAULTS=1. Read from the
 * environment the case processes get, so `ab --current-env IPCBENCH_TEST_FAULT=…`
 * slows the current configuration alone.
 */
export function testFaultFor(env: NodeJS.ProcessEnv): (id: string) => string | undefined {
  return (id) => {
    const f = env.IPCBENCH_TEST_FAULT
    if (env.IPCBENCH_TEST_FAULTS !== '1' || !f) return undefined
    const [fault, where] = f.split('@')
    return where === undefined || matchesCase(id, [where]) ? fault : undefined
  }
}

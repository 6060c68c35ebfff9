import { Option, type Command } from 'commander'
import { matchesCase } from '../core/cases.js'
import type { CaseSpec, ResolvedOptions } from '../core/result.js'
import type { RawRunOptions } from '../harness/plan/options.js'
import { planRun as planShared, prepareHost as prepareShared, type PreparedHost } from '../harness/run/prepare.js'
import { loadCustomMechanisms, type LoadedMechanism } from '../mechanisms/custom.js'
import { COMPARE_DEFAULTS } from '../report/compare/compare.js'
import type { Progress } from './progress.js'
import { collect } from './repeatable.js'

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
  /** `--mechanism <module>` as typed (repeatable). */
  mechanism?: string[]
  /** Set before the action runs (`loadMechanismOptions`): the `--mechanism` modules, loaded and registered. */
  loadedMechanisms?: LoadedMechanism[]
  /** Set before the action runs: `all` measures every built-in beside the custom mechanisms. */
  everyBuiltIn?: boolean
}

/** `--mechanism <module>`: a custom mechanism, loaded and checked before the command's action (a broken one is exit 2). */
export function addMechanismOption(cmd: Command): Command {
  return cmd
    .option(
      '--mechanism <module>',
      'also measure a custom mechanism: a module whose default export is defineMechanism({ … }) (repeatable; alone, only the custom ones are run)',
      collect,
    )
    .hook('preAction', async (_: Command, action: Command) => {
      const typed = (action.opts() as MatrixFlags).mechanism ?? []
      action.setOptionValue('loadedMechanisms', await loadCustomMechanisms(typed))
      action.setOptionValue('everyBuiltIn', action.name() === 'all')
    })
}

/** The options that choose the cases and how each is measured. */
export function addMatrixOptions(cmd: Command): Command {
  return addMechanismOption(cmd)
    .option('--modes <list>', 'blocking,nonblocking,busy-poll')
    .option('--endpoints <list>', 'process,thread')
    .option('--patterns <list>', 'pingpong,stream,fanin,oneway,load (default pingpong,stream,fanin)')
    .option('--sizes <list>', 'message sizes, e.g. 64,1k,64k,1m')
    .option('--senders <list>', 'fan-in: senders into one channel, one case each (default 1,2,4; 4 with --quick)')
    .option(
      '--rates <list>',
      "load: offered rates, one case each: shares of the case's own capacity (measured in the run) or messages per second, e.g. 10%,50%,90% (default) or 1000,20k",
    )
    .option('--pairs <list>', 'pairs of each case run at once, each with its own objects, placed over the CPUs, e.g. 1,2 (default 1)')
    .option(
      '--pair-placement <where>',
      'auto|within-node|across-nodes|same-cpu: where several pairs go over the NUMA nodes and CPUs (default auto: no CPU shared while one is free, within a node when it can)',
    )
    .option('--cases <list>', 'only these case ids (a * matches anything), e.g. "pipe/blocking/*"')
    .option('--repetitions <n>', 'repetitions per case, each in fresh peers (default 5; 3 with --quick)')
    .option('--duration <time>', 'measured time per repetition at most, e.g. 500ms, 2s (default 150ms; 80ms with --quick)')
    .option(
      '--target-samples <n>',
      'a repetition ends once it has n samples (round trips, stream messages) and has run 10 ms, if --duration has not ended it; 0: always the whole duration (default 5000, 2000 with --quick; 0 when --duration is given; busy-poll always runs its whole duration)',
    )
    .option('--warmup <n>', 'warm-up messages before measuring')
    .option('--max-messages <n>', 'upper bound of measured messages per repetition')
    .option('--timeout <time>', 'a repetition still running after this is killed and the case errored (default 30s)')
    .option('--pin <placement>', 'auto|none|same|split: both ends on one CPU, or on different CPUs (default auto)')
    .option(
      '--quick',
      'a smaller matrix: 64 B ping-pong, 64 KiB streams, fan-in of 4 senders at 64 B, 3 short repetitions, processes only where a mechanism offers both (unless --endpoints)',
    )
    .option('--no-floor', 'do not run the C floor beside the Node cases')
    .addOption(new Option('--no-baseline', 'deprecated name of --no-floor').hideHelp())
    .option(
      '--node-args <flags>',
      'Node and V8 flags for every Node process of a case (the case processes and their peers), e.g. "--max-opt=1"; recorded in the result',
    )
    .option('--subtract-overhead', "take the harness's own round trip (measured at the start of the run) off every latency figure")
    .option(
      '--samples <dir>',
      "also write every ping-pong, one-way and load repetition's raw samples there: <case>/<node|floor>-<repetition>.f64 (float64 ns), and index.csv",
    )
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .option('--wait', 'when another ipcbench run is measuring on this host, wait for it to end (default: measure anyway, with a warning)')
}

/** Options resolved and the cases planned: every usage error before anything touches the host. */
export function planRun(mechanisms: string[], flags: MatrixFlags & { out?: string }, runId: string): { o: ResolvedOptions; specs: CaseSpec[] } {
  const modules = (flags.loadedMechanisms ?? []).map((l) => l.module)
  return planShared(mechanisms, flags, runId, { modules, withEveryBuiltIn: flags.everyBuiltIn === true })
}

export type { PreparedHost }

/** Clean-up of dead runs, the environment, the warnings every run carries, the C floor and the harness's own cost. */
export async function prepareHost(o: ResolvedOptions, specs: readonly CaseSpec[], flags: MatrixFlags, runId: string): Promise<PreparedHost> {
  return prepareShared(o, specs, flags, runId, {
    wait: flags.wait,
    alpha: COMPARE_DEFAULTS.alpha,
    notify: (line) => process.stderr.write(`${line}\n`),
  })
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

import { Option, type Command } from 'commander'
import { dirname, join, basename } from 'node:path'
import { matchesCase } from '../core/cases.js'
import { UsageError } from '../core/errors.js'
import { repetitionsNeeded } from '../core/inference.js'
import type { RunResult } from '../core/result.js'
import { warning, type Warning } from '../core/warnings.js'
import { cleanStale } from '../harness/host/cleanup.js'
import { captureEnvironment } from '../harness/host/env.js'
import { planCases } from '../harness/plan/matrix.js'
import { checkWritable, deprecations, resolveRunOptions, type RawRunOptions } from '../harness/plan/options.js'
import { floorExecutor } from '../harness/run/floor-executor.js'
import { nodeExecutor } from '../harness/run/node-executor.js'
import { measureCalibration } from '../harness/run/overhead.js'
import { newRunId, runSession, startSession } from '../harness/run/session.js'
import { MECHANISMS } from '../mechanisms/registry.js'
import { checkBaselineName, saveBaseline } from '../report/compare/baselines.js'
import { COMPARE_DEFAULTS } from '../report/compare/compare.js'
import { renderTables } from '../report/table.js'
import { useColor } from './color.js'
import { Progress } from './progress.js'
import { writeHtmlReport } from './report-command.js'

interface RunFlags extends Omit<RawRunOptions, 'mechanisms'> {
  json?: boolean
  saveBaseline?: string
  html?: string | boolean
  progress?: boolean
}

function addRunOptions(cmd: Command): Command {
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
    .option('--out <file>', 'result file (default results/<run-id>.json)')
    .option('--json', 'print only the result JSON on stdout')
    .option('--html [file]', 'also write the HTML report (default: next to the result file)')
    .option('--save-baseline <name>', 'also copy the result to results/baselines/<name>.json, for "ipcbench compare --baseline <name>"')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
}

export function registerRunCommands(program: Command): void {
  addRunOptions(
    program
      .command('run')
      .description('run the cases of the named mechanisms (all when none is named)')
      .argument('[mechanism...]', 'mechanisms to run, see "ipcbench list"'),
  ).action(async (mechanisms: string[], flags: RunFlags) => runCommand(mechanisms, flags, false))

  addRunOptions(program.command('all').description('run the whole matrix with good defaults and write the HTML report')).action(
    async (flags: RunFlags) => runCommand([], flags, true),
  )
}

async function runCommand(mechanisms: string[], flags: RunFlags, all: boolean): Promise<void> {
  const runId = newRunId()
  const o = resolveRunOptions({ ...flags, mechanisms }, MECHANISMS, runId)
  if (flags.saveBaseline !== undefined) checkBaselineName('--save-baseline', flags.saveBaseline)
  const patterns = flags.cases
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const specs = planCases(o, patterns ? (id) => matchesCase(id, patterns) : undefined)
  if (specs.length === 0) throw new UsageError('no case matches the options given; "ipcbench list" shows what each mechanism offers')
  checkWritable(o.out)
  const stale = cleanStale()
  const env = captureEnvironment()
  const warnings: Warning[] = deprecations(flags)
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

  const calibration = measureCalibration()
  const session = startSession(runId, o, env, specs, warnings, calibration)
  const progress = new Progress(flags.progress === true || process.stderr.isTTY === true)
  const controller = new AbortController()
  let interrupted: NodeJS.Signals | undefined
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig
    progress.note(`\n${sig}: stopping after cleaning up the running case…`)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const node = nodeExecutor({ faultFor: testFault })
  progress.start(specs.length, o)
  let run: RunResult
  try {
    const hooks = {
      executors: { node, floor: floor.executor },
      onCaseStart: progress.caseStart.bind(progress),
      onCaseEnd: progress.caseEnd.bind(progress),
    }
    run = await runSession(session, o, hooks, controller.signal)
  } finally {
    node.dispose()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    progress.stop()
  }

  const htmlPath =
    flags.html === undefined ? (all ? defaultHtml(o.out) : undefined) : typeof flags.html === 'string' ? flags.html : defaultHtml(o.out)
  if (htmlPath) await writeHtmlReport(run, htmlPath)
  // An interrupted run lacks cases; as a baseline it would make them all look "added".
  const baselinePath = flags.saveBaseline && !interrupted ? saveBaseline(o.out, flags.saveBaseline) : undefined

  if (flags.json) process.stdout.write(JSON.stringify(run, null, 2) + '\n')
  else {
    process.stdout.write(renderTables(run, { color: useColor(process.stdout) }) + '\n')
    process.stdout.write(`Results: ${o.out}\n`)
    if (htmlPath) process.stdout.write(`Report: ${htmlPath}\n`)
    if (baselinePath) process.stdout.write(`Baseline: ${baselinePath}\n`)
  }
  if (interrupted) {
    if (flags.saveBaseline) process.stderr.write(`Baseline "${flags.saveBaseline}" not saved: the run was interrupted\n`)
    process.stderr.write(
      `Interrupted by ${interrupted}; the result file keeps ${run.cases.filter((c) => c.state !== 'aborted').length} finished case(s): ${o.out}\n`,
    )
    process.exitCode = interrupted === 'SIGINT' ? 130 : 143
    return
  }
  const errored = run.cases.filter((c) => c.state === 'errored')
  if (errored.length > 0) {
    process.stderr.write(`${errored.length} case(s) errored:\n${errored.map((c) => `  ${c.id}: ${c.reason}`).join('\n')}\n`)
    process.exitCode = 1
  }
}

/**
 * Test-only: IPCBENCH_TEST_FAULT=<fault>[@<case-id pattern>] injects a fault in side b
 * (see harness/faults.ts), only with IPCBENCH_TEST_FAULTS=1.
 */
function testFault(id: string): string | undefined {
  const f = process.env.IPCBENCH_TEST_FAULT
  if (process.env.IPCBENCH_TEST_FAULTS !== '1' || !f) return undefined
  const [fault, where] = f.split('@')
  return where === undefined || matchesCase(id, [where]) ? fault : undefined
}

function defaultHtml(out: string): string {
  return join(dirname(out), basename(out).replace(/\.json$/, '') + '.html')
}

import type { Command } from 'commander'
import { dirname, join, basename } from 'node:path'
import type { RunResult } from '../core/result.js'
import { checkWritable, DEFAULTS } from '../harness/plan/options.js'
import { EARLY_STOP_MIN } from '../harness/run/case-runner.js'
import { nodeExecutor } from '../harness/run/node-executor.js'
import { newRunId, runSession, startSession } from '../harness/run/session.js'
import { checkBaselineName, saveBaseline } from '../report/compare/baselines.js'
import { outcomeGroups } from '../report/findings.js'
import { renderTerminal } from '../report/table.js'
import { useColor } from './color.js'
import { Progress } from './progress.js'
import { writeHtmlReport } from './report-command.js'
import { addMatrixOptions, interruptExitCode, onInterrupt, planRun, prepareHost, testFaultFor, type MatrixFlags } from './run-setup.js'

interface RunFlags extends MatrixFlags {
  out?: string
  json?: boolean
  saveBaseline?: string
  html?: string | boolean
  full?: boolean
  verbose?: boolean
}

function addRunOptions(cmd: Command): Command {
  return addMatrixOptions(cmd)
    .option(
      '--target-rme <percent>',
      `a case stops before --repetitions once its figure's relative margin of error (95%, Student t) is within this, for Node and the C floor alike, after at least ${EARLY_STOP_MIN} repetitions (the fewest compare needs for one case; as many as it needs over all the run's cases when --repetitions has them); 0: every repetition (default ${DEFAULTS.targetRmePct})`,
    )
    .option('--out <file>', 'result file (default results/<run-id>.json)')
    .option('--json', 'print only the result JSON on stdout')
    .option('--full', "print every case's row, not only the one-screen summary")
    .option('--verbose', 'progress: a line per finished case, also on a terminal (where it is one updating line otherwise)')
    .option('--html [file]', 'also write the HTML report (default: next to the result file)')
    .option('--save-baseline <name>', 'also copy the result to results/baselines/<name>.json, for "ipcbench compare --baseline <name>"')
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
  const { o, specs } = planRun(mechanisms, flags, runId)
  if (flags.saveBaseline !== undefined) checkBaselineName('--save-baseline', flags.saveBaseline)
  checkWritable(o.out)
  const host = await prepareHost(o, specs, flags, runId)

  const session = startSession(runId, o, host.env, specs, host.warnings, host.calibration)
  const tty = process.stderr.isTTY === true
  const progress = new Progress(flags.progress === true || tty, { live: tty && !flags.verbose, columns: process.stderr.columns })
  const interrupts = onInterrupt(progress)
  const node = nodeExecutor({ faultFor: testFaultFor(process.env), nodeArgs: o.nodeArgs })
  progress.start(specs.length, o)
  let run: RunResult
  try {
    const hooks = {
      executors: { node, floor: host.floor },
      onCaseStart: progress.caseStart.bind(progress),
      onCaseEnd: progress.caseEnd.bind(progress),
    }
    run = await runSession(session, o, hooks, interrupts.signal)
  } finally {
    node.dispose()
    interrupts.dispose()
    progress.stop()
  }
  const interrupted = interrupts.received

  const htmlPath =
    flags.html === undefined ? (all ? defaultHtml(o.out) : undefined) : typeof flags.html === 'string' ? flags.html : defaultHtml(o.out)
  if (htmlPath) {
    await writeHtmlReport(run, htmlPath)
    // Once more, so that the file's peak memory holds the report's.
    session.writer.write()
  }
  // An interrupted run lacks cases; as a baseline it would make them all look "added".
  const baselinePath = flags.saveBaseline && !interrupted ? saveBaseline(o.out, flags.saveBaseline) : undefined

  if (flags.json) process.stdout.write(JSON.stringify(run, null, 2) + '\n')
  else {
    process.stdout.write(renderTerminal(run, { color: useColor(process.stdout), full: flags.full }) + '\n')
    process.stdout.write(`Results: ${o.out}\n`)
    if (htmlPath) process.stdout.write(`Report: ${htmlPath}\n`)
    if (baselinePath) process.stdout.write(`Baseline: ${baselinePath}\n`)
  }
  if (interrupted) {
    if (flags.saveBaseline) process.stderr.write(`Baseline "${flags.saveBaseline}" not saved: the run was interrupted\n`)
    process.stderr.write(
      `Interrupted by ${interrupted}; the result file keeps ${run.cases.filter((c) => c.state !== 'aborted').length} finished case(s): ${o.out}\n`,
    )
    process.exitCode = interruptExitCode(interrupted)
    return
  }
  const errored = run.cases.filter((c) => c.state === 'errored')
  if (errored.length > 0) {
    // One line per reason, with the cases it hit (--full and the report list every case).
    const groups = outcomeGroups(run).filter((g) => g.state === 'errored')
    process.stderr.write(
      `${errored.length} case(s) errored:\n${groups.map((g) => `  ${g.count} × ${g.reason} (${g.mechanisms.join(', ')})`).join('\n')}\n`,
    )
    process.exitCode = 1
  }
}

function defaultHtml(out: string): string {
  return join(dirname(out), basename(out).replace(/\.json$/, '') + '.html')
}

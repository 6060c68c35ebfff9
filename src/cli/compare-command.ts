import type { Command } from 'commander'
import { loadRun } from '../report/load.js'
import { compare } from '../report/compare/compare.js'
import { calibrate, renderCalibration } from '../report/compare/threshold.js'
import { findBaseline } from '../report/compare/baselines.js'
import { buildExport } from '../report/compare/exports.js'
import { parseExport, resolveCompareOptions, type RawCompareOptions } from '../report/compare/options.js'
import { renderCompareJson, renderCompareMarkdown, renderCompareTable } from '../report/compare/render.js'
import { ExitCode, UsageError } from '../core/errors.js'
import { useColor } from './color.js'
import { collect } from './repeatable.js'
import { writeOutputFile } from './output.js'

/**
 * `ipcbench compare BASE.json CURRENT.json` / `compare --baseline NAME CURRENT.json`
 * and `ipcbench calibrate A.json B.json…`. Exit codes: 0 no regression (or
 * regressions without --fail-on-regression), 1 a regression with
 * --fail-on-regression, 2 a usage error or an unreadable, foreign or incompatible
 * result file (the message names it).
 */

interface CompareFlags extends RawCompareOptions {
  baseline?: string
  failOnRegression?: boolean
  markdown?: string
  json?: string
  export?: string[]
}

// No default array: commander would print "(default: [])" in the help.

export function registerCompareCommands(program: Command): void {
  program
    .command('compare')
    .description('compare two runs case by case: significance test + noise threshold, a verdict per case')
    .argument('[runs...]', 'BASE.json CURRENT.json, or only CURRENT.json with --baseline')
    .option('--baseline <name>', 'use results/baselines/<name>.json (saved by "run --save-baseline <name>") as the base')
    .option('--threshold <pct>', 'noise band: smaller changes are never flagged (default 10%)')
    .option('--alpha <p>', 'significance level of the Mann–Whitney test, in (0, 0.5] (default 0.05)')
    .option(
      '--metric <metric>',
      'auto|p50|p99|throughput (default auto: p50 latency of ping-pong and one-way, p99 under load, throughput of streams, fan-in and several pairs)',
    )
    .option('--fail-on-regression', 'exit 1 when a case regressed')
    .option('--force', 'compare runs from different environments (CPU, kernel, Node major, --pin, --subtract-overhead) anyway')
    .option('--markdown <file>', 'also write the comparison as markdown (e.g. for $GITHUB_STEP_SUMMARY)')
    .option('--json <file>', 'also write the comparison as JSON')
    .option(
      '--export <kind=file>',
      'write the CURRENT run for a tracking service: gab-latency=FILE, gab-throughput=FILE or bmf=FILE (repeatable)',
      collect,
    )
    .action(async (files: string[], flags: CompareFlags) => compareCommand(files, flags))

  program
    .command('calibrate')
    .description('suggest a --threshold from A/A runs (the same build run two or more times)')
    .argument('<runs...>', 'two or more result files of the same build, e.g. from "ipcbench all --quick" run twice')
    .option('--metric <metric>', 'auto|p50|p99|throughput (default auto)')
    .option('--force', 'calibrate across different environments anyway')
    .action(async (files: string[], flags: RawCompareOptions) => {
      if (files.length < 2)
        throw new UsageError(
          `calibrate: needs two or more result files of the same build (got ${files.length}); run "ipcbench all --quick" twice first`,
        )
      const options = resolveCompareOptions({ metric: flags.metric, force: flags.force })
      const runs = files.map((f) => ({ label: f, run: loadRun(f) }))
      process.stdout.write(renderCalibration(calibrate(runs, options), { color: useColor(process.stdout) }) + '\n')
    })
}

async function compareCommand(files: string[], flags: CompareFlags): Promise<void> {
  // Phase 1: everything the user typed, checked before any file is read.
  const options = resolveCompareOptions(flags)
  const exports = (flags.export ?? []).map(parseExport)
  let basePath: string
  let currentPath: string
  if (flags.baseline !== undefined) {
    if (files.length !== 1)
      throw new UsageError(`compare --baseline ${flags.baseline}: pass exactly one result file, CURRENT.json (got ${files.length})`)
    basePath = findBaseline(flags.baseline)
    currentPath = files[0]
  } else {
    if (files.length !== 2)
      throw new UsageError(`compare: pass BASE.json CURRENT.json, or --baseline NAME CURRENT.json (got ${files.length} file(s))`)
    ;[basePath, currentPath] = files
  }

  // Phase 2: read and compare (loadRun and compare throw UsageErrors naming the file).
  const base = loadRun(basePath)
  const current = loadRun(currentPath)
  const cmp = compare(base, current, options, { base: basePath, current: currentPath })

  // Phase 3: every requested output, then the exit code.
  process.stdout.write(renderCompareTable(cmp, { color: useColor(process.stdout) }) + '\n')
  if (flags.markdown) writeOutputFile('--markdown', flags.markdown, renderCompareMarkdown(cmp))
  if (flags.json) writeOutputFile('--json', flags.json, renderCompareJson(cmp))
  for (const e of exports) writeOutputFile('--export', e.file, JSON.stringify(buildExport(e.kind, current), null, 2) + '\n')

  const regressed = cmp.cases.filter((c) => c.verdict === 'regressed')
  if (regressed.length > 0 && flags.failOnRegression) {
    throw new ExitCode(1, `${regressed.length} case(s) regressed (--fail-on-regression): ${regressed.map((c) => c.id).join(', ')}`)
  }
}

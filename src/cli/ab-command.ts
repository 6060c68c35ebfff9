import type { Command } from 'commander'
import { dirname, join, resolve } from 'node:path'
import { ExitCode, UsageError } from '../core/errors.js'
import type { CaseSpec, MechanismModule, ResolvedOptions, RunResult } from '../core/result.js'
import { loadMechanismModule } from '../mechanisms/custom.js'
import { runAbRound, type AbRound } from '../harness/run/ab-session.js'
import { configurationDifferences, resolveConfiguration, type Configuration } from '../harness/run/configuration.js'
import { newRunId } from '../harness/run/session.js'
import { compare, type Comparison, type CompareOptions } from '../report/compare/compare.js'
import { confirmComparison } from '../report/compare/confirm.js'
import { buildExport } from '../report/compare/exports.js'
import { parseExport, resolveCompareOptions, type RawCompareOptions } from '../report/compare/options.js'
import { renderCompareJson, renderCompareMarkdown, renderCompareTable } from '../report/compare/render.js'
import { useColor } from './color.js'
import { collect } from './repeatable.js'
import { checkWritableFile, writeOutputFile } from './output.js'
import { Progress } from './progress.js'
import {
  addMatrixOptions,
  interruptExitCode,
  onInterrupt,
  planRun,
  prepareHost,
  testFaultFor,
  type Interrupts,
  type MatrixFlags,
} from './run-setup.js'

/**
 * `ipcbench ab [mechanism…]`: the same cases under a base and a current configuration
 * (Node binary, extra environment, ipcbench checkout), their repetitions interleaved
 * in one run, then compared with compare's statistics. Unless --no-confirm, the cases
 * round 1 flags are measured again (round 2) and a verdict counts only if round 2
 * agrees. Exit codes as compare: 0, 1 with --fail-on-regression, 2 usage; 130/143
 * interrupted (the result files keep what finished).
 */

interface AbFlags extends MatrixFlags, RawCompareOptions {
  baseNode?: string
  currentNode?: string
  baseEnv?: string[]
  currentEnv?: string[]
  baseRoot?: string
  currentRoot?: string
  aa?: boolean
  /** `--base-mechanism <module>`: another version of a custom mechanism the run measures, for the base (repeatable). */
  baseMechanism?: string[]
  /** `--no-confirm` */
  confirm?: boolean
  outBase?: string
  outCurrent?: string
  failOnRegression?: boolean
  markdown?: string
  json?: string
  export?: string[]
}

// No default array: commander would print "(default: [])" in the help.

export function registerAbCommand(program: Command): void {
  addMatrixOptions(
    program
      .command('ab')
      .description('A/B in one run: the same cases under a base and a current configuration, repetitions interleaved, then compared')
      .argument('[mechanism...]', 'mechanisms to run, see "ipcbench list"'),
  )
    .option('--base-node <path>', "Node binary of the base configuration's case processes (default: this Node)")
    .option('--current-node <path>', "Node binary of the current configuration's case processes (default: this Node)")
    .option('--base-env <K=V>', "add a variable to the base configuration's environment (repeatable)", collect)
    .option('--current-env <K=V>', "add a variable to the current configuration's environment (repeatable)", collect)
    .option('--base-root <dir>', "another built ipcbench checkout whose case processes run the base configuration's peers")
    .option('--current-root <dir>', "another built ipcbench checkout whose case processes run the current configuration's peers")
    .option(
      '--base-mechanism <module>',
      'the base runs this version of a custom mechanism (same id as a --mechanism module, which the current runs; repeatable)',
      collect,
    )
    .option('--aa', 'an A/A run: base and current the same configuration (to see, or calibrate, the noise)')
    .option('--no-confirm', 'do not measure the flagged cases again before they count')
    .option('--out-base <file>', 'base result file (default results/<run-id>-base.json; round 2 goes to …-confirm.json)')
    .option('--out-current <file>', 'current result file (default results/<run-id>-current.json; round 2 goes to …-confirm.json)')
    .option('--threshold <pct>', 'noise band: smaller changes are never flagged (default 10%)')
    .option('--alpha <p>', 'family significance level (Holm), in (0, 0.5] (default 0.05)')
    .option(
      '--metric <metric>',
      'auto|p50|p99|throughput (default auto: p50 latency of ping-pong and one-way, p99 under load, throughput of streams, fan-in and several pairs)',
    )
    .option('--fail-on-regression', 'exit 1 when a case regressed (in both rounds, unless --no-confirm)')
    .option('--force', 'compare although another ipcbench run was measuring on this host at the same time')
    .option('--markdown <file>', 'also write the comparison as markdown (e.g. for $GITHUB_STEP_SUMMARY)')
    .option('--json <file>', 'also write the comparison as JSON (ipcbench/compare@1)')
    .option(
      '--export <kind=file>',
      'write the current run for a tracking service: gab-latency=FILE, gab-throughput=FILE or bmf=FILE (repeatable)',
      collect,
    )
    .action(async (mechanisms: string[], flags: AbFlags) => abCommand(mechanisms, flags))
}

interface Outputs {
  base: string
  current: string
  baseConfirm: string
  currentConfirm: string
}

async function abCommand(mechanisms: string[], flags: AbFlags): Promise<void> {
  // Phase 1: everything the user typed, checked before the host is touched.
  const runId = newRunId()
  const { o, specs } = planRun(mechanisms, flags, runId)
  if (o.subtractOverhead)
    throw new UsageError(
      "--subtract-overhead: not for ab; the harness's own round trip is measured in this Node only, and taking one constant off both sides would move the ratio",
    )
  const compareOptions = resolveCompareOptions(flags)
  const exports = (flags.export ?? []).map(parseExport)
  const base = resolveConfiguration({ label: 'base', node: flags.baseNode, env: flags.baseEnv ?? [], root: flags.baseRoot })
  const current = resolveConfiguration({ label: 'current', node: flags.currentNode, env: flags.currentEnv ?? [], root: flags.currentRoot })
  const baseModules = await baseMechanisms(flags, o)
  checkDifference(base, current, flags.aa === true, moduleDifferences(baseModules, o))
  const out = outputs(flags, o.out, runId)
  for (const [option, path] of [['--markdown', flags.markdown], ['--json', flags.json], ...exports.map((e) => ['--export', e.file])] as const)
    if (path) checkWritableFile(option, path)

  // Phase 2: round 1, the whole matrix.
  const host = await prepareHost(o, specs, flags, runId)
  for (const c of [base, current]) process.stderr.write(`${describe(c)}\n`)
  const progress = new Progress(flags.progress === true || process.stderr.isTTY === true)
  const interrupts = onInterrupt(progress)
  const round: Omit<AbRound, 'round' | 'specs' | 'base' | 'current'> = { session: runId, o, ...host }
  const side = (c: Configuration, path: string) => ({
    configuration: c,
    out: path,
    faultFor: testFaultFor({ ...process.env, ...c.env }),
    ...(c === base && baseModules.length > 0 ? { mechanismModules: baseModules } : {}),
  })
  const measure = async (n: 1 | 2, cases: CaseSpec[], basePath: string, currentPath: string): Promise<{ base: RunResult; current: RunResult }> => {
    progress.start(cases.length, o, `${basePath}, ${currentPath}`)
    try {
      const hooks = {
        onCaseStart: progress.caseStart.bind(progress),
        onCaseEnd: (rs: RunResult['cases']) => progress.casesEnd(rs, ['base', 'current']),
      }
      return await runAbRound(
        { ...round, round: n, specs: cases, base: side(base, basePath), current: side(current, currentPath) },
        hooks,
        interrupts.signal,
      )
    } finally {
      progress.stop()
    }
  }
  let final: Comparison
  let first: { base: RunResult; current: RunResult }
  const written = [out.base, out.current]
  try {
    first = await measure(1, specs, out.base, out.current)
    if (stopped(interrupts, first, out.base, out.current)) return
    const round1 = comparePair(first, compareOptions, out.base, out.current)
    final = round1

    // Phase 3: round 2, the flagged cases again, before a verdict counts.
    if (flags.confirm !== false) {
      const flagged = new Set(round1.cases.filter((c) => c.verdict !== 'unchanged').map((c) => c.id))
      let round2: Comparison | undefined
      if (flagged.size > 0) {
        progress.note(`round 2: measuring the ${flagged.size} flagged case(s) again`)
        const second = await measure(
          2,
          specs.filter((s) => flagged.has(s.id)),
          out.baseConfirm,
          out.currentConfirm,
        )
        if (stopped(interrupts, second, out.baseConfirm, out.currentConfirm)) return
        written.push(out.baseConfirm, out.currentConfirm)
        round2 = comparePairOrSay(second, compareOptions, out.baseConfirm, out.currentConfirm)
      }
      final = confirmComparison(round1, round2)
    }
  } finally {
    interrupts.dispose()
  }

  // Phase 4: every requested output, then the exit code.
  process.stdout.write(renderCompareTable(final, { color: useColor(process.stdout) }) + '\n')
  process.stdout.write(`Results: ${written.join(', ')}\n`)
  if (flags.markdown) writeOutputFile('--markdown', flags.markdown, renderCompareMarkdown(final, 'ipcbench ab'))
  if (flags.json) writeOutputFile('--json', flags.json, renderCompareJson(final))
  for (const e of exports) writeOutputFile('--export', e.file, JSON.stringify(buildExport(e.kind, first.current), null, 2) + '\n')
  const regressed = final.cases.filter((c) => c.verdict === 'regressed')
  if (regressed.length > 0 && flags.failOnRegression) {
    throw new ExitCode(1, `${regressed.length} case(s) regressed (--fail-on-regression): ${regressed.map((c) => c.id).join(', ')}`)
  }
}

/**
 * `--base-mechanism`: each module loaded and checked (not registered: the plan is the
 * current version's), and it must replace a custom mechanism this run measures.
 */
async function baseMechanisms(flags: AbFlags, o: ResolvedOptions): Promise<MechanismModule[]> {
  const modules: MechanismModule[] = []
  for (const spec of flags.baseMechanism ?? []) {
    const { module } = await loadMechanismModule(spec)
    if (!o.mechanismModules?.some((m) => m.id === module.id))
      throw new UsageError(
        `--base-mechanism ${spec}: declares id "${module.id}", which no --mechanism module of this run declares; pass the current version with --mechanism`,
      )
    modules.push(module)
  }
  return modules
}

/** A custom mechanism whose two versions differ in their bytes is a difference an A/B may be about. */
function moduleDifferences(baseModules: readonly MechanismModule[], o: ResolvedOptions): string[] {
  return baseModules
    .filter((b) => o.mechanismModules?.find((c) => c.id === b.id)?.sha256 !== b.sha256)
    .map((b) => `custom mechanism ${b.id} (${b.path} vs ${o.mechanismModules!.find((c) => c.id === b.id)!.path})`)
}

/** An A/B needs a difference, an A/A (`--aa`) must have none. */
function checkDifference(base: Configuration, current: Configuration, aa: boolean, more: readonly string[] = []): void {
  const differences = [...configurationDifferences(base, current), ...more]
  if (aa && differences.length > 0)
    throw new UsageError(
      `--aa: base and current must be the same configuration for an A/A run, but they differ in ${differences.join('; ')}; drop --aa or the difference`,
    )
  if (!aa && differences.length === 0)
    throw new UsageError(
      'ab: base and current are the same configuration (Node binary, environment and case root); give them a difference with ' +
        '--base-node/--current-node, --base-env/--current-env, --base-root/--current-root or --base-mechanism, or pass --aa for an A/A run (e.g. to calibrate the threshold)',
    )
}

function outputs(flags: AbFlags, defaultOut: string, runId: string): Outputs {
  const base = resolve(flags.outBase ?? join(dirname(defaultOut), `${runId}-base.json`))
  const current = resolve(flags.outCurrent ?? join(dirname(defaultOut), `${runId}-current.json`))
  if (base === current) throw new UsageError(`--out-base and --out-current: both name ${base}; give two files`)
  const confirm = (path: string): string => path.replace(/(\.json)?$/, '-confirm.json')
  const o = { base, current, baseConfirm: confirm(base), currentConfirm: confirm(current) }
  checkWritableFile('--out-base', o.base)
  checkWritableFile('--out-current', o.current)
  return o
}

const describe = (c: Configuration): string => {
  const env = Object.entries(c.env).map(([k, v]) => `${k}=${v}`)
  const root = c.root ? `; case root ${c.root.path} (ipcbench ${c.root.version}${c.root.commit ? `, commit ${c.root.commit.slice(0, 7)}` : ''})` : ''
  return `${c.label.padEnd(7)}  node ${c.node.version} (${c.node.execPath})${env.length > 0 ? `; env ${env.join(' ')}` : ''}${root}`
}

/** The comparison of one round; errored cases are said first, since compare lists them only as not compared. */
function comparePair(runs: { base: RunResult; current: RunResult }, options: CompareOptions, basePath: string, currentPath: string): Comparison {
  for (const [label, run] of Object.entries(runs)) {
    const errored = run.cases.filter((c) => c.state === 'errored')
    if (errored.length > 0)
      process.stderr.write(
        `${errored.length} case(s) errored in ${label}:\n${errored.map((c) => `  ${c.id}: ${'reason' in c ? c.reason : ''}`).join('\n')}\n`,
      )
  }
  return compare(runs.base, runs.current, options, { base: basePath, current: currentPath })
}

/** Round 2 with no flagged case completed in both runs leaves every flag unconfirmed, with the reason (not exit 2). */
function comparePairOrSay(
  runs: { base: RunResult; current: RunResult },
  options: CompareOptions,
  basePath: string,
  currentPath: string,
): Comparison | undefined {
  try {
    return comparePair(runs, options, basePath, currentPath)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`round 2: ${err.message}; no flag is confirmed\n`)
    return undefined
  }
}

/** After an interrupt: say what the files keep and exit as run does, without a verdict on half a matrix. */
function stopped(interrupts: Interrupts, runs: { base: RunResult; current: RunResult }, basePath: string, currentPath: string): boolean {
  const sig = interrupts.received
  if (!sig) return false
  const kept = runs.current.cases.filter((c) => c.state !== 'aborted').length
  process.stderr.write(`Interrupted by ${sig}; no verdict; the result files keep ${kept} finished case(s): ${basePath}, ${currentPath}\n`)
  process.exitCode = interruptExitCode(sig)
  return true
}

/**
 * ipcbench's public API: what `import … from 'ipcbench'` (or `require('ipcbench')`)
 * offers, and nothing else (package.json's exports map points here alone). Every
 * function goes through the same code as the command line: `run` plans, prepares the
 * host and measures as `ipcbench run` does; the renderers are `ipcbench report`'s.
 * See docs/ARCHITECTURE.md for how the parts fit.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ownedPrefix } from './core/paths.js'
import type { CaseResult, CaseSpec, Endpoints, Mode, Pattern, PinRequest, RunResult } from './core/result.js'
import { checkWritable, type RawRunOptions } from './harness/plan/options.js'
import { nodeExecutor } from './harness/run/node-executor.js'
import { planRun, prepareHost } from './harness/run/prepare.js'
import { newRunId, runSession, startSession } from './harness/run/session.js'
import { loadCustomMechanisms } from './mechanisms/custom.js'
import { buildCharts } from './report/charts.js'
import { compare as compareRuns, COMPARE_DEFAULTS, type CompareOptions, type Comparison, type MetricChoice } from './report/compare/compare.js'
import { resolveCompareOptions } from './report/compare/options.js'
import { renderCompareMarkdown, renderCompareTable } from './report/compare/render.js'
import { renderHtmlReport } from './report/html.js'
import { loadRun, parseRun } from './report/load.js'
import { renderMarkdown as markdownOf, type MarkdownOptions } from './report/markdown.js'
import { renderCharts } from './report/render.js'
import { renderTables } from './report/table.js'

export { defineMechanism, MechanismDefinitionError, type MechanismDefinition } from './mechanisms/custom.js'
export { UsageError } from './core/errors.js'
export type {
  AsyncEndpoint,
  Channel,
  Endpoint,
  Family,
  PeerContext,
  PeerHandoff,
  PeerLink,
  SetupContext,
  SizeLimit,
  SyncEndpoint,
} from './mechanisms/types.js'
export type {
  CaseResult,
  CaseSpec,
  CaseState,
  CompletedCase,
  Cost,
  CpuTotal,
  Endpoints,
  Environment,
  FloorResult,
  FloorRatio,
  HostLimits,
  LatencyNs,
  MechanismModule,
  Mode,
  Pattern,
  PinRequest,
  RepetitionResult,
  ResolvedOptions,
  RunContext,
  RunResult,
  Throughput,
} from './core/result.js'
export type { Warning, WarningCode } from './core/warnings.js'
export type { Comparison, CaseComparison, CompareOptions, MetricChoice, Verdict } from './report/compare/compare.js'
export type { MarkdownOptions } from './report/markdown.js'

/**
 * What `run` measures and how: the options of `ipcbench run`, by the same names.
 * Lists may be arrays or the command line's comma-separated text; times are
 * milliseconds or text such as `500ms`; sizes bytes or text such as `64k`.
 */
export interface RunOptions {
  /**
   * Built-in mechanism ids (`ipcbench list`) and paths of custom mechanism modules
   * (anything with a `/` or a `.js`/`.mjs` ending), resolved against `cwd`. With none,
   * every built-in; with only modules, only those.
   */
  mechanisms?: readonly string[]
  /** Custom mechanism modules, as `--mechanism` takes them (the same as naming them in `mechanisms`). */
  mechanism?: readonly string[]
  modes?: string | readonly Mode[]
  endpoints?: string | readonly Endpoints[]
  patterns?: string | readonly Pattern[]
  sizes?: string | ReadonlyArray<number | string>
  /** Fan-in (the `fanin` pattern): the sender counts, one case each (`--senders`; default 1, 2 and 4). */
  senders?: string | readonly number[]
  /** Load (the `load` pattern): offered rates, one case each, e.g. `['10%', '50%', 20000]` (`--rates`; default 10%, 50%, 90%). */
  rates?: string | ReadonlyArray<string | number>
  /** Pairs of each case run at once (`--pairs`; default 1). */
  pairs?: string | readonly number[]
  /** Where several pairs go (`--pair-placement`; default `auto`). */
  pairPlacement?: 'auto' | 'within-node' | 'across-nodes' | 'same-cpu'
  /** Only these case ids (`*` matches anything), e.g. `['unix-stream/nonblocking/*']`. */
  cases?: string | readonly string[]
  repetitions?: number
  duration?: number | string
  warmup?: number
  maxMessages?: number
  /** A repetition ends once it has this many samples and has run 10 ms (`--target-samples`; 0: the whole duration). */
  targetSamples?: number
  /**
   * A case stops before `repetitions` once its figure's relative margin of error is within
   * this many percent, for Node and the C floor alike, after at least 4 repetitions
   * (`--target-rme`; default 5; 0: every repetition).
   */
  targetRme?: number
  timeout?: number | string
  pin?: PinRequest
  /** The `--quick` matrix: 64 B ping-pong, 64 KiB streams, 3 short repetitions. */
  quick?: boolean
  /** false: no C floor beside the Node cases (`--no-floor`). */
  floor?: boolean
  subtractOverhead?: boolean
  /** Node and V8 flags for every Node process of a case (`--node-args`), e.g. `['--max-opt=1']`. */
  nodeArgs?: string[]
  /** The result file, rewritten after every case. Without it the result is only returned. */
  out?: string
  /** A directory for every ping-pong repetition's raw samples, as `--samples` writes them. */
  samples?: string
  /** Wait for another ipcbench run measuring on this host to end first (`--wait`). */
  wait?: boolean
  /** Where relative module paths are resolved (default: the working directory). */
  cwd?: string
  /** Aborting stops the run: the running case's processes are killed, its objects removed, and `run` resolves with what finished. */
  signal?: AbortSignal
  /** Called as the run goes; it must not throw. */
  onProgress?: (event: RunProgress) => void
}

/** What `run` reports while it goes. */
export type RunProgress =
  /** The plan is made: `total` cases will run (their repetitions in fresh peers). */
  | { type: 'start'; runId: string; total: number; cases: CaseSpec[] }
  /** Something a person should know now (a warning about the host, a wait for another run). */
  | { type: 'note'; message: string }
  | { type: 'case-start'; spec: CaseSpec; index: number; total: number }
  | { type: 'case-end'; result: CaseResult; index: number; total: number }

const isModulePath = (s: string): boolean => s.includes('/') || s.includes('\\') || /\.(m|c)?js$|\.ts$/.test(s) || s.startsWith('file:')
const listText = (v: string | ReadonlyArray<string | number> | undefined): string | undefined =>
  typeof v === 'string' || v === undefined ? v : v.join(',')
const timeText = (v: number | string | undefined): string | undefined => (typeof v === 'number' ? `${v}ms` : v)
const countText = (v: number | undefined): string | undefined => (v === undefined ? undefined : String(v))

/**
 * Runs a plan, as `ipcbench run` does: every case in fresh peers, payloads checked,
 * CPU metered, repetitions, the C floor beside each case. Resolves with the result
 * (`context.status` is `interrupted` when `signal` aborted it). Throws a UsageError
 * for options or a custom module that break a rule, before anything is measured.
 */
export async function run(options: RunOptions = {}): Promise<RunResult> {
  options.signal?.throwIfAborted()
  const named = options.mechanisms ?? []
  const modules = [...named.filter(isModulePath), ...(options.mechanism ?? [])]
  const loaded = await loadCustomMechanisms(modules, options.cwd)
  const runId = newRunId()
  // No file asked for: the session still writes one after every case, in a private directory removed at the end.
  const scratch = options.out === undefined ? mkdtempSync(join(tmpdir(), ownedPrefix('api-'))) : undefined
  const raw: RawRunOptions = {
    modes: listText(options.modes),
    endpoints: listText(options.endpoints),
    patterns: listText(options.patterns),
    sizes: listText(options.sizes),
    senders: listText(options.senders),
    rates: listText(options.rates),
    pairs: listText(options.pairs),
    pairPlacement: options.pairPlacement,
    cases: listText(options.cases),
    repetitions: countText(options.repetitions),
    duration: timeText(options.duration),
    warmup: countText(options.warmup),
    maxMessages: countText(options.maxMessages),
    targetSamples: countText(options.targetSamples),
    targetRme: countText(options.targetRme),
    timeout: timeText(options.timeout),
    pin: options.pin,
    quick: options.quick,
    floor: options.floor,
    subtractOverhead: options.subtractOverhead,
    nodeArgs: options.nodeArgs === undefined ? undefined : options.nodeArgs.join(' '),
    out: options.out ?? join(scratch!, `${runId}.json`),
    samples: options.samples,
  }
  try {
    const { o, specs } = planRun(
      named.filter((m) => !isModulePath(m)),
      raw,
      runId,
      { modules: loaded.map((l) => l.module), withEveryBuiltIn: false },
    )
    checkWritable(o.out)
    const notify = (message: string): void => options.onProgress?.({ type: 'note', message })
    const host = await prepareHost(o, specs, raw, runId, { wait: options.wait, alpha: COMPARE_DEFAULTS.alpha, notify })
    const node = nodeExecutor({ nodeArgs: o.nodeArgs })
    try {
      const session = startSession(runId, o, host.env, specs, host.warnings, host.calibration)
      options.onProgress?.({ type: 'start', runId, total: specs.length, cases: specs })
      const hooks = {
        executors: { node, floor: host.floor },
        onCaseStart: (spec: CaseSpec, index: number, total: number) => options.onProgress?.({ type: 'case-start', spec, index, total }),
        onCaseEnd: (result: CaseResult, index: number, total: number) => options.onProgress?.({ type: 'case-end', result, index, total }),
      }
      return await runSession(session, o, hooks, options.signal ?? new AbortController().signal)
    } finally {
      node.dispose()
      host.releaseLock()
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true })
  }
}

/** Reads and checks a result file (any `ipcbench/run@…` version this ipcbench reads); throws a UsageError naming the file and the problem. */
export function loadResult(path: string): RunResult {
  return loadRun(path)
}

/** Checks a result already in memory (the text of a result file), as `loadResult` does. */
export function parseResult(text: string, label?: string): RunResult {
  return parseRun(text, label)
}

/** `ipcbench compare`'s options, by its names: `threshold` in percent, `alpha` in (0, 0.5]. */
export interface CompareRunsOptions {
  threshold?: number | string
  alpha?: number | string
  metric?: MetricChoice
  force?: boolean
}

/**
 * Compares two runs case by case, as `ipcbench compare` does: a significance test
 * over the repetitions and a noise threshold together, a verdict per case. A run is
 * a result or the path of a result file. Throws a UsageError when the two cannot be
 * compared (different environments, unless `force`).
 */
export function compare(base: RunResult | string, current: RunResult | string, options: CompareRunsOptions = {}): Comparison {
  const o: CompareOptions = resolveCompareOptions({
    threshold: options.threshold === undefined ? undefined : String(options.threshold),
    alpha: options.alpha === undefined ? undefined : String(options.alpha),
    metric: options.metric,
    force: options.force,
  })
  const label = (r: RunResult | string, fallback: string): string => (typeof r === 'string' ? r : fallback)
  const read = (r: RunResult | string): RunResult => (typeof r === 'string' ? loadRun(r) : r)
  return compareRuns(read(base), read(current), o, { base: label(base, 'base'), current: label(current, 'current') })
}

/** The terminal tables `ipcbench report RUN.json` prints (no colour unless asked). */
export function renderTable(result: RunResult, options: { color?: boolean } = {}): string {
  return renderTables(result, { color: options.color === true })
}

/** GitHub markdown of one run or several (environment, summary tables, links to SVG charts when given). */
export function renderMarkdown(results: RunResult | readonly RunResult[], options: MarkdownOptions = {}): string {
  return markdownOf(asList(results), options)
}

/** The self-contained HTML report (inline SVG charts, no script, opens offline), of one run or several overlaid. */
export async function renderHtml(results: RunResult | readonly RunResult[]): Promise<string> {
  return renderHtmlReport(asList(results))
}

/** One rendered chart: an SVG, or a note where the runs hold nothing to draw. */
export interface RenderedSvgChart {
  id: string
  title: string
  question: string
  svg?: string
  note?: string
}

/** Every chart of the report as SVG text (`ipcbench report --svg`), rendered in Node without a browser or the network. */
export async function renderSvgCharts(results: RunResult | readonly RunResult[]): Promise<RenderedSvgChart[]> {
  const charts = await renderCharts(buildCharts(asList(results)))
  return charts.map(({ id, title, question, svg, note }) => ({ id, title, question, ...(svg ? { svg } : {}), ...(note ? { note } : {}) }))
}

/** A comparison as the terminal table or the markdown `ipcbench compare` writes. */
export function renderComparison(comparison: Comparison, format: 'table' | 'markdown' = 'table', options: { color?: boolean } = {}): string {
  return format === 'markdown' ? renderCompareMarkdown(comparison) : renderCompareTable(comparison, { color: options.color === true })
}

const asList = (r: RunResult | readonly RunResult[]): RunResult[] => (Array.isArray(r) ? [...(r as RunResult[])] : [r as RunResult])

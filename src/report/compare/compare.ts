import { UsageError } from '../../core/errors.js'
import {
  autoMetric,
  isLatencyPattern,
  isOnePair,
  repetitionFigure,
  type CaseMetric,
  type CaseResult,
  type CaseSpec,
  type Pattern,
  type RunConfiguration,
  type RunResult,
} from '../../core/result.js'
import { formatSignedPct } from '../../core/units.js'
import { describeDifference, environmentDifferences, softWarnings, type EnvDifference } from './environment.js'
import { minimumDetectablePct } from './mde.js'
import {
  bootstrapRatioOfMedians,
  DEFAULT_ALPHA,
  hashSeed,
  holm,
  mannWhitneyU,
  median,
  minAttainableP,
  repetitionsNeeded,
  type MannWhitney,
} from '../../core/inference.js'

/**
 * Two runs in, one verdict per case out. A case is `regressed` only when both tests
 * agree: the difference is significant (Mann–Whitney p < alpha over the
 * per-repetition figures) AND the whole 95% interval of the change lies beyond the
 * noise threshold in the worse direction. Significance alone flags tiny real changes
 * that nobody should act on; a big change without significance is noise.
 */

/**
 * `auto`: each case by its pattern's own figure, the one the run's early stop judges by
 * too (`autoMetric` in core/result.ts: p50, p99 under load, throughput of streams, fan-in
 * and several pairs).
 */
export type MetricChoice = 'auto' | 'p50' | 'p99' | 'throughput'
export type { CaseMetric }
export type Verdict = 'regressed' | 'improved' | 'unchanged'
/** `not confirmed`: flagged in the first round of `ab`, not again in its confirmation round. */
export type UnchangedReason = 'too few repetitions' | 'not significant' | 'within noise' | 'not confirmed'

export interface CompareOptions {
  /** Noise band, percent either side of no change. */
  thresholdPct: number
  alpha: number
  metric: MetricChoice
  /** Compare runs from different environments anyway (the differences become warnings). */
  force: boolean
  resamples: number
  seed: number
}

export const COMPARE_DEFAULTS: Readonly<CompareOptions> = {
  thresholdPct: 10,
  alpha: DEFAULT_ALPHA,
  metric: 'auto',
  force: false,
  resamples: 2000,
  seed: 1,
}

export interface Figures {
  n: number
  median: number
  values: number[]
}

export interface CaseComparison {
  id: string
  pattern: Pattern
  /** Several pairs at once: how many (their metric is the aggregate throughput). */
  pairs?: number
  metric: CaseMetric
  /** Unit of the figures: latency in nanoseconds, throughput in bytes per second. */
  unit: 'ns' | 'bytes/s'
  /** Latency is worse when higher, throughput when lower. */
  worseWhen: 'higher' | 'lower'
  base: Figures
  current: Figures
  /** median(current) / median(base). */
  ratio: number
  changePct: number
  /** 95% bootstrap interval of the ratio. */
  ci: { lower: number; upper: number }
  /** Two-sided Mann–Whitney p of this case alone. */
  p: number
  /** Holm-adjusted across the compared cases: the p that decides significance. */
  pAdjusted: number
  u: number
  test: 'exact' | 'normal'
  verdict: Verdict
  reason?: UnchangedReason
  /** One line saying why, with the numbers. */
  detail: string
  /**
   * Unchanged cases only: the minimum detectable effect, the smallest change in the
   * worse direction (percent, positive: latency up, throughput down) that these
   * repetitions would have let compare flag (report/compare/mde.ts); null when no
   * change could be flagged (too few repetitions).
   */
  mdePct?: number | null
  /** `ab` with confirmation, cases round 1 flagged: what round 2 made of them. */
  confirm?: ConfirmRound
}

/** A flagged case's second measurement (`ab`): its verdict and figures in round 2. */
export interface ConfirmRound {
  verdict: Verdict
  reason?: UnchangedReason
  ratio: number
  ci: { lower: number; upper: number }
  pAdjusted: number
  detail: string
}

export interface NotCompared {
  id: string
  /** `metric`: the chosen --metric does not apply to the case's pattern. */
  kind: 'metric' | 'state' | 'figures'
  reason: string
}

export interface RunSummary {
  label: string
  runId: string
  startedAt: string
  cpuModel: string
  kernel: string
  node: string
  pin: string
  commit?: string
  /** Runs written by `ab`: which configuration each measured. */
  configuration?: RunConfiguration
}

export interface Comparison {
  options: CompareOptions
  base: RunSummary
  current: RunSummary
  /** How significance is controlled across the compared cases: Holm, at family level alpha over `family` cases. */
  correction: { method: 'holm'; family: number; alpha: number }
  /** Non-empty only with `force`: without it a difference refuses the comparison. */
  environmentDifferences: EnvDifference[]
  warnings: string[]
  /** Largest change first. */
  cases: CaseComparison[]
  added: string[]
  removed: string[]
  notCompared: NotCompared[]
  counts: Record<Verdict, number>
  /** `ab` (unless --no-confirm): the re-measurement of the cases round 1 flagged (report/compare/confirm.ts). */
  confirmation?: Confirmation
}

export interface Confirmation {
  /** The cases round 1 flagged, re-measured in round 2. */
  ids: string[]
  /** Round 2's own comparison, over those cases only; absent when nothing was flagged. */
  round2?: Comparison
  /** Flagged in round 1 and again, the same way, in round 2. */
  confirmed: string[]
}

export function metricFor(choice: MetricChoice, c: Pick<CaseSpec, 'pattern' | 'pairs'>): CaseMetric | undefined {
  const pairs = !isOnePair(c)
  if (choice === 'auto') return autoMetric(c)
  if (choice === 'throughput') return pairs || c.pattern === 'stream' || c.pattern === 'fanin' ? 'throughput' : undefined
  return isLatencyPattern(c.pattern) ? choice : undefined
}

/** The cases an explicit --metric applies to, for the reason a case was not compared. */
export const METRIC_APPLIES_TO: Record<Exclude<MetricChoice, 'auto'>, string> = {
  p50: 'ping-pong, one-way and load cases',
  p99: 'ping-pong, one-way and load cases',
  throughput: 'stream and fan-in cases and several pairs at once',
}

/** The per-repetition figures a comparison is made over (missing or non-positive ones left out); several pairs' throughput is their aggregate. */
export function repetitionFigures(c: CaseResult, metric: CaseMetric): number[] {
  return c.repetitions.map((r) => repetitionFigure(r, metric)).filter((v): v is number => v !== undefined)
}

export const formatP = (p: number): string => (p < 0.0001 ? '<0.0001' : p < 0.01 ? p.toFixed(4) : p.toFixed(3))

export function compare(
  base: RunResult,
  current: RunResult,
  opts: Partial<CompareOptions> = {},
  labels = { base: 'base', current: 'current' },
): Comparison {
  const o: CompareOptions = { ...COMPARE_DEFAULTS, ...opts }

  // Phase 1: may these runs be compared at all?
  const diffs = environmentDifferences(base, current)
  if (diffs.length > 0 && !o.force) {
    // Another run measuring beside one of them (or both alike) is no difference of set-up but a flaw of the run it touched.
    const beside = [base, current].flatMap((r, k) => (r.context.env?.concurrentRun ? [k === 0 ? labels.base : labels.current] : []))
    throw new UsageError(
      diffs.every((d) => d.what === 'runs at the same time')
        ? `${labels.base} and ${labels.current} cannot be compared: another ipcbench run was measuring beside ${beside.join(' and ')} (${diffs.map(describeDifference).join('; ')}), ` +
            'and the two disturbed each other. Measure again with the host to yourself (--wait runs after the other), or pass --force to compare anyway'
        : `${labels.base} and ${labels.current} were measured in different environments (${diffs.map(describeDifference).join('; ')}); ` +
            'IPC figures do not carry across those. Compare runs from the same host and set-up, or pass --force to compare anyway (the differences are then shown as warnings)',
    )
  }
  const warnings = [...diffs.map((d) => `environment differs (--force): ${describeDifference(d)}`), ...softWarnings(base, current)]

  // Phase 2: pair the cases by id.
  const baseById = new Map(base.cases.map((c) => [c.id, c]))
  const currentById = new Map(current.cases.map((c) => [c.id, c]))
  const added = current.cases.filter((c) => !baseById.has(c.id)).map((c) => c.id)
  const removed = base.cases.filter((c) => !currentById.has(c.id)).map((c) => c.id)
  const notCompared: NotCompared[] = []
  const cases: CaseComparison[] = []
  const pending: Array<{ b: CaseResult; metric: CaseMetric; bv: number[]; cv: number[]; mw: MannWhitney }> = []
  for (const b of base.cases) {
    const c = currentById.get(b.id)
    if (!c) continue
    const metric = metricFor(o.metric, b)
    if (!metric) {
      notCompared.push({
        id: b.id,
        kind: 'metric',
        // `auto` has a metric for every pattern: only an explicit one leaves cases out.
        reason: `--metric ${o.metric} applies to ${METRIC_APPLIES_TO[o.metric as Exclude<MetricChoice, 'auto'>]} only`,
      })
      continue
    }
    if (b.state !== 'completed' || c.state !== 'completed') {
      // Skipped in both (a host limit, say) is expected; the reason was shown by the runs themselves.
      const why = (x: CaseResult, label: string): string => `${x.state} in ${label}${x.state !== 'completed' && x.reason ? ` (${x.reason})` : ''}`
      const which = b.state === c.state ? `${b.state} in both runs` : b.state !== 'completed' ? why(b, labels.base) : why(c, labels.current)
      notCompared.push({ id: b.id, kind: 'state', reason: which })
      continue
    }
    const bv = repetitionFigures(b, metric)
    const cv = repetitionFigures(c, metric)
    if (bv.length === 0 || cv.length === 0) {
      notCompared.push({
        id: b.id,
        kind: 'figures',
        reason: `no per-repetition ${metric} figures in ${bv.length === 0 ? labels.base : labels.current}`,
      })
      continue
    }
    pending.push({ b, metric, bv, cv, mw: mannWhitneyU(bv, cv) })
  }
  // Many cases are tested at once: Holm's adjustment keeps the chance of any false
  // alarm among them within alpha (the family level), where a per-case alpha would
  // expect one false alarm in every 20 cases.
  const adjusted = holm(pending.map((x) => x.mw.p))
  pending.forEach((x, k) => cases.push(compareCase(x.b, x.metric, x.bv, x.cv, x.mw, adjusted[k], pending.length, o)))
  if (cases.length === 0) {
    const why = o.metric === 'auto' ? '' : ` for --metric ${o.metric}`
    throw new UsageError(
      `${labels.base} and ${labels.current} have no completed case in common${why}; nothing to compare (are they runs of the same matrix?)`,
    )
  }

  // Phase 3: order and summarise.
  cases.sort((x, y) => Math.abs(y.ratio - 1) - Math.abs(x.ratio - 1) || x.id.localeCompare(y.id))
  const tooFew = cases.filter((c) => c.reason === 'too few repetitions')
  if (tooFew.length > 0) {
    warnings.push(
      `${tooFew.length} of ${cases.length} case(s) have too few repetitions for a significance test at family alpha ${o.alpha} over ${cases.length} case(s) (Holm): they can only be "unchanged" (use --repetitions ${repetitionsNeeded(o.alpha / cases.length)} or more in both runs)`,
    )
  }
  const counts = { regressed: 0, improved: 0, unchanged: 0 }
  for (const c of cases) counts[c.verdict]++
  return {
    options: o,
    base: summarize(base, labels.base),
    current: summarize(current, labels.current),
    correction: { method: 'holm', family: cases.length, alpha: o.alpha },
    environmentDifferences: o.force ? diffs : [],
    warnings,
    cases,
    added,
    removed,
    notCompared,
    counts,
  }
}

function compareCase(
  b: CaseResult,
  metric: CaseMetric,
  bv: number[],
  cv: number[],
  mw: MannWhitney,
  pAdjusted: number,
  family: number,
  o: CompareOptions,
): CaseComparison {
  const worseWhen = metric === 'throughput' ? 'lower' : 'higher'
  const ci = bootstrapRatioOfMedians(bv, cv, { seed: hashSeed(b.id, o.seed), resamples: o.resamples })
  const t = o.thresholdPct / 100
  const common = {
    id: b.id,
    pattern: b.pattern,
    ...(isOnePair(b) ? {} : { pairs: b.pairs }),
    metric,
    unit: metric === 'throughput' ? ('bytes/s' as const) : ('ns' as const),
    worseWhen: worseWhen as CaseComparison['worseWhen'],
    base: { n: bv.length, median: median(bv), values: bv },
    current: { n: cv.length, median: median(cv), values: cv },
    ratio: ci.ratio,
    changePct: (ci.ratio - 1) * 100,
    ci: { lower: ci.lower, upper: ci.upper },
    p: mw.p,
    pAdjusted,
    u: mw.u,
    test: mw.method,
  }
  const ciText = `95% CI ${formatSignedPct(ci.lower)} … ${formatSignedPct(ci.upper)}`
  const floorP = minAttainableP(bv.length, cv.length)
  const unchanged = (reason: UnchangedReason, detail: string): CaseComparison => ({
    ...common,
    verdict: 'unchanged',
    reason,
    detail,
    mdePct: minimumDetectablePct(bv, cv, ci, worseWhen, o.thresholdPct, o.alpha / family) ?? null,
  })
  // Even as the smallest p of the family, Holm multiplies it by the family's size.
  if (floorP * family >= o.alpha) {
    return unchanged(
      'too few repetitions',
      `${bv.length} vs ${cv.length} repetitions: the smallest possible two-sided p is ${+floorP.toPrecision(3)}, not below alpha ${o.alpha} over ${family} case(s) (Holm); use --repetitions ${repetitionsNeeded(o.alpha / family)} or more`,
    )
  }
  if (pAdjusted >= o.alpha) {
    const p = family > 1 ? `p ${formatP(mw.p)} (Holm-adjusted ${formatP(pAdjusted)} over ${family} cases)` : `p ${formatP(mw.p)}`
    return unchanged('not significant', `${p} ≥ alpha ${o.alpha}`)
  }
  const above = ci.lower > 1 + t
  const below = ci.upper < 1 - t
  if (above || below) {
    const verdict: Verdict = (above && worseWhen === 'higher') || (below && worseWhen === 'lower') ? 'regressed' : 'improved'
    return { ...common, verdict, detail: `${ciText} lies beyond ±${o.thresholdPct}%, p ${formatP(mw.p)}` }
  }
  return unchanged('within noise', `${ciText} reaches into the ±${o.thresholdPct}% noise band`)
}

function summarize(run: RunResult, label: string): RunSummary {
  const env = run.context.env
  return {
    label,
    runId: run.context.runId,
    startedAt: run.context.startedAt,
    cpuModel: env?.host?.cpuModel,
    kernel: env?.host?.kernel,
    node: env?.node?.version,
    pin: run.context.options?.pin,
    // With another checkout's case root (ab --base-root), what was measured is that checkout's code.
    ...(run.context.configuration?.root?.commit
      ? { commit: run.context.configuration.root.commit }
      : env?.ipcbench?.commit
        ? { commit: env.ipcbench.commit }
        : {}),
    ...(run.context.configuration ? { configuration: run.context.configuration } : {}),
  }
}

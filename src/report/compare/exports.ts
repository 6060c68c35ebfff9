import type { CaseResult, RunResult } from '../../core/result.js'
import { median } from '../../core/inference.js'
import { metricFor, repetitionFigures, type CaseMetric } from './compare.js'

/**
 * Exports of ONE run (the current one) for trend-tracking services. They share one
 * interface, like hyperfine's exporters: a kind, and a pure function from a run to
 * the JSON value the service documents. Each figure is the median over the run's
 * repetitions of the per-repetition figure that `compare` tests, with the
 * repetitions' min and max as its range.
 *
 * - `gab-latency`: github-action-benchmark `customSmallerIsBetter`,
 *   `[{ name, unit: "ns", value, range: "± x", extra }]`: p50 latency of ping-pong
 *   (round trip) and one-way cases, p99 of load cases (from the scheduled send time).
 * - `gab-throughput`: github-action-benchmark `customBiggerIsBetter`,
 *   `[{ name, unit: "MB/s", value, range, extra }]`, stream throughput in decimal MB/s,
 *   and the aggregate of several pairs at once.
 * - `bmf`: Bencher Metric Format, `{ "<case id>": { "<measure>": { value, lower_value, upper_value } } }`:
 *   `latency` (ns, p50) for ping-pong and one-way, `p99-latency` (ns) for load cases;
 *   `throughput` for streams and several pairs in messages per second, because
 *   Bencher's built-in Throughput measure is operations per second (one message is one
 *   operation; bytes/s = messages/s × the case's size).
 *
 * Which cases go where is compare's `auto` metric (`metricFor`); fan-in cases are not
 * exported.
 */

export type ExportKind = 'gab-latency' | 'gab-throughput' | 'bmf'
export const EXPORT_KINDS: readonly ExportKind[] = ['gab-latency', 'gab-throughput', 'bmf']

export interface GabEntry {
  name: string
  unit: string
  value: number
  range: string
  extra: string
}

export interface BmfMetric {
  value: number
  lower_value: number
  upper_value: number
}

export type Bmf = Record<string, { latency?: BmfMetric; 'p99-latency'?: BmfMetric; throughput?: BmfMetric }>

interface Spread {
  median: number
  min: number
  max: number
  n: number
}

function spreadOf(values: number[]): Spread | undefined {
  if (values.length === 0) return undefined
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length }
}

/** The completed cases compare would test by `metric` (its `auto` choice), fan-in left out. */
const completed = (run: RunResult, metrics: readonly CaseMetric[]): Array<{ c: CaseResult; metric: CaseMetric }> =>
  run.cases.flatMap((c) => {
    const metric = metricFor('auto', c)
    return c.state === 'completed' && c.pattern !== 'fanin' && metric && metrics.includes(metric) ? [{ c, metric }] : []
  })
const finite = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0
// The figures compare tests; messages per second only Bencher asks for.
const bytesPerSec = (c: CaseResult): number[] => repetitionFigures(c, 'throughput')
const msgsPerSec = (c: CaseResult): number[] => c.repetitions.map((r) => r.pairsRun?.aggregate.msgsPerSec ?? r.throughput?.msgsPerSec).filter(finite)
/** What a latency figure is, in the words of an export's `extra`. */
const latencyWords = (c: CaseResult, metric: CaseMetric): string =>
  c.pattern === 'load'
    ? `${metric} latency under load (from each message's scheduled send time)`
    : `${metric} ${c.pattern === 'oneway' ? 'one-way' : 'round-trip'} latency`
/** Three significant decimals is finer than any run-to-run spread; longer numbers only add noise to charts. */
const round3 = (v: number): number => Math.round(v * 1000) / 1000

/**
 * github-action-benchmark's `range` is free text; "± half the min–max spread" reads like
 * its own tools' output. Its parser wants a digit and at least one
 * more character after the "±", so a whole number keeps one decimal ("± 5.0").
 */
const range = (s: Spread): string => {
  const half = round3((s.max - s.min) / 2)
  return `± ${Number.isInteger(half) ? half.toFixed(1) : half}`
}

export function gabLatency(run: RunResult): GabEntry[] {
  const out: GabEntry[] = []
  for (const { c, metric } of completed(run, ['p50', 'p99'])) {
    const s = spreadOf(repetitionFigures(c, metric))
    if (!s) continue
    out.push({
      name: c.id,
      unit: 'ns',
      value: round3(s.median),
      range: range(s),
      extra: `median over ${s.n} repetition(s) of ${latencyWords(c, metric)}; min ${round3(s.min)} ns, max ${round3(s.max)} ns`,
    })
  }
  return out
}

export function gabThroughput(run: RunResult): GabEntry[] {
  const out: GabEntry[] = []
  for (const { c } of completed(run, ['throughput'])) {
    const s = spreadOf(bytesPerSec(c).map((v) => v / 1e6))
    if (!s) continue
    const what = c.pattern === 'stream' ? 'one-way throughput' : `the aggregate throughput of ${c.pairs} ${c.pattern} pairs at once`
    out.push({
      name: c.id,
      unit: 'MB/s',
      value: round3(s.median),
      range: range(s),
      extra: `median over ${s.n} repetition(s) of ${what} (1 MB = 10^6 bytes); min ${round3(s.min)}, max ${round3(s.max)} MB/s`,
    })
  }
  return out
}

export function bmf(run: RunResult): Bmf {
  const out: Bmf = {}
  const metric = (s: Spread): BmfMetric => ({ value: round3(s.median), lower_value: round3(s.min), upper_value: round3(s.max) })
  for (const { c, metric: m } of completed(run, ['p50', 'p99'])) {
    const s = spreadOf(repetitionFigures(c, m))
    if (s) out[c.id] = m === 'p50' ? { latency: metric(s) } : { 'p99-latency': metric(s) }
  }
  for (const { c } of completed(run, ['throughput'])) {
    const s = spreadOf(msgsPerSec(c))
    if (s) out[c.id] = { throughput: metric(s) }
  }
  return out
}

export function buildExport(kind: ExportKind, run: RunResult): unknown {
  switch (kind) {
    case 'gab-latency':
      return gabLatency(run)
    case 'gab-throughput':
      return gabThroughput(run)
    case 'bmf':
      return bmf(run)
  }
}

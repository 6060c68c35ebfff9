import Table from 'cli-table3'
import type { RunResult } from '../../core/result.js'
import { formatSignedPct } from '../../core/units.js'
import { tableStyle } from '../table.js'
import { compare, COMPARE_DEFAULTS, type CompareOptions } from './compare.js'

/**
 * A/A calibration: runs of the SAME build differ only by noise, so the noise
 * threshold must cover the changes such runs show. The suggestion is the largest
 * change of a median (|ratio − 1|) seen in any case of any A/A pair, rounded up to a
 * whole percent: what the pairs really did, not the edge of an interval built over
 * one run's repetitions, which cannot see the drift between runs (a noisier pair
 * would then suggest a smaller threshold). With it comes the false-alarm count
 * `compare` would have had on these pairs, at the suggestion and at the default.
 *
 * More pairs make the figure safer: a change larger than any seen so far is still
 * possible, and the suggestion says how many comparisons it rests on.
 */

export interface CalibratedCase {
  id: string
  changePct: number
  ci: { lower: number; upper: number }
}

export interface CalibrationPair {
  base: string
  current: string
  /** Largest |change| first. */
  cases: CalibratedCase[]
  /** Largest |change| of a median in this pair. */
  maxAbsChangePct: number
  tooFewRepetitions: number
}

/** The A/A threshold suggestion (not the harness's own calibration, HarnessCalibration in core/result.ts). */
export interface ThresholdCalibration {
  pairs: CalibrationPair[]
  /** Case comparisons the suggestion rests on (cases × pairs). */
  comparisons: number
  suggestedThresholdPct: number
  /** Quantiles of |change| over every comparison, percent. */
  absChangePct: { p50: number; p95: number; p99: number; max: number }
  /** Cases `compare` flags (regressed or improved) over all pairs, at the suggestion and at the default threshold. */
  falseAlarms: { atSuggested: number; atDefault: number; defaultPct: number }
  options: CompareOptions
}

export function calibrate(runs: ReadonlyArray<{ label: string; run: RunResult }>, opts: Partial<CompareOptions> = {}): ThresholdCalibration {
  if (runs.length < 2) throw new RangeError('calibrate: needs at least two runs')
  const pairs: CalibrationPair[] = []
  const pairRuns: Array<[RunResult, RunResult, { base: string; current: string }]> = []
  let options: CompareOptions | undefined
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const labels = { base: runs[i].label, current: runs[j].label }
      const cmp = compare(runs[i].run, runs[j].run, opts, labels)
      options = cmp.options
      pairRuns.push([runs[i].run, runs[j].run, labels])
      const cases = cmp.cases
        .map((c) => ({ id: c.id, changePct: c.changePct, ci: c.ci }))
        .sort((a, b) => Math.abs(b.changePct) - Math.abs(a.changePct) || a.id.localeCompare(b.id))
      pairs.push({
        ...labels,
        cases,
        maxAbsChangePct: Math.abs(cases[0]?.changePct ?? 0),
        tooFewRepetitions: cmp.cases.filter((c) => c.reason === 'too few repetitions').length,
      })
    }
  }
  const changes = pairs.flatMap((p) => p.cases.map((c) => Math.abs(c.changePct))).sort((a, b) => a - b)
  const at = (q: number): number => (changes.length === 0 ? 0 : changes[Math.min(changes.length - 1, Math.ceil(q * changes.length) - 1)])
  // A 0% threshold would flag every significant wobble; 1% is the floor. The 1e-9
  // keeps an exact whole percent (floating point: 20.000000000000018) from rounding up.
  const suggested = Math.max(1, Math.ceil(at(1) - 1e-9))
  const flagged = (thresholdPct: number): number =>
    pairRuns.reduce((n, [a, b, labels]) => {
      const { counts } = compare(a, b, { ...opts, thresholdPct }, labels)
      return n + counts.regressed + counts.improved
    }, 0)
  const defaultPct = opts.thresholdPct ?? COMPARE_DEFAULTS.thresholdPct
  return {
    pairs,
    comparisons: changes.length,
    suggestedThresholdPct: suggested,
    absChangePct: { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) },
    falseAlarms: { atSuggested: flagged(suggested), atDefault: flagged(defaultPct), defaultPct },
    options: options!,
  }
}

export function renderCalibration(cal: ThresholdCalibration, o: { color: boolean; top?: number }): string {
  const style = tableStyle(o.color)
  const parts: string[] = []
  for (const p of cal.pairs) {
    const t = new Table({ head: ['case', 'change', '95% CI'], style })
    for (const c of p.cases.slice(0, o.top ?? 5))
      t.push([c.id, `${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)}%`, `${formatSignedPct(c.ci.lower)} … ${formatSignedPct(c.ci.upper)}`])
    const note =
      p.tooFewRepetitions > 0
        ? `\n(${p.tooFewRepetitions} case(s) have too few repetitions for a significance test; compare would never flag them, but their changes still count here)`
        : ''
    parts.push(
      `${p.base} vs ${p.current}: ${p.cases.length} case(s); the largest change of a median is ${p.maxAbsChangePct.toFixed(1)}%${note}\n${t.toString()}`,
    )
  }
  const q = cal.absChangePct
  const rate = (n: number): string => `${n} of ${cal.comparisons} (${((100 * n) / Math.max(1, cal.comparisons)).toFixed(1)}%)`
  parts.push(
    [
      `Suggested threshold: ${cal.suggestedThresholdPct}%: it covers the largest change of a median in ${cal.comparisons} A/A comparison(s) over ${cal.pairs.length} pair(s) ` +
        `(|change|: median ${q.p50.toFixed(1)}%, p95 ${q.p95.toFixed(1)}%, p99 ${q.p99.toFixed(1)}%, max ${q.max.toFixed(1)}%).`,
      `False alarms compare would have raised on these pairs: ${rate(cal.falseAlarms.atSuggested)} at ${cal.suggestedThresholdPct}%, ${rate(cal.falseAlarms.atDefault)} at the default ${cal.falseAlarms.defaultPct}%.`,
      `Based on ${cal.pairs.length} pair(s) of ${cal.pairs.length === 1 ? 2 : 'these'} runs: more A/A pairs make it safer (a larger change than any seen so far is still possible).`,
      `Use it as: ipcbench compare --threshold ${cal.suggestedThresholdPct}% BASE.json CURRENT.json`,
    ].join('\n'),
  )
  return parts.join('\n\n')
}

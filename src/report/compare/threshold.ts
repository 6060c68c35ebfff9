import Table from 'cli-table3'
import type { RunResult } from '../../core/result.js'
import { formatSignedPct } from '../../core/units.js'
import { tableStyle } from '../table.js'
import { compare, type CompareOptions } from './compare.js'

/**
 * A/A calibration: runs of the SAME build differ only by noise, so the noise
 * threshold must be wide enough that none of their cases would be flagged. For every
 * pair of runs and every case, the threshold a case needs is how far its 95%
 * interval lies from "no change" (0 when the interval contains it). The suggestion
 * is the largest of these, rounded up to a whole percent.
 *
 * Significance is deliberately ignored here: between-run noise (a different
 * frequency, another memory layout) is exactly what repetitions within one run
 * cannot see, so a later A/B comparison could call it significant.
 */

export interface CalibratedCase {
  id: string
  changePct: number
  ci: { lower: number; upper: number }
  /** The smallest threshold, in percent, at which this case would not be flagged. */
  neededPct: number
}

export interface CalibrationPair {
  base: string
  current: string
  /** Largest need first. */
  cases: CalibratedCase[]
  neededPct: number
  /** Largest |change| of the medians: context, since a wide interval can hide a big wobble. */
  maxAbsChangePct: number
  tooFewRepetitions: number
}

/** The A/A threshold suggestion (not the harness's own calibration, HarnessCalibration in core/result.ts). */
export interface ThresholdCalibration {
  pairs: CalibrationPair[]
  suggestedThresholdPct: number
  options: CompareOptions
}

export function calibrate(runs: ReadonlyArray<{ label: string; run: RunResult }>, opts: Partial<CompareOptions> = {}): ThresholdCalibration {
  if (runs.length < 2) throw new RangeError('calibrate: needs at least two runs')
  const pairs: CalibrationPair[] = []
  let options: CompareOptions | undefined
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const cmp = compare(runs[i].run, runs[j].run, opts, { base: runs[i].label, current: runs[j].label })
      options = cmp.options
      const cases = cmp.cases
        .map((c) => ({ id: c.id, changePct: c.changePct, ci: c.ci, neededPct: Math.max(0, c.ci.lower - 1, 1 - c.ci.upper) * 100 }))
        .sort((a, b) => b.neededPct - a.neededPct || a.id.localeCompare(b.id))
      pairs.push({
        base: runs[i].label,
        current: runs[j].label,
        cases,
        neededPct: cases[0]?.neededPct ?? 0,
        maxAbsChangePct: Math.max(0, ...cases.map((c) => Math.abs(c.changePct))),
        tooFewRepetitions: cmp.cases.filter((c) => c.reason === 'too few repetitions').length,
      })
    }
  }
  const worst = Math.max(...pairs.map((p) => p.neededPct))
  // A 0% threshold would flag every significant wobble; 1% is the floor. The 1e-9
  // keeps an exact whole percent (floating point: 5.000000000001) from rounding up.
  const suggested = Math.max(1, Math.ceil(worst - 1e-9))
  return { pairs, suggestedThresholdPct: suggested, options: options! }
}

export function renderCalibration(cal: ThresholdCalibration, o: { color: boolean; top?: number }): string {
  const style = tableStyle(o.color)
  const parts: string[] = []
  for (const p of cal.pairs) {
    const t = new Table({ head: ['case', 'change', '95% CI', 'needs'], style })
    for (const c of p.cases.slice(0, o.top ?? 5))
      t.push([
        c.id,
        `${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)}%`,
        `${formatSignedPct(c.ci.lower)} … ${formatSignedPct(c.ci.upper)}`,
        `${c.neededPct.toFixed(1)}%`,
      ])
    const note =
      p.tooFewRepetitions > 0
        ? `\n(${p.tooFewRepetitions} case(s) have too few repetitions for a significance test; compare would never flag them, but their noise still counts here)`
        : ''
    parts.push(
      `${p.base} vs ${p.current}: ${p.cases.length} case(s); the noisiest needs ±${p.neededPct.toFixed(1)}%; the largest change of a median is ${p.maxAbsChangePct.toFixed(1)}%${note}\n${t.toString()}`,
    )
  }
  const cases = cal.pairs.reduce((n, p) => n + p.cases.length, 0)
  parts.push(
    `Suggested threshold: ${cal.suggestedThresholdPct}%, the smallest whole percent at which none of ${cases} A/A comparison(s) in ${cal.pairs.length} pair(s) would be flagged.\n` +
      `Use it as: ipcbench compare --threshold ${cal.suggestedThresholdPct}% BASE.json CURRENT.json (more A/A runs give a safer figure)`,
  )
  return parts.join('\n\n')
}

import { UsageError } from '../../core/errors.js'
import { COMPARE_DEFAULTS, type CompareOptions, type MetricChoice } from './compare.js'
import { EXPORT_KINDS, type ExportKind } from './exports.js'

/**
 * `compare` and `calibrate` options as typed on the command line, resolved once into
 * a complete CompareOptions (echoed into the JSON output). Every rejection names the
 * option and shows a value that would work.
 */

export interface RawCompareOptions {
  threshold?: string
  alpha?: string
  metric?: string
  force?: boolean
}

const METRICS: readonly MetricChoice[] = ['auto', 'p50', 'p99', 'throughput']

export function resolveCompareOptions(raw: RawCompareOptions): CompareOptions {
  return {
    ...COMPARE_DEFAULTS,
    thresholdPct: parseThresholdPct(raw.threshold),
    alpha: parseAlpha(raw.alpha),
    metric: parseMetric(raw.metric),
    force: raw.force === true,
  }
}

/** `10%`, `10` or `2.5%` → 10, 10, 2.5 (percent). */
export function parseThresholdPct(text: string | undefined): number {
  if (text === undefined) return COMPARE_DEFAULTS.thresholdPct
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text)
  if (!m) throw new UsageError(`--threshold: "${text}" is not a percentage (use e.g. 10%)`)
  const pct = Number(m[1])
  if (!(pct > 0 && pct < 100)) throw new UsageError(`--threshold: ${pct}% is outside (0%, 100%) (use e.g. 10%)`)
  return pct
}

export function parseAlpha(text: string | undefined): number {
  if (text === undefined) return COMPARE_DEFAULTS.alpha
  const trimmed = text.trim()
  const alpha = Number(trimmed)
  if (trimmed === '' || !Number.isFinite(alpha)) throw new UsageError(`--alpha: "${text}" is not a number (use e.g. 0.05)`)
  // Above 0.5 a two-sided test would call most noise significant.
  if (!(alpha > 0 && alpha <= 0.5)) throw new UsageError(`--alpha: ${alpha} is outside (0, 0.5] (use e.g. 0.05)`)
  return alpha
}

export function parseMetric(text: string | undefined): MetricChoice {
  if (text === undefined) return COMPARE_DEFAULTS.metric
  if (!METRICS.includes(text as MetricChoice)) throw new UsageError(`--metric: "${text}" is not one of ${METRICS.join(', ')}`)
  return text as MetricChoice
}

export interface ExportRequest {
  kind: ExportKind
  file: string
}

/** `--export KIND=FILE`, repeatable: commander collects the raw strings, this checks each. */
export function parseExport(text: string): ExportRequest {
  const eq = text.indexOf('=')
  const kind = (eq < 0 ? text : text.slice(0, eq)).trim()
  const file = eq < 0 ? '' : text.slice(eq + 1).trim()
  if (!EXPORT_KINDS.includes(kind as ExportKind)) {
    throw new UsageError(`--export: "${kind}" is not one of ${EXPORT_KINDS.join(', ')} (use e.g. --export bmf=bench.json)`)
  }
  if (file === '') throw new UsageError(`--export: "${text}" names no file (use --export ${kind}=FILE)`)
  return { kind: kind as ExportKind, file }
}

/**
 * The formats the tracking services document, as checks: each returns what is wrong
 * with a parsed export file (empty when nothing is). Written from the services' own
 * sources, not from our exporters, so that a test of an export against them can fail.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/**
 * github-action-benchmark, tools `customSmallerIsBetter` and `customBiggerIsBetter`:
 * - src/extract.ts parses the file as JSON and maps it as an array of BenchmarkResult
 *   `{ name: string; value: number; unit: string; range?: string; extra?: string }`,
 *   keeping those five keys only;
 * - src/write/findAlerts.ts pairs each entry with the previous run's by `name` and
 *   divides one `value` by the other (so names are unique and values positive);
 * - src/extractRangeInfo.ts reads the number out of `range` with
 *   `/(?<prefix>(\+-|±)\s*)(?<value>\d.+)/` and `Number(value)`, to rescale it when the
 *   unit changes (src/normalizeBenchmarkResult.ts); a range it cannot read is kept as
 *   text, unscaled.
 */
export function gabProblems(data: unknown): string[] {
  if (!Array.isArray(data)) return ['not a JSON array']
  const problems: string[] = []
  const names = new Set<string>()
  data.forEach((e: unknown, i) => {
    const at = `[${i}]`
    if (!isObject(e)) return problems.push(`${at}: not an object`)
    if (typeof e.name !== 'string' || e.name === '') problems.push(`${at}.name: not a non-empty string`)
    else if (names.has(e.name)) problems.push(`${at}.name: "${e.name}" again (entries are paired by name)`)
    else names.add(e.name)
    if (!isNumber(e.value) || e.value <= 0) problems.push(`${at}.value: not a positive number`)
    if (typeof e.unit !== 'string') problems.push(`${at}.unit: not a string`)
    if (e.extra !== undefined && typeof e.extra !== 'string') problems.push(`${at}.extra: not a string`)
    if (e.range !== undefined) {
      if (typeof e.range !== 'string') problems.push(`${at}.range: not a string`)
      else {
        const m = /(?<prefix>(\+-|±)\s*)(?<value>\d.+)/.exec(e.range)
        if (!m || Number.isNaN(Number(m.groups?.value))) problems.push(`${at}.range: "${e.range}" has no number extractRangeInfo can read`)
      }
    }
    const extraKeys = Object.keys(e).filter((k) => !['name', 'value', 'unit', 'range', 'extra'].includes(k))
    if (extraKeys.length > 0) problems.push(`${at}: keys the action drops: ${extraKeys.join(', ')}`)
  })
  return problems
}

/** Bencher's built-in measures (each project has them) and their units. */
export const BENCHER_MEASURES = { latency: 'nanoseconds', throughput: 'operations per second' } as const

/**
 * Bencher Metric Format (bencher.dev/docs/reference/bencher-metric-format, its JSON
 * schema https://bencher.dev/bmf.json): an object of benchmark name → measure → metric;
 * a metric is `{ value: number, lower_value?: number, upper_value?: number }` (value
 * required). A benchmark's name is at most 1024 characters, a measure's slug at most 64.
 * Our own rule on top (the page's example follows it): lower_value ≤ value ≤ upper_value.
 */
export function bmfProblems(data: unknown): string[] {
  if (!isObject(data)) return ['not a JSON object']
  const problems: string[] = []
  for (const [name, measures] of Object.entries(data)) {
    if (name.length === 0 || name.length > 1024) problems.push(`benchmark name of ${name.length} characters (1..1024)`)
    if (!isObject(measures)) {
      problems.push(`${name}: not an object of measures`)
      continue
    }
    for (const [slug, metric] of Object.entries(measures)) {
      const at = `${name}.${slug}`
      if (!/^[a-z0-9-]{1,64}$/.test(slug)) problems.push(`${at}: measure "${slug}" is not a slug of 1..64 characters`)
      if (!isObject(metric)) {
        problems.push(`${at}: not a metric object`)
        continue
      }
      if (!isNumber(metric.value)) problems.push(`${at}.value: required, not a number`)
      for (const bound of ['lower_value', 'upper_value'] as const)
        if (metric[bound] !== undefined && !isNumber(metric[bound])) problems.push(`${at}.${bound}: not a number`)
      const extraKeys = Object.keys(metric).filter((k) => !['value', 'lower_value', 'upper_value'].includes(k))
      if (extraKeys.length > 0) problems.push(`${at}: keys not in the format: ${extraKeys.join(', ')}`)
      const { value, lower_value: lo, upper_value: hi } = metric
      if (isNumber(value) && ((isNumber(lo) && lo > value) || (isNumber(hi) && hi < value))) problems.push(`${at}: value outside its bounds`)
    }
  }
  return problems
}

import Table from 'cli-table3'
import { formatBytesPerSec, formatNs, formatSignedPct } from '../../core/units.js'
import { tableStyle } from '../table.js'
import { formatP, type CaseComparison, type Comparison, type RunSummary } from './compare.js'

/**
 * A comparison as text: a terminal table, GitHub-flavoured markdown (for a job
 * summary) and JSON (for scripts, e.g. to rerun the regressed cases). Pure
 * functions: a comparison in, a string out.
 */

export const COMPARE_SCHEMA = 'ipcbench/compare@1' as const

const figure = (c: CaseComparison, v: number): string => (c.unit === 'ns' ? formatNs(v) : formatBytesPerSec(v))
const verdictText = (c: CaseComparison): string => (c.reason ? `${c.verdict} (${c.reason})` : c.verdict)
const ciText = (c: CaseComparison): string => `${formatSignedPct(c.ci.lower)} … ${formatSignedPct(c.ci.upper)}`
const metricName = (c: CaseComparison): string => (c.metric === 'throughput' ? 'throughput' : `${c.metric} latency`)

/** "2 regressed, 1 improved, 40 unchanged" (+ added/removed when there are any). */
export function headline(cmp: Comparison): string {
  const parts = [`${cmp.counts.regressed} regressed`, `${cmp.counts.improved} improved`, `${cmp.counts.unchanged} unchanged`]
  if (cmp.added.length > 0) parts.push(`${cmp.added.length} added`)
  if (cmp.removed.length > 0) parts.push(`${cmp.removed.length} removed`)
  const c = cmp.correction
  return `${parts.join(', ')} (Holm, family alpha ${c.alpha} over ${c.family} case${c.family === 1 ? '' : 's'})`
}

const runLine = (r: RunSummary): string => `${r.label} (run ${r.runId}${r.commit ? `, commit ${r.commit.slice(0, 7)}` : ''})`

export function method(cmp: Comparison): string {
  const o = cmp.options
  const metric =
    o.metric === 'auto'
      ? 'ping-pong p50 latency, stream throughput'
      : o.metric === 'throughput'
        ? 'stream throughput'
        : `ping-pong ${o.metric} latency`
  return `metric: ${metric} per repetition; noise threshold ±${o.thresholdPct}%; Mann–Whitney p, Holm-adjusted across the ${cmp.correction.family} compared case(s), family alpha ${o.alpha}; 95% bootstrap CI of the ratio of medians (${o.resamples} resamples)`
}

/** Lines for the cases that were not compared; metric exclusions are one line, not one per case. */
function notComparedLines(cmp: Comparison): string[] {
  const lines: string[] = []
  const byMetric = cmp.notCompared.filter((n) => n.kind === 'metric')
  if (byMetric.length > 0) lines.push(`${byMetric.length} case(s) not compared: ${byMetric[0].reason}`)
  for (const n of cmp.notCompared.filter((x) => x.kind !== 'metric')) lines.push(`not compared ${n.id}: ${n.reason}`)
  return lines
}

export function renderCompareTable(cmp: Comparison, o: { color: boolean }): string {
  const style = tableStyle(o.color)
  const paint = (c: CaseComparison, s: string): string => {
    if (!o.color || c.verdict === 'unchanged') return s
    return `${c.verdict === 'regressed' ? '\x1b[31m' : '\x1b[32m'}${s}\x1b[39m`
  }
  const t = new Table({ head: ['case', 'base', 'current', 'change', '95% CI', 'p (Holm)', 'verdict'], style })
  for (const c of cmp.cases) {
    t.push([
      `${c.id} (${metricName(c)})`,
      figure(c, c.base.median),
      figure(c, c.current.median),
      formatSignedPct(c.ratio),
      ciText(c),
      formatP(c.pAdjusted),
      paint(c, verdictText(c)),
    ])
  }
  const parts = [`Comparing ${runLine(cmp.base)} → ${runLine(cmp.current)}\n${method(cmp)}`, t.toString(), headline(cmp)]
  if (cmp.removed.length > 0) parts.push(`Only in ${cmp.base.label} (removed): ${cmp.removed.join(', ')}`)
  if (cmp.added.length > 0) parts.push(`Only in ${cmp.current.label} (added): ${cmp.added.join(', ')}`)
  const nc = notComparedLines(cmp)
  if (nc.length > 0) parts.push(nc.join('\n'))
  if (cmp.warnings.length > 0) parts.push(cmp.warnings.map((w) => `warning  ${w}`).join('\n'))
  return parts.join('\n\n')
}

const mdEscape = (s: string): string => s.replace(/[|\\`*_<>]/g, (ch) => `\\${ch}`)

export function renderCompareMarkdown(cmp: Comparison): string {
  const out: string[] = [
    `### ipcbench compare: ${headline(cmp)}`,
    '',
    `${mdEscape(runLine(cmp.base))} → ${mdEscape(runLine(cmp.current))}  `,
    mdEscape(method(cmp)),
    '',
  ]
  if (cmp.warnings.length > 0) {
    out.push('**Warnings**', '', ...cmp.warnings.map((w) => `- ${mdEscape(w)}`), '')
  }
  out.push('| case | base | current | change | 95% CI | p (Holm) | verdict |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const c of cmp.cases) {
    const verdict = c.verdict === 'unchanged' ? verdictText(c) : `**${c.verdict}**`
    out.push(
      `| ${mdEscape(c.id)} (${metricName(c)}) | ${figure(c, c.base.median)} | ${figure(c, c.current.median)} | ${formatSignedPct(c.ratio)} | ${ciText(c)} | ${formatP(c.pAdjusted)} | ${verdict} |`,
    )
  }
  const details = (title: string, lines: string[]): void => {
    if (lines.length > 0) out.push('', `<details><summary>${title}</summary>`, '', ...lines.map((l) => `- ${mdEscape(l)}`), '', '</details>')
  }
  details(`Only in the base run (${cmp.removed.length})`, cmp.removed)
  details(`Only in the current run (${cmp.added.length})`, cmp.added)
  details(`Not compared (${cmp.notCompared.length})`, notComparedLines(cmp))
  return out.join('\n') + '\n'
}

/** The JSON written by `--json`: the whole comparison, schema-tagged so a later version can change it. */
export function renderCompareJson(cmp: Comparison): string {
  return JSON.stringify({ schema: COMPARE_SCHEMA, headline: headline(cmp), ...cmp }, null, 2) + '\n'
}

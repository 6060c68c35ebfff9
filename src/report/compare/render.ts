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
const metricName = (c: CaseComparison): string =>
  c.metric === 'throughput' ? (c.pairs ? 'aggregate throughput' : 'throughput') : `${c.metric} latency`
/** The minimum detectable effect in the worse direction ("+12.5%" for latency, "-12.5%" for throughput); blank for a flagged case. */
const mdeText = (c: CaseComparison): string => {
  if (c.mdePct === undefined) return ''
  if (c.mdePct === null) return 'none'
  return formatSignedPct(c.worseWhen === 'higher' ? 1 + c.mdePct / 100 : 1 - c.mdePct / 100)
}
const COLUMNS = ['case', 'base', 'current', 'change', '95% CI', 'p (Holm)', 'verdict', 'MDE']

/** One row of the table and the markdown: the case, both medians, the change, its interval and p, the verdict and the MDE. */
function cells(c: CaseComparison, verdict: string): string[] {
  return [
    `${c.id} (${metricName(c)})`,
    figure(c, c.base.median),
    figure(c, c.current.median),
    formatSignedPct(c.ratio),
    ciText(c),
    formatP(c.pAdjusted),
    verdict,
    mdeText(c),
  ]
}

/** "2 regressed, 1 improved, 40 unchanged" (+ added/removed when there are any, and what confirmation made of round 1). */
export function headline(cmp: Comparison): string {
  const parts = [`${cmp.counts.regressed} regressed`, `${cmp.counts.improved} improved`, `${cmp.counts.unchanged} unchanged`]
  if (cmp.added.length > 0) parts.push(`${cmp.added.length} added`)
  if (cmp.removed.length > 0) parts.push(`${cmp.removed.length} removed`)
  const c = cmp.correction
  const line = `${parts.join(', ')} (Holm, family alpha ${c.alpha} over ${c.family} case${c.family === 1 ? '' : 's'})`
  const k = cmp.confirmation
  if (!k) return line
  return k.ids.length === 0
    ? `${line}; nothing flagged in round 1, so no round 2`
    : `${line}; ${k.ids.length} flagged in round 1, ${k.confirmed.length} confirmed in round 2`
}

const configurationText = (r: RunSummary): string => {
  const c = r.configuration
  if (!c) return ''
  const env = Object.entries(c.env).map(([k, v]) => `${k}=${v}`)
  const root = c.root ? `, case root ${c.root.path}` : ''
  return `, node ${c.node.version}${env.length > 0 ? `, env ${env.join(' ')}` : ''}${root}`
}

const runLine = (r: RunSummary): string => `${r.label} (run ${r.runId}${r.commit ? `, commit ${r.commit.slice(0, 7)}` : ''}${configurationText(r)})`

export function method(cmp: Comparison): string {
  const o = cmp.options
  // The patterns beyond ping-pong and stream are named only where the comparison has them.
  const has = (p: string): boolean => cmp.cases.some((c) => c.pattern === p && !c.pairs)
  const pairs = cmp.cases.some((c) => c.pairs)
  const metric =
    o.metric === 'auto'
      ? [
          'ping-pong p50 latency, stream throughput',
          ...(has('oneway') ? ['one-way p50 latency'] : []),
          ...(has('load') ? ['p99 latency under load'] : []),
          ...(pairs ? ['the aggregate throughput of several pairs'] : []),
        ].join(', ')
      : o.metric === 'throughput'
        ? `stream throughput${pairs ? ', the aggregate throughput of several pairs' : ''}`
        : has('oneway') || has('load')
          ? `${o.metric} latency of ping-pong, one-way and load cases`
          : `ping-pong ${o.metric} latency`
  return `metric: ${metric} per repetition; noise threshold ±${o.thresholdPct}%; Mann–Whitney p, Holm-adjusted across the ${cmp.correction.family} compared case(s), family alpha ${o.alpha}; 95% bootstrap CI of the ratio of medians (${o.resamples} resamples); MDE: the smallest regression these repetitions could have flagged`
}

const round2Title = (r2: Comparison): string =>
  `Round 2 (confirmation): the ${r2.cases.length + r2.notCompared.length} case(s) flagged in round 1, measured again, interleaved (Holm over these)`

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
  const table = (cases: CaseComparison[]): string => {
    const t = new Table({ head: COLUMNS, style })
    for (const c of cases) t.push(cells(c, paint(c, verdictText(c))))
    return t.toString()
  }
  const parts = [`Comparing ${runLine(cmp.base)} → ${runLine(cmp.current)}\n${method(cmp)}`, table(cmp.cases)]
  const r2 = cmp.confirmation?.round2
  if (r2)
    parts.push(
      `${round2Title(r2)}\n${table(r2.cases)}${notComparedLines(r2)
        .map((l) => `\n${l}`)
        .join('')}`,
    )
  parts.push(headline(cmp))
  if (cmp.removed.length > 0) parts.push(`Only in ${cmp.base.label} (removed): ${cmp.removed.join(', ')}`)
  if (cmp.added.length > 0) parts.push(`Only in ${cmp.current.label} (added): ${cmp.added.join(', ')}`)
  const nc = notComparedLines(cmp)
  if (nc.length > 0) parts.push(nc.join('\n'))
  if (cmp.warnings.length > 0) parts.push(cmp.warnings.map((w) => `warning  ${w}`).join('\n'))
  return parts.join('\n\n')
}

const mdEscape = (s: string): string => s.replace(/[|\\`*_<>]/g, (ch) => `\\${ch}`)

/** `title`: the command that compared ("ipcbench ab" for an A/B). */
export function renderCompareMarkdown(cmp: Comparison, title = 'ipcbench compare'): string {
  const out: string[] = [
    `### ${title}: ${headline(cmp)}`,
    '',
    `${mdEscape(runLine(cmp.base))} → ${mdEscape(runLine(cmp.current))}  `,
    mdEscape(method(cmp)),
    '',
  ]
  if (cmp.warnings.length > 0) {
    out.push('**Warnings**', '', ...cmp.warnings.map((w) => `- ${mdEscape(w)}`), '')
  }
  const table = (cases: CaseComparison[]): void => {
    out.push(`| ${COLUMNS.join(' | ')} |`, '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |')
    for (const c of cases) {
      const [id, ...rest] = cells(c, c.verdict === 'unchanged' ? verdictText(c) : `**${c.verdict}**`)
      out.push(`| ${[mdEscape(id), ...rest].join(' | ')} |`)
    }
  }
  table(cmp.cases)
  const r2 = cmp.confirmation?.round2
  if (r2) {
    out.push('', `**${mdEscape(round2Title(r2))}**`, '')
    table(r2.cases)
    const missing = notComparedLines(r2)
    if (missing.length > 0) out.push('', ...missing.map((l) => `- ${mdEscape(l)}`))
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

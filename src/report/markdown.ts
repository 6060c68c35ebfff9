import { posix } from 'node:path'
import type { RunResult } from '../core/result.js'
import { buildCharts } from './charts.js'
import { adviceHead, adviceRows, whatToUse } from './advice.js'
import { findings } from './findings.js'
import { allWarnings, notCompleted, runLabels, summaryTables } from './summary.js'

/**
 * GitHub markdown: the environment line, the charts as links to SVG files already
 * written, and the summary tables; fit for a README or a CI job summary. Pure.
 */
export interface MarkdownOptions {
  /** Where the SVGs were written; each chart links `<svgDir>/<chart-id>.svg`. */
  svgDir?: string
  /** Explicit links per chart id (e.g. relative to the markdown file); wins over `svgDir`. */
  svgLinks?: Record<string, string>
}

/** Text safe inside a table cell or a line: no HTML, no cell breaks, one line. */
const md = (s: string): string =>
  s
    .replace(/[\\|]/g, (ch) => `\\${ch}`)
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\s*\n\s*/g, ' ')
const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``
const row = (cells: string[]): string => `| ${cells.join(' | ')} |`

function environmentLine(run: RunResult, label: string): string {
  const env = run.context.env
  const h = env?.host
  const parts = [
    `**Run** ${code(label)}`,
    h ? `${h.cpuModel} × ${h.cpuCount}, kernel ${h.kernel}` : undefined,
    env?.node ? `Node ${env.node.version}` : undefined,
    env?.ipcbench ? `ipcbench ${env.ipcbench.version}${env.ipcbench.commit ? ` (${env.ipcbench.commit.slice(0, 12)})` : ''}` : undefined,
    run.context.startedAt,
    run.context.status && run.context.status !== 'finished' ? `**${run.context.status}**` : undefined,
  ]
  return md(parts.filter(Boolean).join(' · '))
}

export function renderMarkdown(runs: RunResult[], o: MarkdownOptions = {}): string {
  const labels = runLabels(runs)
  const out: string[] = [`# ipcbench report: ${md(labels.join(' vs '))}`, '', ...runs.map((r, i) => `- ${environmentLine(r, labels[i])}`), '']

  runs.forEach((run, i) => {
    out.push(`## What to use${runs.length > 1 ? `: ${md(labels[i])}` : ''}`, '')
    for (const f of findings(run)) out.push(`- **${md(f.what)}**: ${md(f.items.join(' · '))}`)
    const advice = adviceRows(whatToUse(run))
    if (advice.length > 0) {
      out.push('', row([...adviceHead]), row(adviceHead.map(() => '---')))
      for (const r of advice) out.push(row(r.map((cell, j) => (j === 4 ? code(cell) : md(cell)))))
    }
    out.push('')
  })

  const linkFor = (id: string): string | undefined =>
    o.svgLinks?.[id] ?? (o.svgDir ? posix.join(o.svgDir.split('\\').join('/'), `${id}.svg`) : undefined)
  const charts = buildCharts(runs)
  if (charts.some((c) => c.spec && linkFor(c.id))) {
    out.push('## Charts', '')
    charts.forEach((c, i) => {
      out.push(`### ${i + 1}. ${md(c.title)}`, '', `_${md(c.question)}_`, '')
      const link = c.spec ? linkFor(c.id) : undefined
      if (link) out.push(`![${md(c.title)}](${encodeURI(link)})`, '')
      else if (c.note) out.push(`> ${md(c.note)}`, '')
    })
  }

  runs.forEach((run, i) => {
    out.push(`## Summary${runs.length > 1 ? `: ${md(labels[i])}` : ''}`, '')
    for (const t of summaryTables(run)) {
      out.push(`**${md(t.caption)}**`, '', row(t.head.map(md)), row(t.head.map((_, j) => (j === 0 ? '---' : '---:'))))
      for (const r of t.rows) out.push(row(r.map((cell, j) => (j === 0 ? code(cell) : md(cell)))))
      out.push('')
    }
    const warnings = allWarnings(run)
    if (warnings.length > 0) out.push('**Warnings**', '', ...warnings.map((w) => `- ${md(w)}`), '')
    const notDone = notCompleted(run)
    if (notDone.length > 0) {
      out.push('**Skipped and errored cases**', '', row(['case', 'state', 'reason']), row(['---', '---', '---']))
      for (const c of notDone) out.push(row([code(c.id), c.state, md(c.reason)]))
      out.push('')
    }
  })
  return out.join('\n')
}

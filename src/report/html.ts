import type { RunResult } from '../core/result.js'
import { formatSizeBytes } from '../core/units.js'
import { buildCharts } from './charts.js'
import { renderCharts, type RenderedChart } from './render.js'
import { adviceHead, adviceRows, whatToUse } from './advice.js'
import { findings } from './findings.js'
import { allWarnings, notCompleted, peakMemory, runLabels, summaryTables } from './summary.js'

/**
 * One self-contained HTML page: inline CSS and inline SVG, no script, no font, image or
 * link to anything outside the file, so it opens offline, from a CI artifact or a mail
 * attachment alike. Every piece of text from the result file is escaped.
 */

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!)

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0 auto;padding:1.5em 2em;max-width:1280px;color:#1d1d1f;background:#fff}
h1{font-size:1.6em;margin:0 0 .3em}h2{font-size:1.25em;margin:1.6em 0 .3em;border-bottom:1px solid #e3e3e3;padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .3em}
.env{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1.2em;margin:.5em 0 1em;font-size:.95em}.env dt{color:#666}.env dd{margin:0}
.question{color:#444;font-style:italic;margin:.2em 0 .6em}
figure{margin:0;overflow-x:auto}figure svg{max-width:100%;height:auto}
.note{background:#f6f6f6;border-left:4px solid #999;padding:.6em 1em;color:#333}
table{border-collapse:collapse;margin:.4em 0 1.2em;font-size:.9em}caption{text-align:left;font-weight:600;padding:.3em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;white-space:nowrap}th{background:#f3f3f3;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.reason{white-space:normal}
.warnings li{margin:.2em 0}.warnings{background:#fff8e6;border-left:4px solid #e0a400;padding:.6em 1em .6em 2em}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
.glance ul.findings{margin:.3em 0 1em;padding-left:1.4em}.glance ul.findings li{margin:.15em 0}
table.advice{width:100%}table.advice td{white-space:normal;vertical-align:top}table.advice td.tradeoff{width:38%;color:#333}table.advice td.nowrap{white-space:nowrap}
`

/**
 * Gives a chart's SVG ids (clip paths, gradients) a prefix: several SVGs inline in one
 * document share one id space, and a clash would clip one chart with another's path.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg.replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
}

function optionsText(run: RunResult): string {
  const o = run.context.options
  if (!o) return '–'
  const sizes = (xs: number[] | undefined): string => (xs ?? []).map(formatSizeBytes).join(',')
  return [
    `mechanisms ${o.mechanisms?.join(',')}`,
    `modes ${o.modes?.join(',')}`,
    `endpoints ${o.endpoints?.join(',')}${o.endpointsPerMechanism === 'one' ? ' (one kind per mechanism)' : ''}`,
    `patterns ${o.patterns?.join(',')}`,
    `sizes ping-pong ${sizes(o.sizesBytes?.pingpong)}, stream ${sizes(o.sizesBytes?.stream)}`,
    `repetitions ${o.repetitions}`,
    `duration ${o.durationMs} ms`,
    `warm-up ${o.warmup}`,
    `pin ${o.pin}`,
    `C floor ${o.floor ? 'on' : 'off'}`,
    ...(o.quick ? ['quick'] : []),
  ].join('; ')
}

function environmentHtml(run: RunResult, label: string): string {
  const ctx = run.context
  const env = ctx.env
  const h = env?.host
  const ver = env?.ipcbench
    ? `${env.ipcbench.version}${env.ipcbench.commit ? ` (${env.ipcbench.commit.slice(0, 12)}${env.ipcbench.dirty ? ', modified' : ''})` : ''}`
    : '–'
  const rows: Array<[string, string]> = [
    ['run', `${label}${ctx.status && ctx.status !== 'finished' ? ` (${ctx.status})` : ''}`],
    ['date', `${ctx.startedAt ?? '–'}${ctx.finishedAt ? ` → ${ctx.finishedAt}` : ''}`],
    ['CPU', h ? `${h.cpuModel} × ${h.cpuCount} (allowed: ${h.cpusAllowed?.length ?? '?'})${h.governor ? `, governor ${h.governor}` : ''}` : '–'],
    ['kernel', h ? `${h.kernel} (${h.platform}/${h.arch})` : '–'],
    ['Node', env?.node ? `${env.node.version} (V8 ${env.node.v8}, libuv ${env.node.libuv})` : '–'],
    ['ipcbench', ver],
    [
      'native',
      env?.native
        ? `addon ${env.native.addon.loaded ? 'loaded' : `not loaded (${env.native.addon.reason ?? '?'})`}; C floor ${env.native.floor.available ? 'available' : `not available (${env.native.floor.reason ?? '?'})`}`
        : '–',
    ],
    ['options', optionsText(run)],
  ]
  const memory = peakMemory(run)
  if (memory.length > 0) rows.push(['peak memory (resident)', memory.join('; ')])
  return `<dl class="env">${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`
}

/** The answers first: what stands out, and which mechanism to use for what. */
function glanceHtml(run: RunResult, label: string, several: boolean): string {
  const fs = findings(run)
  const list =
    fs.length > 0
      ? `<ul class="findings">${fs.map((f) => `<li><strong>${escapeHtml(f.what)}</strong>: ${escapeHtml(f.items.join(' · '))}</li>`).join('')}</ul>`
      : ''
  const advice = adviceRows(whatToUse(run))
  const table =
    advice.length > 0
      ? `<table class="advice" id="what-to-use${several ? `-${escapeHtml(label)}` : ''}"><caption>What to use: the best case for each need, with its spread and its cost</caption><thead><tr>${adviceHead.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${advice
          .map(
            (r) =>
              `<tr>${r.map((cell, j) => (j === 7 ? `<td class="tradeoff">${escapeHtml(cell)}</td>` : j === 4 ? `<td class="nowrap"><code>${escapeHtml(cell)}</code></td>` : `<td class="nowrap">${escapeHtml(cell)}</td>`)).join('')}</tr>`,
          )
          .join('\n')}\n</tbody></table>`
      : '<p class="note">no completed case to choose from</p>'
  return `<section class="glance" id="glance${several ? `-${escapeHtml(label)}` : ''}"><h2>What to use${several ? `: ${escapeHtml(label)}` : ''}</h2>${list}${table}</section>`
}

function chartHtml(c: RenderedChart, i: number): string {
  const body = c.svg ? `<figure>${scopeSvgIds(c.svg, `c${i + 1}`)}</figure>` : `<p class="note">${escapeHtml(c.note ?? 'no data')}</p>`
  return `<section class="chart" id="chart-${escapeHtml(c.id)}"><h2>${i + 1}. ${escapeHtml(c.title)}</h2><p class="question">${escapeHtml(c.question)}</p>${body}</section>`
}

function tablesHtml(run: RunResult, label: string): string {
  const parts = summaryTables(run).map((t) => {
    const head = t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')
    const body = t.rows
      .map(
        (r) =>
          `<tr>${r.map((cell, j) => (j === 0 ? `<td><code>${escapeHtml(cell)}</code></td>` : `<td class="num">${escapeHtml(cell)}</td>`)).join('')}</tr>`,
      )
      .join('\n')
    return `<table><caption>${escapeHtml(t.caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`
  })
  const warnings = allWarnings(run)
  if (warnings.length > 0) parts.push(`<h3>Warnings</h3><ul class="warnings">${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`)
  const notDone = notCompleted(run)
  if (notDone.length > 0) {
    const rows = notDone
      .map((c) => `<tr><td><code>${escapeHtml(c.id)}</code></td><td>${escapeHtml(c.state)}</td><td class="reason">${escapeHtml(c.reason)}</td></tr>`)
      .join('\n')
    parts.push(
      `<h3>Skipped and errored cases</h3><table><thead><tr><th>case</th><th>state</th><th>reason</th></tr></thead><tbody>\n${rows}\n</tbody></table>`,
    )
  }
  if (parts.length === 0) parts.push('<p class="note">no case in this run</p>')
  return `<section class="summary"><h2>Summary: ${escapeHtml(label)}</h2>${parts.join('\n')}</section>`
}

export interface PageOptions {
  title: string
  /** Everything between `<body>` and `</body>`, verbatim. */
  body: string
  /** Adds the viewport meta tag (the report has it, the history page does not). */
  viewport?: boolean
}

/** The shell every page shares: doctype, a head with the title and the CSS, the body. */
export function htmlPage(o: PageOptions): string {
  const viewport = o.viewport ? '<meta name="viewport" content="width=device-width, initial-scale=1">\n' : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${viewport}<title>${escapeHtml(o.title)}</title><style>${CSS}</style></head>
<body>${o.body}</body></html>
`
}

/** The page from charts already rendered (so `report --html --svg` renders once). */
export function htmlFromCharts(runs: RunResult[], charts: RenderedChart[]): string {
  const labels = runLabels(runs)
  const title = `ipcbench report: ${labels.join(' vs ')}`
  const body = `
<header><h1>${escapeHtml(title)}</h1>
${runs.map((r, i) => `${runs.length > 1 ? `<h3>Run ${i + 1}</h3>` : ''}${environmentHtml(r, labels[i])}`).join('\n')}
</header>
<main>
${runs.map((r, i) => glanceHtml(r, labels[i], runs.length > 1)).join('\n')}
${charts.map(chartHtml).join('\n')}
${runs.map((r, i) => tablesHtml(r, labels[i])).join('\n')}
</main>
`
  return htmlPage({ title, body, viewport: true })
}

/** The `history --html` page: each trend chart under its title and question. */
export function historyHtml(runs: RunResult[], charts: RenderedChart[]): string {
  const sections = charts
    .map(
      (c) =>
        `<h2>${escapeHtml(c.title)}</h2><p class="question">${escapeHtml(c.question)}</p>${c.svg ? `<figure>${c.svg}</figure>` : `<p class="note">${escapeHtml(c.note ?? '')}</p>`}`,
    )
    .join('\n')
  return htmlPage({ title: 'ipcbench history', body: `<h1>ipcbench history of ${runs.length} runs</h1>\n${sections}\n` })
}

export async function renderHtmlReport(runs: RunResult[]): Promise<string> {
  return htmlFromCharts(runs, await renderCharts(buildCharts(runs)))
}

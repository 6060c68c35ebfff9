import type { Command } from 'commander'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { loadRun } from '../report/load.js'
import { renderTables } from '../report/table.js'
import type { RunResult } from '../types.js'
import { useColor } from './color.js'

/** `ipcbench report RUN.json…`: re-renders saved results without re-running. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('re-render saved results: tables, or an HTML page')
    .argument('<runs...>', 'result files written by "ipcbench run"')
    .option('--html <file>', 'write a self-contained HTML report')
    .action(async (files: string[], flags: { html?: string }) => {
      const runs = files.map(loadRun)
      if (flags.html) {
        await writeHtmlReport(runs[0], flags.html)
        process.stdout.write(`Report: ${flags.html}\n`)
        return
      }
      for (const run of runs) process.stdout.write(renderTables(run, { color: useColor(process.stdout) }) + '\n')
    })
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!)

/** One self-contained page (inline CSS, no scripts, nothing fetched) with the environment and the tables. */
export async function writeHtmlReport(run: RunResult, htmlPath: string): Promise<void> {
  const env = run.context.env
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ipcbench ${escapeHtml(run.context.runId)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head>
<body><h1>ipcbench run ${escapeHtml(run.context.runId)}</h1>
<p>${escapeHtml(`${env.host.cpuModel} × ${env.host.cpuCount}, kernel ${env.host.kernel}, Node ${env.node.version}, ipcbench ${env.ipcbench.version}, ${run.context.startedAt}`)}</p>
<pre>${escapeHtml(renderTables(run, { color: false }))}</pre>
</body></html>
`
  mkdirSync(dirname(htmlPath), { recursive: true })
  writeFileSync(htmlPath, html)
}

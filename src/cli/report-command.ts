import type { Command } from 'commander'
import { writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { buildCharts } from '../report/charts.js'
import { htmlFromCharts, renderHtmlReport } from '../report/html.js'
import { loadRun } from '../report/load.js'
import { renderMarkdown } from '../report/markdown.js'
import { renderCharts } from '../report/render.js'
import { renderTerminal } from '../report/table.js'
import type { RunResult } from '../core/result.js'
import { useColor } from './color.js'
import { checkWritableDir, checkWritableFile, makeDirs, writeOutputFile } from './output.js'

interface ReportFlags {
  html?: string
  svg?: string
  markdown?: string
  full?: boolean
}

/**
 * `ipcbench report RUN.json…`: re-renders saved results without re-running. No flag:
 * the terminal summary (`--full`: every case's row too). `--html`, `--svg`, `--markdown`: files (every run overlaid), whose
 * paths go to stdout. Every output place is checked before anything is rendered.
 */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('re-render saved results: terminal tables, or an HTML page, SVG charts and markdown')
    .argument('<runs...>', 'result files written by "ipcbench run" (several overlay in the charts)')
    .option('--html <file>', 'write one self-contained HTML report (charts, tables, environment)')
    .option('--svg <dir>', 'write one SVG per chart, as DIR/<chart-id>.svg')
    .option('--markdown <file>', 'write the summary tables as GitHub markdown (linking the SVGs when --svg is given)')
    .option('--full', "in the terminal, every case's row, not only the one-screen summary")
    .action(async (files: string[], flags: ReportFlags) => {
      const runs = files.map(loadRun)
      if (!flags.html && !flags.svg && !flags.markdown) {
        for (const run of runs) process.stdout.write(renderTerminal(run, { color: useColor(process.stdout), full: flags.full }) + '\n')
        return
      }
      if (flags.html) checkWritableFile('--html', flags.html)
      if (flags.svg) checkWritableDir('--svg', flags.svg)
      if (flags.markdown) checkWritableFile('--markdown', flags.markdown)
      for (const path of await writeReports(runs, flags)) process.stdout.write(`${path}\n`)
    })
}

/** Writes what the flags ask for; returns the paths written, in order. */
async function writeReports(runs: RunResult[], flags: ReportFlags): Promise<string[]> {
  const written: string[] = []
  const charts = flags.html || flags.svg ? await renderCharts(buildCharts(runs)) : []
  const svgLinks: Record<string, string> = {}
  if (flags.svg) {
    for (const c of charts) {
      if (!c.svg) continue
      const path = join(flags.svg, `${c.id}.svg`)
      writeOutputFile('--svg', path, c.svg)
      written.push(path)
      // Links in the markdown are relative to the markdown file, so the pair can move together.
      svgLinks[c.id] = flags.markdown ? relative(dirname(flags.markdown), path).split('\\').join('/') : path
    }
  }
  if (flags.markdown) {
    writeOutputFile('--markdown', flags.markdown, renderMarkdown(runs, { svgLinks }))
    written.push(flags.markdown)
  }
  if (flags.html) {
    writeOutputFile('--html', flags.html, htmlFromCharts(runs, charts))
    written.push(flags.html)
  }
  return written
}

/** The full HTML report of one run (used by `ipcbench run --html` and `all`). */
export async function writeHtmlReport(run: RunResult, htmlPath: string): Promise<void> {
  const html = await renderHtmlReport([run])
  makeDirs(dirname(htmlPath))
  writeFileSync(htmlPath, html)
}

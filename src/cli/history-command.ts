import type { Command } from 'commander'
import { join } from 'node:path'
import { loadRun } from '../report/load.js'
import { historyCharts, historyPoints, renderHistoryTable } from '../report/history.js'
import { historyHtml } from '../report/html.js'
import { renderCharts } from '../report/render.js'
import { UsageError } from '../core/errors.js'
import { checkWritableDir, writeOutputFile } from './output.js'

interface HistoryFlags {
  cases?: string
  html?: string
  svg?: string
}

/** `ipcbench history RUN.json…`: the trend of chosen cases over runs, as a table or charts. */
export function registerHistoryCommand(program: Command): void {
  program
    .command('history')
    .description('the trend of chosen cases over several saved runs (p50 round trip, MB/s), as a table or charts')
    .argument('<runs...>', 'result files, in any order (they are sorted by start time)')
    .option('--cases <list>', 'case ids to follow (a * matches anything); default: the 12 that moved most')
    .option('--html <file>', 'write a self-contained HTML page with the trend charts')
    .option('--svg <dir>', 'write the trend charts as DIR/history-latency.svg and DIR/history-throughput.svg')
    .action(async (files: string[], flags: HistoryFlags) => {
      if (files.length < 2) throw new UsageError('history: give at least two result files')
      const runs = files.map(loadRun)
      const patterns = flags.cases
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
      const points = historyPoints(runs, patterns)
      if (points.chosen.length === 0) throw new UsageError(`--cases: no completed case in two or more of these runs matches ${flags.cases ?? ''}`)
      if (!flags.html && !flags.svg) {
        process.stdout.write(renderHistoryTable(points) + '\n')
        return
      }
      const charts = await renderCharts(historyCharts(runs, patterns))
      const written: string[] = []
      const write = (option: string, path: string, text: string): void => {
        writeOutputFile(option, path, text)
        written.push(path)
      }
      if (flags.svg) {
        checkWritableDir('--svg', flags.svg)
        for (const c of charts) if (c.svg) write('--svg', join(flags.svg, `${c.id}.svg`), c.svg)
      }
      if (flags.html) write('--html', flags.html, historyHtml(runs, charts))
      for (const p of written) process.stdout.write(`${p}\n`)
    })
}

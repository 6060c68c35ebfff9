import type { Command } from 'commander'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Table from 'cli-table3'
import { loadRun } from '../report/load.js'
import { historyCharts, historyPoints } from '../report/history.js'
import { CSS, escapeHtml } from '../report/html.js'
import { renderCharts } from '../report/render.js'
import { UsageError } from '../core/errors.js'

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
      const patterns = flags.cases?.split(',').map((s) => s.trim()).filter(Boolean)
      const { latency, throughput, chosen } = historyPoints(runs, patterns)
      if (chosen.length === 0) throw new UsageError(`--cases: no completed case in two or more of these runs matches ${flags.cases ?? ''}`)
      if (!flags.html && !flags.svg) {
        const order = [...new Set([...latency, ...throughput].map((p) => p.order))].sort((a, b) => a - b)
        const runIds = order.map((o) => [...latency, ...throughput].find((p) => p.order === o)!.run)
        const t = new Table({ head: ['case', ...runIds], style: { head: [], border: [] } })
        for (const id of chosen) {
          const pts = [...latency, ...throughput].filter((p) => p.id === id)
          const unit = latency.some((p) => p.id === id) ? ' µs' : ' MB/s'
          t.push([id, ...order.map((o) => pts.find((p) => p.order === o)?.value.toPrecision(3).concat(unit) ?? '–')])
        }
        process.stdout.write(t.toString() + '\n')
        return
      }
      const charts = await renderCharts(historyCharts(runs, patterns))
      const written: string[] = []
      const write = (option: string, path: string, text: string): void => {
        try {
          writeFileSync(path, text)
        } catch (err) {
          throw new UsageError(`${option}: cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose a writable place`)
        }
        written.push(path)
      }
      if (flags.svg) {
        try {
          mkdirSync(flags.svg, { recursive: true })
        } catch (err) {
          throw new UsageError(`--svg: cannot create ${flags.svg} (${(err as NodeJS.ErrnoException).code}); choose a writable directory`)
        }
        for (const c of charts) if (c.svg) write('--svg', join(flags.svg, `${c.id}.svg`), c.svg)
      }
      if (flags.html) {
        const body = charts
          .map((c) => `<h2>${escapeHtml(c.title)}</h2><p class="question">${escapeHtml(c.question)}</p>${c.svg ? `<figure>${c.svg}</figure>` : `<p class="note">${escapeHtml(c.note ?? '')}</p>`}`)
          .join('\n')
        write('--html', flags.html, `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>ipcbench history</title><style>${CSS}</style></head>\n<body><h1>ipcbench history of ${runs.length} runs</h1>\n${body}\n</body></html>\n`)
      }
      for (const p of written) process.stdout.write(`${p}\n`)
    })
}

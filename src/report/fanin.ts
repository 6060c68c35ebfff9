import type { TopLevelSpec } from 'vega-lite'
import { hasFanIn, type FanInCase, type RunResult } from '../core/result.js'
import { formatBytesPerSec, formatRate, formatSizeBytes } from '../core/units.js'
import { alignColumns, kShort, nsShort } from './format.js'
import { mechanismLabel, ratioCell, spreadCell } from './summary.js'

/**
 * Fan-in in the reports: many senders into one channel. The table (every case), the
 * lines of the terminal summary (aggregate messages per second by the number of
 * senders, Node and C), and the chart of aggregate throughput against senders. Pure:
 * result types in, text and specs out.
 */

const fanInCases = (run: RunResult): FanInCase[] => run.cases.filter(hasFanIn)

/** The slowest sender's p50 over the fastest's, and the least-served sender's share of an even split, as one cell. */
const fairCell = (c: FanInCase): string =>
  c.fanIn.senders < 2 ? '–' : `${c.fanIn.fairness.p50Ratio.toFixed(2)}×, ${(100 * c.fanIn.fairness.minShareOfEven).toFixed(0)}%`

/** The summary table of the fan-in cases, grouped by size, then mechanism, then the number of senders. */
export function fanInTable(run: RunResult): { caption: string; head: string[]; rows: string[][] } | undefined {
  const cases = fanInCases(run)
  if (cases.length === 0) return undefined
  const withRatio = cases.some((c) => c.ratioToFloor?.throughput !== undefined)
  const sorted = [...cases].sort((a, b) => a.sizeBytes - b.sizeBytes || a.mechanism.localeCompare(b.mechanism) || a.senders - b.senders)
  return {
    caption:
      'Fan-in (many senders, one receiver, one channel): msgs/s from all senders; one-way p50 of the fastest–slowest sender, p99 of the slowest; ' +
      "fairness: slowest ÷ fastest sender's p50, and the least-served sender's share of an even split; reordered: messages that arrived after another sender's later one",
    head: [
      'case',
      'msgs/s',
      'MB/s',
      'p50 one way',
      'p99 one way',
      'fairness',
      'reordered',
      'receiver CPU µs/msg',
      'spread',
      ...(withRatio ? ['× C'] : []),
    ],
    rows: sorted.map((c) => {
      const p50s = c.fanIn.perSender.map((s) => s.latencyNs.p50)
      const p99 = Math.max(...c.fanIn.perSender.map((s) => s.latencyNs.p99))
      return [
        c.id,
        formatRate(c.throughput.msgsPerSec),
        formatBytesPerSec(c.throughput.bytesPerSec),
        p50s.length > 1 ? `${nsShort(Math.min(...p50s))}–${nsShort(Math.max(...p50s))}` : nsShort(p50s[0]),
        nsShort(p99),
        fairCell(c),
        String(Math.round(c.fanIn.reorderedBetweenSenders)),
        c.fanIn.receiverCpuUsPerMsg.toFixed(2),
        spreadCell(c),
        ...(withRatio ? [ratioCell(c.ratioToFloor?.throughput)] : []),
      ]
    }),
  }
}

/**
 * The terminal summary's fan-in lines, at the smallest fan-in size of the run: per
 * mechanism, thousands of messages per second from all senders together for each
 * count (the C floor's after a slash), and the fairness at the most senders.
 */
export function fanInGlanceLines(run: RunResult): string[] {
  const all = fanInCases(run)
  if (all.length === 0) return []
  const size = Math.min(...all.map((c) => c.sizeBytes))
  const cases = all.filter((c) => c.sizeBytes === size)
  const counts = [...new Set(cases.map((c) => c.senders))].sort((a, b) => a - b)
  const mechs = [...new Set(cases.map((c) => `${mechanismLabel(c)}/${c.endpoints}`))]
  const withC = cases.some((c) => c.floor?.fanIn)
  const cell = (c: FanInCase | undefined): string => {
    if (!c) return '·'
    const cf = c.floor?.state === 'completed' ? c.floor.throughput?.msgsPerSec : undefined
    return withC ? `${kShort(c.throughput.msgsPerSec)}/${cf === undefined ? '–' : kShort(cf)}` : kShort(c.throughput.msgsPerSec)
  }
  const rows = mechs.map((m) => {
    const of = (n: number): FanInCase | undefined => cases.find((c) => `${mechanismLabel(c)}/${c.endpoints}` === m && c.senders === n)
    const most = of(counts[counts.length - 1])
    return [m, ...counts.map((n) => cell(of(n))), most && most.senders > 1 ? `${most.fanIn.fairness.p50Ratio.toFixed(2)}×` : '–']
  })
  const head = ['fan-in', ...counts.map((n) => `${n} sender${n > 1 ? 's' : ''}`), 'fairness']
  return [
    `fan-in at ${formatSizeBytes(size)}: thousands of msgs/s, all senders into one channel${withC ? ' (Node/C)' : ''}; fairness: slowest ÷ fastest sender's p50`,
    ...alignColumns(head, rows).map((l) => `  ${l}`.trimEnd()),
  ]
}

/** The chart: aggregate throughput against the number of senders, a line per mechanism, the C floor dashed beside it. */
export function fanInChart(runs: RunResult[]): { id: string; title: string; question: string; spec: TopLevelSpec } | undefined {
  const multi = runs.length > 1
  const values = runs.flatMap((run) =>
    fanInCases(run).flatMap((c) => {
      const label = `${mechanismLabel(c)} ${formatSizeBytes(c.sizeBytes)}${multi ? ` (${run.context.runId})` : ''}`
      const node = {
        line: label,
        side: 'Node',
        senders: c.senders,
        msgsPerSec: c.throughput.msgsPerSec,
        tip: `${c.id}: ${formatRate(c.throughput.msgsPerSec)} (Node), slowest sender p50 ${nsShort(Math.max(...c.fanIn.perSender.map((s) => s.latencyNs.p50)))}`,
      }
      const cf = c.floor?.state === 'completed' ? c.floor.throughput?.msgsPerSec : undefined
      return cf === undefined ? [node] : [node, { ...node, side: 'C floor', msgsPerSec: cf, tip: `${c.id}: ${formatRate(cf)} (C floor)` }]
    }),
  )
  if (values.length === 0) return undefined
  const id = 'fanin-throughput'
  const title = 'Fan-in: aggregate throughput against the number of senders'
  const counts = [...new Set(values.map((v) => v.senders))].sort((a, b) => a - b)
  const question = `What happens to one channel when ${counts.at(-1)} senders post into it: does it carry more with more senders, or less?`
  const spec = {
    title: {
      text: title,
      subtitle: [
        'messages per second from all senders together, as the one receiver checked them; a line per mechanism and size',
        'solid: Node; dashed: the C floor, same run',
      ],
      anchor: 'start',
      offset: 12,
    },
    background: 'white',
    padding: 10,
    config: { font: 'Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, labelLimit: 320 } },
    data: { values },
    width: 480,
    height: 300,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'senders', type: 'quantitative', title: 'senders', scale: { type: 'log', base: 2 }, axis: { values: counts, format: 'd' } },
      y: {
        field: 'msgsPerSec',
        type: 'quantitative',
        title: 'messages per second, all senders (log scale)',
        scale: { type: 'log', nice: false, padding: 12 },
        axis: { format: '~s' },
      },
      color: { field: 'line', type: 'nominal', title: 'mechanism, size' },
      strokeDash: {
        field: 'side',
        type: 'nominal',
        title: null,
        scale: {
          domain: ['Node', 'C floor'],
          range: [
            [1, 0],
            [5, 3],
          ],
        },
        // The subtitle says which is which: a legend of line dashes drawn as points would not.
        legend: null,
      },
      detail: { field: 'side' },
      tooltip: { field: 'tip', type: 'nominal' },
    },
  } as unknown as TopLevelSpec
  return { id, title, question, spec }
}

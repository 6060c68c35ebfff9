import Table from 'cli-table3'
import type { TopLevelSpec } from 'vega-lite'
import { matchesCase } from '../core/cases.js'
import { isCompleted, isLatencyPattern, type CompletedCase, type RunResult } from '../core/result.js'
import type { ChartEntry } from './charts.js'
import { tableStyle } from './table.js'

/**
 * The trend of chosen cases over several runs (e.g. one per commit or per night): p50
 * latency for ping-pong, one-way and load cases, MB/s for streams, each run's point with the
 * spread of its repetitions (min to max of the per-repetition figure). Runs are put in
 * the order they were taken. Pure: runs in, specs or a terminal table out (render.ts
 * draws the specs; html.ts has the page).
 */
export interface HistoryPoint {
  run: string
  order: number
  startedAt: string
  id: string
  value: number
  low: number
  high: number
}

/** When no --cases is given, the cases whose figure moved the most between the first and last run. */
export const DEFAULT_CASES = 12

/** The runs in the order they were taken. */
const byStart = (runs: RunResult[]): RunResult[] => [...runs].sort((a, b) => a.context.startedAt.localeCompare(b.context.startedAt))

export function historyPoints(
  runs: RunResult[],
  patterns?: string[],
): { latency: HistoryPoint[]; throughput: HistoryPoint[]; chosen: string[]; note?: string; roundTripsOnly: boolean } {
  const ordered = byStart(runs)
  const done = (r: RunResult) => new Map(r.cases.filter(isCompleted).map((c) => [c.id, c]))
  const maps = ordered.map(done)
  let ids = [...new Set(maps.flatMap((m) => [...m.keys()]))].filter((id) => maps.filter((m) => m.has(id)).length >= 2 || maps.length === 1)
  let note: string | undefined
  if (patterns) ids = ids.filter((id) => matchesCase(id, patterns))
  else if (ids.length > DEFAULT_CASES) {
    const moved = (id: string): number => {
      const seen = maps
        .map((m) => m.get(id))
        .filter((c): c is CompletedCase => c !== undefined)
        .map(figure)
      return Math.abs(Math.log(seen[seen.length - 1].value / seen[0].value))
    }
    ids = ids.sort((a, b) => moved(b) - moved(a)).slice(0, DEFAULT_CASES)
    note = `the ${DEFAULT_CASES} cases that moved most between the first and the last run (choose others with --cases)`
  }
  const latency: HistoryPoint[] = []
  const throughput: HistoryPoint[] = []
  // Whether every latency point is a round trip (ping-pong), which the chart's title then says.
  let roundTripsOnly = true
  ordered.forEach((r, order) => {
    for (const id of ids) {
      const c = maps[order].get(id)
      if (!c) continue
      const f = figure(c)
      const p = { run: r.context.runId, order, startedAt: r.context.startedAt, id, ...f }
      ;(isLatencyPattern(c.pattern) ? latency : throughput).push(p)
      if (isLatencyPattern(c.pattern) && c.pattern !== 'pingpong') roundTripsOnly = false
    }
  })
  return { latency, throughput, chosen: ids, note, roundTripsOnly }
}

/** p50 latency in µs (round trip, one way, or from the schedule under load), or MB/s; the spread over repetitions in the same unit. */
function figure(c: CompletedCase): { value: number; low: number; high: number } {
  if (isLatencyPattern(c.pattern)) {
    const v = (c.latencyNs?.p50 ?? NaN) / 1000
    return { value: v, low: (c.spread?.min ?? NaN) / 1000 || v, high: (c.spread?.max ?? NaN) / 1000 || v }
  }
  const v = (c.throughput?.bytesPerSec ?? NaN) / 1e6
  return { value: v, low: (c.spread?.min ?? NaN) / 1e6 || v, high: (c.spread?.max ?? NaN) / 1e6 || v }
}

function trendSpec(points: HistoryPoint[], title: string, yTitle: string, subtitle: string): TopLevelSpec {
  const x = { field: 'order', type: 'ordinal', title: 'run (oldest first)' }
  const color = { field: 'id', type: 'nominal', title: 'case', legend: { labelLimit: 420 } }
  const y = { field: 'value', type: 'quantitative', title: yTitle, scale: { type: 'log' } }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    width: 640,
    height: 320,
    data: { values: points },
    layer: [
      {
        mark: { type: 'rule', opacity: 0.5 },
        encoding: { x, y: { field: 'low', type: 'quantitative', scale: { type: 'log' } }, y2: { field: 'high' }, color },
      },
      {
        mark: { type: 'line', point: true },
        encoding: { x, y, color, tooltip: [{ field: 'run' }, { field: 'id' }, { field: 'value', format: '.3~g' }] },
      },
    ],
  } as unknown as TopLevelSpec
}

export function historyCharts(runs: RunResult[], patterns?: string[]): ChartEntry[] {
  const { latency, throughput, note, roundTripsOnly } = historyPoints(runs, patterns)
  const runList = byStart(runs)
    .map((r, i) => `${i}: ${r.context.runId}`)
    .join(', ')
  const sub = [`runs ${runList}`, ...(note ? [note] : [])].join('; ')
  const question = 'Did this case get slower or faster from run to run, beyond the spread of its repetitions?'
  const entry = (id: string, title: string, points: HistoryPoint[], yTitle: string, none: string): ChartEntry =>
    points.length > 0 ? { id, title, question, spec: trendSpec(points, title, yTitle, sub) } : { id, title, question, note: none }
  return [
    roundTripsOnly
      ? entry('history-latency', 'Round trip (p50) over runs', latency, 'p50 round trip (µs, log scale)', 'no ping-pong case in these runs matches')
      : entry('history-latency', 'Latency (p50) over runs', latency, 'p50 latency: round trip, one way or under load (µs, log scale)', ''),
    entry('history-throughput', 'Throughput over runs', throughput, 'MB/s (log scale)', 'no stream case in these runs matches'),
  ]
}

/** The terminal table: one row per chosen case, one column per run (oldest first), the figure with its unit. */
export function renderHistoryTable({
  latency,
  throughput,
  chosen,
}: {
  latency: HistoryPoint[]
  throughput: HistoryPoint[]
  chosen: string[]
}): string {
  const points = [...latency, ...throughput]
  const order = [...new Set(points.map((p) => p.order))].sort((a, b) => a - b)
  const runIds = order.map((o) => points.find((p) => p.order === o)!.run)
  const t = new Table({ head: ['case', ...runIds], style: tableStyle(false) })
  for (const id of chosen) {
    const pts = points.filter((p) => p.id === id)
    const unit = latency.some((p) => p.id === id) ? ' µs' : ' MB/s'
    t.push([
      id,
      ...order.map(
        (o) =>
          pts
            .find((p) => p.order === o)
            ?.value.toPrecision(3)
            .concat(unit) ?? '–',
      ),
    ])
  }
  return t.toString()
}

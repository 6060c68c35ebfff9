import type { TopLevelSpec } from 'vega-lite'
import {
  hasLatency,
  hasThroughput,
  isCompleted,
  MODES,
  type CompletedCase,
  type LatencyCase,
  type RunResult,
  type ThroughputCase,
} from '../core/result.js'
import { formatBytesPerSec, formatSizeBytes } from '../core/units.js'
import { nsShort } from './format.js'
import { familyPanels, pickSize } from './headline.js'
import { caseLabel, cpuUsPerMsg, mechanismLabel, runLabels } from './summary.js'
import { fanInChart } from './fanin.js'
import { scaleFor, top, type Obj } from './vega.js'
import { loadChart, oneWayChart, pairsChart } from './pattern-charts.js'

/**
 * Vega-Lite specs drawn from result files alone: every spec carries its data inline
 * (`data: { values }`), so rendering needs no loader and fetches nothing. Several runs
 * overlay, each named by its run id in a legend. A chart without data comes back as a
 * note, never as an empty plot. Pure: runs in, specs out.
 */

export interface ChartEntry {
  id: string
  title: string
  /** What the chart answers; shown under it. */
  question: string
  /** Exactly one of `spec` and `note` is set. */
  spec?: TopLevelSpec
  note?: string
}

interface Row<C extends CompletedCase = CompletedCase> {
  run: string
  c: C
}

const MODE_COLORS = ['#4c78a8', '#f58518', '#e45756']
const modeColor: Obj = { field: 'mode', type: 'nominal', title: 'mode', scale: { domain: MODES, range: MODE_COLORS } }
const modeColumn: Obj = { field: 'mode', type: 'nominal', sort: MODES, title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } }
const sizeLabelExpr =
  "datum.value >= 1048576 ? format(datum.value / 1048576, '~g') + ' MiB' : datum.value >= 1024 ? format(datum.value / 1024, '~g') + ' KiB' : datum.value + ' B'"
const ninesLabelExpr = "format(100 - 100 * pow(10, -datum.value), '.6~r')"

const us = (ns: number): number => ns / 1000
const uniq = <T>(xs: T[]): T[] => [...new Set(xs)]

/** A quantitative encoding whose title names the unit and says when the scale is log. */
function quant(field: string, values: number[], what: string, unit: string, format = '~g'): Obj {
  const { log, scale, axis } = scaleFor(values, format)
  return { field, type: 'quantitative', scale, axis, title: `${what} (${unit}${log ? ', log scale' : ''})` }
}

function sizeAxis(sizes: number[]): Obj {
  const scale = sizes.every((s) => s > 0) ? { type: 'log', base: 2 } : { type: 'symlog' }
  return {
    field: 'sizeBytes',
    type: 'quantitative',
    title: 'message size (bytes, log scale)',
    scale,
    // Greedy: fixed-size mechanisms add 0, 4 and 8 B beside 64 B, whose labels would print over each other.
    axis: { values: uniq(sizes).sort((a, b) => a - b), labelExpr: sizeLabelExpr, labelOverlap: 'greedy', labelFlush: true, grid: true },
  }
}

/** Where a value lands, in px from the low end, on an axis of `size` px drawn by `quant`. */
function toPx(v: number, enc: Obj, size: number): number {
  const scale = enc.scale as { type?: string; domain: [number, number] }
  const f = scale.type === 'log' ? Math.log10 : (x: number): number => x
  return ((f(v) - f(scale.domain[0])) / (f(scale.domain[1]) - f(scale.domain[0]))) * size
}

/** The value `px` pixels above `v` on the same axis (the inverse of toPx, shifted). */
function shiftPx(v: number, px: number, enc: Obj, size: number): number {
  const scale = enc.scale as { type?: string; domain: [number, number] }
  if (scale.type === 'log') return v * 10 ** ((px / size) * Math.log10(scale.domain[1] / scale.domain[0]))
  return v + (px / size) * (scale.domain[1] - scale.domain[0])
}

type Box = [number, number, number, number]

/**
 * Point names that do not cover each other or a point: right of the point (left of it
 * in the right quarter, where the legend starts), else the other side, else half a line
 * up or down; a name with no free place is left out (the tables name every case).
 */
function placeLabels<T extends { text: string; px: number; py: number }>(
  points: T[],
  width: number,
  height: number,
  reserved: Box[],
): Array<T & { left: boolean; dyPx: number }> {
  const taken: Box[] = [...reserved, ...points.map((p): Box => [p.px - 5, p.py - 5, p.px + 5, p.py + 5])]
  const placed: Array<T & { left: boolean; dyPx: number }> = []
  for (const p of [...points].sort((a, b) => a.py - b.py)) {
    const w = p.text.length * 5.2
    // Beside the point, or half a line above or below it: further away, a name would seem to belong to another point.
    const sides = p.px > width * 0.75 ? [true, false] : [false, true]
    const spot = sides
      .flatMap((left) => [0, -9, 9].map((dy) => ({ left, dy, x0: left ? p.px - 7 - w : p.px + 7 })))
      .find(
        ({ dy, x0 }) =>
          p.py + dy - 5 >= 0 &&
          p.py + dy + 5 <= height &&
          x0 >= 0 &&
          x0 + w <= width + 5 &&
          !taken.some(([a, b, c, e]) => x0 < c && x0 + w > a && p.py + dy - 5 < e && p.py + dy + 5 > b),
      )
    if (!spot) continue
    taken.push([spot.x0, p.py + spot.dy - 5, spot.x0 + w, p.py + spot.dy + 5])
    placed.push({ ...p, left: spot.left, dyPx: spot.dy })
  }
  return placed
}

/** 64 B where a mechanism has it, else that mechanism's nearest ping-pong size; the exceptions are named (headline.ts). */
function pickSizes<R extends Row>(rows: R[]): { pick: (r: R) => boolean; label: string; exceptions: string[] } {
  const p = pickSize(
    rows.map((r) => r.c),
    64,
  )!
  return { pick: (r) => p.pick(r.c), label: p.label, exceptions: p.exceptions }
}

/** At most eight series share a panel: eight colours a reader can still tell apart. */
const PANEL_COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#9d755d', '#eeca3b']
export const MAX_PANEL_SERIES = PANEL_COLORS.length

/**
 * Small multiples by family: one row of panels (one per mode) for each family of
 * mechanisms (cut so no row has more than eight), each row with its own colour legend
 * of its own mechanisms. `panel` gives a row's spec from its colour encoding.
 */
function familyGrid(cases: CompletedCase[], x: Obj, y: Obj, layers: (enc: { x: Obj; y: Obj; color: Obj }) => Obj[]): Obj {
  const panels = familyPanels(cases, MAX_PANEL_SERIES)
  return {
    vconcat: panels.map((p, i) => {
      const first = i === 0
      const last = i === panels.length - 1
      // The modes are named over the first row, the x axis titled under the last: the rows between keep their height for data.
      const column = { ...modeColumn, header: first ? modeColumn.header : { labels: false, title: null } }
      const color = {
        field: 'mech',
        type: 'nominal',
        title: p.title,
        scale: { domain: p.mechs, range: PANEL_COLORS.slice(0, p.mechs.length) },
        legend: { columns: p.mechs.length > 4 ? 2 : 1, symbolSize: 60, labelFontSize: 10, titleFontSize: 11, labelLimit: 200 },
      }
      return {
        transform: [{ filter: { field: 'mech', oneOf: p.mechs } }],
        facet: { column },
        spec: {
          width: 230,
          height: 92,
          title: undefined,
          layer: layers({ x: last ? x : { ...x, title: null }, y: { ...y, title: null }, color }),
        },
      }
    }),
    spacing: 6,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  }
}

/** Hover text: the exact figures of a point, shown by the browser from the SVG's <title> (render.ts). */
const tipEnc: Obj = { description: { field: 'tip' } }

/** What every chart draws from, worked out once per set of runs. */
interface ChartContext {
  runs: RunResult[]
  labels: string[]
  multi: boolean
  /** One colour per mechanism, the same in every chart. */
  mechColor: Obj
  ping: Array<Row<LatencyCase>>
  stream: Array<Row<ThroughputCase>>
  /** The ping-pong size the per-mechanism charts compare at (`?` without ping-pong cases). */
  sizeLabel: string
  atSize: Array<Row<LatencyCase>>
  sizeNote: string[]
  runNote: string[]
  /** Colour by mechanism charts: dashes tell the runs apart when there are several, else the endpoints. */
  dash: Obj
  base: (r: Row) => { run: string; mech: string; mode: string; endpoints: string; label: string; line: string; sizeBytes: number }
  lineLayers: (enc: { x: Obj; y: Obj; color?: Obj }) => Obj[]
}

function chartContext(runs: RunResult[]): ChartContext {
  const labels = runLabels(runs)
  const multi = runs.length > 1
  const mechs = uniq(runs.flatMap((r) => r.cases.filter(isCompleted).map(mechanismLabel))).sort()
  const mechColor: Obj = {
    field: 'mech',
    type: 'nominal',
    title: 'mechanism',
    scale: { domain: mechs, scheme: mechs.length <= 10 ? 'tableau10' : 'tableau20' },
  }
  const ping: Array<Row<LatencyCase>> = runs.flatMap((run, i) => run.cases.filter(hasLatency).map((c) => ({ run: labels[i], c })))
  const stream: Array<Row<ThroughputCase>> = runs.flatMap((run, i) => run.cases.filter(hasThroughput).map((c) => ({ run: labels[i], c })))
  const sized = ping.length > 0 ? pickSizes(ping) : undefined
  const dash: Obj = multi ? { field: 'run', type: 'nominal', title: 'run' } : { field: 'endpoints', type: 'nominal', title: 'endpoints' }
  return {
    runs,
    labels,
    multi,
    mechColor,
    ping,
    stream,
    sizeLabel: sized?.label ?? '?',
    atSize: sized ? ping.filter(sized.pick) : [],
    sizeNote: sized && sized.exceptions.length > 0 ? [`mechanisms without a ${sized.label} case: ${sized.exceptions.join(', ')}`] : [],
    runNote: multi ? [`runs: ${labels.join(' vs ')}`] : [],
    dash,
    base: (r) => ({
      run: r.run,
      mech: mechanismLabel(r.c),
      mode: r.c.mode,
      endpoints: r.c.endpoints,
      label: caseLabel(r.c),
      line: `${r.run} ${caseLabel(r.c)}`,
      sizeBytes: r.c.sizeBytes,
    }),
    lineLayers: ({ x, y, color = mechColor }) => [
      { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { x, y, color, strokeDash: dash, detail: { field: 'line' } } },
      {
        mark: { type: 'point', filled: true, size: 36 },
        encoding: { x, y, color, shape: { field: 'endpoints', type: 'nominal', title: 'endpoints' }, ...tipEnc },
      },
    ],
  }
}

/** 1. Round-trip p50 and p99 per mechanism, one panel per mode. */
function latencyByMechanism({ multi, atSize, sizeLabel, sizeNote, runNote, base }: ChartContext): ChartEntry {
  const id = 'latency-by-mechanism'
  const question =
    'Which mechanism has the shortest round trip, typically (p50) and in the tail (p99), for each mode and for processes against threads?'
  const title = `Round-trip latency at ${sizeLabel}: p50 and p99 per mechanism`
  if (atSize.length === 0) return { id, title, question, note: 'no completed ping-pong case in this run' }
  const values = atSize.map((r) => ({
    ...base(r),
    series: multi ? `${r.run} · ${r.c.endpoints}` : r.c.endpoints,
    p50Us: us(r.c.latencyNs.p50),
    p99Us: us(r.c.latencyNs.p99),
    tip: `${r.c.id}${multi ? ` (${r.run})` : ''}: p50 ${nsShort(r.c.latencyNs.p50)}, p99 ${nsShort(r.c.latencyNs.p99)}`,
  }))
  const y = { field: 'mech', type: 'nominal', title: 'mechanism', sort: 'ascending' }
  const series = { field: 'series', type: 'nominal', title: multi ? 'run · endpoints' : 'endpoints' }
  const x = quant(
    'p50Us',
    values.flatMap((v) => [v.p50Us, v.p99Us]),
    'round trip',
    'µs',
  )
  return {
    id,
    title,
    question,
    spec: top(title, ['bar from p50 (●) to p99 (▶)', ...sizeNote, ...runNote], {
      data: { values },
      facet: { column: modeColumn },
      spec: {
        width: 230,
        height: { step: 12 },
        layer: [
          { mark: { type: 'rule', strokeWidth: 2, opacity: 0.6 }, encoding: { y, yOffset: series, x, x2: { field: 'p99Us' }, color: series } },
          {
            transform: [
              { fold: ['p50Us', 'p99Us'], as: ['pctField', 'us'] },
              { calculate: "datum.pctField === 'p50Us' ? 'p50' : 'p99'", as: 'percentile' },
            ],
            mark: { type: 'point', filled: true, size: 45, opacity: 1 },
            encoding: {
              y,
              yOffset: series,
              x: { ...x, field: 'us' },
              color: series,
              ...tipEnc,
              shape: {
                field: 'percentile',
                type: 'nominal',
                title: 'percentile',
                scale: { domain: ['p50', 'p99'], range: ['circle', 'triangle-right'] },
              },
            },
          },
        ],
      },
    }),
  }
}

/** 2. p50 against message size, one row of panels per family. */
function latencyVsSize({ ping, runNote, base, lineLayers }: ChartContext): ChartEntry {
  const id = 'latency-vs-size'
  const question = 'How does the round trip grow with the message size: where does copying start to dominate the fixed cost of a wake-up?'
  const title = 'Round-trip latency (p50) against message size'
  if (ping.length === 0) return { id, title, question, note: 'no completed ping-pong case in this run' }
  const several = new Set(ping.map((r) => r.run)).size > 1
  const values = ping.map((r) => ({
    ...base(r),
    p50Us: us(r.c.latencyNs.p50),
    tip: `${r.c.id}${several ? ` (${r.run})` : ''}: p50 ${nsShort(r.c.latencyNs.p50)}, p99 ${nsShort(r.c.latencyNs.p99)}`,
  }))
  const x = sizeAxis(values.map((v) => v.sizeBytes))
  const y = quant(
    'p50Us',
    values.map((v) => v.p50Us),
    'round trip p50',
    'µs',
  )
  return {
    id,
    title,
    question,
    spec: top(title, [`y: ${y.title as string}; one row of panels per family of mechanisms (named in its legend), one per mode`, ...runNote], {
      data: { values },
      ...familyGrid(
        ping.map((r) => r.c),
        x,
        y,
        lineLayers,
      ),
    }),
  }
}

/** 3. Stream throughput against message size, one row of panels per family. */
function throughputVsSize({ stream, runNote, base, lineLayers }: ChartContext): ChartEntry {
  const id = 'throughput-vs-size'
  const question = 'How much data (MB/s) and how many messages per second does each mechanism carry one way, and at which size does it saturate?'
  const title = 'One-way throughput (stream) against message size'
  if (stream.length === 0) return { id, title, question, note: 'no completed stream case in this run' }
  const several = new Set(stream.map((r) => r.run)).size > 1
  const values = stream.map((r) => ({
    ...base(r),
    mbPerSec: r.c.throughput.bytesPerSec / 1e6,
    tip: `${r.c.id}${several ? ` (${r.run})` : ''}: ${formatBytesPerSec(r.c.throughput.bytesPerSec)}, ${Math.round(r.c.throughput.msgsPerSec).toLocaleString('en')} messages/s`,
  }))
  const x = sizeAxis(values.map((v) => v.sizeBytes))
  const y = quant(
    'mbPerSec',
    values.map((v) => v.mbPerSec),
    'throughput',
    'MB/s',
  )
  return {
    id,
    title,
    question,
    spec: top(
      title,
      [
        `y: ${y.title as string} (10⁶ B/s); messages per second on hover and in the tables`,
        'one row of panels per family of mechanisms (named in its legend), one per mode',
        ...runNote,
      ],
      {
        data: { values },
        ...familyGrid(
          stream.map((r) => r.c),
          x,
          y,
          lineLayers,
        ),
      },
    ),
  }
}

/** 4. Latency distribution on a "nines" axis. */
function latencyPercentiles({ atSize, sizeLabel, sizeNote, runNote, base, lineLayers }: ChartContext): ChartEntry {
  const id = 'latency-percentiles'
  const question = "How heavy is each case's tail: how far do p90, p99, p99.9 and the worst round trip sit above the median?"
  const title = `Round-trip latency distribution at ${sizeLabel}`
  if (atSize.length === 0) return { id, title, question, note: 'no completed ping-pong case in this run' }
  const values = atSize.flatMap((r) => {
    const l = r.c.latencyNs
    const pts: Array<[string, number, number]> = [
      ['p50', Math.log10(2), l.p50],
      ['p90', 1, l.p90],
      ['p99', 2, l.p99],
      ['p99.9', 3, l.p999],
    ]
    // The largest of n samples sits near the 1 − 1/n quantile; with n ≤ 1000 p99.9 already is (almost) the max.
    if (Math.log10(l.n) > 3) pts.push(['max', Math.log10(l.n), l.max])
    return pts.map(([pct, nines, ns]) => ({ ...base(r), pct, nines, us: us(ns), tip: `${r.c.id}: ${pct} ${nsShort(ns)}` }))
  })
  const maxNines = Math.max(...values.map((v) => v.nines))
  const ticks = [Math.log10(2), ...Array.from({ length: Math.ceil(maxNines) }, (_, i) => i + 1)]
  const x = {
    field: 'nines',
    type: 'quantitative',
    title: 'percentile (nines scale)',
    scale: { domain: [0, Math.ceil(maxNines)] },
    axis: { values: ticks, labelExpr: ninesLabelExpr, labelOverlap: false, labelAngle: -40, labelAlign: 'right' },
  }
  const y = quant(
    'us',
    values.map((v) => v.us),
    'round trip',
    'µs',
  )
  const sub = [
    'x = −log10(1 − p): each step right is ten times rarer; last point = max, drawn at 1 − 1/n (n samples)',
    `y: ${y.title as string}; one row of panels per family of mechanisms (named in its legend), one per mode`,
  ]
  return {
    id,
    title,
    question,
    spec: top(title, [...sub, ...sizeNote, ...runNote], {
      data: { values },
      ...familyGrid(
        atSize.map((r) => r.c),
        x,
        y,
        lineLayers,
      ),
    }),
  }
}

/** 5. CPU per message against round trip. */
function costVsSpeed({ atSize, sizeLabel, sizeNote, runNote, dash, base }: ChartContext): ChartEntry {
  const id = 'cost-vs-speed'
  const question = 'What does speed cost in CPU: which cases buy a shorter round trip by burning a core (busy-poll), and which wait cheaply?'
  const title = `CPU per round trip against round-trip latency at ${sizeLabel}`
  const values = atSize.flatMap((r) => {
    const cpu = cpuUsPerMsg(r.c)
    return cpu
      ? [
          {
            ...base(r),
            p50Us: us(r.c.latencyNs.p50),
            cpuUs: cpu.us,
            tip: `${r.c.id}: p50 ${nsShort(r.c.latencyNs.p50)}, CPU ${cpu.us.toFixed(2)} µs per round trip`,
          },
        ]
      : []
  })
  if (values.length === 0) return { id, title, question, note: 'no ping-pong case with CPU figures in this run' }
  const lo = Math.min(...values.map((v) => v.p50Us))
  const hi = Math.max(...values.map((v) => v.p50Us))
  // Reference lines: CPU time = k × round trip means k cores were busy all along.
  const cores = [1, 2].flatMap((k) => [lo, hi].map((t, i) => ({ p50Us: t, cpuUs: k * t, cores: `${k} core${k > 1 ? 's' : ''} busy`, end: i === 1 })))
  const x = quant(
    'p50Us',
    values.map((v) => v.p50Us),
    'round trip p50',
    'µs',
  )
  const y = quant(
    'cpuUs',
    [...values.map((v) => v.cpuUs), ...cores.map((c) => c.cpuUs)],
    'CPU per round trip, user+sys, both sides and helper threads',
    'µs',
  )
  // Screen y grows downwards: a label dy px lower sits at the value dy px lower on the axis.
  const coreLabels = cores
    .filter((c) => c.end)
    .map((c): Box => [
      toPx(c.p50Us, x, 560) - 2 - 5.6 * c.cores.length,
      380 - toPx(c.cpuUs, y, 380) - 14,
      toPx(c.p50Us, x, 560),
      380 - toPx(c.cpuUs, y, 380) - 2,
    ])
  const labels = placeLabels(
    values.map((v) => ({ ...v, text: v.mech, px: toPx(v.p50Us, x, 560), py: 380 - toPx(v.cpuUs, y, 380) })),
    560,
    380,
    coreLabels,
  ).map((l) => ({ ...l, labelY: shiftPx(l.cpuUs, -l.dyPx, y, 380) }))
  return {
    id,
    title,
    question,
    spec: top(
      title,
      [
        'dashed lines: CPU time = 1× and 2× the round trip (one or two cores busy all along)',
        'thread cases with process-wide meters count one side only; names that would overlap are left out (the tables have every case)',
        ...sizeNote,
        ...runNote,
      ],
      {
        width: 560,
        height: 380, // toPx above assumes these
        layer: [
          { data: { values: cores }, mark: { type: 'line', color: '#999', strokeDash: [4, 4] }, encoding: { x, y, detail: { field: 'cores' } } },
          {
            data: { values: cores.filter((c) => c.end) },
            mark: { type: 'text', align: 'right', dx: -2, dy: -8, fontSize: 10, color: '#777' },
            encoding: { x, y, text: { field: 'cores' } },
          },
          {
            data: { values },
            mark: { type: 'point', filled: true, size: 70, opacity: 0.9 },
            encoding: { x, y, color: modeColor, shape: dash, ...tipEnc },
          },
          {
            data: { values: labels.filter((l) => !l.left) },
            mark: { type: 'text', align: 'left', dx: 7, fontSize: 9, color: '#333', baseline: 'middle' },
            encoding: { x, y: { ...y, field: 'labelY' }, text: { field: 'mech' } },
          },
          {
            data: { values: labels.filter((l) => l.left) },
            mark: { type: 'text', align: 'right', dx: -7, fontSize: 9, color: '#333', baseline: 'middle' },
            encoding: { x, y: { ...y, field: 'labelY' }, text: { field: 'mech' } },
          },
        ],
      },
    ),
  }
}

/** 6. Node against the C floor: one row per mechanism and mode, a point per size, on a log axis. */
function nodeVsC({ runs, multi, ping, runNote, sizeLabel }: ChartContext): ChartEntry {
  const id = 'node-vs-c'
  const question = 'How much does Node add over the same mechanism driven from C (ratio of p50 round trips; 1 = as fast as C)?'
  const title = 'Node against the C floor: p50 round trip, Node ÷ C'
  const rows = ping.filter((r) => r.c.ratioToFloor?.p50 !== undefined)
  if (rows.length === 0) {
    const reasons = uniq(runs.map((r) => r.context.env?.native?.floor?.reason).filter((s): s is string => !!s))
    return { id, title, question, note: `no C floor in this run${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}` }
  }
  const headline = pickSizes(rows)
  const values = rows.map((r) => {
    const ratio = r.c.ratioToFloor!.p50!
    return {
      run: r.run,
      row: `${mechanismLabel(r.c)} ${r.c.mode}`,
      endpoints: r.c.endpoints,
      size: formatSizeBytes(r.c.sizeBytes),
      sizeBytes: r.c.sizeBytes,
      ratio,
      // Rows sort by their ratio at the headline size, the largest first.
      headRatio: headline.pick(r) ? ratio : null,
      tip: `${r.c.id}${multi ? ` (${r.run})` : ''}: Node p50 ${nsShort(r.c.latencyNs.p50)} ÷ C p50 ${nsShort(r.c.latencyNs.p50 / ratio)} = ${ratio.toFixed(2)}×`,
    }
  })
  const sizes = uniq(rows.map((r) => r.c.sizeBytes)).sort((a, b) => a - b)
  const ratios = values.map((v) => v.ratio)
  const lo = Math.min(1, ...ratios)
  const hi = Math.max(1, ...ratios)
  // A log axis from a little below the smallest ratio to a little above the largest: 1.0–1.5 keeps its room beside a 14×.
  const domain = [Number((lo / 1.1).toPrecision(2)), Number((hi * 1.1).toPrecision(2))]
  const ticks = [0.5, 0.7, 1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100].filter((t) => t >= domain[0] && t <= domain[1])
  const x = {
    field: 'ratio',
    type: 'quantitative',
    title: 'Node p50 ÷ C p50 (×, log scale)',
    scale: { type: 'log', domain, nice: false },
    axis: { values: ticks, format: '~g', grid: true },
  }
  const y = {
    field: 'row',
    type: 'nominal',
    title: 'mechanism and mode',
    sort: { field: 'headRatio', op: 'max', order: 'descending' },
    axis: { labelLimit: 300 },
  }
  return {
    id,
    title,
    question,
    spec: top(
      title,
      [
        `one row per mechanism and mode, sorted by the ratio at ${sizeLabel}; a point per message size; the line at 1 = as fast as C`,
        ...headline.exceptions.map((e) => `read at another size: ${e}`).slice(0, 1),
        ...runNote,
      ],
      {
        data: { values },
        width: 520,
        height: { step: multi ? 16 : 13 },
        layer: [
          { data: { values: [{}] }, mark: { type: 'rule', color: '#222', strokeWidth: 1.2 }, encoding: { x: { datum: 1 } } },
          {
            mark: { type: 'point', filled: true, size: 42, opacity: 0.85 },
            encoding: {
              y,
              x,
              color: { field: 'size', type: 'ordinal', title: 'message size', sort: sizes.map(formatSizeBytes), scale: { scheme: 'viridis' } },
              shape: multi ? { field: 'run', type: 'nominal', title: 'run' } : { field: 'endpoints', type: 'nominal', title: 'endpoints' },
              ...tipEnc,
            },
          },
        ],
      },
    ),
  }
}

/** 7. Blocking against non-blocking, per mechanism. */
function blockingVsNonblocking({ multi, atSize, sizeLabel, sizeNote, runNote, base }: ChartContext): ChartEntry {
  const id = 'blocking-vs-nonblocking'
  const question = 'For each mechanism, what does the way of waiting cost: blocking read against non-blocking (event loop) against busy-poll?'
  const title = `Blocking against non-blocking: p50 round trip per mechanism at ${sizeLabel}`
  const key = (r: Row): string => `${mechanismLabel(r.c)} (${r.c.endpoints})`
  const modesOf = new Map<string, Set<string>>()
  for (const r of atSize) modesOf.set(key(r), (modesOf.get(key(r)) ?? new Set()).add(r.c.mode))
  const values = atSize
    .filter((r) => modesOf.get(key(r))!.size > 1)
    .map((r) => ({
      ...base(r),
      row: key(r),
      p50Us: us(r.c.latencyNs.p50),
      tip: `${r.c.id}${multi ? ` (${r.run})` : ''}: p50 ${nsShort(r.c.latencyNs.p50)}`,
    }))
  if (values.length === 0) return { id, title, question, note: 'no mechanism was measured in more than one mode' }
  const y = { field: 'row', type: 'nominal', title: 'mechanism (endpoints)', sort: 'ascending' }
  const x = quant(
    'p50Us',
    values.map((v) => v.p50Us),
    'round trip p50',
    'µs',
  )
  const off = multi ? { yOffset: { field: 'run', type: 'nominal', sort: 'ascending' } } : {}
  return {
    id,
    title,
    question,
    spec: top(title, ['one row per mechanism; the bar spans its fastest to slowest mode', ...sizeNote, ...runNote], {
      data: { values },
      width: 480,
      height: { step: multi ? 12 : 20 },
      layer: [
        {
          mark: { type: 'rule', color: '#bbb', strokeWidth: 2 },
          encoding: { y, ...off, x: { ...x, aggregate: 'min' }, x2: { field: 'p50Us', aggregate: 'max' }, detail: { field: 'run' } },
        },
        {
          mark: { type: 'point', filled: true, size: 80 },
          encoding: { y, ...off, x, color: modeColor, ...tipEnc, ...(multi ? { shape: { field: 'run', type: 'nominal', title: 'run' } } : {}) },
        },
      ],
    }),
  }
}

/** The charts, in the order every report shows them. */
const CHARTS: ReadonlyArray<(ctx: ChartContext) => ChartEntry> = [
  latencyByMechanism,
  latencyVsSize,
  throughputVsSize,
  latencyPercentiles,
  costVsSpeed,
  nodeVsC,
  blockingVsNonblocking,
]

export function buildCharts(runs: RunResult[]): ChartEntry[] {
  const ctx = chartContext(runs)
  // The charts of fan-in, one-way, load and pairs only where a run has such cases: runs without them keep their charts as they were.
  const more = [fanInChart(runs), oneWayChart(runs), loadChart(runs), pairsChart(runs)].filter((c) => c !== undefined)
  return [...CHARTS.map((chart) => chart(ctx)), ...more]
}

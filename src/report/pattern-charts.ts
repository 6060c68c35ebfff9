import type { TopLevelSpec } from 'vega-lite'
import {
  hasLoad,
  hasOneWay,
  hasPairs,
  isCompleted,
  PATTERNS,
  RATE_KEPT,
  type CompletedCase,
  type Figures,
  type LoadCase,
  type OfferedRate,
  type OneWayCase,
  type PairsCase,
  type RunResult,
} from '../core/result.js'
import { formatRate, formatSizeBytes } from '../core/units.js'
import { nsShort } from './format.js'
import { floorOf } from './patterns.js'
import { mechanismLabel } from './summary.js'
import { scaleFor, top, type Obj } from './vega.js'

/**
 * The charts of the run@3 patterns: one-way latency beside half the round trip,
 * latency and CPU against offered load, and aggregate throughput against the number
 * of pairs. Each is `undefined` for runs without such cases, so their reports stay as
 * they were. Pure: result types in, specs out.
 */

type Chart = { id: string; title: string; question: string; spec: TopLevelSpec }

const NODE = 'Node'
const FLOOR = 'C floor'
/** Solid Node, dashed C floor. */
const sideDash: Obj = {
  field: 'side',
  type: 'nominal',
  title: null,
  scale: {
    domain: [NODE, FLOOR],
    range: [
      [1, 0],
      [5, 3],
    ],
  },
  // The subtitle says which is which: a legend of line dashes drawn as points would not.
  legend: null,
}
const tip: Obj = { field: 'tip', type: 'nominal' }
/** The tooltip, and the same text as the mark's description (what a static SVG shows on hover). */
const tipEnc: Obj = { tooltip: tip, description: { field: 'tip' } }
const us = (ns: number): number => ns / 1000

const caseName = (c: CompletedCase): string => `${mechanismLabel(c)}/${c.mode}/${c.endpoints}`
const rateLabel = (r: OfferedRate | undefined): string =>
  r === undefined ? '' : 'percent' in r ? ` at ${r.percent}%` : ` at ${formatRate(r.msgsPerSec)}`

/** Node points filled, the C floor's hollow: two layers over the same encoding. */
const sidePoints = (encoding: Obj): Obj[] => [
  { transform: [{ filter: { field: 'side', equal: NODE } }], mark: { type: 'point', filled: true, size: 45, opacity: 1 }, encoding },
  {
    transform: [{ filter: { field: 'side', equal: FLOOR } }],
    mark: { type: 'point', filled: false, size: 45, strokeWidth: 1.5, opacity: 1 },
    encoding,
  },
]

const ONE_WAY_FIGURES = ['one way p50', 'round trip ÷ 2', 'one way p99'] as const

/**
 * One-way latency beside half the round trip of the same messages: a row per case,
 * a point per figure, the C floor's just below Node's. A one-way p50 well under half
 * the round trip says the way back costs more than the way there.
 */
export function oneWayChart(runs: RunResult[]): Chart | undefined {
  const multi = runs.length > 1
  const rows: string[] = []
  const values = runs.flatMap((run) =>
    run.cases
      .filter(hasOneWay)
      .sort((a, b) => caseName(a).localeCompare(caseName(b)) || a.sizeBytes - b.sizeBytes)
      .flatMap((c: OneWayCase) => {
        const row = `${caseName(c)} ${formatSizeBytes(c.sizeBytes)}${multi ? ` (${run.context.runId})` : ''}`
        if (!rows.includes(row)) rows.push(row)
        const of = (side: string, f: Figures) => {
          if (!f.latencyNs || !f.oneWay) return []
          const ns = [f.latencyNs.p50, f.oneWay.roundTripP50Ns / 2, f.latencyNs.p99]
          const text = `one way p50 ${nsShort(ns[0])}, round trip p50 ${nsShort(f.oneWay.roundTripP50Ns)} (÷ 2 = ${nsShort(ns[1])}), one way p99 ${nsShort(ns[2])}`
          return ONE_WAY_FIGURES.map((figure, i) => ({ row, side, figure, us: us(ns[i]), tip: `${c.id} (${side}): ${text}` }))
        }
        const floor = floorOf(c)
        return [...of(NODE, c), ...(floor ? of(FLOOR, floor) : [])]
      }),
  )
  if (values.length === 0) return undefined
  const id = 'oneway-vs-round-trip'
  const title = 'One-way latency beside half the round trip'
  const question = 'How long does one message take one way, and is it half the round trip?'
  const withFloor = values.some((v) => v.side === FLOOR)
  const { log, scale, axis } = scaleFor(values.map((v) => v.us))
  const figure = {
    field: 'figure',
    type: 'nominal',
    title: null,
    sort: ONE_WAY_FIGURES,
    scale: { domain: ONE_WAY_FIGURES, range: ['#4c78a8', '#f58518', '#e45756'] },
  }
  const encoding = {
    y: { field: 'row', type: 'nominal', title: null, sort: rows, axis: { labelLimit: 600 } },
    ...(withFloor ? { yOffset: { field: 'side', type: 'nominal', sort: [NODE, FLOOR], scale: { domain: [NODE, FLOOR] } } } : {}),
    x: { field: 'us', type: 'quantitative', title: `latency (µs${log ? ', log scale' : ''})`, scale, axis },
    color: figure,
    shape: { ...figure, scale: { domain: ONE_WAY_FIGURES, range: ['circle', 'diamond', 'triangle-right'] } },
    ...tipEnc,
  }
  const spec = top(
    title,
    [
      'one-way p50 and p99 (receipt less send, one clock) and half the round-trip p50 of the same messages; a row per case',
      withFloor ? 'filled: Node; hollow, just below: the C floor, same run' : 'Node; no case has a C floor',
    ],
    { data: { values }, width: 480, height: { step: withFloor ? 26 : 16 }, layer: sidePoints(encoding) },
  )
  return { id, title, question, spec }
}

const LOAD_PERCENTILES = ['p50', 'p99', 'p99.9'] as const

/**
 * Latency percentiles and CPU per message against the offered load: a panel per
 * mechanism, mode and endpoints (latency above, CPU below), a line per percentile. x
 * is the share of the case's own capacity where every case knows it, messages per
 * second otherwise. A side that spins burns the same CPU per second at any load, so
 * its cost per message falls as the load rises.
 */
export function loadChart(runs: RunResult[]): Chart | undefined {
  const multi = runs.length > 1
  const cases = runs.flatMap((run) => run.cases.filter(hasLoad).map((c) => ({ run: run.context.runId, c })))
  if (cases.length === 0) return undefined
  const ofCapacity = cases.every(({ c }) => c.load.capacityMsgsPerSec !== undefined && c.load.capacityMsgsPerSec > 0)
  const panels: string[] = []
  const values = cases
    .sort(
      (a, b) =>
        caseName(a.c).localeCompare(caseName(b.c)) || a.c.sizeBytes - b.c.sizeBytes || a.c.load.offeredMsgsPerSec - b.c.load.offeredMsgsPerSec,
    )
    .flatMap(({ run, c }: { run: string; c: LoadCase }) => {
      const panel = `${caseName(c)} ${formatSizeBytes(c.sizeBytes)}${multi ? ` (${run})` : ''}`
      if (!panels.includes(panel)) panels.push(panel)
      const of = (side: string, f: Figures) => {
        if (!f.latencyNs || !f.load) return []
        const l = f.load
        const x = ofCapacity ? (100 * l.offeredMsgsPerSec) / (l.capacityMsgsPerSec ?? c.load.capacityMsgsPerSec!) : l.offeredMsgsPerSec
        const kept = l.achievedOverOffered < RATE_KEPT ? 'not kept' : 'kept'
        const offered = `offered ${formatRate(l.offeredMsgsPerSec)}${ofCapacity ? ` (${x.toFixed(0)}% of ${formatRate(l.capacityMsgsPerSec)})` : ''}`
        const achieved = `achieved ${(100 * l.achievedOverOffered).toFixed(1)}% of it`
        const ns = [f.latencyNs.p50, f.latencyNs.p99, f.latencyNs.p999]
        const lat = LOAD_PERCENTILES.map((percentile, i) => ({
          panel,
          kind: 'latency',
          side,
          percentile,
          x,
          kept,
          y: us(ns[i]),
          tip: `${c.id} (${side}): ${percentile} ${nsShort(ns[i])}; ${offered}, ${achieved}`,
        }))
        const cores = (l.cpuUsPerMsg * l.achievedMsgsPerSec) / 1e6
        const cpu = {
          panel,
          kind: 'cpu',
          side,
          percentile: 'CPU',
          x,
          kept,
          y: l.cpuUsPerMsg,
          tip: `${c.id} (${side}): ${l.cpuUsPerMsg.toFixed(2)} µs CPU per message, ${cores.toFixed(2)} cores busy; ${offered}, ${achieved}`,
        }
        return [...lat, cpu]
      }
      const floor = floorOf(c)
      return [...of(NODE, c), ...(floor ? of(FLOOR, floor) : [])]
    })
  const id = 'latency-vs-load'
  const title = 'Latency and CPU against offered load'
  const question = 'How does latency grow as the offered rate nears what the channel can carry, and what does each rate cost in CPU?'
  const withFloor = values.some((v) => v.side === FLOOR)
  const missed = values.some((v) => v.kept === 'not kept')
  const latY = scaleFor(values.filter((v) => v.kind === 'latency').map((v) => v.y))
  const cpuY = scaleFor(values.filter((v) => v.kind === 'cpu').map((v) => v.y))
  const xs = values.map((v) => v.x)
  const xRate = scaleFor(xs, '~s')
  const xEnc = (axisTitle: string | null): Obj =>
    ofCapacity
      ? {
          field: 'x',
          type: 'quantitative',
          title: axisTitle && `${axisTitle} (% of capacity)`,
          scale: { domain: [0, Math.max(100, ...xs)], nice: false },
        }
      : {
          field: 'x',
          type: 'quantitative',
          title: axisTitle && `${axisTitle} (msgs/s${xRate.log ? ', log' : ''})`,
          scale: xRate.scale,
          axis: xRate.axis,
        }
  const shape = { field: 'kept', type: 'nominal', title: 'offered rate', scale: { domain: ['kept', 'not kept'], range: ['circle', 'cross'] } }
  const color = {
    field: 'percentile',
    type: 'nominal',
    title: 'percentile',
    sort: [...LOAD_PERCENTILES, 'CPU'],
    scale: { domain: [...LOAD_PERCENTILES, 'CPU'], range: ['#4c78a8', '#f58518', '#8e3b8f', '#54a24b'] },
  }
  const unit = (panel: string, kind: string, height: number, y: Obj, x: Obj): Obj => ({
    width: 220,
    height,
    transform: [{ filter: { field: 'panel', equal: panel } }, { filter: { field: 'kind', equal: kind } }],
    layer: [
      { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color, strokeDash: sideDash } },
      ...sidePoints({ x, y, color, shape, ...tipEnc }),
    ],
  })
  const latEnc = {
    field: 'y',
    type: 'quantitative',
    title: `latency (µs${latY.log ? ', log' : ''})`,
    scale: latY.scale,
    axis: latY.axis,
  }
  const cpuEnc = {
    field: 'y',
    type: 'quantitative',
    title: `CPU µs/msg${cpuY.log ? ' (log)' : ''}`,
    scale: cpuY.scale,
    axis: cpuY.axis,
  }
  const spec = top(
    title,
    [
      `above: p50, p99 and p99.9 latency from each message's scheduled send time; below: both sides' CPU per message; against the offered ${ofCapacity ? "share of the case's own capacity" : 'rate'}`,
      [
        withFloor ? 'solid, filled: Node; dashed, hollow: the C floor, same run' : 'Node; no case has a C floor',
        missed
          ? `+: the rate was not kept (under ${100 * RATE_KEPT}% of it achieved)`
          : `every rate was kept (${100 * RATE_KEPT}% of it achieved or more)`,
        'a side that spins burns the same CPU per second at any load',
      ].join('; '),
    ],
    {
      data: { values },
      columns: Math.min(panels.length, 3),
      concat: panels.map((panel) => ({
        title: { text: panel, fontSize: 12 },
        vconcat: [unit(panel, 'latency', 170, latEnc, xEnc(null)), unit(panel, 'cpu', 100, cpuEnc, xEnc('offered load'))],
      })),
    },
  )
  return { id, title, question, spec }
}

/** A one-pair case's aggregate: messages per second for stream and load, round trips per second for ping-pong and one-way. */
const onePairRate = (f: Figures, pattern: string): number | undefined =>
  pattern === 'stream' || pattern === 'load' ? (f.throughput?.msgsPerSec ?? f.load?.achievedMsgsPerSec) : f.roundTripsPerSec

/** What a case of several pairs shares with the one-pair case it scales from: everything but the pairs. */
const lineKey = (c: CompletedCase): string =>
  [mechanismLabel(c), c.mode, c.endpoints, c.pattern, c.sizeBytes, c.rate === undefined ? '' : JSON.stringify(c.rate)].join('|')

/**
 * Aggregate throughput against the number of pairs run at once, the one-pair case
 * included: a line per case, a panel per pattern (and rate), and the ideal (pairs × one pair)
 * dotted grey beside Node's.
 */
export function pairsChart(runs: RunResult[]): Chart | undefined {
  const multi = runs.length > 1
  const values = runs.flatMap((run) => {
    const byLine = new Map<string, PairsCase[]>()
    for (const c of run.cases.filter(hasPairs)) byLine.set(lineKey(c), [...(byLine.get(lineKey(c)) ?? []), c])
    const one = run.cases.filter((c): c is CompletedCase => isCompleted(c) && (c.pairs ?? 1) === 1)
    return [...byLine.values()].flatMap((several) => {
      const base: CompletedCase = one.find((o) => lineKey(o) === lineKey(several[0])) ?? several[0]
      const line = `${caseName(base)} ${formatSizeBytes(base.sizeBytes)}${multi ? ` (${run.context.runId})` : ''}`
      const panel = `${base.pattern}${rateLabel(base.rate)}`
      const order =
        PATTERNS.indexOf(base.pattern) * 1e12 +
        (base.rate === undefined ? 0 : 'percent' in base.rate ? base.rate.percent : 1e6 + base.rate.msgsPerSec)
      const point = (side: string, pairs: number, msgsPerSec: number, what: string) => ({
        line,
        key: `${panel} ${line}`,
        panel,
        order,
        side,
        pairs,
        msgsPerSec,
        tip: `${what}: ${formatRate(msgsPerSec)} from ${pairs} pair${pairs > 1 ? 's' : ''} (${side})`,
      })
      const sides = [NODE, FLOOR].flatMap((side) => {
        const figures = (c: CompletedCase): Figures | undefined => (side === NODE ? c : floorOf(c))
        const oneFig = base.pairs === undefined || base.pairs === 1 ? figures(base) : undefined
        const oneRate = oneFig && onePairRate(oneFig, base.pattern)
        const points = oneRate === undefined ? [] : [point(side, 1, oneRate, base.id)]
        for (const c of several) {
          const pr = figures(c)?.pairsRun
          if (!pr) continue
          const agg = pr.aggregate.msgsPerSec
          const eff = pr.scalingEfficiency ?? (oneRate ? agg / (pr.pairs * oneRate) : undefined)
          const p = point(side, c.pairs, agg, c.id)
          const effText = eff === undefined ? '' : `, ${(100 * eff).toFixed(0)}% of ${c.pairs} × one pair`
          points.push({ ...p, tip: `${p.tip}${effText}, ${(100 * pr.overlap).toFixed(0)}% overlapped; ${pr.placement}` })
        }
        return points
      })
      const nodeOne = sides.find((v) => v.side === NODE && v.pairs === 1)?.msgsPerSec
      const counts = [...new Set(sides.filter((v) => v.side === NODE).map((v) => v.pairs))].sort((a, b) => a - b)
      const ideal =
        nodeOne === undefined
          ? []
          : counts.map((n) => ({ ...point('ideal', n, n * nodeOne, line), tip: `${line}: ideal ${formatRate(n * nodeOne)} (${n} × one pair)` }))
      return [...sides, ...ideal]
    })
  })
  if (values.length === 0) return undefined
  const id = 'pairs-scaling'
  const title = 'Aggregate throughput against the number of pairs'
  const counts = [...new Set(values.map((v) => v.pairs))].sort((a, b) => a - b)
  const question = `Does running ${counts.at(-1)} pairs at once carry ${counts.at(-1)} times what one pair carries, or do the pairs get in each other's way?`
  const withFloor = values.some((v) => v.side === FLOOR)
  const panels = [...new Set([...values].sort((a, b) => a.order - b.order).map((v) => v.panel))]
  const lines = [...new Set(values.map((v) => v.line))]
  const { scale, axis } = scaleFor(
    values.map((v) => v.msgsPerSec),
    '~s',
  )
  const x = { field: 'pairs', type: 'quantitative', title: 'pairs at once', scale: { type: 'log', base: 2 }, axis: { values: counts, format: 'd' } }
  const y = {
    field: 'msgsPerSec',
    type: 'quantitative',
    title: 'all pairs, per second',
    scale,
    axis,
  }
  // A case's label carries the run id when several runs overlay: wider than the common legend's limit.
  const color = {
    field: 'line',
    type: 'nominal',
    title: 'case',
    scale: { domain: lines, scheme: lines.length <= 10 ? 'tableau10' : 'tableau20' },
    legend: { labelLimit: 600 },
  }
  const spec = top(
    title,
    [
      'stream and load: messages per second from all pairs together; ping-pong and one-way: round trips per second, summed; a line per case, a panel per pattern and rate; log scales',
      `${withFloor ? 'solid, filled: Node; dashed, hollow: the C floor, same run; ' : ''}dotted grey: ideal, pairs × Node's one pair`,
    ],
    {
      data: { values },
      facet: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
      columns: panels.length <= 4 ? panels.length : 3,
      spec: {
        width: 220,
        height: 200,
        layer: [
          {
            transform: [{ filter: { field: 'side', equal: 'ideal' } }],
            mark: { type: 'line', color: '#999', strokeWidth: 1, strokeDash: [2, 3] },
            encoding: { x, y, detail: { field: 'key' }, ...tipEnc },
          },
          {
            transform: [{ filter: { field: 'side', oneOf: [NODE, FLOOR] } }],
            mark: { type: 'line', strokeWidth: 1.5 },
            encoding: { x, y, color, strokeDash: sideDash, detail: { field: 'key' } },
          },
          ...sidePoints({ x, y, color, ...tipEnc }),
        ],
      },
    },
  )
  return { id, title, question, spec }
}

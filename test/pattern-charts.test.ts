import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { compile } from 'vega-lite'
import { beforeAll, describe, expect, it } from 'vitest'
import { hasLoad, hasOneWay, hasPairs, isCompleted, type CompletedCase, type RunResult } from '../src/core/result.js'
import { formatRate } from '../src/core/units.js'
import { nsShort } from '../src/report/format.js'
import { parseRun } from '../src/report/load.js'
import { loadChart, oneWayChart, pairsChart } from '../src/report/pattern-charts.js'
import { renderCharts, type RenderedChart } from '../src/report/render.js'
import { countMarks, svgTexts } from './svg-marks.js'
import { ROOT } from './helpers.js'

/** The charts of one-way, load and several pairs against a frozen real run of those patterns (with its C floor). */
const FIXTURE = join(ROOT, 'test', 'fixtures', 'patterns-run.json')
const OLD = join(ROOT, 'test', 'fixtures', 'run-a.json')
const load = (path: string): RunResult => parseRun(readFileSync(path, 'utf8'), path)

const floorDone = (c: CompletedCase) => (c.floor?.state === 'completed' ? c.floor : undefined)
/** The spec's inline rows. */
const rows = (chart: { spec: unknown }): Array<Record<string, unknown>> =>
  (chart.spec as { data: { values: Array<Record<string, unknown>> } }).data.values
/** Everything but the number of pairs, as the chart pairs a case with its one-pair case. */
const lineOf = (c: CompletedCase): string => [c.mechanism, c.variant, c.mode, c.endpoints, c.pattern, c.sizeBytes, JSON.stringify(c.rate)].join('|')

describe('pattern charts from a frozen run', () => {
  const run = load(FIXTURE)
  const oneWay = run.cases.filter(hasOneWay)
  const loads = run.cases.filter(hasLoad)
  const pairs = run.cases.filter(hasPairs)
  const charts = [oneWayChart([run]), loadChart([run]), pairsChart([run])]
  let rendered: RenderedChart[]
  const svgOf = (id: string): string => rendered.find((c) => c.id === id)!.svg!

  beforeAll(async () => {
    rendered = await renderCharts(charts.map((c) => c!))
  })

  it('the fixture has cases of each kind, some with a C floor', () => {
    expect(oneWay.length).toBeGreaterThanOrEqual(4)
    expect(loads.length).toBeGreaterThanOrEqual(9)
    expect(pairs.length).toBeGreaterThanOrEqual(4)
    for (const cases of [oneWay, loads, pairs]) expect(cases.some((c) => floorDone(c))).toBe(true)
  })

  it('each chart has its id, a title, a question, and a spec that compiles with its data inline and renders', () => {
    expect(charts.map((c) => c?.id)).toEqual(['oneway-vs-round-trip', 'latency-vs-load', 'pairs-scaling'])
    for (const c of rendered) {
      expect(c.title.length).toBeGreaterThan(10)
      expect(c.question).toMatch(/\?$/)
      expect(() => compile(c.spec!)).not.toThrow()
      const json = JSON.stringify(c.spec)
      expect(json).not.toMatch(/"url"\s*:/)
      expect(json).toContain('"background":"white"')
      expect(json).toContain(`"tooltip":{"field":"tip"`)
      expect((c.spec as { title: { subtitle: string[] } }).title.subtitle.join(' ')).toMatch(/C floor/)
      expect(c.svg).toMatch(/^<svg[^>]*class="marks"/)
      expect(c.svg).not.toMatch(/\b(href|src)="(?!#)/)
    }
  })

  it('one-way: a point per case and figure, Node and C floor, a row per case', () => {
    const svg = svgOf('oneway-vs-round-trip')
    const withFloor = oneWay.filter((c) => floorDone(c)?.latencyNs && floorDone(c)?.oneWay)
    expect(countMarks(svg, 'symbol')).toBe(3 * (oneWay.length + withFloor.length))
    const texts = svgTexts(svg)
    for (const c of oneWay) expect(texts).toContain(`${c.mechanism}/${c.mode}/${c.endpoints} 64B`)
    for (const figure of ['one way p50', 'round trip ÷ 2', 'one way p99']) expect(texts).toContain(figure)
    expect(texts.join(' ')).toContain('hollow, just below: the C floor')
    const c = oneWay[0]
    const half = nsShort(c.oneWay.roundTripP50Ns / 2)
    expect(svg).toContain(
      `<title>${c.id} (Node): one way p50 ${nsShort(c.latencyNs.p50)}, round trip p50 ${nsShort(c.oneWay.roundTripP50Ns)} (÷ 2 = ${half})`,
    )
    const f = withFloor[0].floor!
    expect(svg).toContain(`<title>${withFloor[0].id} (C floor): one way p50 ${nsShort(f.latencyNs!.p50)}`)
    const us = rows(charts[0]!).filter((v) => v.side === 'Node' && v.figure === 'round trip ÷ 2')
    expect(us.map((v) => v.us)).toEqual(expect.arrayContaining([c.oneWay.roundTripP50Ns / 2000]))
  })

  it('load: a point per case and percentile, and one for its CPU, Node and C floor; a line per percentile and side in each panel', () => {
    const svg = svgOf('latency-vs-load')
    const withFloor = loads.filter((c) => floorDone(c)?.latencyNs && floorDone(c)?.load)
    expect(countMarks(svg, 'symbol')).toBe(4 * (loads.length + withFloor.length))
    const panels = new Set(loads.map((c) => `${c.mechanism}/${c.mode}/${c.endpoints} 64B`))
    const floorPanels = new Set(withFloor.map((c) => `${c.mechanism}/${c.mode}/${c.endpoints} 64B`))
    expect(countMarks(svg, 'line')).toBe(4 * (panels.size + floorPanels.size))
    const texts = svgTexts(svg)
    for (const p of panels) expect(texts).toContain(p)
    expect(texts).toContain('offered load (% of capacity)')
    expect(texts).toContain('latency (µs, log)')
    for (const label of ['p50', 'p99', 'p99.9', 'CPU']) expect(texts).toContain(label)
    // x: the offered share of the case's capacity, as the run asked it (10, 50, 90 %).
    const xs = rows(charts[1]!).filter((v) => v.side === 'Node' && v.percentile === 'p50')
    for (const c of loads) expect(xs.some((v) => Math.abs((v.x as number) - (c.rate as { percent: number }).percent) < 0.01)).toBe(true)
    // A rate not kept is marked, point by point, and the subtitle says so.
    const missed = [...loads, ...withFloor.map((c) => c.floor!)].filter((f) => f.load!.achievedOverOffered < 0.98)
    expect(missed.length).toBeGreaterThan(0)
    expect(rows(charts[1]!).filter((v) => v.kept === 'not kept')).toHaveLength(4 * missed.length)
    expect(texts.join(' ')).toContain('+: the rate was not kept')
    const c = loads[0]
    expect(svg).toContain(`<title>${c.id} (Node): p99.9 ${nsShort(c.latencyNs.p999)}; offered ${formatRate(c.load.offeredMsgsPerSec)}`)
    expect(svg).toContain(`<title>${c.id} (Node): ${c.load.cpuUsPerMsg.toFixed(2)} µs CPU per message`)
  })

  it('pairs: a point per case and pairs count, the one-pair case included, and the ideal beside', () => {
    const svg = svgOf('pairs-scaling')
    const one = run.cases.filter((c): c is CompletedCase => isCompleted(c) && (c.pairs ?? 1) === 1)
    const lines = [...new Set(pairs.map(lineOf))]
    const base = lines.map((l) => one.find((c) => lineOf(c) === l))
    expect(base.every((c) => c !== undefined)).toBe(true)
    const floorPairs = pairs.filter((c) => floorDone(c)?.pairsRun)
    const floorOne = base.filter((c) => floorDone(c!))
    expect(countMarks(svg, 'symbol')).toBe(pairs.length + floorPairs.length + base.length + floorOne.length)
    const floorLines = new Set([...floorPairs.map(lineOf), ...floorOne.map((c) => lineOf(c!))])
    // Node's lines, the C floor's, and one ideal line for each of Node's.
    expect(countMarks(svg, 'line')).toBe(2 * lines.length + floorLines.size)
    const texts = svgTexts(svg)
    for (const p of ['pingpong', 'stream', 'oneway', 'load at 10%', 'load at 90%']) expect(texts).toContain(p)
    for (const c of base) expect(texts).toContain(`${c!.mechanism}/${c!.mode}/${c!.endpoints} 64B`)
    expect(texts).toContain('pairs at once')
    expect(texts.join(' ')).toContain("dotted grey: ideal, pairs × Node's one pair")
    // The ideal is twice the one pair: round trips for ping-pong, messages for stream.
    const values = rows(charts[2]!)
    for (const c of base) {
      const oneRate =
        c!.pattern === 'pingpong' || c!.pattern === 'oneway' ? c!.roundTripsPerSec! : (c!.throughput?.msgsPerSec ?? c!.load!.achievedMsgsPerSec)
      const ideal = values.find(
        (v) => v.side === 'ideal' && v.pairs === 2 && (v.tip as string).startsWith(`${c!.mechanism}/${c!.mode}/${c!.endpoints} 64B:`),
      )
      expect(ideal).toBeDefined()
      const at1 = values.find((v) => v.side === 'Node' && v.pairs === 1 && (v.tip as string).startsWith(`${c!.id}:`))
      expect(at1?.msgsPerSec).toBe(oneRate)
    }
    const ping = pairs.find((c) => c.pattern === 'pingpong' && c.pairsRun.scalingEfficiency !== undefined)!
    expect(svg).toContain(
      `<title>${ping.id}: ${formatRate(ping.pairsRun.aggregate.msgsPerSec)} from 2 pairs (Node), ${(100 * ping.pairsRun.scalingEfficiency!).toFixed(0)}% of 2 × one pair`,
    )
  })

  it('several runs overlay, each label carrying its run id', async () => {
    const other = structuredClone(run)
    other.context.runId = 'second-run'
    for (const runs of [
      [run, run],
      [run, other],
    ]) {
      const both = [oneWayChart(runs), loadChart(runs), pairsChart(runs)]
      const svgs = (await renderCharts(both.map((c) => c!))).map((c) => c.svg!)
      for (const r of runs) {
        expect(svgTexts(svgs[0])).toContain(`pipe/blocking/process 64B (${r.context.runId})`)
        expect(svgTexts(svgs[1])).toContain(`pipe/blocking/process 64B (${r.context.runId})`)
        expect(svgTexts(svgs[2])).toContain(`pipe/blocking/process 64B (${r.context.runId})`)
      }
      expect(countMarks(svgs[0], 'symbol')).toBe(2 * countMarks(svgOf('oneway-vs-round-trip'), 'symbol'))
      expect(countMarks(svgs[1], 'symbol')).toBe(2 * countMarks(svgOf('latency-vs-load'), 'symbol'))
      expect(countMarks(svgs[2], 'symbol')).toBe(2 * countMarks(svgOf('pairs-scaling'), 'symbol'))
    }
  })
})

describe('pattern charts of a run without those patterns', () => {
  it('are absent, so older reports stay as they were', () => {
    const old = load(OLD)
    expect(old.cases.some((c) => c.pattern === 'oneway' || c.pattern === 'load' || (c.pairs ?? 1) > 1)).toBe(false)
    expect(oneWayChart([old])).toBeUndefined()
    expect(loadChart([old])).toBeUndefined()
    expect(pairsChart([old])).toBeUndefined()
    expect(pairsChart([old, old])).toBeUndefined()
  })
})

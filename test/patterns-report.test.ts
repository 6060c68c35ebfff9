import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hasLoad, hasOneWay, hasPairs, isCompleted, type CaseResult, type RunResult } from '../src/core/result.js'
import { formatNs, formatRate } from '../src/core/units.js'
import { median } from '../src/core/inference.js'
import { buildCharts } from '../src/report/charts.js'
import { compare, metricFor } from '../src/report/compare/compare.js'
import { bmf, gabLatency, gabThroughput } from '../src/report/compare/exports.js'
import { method } from '../src/report/compare/render.js'
import { GLANCE_MAX_LINES, renderGlance } from '../src/report/glance.js'
import { headlineMatrix } from '../src/report/headline.js'
import { historyCharts } from '../src/report/history.js'
import { parseRun } from '../src/report/load.js'
import { renderMarkdown } from '../src/report/markdown.js'
import { GLANCE_SECTION_ROWS, loadGlanceLines, oneWayGlanceLines, pairsGlanceLines } from '../src/report/patterns.js'
import { summaryTables } from '../src/report/summary.js'
import { renderTables } from '../src/report/table.js'
import { bmfProblems, gabProblems } from './export-formats.js'
import { ROOT } from './helpers.js'
import { scaleAgainstOnePair } from '../src/harness/run/session.js'

/**
 * The one-way, load and pairs cases in every report but the charts (test/pattern-charts.test.ts):
 * against a real run of this host (pipe and sab-ring, blocking and busy-poll, 64 B,
 * ping-pong, stream, one-way and load at 10/50/90%, one and two pairs, C floor beside).
 */
const load = (file: string): RunResult => {
  const path = join(ROOT, 'test', 'fixtures', file)
  return parseRun(readFileSync(path, 'utf8'), path)
}
const run = load('patterns-run.json')
const old = load('run-a.json')
const ids = (cases: CaseResult[]): string[] => cases.map((c) => c.id).sort()
const tableOf = (r: RunResult, pattern: string) => summaryTables(r).find((t) => t.pattern === pattern)
const column = (t: { head: string[]; rows: string[][] }, head: string): string[] => t.rows.map((r) => r[t.head.indexOf(head)])

describe('the tables of the new patterns', () => {
  it('the fixture has every kind of case the tables draw', () => {
    expect(run.cases.filter(hasOneWay).length).toBeGreaterThanOrEqual(4)
    expect(run.cases.filter(hasLoad).length).toBeGreaterThanOrEqual(9)
    expect(run.cases.filter(hasPairs).length).toBeGreaterThanOrEqual(6)
  })

  it('one-way: a row per one-pair case, its one-way p50 and the round trip of the same case beside it', () => {
    const t = tableOf(run, 'oneway')!
    const cases = run.cases.filter(hasOneWay)
    expect(t.rows.map((r) => r[0]).sort()).toEqual(ids(cases))
    for (const c of cases) {
      const row = t.rows.find((r) => r[0] === c.id)!
      expect(row[t.head.indexOf('p50 one way')]).toBe(formatNs(c.latencyNs.p50))
      expect(row[t.head.indexOf('round trip p50')]).toBe(formatNs(c.oneWay.roundTripP50Ns))
      expect(Number(row[t.head.indexOf('one way ÷ round trip')])).toBeCloseTo(c.oneWay.p50OverRoundTrip, 2)
    }
    expect(t.caption).toMatch(/acknowledged/)
  })

  it('load: a row per rate, a case’s rates in order, what was kept and the C floor’s figures beside', () => {
    const t = tableOf(run, 'load')!
    const cases = run.cases.filter(hasLoad)
    expect(t.rows.map((r) => r[0]).sort()).toEqual(ids(cases))
    // pipe/blocking/process at 10%, 50%, 90%, one after another.
    const block = t.rows.filter((r) => r[0].startsWith('pipe/blocking/process/')).map((r) => r[0].split('/')[3])
    expect(block).toEqual(['load-10pct', 'load-50pct', 'load-90pct'])
    for (const c of cases) {
      const row = t.rows.find((r) => r[0] === c.id)!
      expect(row[t.head.indexOf('offered')]).toBe(
        `${c.rate && 'percent' in c.rate ? c.rate.percent : '?'}% = ${formatRate(c.load.offeredMsgsPerSec)}`,
      )
      expect(row[t.head.indexOf('kept')]).toBe(`${(100 * c.load.achievedOverOffered).toFixed(1)}%`)
      expect(row[t.head.indexOf('p99')]).toMatch(new RegExp(`^${formatNs(c.latencyNs.p99).replace('.', '\\.')}`))
      expect(row[t.head.indexOf('C p99')]).toBe(formatNs(c.floor?.state === 'completed' ? c.floor.latencyNs?.p99 : undefined))
    }
  })

  it('pairs: a row per case of several pairs, its aggregate, efficiency and overlap', () => {
    const t = tableOf(run, 'pairs')!
    const cases = run.cases.filter(hasPairs)
    expect(t.rows.map((r) => r[0]).sort()).toEqual(ids(cases))
    for (const c of cases) {
      const row = t.rows.find((r) => r[0] === c.id)!
      expect(row[t.head.indexOf('aggregate msgs/s')]).toBe(formatRate(c.pairsRun.aggregate.msgsPerSec))
      const e = c.pairsRun.scalingEfficiency
      expect(row[t.head.indexOf('efficiency')]).toBe(e === undefined ? '–' : e.toFixed(2))
      expect(row[t.head.indexOf('overlap')]).toBe(`${(100 * c.pairsRun.overlap).toFixed(1)}%`)
    }
    // A case of pairs is in the pairs table only: not among the one-pair round trips or streams.
    expect(column(tableOf(run, 'pingpong')!, 'case').some((id) => id.includes('-x2'))).toBe(false)
    expect(column(tableOf(run, 'stream')!, 'case').some((id) => id.includes('-x2'))).toBe(false)
    expect(column(t, 'case').some((id) => id.includes('-x2/'))).toBe(true)
  })

  it('the efficiency of load pairs is against the rate one pair kept (a load case has no throughput of its own)', () => {
    const many = structuredClone(run.cases.find((c) => c.id === 'pipe/blocking/process/load-10pct-x2/64B')!)
    const one = run.cases.filter(hasLoad).find((c) => c.id === 'pipe/blocking/process/load-10pct/64B')!
    if (many.state !== 'completed' || !many.pairsRun) throw new Error('the fixture lost its load pairs')
    delete many.pairsRun.scalingEfficiency
    scaleAgainstOnePair(many, run.cases)
    expect(many.pairsRun.scalingEfficiency).toBeCloseTo(many.pairsRun.aggregate.msgsPerSec / (2 * one.load.achievedMsgsPerSec), 9)
  })

  it('a run without the new patterns has none of their tables, sections or words', () => {
    expect(summaryTables(old).map((t) => t.pattern)).toEqual(['pingpong', 'stream'])
    expect(oneWayGlanceLines(old)).toEqual([])
    expect(loadGlanceLines(old)).toEqual([])
    expect(pairsGlanceLines(old)).toEqual([])
    expect(renderGlance(old, { color: false })).not.toMatch(/^(one-way latency at|under load at|pairs at once)/m)
  })

  it('the report has a chart each after the usual ones; a run without such cases has none of them', () => {
    const ids = (r: RunResult): string[] => buildCharts([r]).map((c) => c.id)
    expect(ids(run).slice(-3)).toEqual(['oneway-vs-round-trip', 'latency-vs-load', 'pairs-scaling'])
    expect(ids(old)).not.toContain('latency-vs-load')
    expect(ids(old).length).toBe(ids(run).length - 3)
  })

  it('--full and markdown carry the three tables with their captions', () => {
    const full = renderTables(run, { color: false, full: true })
    for (const head of ['one way, paced (oneway)', 'under offered load (load)', 'pairs at once (--pairs)']) expect(full).toContain(head)
    expect(full).toContain('coordinated omission corrected')
    expect(full).toContain('×C: Node over the C floor measured in the same run (p50 round trip (one way for oneway cases)')
    const md = renderMarkdown([run])
    for (const t of summaryTables(run).filter((x) => ['oneway', 'load', 'pairs'].includes(x.pattern))) {
      expect(md).toContain(t.caption.slice(0, 40))
      for (const r of t.rows) expect(md).toContain(`\`${r[0]}\``)
    }
  })
})

describe('the terminal summary', () => {
  const text = renderGlance(run, { color: false })
  const lines = text.split('\n')

  it(`shows a section each, and still fits one screen (${GLANCE_MAX_LINES} lines of 120 columns)`, () => {
    expect(text).toMatch(/^one-way latency at 64B: p50 \(Node\/C\)/m)
    expect(text).toMatch(/^under load at 64B: p99 \(Node\/C\)/m)
    expect(text).toMatch(/^pairs at once at 64B/m)
    expect(lines.length).toBeLessThanOrEqual(GLANCE_MAX_LINES)
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(120)
  })

  it('one-way: the one-way p50 of Node and C and the ratio to the round trip, per mechanism and mode', () => {
    const c = run.cases.filter(hasOneWay).find((x) => x.id === 'pipe/blocking/process/oneway/64B')!
    const row = oneWayGlanceLines(run).find((l) => l.trim().startsWith('pipe/process'))!
    expect(row).toContain(`(${c.oneWay.p50OverRoundTrip.toFixed(2)})`)
    expect(row).toMatch(/µs\/[\d.]+ µs/)
  })

  it('load: a column per rate, a ! where the sender did not keep the rate', () => {
    const section = loadGlanceLines(run)
    expect(section[1].trim().split(/\s+/)).toEqual(['offered', '10%', '50%', '90%'])
    const behind = run.cases.filter(hasLoad).filter((c) => c.sizeBytes === 64 && c.load.achievedOverOffered < 0.98)
    const marks = section.slice(2).join('\n').match(/!/g) ?? []
    const floorBehind = run.cases
      .filter(hasLoad)
      .filter((c) => c.sizeBytes === 64 && c.floor?.state === 'completed' && (c.floor.load?.achievedOverOffered ?? 1) < 0.98)
    expect(marks.length).toBe(behind.length + floorBehind.length)
  })

  it('pairs: the one-pair figure beside each count, the rows cut at the section limit with a pointer to --full', () => {
    const section = pairsGlanceLines(run)
    expect(section[1].trim().split(/\s+/)).toEqual(['pairs', '1', '2'])
    const rows = section.slice(2).filter((l) => !l.includes('more row'))
    expect(rows.length).toBe(GLANCE_SECTION_ROWS)
    expect(section.at(-1)).toMatch(/^ {2}… \d+ more rows: --full or the HTML report$/)
    expect(pairsGlanceLines(run, 3).length).toBe(2 + 3 + 1)
  })

  it('the headline matrix reads the one-pair cases: a skipped case of two pairs does not hide a completed one', () => {
    const m = headlineMatrix(run)
    for (const row of m.rows) for (const c of [...Object.values(row.ping), ...Object.values(row.stream)]) expect(c?.pairs ?? 1).toBe(1)
    const pipe = m.rows.find((r) => r.mech === 'pipe' && r.endpoints === 'process')!
    expect(pipe.ping['busy-poll']?.state).toBe('completed')
  })
})

describe('compare and exports', () => {
  it('the automatic metric: p50 for round trips and one way, p99 under load, throughput for streams and pairs', () => {
    expect(metricFor('auto', { pattern: 'pingpong' })).toBe('p50')
    expect(metricFor('auto', { pattern: 'oneway' })).toBe('p50')
    expect(metricFor('auto', { pattern: 'load' })).toBe('p99')
    expect(metricFor('auto', { pattern: 'stream' })).toBe('throughput')
    expect(metricFor('auto', { pattern: 'fanin' })).toBe('throughput')
    for (const pattern of ['pingpong', 'oneway', 'load', 'stream'] as const) expect(metricFor('auto', { pattern, pairs: 2 })).toBe('throughput')
    expect(metricFor('p99', { pattern: 'oneway' })).toBe('p99')
    expect(metricFor('throughput', { pattern: 'oneway' })).toBeUndefined()
    expect(metricFor('throughput', { pattern: 'oneway', pairs: 4 })).toBe('throughput')
  })

  it('a run against itself: every completed case compared by its metric, pairs by their aggregate', () => {
    const cmp = compare(run, run, { force: true })
    const done = run.cases.filter(isCompleted)
    expect(cmp.cases.length).toBe(done.length)
    const byId = new Map(cmp.cases.map((c) => [c.id, c]))
    for (const c of done) {
      const k = byId.get(c.id)!
      expect(k.metric).toBe(metricFor('auto', c))
      expect(k.ratio).toBeCloseTo(1, 9)
    }
    const pair = run.cases.filter(hasPairs)[0]
    const k = byId.get(pair.id)!
    expect(k.pairs).toBe(pair.pairs)
    expect(k.base.median).toBeCloseTo(median(pair.repetitions.map((r) => r.pairsRun!.aggregate.bytesPerSec)), 6)
    expect(method(cmp)).toContain('one-way p50 latency, p99 latency under load, the aggregate throughput of several pairs')
  })

  it('a load case whose tail doubled is regressed; its p50 alone would not have said so', () => {
    const id = 'pipe/blocking/process/load-10pct/64B'
    const withReps = (factor: number): RunResult => {
      const r = structuredClone(run)
      const c = r.cases.find((x) => x.id === id)!
      const t = c.repetitions[0]
      c.repetitions = Array.from({ length: 10 }, (_, index) => ({
        ...t,
        index,
        latencyNs: { ...t.latencyNs!, p50: 30_000 * (1 + index / 200), p99: 500_000 * factor * (1 + index / 100) },
      }))
      r.cases = [c]
      return r
    }
    const cmp = compare(withReps(1), withReps(2), { force: true })
    expect(cmp.cases.map((c) => [c.id, c.metric, c.verdict])).toEqual([[id, 'p99', 'regressed']])
    expect(compare(withReps(1), withReps(2), { force: true, metric: 'p50' }).cases[0].verdict).toBe('unchanged')
  })

  it('exports: one-way p50 and load p99 in the latency exports, pairs in the throughput ones, all valid for their services', () => {
    const asWritten = (v: unknown): unknown => JSON.parse(JSON.stringify(v))
    const lat = gabLatency(run)
    const thr = gabThroughput(run)
    expect(gabProblems(asWritten(lat))).toEqual([])
    expect(gabProblems(asWritten(thr))).toEqual([])
    expect(bmfProblems(asWritten(bmf(run)))).toEqual([])
    const done = run.cases.filter(isCompleted)
    const latencyIds = done.filter((c) => c.pattern !== 'fanin' && ['p50', 'p99'].includes(metricFor('auto', c)!)).map((c) => c.id)
    expect(lat.map((e) => e.name).sort()).toEqual([...latencyIds].sort())
    expect(thr.map((e) => e.name).sort()).toEqual(ids(done.filter((c) => metricFor('auto', c) === 'throughput')))
    const l = run.cases.filter(hasLoad)[0]
    const e = lat.find((x) => x.name === l.id)!
    expect(e.value).toBeCloseTo(median(l.repetitions.map((r) => r.latencyNs!.p99)), 2)
    expect(e.extra).toMatch(/p99 latency under load/)
    expect(lat.find((x) => x.name === run.cases.filter(hasOneWay)[0].id)!.extra).toMatch(/p50 one-way latency/)
    const b = bmf(run)
    expect(Object.keys(b[l.id])).toEqual(['p99-latency'])
    expect(Object.keys(b[run.cases.filter(hasOneWay)[0].id])).toEqual(['latency'])
    const p = run.cases.filter(hasPairs)[0]
    expect(b[p.id].throughput!.value).toBeCloseTo(median(p.repetitions.map((r) => r.pairsRun!.aggregate.msgsPerSec)), 2)
  })

  it('history: the latency trend says latency, not round trip, once one-way or load cases are in it', () => {
    expect(historyCharts([run, run])[0].title).toBe('Latency (p50) over runs')
    expect(historyCharts([old, old])[0].title).toBe('Round trip (p50) over runs')
  })
})

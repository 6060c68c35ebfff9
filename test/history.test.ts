import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { historyCharts, historyPoints } from '../src/report/history.js'
import { renderCharts } from '../src/report/render.js'
import { hasLatency, type RunResult } from '../src/core/result.js'
import { ROOT, runCli, tempFile } from './helpers.js'

const FIXTURE = join(ROOT, 'test', 'fixtures', 'run-a.json')
const base = JSON.parse(readFileSync(FIXTURE, 'utf8')) as RunResult

/** The fixture again, a day later, with one case 50% slower. */
function later(): RunResult {
  const r = structuredClone(base)
  r.context.runId = 'later-run'
  r.context.startedAt = new Date(Date.parse(base.context.startedAt) + 86_400_000).toISOString()
  const c = r.cases.find((x) => x.id === 'pipe/blocking/process/pingpong/64B')!
  if (!hasLatency(c)) throw new Error(`the fixture's ${c.id} has no latency`)
  c.latencyNs.p50 *= 1.5
  return r
}

describe('history', () => {
  it('orders runs by start time and follows the chosen cases', () => {
    const { latency, chosen } = historyPoints([later(), base], ['pipe/blocking/*'])
    const expected = base.cases.filter((c) => c.state === 'completed' && c.id.startsWith('pipe/blocking/')).map((c) => c.id)
    expect(chosen.sort()).toEqual(expected.sort())
    expect(expected.length).toBeGreaterThan(1)
    const pipe = latency.filter((p) => p.id === 'pipe/blocking/process/pingpong/64B')
    expect(pipe.map((p) => p.run)).toEqual([base.context.runId, 'later-run'])
    expect(pipe[1].value / pipe[0].value).toBeCloseTo(1.5, 6)
  })

  it('without --cases, picks the cases that moved most, first the one that moved', () => {
    const { chosen, note } = historyPoints([base, later()])
    expect(chosen[0]).toBe('pipe/blocking/process/pingpong/64B')
    expect(chosen.length).toBeLessThanOrEqual(12)
    expect(note).toMatch(/moved most/)
  })

  it('draws one line per case with a point per run', async () => {
    const charts = await renderCharts(historyCharts([base, later()], ['pipe/*/process/pingpong/64B', 'fifo/*/process/pingpong/64B']))
    const svg = charts.find((c) => c.id === 'history-latency')!.svg!
    const cases = historyPoints([base, later()], ['pipe/*/process/pingpong/64B', 'fifo/*/process/pingpong/64B']).chosen
    expect(cases.length).toBeGreaterThan(1)
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBeGreaterThan(0)
    for (const id of cases) expect(svg).toContain(id)
    expect((svg.match(/aria-roledescription="point"/g) ?? []).length).toBe(2 * cases.length)
  })

  it('the CLI writes the charts, and needs two runs', () => {
    const second = tempFile('later.json')
    writeFileSync(second, JSON.stringify(later()))
    const html = tempFile('h.html')
    const ok = runCli(['history', FIXTURE, second, '--cases', 'pipe/*', '--html', html])
    expect(ok.code, ok.stderr).toBe(0)
    expect(readFileSync(html, 'utf8')).toMatch(/<svg/)
    const one = runCli(['history', FIXTURE])
    expect(one.code).toBe(2)
    expect(one.stderr).toMatch(/at least two result files/)
  })
})

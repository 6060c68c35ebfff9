import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { MODES, type CompletedCase, type RunResult } from '../src/core/result.js'
import { whatToUse } from '../src/report/advice.js'
import { buildCharts, MAX_PANEL_SERIES } from '../src/report/charts.js'
import { findings, warningGroups } from '../src/report/findings.js'
import { GLANCE_MAX_LINES, renderGlance } from '../src/report/glance.js'
import { headlineMatrix } from '../src/report/headline.js'
import { renderHtmlReport } from '../src/report/html.js'
import { parseRun } from '../src/report/load.js'
import { renderMarkdown } from '../src/report/markdown.js'
import { renderCharts, type RenderedChart } from '../src/report/render.js'
import { cpuUsPerMsg, mechanismLabel } from '../src/report/summary.js'
import { renderTerminal } from '../src/report/table.js'
import { nsShort } from '../src/report/format.js'
import { ROOT } from './helpers.js'

/**
 * The answers at a glance, against a frozen full-matrix run (test/fixtures/full-run.json,
 * made by test/fixtures/synthesize-full-run.mjs from a real quick run of this host): the
 * terminal summary fits one screen and reads the same figures as the JSON, the "what to
 * use" table names the best case of each need, and the charts stay readable.
 */
const FULL = join(ROOT, 'test', 'fixtures', 'full-run.json')
const full = (): RunResult => parseRun(readFileSync(FULL, 'utf8'), FULL)
const done = (run: RunResult): CompletedCase[] => run.cases.filter((c): c is CompletedCase => c.state === 'completed')

describe('the terminal summary of a full run', () => {
  const run = full()
  const text = renderGlance(run, { color: false })
  const lines = text.split('\n')

  it('is a full run: hundreds of cases, both endpoints, every mode', () => {
    expect(run.cases.length).toBeGreaterThan(350)
    expect(new Set(run.cases.map((c) => c.endpoints))).toEqual(new Set(['process', 'thread']))
    expect(new Set(run.cases.map((c) => c.mode))).toEqual(new Set(MODES))
  })

  it(`fits one screen: at most ${GLANCE_MAX_LINES} lines of at most 120 columns`, () => {
    console.log(`summary of ${run.cases.length} cases: ${lines.length} lines, widest ${Math.max(...lines.map((l) => [...l].length))} columns`)
    expect(lines.length).toBeLessThanOrEqual(GLANCE_MAX_LINES)
    for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(120)
  })

  it('has a row per mechanism and endpoints whose cells are the JSON figures at 64 B (p50, ×C, CPU) and 64 KiB (MB/s)', () => {
    const m = headlineMatrix(run)
    expect(m.ping?.label).toBe('64B')
    expect(m.stream?.label).toBe('64KiB')
    let checked = 0
    for (const c of done(run)) {
      const inMatrix = (c.pattern === 'pingpong' ? m.ping : m.stream)!.pick(c)
      if (!inMatrix) continue
      // The row of this mechanism in its endpoints' section.
      const section = lines.indexOf(c.endpoints === 'process' ? 'processes' : 'threads')
      const row = lines.slice(section + 1).find((l) => l.startsWith(`  ${mechanismLabel(c)} `))
      expect(row, c.id).toBeDefined()
      if (c.pattern === 'pingpong') {
        expect(row).toContain(nsShort(c.latencyNs!.p50))
        if (c.ratioToFloor?.p50 !== undefined) expect(row).toContain(c.ratioToFloor.p50.toFixed(2))
        const cpu = cpuUsPerMsg(c)!.us
        expect(row).toContain(cpu >= 100 ? cpu.toFixed(0) : cpu >= 10 ? cpu.toFixed(1) : cpu.toFixed(2))
      } else {
        const mb = c.throughput!.bytesPerSec / 1e6
        expect(row).toContain(mb >= 1000 ? mb.toFixed(0) : String(Number(mb.toPrecision(3))))
      }
      checked++
    }
    expect(checked).toBeGreaterThan(60)
  })

  it('names the fastest case of each mode and endpoints with its figure', () => {
    for (const e of ['process', 'thread'] as const) {
      const line = lines.find((l) => l.startsWith(`fastest p50 at 64B, ${e === 'process' ? 'processes' : 'threads'}:`))!
      expect(line).toBeDefined()
      for (const mode of MODES) {
        const at = done(run).filter((c) => c.endpoints === e && c.mode === mode && c.pattern === 'pingpong' && headlineMatrix(run).ping!.pick(c))
        if (at.length === 0) continue
        const best = at.reduce((a, b) => (b.latencyNs!.p50 < a.latencyNs!.p50 ? b : a))
        expect(line).toContain(`${mode} ${mechanismLabel(best)} ${nsShort(best.latencyNs!.p50)}`)
      }
    }
    expect(findings(run).map((f) => f.what)).toEqual(expect.arrayContaining(['most MB/s at 64KiB', 'least CPU per round trip at 64B']))
  })

  it('groups warnings by code and counts them, never one line per case', () => {
    const noisy = run.cases.filter((c) => c.warnings.some((w) => w.code === 'noisy'))
    expect(noisy.length).toBeGreaterThan(5)
    const group = warningGroups(run).find((g) => g.code === 'noisy')!
    expect(group.cases).toBe(noisy.length)
    expect(text).toContain(`warning: ${noisy.length} cases noisy (cv `)
    for (const c of noisy) expect(text).not.toContain(c.id)
  })

  it('--full prints every case, then the summary', () => {
    const out = renderTerminal(run, { color: false, full: true })
    for (const c of done(run)) expect(out).toContain(c.id)
    expect(out.endsWith(text)).toBe(true)
  })

  it('colour changes nothing but the escapes', () => {
    const coloured = renderGlance(run, { color: true })
    expect(coloured).toContain('\x1b[')
    expect(coloured.split(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`)).join('')).toBe(text)
  })
})

describe('"what to use"', () => {
  const run = full()
  const advice = whatToUse(run)

  it('answers each need of processes and threads, small and bulk, with the best case of the run', () => {
    for (const e of ['process', 'thread'] as const)
      for (const messages of ['small', 'bulk'] as const) {
        const mine = advice.filter((a) => a.endpoints === e && a.messages === messages)
        expect(mine.map((a) => a.criterion)).toEqual(
          expect.arrayContaining(['highest throughput', 'lowest CPU per message', 'lowest p50', 'lowest p99']),
        )
      }
    const small = advice.find((a) => a.endpoints === 'process' && a.messages === 'small' && a.criterion === 'lowest p50')!
    const pool = done(run).filter((c) => c.endpoints === 'process' && c.pattern === 'pingpong' && headlineMatrix(run).ping!.pick(c))
    const best = pool.reduce((a, b) => (b.latencyNs!.p50 < a.latencyNs!.p50 ? b : a))
    expect(small.caseId).toBe(best.id)
    expect(small.figure).toBe(nsShort(best.latencyNs!.p50))
    const p50s = best.repetitions.map((r) => r.latencyNs!.p50)
    expect(small.spread).toBe(`${nsShort(Math.min(...p50s))} – ${nsShort(Math.max(...p50s))} over ${p50s.length} repetitions`)
    const bulk = advice.find((a) => a.endpoints === 'thread' && a.messages === 'bulk' && a.criterion === 'highest throughput')!
    const streams = done(run).filter((c) => c.endpoints === 'thread' && c.pattern === 'stream' && c.sizeBytes === 1048576)
    expect(bulk.caseId).toBe(streams.reduce((a, b) => (b.throughput!.bytesPerSec > a.throughput!.bytesPerSec ? b : a)).id)
  })

  it('says what busy-poll costs, from the figures', () => {
    const spin = advice.find((a) => a.mode === 'busy-poll')!
    expect(spin).toBeDefined()
    const m = /^Busy-poll buys this with spinning cores: [\d.]+ µs of CPU per (round trip|message) of .+ \(([\d.]+) cores busy all along\)/.exec(
      spin.tradeoff,
    )
    expect(m, spin.tradeoff).not.toBeNull()
    // CPU over the measured time per message, not over the p50: never more cores than the host has.
    expect(Number(m![2])).toBeLessThanOrEqual(run.context.env.host.cpuCount)
  })

  it('names a host limit where the best case cannot carry larger messages', () => {
    const capped = advice.find((a) => /capped on this host/.test(a.tradeoff))
    const limited = new Set(run.cases.filter((c) => c.state === 'skipped' && /exceeds/.test(c.reason)).map((c) => c.mechanism))
    if (capped) expect(limited.has(capped.caseId.split(/[/:]/)[0])).toBe(true)
    else for (const a of advice) expect(limited.has(a.caseId.split(/[/:]/)[0])).toBe(false)
  })

  it('is in the markdown and the HTML', async () => {
    const md = renderMarkdown([run])
    expect(md).toContain('## What to use')
    expect(md).toContain('| for | messages | criterion | at | use | figure | spread | trade-off |')
    const html = await renderHtmlReport([run])
    expect(html).toContain('<table class="advice" id="what-to-use">')
    for (const a of advice) expect(html).toContain(`<code>${a.mechanism} ${a.mode}</code>`)
  })
})

describe('the charts of a full run', () => {
  const run = full()
  let charts: RenderedChart[]
  beforeAll(async () => {
    charts = await renderCharts(buildCharts([run]))
  })

  it('are all drawn, none taller than 1200 px at their default width', () => {
    for (const c of charts) {
      expect(c.svg, c.id).toBeDefined()
      const height = Number(/<svg[^>]*\bheight="([\d.]+)"/.exec(c.svg!)![1])
      const width = Number(/<svg[^>]*\bwidth="([\d.]+)"/.exec(c.svg!)![1])
      console.log(`${c.id}: ${width} × ${height} px`)
      expect(height, c.id).toBeLessThanOrEqual(1200)
      expect(height, c.id).toBeGreaterThan(150)
    }
  })

  it('colour no panel with more than eight series', () => {
    // Every colour scale of every spec: its domain is what one panel's legend tells apart.
    const domains: unknown[][] = []
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk)
      else if (x && typeof x === 'object') {
        const o = x as Record<string, unknown>
        if (o.color && typeof o.color === 'object') {
          const scale = (o.color as { scale?: { domain?: unknown[] } }).scale
          if (scale?.domain) domains.push(scale.domain)
        }
        Object.values(o).forEach(walk)
      }
    }
    for (const c of charts) walk(c.spec)
    expect(domains.length).toBeGreaterThan(10)
    const widest = Math.max(...domains.map((d) => d.length))
    console.log(`${domains.length} colour scales, the widest with ${widest} colours`)
    expect(widest).toBeLessThanOrEqual(MAX_PANEL_SERIES)
    // The per-mechanism colour of charts 2–4 comes from family panels only.
    for (const id of ['latency-vs-size', 'throughput-vs-size', 'latency-percentiles']) {
      const spec = JSON.stringify(charts.find((c) => c.id === id)!.spec)
      expect(spec, id).not.toContain('tableau20')
    }
  })

  it('give exact values on hover through SVG <title>s', () => {
    for (const c of charts) {
      const titles = [...c.svg!.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1])
      expect(titles.length, c.id).toBeGreaterThan(10)
    }
    const pipe = done(run).find((c) => c.id === 'pipe/blocking/process/pingpong/64B')!
    const c2 = charts.find((c) => c.id === 'latency-vs-size')!.svg!
    expect(c2).toContain(`<title>${pipe.id}: p50 ${nsShort(pipe.latencyNs!.p50)}, p99 ${nsShort(pipe.latencyNs!.p99)}</title>`)
  })

  it('draw Node ÷ C on a log axis, a row per mechanism and mode, a point per size', () => {
    const c6 = charts.find((c) => c.id === 'node-vs-c')!
    const withRatio = done(run).filter((c) => c.pattern === 'pingpong' && c.ratioToFloor?.p50 !== undefined)
    const points = (c6.svg!.match(/aria-roledescription="point"/g) ?? []).length
    expect(points).toBe(withRatio.length)
    expect(c6.svg).toContain('Node p50 ÷ C p50 (×, log scale)')
    expect(JSON.stringify(c6.spec)).toMatch(/"scale":\{"type":"log"/)
  })
})

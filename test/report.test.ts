import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { compile } from 'vega-lite'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildCharts } from '../src/report/charts.js'
import { renderHtmlReport, scopeSvgIds } from '../src/report/html.js'
import { renderMarkdown } from '../src/report/markdown.js'
import { renderCharts, renderSvg, type RenderedChart } from '../src/report/render.js'
import { isCompleted, type CaseResult, type CompletedCase, type RunResult } from '../src/core/result.js'
import { parseRun } from '../src/report/load.js'
import { CPU_HEAD, cpuUsPerMsg, summaryTables } from '../src/report/summary.js'
import { renderTables } from '../src/report/table.js'
import { formatBytesPerSec, formatNs } from '../src/core/units.js'
import { countMarks, svgTexts } from './svg-marks.js'
import { ROOT, runCli, tempFile } from './helpers.js'

/** Reporters against a frozen result (a real `--quick` run, no C floor). */
const FIXTURE = join(ROOT, 'test', 'fixtures', 'run-a.json')
const fixture = (): RunResult => parseRun(readFileSync(FIXTURE, 'utf8'), FIXTURE)

const done = (run: RunResult): CompletedCase[] => run.cases.filter(isCompleted)
const mechanisms = (cases: CaseResult[]): string[] => [...new Set(cases.map((c) => c.mechanism))]

/** A copy whose ping-pong cases at 64 B and 4 KiB have a synthetic C floor. */
function withFloor(run: RunResult): RunResult {
  const copy = structuredClone(run)
  for (const c of copy.cases) {
    if (c.state !== 'completed' || c.pattern !== 'pingpong' || c.sizeBytes > 4096 || !c.latencyNs) continue
    const cLatency = { ...c.latencyNs, p50: c.latencyNs.p50 / 3 }
    c.floor = { state: 'completed', repetitions: [], latencyNs: cLatency }
    c.ratioToFloor = { p50: c.latencyNs.p50 / cLatency.p50 }
  }
  return copy
}

describe('charts from the frozen fixture', () => {
  const run = fixture()
  const ping = done(run).filter((c) => c.pattern === 'pingpong')
  const stream = done(run).filter((c) => c.pattern === 'stream')
  let charts: RenderedChart[]
  const svgOf = (id: string): string => charts.find((c) => c.id === id)!.svg!

  beforeAll(async () => {
    charts = await renderCharts(buildCharts([run]))
  })

  it('has the six questions answered, and a note where there is no C floor', () => {
    expect(charts.map((c) => c.id)).toEqual([
      'latency-by-mechanism',
      'latency-vs-size',
      'throughput-vs-size',
      'latency-percentiles',
      'cost-vs-speed',
      'node-vs-c',
      'blocking-vs-nonblocking',
    ])
    for (const c of charts) {
      expect(c.title.length).toBeGreaterThan(10)
      expect(c.question).toMatch(/\?$/)
    }
    const floor = charts.find((c) => c.id === 'node-vs-c')!
    expect(floor.spec).toBeUndefined()
    expect(floor.note).toMatch(/^no C floor in this run: C floor not built/)
    expect(charts.filter((c) => c.svg)).toHaveLength(6)
  })

  it('every spec compiles, carries its data inline and renders to an SVG', () => {
    for (const c of charts.filter((x) => x.spec)) {
      expect(() => compile(c.spec!)).not.toThrow()
      expect(JSON.stringify(c.spec)).not.toMatch(/"url"\s*:/)
      expect(c.svg).toMatch(/^<svg[^>]*class="marks"/)
      expect(c.svg).not.toMatch(/\b(href|src)="(?!#)/)
    }
  })

  it('chart 1 draws p50 and p99 of every mechanism at 64 B (eventfd at its 8 B)', () => {
    const svg = svgOf('latency-by-mechanism')
    const at64 = ping.filter((c) => c.sizeBytes === 64 || c.mechanism === 'eventfd')
    expect(countMarks(svg, 'symbol')).toBe(2 * at64.length)
    expect(countMarks(svg, 'rule')).toBe(at64.length)
    const texts = svgTexts(svg)
    for (const m of mechanisms(ping)) expect(texts).toContain(m)
    for (const mode of ['blocking', 'nonblocking', 'busy-poll']) expect(texts).toContain(mode)
    expect(texts.join(' ')).toContain('Round-trip latency at 64B')
    expect(texts.join(' ')).toContain('eventfd at 8B')
    expect(texts.join(' ')).toContain('µs, log scale')
  })

  it('chart 2 has one line per mechanism/mode/endpoints and a point per case', () => {
    const svg = svgOf('latency-vs-size')
    expect(countMarks(svg, 'line')).toBe(new Set(ping.map((c) => `${c.mechanism}/${c.mode}/${c.endpoints}`)).size)
    expect(countMarks(svg, 'symbol')).toBe(ping.length)
    for (const label of ['8 B', '64 B', '4 KiB', '64 KiB']) expect(svgTexts(svg)).toContain(label)
  })

  it('chart 3 draws every stream case once in MB/s, its messages/s on hover', () => {
    const svg = svgOf('throughput-vs-size')
    expect(countMarks(svg, 'symbol')).toBe(stream.length)
    const texts = svgTexts(svg)
    for (const m of mechanisms(stream)) expect(texts).toContain(m)
    expect(svg).toContain('y: throughput (MB/s, log scale)')
    const c = stream[0]
    expect(svg).toContain(
      `<title>${c.id}: ${formatBytesPerSec(c.throughput!.bytesPerSec)}, ${Math.round(c.throughput!.msgsPerSec).toLocaleString('en')} messages/s</title>`,
    )
  })

  it('chart 4 puts percentiles on a nines axis, one line per case', () => {
    const svg = svgOf('latency-percentiles')
    const at64 = ping.filter((c) => c.sizeBytes === 64 || c.mechanism === 'eventfd')
    expect(countMarks(svg, 'line')).toBe(at64.length)
    // p50, p90, p99, p99.9 always; the max too when there are more than 1000 samples.
    const expected = at64.reduce((n, c) => n + 4 + (c.latencyNs!.n > 1000 ? 1 : 0), 0)
    expect(countMarks(svg, 'symbol')).toBe(expected)
    for (const label of ['50', '90', '99', '99.9']) expect(svgTexts(svg)).toContain(label)
  })

  it('chart 5 places a point per case, coloured by mode, named by its mechanism', () => {
    const svg = svgOf('cost-vs-speed')
    const at64 = ping.filter((c) => (c.sizeBytes === 64 || c.mechanism === 'eventfd') && c.cpu)
    expect(countMarks(svg, 'symbol')).toBe(at64.length)
    // Point names: the two reference lines' names, then one per case whose place is free.
    const names = countMarks(svg, 'text') - 2
    expect(names).toBeGreaterThanOrEqual(at64.length / 2)
    expect(names).toBeLessThanOrEqual(at64.length)
    const texts = svgTexts(svg)
    for (const m of mechanisms(at64.filter((c) => c.mode === 'busy-poll'))) expect(texts).toContain(m)
    expect(texts).toContain('busy-poll')
    expect(texts).toContain('1 core busy')
    expect(texts.join(' ')).toContain('CPU per round trip, user+sys, both sides and helper threads')
  })

  it('chart 7 compares the modes of each mechanism', () => {
    const svg = svgOf('blocking-vs-nonblocking')
    const at64 = ping.filter((c) => c.sizeBytes === 64 || c.mechanism === 'eventfd')
    expect(countMarks(svg, 'symbol')).toBe(at64.length)
    expect(svgTexts(svg)).toContain('sab-ring (thread)')
    expect(svgTexts(svg)).toContain('pipe (process)')
  })

  it('chart 6 draws a point per case with a C floor, a row per mechanism and mode, on a log axis with a rule at 1', async () => {
    const base = withFloor(run)
    const entry = buildCharts([base]).find((c) => c.id === 'node-vs-c')!
    expect(entry.note).toBeUndefined()
    const svg = await renderSvg(entry.spec!)
    const withRatio = done(base).filter((c) => c.ratioToFloor?.p50 !== undefined)
    expect(withRatio.length).toBeGreaterThan(10)
    expect(countMarks(svg, 'symbol')).toBe(withRatio.length)
    expect(countMarks(svg, 'rect')).toBe(0)
    expect(countMarks(svg, 'rule')).toBe(1)
    const rows = new Set(withRatio.map((c) => `${c.mechanism} ${c.mode}`))
    for (const r of rows) expect(svgTexts(svg)).toContain(r)
    expect(svgTexts(svg)).toContain('Node p50 ÷ C p50 (×, log scale)')
    expect(JSON.stringify(entry.spec)).toContain('"type":"log"')
  })

  it('two runs overlay, each named in the legends', async () => {
    const b = structuredClone(run)
    b.context.runId = 'run-b-20261124'
    for (const c of b.cases) if (c.state === 'completed' && c.latencyNs) c.latencyNs = { ...c.latencyNs, p50: c.latencyNs.p50 * 1.5 }
    const both = await renderCharts(buildCharts([run, b]))
    for (const id of ['latency-by-mechanism', 'latency-vs-size', 'latency-percentiles', 'cost-vs-speed', 'blocking-vs-nonblocking']) {
      const svg = both.find((c) => c.id === id)!.svg!
      expect(svg, id).toContain(run.context.runId)
      expect(svg, id).toContain('run-b-20261124')
    }
    const single = countMarks(charts.find((c) => c.id === 'latency-vs-size')!.svg!, 'line')
    expect(countMarks(both.find((c) => c.id === 'latency-vs-size')!.svg!, 'line')).toBe(2 * single)
  })

  it('a run with nothing completed gives notes, not empty plots', () => {
    const empty = structuredClone(run)
    empty.cases = empty.cases.filter((c) => c.state !== 'completed')
    const entries = buildCharts([empty])
    expect(entries.every((c) => c.note && !c.spec)).toBe(true)
  })
})

describe('the HTML report', () => {
  let html: string
  beforeAll(async () => {
    const run = fixture()
    run.context.warnings.push({ code: 'busy-host', message: 'a <b>bold</b> & "quoted" warning' })
    html = await renderHtmlReport([run])
  })

  it('is self-contained: no script, nothing fetched or linked outside', () => {
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:|\/\/|file:)/i)
    expect(html).not.toMatch(/\bsrc\s*=/i)
    expect(html).not.toMatch(/<link\b|@import|url\((?!#)/i)
    expect((html.match(/<svg\b/g) ?? []).length).toBe(6)
  })

  it('has the environment, the charts with their questions, the tables, warnings and skips', () => {
    const run = fixture()
    for (const text of ['AMD EPYC × 2', '6.18.44-fc-v782', 'v20.20.2', 'ipcbench', run.context.runId, '2026-11-23T10:38:12.592Z', 'repetitions 3'])
      expect(html).toContain(text)
    for (const c of buildCharts([run])) {
      expect(html).toContain(c.question.replace(/'/g, '&#39;'))
    }
    expect(html).toContain('no C floor in this run')
    for (const c of done(run)) expect(html).toContain(`<code>${c.id}</code>`)
    expect(html).toContain('<th>p99.9</th>')
    expect(html).toContain('<th>CPU µs per round trip (both sides)</th>')
    expect(html).toContain('<th>CPU µs per message (both sides)</th>')
    expect(html).not.toContain('CPU µs/msg')
    expect(html).toContain('exceeds /proc/sys/fs/mqueue/msgsize_max (8192)')
    expect(html).toContain('too few for &quot;ipcbench compare&quot;')
    expect(html).toContain('a &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; warning')
    expect(html).not.toContain('<b>bold</b>')
  })

  it('gives each inline SVG its own ids', () => {
    expect(scopeSvgIds('<clipPath id="clip3"/><g clip-path="url(#clip3)"/>', 'c2')).toBe('<clipPath id="c2-clip3"/><g clip-path="url(#c2-clip3)"/>')
  })

  it('renders a run of a few hundred cases in well under 5 s', async () => {
    const run = fixture()
    const big = structuredClone(run)
    big.cases = [0, 1, 2, 3].flatMap((k) =>
      run.cases.map((c) => ({
        ...structuredClone(c),
        mechanism: k ? `${c.mechanism}-${k}` : c.mechanism,
        id: k ? c.id.replace(/^[^/]+/, (m) => `${m}-${k}`) : c.id,
      })),
    )
    expect(big.cases.length).toBeGreaterThan(300)
    const t0 = performance.now()
    const page = await renderHtmlReport([big])
    const ms = performance.now() - t0
    console.log(`HTML report of ${big.cases.length} cases rendered in ${ms.toFixed(0)} ms`)
    expect(ms).toBeLessThan(5000)
    expect(page).toContain('shm-ring-3/busy-poll/process/pingpong/64B')
  })
})

describe('markdown', () => {
  it('has GitHub tables, and links the SVGs when they were written', () => {
    const run = fixture()
    const plain = renderMarkdown([run])
    expect(plain).not.toContain('## Charts')
    expect(plain).toContain('| case | p50 | p99 | p99.9 | round trips/s | CPU µs per round trip (both sides) | spread |')
    expect(plain).toContain('| case | MB/s | msgs/s | CPU µs per message (both sides) | spread |')
    expect(plain).toContain('| --- | ---: |')
    expect(plain).toContain('| `posix-mq/blocking/process/pingpong/64KiB` | skipped | message size 65536 exceeds')
    const linked = renderMarkdown([run], { svgDir: 'charts' })
    expect(linked).toContain('![Round-trip latency (p50) against message size](charts/latency-vs-size.svg)')
    expect(linked).toContain('> no C floor in this run')
    expect(renderMarkdown([run], { svgLinks: { 'cost-vs-speed': 'x/y.svg' } })).toContain('(x/y.svg)')
  })
})

describe('ipcbench report, as a user runs it', () => {
  it('writes HTML, one SVG per chart and markdown, and prints the paths', () => {
    const dir = tempFile('')
    const [html, svgDir, mdFile] = [join(dir, 'report.html'), join(dir, 'svg'), join(dir, 'summary.md')]
    const r = runCli(['report', FIXTURE, '--html', html, '--svg', svgDir, '--markdown', mdFile])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(existsSync(html)).toBe(true)
    const ids = ['latency-by-mechanism', 'latency-vs-size', 'throughput-vs-size', 'latency-percentiles', 'cost-vs-speed', 'blocking-vs-nonblocking']
    expect(readdirSync(svgDir).sort()).toEqual(ids.map((id) => `${id}.svg`).sort())
    expect(readFileSync(mdFile, 'utf8')).toContain('](svg/latency-by-mechanism.svg)')
    expect(r.stdout.trim().split('\n')).toEqual([...ids.map((id) => join(svgDir, `${id}.svg`)), mdFile, html])
  })

  it('without flags prints the one-screen summary; --full every case too', () => {
    const r = runCli(['report', FIXTURE])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('round trip at 64B')
    expect(r.stdout).not.toContain('pipe/busy-poll/process/pingpong/64B')
    const full = runCli(['report', FIXTURE, '--full'])
    expect(full.code).toBe(0)
    expect(full.stdout).toContain('pipe/busy-poll/process/pingpong/64B')
    expect(full.stdout).toContain('round trip at 64B')
  })

  it('a missing file exits 2 naming it', () => {
    const r = runCli(['report', 'missing.json'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('missing.json: no such file')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('a truncated file exits 2', () => {
    const path = tempFile('truncated.json')
    writeFileSync(path, readFileSync(FIXTURE, 'utf8').slice(0, 5000))
    const r = runCli(['report', path])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${path}: not valid JSON`)
  })

  it.each([
    ['--html', '/proc/ipcbench/report.html', '--html: cannot write /proc/ipcbench/report.html'],
    ['--svg', '/proc/ipcbench/svg', '--svg: cannot write to /proc/ipcbench/svg'],
    ['--markdown', '/proc/ipcbench/r.md', '--markdown: cannot write /proc/ipcbench/r.md'],
  ])('an unwritable %s exits 2 naming the option', (flag, path, text) => {
    const r = runCli(['report', FIXTURE, flag, path], {}, 30_000)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(text)
    expect(r.stdout).toBe('')
  })
})

describe('the summary tables (every format draws these cells)', () => {
  const PIPE = 'pipe/blocking/process/pingpong/64B'
  const THREADS = 'sab-ring/blocking/thread/pingpong/64B'
  /** The fixture with one case changed; `edit` gets that case. */
  function withCase(id: string, edit: (c: CompletedCase) => void): RunResult {
    const run = fixture()
    const c = done(run).find((x) => x.id === id)
    if (!c) throw new Error(`${id} is not a completed case of the fixture`)
    edit(c)
    return run
  }
  const pingRow = (run: RunResult, id: string): Record<string, string> => {
    const t = summaryTables(run).find((x) => x.pattern === 'pingpong')!
    const row = t.rows.find((r) => r[0] === id)!
    return Object.fromEntries(t.head.map((h, i) => [h, row[i]]))
  }

  it('heads name the unit of each table: per round trip (ping-pong), per message (stream), both sides', () => {
    const [ping, stream] = summaryTables(fixture())
    expect(CPU_HEAD).toEqual({ pingpong: 'CPU µs per round trip (both sides)', stream: 'CPU µs per message (both sides)' })
    expect(ping.head).toEqual(['case', 'p50', 'p99', 'p99.9', 'round trips/s', 'CPU µs per round trip (both sides)', 'spread'])
    expect(stream.head).toEqual(['case', 'MB/s', 'msgs/s', 'CPU µs per message (both sides)', 'spread'])
  })

  it('the CPU cell is cpu.total when the case has it, whatever the sides say', () => {
    const run = withCase(THREADS, (c) => {
      c.cpu!.total = { userUsPerMsg: 3.25, sysUsPerMsg: 1.5, voluntaryCtxPerMsg: 1, involuntaryCtxPerMsg: 0, scope: 'whole process' }
    })
    expect(pingRow(run, THREADS)['CPU µs per round trip (both sides)']).toBe('4.75')
    expect(cpuUsPerMsg(done(run).find((c) => c.id === THREADS)!)).toEqual({ us: 4.75, sameProcess: false })
  })

  it('a run@1 case has no total: the two sides, or side a alone marked (process) when both meters read one process', () => {
    const run = fixture()
    const pipe = done(run).find((c) => c.id === PIPE)!
    const sides = pipe.cpu!.a.userUsPerMsg + pipe.cpu!.a.sysUsPerMsg + pipe.cpu!.b.userUsPerMsg + pipe.cpu!.b.sysUsPerMsg
    expect(pingRow(run, PIPE)['CPU µs per round trip (both sides)']).toBe(sides.toFixed(2))
    const shared = withCase(THREADS, (c) => {
      c.cpu!.a.scope = 'process'
      c.cpu!.b.scope = 'process'
    })
    const w = done(shared).find((c) => c.id === THREADS)!
    expect(pingRow(shared, THREADS)['CPU µs per round trip (both sides)']).toBe(
      `${(w.cpu!.a.userUsPerMsg + w.cpu!.a.sysUsPerMsg).toFixed(2)} (process)`,
    )
  })

  it('round trips/s is the measured rate when the case has it, 1e9 / mean only for old files', () => {
    const old = fixture()
    const mean = done(old).find((c) => c.id === PIPE)!.latencyNs!.mean
    expect(mean).toBeCloseTo(22474.9, 1)
    expect(pingRow(old, PIPE)['round trips/s']).toBe('44.5k/s')
    const measured = withCase(PIPE, (c) => {
      c.roundTripsPerSec = 123_456
    })
    expect(pingRow(measured, PIPE)['round trips/s']).toBe('123.5k/s')
  })

  it('p99 is marked (max) when a repetition has under 100 samples, p99.9 under 1000', () => {
    const cells = (n: number) => {
      const run = withCase(PIPE, (c) => {
        c.repetitions[1].latencyNs!.n = n
      })
      const l = done(run).find((c) => c.id === PIPE)!.latencyNs!
      return { row: pingRow(run, PIPE), p99: formatNs(l.p99), p999: formatNs(l.p999) }
    }
    const few = cells(99)
    expect([few.row.p99, few.row['p99.9']]).toEqual([`${few.p99} (max)`, `${few.p999} (max)`])
    const hundred = cells(100)
    expect([hundred.row.p99, hundred.row['p99.9']]).toEqual([hundred.p99, `${hundred.p999} (max)`])
    const nearly = cells(999)
    expect([nearly.row.p99, nearly.row['p99.9']]).toEqual([nearly.p99, `${nearly.p999} (max)`])
    const enough = cells(1000)
    expect([enough.row.p99, enough.row['p99.9']]).toEqual([enough.p99, enough.p999])
    // In the fixture itself: eventfd/nonblocking took 912 samples in its fewest repetition.
    const eventfd = pingRow(fixture(), 'eventfd/nonblocking/process/pingpong/8B')
    expect(eventfd['p99.9']).toMatch(/ \(max\)$/)
    expect(eventfd.p99).not.toMatch(/max/)
  })

  it('the terminal note gives the clock read each ping-pong sample carries, when the run measured it', () => {
    const run = fixture()
    run.context.calibration = { emptySampleNs: 41.2, clockReadNs: 21.4, sameThreadEchoNs: 312.6 }
    const text = renderTables(run, { color: false })
    expect(text).toContain('harness: 21 ns per clock read (one in every ping-pong sample), 313 ns per round trip with a same-thread echo')
    expect(text).toContain('CPU µs per round trip (both sides)')
    expect(text).toContain('CPU µs per message (both sides)')
    const older = fixture()
    older.context.calibration = { emptySampleNs: 41.2, sameThreadEchoNs: 312.6 }
    expect(renderTables(older, { color: false })).toContain('harness: 41 ns per timed section, 313 ns per round trip with a same-thread echo')
  })

  it('a case that stopped early says so in its spread cell and in one note; the others read as before', () => {
    const run = fixture()
    const before = renderTables(run, { color: false })
    expect(before).not.toContain('reps')
    const stopped = done(run).find((c) => c.pattern === 'pingpong' && c.spread)!
    stopped.earlyStop = { repetitions: 4, of: 5, rmePct: 2.6, targetPct: 5 }
    const text = renderTables(run, { color: false })
    expect(text).toContain(`±${stopped.spread!.cvPct.toFixed(0)}% (4 of 5 reps)`)
    expect(text).toContain(
      `n of m reps (spread): 1 of ${run.cases.length} case(s) stopped early, their repetitions agreed within 5% (the relative margin of error of the case's figure, --target-rme)`,
    )
    expect(text.split('\n').filter((l) => l.includes('reps'))).toHaveLength(2)
  })
})

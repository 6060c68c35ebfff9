import { describe, expect, it } from 'vitest'
import { etaMs, formatDuration, plannedCaseMs, Progress } from '../src/cli/progress.js'
import type { CaseResult, CaseSpec, ResolvedOptions } from '../src/core/result.js'
import { formatNs } from '../src/core/units.js'

/** The progress line, driven by a clock of our own: what a terminal and a log each get. */
const o = { repetitions: 3, durationMs: 80, floor: true, out: 'r.json' } as ResolvedOptions
const spec = (i: number): CaseSpec => ({
  id: `m/blocking/process/pingpong/${i}B`,
  mechanism: 'm',
  mode: 'blocking',
  endpoints: 'process',
  pattern: 'pingpong',
  sizeBytes: i,
})
const completed = (s: CaseSpec, p50: number): CaseResult =>
  ({
    ...s,
    state: 'completed',
    repetitions: [],
    describe: {},
    warnings: [],
    latencyNs: { n: 1, min: p50, mean: p50, sd: 0, p50, p90: p50, p99: p50, p999: p50, max: p50 },
  }) as CaseResult

function drive(live: boolean): { out: string; at: (ms: number) => void; p: Progress } {
  let now = 0
  let out = ''
  const p = new Progress(true, { live, columns: 100, write: (t) => (out += t), now: () => now, tickMs: 0 })
  return {
    get out() {
      return out
    },
    at: (ms: number) => (now = ms),
    p,
  }
}

describe('the ETA', () => {
  it('starts from the plan and then follows the measured pace', () => {
    const per = plannedCaseMs(o)
    expect(per).toBe(3 * (80 + 250) * 2)
    expect(etaMs(0, 10, 0, per)).toBe(10 * per)
    // Two cases took 6 s each: the eight left are estimated at that pace, not the plan's.
    expect(etaMs(2, 10, 12_000, per)).toBe(8 * 6000)
    expect(etaMs(10, 10, 60_000, per)).toBe(0)
  })
  it('reads as a person says it', () => {
    expect([formatDuration(4_400), formatDuration(65_000), formatDuration(3_725_000)]).toEqual(['4 s', '1m05s', '1h02m'])
  })
})

describe('on a terminal: one line redrawn in place', () => {
  it('clears and rewrites the line with the count, elapsed time, ETA, the case and the last figure', () => {
    const d = drive(true)
    d.p.start(4, o)
    d.at(1000)
    d.p.caseStart(spec(1), 0, 4)
    d.at(5000)
    d.p.caseEnd(completed(spec(1), 12_345))
    d.p.caseStart(spec(2), 1, 4)
    const redraws = d.out.split('\r\x1b[2K').slice(1)
    expect(redraws.length).toBeGreaterThanOrEqual(3)
    // No line feed between redraws: the terminal shows one line.
    for (const r of redraws.slice(0, -1)) expect(r.includes('\n')).toBe(false)
    const last = redraws[redraws.length - 1]
    expect(last).toBe(`[2/4]  5 s elapsed, ~15 s left  ${spec(2).id}  (last: p50 ${formatNs(12_345)})`)
  })

  it('never wider than the terminal', () => {
    const d = drive(true)
    d.p.start(1, o)
    d.p.caseStart({ ...spec(1), id: 'x'.repeat(300) }, 0, 1)
    expect([...d.p.line()].length).toBeLessThan(100)
  })

  it('a note clears the line first, and stop leaves a clean line', () => {
    const d = drive(true)
    d.p.start(2, o)
    d.p.caseStart(spec(1), 0, 2)
    d.p.note('SIGINT: stopping')
    expect(d.out).toContain('\r\x1b[2KSIGINT: stopping\n')
    d.at(2000)
    d.p.stop()
    expect(d.out.endsWith('\r\x1b[2Kdone in 2 s\n')).toBe(true)
  })
})

describe('not on a terminal (or --verbose): a line per case', () => {
  it('writes each case and its figure on a line of its own, with no escapes', () => {
    const d = drive(false)
    d.p.start(2, o)
    d.p.caseStart(spec(1), 0, 2)
    d.p.caseEnd(completed(spec(1), 900))
    d.p.caseStart(spec(2), 1, 2)
    d.p.caseEnd({ ...spec(2), state: 'skipped', reason: 'not here', repetitions: [], describe: {}, warnings: [] })
    expect(d.out).not.toContain('\x1b')
    expect(d.out.split('\n').slice(1, 3)).toEqual([`[1/2] ${spec(1).id} … p50 900 ns`, `[2/2] ${spec(2).id} … skipped: not here`])
  })

  it('disabled, it writes nothing', () => {
    let out = ''
    const p = new Progress(false, { write: (t) => (out += t) })
    p.start(1, o)
    p.caseStart(spec(1), 0, 1)
    p.stop()
    expect(out).toBe('')
  })
})

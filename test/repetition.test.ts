import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildHistogram, decodeHistogram, encodeHistogram, HISTOGRAM_RELATIVE_ERROR, percentile, totalCount } from '../src/core/histogram.js'
import type { CaseSpec, Endpoints, Pattern, RepetitionResult, RunResult } from '../src/core/result.js'
import { summarizeNs } from '../src/core/stats.js'
import type { CostSnapshot, RepReport, SideUsage } from '../src/harness/case/protocol.js'
import type { CasePlan } from '../src/harness/plan/case-plan.js'
import { SAMPLES_INDEX_HEADER, startSamples } from '../src/harness/plan/options.js'
import { buildRepetition, keepSamples, readSamples, reportWarnings } from '../src/harness/run/repetition.js'
import { loadResult } from '../src/index.js'
import { runCli, tempFile } from './helpers.js'

/** buildRepetition on hand-made reports: the per-message figures, the total CPU and its scope, exactly. */
function planFor(pattern: Pattern, endpoints: Endpoints, sizeBytes = 64): CasePlan {
  const spec: CaseSpec = { id: `x/blocking/${endpoints}/${pattern}/${sizeBytes}B`, mechanism: 'x', mode: 'blocking', endpoints, pattern, sizeBytes }
  return {
    spec,
    loop: { sizeBytes, warmup: 10, durationMs: 10, maxMessages: 1000, targetSamples: 0, minWindowMs: 10 },
    placement: { requested: 'split', applied: 'split', cpuA: 0, cpuB: 1 },
    timeoutMs: 1000,
    warnings: [],
  }
}

const usage = (
  userUs: number,
  sysUs: number,
  voluntaryCtx: number,
  involuntaryCtx: number,
  scope: SideUsage['scope'],
  process?: CostSnapshot,
): SideUsage => ({
  userUs,
  sysUs,
  voluntaryCtx,
  involuntaryCtx,
  scope,
  ...(process ? { process } : {}),
})

function report(o: Partial<RepReport> = {}): RepReport {
  return {
    type: 'result',
    messages: 100,
    elapsedNs: 2_000_000,
    batch: 1,
    sampleCount: 0,
    costA: usage(300, 100, 100, 2, 'process'),
    costB: usage(200, 400, 100, 8, 'process'),
    cpusA: [0],
    cpusB: [1],
    describe: {},
    ...o,
  }
}

describe('buildRepetition: what ended the measured phase', () => {
  const target = (targetSamples: number, durationMs = 10): CasePlan => {
    const p = planFor('pingpong', 'process')
    return { ...p, loop: { ...p.loop, targetSamples, durationMs } }
  }
  it.each<[string, CasePlan, Partial<RepReport>, string]>([
    ['the message bound', target(0), { messages: 1000, elapsedNs: 2e6 }, 'max-messages'],
    ['the sample target, before the duration', target(100), { messages: 120, elapsedNs: 9.9e6 }, 'samples'],
    ['the duration, short of the target', target(500), { messages: 120, elapsedNs: 10.2e6 }, 'duration'],
    ['the duration, no target', target(0), { messages: 120, elapsedNs: 10.2e6 }, 'duration'],
  ])('%s', (_what, plan, r, expected) => {
    expect(buildRepetition(plan, 0, report(r), new Float64Array(0)).stoppedBy).toBe(expected)
  })
})

describe('buildRepetition: the total CPU of every thread', () => {
  it("processes: side a's and side b's processes added, scope 'both processes'", () => {
    const r = buildRepetition(planFor('pingpong', 'process'), 3, report(), new Float64Array(0))
    expect(r.cpu).toEqual({
      a: { userUsPerMsg: 3, sysUsPerMsg: 1, voluntaryCtxPerMsg: 1, involuntaryCtxPerMsg: 0.02, scope: 'process' },
      b: { userUsPerMsg: 2, sysUsPerMsg: 4, voluntaryCtxPerMsg: 1, involuntaryCtxPerMsg: 0.08, scope: 'process' },
      total: { userUsPerMsg: 5, sysUsPerMsg: 5, voluntaryCtxPerMsg: 2, involuntaryCtxPerMsg: 0.1, scope: 'both processes' },
    })
  })

  it("threads in Node: side a's reading of its whole process, scope 'whole process' (side b, a pool's workers, libuv's threads in it)", () => {
    // Side a's own thread 300+100 µs, side b's thread 200+400 µs; the process burned 1500+700 µs in all.
    const whole: CostSnapshot = { userUs: 1500, sysUs: 700, voluntaryCtx: 450, involuntaryCtx: 20 }
    const r = buildRepetition(
      planFor('pingpong', 'thread'),
      0,
      report({ costA: usage(300, 100, 100, 2, 'thread', whole), costB: usage(200, 400, 100, 8, 'thread') }),
      new Float64Array(0),
    )
    expect(r.cpu.total).toEqual({ userUsPerMsg: 15, sysUsPerMsg: 7, voluntaryCtxPerMsg: 4.5, involuntaryCtxPerMsg: 0.2, scope: 'whole process' })
    // Each side keeps its own meter's figure; the process reading is only in the total.
    expect(r.cpu.a).toEqual({ userUsPerMsg: 3, sysUsPerMsg: 1, voluntaryCtxPerMsg: 1, involuntaryCtxPerMsg: 0.02, scope: 'thread' })
    expect(r.cpu.b).toEqual({ userUsPerMsg: 2, sysUsPerMsg: 4, voluntaryCtxPerMsg: 1, involuntaryCtxPerMsg: 0.08, scope: 'thread' })
  })

  it("threads in the C floor (no process reading): the two threads added, scope 'both threads'", () => {
    const r = buildRepetition(
      planFor('stream', 'thread'),
      0,
      report({ costA: usage(300, 100, 100, 2, 'thread'), costB: usage(200, 400, 100, 8, 'thread') }),
      new Float64Array(0),
    )
    expect(r.cpu.total).toEqual({ userUsPerMsg: 5, sysUsPerMsg: 5, voluntaryCtxPerMsg: 2, involuntaryCtxPerMsg: 0.1, scope: 'both threads' })
  })

  it('no measured message: per message is the whole (never a division by zero)', () => {
    const r = buildRepetition(planFor('pingpong', 'process'), 0, report({ messages: 0, elapsedNs: 0 }), new Float64Array(0))
    expect(r.cpu.total).toEqual({ userUsPerMsg: 500, sysUsPerMsg: 500, voluntaryCtxPerMsg: 200, involuntaryCtxPerMsg: 10, scope: 'both processes' })
    expect(r).not.toHaveProperty('roundTripsPerSec')
    expect(r).not.toHaveProperty('latencyNs')
  })
})

describe('buildRepetition: the figures', () => {
  it('ping-pong: latency from its own samples, round trips per second = messages / elapsed, the placement read back', () => {
    const samples = Float64Array.from([300, 100, 200, 400])
    const r = buildRepetition(
      planFor('pingpong', 'process'),
      2,
      report({ messages: 4000, elapsedNs: 2_000_000, sampleCount: 4, cpusA: [2], cpusB: [3] }),
      samples,
    )
    expect(r).toMatchObject({ index: 2, messages: 4000, elapsedNs: 2_000_000, batch: 1, roundTripsPerSec: 2_000_000 })
    expect(r.latencyNs).toEqual(summarizeNs([100, 200, 300, 400]))
    expect(r.placement).toEqual({ requested: 'split', applied: 'split', cpusA: [2], cpusB: [3] })
    expect(r).not.toHaveProperty('throughput')
  })

  it('stream: throughput from messages, size and elapsed; no latency, no round trips per second', () => {
    const r = buildRepetition(planFor('stream', 'process', 1024), 0, report({ messages: 5000, elapsedNs: 10_000_000 }), new Float64Array(0))
    expect(r.throughput).toEqual({ bytesPerSec: 512_000_000, msgsPerSec: 500_000 })
    expect(r).not.toHaveProperty('latencyNs')
    expect(r).not.toHaveProperty('roundTripsPerSec')
  })

  it('readSamples takes the first count samples a side wrote, none without a file', () => {
    const path = tempFile('s.f64')
    writeFileSync(path, Buffer.from(Float64Array.from([1.5, 2.5, 3.5]).buffer))
    expect(Array.from(readSamples(path, 2))).toEqual([1.5, 2.5])
    expect(Array.from(readSamples(path, 10))).toEqual([1.5, 2.5, 3.5])
    expect(readSamples(`${path}.missing`, 3).length).toBe(0)
  })

  it('a count mismatch is a warning naming both counts', () => {
    expect(reportWarnings(report({ countMismatch: { sent: 10, received: 9 } }))).toEqual([
      { code: 'count-mismatch', message: 'sender counted 10 messages, receiver 9' },
    ])
    expect(reportWarnings(report())).toEqual([])
  })
})

describe('buildRepetition: the histogram of a ping-pong repetition', () => {
  // Round trips of a few microseconds with a tail, as whole nanoseconds.
  const samples = Float64Array.from({ length: 5000 }, (_, i) => 4000 + ((i * 7919) % 1500) + (i % 500 === 0 ? 90_000 : 0))
  const r = buildRepetition(planFor('pingpong', 'process'), 0, report({ messages: 5000, sampleCount: 5000 }), samples)

  it('decodes to every sample, its p50 within the stated error of the repetition p50', () => {
    const h = decodeHistogram(r.histogram)
    expect(totalCount(h)).toBe(r.latencyNs!.n)
    expect(Math.abs(percentile(h, 50) - r.latencyNs!.p50)).toBeLessThanOrEqual(r.latencyNs!.p50 * HISTOGRAM_RELATIVE_ERROR)
    expect([h.minNs, h.maxNs]).toEqual([r.latencyNs!.min, r.latencyNs!.max])
  })

  it('is absent without samples and for a stream', () => {
    expect(buildRepetition(planFor('pingpong', 'process'), 0, report(), new Float64Array(0))).not.toHaveProperty('histogram')
    expect(buildRepetition(planFor('stream', 'process'), 0, report(), samples)).not.toHaveProperty('histogram')
  })
})

describe('--samples', () => {
  const indexRows = (dir: string): string[][] =>
    readFileSync(join(dir, 'index.csv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','))

  it('makes the directory and its parents, starts the index afresh, refuses what is not a directory', () => {
    const dir = join(dirname(tempFile('x')), 'a', 'b')
    expect(startSamples(dir)).toBe(dir)
    writeFileSync(join(dir, 'index.csv'), `${SAMPLES_INDEX_HEADER}old,node,0,1,old/node-0.f64\n`)
    startSamples(dir)
    expect(readFileSync(join(dir, 'index.csv'), 'utf8')).toBe(SAMPLES_INDEX_HEADER)
    const file = tempFile('not-a-dir')
    writeFileSync(file, '')
    expect(() => startSamples(file)).toThrow(`--samples: ${file} exists and is not a directory`)
    expect(() => startSamples('')).toThrow('--samples: give a directory')
    expect(() => startSamples('/proc/ipcbench/samples')).toThrow(/^--samples: cannot write samples to \/proc\/ipcbench\/samples \(E[A-Z]+\)$/)
  })

  it('keeps the bytes as read and lists them; an unwritable place errors the repetition, naming --samples', () => {
    const dir = startSamples(join(dirname(tempFile('x')), 'kept'))
    const plan = { ...planFor('pingpong', 'thread'), samplesDir: dir }
    const samples = Float64Array.from([1500, 1499.5, 2e9])
    expect(keepSamples(plan, 'floor', 3, samples)).toBeUndefined()
    expect(readFileSync(join(dir, 'x_blocking_thread_pingpong_64B', 'floor-3.f64'))).toEqual(Buffer.from(samples.buffer))
    expect(indexRows(dir)[1]).toEqual(['x/blocking/thread/pingpong/64B', 'floor', '3', '3', 'x_blocking_thread_pingpong_64B/floor-3.f64'])
    // Nothing to keep: not asked, a stream, no samples.
    expect(keepSamples(planFor('pingpong', 'thread'), 'node', 0, samples)).toBeUndefined()
    expect(keepSamples({ ...planFor('stream', 'thread'), samplesDir: dir }, 'node', 0, samples)).toBeUndefined()
    expect(keepSamples(plan, 'node', 0, new Float64Array(0))).toBeUndefined()
    expect(indexRows(dir)).toHaveLength(2)
    const blocked = join(dir, 'blocked')
    writeFileSync(blocked, '')
    const failed = keepSamples({ ...plan, samplesDir: blocked }, 'node', 0, samples)
    expect(failed).toMatchObject({ ok: false, state: 'errored', error: { side: 'harness' } })
    expect(failed?.ok === false && failed.error.message).toMatch(/^--samples: cannot write .*blocked.* \(E[A-Z]+\)$/)
  })

  it('a real run writes every ping-pong repetition, Node and C floor, 8 bytes per round trip, and lists each', () => {
    const dir = join(dirname(tempFile('x')), 'samples')
    const out = tempFile('run.json')
    const args = ['run', 'pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '64']
    const cli = runCli([...args, '--repetitions', '2', '--duration', '20ms', '--samples', dir, '--out', out])
    expect(cli.code, cli.stderr).toBe(0)
    const run: RunResult = loadResult(out)
    expect(run.context.options.samplesDir).toBe(dir)
    const [c] = run.cases
    expect(c.state).toBe('completed')
    const floorBuilt = run.context.env.native.floor.available
    const expected: Array<[string, RepetitionResult]> = [
      ...c.repetitions.map((r): [string, RepetitionResult] => ['node', r]),
      ...(c.state === 'completed' && c.floor ? c.floor.repetitions.map((r): [string, RepetitionResult] => ['floor', r]) : []),
    ]
    expect(expected.filter(([e]) => e === 'floor')).toHaveLength(floorBuilt ? 2 : 0)
    const rows = indexRows(dir)
    expect(rows[0].join(',') + '\n').toBe(SAMPLES_INDEX_HEADER)
    const caseDir = 'pipe_blocking_process_pingpong_64B'
    expect(rows.slice(1).sort()).toEqual(
      expected.map(([e, r]) => [c.id, e, String(r.index), String(r.messages), `${caseDir}/${e}-${r.index}.f64`]).sort(),
    )
    for (const [e, r] of expected) {
      const file = join(dir, caseDir, `${e}-${r.index}.f64`)
      expect(existsSync(file), file).toBe(true)
      expect(statSync(file).size).toBe(8 * r.messages)
      // The result's histogram is the one of the very samples kept.
      expect(r.histogram).toEqual(encodeHistogram(buildHistogram(readSamples(file, r.messages))))
    }
  })

  it("ab: base's and current's files apart, the C floor's once", () => {
    const dir = join(dirname(tempFile('x')), 'samples')
    const [base, current] = [tempFile('b.json'), tempFile('c.json')]
    const args = ['ab', 'pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '64', '--aa']
    const cli = runCli([...args, '--repetitions', '2', '--duration', '20ms', '--samples', dir, '--out-base', base, '--out-current', current])
    expect(cli.code, cli.stderr).toBe(0)
    const executors = indexRows(dir)
      .slice(1)
      .map(([, e, rep]) => `${e}-${rep}`)
    const floor = loadResult(base).context.env.native.floor.available ? ['floor-0', 'floor-1'] : []
    expect(executors.sort()).toEqual([...floor, 'node-base-0', 'node-base-1', 'node-current-0', 'node-current-1'])
    for (const e of executors) expect(existsSync(join(dir, 'pipe_blocking_process_pingpong_64B', `${e}.f64`)), e).toBe(true)
  })
})

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { UsageError } from '../src/core/errors.js'
import { calibrate, renderCalibration } from '../src/report/compare/threshold.js'
import { compare, type Comparison } from '../src/report/compare/compare.js'
import { confirmComparison } from '../src/report/compare/confirm.js'
import { bmf, gabLatency, gabThroughput } from '../src/report/compare/exports.js'
import { minimumDetectablePct } from '../src/report/compare/mde.js'
import { parseAlpha, parseExport, parseMetric, parseThresholdPct } from '../src/report/compare/options.js'
import { headline, renderCompareJson, renderCompareMarkdown, renderCompareTable } from '../src/report/compare/render.js'
import { bootstrapRatioOfMedians, erfc, holm, mannWhitneyU, median, minAttainableP, mulberry32, repetitionsNeeded } from '../src/core/inference.js'
import type { CaseResult, RunResult } from '../src/core/result.js'
import { BENCHER_MEASURES, bmfProblems, gabProblems } from './export-formats.js'
import { BIN, ROOT } from './helpers.js'

// Everything this file writes goes under one mkdtemp directory, removed at the end.
const TMP = mkdtempSync(join(tmpdir(), 'ipcbench-compare-'))
afterAll(() => rmSync(TMP, { recursive: true, force: true }))
const tmp = (name: string): string => join(TMP, name)

const FIXTURE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/run-a.json'), 'utf8')) as RunResult
const PING = 'pipe/blocking/process/pingpong/64B'
const PING2 = 'fifo/blocking/process/pingpong/64B'
const STREAM = 'pipe/blocking/process/stream/64KiB'

interface Spec {
  /** Centre of the per-repetition figure: p50 ns for ping-pong, bytes/s for stream. */
  centre: number
  /** Relative noise (sd / centre). */
  noise?: number
  /** Exact per-repetition figures instead (centre and noise ignored). */
  values?: number[]
}

/** A real run file whose chosen cases get `reps` seeded repetitions around the given centres. */
function makeRun(specs: Record<string, Spec>, seed: number, reps = 10, tweak?: (r: RunResult) => void): RunResult {
  const run = structuredClone(FIXTURE)
  const rand = mulberry32(seed)
  // Box–Muller: seeded normal noise, so every test sees the same figures on every host.
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  run.cases = run.cases
    .filter((c) => c.id in specs)
    .map((c): CaseResult => {
      const { centre, noise = 0.02, values } = specs[c.id]
      const template = c.repetitions[0]
      const repetitions = Array.from({ length: values?.length ?? reps }, (_, index) => {
        const v = values ? values[index] : centre * (1 + noise * normal())
        return c.pattern === 'pingpong'
          ? { ...template, index, latencyNs: { ...template.latencyNs!, p50: v, p99: v * 2 } }
          : { ...template, index, throughput: { bytesPerSec: v, msgsPerSec: v / c.sizeBytes } }
      })
      return { ...c, repetitions }
    })
  tweak?.(run)
  return run
}

const write = (name: string, data: unknown): string => {
  const path = tmp(name)
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data))
  return path
}

/** `run` with every per-repetition figure of its cases multiplied by `factor` (between-run drift, or a change of given size). */
function scaled(run: RunResult, factor: number): RunResult {
  const out = structuredClone(run)
  for (const c of out.cases)
    for (const r of c.repetitions) {
      if (r.latencyNs) r.latencyNs = { ...r.latencyNs, p50: r.latencyNs.p50 * factor, p99: r.latencyNs.p99 * factor }
      if (r.throughput) r.throughput = { bytesPerSec: r.throughput.bytesPerSec * factor, msgsPerSec: r.throughput.msgsPerSec * factor }
    }
  return out
}

/** The CLI as a user runs it: the compiled bin, a fresh process, `cwd` chosen per test. */
function cli(args: string[], cwd = ROOT): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('statistics, exact values', () => {
  it('median', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })

  it('Mann–Whitney U, exact two-sided p for small samples without ties', () => {
    expect(mannWhitneyU([1, 2, 3], [4, 5, 6])).toEqual({ u: 0, u1: 0, p: 0.1, method: 'exact' })
    const five = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    expect(five.u).toBe(0)
    expect(five.p).toBeCloseTo(2 / 252, 12) // 0.00794
    // U1 = 0 + 2 + 3 + 5 = 10 = m·n/2: the centre of the distribution.
    expect(mannWhitneyU([1, 4, 6, 9], [2, 3, 5, 7, 8])).toMatchObject({ u: 10, p: 1 })
    // U = 1 for 3 and 3: P(U ≤ 1) = 2/20, two-sided 0.2.
    expect(mannWhitneyU([1, 2, 4], [3, 5, 6]).p).toBeCloseTo(0.2, 12)
  })

  it('Mann–Whitney U with ties: normal approximation, tie and continuity corrected', () => {
    // Mid-ranks: x = 1, 3, 3, 5.5 → R = 12.5, U1 = 2.5; Σ(t³−t) = 24 + 6 = 30;
    // var = 16/12 · (9 − 30/56) = 11.2857; z = (|2.5 − 8| − 0.5)/3.3594 = 1.4884.
    const r = mannWhitneyU([1, 2, 2, 3], [2, 3, 4, 5])
    expect(r.method).toBe('normal')
    expect(r.u).toBe(2.5)
    expect(r.p).toBeCloseTo(0.13666, 4)
    expect(mannWhitneyU([7, 7, 7], [7, 7, 7]).p).toBe(1)
  })

  it('the smallest attainable p says when repetitions are too few', () => {
    expect(minAttainableP(3, 3)).toBeCloseTo(0.1, 12)
    expect(minAttainableP(4, 4)).toBeCloseTo(2 / 70, 12)
    expect(repetitionsNeeded(0.05)).toBe(4)
    expect(repetitionsNeeded(0.01)).toBe(5)
  })

  it('erfc matches known values', () => {
    expect(erfc(0)).toBeCloseTo(1, 6)
    expect(erfc(1)).toBeCloseTo(0.157299207, 6)
    expect(erfc(1.959963985 / Math.SQRT2)).toBeCloseTo(0.05, 6)
    expect(erfc(-1)).toBeCloseTo(2 - 0.157299207, 6)
  })

  it('bootstrap CI of the ratio of medians is seeded, and brackets the ratio', () => {
    const base = [10, 11, 12, 10, 11]
    const cur = [13, 14, 13, 15, 14]
    const a = bootstrapRatioOfMedians(base, cur, { seed: 7 })
    expect(a).toEqual(bootstrapRatioOfMedians(base, cur, { seed: 7 }))
    expect(a.ratio).toBe(14 / 11)
    expect(a.lower).toBeLessThanOrEqual(a.ratio)
    expect(a.upper).toBeGreaterThanOrEqual(a.ratio)
    // Every resample ratio is a ratio of sample values: bounded by the extremes.
    expect(a.lower).toBeGreaterThanOrEqual(13 / 12)
    expect(a.upper).toBeLessThanOrEqual(15 / 10)
    expect(bootstrapRatioOfMedians([5], [5], { seed: 1 })).toEqual({ ratio: 1, lower: 1, upper: 1 })
  })
})

describe('compare(): verdicts on synthetic runs (10 repetitions)', () => {
  const one = (cmp: ReturnType<typeof compare>, id: string) => cmp.cases.find((c) => c.id === id)!

  it('+30% latency with low noise is a regression', () => {
    const cmp = compare(makeRun({ [PING]: { centre: 10_000 } }, 1), makeRun({ [PING]: { centre: 13_000 } }, 2))
    const c = one(cmp, PING)
    expect(c.verdict).toBe('regressed')
    expect(c.metric).toBe('p50')
    expect(c.p).toBeLessThan(0.001)
    expect(c.ci.lower).toBeGreaterThan(1.1)
    expect(cmp.counts).toEqual({ regressed: 1, improved: 0, unchanged: 0 })
  })

  it('+3% is within noise at the default 10% threshold, though significant', () => {
    const c = one(compare(makeRun({ [PING]: { centre: 10_000, noise: 0.005 } }, 3), makeRun({ [PING]: { centre: 10_300, noise: 0.005 } }, 4)), PING)
    expect(c.p).toBeLessThan(0.05)
    expect(c).toMatchObject({ verdict: 'unchanged', reason: 'within noise' })
  })

  it('identical distributions stay unchanged in at least 95% of 200 seeded trials', () => {
    let unchanged = 0
    for (let t = 0; t < 200; t++) {
      const cmp = compare(
        makeRun({ [PING]: { centre: 10_000, noise: 0.03 } }, 1000 + t),
        makeRun({ [PING]: { centre: 10_000, noise: 0.03 } }, 5000 + t),
        { resamples: 500 },
      )
      if (one(cmp, PING).verdict === 'unchanged') unchanged++
    }
    expect(unchanged).toBeGreaterThanOrEqual(190)
  })

  it('Holm adjusts p-values across the family: exact values', () => {
    expect(holm([0.01, 0.04, 0.03, 0.5])).toEqual([0.04, 0.09, 0.09, 0.5])
    expect(holm([0.2])).toEqual([0.2])
    expect(holm([0.6, 0.6])).toEqual([1, 1])
  })

  it('many cases at once: a threshold of 0% with per-case alpha would flag A/A noise; Holm keeps the family at alpha', () => {
    // Every ping-pong case of the fixture, identical distributions in both runs, a threshold
    // of 1% so that only significance can protect the verdicts.
    const ids = FIXTURE.cases.filter((c) => c.state === 'completed' && c.pattern === 'pingpong').map((c) => c.id)
    const specs = Object.fromEntries(ids.map((id) => [id, { centre: 10_000, noise: 0.05 }]))
    let flagged = 0
    let perCaseSignificant = 0
    for (let t = 0; t < 10; t++) {
      const cmp = compare(makeRun(specs, 7000 + t, 12), makeRun(specs, 9000 + t, 12), { thresholdPct: 1, resamples: 200 })
      expect(cmp.correction).toEqual({ method: 'holm', family: ids.length, alpha: 0.05 })
      flagged += cmp.counts.regressed + cmp.counts.improved
      perCaseSignificant += cmp.cases.filter((c) => c.p < 0.05).length
    }
    // Unadjusted, about one case in twenty is "significant" by chance; after Holm, none is flagged.
    expect(perCaseSignificant).toBeGreaterThan(0)
    expect(flagged).toBe(0)
  })

  it('a real 25% regression among 30 cases is still found after the adjustment', () => {
    const ids = FIXTURE.cases
      .filter((c) => c.state === 'completed' && c.pattern === 'pingpong')
      .map((c) => c.id)
      .slice(0, 30)
    const base = Object.fromEntries(ids.map((id) => [id, { centre: 10_000, noise: 0.02 }]))
    const current = { ...base, [ids[0]]: { centre: 12_500, noise: 0.02 } }
    const cmp = compare(makeRun(base, 41, 8), makeRun(current, 42, 8))
    expect(cmp.cases.filter((c) => c.verdict !== 'unchanged').map((c) => [c.id, c.verdict])).toEqual([[ids[0], 'regressed']])
  })

  it('too few repetitions for the family: says how many are needed', () => {
    const ids = FIXTURE.cases
      .filter((c) => c.state === 'completed' && c.pattern === 'pingpong')
      .map((c) => c.id)
      .slice(0, 30)
    const specs = Object.fromEntries(ids.map((id) => [id, { centre: 10_000 }]))
    const cmp = compare(makeRun(specs, 1, 5), makeRun(specs, 2, 5))
    expect(cmp.cases.every((c) => c.reason === 'too few repetitions')).toBe(true)
    expect(cmp.warnings.join('\n')).toContain('over 30 case(s) (Holm)')
    expect(cmp.warnings.join('\n')).toContain(`--repetitions ${repetitionsNeeded(0.05 / 30)} or more`)
  })

  it('throughput: −30% regressed, +30% improved', () => {
    const base = makeRun({ [STREAM]: { centre: 2e9 } }, 5)
    expect(one(compare(base, makeRun({ [STREAM]: { centre: 1.4e9 } }, 6)), STREAM)).toMatchObject({
      verdict: 'regressed',
      metric: 'throughput',
      worseWhen: 'lower',
    })
    expect(one(compare(base, makeRun({ [STREAM]: { centre: 2.6e9 } }, 7)), STREAM)).toMatchObject({ verdict: 'improved' })
  })

  it('3 vs 3 repetitions cannot reach alpha 0.05: unchanged, and says why', () => {
    const cmp = compare(makeRun({ [PING]: { centre: 10_000 } }, 8, 3), makeRun({ [PING]: { centre: 20_000 } }, 9, 3))
    expect(one(cmp, PING)).toMatchObject({ verdict: 'unchanged', reason: 'too few repetitions' })
    expect(one(cmp, PING).detail).toContain('smallest possible two-sided p is 0.1')
    expect(cmp.warnings.join('\n')).toContain('--repetitions 4 or more')
  })

  it('a large change that is not significant is "not significant"', () => {
    // Medians 10750 → 14250 (+32.6%), but the samples interleave: U = 40 of 100, exact p = 0.481.
    const base = [100, 120, 90, 130, 110, 95, 125, 105, 115, 85].map((v) => v * 100)
    const cur = [70, 160, 80, 150, 140, 75, 165, 145, 155, 72].map((v) => v * 100)
    const c = one(compare(makeRun({ [PING]: { centre: 0, values: base } }, 10), makeRun({ [PING]: { centre: 0, values: cur } }, 11)), PING)
    expect(c).toMatchObject({ verdict: 'unchanged', reason: 'not significant', u: 40, test: 'exact' })
    expect(c.changePct).toBeCloseTo(32.558, 2)
    expect(c.p).toBeCloseTo(0.48125, 4)
  })

  it('--metric chooses the figure and the cases; cases in one run only are added/removed', () => {
    const base = makeRun({ [PING]: { centre: 10_000 }, [STREAM]: { centre: 2e9 }, [PING2]: { centre: 9_000 } }, 12)
    const cur = makeRun({ [PING]: { centre: 10_000 }, [STREAM]: { centre: 2e9 } }, 13, 10, (r) =>
      r.cases.push({ ...r.cases[0], id: 'new/blocking/process/pingpong/64B' }),
    )
    const cmp = compare(base, cur, { metric: 'p99' })
    expect(cmp.cases.map((c) => [c.id, c.metric])).toEqual([[PING, 'p99']])
    expect(cmp.notCompared).toEqual([{ id: STREAM, kind: 'metric', reason: '--metric p99 applies to ping-pong, one-way and load cases only' }])
    expect(cmp.removed).toEqual([PING2])
    expect(cmp.added).toEqual(['new/blocking/process/pingpong/64B'])
  })

  it('sorts the largest change first and renders a headline, table and markdown', () => {
    const base = makeRun({ [PING]: { centre: 10_000 }, [PING2]: { centre: 10_000 }, [STREAM]: { centre: 2e9 } }, 14)
    const cur = makeRun({ [PING]: { centre: 10_100 }, [PING2]: { centre: 14_000 }, [STREAM]: { centre: 1.5e9 } }, 15)
    const cmp = compare(base, cur)
    expect(cmp.cases.map((c) => c.id)).toEqual([PING2, STREAM, PING])
    expect(headline(cmp)).toBe('2 regressed, 0 improved, 1 unchanged (Holm, family alpha 0.05 over 3 cases)')
    const table = renderCompareTable(cmp, { color: false })
    for (const col of ['case', 'base', 'current', 'change', '95% CI', 'p (Holm)', 'verdict']) expect(table).toContain(col)
    const md = renderCompareMarkdown(cmp)
    expect(md.split('\n')[0]).toBe('### ipcbench compare: 2 regressed, 0 improved, 1 unchanged (Holm, family alpha 0.05 over 3 cases)')
    expect(md).toContain('| case | base | current | change | 95% CI | p (Holm) | verdict | MDE |')
    expect(md).toContain('**regressed**')
  })

  it('a different kernel refuses the comparison, naming the difference; force turns it into a warning', () => {
    const base = makeRun({ [PING]: { centre: 10_000 } }, 16)
    const cur = makeRun({ [PING]: { centre: 10_000 } }, 17, 10, (r) => (r.context.env.host.kernel = '6.19.0-other'))
    expect(() => compare(base, cur)).toThrow(UsageError)
    expect(() => compare(base, cur)).toThrow(/kernel: "6\.18\.44-fc-v782" vs "6\.19\.0-other".*--force/)
    const forced = compare(base, cur, { force: true })
    expect(forced.environmentDifferences).toEqual([{ what: 'kernel', base: '6.18.44-fc-v782', current: '6.19.0-other' }])
    expect(forced.warnings[0]).toContain('kernel')
    const pinned = makeRun({ [PING]: { centre: 10_000 } }, 18, 10, (r) => (r.context.options.pin = 'same'))
    expect(() => compare(base, pinned)).toThrow('pin option: "auto" vs "same"')
  })

  it('calibrate suggests the largest A/A change of a median, rounded up, and no A/A pair is flagged at it', () => {
    const runs = [20, 21, 22].map((seed) => ({
      label: `aa${seed}.json`,
      run: makeRun({ [PING]: { centre: 10_000, noise: 0.03 }, [STREAM]: { centre: 2e9, noise: 0.03 } }, seed),
    }))
    const cal = calibrate(runs)
    expect(cal.pairs).toHaveLength(3)
    expect(cal.comparisons).toBe(6)
    const worst = Math.max(...cal.pairs.flatMap((p) => p.cases.map((c) => Math.abs(c.changePct))))
    expect(cal.absChangePct.max).toBe(worst)
    expect(cal.suggestedThresholdPct).toBe(Math.max(1, Math.ceil(worst)))
    // At the suggested threshold no A/A pair flags anything, and the result says so.
    expect(cal.falseAlarms.atSuggested).toBe(0)
    for (const [i, j] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ]) {
      const { counts } = compare(runs[i].run, runs[j].run, { thresholdPct: cal.suggestedThresholdPct })
      expect(counts.regressed + counts.improved).toBe(0)
    }
  })

  it.each([
    ['tight', 0.005],
    ['noisy', 0.08],
  ])('between-run drift of 20%% over %s repetitions suggests at least 20%% (a noisier pair never suggests less)', (_, noise) => {
    const a = makeRun({ [PING]: { centre: 10_000, noise }, [PING2]: { centre: 20_000, noise }, [STREAM]: { centre: 2e9, noise } }, 31)
    const cal = calibrate([
      { label: 'a.json', run: a },
      { label: 'b.json', run: scaled(a, 1.2) },
    ])
    expect(cal.suggestedThresholdPct).toBeGreaterThanOrEqual(20)
    expect(cal.suggestedThresholdPct).toBeLessThanOrEqual(21)
    expect(cal.falseAlarms.atSuggested).toBe(0)
    // The old rule (the near edge of the bootstrap interval) suggested 16% and 1% on such pairs;
    // at the default 10% compare flags every drifted case whose repetitions are tight enough to be significant.
    if (noise < 0.01) expect(cal.falseAlarms.atDefault).toBe(3)
  })

  it('renders the suggestion with the comparisons it rests on and the false alarms at it and at the default', () => {
    const a = makeRun({ [PING]: { centre: 10_000, noise: 0.005 }, [STREAM]: { centre: 2e9, noise: 0.005 } }, 32)
    const text = renderCalibration(
      calibrate([
        { label: 'a.json', run: a },
        { label: 'b.json', run: scaled(a, 1.2) },
      ]),
      { color: false },
    )
    expect(text).toMatch(/^Suggested threshold: 2[01]%: it covers the largest change of a median in 2 A\/A comparison\(s\) over 1 pair\(s\)/m)
    expect(text).toContain('False alarms compare would have raised on these pairs: 0 of 2 (0.0%) at 2')
    expect(text).toContain('2 of 2 (100.0%) at the default 10%')
    expect(text).toContain('more A/A pairs make it safer')
  })
})

describe('minimum detectable effect (MDE) of an unchanged case', () => {
  const one = (cmp: Comparison, id: string) => cmp.cases.find((c) => c.id === id)!

  it.each([
    ['latency', PING, 10_000, 1],
    ['throughput', STREAM, 2e9, -1],
  ])('%s: the current figures scaled to just past the MDE are flagged, to just short of it are not', (_, id, centre, sign) => {
    const base = makeRun({ [id]: { centre, noise: 0.02 } }, 50, 8)
    const current = makeRun({ [id]: { centre, noise: 0.02 } }, 51, 8)
    const c = one(compare(base, current), id)
    expect(c.verdict).toBe('unchanged')
    const mde = c.mdePct!
    expect(mde).toBeGreaterThan(10) // never below the threshold
    expect(mde).toBeLessThan(25)
    // Scale the current run so that the change of medians is MDE ± 0.3 points in the worse direction.
    const at = (pct: number): string => one(compare(base, scaled(current, (1 + (sign * pct) / 100) / c.ratio)), id).verdict
    expect(at(mde + 0.3)).toBe('regressed')
    expect(at(mde - 0.3)).toBe('unchanged')
  })

  it('is null when the repetitions are too few for any change to be flagged, and grows with the noise', () => {
    const few = compare(makeRun({ [PING]: { centre: 10_000 } }, 52, 3), makeRun({ [PING]: { centre: 10_000 } }, 53, 3))
    expect(one(few, PING)).toMatchObject({ reason: 'too few repetitions', mdePct: null })
    const mdeAt = (noise: number): number =>
      one(compare(makeRun({ [PING]: { centre: 10_000, noise } }, 54, 8), makeRun({ [PING]: { centre: 10_000, noise } }, 55, 8)), PING).mdePct!
    expect(mdeAt(0.002)).toBeLessThan(11)
    expect(mdeAt(0.05)).toBeGreaterThan(mdeAt(0.01))
  })

  it('exact values: the interval or the test, whichever asks more', () => {
    // Identical samples, ratio 1: an interval whose lower edge is 10/14 clears +10% from
    // k = 1.1 · 14/10 = 1.54, past the point where the test is significant.
    const b = [10, 11, 12, 13, 14]
    const ci = { ratio: 1, lower: 10 / 14, upper: 14 / 10 }
    expect(minimumDetectablePct(b, b, ci, 'higher', 10, 0.05)).toBeCloseTo(54, 9)
    // A tight interval: then significance decides. Exact p < 0.05 for 5 vs 5 needs U ≤ 2
    // (U = 2: p = 8/252): k past 14/11 leaves only the pairs (10, 14) and (10, 13) out of order.
    const tight = { ratio: 1, lower: 0.999, upper: 1.001 }
    expect(minimumDetectablePct(b, b, tight, 'higher', 10, 0.05)).toBeCloseTo((14 / 11 - 1) * 100, 9)
    // Throughput, downwards: k below 11/14 leaves (14, 10) and (13, 10).
    expect(minimumDetectablePct(b, b, tight, 'lower', 10, 0.05)).toBeCloseTo((1 - 11 / 14) * 100, 9)
    expect(minimumDetectablePct([1, 2, 3], [1, 2, 3], ci, 'higher', 10, 0.05)).toBeUndefined()
  })

  it('is in the table, the markdown and the JSON: signed in the worse direction, blank for a flagged case', () => {
    const base = makeRun({ [PING]: { centre: 10_000 }, [STREAM]: { centre: 2e9 }, [PING2]: { centre: 10_000 } }, 56, 8)
    const cur = makeRun({ [PING]: { centre: 10_000 }, [STREAM]: { centre: 2e9 }, [PING2]: { centre: 14_000 } }, 57, 8)
    const cmp = compare(base, cur)
    const text = renderCompareTable(cmp, { color: false })
    const row = (id: string): string => text.split('\n').find((l) => l.includes(id))!
    expect(row(PING)).toMatch(/unchanged \(\w[^)]*\) │ \+\d+\.\d% │$/)
    expect(row(STREAM)).toMatch(/│ -\d+\.\d% │$/)
    expect(row(PING2)).toMatch(/regressed\s+│\s+│$/)
    expect(renderCompareMarkdown(cmp)).toMatch(new RegExp(`${PING2.replace(/\//g, '\\/')} .*\\*\\*regressed\\*\\* \\|  \\|`))
    const json = JSON.parse(renderCompareJson(cmp)) as Comparison
    expect(json.cases.find((c) => c.id === PING)!.mdePct).toBeGreaterThan(10)
    expect(json.cases.find((c) => c.id === PING2)!.mdePct).toBeUndefined()
  })
})

describe('confirmation (ab round 2)', () => {
  const base = makeRun({ [PING]: { centre: 10_000 }, [PING2]: { centre: 10_000 }, [STREAM]: { centre: 2e9 } }, 60, 8)
  const cur = makeRun({ [PING]: { centre: 13_000 }, [PING2]: { centre: 13_000 }, [STREAM]: { centre: 2e9 } }, 61, 8)
  const round1 = compare(base, cur)

  it('a verdict stands only when round 2 reaches it again; the headline says how many were confirmed', () => {
    expect(round1.counts.regressed).toBe(2)
    // Round 2 over the two flagged cases: PING regressed again, PING2 did not.
    const b2 = makeRun({ [PING]: { centre: 10_000 }, [PING2]: { centre: 10_000 } }, 62, 8)
    const c2 = makeRun({ [PING]: { centre: 13_000 }, [PING2]: { centre: 10_000 } }, 63, 8)
    const final = confirmComparison(round1, compare(b2, c2))
    expect(final.counts).toEqual({ regressed: 1, improved: 0, unchanged: 2 })
    const byId = (id: string) => final.cases.find((c) => c.id === id)!
    expect(byId(PING)).toMatchObject({ verdict: 'regressed', confirm: { verdict: 'regressed' } })
    expect(byId(PING2)).toMatchObject({ verdict: 'unchanged', reason: 'not confirmed', confirm: { verdict: 'unchanged' } })
    expect(byId(PING2).detail).toMatch(/^regressed in round 1 \(.*\); unchanged \([a-z ]+\) in round 2: /)
    expect(byId(PING2).mdePct).toBeGreaterThan(10)
    expect(final.confirmation).toMatchObject({ ids: [PING, PING2].sort(), confirmed: [PING] })
    expect(headline(final)).toBe(
      '1 regressed, 0 improved, 2 unchanged (Holm, family alpha 0.05 over 3 cases); 2 flagged in round 1, 1 confirmed in round 2',
    )
    const table = renderCompareTable(final, { color: false })
    expect(table).toContain('Round 2 (confirmation): the 2 case(s) flagged in round 1, measured again, interleaved (Holm over these)')
    expect(table).toContain('unchanged (not confirmed)')
    expect(renderCompareMarkdown(final, 'ipcbench ab').split('\n')[0]).toBe(`### ipcbench ab: ${headline(final)}`)
  })

  it('nothing flagged: no round 2, and the headline says so', () => {
    const aa = confirmComparison(
      compare(base, makeRun({ [PING]: { centre: 10_000 }, [PING2]: { centre: 10_000 }, [STREAM]: { centre: 2e9 } }, 64, 8)),
      undefined,
    )
    expect(aa.confirmation).toEqual({ ids: [], confirmed: [] })
    expect(headline(aa)).toMatch(/; nothing flagged in round 1, so no round 2$/)
  })

  it('a flagged case missing from round 2 is not confirmed, with the reason', () => {
    const b2 = makeRun({ [PING]: { centre: 10_000 } }, 65, 8)
    const c2 = makeRun({ [PING]: { centre: 13_000 } }, 66, 8)
    const final = confirmComparison(round1, compare(b2, c2))
    expect(final.cases.find((c) => c.id === PING2)).toMatchObject({ verdict: 'unchanged', reason: 'not confirmed' })
    expect(final.cases.find((c) => c.id === PING2)!.detail).toContain('not compared in round 2 (not measured)')
  })
})

describe('the runs of one ab session', () => {
  const session = (r: RunResult, label: 'base' | 'current', id: string, node: string): void => {
    r.context.env.node.version = node
    r.context.configuration = { session: id, label, round: 1, node: { execPath: `/opt/node-${node}`, version: node }, env: {} }
  }

  it('may differ in Node major without --force (the Node binary is what ab compares); other pairs may not', () => {
    const base = makeRun({ [PING]: { centre: 10_000 } }, 70, 8, (r) => session(r, 'base', 's1', 'v20.19.0'))
    const cur = makeRun({ [PING]: { centre: 10_000 } }, 71, 8, (r) => session(r, 'current', 's1', 'v24.1.0'))
    const cmp = compare(base, cur)
    expect(cmp.environmentDifferences).toEqual([])
    expect(cmp.warnings.join('\n')).not.toContain('Node')
    expect(renderCompareTable(cmp, { color: false })).toContain('node v24.1.0')
    const other = makeRun({ [PING]: { centre: 10_000 } }, 72, 8, (r) => session(r, 'current', 's2', 'v24.1.0'))
    expect(() => compare(base, other)).toThrow('Node major version: "20" vs "24"')
  })
})

describe('option validation names the option', () => {
  it.each([
    [() => parseThresholdPct('abc'), '--threshold: "abc" is not a percentage (use e.g. 10%)'],
    [() => parseThresholdPct('0%'), '--threshold: 0% is outside (0%, 100%)'],
    [() => parseAlpha('x'), '--alpha: "x" is not a number (use e.g. 0.05)'],
    [() => parseAlpha('0.7'), '--alpha: 0.7 is outside (0, 0.5]'],
    [() => parseAlpha('0'), '--alpha: 0 is outside (0, 0.5]'],
    [() => parseMetric('p95'), '--metric: "p95" is not one of auto, p50, p99, throughput'],
    [() => parseExport('csv=x.csv'), '--export: "csv" is not one of gab-latency, gab-throughput, bmf'],
    [() => parseExport('bmf'), '--export: "bmf" names no file (use --export bmf=FILE)'],
  ])('%#: %s', (fn, text) => {
    expect(fn).toThrow(UsageError)
    expect(fn).toThrow(text)
  })

  it('accepts the documented spellings', () => {
    expect(parseThresholdPct('10%')).toBe(10)
    expect(parseThresholdPct('2.5')).toBe(2.5)
    expect(parseAlpha('0.5')).toBe(0.5)
    expect(parseExport('gab-latency=out/x.json')).toEqual({ kind: 'gab-latency', file: 'out/x.json' })
  })
})

describe('exports of the current run', () => {
  const run = makeRun({ [PING]: { centre: 10_000 }, [PING2]: { centre: 12_000 }, [STREAM]: { centre: 2e9 } }, 30)

  it('gab-latency: customSmallerIsBetter entries of ping-pong p50 in ns', () => {
    const entries = gabLatency(run)
    expect(entries.map((e) => e.name).sort()).toEqual([PING2, PING].sort())
    for (const e of entries) {
      expect(typeof e.name).toBe('string')
      expect(e.unit).toBe('ns')
      expect(typeof e.value).toBe('number')
      expect(e.range).toMatch(/^± \d+(\.\d+)?$/)
      expect(typeof e.extra).toBe('string')
    }
    const ping = run.cases.find((c) => c.id === PING)!
    expect(entries.find((e) => e.name === PING)!.value).toBeCloseTo(median(ping.repetitions.map((r) => r.latencyNs!.p50)), 2)
  })

  it('gab-throughput: customBiggerIsBetter entries of stream MB/s', () => {
    const [e] = gabThroughput(run)
    expect(e).toMatchObject({ name: STREAM, unit: 'MB/s' })
    expect(e.value).toBeGreaterThan(1500)
    expect(e.value).toBeLessThan(2500)
  })

  it('bmf: latency for ping-pong, throughput for streams, each with value/lower_value/upper_value', () => {
    const b = bmf(run)
    expect(Object.keys(b).sort()).toEqual([PING2, PING, STREAM].sort())
    expect(Object.keys(b[PING])).toEqual(['latency'])
    expect(Object.keys(b[STREAM])).toEqual(['throughput'])
    for (const measures of Object.values(b)) {
      for (const m of Object.values(measures)) {
        expect(Object.keys(m!).sort()).toEqual(['lower_value', 'upper_value', 'value'])
        expect(m!.lower_value).toBeLessThanOrEqual(m!.value)
        expect(m!.value).toBeLessThanOrEqual(m!.upper_value)
      }
    }
  })
})

describe('exports against the formats the services document (test/export-formats.ts)', () => {
  // What is written is JSON: check what a service would read back.
  const asWritten = (v: unknown): unknown => JSON.parse(JSON.stringify(v))
  const synthetic = makeRun({ [PING]: { centre: 10_000 }, [PING2]: { centre: 12_000 }, [STREAM]: { centre: 2e9 } }, 30)
  // Every repetition the same: a zero spread, the range "± 0.0".
  const flat = makeRun({ [PING]: { centre: 0, values: [5000, 5000, 5000] }, [STREAM]: { centre: 0, values: [1e9, 1e9, 1e9] } }, 31)

  it.each([
    ['a synthetic run', synthetic],
    ['a run with no spread', flat],
    ['a real run (test/fixtures/run-a.json)', FIXTURE],
  ])('%s: gab-latency and gab-throughput are valid custom-tool input, bmf is valid BMF', (_, run) => {
    const lat = asWritten(gabLatency(run))
    const thr = asWritten(gabThroughput(run))
    expect(gabProblems(lat)).toEqual([])
    expect(gabProblems(thr)).toEqual([])
    expect(bmfProblems(asWritten(bmf(run)))).toEqual([])
    // One entry per completed case of the pattern, under its case id.
    const ids = (pattern: string): string[] =>
      run.cases
        .filter((c) => c.state === 'completed' && c.pattern === pattern)
        .map((c) => c.id)
        .sort()
    expect((lat as { name: string }[]).map((e) => e.name).sort()).toEqual(ids('pingpong'))
    expect((thr as { name: string }[]).map((e) => e.name).sort()).toEqual(ids('stream'))
    // Only Bencher's built-in measures, so a project needs no set-up.
    for (const measures of Object.values(bmf(run))) for (const slug of Object.keys(measures)) expect(Object.keys(BENCHER_MEASURES)).toContain(slug)
  })

  it('the checks are not vacuous: they reject what the services would misread', () => {
    expect(gabProblems({ name: 'x' })).toEqual(['not a JSON array'])
    expect(gabProblems([{ name: 'x', value: '1', unit: 'ns' }])).toEqual(['[0].value: not a positive number'])
    expect(gabProblems([{ name: 'x', value: 1, unit: 'ns', range: '± 5' }])).toEqual(['[0].range: "± 5" has no number extractRangeInfo can read'])
    expect(
      gabProblems([
        { name: 'x', value: 1, unit: 'ns' },
        { name: 'x', value: 2, unit: 'ns' },
      ]),
    ).toEqual(['[1].name: "x" again (entries are paired by name)'])
    expect(bmfProblems([])).toEqual(['not a JSON object'])
    expect(bmfProblems({ a: { latency: { lower_value: 1 } } })).toEqual(['a.latency.value: required, not a number'])
    expect(bmfProblems({ a: { 'Latency ns': { value: 1 } } })).toEqual(['a.Latency ns: measure "Latency ns" is not a slug of 1..64 characters'])
    expect(bmfProblems({ a: { latency: { value: 1, lower_value: 2 } } })).toEqual(['a.latency: value outside its bounds'])
  })
})

describe('the compare command as a user runs it', () => {
  const base = write('base.json', makeRun({ [PING]: { centre: 10_000 }, [STREAM]: { centre: 2e9 } }, 40))
  const regressed = write('regressed.json', makeRun({ [PING]: { centre: 13_000 }, [STREAM]: { centre: 2e9 } }, 41))
  const same = write('same.json', makeRun({ [PING]: { centre: 10_000 }, [STREAM]: { centre: 2e9 } }, 42))

  it('exit 0 without regressions; 0 with a regression but no gate; 1 with --fail-on-regression', () => {
    expect(cli(['compare', base, same, '--fail-on-regression']).code).toBe(0)
    const r = cli(['compare', base, regressed])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('1 regressed, 0 improved, 1 unchanged')
    const gated = cli(['compare', base, regressed, '--fail-on-regression'])
    expect(gated.code).toBe(1)
    expect(gated.stderr).toContain(`1 case(s) regressed (--fail-on-regression): ${PING}`)
  })

  it('writes markdown, JSON and every --export kind=FILE', () => {
    const [md, js, gl, gt, bm] = ['s.md', 'c.json', 'gl.json', 'gt.json', 'out/bmf.json'].map(tmp)
    const r = cli([
      'compare',
      base,
      regressed,
      '--markdown',
      md,
      '--json',
      js,
      '--export',
      `gab-latency=${gl}`,
      '--export',
      `gab-throughput=${gt}`,
      '--export',
      `bmf=${bm}`,
    ])
    expect(r.code).toBe(0)
    expect(readFileSync(md, 'utf8')).toMatch(/^### ipcbench compare: 1 regressed/)
    const cmp = JSON.parse(readFileSync(js, 'utf8'))
    expect(cmp.schema).toBe('ipcbench/compare@1')
    expect(cmp.options).toMatchObject({ thresholdPct: 10, alpha: 0.05, metric: 'auto' })
    expect(cmp.cases.filter((c: { verdict: string }) => c.verdict === 'regressed').map((c: { id: string }) => c.id)).toEqual([PING])
    expect(JSON.parse(readFileSync(gl, 'utf8'))[0]).toMatchObject({ name: PING, unit: 'ns' })
    expect(JSON.parse(readFileSync(gt, 'utf8'))[0]).toMatchObject({ name: STREAM, unit: 'MB/s' })
    expect(Object.keys(JSON.parse(readFileSync(bm, 'utf8')))).toEqual([PING, STREAM])
  })

  it.each([
    ['a missing file', () => tmp('nope.json'), 'no such file'],
    ['truncated JSON', () => write('trunc.json', readFileSync(base, 'utf8').slice(0, 500)), 'not valid JSON'],
    ['a JSON of another schema', () => write('foreign.json', { name: 'x' }), 'not an ipcbench result'],
    [
      'a future schema version',
      () => write('future.json', { ...JSON.parse(readFileSync(base, 'utf8')), schema: 'ipcbench/run@9' }),
      'schema "ipcbench/run@9" is newer than this ipcbench understands',
    ],
  ])('exit 2 for %s, naming the file', (_what, file, text) => {
    const path = file()
    for (const args of [
      ['compare', path, base],
      ['compare', base, path, '--fail-on-regression'],
    ]) {
      const r = cli(args)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`Error: ${path}: ${text}`)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    }
  })

  it.each([
    [['--threshold', 'abc'], '--threshold: "abc" is not a percentage (use e.g. 10%)'],
    [['--alpha', '0.9'], '--alpha: 0.9 is outside (0, 0.5]'],
    [['--metric', 'p95'], '--metric: "p95" is not one of'],
    [['--export', 'svg=x'], '--export: "svg" is not one of'],
  ])('exit 2 for %j', (extra, text) => {
    const r = cli(['compare', base, same, ...extra])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(text)
  })

  it('environment mismatch: exit 2 naming it; --force compares and warns', () => {
    const other = write(
      'other-kernel.json',
      makeRun({ [PING]: { centre: 10_000 }, [STREAM]: { centre: 2e9 } }, 43, 10, (r) => (r.context.env.host.kernel = '7.0.0')),
    )
    const refused = cli(['compare', base, other])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('kernel: "6.18.44-fc-v782" vs "7.0.0"')
    const forced = cli(['compare', base, other, '--force'])
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain('warning  environment differs (--force): kernel')
  })

  it('calibrate prints a suggested threshold; one file is a usage error', () => {
    const r = cli(['calibrate', base, same])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Suggested threshold: \d+%/)
    expect(cli(['calibrate', base]).code).toBe(2)
  })

  it('--save-baseline then --baseline: a round trip under results/baselines of the working directory', () => {
    const cwd = tmp('project')
    mkdirSync(cwd)
    expect(cli(['run', 'fifo', '--save-baseline', 'a/b'], cwd)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--save-baseline: "a/b" is not a baseline name'),
    })
    const out = join(cwd, 'r.json')
    const run = cli(
      [
        'run',
        'fifo',
        '--modes',
        'blocking',
        '--endpoints',
        'process',
        '--patterns',
        'pingpong',
        '--quick',
        '--no-baseline',
        '--repetitions',
        '2',
        '--duration',
        '30ms',
        '--out',
        out,
        '--save-baseline',
        'main',
      ],
      cwd,
    )
    expect(run.code).toBe(0)
    expect(existsSync(join(cwd, 'results/baselines/main.json'))).toBe(true)
    const r = cli(['compare', '--baseline', 'main', out, '--fail-on-regression'], cwd)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('too few repetitions')
    const missing = cli(['compare', '--baseline', 'release', out], cwd)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--baseline: no baseline "release" in results/baselines (saved baselines: main)')
  })
})

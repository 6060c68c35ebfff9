import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../src/core/errors.js'
import { RUN_SCHEMA } from '../src/core/result.js'
import { parseRun } from '../src/report/load.js'
import { ROOT } from './helpers.js'

/** The result loader: run@1 files brought up to run@2, run@2 as it is, newer ones refused. */
const FIXTURE = join(ROOT, 'test', 'fixtures', 'run-a.json')
/** A run@1 file, as much of it as these tests touch. */
interface V1File {
  schema: string
  context: { options: Record<string, unknown>; warnings: unknown[] }
  cases: Array<Record<string, unknown> & { latencyNs: { p50: number }; warnings: unknown[]; baseline?: unknown; ratioToBaseline?: unknown }>
}
const raw = (): V1File => JSON.parse(readFileSync(FIXTURE, 'utf8'))

/** The fixture (a real run@1 file) with a C floor on its first case and a busy-host warning, as run@1 wrote them. */
function v1WithBaseline(): V1File {
  const run = raw()
  expect(run.schema).toBe('ipcbench/run@1')
  run.context.options.baseline = true
  run.context.warnings.unshift('busy host: load average 3.10 on 2 CPUs; figures may be noisy')
  run.context.warnings.push('CPU frequency governor is powersave, not performance')
  const c = run.cases[0]
  c.baseline = { state: 'completed', repetitions: [], latencyNs: { ...c.latencyNs, p50: 6000 } }
  c.ratioToBaseline = { p50: c.latencyNs.p50 / 6000 }
  c.warnings = ['noisy: the per-repetition figure varies 33% (cv) across 3 repetitions']
  return run
}

describe('parseRun', () => {
  it('brings a run@1 file up to run@2: floor, ratioToFloor, options.floor, warnings with codes', () => {
    const before = v1WithBaseline()
    const run = parseRun(JSON.stringify(before), 'old.json')
    expect(run.schema).toBe(RUN_SCHEMA)
    expect(RUN_SCHEMA).toBe('ipcbench/run@3')
    const options = run.context.options as unknown as Record<string, unknown>
    expect(options.floor).toBe(true)
    expect('baseline' in options).toBe(false)
    const c = run.cases[0] as unknown as Record<string, unknown>
    expect(c.floor).toEqual(before.cases[0].baseline)
    expect(c.ratioToFloor).toEqual(before.cases[0].ratioToBaseline)
    expect('baseline' in c).toBe(false)
    expect('ratioToBaseline' in c).toBe(false)
    expect(run.context.warnings).toEqual([
      { code: 'busy-host', message: 'busy host: load average 3.10 on 2 CPUs; figures may be noisy' },
      { code: 'legacy', message: before.context.warnings[1] },
      { code: 'legacy', message: before.context.warnings[2] },
      { code: 'cpu-governor', message: 'CPU frequency governor is powersave, not performance' },
    ])
    expect(run.cases[0].warnings).toEqual([{ code: 'legacy', message: 'noisy: the per-repetition figure varies 33% (cv) across 3 repetitions' }])
  })

  it('every warning of the unmodified fixture becomes a { code, message } object and no case keeps a baseline', () => {
    const run = parseRun(readFileSync(FIXTURE, 'utf8'), FIXTURE)
    expect(run.schema).toBe('ipcbench/run@3')
    for (const w of [...run.context.warnings, ...run.cases.flatMap((c) => c.warnings)]) {
      expect(Object.keys(w).sort()).toEqual(['code', 'message'])
      expect(typeof w.message).toBe('string')
    }
    expect(run.cases.length).toBe(raw().cases.length)
    for (const c of run.cases) expect('baseline' in c || 'ratioToBaseline' in c).toBe(false)
  })

  it('a run@2 file passes through unchanged', () => {
    const v2 = JSON.parse(JSON.stringify(parseRun(JSON.stringify(v1WithBaseline()))))
    // A run@2 file keeps fields the run@1 conversion would rewrite, as they are.
    v2.cases[1].baseline = 'left alone'
    v2.context.warnings.push({ code: 'noisy', message: 'kept as it is' })
    const text = JSON.stringify(v2)
    expect(parseRun(text)).toEqual(JSON.parse(text))
  })

  it.each([
    [
      'ipcbench/run@4',
      /^<input>: schema "ipcbench\/run@4" is newer than this ipcbench understands \(ipcbench\/run@3\); upgrade ipcbench to read it$/,
    ],
    ['ipcbench/run@12', /is newer than this ipcbench understands/],
    ['ipcbench/compare@1', /^<input>: schema "ipcbench\/compare@1" is not a run result \(expected "ipcbench\/run@3"\)$/],
  ])('%s is refused with a UsageError', (schema, message) => {
    const text = JSON.stringify({ schema, context: {}, cases: [] })
    expect(() => parseRun(text)).toThrow(UsageError)
    expect(() => parseRun(text)).toThrow(message)
  })

  it.each([
    ['', 'f.json: the file is empty'],
    ['[1]', 'f.json: not an ipcbench result (expected a JSON object with "schema": "ipcbench/run@3")'],
    ['{"schema":"other/1"}', 'f.json: not an ipcbench result (no "schema" field starting with "ipcbench/"; expected "ipcbench/run@3")'],
    ['{"schema":"ipcbench/run@2","context":{}}', 'f.json: malformed result (needs "context" and a "cases" array)'],
    [
      '{"schema":"ipcbench/run@2","context":{},"cases":[{"id":"x","state":"completed"}]}',
      'f.json: malformed case at cases[0] (needs "id", "state" and "repetitions")',
    ],
  ])('%j is refused naming the file and the problem', (text, message) => {
    expect(() => parseRun(text, 'f.json')).toThrow(new UsageError(message))
  })
})

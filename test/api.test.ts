import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// The package by its own name, as a user imports it: the exports map's one entry (dist/, built by pretest).
import {
  compare,
  defineMechanism,
  loadResult,
  MechanismDefinitionError,
  parseResult,
  renderComparison,
  renderHtml,
  renderMarkdown,
  renderSvgCharts,
  renderTable,
  run,
  UsageError,
  type RunProgress,
  type RunResult,
} from 'ipcbench'
import { ROOT, tempFile, waitFor } from './helpers.js'

const LENGTH_PREFIXED = join(ROOT, 'examples', 'length-prefixed-unix-socket', 'length-prefixed.js')
const FIXTURE = join(ROOT, 'test', 'fixtures', 'run-a.json')
const SHORT = { quick: true, repetitions: 2, duration: 40, warmup: 50, floor: false } as const

/** This process's own private directories and the processes that carry `mark` in their environment. */
const ownTmp = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith(`ipcbench-${process.pid}-`))
function marked(mark: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`IPCBENCH_TEST_MARK=${mark}`)
      } catch {
        return false
      }
    })
    .map(Number)
}

describe('the public API', () => {
  it('run() measures a plan with the CLI option names, reports progress, returns the result and writes it when asked', async () => {
    const events: RunProgress[] = []
    const out = tempFile('api.json')
    const result = await run({
      mechanisms: ['unix-stream', LENGTH_PREFIXED],
      modes: ['nonblocking'],
      endpoints: 'process',
      patterns: ['pingpong'],
      ...SHORT,
      out,
      onProgress: (e) => events.push(e),
    })
    expect(result.context.status).toBe('finished')
    expect(result.cases.map((c) => `${c.id} ${c.state}`)).toEqual([
      'unix-stream/nonblocking/process/pingpong/64B completed',
      'length-prefixed/nonblocking/process/pingpong/64B completed',
    ])
    expect(result.context.options.repetitions).toBe(2)
    expect(result.context.options.mechanismModules?.map((m) => m.path)).toEqual([LENGTH_PREFIXED])
    expect(events.filter((e) => e.type !== 'note').map((e) => e.type)).toEqual(['start', 'case-start', 'case-end', 'case-start', 'case-end'])
    expect(loadResult(out)).toEqual(JSON.parse(JSON.stringify(result)))
    expect(ownTmp()).toEqual([])
  })

  it('run() without out keeps no file; an abort stops the run, kills its processes and resolves with what finished', async () => {
    const mark = randomUUID()
    process.env.IPCBENCH_TEST_MARK = mark
    const controller = new AbortController()
    let result: RunResult
    try {
      result = await run({
        mechanisms: ['unix-stream', 'tcp'],
        modes: 'nonblocking',
        endpoints: 'process',
        patterns: 'pingpong',
        ...SHORT,
        duration: '5s',
        timeout: '60s',
        signal: controller.signal,
        // Abort while the first case's first repetition is measuring.
        onProgress: (e) => void (e.type === 'case-start' && setTimeout(() => controller.abort(), 1500)),
      })
    } finally {
      delete process.env.IPCBENCH_TEST_MARK
    }
    expect(result.context.status).toBe('interrupted')
    expect(result.cases.map((c) => c.state)).toEqual(['aborted'])
    // Killed with SIGKILL as the run resolved; the kernel may take a moment to end them.
    await waitFor("the aborted run's processes to end", () => (marked(mark).length === 0 ? true : undefined), 5000).catch(() => undefined)
    expect(marked(mark)).toEqual([])
    expect(ownTmp()).toEqual([])
  })

  it('rejects bad options and bad modules with the messages of the command line, before measuring', async () => {
    await expect(run({ sizes: '0' })).rejects.toThrow('--sizes: "0" is not a positive size (use e.g. 64,1k,64k,1m)')
    await expect(run({ mechanisms: ['unix-strem'] })).rejects.toThrow('unknown mechanism "unix-strem" (did you mean "unix-stream"?)')
    const bad = join(ROOT, 'test', 'fixtures', 'custom-mechanisms', 'wrong-shape.js')
    const err = await run({ mechanisms: [bad] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MechanismDefinitionError)
    expect(err).toBeInstanceOf(UsageError)
    expect((err as MechanismDefinitionError).rule).toBe('openB: must be a function, not missing')
    expect(() => defineMechanism({ id: 'Bad Id', modes: ['blocking'], endpoints: ['process'], patterns: ['pingpong'] } as never)).toThrow(
      'custom mechanism defineMechanism(): id: "Bad Id" is not an id',
    )
    expect(ownTmp()).toEqual([])
  })

  it('loads and checks result files, compares two runs and renders every report format', async () => {
    const a = loadResult(FIXTURE)
    expect(a.cases.length).toBeGreaterThan(0)
    expect(() => parseResult('{"schema":"other"}', 'x.json')).toThrow('x.json: not an ipcbench result')
    expect(() => loadResult(join(ROOT, 'package.json'))).toThrow(UsageError)
    const cmp = compare(a, FIXTURE, { threshold: '10%' })
    expect(cmp.cases.length).toBeGreaterThan(0)
    expect(cmp.cases.every((c) => c.verdict === 'unchanged')).toBe(true)
    expect(renderComparison(cmp, 'markdown')).toContain('|')
    const id = a.cases.find((c) => c.state === 'completed')!.mechanism
    expect(renderTable(a)).toContain(id)
    expect(renderMarkdown(a)).toContain('| ')
    expect(await renderHtml(a)).toMatch(/^<!doctype html>/)
    const charts = await renderSvgCharts([a])
    expect(charts.some((c) => c.svg?.startsWith('<svg'))).toBe(true)
  })
})

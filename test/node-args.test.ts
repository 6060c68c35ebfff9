import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../src/core/errors.js'
import { parseNodeArgs } from '../src/harness/plan/options.js'
import { compare } from '../src/report/compare/compare.js'
import type { RunResult } from '../src/core/result.js'
import { quickRun, ROOT, runCli, tempFile } from './helpers.js'
import { join } from 'node:path'

/**
 * `--node-args`: the flags reach every Node process of a case, the case process and its
 * child peer, and are recorded; flags Node does not take are refused before anything runs.
 */
describe('--node-args', () => {
  it('gives its flags to the case process and to its child peer, and records them', () => {
    // A preloaded module that notes, for each process it starts in, its pid, its flags and its script.
    const log = tempFile('processes.log')
    const probe = tempFile('probe.cjs')
    writeFileSync(
      probe,
      `require('node:fs').appendFileSync(process.env.IPCBENCH_TEST_PROBE_LOG, JSON.stringify({ pid: process.pid, execArgv: process.execArgv, argv: process.argv.slice(1) }) + '\\n')\n`,
    )
    const flags = `--require=${probe} --max-old-space-size=321`
    const { cli, run } = quickRun(['pipe', '--patterns', 'pingpong', '--endpoints', 'process', '--node-args', flags], {
      IPCBENCH_TEST_PROBE_LOG: log,
    })
    expect(cli.code, cli.stderr).toBe(0)
    expect(run.context.options.nodeArgs).toEqual([`--require=${probe}`, '--max-old-space-size=321'])
    expect(run.cases.filter((c) => c.state === 'completed').length).toBeGreaterThan(0)
    const seen = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { pid: number; execArgv: string[]; argv: string[] })
    // Side a's case process and side b's peer, each with both flags (the orchestrator was started without them;
    // the check of the flags before the run is a \`node <flags> -e 0\` of its own).
    const cases = seen.filter((p) => !p.execArgv.includes('-e'))
    const sideB = cases.filter((p) => p.argv.includes('--side') && p.argv.includes('b'))
    const sideA = cases.filter((p) => !p.argv.includes('--side'))
    expect(seen.length - cases.length).toBe(1)
    expect(sideA.length).toBeGreaterThan(0)
    expect(sideB.length).toBeGreaterThan(0)
    for (const p of [...sideA, ...sideB]) expect(p.execArgv).toEqual([`--require=${probe}`, '--max-old-space-size=321'])
  })

  it('refuses what is not a flag, or a flag Node does not know, naming the option', () => {
    expect(() => parseNodeArgs('max-opt=1')).toThrow(UsageError)
    expect(() => parseNodeArgs('  ')).toThrow(/--node-args: no flag given/)
    expect(() => parseNodeArgs('--no-such-node-flag')).toThrow(/--node-args: Node does not start with --no-such-node-flag: .*bad option/)
    expect(parseNodeArgs(' --max-opt=1  --stack-size=900 ')).toEqual(['--max-opt=1', '--stack-size=900'])
    const r = runCli(['run', 'pipe', '--quick', '--node-args', '--no-such-node-flag'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--node-args: Node does not start/)
  })

  it('compare refuses two runs whose Node ran with different flags, unless --force', () => {
    const base = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/run-a.json'), 'utf8')) as RunResult
    const current = structuredClone(base)
    current.context.options.nodeArgs = ['--max-opt=1']
    expect(() => compare(base, current)).toThrow(/Node flags \(--node-args\): "none" vs "--max-opt=1"/)
    expect(compare(base, current, { force: true }).warnings.join('\n')).toMatch(/Node flags/)
  })
})

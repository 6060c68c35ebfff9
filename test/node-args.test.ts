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

  it('starts the case processes of built-in mechanisms without NODE_EXTRA_CA_CERTS, says so in the result, and gives custom mechanisms the whole environment', () => {
    // The same probe, noting what each case process and peer sees of the variable.
    const log = tempFile('processes.log')
    const probe = tempFile('probe.cjs')
    writeFileSync(
      probe,
      `require('node:fs').appendFileSync(process.env.IPCBENCH_TEST_PROBE_LOG, JSON.stringify({ argv: process.argv.slice(1), ca: process.env.NODE_EXTRA_CA_CERTS ?? null }) + '\\n')\n`,
    )
    const ca = tempFile('extra-ca.pem')
    writeFileSync(ca, '')
    const custom = join(ROOT, 'examples/length-prefixed-unix-socket/length-prefixed.js')
    const { cli, run } = quickRun(
      ['pipe', '--mechanism', custom, '--patterns', 'pingpong', '--endpoints', 'process', '--node-args', `--require=${probe}`],
      { IPCBENCH_TEST_PROBE_LOG: log, NODE_EXTRA_CA_CERTS: ca },
    )
    expect(cli.code, cli.stderr).toBe(0)
    expect(run.context.env.node.caseEnvUnset).toEqual(['NODE_EXTRA_CA_CERTS'])
    const completed = run.cases.filter((c) => c.state === 'completed').map((c) => c.mechanism)
    expect(new Set(completed)).toEqual(new Set(['pipe', 'length-prefixed']))
    const seen = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { argv: string[]; ca: string | null })
      .filter((p) => !p.argv.includes('-e'))
    // A case process is told its case over IPC, after the probe: tell the two kinds by what they saw.
    const without = seen.filter((p) => p.ca === null)
    const whole = seen.filter((p) => p.ca === ca)
    expect(without.length + whole.length).toBe(seen.length)
    // Pipe's side a and side b in every repetition; length-prefixed's as many.
    expect(without.length).toBeGreaterThanOrEqual(2 * run.cases.filter((c) => c.mechanism === 'pipe').length)
    expect(whole.length).toBeGreaterThanOrEqual(2 * run.cases.filter((c) => c.mechanism === 'length-prefixed').length)
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

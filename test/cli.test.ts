import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repetitionsNeeded } from '../src/core/inference.js'
import type { RunResult } from '../src/core/result.js'
import { formatBytesApprox, formatSizeBytes } from '../src/core/units.js'
import { ROOT, runCli, tempFile } from './helpers.js'

/** One quick blocking fifo ping-pong between processes, without the C floor: the cheapest real run. */
const FIFO_PINGPONG = ['run', 'fifo', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--quick', '--no-floor']

const badInputs = { tried: 0, clear: 0 }
afterAll(() => console.log(`bad inputs: ${badInputs.tried} tried, ${badInputs.clear} clear errors (exit 2, the input named, no stack)`))

const BAD_ARGS: Array<[string[], string]> = [
  [['run', '--sizes', '0'], '--sizes: "0" is not a positive size'],
  [['run', '--sizes', '1q'], '--sizes: "1q" is not a size'],
  [['run', '--repetitions', '-1'], '--repetitions: -1 is outside 1..1000'],
  [['run', '--duration', 'forever'], '--duration: "forever" is not a duration'],
  [['run', 'fifoo'], 'unknown mechanism "fifoo" (did you mean "fifo"?)'],
  [['run', '--pin', 'everywhere'], '--pin: "everywhere" is not one of auto, none, same, split'],
  [['frobnicate'], "unknown command 'frobnicate'"],
  [['run', '--no-such-option'], "unknown option '--no-such-option'"],
  [['report', '/nonexistent/run.json'], '/nonexistent/run.json: no such file'],
  [['compare', '/nonexistent/a.json', '/nonexistent/b.json'], '/nonexistent/a.json: no such file'],
  [['report', 'package.json'], 'package.json: not an ipcbench result'],
  [['compare', '--threshold', 'abc', 'a.json', 'b.json'], '--threshold: "abc" is not a percentage'],
]

const BAD_FILES: Array<[string, (p: string) => void, RegExp]> = [
  [
    'truncated',
    (p: string) => writeFileSync(p, readFileSync(join(ROOT, 'test', 'fixtures', 'run-a.json'), 'utf8').slice(0, 5000)),
    /not valid JSON .*interrupted while writing/,
  ],
  ['of another schema', (p: string) => writeFileSync(p, JSON.stringify({ name: 'x', version: '1.0.0' })), /not an ipcbench result/],
  [
    'of a future schema version',
    (p: string) => writeFileSync(p, JSON.stringify({ schema: 'ipcbench/run@9', context: {}, cases: [] })),
    /newer than this ipcbench understands.*upgrade/,
  ],
  ['empty', (p: string) => writeFileSync(p, ''), /the file is empty/],
]
/** Each bad file is tried with `report` and with `compare`. */
const BAD_FILE_COMMANDS = 2

describe('the command line as a user runs it', () => {
  it.each(BAD_ARGS)('%j exits 2 with a clear error and no stack', (args, text) => {
    badInputs.tried++
    const r = runCli(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Error:')
    expect(r.stderr).toContain(text)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stdout).toBe('')
    badInputs.clear++
  })

  it.each(BAD_FILES)('report and compare on a %s file: exit 2 naming the file and the problem', (_what, make, problem) => {
    const bad = tempFile('bad.json')
    make(bad)
    const commands = [
      ['report', bad],
      ['compare', bad, join(ROOT, 'test', 'fixtures', 'run-a.json')],
    ]
    expect(commands).toHaveLength(BAD_FILE_COMMANDS)
    for (const args of commands) {
      badInputs.tried++
      const r = runCli(args)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(bad)
      expect(r.stderr).toMatch(problem)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      badInputs.clear++
    }
  })

  // Runs after the bad-input tests above (tests of a file run in order): each of them ran to its end.
  it('every bad input was tried and each gave a clear error', () => {
    expect(badInputs.tried).toBe(BAD_ARGS.length + BAD_FILE_COMMANDS * BAD_FILES.length)
    expect(badInputs.clear).toBe(badInputs.tried)
  })

  it('an unwritable result place fails before the run', () => {
    const r = runCli(['run', 'fifo', '--quick', '--out', '/proc/ipcbench/run.json'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--out: cannot write results to \/proc\/ipcbench/)
  })

  it('list --json describes every mechanism', () => {
    const r = runCli(['list', '--json'])
    expect(r.code).toBe(0)
    const list = JSON.parse(r.stdout) as Array<{ id: string; modes: string[]; available: boolean; combinations: string[] }>
    const fifo = list.find((m) => m.id === 'fifo')!
    expect(fifo.modes).toEqual(['blocking', 'nonblocking'])
    expect(fifo.combinations).toContain('blocking/process/pingpong')
    expect(list.find((m) => m.id === 'signal')!.combinations).toEqual(['nonblocking/process/pingpong'])
  })

  it('list prints each size limit for people, with the limit it comes from', () => {
    const r = runCli(['list'])
    expect(r.code).toBe(0)
    const max = Number(readFileSync('/proc/sys/fs/mqueue/msgsize_max', 'utf8').trim())
    expect(r.stdout).toContain(`${formatBytesApprox(max)} (/proc/sys/fs/mqueue/msgsize_max (${max}))`)
    expect(r.stdout).not.toContain(`${formatSizeBytes(max)} (`)
  })

  it("warns of too few repetitions by compare's rule: below 4 at alpha 0.05, not below 5", () => {
    const warned = (repetitions: number) => {
      const out = tempFile('r.json')
      const r = runCli([...FIFO_PINGPONG, '--duration', '20ms'].concat(['--repetitions', String(repetitions), '--out', out]))
      expect(r.code, r.stderr).toBe(0)
      return (JSON.parse(readFileSync(out, 'utf8')) as RunResult).context.warnings.filter((w) => w.code === 'few-repetitions')
    }
    expect(repetitionsNeeded(0.05)).toBe(4)
    expect(warned(3)).toEqual([
      {
        code: 'few-repetitions',
        message: '3 repetitions per case: too few for "ipcbench compare" to call a change significant at alpha 0.05 (use --repetitions 4 or more)',
      },
    ])
    expect(warned(4)).toEqual([])
  })

  it('env --json has the fingerprint', () => {
    const env = JSON.parse(runCli(['env', '--json']).stdout)
    expect(env.node.version).toBe(process.version)
    expect(env.host.cpuCount).toBeGreaterThan(0)
    expect(env.limits.mqueue).toHaveProperty('msgsizeMax')
  })

  it('run --json prints only the result, which is also in the file', () => {
    const out = tempFile('r.json')
    const r = runCli([...FIFO_PINGPONG, '--repetitions', '2', '--duration', '30ms', '--json', '--out', out])
    expect(r.code).toBe(0)
    const run = JSON.parse(r.stdout)
    expect(run.schema).toBe('ipcbench/run@3')
    expect(run.cases[0].id).toBe('fifo/blocking/process/pingpong/64B')
    expect(run.cases[0].repetitions).toHaveLength(2)
    expect(run.cases[0].spread.metric).toBe('latencyNs.p50')
    expect(JSON.parse(readFileSync(out, 'utf8')).cases[0].id).toBe(run.cases[0].id)
    expect(run.context.options.repetitions).toBe(2)
  })

  it('--help and --version succeed', () => {
    expect(runCli(['--help']).code).toBe(0)
    expect(runCli(['--version']).stdout).toMatch(/^\d+\.\d+\.\d+/)
  })
})

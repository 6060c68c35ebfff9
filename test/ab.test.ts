import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RunResult } from '../src/core/result.js'
import type { Comparison } from '../src/report/compare/compare.js'
import { CASE_PROTOCOL } from '../src/harness/case/protocol.js'
import { bmfProblems, gabProblems } from './export-formats.js'
import { BIN, ROOT, runCli, tempFile } from './helpers.js'

/**
 * `ipcbench ab` as a user runs it: the compiled CLI in a fresh process, on one cheap real
 * case (pipe ping-pong between two processes), base and current interleaved.
 */

const CASE = 'pipe/blocking/process/pingpong/64B'
// One case, 4 repetitions a side: the fewest at which the test can reach alpha 0.05.
const ONE_CASE = [
  'pipe',
  '--modes',
  'blocking',
  '--patterns',
  'pingpong',
  '--sizes',
  '64',
  '--endpoints',
  'process',
  '--duration',
  '40ms',
  '--warmup',
  '50',
]
const FOUR = ['--repetitions', '4']

const read = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T

/** An executable that is not Node. */
function notNode(): string {
  const path = tempFile('not-node')
  writeFileSync(path, '#!/bin/sh\nexit 0\n')
  chmodSync(path, 0o755)
  return path
}

/** A directory that looks like a built checkout whose protocol module says `body`. */
function fakeRoot(body: string): string {
  const root = dirname(tempFile('x'))
  mkdirSync(join(root, 'dist/harness/case'), { recursive: true })
  writeFileSync(join(root, 'dist/harness/case/main.js'), '')
  writeFileSync(join(root, 'dist/harness/case/protocol.js'), body)
  return root
}

describe('ab: every option checked before anything is measured (exit 2, naming the option)', () => {
  const notExecutable = tempFile('plain')
  writeFileSync(notExecutable, '')
  it.each([
    [['--current-env', 'FOO'], '--current-env: "FOO" is not K=V with K a variable name (use e.g. --current-env UV_THREADPOOL_SIZE=8)'],
    [['--base-env', '1A=x'], '--base-env: "1A=x" is not K=V with K a variable name'],
    [['--current-node', '/nonexistent/node'], '--current-node: /nonexistent/node does not exist; give the path to a Node binary'],
    [['--base-node', notExecutable], `--base-node: ${notExecutable} is not executable`],
    [['--current-node', ROOT], `--current-node: ${ROOT} is a directory`],
    [['--current-node', notNode()], 'did not run as Node (it printed no version); give the path to a Node binary'],
    [[], 'ab: base and current are the same configuration (Node binary, environment and case root); give them a difference with'],
    [
      ['--aa', '--current-env', 'A=1'],
      '--aa: base and current must be the same configuration for an A/A run, but they differ in environment ("" vs "A=1")',
    ],
    [['--current-root', '/'], '--current-root: / has no dist/harness/case/main.js; give a built ipcbench checkout'],
    [
      ['--current-root', fakeRoot(`export const CASE_PROTOCOL = ${CASE_PROTOCOL + 1}`)],
      `cannot run this ipcbench's cases: it speaks case protocol ${CASE_PROTOCOL + 1}, this ipcbench speaks ${CASE_PROTOCOL}; compare two separate runs instead`,
    ],
    [['--base-root', fakeRoot('export const OTHER = 1')], 'it predates versioned case protocols'],
    [['--aa', '--subtract-overhead'], '--subtract-overhead: not for ab'],
    [['--aa', '--out-base', '/tmp/same.json', '--out-current', '/tmp/same.json'], '--out-base and --out-current: both name /tmp/same.json'],
    [['--aa', '--threshold', '0%'], '--threshold: 0% is outside (0%, 100%)'],
  ])('%j', (extra, text) => {
    const r = runCli(['ab', ...ONE_CASE, ...extra])
    expect(r.stderr).toContain(text)
    expect(r.code).toBe(2)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('ab end to end on a real case', () => {
  it('A/A: both result files written, each with its configuration; the comparison as table, markdown, JSON and exports', () => {
    const [base, current, md, json, bmf, gab] = ['b.json', 'c.json', 's.md', 'cmp.json', 'bmf.json', 'gab.json'].map(tempFile)
    // The base's peers from this checkout named explicitly as a case root: the same build, so still an A/A.
    const r = runCli([
      'ab',
      ...ONE_CASE,
      ...FOUR,
      '--aa',
      '--base-root',
      ROOT,
      '--out-base',
      base,
      '--out-current',
      current,
      '--markdown',
      md,
      '--json',
      json,
      '--export',
      `bmf=${bmf}`,
      '--export',
      `gab-latency=${gab}`,
    ])
    expect(r.stderr).toContain(`base     node ${process.version} (${process.execPath}); case root ${ROOT}`)
    expect(r.code).toBe(0)
    const b = read<RunResult>(base)
    const c = read<RunResult>(current)
    for (const [run, label] of [
      [b, 'base'],
      [c, 'current'],
    ] as const) {
      expect(run.schema).toBe('ipcbench/run@3')
      expect(run.context.status).toBe('finished')
      expect(run.context.configuration).toMatchObject({ label, round: 1, env: {}, node: { version: process.version } })
      expect(run.context.env.node.version).toBe(process.version)
      expect(run.cases.map((x) => [x.id, x.state, x.repetitions.length])).toEqual([[CASE, 'completed', 4]])
    }
    expect(b.context.configuration!.session).toBe(c.context.configuration!.session)
    expect(b.context.runId).toBe(`${b.context.configuration!.session}-base`)
    expect(b.context.configuration!.root).toMatchObject({ path: ROOT })
    expect(c.context.configuration!.root).toBeUndefined()
    // The C floor ran beside both, the same repetitions for each.
    const floorOf = (run: RunResult) => (run.cases[0].state === 'completed' ? run.cases[0].floor : undefined)
    if (floorOf(b)?.state === 'completed') expect(floorOf(b)).toEqual(floorOf(c))

    const cmp = read<Comparison & { schema: string }>(json)
    expect(cmp.schema).toBe('ipcbench/compare@1')
    expect(cmp.cases.map((x) => x.id)).toEqual([CASE])
    expect(cmp.confirmation).toBeDefined()
    if (cmp.cases[0].verdict === 'unchanged') expect(cmp.cases[0].mdePct).toBeGreaterThan(10)
    expect(readFileSync(md, 'utf8')).toMatch(/^### ipcbench ab: \d regressed, \d improved, \d unchanged \(Holm, family alpha 0\.05 over 1 case\)/)
    expect(r.stdout).toMatch(/│ MDE\s+│/)
    expect(r.stdout).toContain(`Results: ${base}, ${current}`)
    expect(bmfProblems(read(bmf))).toEqual([])
    expect(gabProblems(read(gab))).toEqual([])
  })

  it('a peer slowed in the current configuration only is a regression in both rounds: exit 1 with --fail-on-regression', () => {
    const [base, current, json] = ['b.json', 'c.json', 'cmp.json'].map(tempFile)
    // Both ends on one CPU (a round trip of 5–10 µs) and 100 µs more per round trip: +1000% or so. Across CPUs
    // this host's wake-ups jump between about 75 and 300 µs a round trip from one repetition to the next, and one
    // slow base repetition among four breaks the perfect separation the exact test needs at alpha 0.05.
    const r = runCli(
      [
        'ab',
        ...ONE_CASE,
        ...FOUR,
        '--pin',
        'same',
        '--current-env',
        `IPCBENCH_TEST_FAULT=delay:100000@${CASE}`,
        '--out-base',
        base,
        '--out-current',
        current,
        '--json',
        json,
        '--fail-on-regression',
      ],
      { IPCBENCH_TEST_FAULTS: '1' },
    )
    expect(r.stderr).toContain(`1 case(s) regressed (--fail-on-regression): ${CASE}`)
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('Round 2 (confirmation): the 1 case(s) flagged in round 1')
    expect(r.stdout).toContain(
      '1 regressed, 0 improved, 0 unchanged (Holm, family alpha 0.05 over 1 case); 1 flagged in round 1, 1 confirmed in round 2',
    )
    const p50 = (path: string): number => {
      const x = read<RunResult>(path).cases[0]
      return x.state === 'completed' ? x.latencyNs!.p50 : NaN
    }
    // The fault reached the current configuration's peers only, in both rounds.
    for (const [b, c] of [
      [base, current],
      [base.replace(/\.json$/, '-confirm.json'), current.replace(/\.json$/, '-confirm.json')],
    ]) {
      expect(p50(c) / p50(b)).toBeGreaterThan(1.4)
      expect(read<RunResult>(c).context.configuration).toMatchObject({ env: { IPCBENCH_TEST_FAULT: `delay:100000@${CASE}` } })
    }
    expect(read<RunResult>(current.replace(/\.json$/, '-confirm.json')).context.configuration!.round).toBe(2)
    const cmp = read<Comparison>(json)
    expect(cmp.cases[0]).toMatchObject({ id: CASE, verdict: 'regressed', confirm: { verdict: 'regressed' } })
    expect(cmp.confirmation).toMatchObject({ ids: [CASE], confirmed: [CASE] })
    expect(cmp.confirmation!.round2!.cases.map((x) => x.id)).toEqual([CASE])
  })

  it('Ctrl-C: the finished case kept in both files, the running one aborted, no verdict, exit 130', async () => {
    const [base, current] = ['b.json', 'c.json'].map(tempFile)
    // pipe finishes; fifo then hangs in the current configuration's peer until the interrupt.
    const args = ['ab', 'pipe', 'fifo', ...ONE_CASE.slice(1), '--repetitions', '1', '--no-floor', '--out-base', base, '--out-current', current]
    const child = spawn(process.execPath, [BIN, ...args, '--current-env', 'IPCBENCH_TEST_FAULT=hang:150@fifo/*'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', IPCBENCH_TEST_FAULTS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const until = Date.now() + 20_000
    while (!(existsSync(current) && read<RunResult>(current).cases.length === 1)) {
      if (Date.now() > until) throw new Error(`the first case did not finish: ${stderr}`)
      await new Promise((r) => setTimeout(r, 25))
    }
    await new Promise((r) => setTimeout(r, 300))
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    for (const path of [base, current]) {
      const run = read<RunResult>(path)
      expect(run.context.status).toBe('interrupted')
      expect(run.cases.map((x) => x.state)).toEqual(['completed', 'aborted'])
    }
    expect(stderr).toContain(`Interrupted by SIGINT; no verdict; the result files keep 1 finished case(s): ${base}, ${current}`)
  })
})

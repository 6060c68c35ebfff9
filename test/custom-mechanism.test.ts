import { createHash, randomUUID } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { hasLatency, type CaseResult, type RunResult } from '../src/core/result.js'
import { ROOT, runCli, tempFile, why } from './helpers.js'

/**
 * Custom mechanisms from the command line: the examples measured beside the
 * built-ins, `list`, `ab --base-mechanism`, and bad modules, each ending with its
 * clear outcome and nothing left on the host.
 */
const FIXTURES = join(ROOT, 'test', 'fixtures', 'custom-mechanisms')
const LENGTH_PREFIXED = join(ROOT, 'examples', 'length-prefixed-unix-socket', 'length-prefixed.js')
const ZEROMQ = join(ROOT, 'examples', 'zeromq', 'zeromq.js')
const zeromqInstalled = existsSync(join(ROOT, 'examples', 'zeromq', 'node_modules', 'zeromq', 'package.json'))
const SHORT = ['--quick', '--repetitions', '2', '--duration', '40ms', '--warmup', '50']

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')
const readRun = (path: string): RunResult => JSON.parse(readFileSync(path, 'utf8')) as RunResult
const byMechanism = (run: RunResult, id: string): CaseResult[] => run.cases.filter((c) => c.mechanism === id)

const scratch: string[] = []
afterAll(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A private TMPDIR and a marker every process of the run inherits, to tell what the run left on the host. */
function isolated(): { env: Record<string, string>; leftovers(): string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'ipcbench-custom-test-'))
  scratch.push(dir)
  const mark = `IPCBENCH_TEST_MARK=${randomUUID()}`
  const processes = (): string[] =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(mark)
        } catch {
          return false
        }
      })
      .map((p) => `process ${p}`)
  return {
    env: { TMPDIR: dir, IPCBENCH_TEST_MARK: mark.split('=')[1] },
    leftovers: () => {
      // A killed group's processes can take a moment to be reaped.
      for (let i = 0; i < 50 && processes().length > 0; i++) spawnSync('sleep', ['0.1'])
      return [...processes(), ...readdirSync(dir).map((f) => `file ${join(dir, f)}`)]
    },
  }
}

describe('custom mechanisms', () => {
  it('the length-prefixed example runs beside unix-stream, against its C floor, and the result records its module', () => {
    const out = tempFile('lp.json')
    const cli = runCli(['run', 'unix-stream', '--mechanism', LENGTH_PREFIXED, '--modes', 'nonblocking', ...SHORT, '--out', out])
    expect(cli.stderr).not.toMatch(/Error/)
    expect(cli.code).toBe(0)
    const run = readRun(out)
    expect(run.context.options.mechanisms).toEqual(['unix-stream', 'length-prefixed'])
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string }
    expect(run.context.options.mechanismModules).toEqual([
      { id: 'length-prefixed', path: LENGTH_PREFIXED, sha256: sha256(LENGTH_PREFIXED), packageName: pkg.name, packageVersion: pkg.version },
    ])
    const cases = byMechanism(run, 'length-prefixed')
    expect(cases.map((c) => `${c.id} ${c.state} ${why(c)}`.trim())).toEqual([
      'length-prefixed/nonblocking/process/pingpong/64B completed',
      'length-prefixed/nonblocking/process/stream/64KiB completed',
    ])
    const pingpong = cases[0]
    if (!hasLatency(pingpong)) throw new Error('no latency figures')
    expect(pingpong.latencyNs.p50).toBeGreaterThan(0)
    expect(pingpong.cpu!.total!.userUsPerMsg + pingpong.cpu!.total!.sysUsPerMsg).toBeGreaterThan(0)
    expect(pingpong.describe.framing).toBe('4-byte big-endian length, then the message')
    if (run.context.env.native.floor.available) {
      expect(pingpong.floor?.state).toBe('completed')
      expect(pingpong.ratioToFloor?.p50).toBeGreaterThan(0)
    } else console.log(`C floor not in this run (${run.context.env.native.floor.reason}): the ×C check is skipped`)
    const report = runCli(['report', out])
    expect(report.code).toBe(0)
    expect(report.stdout).toContain('length-prefixed')
    expect(report.stdout).toContain('unix-stream')
  })

  it('list --mechanism shows a custom mechanism with its module beside the built-ins', () => {
    const cli = runCli(['list', '--json', '--mechanism', LENGTH_PREFIXED])
    expect(cli.code).toBe(0)
    const listing = JSON.parse(cli.stdout) as Array<{ id: string; module?: string; combinations: string[] }>
    expect(listing.find((l) => l.id === 'unix-stream')?.module).toBeUndefined()
    expect(listing.at(-1)).toMatchObject({
      id: 'length-prefixed',
      module: LENGTH_PREFIXED,
      combinations: ['nonblocking/process/pingpong', 'nonblocking/process/stream', 'nonblocking/thread/pingpong', 'nonblocking/thread/stream'],
    })
  })

  it.skipIf(!zeromqInstalled)(
    `the zeromq example completes with payload checks and CPU figures${zeromqInstalled ? '' : ' (skipped: zeromq is not installed; run "npm run example:zeromq")'}`,
    () => {
      const out = tempFile('zmq.json')
      const cli = runCli(['run', '--mechanism', ZEROMQ, ...SHORT, '--out', out])
      expect(cli.code).toBe(0)
      const [c] = readRun(out).cases
      if (!hasLatency(c)) throw new Error(`not completed: ${why(c)}`)
      expect(c.id).toBe('zeromq-pair/nonblocking/process/pingpong/64B')
      expect(c.cpu!.total!.userUsPerMsg).toBeGreaterThan(0)
    },
  )
  if (!zeromqInstalled) console.log('zeromq example test skipped: zeromq is not installed (run "npm run example:zeromq")')

  it('ab --base-mechanism measures two versions of one module, each result recording its own', () => {
    // The base version: the same example as another file, importing ipcbench by its built path.
    const dir = mkdtempSync(join(tmpdir(), 'ipcbench-custom-test-'))
    scratch.push(dir)
    const basePath = join(dir, 'length-prefixed-v1.js')
    const dist = pathToFileURL(join(ROOT, 'dist', 'index.js')).href
    writeFileSync(basePath, readFileSync(LENGTH_PREFIXED, 'utf8').replace("from 'ipcbench'", `from '${dist}'`))
    const [outBase, outCurrent] = [tempFile('base.json'), tempFile('current.json')]
    const common = ['--patterns', 'pingpong', '--no-floor', '--no-confirm', ...SHORT, '--out-base', outBase, '--out-current', outCurrent]
    const cli = runCli(['ab', '--mechanism', LENGTH_PREFIXED, '--base-mechanism', basePath, ...common])
    expect(cli.stderr).not.toMatch(/Error/)
    expect(cli.code).toBe(0)
    expect(readRun(outBase).context.options.mechanismModules?.[0].path).toBe(basePath)
    expect(readRun(outCurrent).context.options.mechanismModules?.[0].path).toBe(LENGTH_PREFIXED)
    const same = runCli(['ab', '--mechanism', LENGTH_PREFIXED, '--base-mechanism', LENGTH_PREFIXED, ...common])
    expect(same.code).toBe(2)
    expect(same.stderr).toContain('base and current are the same configuration')
  })

  it('bad modules each end with a clear outcome and leave nothing on the host', () => {
    const fixture = (name: string): string => join('test', 'fixtures', 'custom-mechanisms', `${name}.js`)
    // Definition errors: exit 2 before anything is measured, naming the module and the rule.
    const definitionErrors: Array<[string, string]> = [
      ['no-default', 'has no default export (it exports mechanism)'],
      ['wrong-shape', 'openB: must be a function, not missing'],
      ['throws-on-import', "failed to load (cannot read my transport's config)"],
      ['impossible-matrix', 'maxMessageBytes: 2 is below the 4-byte message every case needs'],
      ['built-in-id', 'id "unix-stream" is a built-in mechanism\'s'],
      ['floorless-floor', 'floor: "signal" has no C floor'],
      ['no-such-module', 'no such file'],
    ]
    let outcomes = 0
    for (const [name, rule] of definitionErrors) {
      const host = isolated()
      const cli = runCli(['run', '--mechanism', fixture(name), ...SHORT, '--out', tempFile(`${name}.json`)], host.env)
      expect(cli.code, name).toBe(2)
      expect(cli.stderr).toContain(`Error: custom mechanism ${fixture(name)}: ${rule}`)
      expect(host.leftovers(), name).toEqual([])
      outcomes++
    }

    // Runtime failures: the case errored with the reason, the run goes on, the leak is cleaned and said.
    const runtime: Record<string, (c: CaseResult) => void> = {
      'test-throwing-setup': (c) =>
        expect([c.state, why(c)]).toEqual(['errored', 'side a: test-throwing-setup: setup() threw: no route to my broker']),
      'test-garbage-echo': (c) => expect([c.state, c.state === 'errored' && c.error.code]).toEqual(['errored', 'EINTEGRITY']),
      'test-never-answers': (c) => expect([c.state, c.state === 'errored' && c.error.code]).toEqual(['errored', 'ETIMEDOUT']),
      'test-leaks-socket': (c) => {
        expect(c.state).toBe('completed')
        expect(c.warnings.filter((w) => w.code === 'left-behind')).toHaveLength(2)
      },
      'test-wrong-kind': (c) =>
        expect([c.state, c.state === 'errored' && c.error.code, why(c)]).toEqual([
          'errored',
          'EENDPOINT',
          'side a: test-wrong-kind: openA() returned an endpoint of kind "async" in blocking mode; blocking and busy-poll need a SyncEndpoint (kind "sync")',
        ]),
      'test-throwing-open-b': (c) =>
        expect([c.state, why(c)]).toEqual(['errored', 'peer (side b): test-throwing-open-b: openB() threw: peer refused']),
    }
    const host = isolated()
    const out = tempFile('runtime.json')
    const modules = ['good', 'throwing-setup', 'garbage-echo', 'never-answers', 'leaks-socket', 'wrong-kind', 'throwing-open-b']
    const cli = runCli(
      [
        'run',
        ...modules.flatMap((m) => ['--mechanism', join(FIXTURES, `${m}.js`)]),
        ...SHORT,
        '--endpoints',
        'process',
        '--no-floor',
        '--timeout',
        '3s',
        '--out',
        out,
      ],
      host.env,
    )
    expect(cli.code).toBe(1)
    const run = readRun(out)
    expect(byMechanism(run, 'test-good').map((c) => c.state)).toEqual(['completed'])
    for (const [id, check] of Object.entries(runtime)) {
      const cases = byMechanism(run, id)
      expect(cases, id).toHaveLength(1)
      check(cases[0])
      outcomes++
    }
    expect(host.leftovers()).toEqual([])
    console.log(
      `${outcomes} bad custom modules: ${definitionErrors.length} definition errors (exit 2), ${Object.keys(runtime).length} runtime failures (errored, or cleaned up and warned); nothing left on the host`,
    )
    expect(outcomes).toBe(13)
  })
})

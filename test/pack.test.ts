import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../src/core/result.js'
import { ROOT, why } from './helpers.js'

/**
 * The package as a user gets it: `npm pack` (dist/ is already built by `pretest`, so
 * the pack skips `prepare`), the tarball installed in a scratch project (its install
 * script builds the native helper there), then imported in ESM, required in CommonJS,
 * type-checked, and a script that runs a 3-case plan and writes a result file.
 */
const scratch = mkdtempSync(join(tmpdir(), 'ipcbench-pack-test-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const project = join(scratch, 'project')

function sh(cmd: string, args: string[], cwd: string, timeoutMs = 300_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1' } })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`)
  return r
}

const write = (name: string, text: string): void => writeFileSync(join(project, name), text)

describe('the packed package', () => {
  let files: string[] = []
  let tarball = ''

  it('npm pack holds dist/, bin/ and the native sources the install script builds, and nothing else of the repository', () => {
    const r = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], ROOT)
    const [info] = JSON.parse(r.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    tarball = join(scratch, info.filename)
    files = info.files.map((f) => f.path)
    for (const needed of [
      'package.json',
      'README.md',
      'bin/ipcbench.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli.js',
      'dist/harness/case/main.js',
      'native-helpers/build.mjs',
      'native-helpers/binding.gyp',
      'native-helpers/addon/addon.cc',
      'native-helpers/floor/Makefile',
      'native-helpers/floor/ipcfloor.c',
    ])
      expect(files, needed).toContain(needed)
    // Binaries built here are not shipped; the prebuilt ones (native-helpers/prebuilds, made by prepack) are.
    const foreign = files.filter(
      (f) =>
        !f.startsWith('native-helpers/prebuilds/') &&
        /^(src|test|scripts|examples|results|\.ci|\.github)\/|^native-helpers\/build\/|\/ipcfloor$|\.node$/.test(f),
    )
    expect(foreign).toEqual([])
  })

  it('installs from the tarball and works as a user imports it: ESM, CommonJS, types, a 3-case run writing its result', () => {
    sh('mkdir', ['-p', project], scratch)
    write('package.json', JSON.stringify({ name: 'scratch-transport', version: '1.2.3', type: 'module', private: true }, null, 2))
    sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project)

    // A custom mechanism of the scratch project's own, importing ipcbench by its name.
    write(
      'echo-socket.js',
      `import net from 'node:net'
import { join } from 'node:path'
import { defineMechanism } from 'ipcbench'

function framed(socket, size) {
  let onMessage = () => {}
  let onError = () => {}
  let pending = Buffer.alloc(0)
  socket.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    while (pending.length >= size) {
      onMessage(pending.subarray(0, size))
      pending = pending.subarray(size)
    }
  })
  socket.on('error', (e) => onError(e))
  return {
    kind: 'async',
    send: (buf, release) => socket.write(buf, release),
    onMessage: (cb) => (onMessage = cb),
    onDrain: (cb) => socket.on('drain', cb),
    onError: (cb) => (onError = cb),
    close: () => void socket.destroy(),
  }
}

export default defineMechanism({
  id: 'scratch-echo',
  modes: ['nonblocking'],
  endpoints: ['process'],
  patterns: ['pingpong'],
  floor: 'unix-stream',
  async setup(ctx) {
    const path = join(ctx.tmpDir, 'e.sock')
    const server = net.createServer()
    await new Promise((resolve) => server.listen(path, resolve))
    const accepted = new Promise((resolve) => server.once('connection', resolve))
    let socket
    return {
      peer: { info: { path } },
      openA: async () => framed((socket = await accepted), ctx.spec.sizeBytes),
      describe: () => ({ transport: 'scratch' }),
      async teardown() {
        socket?.destroy()
        await new Promise((resolve) => server.close(resolve))
      },
    }
  },
  async openB(ctx) {
    const socket = net.connect(ctx.info.path)
    await new Promise((resolve) => socket.once('connect', resolve))
    return framed(socket, ctx.spec.sizeBytes)
  },
})
`,
    )
    write(
      'run-plan.js',
      `import { run, loadResult, renderTable } from 'ipcbench'
const events = []
const result = await run({
  mechanisms: ['tcp', 'unix-stream', './echo-socket.js'],
  modes: 'nonblocking',
  endpoints: ['process'],
  patterns: ['pingpong'],
  quick: true,
  repetitions: 2,
  duration: 40,
  warmup: 50,
  out: 'result.json',
  onProgress: (e) => events.push(e.type),
})
const again = loadResult('result.json')
process.stdout.write(JSON.stringify({ cases: again.cases.length, events, table: renderTable(result).includes('scratch-echo') }) + '\\n')
`,
    )
    // By its absolute path: the command line then names ipcbench (the scratch folder), so a
    // clean-up by an older ipcbench elsewhere on the host, which recognises its runs by
    // their command lines, leaves this run's private directories alone.
    const ran = sh(process.execPath, [join(project, 'run-plan.js')], project)
    const summary = JSON.parse(ran.stdout.trim().split('\n').pop()!) as { cases: number; events: string[]; table: boolean }
    expect(summary.cases).toBe(3)
    expect(summary.events.filter((e) => e === 'case-end')).toHaveLength(3)
    expect(summary.table).toBe(true)
    const result = JSON.parse(readFileSync(join(project, 'result.json'), 'utf8')) as RunResult
    expect(result.context.status).toBe('finished')
    expect(result.cases.map((c) => `${c.id} ${c.state}${why(c) ? `: ${why(c)}` : ''}`)).toEqual([
      'tcp/nonblocking/process/pingpong/64B completed',
      'unix-stream/nonblocking/process/pingpong/64B completed',
      'scratch-echo/nonblocking/process/pingpong/64B completed',
    ])
    expect(result.context.options.mechanismModules).toEqual([
      expect.objectContaining({
        id: 'scratch-echo',
        path: join(project, 'echo-socket.js'),
        packageName: 'scratch-transport',
        packageVersion: '1.2.3',
      }),
    ])

    // CommonJS: require() of the ESM package (Node 20.19 and later), and nothing but the public entry.
    write(
      'require.cjs',
      `const api = require('ipcbench')
const names = ['run', 'defineMechanism', 'loadResult', 'compare', 'renderTable', 'renderMarkdown', 'renderHtml', 'renderSvgCharts']
const missing = names.filter((n) => typeof api[n] !== 'function')
let internal = 'exported'
try { require('ipcbench/dist/cli.js') } catch (e) { internal = e.code }
process.stdout.write(JSON.stringify({ missing, internal }) + '\\n')
`,
    )
    const cjs = JSON.parse(sh(process.execPath, ['require.cjs'], project).stdout.trim()) as { missing: string[]; internal: string }
    expect(cjs).toEqual({ missing: [], internal: 'ERR_PACKAGE_PATH_NOT_EXPORTED' })

    // Types: the declarations resolve through the exports map, in ESM and in CommonJS.
    write(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['check.ts', 'check.cts'],
      }),
    )
    write(
      'check.ts',
      `import { run, defineMechanism, compare, type RunResult, type MechanismDefinition, type Comparison } from 'ipcbench'
const def: MechanismDefinition = {
  id: 'typed',
  modes: ['nonblocking'],
  endpoints: ['thread'],
  patterns: ['pingpong'],
  setup: async () => ({ peer: { info: {} }, openA: async () => { throw new Error('x') }, describe: () => ({}), teardown: async () => {} }),
  openB: async () => { throw new Error('x') },
}
export const m = defineMechanism(def)
export const later: () => Promise<RunResult> = () => run({ mechanisms: ['pipe'], quick: true, signal: AbortSignal.timeout(1000) })
export const c: (a: RunResult, b: RunResult) => Comparison = (a, b) => compare(a, b, { threshold: 10 })
`,
    )
    write('check.cts', `import ipcbench = require('ipcbench')\nexport const r: typeof ipcbench.run = ipcbench.run\n`)
    sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project)
  })
})

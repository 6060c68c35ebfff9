import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { arch, tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Environment, RunResult } from '../src/core/result.js'
import { BUILT_INS } from '../src/mechanisms/registry.js'
import { nodeLibc } from '../src/native/index.js'
import { ROOT, why } from './helpers.js'

/**
 * The install a user gets where nothing can be compiled and install scripts are refused:
 * the package is packed with prebuilt binaries for this host (prebuild.mjs --host-only,
 * into a copy of the packed package, so the working tree is left as it was), installed
 * with `--ignore-scripts` by an npm whose PATH has no compiler, make or python (every
 * other command stays: ipcbench pins its peers with taskset), and then
 * every native mechanism must be available and the C floor measured beside a Node case.
 */
const BUILD_TOOLS = ['g++', 'make', 'python3']
const NO_BUILD_TOOLS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'make', 'python', 'python3', 'aarch64-linux-gnu-gcc', 'musl-gcc']

function which(tool: string, path = process.env.PATH ?? ''): string | undefined {
  return path
    .split(delimiter)
    .filter((dir) => dir.length > 0)
    .map((dir) => join(dir, tool))
    .find((file) => existsSync(file))
}

const missingTools = BUILD_TOOLS.filter((t) => !which(t))
const skipReason = missingTools.length ? `cannot prebuild here: ${missingTools.join(', ')} not on PATH` : undefined
if (skipReason) console.log(`install test skipped: ${skipReason}`)

const scratch = mkdtempSync(join(tmpdir(), 'ipcbench-install-test-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...env, NO_COLOR: '1' } })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`)
  return r
}

function pack(dir: string, dest: string): { tarball: string; files: string[]; sizeBytes: number } {
  const r = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], dir)
  const [info] = JSON.parse(r.stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>
  return { tarball: join(dest, info.filename), files: info.files.map((f) => f.path), sizeBytes: info.size }
}

/** What would let an install compile: compilers (host and cross), make, python. */
const BUILD_TOOL_NAME = /(^|-)(cc|c\+\+|gcc|g\+\+|clang|clang\+\+|tcc|c89|c99)(-[\d.]+)?$|^(g?make|python[\d.]*|node-gyp)$/

/** This PATH's commands, less every build tool, in one folder (the first of a name wins, as on PATH). */
function toolFreePath(): string {
  const bin = join(scratch, 'bin')
  mkdirSync(bin)
  symlinkSync(process.execPath, join(bin, 'node'))
  const seen = new Set(['node'])
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0)) {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      continue
    }
    for (const name of names) {
      if (seen.has(name) || BUILD_TOOL_NAME.test(name)) continue
      seen.add(name)
      symlinkSync(join(dir, name), join(bin, name))
    }
  }
  return bin
}

describe.skipIf(skipReason !== undefined)('the packed package, installed with --ignore-scripts where nothing compiles', () => {
  const prebuilt = `native-helpers/prebuilds/linux-${arch()}`
  const addonFile = `${prebuilt}/ipcbench_native.napi.${nodeLibc()}.node`
  const project = join(scratch, 'project')
  let tarball = ''
  let path = ''

  it('packs the prebuilt addon and C floor for this host with the rest of the package', () => {
    const unpacked = join(scratch, 'unpacked')
    mkdirSync(unpacked)
    const plain = pack(ROOT, scratch)
    sh('tar', ['xzf', plain.tarball, '-C', unpacked], scratch)
    rmSync(plain.tarball)
    const pkg = join(unpacked, 'package')
    sh(process.execPath, [join(ROOT, 'native-helpers', 'prebuild.mjs'), '--host-only', '--out', join(pkg, 'native-helpers', 'prebuilds')], ROOT)
    const packed = pack(pkg, scratch)
    tarball = packed.tarball
    expect(packed.files).toContain(addonFile)
    expect(packed.files).toContain(`${prebuilt}/ipcfloor`)
    // Only binaries made for the tarball: never the tree's own build from source.
    expect(packed.files.filter((f) => /^native-helpers\/build\/|^native-helpers\/floor\/ipcfloor$/.test(f))).toEqual([])
    console.log(`host-only tarball: ${(packed.sizeBytes / 1024).toFixed(0)} KiB, ${packed.files.length} files`)
  })

  it('installs from the tarball with --ignore-scripts and no compiler, make or python on PATH', () => {
    expect(tarball).not.toBe('')
    path = toolFreePath()
    expect(NO_BUILD_TOOLS.filter((t) => which(t, path))).toEqual([])
    mkdirSync(project)
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch-install', version: '1.0.0', private: true }, null, 2))
    const env = { ...process.env, PATH: path }
    sh('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], project, env)
    const installed = join(project, 'node_modules', 'ipcbench', 'native-helpers')
    expect(existsSync(join(installed, 'build')), 'no install script ran, so nothing was built').toBe(false)
    expect(existsSync(join(installed, 'floor', 'ipcfloor'))).toBe(false)
  })

  it('lists every native mechanism as available, with the prebuilt addon and C floor in the environment', () => {
    expect(path).not.toBe('')
    const env = { ...process.env, PATH: path }
    const list = JSON.parse(sh('npx', ['--no-install', 'ipcbench', 'list', '--json'], project, env).stdout) as Array<{
      id: string
      available: boolean
      reason?: string
    }>
    const native = BUILT_INS.filter((m) => m.native).map((m) => m.id)
    expect(native.length).toBeGreaterThan(5)
    expect(list.filter((m) => native.includes(m.id)).map((m) => `${m.id}: ${m.available ? 'available' : m.reason}`)).toEqual(
      native.map((id) => `${id}: available`),
    )

    const fingerprint = JSON.parse(sh('npx', ['--no-install', 'ipcbench', 'env', '--json'], project, env).stdout) as Environment
    const installed = realpathSync(join(project, 'node_modules', 'ipcbench'))
    expect(fingerprint.native.addon).toEqual({ loaded: true, file: join(installed, addonFile), prebuilt: true })
    expect(fingerprint.native.floor).toEqual({ available: true, path: join(installed, prebuilt, 'ipcfloor'), prebuilt: true })
  })

  it('measures a native case beside its C floor', () => {
    expect(path).not.toBe('')
    const env = { ...process.env, PATH: path }
    const args = ['run', 'pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '64']
    sh('npx', ['--no-install', 'ipcbench', ...args, '--repetitions', '2', '--duration', '50ms', '--out', 'result.json'], project, env)
    const result = JSON.parse(readFileSync(join(project, 'result.json'), 'utf8')) as RunResult
    expect(result.cases.map((c) => `${c.id} ${c.state}${why(c) ? `: ${why(c)}` : ''}`)).toEqual(['pipe/blocking/process/pingpong/64B completed'])
    const [c] = result.cases
    expect(c?.state === 'completed' && c.floor?.state).toBe('completed')
    expect(c?.state === 'completed' ? c.ratioToFloor?.p50 : undefined).toBeGreaterThan(0)
  })
})

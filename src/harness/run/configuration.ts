import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { UsageError } from '../../core/errors.js'
import { PACKAGE_ROOT } from '../../core/paths.js'
import type { Environment, RunConfiguration } from '../../core/result.js'
import { CASE_ENTRY, CASE_PROTOCOL } from '../case/protocol.js'
import { caseEnvironment, caseEnvUnset, gitCommit, packageVersion } from '../host/env.js'

/**
 * One side of an A/B (`ipcbench ab`): the Node binary, the extra environment and the
 * ipcbench checkout whose case processes run the peers, as typed after `--base-…` or
 * `--current-…`, checked before anything is measured. Every rejection names the
 * option and says what would work.
 */

export type ConfigurationLabel = RunConfiguration['label']

export interface ConfigurationRequest {
  label: ConfigurationLabel
  /** `--<label>-node PATH`; this process's own Node when absent. */
  node?: string
  /** `--<label>-env K=V`, as typed, in order (a later K wins). */
  env: readonly string[]
  /** `--<label>-root DIR`; this checkout when absent. */
  root?: string
}

export interface Configuration {
  label: ConfigurationLabel
  /** What the result's `env.node` records: the binary the case processes run. */
  node: Environment['node']
  env: Record<string, string>
  /** The case process's script. */
  caseEntry: string
  /** Set only for `--<label>-root`. */
  root?: NonNullable<RunConfiguration['root']>
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const PROBE_TIMEOUT_MS = 15_000
/** Where a built checkout keeps its case entry and protocol, relative to its root. */
const CASE_ENTRY_IN_ROOT = 'dist/harness/case/main.js'
const PROTOCOL_IN_ROOT = 'dist/harness/case/protocol.js'

/** `K=V` → [K, V]; V may be empty, K must be a variable name. */
export function parseEnvAssignment(option: string, text: string): [string, string] {
  const eq = text.indexOf('=')
  const name = eq < 0 ? text : text.slice(0, eq)
  if (eq < 0 || !ENV_NAME.test(name)) {
    throw new UsageError(`${option}: "${text}" is not K=V with K a variable name (use e.g. ${option} UV_THREADPOOL_SIZE=8)`)
  }
  return [name, text.slice(eq + 1)]
}

export function resolveConfiguration(req: ConfigurationRequest): Configuration {
  const option = (what: string): string => `--${req.label}-${what}`
  const env = Object.fromEntries(req.env.map((e) => parseEnvAssignment(option('env'), e)))
  const execPath = req.node === undefined ? process.execPath : checkExecutable(option('node'), req.node)
  const node = probeNode(option('node'), execPath, env)
  if (req.root === undefined) return { label: req.label, node, env, caseEntry: CASE_ENTRY }
  const root = checkRoot(option('root'), req.root, node.execPath, env)
  return { label: req.label, node, env, caseEntry: join(root.path, CASE_ENTRY_IN_ROOT), root }
}

function checkExecutable(option: string, path: string): string {
  const abs = resolve(path)
  const hint = 'give the path to a Node binary, e.g. $(command -v node)'
  if (!existsSync(abs)) throw new UsageError(`${option}: ${abs} does not exist; ${hint}`)
  if (statSync(abs).isDirectory()) throw new UsageError(`${option}: ${abs} is a directory; ${hint}`)
  try {
    accessSync(abs, constants.X_OK)
  } catch {
    throw new UsageError(`${option}: ${abs} is not executable; ${hint}`)
  }
  return abs
}

/** Runs the binary once, with the configuration's environment, to learn what Node it is. */
function probeNode(option: string, execPath: string, env: Record<string, string>): Environment['node'] {
  const script = 'process.stdout.write(JSON.stringify({ version: process.version, v8: process.versions.v8, libuv: process.versions.uv }))'
  const r = spawnSync(execPath, ['-e', script], { env: caseEnvironment(env), encoding: 'utf8', timeout: PROBE_TIMEOUT_MS })
  try {
    if (r.status !== 0) throw new Error(r.error?.message ?? (firstError(r.stderr) || `exit ${r.status ?? r.signal}`))
    if (r.stdout.trim() === '') throw new Error('it printed no version')
    const v = JSON.parse(r.stdout) as { version: string; v8: string; libuv: string }
    if (!/^v\d+\./.test(v.version)) throw new Error(`printed version "${v.version}"`)
    return { version: v.version, v8: v.v8, libuv: v.libuv, execPath, ...caseEnvUnset(env) }
  } catch (err) {
    throw new UsageError(`${option}: ${execPath} did not run as Node (${(err as Error).message}); give the path to a Node binary`)
  }
}

/**
 * Another built checkout may run this configuration's peers only if it speaks the
 * same case protocol (the orchestrator here sends its tasks and reads its reports).
 * Its number is read by importing its protocol module in a child, never here.
 */
function checkRoot(option: string, dir: string, execPath: string, env: Record<string, string>): NonNullable<RunConfiguration['root']> {
  const path = resolve(dir)
  if (!existsSync(join(path, CASE_ENTRY_IN_ROOT)) || !existsSync(join(path, PROTOCOL_IN_ROOT))) {
    throw new UsageError(`${option}: ${path} has no ${CASE_ENTRY_IN_ROOT}; give a built ipcbench checkout (run "npm ci" in it first)`)
  }
  const script = 'const m = await import(process.argv[1]); process.stdout.write(JSON.stringify(m.CASE_PROTOCOL ?? null))'
  const r = spawnSync(execPath, ['--input-type=module', '-e', script, pathToFileURL(join(path, PROTOCOL_IN_ROOT)).href], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: PROBE_TIMEOUT_MS,
  })
  const theirs = r.status === 0 ? (JSON.parse(r.stdout) as unknown) : undefined
  if (theirs !== CASE_PROTOCOL) {
    const what =
      r.status !== 0
        ? `its ${PROTOCOL_IN_ROOT} could not be loaded (${firstError(r.stderr) || `exit ${r.status ?? r.signal}`})`
        : theirs === null
          ? 'it predates versioned case protocols'
          : `it speaks case protocol ${String(theirs)}`
    throw new UsageError(
      `${option}: ${path} cannot run this ipcbench's cases: ${what}, this ipcbench speaks ${CASE_PROTOCOL}; ` +
        'compare two separate runs instead (README, "Comparing runs in CI")',
    )
  }
  const { commit } = gitCommit(path)
  return { path, version: packageVersion(path), ...(commit ? { commit } : {}) }
}

/** The line of a child's stderr that names its error (Node prints the source line and a caret before it). */
const firstError = (stderr: string): string => {
  const lines = stderr.split('\n').map((l) => l.trim())
  return lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.find(Boolean) ?? ''
}

/** What tells two configurations apart; empty when they would measure the same thing (an A/A). */
export function configurationDifferences(a: Configuration, b: Configuration): string[] {
  const real = (p: string): string => (existsSync(p) ? realpathSync(p) : p)
  const envText = (c: Configuration): string =>
    Object.entries(c.env)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
  const rootOf = (c: Configuration): string => real(c.root?.path ?? PACKAGE_ROOT)
  const out: string[] = []
  if (real(a.node.execPath) !== real(b.node.execPath)) out.push(`Node binary (${a.node.version} vs ${b.node.version})`)
  if (envText(a) !== envText(b)) out.push(`environment ("${envText(a)}" vs "${envText(b)}")`)
  if (rootOf(a) !== rootOf(b)) out.push(`case root (${rootOf(a)} vs ${rootOf(b)})`)
  return out
}

/** The record a result file keeps of its configuration. */
export function configurationRecord(c: Configuration, session: string, round: 1 | 2): RunConfiguration {
  return {
    session,
    label: c.label,
    round,
    node: { execPath: c.node.execPath, version: c.node.version },
    env: c.env,
    ...(c.root ? { root: c.root } : {}),
  }
}

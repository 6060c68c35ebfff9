import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { reasonOf, UsageError } from '../../core/errors.js'
import { RESULTS_DIR } from '../../core/paths.js'

/**
 * Named baselines: copies of result files under results/baselines/<name>.json
 * (relative to the working directory, like the results themselves), saved by
 * `run --save-baseline NAME` and read by `compare --baseline NAME`.
 */

const NAME = /^[A-Za-z0-9._-]+$/

export function baselinesDir(): string {
  return resolve(RESULTS_DIR, 'baselines')
}

/** The name becomes a file name: no separators, nothing a shell or a path could misread. */
export function checkBaselineName(option: string, name: string): string {
  if (!NAME.test(name) || name === '.' || name === '..') {
    throw new UsageError(`${option}: "${name}" is not a baseline name (letters, digits, ".", "_" and "-" only, e.g. main)`)
  }
  return name
}

export function baselinePath(name: string): string {
  return join(baselinesDir(), `${name}.json`)
}

export function listBaselines(): string[] {
  if (!existsSync(baselinesDir())) return []
  return readdirSync(baselinesDir())
    .filter((f) => f.endsWith('.json') && NAME.test(f.slice(0, -5)))
    .map((f) => f.slice(0, -5))
    .sort()
}

/** Copies a finished result file into place; through a rename, so `compare` never reads half a baseline. */
export function saveBaseline(resultFile: string, name: string): string {
  checkBaselineName('--save-baseline', name)
  const dest = baselinePath(name)
  const tmp = `${dest}.tmp-${process.pid}`
  try {
    mkdirSync(baselinesDir(), { recursive: true })
    copyFileSync(resultFile, tmp)
    renameSync(tmp, dest)
  } catch (err) {
    // The run itself succeeded and is saved; this is a runtime failure (exit 1), not a usage error.
    throw new Error(`--save-baseline: cannot write ${dest} (${reasonOf(err)}); the result itself is in ${resultFile}`, { cause: err })
  }
  return dest
}

/** The file of a saved baseline, or a UsageError that lists the ones there are. */
export function findBaseline(name: string): string {
  checkBaselineName('--baseline', name)
  const path = baselinePath(name)
  if (existsSync(path)) return path
  const saved = listBaselines()
  const where = relative(process.cwd(), baselinesDir()) || baselinesDir()
  const have = saved.length > 0 ? `saved baselines: ${saved.join(', ')}` : 'none saved yet'
  throw new UsageError(
    `--baseline: no baseline "${name}" in ${where} (${have}); save one with "ipcbench run --save-baseline ${name}" or "ipcbench all --save-baseline ${name}"`,
  )
}

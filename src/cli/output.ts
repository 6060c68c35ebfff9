import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { ipcError, reasonOf, UsageError } from '../core/errors.js'

/**
 * The output files of `report`, `compare` and `history`: a place the user named that
 * cannot be written is the user's to fix, so every failure is a UsageError naming the
 * option, the path and the reason (an error code such as EACCES, else the message).
 */

/**
 * `mkdir -p` one level at a time: Node's `mkdirSync(…, { recursive: true })` never
 * returns for a path under /proc (it retries ENOENT forever), where this fails at once.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = []
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d)
  for (const d of missing) mkdirSync(d)
}

/** Writes one output file, making its directory first. */
export function writeOutputFile(option: string, path: string, text: string): void {
  try {
    makeDirs(dirname(path))
    writeFileSync(path, text)
  } catch (err) {
    throw new UsageError(`${option}: cannot write ${path} (${reasonOf(err)}); choose a writable place`)
  }
}

/** Before anything is rendered: `path` can become a file (it is no directory, and its directory is, or can be made, writable). */
export function checkWritableFile(option: string, path: string): void {
  let isDir = false
  try {
    isDir = statSync(path).isDirectory()
  } catch {
    // Not there yet: its directory decides.
  }
  if (isDir) throw new UsageError(`${option}: ${path} is a directory; give a file name`)
  try {
    makeDirs(dirname(path))
    accessSync(dirname(path), constants.W_OK)
  } catch (err) {
    throw new UsageError(`${option}: cannot write ${path} (${reasonOf(err)}); choose a writable place`)
  }
}

/** Makes `dir` (and its parents) when missing, and checks that it is a writable directory. */
export function checkWritableDir(option: string, dir: string): void {
  try {
    makeDirs(dir)
    if (!statSync(dir).isDirectory()) throw ipcError('ENOTDIR', `${dir} is not a directory`)
    accessSync(dir, constants.W_OK)
  } catch (err) {
    throw new UsageError(`${option}: cannot write to ${dir} (${reasonOf(err)}); choose a writable directory`)
  }
}

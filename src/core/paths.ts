import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The installed package: the folder with package.json, native-helpers/ and dist/. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Where results go when `--out` is not given, relative to the working directory. */
export const RESULTS_DIR = 'results'

/**
 * Every object ipcbench creates carries `ipcbench-<pid>-` in its name (shared memory,
 * POSIX queues, private directories), so `ipcbench clean` can tell whose it is and
 * remove it only when that process is gone.
 */
export const OBJECT_PREFIX = 'ipcbench'
export const OWNED_NAME = /^ipcbench-(\d+)-/

/** `ipcbench-<pid>-<what>`: a prefix for mkdtemp and for names made unique by the caller. */
export function ownedPrefix(what: string, pid = process.pid): string {
  return `${OBJECT_PREFIX}-${pid}-${what}`
}

/** A fresh random name owned by this process, e.g. `ipcbench-1234-9f3a61c2b4d0`. */
export function ownedName(pid = process.pid): string {
  return ownedPrefix(randomBytes(6).toString('hex'), pid)
}

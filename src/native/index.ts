import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The typed façade of the native helper (native-helpers/): the only thing the rest
 * of ipcbench imports. The addon is optional: when it is not built, or disabled with
 * IPCBENCH_NATIVE=off, `loadNative()` says why and the mechanisms that need it are
 * listed as unavailable with that reason.
 */
export interface NativeApi {
  /** pipe2(O_CLOEXEC [| O_NONBLOCK]) → [readFd, writeFd] */
  pipe2(nonblock: boolean): [number, number]
  mkfifo(path: string, mode: number): void
  setNonBlocking(fd: number, on: boolean): void
  /** F_GETPIPE_SZ */
  getPipeSize(fd: number): number
  /** One read(2): bytes, 0 at EOF, or -11 (-EAGAIN) when a non-blocking fd is empty. */
  read(fd: number, buf: Uint8Array, offset: number, length: number): number
  /** One write(2): bytes written, or -11 (-EAGAIN). */
  write(fd: number, buf: Uint8Array, offset: number, length: number): number
  close(fd: number): void
  /** sched_setaffinity of the calling thread. */
  setAffinity(cpus: number[]): void
  getAffinity(): number[]
  /** getrusage(RUSAGE_THREAD) */
  threadRusage(): { userUs: number; sysUs: number; voluntaryCtx: number; involuntaryCtx: number }
  gettid(): number
  /** System V removal, used by `ipcbench clean` (present once the System V mechanisms are). */
  msgRmid?(id: number): void
  shmRmid?(id: number): void
}

/** read/write return this negated when a non-blocking fd would block. */
export const EAGAIN = 11

export type NativeStatus = { ok: true; api: NativeApi } | { ok: false; reason: string }

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const ADDON = join(PACKAGE_ROOT, 'native-helpers', 'build', 'Release', 'ipcbench_native.node')
let cached: NativeStatus | undefined

export function loadNative(): NativeStatus {
  if (cached) return cached
  if (process.env.IPCBENCH_NATIVE === 'off') return (cached = { ok: false, reason: 'disabled by IPCBENCH_NATIVE=off' })
  if (!existsSync(ADDON)) return (cached = { ok: false, reason: `native helper not built (${buildGist()})` })
  try {
    const api = createRequire(import.meta.url)(ADDON) as NativeApi
    return (cached = { ok: true, api })
  } catch (err) {
    return (cached = { ok: false, reason: `native helper failed to load (${(err as Error).message})` })
  }
}

export function native(): NativeApi {
  const n = loadNative()
  if (!n.ok) throw new Error(n.reason)
  return n.api
}

function buildGist(): string {
  const status = join(PACKAGE_ROOT, 'native-helpers', 'build', 'status.json')
  try {
    const s = JSON.parse(readFileSync(status, 'utf8')) as { addon?: { error?: string } }
    if (s.addon?.error) return s.addon.error
  } catch {
    // no status file: never built
  }
  return existsSync(status) ? 'build failed' : 'not built; run "npm install" (needs a C++ compiler and make)'
}

import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OWNED_NAME } from '../../core/paths.js'
import { listDir, processGone, processStartMs, processState } from '../../core/proc.js'
import { loadNative, type NativeApi } from '../../native/index.js'

/**
 * Finds what dead ipcbench processes left behind and removes only that. Every
 * object ipcbench creates carries `ipcbench-<pid>-` in its name (shared memory,
 * POSIX queues, private directories); System V objects have no names, so the
 * process that creates one lists its id in a ledger inside its private directory.
 * An owner that is still alive and still ipcbench is left alone.
 */

export interface CleanReport {
  removed: string[]
  kept: string[]
}

export function isLiveIpcbench(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    const state = processState(pid)
    return state !== undefined && state !== 'Z' && /ipcbench|ipcfloor|harness\/case\/main\.js|vitest/.test(cmdline)
  } catch {
    return false
  }
}

/**
 * A process that lives and was already running when the object was last changed is
 * its owner, whatever its command line (a program that calls the API's `run()` need not
 * be named ipcbench): a pid is not reused while its process lives.
 */
export function ownerStillRuns(pid: number, path: string): boolean {
  const started = processStartMs(pid)
  if (started === undefined || processGone(pid)) return false
  try {
    // The boot time /proc gives is whole seconds: allow for it.
    return started <= statSync(path).ctimeMs + 2000
  } catch {
    return false
  }
}

/** The ledger a case process keeps of System V ids it created (one `msg <id>`, `shm <id>` or `sem <id>` per line). */
export const LEDGER = 'sysv-ledger'

export function cleanStale(opts: { dryRun?: boolean; isAlive?: (pid: number) => boolean } = {}): CleanReport {
  const alive = opts.isAlive ?? isLiveIpcbench
  const report: CleanReport = { removed: [], kept: [] }
  const consider = (dir: string, name: string, remove: (path: string) => void): void => {
    const m = OWNED_NAME.exec(name)
    if (!m) return
    const path = join(dir, name)
    if (alive(Number(m[1])) || (!opts.isAlive && ownerStillRuns(Number(m[1]), path))) {
      report.kept.push(path)
      return
    }
    if (!opts.dryRun) {
      try {
        remove(path)
      } catch {
        return
      }
    }
    report.removed.push(path)
  }
  for (const dir of ['/dev/shm', '/dev/mqueue']) {
    if (!existsSync(dir)) continue
    for (const name of listDir(dir)) consider(dir, name, (p) => unlinkSync(p))
  }
  const tmp = tmpdir()
  for (const name of listDir(tmp)) {
    consider(tmp, name, (p) => {
      const ledger = join(p, LEDGER)
      if (existsSync(ledger)) {
        for (const id of removeSysvFromLedger(ledger, opts.dryRun === true)) report.removed.push(id)
      }
      rmSync(p, { recursive: true, force: true })
    })
  }
  return report
}

/** How each System V kind of the ledger is removed: through the addon, or ipcrm without it. */
const SYSV_KINDS: Record<string, { rmid: (api: NativeApi) => (id: number) => void; ipcrm: string } | undefined> = {
  msg: { rmid: (api) => api.msgRmid, ipcrm: '-q' },
  shm: { rmid: (api) => api.shmRmid, ipcrm: '-m' },
  sem: { rmid: (api) => api.sysvSemRmid, ipcrm: '-s' },
}

/** Removes what a ledger lists: System V queues, segments and semaphore sets by id, POSIX queues by name. */
export function removeSysvFromLedger(ledger: string, dryRun: boolean): string[] {
  const removed: string[] = []
  const native = loadNative()
  for (const line of readFileSync(ledger, 'utf8').split('\n')) {
    const [kind, what] = line.trim().split(/\s+/)
    if (kind === 'mq') {
      if (!what || !OWNED_NAME.test(what.slice(1))) continue
      if (!dryRun) {
        if (!native.ok) continue
        try {
          native.api.mqUnlink(what)
        } catch {
          continue
        }
      }
      removed.push(`mq ${what}`)
      continue
    }
    const id = Number(what)
    const sysv = SYSV_KINDS[kind]
    if (!Number.isInteger(id) || !sysv) continue
    if (!dryRun) {
      try {
        if (native.ok) sysv.rmid(native.api)(id)
        else execFileSync('ipcrm', [sysv.ipcrm, String(id)], { stdio: 'ignore' })
      } catch {
        continue // already gone
      }
    }
    removed.push(`sysv ${kind} ${id}`)
  }
  return removed
}

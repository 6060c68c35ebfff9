import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { errorFields } from '../../core/errors.js'
import { processGone } from '../../core/proc.js'
import type { ConcurrentRun } from '../../core/result.js'

/**
 * One measuring run at a time on a host, advisory: two runs at once (two users, two CI
 * jobs on one runner) measure each other. The lock is a file in the host's temporary
 * directory holding the holder's pid, run id and start, created O_EXCL (readable by
 * every user, so another user's run is seen too). A holder that died (an orchestrator
 * killed with SIGKILL) is noticed by its pid and its lock taken over. A run that finds
 * the lock held does not wait unless asked (`--wait`): it measures anyway, warns, and
 * records the other run in its environment, and compare refuses such a run unless
 * --force. IPCBENCH_RUN_LOCK names another file (tests).
 */
export function runLockPath(): string {
  return process.env.IPCBENCH_RUN_LOCK ?? join(tmpdir(), 'ipcbench-measuring.lock')
}

export interface RunLock {
  /** The run that held the lock when this one started, if any: this run does not hold it. */
  other?: ConcurrentRun
  /** Gives the lock back (when this run holds it); idempotent. */
  release(): void
}

/** Takes the lock, or says who holds it. */
export function takeRunLock(runId: string, path = runLockPath()): RunLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    const mine: ConcurrentRun = { pid: process.pid, runId, since: new Date().toISOString() }
    try {
      writeFileSync(path, JSON.stringify(mine) + '\n', { flag: 'wx', mode: 0o644 })
      let held = true
      const release = (): void => {
        if (!held) return
        held = false
        process.off('exit', release)
        if (holder(path)?.pid === process.pid) unlinkSync(path)
      }
      // However the run ends short of SIGKILL (an error, Ctrl-C), the lock goes with the process.
      process.on('exit', release)
      return { release }
    } catch (err) {
      if (errorFields(err).code !== 'EEXIST') throw err
    }
    const other = holder(path)
    if (other && isLiveRun(other.pid)) return { other, release() {} }
    // A dead holder's (or an unreadable, half-written) lock: take it over.
    try {
      unlinkSync(path)
    } catch (err) {
      // Another user's stale lock in a sticky directory cannot be removed: measure without one.
      if (errorFields(err).code !== 'ENOENT') return { release() {} }
    }
  }
  return { release() {} }
}

/** `--wait`: takes the lock once the run holding it has ended, telling `onWait` once whom it waits for. */
export async function waitForRunLock(runId: string, onWait: (other: ConcurrentRun) => void, path = runLockPath()): Promise<RunLock> {
  let told = false
  for (;;) {
    const lock = takeRunLock(runId, path)
    if (!lock.other) return lock
    if (!told) onWait(lock.other)
    told = true
    await new Promise((res) => setTimeout(res, 250))
  }
}

function holder(path: string): ConcurrentRun | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConcurrentRun>
    return typeof h.pid === 'number' ? { pid: h.pid, runId: String(h.runId ?? ''), since: String(h.since ?? '') } : undefined
  } catch {
    return undefined
  }
}

/** Alive and an ipcbench process: a pid the kernel gave to something else since is not a run. */
function isLiveRun(pid: number): boolean {
  if (pid === process.pid || processGone(pid)) return false
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ipcbench')
  } catch {
    return false
  }
}

import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, inject } from 'vitest'
import { isLiveIpcbench, ownerStillRuns } from '../src/harness/host/cleanup.js'
import { ROOT } from './helpers.js'

/**
 * The fault suite's bookkeeping. Its faults live in several files (faults.test.ts:
 * peers killed or hung in every family, a killed orchestrator, a tiny /dev/shm;
 * robustness.test.ts: interrupts, low limits, results places that cannot take the
 * file, a disk that fills, two runs at once, a seccomp filter; floor.test.ts: a C
 * floor killed mid-case; semaphores.test.ts and fanin-run.test.ts: a peer and a
 * sender killed mid-run). Each one goes through `fault()`, which counts it injected,
 * runs it, looks for what it left on the host, and counts it survived only when the
 * test's own checks passed and nothing was left. The counts go to a file the global
 * set-up (fault-tally.global.ts) reads at the end of the whole run and prints as
 * "fault suite: N faults injected, N survived, 0 objects leaked".
 */

export interface TallyLine {
  fault: string
  event: 'injected' | 'survived' | 'leaked'
  left?: string[]
}

function record(line: TallyLine): void {
  appendFileSync(inject('faultTally'), JSON.stringify(line) + '\n')
}

/**
 * What this checkout's runs left behind. Objects whose owner still runs are not
 * counted, by the rule `ipcbench clean` keeps them by: on a shared host they belong to
 * another run (another checkout's, or `node dist/cli.js` by hand); this file's own runs
 * have ended when it looks, and a case process of this checkout still alive is caught
 * by the process check. A leak's owner is dead.
 */
export function leftovers(): string[] {
  const owned = (dir: string, f: string): boolean => {
    const pid = Number(/^ipcbench-(\d+)-/.exec(f)![1])
    return isLiveIpcbench(pid) || ownerStillRuns(pid, join(dir, f))
  }
  const names = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /^ipcbench-\d+-/.test(f) && !f.includes('-test-') && !owned(dir, f))
          .map((f) => `${dir}/${f}`)
      : []
  // System V objects in use by a live ipcbench (a segment's creator, a queue's last sender or receiver) are not leaks.
  const sysvLeft = (flag: '-q' | '-m'): string[] => {
    const busy = new Set(
      execFileSync('ipcs', [flag, '-p'], { encoding: 'utf8' })
        .split('\n')
        .flatMap((l) => {
          const m = /^(\d+)\s+\S+\s+(\d+)\s+(\d+)\s*$/.exec(l)
          return m && [m[2], m[3]].some((pid) => pid !== '0' && isLiveIpcbench(Number(pid))) ? [m[1]] : []
        }),
    )
    return execFileSync('ipcs', [flag], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /^0x0+\s+\d+\s+\S+\s+600\b/.test(l) && !busy.has(l.split(/\s+/)[1]))
  }
  // Semaphore sets carry no pid to tell a live owner by: every private 0600 one counts.
  const sems = execFileSync('ipcs', ['-s'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /^0x0+\s+\d+\s+\S+\s+600\b/.test(l))
  const sysv = [...sysvLeft('-q'), ...sysvLeft('-m'), ...sems]
  const ours = ['dist/harness/case/main.js', 'dist/harness/case/fanin-sender.js', 'native-helpers/floor/ipcfloor '].map((f) => join(ROOT, f))
  const procs = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => ours.some((f) => l.includes(f)))
  return [...names('/dev/shm'), ...names('/dev/mqueue'), ...names(tmpdir()), ...sysv, ...procs]
}

/**
 * One injected fault: counted injected, then `body` (the test's own checks), then
 * what the host was left with. Survived when both pass; a leak fails the test and is
 * counted with what was left.
 */
export async function fault<T>(name: string, body: () => T | Promise<T>): Promise<T> {
  record({ fault: name, event: 'injected' })
  const look = (): string[] => {
    const left = leftovers()
    if (left.length > 0) record({ fault: name, event: 'leaked', left })
    return left
  }
  let result: T
  try {
    result = await body()
  } catch (err) {
    // A failing fault's leak is counted too; the body's own error is the one reported.
    look()
    throw err
  }
  expect(look(), `${name}: left on the host`).toEqual([])
  record({ fault: name, event: 'survived' })
  return result
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The file the fault suite's counts go to (fault-tally.global.ts). */
    faultTally: string
  }
}

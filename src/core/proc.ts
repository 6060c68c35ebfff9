import { readdirSync, readFileSync } from 'node:fs'

/**
 * What /proc says about a process or the calling thread. Read, never assumed: the
 * CPUs a thread may use after pinning, whether a peer is still alive.
 */

/** The state letter of `/proc/<pid>/stat` (R, S, D, Z, X…), or undefined when the process is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name is in parentheses and may itself contain ") ": the state follows the last one.
    const close = stat.lastIndexOf(')')
    return stat.slice(close + 2, close + 3)
  } catch {
    return undefined
  }
}

/** True when `pid` has exited (or is a zombie nobody reaped yet, as when its parent is busy in a loop). */
export function processGone(pid: number): boolean {
  const state = processState(pid)
  return state === undefined || state === 'Z' || state === 'X'
}

/** The CPUs the calling thread may run on, read back from the kernel ([] where /proc cannot say). */
export function allowedCpus(): number[] {
  try {
    const status = readFileSync('/proc/thread-self/status', 'utf8')
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)
    if (m) return parseCpuList(m[1])
  } catch {
    // not Linux, or /proc not mounted
  }
  return []
}

/** `0-2,5` → [0, 1, 2, 5] */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = []
  for (const part of text.trim().split(',')) {
    if (part === '') continue
    const [lo, hi] = part.split('-').map(Number)
    for (let c = lo; c <= (hi ?? lo); c++) cpus.push(c)
  }
  return cpus
}

/** The names in a directory, or none when it cannot be read (gone, not mounted, not ours). */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** When a process started, in ms since the epoch (to 10 ms), or undefined when it is gone. */
export function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 22, starttime, counted from field 3 (the state), which follows the last ")".
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    const bootS = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1])
    // /proc counts in USER_HZ, which is 100 on Linux whatever the kernel's own tick.
    const ms = (bootS + ticks / 100) * 1000
    return Number.isFinite(ms) ? ms : undefined
  } catch {
    return undefined
  }
}

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The CPU limits of this process's cgroup, as a container runtime or systemd sets
 * them: the quota (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`)
 * and the time the kernel held the cgroup back for using it up (`cpu.stat`). A quota
 * may be set on any ancestor, so every level from this cgroup up to the root counts;
 * the tightest quota is the one that binds. A busy-poll side spins a whole CPU, so
 * under a quota below the CPUs a case uses its figures are the throttling's.
 */

const ROOT = '/sys/fs/cgroup'

/** This process's cgroup directories: the v2 one, and v1's cpu controller (hybrid hosts). */
function ownDirs(): { v2?: string; v1cpu?: string } {
  let lines: string[]
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n')
  } catch {
    return {}
  }
  const dirs: { v2?: string; v1cpu?: string } = {}
  for (const l of lines) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(l) ?? []
    if (path === undefined) continue
    if (controllers === '') dirs.v2 = join(ROOT, path)
    else if (controllers.split(',').includes('cpu')) dirs.v1cpu = join(ROOT, 'cpu', path)
  }
  return dirs
}

/** `dir` and its ancestors up to (and with) `top`. */
function upTo(dir: string, top: string): string[] {
  const out: string[] = []
  for (let d = dir; d.startsWith(top); d = dirname(d)) {
    out.push(d)
    if (d === top) break
  }
  return out
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    return undefined
  }
}

interface Level {
  dir: string
  /** CPUs' worth of time per period this level allows; Infinity for none. */
  cpus: number
  quotaUs?: number
  periodUs?: number
  v1: boolean
}

function levels(): Level[] {
  const { v2, v1cpu } = ownDirs()
  const out: Level[] = []
  // A v1 cpu controller, where mounted, is the one that enforces quotas on a hybrid host.
  if (v1cpu && read(join(ROOT, 'cpu', 'cpu.cfs_period_us')) !== undefined) {
    for (const dir of upTo(v1cpu, join(ROOT, 'cpu'))) {
      const quota = Number(read(join(dir, 'cpu.cfs_quota_us')))
      const period = Number(read(join(dir, 'cpu.cfs_period_us')))
      if (!Number.isFinite(quota) || !(period > 0)) continue
      out.push({ dir, v1: true, ...(quota > 0 ? { cpus: quota / period, quotaUs: quota, periodUs: period } : { cpus: Infinity, periodUs: period }) })
    }
    return out
  }
  if (v2) {
    for (const dir of upTo(v2, ROOT)) {
      const [quota, period] = (read(join(dir, 'cpu.max')) ?? '').split(' ')
      if (!period) continue
      const p = Number(period)
      out.push({
        dir,
        v1: false,
        ...(quota === 'max' ? { cpus: Infinity, periodUs: p } : { cpus: Number(quota) / p, quotaUs: Number(quota), periodUs: p }),
      })
    }
  }
  return out
}

export interface CpuQuota {
  /** In cgroup v2's form, "quota period" (µs), whichever version set it: "20000 100000" is a fifth of a CPU. */
  cpuMax: string
  /** CPUs' worth of time the quota allows. */
  cpus: number
  /** The cgroup that sets it (this process's own or an ancestor). */
  cgroup: string
}

/** The tightest CPU quota over this process's cgroup and its ancestors; undefined when none is set or none is readable. */
export function cpuQuota(): CpuQuota | undefined {
  const limited = levels().filter((l) => l.quotaUs !== undefined)
  if (limited.length === 0) return undefined
  const tightest = limited.reduce((a, b) => (b.cpus < a.cpus ? b : a))
  const base = tightest.v1 ? join(ROOT, 'cpu') : ROOT
  return { cpuMax: `${tightest.quotaUs} ${tightest.periodUs}`, cpus: tightest.cpus, cgroup: tightest.dir.slice(base.length) || '/' }
}

export interface Throttling {
  /** Periods in which a quota held the cgroup back, summed over the levels that set one. */
  periods: number
  /** For how long, in ns. */
  throttledNs: number
}

/** The throttling so far of every level with a quota; undefined when none has one (nothing can throttle). */
export function cpuThrottling(): Throttling | undefined {
  const limited = levels().filter((l) => l.quotaUs !== undefined)
  if (limited.length === 0) return undefined
  const t: Throttling = { periods: 0, throttledNs: 0 }
  for (const l of limited) {
    const stat = read(join(l.dir, 'cpu.stat')) ?? ''
    const field = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0)
    t.periods += field('nr_throttled')
    // v1 counts nanoseconds, v2 microseconds.
    t.throttledNs += l.v1 ? field('throttled_time') : field('throttled_usec') * 1000
  }
  return t
}

/** What happened between two readings of cpuThrottling(). */
export function throttledSince(before: Throttling | undefined): Throttling | undefined {
  const now = before && cpuThrottling()
  if (!before || !now) return undefined
  const d = { periods: now.periods - before.periods, throttledNs: now.throttledNs - before.throttledNs }
  return d.periods > 0 ? d : undefined
}

/**
 * Said at the start of a run whose cgroup allows less CPU than its cases use: a
 * busy-poll case spins a whole CPU on each side, any other case needs one CPU.
 */
export function quotaWarning(q: CpuQuota | undefined, busyPoll: boolean): string | undefined {
  const need = busyPoll ? 2 : 1
  if (!q || q.cpus >= need) return undefined
  const what = busyPoll ? 'a busy-poll case spins a whole CPU on each side' : 'a case needs a whole CPU'
  return `this run's cgroup (${q.cgroup}) may use ${Number(q.cpus.toFixed(2))} CPU (cpu.max ${q.cpuMax}) and ${what}: the kernel will hold cases back and their figures include those stalls; each throttled case carries a cpu-throttled warning`
}

/** Said of a case the quota held back while it ran. */
export function throttledWarning(t: Throttling): string {
  return `the cgroup's CPU quota held this run back in ${t.periods} period(s), ${(t.throttledNs / 1e6).toFixed(1)} ms in all, while this case ran: its figures include those stalls`
}

import { loadNative } from '../../native/index.js'
import type { CostSnapshot, MeterScope } from './protocol.js'

/**
 * CPU meters and pinning, for the thread that calls them. A side that has its
 * process to itself is measured as the whole process (its GC and helper threads are
 * part of its cost); a side that shares its process with the other side (worker
 * threads) is measured per thread through the native helper, or, without it, as
 * the whole process — and says so.
 */
export type CostMeter = () => CostSnapshot

export function costBetween(a: CostSnapshot, b: CostSnapshot): CostSnapshot {
  const d: CostSnapshot = {
    userUs: b.userUs - a.userUs,
    sysUs: b.sysUs - a.sysUs,
    voluntaryCtx: b.voluntaryCtx - a.voluntaryCtx,
    involuntaryCtx: b.involuntaryCtx - a.involuntaryCtx,
  }
  if (a.process && b.process) d.process = costBetween(a.process, b.process)
  return d
}

/** The whole process: every thread it has, its GC and libuv's pool among them. */
export function processSnapshot(): CostSnapshot {
  const r = process.resourceUsage()
  return { userUs: r.userCPUTime, sysUs: r.systemCPUTime, voluntaryCtx: r.voluntaryContextSwitches, involuntaryCtx: r.involuntaryContextSwitches }
}

export function meterFor(ownsProcess: boolean): { meter: CostMeter; scope: MeterScope } {
  if (!ownsProcess) {
    const n = loadNative()
    if (n.ok) {
      const api = n.api
      return { scope: 'thread', meter: () => api.threadRusage() }
    }
  }
  return { scope: 'process', meter: processSnapshot }
}

/**
 * Side a's meter: its own, and in a thread case its whole process too, read at the
 * same instants, so the case's total CPU holds side b, a pool's workers and libuv's
 * threads, which neither side's own meter sees.
 */
export function sideAMeter(ownsProcess: boolean): { meter: CostMeter; scope: MeterScope } {
  const own = meterFor(ownsProcess)
  if (ownsProcess) return own
  return { scope: own.scope, meter: () => ({ ...own.meter(), process: processSnapshot() }) }
}

/** The largest resident set this process has had so far, in KiB (getrusage's ru_maxrss): every thread's memory, and V8's heap at its peak. */
export function peakRssKiB(): number {
  return process.resourceUsage().maxRSS
}

/** Pins the calling thread (a child process is pinned by taskset before its first instruction instead). */
export function pinThisThread(cpu: number): void {
  const n = loadNative()
  if (n.ok) n.api.setAffinity([cpu])
}

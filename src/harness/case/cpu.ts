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
  return {
    userUs: b.userUs - a.userUs,
    sysUs: b.sysUs - a.sysUs,
    voluntaryCtx: b.voluntaryCtx - a.voluntaryCtx,
    involuntaryCtx: b.involuntaryCtx - a.involuntaryCtx,
  }
}

export function processMeter(): CostMeter {
  return () => {
    const r = process.resourceUsage()
    return { userUs: r.userCPUTime, sysUs: r.systemCPUTime, voluntaryCtx: r.voluntaryContextSwitches, involuntaryCtx: r.involuntaryContextSwitches }
  }
}

export function meterFor(ownsProcess: boolean): { meter: CostMeter; scope: MeterScope } {
  if (!ownsProcess) {
    const n = loadNative()
    if (n.ok) {
      const api = n.api
      return { scope: 'thread', meter: () => api.threadRusage() }
    }
  }
  return { scope: 'process', meter: processMeter() }
}

/** Pins the calling thread (a child process is pinned by taskset before its first instruction instead). */
export function pinThisThread(cpu: number): void {
  const n = loadNative()
  if (n.ok) n.api.setAffinity([cpu])
}

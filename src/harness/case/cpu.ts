import { readFileSync } from 'node:fs'
import { loadNative } from '../native/index.js'
import type { CostSnapshot, CostMeter } from './loops.js'

/**
 * CPU meters. A side that has its process to itself is measured as the whole
 * process (its GC and helper threads are part of its cost); a side that shares its
 * process with the other side (worker threads) is measured per thread through the
 * native helper, or, without it, as the whole process — and says so.
 */
export function processMeter(): CostMeter {
  return () => {
    const r = process.resourceUsage()
    return { userUs: r.userCPUTime, sysUs: r.systemCPUTime, voluntaryCtx: r.voluntaryContextSwitches, involuntaryCtx: r.involuntaryContextSwitches }
  }
}

export function meterFor(ownsProcess: boolean): { meter: CostMeter; scope: 'thread' | 'process' } {
  if (!ownsProcess) {
    const n = loadNative()
    if (n.ok) {
      const api = n.api
      return {
        scope: 'thread',
        meter: (): CostSnapshot => {
          const r = api.threadRusage()
          return { userUs: r.userUs, sysUs: r.sysUs, voluntaryCtx: r.voluntaryCtx, involuntaryCtx: r.involuntaryCtx }
        },
      }
    }
  }
  return { scope: 'process', meter: processMeter() }
}

/** The CPUs the calling thread may run on, read back from the kernel. */
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

import type { CaseSpec, Placement, PinRequest } from '../../core/result.js'

/** Where the two sides of a case go, or why the case cannot run with the placement asked for. */
export type PlacementDecision = { applied: Placement; cpuA?: number; cpuB?: number; warning?: string } | { skip: string }

const SAME_CPU_SPIN =
  'busy-poll with both ends on one CPU only progresses when the scheduler preempts (milliseconds per round trip, not microseconds); use --pin split'

/**
 * Where the two sides run. `auto` puts them on different CPUs when there are two:
 * that is where a real pair of communicating processes usually lands, the only
 * placement where busy-poll makes progress, and the one the Node/C ratios are
 * quoted for. Every result records the placement applied and the CPUs read back.
 */
export function planPlacement(spec: CaseSpec, pin: PinRequest, cpus: readonly number[], canPinThreads: boolean): PlacementDecision {
  const want: Placement = pin === 'auto' ? (cpus.length >= 2 ? 'split' : 'same') : pin
  if (want === 'none') {
    return spec.mode === 'busy-poll'
      ? { applied: 'none', warning: 'busy-poll without pinning: if the scheduler puts both ends on one CPU, a round trip takes milliseconds' }
      : { applied: 'none' }
  }
  if (spec.mode === 'busy-poll' && (want === 'same' || cpus.length < 2)) return { skip: SAME_CPU_SPIN }
  if (want === 'split' && cpus.length < 2) return { skip: `--pin split needs two CPUs; this process may use only CPU ${cpus.join(',')}` }
  if (spec.endpoints === 'thread' && !canPinThreads) {
    return { applied: 'none', warning: 'threads cannot be pinned without the native helper; placement left to the scheduler' }
  }
  const cpuA = cpus[0]
  const cpuB = want === 'split' ? cpus[1] : cpus[0]
  return { applied: want, cpuA, cpuB }
}

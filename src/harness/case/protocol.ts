import type { CaseSpec, Placement, PinRequest } from '../types.js'
import type { LoopPlan } from './loops.js'

/** What the orchestrator asks one case process (side a) to do: one repetition. */
export interface RepTask {
  spec: CaseSpec
  repetition: number
  plan: LoopPlan
  placement: { requested: PinRequest; applied: Placement; cpuA?: number; cpuB?: number }
  /** Where side a writes the round-trip samples (little-endian float64 ns). */
  samplesPath: string
  /** Test-only fault injection in side b (IPCBENCH_TEST_FAULTS must also be set). */
  fault?: string
}

/** What side a reports back for one repetition. */
export interface RepReport {
  type: 'result'
  messages: number
  elapsedNs: number
  batch: number
  sampleCount: number
  costA: SideUsage
  costB: SideUsage
  cpusA: number[]
  cpusB: number[]
  describe: Record<string, string>
  warnings: string[]
}

export interface SideUsage {
  userUs: number
  sysUs: number
  voluntaryCtx: number
  involuntaryCtx: number
  messages: number
  scope: 'thread' | 'process'
}

/** Sent by side a to side b on the control channel before anything else. */
export interface Hello {
  type: 'hello'
  spec: CaseSpec
  plan: LoopPlan
  info: unknown
  fds: number[]
  parentPid: number
  cpuB?: number
  fault?: string
}

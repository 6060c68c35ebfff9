import type { CaseError, RepetitionResult } from '../../core/result.js'
import type { Warning } from '../../core/warnings.js'
import type { CasePlan } from '../plan/case-plan.js'

/**
 * How one repetition of a case is taken. Two implementations: Node peers (a fresh
 * case process and its peer) and the C floor (the same case in native C). The case
 * runner does not care which: it asks each for its repetitions, interleaved, and
 * aggregates what they give back the same way.
 */
export interface RepetitionExecutor {
  readonly name: 'node' | 'floor'
  /** Why this executor cannot run the case at all (the C floor has no counterpart); checked once per case. */
  unsupported?(plan: CasePlan): string | undefined
  run(plan: CasePlan, repetition: number, signal?: AbortSignal): Promise<RepOutcome>
}

export type RepOutcome =
  | { ok: true; rep: RepetitionResult; describe: Record<string, string>; warnings: Warning[] }
  | { ok: false; state: 'errored' | 'skipped' | 'aborted'; error: CaseError }

/**
 * Warnings are data: a code that reports and `compare` match, and a message a person
 * reads. Nothing matches a warning by its text.
 */
export type WarningCode =
  /** The host was busy when the run started (load average). */
  | 'busy-host'
  | 'concurrent-run'
  /** The run's cgroup has a CPU quota below the CPUs its cases use. */
  | 'cpu-quota'
  /** The cgroup's CPU quota held the run back while this case ran. */
  | 'cpu-throttled'
  /** The CPU frequency governor is not `performance`. */
  | 'cpu-governor'
  /** Too few repetitions for `compare` to call a change significant. */
  | 'few-repetitions'
  /** `ipcbench clean` work done at the start: objects of dead runs removed. */
  | 'stale-objects'
  /** The C floor is not part of this run. */
  | 'no-floor'
  /** The placement asked for could not be applied as asked. */
  | 'placement'
  /** Sender and receiver of a stream counted different numbers of messages. */
  | 'count-mismatch'
  /** The per-repetition figure varies more than the noise target. */
  | 'noisy'
  /** A repetition measured too few messages for its figures to mean much. */
  | 'few-messages'
  /** The round trip is within a few times the harness's own cost. */
  | 'near-harness-cost'
  /** An option that still works but has a new name. */
  | 'deprecated-option'
  /** A custom mechanism left objects behind after its teardown (the harness removed them). */
  | 'left-behind'
  /** Several pairs of a case did not measure at the same time for most of their span. */
  | 'pairs-apart'
  /** A load case's sender could not keep its offered rate. */
  | 'rate-not-kept'
  /** A warning read from a result file written before warnings had codes. */
  | 'legacy'

export interface Warning {
  code: WarningCode
  message: string
}

export const warning = (code: WarningCode, message: string): Warning => ({ code, message })

/** Adds `w` unless the same warning is there already. */
export function addWarning(list: Warning[], w: Warning): void {
  if (!list.some((x) => x.code === w.code && x.message === w.message)) list.push(w)
}

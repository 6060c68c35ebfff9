import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getMechanism } from '../mechanisms/registry.js'
import type { Calibration, CaseResult, CaseSpec, Cost, Environment, Placement, RepetitionResult, ResolvedOptions, SideCost } from '../types.js'
import { loadNative } from '../native/index.js'
import { overheadWarning, subtractOverhead } from './calibrate.js'
import { planPlacement } from './placement.js'
import { runRepetitionInPeer } from './repetition.js'
import { cvPct, median, summarizeNs } from './stats.js'
import { MIN_MESSAGE_BYTES } from './wire.js'

export interface RunHooks {
  onCaseStart?(spec: CaseSpec, index: number, total: number): void
  onCaseEnd?(result: CaseResult, index: number, total: number): void
  /** Runs the C floor for a case, interleaved with the Node repetitions (see floor-run.ts). */
  baseline?: BaselineRunner
  /** The harness's own cost, measured at the start of the run (calibrate.ts). */
  calibration?: Calibration
  /** Test-only fault for side b, by case id. */
  faultFor?(spec: CaseSpec): string | undefined
}

export interface BaselineRunner {
  /** Called before each Node repetition, so drift hits both alike. */
  repetition(spec: CaseSpec, index: number, placement: { applied: Placement; cpuA?: number; cpuB?: number }): Promise<void>
  /** The baseline figures for the case, once all repetitions ran. */
  finish(spec: CaseSpec, result: CaseResult): void
}

/** Why a case cannot run on this host, before anything starts; undefined when it can. */
export function skipReason(spec: CaseSpec, env: Environment): string | undefined {
  const mech = getMechanism(spec.mechanism)
  if (mech.native && !env.native.addon.loaded) return `native helper not built (${env.native.addon.reason ?? 'unknown reason'})`
  const unavailable = mech.unavailable?.()
  if (unavailable) return unavailable
  if (mech.fixedSizeBytes === undefined && spec.sizeBytes < MIN_MESSAGE_BYTES) return `messages need at least ${MIN_MESSAGE_BYTES} bytes`
  const limit = mech.maxMessage?.(env.limits)
  if (limit && spec.sizeBytes > limit.bytes) {
    return `message size ${spec.sizeBytes} exceeds ${limit.limit}; ${limit.fix}`
  }
  return mech.skipCase?.(spec)
}

/** Runs one case: every repetition in fresh peers, then the aggregate. Never throws. */
export async function runCase(spec: CaseSpec, o: ResolvedOptions, env: Environment, hooks: RunHooks = {}, signal?: AbortSignal): Promise<CaseResult> {
  const startedAt = new Date()
  const result: CaseResult = { ...spec, state: 'completed', repetitions: [], describe: {}, warnings: [], startedAt: startedAt.toISOString() }
  const reason = skipReason(spec, env)
  if (reason) return { ...result, state: 'skipped', reason }
  const placement = planPlacement(spec, o.pin, env.host.cpusAllowed, loadNative().ok)
  if ('skip' in placement) return { ...result, state: 'skipped', reason: placement.skip }
  if (placement.warning) result.warnings.push(placement.warning)

  const workDir = mkdtempSync(join(tmpdir(), `ipcbench-${process.pid}-run-`))
  const pooled: Float64Array[] = []
  try {
    for (let i = 0; i < o.repetitions; i++) {
      if (signal?.aborted) return finishAborted(result, startedAt)
      await hooks.baseline?.repetition(spec, i, placement)
      const outcome = await runRepetitionInPeer(
        {
          spec,
          repetition: i,
          plan: { sizeBytes: Math.max(spec.sizeBytes, MIN_MESSAGE_BYTES), warmup: warmupFor(o.warmup, spec.sizeBytes), durationMs: o.durationMs, maxMessages: o.maxMessages },
          placement: { requested: o.pin, applied: placement.applied, cpuA: placement.cpuA, cpuB: placement.cpuB },
          samplesPath: join(workDir, `samples-${i}-${randomBytes(4).toString('hex')}.f64`),
          fault: hooks.faultFor?.(spec),
        },
        o.timeoutMs,
        signal,
      )
      if (!outcome.ok) {
        if (outcome.aborted) return finishAborted(result, startedAt)
        const e = outcome.error
        const where = e.side === 'b' ? 'peer (side b)' : e.side === 'a' ? 'side a' : 'harness'
        return { ...result, state: 'errored', reason: `${where}: ${e.message}`, error: e, durationMs: Date.now() - startedAt.getTime() }
      }
      result.repetitions.push(outcome.rep)
      result.describe = outcome.describe
      for (const w of outcome.warnings) if (!result.warnings.includes(w)) result.warnings.push(w)
      if (outcome.samples.length > 0) pooled.push(outcome.samples)
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
  aggregate(result, pooled)
  if (hooks.calibration) {
    // Before the ratio to C, so that --subtract-overhead applies to it too.
    if (o.subtractOverhead) subtractOverhead(result, hooks.calibration)
    const near = overheadWarning(result, hooks.calibration)
    if (near) result.warnings.push(near)
  }
  hooks.baseline?.finish(spec, result)
  result.durationMs = Date.now() - startedAt.getTime()
  return result
}

/**
 * Warm-up is a count, capped at 16 MiB of traffic: 500 round trips of 1 MiB would
 * spend half a second warming a path that is warm after a few dozen.
 */
export function warmupFor(warmup: number, sizeBytes: number): number {
  return Math.min(warmup, Math.max(16, Math.floor((16 * 1024 * 1024) / Math.max(1, sizeBytes))))
}

function finishAborted(result: CaseResult, startedAt: Date): CaseResult {
  return { ...result, state: 'aborted', reason: 'interrupted (SIGINT/SIGTERM) while this case was running', durationMs: Date.now() - startedAt.getTime() }
}

/** The case's figures from its repetitions: pooled latency samples, medians of the rest, the spread. */
export function aggregate(result: CaseResult, pooled: Float64Array[]): void {
  const reps = result.repetitions
  if (reps.length === 0) return
  if (result.pattern === 'pingpong') {
    const total = pooled.reduce((n, s) => n + s.length, 0)
    const all = new Float64Array(total)
    let off = 0
    for (const s of pooled) {
      all.set(s, off)
      off += s.length
    }
    if (total > 0) result.latencyNs = summarizeNs(all)
    const batch = Math.max(...reps.map((r) => r.batch))
    result.timing = batch > 1 ? `batches of ${batch} round trips, each sample the batch mean (a round trip is too short to time alone)` : 'each sample one round trip'
    const p50s = reps.filter((r) => r.latencyNs).map((r) => r.latencyNs!.p50)
    if (p50s.length > 0) result.spread = spreadOf('latencyNs.p50', p50s)
  } else {
    const tputs = reps.filter((r) => r.throughput).map((r) => r.throughput!)
    if (tputs.length > 0) {
      result.throughput = { bytesPerSec: median(tputs.map((t) => t.bytesPerSec)), msgsPerSec: median(tputs.map((t) => t.msgsPerSec)) }
      result.spread = spreadOf('throughput.bytesPerSec', tputs.map((t) => t.bytesPerSec))
    }
    result.timing = 'receiver side, from the last warm-up message to the end of the stream'
  }
  result.cpu = medianCost(reps)
  if (result.spread && result.spread.cvPct > 15 && reps.length > 1) {
    result.warnings.push(`noisy: the per-repetition figure varies ${result.spread.cvPct.toFixed(0)}% (cv) across ${reps.length} repetitions`)
  }
  const small = reps.filter((r) => r.messages < 100)
  if (small.length > 0) result.warnings.push(`only ${Math.min(...small.map((r) => r.messages))} messages measured in a repetition; raise --duration`)
}

function spreadOf(metric: 'latencyNs.p50' | 'throughput.bytesPerSec', values: number[]) {
  return { metric, min: Math.min(...values), median: median(values), max: Math.max(...values), cvPct: cvPct(values) }
}

function medianCost(reps: RepetitionResult[]): Cost {
  const side = (pick: (r: RepetitionResult) => SideCost): SideCost => ({
    userUsPerMsg: median(reps.map((r) => pick(r).userUsPerMsg)),
    sysUsPerMsg: median(reps.map((r) => pick(r).sysUsPerMsg)),
    voluntaryCtxPerMsg: median(reps.map((r) => pick(r).voluntaryCtxPerMsg)),
    involuntaryCtxPerMsg: median(reps.map((r) => pick(r).involuntaryCtxPerMsg)),
    scope: pick(reps[0]).scope,
  })
  return { a: side((r) => r.cpu.a), b: side((r) => r.cpu.b) }
}

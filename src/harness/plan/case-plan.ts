import { MIN_WINDOW_MS, type CaseSpec, type Environment, type Mode, type OfferedRate, type ResolvedOptions } from '../../core/result.js'
import { MIN_MESSAGE_BYTES, TIMED_MIN_BYTES, wireBytes } from '../../core/wire.js'
import { FANIN_MIN_BYTES } from '../../core/fanin-wire.js'
import { warning, type Warning } from '../../core/warnings.js'
import { getMechanism } from '../../mechanisms/registry.js'
import type { LoopPlan, PlacementPlan } from '../case/protocol.js'
import { readTopology } from '../host/topology.js'
import { planPairs } from './pairs.js'
import { planPlacement } from './placement.js'

/**
 * One case's plan, made once and handed to every executor of its repetitions (the
 * Node peers and the C floor alike), so both run the same size, warm-up, time bound
 * and placement.
 */
export interface CasePlan {
  spec: CaseSpec
  loop: LoopPlan
  placement: PlacementPlan
  timeoutMs: number
  /** `--samples`: where each executor also keeps its repetitions' raw samples. */
  samplesDir?: string
  /** What the plan could not do as asked (placement), for the result. */
  warnings: Warning[]
  /**
   * Load: the rate the sender keeps (`loop.intervalNs` is its gap), and for a share of
   * the capacity, the capacity. Set by the case runner once it knows the capacity.
   */
  load?: { requested: OfferedRate; offeredMsgsPerSec: number; capacityMsgsPerSec?: number }
  /** Several pairs at once: each pair's placement (harness/plan/pairs.ts), and the plan in words. */
  pairs?: { placements: PlacementPlan[]; described: string }
  /**
   * Side b is started with the case process rather than after the set-up, so that the
   * two starts overlap: a child beside it, its fds handed over once they exist
   * (SCM_RIGHTS, through the addon), or a worker at its start, its ports and memory
   * transferred later. Not where the spawn makes the channel, nor for fan-in.
   */
  peerAtStart?: boolean
}

/**
 * Busy-poll runs its whole duration, whatever the sample target: a Node side spinning on
 * its CPU shares it with V8's own threads (compiling, collecting), which preempt it for
 * milliseconds at a time in its first few thousand round trips (stalls of 0.5–7 ms at the
 * same round trips of every repetition). A 10–40 ms phase then measured a ring's p50 at
 * 0.56–1.06 µs where 150 ms measured 0.43–0.60 (the C floor, with no such threads,
 * 0.15–0.22 either way).
 */
const WHOLE_DURATION_MODES: readonly Mode[] = ['busy-poll']

export type PlanOutcome = { plan: CasePlan } | { skip: string }

export function planCase(spec: CaseSpec, o: ResolvedOptions, env: Environment, canPinThreads: boolean): PlanOutcome {
  const reason = skipReason(spec, env)
  if (reason) return { skip: reason }
  const placement = planPlacement(spec, o.pin, env.host.cpusAllowed, canPinThreads)
  if ('skip' in placement) return placement
  const sizeBytes = wireBytes(spec.sizeBytes)
  const pairs = (spec.pairs ?? 1) > 1 ? planManyPairs(spec, o, env, canPinThreads) : undefined
  if (pairs && 'skip' in pairs) return pairs
  return {
    plan: {
      spec,
      loop: {
        sizeBytes,
        warmup: warmupFor(o.warmup, spec.sizeBytes),
        durationMs: o.durationMs,
        maxMessages: o.maxMessages,
        targetSamples: o.targetSamples === undefined || WHOLE_DURATION_MODES.includes(spec.mode) ? 0 : o.targetSamples,
        minWindowMs: Math.min(MIN_WINDOW_MS, o.durationMs),
      },
      placement: { requested: o.pin, applied: placement.applied, cpuA: placement.cpuA, cpuB: placement.cpuB },
      timeoutMs: o.timeoutMs,
      ...(o.samplesDir ? { samplesDir: o.samplesDir } : {}),
      warnings: pairs ? pairs.warnings : placement.warning ? [warning('placement', placement.warning)] : [],
      peerAtStart:
        spec.pattern !== 'fanin' && (spec.endpoints === 'thread' || (env.native.addon.loaded && !getMechanism(spec.mechanism).peerMadeBySpawn)),
      ...(pairs ? { pairs: { placements: pairs.placements, described: pairs.described } } : {}),
    },
  }
}

/**
 * Several pairs of one case at once: each pair's two CPUs from the plan over the host's
 * topology (`--pair-placement`), read from sysfs when the run started. Every pair is
 * pinned: pairs left to the scheduler would measure where it happened to put them.
 */
function planManyPairs(
  spec: CaseSpec,
  o: ResolvedOptions,
  env: Environment,
  canPinThreads: boolean,
): { placements: PlacementPlan[]; described: string; warnings: Warning[] } | { skip: string } {
  if (spec.endpoints === 'thread' && !canPinThreads) return { skip: 'several pairs of threads need the native helper to pin each thread' }
  const topology = env.host.topology ?? readTopology(env.host.cpusAllowed)
  const request = o.pairPlacement ?? 'auto'
  const plan = planPairs(topology, spec.pairs!, request, { spin: spec.mode === 'busy-poll' })
  if ('skip' in plan) return plan
  const placements = plan.pairs.map((p): PlacementPlan => ({
    requested: o.pin,
    applied: p.cpuA === p.cpuB ? 'same' : 'split',
    cpuA: p.cpuA,
    cpuB: p.cpuB,
  }))
  const described = `${request}: ${plan.pairs.map((p, i) => `pair ${i} on CPUs ${p.cpuA},${p.cpuB}`).join('; ')}`
  return { placements, described, warnings: plan.warnings }
}

/** Why a case cannot run on this host, before anything starts; undefined when it can. */
export function skipReason(spec: CaseSpec, env: Environment): string | undefined {
  const mech = getMechanism(spec.mechanism)
  const needsAddon = spec.pattern === 'fanin' ? mech.fanIn?.native === true : mech.native
  if (needsAddon && !env.native.addon.loaded) return `native helper not built (${env.native.addon.reason ?? 'unknown reason'})`
  if (mech.fixedSizeBytes === undefined && spec.sizeBytes < MIN_MESSAGE_BYTES) return `messages need at least ${MIN_MESSAGE_BYTES} bytes`
  if ((spec.pattern === 'oneway' || spec.pattern === 'load') && spec.sizeBytes < TIMED_MIN_BYTES)
    return `${spec.pattern} messages need at least ${TIMED_MIN_BYTES} bytes (the sequence word and a time)`
  if (spec.pattern === 'fanin' && spec.sizeBytes < FANIN_MIN_BYTES)
    return `fan-in messages need at least ${FANIN_MIN_BYTES} bytes (the sender's sequence word and its send time)`
  // With several senders a tighter limit can hold (a FIFO's PIPE_BUF); the mechanism's own holds too.
  const fanLimit = spec.pattern === 'fanin' ? mech.fanIn?.maxMessage?.(env.limits) : undefined
  const own = mech.maxMessage?.(env.limits)
  const limit = fanLimit && (!own || fanLimit.bytes < own.bytes) ? fanLimit : own
  if (limit && spec.sizeBytes > limit.bytes) {
    return `message size ${spec.sizeBytes} exceeds ${limit.limit}; ${limit.fix}`
  }
  return mech.skipCase?.(spec, env.limits)
}

/**
 * Warm-up is a count, capped at 16 MiB of traffic: 500 round trips of 1 MiB would
 * spend half a second warming a path that is warm after a few dozen.
 */
export function warmupFor(warmup: number, sizeBytes: number): number {
  return Math.min(warmup, Math.max(16, Math.floor((16 * 1024 * 1024) / Math.max(1, sizeBytes))))
}

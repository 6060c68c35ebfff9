import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { reasonOf } from '../../core/errors.js'
import { buildHistogram, encodeHistogram } from '../../core/histogram.js'
import type { CpuTotal, Pattern, RepetitionResult, SideCost, StoppedBy } from '../../core/result.js'
import { summarizeNs } from '../../core/stats.js'
import { warning, type Warning } from '../../core/warnings.js'
import type { RepReport, SideUsage } from '../case/protocol.js'
import type { CasePlan } from '../plan/case-plan.js'
import type { RepOutcome } from './executor.js'

/**
 * One repetition's figures from what its executor reported, the same for the Node
 * peers and the C floor (both report the RepReport shape).
 */
export function buildRepetition(plan: CasePlan, index: number, r: RepReport, samples: Float64Array): RepetitionResult {
  const { spec, placement } = plan
  // Each side over its own window: side b's ping-pong echo also counts the settling blocks.
  const a = perMessage(r.costA, r.messages)
  const b = perMessage(r.costB, r.messagesB ?? r.messages)
  const rep: RepetitionResult = {
    index,
    messages: r.messages,
    ...(r.warmupMessages !== undefined ? { warmupMessages: r.warmupMessages } : {}),
    elapsedNs: r.elapsedNs,
    ...(spec.pattern === 'fanin' ? {} : { stoppedBy: stoppedBy(plan, r) }),
    batch: r.batch,
    cpu: { a, b, total: totalPerMessage(r, a, b, spec.endpoints) },
    placement: { requested: placement.requested, applied: placement.applied, cpusA: r.cpusA, cpusB: r.cpusB },
    ...(r.phaseNs ? { phaseNs: r.phaseNs } : {}),
    ...(r.startup ? { startupMs: startupOf(r.startup) } : {}),
    ...(r.peakRssKiB ? { peakRssKiB: r.peakRssKiB } : {}),
  }
  if (hasSamples(spec.pattern) && samples.length > 0) {
    rep.latencyNs = summarizeNs(samples)
    rep.histogram = encodeHistogram(buildHistogram(samples))
  }
  if (spec.pattern === 'oneway' && rep.latencyNs && r.roundTripP50Ns) {
    rep.oneWay = { roundTripP50Ns: r.roundTripP50Ns, p50OverRoundTrip: rep.latencyNs.p50 / r.roundTripP50Ns }
  }
  if (spec.pattern === 'load' && plan.load) {
    const sent = r.sent ?? r.messages
    const achieved = r.sendElapsedNs && r.sendElapsedNs > 0 ? sent / (r.sendElapsedNs / 1e9) : 0
    const total = rep.cpu.total!
    rep.load = {
      requested: plan.load.requested,
      offeredMsgsPerSec: plan.load.offeredMsgsPerSec,
      ...(plan.load.capacityMsgsPerSec !== undefined ? { capacityMsgsPerSec: plan.load.capacityMsgsPerSec } : {}),
      achievedMsgsPerSec: achieved,
      achievedOverOffered: plan.load.offeredMsgsPerSec > 0 ? achieved / plan.load.offeredMsgsPerSec : 0,
      cpuUsPerMsg: total.userUsPerMsg + total.sysUsPerMsg,
    }
    if (r.sendElapsedNs && r.sendElapsedNs > 0) rep.throughput = { bytesPerSec: achieved * spec.sizeBytes, msgsPerSec: achieved }
  }
  if ((spec.pattern === 'pingpong' || spec.pattern === 'oneway') && r.elapsedNs > 0) rep.roundTripsPerSec = r.messages / (r.elapsedNs / 1e9)
  if (spec.pattern === 'fanin') {
    // The receiver's messages and CPU are side a's, every sender's added are side b's, over the same messages.
    rep.cpu.total = { ...rep.cpu.total!, scope: r.costA.process ? 'whole process' : 'receiver and senders' }
    if (r.fanIn) rep.fanIn = r.fanIn
  }
  if ((spec.pattern === 'stream' || spec.pattern === 'fanin') && r.elapsedNs > 0) {
    const seconds = r.elapsedNs / 1e9
    rep.throughput = { bytesPerSec: (r.messages * spec.sizeBytes) / seconds, msgsPerSec: r.messages / seconds }
  }
  return rep
}

/** The patterns whose side a keeps a latency sample per message: round trips, one-way latencies, latencies from the schedule. */
export const hasSamples = (p: Pattern): boolean => p === 'pingpong' || p === 'oneway' || p === 'load'

/**
 * What ended the measured phase, read from its figures (Node's loops and the C floor
 * stop by the same rule): the message bound; the sample target, which ends a phase
 * only before its duration is up (it needs at least `minWindowMs`, never more than the
 * duration); else the duration.
 */
function stoppedBy(plan: CasePlan, r: RepReport): StoppedBy {
  const { maxMessages, targetSamples, durationMs } = plan.loop
  if (r.messages >= maxMessages) return 'max-messages'
  if (targetSamples > 0 && r.messages >= targetSamples && r.elapsedNs < durationMs * 1e6) return 'samples'
  return 'duration'
}

function perMessage(u: SideUsage, messages: number): SideCost {
  const n = Math.max(1, messages)
  return {
    userUsPerMsg: u.userUs / n,
    sysUsPerMsg: u.sysUs / n,
    voluntaryCtxPerMsg: u.voluntaryCtx / n,
    involuntaryCtxPerMsg: u.involuntaryCtx / n,
    scope: u.scope,
  }
}

/**
 * All the CPU of the repetition: a thread case's whole process as side a read it, else
 * both sides added (each a whole process, or, in the C floor, each its only thread).
 */
function totalPerMessage(r: RepReport, a: SideCost, b: SideCost, endpoints: 'process' | 'thread'): CpuTotal {
  if (r.costA.process) return { ...perMessage({ ...r.costA.process, scope: 'process' }, r.messages), scope: 'whole process' }
  return {
    userUsPerMsg: a.userUsPerMsg + b.userUsPerMsg,
    sysUsPerMsg: a.sysUsPerMsg + b.sysUsPerMsg,
    voluntaryCtxPerMsg: a.voluntaryCtxPerMsg + b.voluntaryCtxPerMsg,
    involuntaryCtxPerMsg: a.involuntaryCtxPerMsg + b.involuntaryCtxPerMsg,
    scope: endpoints === 'process' ? 'both processes' : 'both threads',
  }
}

/** The first `count` samples a side wrote (little-endian float64 ns); none when it wrote no file. */
export function readSamples(path: string, count: number): Float64Array {
  if (!existsSync(path)) return new Float64Array(0)
  const bytes = readFileSync(path)
  const n = Math.min(count, Math.floor(bytes.byteLength / 8))
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 8))
}

/**
 * `--samples`: a repetition's raw latency samples (ping-pong, one-way, load), the bytes
 * its side wrote (little-endian float64 ns, one per message timed), also kept as
 * `<dir>/<case id, / as _>/<executor>-<repetition>.f64`, with its row in
 * `<dir>/index.csv`. The errored outcome when they could not be written: the run was
 * asked to keep them.
 */
export function keepSamples(plan: CasePlan, executor: string, repetition: number, samples: Float64Array): RepOutcome | undefined {
  const dir = plan.samplesDir
  if (!dir || !hasSamples(plan.spec.pattern) || samples.length === 0) return undefined
  const caseDir = plan.spec.id.replaceAll('/', '_')
  const file = join(caseDir, `${executor}-${repetition}.f64`)
  try {
    mkdirSync(join(dir, caseDir), { recursive: true })
    writeFileSync(join(dir, file), new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength))
    appendFileSync(join(dir, 'index.csv'), `${plan.spec.id},${executor},${repetition},${samples.length},${file}\n`)
  } catch (err) {
    return { ok: false, state: 'errored', error: { message: `--samples: cannot write ${join(dir, file)} (${reasonOf(err)})`, side: 'harness' } }
  }
  return undefined
}

/**
 * A system call the host refuses outright (EPERM or ENOSYS: a seccomp profile, as
 * container runtimes install, or a kernel built without the facility) makes the case
 * impossible here, not broken: the reason to skip it, naming the call.
 */
export function refusedCall(e: { code?: string; syscall?: string }): string | undefined {
  if ((e.code !== 'EPERM' && e.code !== 'ENOSYS') || !e.syscall) return undefined
  return `${e.syscall} refused (${e.code}): this host does not allow it (a seccomp profile, such as a container runtime's, or a kernel without the facility)`
}

/** What a report says that does not end the repetition, as warnings. */
export function reportWarnings(r: RepReport): Warning[] {
  return r.countMismatch ? [warning('count-mismatch', `sender counted ${r.countMismatch.sent} messages, receiver ${r.countMismatch.received}`)] : []
}

function startupOf(s: NonNullable<RepReport['startup']>): NonNullable<RepetitionResult['startupMs']> {
  return {
    caseProcess: s.caseProcessMs,
    peer: s.peerMs,
    ...(s.peerEarly ? { peerEarly: true, peerWait: s.peerWaitMs ?? 0 } : {}),
  }
}

import { IntegrityError } from '../../core/errors.js'
import { isStop, makeMessage, MessageCheck, nowNs, readSeq, readTimeNs, stamp, STOP, writeTimeNs } from '../../core/wire.js'
import type { AsyncEndpoint, SyncEndpoint } from '../../mechanisms/types.js'
import { costBetween, type CostMeter } from './cpu.js'
import { SendBuffers, Settler, verify, warmUp, type EchoResult, type PingpongResult } from './loops.js'
import type { CostSnapshot, LoopPlan } from './protocol.js'

/**
 * The loops of the time-stamped patterns (core/wire.ts: bytes 4..11 of each message
 * hold a CLOCK_MONOTONIC time, which the receiving side's check skips). The C floor
 * runs the same loops (native-helpers/floor/loops.c). docs/ARCHITECTURE.md describes
 * each one's timing model.
 *
 * `oneway`: side a writes its clock into each message just before the send; side b
 * reads its clock on receipt, writes that time into the message and sends it back as
 * the acknowledgement; side a subtracts. Each sample is one message's latency a to b,
 * and the next message waits for the acknowledgement, so no queue enters it.
 *
 * `load`: side b sends message k at its scheduled time t0 + k × interval, with that
 * scheduled time in it; side a (the receiver) times each message from it, so a
 * message the sender sent late (stalled, pushed back) counts all of its lateness.
 */

export interface OnewayResult extends PingpongResult {
  /** The same messages' round trips (send to the checked acknowledgement), nearest-rank median. */
  roundTripP50Ns: number
  /** The measured phase on the clock: its start and its last acknowledgement (ns). */
  phaseNs: [number, number]
}

/** The nearest-rank median of the first `n` values (a copy is sorted). */
export function medianOf(values: Float64Array, n: number): number {
  if (n === 0) return 0
  const sorted = values.slice(0, n).sort()
  return sorted[Math.ceil(n / 2) - 1]
}

/**
 * Side a, one-way, blocking and busy-poll: the warm-up of the ping-pong loop (the
 * fixed count, then settling blocks), then per message: stamp, clock read, its time
 * written in, send, receive of the acknowledgement, clock read, check. The sample is
 * side b's receive time less the send time; the round trip is kept beside it.
 */
export function syncOnewayA(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): OnewayResult {
  const size = plan.sizeBytes
  let out = makeMessage(size)
  const into = new Uint8Array(size)
  const check = new MessageCheck(size, true)
  const transfers = ep.transfers === true
  let seq = 0
  const roundTrip = (): void => {
    stamp(out, seq)
    writeTimeNs(out, nowNs())
    ep.send(out)
    const echo = ep.recv(into)
    verify(check, echo, seq)
    if (transfers) out = echo
    seq++
  }
  warmUp(plan, roundTrip)
  const warmupMessages = seq

  const samples = new Float64Array(Math.max(1, plan.maxMessages))
  const roundTrips = new Float64Array(samples.length)
  let count = 0
  const c0 = meter()
  const start = nowNs()
  const deadline = start + plan.durationMs * 1e6
  const enough = { samples: plan.targetSamples > 0 ? plan.targetSamples : Infinity, after: start + plan.minWindowMs * 1e6 }
  let last = start
  // Timed: each message's send time and side b's receive time, and the round trip.
  while (count < samples.length) {
    stamp(out, seq)
    const sent = nowNs()
    writeTimeNs(out, sent)
    ep.send(out)
    const echo = ep.recv(into)
    const now = nowNs()
    const problem = check.check(echo, seq)
    if (problem !== undefined) throw new IntegrityError(problem)
    samples[count] = readTimeNs(echo) - sent
    roundTrips[count++] = now - sent
    if (transfers) out = echo
    seq++
    last = now
    if (now >= deadline || (count >= enough.samples && now >= enough.after)) break
  }
  const cost = costBetween(c0, meter())

  stamp(out, STOP)
  ep.send(out)
  const stop = ep.recv(into)
  if (readSeq(stop) !== STOP) throw new IntegrityError(`expected the STOP echo, got message ${readSeq(stop)}`)
  return {
    warmupMessages,
    messages: count,
    elapsedNs: last - start,
    samples,
    sampleCount: count,
    batch: 1,
    cost,
    roundTripP50Ns: medianOf(roundTrips, count),
    phaseNs: [start, last],
  }
}

/** Side b, one-way, blocking and busy-poll: per message a clock read on receipt, the check, that time written in, the acknowledgement. */
export function syncOnewayB(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): EchoResult {
  const size = plan.sizeBytes
  const into = new Uint8Array(size)
  const check = new MessageCheck(size, true)
  let seq = 0
  let c0 = meter()
  for (;;) {
    if (seq === plan.warmup) c0 = meter()
    const msg = ep.recv(into)
    const at = nowNs()
    if (isStop(msg, size)) {
      ep.send(msg)
      break
    }
    verify(check, msg, seq)
    writeTimeNs(msg, at)
    ep.send(msg)
    seq++
  }
  return { messages: Math.max(0, seq - plan.warmup), cost: costBetween(c0, meter()) }
}

/**
 * Side a, one-way, event loop: the ping-pong's callback-driven loop with the one-way
 * stamps, each acknowledgement checked and timed in its callback, the next message
 * sent from there.
 */
export function asyncOnewayA(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<OnewayResult> {
  const size = plan.sizeBytes
  let out = makeMessage(size)
  const check = new MessageCheck(size, true)
  const transfers = ep.transfers === true
  const samples = new Float64Array(Math.max(1, plan.maxMessages))
  const roundTrips = new Float64Array(samples.length)
  let seq = 0
  let count = 0
  let c0 = meter()
  let cost = costBetween(c0, c0)
  let measuring = false
  let start = 0
  let last = 0
  let sent = 0
  let deadline = 0
  const target = plan.targetSamples > 0 ? plan.targetSamples : Infinity
  let after = 0
  let stopping = false
  let warmupMessages = 0
  let settler: Settler | undefined
  let blockStart = 0n
  let blockLeft = 0
  const send = (): void => {
    stamp(out, seq)
    sent = nowNs()
    writeTimeNs(out, sent)
    ep.send(out)
  }
  const startMeasuring = (): void => {
    warmupMessages = seq
    measuring = true
    c0 = meter()
    start = nowNs()
    last = start
    deadline = start + plan.durationMs * 1e6
    after = start + plan.minWindowMs * 1e6
  }
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    ep.onMessage((msg) => {
      const now = nowNs()
      if (stopping) {
        if (readSeq(msg) !== STOP) return reject(new IntegrityError(`expected the STOP echo, got message ${readSeq(msg)}`))
        return resolve({
          warmupMessages,
          messages: count,
          elapsedNs: last - start,
          samples,
          sampleCount: count,
          batch: 1,
          cost,
          roundTripP50Ns: medianOf(roundTrips, count),
          phaseNs: [start, last],
        })
      }
      const problem = check.check(msg, seq)
      if (problem !== undefined) return reject(new IntegrityError(problem))
      if (measuring) {
        samples[count] = readTimeNs(msg) - sent
        roundTrips[count++] = now - sent
        last = now
      }
      if (transfers) out = msg
      seq++
      if (measuring) {
        if (count >= samples.length || now >= deadline || (count >= target && now >= after)) {
          cost = costBetween(c0, meter())
          stopping = true
          stamp(out, STOP)
          ep.send(out)
          return
        }
      } else if (settler !== undefined) {
        if (--blockLeft === 0) {
          const t = process.hrtime.bigint()
          if (settler.another(Number(t - blockStart), t)) {
            blockLeft = settler.block
            blockStart = process.hrtime.bigint()
          } else startMeasuring()
        }
      } else if (seq === plan.warmup) {
        settler = new Settler(plan)
        blockLeft = settler.block
        blockStart = process.hrtime.bigint()
      }
      send()
    })
    if (plan.warmup === 0) startMeasuring()
    send()
  })
}

/** Side b, one-way, event loop: the receive time, the check, the time written in, the acknowledgement, from the message callback. */
export function asyncOnewayB(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<EchoResult> {
  const size = plan.sizeBytes
  const check = new MessageCheck(size, true)
  let seq = 0
  let c0 = meter()
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    ep.onMessage((msg) => {
      const at = nowNs()
      if (isStop(msg, size)) {
        const cost = costBetween(c0, meter())
        ep.send(msg)
        return resolve({ messages: Math.max(0, seq - plan.warmup), cost })
      }
      const problem = check.check(msg, seq)
      if (problem !== undefined) return reject(new IntegrityError(problem))
      if (seq === plan.warmup) c0 = meter()
      seq++
      writeTimeNs(msg, at)
      ep.send(msg)
    })
  })
}

// ── load ─────────────────────────────────────────────────────────────────────────

/** What the scheduled sender (side b) did over the measured phase. */
export interface PacedSendResult {
  /** Measured messages sent. */
  messages: number
  /** From the first measured message's scheduled time to the return of the last send. */
  elapsedNs: number
  cost: CostSnapshot
}

/** What the receiver (side a) of a load case measured. */
export interface LoadReceiveResult {
  messages: number
  samples: Float64Array
  sampleCount: number
  cost: CostSnapshot
  /** From the receipt of the first measured message to the receipt of STOP (ns on the clock). */
  phaseNs: [number, number]
}

/** A gap longer than this is slept (then spun for its last SPIN_NS); a shorter one is spun. */
const SLEEP_OVER_NS = 200_000
const SPIN_NS = 100_000
const sleeper = new Int32Array(new SharedArrayBuffer(4))

/**
 * Waits until the clock reads `at`: a sleep that ends SPIN_NS early (a sleep alone
 * overshoots by tens of microseconds), then a spin. A time already past returns at once.
 */
export function waitUntil(at: number): void {
  const gap = at - nowNs()
  if (gap > SLEEP_OVER_NS) Atomics.wait(sleeper, 0, 0, (gap - SPIN_NS) / 1e6)
  while (nowNs() < at);
}

/** The measured phase's bounds for a sender that starts it at `start`, as the other loops' (enoughFor). */
function phaseBounds(plan: LoopPlan, start: number): (sent: number, now: number) => boolean {
  const durationNs = plan.durationMs * 1e6
  const target = plan.targetSamples > 0 ? plan.targetSamples : Infinity
  const windowNs = plan.minWindowMs * 1e6
  return (sent, now) => sent >= plan.maxMessages || now - start >= durationNs || (sent >= target && now - start >= windowNs)
}

/**
 * Side b, load, blocking and busy-poll: message k waits for its scheduled time
 * t0 + k × interval (never skipped, never rescheduled: one sent late keeps its time),
 * carries it, and goes; the first `warmup` are the warm-up, the measured ones follow on
 * the same schedule until the time or count bound, then STOP. An interval of 0 sends as
 * fast as the channel takes them (the capacity the percentages are shares of).
 */
export function syncLoadB(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): PacedSendResult {
  const size = plan.sizeBytes
  const interval = plan.intervalNs ?? 0
  const template = makeMessage(size)
  const transfers = ep.transfers === true
  let out = template
  const t0 = nowNs()
  let start = t0
  let c0 = meter()
  let ended = phaseBounds(plan, start)
  let last = start
  // One loop for the warm-up and the measured messages: a second loop would be compiled
  // afresh (on-stack replacement) just as the measured phase starts, and stall it.
  for (let k = 0; ; k++) {
    if (k === plan.warmup) {
      // The measured phase starts at its first message's scheduled time (at full speed, now).
      start = interval > 0 ? t0 + Math.round(k * interval) : nowNs()
      ended = phaseBounds(plan, start)
      c0 = meter()
    } else if (k > plan.warmup && ended(k - plan.warmup, last)) {
      const cost = costBetween(c0, meter())
      if (transfers) out = template.slice()
      stamp(out, STOP)
      writeTimeNs(out, nowNs())
      ep.send(out)
      return { messages: k - plan.warmup, elapsedNs: last - start, cost }
    }
    const at = t0 + Math.round(k * interval)
    waitUntil(at)
    if (transfers) out = template.slice()
    stamp(out, k)
    writeTimeNs(out, at)
    ep.send(out)
    if (k >= plan.warmup) last = nowNs()
  }
}

/** Side a, load, blocking and busy-poll: per message the receive, a clock read, the check; the sample is its receipt less its scheduled time. */
export function syncLoadA(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): LoadReceiveResult {
  const size = plan.sizeBytes
  const into = new Uint8Array(size)
  const check = new MessageCheck(size, true)
  const samples = new Float64Array(Math.max(1, plan.maxMessages))
  let seq = 0
  let count = 0
  let c0 = meter()
  let first = 0
  for (;;) {
    const msg = ep.recv(into)
    const at = nowNs()
    if (isStop(msg, size)) return { messages: count, samples, sampleCount: count, cost: costBetween(c0, meter()), phaseNs: [first, at] }
    verify(check, msg, seq)
    if (seq >= plan.warmup) {
      if (count === samples.length) throw new IntegrityError(`more measured messages than the ${plan.maxMessages} the plan bounds`)
      if (count === 0) first = at
      samples[count++] = at - readTimeNs(msg)
    }
    seq++
    if (seq === plan.warmup) c0 = meter()
  }
}

/**
 * Side b, load, event loop: the same schedule, driven by the loop. Each message is sent
 * at its time; before a gap longer than SLEEP_OVER_NS the loop gets a timer, before a
 * shorter one an immediate, so it can run what came meanwhile (a drain, a credit), and
 * the last of the gap is spun. A send the endpoint pushes back waits for its drain.
 */
export function asyncLoadB(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<PacedSendResult> {
  const size = plan.sizeBytes
  const interval = plan.intervalNs ?? 0
  const buffers = new SendBuffers(ep, makeMessage(size))
  const t0 = nowNs()
  let k = 0
  let c0 = meter()
  let start = 0
  let last = 0
  let ended: ((sent: number, now: number) => boolean) | undefined
  let waitingForDrain = false
  let stopped: PacedSendResult | undefined
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    const next = (): void => {
      for (;;) {
        if (k === plan.warmup && ended === undefined) {
          start = interval > 0 ? t0 + Math.round(k * interval) : nowNs()
          last = start
          ended = phaseBounds(plan, start)
          c0 = meter()
        }
        if (ended !== undefined && k > plan.warmup && ended(k - plan.warmup, nowNs())) {
          const buf = buffers.take(next)
          if (buf === undefined) return
          const cost = costBetween(c0, meter())
          stamp(buf, STOP)
          const result = { messages: k - plan.warmup, elapsedNs: last - start, cost }
          // A full channel keeps STOP in the backlog: the result waits for its drain, since
          // side b closes its end once this resolves, and an unsent STOP would go with it.
          waitingForDrain = true
          if (buffers.send(buf)) {
            waitingForDrain = false
            return resolve(result)
          }
          stopped = result
          return
        }
        const at = t0 + Math.round(k * interval)
        const gap = at - nowNs()
        if (gap > SLEEP_OVER_NS) return void setTimeout(next, Math.max(0, (gap - SPIN_NS) / 1e6 - 1))
        const buf = buffers.take(next)
        if (buf === undefined) return
        while (nowNs() < at);
        stamp(buf, k)
        writeTimeNs(buf, at)
        k++
        // Set before the send: an endpoint may drain (and say so) before its send returns false.
        waitingForDrain = true
        const more = buffers.send(buf)
        if (more) waitingForDrain = false
        last = nowNs()
        if (!more) return
        // Let the loop run between messages that are not yet due.
        if (t0 + k * interval > last) return void setImmediate(next)
      }
    }
    ep.onDrain(() => {
      if (!waitingForDrain) return
      waitingForDrain = false
      if (stopped) resolve(stopped)
      else setImmediate(next)
    })
    next()
  })
}

/** Side a, load, event loop: per message, from its callback, a clock read, the check, and the sample from its scheduled time. */
export function asyncLoadA(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<LoadReceiveResult> {
  const size = plan.sizeBytes
  const check = new MessageCheck(size, true)
  const samples = new Float64Array(Math.max(1, plan.maxMessages))
  let seq = 0
  let count = 0
  let c0 = meter()
  let first = 0
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    ep.onMessage((msg) => {
      const at = nowNs()
      if (isStop(msg, size)) return resolve({ messages: count, samples, sampleCount: count, cost: costBetween(c0, meter()), phaseNs: [first, at] })
      const problem = check.check(msg, seq)
      if (problem !== undefined) return reject(new IntegrityError(problem))
      if (seq >= plan.warmup) {
        if (count === samples.length) return reject(new IntegrityError(`more measured messages than the ${plan.maxMessages} the plan bounds`))
        if (count === 0) first = at
        samples[count++] = at - readTimeNs(msg)
      }
      seq++
      if (seq === plan.warmup) c0 = meter()
    })
  })
}

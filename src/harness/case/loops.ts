import { IntegrityError } from '../../core/errors.js'
import { isStop, makeMessage, MessageCheck, readSeq, stamp, STOP } from '../../core/wire.js'
import type { AsyncEndpoint, SyncEndpoint } from '../../mechanisms/types.js'
import { costBetween, type CostMeter } from './cpu.js'
import type { CostSnapshot, LoopPlan } from './protocol.js'

/**
 * The timing loops. Each states what it times. Blocking and busy-poll share the
 * synchronous loops (the endpoint decides whether it sleeps or spins); the event
 * loop has its own. Every message is checked whole on the side that receives it
 * (core/wire.ts), warm-up and measured alike, as the C floor does: that work is part
 * of every figure. docs/ARCHITECTURE.md describes each loop's timing model.
 */

/** Throws when `msg` is not exactly message `seq`. */
export function verify(check: MessageCheck, msg: Uint8Array, seq: number): void {
  const problem = check.check(msg, seq)
  if (problem !== undefined) throw new IntegrityError(problem)
}

export const deadlineAfter = (from: bigint, ms: number): bigint => from + BigInt(Math.round(ms * 1e6))

/**
 * When a measured phase that began at `start` has enough: `samples` of them (Infinity
 * when the plan has no target) and at least `after` on the clock. The C floor follows
 * the same rule.
 */
export interface Enough {
  samples: number
  after: bigint
}
export const enoughFor = (plan: LoopPlan, start: bigint): Enough => ({
  samples: plan.targetSamples > 0 ? plan.targetSamples : Infinity,
  after: deadlineAfter(start, plan.minWindowMs),
})

/**
 * The warm-up goes on past its fixed count while the loop is still getting faster
 * (the JIT has not yet optimised it, caches and branch predictors are still cold):
 * in blocks of round trips, each timed as a whole, until a block is no longer
 * SETTLE_GAIN faster than the best before it, or SETTLE_MAX_BLOCKS blocks or half the
 * measured time have gone. The C floor follows the same rule (loops.c), and the
 * result records how many warm-up round trips each repetition took.
 */
export const SETTLE_GAIN = 0.97
export const SETTLE_MAX_BLOCKS = 64

/** Round trips per settling block: 256, fewer for big messages (at most 4 MiB of traffic a block, at least 8). */
export function settleBlock(sizeBytes: number): number {
  return Math.max(8, Math.min(256, Math.floor((4 * 1024 * 1024) / Math.max(1, sizeBytes))))
}

/** Decides, block by block, whether the warm-up goes on. */
export class Settler {
  private best = Infinity
  private blocks = 0
  private readonly until: bigint
  readonly block: number
  constructor(plan: LoopPlan) {
    this.block = settleBlock(plan.sizeBytes)
    this.until = deadlineAfter(process.hrtime.bigint(), plan.durationMs / 2)
  }
  /** After a block of `block` round trips that took `ns`: true to run another. */
  another(ns: number, now: bigint): boolean {
    const perRoundTrip = ns / this.block
    const falling = perRoundTrip < this.best * SETTLE_GAIN
    this.best = Math.min(this.best, perRoundTrip)
    return falling && ++this.blocks < SETTLE_MAX_BLOCKS && now < this.until
  }
}

/** The synchronous loops' warm-up: the fixed count of round trips, then settling blocks while the loop still gets faster (Settler). */
export function warmUp(plan: LoopPlan, roundTrip: () => void): void {
  for (let i = 0; i < plan.warmup; i++) roundTrip()
  if (plan.warmup === 0) return
  const settler = new Settler(plan)
  for (let more = true; more;) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < settler.block; i++) roundTrip()
    const t1 = process.hrtime.bigint()
    more = settler.another(Number(t1 - t0), t1)
  }
}

export interface PingpongResult {
  /** Warm-up round trips before the measured ones: the fixed count and the settling blocks. */
  warmupMessages: number
  messages: number
  elapsedNs: number
  samples: Float64Array
  sampleCount: number
  batch: number
  cost: CostSnapshot
  /** The measured phase on the clock (CLOCK_MONOTONIC ns): its start and its last sample. */
  phaseNs?: [number, number]
}

/**
 * Side a, ping-pong, blocking and busy-poll. After the warm-up round trips (the
 * fixed count, then settling blocks while the loop still gets faster), one clock
 * read per round trip: each sample is the time from the previous read (just
 * after the last echo was checked) to this one, so it holds one stamp, send,
 * receive and check, and one clock read, whose cost the calibration measures.
 * Ends with STOP, which the peer echoes.
 */
export function syncPingpongA(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): PingpongResult {
  const size = plan.sizeBytes
  let out = makeMessage(size)
  const into = new Uint8Array(size)
  const check = new MessageCheck(size)
  const transfers = ep.transfers === true
  let seq = 0
  const roundTrip = (): void => {
    stamp(out, seq)
    ep.send(out)
    const echo = ep.recv(into)
    verify(check, echo, seq)
    if (transfers) out = echo
    seq++
  }
  warmUp(plan, roundTrip)
  const warmupMessages = seq

  const samples = new Float64Array(Math.max(1, plan.maxMessages))
  let count = 0
  const c0 = meter()
  const start = process.hrtime.bigint()
  const deadline = deadlineAfter(start, plan.durationMs)
  const enough = enoughFor(plan, start)
  let prev = start
  // Timed: stamp, send, receive, check, one clock read.
  while (count < samples.length) {
    stamp(out, seq)
    ep.send(out)
    const echo = ep.recv(into)
    const problem = check.check(echo, seq)
    if (problem !== undefined) throw new IntegrityError(problem)
    if (transfers) out = echo
    seq++
    const now = process.hrtime.bigint()
    samples[count++] = Number(now - prev)
    prev = now
    if (now >= deadline || (count >= enough.samples && now >= enough.after)) break
  }
  const cost = costBetween(c0, meter())

  stamp(out, STOP)
  ep.send(out)
  const last = ep.recv(into)
  if (readSeq(last) !== STOP) throw new IntegrityError(`expected the STOP echo, got message ${readSeq(last)}`)
  return {
    warmupMessages,
    messages: count,
    elapsedNs: Number(prev - start),
    samples,
    sampleCount: count,
    batch: 1,
    cost,
    phaseNs: [Number(start), Number(prev)],
  }
}

export interface EchoResult {
  messages: number
  cost: CostSnapshot
}

/** Side b, ping-pong, blocking and busy-poll: check each message and echo it unchanged until STOP. */
export function syncEchoB(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): EchoResult {
  const size = plan.sizeBytes
  const into = new Uint8Array(size)
  const check = new MessageCheck(size)
  let seq = 0
  let c0 = meter()
  for (;;) {
    if (seq === plan.warmup) c0 = meter()
    const msg = ep.recv(into)
    if (isStop(msg, size)) {
      ep.send(msg)
      break
    }
    verify(check, msg, seq)
    ep.send(msg)
    seq++
  }
  return { messages: Math.max(0, seq - plan.warmup), cost: costBetween(c0, meter()) }
}

export interface SendResult {
  messages: number
  cost: CostSnapshot
  /** The sending on the clock (CLOCK_MONOTONIC ns): from the first measured message to STOP. */
  phaseNs?: [number, number]
}

/**
 * Side a, stream, blocking and busy-poll: the warm-up messages, then (with a warm-up)
 * the receiver's echo of the last one, so that nothing of the warm-up is still
 * buffered when the measured phase starts; then numbered messages until the time or
 * count bound, then STOP. Not timed here: the receiver times.
 */
export function syncStreamA(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): SendResult {
  const size = plan.sizeBytes
  const template = makeMessage(size)
  let out = template
  const transfers = ep.transfers === true
  let seq = 0
  for (; seq < plan.warmup; seq++) {
    if (transfers) out = template.slice()
    stamp(out, seq)
    ep.send(out)
  }
  if (plan.warmup > 0) verify(new MessageCheck(size), ep.recv(new Uint8Array(size)), plan.warmup - 1)
  const c0 = meter()
  const start = process.hrtime.bigint()
  const deadline = deadlineAfter(start, plan.durationMs)
  const enough = enoughFor(plan, start)
  const last = plan.warmup + plan.maxMessages
  while (seq < last) {
    if (transfers) out = template.slice()
    stamp(out, seq)
    ep.send(out)
    seq++
    if ((seq & 63) === 0) {
      const now = process.hrtime.bigint()
      if (now >= deadline || (seq - plan.warmup >= enough.samples && now >= enough.after)) break
    }
  }
  const cost = costBetween(c0, meter())
  if (transfers) out = template.slice()
  stamp(out, STOP)
  ep.send(out)
  return { messages: seq - plan.warmup, cost, phaseNs: [Number(start), Number(process.hrtime.bigint())] }
}

export interface ReceiveResult {
  messages: number
  elapsedNs: number
  cost: CostSnapshot
}

/**
 * Side b, stream, blocking and busy-poll. Checks every message; echoes the last
 * warm-up message to the sender and times from then to the receipt of STOP, which the
 * sender writes right after the last measured message (without a warm-up, from the
 * first message).
 */
export function syncStreamB(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): ReceiveResult {
  const size = plan.sizeBytes
  const into = new Uint8Array(size)
  const check = new MessageCheck(size)
  let seq = 0
  let c0 = meter()
  let t0 = 0n
  for (;;) {
    const msg = ep.recv(into)
    if (seq === 0 && plan.warmup === 0) {
      t0 = process.hrtime.bigint()
      c0 = meter()
    }
    if (isStop(msg, size)) break
    verify(check, msg, seq)
    seq++
    if (seq === plan.warmup) {
      ep.send(msg)
      t0 = process.hrtime.bigint()
      c0 = meter()
    }
  }
  const t1 = process.hrtime.bigint()
  return { messages: Math.max(0, seq - plan.warmup), elapsedNs: Number(t1 - t0), cost: costBetween(c0, meter()) }
}

/**
 * Side a, ping-pong, event loop, driven by the endpoint's own callbacks: each echo,
 * once checked, is followed at once by the next send from inside the callback (no
 * promise or closure per round trip). After the warm-up round trips, one clock read
 * per round trip, as in the synchronous loop: each sample is the time from the
 * previous read to this one, so it holds one stamp, send, wake-up of this thread by
 * the event loop, callback, check and clock read. Ends with STOP, which the peer echoes.
 */
export function asyncPingpongA(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<PingpongResult> {
  const size = plan.sizeBytes
  let out = makeMessage(size)
  const check = new MessageCheck(size)
  const transfers = ep.transfers === true
  const samples = new Float64Array(Math.max(1, plan.maxMessages))
  let seq = 0
  let count = 0
  let c0 = meter()
  let cost = costBetween(c0, c0)
  let start = 0n
  let prev = 0n
  let deadline = 0n
  let enough: Enough = { samples: Infinity, after: 0n }
  let stopping = false
  let warmupMessages = 0
  // Settling blocks after the fixed warm-up (see Settler), timed from the end of the last.
  let settler: Settler | undefined
  let blockStart = 0n
  let blockLeft = 0
  const startMeasuring = (): void => {
    warmupMessages = seq
    c0 = meter()
    start = process.hrtime.bigint()
    prev = start
    deadline = deadlineAfter(start, plan.durationMs)
    enough = enoughFor(plan, start)
  }
  const startSettling = (): void => {
    settler = new Settler(plan)
    blockLeft = settler.block
    blockStart = process.hrtime.bigint()
  }
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    const stop = (): void => {
      cost = costBetween(c0, meter())
      stopping = true
      stamp(out, STOP)
      ep.send(out)
    }
    ep.onMessage((msg) => {
      if (stopping) {
        if (readSeq(msg) !== STOP) return reject(new IntegrityError(`expected the STOP echo, got message ${readSeq(msg)}`))
        return resolve({
          warmupMessages,
          messages: count,
          elapsedNs: Number(prev - start),
          samples,
          sampleCount: count,
          batch: 1,
          cost,
          phaseNs: [Number(start), Number(prev)],
        })
      }
      const problem = check.check(msg, seq)
      if (problem !== undefined) return reject(new IntegrityError(problem))
      if (transfers) out = msg
      seq++
      if (start !== 0n) {
        // Timed: from the previous read to this one.
        const now = process.hrtime.bigint()
        samples[count++] = Number(now - prev)
        prev = now
        if (count >= samples.length || now >= deadline || (count >= enough.samples && now >= enough.after)) return stop()
      } else if (settler !== undefined) {
        if (--blockLeft === 0) {
          const now = process.hrtime.bigint()
          if (settler.another(Number(now - blockStart), now)) {
            blockLeft = settler.block
            blockStart = process.hrtime.bigint()
          } else startMeasuring()
        }
      } else if (seq === plan.warmup) startSettling()
      stamp(out, seq)
      ep.send(out)
    })
    if (plan.warmup === 0) startMeasuring()
    stamp(out, seq)
    ep.send(out)
  })
}

/** Side b, ping-pong, event loop: check each message and echo it unchanged until STOP. */
export function asyncEchoB(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<EchoResult> {
  const size = plan.sizeBytes
  const check = new MessageCheck(size)
  let seq = 0
  let c0 = meter()
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    ep.onMessage((msg) => {
      if (isStop(msg, size)) {
        const cost = costBetween(c0, meter())
        ep.send(msg)
        return resolve({ messages: Math.max(0, seq - plan.warmup), cost })
      }
      const problem = check.check(msg, seq)
      if (problem !== undefined) return reject(new IntegrityError(problem))
      if (seq === plan.warmup) c0 = meter()
      seq++
      ep.send(msg)
    })
  })
}

/** How many bytes of message buffers a sender on the event loop may have out at once (but always two buffers). */
export const SENDER_BUFFERED_BYTES = 8 * 1024 * 1024

/**
 * A sender's message buffers on the event loop. A buffer is reused once the endpoint
 * releases it; one that transfers gives every buffer away, so each message gets a new
 * one. A socket whose write completes at once returns "send more" but runs the
 * release only on the next tick, so a sender that made a new buffer whenever none
 * was free held hundreds (177 of 1 MiB in one TCP stream). Here at most
 * SENDER_BUFFERED_BYTES are out; with none free the sender waits for a release.
 */
export class SendBuffers {
  private readonly free: Uint8Array[] = []
  private out = 0
  private readonly most: number
  private waiting: (() => void) | undefined

  constructor(
    private readonly ep: AsyncEndpoint,
    private readonly template: Uint8Array,
  ) {
    this.most = Math.max(2, Math.floor(SENDER_BUFFERED_BYTES / template.byteLength))
  }

  /** A buffer holding the template's bytes or an earlier message's; undefined when all are out, and `then` runs once one is back. */
  take(then: () => void): Uint8Array | undefined {
    const buf = this.free.pop()
    if (buf !== undefined || this.ep.transfers === true) return buf ?? this.template.slice()
    if (this.out < this.most) {
      this.out++
      return this.template.slice()
    }
    this.waiting = then
    return undefined
  }

  /** Sends `buf` (from take); false when the endpoint asks for its drain. */
  send(buf: Uint8Array): boolean {
    if (this.ep.transfers === true) return this.ep.send(buf)
    return this.ep.send(buf, () => this.release(buf))
  }

  private release(buf: Uint8Array): void {
    this.free.push(buf)
    const then = this.waiting
    if (then === undefined) return
    this.waiting = undefined
    // A release can run inside a send; the sender goes on from its own frame.
    process.nextTick(then)
  }
}

/**
 * Side a, stream, event loop: send while the endpoint accepts, wait for drain when
 * it pushes back. Buffers the endpoint still holds are not reused until released.
 * As in the synchronous loop, the measured phase starts only once the receiver has
 * echoed the last warm-up message.
 */
export function asyncStreamA(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<SendResult> {
  const size = plan.sizeBytes
  const buffers = new SendBuffers(ep, makeMessage(size))
  let seq = 0
  let c0 = meter()
  let deadline = 0n
  let enough: Enough = { samples: Infinity, after: 0n }
  let measuring = false
  let waitingForEcho = false
  // STOP is sent: a drain that comes later sends nothing.
  let stopped = false
  let start = 0n
  const last = plan.warmup + plan.maxMessages
  const ended = (): boolean => {
    if (seq >= last) return true
    if (seq <= plan.warmup || (seq & 63) !== 0) return false
    const now = process.hrtime.bigint()
    return now >= deadline || (seq - plan.warmup >= enough.samples && now >= enough.after)
  }
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    const startMeasuring = (): void => {
      measuring = true
      c0 = meter()
      start = process.hrtime.bigint()
      deadline = deadlineAfter(start, plan.durationMs)
      enough = enoughFor(plan, start)
    }
    ep.onMessage((msg) => {
      if (!waitingForEcho) return reject(new IntegrityError(`the receiver sent message ${readSeq(msg)} out of turn`))
      const problem = new MessageCheck(size).check(msg, plan.warmup - 1)
      if (problem !== undefined) return reject(new IntegrityError(problem))
      waitingForEcho = false
      startMeasuring()
      pump()
    })
    const pump = (): void => {
      for (;;) {
        if (waitingForEcho || stopped) return
        const buf = buffers.take(pump)
        if (buf === undefined) return
        if (measuring && ended()) {
          const cost = costBetween(c0, meter())
          stamp(buf, STOP)
          ep.send(buf)
          stopped = true
          return resolve({ messages: seq - plan.warmup, cost, phaseNs: [Number(start), Number(process.hrtime.bigint())] })
        }
        stamp(buf, seq++)
        // Set before the send returns: the echo can come before the next drain.
        if (!measuring && seq === plan.warmup) waitingForEcho = true
        if (!buffers.send(buf)) return
      }
    }
    ep.onDrain(pump)
    if (plan.warmup === 0) startMeasuring()
    pump()
  })
}

/**
 * Side b, stream, event loop: checks every message; echoes the last warm-up message
 * and times from then to STOP (without a warm-up, from the first message).
 */
export function asyncStreamB(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<ReceiveResult> {
  const size = plan.sizeBytes
  const check = new MessageCheck(size)
  let seq = 0
  let c0 = meter()
  let t0 = 0n
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    ep.onMessage((msg) => {
      if (seq === 0 && plan.warmup === 0 && t0 === 0n) {
        t0 = process.hrtime.bigint()
        c0 = meter()
      }
      if (isStop(msg, size)) {
        const t1 = process.hrtime.bigint()
        return resolve({ messages: Math.max(0, seq - plan.warmup), elapsedNs: Number(t1 - t0), cost: costBetween(c0, meter()) })
      }
      const problem = check.check(msg, seq)
      if (problem !== undefined) return reject(new IntegrityError(problem))
      seq++
      if (seq === plan.warmup) {
        ep.send(msg)
        t0 = process.hrtime.bigint()
        c0 = meter()
      }
    })
  })
}

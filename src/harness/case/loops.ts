import { IntegrityError } from '../../core/errors.js'
import type { AsyncEndpoint, SyncEndpoint } from '../../mechanisms/types.js'
import { checkMessage, checkPattern, fullCheckCount, makeMessage, readSeq, stamp, STOP } from '../../core/wire.js'
import { costBetween, type CostMeter } from './cpu.js'
import type { CostSnapshot, LoopPlan } from './protocol.js'

/**
 * The timing loops. Each states what it times. Blocking and busy-poll share the
 * synchronous loops (the endpoint decides whether it sleeps or spins); the event
 * loop has its own. Verification of the sequence number and trailer is part of
 * every message's work (the C floor does the same); full-pattern checks happen
 * only during warm-up. docs/ARCHITECTURE.md describes each loop's timing model.
 */

function verify(msg: Uint8Array, seq: number, size: number, full: boolean): void {
  const problem = checkMessage(msg, seq, size) ?? (full ? checkPattern(msg, seq) : undefined)
  if (problem !== undefined) throw new IntegrityError(problem)
}

export interface PingpongResult {
  messages: number
  elapsedNs: number
  samples: Float64Array
  sampleCount: number
  batch: number
  cost: CostSnapshot
}

/** Round trips shorter than this are timed in batches (a timed section costs ~40 ns). */
const BATCH_BELOW_NS = 2_000
const BATCH_TARGET_NS = 20_000

const WARM_BLOCK = 16

export function chooseBatch(warmupNsPerRoundTrip: number): number {
  if (!(warmupNsPerRoundTrip < BATCH_BELOW_NS) || warmupNsPerRoundTrip <= 0) return 1
  return Math.min(1024, 2 ** Math.ceil(Math.log2(BATCH_TARGET_NS / warmupNsPerRoundTrip)))
}

/**
 * Side a, ping-pong, blocking and busy-poll. Times each round trip (or each batch
 * of `batch` round trips, stored as the mean) from just before send to just after
 * the echo has been received and checked. Ends with STOP, which the peer echoes.
 */
export function syncPingpongA(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): PingpongResult {
  const size = plan.sizeBytes
  let out = makeMessage(size)
  const into = new Uint8Array(size)
  const full = fullCheckCount(plan.warmup)
  const transfers = ep.transfers === true

  // The batch is chosen from the fastest block of 16 warm-up round trips: the first
  // blocks run before the JIT has compiled this loop, and their mean would say
  // "slow" about a round trip that is fast once measured.
  let warmNs = Infinity
  let b0 = process.hrtime.bigint()
  for (let seq = 0; seq < plan.warmup; seq++) {
    stamp(out, seq)
    ep.send(out)
    const echo = ep.recv(into)
    verify(echo, seq, size, seq < full)
    if (transfers) out = echo
    if ((seq + 1) % WARM_BLOCK === 0 || seq + 1 === plan.warmup) {
      const b1 = process.hrtime.bigint()
      warmNs = Math.min(warmNs, Number(b1 - b0) / ((seq % WARM_BLOCK) + 1))
      b0 = b1
    }
  }
  const batch = chooseBatch(warmNs)

  const maxSamples = Math.max(1, Math.floor(plan.maxMessages / batch))
  const samples = new Float64Array(maxSamples)
  let seq = plan.warmup
  let count = 0
  const c0 = meter()
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(Math.round(plan.durationMs * 1e6))
  // Timed: batch × (stamp, send, receive, check).
  while (count < maxSamples) {
    const t0 = process.hrtime.bigint()
    for (let k = 0; k < batch; k++) {
      stamp(out, seq)
      ep.send(out)
      const echo = ep.recv(into)
      const problem = checkMessage(echo, seq, size)
      if (problem !== undefined) throw new IntegrityError(problem)
      if (transfers) out = echo
      seq++
    }
    const t1 = process.hrtime.bigint()
    samples[count++] = Number(t1 - t0) / batch
    if (t1 >= deadline) break
  }
  const end = process.hrtime.bigint()
  const cost = costBetween(c0, meter())

  stamp(out, STOP)
  ep.send(out)
  const last = ep.recv(into)
  if (readSeq(last) !== STOP) throw new IntegrityError(`expected the STOP echo, got message ${readSeq(last)}`)
  return { messages: count * batch, elapsedNs: Number(end - start), samples, sampleCount: count, batch, cost }
}

export interface EchoResult {
  messages: number
  cost: CostSnapshot
}

/** Side b, ping-pong, blocking and busy-poll: echo each message unchanged until STOP. */
export function syncEchoB(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): EchoResult {
  const size = plan.sizeBytes
  const into = new Uint8Array(size)
  const full = fullCheckCount(plan.warmup)
  let seq = 0
  let c0 = meter()
  for (;;) {
    if (seq === plan.warmup) c0 = meter()
    const msg = ep.recv(into)
    if (readSeq(msg) === STOP && msg.byteLength === size) {
      ep.send(msg)
      break
    }
    verify(msg, seq, size, seq < full)
    ep.send(msg)
    seq++
  }
  return { messages: Math.max(0, seq - plan.warmup), cost: costBetween(c0, meter()) }
}

export interface SendResult {
  messages: number
  cost: CostSnapshot
}

/** Side a, stream, blocking and busy-poll: send numbered messages until the time or count bound, then STOP. */
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
  const c0 = meter()
  const deadline = process.hrtime.bigint() + BigInt(Math.round(plan.durationMs * 1e6))
  const last = plan.warmup + plan.maxMessages
  // Not timed here: the receiver times from the end of warm-up to STOP.
  while (seq < last) {
    if (transfers) out = template.slice()
    stamp(out, seq)
    ep.send(out)
    seq++
    if ((seq & 63) === 0 && process.hrtime.bigint() >= deadline) break
  }
  const cost = costBetween(c0, meter())
  if (transfers) out = template.slice()
  stamp(out, STOP)
  ep.send(out)
  return { messages: seq - plan.warmup, cost }
}

export interface ReceiveResult {
  messages: number
  elapsedNs: number
  cost: CostSnapshot
}

/**
 * Side b, stream, blocking and busy-poll. Times from the receipt of the last
 * warm-up message to the receipt of STOP, which the sender writes right after the
 * last measured message.
 */
export function syncStreamB(ep: SyncEndpoint, plan: LoopPlan, meter: CostMeter): ReceiveResult {
  const size = plan.sizeBytes
  const into = new Uint8Array(size)
  const full = fullCheckCount(plan.warmup)
  let seq = 0
  let c0 = meter()
  let t0 = process.hrtime.bigint()
  if (plan.warmup === 0) c0 = meter()
  for (;;) {
    const msg = ep.recv(into)
    if (readSeq(msg) === STOP && msg.byteLength === size) break
    verify(msg, seq, size, seq < full)
    seq++
    if (seq === plan.warmup) {
      t0 = process.hrtime.bigint()
      c0 = meter()
    }
  }
  const t1 = process.hrtime.bigint()
  return { messages: Math.max(0, seq - plan.warmup), elapsedNs: Number(t1 - t0), cost: costBetween(c0, meter()) }
}

/**
 * Side a, ping-pong, event loop. tinybench drives the round trips (its per-iteration
 * promise costs ~0.2 µs, under 1% of an event-loop round trip) with a fixed warm-up
 * count and a time budget; each sample is one round trip from send to the checked echo.
 */
export async function asyncPingpongA(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<PingpongResult> {
  const size = plan.sizeBytes
  let out = makeMessage(size)
  const full = fullCheckCount(plan.warmup)
  const transfers = ep.transfers === true
  let seq = 0
  let resolve: () => void = () => {}
  let reject: (e: Error) => void = () => {}
  ep.onMessage((msg) => {
    const problem = checkMessage(msg, seq, size) ?? (seq < full ? checkPattern(msg, seq) : undefined)
    if (problem !== undefined) return reject(new IntegrityError(problem))
    if (transfers) out = msg
    seq++
    resolve()
  })
  ep.onError((err) => reject(err))
  const roundTrip = () =>
    new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
      stamp(out, seq)
      ep.send(out)
    })

  let c0 = meter()
  let c1 = c0
  let start = 0n
  let end = 0n
  let measuredFrom = 0
  // Loaded here: only event-loop ping-pong uses it, and every peer's start is part of a repetition.
  const { Bench } = await import('tinybench')
  const bench = new Bench({
    iterations: 1,
    time: plan.durationMs,
    warmup: plan.warmup > 0,
    warmupIterations: plan.warmup,
    warmupTime: 0,
    timestampProvider: 'hrtimeNow',
    retainSamples: true,
    throws: true,
  })
  bench.add('roundtrip', roundTrip, {
    // Declared async so tinybench does not call the function once to find out (that would send a message).
    async: true,
    beforeAll(mode) {
      if (mode === 'run') {
        measuredFrom = seq
        c0 = meter()
        start = process.hrtime.bigint()
      }
    },
    afterAll(mode) {
      if (mode === 'run') {
        end = process.hrtime.bigint()
        c1 = meter()
      }
    },
  })
  await bench.run()
  const task = bench.tasks[0]
  const result = task.result as { state: string; error?: Error; latency?: { samples?: ArrayLike<number> } }
  if (result.state === 'errored') throw result.error ?? new Error('round trip failed')
  const msSamples = result.latency?.samples ?? []
  const samples = new Float64Array(msSamples.length)
  for (let i = 0; i < msSamples.length; i++) samples[i] = msSamples[i] * 1e6

  await new Promise<void>((res, rej) => {
    ep.onMessage((msg) => (readSeq(msg) === STOP ? res() : rej(new IntegrityError(`expected the STOP echo, got message ${readSeq(msg)}`))))
    ep.onError(rej)
    stamp(out, STOP)
    ep.send(out)
  })
  return {
    messages: seq - measuredFrom,
    elapsedNs: Number(end - start),
    samples,
    sampleCount: samples.length,
    batch: 1,
    cost: costBetween(c0, c1),
  }
}

/** Side b, ping-pong, event loop: echo each message unchanged until STOP. */
export function asyncEchoB(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<EchoResult> {
  const size = plan.sizeBytes
  const full = fullCheckCount(plan.warmup)
  let seq = 0
  let c0 = meter()
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    ep.onMessage((msg) => {
      if (readSeq(msg) === STOP && msg.byteLength === size) {
        const cost = costBetween(c0, meter())
        ep.send(msg)
        return resolve({ messages: Math.max(0, seq - plan.warmup), cost })
      }
      const problem = checkMessage(msg, seq, size) ?? (seq < full ? checkPattern(msg, seq) : undefined)
      if (problem !== undefined) return reject(new IntegrityError(problem))
      if (seq === plan.warmup) c0 = meter()
      seq++
      ep.send(msg)
    })
  })
}

/**
 * Side a, stream, event loop: send while the endpoint accepts, wait for drain when
 * it pushes back. Buffers the endpoint still holds are not reused until released.
 */
export function asyncStreamA(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<SendResult> {
  const size = plan.sizeBytes
  const template = makeMessage(size)
  const free: Uint8Array[] = []
  const transfers = ep.transfers === true
  const take = (): Uint8Array => free.pop() ?? template.slice()
  let seq = 0
  let c0 = meter()
  let deadline = 0n
  const last = plan.warmup + plan.maxMessages
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    const pump = (): void => {
      for (;;) {
        if (seq === plan.warmup && deadline === 0n) {
          c0 = meter()
          deadline = process.hrtime.bigint() + BigInt(Math.round(plan.durationMs * 1e6))
        }
        const done = seq >= last || (seq > plan.warmup && (seq & 63) === 0 && process.hrtime.bigint() >= deadline)
        const buf = take()
        if (done) {
          const cost = costBetween(c0, meter())
          stamp(buf, STOP)
          ep.send(buf)
          return resolve({ messages: seq - plan.warmup, cost })
        }
        stamp(buf, seq++)
        const more = transfers ? ep.send(buf) : ep.send(buf, () => free.push(buf))
        if (!more) return
      }
    }
    ep.onDrain(pump)
    pump()
  })
}

/** Side b, stream, event loop: times from the last warm-up message to STOP. */
export function asyncStreamB(ep: AsyncEndpoint, plan: LoopPlan, meter: CostMeter): Promise<ReceiveResult> {
  const size = plan.sizeBytes
  const full = fullCheckCount(plan.warmup)
  let seq = 0
  let c0 = meter()
  let t0 = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    ep.onMessage((msg) => {
      if (readSeq(msg) === STOP && msg.byteLength === size) {
        const t1 = process.hrtime.bigint()
        return resolve({ messages: Math.max(0, seq - plan.warmup), elapsedNs: Number(t1 - t0), cost: costBetween(c0, meter()) })
      }
      const problem = checkMessage(msg, seq, size) ?? (seq < full ? checkPattern(msg, seq) : undefined)
      if (problem !== undefined) return reject(new IntegrityError(problem))
      seq++
      if (seq === plan.warmup) {
        t0 = process.hrtime.bigint()
        c0 = meter()
      }
    })
  })
}

import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { IntegrityError } from '../src/core/errors.js'
import { makeMessage, patternByte, readSeq, stamp, STOP } from '../src/core/wire.js'
import type { CostMeter } from '../src/harness/case/cpu.js'
import {
  asyncEchoB,
  asyncPingpongA,
  asyncStreamA,
  asyncStreamB,
  settleBlock,
  SETTLE_MAX_BLOCKS,
  syncEchoB,
  syncPingpongA,
  syncStreamA,
  syncStreamB,
} from '../src/harness/case/loops.js'
import type { LoopPlan } from '../src/harness/case/protocol.js'
import { asyncLinkEndpoint, cloneCodec, creditWindow, portLink } from '../src/mechanisms/common/port-endpoint.js'
import type { AsyncEndpoint, SyncEndpoint } from '../src/mechanisms/types.js'

/**
 * The timing loops through fake in-process endpoints: counts, the STOP handshake, the
 * stream's warm-up echo and integrity errors, never speeds. Where a count must be
 * exact, the time bound is far away and the message bound ends the phase.
 */
const SIZE = 64
/** The middle byte the corrupt-mid fault flips (⌊size/2⌋ + 1): a payload byte at 64 B. */
const MID = SIZE / 2 + 1
const plan: LoopPlan = { sizeBytes: SIZE, warmup: 20, durationMs: 20, maxMessages: 200, targetSamples: 0, minWindowMs: 10 }
/** The same plan, but only the message bound can end the measured phase. */
const countBound: LoopPlan = { ...plan, durationMs: 60_000 }
const zero: CostMeter = () => ({ userUs: 0, sysUs: 0, voluntaryCtx: 0, involuntaryCtx: 0 })

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k)
/** Message `seq` as a sender makes it. */
const message = (seq: number, size = SIZE): Uint8Array => {
  const m = makeMessage(size)
  stamp(m, seq)
  return m
}
const corrupted = (seq: number, at: number): string =>
  `message ${seq}: byte ${at} is ${patternByte(at) ^ 0xff}, expected ${patternByte(at)} (stale or corrupted message)`

type Fault = (msg: Uint8Array) => Uint8Array

/** A same-thread echo (what overhead.ts measures against), with an optional fault on the way back and a minimum round trip. */
function echo(opts: { fault?: Fault; spinNs?: number | ((seq: number) => number) } = {}) {
  const sent: number[] = []
  let pending: Uint8Array | undefined
  const ep: SyncEndpoint = {
    kind: 'sync',
    send(buf) {
      sent.push(readSeq(buf))
      pending = buf.slice()
    },
    recv(into) {
      const spin = typeof opts.spinNs === 'function' ? opts.spinNs(readSeq(pending!)) : opts.spinNs
      if (spin) {
        const until = process.hrtime.bigint() + BigInt(spin)
        while (process.hrtime.bigint() < until);
      }
      const back = opts.fault ? opts.fault(pending!) : pending!
      if (back.byteLength !== into.byteLength) return back
      into.set(back)
      return into
    },
    close() {},
  }
  return { ep, sent }
}

/** Applies `f` to the message with sequence number `seq` only. */
const at =
  (seq: number, f: (m: Uint8Array) => Uint8Array | void): Fault =>
  (m) =>
    readSeq(m) === seq ? (f(m) ?? m) : m
const relabel = (m: Uint8Array, seq: number) => new DataView(m.buffer, m.byteOffset).setUint32(0, seq, true)
/** Message `seq` arrives as message seq-1's bytes with only its first word relabelled (the stale fault). */
function staleAt(seq: number): Fault {
  let previous: Uint8Array | undefined
  return (m) => {
    if (readSeq(m) === seq - 1) previous = m.slice()
    if (readSeq(m) !== seq || !previous) return m
    const s = previous.slice()
    relabel(s, seq)
    return s
  }
}

const thrown = (fn: () => unknown): unknown => {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('did not throw')
}

describe('syncPingpongA', () => {
  it('the warm-up goes on in blocks while the loop still gets faster, and stops once a block is not', () => {
    // Each round trip of the first blocks is slower than the next: the echo gets twice as fast per block for
    // six blocks, from 1.6 ms down to 50 µs, then 2 µs. Each step is then at least 12.8 ms of a block's time,
    // more than a preemption on a busy 2-core host adds to the next block and hides its fall (from 400 µs, the
    // last step was 3.2 ms, and one CI run's parallel test files stalled a block by that much). Six, not four:
    // a steady loop on a busy host can itself take a few blocks (its first ones are cold), and once took six.
    const block = settleBlock(SIZE)
    const warmup = 10
    const falling = 6
    const slowUntil = warmup + falling * block
    const { ep } = echo({
      spinNs: (seq) => (seq < warmup ? 0 : seq < slowUntil ? Math.round(1_600_000 * 0.5 ** Math.floor((seq - warmup) / block)) : 2000),
    })
    const r = syncPingpongA(ep, { ...countBound, warmup, durationMs: 5000 }, zero)
    // The falling blocks, the first steady one, and at least one more that is not faster than it
    // (more only if this host's noise made a steady block look 3% faster); never past the cap.
    expect(r.warmupMessages).toBeGreaterThanOrEqual(warmup + (falling + 2) * block)
    expect(r.warmupMessages).toBeLessThanOrEqual(warmup + SETTLE_MAX_BLOCKS * block)
    // A steady loop needs two blocks (the first has nothing to compare with).
    const steady = syncPingpongA(echo({ spinNs: 2000 }).ep, { ...countBound, warmup }, zero)
    expect(steady.warmupMessages).toBeGreaterThanOrEqual(warmup + 2 * block)
    expect(steady.warmupMessages).toBeLessThan(r.warmupMessages)
    expect(settleBlock(64)).toBe(256)
    expect(settleBlock(1024 * 1024)).toBe(8)
    expect(SETTLE_MAX_BLOCKS).toBeGreaterThan(1)
  })

  it('one sample per round trip, however fast: exactly maxMessages samples, messages = samples, batch 1, then STOP', () => {
    // A same-thread echo, once compiled (the long warm-up), takes well under the 2 µs below which the old loop timed batches.
    const { ep, sent } = echo()
    const r = syncPingpongA(ep, { ...countBound, warmup: 5000 }, zero)
    expect(r.batch).toBe(1)
    expect(r.messages).toBe(200)
    expect(r.sampleCount).toBe(200)
    expect(r.samples.length).toBe(200)
    // 5000 warm-up, then settling blocks (at least two: one to compare with), 200 measured, numbered on, then STOP.
    expect(r.warmupMessages).toBeGreaterThanOrEqual(5000 + 2 * settleBlock(SIZE))
    expect(sent).toEqual([...range(0, r.warmupMessages + 200), STOP])
  })

  it('each sample is the time since the previous clock read: they add up to the measured time exactly', () => {
    const { ep } = echo({ spinNs: 3000 })
    const r = syncPingpongA(ep, countBound, zero)
    const samples = Array.from(r.samples.subarray(0, r.sampleCount))
    expect(samples.every((s) => s >= 3000)).toBe(true)
    expect(samples.reduce((a, b) => a + b, 0)).toBe(r.elapsedNs)
  })

  it('the time bound ends it at the first clock read past the deadline, messages = samples', () => {
    const { ep, sent } = echo({ spinNs: 20_000 })
    const r = syncPingpongA(ep, { ...plan, warmup: 5, durationMs: 5, maxMessages: 1_000_000 }, zero)
    expect(r.messages).toBe(r.sampleCount)
    expect(r.messages).toBeLessThan(1_000_000)
    expect(r.elapsedNs).toBeGreaterThanOrEqual(5e6)
    expect(r.elapsedNs - r.samples[r.sampleCount - 1]).toBeLessThan(5e6)
    expect(sent).toEqual([...range(0, r.warmupMessages + r.messages), STOP])
  })

  it('the sample target ends it once it has the samples and the minimum window, long before the duration', () => {
    // 20 µs round trips: 2000 samples take about 40 ms, more than the 10 ms window.
    const { ep } = echo({ spinNs: 20_000 })
    const r = syncPingpongA(ep, { ...countBound, warmup: 5, maxMessages: 1_000_000, targetSamples: 2000, minWindowMs: 10 }, zero)
    expect(r.messages).toBe(2000)
    expect(r.elapsedNs).toBeGreaterThanOrEqual(10e6)
    expect(r.elapsedNs).toBeLessThan(60_000e6)
  })

  it('a target reached within the minimum window waits for the window: the first sample past it ends the phase', () => {
    const { ep } = echo({ spinNs: 20_000 })
    const r = syncPingpongA(ep, { ...countBound, warmup: 5, maxMessages: 1_000_000, targetSamples: 10, minWindowMs: 10 }, zero)
    expect(r.messages).toBeGreaterThan(10)
    expect(r.elapsedNs).toBeGreaterThanOrEqual(10e6)
    expect(r.elapsedNs - r.samples[r.sampleCount - 1]).toBeLessThan(10e6)
  })

  it('a rare slow round trip is a sample of its own, not averaged into a batch', () => {
    const spikes = [1000, 3000, 5000, 7000, 9000]
    // Without a warm-up (so no settling either) message k is sample k.
    const { ep } = echo({ spinNs: (seq) => (spikes.includes(seq) ? 50_000 : 0) })
    const r = syncPingpongA(ep, { ...countBound, warmup: 0, maxMessages: 10_000 }, zero)
    expect(r.warmupMessages).toBe(0)
    expect(r.sampleCount).toBe(10_000)
    for (const k of spikes) expect(r.samples[k], `sample ${k}`).toBeGreaterThanOrEqual(50_000)
  })

  it.each<[string, Fault, string]>([
    ['a payload byte flipped in warm-up', at(5, (m) => void (m[10] ^= 0xff)), corrupted(5, 10)],
    ['a middle byte flipped while measuring', at(30, (m) => void (m[MID] ^= 0xff)), corrupted(30, MID)],
    ['the last byte flipped while measuring', at(30, (m) => void (m[SIZE - 1] ^= 0xff)), corrupted(30, SIZE - 1)],
    ['a lost message (30 comes back as 31)', at(30, (m) => relabel(m, 31)), 'message 30: sequence number 31 (lost message)'],
    ['a duplicate (25 comes back as 24)', at(25, (m) => relabel(m, 24)), 'message 25: sequence number 24 (duplicated or reordered message)'],
    ['a short echo', at(3, (m) => m.subarray(0, SIZE - 1)), `message 3: ${SIZE - 1} bytes, expected ${SIZE}`],
  ])('%s throws IntegrityError naming the message', (_what, fault, text) => {
    const { ep } = echo({ fault, spinNs: 3000 })
    const e = thrown(() => syncPingpongA(ep, countBound, zero))
    expect(e).toBeInstanceOf(IntegrityError)
    expect(e).toMatchObject({ code: 'EINTEGRITY', message: text })
  })

  it('a stale echo while measuring (1 KiB) is caught at byte 64', () => {
    const { ep } = echo({ fault: staleAt(100) })
    const e = thrown(() => syncPingpongA(ep, { ...countBound, sizeBytes: 1024 }, zero))
    expect(e).toMatchObject({ code: 'EINTEGRITY', message: 'message 100: byte 64 is 99, expected 100 (stale or corrupted message)' })
  })

  it('a STOP that is not echoed throws, naming what came back instead', () => {
    // The echo answers STOP with the last measured message again.
    let last: Uint8Array | undefined
    const fault: Fault = (m) => (readSeq(m) === STOP ? last! : (last = m.slice()))
    const { ep } = echo({ fault, spinNs: 3000 })
    const e = thrown(() => syncPingpongA(ep, countBound, zero))
    expect(e).toBeInstanceOf(IntegrityError)
    expect((e as Error).message).toBe(`expected the STOP echo, got message ${readSeq(last!)}`)
  })
})

/**
 * Side a of a synchronous stream: what it sends is queued; what it receives (the
 * receiver's echo of the last warm-up message) is made by `reply` from the last
 * message sent. `receivedAfter` records how many messages had been sent at each receive.
 */
function streamTx(reply: (last: Uint8Array) => Uint8Array = (last) => last.slice()) {
  const queue: Uint8Array[] = []
  const receivedAfter: number[] = []
  const tx: SyncEndpoint = {
    kind: 'sync',
    send: (b) => void queue.push(b.slice()),
    recv(into) {
      receivedAfter.push(queue.length)
      const back = reply(queue[queue.length - 1])
      if (back.byteLength !== into.byteLength) return back
      into.set(back)
      return into
    },
    close() {},
  }
  return { tx, queue, receivedAfter }
}

/** Side b of a synchronous stream reading `queue`; what it sends back is recorded with how many messages it had yet to read. */
function streamRx(queue: Uint8Array[]) {
  const echoed: Array<{ seq: number; unread: number }> = []
  const rx: SyncEndpoint = {
    kind: 'sync',
    send: (b) => void echoed.push({ seq: readSeq(b), unread: queue.length }),
    recv(into) {
      const m = queue.shift()
      if (!m) throw new Error('queue empty: the loop read past STOP')
      into.set(m)
      return into
    },
    close() {},
  }
  return { rx, echoed }
}

/** What side a of a stream sends: `warmup` + `measured` messages, then STOP. */
const streamOf = (warmup: number, measured: number): Uint8Array[] => [...range(0, warmup + measured).map((s) => message(s)), message(STOP)]

describe('syncStreamA', () => {
  it('sends the warm-up, waits for the echo of its last message, then the measured messages and STOP', () => {
    const a = streamTx()
    const r = syncStreamA(a.tx, countBound, zero)
    expect(r.messages).toBe(200)
    // Exactly one receive, once all 20 warm-up messages had gone and before any measured one.
    expect(a.receivedAfter).toEqual([20])
    expect(a.queue.map(readSeq)).toEqual([...range(0, 220), STOP])
  })

  it.each<[string, (last: Uint8Array) => Uint8Array, string]>([
    ['the echo of another message', () => message(18), 'message 19: sequence number 18 (duplicated or reordered message)'],
    [
      'a corrupted echo',
      (last) => {
        const m = last.slice()
        m[MID] ^= 0xff
        return m
      },
      corrupted(19, MID),
    ],
    ['a short echo', (last) => last.subarray(0, 8), `message 19: 8 bytes, expected ${SIZE}`],
  ])('%s fails side a before it measures anything', (_what, reply, text) => {
    const a = streamTx(reply)
    const e = thrown(() => syncStreamA(a.tx, countBound, zero))
    expect(e).toBeInstanceOf(IntegrityError)
    expect((e as Error).message).toBe(text)
    expect(a.queue.map(readSeq)).toEqual(range(0, 20))
  })

  it('the sample target ends the stream at the first 64-message look past the minimum window with enough sent', () => {
    const a = streamTx()
    const r = syncStreamA(a.tx, { ...countBound, maxMessages: 10_000_000, targetSamples: 100, minWindowMs: 5 }, zero)
    expect(r.messages).toBeGreaterThanOrEqual(100)
    expect(r.messages).toBeLessThan(10_000_000)
    // Looks every 64 messages (counted from 0, warm-up included).
    expect((r.messages + countBound.warmup) % 64).toBe(0)
    expect(readSeq(a.queue[a.queue.length - 1])).toBe(STOP)
  })

  it('with no warm-up there is no echo to wait for', () => {
    const a = streamTx(() => {
      throw new Error('side a waited for an echo')
    })
    const r = syncStreamA(a.tx, { ...countBound, warmup: 0 }, zero)
    expect(r.messages).toBe(200)
    expect(a.receivedAfter).toEqual([])
    expect(a.queue.map(readSeq)).toEqual([...range(0, 200), STOP])
  })
})

describe('syncStreamB', () => {
  it('echoes message warmup−1 once, right after the warm-up, and counts the measured messages to STOP', () => {
    const queue = streamOf(20, 200)
    const b = streamRx(queue)
    const r = syncStreamB(b.rx, countBound, zero)
    expect(r.messages).toBe(200)
    expect(r.elapsedNs).toBeGreaterThanOrEqual(0)
    // 200 measured messages and STOP were still to be read when it echoed.
    expect(b.echoed).toEqual([{ seq: 19, unread: 201 }])
    expect(queue.length).toBe(0)
  })

  it('with no warm-up it echoes nothing and counts from the first message', () => {
    const queue = streamOf(0, 200)
    const b = streamRx(queue)
    const r = syncStreamB(b.rx, { ...countBound, warmup: 0 }, zero)
    expect(r.messages).toBe(200)
    expect(b.echoed).toEqual([])
    expect(queue.length).toBe(0)
  })

  it('counts what side a sent, with the time bound in play', () => {
    const a = streamTx()
    const sent = syncStreamA(a.tx, plan, zero)
    expect(sent.messages).toBeGreaterThan(0)
    const b = streamRx(a.queue)
    expect(syncStreamB(b.rx, plan, zero).messages).toBe(sent.messages)
  })

  it.each<[string, (q: Uint8Array[]) => void, string]>([
    ['a lost message', (q) => void q.splice(100, 1), 'message 100: sequence number 101 (lost message)'],
    ['a corrupted warm-up message', (q) => void (q[7][MID] ^= 0xff), corrupted(7, MID)],
    ['a middle byte corrupted while measuring', (q) => void (q[150][MID] ^= 0xff), corrupted(150, MID)],
    ['the last byte corrupted while measuring', (q) => void (q[150][SIZE - 1] ^= 0xff), corrupted(150, SIZE - 1)],
  ])('%s fails the receiver naming it', (_what, fault, text) => {
    const queue = streamOf(20, 200)
    fault(queue)
    const e = thrown(() => syncStreamB(streamRx(queue).rx, countBound, zero))
    expect(e).toBeInstanceOf(IntegrityError)
    expect((e as Error).message).toBe(text)
  })

  it('a stale message while measuring (1 KiB) is caught at byte 64', () => {
    const queue = range(0, 60).map((s) => message(s, 1024))
    queue[50] = message(49, 1024)
    relabel(queue[50], 50)
    const e = thrown(() => syncStreamB(streamRx(queue).rx, { ...countBound, sizeBytes: 1024 }, zero))
    expect((e as Error).message).toBe('message 50: byte 64 is 49, expected 50 (stale or corrupted message)')
  })
})

describe('syncEchoB', () => {
  it('echoes every message and STOP, counting the measured ones', () => {
    // What side a of a ping-pong sends: 20 warm-up, 30 measured, STOP.
    const queue = streamOf(20, 30)
    const b = streamRx(queue)
    const r = syncEchoB(b.rx, countBound, zero)
    expect(r.messages).toBe(30)
    expect(b.echoed.map((e) => e.seq)).toEqual([...range(0, 50), STOP])
  })

  it.each<[string, number]>([
    ['in warm-up', 7],
    ['while measuring', 40],
  ])('a message corrupted %s fails side b before it is echoed', (_when, seq) => {
    const queue = streamOf(20, 30)
    queue[seq][MID] ^= 0xff
    const b = streamRx(queue)
    const e = thrown(() => syncEchoB(b.rx, countBound, zero))
    expect(e).toBeInstanceOf(IntegrityError)
    expect((e as Error).message).toBe(corrupted(seq, MID))
    expect(b.echoed.map((x) => x.seq)).toEqual(range(0, seq))
  })
})

// ── Event loop ──────────────────────────────────────────────────────────────────

const ports: MessagePort[] = []
afterEach(() => {
  for (const p of ports.splice(0)) p.close()
})

function portPair(stream: boolean): [AsyncEndpoint, AsyncEndpoint] {
  const { port1, port2 } = new MessageChannel()
  ports.push(port1, port2)
  const flow = stream ? creditWindow(8) : undefined
  return [asyncLinkEndpoint(portLink(port1), cloneCodec, flow), asyncLinkEndpoint(portLink(port2), cloneCodec, flow)]
}

/** A fake event-loop pair: each send is delivered to the other side in a microtask, optionally through a fault each way. */
function microtaskPair(faultBtoA?: Fault, faultAtoB?: Fault): [AsyncEndpoint, AsyncEndpoint] {
  const make = (deliver: (m: Uint8Array) => void, onMsg: { cb?: (m: Uint8Array) => void }): AsyncEndpoint => ({
    kind: 'async',
    send(buf) {
      const copy = buf.slice()
      queueMicrotask(() => deliver(copy))
      return true
    },
    onMessage: (cb) => void (onMsg.cb = cb),
    onDrain() {},
    onError() {},
    close() {},
  })
  const toA: { cb?: (m: Uint8Array) => void } = {}
  const toB: { cb?: (m: Uint8Array) => void } = {}
  const a = make((m) => toB.cb?.(faultAtoB ? faultAtoB(m) : m), toA)
  const b = make((m) => toA.cb?.(faultBtoA ? faultBtoA(m) : m), toB)
  return [a, b]
}

/**
 * One end of an event-loop channel driven by the test: what the loop sends is
 * recorded, `deliver` hands it a message, `accept` says whether a send may go on.
 */
function drivenEndpoint(accept: (sent: number) => boolean = () => true) {
  const sent: number[] = []
  let onMsg: (m: Uint8Array) => void = () => {}
  let onErr: (e: Error) => void = () => {}
  const ep: AsyncEndpoint = {
    kind: 'async',
    send(buf, release) {
      sent.push(readSeq(buf))
      release?.()
      return accept(sent.length)
    },
    onMessage: (cb) => void (onMsg = cb),
    onDrain() {},
    onError: (cb) => void (onErr = cb),
    close() {},
  }
  return { ep, sent, deliver: (m: Uint8Array) => onMsg(m), fail: (e: Error) => onErr(e) }
}

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  )

describe('asyncPingpongA / asyncEchoB', () => {
  it('honours --max-messages: exactly maxMessages round trips are measured, one sample each', async () => {
    const [a, b] = portPair(false)
    const echoed = asyncEchoB(b, { ...plan, durationMs: 60_000, maxMessages: 300 }, zero)
    const r = await asyncPingpongA(a, { ...plan, durationMs: 60_000, maxMessages: 300 }, zero)
    await echoed
    expect(r.messages).toBe(300)
    expect(r.sampleCount).toBe(300)
  })

  it('the sample target ends the event-loop phase too (after the minimum window)', async () => {
    const [a, b] = portPair(false)
    const bounded = { ...plan, durationMs: 60_000, maxMessages: 1_000_000, targetSamples: 500, minWindowMs: 5 }
    const echoed = asyncEchoB(b, bounded, zero)
    const r = await asyncPingpongA(a, bounded, zero)
    await echoed
    expect(r.messages).toBeGreaterThanOrEqual(500)
    expect(r.messages).toBeLessThan(1_000_000)
    expect(r.elapsedNs).toBeGreaterThanOrEqual(5e6)
    // Whichever came later ended it: the 500th sample, or the first sample past the window.
    const windowLast = r.elapsedNs - r.samples[r.sampleCount - 1] < 5e6
    expect(windowLast || r.messages === 500, `${r.messages} samples over ${r.elapsedNs} ns`).toBe(true)
  })

  it('over a MessageChannel: both sides count the same measured round trips, one sample each, and STOP ends both', async () => {
    const [a, b] = portPair(false)
    const echoed = asyncEchoB(b, plan, zero)
    const r = await asyncPingpongA(a, plan, zero)
    const e = await echoed
    expect(r.batch).toBe(1)
    expect(r.messages).toBeGreaterThan(0)
    expect(r.sampleCount).toBe(r.messages)
    expect(r.samples.length).toBe(r.messages)
    // Side b counts from the end of the fixed warm-up, so its window also holds side a's settling blocks.
    expect(e.messages).toBe(r.warmupMessages - plan.warmup + r.messages)
  })

  it.each<[string, Fault, string]>([
    ['a middle byte of a measured echo', at(25, (m) => void (m[MID] ^= 0xff)), corrupted(25, MID)],
    ['the last byte of a measured echo', at(25, (m) => void (m[SIZE - 1] ^= 0xff)), corrupted(25, SIZE - 1)],
    ['a warm-up echo', at(5, (m) => void (m[10] ^= 0xff)), corrupted(5, 10)],
  ])('%s corrupted: side a rejects with IntegrityError naming the message and byte', async (_what, fault, text) => {
    const [a, b] = microtaskPair(fault)
    void asyncEchoB(b, plan, zero).catch(() => {})
    const err = await rejection(asyncPingpongA(a, plan, zero))
    expect(err).toBeInstanceOf(IntegrityError)
    expect(err).toMatchObject({ code: 'EINTEGRITY', message: text })
  })

  it('a measured message corrupted on its way to side b: side b rejects it before echoing', async () => {
    const [a, b] = microtaskPair(
      undefined,
      at(25, (m) => void (m[MID] ^= 0xff)),
    )
    const echoed = rejection(asyncEchoB(b, plan, zero))
    void asyncPingpongA(a, plan, zero).catch(() => {})
    const err = await echoed
    expect(err).toBeInstanceOf(IntegrityError)
    expect((err as Error).message).toBe(corrupted(25, MID))
  })

  it('asyncEchoB rejects a message out of sequence', async () => {
    const [a, b] = microtaskPair()
    const echoed = asyncEchoB(b, plan, zero)
    a.send(message(1))
    await expect(echoed).rejects.toThrow('message 0: sequence number 1 (lost message)')
  })

  it('asyncEchoB checks every byte while measuring, and echoes what it checked', async () => {
    const b = drivenEndpoint()
    const echoed = rejection(asyncEchoB(b.ep, plan, zero))
    for (let seq = 0; seq < 30; seq++) b.deliver(message(seq))
    const bad = message(30)
    bad[MID] ^= 0xff
    b.deliver(bad)
    expect((await echoed) as Error).toMatchObject({ code: 'EINTEGRITY', message: corrupted(30, MID) })
    expect(b.sent).toEqual(range(0, 30))
  })

  it('asyncEchoB ends on STOP and echoes it', async () => {
    const [a, b] = microtaskPair()
    const back: number[] = []
    a.onMessage((m) => back.push(readSeq(m)))
    const echoed = asyncEchoB(b, plan, zero)
    a.send(message(STOP))
    await expect(echoed).resolves.toMatchObject({ messages: 0 })
    await new Promise((r) => setTimeout(r, 0))
    expect(back).toEqual([STOP])
  })
})

describe('asyncStreamA', () => {
  it('sends the warm-up, then waits for the echo of its last message before the measured ones and STOP', async () => {
    const a = drivenEndpoint()
    const done = asyncStreamA(a.ep, countBound, zero)
    await Promise.resolve()
    expect(a.sent).toEqual(range(0, 20))
    a.deliver(message(19))
    await expect(done).resolves.toMatchObject({ messages: 200 })
    expect(a.sent).toEqual([...range(0, 220), STOP])
  })

  it('with no warm-up it measures from the first message and waits for nothing', async () => {
    const a = drivenEndpoint()
    await expect(asyncStreamA(a.ep, { ...countBound, warmup: 0 }, zero)).resolves.toMatchObject({ messages: 200 })
    expect(a.sent).toEqual([...range(0, 200), STOP])
  })

  it.each<[string, Uint8Array, string]>([
    ['the echo of another message', message(18), 'message 19: sequence number 18 (duplicated or reordered message)'],
    [
      'a corrupted echo',
      (() => {
        const m = message(19)
        m[MID] ^= 0xff
        return m
      })(),
      corrupted(19, MID),
    ],
  ])('%s fails side a, and nothing measured was sent', async (_what, reply, text) => {
    const a = drivenEndpoint()
    const done = rejection(asyncStreamA(a.ep, countBound, zero))
    a.deliver(reply)
    const err = await done
    expect(err).toBeInstanceOf(IntegrityError)
    expect((err as Error).message).toBe(text)
    expect(a.sent).toEqual(range(0, 20))
  })

  it('a message from the receiver before the warm-up has gone is out of turn', async () => {
    // The endpoint pushes back after the fifth message: side a waits for a drain, not an echo.
    const a = drivenEndpoint((n) => n < 5)
    const done = rejection(asyncStreamA(a.ep, countBound, zero))
    expect(a.sent).toEqual(range(0, 5))
    a.deliver(message(3))
    expect(((await done) as Error).message).toBe('the receiver sent message 3 out of turn')
  })
})

describe('asyncStreamB', () => {
  it('echoes message warmup−1 once, right after it, and counts the measured messages to STOP', async () => {
    const b = drivenEndpoint()
    const done = asyncStreamB(b.ep, countBound, zero)
    const echoedAt: number[] = []
    for (const [k, m] of streamOf(20, 200).entries()) {
      b.deliver(m)
      if (b.sent.length > echoedAt.length) echoedAt.push(k)
    }
    await expect(done).resolves.toMatchObject({ messages: 200 })
    expect(b.sent).toEqual([19])
    expect(echoedAt).toEqual([19])
  })

  it('with no warm-up it echoes nothing', async () => {
    const b = drivenEndpoint()
    const done = asyncStreamB(b.ep, { ...countBound, warmup: 0 }, zero)
    for (const m of streamOf(0, 200)) b.deliver(m)
    const r = await done
    expect(r.messages).toBe(200)
    expect(r.elapsedNs).toBeGreaterThanOrEqual(0)
    expect(b.sent).toEqual([])
  })

  it.each([
    ['in warm-up', 7],
    ['while measuring', 150],
  ])('a message corrupted %s fails side b naming the byte', async (_when, seq) => {
    const b = drivenEndpoint()
    const done = rejection(asyncStreamB(b.ep, countBound, zero))
    const stream = streamOf(20, 200)
    stream[seq][MID] ^= 0xff
    for (const m of stream.slice(0, seq + 1)) b.deliver(m)
    const err = await done
    expect(err).toBeInstanceOf(IntegrityError)
    expect((err as Error).message).toBe(corrupted(seq, MID))
  })
})

describe('asyncStreamA → asyncStreamB', () => {
  it('side a receives exactly one message from side b: the echo of message warmup−1', async () => {
    const fromB: number[] = []
    const [a, b] = microtaskPair((m) => {
      fromB.push(readSeq(m))
      return m
    })
    const received = asyncStreamB(b, countBound, zero)
    const sent = await asyncStreamA(a, countBound, zero)
    expect(sent.messages).toBe(200)
    expect((await received).messages).toBe(200)
    expect(fromB).toEqual([19])
  })

  it('a wrong echo (19 relabelled 18 on its way back) fails side a', async () => {
    const [a, b] = microtaskPair(at(19, (m) => relabel(m, 18)))
    void asyncStreamB(b, countBound, zero).catch(() => {})
    const err = await rejection(asyncStreamA(a, countBound, zero))
    expect(err).toMatchObject({ code: 'EINTEGRITY', message: 'message 19: sequence number 18 (duplicated or reordered message)' })
  })

  it('over a MessageChannel (credit window): the receiver counts exactly what the sender sent', async () => {
    const [a, b] = portPair(true)
    const received = asyncStreamB(b, countBound, zero)
    const sent = await asyncStreamA(a, countBound, zero)
    const got = await received
    expect(sent.messages).toBe(200)
    expect(got.messages).toBe(200)
  })

  it('over a MessageChannel with the time bound in play, and with no warm-up, the counts agree', async () => {
    for (const p of [plan, { ...plan, warmup: 0 }]) {
      const [a, b] = portPair(true)
      const received = asyncStreamB(b, p, zero)
      const sent = await asyncStreamA(a, p, zero)
      const got = await received
      expect(sent.messages, `warm-up ${p.warmup}`).toBeGreaterThan(0)
      expect(got.messages, `warm-up ${p.warmup}`).toBe(sent.messages)
    }
  })
})

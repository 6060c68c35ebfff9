import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { IntegrityError } from '../src/core/errors.js'
import { patternByte, readSeq, STOP } from '../src/core/wire.js'
import type { CostMeter } from '../src/harness/case/cpu.js'
import {
  asyncEchoB,
  asyncPingpongA,
  asyncStreamA,
  asyncStreamB,
  chooseBatch,
  syncEchoB,
  syncPingpongA,
  syncStreamA,
  syncStreamB,
} from '../src/harness/case/loops.js'
import type { LoopPlan } from '../src/harness/case/protocol.js'
import { asyncLinkEndpoint, cloneCodec, portLink } from '../src/mechanisms/common/port-endpoint.js'
import type { AsyncEndpoint, SyncEndpoint } from '../src/mechanisms/types.js'

/**
 * The timing loops through fake in-process endpoints: counts, the STOP handshake and
 * integrity errors, never speeds. Where a count must be exact, the time bound is far
 * away and the message bound ends the phase.
 */
const SIZE = 64
const plan: LoopPlan = { sizeBytes: SIZE, warmup: 20, durationMs: 20, maxMessages: 200 }
/** The same plan, but only the message bound can end the measured phase. */
const countBound: LoopPlan = { ...plan, durationMs: 60_000 }
const zero: CostMeter = () => ({ userUs: 0, sysUs: 0, voluntaryCtx: 0, involuntaryCtx: 0 })

type Fault = (msg: Uint8Array) => Uint8Array

/** A same-thread echo (what overhead.ts measures against), with an optional fault on the way back and a minimum round trip. */
function echo(opts: { fault?: Fault; spinNs?: number } = {}) {
  const sent: number[] = []
  let pending: Uint8Array | undefined
  const ep: SyncEndpoint = {
    kind: 'sync',
    send(buf) {
      sent.push(readSeq(buf))
      pending = buf.slice()
    },
    recv(into) {
      if (opts.spinNs) {
        const until = process.hrtime.bigint() + BigInt(opts.spinNs)
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

const thrown = (fn: () => unknown): unknown => {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('did not throw')
}

describe('chooseBatch', () => {
  it.each([
    [0, 1],
    [-5, 1],
    [Number.NaN, 1],
    [Number.POSITIVE_INFINITY, 1],
    [2000, 1],
    [5000, 1],
    [1999, 16],
    [1250, 16],
    [1000, 32],
    [625, 32],
    [100, 256],
    [20, 1024],
    [1, 1024],
  ])('%d ns per round trip → batches of %d', (ns, batch) => {
    expect(chooseBatch(ns)).toBe(batch)
  })
})

describe('syncPingpongA', () => {
  it('a round trip over 2 µs is timed alone: exactly maxMessages samples of 1, then STOP', () => {
    const { ep, sent } = echo({ spinNs: 3000 })
    const r = syncPingpongA(ep, countBound, zero)
    expect(r.batch).toBe(1)
    expect(r.messages).toBe(200)
    expect(r.sampleCount).toBe(200)
    expect(r.samples.length).toBe(200)
    expect(Array.from(r.samples).every((s) => s >= 3000)).toBe(true)
    // 20 warm-up, 200 measured, numbered on, then STOP.
    expect(sent).toEqual([...Array.from({ length: 220 }, (_, k) => k), STOP])
  })

  it('a fast echo is timed in batches: messages = samples × batch, and every message was sent once', () => {
    const { ep, sent } = echo()
    const r = syncPingpongA(ep, plan, zero)
    expect([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]).toContain(r.batch)
    expect(r.messages).toBe(r.sampleCount * r.batch)
    expect(r.sampleCount).toBeGreaterThan(0)
    expect(r.sampleCount).toBeLessThanOrEqual(Math.max(1, Math.floor(plan.maxMessages / r.batch)))
    expect(sent).toEqual([...Array.from({ length: plan.warmup + r.messages }, (_, k) => k), STOP])
  })

  it.each<[string, Fault, string]>([
    [
      'a payload byte flipped in warm-up',
      at(5, (m) => void (m[10] ^= 0xff)),
      `message 5: payload byte 10 is ${patternByte(10) ^ 0xff}, expected ${patternByte(10)}`,
    ],
    ['a trailer byte flipped while measuring', at(30, (m) => void (m[SIZE - 1] ^= 0x01)), 'message 30: trailer corrupted'],
    ['a lost message (30 comes back as 31)', at(30, (m) => relabel(m, 31)), 'message 30: sequence number 31 (lost message)'],
    ['a duplicate (25 comes back as 24)', at(25, (m) => relabel(m, 24)), 'message 25: sequence number 24 (duplicated or reordered message)'],
    ['a short echo', at(3, (m) => m.subarray(0, SIZE - 1)), `message 3: ${SIZE - 1} bytes, expected ${SIZE}`],
  ])('%s throws IntegrityError naming the message', (_what, fault, text) => {
    const { ep } = echo({ fault, spinNs: 3000 })
    const e = thrown(() => syncPingpongA(ep, countBound, zero))
    expect(e).toBeInstanceOf(IntegrityError)
    expect(e).toMatchObject({ code: 'EINTEGRITY', message: text })
  })

  it('a STOP that is not echoed throws, naming what came back instead', () => {
    // The echo answers STOP with the last measured message again.
    let last: Uint8Array | undefined
    const fault: Fault = (m) => (readSeq(m) === STOP ? last! : (last = m.slice()))
    const { ep } = echo({ fault, spinNs: 3000 })
    const e = thrown(() => syncPingpongA(ep, countBound, zero))
    expect(e).toBeInstanceOf(IntegrityError)
    expect((e as Error).message).toBe('expected the STOP echo, got message 219')
  })
})

/** An in-memory one-way queue: both ends of a synchronous channel in one thread (the sender runs first). */
function queuePair() {
  const queue: Uint8Array[] = []
  const echoed: number[] = []
  const tx: SyncEndpoint = { kind: 'sync', send: (b) => void queue.push(b.slice()), recv: () => new Uint8Array(0), close() {} }
  const rx: SyncEndpoint = {
    kind: 'sync',
    send: (b) => void echoed.push(readSeq(b)),
    recv(into) {
      const m = queue.shift()
      if (!m) throw new Error('queue empty: the loop read past STOP')
      into.set(m)
      return into
    },
    close() {},
  }
  return { tx, rx, queue, echoed }
}

describe('syncStreamA → syncStreamB', () => {
  it('the receiver counts what the sender sent, and STOP ends it', () => {
    const q = queuePair()
    const a = syncStreamA(q.tx, countBound, zero)
    expect(a.messages).toBe(200)
    expect(q.queue.length).toBe(20 + 200 + 1)
    expect(readSeq(q.queue[q.queue.length - 1])).toBe(STOP)
    const b = syncStreamB(q.rx, countBound, zero)
    expect(b.messages).toBe(200)
    expect(b.elapsedNs).toBeGreaterThanOrEqual(0)
    expect(q.queue.length).toBe(0)
  })

  it('with the time bound in play the counts still agree', () => {
    const q = queuePair()
    const a = syncStreamA(q.tx, plan, zero)
    const b = syncStreamB(q.rx, plan, zero)
    expect(b.messages).toBe(a.messages)
    expect(a.messages).toBeGreaterThan(0)
  })

  it('a lost message fails the receiver with its number', () => {
    const q = queuePair()
    syncStreamA(q.tx, countBound, zero)
    q.queue.splice(100, 1)
    const e = thrown(() => syncStreamB(q.rx, countBound, zero))
    expect(e).toBeInstanceOf(IntegrityError)
    expect((e as Error).message).toBe('message 100: sequence number 101 (lost message)')
  })

  it('a corrupted warm-up payload fails the receiver with the byte', () => {
    const q = queuePair()
    syncStreamA(q.tx, countBound, zero)
    q.queue[7][33] ^= 0x80
    expect(() => syncStreamB(q.rx, countBound, zero)).toThrow(`message 7: payload byte 33 is ${patternByte(33) ^ 0x80}, expected ${patternByte(33)}`)
  })
})

describe('syncEchoB', () => {
  it('echoes every message and STOP, counting the measured ones', () => {
    const q = queuePair()
    // What side a would send: 20 warm-up, 30 measured, STOP.
    const a = syncStreamA(q.tx, { ...countBound, maxMessages: 30 }, zero)
    expect(a.messages).toBe(30)
    const b = syncEchoB(q.rx, countBound, zero)
    expect(b.messages).toBe(30)
    expect(q.echoed).toEqual([...Array.from({ length: 50 }, (_, k) => k), STOP])
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
  return [asyncLinkEndpoint(portLink(port1), cloneCodec, stream), asyncLinkEndpoint(portLink(port2), cloneCodec, stream)]
}

/** A fake event-loop pair: each send is delivered to the other side in a microtask, optionally through a fault. */
function microtaskPair(faultBtoA?: Fault): [AsyncEndpoint, AsyncEndpoint] {
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
  const a = make((m) => toB.cb?.(m), toA)
  const b = make((m) => toA.cb?.(faultBtoA ? faultBtoA(m) : m), toB)
  return [a, b]
}

describe('asyncPingpongA / asyncEchoB', () => {
  it('over a MessageChannel: both sides count the same measured round trips, one sample each, and STOP ends both', async () => {
    const [a, b] = portPair(false)
    const echoed = asyncEchoB(b, plan, zero)
    const r = await asyncPingpongA(a, plan, zero)
    const e = await echoed
    expect(r.batch).toBe(1)
    expect(r.messages).toBeGreaterThan(0)
    expect(r.sampleCount).toBe(r.messages)
    expect(r.samples.length).toBe(r.messages)
    expect(e.messages).toBe(r.messages)
  })

  it('a corrupted echo rejects with IntegrityError naming the message', async () => {
    const [a, b] = microtaskPair(at(25, (m) => void (m[SIZE - 2] ^= 0x10)))
    void asyncEchoB(b, plan, zero).catch(() => {})
    const err = await asyncPingpongA(a, plan, zero).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(IntegrityError)
    expect(err).toMatchObject({ code: 'EINTEGRITY', message: 'message 25: trailer corrupted' })
  })

  it('asyncEchoB rejects a message out of sequence', async () => {
    const [a, b] = microtaskPair()
    const echoed = asyncEchoB(b, plan, zero)
    const m = new Uint8Array(SIZE)
    relabel(m, 1)
    a.send(m)
    await expect(echoed).rejects.toThrow('message 0: sequence number 1 (lost message)')
  })

  it('asyncEchoB ends on STOP and echoes it', async () => {
    const [a, b] = microtaskPair()
    const back: number[] = []
    a.onMessage((m) => back.push(readSeq(m)))
    const echoed = asyncEchoB(b, plan, zero)
    const stop = new Uint8Array(SIZE)
    relabel(stop, STOP)
    a.send(stop)
    await expect(echoed).resolves.toMatchObject({ messages: 0 })
    await new Promise((r) => setTimeout(r, 0))
    expect(back).toEqual([STOP])
  })
})

describe('asyncStreamA → asyncStreamB over a MessageChannel (credit window)', () => {
  it('the receiver counts exactly what the sender sent', async () => {
    const [a, b] = portPair(true)
    const received = asyncStreamB(b, countBound, zero)
    const sent = await asyncStreamA(a, countBound, zero)
    const got = await received
    expect(sent.messages).toBe(200)
    expect(got.messages).toBe(200)
  })
})

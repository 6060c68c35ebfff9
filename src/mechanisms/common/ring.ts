import type { AsyncEndpoint, SyncEndpoint } from '../types.js'
import { HEADER_BYTES, Slot, type RingGeometry } from './ring-layout.js'
import { ipcError } from '../../core/errors.js'

/**
 * A single-producer single-consumer ring over shared memory (layout in
 * ring-layout.ts). What differs between threads and processes is only how a side
 * sleeps and wakes the other: a `Waiter`.
 *
 * The protocol (all Atomics operations are sequentially consistent):
 *   producer: copy bytes into slot TAIL % slots; store TAIL+1 (publishes the bytes);
 *             if CONSUMER_WAITING, wake it.
 *   consumer: store CONSUMER_WAITING=1; re-load TAIL; sleep only while TAIL is
 *             still the value it saw (the wait re-checks atomically), then clear it.
 * Either the producer sees WAITING=1 and wakes, or the consumer sees the new TAIL:
 * no lost wake-up. The full-ring case is the mirror image on HEAD.
 */
export interface Waiter {
  /** Sleep while i32[index] === expected (returns at once when it differs). */
  wait(i32: Int32Array, index: number, expected: number): void
  wake(i32: Int32Array, index: number): void
  /** Resolves when i32[index] may have changed from expected (event-loop mode). */
  waitAsync?(i32: Int32Array, index: number, expected: number): Promise<unknown>
}

type Pause = () => void
const atomicsPause: Pause = (Atomics as unknown as { pause?: Pause }).pause?.bind(Atomics) ?? (() => {})

export class Ring {
  readonly i32: Int32Array
  readonly bytes: Uint8Array
  constructor(buffer: ArrayBufferLike, byteOffset: number, readonly g: RingGeometry) {
    this.i32 = new Int32Array(buffer, byteOffset, HEADER_BYTES / 4)
    this.bytes = new Uint8Array(buffer, byteOffset + HEADER_BYTES, g.slots * g.slotBytes)
  }

  /** Untrusted peer: a counter pair that claims more than `slots` used is corruption, not an index to follow. */
  used(head: number, tail: number): number {
    const used = (tail - head) >>> 0
    if (used > this.g.slots) throw ipcError('ERINGCORRUPT', `shared ring corrupted: ${used} messages claimed in ${this.g.slots} slots`)
    return used
  }

  slotOffset(counter: number): number {
    return ((counter >>> 0) % this.g.slots) * this.g.slotBytes
  }

  /** One view per slot, `size` bytes long, made once: a subarray per message costs an allocation. */
  slotViews(size: number): Uint8Array[] {
    return Array.from({ length: this.g.slots }, (_, i) => this.bytes.subarray(i * this.g.slotBytes, i * this.g.slotBytes + size))
  }
}

export type RingStrategy = 'sleep' | 'spin'

/** The two rings of a channel as one endpoint: `tx` we produce into, `rx` we consume from. */
export function syncRingEndpoint(tx: Ring, rx: Ring, size: number, strategy: RingStrategy, waiter: Waiter): SyncEndpoint {
  const txi = tx.i32
  const rxi = rx.i32
  let tail = Atomics.load(txi, Slot.TAIL)
  let head = Atomics.load(rxi, Slot.HEAD)
  const sleep = strategy === 'sleep'
  const rxSlots = rx.slotViews(size)
  const slots = rx.g.slots
  return {
    kind: 'sync',
    send(buf) {
      // Wait for a free slot.
      while (tx.used(Atomics.load(txi, Slot.HEAD), tail) >= tx.g.slots) {
        if (sleep) {
          const seenHead = Atomics.load(txi, Slot.HEAD)
          Atomics.store(txi, Slot.PRODUCER_WAITING, 1)
          if (tx.used(Atomics.load(txi, Slot.HEAD), tail) >= tx.g.slots) waiter.wait(txi, Slot.HEAD, seenHead)
          Atomics.store(txi, Slot.PRODUCER_WAITING, 0)
        } else atomicsPause()
      }
      tx.bytes.set(buf, tx.slotOffset(tail))
      tail = (tail + 1) | 0
      Atomics.store(txi, Slot.TAIL, tail)
      if (sleep && Atomics.load(txi, Slot.CONSUMER_WAITING) !== 0) waiter.wake(txi, Slot.TAIL)
    },
    recv(into) {
      while (Atomics.load(rxi, Slot.TAIL) === head) {
        if (sleep) {
          Atomics.store(rxi, Slot.CONSUMER_WAITING, 1)
          if (Atomics.load(rxi, Slot.TAIL) === head) waiter.wait(rxi, Slot.TAIL, head)
          Atomics.store(rxi, Slot.CONSUMER_WAITING, 0)
        } else atomicsPause()
      }
      rx.used(head, Atomics.load(rxi, Slot.TAIL))
      into.set(rxSlots[(head >>> 0) % slots])
      head = (head + 1) | 0
      Atomics.store(rxi, Slot.HEAD, head)
      if (sleep && Atomics.load(rxi, Slot.PRODUCER_WAITING) !== 0) waiter.wake(rxi, Slot.HEAD)
      return into
    },
    close() {},
  }
}

/**
 * Event-loop endpoint: waits with `waiter.waitAsync` (Atomics.waitAsync, or a
 * native futex wait on a helper thread). A ref'd timer keeps the loop alive while
 * waiting, since a pending waitAsync does not. Each message is copied
 * out into a buffer of its own, as the event-loop paths of other mechanisms get.
 */
export function asyncRingEndpoint(tx: Ring, rx: Ring, size: number, waiter: Waiter): AsyncEndpoint {
  if (!waiter.waitAsync) throw new Error('this ring has no asynchronous wait')
  const waitAsync = waiter.waitAsync.bind(waiter)
  const txi = tx.i32
  const rxi = rx.i32
  let tail = Atomics.load(txi, Slot.TAIL)
  let head = Atomics.load(rxi, Slot.HEAD)
  let onMessage: (m: Uint8Array) => void = () => {}
  let onDrain: () => void = () => {}
  let onError: (e: Error) => void = () => {}
  let closed = false
  const keepAlive = setInterval(() => {}, 1 << 30)
  const backlog: Array<{ buf: Uint8Array; release?: () => void }> = []
  let waitingForSpace = false

  const put = (buf: Uint8Array): void => {
    tx.bytes.set(buf, tx.slotOffset(tail))
    tail = (tail + 1) | 0
    Atomics.store(txi, Slot.TAIL, tail)
    if (Atomics.load(txi, Slot.CONSUMER_WAITING) !== 0) waiter.wake(txi, Slot.TAIL)
  }
  const full = (): boolean => tx.used(Atomics.load(txi, Slot.HEAD), tail) >= tx.g.slots

  const flush = (): void => {
    while (backlog.length > 0 && !full()) {
      const { buf, release } = backlog.shift()!
      put(buf)
      release?.()
    }
    if (backlog.length === 0) {
      onDrain()
      return
    }
    if (waitingForSpace) return
    waitingForSpace = true
    const seenHead = Atomics.load(txi, Slot.HEAD)
    Atomics.store(txi, Slot.PRODUCER_WAITING, 1)
    const again = (): void => {
      waitingForSpace = false
      Atomics.store(txi, Slot.PRODUCER_WAITING, 0)
      if (!closed) flush()
    }
    if (Atomics.load(txi, Slot.HEAD) !== seenHead) again()
    else waitAsync(txi, Slot.HEAD, seenHead).then(again, (e: Error) => onError(e))
  }

  const drain = (): void => {
    if (closed) return
    try {
      let tailNow = Atomics.load(rxi, Slot.TAIL)
      while (tailNow !== head) {
        rx.used(head, tailNow)
        const off = rx.slotOffset(head)
        const msg = rx.bytes.slice(off, off + size)
        head = (head + 1) | 0
        Atomics.store(rxi, Slot.HEAD, head)
        if (Atomics.load(rxi, Slot.PRODUCER_WAITING) !== 0) waiter.wake(rxi, Slot.HEAD)
        onMessage(msg)
        if (closed) return
        tailNow = Atomics.load(rxi, Slot.TAIL)
      }
      Atomics.store(rxi, Slot.CONSUMER_WAITING, 1)
      if (Atomics.load(rxi, Slot.TAIL) !== head) {
        Atomics.store(rxi, Slot.CONSUMER_WAITING, 0)
        queueMicrotask(drain)
        return
      }
      waitAsync(rxi, Slot.TAIL, head).then(() => {
        Atomics.store(rxi, Slot.CONSUMER_WAITING, 0)
        drain()
      }, (e: Error) => onError(e))
    } catch (e) {
      onError(e as Error)
    }
  }
  queueMicrotask(drain)

  return {
    kind: 'async',
    send(buf, release) {
      if (backlog.length === 0 && !full()) {
        put(buf)
        release?.()
        return true
      }
      backlog.push({ buf, release })
      flush()
      return false
    },
    onMessage: (cb) => {
      onMessage = cb
    },
    onDrain: (cb) => {
      onDrain = cb
    },
    onError: (cb) => {
      onError = cb
    },
    close() {
      closed = true
      clearInterval(keepAlive)
      // A wait still pending on a helper thread (futex) returns now instead of at its deadline.
      waiter.wake(rxi, Slot.TAIL)
      waiter.wake(txi, Slot.HEAD)
    },
  }
}

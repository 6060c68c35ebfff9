import type { AsyncEndpoint, SyncEndpoint } from '../types.js'
import { HEADER_BYTES, Header, type RingGeometry } from './ring-layout.js'
import { ipcError, PeerGoneError } from '../../core/errors.js'
import { Outbox } from './outbox.js'

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
  /** Resolves once no waitAsync is pending any more, waking them (a wait on a pool thread must end before the process can). */
  settle?(): Promise<void>
}

/** Spins between two looks at the CLOSED word: rare enough to cost nothing per message. */
const SPINS_PER_CLOSED_CHECK = 4096

export const closedRing = (): PeerGoneError => new PeerGoneError('the peer closed the ring')

type Pause = () => void
const atomicsPause: Pause = (Atomics as unknown as { pause?: Pause }).pause?.bind(Atomics) ?? (() => {})

export class Ring {
  readonly i32: Int32Array
  readonly bytes: Uint8Array
  constructor(
    buffer: ArrayBufferLike,
    byteOffset: number,
    readonly g: RingGeometry,
  ) {
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
  let tail = Atomics.load(txi, Header.TAIL)
  let head = Atomics.load(rxi, Header.HEAD)
  const sleep = strategy === 'sleep'
  const rxSlots = rx.slotViews(size)
  const slots = rx.g.slots
  return {
    kind: 'sync',
    send(buf) {
      // Wait for a free slot.
      let spins = 0
      while (tx.used(Atomics.load(txi, Header.HEAD), tail) >= tx.g.slots) {
        if ((sleep || (++spins & (SPINS_PER_CLOSED_CHECK - 1)) === 0) && Atomics.load(txi, Header.CLOSED) !== 0) throw closedRing()
        if (sleep) {
          const seenHead = Atomics.load(txi, Header.HEAD)
          Atomics.store(txi, Header.PRODUCER_WAITING, 1)
          if (tx.used(Atomics.load(txi, Header.HEAD), tail) >= tx.g.slots) waiter.wait(txi, Header.HEAD, seenHead)
          Atomics.store(txi, Header.PRODUCER_WAITING, 0)
        } else atomicsPause()
      }
      tx.bytes.set(buf, tx.slotOffset(tail))
      tail = (tail + 1) | 0
      Atomics.store(txi, Header.TAIL, tail)
      if (sleep && Atomics.load(txi, Header.CONSUMER_WAITING) !== 0) waiter.wake(txi, Header.TAIL)
    },
    recv(into) {
      let spins = 0
      while (Atomics.load(rxi, Header.TAIL) === head) {
        if ((sleep || (++spins & (SPINS_PER_CLOSED_CHECK - 1)) === 0) && Atomics.load(rxi, Header.CLOSED) !== 0) throw closedRing()
        if (sleep) {
          Atomics.store(rxi, Header.CONSUMER_WAITING, 1)
          if (Atomics.load(rxi, Header.TAIL) === head) waiter.wait(rxi, Header.TAIL, head)
          Atomics.store(rxi, Header.CONSUMER_WAITING, 0)
        } else atomicsPause()
      }
      rx.used(head, Atomics.load(rxi, Header.TAIL))
      into.set(rxSlots[(head >>> 0) % slots])
      head = (head + 1) | 0
      Atomics.store(rxi, Header.HEAD, head)
      if (sleep && Atomics.load(rxi, Header.PRODUCER_WAITING) !== 0) waiter.wake(rxi, Header.HEAD)
      return into
    },
    close() {
      closeRings(txi, rxi, waiter)
    },
  }
}

/** Marks both rings closed and wakes whatever the peer may be waiting on. */
function closeRings(txi: Int32Array, rxi: Int32Array, waiter: Waiter): void {
  Atomics.store(txi, Header.CLOSED, 1)
  Atomics.store(rxi, Header.CLOSED, 1)
  waiter.wake(txi, Header.TAIL)
  waiter.wake(rxi, Header.HEAD)
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
  let tail = Atomics.load(txi, Header.TAIL)
  let head = Atomics.load(rxi, Header.HEAD)
  const keepAlive = setInterval(() => {}, 1 << 30)

  const trySend = (buf: Uint8Array): boolean => {
    if (tx.used(Atomics.load(txi, Header.HEAD), tail) >= tx.g.slots) return false
    tx.bytes.set(buf, tx.slotOffset(tail))
    tail = (tail + 1) | 0
    Atomics.store(txi, Header.TAIL, tail)
    if (Atomics.load(txi, Header.CONSUMER_WAITING) !== 0) waiter.wake(txi, Header.TAIL)
    return true
  }
  const waitForRoom = (then: () => void): void => {
    const seenHead = Atomics.load(txi, Header.HEAD)
    Atomics.store(txi, Header.PRODUCER_WAITING, 1)
    const again = (): void => {
      Atomics.store(txi, Header.PRODUCER_WAITING, 0)
      then()
    }
    // The consumer may have taken a message before it could see the flag: then it will not wake us.
    if (Atomics.load(txi, Header.HEAD) !== seenHead) again()
    else waitAsync(txi, Header.HEAD, seenHead).then(again, out.fail)
  }
  const out = new Outbox(trySend, waitForRoom)

  const drain = (): void => {
    if (out.closed) return
    try {
      let tailNow = Atomics.load(rxi, Header.TAIL)
      while (tailNow !== head) {
        rx.used(head, tailNow)
        const off = rx.slotOffset(head)
        const msg = rx.bytes.slice(off, off + size)
        head = (head + 1) | 0
        Atomics.store(rxi, Header.HEAD, head)
        if (Atomics.load(rxi, Header.PRODUCER_WAITING) !== 0) waiter.wake(rxi, Header.HEAD)
        out.onMessage(msg)
        if (out.closed) return
        tailNow = Atomics.load(rxi, Header.TAIL)
      }
      Atomics.store(rxi, Header.CONSUMER_WAITING, 1)
      if (Atomics.load(rxi, Header.TAIL) !== head) {
        Atomics.store(rxi, Header.CONSUMER_WAITING, 0)
        queueMicrotask(drain)
        return
      }
      if (Atomics.load(rxi, Header.CLOSED) !== 0) throw closedRing()
      waitAsync(rxi, Header.TAIL, head).then(() => {
        Atomics.store(rxi, Header.CONSUMER_WAITING, 0)
        drain()
      }, out.fail)
    } catch (e) {
      out.onError(e as Error)
    }
  }
  queueMicrotask(drain)

  return out.endpoint(async () => {
    out.closed = true
    clearInterval(keepAlive)
    closeRings(txi, rxi, waiter)
    await waiter.settle?.()
  })
}

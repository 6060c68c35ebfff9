import type { SyncEndpoint } from '../types.js'
import { ipcError } from '../../core/errors.js'
import { DEADLINE_MS } from './native-endpoints.js'
import { Header } from './ring-layout.js'
import { closedRing, type Ring } from './ring.js'

/**
 * The SPSC ring of ring.ts synchronised by counting semaphores instead of futexes on
 * its counters (the layout is in ring-layout.ts, SemHeader):
 *   producer: wait SPACES; copy into slot TAIL % slots; store TAIL+1; post ITEMS.
 *   consumer: wait ITEMS; copy out of slot HEAD % slots; store HEAD+1; post SPACES.
 * The semaphores are the whole synchronisation; TAIL is stored only so that the
 * consumer can tell a message from the wake-up of a closing peer.
 *
 * Waits sleep one time slice at a time (sem_timedwait, semtimedop); between slices
 * the side looks at the ring's CLOSED word and asks `alive` whether its peer is still
 * there. A process peer's death also ends a wait at once, through the harness's
 * watchdog (harness/case/liveness.ts).
 */
export interface Semaphore {
  /** Takes one unit, sleeping at most one time slice: false when the slice ran out. */
  wait(): boolean
  post(): void
}

/** The two semaphores of one ring. */
export interface RingSemaphores {
  items: Semaphore
  spaces: Semaphore
}

/** How long one wait sleeps before the side looks at its peer. */
export const SLICE_MS = DEADLINE_MS

/**
 * One side's endpoint: `tx` it produces into, `rx` it consumes from. `alive` throws
 * when the peer has gone (it runs only when a slice ran out).
 */
export function semRingEndpoint(tx: Ring, rx: Ring, txSems: RingSemaphores, rxSems: RingSemaphores, size: number, alive: () => void): SyncEndpoint {
  const txi = tx.i32
  const rxi = rx.i32
  let tail = Atomics.load(txi, Header.TAIL)
  let head = Atomics.load(rxi, Header.HEAD)
  const rxSlots = rx.slotViews(size)
  const slots = rx.g.slots
  const take = (s: Semaphore, i32: Int32Array): void => {
    while (!s.wait()) {
      if (Atomics.load(i32, Header.CLOSED) !== 0) throw closedRing()
      alive()
    }
  }
  let closed = false
  return {
    kind: 'sync',
    send(buf) {
      take(txSems.spaces, txi)
      // A closing peer posts SPACES to wake us: nobody will read what we would write.
      if (Atomics.load(txi, Header.CLOSED) !== 0) throw closedRing()
      tx.bytes.set(buf, tx.slotOffset(tail))
      tail = (tail + 1) | 0
      Atomics.store(txi, Header.TAIL, tail)
      txSems.items.post()
    },
    recv(into) {
      take(rxSems.items, rxi)
      const tailNow = Atomics.load(rxi, Header.TAIL)
      if (tailNow === head) {
        // Only a closing peer posts ITEMS without a message.
        if (Atomics.load(rxi, Header.CLOSED) !== 0) throw closedRing()
        throw ipcError('ERINGCORRUPT', 'shared ring corrupted: ITEMS was posted with no message in the ring')
      }
      rx.used(head, tailNow)
      into.set(rxSlots[(head >>> 0) % slots])
      head = (head + 1) | 0
      Atomics.store(rxi, Header.HEAD, head)
      rxSems.spaces.post()
      return into
    },
    close() {
      if (closed) return
      closed = true
      // Mark both rings closed, then wake whatever the peer may be waiting on: a
      // message on our tx ring, or room on our rx ring.
      Atomics.store(txi, Header.CLOSED, 1)
      Atomics.store(rxi, Header.CLOSED, 1)
      txSems.items.post()
      rxSems.spaces.post()
    },
  }
}

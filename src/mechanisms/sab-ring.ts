import { wireBytes } from '../core/wire.js'
import type { MechanismImpl } from './types.js'
import { asyncRingEndpoint, Ring, syncRingEndpoint, type Waiter } from './common/ring.js'
import { ringGeometry } from './common/ring-layout.js'

/**
 * How long an event-loop wait lasts before its caller looks at the ring again. A
 * notify can go unanswered: about one thread repetition in 15 to 50 of a 64 KiB stream
 * hung with the ring empty, the producer still waiting for room and its Atomics.waitAsync
 * never resolved (Node 20.20, both threads idle in epoll_wait). The callers re-check the
 * ring whenever a wait returns, so a lost wake-up costs this long, not the case.
 */
export const WAIT_ASYNC_RECHECK_MS = 20

/** SharedArrayBuffer waits: Atomics.wait / notify, and Atomics.waitAsync for the event loop. */
export const sabWaiter: Waiter = {
  wait: (i32, index, expected) => void Atomics.wait(i32, index, expected),
  wake: (i32, index) => void Atomics.notify(i32, index, 1),
  waitAsync(i32, index, expected) {
    const r = Atomics.waitAsync(i32, index, expected, WAIT_ASYNC_RECHECK_MS)
    return r.async ? r.value : Promise.resolve(r.value)
  },
}

/**
 * Two SPSC rings in one SharedArrayBuffer between the main thread and a worker.
 * blocking: Atomics.wait/notify (a futex underneath); busy-poll: Atomics.load
 * spin (+ Atomics.pause where the runtime has it); nonblocking: Atomics.waitAsync.
 */
export const sabRing: MechanismImpl = {
  async setup(ctx) {
    const g = ringGeometry(wireBytes(ctx.spec.sizeBytes))
    const sab = new SharedArrayBuffer(2 * g.ringBytes)
    const ab = new Ring(sab, 0, g)
    const ba = new Ring(sab, g.ringBytes, g)
    return {
      peer: { info: { sab } },
      openA: async () => open(ctx.spec.mode, ab, ba, ctx.spec.sizeBytes),
      describe: () => ({
        slots: String(g.slots),
        slotBytes: String(g.slotBytes),
        wait: {
          blocking: 'Atomics.wait/notify',
          'busy-poll': `Atomics.load spin${'pause' in Atomics ? ' + Atomics.pause' : ''}`,
          nonblocking: `Atomics.waitAsync (re-checked every ${WAIT_ASYNC_RECHECK_MS} ms)`,
        }[ctx.spec.mode],
      }),
      async teardown() {},
    }
  },
  async openB(ctx) {
    const { sab } = ctx.info as { sab: SharedArrayBuffer }
    const g = ringGeometry(wireBytes(ctx.spec.sizeBytes))
    return open(ctx.spec.mode, new Ring(sab, g.ringBytes, g), new Ring(sab, 0, g), ctx.spec.sizeBytes)
  },
}

function open(mode: string, tx: Ring, rx: Ring, size: number) {
  if (mode === 'nonblocking') return asyncRingEndpoint(tx, rx, wireBytes(size), sabWaiter)
  return syncRingEndpoint(tx, rx, wireBytes(size), mode === 'blocking' ? 'sleep' : 'spin', sabWaiter)
}

import { EAGAIN, native, type NativeApi } from '../native/index.js'
import { readSeq, stamp, wireBytes } from '../core/wire.js'
import type { MechanismImpl, PeerLink, SetupContext, SyncEndpoint } from './types.js'
import { checkPeer } from './common/native-endpoints.js'
import { IntegrityError } from '../core/errors.js'

/** SIGRTMIN + this is the signal both directions use (glibc keeps the first two for itself; SIGRTMIN is already past them). */
const SIGNAL_OFFSET = 4
/** Busy-poll: empty polls between checks that the peer is still there. */
const SPINS_PER_CHECK = 1 << 18

/**
 * Real-time signals: queued (they do not coalesce like standard signals) and each
 * carries an int. Sent with rt_tgsigqueueinfo to one thread, the one that blocked
 * the signal and waits for it with sigwaitinfo (blocking) or sigtimedwait(0)
 * (busy-poll), so the signal is never delivered to a handler or to another
 * thread of Node's. Process-directed signals would be: a thread that had not blocked
 * it would take the default action (terminate).
 *
 * rt-signal: the int is the message (its 4 bytes: the sequence number).
 * shm-signal: the producer writes the message into shared memory and then signals
 * the consumer with the sequence number, the pairing of shared memory with a
 * notification that operating-systems texts describe; the consumer copies the
 * message out and checks it against the signal's number.
 */
interface SignalInfo {
  signo: number
  /** For a worker peer: where it publishes its thread id (a child's main thread id is its pid). */
  tidCell: SharedArrayBuffer
  shm?: { name: string; bytes: number }
}

function signalImpl(withMemory: boolean): MechanismImpl {
  return {
    async setup(ctx: SetupContext) {
      const api = native()
      const size = wireBytes(ctx.spec.sizeBytes)
      const info: SignalInfo = {
        signo: api.sigRtMin() + SIGNAL_OFFSET,
        tidCell: new SharedArrayBuffer(4),
        shm: withMemory ? { name: `/${ctx.objectName()}`, bytes: 2 * size } : undefined,
      }
      const memory = info.shm ? api.shmMap(info.shm.name, info.shm.bytes, true) : undefined
      return {
        peer: { info },
        async openA(peer: PeerLink) {
          api.sigBlock(info.signo)
          const isProcess = ctx.spec.endpoints === 'process'
          const tid = isProcess ? peer.pid : await workerTid(info.tidCell)
          return signalEndpoint(api, info.signo, peer.pid, tid, isProcess ? peer.pid : undefined, memory, size, 'a', ctx.spec.mode === 'busy-poll')
        },
        describe: () => ({
          signal: `SIGRTMIN+${SIGNAL_OFFSET} (${info.signo}), rt_tgsigqueueinfo to the waiting thread`,
          wait: ctx.spec.mode === 'blocking' ? 'sigwaitinfo' : 'sigtimedwait(0), retried',
          ...(info.shm
            ? { memory: `shm_open ${info.shm.name} + mmap, one ${size}-byte slot per direction` }
            : { payload: "the signal's int (4 bytes: the message)" }),
        }),
        async teardown() {
          if (info.shm) api.shmUnlink(info.shm.name)
        },
      }
    },
    async openB(ctx) {
      const api = native()
      const info = ctx.info as SignalInfo
      api.sigBlock(info.signo)
      if (ctx.spec.endpoints === 'thread') {
        const cell = new Int32Array(info.tidCell)
        Atomics.store(cell, 0, api.gettid())
        Atomics.notify(cell, 0)
      }
      const size = wireBytes(ctx.spec.sizeBytes)
      const memory = info.shm ? api.shmMap(info.shm.name, info.shm.bytes, false) : undefined
      // Side a runs on its process's main thread, whose thread id is the pid.
      return signalEndpoint(api, info.signo, ctx.parentPid, ctx.parentPid, ctx.parentPid, memory, size, 'b', ctx.spec.mode === 'busy-poll')
    },
  }
}

async function workerTid(cell: SharedArrayBuffer): Promise<number> {
  const i32 = new Int32Array(cell)
  const until = Date.now() + 10_000
  while (Atomics.load(i32, 0) === 0) {
    if (Date.now() > until) throw new Error('the worker peer did not publish its thread id')
    await new Promise((r) => setTimeout(r, 1))
  }
  return Atomics.load(i32, 0)
}

function signalEndpoint(
  api: NativeApi,
  signo: number,
  pid: number,
  tid: number,
  peerPid: number | undefined,
  memory: ArrayBuffer | undefined,
  size: number,
  side: 'a' | 'b',
  spin: boolean,
): SyncEndpoint {
  const slots = memory ? [new Uint8Array(memory, 0, size), new Uint8Array(memory, size, size)] : undefined
  const [txSlot, rxSlot] = slots ? (side === 'a' ? slots : [slots[1], slots[0]]) : [undefined, undefined]
  return {
    kind: 'sync',
    send(buf) {
      const seq = readSeq(buf)
      txSlot?.set(buf)
      while (api.sigqueueThread(pid, tid, signo, seq | 0) === -EAGAIN) checkPeer(peerPid) // the receiver's queue of pending signals is full
    },
    recv(into) {
      let value: number | null
      for (let tries = 1; ; tries++) {
        // Blocking: no deadline; the harness's watchdog interrupts the wait when the peer dies.
        value = api.sigWait(signo, spin ? 0 : -1)
        if (value !== null) break
        if (!spin || tries % SPINS_PER_CHECK === 0) checkPeer(peerPid)
      }
      const seq = value >>> 0
      if (!rxSlot) {
        stamp(into, seq)
        return into
      }
      into.set(rxSlot)
      if (readSeq(into) !== seq) throw new IntegrityError(`signal ${seq} announced a message whose sequence number is ${readSeq(into)}`)
      return into
    },
    close() {},
  }
}

export const rtSignal = signalImpl(false)
export const shmSignal = signalImpl(true)

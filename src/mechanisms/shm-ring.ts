import { native, type NativeApi } from '../native/index.js'
import type { Endpoint, Mechanism, MechanismImpl } from './types.js'
import { asyncRingEndpoint, Ring, syncRingEndpoint } from './common/ring.js'
import { ringGeometry, type RingGeometry } from './common/ring-layout.js'
import { futexWaiter } from './common/native-endpoints.js'

/**
 * The shared-memory ring of sab-ring (common/ring.ts), between two processes: the
 * memory comes from the native helper as an ArrayBuffer over a MAP_SHARED mapping,
 * and Atomics on an Int32Array over it are real atomic instructions on memory both
 * processes see. Atomics.wait refuses non-shared buffers, so sleeping is a
 * non-private futex on the same words (the waiting flags let a producer skip the
 * wake system call when nobody sleeps).
 *
 * blocking: futex wait/wake; busy-poll: Atomics.load spin; nonblocking: the futex
 * wait on a pool thread, resolving a promise.
 */
type Source = 'posix' | 'sysv'

function ringMechanism(source: Source): Mechanism {
  return {
    id: source === 'posix' ? 'shm-ring' : 'sysv-shm',
    family: 'shared-memory',
    summary:
      source === 'posix'
        ? 'ring buffers in POSIX shared memory (shm_open + mmap) with Atomics and futexes, between processes'
        : 'the same ring in a System V segment (shmget + shmat), between processes',
    modes: ['blocking', 'nonblocking', 'busy-poll'],
    endpoints: ['process'],
    patterns: ['pingpong', 'stream'],
    native: true,
    maxMessage(limits) {
      const shmmax = limits.sysv?.shmmax
      if (source !== 'sysv' || shmmax === undefined) return undefined
      return { bytes: Math.floor(shmmax / 4), limit: `kernel.shmmax (${shmmax})`, fix: 'raise it with "sysctl -w kernel.shmmax=BYTES"' }
    },
    load: async () => ringImpl(source),
  }
}

interface RingInfo {
  name?: string
  id?: number
  bytes: number
}

function ringImpl(source: Source): MechanismImpl {
  return {
    async setup(ctx) {
      const api = native()
      const g = ringGeometry(Math.max(ctx.spec.sizeBytes, 4))
      const bytes = 2 * g.ringBytes
      let info: RingInfo
      let memory: ArrayBuffer
      if (source === 'posix') {
        info = { name: `/${ctx.objectName()}`, bytes }
        memory = api.shmMap(info.name!, bytes, true)
      } else {
        const id = api.shmGet(bytes)
        ctx.ledger('shm', id)
        info = { id, bytes }
        memory = api.shmAttach(id, bytes)
      }
      let peerPid: number | undefined
      return {
        peer: { info },
        async openA(peer) {
          peerPid = peer.pid
          return open(api, ctx.spec.mode, memory, g, 'a', ctx.spec.sizeBytes, () => peerPid)
        },
        describe: () => ({
          memory: source === 'posix' ? `shm_open ${info.name} + mmap(MAP_SHARED), ${bytes} bytes` : `shmget id ${info.id} + shmat, ${bytes} bytes`,
          slots: String(g.slots),
          slotBytes: String(g.slotBytes),
          wait: { blocking: 'futex wait/wake (non-private)', 'busy-poll': `Atomics.load spin${'pause' in Atomics ? ' + Atomics.pause' : ''}`, nonblocking: 'futex wait on a pool thread → promise' }[ctx.spec.mode] ?? '',
        }),
        async teardown() {
          // The mappings go when their buffers are collected or the processes exit;
          // the name (or id) goes now, so nothing outlives the case.
          if (info.name) api.shmUnlink(info.name)
          if (info.id !== undefined) api.shmRmid(info.id)
        },
      }
    },
    async openB(ctx) {
      const api = native()
      const info = ctx.info as RingInfo
      const memory = info.name !== undefined ? api.shmMap(info.name, info.bytes, false) : api.shmAttach(info.id!, info.bytes)
      const g = ringGeometry(Math.max(ctx.spec.sizeBytes, 4))
      return open(api, ctx.spec.mode, memory, g, 'b', ctx.spec.sizeBytes, () => ctx.parentPid)
    },
  }
}

function open(api: NativeApi, mode: string, memory: ArrayBuffer, g: RingGeometry, side: 'a' | 'b', size: number, peerPid: () => number | undefined): Endpoint {
  const ab = new Ring(memory, 0, g)
  const ba = new Ring(memory, g.ringBytes, g)
  const [tx, rx] = side === 'a' ? [ab, ba] : [ba, ab]
  const waiter = futexWaiter(api, peerPid)
  const bytes = Math.max(size, 4)
  if (mode === 'nonblocking') return asyncRingEndpoint(tx, rx, bytes, waiter)
  return syncRingEndpoint(tx, rx, bytes, mode === 'blocking' ? 'sleep' : 'spin', waiter)
}

export const shmRing = ringMechanism('posix')
export const sysvShm = ringMechanism('sysv')

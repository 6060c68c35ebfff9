import { wireBytes } from '../core/wire.js'
import { native, type NativeApi } from '../native/index.js'
import type { Endpoint, MechanismImpl } from './types.js'
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

interface RingInfo {
  name?: string
  id?: number
  bytes: number
}

function ringImpl(source: Source): MechanismImpl {
  return {
    async setup(ctx) {
      const api = native()
      const g = ringGeometry(wireBytes(ctx.spec.sizeBytes))
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
          wait:
            {
              blocking: 'futex wait/wake (non-private)',
              'busy-poll': `Atomics.load spin${'pause' in Atomics ? ' + Atomics.pause' : ''}`,
              nonblocking: 'futex wait on a pool thread → promise',
            }[ctx.spec.mode] ?? '',
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
      const g = ringGeometry(wireBytes(ctx.spec.sizeBytes))
      return open(api, ctx.spec.mode, memory, g, 'b', ctx.spec.sizeBytes, () => ctx.parentPid)
    },
  }
}

function open(
  api: NativeApi,
  mode: string,
  memory: ArrayBuffer,
  g: RingGeometry,
  side: 'a' | 'b',
  size: number,
  peerPid: () => number | undefined,
): Endpoint {
  const ab = new Ring(memory, 0, g)
  const ba = new Ring(memory, g.ringBytes, g)
  const [tx, rx] = side === 'a' ? [ab, ba] : [ba, ab]
  const waiter = futexWaiter(api, peerPid)
  const bytes = wireBytes(size)
  if (mode === 'nonblocking') return asyncRingEndpoint(tx, rx, bytes, waiter)
  return syncRingEndpoint(tx, rx, bytes, mode === 'blocking' ? 'sleep' : 'spin', waiter)
}

export const shmRing = ringImpl('posix')
export const sysvShm = ringImpl('sysv')

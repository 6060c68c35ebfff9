import { readFileSync } from 'node:fs'
import { wireBytes } from '../core/wire.js'
import { PeerGoneError } from '../core/errors.js'
import { ETIMEDOUT, EAGAIN, native, type NativeApi } from '../native/index.js'
import type { Endpoint, MechanismImpl } from './types.js'
import { Ring } from './common/ring.js'
import { ringGeometry, SemHeader, SysvSem, type RingGeometry } from './common/ring-layout.js'
import { semRingEndpoint, SLICE_MS, type RingSemaphores } from './common/sem-ring.js'
import { checkPeer } from './common/native-endpoints.js'

/**
 * Shared memory guarded by semaphores, the textbook pairing, beside the futex rings
 * of shm-ring.ts: the same two SPSC rings, synchronised as a bounded buffer
 * (common/sem-ring.ts), between processes or threads, blocking only.
 *
 *   shm-sem:  the rings in shm_open + mmap(MAP_SHARED) memory (mode 0600, a random
 *             `ipcbench-<pid>-` name), with four POSIX semaphores made in it by
 *             sem_init(pshared = 1): a wait that must sleep is a futex wait, and a
 *             post with nobody waiting stays in user space.
 *   sysv-sem: the rings in a shmget segment, with one System V semaphore set
 *             (semget, mode 0600): every wait and every post is a semtimedop system
 *             call. Each side's presence is a semaphore raised with SEM_UNDO, which
 *             the kernel takes back when the side's process ends.
 *
 * System V objects have no names: their ids go into the case's ledger, so that
 * `ipcbench clean` removes what a killed run left.
 */
type Source = 'posix' | 'sysv'

interface SemRingInfo {
  /** shm-sem: the shm_open name. */
  name?: string
  /** sysv-sem: the segment and the semaphore set. */
  shmId?: number
  semId?: number
  bytes: number
}

/** The sem_t words of both rings (POSIX), as Int32Array indices into the mapping. */
const posixSems = (g: RingGeometry) => ({
  abItems: SemHeader.ITEMS,
  abSpaces: SemHeader.SPACES,
  baItems: g.ringBytes / 4 + SemHeader.ITEMS,
  baSpaces: g.ringBytes / 4 + SemHeader.SPACES,
})

function semRingImpl(source: Source): MechanismImpl {
  return {
    async setup(ctx) {
      const api = native()
      const g = ringGeometry(wireBytes(ctx.spec.sizeBytes))
      const bytes = 2 * g.ringBytes
      const info: SemRingInfo = { bytes }
      let memory: ArrayBuffer
      const undo: Array<() => void> = []
      try {
        if (source === 'posix') {
          info.name = `/${ctx.objectName()}`
          memory = api.shmMap(info.name, bytes, true)
          undo.push(() => api.shmUnlink(info.name!))
          const i32 = new Int32Array(memory)
          const s = posixSems(g)
          for (const [index, value] of [
            [s.abItems, 0],
            [s.abSpaces, g.slots],
            [s.baItems, 0],
            [s.baSpaces, g.slots],
          ]) {
            api.semInit(i32, index, value)
            undo.push(() => api.semDestroy(i32, index))
          }
        } else {
          info.shmId = api.shmGet(bytes)
          ctx.ledger('shm', info.shmId)
          undo.push(() => api.shmRmid(info.shmId!))
          memory = api.shmAttach(info.shmId, bytes)
          info.semId = api.sysvSemGet(SysvSem.COUNT)
          ctx.ledger('sem', info.semId)
          undo.push(() => api.sysvSemRmid(info.semId!))
          api.sysvSemSet(info.semId, SysvSem.AB_SPACES, g.slots)
          api.sysvSemSet(info.semId, SysvSem.BA_SPACES, g.slots)
          // Raised before the peer starts, so the peer can never look before it is.
          if (ctx.spec.endpoints === 'process') api.sysvSemOp(info.semId, SysvSem.A_PRESENT, 1, true, -1)
        }
      } catch (err) {
        for (const u of undo.reverse()) u()
        throw err
      }
      let peerPid: number | undefined
      return {
        peer: { info },
        async openA(peer) {
          peerPid = ctx.spec.endpoints === 'process' ? peer.pid : undefined
          return open(api, memory, info, g, 'a', ctx.spec.sizeBytes, () => peerPid)
        },
        describe: () => describeObjects(info, g, peerPid),
        async teardown() {
          // Side b has ended by now (the harness stops it first); the mapping goes with its buffer.
          for (const u of undo.splice(0).reverse()) u()
        },
      }
    },
    async openB(ctx) {
      const api = native()
      const info = ctx.info as SemRingInfo
      const g = ringGeometry(wireBytes(ctx.spec.sizeBytes))
      const memory = info.name !== undefined ? api.shmMap(info.name, info.bytes, false) : api.shmAttach(info.shmId!, info.bytes)
      if (info.semId !== undefined && ctx.spec.endpoints === 'process') api.sysvSemOp(info.semId, SysvSem.B_PRESENT, 1, true, -1)
      const parent = ctx.spec.endpoints === 'process' ? ctx.parentPid : undefined
      return open(api, memory, info, g, 'b', ctx.spec.sizeBytes, () => parent)
    },
  }
}

function open(
  api: NativeApi,
  memory: ArrayBuffer,
  info: SemRingInfo,
  g: RingGeometry,
  side: 'a' | 'b',
  size: number,
  peerPid: () => number | undefined,
): Endpoint {
  const ab = new Ring(memory, 0, g)
  const ba = new Ring(memory, g.ringBytes, g)
  const [abSems, baSems] = info.semId !== undefined ? sysvSemaphores(api, info.semId) : posixSemaphores(api, new Int32Array(memory), g)
  const [tx, rx, txSems, rxSems] = side === 'a' ? [ab, ba, abSems, baSems] : [ba, ab, baSems, abSems]
  const peerPresent = info.semId !== undefined ? (side === 'a' ? SysvSem.B_PRESENT : SysvSem.A_PRESENT) : undefined
  const alive = (): void => {
    const pid = peerPid()
    if (pid === undefined) return
    checkPeer(pid)
    // The kernel undid the peer's SEM_UNDO raise: its process has ended.
    if (peerPresent !== undefined && api.sysvSemGetVal(info.semId!, peerPresent) === 0)
      throw new PeerGoneError(`the peer (pid ${pid}) has gone (its SEM_UNDO presence was released)`)
  }
  return semRingEndpoint(tx, rx, txSems, rxSems, wireBytes(size), alive)
}

function posixSemaphores(api: NativeApi, i32: Int32Array, g: RingGeometry): [RingSemaphores, RingSemaphores] {
  const s = posixSems(g)
  const sem = (index: number) => ({
    wait: () => api.semWait(i32, index, SLICE_MS) !== -ETIMEDOUT,
    post: () => api.semPost(i32, index),
  })
  return [
    { items: sem(s.abItems), spaces: sem(s.abSpaces) },
    { items: sem(s.baItems), spaces: sem(s.baSpaces) },
  ]
}

function sysvSemaphores(api: NativeApi, id: number): [RingSemaphores, RingSemaphores] {
  const sem = (num: number) => ({
    wait: () => api.sysvSemOp(id, num, -1, false, SLICE_MS) !== -EAGAIN,
    post: () => void api.sysvSemOp(id, num, 1, false, -1),
  })
  return [
    { items: sem(SysvSem.AB_ITEMS), spaces: sem(SysvSem.AB_SPACES) },
    { items: sem(SysvSem.BA_ITEMS), spaces: sem(SysvSem.BA_SPACES) },
  ]
}

/** What /proc says the objects are, read back while both sides hold them. */
function describeObjects(info: SemRingInfo, g: RingGeometry, peerPid: number | undefined): Record<string, string> {
  const common = { slots: String(g.slots), slotBytes: String(g.slotBytes), slice: `${SLICE_MS} ms per wait, then the peer is checked` }
  if (info.name !== undefined) {
    const path = `/dev/shm${info.name}`
    return {
      memory: `shm_open ${info.name} + mmap(MAP_SHARED), ${info.bytes} bytes`,
      semaphores: 'four POSIX semaphores (sem_init pshared=1) in the segment: ITEMS and SPACES per ring',
      wait: 'sem_timedwait / sem_post',
      mapsA: mappings('self', path),
      ...(peerPid !== undefined ? { mapsB: mappings(peerPid, path) } : {}),
      ...common,
    }
  }
  return {
    memory: `shmget id ${info.shmId} + shmat, ${info.bytes} bytes; ${sysvipc('shm', info.shmId!)}`,
    semaphores: `semget id ${info.semId}, ${SysvSem.COUNT} semaphores (ITEMS and SPACES per ring, ${peerPid !== undefined ? "each side's SEM_UNDO presence" : 'presence unused between threads'}); ${sysvipc('sem', info.semId!)}`,
    wait: 'semtimedop / semop (a system call each)',
    ...common,
  }
}

/** How `pid` maps `path`: "2 mappings, rw-s" as /proc/<pid>/maps lists them. */
function mappings(pid: number | 'self', path: string): string {
  try {
    const lines = readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .filter((l) => l.endsWith(` ${path}`))
    if (lines.length === 0) return `not mapped in /proc/${pid}/maps`
    const perms = [...new Set(lines.map((l) => l.split(/\s+/)[1]))].join(',')
    return `${path} mapped ${lines.length}× (${perms})`
  } catch {
    return 'unknown'
  }
}

/** The object's line of /proc/sysvipc/<kind>: its permissions and size as the kernel holds them. */
function sysvipc(kind: 'sem' | 'shm', id: number): string {
  try {
    const [head, ...rows] = readFileSync(`/proc/sysvipc/${kind}`, 'utf8').trim().split('\n')
    const cols = head.trim().split(/\s+/)
    const row = rows.map((r) => r.trim().split(/\s+/)).find((r) => r[cols.indexOf(kind === 'sem' ? 'semid' : 'shmid')] === String(id))
    if (!row) return `not in /proc/sysvipc/${kind}`
    const size = kind === 'sem' ? `nsems ${row[cols.indexOf('nsems')]}` : `size ${row[cols.indexOf('size')]}`
    return `/proc/sysvipc/${kind}: perms ${row[cols.indexOf('perms')]}, ${size}`
  } catch {
    return `/proc/sysvipc/${kind} unreadable`
  }
}

export const shmSem = semRingImpl('posix')
export const sysvSem = semRingImpl('sysv')

/**
 * The shared-memory ring's layout, used by sab-ring (threads, SharedArrayBuffer),
 * shm-ring (processes, shm_open + mmap) and sysv-shm (processes, shmget). One ring
 * per direction; one producer and one consumer each.
 *
 * Every counter sits on its own 64-byte cache line: the producer writes TAIL, the
 * consumer writes HEAD, and sharing a line between them costs ~8× (measured on this project's machine).
 * HEAD and TAIL count messages since the start and wrap as uint32; the slot of
 * message k is k % slots. Used slots = (TAIL - HEAD) mod 2^32.
 */
export const CACHE_LINE = 64

/** Int32 indices of the ring header's words (byte offset / 4); the message slots follow the header. */
export const Header = {
  /** Messages consumed; written only by the consumer. */
  HEAD: 0 / 4,
  /** Messages produced; written only by the producer, after the slot's bytes. */
  TAIL: 64 / 4,
  /** 1 while the consumer sleeps (or is about to) waiting for TAIL to move. */
  CONSUMER_WAITING: 128 / 4,
  /** 1 while the producer sleeps waiting for HEAD to move (ring full). */
  PRODUCER_WAITING: 192 / 4,
  /**
   * 1 once either side has closed the channel: the other side, waiting on an empty
   * (or full) ring, learns that nothing more will come, even when it shares a pid with
   * its peer (threads) and cannot ask the kernel whether the peer is alive.
   */
  CLOSED: 224 / 4,
} as const

export const HEADER_BYTES = 256

export interface RingGeometry {
  slots: number
  slotBytes: number
  /** Bytes of one ring (header + slots). */
  ringBytes: number
}

/** Up to 64 slots, and about 4 MiB of slots per direction at most (but always at least 2). */
export function ringGeometry(messageBytes: number): RingGeometry {
  const slotBytes = Math.ceil(messageBytes / CACHE_LINE) * CACHE_LINE
  const slots = Math.max(2, Math.min(64, Math.floor((4 * 1024 * 1024) / slotBytes)))
  return { slots, slotBytes, ringBytes: HEADER_BYTES + slots * slotBytes }
}

/**
 * The semaphore rings (shm-sem, sysv-sem) guard the same slots with two counting
 * semaphores per ring, the textbook bounded buffer: ITEMS counts the messages ready
 * (the consumer waits on it, the producer posts it) and SPACES the free slots (the
 * producer waits, the consumer posts). One producer and one consumer need no mutex.
 * The futex ring's waiting flags have no use there, so shm-sem keeps its two POSIX
 * sem_t (32 bytes on 64-bit glibc; the addon refuses a larger one) on those two lines.
 * TAIL, HEAD and CLOSED keep their meaning: a side that closes posts the semaphores to
 * wake its peer, and the peer tells that wake-up from a message by TAIL not moving.
 */
export const SemHeader = {
  ITEMS: Header.CONSUMER_WAITING,
  SPACES: Header.PRODUCER_WAITING,
} as const

/**
 * sysv-sem's one semaphore set: ITEMS and SPACES of each ring, then each side's
 * presence, raised once with SEM_UNDO by the side's process: the kernel takes it back
 * when that process ends, however it ends, so a peer waiting between its time slices
 * reads 0 there once the other side is gone. The counting semaphores take no SEM_UNDO:
 * undoing a dead producer's posts would retract messages it had sent, and a process's
 * undo value is bounded by SEMAEM (32767), so a side that posts a million times with it
 * fails with ERANGE.
 */
export const SysvSem = {
  AB_ITEMS: 0,
  AB_SPACES: 1,
  BA_ITEMS: 2,
  BA_SPACES: 3,
  A_PRESENT: 4,
  B_PRESENT: 5,
  COUNT: 6,
} as const

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

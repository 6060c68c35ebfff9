import type { HostLimits } from '../core/result.js'
import type { SizeLimit } from './types.js'

/**
 * The largest message each limited mechanism can carry on this host, from the
 * kernel limits read at start. Kept apart from the implementations so the registry
 * (and `ipcbench list`) can say it without loading them.
 */

/** The kernel's default socket send buffer when net.core limits are unknown. */
export const DEFAULT_SNDBUF = 212992
/** Per-message overhead an AF_UNIX datagram takes from the send buffer (measured: 212992 → 212960). */
export const SKB_OVERHEAD = 32

/** AF_UNIX datagrams and seqpackets: bounded by the send buffer, which the kernel doubles up to wmem_max. */
export function datagramLimit(limits: HostLimits): SizeLimit {
  const wmemMax = limits.netCore?.wmemMax ?? DEFAULT_SNDBUF
  return {
    bytes: 2 * wmemMax - SKB_OVERHEAD,
    limit: `net.core.wmem_max (${wmemMax}; the kernel doubles SO_SNDBUF)`,
    fix: 'raise it with "sysctl -w net.core.wmem_max=BYTES" (and rmem_max)',
  }
}

export function posixMqLimit(limits: HostLimits): SizeLimit | undefined {
  const max = limits.mqueue?.msgsizeMax
  if (max === undefined) return undefined
  return {
    bytes: max,
    limit: `/proc/sys/fs/mqueue/msgsize_max (${max})`,
    fix: 'raise it with "sysctl -w fs.mqueue.msgsize_max=BYTES" (beyond the hard limit needs CAP_SYS_RESOURCE), or use smaller --sizes',
  }
}

export function sysvMsgLimit(limits: HostLimits): SizeLimit | undefined {
  const max = Math.min(limits.sysv?.msgmax ?? Infinity, limits.sysv?.msgmnb ?? Infinity)
  if (!Number.isFinite(max)) return undefined
  return {
    bytes: max,
    limit: `kernel.msgmax (${limits.sysv?.msgmax}) / kernel.msgmnb (${limits.sysv?.msgmnb})`,
    fix: 'raise them with "sysctl -w kernel.msgmax=BYTES kernel.msgmnb=BYTES"',
  }
}

/** Both rings of a System V segment, each with slots for a few messages, must fit in shmmax. */
export function sysvShmLimit(limits: HostLimits): SizeLimit | undefined {
  const shmmax = limits.sysv?.shmmax
  if (shmmax === undefined) return undefined
  return { bytes: Math.floor(shmmax / 4), limit: `kernel.shmmax (${shmmax})`, fix: 'raise it with "sysctl -w kernel.shmmax=BYTES"' }
}

/** PIPE_BUF on Linux: a pipe or FIFO write of at most this many bytes is atomic. */
export const PIPE_BUF = 4096

/** Several writers into one FIFO: only a write of at most PIPE_BUF stays whole. */
export function pipeBufLimit(): SizeLimit {
  return {
    bytes: PIPE_BUF,
    limit: `PIPE_BUF (${PIPE_BUF} bytes): a FIFO write is atomic only up to it, so larger messages from several senders could interleave`,
    fix: `use --sizes ${PIPE_BUF / 1024}k or less for a FIFO`,
  }
}

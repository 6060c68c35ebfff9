import { fstatSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { listDir } from '../../core/proc.js'

/**
 * What /proc says the objects of a case are, for both sides: read back from the
 * kernel, never assumed from what the code asked for.
 */

/** What /proc says an fd of this process is: `pipe:[1234]`, `socket:[5678]`, a path… */
export function fdKind(fd: number, pid: number | 'self' = 'self'): string {
  if (fd < 0) return 'unknown'
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`)
  } catch {
    return 'unknown'
  }
}

const UNIX_TYPES: Record<string, string> = { '0001': 'SOCK_STREAM', '0002': 'SOCK_DGRAM', '0005': 'SOCK_SEQPACKET' }

/** The socket behind `socket:[inode]`: its AF_UNIX type from /proc/net/unix, or TCP from /proc/net/tcp{,6}. */
export function socketType(inode: string): string | undefined {
  try {
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols[6] === inode) return `AF_UNIX ${UNIX_TYPES[cols[4]] ?? `type ${cols[4]}`}`
    }
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) if (line.trim().split(/\s+/)[9] === inode) return 'TCP'
    }
  } catch {
    // no /proc/net here
  }
  return undefined
}

/** `fdKind`, with a socket's type read from the kernel: `socket:[5678] AF_UNIX SOCK_DGRAM`. */
export function describeFd(fd: number, pid: number | 'self' = 'self'): string {
  const kind = fdKind(fd, pid)
  const inode = /^socket:\[(\d+)\]$/.exec(kind)?.[1]
  const type = inode ? socketType(inode) : undefined
  return type ? `${kind} ${type}` : kind
}

/**
 * The fds of `pid` that are the FIFO at `path` (the same inode, and a FIFO), as
 * `<fd>:fifo`: a pipe or a file by the same name would not pass.
 */
export function fifoFds(pid: number | 'self', path: string): number[] {
  let want: { ino: number; dev: number }
  try {
    const st = statSync(path)
    if (!st.isFIFO()) return []
    want = { ino: st.ino, dev: st.dev }
  } catch {
    return []
  }
  const out: number[] = []
  for (const name of listDir(`/proc/${pid}/fd`)) {
    const fd = Number(name)
    try {
      const st = pid === 'self' ? fstatSync(fd) : statSync(`/proc/${pid}/fd/${fd}`)
      if (st.isFIFO() && st.ino === want.ino && st.dev === want.dev) out.push(fd)
    } catch {
      // closed meanwhile
    }
  }
  return out
}

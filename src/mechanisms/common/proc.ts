import { readlinkSync } from 'node:fs'

/** What /proc says an fd of this process is: `pipe:[1234]`, `socket:[5678]`, a path… */
export function fdKind(fd: number, pid: number | 'self' = 'self'): string {
  if (fd < 0) return 'unknown'
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`)
  } catch {
    return 'unknown'
  }
}

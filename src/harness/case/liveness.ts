import { loadNative } from '../../native/index.js'

/**
 * A peer process's death noticed while this thread sleeps in a blocking call, with
 * no deadline on the call: the addon's watchdog waits on the peer's pidfd and, once
 * it has exited, interrupts this thread's system call, which then throws
 * EPEERCLOSED ("the peer (pid N) has gone"). The C floor does the same with SIGCHLD,
 * so neither side arms a timer per wait. Started just before the loop, stopped just
 * after. Without the addon there is nothing to watch with (and no mechanism that
 * blocks in a system call).
 */
export function watchPeerWhileBlocked(pid: number): { stop(): void } | undefined {
  const n = loadNative()
  return n.ok ? new n.api.PeerWatchdog(pid) : undefined
}

/**
 * A process of a case (the case process, a process peer, a fan-in sender) dies with the
 * process that started it, named by IPCBENCH_PARENT_PID: an orchestrator killed with
 * SIGKILL runs no clean-up, and a side blocked in a system call, or a peer that hangs,
 * would otherwise run on for ever. What it leaves carries its pid; the next run removes
 * it (host/cleanup.ts). Exits at once when that parent is already gone.
 */
export function dieWithParent(): void {
  const parent = Number(process.env.IPCBENCH_PARENT_PID)
  if (!Number.isInteger(parent) || parent <= 0) return
  const n = loadNative()
  if (n.ok ? !n.api.dieWithParent(parent) : process.ppid !== parent) process.exit(1)
}

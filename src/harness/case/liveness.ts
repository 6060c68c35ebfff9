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

import { EAGAIN, WATCH_READABLE, WATCH_WRITABLE, type NativeApi } from '../../native/index.js'
import type { AsyncEndpoint, SyncEndpoint } from '../types.js'
import type { Waiter } from './ring.js'
import { errorFields, ipcError, PeerGoneError } from '../../core/errors.js'
import { processGone } from '../../core/proc.js'
import { Outbox } from './outbox.js'

/**
 * Endpoints built from the native helper's calls, shared by the mechanisms that
 * Node has no API for. A mechanism supplies one-shot `trySend`/`tryRecv` calls; the
 * mode decides what happens when they would block:
 *   blocking:    the calls themselves sleep in the kernel, with no deadline (a dead
 *                process peer interrupts them through the harness's watchdog);
 *   busy-poll:   non-blocking calls retried at once;
 *   nonblocking: non-blocking calls, and readiness watched on the event loop's
 *                own thread (epoll through libuv), as Node watches its sockets.
 */

/** How long a wait on a pool thread (futex, event loop) sleeps before it checks that the peer is still there. */
export const DEADLINE_MS = 500

/** The error of a peer process that has exited, however it was noticed (the addon's watchdog says the same). */
const peerGone = (pid: number): PeerGoneError => new PeerGoneError(`the peer (pid ${pid}) has gone`)

/** Throws when the peer process has gone; for thread peers (same pid) there is nothing to check. */
export function checkPeer(peerPid: number | undefined): void {
  if (peerPid !== undefined && peerPid !== process.pid && processGone(peerPid)) throw peerGone(peerPid)
}

/** One message out: true when it went, false when the channel is full (-EAGAIN). */
export type TrySend = (buf: Uint8Array) => boolean
/** One message in, into `into`: its length, or -EAGAIN when there is none yet. */
export type TryRecv = (into: Uint8Array) => number

export interface MessageCalls {
  trySend: TrySend
  tryRecv: TryRecv
  /** Messages keep their boundaries (a datagram, a queue message): a short one is an error, not a fragment. */
  size: number
  close(): void
}

/** busy-poll: retry the non-blocking calls without sleeping. */
export function spinEndpoint(calls: MessageCalls, peerPid?: number): SyncEndpoint {
  const CHECK_EVERY = 1 << 20
  return {
    kind: 'sync',
    send(buf) {
      let spins = 0
      while (!calls.trySend(buf)) if (++spins % CHECK_EVERY === 0) checkPeer(peerPid)
    },
    recv(into) {
      let spins = 0
      for (;;) {
        const n = calls.tryRecv(into)
        if (n >= 0) return checkLength(n, calls.size, into)
        if (++spins % CHECK_EVERY === 0) {
          try {
            checkPeer(peerPid)
          } catch (gone) {
            // Its last message (the echo of STOP) may have come between that look and its exit.
            const last = calls.tryRecv(into)
            if (last >= 0) return checkLength(last, calls.size, into)
            throw gone
          }
        }
      }
    },
    close: () => calls.close(),
  }
}

/**
 * blocking: `recv(into)` sleeps in the kernel until a message is there and returns
 * its length. No deadline: while a process peer could die, the case's loop runs under
 * a watchdog (harness/case/liveness.ts) that interrupts the wait once it has.
 */
export function blockingEndpoint(send: (buf: Uint8Array) => void, recv: (into: Uint8Array) => number, size: number, close: () => void): SyncEndpoint {
  return {
    kind: 'sync',
    send,
    recv: (into) => checkLength(recv(into), size, into),
    close,
  }
}

function checkLength(n: number, size: number, into: Uint8Array): Uint8Array {
  if (n === size) return into
  if (n === 0) throw new PeerGoneError('the peer closed its end (EOF)')
  throw ipcError('ESHORT', `received a ${n}-byte message, expected ${size}`)
}

/**
 * nonblocking: readiness of `rxFd`/`txFd` (a socket, an eventfd, an mqd) watched on
 * the event loop's own thread (the addon's FdWatcher, a libuv poll handle), as Node
 * watches its own sockets: a wake-up is epoll_wait returning in this thread, then one
 * non-blocking receive per readiness (two system calls, as an epoll loop in C makes).
 * The channel is level-triggered, so a second queued message is read on the next
 * turn. When the peer is another process, a pidfd watched the same way reports its
 * death at once, with no timer on the measured path.
 */
export function watchedEndpoint(api: NativeApi, calls: MessageCalls, rxFd: number, txFd: number, peerPid?: number): AsyncEndpoint {
  let wantRoom: (() => void) | undefined
  const out = new Outbox(calls.trySend, (then) => {
    wantRoom = then
    interest()
  })
  /** One message handed on; false when there was none. */
  const receive = (): boolean => {
    const into = new Uint8Array(calls.size)
    const n = calls.tryRecv(into)
    if (n === -EAGAIN) return false
    if (n < 0) throw new Error(`receive returned ${n}`)
    out.onMessage(checkLength(n, calls.size, into))
    return true
  }
  const room = (): void => {
    const then = wantRoom
    wantRoom = undefined
    interest()
    then?.()
  }
  const ready = (events: number): void => {
    if (out.closed) return
    try {
      if (events < 0) throw ipcError('EIO', `watching the channel failed (libuv status ${events})`)
      if (events & WATCH_WRITABLE) room()
      if (events & WATCH_READABLE && !out.closed) receive()
    } catch (e) {
      out.onError(e as Error)
    }
  }
  const rx = new api.FdWatcher(rxFd, ready)
  const tx = txFd === rxFd ? rx : new api.FdWatcher(txFd, ready)
  const interest = (): void => {
    if (out.closed) return
    const writable = wantRoom ? WATCH_WRITABLE : 0
    if (tx === rx) rx.watch(WATCH_READABLE | writable)
    else tx.watch(writable)
  }
  rx.watch(WATCH_READABLE)
  // The peer's exit and its last message (the echo of STOP) can be ready in one turn of the loop, the exit
  // first: what it sent is handed on before its going is an error (a loop it satisfied has ended by then).
  const gone = (e: Error): void => {
    try {
      while (!out.closed && receive());
    } catch (err) {
      return out.onError(err as Error)
    }
    if (!out.closed) out.onError(e)
  }
  const peer = peerPid !== undefined && peerPid !== process.pid ? watchPeer(api, peerPid, gone) : undefined
  return out.endpoint(() => {
    if (out.closed) return
    out.closed = true
    // Watchers stop before their fds close (libuv's rule).
    rx.close()
    tx.close()
    peer?.close()
    calls.close()
  })
}

/** Calls `gone` once process `pid` has exited, from the event loop (a pidfd's readiness); close() stops watching. */
function watchPeer(api: NativeApi, pid: number, gone: (e: Error) => void): { close(): void } {
  let fd: number
  try {
    fd = api.pidfdOpen(pid)
  } catch (e) {
    if (errorFields(e).code !== 'ESRCH') throw e
    queueMicrotask(() => gone(peerGone(pid)))
    return { close() {} }
  }
  const w = new api.FdWatcher(fd, () => {
    close()
    gone(peerGone(pid))
  })
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    w.close()
    safeClose(api, fd)
  }
  w.watch(WATCH_READABLE)
  return { close }
}

/**
 * Waits on memory shared between processes: a non-private futex (the kernel keys it
 * by the physical page, so a wait in one process is woken from another). The
 * event-loop wait has no fd to watch, so it sleeps on a libuv pool thread with a
 * deadline, after which it checks that the peer is still there.
 */
export function futexWaiter(api: NativeApi, peerPid: () => number | undefined): Waiter {
  // The waits on pool threads still pending: a process cannot exit before its pool threads have.
  const pending = new Map<Promise<unknown>, { i32: Int32Array; index: number }>()
  const wake = (i32: Int32Array, index: number): void => void api.futexWake(i32, index, 1)
  return {
    // No deadline: a dead process peer interrupts the wait (harness/case/liveness.ts).
    wait(i32, index, expected) {
      api.futexWait(i32, index, expected)
    },
    wake,
    waitAsync(i32, index, expected) {
      const p = api.futexWaitAsync(i32, index, expected, DEADLINE_MS)
      pending.set(p, { i32, index })
      const done = (): void => void pending.delete(p)
      p.then(done, done)
      // A word that moved as the time ran out is news, not a dead peer: the caller looks at it.
      return p.then((r) => {
        if (r === 'timed-out' && Atomics.load(i32, index) === expected) checkPeer(peerPid())
      })
    },
    // A wake sent before the pool thread is asleep is lost (the word it waits on has not
    // moved), and the wait would run to its deadline: wake each until it has returned.
    async settle() {
      while (pending.size > 0) {
        for (const { i32, index } of pending.values()) wake(i32, index)
        await Promise.race([...pending.keys(), new Promise((r) => setTimeout(r, 1))].map((q) => q.catch(() => {})))
      }
    },
  }
}

export function safeClose(api: NativeApi, fd: number): void {
  try {
    api.close(fd)
  } catch {
    // already closed
  }
}

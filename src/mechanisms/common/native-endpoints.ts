import { EAGAIN, type NativeApi } from '../../native/index.js'
import type { AsyncEndpoint, SyncEndpoint } from '../types.js'
import type { Waiter } from './ring.js'
import { ipcError, PeerGoneError } from '../../core/errors.js'
import { processGone } from '../../core/proc.js'
import { Outbox } from './outbox.js'

/**
 * Endpoints built from the native helper's calls, shared by the mechanisms that
 * Node has no API for. A mechanism supplies one-shot `trySend`/`tryRecv` calls; the
 * mode decides what happens when they would block:
 *   blocking:    the calls themselves sleep in the kernel (with a deadline, so a dead
 *                peer is noticed instead of waiting for the case time-out);
 *   busy-poll:   non-blocking calls retried at once;
 *   nonblocking: non-blocking calls, and readiness from poll(2) on a pool thread
 *                (the event loop stays free), cancelled through an eventfd on close.
 */

/** How long a blocking wait sleeps before it checks that the peer is still there. */
export const DEADLINE_MS = 500

/** Throws when the peer process has gone; for thread peers (same pid) there is nothing to check. */
export function checkPeer(peerPid: number | undefined): void {
  if (peerPid !== undefined && peerPid !== process.pid && processGone(peerPid)) {
    throw new PeerGoneError(`the peer (pid ${peerPid}) has gone`)
  }
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
        if (++spins % CHECK_EVERY === 0) checkPeer(peerPid)
      }
    },
    close: () => calls.close(),
  }
}

/**
 * blocking: `recvWithin(into, ms)` sleeps in the kernel up to ms and returns the
 * length, or -EAGAIN when the time ran out (then the peer is checked and it waits again).
 */
export function blockingEndpoint(
  send: (buf: Uint8Array) => void,
  recvWithin: (into: Uint8Array, ms: number) => number,
  size: number,
  close: () => void,
  peerPid?: number,
): SyncEndpoint {
  return {
    kind: 'sync',
    send,
    recv(into) {
      for (;;) {
        const n = recvWithin(into, DEADLINE_MS)
        if (n >= 0) return checkLength(n, size, into)
        checkPeer(peerPid)
      }
    },
    close,
  }
}

function checkLength(n: number, size: number, into: Uint8Array): Uint8Array {
  if (n === size) return into
  if (n === 0) throw new PeerGoneError('the peer closed its end (EOF)')
  throw ipcError('ESHORT', `received a ${n}-byte message, expected ${size}`)
}

/**
 * nonblocking: readiness through poll(2) on pool threads. `rxFd`/`txFd` are what
 * poll watches (a socket, an mqd); the calls are non-blocking.
 */
export function pollingEndpoint(api: NativeApi, calls: MessageCalls, rxFd: number, txFd: number): AsyncEndpoint {
  const cancel = api.eventfd(0, true)
  let pending = 0
  const out = new Outbox(calls.trySend, (then) => poll(txFd, 'out', then))

  const poll = (fd: number, dir: 'in' | 'out', then: () => void): void => {
    pending++
    api.pollAsync(fd, dir, 1000, cancel).then(
      (revents) => {
        pending--
        if (out.closed) return closeCancel()
        if (revents >= 0) then()
      },
      (e: Error) => {
        pending--
        if (!out.closed) out.onError(e)
        else closeCancel()
      },
    )
  }
  // A poll still pending on a pool thread watches the eventfd, so only the last one to return may close it.
  const closeCancel = (): void => {
    if (pending === 0) safeClose(api, cancel)
  }
  const receive = (): void => {
    try {
      while (!out.closed) {
        const into = new Uint8Array(calls.size)
        const n = calls.tryRecv(into)
        if (n < 0) {
          if (n !== -EAGAIN) throw new Error(`receive returned ${n}`)
          poll(rxFd, 'in', receive)
          return
        }
        out.onMessage(checkLength(n, calls.size, into))
      }
    } catch (e) {
      out.onError(e as Error)
    }
  }
  queueMicrotask(receive)
  return out.endpoint(() => {
    if (out.closed) return
    out.closed = true
    // Wakes every pending poll; the last one to return closes the eventfd.
    api.write(cancel, new Uint8Array(new BigUint64Array([1n]).buffer), 0, 8)
    closeCancel()
    calls.close()
  })
}

/**
 * Waits on memory shared between processes: a non-private futex (the kernel keys it
 * by the physical page, so a wait in one process is woken from another). Waits
 * have a deadline so a peer that died while we slept is noticed.
 */
export function futexWaiter(api: NativeApi, peerPid: () => number | undefined): Waiter {
  return {
    wait(i32, index, expected) {
      if (api.futexWait(i32, index, expected, DEADLINE_MS) === 'timed-out') checkPeer(peerPid())
    },
    wake(i32, index) {
      api.futexWake(i32, index, 1)
    },
    async waitAsync(i32, index, expected) {
      if ((await api.futexWaitAsync(i32, index, expected, DEADLINE_MS)) === 'timed-out') checkPeer(peerPid())
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

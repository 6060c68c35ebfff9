import { EAGAIN, native, type NativeApi } from '../native/index.js'
import type { Endpoint, MechanismImpl } from './types.js'
import { blockingEndpoint, watchedEndpoint, safeClose, spinEndpoint, type MessageCalls } from './common/native-endpoints.js'
import { fdKind } from './common/proc.js'

const COUNTER_BYTES = 8

/**
 * eventfd(2) notification latency: two eventfds, one per direction. An eventfd
 * carries a 64-bit counter: a write adds to it and a read returns it and resets it.
 * The 8-byte message itself (sequence number and trailer, never 0) is the value
 * added, so with one message in flight the reader gets back exactly what was sent
 * and checks it; ping-pong only, since a stream's writes would add up.
 *
 * blocking: read(2) sleeps; busy-poll: EFD_NONBLOCK, retried; nonblocking: epoll
 * readiness on the event-loop thread.
 */
export const eventfd: MechanismImpl = {
  async setup(ctx) {
    const api = native()
    const nonblock = ctx.spec.mode !== 'blocking'
    const a2b = api.eventfd(0, nonblock)
    const b2a = api.eventfd(0, nonblock)
    const isProcess = ctx.spec.endpoints === 'process'
    let kinds = ''
    return {
      peer: { info: {}, fds: [a2b, b2a] },
      async openA(peer) {
        kinds = `a: ${fdKind(b2a)} ${fdKind(a2b)}`
        if (isProcess) kinds += `; b: ${peer.fds.map((fd) => fdKind(fd, peer.pid)).join(' ')}`
        return counterEndpoint(api, ctx.spec.mode, b2a, a2b, isProcess ? peer.pid : undefined, false)
      },
      describe: () => ({
        fdKinds: kinds,
        io:
          ctx.spec.mode === 'nonblocking'
            ? 'EFD_NONBLOCK + epoll readiness on the event-loop thread (uv_poll)'
            : ctx.spec.mode === 'busy-poll'
              ? 'read/write on EFD_NONBLOCK, retried'
              : 'read/write, blocking',
      }),
      async teardown() {
        // Both sides use both counters; a worker shares these very fds, so only
        // side a closes them, after both sides are done.
        safeClose(api, a2b)
        safeClose(api, b2a)
      },
    }
  },
  async openB(ctx) {
    const [rx, tx] = ctx.fds
    return counterEndpoint(native(), ctx.spec.mode, rx, tx, ctx.parentPid, ctx.spec.endpoints === 'process')
  },
}

function counterEndpoint(api: NativeApi, mode: string, rx: number, tx: number, peerPid: number | undefined, ownsFds: boolean): Endpoint {
  const close = (): void => {
    if (ownsFds) {
      safeClose(api, rx)
      safeClose(api, tx)
    }
  }
  const calls: MessageCalls = {
    size: COUNTER_BYTES,
    trySend(buf) {
      const n = api.write(tx, buf, 0, COUNTER_BYTES)
      if (n === -EAGAIN) return false // the counter would overflow: the reader is behind
      return true
    },
    tryRecv: (into) => api.read(rx, into, 0, COUNTER_BYTES),
    close,
  }
  if (mode === 'busy-poll') return spinEndpoint(calls, peerPid)
  if (mode === 'nonblocking') return watchedEndpoint(api, calls, rx, tx, peerPid)
  return blockingEndpoint(
    (buf) => void api.write(tx, buf, 0, COUNTER_BYTES),
    (into) => api.read(rx, into, 0, COUNTER_BYTES),
    COUNTER_BYTES,
    close,
  )
}

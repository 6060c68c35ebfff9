import { EAGAIN, native, type NativeApi } from '../native/index.js'
import type { HostLimits } from '../core/result.js'
import type { Endpoint, MechanismImpl, PeerContext, PeerLink, SetupContext } from './types.js'
import { DEFAULT_SNDBUF, SKB_OVERHEAD } from './limits.js'
import { blockingEndpoint, watchedEndpoint, safeClose, spinEndpoint, type MessageCalls } from './common/native-endpoints.js'
import { nativeFdEndpoint } from './pipe.js'
import { describeFd } from './common/proc.js'

type SocketType = 'stream' | 'dgram' | 'seqpacket'

/**
 * A socketpair(2) of AF_UNIX sockets from the native helper; one end stays with
 * side a, the other is handed to the peer (fd 4 in a child). One socket carries
 * both directions.
 *
 * dgram and seqpacket keep message boundaries, so one read is one message; their
 * largest message is bounded by the send buffer, which ipcbench raises (up to
 * net.core.wmem_max, which the kernel doubles) for the message size asked.
 * stream needs framing: whole-message loops over read/write.
 */
function socketImpl(type: SocketType): MechanismImpl {
  return {
    setup: (ctx) => socketSetup(type, ctx),
    openB: async (ctx) => socketOpen(native(), type, ctx.spec.mode, ctx.fds[0], ctx.spec.sizeBytes, ctx.parentPid, () => {}),
  }
}

/** SO_SNDBUF/SO_RCVBUF for `size`-byte messages: room for a few, within wmem_max. */
export function bufferFor(type: SocketType, size: number, limits: HostLimits | undefined): number {
  if (type === 'stream' || size + SKB_OVERHEAD <= DEFAULT_SNDBUF / 4) return 0
  const wmemMax = limits?.netCore?.wmemMax ?? DEFAULT_SNDBUF
  return Math.min(wmemMax, Math.max(DEFAULT_SNDBUF, 2 * (size + SKB_OVERHEAD)))
}

async function socketSetup(type: SocketType, ctx: SetupContext) {
  const api = native()
  const { mode, sizeBytes, endpoints } = ctx.spec
  const [mine, theirs] = api.socketpair(type, mode !== 'blocking')
  const want = bufferFor(type, sizeBytes, ctx.limits)
  const applied = api.socketBuffers(mine, want)
  api.socketBuffers(theirs, want)
  let kinds = ''
  let closed = false
  return {
    peer: { info: {}, fds: [theirs] },
    async openA(peer: PeerLink) {
      // A worker peer's fd is in this process's table (peer.pid is ours).
      kinds = `a: ${describeFd(mine)}; b: ${describeFd(peer.fds[0], peer.pid)}`
      if (endpoints === 'process') safeClose(api, theirs) // the child has its own copy; without ours its death is our EOF
      return socketOpen(api, type, mode, mine, sizeBytes, endpoints === 'process' ? peer.pid : undefined, () => {
        closed = true
      })
    },
    describe: () => ({
      socket: `socketpair(AF_UNIX, SOCK_${type.toUpperCase()})`,
      fdKinds: kinds,
      sndbufBytes: String(applied.sndbuf),
      rcvbufBytes: String(applied.rcvbuf),
      io:
        mode === 'blocking'
          ? 'read(2)/write(2), blocking'
          : mode === 'busy-poll'
            ? 'read(2)/write(2) on O_NONBLOCK, retried on EAGAIN'
            : 'O_NONBLOCK + epoll readiness on the event-loop thread (uv_poll)',
    }),
    async teardown() {
      // A worker peer shares our fd table and closes its own end.
      if (!closed) safeClose(api, mine)
    },
  }
}

function socketOpen(
  api: NativeApi,
  type: SocketType,
  mode: string,
  fd: number,
  size: number,
  peerPid: number | undefined,
  onClose: () => void,
): Endpoint {
  const close = (): void => {
    onClose()
    safeClose(api, fd)
  }
  if (type === 'stream' && mode !== 'nonblocking') {
    return nativeFdEndpoint(api, fd, fd, size, onClose)
  }
  const calls: MessageCalls = {
    size,
    trySend(buf) {
      const n = api.write(fd, buf, 0, buf.byteLength)
      if (n === -EAGAIN) return false
      if (n !== buf.byteLength) throw new Error(`short write: ${n} of ${buf.byteLength} bytes`)
      return true
    },
    tryRecv: (into) => api.read(fd, into, 0, size),
    close,
  }
  if (mode === 'busy-poll') return spinEndpoint(calls, peerPid)
  if (mode === 'nonblocking') {
    if (type === 'stream') throw new Error('unix-stream nonblocking is the net.Socket path')
    return watchedEndpoint(api, calls, fd, fd, peerPid)
  }
  return blockingEndpoint(
    (buf) => {
      const n = api.write(fd, buf, 0, buf.byteLength)
      if (n !== buf.byteLength) throw new Error(`short write: ${n} of ${buf.byteLength} bytes`)
    },
    (into) => api.read(fd, into, 0, size),
    size,
    close,
  )
}

export const unixDgram = socketImpl('dgram')
export const unixSeqpacket = socketImpl('seqpacket')

/** unix-stream's blocking and busy-poll modes: a native socketpair (the event-loop mode uses net). */
export async function unixStreamNativeSetup(ctx: SetupContext) {
  return socketSetup('stream', ctx)
}
export function unixStreamNativeOpenB(ctx: PeerContext): Endpoint {
  return socketOpen(native(), 'stream', ctx.spec.mode, ctx.fds[0], ctx.spec.sizeBytes, ctx.parentPid, () => {})
}

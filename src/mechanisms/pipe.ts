import { native, EAGAIN, type NativeApi } from '../native/index.js'
import type { Endpoint, MechanismImpl, SyncEndpoint } from './types.js'
import { fdPairEndpoint } from './common/socket-endpoint.js'
import { fdKind } from './common/proc.js'
import { ipcError, PeerGoneError } from '../core/errors.js'
import { safeClose } from './common/native-endpoints.js'

/**
 * Anonymous pipes from pipe2(2), one per direction. For a child peer, its two ends
 * are handed over in spawn's stdio (they arrive as fds 4 and 5) and side a closes
 * its copies, so a dead peer reads as EOF. Node's `stdio: 'pipe'` would be a
 * socketpair; these show up as `pipe:[…]` in /proc/<pid>/fd.
 *
 * blocking: read(2)/write(2) through the native helper on blocking fds;
 * busy-poll: the same calls on O_NONBLOCK fds, retried on EAGAIN without sleeping;
 * nonblocking: net.Socket on the fd (libuv sets O_NONBLOCK and polls it with epoll).
 * Each end is used by one side only, so O_NONBLOCK on a shared description cannot
 * leak from one side to the other.
 */
export const pipe: MechanismImpl = {
  async setup(ctx) {
    const api = native()
    const spin = ctx.spec.mode === 'busy-poll'
    const [a2bR, a2bW] = api.pipe2(spin)
    const [b2aR, b2aW] = api.pipe2(spin)
    const isProcess = ctx.spec.endpoints === 'process'
    let peerKinds = ''
    let closed = false
    const closeAll = (fds: number[]): void => fds.forEach((fd) => safeClose(api, fd))
    return {
      peer: { info: {}, fds: [a2bR, b2aW] },
      async openA(peer) {
        const kinds = `a: ${fdKind(b2aR)} ${fdKind(a2bW)}`
        if (isProcess) {
          peerKinds = `b: ${peer.fds.map((fd) => fdKind(fd, peer.pid)).join(' ')}`
          // The child has its own copies now; without ours, its death is our EOF.
          closeAll([a2bR, b2aW])
        }
        peerKinds = `${kinds}; ${peerKinds}`.replace(/; $/, '')
        return open(api, ctx.spec.mode, b2aR, a2bW, ctx.spec.sizeBytes, () => {
          closed = true
        })
      },
      describe: () => ({ fdKinds: peerKinds, pipeSizeBytes: String(safePipeSize(api, a2bW)), io: io(ctx.spec.mode) }),
      async teardown() {
        // Side b's endpoint closes its own ends (a worker shares our fd table:
        // closing them again here could close a number already reused).
        if (!closed) closeAll([b2aR, a2bW])
      },
    }
  },
  async openB(ctx) {
    const [rfd, wfd] = ctx.fds
    return open(native(), ctx.spec.mode, rfd, wfd, ctx.spec.sizeBytes, () => {})
  },
}

function io(mode: string): string {
  if (mode === 'blocking') return 'read(2)/write(2) on blocking fds (native helper)'
  if (mode === 'busy-poll') return 'read(2)/write(2) on O_NONBLOCK fds, retried on EAGAIN (native helper)'
  return 'net.Socket on the fds (libuv epoll)'
}

function safePipeSize(api: NativeApi, fd: number): number | string {
  try {
    return api.getPipeSize(fd)
  } catch {
    return 'unknown'
  }
}

function open(api: NativeApi, mode: string, rfd: number, wfd: number, size: number, onClose: () => void): Endpoint {
  if (mode === 'nonblocking') {
    const ep = fdPairEndpoint(rfd, wfd, size)
    const close = ep.close
    ep.close = async () => {
      onClose()
      await close()
    }
    return ep
  }
  return nativeFdEndpoint(api, rfd, wfd, size, onClose)
}

/**
 * Whole messages over a byte stream with one system call per chunk. On blocking fds
 * the kernel sleeps; on O_NONBLOCK fds -EAGAIN is retried at once (busy-poll).
 * `ownsFds: false` when something else (a FileHandle) closes the fds in `onClose`.
 */
export function nativeFdEndpoint(api: NativeApi, rfd: number, wfd: number, size: number, onClose: () => void, ownsFds = true): SyncEndpoint {
  return {
    kind: 'sync',
    send(buf) {
      let off = 0
      while (off < buf.byteLength) {
        const n = api.write(wfd, buf, off, buf.byteLength - off)
        if (n > 0) off += n
        else if (n !== -EAGAIN) throw ipcError('EIO', `write returned ${n}`)
      }
    },
    recv(into) {
      let off = 0
      while (off < size) {
        const n = api.read(rfd, into, off, size - off)
        if (n > 0) off += n
        else if (n === 0) throw new PeerGoneError('the peer closed its end (EOF)')
      }
      return into
    },
    close() {
      onClose()
      if (!ownsFds) return
      safeClose(api, rfd)
      if (wfd !== rfd) safeClose(api, wfd)
    },
  }
}

import { execFileSync } from 'node:child_process'
import { constants as C, openSync, promises as fsp, readSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { loadNative } from '../native/index.js'
import type { Endpoint, MechanismImpl, SyncEndpoint } from './types.js'
import { fdPairEndpoint } from './common/socket-endpoint.js'
import { fdKind, fifoFds } from './common/proc.js'
import { nativeFdEndpoint } from './pipe.js'
import { PeerGoneError } from '../core/errors.js'

/**
 * Named pipes (mkfifo), one per direction, in the case's private directory. Each
 * side opens both by path, so neither shares an open file description with the
 * other (O_NONBLOCK on one side cannot leak to the other).
 *
 * blocking: fds opened without O_NONBLOCK; read/write loops (native helper, else
 * fs.readSync/writeSync). The opens block until the other side opens too, so they
 * run on the thread pool (fs.promises.open), never on the event loop.
 * nonblocking: O_NONBLOCK fds wrapped in net.Socket (libuv reads them with epoll).
 * Never fs streams: each pending read holds a thread-pool thread (docs/ARCHITECTURE.md, traps).
 */
export const fifo: MechanismImpl = {
  async setup(ctx) {
    const a2b = join(ctx.tmpDir, 'a2b.fifo')
    const b2a = join(ctx.tmpDir, 'b2a.fifo')
    makeFifo(a2b)
    makeFifo(b2a)
    let fds: number[] = []
    let peerPid: number | undefined
    // A worker peer's non-blocking fds are opened here, on the main thread: Node
    // closes the fds a worker opened with fs.open when the worker exits, even
    // after net.Socket has closed them, and the second close hits whatever file
    // has taken the number meanwhile (seen as an EBADF abort in side a).
    const early = ctx.spec.endpoints === 'thread' && ctx.spec.mode === 'nonblocking' ? openFourNonBlocking(a2b, b2a) : undefined
    return {
      peer: { info: { a2b, b2a }, fds: early ? [early.bRead, early.bWrite] : undefined },
      async openA(peer) {
        peerPid = peer.pid
        if (early) {
          fds = [early.aRead, early.aWrite]
          return fdPairEndpoint(early.aRead, early.aWrite, ctx.spec.sizeBytes)
        }
        const { ep, fds: opened } = await openPair(ctx.spec.mode, b2a, a2b, ctx.spec.sizeBytes)
        fds = opened
        return ep
      },
      describe: () => ({
        fdKinds: fifoKinds(fds, a2b, b2a, ctx.spec.endpoints === 'process' ? peerPid : undefined),
        paths: 'a2b.fifo, b2a.fifo in a private 0700 directory',
        io:
          ctx.spec.mode === 'blocking'
            ? loadNative().ok
              ? 'read/write (native helper) on blocking fds'
              : 'fs.readSync/fs.writeSync on blocking fds'
            : 'net.Socket on O_NONBLOCK fds (libuv epoll)',
      }),
      async teardown() {},
    }
  },
  async openB(ctx) {
    if (ctx.fds.length === 2) return fdPairEndpoint(ctx.fds[0], ctx.fds[1], ctx.spec.sizeBytes)
    const { a2b, b2a } = ctx.info as { a2b: string; b2a: string }
    return (await openPair(ctx.spec.mode, a2b, b2a, ctx.spec.sizeBytes)).ep
  },
}

function makeFifo(path: string): void {
  const n = loadNative()
  if (n.ok) n.api.mkfifo(path, 0o600)
  else execFileSync('mkfifo', ['-m', '600', path])
}

/**
 * Which FIFO each side's fds really are, read back by inode (a pipe or a file of the
 * same name would not pass): `a: b2a.fifo a2b.fifo; b: a2b.fifo b2a.fifo`. A worker
 * peer's fds are this process's; a child's are listed from /proc.
 */
function fifoKinds(aFds: number[], a2b: string, b2a: string, peerPid: number | undefined): string {
  // Each process's fd table is read once per FIFO, not once per fd.
  const namer = (pid: number | 'self'): { fds: number[]; name: (fd: number) => string } => {
    const toA2b = fifoFds(pid, a2b)
    const toB2a = fifoFds(pid, b2a)
    return {
      fds: [...toA2b, ...toB2a].sort((x, y) => x - y),
      name: (fd) => (toA2b.includes(fd) ? 'a2b.fifo' : toB2a.includes(fd) ? 'b2a.fifo' : `not a FIFO of the case (${fdKind(fd, pid)})`),
    }
  }
  const self = namer('self')
  const peer = peerPid === undefined ? self : namer(peerPid)
  // A worker peer's fds are in this process's table too: side b's are those that are not side a's.
  const bFds = peer.fds.filter((fd) => peerPid !== undefined || !aFds.includes(fd))
  return `a: ${aFds.map(self.name).join(' ')}; b: ${bFds.map(peer.name).join(' ') || 'none found'}`
}

async function openPair(mode: string, readPath: string, writePath: string, size: number): Promise<{ ep: Endpoint; fds: number[] }> {
  if (mode === 'blocking') {
    // Both opens at once on the thread pool: each completes when the peer opens the other end.
    const [r, w] = await Promise.all([fsp.open(readPath, C.O_RDONLY), fsp.open(writePath, C.O_WRONLY)])
    return { ep: blockingFdEndpoint(r.fd, w.fd, size, () => Promise.all([r.close(), w.close()])), fds: [r.fd, w.fd] }
  }
  // A non-blocking read open succeeds at once; a non-blocking write open fails with
  // ENXIO until a reader exists, so retry it.
  const rfd = openSync(readPath, C.O_RDONLY | C.O_NONBLOCK)
  const wfd = await openWriterNonBlocking(writePath)
  return { ep: fdPairEndpoint(rfd, wfd, size), fds: [rfd, wfd] }
}

/** Both sides' non-blocking ends at once: the readers first, so the writers' opens succeed. */
function openFourNonBlocking(a2b: string, b2a: string) {
  const aRead = openSync(b2a, C.O_RDONLY | C.O_NONBLOCK)
  const bRead = openSync(a2b, C.O_RDONLY | C.O_NONBLOCK)
  return { aRead, bRead, aWrite: openSync(a2b, C.O_WRONLY | C.O_NONBLOCK), bWrite: openSync(b2a, C.O_WRONLY | C.O_NONBLOCK) }
}

async function openWriterNonBlocking(path: string, deadlineMs = 10_000): Promise<number> {
  const until = Date.now() + deadlineMs
  for (;;) {
    try {
      return openSync(path, C.O_WRONLY | C.O_NONBLOCK)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > until) throw err
      await new Promise((r) => setTimeout(r, 1))
    }
  }
}

/**
 * Loops over a pair of blocking fds: read(2)/write(2) through the native helper when
 * it is built (pipe's endpoint: one call, no argument normalisation, what a C program
 * pays), else fs.readSync/writeSync (the pure-Node path). Either way the fds stay
 * owned by `onClose`'s file handles.
 */
export function blockingFdEndpoint(rfd: number, wfd: number, size: number, onClose: () => unknown): SyncEndpoint {
  const n = loadNative()
  if (n.ok) return nativeFdEndpoint(n.api, rfd, wfd, size, () => void onClose(), false)
  return {
    kind: 'sync',
    send(buf) {
      let off = 0
      while (off < buf.byteLength) off += writeSync(wfd, buf, off, buf.byteLength - off)
    },
    recv(into) {
      let off = 0
      while (off < size) {
        const r = readSync(rfd, into, off, size - off, null)
        if (r === 0) throw new PeerGoneError('the peer closed its end (EOF)')
        off += r
      }
      return into
    },
    close() {
      void onClose()
    },
  }
}

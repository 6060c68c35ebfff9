import { closeSync, constants as C, openSync } from 'node:fs'
import { join } from 'node:path'
import { parentPort } from 'node:worker_threads'
import { PeerGoneError } from '../core/errors.js'
import { EAGAIN, EINTR, native, type NativeApi } from '../native/index.js'
import { checkPeer, safeClose } from './common/native-endpoints.js'
import { asyncLinkEndpoint, cloneCodec, creditWindow, describeWindow, type Link } from './common/port-endpoint.js'
import { explainMqError, queueDepth } from './posix-mq.js'
import { bufferFor } from './unix-sockets.js'
import type { AsyncEndpoint, FanInImpl, PeerLink, SyncEndpoint } from './types.js'

/**
 * Fan-in: many senders, one receiver, one object of the mechanism (the mailbox the
 * textbooks draw: several processes posting into one queue). The receiver (the case
 * process) creates the object and only receives; each sender opens its own end and
 * only sends. Blocking calls throughout, as the C floor's `--fanin` makes them, except
 * worker messaging, which has only the event loop. A receiver blocked in a call is
 * woken by the harness's watchdog when a sender process dies (EPEERCLOSED), or, for
 * msgrcv, which returns EINTR instead, by the check of every sender after it.
 */

/** The one message type every sender posts on the System V queue. */
const MTYPE = 1

/** A receiving endpoint: `send` is never called on it. */
function receiver(recv: (into: Uint8Array) => Uint8Array, close: () => void): SyncEndpoint {
  return {
    kind: 'sync',
    send() {
      throw new Error('a fan-in receiver does not send')
    },
    recv,
    close,
  }
}

function sender(send: (buf: Uint8Array) => void, close: () => void): SyncEndpoint {
  return {
    kind: 'sync',
    send,
    recv() {
      throw new Error('a fan-in sender does not receive')
    },
    close,
  }
}

function whole(n: number, size: number, into: Uint8Array): Uint8Array {
  if (n !== size) throw new Error(`received a ${n}-byte message, expected ${size}`)
  return into
}

/** Every sender writes the one queue by name; the receiver created it (0600, O_EXCL) and unlinks it at teardown. */
export const posixMqFanIn: FanInImpl = {
  async setup(ctx) {
    const api = native()
    const size = ctx.spec.sizeBytes
    // As deep as the two-sided queues, and with the same explanation of a limit it hits.
    const maxmsg = queueDepth(ctx.limits)
    const name = `/${ctx.objectName()}`
    ctx.ledger('mq', name)
    let q: number
    try {
      q = api.mqOpen(name, true, maxmsg, size, false)
    } catch (err) {
      throw explainMqError(err, maxmsg, size)
    }
    const attr = api.mqGetattr(q)
    let open = true
    const close = (): void => {
      if (open) safeClose(api, q)
      open = false
    }
    return {
      peer: { info: { name } },
      openReceiver: async () => receiver((into) => whole(api.mqReceive(q, into, 0, size), size, into), close),
      describe: () => ({
        queue: `${name} (one for every sender)`,
        maxmsg: String(attr.maxmsg),
        msgsize: String(attr.msgsize),
        io: 'mq_send / mq_receive (blocking)',
      }),
      async teardown() {
        close()
        api.mqUnlink(name)
      },
    }
  },
  async openSender(ctx) {
    const api = native()
    const q = api.mqOpen((ctx.info as { name: string }).name, false, 0, 0, false)
    return sender(
      (buf) => void api.mqSend(q, buf, 0, buf.byteLength),
      () => safeClose(api, q),
    )
  },
}

/** One System V queue (IPC_PRIVATE, 0600), one message type for every sender; its id in the ledger. */
export const sysvMsgFanIn: FanInImpl = {
  async setup(ctx) {
    const api = native()
    const size = ctx.spec.sizeBytes
    const id = api.msgGet()
    ctx.ledger('msg', id)
    return {
      peer: { info: { id } },
      async openReceiver(senders) {
        const pids = processPids(senders)
        return receiver(
          (into) => {
            let n: number
            // msgrcv has no fd and no deadline: the watchdog's signal makes it return EINTR, then what is queued
            // already (a sender's last message can come with its exit), then each sender is looked at.
            while ((n = api.msgRcv(id, MTYPE, into, 0, size, false)) === -EINTR) {
              if ((n = api.msgRcv(id, MTYPE, into, 0, size, true)) !== -EAGAIN) break
              for (const pid of pids) checkPeer(pid)
            }
            return whole(n, size, into)
          },
          () => {},
        )
      },
      describe: () => ({ queue: `msqid ${id} (one for every sender)`, types: `every sender ${MTYPE}`, io: 'msgsnd / msgrcv (blocking)' }),
      async teardown() {
        api.msgRmid(id)
      },
    }
  },
  async openSender(ctx) {
    const api = native()
    const { id } = ctx.info as { id: number }
    return sender(
      (buf) => void api.msgSnd(id, MTYPE, buf, 0, buf.byteLength, false),
      () => {},
    )
  },
}

const processPids = (senders: readonly PeerLink[]): number[] => senders.map((s) => s.pid).filter((pid) => pid !== process.pid)

/**
 * One datagram socketpair: the receiver keeps one end, every sender gets a copy of the
 * other (fd 4 in its stdio), so all of them write into the receiver's one queue.
 */
export const unixDgramFanIn: FanInImpl = {
  async setup(ctx) {
    const api = native()
    const size = ctx.spec.sizeBytes
    const [mine, theirs] = api.socketpair('dgram', false)
    // Room for a few messages of this size, within wmem_max (the kernel doubles it), as the two-sided case asks.
    const want = bufferFor('dgram', size, ctx.limits)
    const applied = api.socketBuffers(mine, want)
    api.socketBuffers(theirs, want)
    let theirsOpen = true
    const closeTheirs = (): void => {
      if (theirsOpen) safeClose(api, theirs)
      theirsOpen = false
    }
    let mineOpen = true
    const closeMine = (): void => {
      if (mineOpen) safeClose(api, mine)
      mineOpen = false
    }
    return {
      peer: { info: {}, fds: [theirs] },
      async openReceiver() {
        // The senders have their own copies; ours would only keep the far end alive.
        closeTheirs()
        return receiver((into) => whole(api.read(mine, into, 0, size), size, into), closeMine)
      },
      describe: () => ({
        socket: 'socketpair(AF_UNIX, SOCK_DGRAM): the receiver one end, every sender the other',
        sndbufBytes: String(applied.sndbuf),
        rcvbufBytes: String(applied.rcvbuf),
        io: 'write(2) / read(2), blocking',
      }),
      async teardown() {
        closeTheirs()
        closeMine()
      },
    }
  },
  async openSender(ctx) {
    const api = native()
    const fd = ctx.fds[0]
    return sender(
      (buf) => {
        const n = api.write(fd, buf, 0, buf.byteLength)
        if (n !== buf.byteLength) throw new Error(`short write: ${n} of ${buf.byteLength} bytes`)
      },
      () => safeClose(api, fd),
    )
  },
}

/**
 * One FIFO in the case's private directory. The receiver opens it O_RDWR first (on
 * Linux that open never waits), so each sender's O_WRONLY open returns at once and a
 * sender's exit is not an end of file; each sender opens it for itself (its own open
 * file description). A write of at most PIPE_BUF bytes is atomic, so whole messages
 * from several writers never interleave (the descriptor refuses larger sizes).
 */
export const fifoFanIn: FanInImpl = {
  async setup(ctx) {
    const api = native()
    const size = ctx.spec.sizeBytes
    const path = join(ctx.tmpDir, 'mailbox.fifo')
    api.mkfifo(path, 0o600)
    const fd = openSync(path, C.O_RDWR)
    let open = true
    const close = (): void => {
      if (open) closeSync(fd)
      open = false
    }
    return {
      peer: { info: { path } },
      openReceiver: async () =>
        receiver((into) => {
          // A byte stream: one read may hold part of a message (never two senders' bytes within one write).
          let off = 0
          while (off < size) off += readSome(api, fd, into, off, size - off)
          return into
        }, close),
      describe: () => ({
        fifo: 'mailbox.fifo in a private 0700 directory, one for every sender',
        io: 'write(2) / read(2), blocking (receiver O_RDWR)',
      }),
      async teardown() {
        close()
      },
    }
  },
  async openSender(ctx) {
    const api = native()
    const fd = openSync((ctx.info as { path: string }).path, C.O_WRONLY)
    return sender(
      (buf) => {
        const n = api.write(fd, buf, 0, buf.byteLength)
        if (n !== buf.byteLength) throw new Error(`short write: ${n} of ${buf.byteLength} bytes (beyond PIPE_BUF?)`)
      },
      () => closeSync(fd),
    )
  },
}

function readSome(api: NativeApi, fd: number, into: Uint8Array, off: number, len: number): number {
  const n = api.read(fd, into, off, len)
  if (n === 0) throw new PeerGoneError('end of file on the FIFO')
  return n
}

/**
 * Worker messaging: each sender a worker posting to its parentPort, all of them heard
 * on the receiver thread's one event loop. A MessagePort has exactly two ends, so the
 * shared object here is the receiving thread's message queue, not one port. Each
 * link keeps its credit window (port-endpoint.ts), as a real producer must.
 */
export const workerMessageFanIn: FanInImpl = {
  async setup(ctx) {
    const flow = creditWindow(ctx.spec.sizeBytes)
    return {
      peer: { info: {} },
      async openReceiver(senders) {
        const eps = senders.map((s) => {
          const w = s.worker!
          const link: Link = {
            post: (v) => w.postMessage(v),
            listen: (cb) => w.on('message', cb),
            unlisten: () => w.removeAllListeners('message'),
            onGone: (cb) => w.once('exit', (code) => cb(new PeerGoneError(`the worker exited (exit code ${code})`))),
          }
          return asyncLinkEndpoint(link, cloneCodec, flow)
        })
        return merged(eps)
      },
      describe: () => ({
        channel: "each sender a Worker posting to its parentPort; all heard on the receiver's one event loop",
        codec: 'structured clone',
        flowControl: `${describeWindow(flow)}, each sender its own`,
      }),
      async teardown() {},
    }
  },
  async openSender(ctx) {
    const port = parentPort!
    const link: Link = {
      post: (v) => port.postMessage(v),
      listen: (cb) => port.on('message', cb),
      unlisten: () => port.removeAllListeners('message'),
      onGone: (cb) => port.once('close', () => cb(new PeerGoneError('the receiver went away'))),
    }
    return asyncLinkEndpoint(link, cloneCodec, creditWindow(ctx.spec.sizeBytes))
  },
}

/** Several links' messages as one endpoint's. */
function merged(eps: AsyncEndpoint[]): AsyncEndpoint {
  return {
    kind: 'async',
    send() {
      throw new Error('a fan-in receiver does not send')
    },
    onMessage: (cb) => eps.forEach((e) => e.onMessage(cb)),
    onDrain() {},
    onError: (cb) => eps.forEach((e) => e.onError(cb)),
    async close() {
      for (const e of eps) await e.close()
    },
  }
}

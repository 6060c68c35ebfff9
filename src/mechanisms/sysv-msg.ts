import { EAGAIN, EINTR, native, type NativeApi } from '../native/index.js'
import type { Endpoint, MechanismImpl } from './types.js'
import { checkPeer, spinEndpoint, type MessageCalls } from './common/native-endpoints.js'

/** Message types on the one queue: side a sends type 1, side b type 2. */
const A_TO_B = 1
const B_TO_A = 2

/**
 * A System V message queue (msgget(IPC_PRIVATE), mode 0600), one queue for both
 * directions told apart by the message type. Its id is written to the case's ledger
 * so `ipcbench clean` can remove it after a crash; teardown removes it (IPC_RMID).
 *
 * blocking: msgsnd/msgrcv sleeping in the kernel; busy-poll: IPC_NOWAIT, retried.
 * System V queues are not file descriptors, so there is no event-loop mode.
 */
export const sysvMsg: MechanismImpl = {
  async setup(ctx) {
    const api = native()
    const id = api.msgGet()
    ctx.ledger('msg', id)
    return {
      peer: { info: { id } },
      openA: async (peer) =>
        msgEndpoint(api, ctx.spec.mode, id, A_TO_B, B_TO_A, ctx.spec.sizeBytes, ctx.spec.endpoints === 'process' ? peer.pid : undefined),
      describe: () => ({
        queue: `msqid ${id}`,
        types: 'a→b 1, b→a 2',
        io: ctx.spec.mode === 'blocking' ? 'msgsnd/msgrcv (blocking)' : 'msgsnd/msgrcv with IPC_NOWAIT, retried',
      }),
      async teardown() {
        api.msgRmid(id)
      },
    }
  },
  async openB(ctx) {
    const { id } = ctx.info as { id: number }
    return msgEndpoint(native(), ctx.spec.mode, id, B_TO_A, A_TO_B, ctx.spec.sizeBytes, ctx.parentPid)
  },
}

function msgEndpoint(api: NativeApi, mode: string, id: number, txType: number, rxType: number, size: number, peerPid: number | undefined): Endpoint {
  const calls: MessageCalls = {
    size,
    trySend: (buf) => api.msgSnd(id, txType, buf, 0, buf.byteLength, true) !== -EAGAIN,
    tryRecv: (into) => api.msgRcv(id, rxType, into, 0, size, true),
    close() {},
  }
  if (mode === 'busy-poll') return spinEndpoint(calls, peerPid)
  // msgrcv has no time-out, but a signal interrupts it: a dead child's SIGCHLD wakes
  // side a, which then checks its peer. (Side b, or a thread peer, relies on the case
  // time-out, which kills the case's process group.)
  return {
    kind: 'sync',
    send: (buf) => void api.msgSnd(id, txType, buf, 0, buf.byteLength, false),
    recv(into) {
      let n: number
      while ((n = api.msgRcv(id, rxType, into, 0, size, false)) === -EINTR) {
        // The signal can come with the peer's last message (the echo of STOP) already queued: that first.
        if ((n = api.msgRcv(id, rxType, into, 0, size, true)) !== -EAGAIN) break
        checkPeer(peerPid)
      }
      if (n !== size) throw new Error(`received a ${n}-byte message, expected ${size}`)
      return into
    },
    close() {},
  }
}

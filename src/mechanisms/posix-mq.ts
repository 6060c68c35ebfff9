import { EAGAIN, native, type NativeApi } from '../native/index.js'
import type { HostLimits } from '../core/result.js'
import type { Endpoint, MechanismImpl } from './types.js'
import { blockingEndpoint, watchedEndpoint, safeClose, spinEndpoint, type MessageCalls } from './common/native-endpoints.js'
import { errorFields, ipcError } from '../core/errors.js'

/** Messages a queue holds; the host's fs.mqueue.msg_max caps it (10 here without CAP_SYS_RESOURCE). */
const WANT_MAXMSG = 10

/** The depth every queue of ours asks for on this host: WANT_MAXMSG, within fs.mqueue.msg_max. */
export const queueDepth = (limits: HostLimits): number => Math.max(1, Math.min(WANT_MAXMSG, limits.mqueue?.msgMax ?? WANT_MAXMSG))

interface MqInfo {
  a2b: string
  b2a: string
}

/**
 * POSIX message queues, one per direction, named `/ipcbench-<pid>-<random>` (mode
 * 0600, created O_EXCL by side a, opened by name by the peer, unlinked at teardown).
 * One message per mq_send/mq_receive, so boundaries are kept.
 *
 * blocking: mq_receive and mq_send (no deadline: the harness's watchdog interrupts them when the peer dies);
 * busy-poll: O_NONBLOCK, retried on EAGAIN; nonblocking: the mqd is an fd on Linux,
 * so the event loop watches it (epoll) for readable and writable.
 */
export const posixMq: MechanismImpl = {
  async setup(ctx) {
    const api = native()
    const { mode, sizeBytes } = ctx.spec
    const maxmsg = queueDepth(ctx.limits)
    const info: MqInfo = { a2b: `/${ctx.objectName()}`, b2a: `/${ctx.objectName()}` }
    const created: string[] = []
    const mqds: number[] = []
    try {
      for (const name of [info.a2b, info.b2a]) {
        ctx.ledger('mq', name)
        mqds.push(api.mqOpen(name, true, maxmsg, sizeBytes, mode !== 'blocking'))
        created.push(name)
      }
    } catch (err) {
      mqds.forEach((q) => safeClose(api, q))
      created.forEach((name) => api.mqUnlink(name))
      throw explainMqError(err, maxmsg, sizeBytes)
    }
    const attr = api.mqGetattr(mqds[0])
    let closed = false
    return {
      peer: { info },
      openA: async (peer) =>
        mqEndpoint(api, mode, mqds[1], mqds[0], sizeBytes, ctx.spec.endpoints === 'process' ? peer.pid : undefined, () => {
          closed = true
        }),
      describe: () => ({ queues: `${info.a2b}, ${info.b2a}`, maxmsg: String(attr.maxmsg), msgsize: String(attr.msgsize), io: ioText(mode) }),
      async teardown() {
        if (!closed) mqds.forEach((q) => safeClose(api, q))
        created.forEach((name) => api.mqUnlink(name))
      },
    }
  },
  async openB(ctx) {
    const api = native()
    const { a2b, b2a } = ctx.info as MqInfo
    const nonblock = ctx.spec.mode !== 'blocking'
    const rx = api.mqOpen(a2b, false, 0, 0, nonblock)
    const tx = api.mqOpen(b2a, false, 0, 0, nonblock)
    return mqEndpoint(api, ctx.spec.mode, rx, tx, ctx.spec.sizeBytes, ctx.parentPid, () => {})
  },
}

function ioText(mode: string): string {
  if (mode === 'blocking') return 'mq_send / mq_receive, blocking'
  if (mode === 'busy-poll') return 'mq_send / mq_receive on O_NONBLOCK, retried on EAGAIN'
  return 'O_NONBLOCK + epoll readiness of the mqd on the event-loop thread (uv_poll)'
}

/** The kernel says EINVAL/EMFILE/ENOSPC/ENOMEM; say which limit that means. */
export function explainMqError(err: unknown, maxmsg: number, size: number): Error {
  const { code, message, errno, syscall } = errorFields(err)
  const explain = (why: string): Error => ipcError(code!, `${message}: ${why}`, { errno, syscall })
  if (code === 'EMFILE' || code === 'ENOMEM') return explain(`two queues of ${maxmsg} × ${size} bytes exceed RLIMIT_MSGQUEUE (ulimit -q)`)
  if (code === 'EINVAL') return explain(`${maxmsg} messages of ${size} bytes exceed fs.mqueue.msg_max or msgsize_max`)
  if (code === 'ENOSPC') return explain('fs.mqueue.queues_max reached')
  return err as Error
}

function mqEndpoint(api: NativeApi, mode: string, rx: number, tx: number, size: number, peerPid: number | undefined, onClose: () => void): Endpoint {
  const close = (): void => {
    onClose()
    safeClose(api, rx)
    safeClose(api, tx)
  }
  const calls: MessageCalls = {
    size,
    trySend: (buf) => api.mqSend(tx, buf, 0, buf.byteLength) !== -EAGAIN,
    tryRecv: (into) => api.mqReceive(rx, into, 0, size),
    close,
  }
  if (mode === 'busy-poll') return spinEndpoint(calls, peerPid)
  if (mode === 'nonblocking') return watchedEndpoint(api, calls, rx, tx, peerPid)
  return blockingEndpoint(
    (buf) => void api.mqSend(tx, buf, 0, buf.byteLength),
    (into) => api.mqReceive(rx, into, 0, size),
    size,
    close,
  )
}

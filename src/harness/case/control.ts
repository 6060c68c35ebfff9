import net from 'node:net'
import type { MessagePort, TransferListItem } from 'node:worker_threads'
import { errorFields, PeerError } from '../../core/errors.js'
import type { ErrorReport } from './protocol.js'

/**
 * The control channel between side a and side b: start-up, "ready", "go", results
 * and errors. It is never the measured channel. A child peer gets it as fd 3 (a
 * socketpair carrying JSON lines); a worker peer gets a MessagePort. Typed by what
 * each end receives (`In`) and sends (`Out`); an `error` message from the other
 * side rejects whatever is being waited for.
 */
export interface Message {
  type: string
}

export const CHANNEL_CLOSED = 'control channel closed: the peer went away'

type Of<In extends Message, T extends In['type']> = Extract<In, { type: T }>

export class Control<In extends Message, Out extends Message> {
  private queue: Array<In | ErrorReport> = []
  private waiters: Array<{ type: string; resolve: (m: In) => void; reject: (e: Error) => void }> = []
  private closedError: Error | undefined

  constructor(
    private readonly sendRaw: (m: Out | ErrorReport, transfer?: readonly TransferListItem[]) => void,
    private readonly closeRaw: () => void,
  ) {}

  /** Over a child's fd (side b) or the parent's end of it (side a). */
  static overSocket<In extends Message, Out extends Message>(socket: net.Socket): Control<In, Out> {
    const ctl = new Control<In, Out>(
      (m) => socket.write(JSON.stringify(m) + '\n'),
      () => socket.destroy(),
    )
    let pending = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      pending += chunk
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (line.length > 0) ctl.deliver(JSON.parse(line) as In | ErrorReport)
      }
    })
    socket.on('error', (err) => ctl.fail(new Error(`control channel: ${err.message}`)))
    socket.on('close', () => ctl.fail(new Error(CHANNEL_CLOSED)))
    return ctl
  }

  static overFd<In extends Message, Out extends Message>(fd: number): Control<In, Out> {
    return Control.overSocket<In, Out>(new net.Socket({ fd, readable: true, writable: true }))
  }

  static overPort<In extends Message, Out extends Message>(port: MessagePort): Control<In, Out> {
    const ctl = new Control<In, Out>(
      (m, transfer) => port.postMessage(m, transfer ? [...transfer] : undefined),
      () => port.close(),
    )
    port.on('message', (m: In | ErrorReport) => ctl.deliver(m))
    port.on('close', () => ctl.fail(new Error(CHANNEL_CLOSED)))
    return ctl
  }

  /** `transfer`: over a MessagePort only, what the message moves rather than copies (ports). */
  send(m: Out, transfer?: readonly TransferListItem[]): void {
    this.sendRaw(m, transfer)
  }

  /** Tells the other side this one failed (the `error` message every receiver understands). */
  sendError(err: unknown): void {
    this.sendRaw(errorReport(err))
  }

  /** The next message of this type; an `error` message from the peer rejects instead. */
  next<T extends In['type']>(type: T): Promise<Of<In, T>> {
    const i = this.queue.findIndex((m) => m.type === type || m.type === 'error')
    if (i >= 0) {
      const [m] = this.queue.splice(i, 1)
      return m.type === 'error' ? Promise.reject(peerError(m as ErrorReport)) : Promise.resolve(m as Of<In, T>)
    }
    if (this.closedError) return Promise.reject(this.closedError)
    return new Promise((resolve, reject) => this.waiters.push({ type, resolve: resolve as (m: In) => void, reject }))
  }

  close(): void {
    this.fail(new Error('control channel closed'))
    this.closeRaw()
  }

  private deliver(m: In | ErrorReport): void {
    const i = this.waiters.findIndex((w) => w.type === m.type || m.type === 'error')
    if (i < 0) {
      this.queue.push(m)
      return
    }
    const [w] = this.waiters.splice(i, 1)
    if (m.type === 'error') w.reject(peerError(m as ErrorReport))
    else w.resolve(m as In)
  }

  private fail(err: Error): void {
    if (this.closedError) return
    this.closedError = err
    for (const w of this.waiters.splice(0)) w.reject(err)
  }
}

/** An error reported by the other side, keeping its code/errno/syscall. */
function peerError(m: ErrorReport): PeerError {
  const e = new PeerError(m.message ?? 'peer error')
  if (typeof m.code === 'string') e.code = m.code
  if (typeof m.errno === 'number') e.errno = m.errno
  if (typeof m.syscall === 'string') e.syscall = m.syscall
  e.side = 'b'
  return e
}

/** An Error as a control message (keeps what the result needs). */
export function errorReport(err: unknown): ErrorReport {
  return { type: 'error', ...errorFields(err) }
}

import net from 'node:net'
import type { MessagePort } from 'node:worker_threads'

/**
 * The control channel between side a and side b: start-up, "ready", "go", results
 * and errors. It is never the measured channel. A child peer gets it as fd 3 (a
 * socketpair carrying JSON lines); a worker peer gets a MessagePort.
 */
export interface ControlMessage {
  type: string
  [key: string]: unknown
}

export class Control {
  private queue: ControlMessage[] = []
  private waiters: Array<{ type: string; resolve: (m: ControlMessage) => void; reject: (e: Error) => void }> = []
  private closedError: Error | undefined

  constructor(private readonly sendRaw: (m: ControlMessage) => void, private readonly unrefRaw: () => void, private readonly closeRaw: () => void) {}

  /** Over a child's fd (side b) or the parent's end of it (side a). */
  static overSocket(socket: net.Socket): Control {
    const ctl = new Control((m) => socket.write(JSON.stringify(m) + '\n'), () => socket.unref(), () => socket.destroy())
    let pending = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      pending += chunk
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (line.length > 0) ctl.deliver(JSON.parse(line) as ControlMessage)
      }
    })
    socket.on('error', (err) => ctl.fail(new Error(`control channel: ${err.message}`)))
    socket.on('close', () => ctl.fail(new Error('control channel closed: the peer went away')))
    return ctl
  }

  static overFd(fd: number): Control {
    return Control.overSocket(new net.Socket({ fd, readable: true, writable: true }))
  }

  static overPort(port: MessagePort): Control {
    const ctl = new Control((m) => port.postMessage(m), () => port.unref(), () => port.close())
    port.on('message', (m: ControlMessage) => ctl.deliver(m))
    port.on('close', () => ctl.fail(new Error('control channel closed: the peer went away')))
    return ctl
  }

  send(m: ControlMessage): void {
    this.sendRaw(m)
  }

  /** The next message of this type; an `error` message from the peer rejects instead. */
  next(type: string): Promise<ControlMessage> {
    const i = this.queue.findIndex((m) => m.type === type || m.type === 'error')
    if (i >= 0) {
      const [m] = this.queue.splice(i, 1)
      return m.type === 'error' ? Promise.reject(peerError(m)) : Promise.resolve(m)
    }
    if (this.closedError) return Promise.reject(this.closedError)
    return new Promise((resolve, reject) => this.waiters.push({ type, resolve, reject }))
  }

  /** Lets the process exit while the channel is open (side b after its report). */
  unref(): void {
    this.unrefRaw()
  }

  close(): void {
    this.closedError ??= new Error('control channel closed')
    this.closeRaw()
  }

  private deliver(m: ControlMessage): void {
    const i = this.waiters.findIndex((w) => w.type === m.type || m.type === 'error')
    if (i < 0) {
      this.queue.push(m)
      return
    }
    const [w] = this.waiters.splice(i, 1)
    if (m.type === 'error') w.reject(peerError(m))
    else w.resolve(m)
  }

  private fail(err: Error): void {
    if (this.closedError) return
    this.closedError = err
    for (const w of this.waiters.splice(0)) w.reject(err)
  }
}

/** An error reported by the other side, keeping its code/errno/syscall. */
export class PeerError extends Error {
  code?: string
  errno?: number
  syscall?: string
  side?: 'a' | 'b'
}

function peerError(m: ControlMessage): PeerError {
  const e = new PeerError(String(m.message ?? 'peer error'))
  if (typeof m.code === 'string') e.code = m.code
  if (typeof m.errno === 'number') e.errno = m.errno
  if (typeof m.syscall === 'string') e.syscall = m.syscall
  e.side = 'b'
  return e
}

/** An Error as a control message (keeps what the result needs). */
export function errorMessage(err: unknown): ControlMessage {
  const e = err as NodeJS.ErrnoException
  return {
    type: 'error',
    message: e?.message ?? String(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    errno: typeof e?.errno === 'number' ? Math.abs(e.errno) : undefined,
    syscall: typeof e?.syscall === 'string' ? e.syscall : undefined,
  }
}

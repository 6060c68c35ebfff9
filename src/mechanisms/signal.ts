import type { AsyncEndpoint, MechanismImpl } from './types.js'
import { readSeq, stamp, STOP } from '../core/wire.js'

/** SIGUSR1 is Node's debugger signal, so the ping is SIGUSR2; SIGWINCH (harmless by default) ends the exchange. */
const PING: NodeJS.Signals = 'SIGUSR2'
const END: NodeJS.Signals = 'SIGWINCH'

/**
 * Standard signals between two processes through the event loop: process.kill to
 * send, process.on to receive (libuv's handler writes to a pipe its loop watches).
 * A signal carries no payload, and standard signals coalesce, so the exchange is a
 * strict alternation: each side sends only after receiving. The harness still
 * numbers the messages; here the endpoint can only count them, so a lost signal
 * shows up as a stalled case that the time-out ends, not as a sequence gap.
 */
export const signal: MechanismImpl = {
  async setup() {
    let ep: AsyncEndpoint | undefined
    return {
      peer: { info: {} },
      openA: async (peer) => (ep = signalEndpoint(peer.pid)),
      describe: () => ({ ping: PING, end: END, payload: 'none (a signal carries no data)' }),
      async teardown() {
        await ep?.close()
      },
    }
  },
  openB: async (ctx) => signalEndpoint(ctx.parentPid),
}

function signalEndpoint(peerPid: number): AsyncEndpoint {
  let received = 0
  let onMessage: (m: Uint8Array) => void = () => {}
  const deliver = (seq: number): void => {
    const msg = new Uint8Array(4)
    stamp(msg, seq)
    onMessage(msg)
  }
  const onPing = (): void => deliver(received++)
  const onEnd = (): void => deliver(STOP)
  process.on(PING, onPing)
  process.on(END, onEnd)
  return {
    kind: 'async',
    send(buf) {
      process.kill(peerPid, readSeq(buf) === STOP ? END : PING)
      return true
    },
    onMessage: (cb) => {
      onMessage = cb
    },
    onDrain: () => {},
    onError: () => {},
    close() {
      process.off(PING, onPing)
      process.off(END, onEnd)
    },
  }
}

import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { MechanismImpl } from './types.js'
import { asyncLinkEndpoint, cloneCodec, portLink, spinPortEndpoint, transferCodec, WINDOW } from './common/port-endpoint.js'

/**
 * A MessageChannel between the main thread and a worker: port2 is transferred to the
 * worker. Variants: `clone` (structured clone copies the bytes) and `transfer` (the
 * ArrayBuffer moves; the echo moves it back). nonblocking: port.on('message');
 * busy-poll: receiveMessageOnPort in a loop on both ends.
 */
export const messageChannel: MechanismImpl = {
  async setup(ctx) {
    const { port1, port2 } = new MessageChannel()
    return {
      peer: { info: {}, transfer: [port2] },
      openA: async () => open(port1, ctx.spec.mode, ctx.spec.variant, ctx.spec.pattern === 'stream'),
      describe: () => describePort(ctx.spec.mode, ctx.spec.variant, ctx.spec.pattern),
      async teardown() {
        port1.close()
      },
    }
  },
  async openB(ctx) {
    const port = ctx.transferred[0] as MessagePort
    return open(port, ctx.spec.mode, ctx.spec.variant, ctx.spec.pattern === 'stream')
  },
}

function open(port: MessagePort, mode: string, variant: string | undefined, stream: boolean) {
  const codec = variant === 'transfer' ? transferCodec : cloneCodec
  return mode === 'busy-poll' ? spinPortEndpoint(port, codec, stream) : asyncLinkEndpoint(portLink(port), codec, stream)
}

export function describePort(mode: string, variant: string | undefined, pattern: string): Record<string, string> {
  return {
    payload:
      variant !== 'transfer'
        ? 'structured clone (copied)'
        : pattern === 'stream'
          ? 'ArrayBuffer transferred (moved, not copied); a transferred buffer is gone, so the sender makes each message a fresh copy of its template, and that copy is in the figure'
          : 'ArrayBuffer transferred (moved, not copied); the echo moves it back and it is sent again',
    wait: mode === 'busy-poll' ? 'receiveMessageOnPort spin' : "port.on('message') (event loop)",
    ...(pattern === 'stream' ? { flowControl: `credit window of ${WINDOW} messages (postMessage has no back-pressure)` } : {}),
  }
}

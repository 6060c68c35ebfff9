import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { MechanismImpl } from './types.js'
import type { CaseSpec } from '../core/result.js'
import {
  asyncLinkEndpoint,
  cloneCodec,
  describeWindow,
  portLink,
  spinPortEndpoint,
  streamWindow,
  transferCodec,
  type CreditWindow,
} from './common/port-endpoint.js'

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
      openA: async () => open(port1, ctx.spec.mode, ctx.spec.variant, streamWindow(ctx.spec)),
      describe: () => describePort(ctx.spec),
      async teardown() {
        port1.close()
      },
    }
  },
  async openB(ctx) {
    const port = ctx.transferred[0] as MessagePort
    return open(port, ctx.spec.mode, ctx.spec.variant, streamWindow(ctx.spec))
  },
}

function open(port: MessagePort, mode: string, variant: string | undefined, flow: CreditWindow | undefined) {
  const codec = variant === 'transfer' ? transferCodec : cloneCodec
  return mode === 'busy-poll' ? spinPortEndpoint(port, codec, flow) : asyncLinkEndpoint(portLink(port), codec, flow)
}

export function describePort(spec: Pick<CaseSpec, 'mode' | 'variant' | 'pattern' | 'sizeBytes'>): Record<string, string> {
  const { mode, variant, pattern } = spec
  const flow = streamWindow(spec)
  return {
    payload:
      variant !== 'transfer'
        ? 'structured clone (copied)'
        : pattern === 'stream'
          ? 'ArrayBuffer transferred (moved, not copied); a transferred buffer is gone, so the sender makes each message a fresh copy of its template, and that copy is in the figure'
          : 'ArrayBuffer transferred (moved, not copied); the echo moves it back and it is sent again',
    wait: mode === 'busy-poll' ? 'receiveMessageOnPort spin' : "port.on('message') (event loop)",
    ...(flow ? { flowControl: `${describeWindow(flow)} (postMessage has no back-pressure)` } : {}),
  }
}

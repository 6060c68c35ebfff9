import { parentPort } from 'node:worker_threads'
import type { Mechanism } from './types.js'
import { asyncLinkEndpoint, cloneCodec, transferCodec, type Link } from './common/port-endpoint.js'
import { describePort } from './message-channel.js'

/**
 * worker.postMessage ⇄ parentPort, the Worker's built-in channel. Event loop only:
 * the Worker object's side cannot be polled with receiveMessageOnPort (its port is
 * internal), so a busy-poll mode would not be this mechanism.
 */
export const workerMessage: Mechanism = {
  id: 'worker-message',
  family: 'runtime',
  summary: "a Worker's own channel: worker.postMessage ⇄ parentPort",
  variants: ['clone', 'transfer'],
  modes: ['nonblocking'],
  endpoints: ['thread'],
  patterns: ['pingpong', 'stream'],
  native: false,
  async load() {
    return {
      async setup(ctx) {
        return {
          peer: { info: {} },
          async openA(peer) {
            const w = peer.worker!
            const link: Link = {
              post: (v, t) => w.postMessage(v, t),
              listen: (cb) => w.on('message', cb),
              unlisten: () => w.removeAllListeners('message'),
              onGone: (cb) => w.once('exit', () => cb(Object.assign(new Error('the worker exited'), { code: 'EPEERCLOSED' }))),
            }
            return asyncLinkEndpoint(link, ctx.spec.variant === 'transfer' ? transferCodec : cloneCodec, ctx.spec.pattern === 'stream')
          },
          describe: () => describePort('nonblocking', ctx.spec.variant, ctx.spec.pattern),
          async teardown() {},
        }
      },
      async openB(ctx) {
        const port = parentPort!
        const link: Link = {
          post: (v, t) => port.postMessage(v, t),
          listen: (cb) => port.on('message', cb),
          unlisten: () => port.removeAllListeners('message'),
          onGone: (cb) => port.once('close', () => cb(Object.assign(new Error('the parent went away'), { code: 'EPEERCLOSED' }))),
        }
        return asyncLinkEndpoint(link, ctx.spec.variant === 'transfer' ? transferCodec : cloneCodec, ctx.spec.pattern === 'stream')
      },
    }
  },
}

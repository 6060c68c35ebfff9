import { parentPort } from 'node:worker_threads'
import type { MechanismImpl } from './types.js'
import { asyncLinkEndpoint, cloneCodec, streamWindow, transferCodec, type Link } from './common/port-endpoint.js'
import { describePort } from './message-channel.js'
import { PeerGoneError } from '../core/errors.js'

/**
 * worker.postMessage ⇄ parentPort, the Worker's built-in channel. Event loop only:
 * the Worker object's side cannot be polled with receiveMessageOnPort (its port is
 * internal), so a busy-poll mode would not be this mechanism.
 */
export const workerMessage: MechanismImpl = {
  async setup(ctx) {
    return {
      peer: { info: {} },
      async openA(peer) {
        const w = peer.worker!
        const link: Link = {
          post: (v, t) => w.postMessage(v, t),
          listen: (cb) => w.on('message', cb),
          unlisten: () => w.removeAllListeners('message'),
          onGone: (cb) => w.once('exit', () => cb(new PeerGoneError('the worker exited'))),
        }
        return asyncLinkEndpoint(link, ctx.spec.variant === 'transfer' ? transferCodec : cloneCodec, streamWindow(ctx.spec))
      },
      describe: () => describePort({ ...ctx.spec, mode: 'nonblocking' }),
      async teardown() {},
    }
  },
  async openB(ctx) {
    const port = parentPort!
    const link: Link = {
      post: (v, t) => port.postMessage(v, t),
      listen: (cb) => port.on('message', cb),
      unlisten: () => port.removeAllListeners('message'),
      onGone: (cb) => port.once('close', () => cb(new PeerGoneError('the parent went away'))),
    }
    return asyncLinkEndpoint(link, ctx.spec.variant === 'transfer' ? transferCodec : cloneCodec, streamWindow(ctx.spec))
  },
}

import type { ChildProcess } from 'node:child_process'
import type { MechanismImpl } from './types.js'
import { asyncLinkEndpoint, cloneCodec, describeWindow, streamWindow, type Codec, type Link } from './common/port-endpoint.js'
import { PeerGoneError } from '../core/errors.js'

/**
 * Node's child-process IPC channel (`child.send` ⇄ `process.send`), opened for this
 * case with the variant's serialization. `json` cannot carry bytes, so the payload
 * travels as a base64 string and is decoded back into exactly the bytes sent — that
 * conversion is part of what json serialization costs. `advanced` (the V8
 * serializer) carries the Uint8Array itself.
 */
const base64: Codec = {
  encode: (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'),
  decode: (v) => Buffer.from(v as string, 'base64'),
  transfers: false,
}
/** The V8 serializer clones the bytes, as postMessage does. */
const advanced = cloneCodec

const gone = (what: string) => new PeerGoneError(what)

export const childIpc: MechanismImpl = {
  async setup(ctx) {
    const serialization = ctx.spec.variant === 'advanced' ? 'advanced' : 'json'
    const flow = streamWindow(ctx.spec)
    return {
      peer: { info: {}, ipc: serialization },
      async openA(peer) {
        const child = peer.child as ChildProcess
        const link: Link = {
          post: (v) => child.send(v as string),
          listen: (cb) => child.on('message', cb),
          unlisten: () => child.removeAllListeners('message'),
          onGone: (cb) => child.once('disconnect', () => cb(gone('the peer closed the IPC channel'))),
        }
        return asyncLinkEndpoint(link, serialization === 'json' ? base64 : advanced, flow)
      },
      describe: () => ({
        serialization,
        payload: serialization === 'json' ? 'base64 string (json cannot carry bytes)' : 'Uint8Array (V8 serializer)',
        ...(flow ? { flowControl: describeWindow(flow) } : {}),
      }),
      async teardown() {},
    }
  },
  async openB(ctx) {
    if (!process.send) throw new Error('child-ipc: the peer was started without an IPC channel')
    // Disconnect only once every message is written: a 1 MiB message may still be
    // on its way into the socket when the exchange ends, and disconnecting then cuts it off.
    let unsent = 0
    let closing = false
    const disconnectWhenFlushed = (): void => {
      if (closing && unsent === 0 && process.connected) process.disconnect()
    }
    const link: Link = {
      post: (v) => {
        unsent++
        process.send!(v as string, undefined, undefined, () => {
          unsent--
          disconnectWhenFlushed()
        })
      },
      listen: (cb) => process.on('message', cb),
      unlisten: () => {
        process.removeAllListeners('message')
        closing = true
        disconnectWhenFlushed()
      },
      onGone: (cb) => process.once('disconnect', () => cb(gone('side a closed the IPC channel'))),
    }
    return asyncLinkEndpoint(link, ctx.spec.variant === 'advanced' ? advanced : base64, streamWindow(ctx.spec))
  },
}

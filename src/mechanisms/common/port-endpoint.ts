import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import type { AsyncEndpoint, SyncEndpoint } from '../types.js'
import { PeerGoneError } from '../../core/errors.js'

/**
 * Endpoints over message-passing links that have no back-pressure of their own
 * (postMessage, the child IPC channel). For a stream, an application-level credit
 * window keeps the queue bounded, as a real producer must: the receiver returns one
 * credit message per CREDIT_BATCH messages, and the sender stops when WINDOW
 * messages are unacknowledged. Those credits are part of the measured cost.
 */
export const WINDOW = 64
export const CREDIT_BATCH = 16

/** The link: how to post a value, and how to subscribe to what arrives. */
export interface Link {
  post(value: unknown, transfer?: ArrayBuffer[]): void
  listen(cb: (value: unknown) => void): void
  unlisten(): void
  /** Called when the link itself fails or the peer goes away. */
  onGone(cb: (err: Error) => void): void
}

/** How payloads are put on the link and taken off it. */
export interface Codec {
  encode(buf: Uint8Array): unknown
  decode(value: unknown): Uint8Array
  transfers: boolean
}

export const cloneCodec: Codec = { encode: (b) => b, decode: (v) => v as Uint8Array, transfers: false }
export const transferCodec: Codec = { encode: (b) => b, decode: (v) => v as Uint8Array, transfers: true }

interface Credit {
  credit: number
}
const isCredit = (v: unknown): v is Credit =>
  typeof v === 'object' && v !== null && typeof (v as Credit).credit === 'number' && !(v instanceof Uint8Array)

export function asyncLinkEndpoint(link: Link, codec: Codec, stream: boolean): AsyncEndpoint {
  let onMessage: (m: Uint8Array) => void = () => {}
  let onDrain: () => void = () => {}
  let inFlight = 0
  let received = 0
  let blocked = false
  link.listen((value) => {
    if (isCredit(value)) {
      inFlight -= value.credit
      if (blocked && inFlight < WINDOW) {
        blocked = false
        onDrain()
      }
      return
    }
    if (stream && ++received % CREDIT_BATCH === 0) link.post({ credit: CREDIT_BATCH })
    onMessage(codec.decode(value))
  })
  return {
    kind: 'async',
    transfers: codec.transfers,
    send(buf, release) {
      link.post(codec.encode(buf), codec.transfers ? [buf.buffer as ArrayBuffer] : undefined)
      if (!codec.transfers) release?.()
      if (!stream) return true
      if (++inFlight >= WINDOW) blocked = true
      return !blocked
    },
    onMessage: (cb) => {
      onMessage = cb
    },
    onDrain: (cb) => {
      onDrain = cb
    },
    onError: (cb) => link.onGone(cb),
    close: () => link.unlisten(),
  }
}

/** A MessagePort as a Link. */
export function portLink(port: MessagePort): Link {
  return {
    post: (v, transfer) => port.postMessage(v, transfer),
    listen: (cb) => port.on('message', cb),
    unlisten: () => {
      port.removeAllListeners('message')
      port.close()
    },
    onGone: (cb) => port.once('close', () => cb(new PeerGoneError('the peer went away (port closed)'))),
  }
}

/**
 * busy-poll over a MessagePort: both ends spin on receiveMessageOnPort, never
 * returning to the event loop. A stream's sender spins for credits the same way.
 */
export function spinPortEndpoint(port: MessagePort, codec: Codec, stream: boolean): SyncEndpoint {
  let inFlight = 0
  let received = 0
  const take = (): unknown => {
    for (;;) {
      const r = receiveMessageOnPort(port)
      if (r !== undefined) return r.message
    }
  }
  return {
    kind: 'sync',
    transfers: codec.transfers,
    send(buf) {
      if (stream) {
        while (inFlight >= WINDOW) {
          const v = take()
          if (isCredit(v)) inFlight -= v.credit
        }
        inFlight++
      }
      port.postMessage(codec.encode(buf), codec.transfers ? [buf.buffer as ArrayBuffer] : undefined)
    },
    recv() {
      for (;;) {
        const v = take()
        if (isCredit(v)) {
          inFlight -= v.credit
          continue
        }
        if (stream && ++received % CREDIT_BATCH === 0) port.postMessage({ credit: CREDIT_BATCH })
        return codec.decode(v)
      }
    },
    close: () => port.close(),
  }
}

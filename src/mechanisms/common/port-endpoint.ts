import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import type { AsyncEndpoint, SyncEndpoint } from '../types.js'
import { PeerGoneError } from '../../core/errors.js'

/**
 * Endpoints over message-passing links that have no back-pressure of their own
 * (postMessage, the child IPC channel). For a stream, an application-level credit
 * window keeps the queue bounded, as a real producer must: the receiver returns one
 * credit message per `batch` messages, and the sender stops when `window` messages
 * are unacknowledged. Those credits are part of the measured cost.
 */
export interface CreditWindow {
  /** Unacknowledged messages at most. */
  window: number
  /** Messages per credit the receiver returns. */
  batch: number
}

/** The window of small messages: 64 unacknowledged, a credit every quarter of them (16). */
export const WINDOW = 64
export const CREDIT_BATCH = WINDOW / 4
/**
 * Bytes a window may hold: large messages get fewer, at least 4 with a credit every
 * quarter. 64 messages of 1 MiB kept 64 MiB queued and a thread case's process near
 * 200 MB; 16 of them held the same throughput at 130 MB.
 */
export const WINDOW_BYTES = 16 * 1024 * 1024

/** The credit window of a stream of `sizeBytes` messages (both ends derive it from the case). */
export function creditWindow(sizeBytes: number): CreditWindow {
  const window = Math.max(4, Math.min(WINDOW, Math.floor(WINDOW_BYTES / Math.max(1, sizeBytes))))
  return { window, batch: Math.floor(window / 4) }
}

/** A stream case's window (undefined for the other patterns), for the endpoints' `flow`. */
export const streamWindow = (spec: { pattern: string; sizeBytes: number }): CreditWindow | undefined =>
  spec.pattern === 'stream' ? creditWindow(spec.sizeBytes) : undefined

/** What `describe` says of a stream's flow control. */
export const describeWindow = (w: CreditWindow): string => `credit window of ${w.window} messages, a credit every ${w.batch}`

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

/** `flow`: a stream's credit window; undefined for an exchange that waits for its answers. */
export function asyncLinkEndpoint(link: Link, codec: Codec, flow: CreditWindow | undefined): AsyncEndpoint {
  let onMessage: (m: Uint8Array) => void = () => {}
  let onDrain: () => void = () => {}
  let inFlight = 0
  let received = 0
  let blocked = false
  link.listen((value) => {
    if (isCredit(value)) {
      inFlight -= value.credit
      if (blocked && flow && inFlight < flow.window) {
        blocked = false
        onDrain()
      }
      return
    }
    if (flow && ++received % flow.batch === 0) link.post({ credit: flow.batch })
    onMessage(codec.decode(value))
  })
  return {
    kind: 'async',
    transfers: codec.transfers,
    send(buf, release) {
      link.post(codec.encode(buf), codec.transfers ? [buf.buffer as ArrayBuffer] : undefined)
      if (!codec.transfers) release?.()
      if (!flow) return true
      if (++inFlight >= flow.window) blocked = true
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
export function spinPortEndpoint(port: MessagePort, codec: Codec, flow: CreditWindow | undefined): SyncEndpoint {
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
      if (flow) {
        while (inFlight >= flow.window) {
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
        if (flow && ++received % flow.batch === 0) port.postMessage({ credit: flow.batch })
        return codec.decode(v)
      }
    },
    close: () => port.close(),
  }
}

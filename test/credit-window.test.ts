import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { PeerGoneError } from '../src/core/errors.js'
import {
  asyncLinkEndpoint,
  cloneCodec,
  CREDIT_BATCH,
  creditWindow,
  portLink,
  transferCodec,
  WINDOW,
  WINDOW_BYTES,
} from '../src/mechanisms/common/port-endpoint.js'

/**
 * The application-level credit window of the message-passing endpoints, over a real
 * MessageChannel: a stream sender stops after WINDOW unacknowledged messages and
 * resumes (drain) when the receiver's credits come back; nothing is lost or reordered.
 */
/** The window of the small messages these tests send. */
const SMALL = creditWindow(8)

const ports: MessagePort[] = []
afterEach(() => {
  for (const p of ports.splice(0)) p.close()
})

function channel() {
  const mc = new MessageChannel()
  ports.push(mc.port1, mc.port2)
  return mc
}

const message = (k: number) => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setUint32(0, k, true)
  return b
}
const seqOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0, true)
const until = async (what: string, cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

describe('the credit window (asyncLinkEndpoint, stream)', () => {
  it('the constants are the documented ones', () => {
    expect([WINDOW, CREDIT_BATCH, WINDOW_BYTES]).toEqual([64, 16, 16 * 1024 * 1024])
    expect(SMALL).toEqual({ window: WINDOW, batch: CREDIT_BATCH })
  })

  it('large messages get a window of at most WINDOW_BYTES, never fewer than 4, with a credit every quarter', () => {
    const KiB = 1024
    expect(creditWindow(64 * KiB)).toEqual({ window: 64, batch: 16 })
    expect(creditWindow(256 * KiB)).toEqual({ window: 64, batch: 16 })
    expect(creditWindow(512 * KiB)).toEqual({ window: 32, batch: 8 })
    expect(creditWindow(1024 * KiB)).toEqual({ window: 16, batch: 4 })
    expect(creditWindow(3000 * KiB)).toEqual({ window: 5, batch: 1 })
    expect(creditWindow(8192 * KiB)).toEqual({ window: 4, batch: 1 })
  })

  it('a 1 MiB stream sender stops at its 16th unacknowledged message', () => {
    const { port1 } = channel()
    const a = asyncLinkEndpoint(portLink(port1), cloneCodec, creditWindow(1024 * 1024))
    const big = new Uint8Array(1024 * 1024)
    const accepted = Array.from({ length: 16 }, () => a.send(big))
    expect(accepted.indexOf(false)).toBe(15)
  })

  it(`send returns false at the ${WINDOW}th unacknowledged message and drain comes only when the receiver acknowledges`, async () => {
    const { port1, port2 } = channel()
    const a = asyncLinkEndpoint(portLink(port1), cloneCodec, SMALL)
    let drains = 0
    a.onDrain(() => drains++)
    const accepted: boolean[] = []
    for (let k = 0; k < WINDOW; k++) accepted.push(a.send(message(k)))
    expect(accepted.slice(0, WINDOW - 1).every((x) => x)).toBe(true)
    expect(accepted[WINDOW - 1]).toBe(false)
    // Beyond the window the sender is still told to wait.
    expect(a.send(message(WINDOW))).toBe(false)
    // Nobody is receiving yet, so no credit comes back: no drain.
    await new Promise((r) => setTimeout(r, 30))
    expect(drains).toBe(0)

    // The receiver starts: it takes what is queued and acknowledges every CREDIT_BATCH messages.
    const got: number[] = []
    const b = asyncLinkEndpoint(portLink(port2), cloneCodec, SMALL)
    b.onMessage((m) => got.push(seqOf(m)))
    await until('the queued messages', () => got.length === WINDOW + 1)
    await until('the drain', () => drains > 0)
    expect(drains).toBe(1)
    expect(got).toEqual(Array.from({ length: WINDOW + 1 }, (_, k) => k))
    // 65 received: 4 credits of 16 back, 1 message still unacknowledged, so the next sends are accepted.
    await new Promise((r) => setTimeout(r, 20))
    expect(a.send(message(WINDOW + 1))).toBe(true)
  })

  it(`one credit of ${CREDIT_BATCH} resumes the sender for exactly ${CREDIT_BATCH} more messages`, async () => {
    const { port1, port2 } = channel()
    const a = asyncLinkEndpoint(portLink(port1), cloneCodec, SMALL)
    let drains = 0
    a.onDrain(() => drains++)
    for (let k = 0; k < WINDOW - 1; k++) a.send(message(k))
    expect(a.send(message(WINDOW - 1))).toBe(false)
    // A receiver speaking the protocol by hand: one credit, for the first CREDIT_BATCH messages.
    port2.postMessage({ credit: CREDIT_BATCH })
    await until('the drain', () => drains > 0)
    expect(drains).toBe(1)
    const accepted: boolean[] = []
    for (let k = 0; k < CREDIT_BATCH; k++) accepted.push(a.send(message(WINDOW + k)))
    expect(accepted).toEqual([...Array(CREDIT_BATCH - 1).fill(true), false])
  })

  it('a sender driven by send/drain delivers every message once, in order, never more than WINDOW ahead', async () => {
    const { port1, port2 } = channel()
    const a = asyncLinkEndpoint(portLink(port1), cloneCodec, SMALL)
    const b = asyncLinkEndpoint(portLink(port2), cloneCodec, SMALL)
    const TOTAL = 1000
    const got: number[] = []
    let sent = 0
    let maxAhead = 0
    let stalls = 0
    b.onMessage((m) => got.push(seqOf(m)))
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (sent < TOTAL) {
          // Acknowledged so far: the receiver credits every CREDIT_BATCH messages.
          const acked = Math.floor(got.length / CREDIT_BATCH) * CREDIT_BATCH
          maxAhead = Math.max(maxAhead, sent - acked)
          if (!a.send(message(sent++))) {
            stalls++
            return
          }
        }
        resolve()
      }
      a.onDrain(pump)
      pump()
    })
    await until('every message', () => got.length === TOTAL)
    await new Promise((r) => setTimeout(r, 20))
    expect(got).toEqual(Array.from({ length: TOTAL }, (_, k) => k))
    expect(stalls).toBeGreaterThan(0)
    expect(maxAhead).toBeLessThanOrEqual(WINDOW)
  })

  it('clone codec releases the buffer at once; transfer codec never does and says it transfers', () => {
    const { port1 } = channel()
    const clone = asyncLinkEndpoint(portLink(port1), cloneCodec, SMALL)
    let released = 0
    clone.send(message(1), () => released++)
    expect(released).toBe(1)
    expect(clone.transfers).toBe(false)

    const { port1: p } = channel()
    const transfer = asyncLinkEndpoint(portLink(p), transferCodec, SMALL)
    const buf = message(2)
    transfer.send(buf, () => released++)
    expect(released).toBe(1)
    expect(transfer.transfers).toBe(true)
    expect(buf.byteLength).toBe(0)
  })
})

describe('asyncLinkEndpoint, ping-pong', () => {
  it('has no window: send always returns true and the receiver posts no credits', async () => {
    const { port1, port2 } = channel()
    const a = asyncLinkEndpoint(portLink(port1), cloneCodec, undefined)
    const raw: unknown[] = []
    port1.on('message', (v) => raw.push(v))
    const b = asyncLinkEndpoint(portLink(port2), cloneCodec, undefined)
    const got: number[] = []
    b.onMessage((m) => got.push(seqOf(m)))
    for (let k = 0; k < 3 * WINDOW; k++) expect(a.send(message(k))).toBe(true)
    await until('every message', () => got.length === 3 * WINDOW)
    await new Promise((r) => setTimeout(r, 20))
    expect(raw).toEqual([])
  })

  it('the other port closing is an error with code EPEERCLOSED', async () => {
    const { port1, port2 } = channel()
    const a = asyncLinkEndpoint(portLink(port1), cloneCodec, undefined)
    const err = new Promise<Error>((r) => a.onError(r))
    port2.close()
    const e = await err
    expect(e).toBeInstanceOf(PeerGoneError)
    expect(e).toMatchObject({ code: 'EPEERCLOSED', message: 'the peer went away (port closed)' })
  })
})

import { describe, expect, it } from 'vitest'
import { SendBuffers, SENDER_BUFFERED_BYTES } from '../src/harness/case/loops.js'
import type { AsyncEndpoint } from '../src/mechanisms/types.js'

/**
 * An event-loop sender's buffers: reused once released, bounded in bytes while the
 * endpoint holds them. The endpoint here is a stand-in that holds every release until
 * the test runs it, the one thing a real socket does only by chance (a write that
 * completes at once releases on the next tick).
 */
/** An event-loop endpoint that keeps every release until told to run them. */
function holdingEndpoint(transfers = false) {
  const held: (() => void)[] = []
  const sent: Uint8Array[] = []
  const ep: AsyncEndpoint = {
    kind: 'async',
    transfers,
    send: (buf, release) => {
      sent.push(buf)
      if (release) held.push(release)
      return true
    },
    onMessage: () => {},
    onDrain: () => {},
    onError: () => {},
    close: () => {},
  }
  return { ep, held, sent }
}

describe('SendBuffers', () => {
  it(`has at most ${SENDER_BUFFERED_BYTES / 1048576} MiB out, then waits for a release and goes on with the released buffer`, async () => {
    const size = 1024 * 1024
    const { ep, held, sent } = holdingEndpoint()
    const buffers = new SendBuffers(ep, new Uint8Array(size).fill(7))
    let resumed = 0
    const most = SENDER_BUFFERED_BYTES / size
    for (let i = 0; i < most; i++) buffers.send(buffers.take(() => resumed++)!)
    expect(buffers.take(() => resumed++)).toBeUndefined()
    expect(new Set(sent).size).toBe(most)
    held.shift()!()
    expect(resumed).toBe(0)
    await new Promise((r) => process.nextTick(r))
    expect(resumed).toBe(1)
    const again = buffers.take(() => resumed++)
    expect(again).toBe(sent[0])
    expect(again!.every((b) => b === 7)).toBe(true)
  })

  it('never fewer than two buffers, and a new one per message when the endpoint transfers', () => {
    const big = holdingEndpoint()
    const huge = new SendBuffers(big.ep, new Uint8Array(SENDER_BUFFERED_BYTES))
    huge.send(huge.take(() => {})!)
    expect(huge.take(() => {})).toBeDefined()
    expect(huge.take(() => {})).toBeUndefined()
    const moving = holdingEndpoint(true)
    const transfers = new SendBuffers(moving.ep, new Uint8Array(SENDER_BUFFERED_BYTES))
    for (let i = 0; i < 5; i++) transfers.send(transfers.take(() => {})!)
    expect(new Set(moving.sent).size).toBe(5)
    expect(moving.held).toEqual([])
  })
})

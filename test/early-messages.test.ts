import { describe, expect, it } from 'vitest'
import { holdEarlyMessages } from '../src/harness/case/early-messages.js'
import type { AsyncEndpoint } from '../src/mechanisms/types.js'

/**
 * holdEarlyMessages: what an event-loop endpoint delivers before side b's loop has
 * registered its handlers is kept and replayed, in order; afterwards it passes
 * straight through. Driven by a fake endpoint whose callbacks the test fires.
 */
function fakeEndpoint() {
  const calls: string[] = []
  let message: ((m: Uint8Array) => void) | undefined
  let error: ((e: Error) => void) | undefined
  let drain: (() => void) | undefined
  const ep: AsyncEndpoint = {
    kind: 'async',
    transfers: true,
    send(buf, release) {
      calls.push(`send ${buf[0]}${release ? ' +release' : ''}`)
      release?.()
      return buf[0] !== 0
    },
    onMessage(cb) {
      calls.push('onMessage')
      message = cb
    },
    onDrain(cb) {
      calls.push('onDrain')
      drain = cb
    },
    onError(cb) {
      calls.push('onError')
      error = cb
    },
    close() {
      calls.push('close')
      return Promise.resolve()
    },
  }
  return {
    ep,
    calls,
    deliver: (byte: number) => message!(new Uint8Array([byte])),
    deliverBuf: (buf: Uint8Array) => message!(buf),
    fail: (e: Error) => error!(e),
    drain: () => drain!(),
  }
}

describe('holdEarlyMessages', () => {
  it('registers its own handlers at once, so nothing delivered early is lost', () => {
    const f = fakeEndpoint()
    holdEarlyMessages(f.ep)
    expect(f.calls).toEqual(['onMessage', 'onError'])
  })

  it('replays messages delivered before onMessage in order, then passes later ones straight through', () => {
    const f = fakeEndpoint()
    const held = holdEarlyMessages(f.ep)
    f.deliver(1)
    f.deliver(2)
    f.deliver(3)
    const got: number[] = []
    held.onMessage((m) => got.push(m[0]))
    expect(got).toEqual([1, 2, 3])
    f.deliver(4)
    expect(got).toEqual([1, 2, 3, 4])
    // A later registration replaces the handler and replays nothing again.
    const again: number[] = []
    held.onMessage((m) => again.push(m[0]))
    f.deliver(5)
    expect(again).toEqual([5])
    expect(got).toEqual([1, 2, 3, 4])
  })

  it('keeps the very buffers that arrived early (no copy)', () => {
    const f = fakeEndpoint()
    const held = holdEarlyMessages(f.ep)
    const early = new Uint8Array([9, 8, 7])
    f.deliverBuf(early)
    let seen: Uint8Array | undefined
    held.onMessage((m) => (seen = m))
    expect(seen).toBe(early)
  })

  it('an error delivered before onError is reported when it is registered; later errors pass straight through', () => {
    const f = fakeEndpoint()
    const held = holdEarlyMessages(f.ep)
    const first = new Error('peer closed before the loop started')
    f.fail(first)
    // Only the first early error is kept.
    f.fail(new Error('a second early error'))
    const got: Error[] = []
    held.onError((e) => got.push(e))
    expect(got).toEqual([first])
    const later = new Error('later')
    f.fail(later)
    expect(got).toEqual([first, later])
  })

  it('no early error: registering onError reports nothing', () => {
    const f = fakeEndpoint()
    const held = holdEarlyMessages(f.ep)
    const got: Error[] = []
    held.onError((e) => got.push(e))
    expect(got).toEqual([])
  })

  it('early messages and an early error are each replayed to their own handler', () => {
    const f = fakeEndpoint()
    const held = holdEarlyMessages(f.ep)
    f.deliver(1)
    f.fail(new Error('gone'))
    const events: string[] = []
    held.onMessage((m) => events.push(`message ${m[0]}`))
    held.onError((e) => events.push(`error ${e.message}`))
    expect(events).toEqual(['message 1', 'error gone'])
  })

  it('send, onDrain and close delegate to the endpoint (send keeps its release and its return value)', async () => {
    const f = fakeEndpoint()
    const held = holdEarlyMessages(f.ep)
    expect(held.transfers).toBe(true)
    let released = 0
    expect(held.send(new Uint8Array([5]), () => released++)).toBe(true)
    expect(held.send(new Uint8Array([0]))).toBe(false)
    expect(released).toBe(1)
    let drained = 0
    held.onDrain(() => drained++)
    f.drain()
    expect(drained).toBe(1)
    await held.close()
    expect(f.calls).toEqual(['onMessage', 'onError', 'send 5 +release', 'send 0', 'onDrain', 'close'])
  })
})

import { describe, expect, it } from 'vitest'
import { loadNative } from '../src/native/index.js'
import { futexWaiter } from '../src/mechanisms/common/native-endpoints.js'
import { asyncRingEndpoint, Ring, type Waiter } from '../src/mechanisms/common/ring.js'
import { ringGeometry } from '../src/mechanisms/common/ring-layout.js'
import { sabWaiter, WAIT_ASYNC_RECHECK_MS } from '../src/mechanisms/sab-ring.js'

/**
 * An event-loop ring endpoint waits for messages on a libuv pool thread (a futex wait
 * with a deadline). A process cannot exit while a pool thread is still in such a wait,
 * so close() must see the wait return, woken, rather than leave it to its deadline.
 */
const n = loadNative()
if (!n.ok) console.log(`ring-close: skipped, ${n.reason}`)

describe.skipIf(!n.ok)('closing an event-loop ring endpoint', () => {
  it('wakes the wait its pool thread is in, and returns once that wait has (woken, not timed out)', async () => {
    const api = n.ok ? n.api : (undefined as never)
    const g = ringGeometry(64)
    const memory = new SharedArrayBuffer(2 * g.ringBytes)
    const tx = new Ring(memory, 0, g)
    const rx = new Ring(memory, g.ringBytes, g)
    const outcomes: unknown[] = []
    let waits = 0
    // futexWaitAsync's own answer: 'ok' when woken, 'timed-out' at its deadline.
    const answers: string[] = []
    const spied: typeof api = Object.create(api) as typeof api
    spied.futexWaitAsync = async (...args) => {
      const r = await api.futexWaitAsync(...args)
      answers.push(r)
      return r
    }
    const inner = futexWaiter(spied, () => undefined)
    const waiter: Waiter = {
      ...inner,
      waitAsync: (i32, index, expected) => {
        waits++
        return inner.waitAsync!(i32, index, expected).then(() => void outcomes.push('returned'))
      },
    }
    const ep = asyncRingEndpoint(tx, rx, 64, waiter)
    // Nothing to receive: the endpoint goes to wait for the first message.
    await new Promise((r) => setTimeout(r, 20))
    expect(waits).toBe(1)
    await ep.close()
    expect(outcomes).toEqual(['returned'])
    expect(answers).toEqual(['ok'])
  })
})

/**
 * A notify that is never answered (seen on Node 20: a thread-case stream hung with the
 * ring empty and its producer still waiting for room) must cost a re-check, not the
 * case: sab-ring's event-loop wait returns after WAIT_ASYNC_RECHECK_MS and the ring looks again.
 */
describe('an event-loop ring whose wake-ups are lost', () => {
  it('still carries every message, both ways, through a ring that fills', async () => {
    const g = ringGeometry(64)
    const memory = new SharedArrayBuffer(2 * g.ringBytes)
    // Every wake dropped: each side learns of the other's progress only when its wait times out.
    const deaf: Waiter = { ...sabWaiter, wake: () => {} }
    const a = asyncRingEndpoint(new Ring(memory, 0, g), new Ring(memory, g.ringBytes, g), 64, deaf)
    const b = asyncRingEndpoint(new Ring(memory, g.ringBytes, g), new Ring(memory, 0, g), 64, deaf)
    const count = 3 * g.slots
    const sent = Array.from({ length: count }, (_, i) => i & 0xff)
    const got: number[] = []
    const echoes: number[] = []
    const done = new Promise<void>((resolve, reject) => {
      b.onError(reject)
      b.onMessage((m) => {
        got.push(m[0])
        b.send(m)
      })
      a.onError(reject)
      a.onMessage((m) => {
        if (echoes.push(m[0]) === count) resolve()
      })
    })
    const started = performance.now()
    try {
      for (const byte of sent) a.send(new Uint8Array(64).fill(byte))
      await done
    } finally {
      await Promise.all([a.close(), b.close()])
    }
    expect(got).toEqual(sent)
    expect(echoes).toEqual(sent)
    // No wake ever came, so some wait ran out its re-check time: the messages moved because the ring looked again.
    expect(performance.now() - started).toBeGreaterThanOrEqual(WAIT_ASYNC_RECHECK_MS)
  })
})

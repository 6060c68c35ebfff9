import { describe, expect, it } from 'vitest'
import { loadNative } from '../src/native/index.js'
import { futexWaiter } from '../src/mechanisms/common/native-endpoints.js'
import { asyncRingEndpoint, Ring, type Waiter } from '../src/mechanisms/common/ring.js'
import { ringGeometry } from '../src/mechanisms/common/ring-layout.js'

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

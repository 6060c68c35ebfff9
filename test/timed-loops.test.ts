import { describe, expect, it } from 'vitest'
import { readSeq, STOP } from '../src/core/wire.js'
import type { CostMeter } from '../src/harness/case/cpu.js'
import type { LoopPlan } from '../src/harness/case/protocol.js'
import { asyncLoadB } from '../src/harness/case/timed-loops.js'
import type { AsyncEndpoint } from '../src/mechanisms/types.js'

/**
 * The load sender's ending through a fake endpoint: side b closes its end as soon as its
 * loop resolves, so the loop must not resolve while STOP still waits for room.
 */
const plan: LoopPlan = { sizeBytes: 64, warmup: 5, durationMs: 60_000, maxMessages: 20, targetSamples: 0, minWindowMs: 0, intervalNs: 0 }
const zero: CostMeter = () => ({ userUs: 0, sysUs: 0, voluntaryCtx: 0, involuntaryCtx: 0 })

/** Takes every message but STOP, which finds the channel full until `drain()`. */
function fullAtStop() {
  const sent: number[] = []
  let onDrain = (): void => {}
  const ep: AsyncEndpoint = {
    kind: 'async',
    send(buf, release) {
      sent.push(readSeq(buf))
      if (readSeq(buf) === STOP) return false
      release?.()
      return true
    },
    onMessage() {},
    onDrain: (cb) => void (onDrain = cb),
    onError() {},
    close() {},
  }
  return { ep, sent, drain: () => onDrain() }
}

describe('asyncLoadB', () => {
  it('resolves only once its STOP is in the channel: a full channel keeps it until the drain', async () => {
    const b = fullAtStop()
    let resolved = false
    const done = asyncLoadB(b.ep, plan, zero).then((r) => {
      resolved = true
      return r
    })
    for (let i = 0; i < 20 && b.sent.at(-1) !== STOP; i++) await new Promise((r) => setImmediate(r))
    expect(b.sent.at(-1)).toBe(STOP)
    await new Promise((r) => setTimeout(r, 20))
    expect(resolved).toBe(false)
    b.drain()
    await expect(done).resolves.toMatchObject({ messages: 20 })
    // Nothing after STOP: the drain ended the loop instead of resuming it.
    await new Promise((r) => setTimeout(r, 5))
    expect(b.sent.filter((s) => s === STOP)).toHaveLength(1)
    expect(b.sent.at(-1)).toBe(STOP)
    expect(b.sent.length).toBe(plan.warmup + plan.maxMessages + 1)
  })
})

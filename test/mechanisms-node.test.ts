import { describe, expect, it } from 'vitest'
import { isCompleted } from '../src/core/result.js'
import { patternByte } from '../src/core/wire.js'
import { loadNative } from '../src/native/index.js'
import { WINDOW } from '../src/mechanisms/common/port-endpoint.js'
import { measuredFigure, quickRun, why } from './helpers.js'

const native = loadNative()

/** One real exchange per mechanism, mode, endpoints and pattern, payloads verified by the harness. */
describe.each(['pipe', 'fifo', 'unix-stream', 'tcp', 'sab-ring', 'signal', 'worker-message', 'message-channel', 'child-ipc', 'piscina'])(
  '%s',
  (mechanism) => {
    it('completes every case it offers, with payloads verified both ways', () => {
      const { cli, run } = quickRun([mechanism])
      expect(run.cases.length).toBeGreaterThan(0)
      for (const c of run.cases) {
        expect.soft(c.state, `${c.id}: ${why(c)}`).toBe('completed')
        expect.soft(c.repetitions[0]?.messages ?? 0, c.id).toBeGreaterThan(0)
        expect.soft(measuredFigure(c), c.id).toBeGreaterThan(0)
      }
      expect(cli.code).toBe(0)
    })
  },
)

describe('fd kinds are the kernel objects the names promise', () => {
  it('fifo: both sides hold the case’s two FIFOs (checked by inode), in processes and threads', () => {
    const { run } = quickRun(['fifo', '--patterns', 'pingpong'])
    expect(run.cases.map((c) => c.id).sort()).toEqual([
      'fifo/blocking/process/pingpong/64B',
      'fifo/blocking/thread/pingpong/64B',
      'fifo/nonblocking/process/pingpong/64B',
      'fifo/nonblocking/thread/pingpong/64B',
    ])
    for (const c of run.cases) {
      expect.soft(c.state, `${c.id}: ${why(c)}`).toBe('completed')
      expect.soft(c.describe.fdKinds, c.id).toBe('a: b2a.fifo a2b.fifo; b: a2b.fifo b2a.fifo')
    }
  })

  it('net sockets say their kind from /proc/net: unix-stream (event loop) an AF_UNIX SOCK_STREAM, tcp TCP', () => {
    const { run } = quickRun(['unix-stream', 'tcp', '--modes', 'nonblocking', '--patterns', 'pingpong'])
    expect(run.cases.map((c) => c.id).sort()).toEqual([
      'tcp/nonblocking/process/pingpong/64B',
      'tcp/nonblocking/thread/pingpong/64B',
      'unix-stream/nonblocking/process/pingpong/64B',
      'unix-stream/nonblocking/thread/pingpong/64B',
    ])
    for (const c of run.cases) {
      expect.soft(c.state, `${c.id}: ${why(c)}`).toBe('completed')
      expect.soft(c.describe.fdKind, c.id).toMatch(c.mechanism === 'tcp' ? /^socket:\[\d+\] TCP$/ : /^socket:\[\d+\] AF_UNIX SOCK_STREAM$/)
    }
  })
})

/** What the receiving side says of a message whose byte `at` was flipped (WIRE.md v2). */
const flipped = (seq: number, at: number): string =>
  `message ${seq}: byte ${at} is ${patternByte(at) ^ 0xff}, expected ${patternByte(at)} (stale or corrupted message)`

describe('integrity: corruption, loss and duplication fail the case with the message number', () => {
  it.each([
    // corrupt flips the last byte: at 64 B, byte 63 (there is no trailer any more).
    ['corrupt:120', `peer (side b): ${flipped(120, 63)}`],
    ['corrupt-mid:120', `peer (side b): ${flipped(120, 33)}`],
    ['drop:130', 'peer (side b): message 130: sequence number 131 (lost message)'],
    ['dup:140', 'peer (side b): message 140: sequence number 139 (duplicated or reordered message)'],
  ])('%s', (fault, expected) => {
    const { run } = quickRun(['fifo', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong'], {
      IPCBENCH_TEST_FAULTS: '1',
      IPCBENCH_TEST_FAULT: fault,
    })
    const c = run.cases[0]
    expect(c.state).toBe('errored')
    expect(why(c)).toBe(expected)
    expect('latencyNs' in c).toBe(false)
  })
})

describe.skipIf(!native.ok)('CPU of every thread', () => {
  it("piscina: the total per round trip holds the pool worker (scope 'whole process'), so it is more than side a's own thread", () => {
    const { run } = quickRun(['piscina'])
    expect(run.cases.length).toBe(2)
    for (const c of run.cases) {
      if (!isCompleted(c) || !c.cpu) throw new Error(`${c.id} did not complete: ${why(c)}`)
      const own = (s: { userUsPerMsg: number; sysUsPerMsg: number }) => s.userUsPerMsg + s.sysUsPerMsg
      expect(c.cpu.a.scope, c.id).toBe('thread')
      expect(c.cpu.total, c.id).toMatchObject({ scope: 'whole process' })
      expect(own(c.cpu.total!), c.id).toBeGreaterThan(own(c.cpu.a))
      expect(own(c.cpu.total!), c.id).toBeGreaterThanOrEqual(own(c.cpu.a) + own(c.cpu.b))
      for (const r of c.repetitions) {
        expect(r.cpu.total?.scope, c.id).toBe('whole process')
        expect(own(r.cpu.total!), c.id).toBeGreaterThan(own(r.cpu.a))
      }
    }
  })

  it("a process case's total is its two processes added (scope 'both processes')", () => {
    const c = quickRun(['pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong']).run.cases[0]
    if (!isCompleted(c) || !c.cpu) throw new Error(`${c.id} did not complete: ${why(c)}`)
    const r = c.repetitions[0].cpu
    expect(r.total?.scope).toBe('both processes')
    expect(r.total!.userUsPerMsg).toBeCloseTo(r.a.userUsPerMsg + r.b.userUsPerMsg, 9)
    expect(r.total!.sysUsPerMsg).toBeCloseTo(r.a.sysUsPerMsg + r.b.sysUsPerMsg, 9)
  })
})

describe('runtime mechanisms say what they really used', () => {
  it('child-ipc records its serialization and json carries base64', () => {
    const cases = quickRun(['child-ipc', '--patterns', 'pingpong']).run.cases
    expect(cases.map((c) => c.id)).toEqual(['child-ipc:json/nonblocking/process/pingpong/64B', 'child-ipc:advanced/nonblocking/process/pingpong/64B'])
    expect(cases[0].describe).toMatchObject({ serialization: 'json', payload: expect.stringMatching(/base64/) })
    expect(cases[1].describe.serialization).toBe('advanced')
  })
  it('postMessage streams are flow-controlled: a slow receiver gets every message in order, and the sender waits for it', () => {
    // The receiver (side b) spins 200 µs per message; a sender without a window would
    // queue tens of thousands of messages in the 40 ms send phase and the receiver would
    // take seconds to drain them. With the window, at most WINDOW messages are in flight.
    const delayNs = 200_000
    const { run } = quickRun(['message-channel', 'worker-message', '--patterns', 'stream', '--sizes', '64'], {
      IPCBENCH_TEST_FAULTS: '1',
      IPCBENCH_TEST_FAULT: `delay:${delayNs}`,
    })
    expect(run.cases.map((c) => c.id).sort()).toEqual([
      'message-channel:clone/busy-poll/thread/stream/64B',
      'message-channel:clone/nonblocking/thread/stream/64B',
      'message-channel:transfer/busy-poll/thread/stream/64B',
      'message-channel:transfer/nonblocking/thread/stream/64B',
      'worker-message:clone/nonblocking/thread/stream/64B',
      'worker-message:transfer/nonblocking/thread/stream/64B',
    ])
    const sendPhaseNs = run.context.options.durationMs * 1e6
    for (const c of run.cases) {
      // Completed: the receiver checked every message's sequence number (a lost or reordered one fails the case).
      expect.soft(c.state, `${c.id}: ${why(c)}`).toBe('completed')
      const rep = c.repetitions[0]
      expect.soft(rep?.messages ?? 0, c.id).toBeGreaterThan(0)
      // The sender's count and the receiver's agree.
      expect
        .soft(
          c.warnings.filter((w) => w.code === 'count-mismatch'),
          c.id,
        )
        .toEqual([])
      // The receiver never fell more than the window behind: its phase ends soon after the sender's.
      expect.soft(rep?.elapsedNs ?? Infinity, c.id).toBeLessThan(sendPhaseNs + WINDOW * delayNs + 500e6)
      // …and never faster than it can take them: messages acknowledged before the loop took
      // them would be replayed in a burst and report an impossible rate.
      expect.soft(rep?.elapsedNs ?? 0, c.id).toBeGreaterThanOrEqual(0.9 * (rep?.messages ?? 0) * delayNs)
      expect.soft(c.describe.flowControl, c.id).toMatch(new RegExp(`^credit window of ${WINDOW} messages`))
    }
  })
})

describe('pipe is a real pipe(2)', () => {
  it('both sides hold pipe:[…] fds, read from /proc', () => {
    const c = quickRun(['pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong']).run.cases[0]
    expect(c.state).toBe('completed')
    expect(c.describe.fdKinds).toMatch(/^a: pipe:\[\d+\] pipe:\[\d+\]; b: pipe:\[\d+\] pipe:\[\d+\]$/)
  })
})

describe('without the native helper', () => {
  it('native mechanisms are skipped with the reason and the rest still runs', () => {
    const { cli, run } = quickRun(['pipe', 'fifo', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong'], {
      IPCBENCH_NATIVE: 'off',
    })
    expect(cli.code).toBe(0)
    const pipe = run.cases.find((c) => c.mechanism === 'pipe')!
    expect(pipe).toMatchObject({ state: 'skipped', reason: 'native helper not built (disabled by IPCBENCH_NATIVE=off)' })
    expect(run.cases.find((c) => c.mechanism === 'fifo')!.state).toBe('completed')
    expect(run.context.env.native.addon.loaded).toBe(false)
  })
})

describe('closing does not lose or break the last message', () => {
  it('a 1 MiB echo through 64 KiB FIFOs reaches the peer whole, in processes and threads', () => {
    const { run } = quickRun(['fifo', '--modes', 'nonblocking', '--patterns', 'pingpong', '--sizes', '1m', '--repetitions', '2'])
    for (const c of run.cases) expect(c.state, `${c.id}: ${why(c)}`).toBe('completed')
  })
})

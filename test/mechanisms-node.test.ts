import { describe, expect, it } from 'vitest'
import { quickRun } from './helpers.js'

/** One real exchange per mechanism, mode, endpoints and pattern, payloads verified by the harness. */
describe.each(['pipe', 'fifo', 'unix-stream', 'tcp', 'sab-ring', 'signal', 'worker-message', 'message-channel', 'child-ipc', 'piscina'])('%s', (mechanism) => {
  it('completes every case it offers, with payloads verified both ways', () => {
    const { cli, run } = quickRun([mechanism])
    expect(run.cases.length).toBeGreaterThan(0)
    for (const c of run.cases) {
      expect.soft(c.state, `${c.id}: ${c.reason ?? ''}`).toBe('completed')
      expect.soft(c.repetitions[0]?.messages ?? 0, c.id).toBeGreaterThan(0)
      if (c.pattern === 'pingpong') expect.soft(c.latencyNs?.p50 ?? 0, c.id).toBeGreaterThan(0)
      else expect.soft(c.throughput?.bytesPerSec ?? 0, c.id).toBeGreaterThan(0)
    }
    expect(cli.code).toBe(0)
  })
})

describe('fd kinds are the kernel objects the names promise', () => {
  it('fifo fds are FIFOs; unix-stream fds are sockets', () => {
    const fifo = quickRun(['fifo', '--endpoints', 'process', '--patterns', 'pingpong', '--modes', 'blocking']).run.cases[0]
    expect(fifo.describe.fdKinds).toBe('fifo,fifo')
    const uds = quickRun(['unix-stream', '--modes', 'nonblocking', '--endpoints', 'process', '--patterns', 'pingpong']).run.cases[0]
    expect(uds.describe.fdKind).toMatch(/^socket:\[\d+\]$/)
  })
})

describe('integrity: corruption, loss and duplication fail the case with the message number', () => {
  it.each([
    ['corrupt:120', /message 120: trailer corrupted/],
    ['drop:130', /message 130: sequence number 131 \(lost message\)/],
    ['dup:140', /message 140: sequence number 139 \(duplicated or reordered message\)/],
  ])('%s', (fault, expected) => {
    const { run } = quickRun(['fifo', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong'], { IPCBENCH_TEST_FAULTS: '1', IPCBENCH_TEST_FAULT: fault })
    expect(run.cases[0].state).toBe('errored')
    expect(run.cases[0].reason).toMatch(expected)
    expect(run.cases[0].latencyNs).toBeUndefined()
  })
})

describe('runtime mechanisms say what they really used', () => {
  it('child-ipc records its serialization and json carries base64', () => {
    const cases = quickRun(['child-ipc', '--patterns', 'pingpong']).run.cases
    expect(cases.map((c) => c.id)).toEqual(['child-ipc:json/nonblocking/process/pingpong/64B', 'child-ipc:advanced/nonblocking/process/pingpong/64B'])
    expect(cases[0].describe).toMatchObject({ serialization: 'json', payload: expect.stringMatching(/base64/) })
    expect(cases[1].describe.serialization).toBe('advanced')
  })
  it('message-channel streams are flow-controlled by a credit window', () => {
    const c = quickRun(['message-channel', '--patterns', 'stream', '--modes', 'nonblocking']).run.cases[0]
    expect(c.describe.flowControl).toMatch(/credit window of 64/)
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
    const { cli, run } = quickRun(['pipe', 'fifo', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong'], { IPCBENCH_NATIVE: 'off' })
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
    for (const c of run.cases) expect(c.state, `${c.id}: ${c.reason ?? ''}`).toBe('completed')
  })
})

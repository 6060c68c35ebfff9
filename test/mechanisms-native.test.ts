import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadNative } from '../src/native/index.js'
import { quickRun } from './helpers.js'

const n = loadNative()
if (!n.ok) console.warn(`native mechanism tests skipped: ${n.reason}`)

const NATIVE = ['unix-dgram', 'unix-seqpacket', 'unix-stream', 'posix-mq', 'sysv-msg', 'shm-ring', 'sysv-shm', 'eventfd', 'rt-signal', 'shm-signal']

/**
 * What ipcbench could have left in the kernel's name spaces (none of it may outlive a
 * run). POSIX queues are listable only where /dev/mqueue is mounted (not here).
 */
function leftovers(): string[] {
  const mine = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.startsWith('ipcbench-')).map((f) => `${dir}/${f}`)
  const ipcs = execFileSync('ipcs', ['-q', '-m'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /^0x[0-9a-f]+\s+\d+\s+root\s+600\b/.test(l))
  return [...mine('/dev/shm'), ...mine('/dev/mqueue'), ...ipcs]
}

describe.skipIf(!n.ok)('native mechanisms', () => {
  describe.each(NATIVE)('%s', (mechanism) => {
    it('completes every case it offers, payloads verified both ways, and leaves nothing behind', () => {
      const { cli, run } = quickRun([mechanism, '--sizes', '64,4k'])
      expect(run.cases.length).toBeGreaterThan(0)
      for (const c of run.cases) {
        expect.soft(c.state, `${c.id}: ${c.reason ?? ''}`).toBe('completed')
        expect.soft(c.repetitions[0]?.messages ?? 0, c.id).toBeGreaterThan(0)
        if (c.pattern === 'pingpong') expect.soft(c.latencyNs?.p50 ?? 0, c.id).toBeGreaterThan(0)
        else expect.soft(c.throughput?.bytesPerSec ?? 0, c.id).toBeGreaterThan(0)
      }
      expect(cli.code).toBe(0)
      expect(leftovers()).toEqual([])
    })
  })

  it('socket mechanisms hold sockets, eventfd holds eventfds, in both processes', () => {
    const { run } = quickRun(['unix-dgram', 'unix-seqpacket', 'eventfd', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong'])
    const kinds = Object.fromEntries(run.cases.map((c) => [c.mechanism, c.describe.fdKinds]))
    expect(kinds['unix-dgram']).toMatch(/^a: socket:\[\d+\]; b: socket:\[\d+\]$/)
    expect(kinds['unix-seqpacket']).toMatch(/^a: socket:\[\d+\]; b: socket:\[\d+\]$/)
    expect(kinds.eventfd).toMatch(/^a: anon_inode:\[eventfd\] anon_inode:\[eventfd\]; b: anon_inode:\[eventfd\] anon_inode:\[eventfd\]$/)
  })

  it('a size beyond a kernel limit is skipped with the limit named and how to raise it, never sent smaller', () => {
    const { run } = quickRun(['posix-mq', 'sysv-msg', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '8k,16k'])
    const bySize = (mech: string, size: number) => run.cases.find((c) => c.mechanism === mech && c.sizeBytes === size)!
    expect(bySize('posix-mq', 8192).state).toBe('completed')
    expect(bySize('posix-mq', 16384)).toMatchObject({ state: 'skipped' })
    expect(bySize('posix-mq', 16384).reason).toMatch(/msgsize_max \(8192\).*sysctl -w fs\.mqueue\.msgsize_max/)
    expect(bySize('sysv-msg', 16384).reason).toMatch(/kernel\.msgmax \(8192\).*sysctl/)
    expect(run.context.env.limits.mqueue?.msgsizeMax).toBe(8192)
  })

  it('1 MiB datagrams travel once the socket buffers are raised within net.core.wmem_max', () => {
    const { run } = quickRun(['unix-seqpacket', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '1m'])
    const c = run.cases[0]
    expect(c.state, c.reason).toBe('completed')
    expect(Number(c.describe.sndbufBytes)).toBeGreaterThan(1 << 20)
  })

  it('--pin same and split are applied to both sides and read back, for processes and threads', () => {
    const cpus = n.ok ? n.api.getAffinity() : []
    if (cpus.length < 2) {
      console.warn('pinning test: needs two CPUs, this process may use one')
      return
    }
    for (const pin of ['same', 'split'] as const) {
      const { run } = quickRun(['eventfd', '--modes', 'blocking', '--pin', pin])
      for (const c of run.cases) {
        const p = c.repetitions[0].placement
        expect(p.applied, c.id).toBe(pin)
        expect(p.cpusA.length, c.id).toBe(1)
        expect(p.cpusB.length, c.id).toBe(1)
        expect(p.cpusA[0] === p.cpusB[0], `${c.id} ${pin}`).toBe(pin === 'same')
      }
    }
  })

  it('busy-poll with both ends on one CPU is skipped with the reason', () => {
    const { run } = quickRun(['shm-ring', '--modes', 'busy-poll', '--pin', 'same', '--patterns', 'pingpong'])
    expect(run.cases[0]).toMatchObject({ state: 'skipped' })
    expect(run.cases[0].reason).toMatch(/one CPU/)
  })
})

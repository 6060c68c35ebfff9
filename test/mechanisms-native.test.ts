import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadNative } from '../src/native/index.js'
import type { RunResult } from '../src/core/result.js'
import { measuredFigure, quickRun, why } from './helpers.js'

const n = loadNative()
if (!n.ok) console.warn(`native mechanism tests skipped: ${n.reason}`)

const NATIVE = ['unix-dgram', 'unix-seqpacket', 'unix-stream', 'posix-mq', 'sysv-msg', 'shm-ring', 'sysv-shm', 'eventfd', 'rt-signal', 'shm-signal']

/** This host's limits, read where the kernel keeps them (not assumed). */
const readLimit = (path: string): number => Number(readFileSync(path, 'utf8').trim())
const MQ_MSGSIZE_MAX = readLimit('/proc/sys/fs/mqueue/msgsize_max')
const SYSV_MSGMAX = readLimit('/proc/sys/kernel/msgmax')
const SYSV_MSGMNB = readLimit('/proc/sys/kernel/msgmnb')

/** Every System V message queue and segment on the host, whoever owns it: `msg <id>` / `shm <id>`. */
function sysvObjects(): Set<string> {
  const ids = (flag: '-q' | '-m', kind: string) =>
    execFileSync('ipcs', [flag], { encoding: 'utf8' })
      .split('\n')
      .flatMap((l) => {
        const m = /^0x[0-9a-f]+\s+(\d+)\s/.exec(l)
        return m ? [`${kind} ${m[1]}`] : []
      })
  return new Set([...ids('-q', 'msg'), ...ids('-m', 'shm')])
}

/** The System V objects a run says it used (sysv-msg: `msqid N`; sysv-shm: `shmget id N`). */
function namedSysv(run: RunResult): string[] {
  return run.cases.flatMap((c) => {
    const text = Object.values(c.describe).join(' ')
    return [...text.matchAll(/msqid (\d+)/g)].map((m) => `msg ${m[1]}`).concat([...text.matchAll(/shmget id (\d+)/g)].map((m) => `shm ${m[1]}`))
  })
}

/**
 * What ipcbench could have left in the kernel's name spaces (none of it may outlive a
 * run): names in /dev/shm and /dev/mqueue (POSIX queues are listable only where it is
 * mounted), every System V object that appeared during the run (any owner, any key,
 * any mode), and every one the run's cases name.
 */
function leftovers(sysvBefore: Set<string>, run: RunResult): string[] {
  const mine = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.startsWith('ipcbench-')).map((f) => `${dir}/${f}`)
  const now = sysvObjects()
  const appeared = [...now].filter((o) => !sysvBefore.has(o))
  const named = namedSysv(run).filter((o) => now.has(o) && !appeared.includes(o))
  return [...mine('/dev/shm'), ...mine('/dev/mqueue'), ...appeared, ...named]
}

describe.skipIf(!n.ok)('native mechanisms', () => {
  describe.each(NATIVE)('%s', (mechanism) => {
    it('completes every case it offers, payloads verified both ways, and leaves nothing behind', () => {
      const sysvBefore = sysvObjects()
      const { cli, run } = quickRun([mechanism, '--sizes', '64,4k'])
      expect(run.cases.length).toBeGreaterThan(0)
      for (const c of run.cases) {
        expect.soft(c.state, `${c.id}: ${why(c)}`).toBe('completed')
        expect.soft(c.repetitions[0]?.messages ?? 0, c.id).toBeGreaterThan(0)
        expect.soft(measuredFigure(c), c.id).toBeGreaterThan(0)
      }
      expect(cli.code).toBe(0)
      if (mechanism === 'sysv-msg' || mechanism === 'sysv-shm')
        expect(namedSysv(run).length, 'the System V ids the cases used').toBe(run.cases.length)
      expect(leftovers(sysvBefore, run)).toEqual([])
    })
  })

  it('socketpair mechanisms hold sockets of their type (read from /proc/net/unix), eventfd holds eventfds, on both sides, processes and threads', () => {
    const { run } = quickRun(['unix-dgram', 'unix-seqpacket', 'unix-stream', 'eventfd', '--modes', 'blocking', '--patterns', 'pingpong'])
    const TYPE: Record<string, string> = { 'unix-dgram': 'SOCK_DGRAM', 'unix-seqpacket': 'SOCK_SEQPACKET', 'unix-stream': 'SOCK_STREAM' }
    expect(run.cases.map((c) => c.id).sort()).toEqual(
      ['eventfd', 'unix-dgram', 'unix-seqpacket', 'unix-stream'].flatMap((m) =>
        ['process', 'thread'].map((e) => `${m}/blocking/${e}/pingpong/${m === 'eventfd' ? '8B' : '64B'}`),
      ),
    )
    for (const c of run.cases) {
      expect.soft(c.state, `${c.id}: ${why(c)}`).toBe('completed')
      const kinds = c.describe.fdKinds
      if (c.mechanism === 'eventfd') {
        // eventfd names side b's fds only when side b is another process (a thread's are side a's own).
        if (c.endpoints === 'process')
          expect.soft(kinds, c.id).toMatch(/^a: anon_inode:\[eventfd\] anon_inode:\[eventfd\]; b: anon_inode:\[eventfd\] anon_inode:\[eventfd\]$/)
        else expect.soft(kinds, c.id).toMatch(/^a: anon_inode:\[eventfd\] anon_inode:\[eventfd\]/)
        continue
      }
      const t = TYPE[c.mechanism]
      const m = new RegExp(`^a: socket:\\[(\\d+)\\] AF_UNIX ${t}; b: socket:\\[(\\d+)\\] AF_UNIX ${t}$`).exec(kinds)
      expect.soft(m, `${c.id}: ${kinds}`).not.toBeNull()
      // The two ends of the pair, not one socket twice.
      if (m) expect.soft(m[1], c.id).not.toBe(m[2])
    }
  })

  it('a size beyond a kernel limit is skipped with the limit named and how to raise it, never sent smaller', () => {
    // The limits of this host: a message of exactly the limit travels, one byte more does not.
    const sysvMax = Math.min(SYSV_MSGMAX, SYSV_MSGMNB)
    const sizes = [...new Set([MQ_MSGSIZE_MAX, MQ_MSGSIZE_MAX + 1, sysvMax, sysvMax + 1])]
    const { run } = quickRun([
      'posix-mq',
      'sysv-msg',
      '--modes',
      'blocking',
      '--endpoints',
      'process',
      '--patterns',
      'pingpong',
      '--sizes',
      sizes.join(','),
    ])
    const bySize = (mech: string, size: number) => run.cases.find((c) => c.mechanism === mech && c.sizeBytes === size)!
    expect(bySize('posix-mq', MQ_MSGSIZE_MAX).state, why(bySize('posix-mq', MQ_MSGSIZE_MAX))).toBe('completed')
    expect(bySize('sysv-msg', sysvMax).state, why(bySize('sysv-msg', sysvMax))).toBe('completed')
    const mqOver = bySize('posix-mq', MQ_MSGSIZE_MAX + 1)
    expect(mqOver.state).toBe('skipped')
    expect(why(mqOver)).toBe(
      `message size ${MQ_MSGSIZE_MAX + 1} exceeds /proc/sys/fs/mqueue/msgsize_max (${MQ_MSGSIZE_MAX}); raise it with "sysctl -w fs.mqueue.msgsize_max=BYTES" (beyond the hard limit needs CAP_SYS_RESOURCE), or use smaller --sizes`,
    )
    const sysvOver = bySize('sysv-msg', sysvMax + 1)
    expect(sysvOver.state).toBe('skipped')
    expect(why(sysvOver)).toBe(
      `message size ${sysvMax + 1} exceeds kernel.msgmax (${SYSV_MSGMAX}) / kernel.msgmnb (${SYSV_MSGMNB}); raise them with "sysctl -w kernel.msgmax=BYTES kernel.msgmnb=BYTES"`,
    )
    expect(run.context.env.limits.mqueue?.msgsizeMax).toBe(MQ_MSGSIZE_MAX)
    expect(run.context.env.limits.sysv).toMatchObject({ msgmax: SYSV_MSGMAX, msgmnb: SYSV_MSGMNB })
  })

  it('1 MiB datagrams travel once the socket buffers are raised within net.core.wmem_max', () => {
    const { run } = quickRun(['unix-seqpacket', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '1m'])
    const c = run.cases[0]
    expect(c.state, why(c)).toBe('completed')
    expect(Number(c.describe.sndbufBytes)).toBeGreaterThan(1 << 20)
  })

  const cpus = n.ok ? n.api.getAffinity() : []
  if (n.ok && cpus.length < 2) console.log(`pinning test skipped: it needs two CPUs, this process may use ${cpus.length} (${cpus.join(',')})`)
  it.skipIf(cpus.length < 2)('--pin same and split are applied to both sides and read back, for processes and threads', () => {
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
    expect(why(run.cases[0])).toBe(
      'busy-poll with both ends on one CPU only progresses when the scheduler preempts (milliseconds per round trip, not microseconds); use --pin split',
    )
  })
})

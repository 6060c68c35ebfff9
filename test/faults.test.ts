import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cleanStale, isLiveIpcbench, LEDGER } from '../src/harness/host/cleanup.js'
import type { RunResult } from '../src/core/result.js'
import { patternByte } from '../src/core/wire.js'
import { loadNative } from '../src/native/index.js'
import { fault, leftovers } from './fault-suite.js'
import { BIN, quickRun, ROOT, tempFile, waitFor, why } from './helpers.js'

/**
 * The fault suite: peers killed or hung mid-case in each family of mechanism, and
 * objects left by a crashed ipcbench. Each case must end errored with a message that
 * names what happened, the run must go on, and nothing of ipcbench's may be left in
 * /dev/shm, the System V tables, the temporary directory or the process table.
 */
const n = loadNative()
/** One mechanism per family; threads through sab-ring. */
const FAMILIES: Array<[family: string, args: string[], native: boolean]> = [
  ['fd (pipe)', ['pipe', '--modes', 'blocking', '--endpoints', 'process'], true],
  ['socket (unix-stream)', ['unix-stream', '--modes', 'nonblocking', '--endpoints', 'process'], false],
  ['shared memory (shm-ring)', ['shm-ring', '--modes', 'blocking', '--endpoints', 'process'], true],
  ['message queue (posix-mq)', ['posix-mq', '--modes', 'blocking', '--endpoints', 'process'], true],
  // No fd closes when these peers die: the watchdog (blocking) and the pidfd watcher (event loop) must see it.
  ['event counter (eventfd)', ['eventfd', '--modes', 'blocking', '--endpoints', 'process'], true],
  ['queue on the event loop (posix-mq)', ['posix-mq', '--modes', 'nonblocking', '--endpoints', 'process'], true],
  ['message queue (sysv-msg)', ['sysv-msg', '--modes', 'blocking', '--endpoints', 'process'], true],
  ['signal (rt-signal)', ['rt-signal', '--modes', 'blocking', '--endpoints', 'process'], true],
  ['worker thread (sab-ring)', ['sab-ring', '--modes', 'blocking', '--endpoints', 'thread'], false],
]

const TIMEOUT_MS = 4000
const faultRun = (args: string[], fault: string) =>
  quickRun([...args, '--patterns', 'pingpong', '--timeout', `${TIMEOUT_MS / 1000}s`, '--warmup', '200'], {
    IPCBENCH_TEST_FAULTS: '1',
    IPCBENCH_TEST_FAULT: fault,
  })

/** The reason the time-out gives (src/harness/run/node-executor.ts), with the harness as the side. */
const TIMED_OUT = `harness: timed out after ${TIMEOUT_MS} ms (a peer stopped answering); both sides killed`
/**
 * A peer that died, as side a reports it once its loop failed (side-a.ts preferPeerError).
 * The prefix is 'side a' today although the peer is side b: the PeerError that
 * preferPeerError makes from the peer's exit carries no side, so the case process
 * reports it as its own (main.ts). Either attribution is accepted, so that fixing
 * it does not break this test.
 */
const peerEnded = (how: string) => new RegExp(`^(?:side a|peer \\(side b\\)): peer \\(pid \\d+\\) ended: ${how}$`)

describe('faults: a peer killed or hung mid-case', () => {
  describe.each(FAMILIES)('%s', (family, args, needsNative) => {
    const skip = needsNative && !n.ok
    if (skip) console.warn(`fault tests for ${family} skipped: ${n.ok ? '' : n.reason}`)

    it.skipIf(skip)('SIGKILL of the peer: errored naming the peer and the signal, within the time-out, nothing left', () =>
      fault(`${family}: peer SIGKILL`, () => {
        const started = Date.now()
        const { cli, run } = faultRun(args, 'kill:100')
        const c = run.cases[0]
        expect(c.state).toBe('errored')
        if (args.includes('thread')) {
          // A worker peer that exits while side a is blocked in a futex wait on the same
          // process cannot be seen exiting: the time-out ends it (or, if side a was not
          // blocked, the worker's exit code).
          const r = why(c)
          expect(r === TIMED_OUT || peerEnded('exit code 137').test(r), r).toBe(true)
        } else {
          expect(why(c)).toMatch(peerEnded('killed by SIGKILL'))
        }
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 6000)
        expect(cli.code).toBe(1)
      }),
    )

    it.skipIf(skip)('a peer that stops answering: the time-out ends it, kills the peer, cleans up', () =>
      fault(`${family}: peer hangs`, () => {
        const { run } = faultRun(args, 'hang:100')
        expect(run.cases[0]).toMatchObject({ state: 'errored', reason: TIMED_OUT, error: { code: 'ETIMEDOUT', side: 'harness' } })
      }),
    )
  })

  it('the run goes on after a killed case', () =>
    fault('a killed case, then the next', () => {
      const { run } = quickRun(['fifo', 'tcp', '--modes', 'nonblocking', '--endpoints', 'process', '--patterns', 'pingpong'], {
        IPCBENCH_TEST_FAULTS: '1',
        IPCBENCH_TEST_FAULT: 'kill:100@fifo/*',
      })
      expect(run.cases.map((c) => [c.mechanism, c.state])).toEqual([
        ['fifo', 'errored'],
        ['tcp', 'completed'],
      ])
    }))
})

/** What side b says of message `seq` when its byte `at` was flipped on arrival (WIRE.md v2). */
const flippedByte = (seq: number, at: number): string =>
  `peer (side b): message ${seq}: byte ${at} is ${patternByte(at) ^ 0xff}, expected ${patternByte(at)} (stale or corrupted message)`

/** A measured message (the warm-up is 200) corrupted or replaced on its way into side b. */
const FAULTY = 300
const integrityRun = (args: string[], fault: string) =>
  quickRun([...args, '--timeout', `${TIMEOUT_MS / 1000}s`, '--warmup', '200'], { IPCBENCH_TEST_FAULTS: '1', IPCBENCH_TEST_FAULT: fault })

/**
 * corrupt-mid flips byte ⌊size/2⌋ + 1, a payload byte at 64 B (33): the old measured
 * phase checked only the length, the sequence number and a trailer, and let it through.
 * Each family's every case must end errored naming the message and the byte.
 */
const CORRUPT_MID: Array<[family: string, args: string[], cases: number, native: boolean]> = [
  ['fd (pipe)', ['pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong,stream'], 2, true],
  ['socket (unix-stream)', ['unix-stream', '--modes', 'nonblocking', '--endpoints', 'process', '--patterns', 'pingpong,stream'], 2, false],
  ['socket (unix-dgram)', ['unix-dgram', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong,stream'], 2, true],
  ['shared memory (shm-ring)', ['shm-ring', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong,stream'], 2, true],
  // Ping-pong only: a blocking mq_send has no deadline, so a stream's sender never sees its receiver fail (the time-out ends it).
  ['queue (posix-mq)', ['posix-mq', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong'], 1, true],
  ['runtime (worker-message)', ['worker-message', '--endpoints', 'thread', '--patterns', 'pingpong,stream'], 4, false],
]

describe('integrity faults: a measured message corrupted or stale in every family', () => {
  describe.each(CORRUPT_MID)('%s', (family, args, cases, needsNative) => {
    it.skipIf(needsNative && !n.ok)(`corrupt-mid:${FAULTY} at 64 B: every case errored naming message ${FAULTY} and byte 33, nothing left`, () => {
      const { cli, run } = integrityRun([...args, '--sizes', '64'], `corrupt-mid:${FAULTY}`)
      expect(run.cases.length, family).toBe(cases)
      for (const c of run.cases) {
        expect.soft(c.state, c.id).toBe('errored')
        expect.soft(why(c), c.id).toBe(flippedByte(FAULTY, 33))
        expect.soft('error' in c ? c.error : undefined, c.id).toMatchObject({ code: 'EINTEGRITY', side: 'b' })
        expect.soft('latencyNs' in c || 'throughput' in c, c.id).toBe(false)
      }
      expect(cli.code).toBe(1)
      expect(leftovers()).toEqual([])
    })
  })

  // Side a and its worker share a pid, so side a cannot ask the kernel whether its peer
  // is alive: side b's close marks the rings CLOSED and wakes it, and its own reason wins.
  it(`shared memory, threads (sab-ring): corrupt-mid:${FAULTY} errored naming the message and the byte, in every mode`, () => {
    const { run } = integrityRun(
      ['sab-ring', '--modes', 'blocking,nonblocking,busy-poll', '--endpoints', 'thread', '--patterns', 'pingpong', '--sizes', '64'],
      `corrupt-mid:${FAULTY}`,
    )
    expect(run.cases.map((c) => c.mode).sort()).toEqual(['blocking', 'busy-poll', 'nonblocking'])
    for (const c of run.cases) {
      expect.soft(c.state, c.id).toBe('errored')
      expect.soft(why(c), c.id).toBe(flippedByte(FAULTY, 33))
    }
  })

  it.skipIf(!n.ok)(`stale:${FAULTY} at 1 KiB (message ${FAULTY - 1}'s bytes, relabelled in its first word): caught at byte 64`, () => {
    const { run } = integrityRun(
      ['pipe', 'shm-ring', 'unix-dgram', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong,stream', '--sizes', '1k'],
      `stale:${FAULTY}`,
    )
    expect(run.cases.map((c) => c.id).sort()).toEqual([
      'pipe/blocking/process/pingpong/1KiB',
      'pipe/blocking/process/stream/1KiB',
      'shm-ring/blocking/process/pingpong/1KiB',
      'shm-ring/blocking/process/stream/1KiB',
      'unix-dgram/blocking/process/pingpong/1KiB',
      'unix-dgram/blocking/process/stream/1KiB',
    ])
    // Byte 64 holds the second stamp of the number: 299 & 0xff where 300 & 0xff was expected.
    const reason = `peer (side b): message ${FAULTY}: byte 64 is ${(FAULTY - 1) & 0xff}, expected ${FAULTY & 0xff} (stale or corrupted message)`
    for (const c of run.cases) {
      expect.soft(c.state, c.id).toBe('errored')
      expect.soft(why(c), c.id).toBe(reason)
    }
    expect(leftovers()).toEqual([])
  })

  it.skipIf(!n.ok)('corrupt (the last byte) reads as a byte, not a trailer: byte 63 at 64 B, byte 1023 at 1 KiB', () => {
    const { run } = integrityRun(
      ['pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '64,1k'],
      `corrupt:${FAULTY}`,
    )
    expect(run.cases.map((c) => [c.id, why(c)])).toEqual([
      ['pipe/blocking/process/pingpong/64B', flippedByte(FAULTY, 63)],
      ['pipe/blocking/process/pingpong/1KiB', flippedByte(FAULTY, 1023)],
    ])
  })
})

describe.skipIf(!n.ok)('objects left by a crashed ipcbench', () => {
  it("clean removes what dead ipcbench processes left (names and ledgers), never a live owner's or another program's", () => {
    const api = n.ok ? n.api : undefined!
    const deadPid = 999_999_1
    const livePid = process.pid
    const shmDead = `/ipcbench-${deadPid}-crash`
    const shmLive = `/ipcbench-${livePid}-alive`
    const shmOther = `/otherprog-${deadPid}-x`
    for (const name of [shmDead, shmLive, shmOther]) api.shmMap(name, 4096, true)
    const mqDead = `/ipcbench-${deadPid}-q`
    api.close(api.mqOpen(mqDead, true, 1, 64, false))
    const msgDead = api.msgGet()
    const segDead = api.shmGet(4096)
    const dir = join(tmpdir(), `ipcbench-${deadPid}-case`)
    mkdirSync(dir, { mode: 0o700 })
    writeFileSync(join(dir, LEDGER), `msg ${msgDead}\nshm ${segDead}\nmq ${mqDead}\n`)
    try {
      // Every other live run keeps what it has: this test must not remove a run measuring beside it.
      const alive = (pid: number) => pid === livePid || (pid !== deadPid && isLiveIpcbench(pid))
      const report = cleanStale({ isAlive: alive })
      expect(report.removed).toEqual(
        expect.arrayContaining([`/dev/shm${shmDead}`, `sysv msg ${msgDead}`, `sysv shm ${segDead}`, `mq ${mqDead}`, dir]),
      )
      expect(report.kept).toContain(`/dev/shm${shmLive}`)
      expect(existsSync(`/dev/shm${shmOther}`)).toBe(true)
      expect(existsSync(`/dev/shm${shmDead}`)).toBe(false)
      expect(() => api.mqOpen(mqDead, false, 0, 0, false)).toThrow(/ENOENT|No such file/)
      expect(() => api.shmAttach(segDead, 4096)).toThrow()
      expect(existsSync(dir)).toBe(false)
    } finally {
      api.shmUnlink(shmLive)
      api.shmUnlink(shmOther)
    }
  })
})

const childrenOf = (pid: number): number[] =>
  execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => ppid === pid)
    .map(([p]) => p)
const gone = (pid: number): boolean => !existsSync(`/proc/${pid}`)
/** A process's command line; '' once it has gone (the orchestrator's short-lived children come and go). */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return ''
  }
}

describe('an orchestrator killed with SIGKILL, then the next run', () => {
  // A killed orchestrator runs no clean-up of its own: what it started dies with it (its
  // case process and peers, its C floor), and what they created carries their pids, so
  // the next run removes it.
  it.each([
    ['a case blocked in a futex wait, its peer hung (shm-ring)', ['shm-ring', '--no-floor'], 'hang:150@shm-ring/*', 'case/main.js'],
    ['a C floor mid-repetition (sysv-msg)', ['sysv-msg', '--duration', '5s'], undefined, 'ipcfloor'],
  ] as const)('%s: nothing it started outlives it, and the next run removes what it left', (what, args, hang, dies) =>
    fault(`orchestrator SIGKILL during ${what}`, async () => {
      const out = tempFile('killed.json')
      const orchestrator = spawn(
        process.execPath,
        [
          BIN,
          'run',
          ...args,
          '--modes',
          'blocking',
          '--endpoints',
          'process',
          '--patterns',
          'pingpong',
          '--sizes',
          '64',
          '--repetitions',
          '1',
          '--out',
          out,
        ],
        {
          cwd: ROOT,
          stdio: 'ignore',
          env: { ...process.env, NO_COLOR: '1', ...(hang ? { IPCBENCH_TEST_FAULTS: '1', IPCBENCH_TEST_FAULT: hang } : {}) },
        },
      )
      const exited = new Promise((r) => orchestrator.once('exit', r))
      let victim: number | undefined
      let peers: number[] = []
      try {
        // The process that must not outlive it, and that process's own children (a peer, a forked side b).
        victim = await waitFor(dies, () => childrenOf(orchestrator.pid!).find((p) => cmdline(p).includes(dies)))
        await waitFor(`${dies}'s peer`, () => (childrenOf(victim!).length > 0 ? true : undefined))
        peers = childrenOf(victim)
        await new Promise((r) => setTimeout(r, 300))
        orchestrator.kill('SIGKILL')
        await exited
        await waitFor(`pid ${victim} and its peers to end`, () => ([victim!, ...peers].every(gone) ? true : undefined), 5000)
      } finally {
        // Whatever failed above, nothing of this run may go on into the next tests.
        const failedEarly = orchestrator.exitCode === null && orchestrator.signalCode === null
        if (failedEarly) {
          orchestrator.kill('SIGKILL')
          await exited
        }
        for (const p of victim === undefined ? [] : [victim, ...peers]) if (!gone(p)) process.kill(p, 'SIGKILL')
        if (failedEarly) {
          await new Promise((r) => setTimeout(r, 500))
          cleanStale()
        }
      }
      // What they created is still there, its owners dead: the next run's start removes it.
      expect(leftovers().some((l) => /\/ipcbench-\d+-/.test(l) || /^0x0+\s/.test(l))).toBe(true)
      const next = quickRun(['pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '64'])
      expect(next.cli.code, next.cli.stderr).toBe(0)
      expect(next.run.context.warnings.map((w) => w.message)).toContainEqual(
        expect.stringMatching(/^removed \d+ object\(s\) left by dead ipcbench runs$/),
      )
    }),
  )
})

describe("a tiny /dev/shm (a container's)", () => {
  it.skipIf(!n.ok)('shm-ring cases that would not fit are skipped with the sizes, the rest run, and that /dev/shm is left empty', (ctx) => {
    const out = tempFile('tiny-shm.json')
    const run = `"${process.execPath}" "${BIN}" run shm-ring --modes blocking --endpoints process --patterns pingpong --sizes 64,1m --repetitions 1 --duration 30ms --no-floor --out "${out}"`
    // A mount namespace of its own, whose /dev/shm is a 4 MiB tmpfs: the host's is untouched.
    const script = `mount -t tmpfs -o size=4m,mode=1777 tmpfs /dev/shm || exit 97; ${run}; rc=$?; echo "left: $(ls -A /dev/shm)"; exit $rc`
    // The namespace and the mount the test needs, tried first: where either is refused the test skips.
    const probe = spawnSyncSafe('unshare', ['--mount', '--propagation', 'private', 'mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', '/dev/shm'])
    if (probe !== undefined) {
      const why = `a tiny /dev/shm not tested: cannot make a mount namespace here (${probe})`
      console.log(why)
      return ctx.skip(why)
    }
    return fault('a 4 MiB /dev/shm', () => {
      const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      })
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout.trim().split('\n').pop()).toBe('left:')
      const result = JSON.parse(readFileSync(out, 'utf8')) as RunResult
      expect(result.context.env.limits.devShm?.sizeBytes).toBe(4 * 1024 * 1024)
      expect(result.cases.map((c) => [c.id, c.state, why(c)])).toEqual([
        ['shm-ring/blocking/process/pingpong/64B', 'completed', ''],
        [
          'shm-ring/blocking/process/pingpong/1MiB',
          'skipped',
          expect.stringMatching(/^its two rings need 8\.0 MiB of \/dev\/shm, which has [\d.]+ MiB free of 4 MiB/),
        ],
      ])
    })
  })
})

/** undefined when the command runs and exits 0; otherwise why not. */
function spawnSyncSafe(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.error) return r.error.message
  return r.status === 0 ? undefined : (r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`)
}

/** A cgroup of our own with a CPU quota of `cpus`, v1's cpu controller where mounted, else v2; or why none can be made here. */
function quotaCgroup(cpus: number): { dir: string; remove(): void } | string {
  const name = `ipcbench-test-quota-${process.pid}`
  const v1 = existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')
  const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/'
  const dir = v1 ? join('/sys/fs/cgroup/cpu', name) : join('/sys/fs/cgroup', own, '..', name)
  try {
    mkdirSync(dir)
  } catch (err) {
    return `cannot make a cgroup here (${(err as Error).message})`
  }
  try {
    if (v1) writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(cpus * 100_000))
    else writeFileSync(join(dir, 'cpu.max'), `${cpus * 100_000} 100000`)
  } catch (err) {
    execFileSync('rmdir', [dir])
    return `cannot set a CPU quota on a cgroup here (${(err as Error).message})`
  }
  return { dir, remove: () => void execFileSync('rmdir', [dir]) }
}

describe('a cgroup CPU quota (a container limited to half a CPU)', () => {
  it('recorded in the environment, warned at the start, and each throttled case says so', (ctx) => {
    const cg = quotaCgroup(0.5)
    if (typeof cg === 'string') {
      const why = `a CPU quota not tested: ${cg}`
      console.log(why)
      return ctx.skip(why)
    }
    return fault('a CPU quota of half a CPU', () => {
      const out = tempFile('quota.json')
      const run = `"${process.execPath}" "${BIN}" run pipe --modes busy-poll --endpoints process --patterns pingpong --sizes 64 --repetitions 2 --duration 200ms --no-floor --out "${out}"`
      const r = spawnSync('sh', ['-c', `echo $$ > "${cg.dir}/cgroup.procs" && exec ${run}`], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      })
      expect(r.status, r.stderr).toBe(0)
      const result = JSON.parse(readFileSync(out, 'utf8')) as RunResult
      expect(result.context.env.container).toMatchObject({ cpuMax: '50000 100000', cpuQuotaCpus: 0.5, cpuQuotaCgroup: `/${cg.dir.split('/').pop()}` })
      expect(result.context.warnings).toContainEqual({
        code: 'cpu-quota',
        message: expect.stringMatching(/may use 0\.5 CPU \(cpu\.max 50000 100000\) and a busy-poll case spins a whole CPU on each side/),
      })
      expect(r.stderr).toMatch(/Warning: this run's cgroup .* may use 0\.5 CPU/)
      const c = result.cases[0]
      expect(c.state).toBe('completed')
      expect(c.warnings).toContainEqual({
        code: 'cpu-throttled',
        message: expect.stringMatching(/^the cgroup's CPU quota held this run back in [1-9]\d* period\(s\), [\d.]+ ms in all, while this case ran/),
      })
    }).finally(() => cg.remove())
  }, 60_000)
})

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadNative } from '../src/native/index.js'
import { cleanStale, LEDGER, removeSysvFromLedger } from '../src/harness/host/cleanup.js'
import { FLOOR_PATH, floorStatus } from '../src/harness/host/floor-binary.js'
import { hasLatency, hasThroughput, isCompleted, type RunResult } from '../src/core/result.js'
import { fault } from './fault-suite.js'
import { quickRun, ROOT, runCli, tempFile, why } from './helpers.js'

/**
 * The semaphore rings, shm-sem (POSIX semaphores in shm_open memory) and sysv-sem (a
 * System V set beside a shmget segment): every case they offer completes with its
 * payloads checked, their objects are what /proc says (0600, mapped from /dev/shm, six
 * semaphores), nothing outlives a run or a killed peer, `ipcbench clean` removes a dead
 * run's set, and the C floor has the same counterparts.
 */
const n = loadNative()
if (!n.ok) console.warn(`semaphore tests skipped: ${n.reason}`)
const floor = floorStatus()
if (!floor.ok) console.warn(`semaphore C floor tests skipped: ${floor.reason}`)

/** Every System V semaphore set and segment on the host: `sem <id>` / `shm <id>`. */
function sysvObjects(): Set<string> {
  const ids = (flag: '-s' | '-m', kind: string) =>
    execFileSync('ipcs', [flag], { encoding: 'utf8' })
      .split('\n')
      .flatMap((l) => {
        const m = /^0x[0-9a-f]+\s+(\d+)\s/.exec(l)
        return m ? [`${kind} ${m[1]}`] : []
      })
  return new Set([...ids('-s', 'sem'), ...ids('-m', 'shm')])
}

const shmNames = (): string[] => readdirSync('/dev/shm').filter((f) => f.startsWith('ipcbench-'))

/** What a run left: names in /dev/shm, and the System V objects its cases named that still exist. */
function leftovers(run: RunResult): string[] {
  const now = sysvObjects()
  const named = run.cases.flatMap((c) => {
    const text = Object.values(c.describe).join(' ')
    return [...text.matchAll(/semget id (\d+)/g)].map((m) => `sem ${m[1]}`).concat([...text.matchAll(/shmget id (\d+)/g)].map((m) => `shm ${m[1]}`))
  })
  return [...shmNames().filter((f) => run.cases.some((c) => c.describe.memory?.includes(f))), ...named.filter((o) => now.has(o))]
}

describe.skipIf(!n.ok)('semaphore rings', () => {
  it('every case of shm-sem and sysv-sem completes, processes and threads, ping-pong and stream, payloads checked, nothing left', () => {
    const { cli, run } = quickRun(['shm-sem', 'sysv-sem', '--sizes', '64,4k'])
    // blocking only × process, thread × pingpong, stream × 64 B, 4 KiB, for each of the two.
    expect(run.cases.map((c) => c.id).sort()).toEqual(
      ['shm-sem', 'sysv-sem']
        .flatMap((m) =>
          ['process', 'thread'].flatMap((e) => ['pingpong', 'stream'].flatMap((p) => ['64B', '4KiB'].map((s) => `${m}/blocking/${e}/${p}/${s}`))),
        )
        .sort(),
    )
    for (const c of run.cases) {
      expect.soft(c.state, `${c.id}: ${why(c)}`).toBe('completed')
      expect.soft(c.repetitions[0]?.messages ?? 0, c.id).toBeGreaterThan(0)
      if (c.pattern === 'pingpong') expect.soft(hasLatency(c) ? c.latencyNs.p50 : 0, c.id).toBeGreaterThan(0)
      else expect.soft(hasThroughput(c) ? c.throughput.bytesPerSec : 0, c.id).toBeGreaterThan(0)
    }
    expect(cli.code, cli.stderr).toBe(0)
    expect(leftovers(run)).toEqual([])
  })

  it('the objects are what /proc says: /dev/shm mapped shared by both processes, a 0600 set of six semaphores beside a 0600 segment', () => {
    const { run } = quickRun(['shm-sem', 'sysv-sem', '--patterns', 'pingpong', '--sizes', '64'])
    for (const c of run.cases) {
      expect.soft(c.state, `${c.id}: ${why(c)}`).toBe('completed')
      if (c.mechanism === 'shm-sem') {
        const name = /shm_open \/(ipcbench-\d+-[0-9a-f]+) /.exec(c.describe.memory)?.[1]
        expect.soft(name, c.id).toBeDefined()
        // Each process maps the segment once, shared; a worker peer maps it a second time in the one process.
        if (c.endpoints === 'process') {
          expect.soft(c.describe.mapsA, c.id).toBe(`/dev/shm/${name} mapped 1× (rw-s)`)
          expect.soft(c.describe.mapsB, c.id).toBe(`/dev/shm/${name} mapped 1× (rw-s)`)
        } else expect.soft(c.describe.mapsA, c.id).toBe(`/dev/shm/${name} mapped 2× (rw-s)`)
        expect.soft(c.describe.semaphores, c.id).toMatch(/sem_init pshared=1/)
      } else {
        expect.soft(c.describe.semaphores, c.id).toMatch(/^semget id \d+, 6 semaphores .*; \/proc\/sysvipc\/sem: perms 600, nsems 6$/)
        expect.soft(c.describe.memory, c.id).toMatch(/^shmget id \d+ \+ shmat, \d+ bytes; \/proc\/sysvipc\/shm: perms 600, size \d+$/)
      }
    }
    expect(leftovers(run)).toEqual([])
  })

  it.each(['shm-sem', 'sysv-sem'])('%s: a peer process killed mid-run ends the case as errored naming the signal, with nothing left', (mechanism) =>
    fault(`${mechanism}: peer SIGKILL`, () => {
      const { cli, run } = quickRun([mechanism, '--endpoints', 'process', '--patterns', 'pingpong', '--warmup', '200', '--timeout', '8s'], {
        IPCBENCH_TEST_FAULTS: '1',
        IPCBENCH_TEST_FAULT: 'kill:100',
      })
      expect(run.cases).toHaveLength(1)
      const c = run.cases[0]
      expect(c.state).toBe('errored')
      expect(why(c)).toMatch(/peer \(pid \d+\) ended: killed by SIGKILL$/)
      expect(cli.code).toBe(1)
      expect(leftovers(run)).toEqual([])
    }),
  )

  it("SEM_UNDO: the kernel takes back a killed process's raise of its presence semaphore (what a waiting side reads between slices)", async () => {
    const api = n.ok ? n.api : undefined!
    const id = api.sysvSemGet(1)
    try {
      const addon = join(ROOT, 'native-helpers', 'build', 'Release', 'ipcbench_native.node')
      const script = `const a = require(${JSON.stringify(addon)}); a.sysvSemOp(${id}, 0, 1, true, -1); process.stdout.write('up\\n'); setInterval(() => {}, 1000)`
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
      await new Promise<void>((res) => child.stdout.once('data', () => res()))
      expect(api.sysvSemGetVal(id, 0)).toBe(1)
      child.kill('SIGKILL')
      await new Promise((res) => child.once('exit', res))
      expect(api.sysvSemGetVal(id, 0)).toBe(0)
    } finally {
      api.sysvSemRmid(id)
    }
  })

  it("clean removes a dead run's semaphore set listed in its ledger, and never a live owner's", () => {
    const api = n.ok ? n.api : undefined!
    const deadPid = 9_999_993 // beyond any pid_max: never alive
    const dead = api.sysvSemGet(6)
    const live = api.sysvSemGet(6)
    const deadDir = join(tmpdir(), `ipcbench-${deadPid}-semcase`)
    const liveDir = join(tmpdir(), `ipcbench-${process.pid}-semcase`)
    for (const [dir, id] of [
      [deadDir, dead],
      [liveDir, live],
    ] as const) {
      mkdirSync(dir, { mode: 0o700 })
      writeFileSync(join(dir, LEDGER), `sem ${id}\n`)
    }
    try {
      // Only our two owners are considered, so nothing of another run on this host is touched.
      const report = cleanStale({ isAlive: (pid) => pid !== deadPid })
      expect(report.removed).toEqual(expect.arrayContaining([`sysv sem ${dead}`, deadDir]))
      expect(report.kept).toContain(liveDir)
      expect(sysvObjects().has(`sem ${dead}`)).toBe(false)
      expect(sysvObjects().has(`sem ${live}`)).toBe(true)
      expect(existsSync(deadDir)).toBe(false)
    } finally {
      api.sysvSemRmid(live)
      removeSysvFromLedger(join(liveDir, LEDGER), false)
      spawnSync('rm', ['-rf', liveDir])
    }
  })
})

describe.skipIf(!n.ok || !floor.ok)('semaphore rings in the C floor', () => {
  it('lists shm-sem and sysv-sem, blocking, processes and threads', () => {
    const list = execFileSync(FLOOR_PATH, ['--list'], { encoding: 'utf8' })
    expect(list).toMatch(/^shm-sem blocking process,thread$/m)
    expect(list).toMatch(/^sysv-sem blocking process,thread$/m)
  })

  it('runs beside every Node case of a run, with the ratio, and leaves no set behind', () => {
    const out = tempFile('sem-floor.json')
    const before = sysvObjects()
    const cli = runCli([
      'run',
      'shm-sem',
      'sysv-sem',
      '--endpoints',
      'process,thread',
      '--sizes',
      '64',
      '--repetitions',
      '2',
      '--duration',
      '30ms',
      '--warmup',
      '50',
      '--out',
      out,
    ])
    expect(cli.code, cli.stderr).toBe(0)
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult
    expect(run.cases).toHaveLength(8)
    for (const c of run.cases) {
      if (!isCompleted(c)) throw new Error(`${c.id} did not complete: ${c.state} ${why(c)}`)
      expect.soft(c.floor?.state, `${c.id}: ${c.floor?.reason}`).toBe('completed')
      expect.soft(c.floor?.repetitions, c.id).toHaveLength(2)
      expect.soft(c.floor?.describe?.channel, c.id).toMatch(c.mechanism === 'shm-sem' ? /sem_init pshared=1/ : /System V set of 6 semaphores/)
      if (c.pattern === 'pingpong') expect.soft(c.ratioToFloor?.p50, c.id).toBeGreaterThan(0)
      else expect.soft(c.ratioToFloor?.throughput, c.id).toBeGreaterThan(0)
    }
    const appeared = [...sysvObjects()].filter((o) => !before.has(o))
    expect(appeared).toEqual([])
  }, 180_000)

  it("a floor killed mid-case leaves its set in the ledger, and the ledger's removal takes it", async () => {
    const ledger = tempFile('ledger')
    const samples = tempFile('s.f64')
    const child = spawn(FLOOR_PATH, ['sysv-sem', 'blocking', 'process', 'pingpong', '64', '50', '5000', '100000000', '-1', '-1', samples], {
      stdio: 'ignore',
      detached: true,
      env: { ...process.env, IPCFLOOR_LEDGER: ledger },
    })
    for (let i = 0; i < 100 && !(existsSync(ledger) && readFileSync(ledger, 'utf8').includes('sem')); i++) await new Promise((r) => setTimeout(r, 20))
    const id = /^sem (\d+)$/m.exec(readFileSync(ledger, 'utf8'))?.[1]
    expect(id).toBeDefined()
    process.kill(-child.pid!, 'SIGKILL')
    await new Promise((r) => child.once('exit', r))
    expect(sysvObjects().has(`sem ${id}`)).toBe(true)
    expect(removeSysvFromLedger(ledger, false)).toEqual([`sysv sem ${id}`])
    expect(sysvObjects().has(`sem ${id}`)).toBe(false)
  })
})

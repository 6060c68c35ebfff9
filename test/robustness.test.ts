import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Ring } from '../src/mechanisms/common/ring.js'
import { ringGeometry, Header } from '../src/mechanisms/common/ring-layout.js'
import { syncRingEndpoint } from '../src/mechanisms/common/ring.js'
import { loadNative } from '../src/native/index.js'
import type { RunResult } from '../src/core/result.js'
import { fault } from './fault-suite.js'
import { BIN, ROOT, tempFile, waitFor } from './helpers.js'

/**
 * Faults of the host, counted in the fault suite (fault-suite.ts): interrupts, low
 * limits, results places that cannot take the file, a disk that fills, two runs at
 * once, a seccomp filter; and, beyond it, a hostile peer's ring indices.
 */
const n = loadNative()

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** ipcbench objects whose owner (the pid in the name) is dead: what a leak looks like. */
function orphans(): string[] {
  const found: string[] = []
  for (const dir of ['/dev/shm', '/dev/mqueue', tmpdir()]) {
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir)) {
      const m = /^ipcbench-(\d+)-/.exec(name)
      if (m && !name.includes('-test-') && !alive(Number(m[1]))) found.push(join(dir, name))
    }
  }
  return found
}

describe('interrupted by the user', () => {
  it.each([
    ['SIGINT', 130, 'shm-ring'],
    ['SIGTERM', 143, 'fifo'],
  ] as const)(
    '%s mid-case: finished cases kept, the running one aborted, exit %i, nothing left',
    (sig, code, hung) =>
      fault(`${sig} mid-case (${hung})`, async () => {
        const out = tempFile('run.json')
        // The first case finishes; the second (hung in its peer by a test-only fault) is interrupted.
        const child = spawn(
          process.execPath,
          [
            BIN,
            'run',
            'pipe',
            hung,
            '--quick',
            '--no-floor',
            '--modes',
            'blocking',
            '--patterns',
            'pingpong',
            '--endpoints',
            'process',
            '--repetitions',
            '1',
            '--duration',
            '30ms',
            '--out',
            out,
          ],
          {
            cwd: ROOT,
            env: { ...process.env, NO_COLOR: '1', IPCBENCH_TEST_FAULTS: '1', IPCBENCH_TEST_FAULT: `hang:150@${hung}/*` },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        )
        let stderr = ''
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
        const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)))
        // Wait until the hung case is running: the result file has the first case.
        await waitFor('the first case', () => {
          try {
            const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult
            return run.cases.length === 1 ? true : undefined
          } catch {
            return undefined
          }
        })
        // The hung case's objects exist now; the shared memory is private (0600).
        if (hung === 'shm-ring' && n.ok) {
          const shm = await waitFor('the ring in /dev/shm', () =>
            readdirSync('/dev/shm').find((f) => f.startsWith('ipcbench-') && alive(Number(f.split('-')[1]))),
          )
          expect(statSync(join('/dev/shm', shm)).mode & 0o777).toBe(0o600)
          expect(shm).toMatch(/^ipcbench-\d+-[0-9a-f]{8,}/)
        }
        // The running case's private directories: mkdtemp names, 0700.
        const dirs = await waitFor('the private directories', () => {
          const d = readdirSync(tmpdir()).filter((f) => /^ipcbench-\d+-/.test(f) && !f.includes('-test-') && alive(Number(f.split('-')[1])))
          return d.length > 0 ? d : undefined
        })
        for (const d of dirs) {
          expect(statSync(join(tmpdir(), d)).mode & 0o777, d).toBe(0o700)
          expect(d).toMatch(/^ipcbench-\d+-([a-z]+-)?[A-Za-z0-9]{6}$/)
        }
        await new Promise((r) => setTimeout(r, 200))
        child.kill(sig)
        expect(await exited).toBe(code)
        const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult
        expect(run.context.status).toBe('interrupted')
        expect(run.cases.map((c) => c.state)).toEqual(['completed', 'aborted'])
        expect(run.cases[1]).toMatchObject({ state: 'aborted', reason: 'interrupted (SIGINT/SIGTERM) while this case was running' })
        expect(stderr).toMatch(new RegExp(`Interrupted by ${sig}; the result file keeps 1 finished case`))
        expect(orphans()).toEqual([])
        const peers = execFileSync('ps', ['-eo', 'ppid,args'], { encoding: 'utf8' })
          .split('\n')
          .filter((l) => l.includes('dist/harness/case/main.js') && l.trim().startsWith(String(child.pid)))
        expect(peers).toEqual([])
      }),
    60_000,
  )
})

describe('low limits', () => {
  it(
    'ulimit -n 64: cases run or fail with EMFILE named, and nothing is left',
    () =>
      fault('ulimit -n 64', () => {
        const out = tempFile('run.json')
        const r = spawnSync(
          'bash',
          [
            '-c',
            `ulimit -n 64 && exec "${process.execPath}" "${BIN}" run pipe fifo unix-stream shm-ring posix-mq sab-ring --quick --no-floor --patterns pingpong --endpoints process,thread --repetitions 1 --duration 30ms --out "${out}"`,
          ],
          {
            cwd: ROOT,
            encoding: 'utf8',
            env: { ...process.env, NO_COLOR: '1' },
            timeout: 120_000,
          },
        )
        expect(r.stderr).not.toMatch(/\n\s+at /)
        expect([0, 1]).toContain(r.status)
        const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult
        expect(run.context.status).toBe('finished')
        for (const c of run.cases) if (c.state === 'errored') expect(c.reason).toMatch(/EMFILE|too many open files/i)
        expect(run.cases.filter((c) => c.state === 'completed').length).toBeGreaterThan(0)
        expect(orphans()).toEqual([])
      }),
    120_000,
  )
})

describe('a results place that cannot take the file fails before the run', () => {
  it('a read-only directory', (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'ipcbench-test-ro-'))
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir], { stdio: 'pipe' })
    } catch (err) {
      const why = `read-only results directory not tested: cannot mount a read-only tmpfs here (${(err as Error).message.split('\n')[0]})`
      console.log(why)
      rmSync(dir, { recursive: true, force: true })
      return ctx.skip(why)
    }
    return fault('a read-only results directory', () => {
      const started = Date.now()
      const r = spawnSync(process.execPath, [BIN, 'run', 'pipe', '--quick', '--out', join(dir, 'run.json')], { cwd: ROOT, encoding: 'utf8' })
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(new RegExp(`--out: cannot write results to ${dir}.*(EROFS|read-only)`, 'i'))
      expect(Date.now() - started).toBeLessThan(5000)
    }).finally(() => {
      execFileSync('umount', [dir])
      rmSync(dir, { recursive: true, force: true })
    })
  })

  it('a full directory', (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'ipcbench-test-full-'))
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir], { stdio: 'pipe' })
    } catch (err) {
      const why = `full results directory not tested: cannot mount a small tmpfs here (${(err as Error).message.split('\n')[0]})`
      console.log(why)
      rmSync(dir, { recursive: true, force: true })
      return ctx.skip(why)
    }
    return fault('a full results directory', () => {
      writeFileSync(join(dir, 'filler'), Buffer.alloc(12 * 1024))
      try {
        writeFileSync(join(dir, 'filler2'), Buffer.alloc(64 * 1024))
      } catch {
        // now full
      }
      const r = spawnSync(process.execPath, [BIN, 'run', 'pipe', '--quick', '--out', join(dir, 'run.json')], { cwd: ROOT, encoding: 'utf8' })
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(/--out: cannot write results to .*ENOSPC/)
    }).finally(() => {
      execFileSync('umount', [dir])
      rmSync(dir, { recursive: true, force: true })
    })
  })
})

describe('a disk that fills during the run', () => {
  it('ENOSPC mid-run: exit 1 naming the file, the last complete copy kept, no temporary file left', (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'ipcbench-test-fills-'))
    try {
      // Room for a few cases' copies (the file and its replacement side by side), not for all 16.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' })
    } catch (err) {
      const why = `a disk filling mid-run not tested: cannot mount a small tmpfs here (${(err as Error).message.split('\n')[0]})`
      console.log(why)
      rmSync(dir, { recursive: true, force: true })
      return ctx.skip(why)
    }
    return fault('ENOSPC mid-run', () => {
      const out = join(dir, 'run.json')
      const args = ['run', 'pipe', 'fifo', 'unix-stream', 'unix-dgram', '--modes', 'blocking', '--sizes', '64', '--repetitions', '1']
      const r = spawnSync(process.execPath, [BIN, ...args, '--duration', '30ms', '--no-floor', '--out', out], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      })
      expect(r.status, r.stderr).toBe(1)
      expect(r.stderr).toMatch(new RegExp(`cannot write the result file ${out.replace(/[.]/g, '\\.')} \\(ENOSPC`))
      expect(r.stderr).toMatch(/it keeps the last complete copy: \d+ finished case\(s\).*pass --out with a place that has room/s)
      expect(readdirSync(dir)).toEqual(['run.json'])
      const kept = JSON.parse(readFileSync(out, 'utf8')) as RunResult
      const n = Number(/copy: (\d+) finished/.exec(r.stderr)![1])
      expect(kept.cases).toHaveLength(n)
      expect(n).toBeGreaterThan(0)
      expect(n).toBeLessThan(16)
    }).finally(() => {
      execFileSync('umount', [dir])
      rmSync(dir, { recursive: true, force: true })
    })
  }, 60_000)
})

describe('two runs at once on one host', () => {
  const pipeArgs = ['run', 'pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '64', '--no-floor']
  const start = (args: string[], env: Record<string, string>) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<number | null>((res) => child.once('exit', res))
    return { child, exited, stderr: () => stderr }
  }
  const until = async (what: string, ok: () => boolean): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      if (ok()) return
      await new Promise((res) => setTimeout(res, 50))
    }
    throw new Error(`gave up waiting for ${what}`)
  }

  it(
    'the second warns and records the first; compare refuses the pair unless --force; --wait runs after it',
    () =>
      fault('two runs at once', async () => {
        const lock = tempFile('run.lock')
        const env = { IPCBENCH_RUN_LOCK: lock }
        const [outA, outB, outC] = [tempFile('a.json'), tempFile('b.json'), tempFile('c.json')]
        const a = start([...pipeArgs, '--repetitions', '2', '--duration', '1500ms', '--out', outA], env)
        await until('the first run to take the lock', () => existsSync(lock))
        const b = start([...pipeArgs, '--repetitions', '1', '--duration', '50ms', '--out', outB], env)
        expect(await b.exited, b.stderr()).toBe(0)
        expect(b.stderr()).toMatch(new RegExp(`another ipcbench run \\(\\S+, pid ${a.child.pid}, since .*\\) is measuring on this host`))
        const runB = JSON.parse(readFileSync(outB, 'utf8')) as RunResult
        expect(runB.context.env.concurrentRun).toMatchObject({ pid: a.child.pid })
        expect(runB.context.warnings.map((w) => w.code)).toContain('concurrent-run')
        // --wait: starts measuring only once the first has ended (and so is alone).
        const c = start([...pipeArgs, '--repetitions', '1', '--duration', '50ms', '--wait', '--out', outC], env)
        await until('the waiting run to say so', () => c.stderr().includes('(--wait)'))
        expect(await a.exited).toBe(0)
        expect(await c.exited, c.stderr()).toBe(0)
        const runA = JSON.parse(readFileSync(outA, 'utf8')) as RunResult
        const runC = JSON.parse(readFileSync(outC, 'utf8')) as RunResult
        expect(runA.context.env.concurrentRun).toBeUndefined()
        expect(runC.context.env.concurrentRun).toBeUndefined()
        expect(Date.parse(runC.context.startedAt)).toBeGreaterThanOrEqual(Date.parse(runA.context.finishedAt!))
        expect(existsSync(lock), 'the lock outlived its runs').toBe(false)
        // compare: the disturbed run is refused, naming why; --force compares it anyway.
        const refused = spawnSync(process.execPath, [BIN, 'compare', outA, outB], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1' },
        })
        expect(refused.status).toBe(2)
        expect(refused.stderr).toMatch(/runs at the same time: "alone" vs "another ipcbench run \(\S+, pid \d+\) was measuring"/)
        expect(refused.stderr).toContain(`cannot be compared: another ipcbench run was measuring beside ${outB} (`)
        const forced = spawnSync(process.execPath, [BIN, 'compare', '--force', outA, outB], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1' },
        })
        expect(forced.status, forced.stderr).toBe(0)
        expect(forced.stdout).toMatch(/environment differs \(--force\): runs at the same time/)
      }),
    120_000,
  )

  it(
    'a lock left by a killed run (its pid gone) is taken over without a warning',
    () =>
      fault('a run lock left by a killed run', () => {
        const lock = tempFile('stale.lock')
        writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 12345, runId: 'dead-run', since: new Date(0).toISOString() }) + '\n')
        const out = tempFile('after-stale.json')
        const r = spawnSync(process.execPath, [BIN, ...pipeArgs, '--repetitions', '1', '--duration', '50ms', '--out', out], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1', IPCBENCH_RUN_LOCK: lock },
        })
        expect(r.status, r.stderr).toBe(0)
        expect(r.stderr).not.toMatch(/another ipcbench run/)
        expect((JSON.parse(readFileSync(out, 'utf8')) as RunResult).context.env.concurrentRun).toBeUndefined()
        expect(existsSync(lock)).toBe(false)
      }),
    60_000,
  )
})

describe('a container that refuses calls', () => {
  it.skipIf(!n.ok)(
    'a call a seccomp filter refuses (mq_open, ENOSYS) skips the case naming the call; the rest run',
    (ctx) => {
      const deny = tempFile('deny')
      const built = spawnSync('gcc', ['-O2', '-o', deny, join(ROOT, 'test', 'c', 'deny.c')], { encoding: 'utf8' })
      if (built.status !== 0) {
        const why = `seccomp-refused calls not tested: test/c/deny.c does not build here (${(built.stderr || built.error?.message || '').trim().split('\n')[0]})`
        console.log(why)
        return ctx.skip(why)
      }
      return fault('mq_open refused by a seccomp filter', () => {
        const out = tempFile('denied.json')
        const args = ['run', 'posix-mq', 'pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '64']
        const r = spawnSync(deny, ['mq_open', process.execPath, BIN, ...args, '--repetitions', '1', '--duration', '50ms', '--out', out], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1' },
        })
        expect(r.status, r.stderr).toBe(0)
        const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult
        const mq = run.cases.find((c) => c.mechanism === 'posix-mq')!
        expect(mq).toMatchObject({
          state: 'skipped',
          reason: expect.stringMatching(/^mq_open refused \(ENOSYS\): this host does not allow it \(a seccomp profile/),
        })
        expect(run.cases.find((c) => c.mechanism === 'pipe')?.state).toBe('completed')
      })
    },
    60_000,
  )
})

describe('security: a hostile peer', () => {
  it("the ring treats the peer's counters as untrusted: a bad TAIL or HEAD is corruption, never an index", () => {
    const g = ringGeometry(64)
    const sab = new SharedArrayBuffer(2 * g.ringBytes)
    const tx = new Ring(sab, 0, g)
    const rx = new Ring(sab, g.ringBytes, g)
    const noWait = { wait() {}, wake() {} }
    const ep = syncRingEndpoint(tx, rx, 64, 'spin', noWait)
    // The peer claims 1000 messages in a ring of 64 slots.
    Atomics.store(rx.i32, Header.TAIL, 1000)
    expect(() => ep.recv(new Uint8Array(64))).toThrow(expect.objectContaining({ code: 'ERINGCORRUPT' }))
    // And claims to have consumed messages we never produced.
    Atomics.store(tx.i32, Header.HEAD, 5)
    expect(() => ep.send(new Uint8Array(64))).toThrow(expect.objectContaining({ code: 'ERINGCORRUPT' }))
  })

  it.skipIf(!n.ok)('System V objects are private and 0600', () => {
    const api = n.ok ? n.api : undefined!
    const id = api.msgGet()
    try {
      const line = execFileSync('ipcs', ['-q', '-i', String(id)], { encoding: 'utf8' })
      expect(line).toMatch(/mode=0600/)
    } finally {
      api.msgRmid(id)
    }
  })
})

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { FLOOR_PATH, floorStatus } from '../src/harness/host/floor-binary.js'
import { fault } from './fault-suite.js'
import { BIN, ROOT, runCli, tempFile, why } from './helpers.js'
import { hasLatency, isCompleted, type RunResult } from '../src/core/result.js'

const status = floorStatus()
if (!status.ok) console.warn(`C floor tests skipped: ${status.reason}`)

interface FloorReply {
  type: string
  messages?: number
  sampleCount?: number
  batch?: number
  elapsedNs?: number
  costA?: { scope: string; userUs: number; sysUs: number }
  cpusA?: number[]
  cpusB?: number[]
  describe?: Record<string, string>
  message?: string
  reason?: string
}

/** ipcfloor ARGS… SAMPLES_FILE [AFTER…] (AFTER: the sample target and the minimum window). */
function floor(args: (string | number)[], after: (string | number)[] = []): { reply: FloorReply; code: number | null; samples: Float64Array } {
  const samplesPath = tempFile('s.f64')
  const r = spawnSync(FLOOR_PATH, [...args.map(String), samplesPath, ...after.map(String)], { encoding: 'utf8', timeout: 20_000 })
  const line = r.stdout.trim().split('\n').pop() ?? ''
  const bytes = existsSync(samplesPath) ? readFileSync(samplesPath) : Buffer.alloc(0)
  rmSync(samplesPath, { force: true })
  return {
    reply: line ? (JSON.parse(line) as FloorReply) : { type: 'none', message: r.stderr },
    code: r.status,
    samples: new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
  }
}

const ipcbenchSysv = (): string => execFileSync('ipcs', ['-q', '-m'], { encoding: 'utf8' })
const shmNames = (): string[] => readdirSync('/dev/shm').filter((n) => n.startsWith('ipcbench-'))

describe.skipIf(!status.ok)('the C floor (native-helpers/floor/ipcfloor)', () => {
  const list = status.ok
    ? execFileSync(FLOOR_PATH, ['--list'], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
    : []

  it('the sample target ends a ping-pong and a stream after the minimum window, long before the duration', () => {
    // A 60 s duration: only the target (300 samples, 20 ms) can end these in time.
    const p = floor(['pipe', 'blocking', 'thread', 'pingpong', 64, 50, 60_000, 1_000_000, 0, 0], [300, 20])
    expect(p.reply.type, p.reply.message).toBe('result')
    expect(p.reply.messages).toBeGreaterThanOrEqual(300)
    expect(p.reply.elapsedNs).toBeGreaterThanOrEqual(20e6)
    expect(p.reply.elapsedNs).toBeLessThan(10_000e6)
    const s = floor(['pipe', 'blocking', 'thread', 'stream', 64, 50, 60_000, 100_000_000, 0, 0], [640, 20])
    expect(s.reply.type, s.reply.message).toBe('result')
    expect(s.reply.messages).toBeGreaterThanOrEqual(640)
    expect(s.reply.elapsedNs).toBeLessThan(10_000e6)
    // Without a target, the message bound is what ends it.
    const whole = floor(['pipe', 'blocking', 'thread', 'pingpong', 64, 50, 60_000, 2000, 0, 0], [0, 20])
    expect(whole.reply.messages).toBe(2000)
  })

  it('lists the mechanisms it has a counterpart for', () => {
    expect(list.map((l) => l[0])).toEqual(expect.arrayContaining(['pipe', 'fifo', 'posix-mq', 'shm-ring', 'sysv-msg', 'eventfd', 'unix-dgram']))
  })

  it('every listed mechanism × mode × endpoints completes a checked ping-pong and a stream, pinned as asked', () => {
    const sysvBefore = ipcbenchSysv()
    const shmBefore = shmNames()
    for (const [mech, modes, endpoints] of list) {
      for (const mode of modes.split(',')) {
        for (const ep of endpoints.split(',')) {
          const size = mech === 'eventfd' ? 8 : 64
          const id = `${mech}/${mode}/${ep}`
          const p = floor([mech, mode, ep, 'pingpong', size, 50, 15, 5000, 0, 1])
          expect(p.reply.type, `${id}: ${p.reply.message}`).toBe('result')
          expect(p.reply.messages, id).toBeGreaterThan(0)
          expect(p.samples.length, id).toBe(p.reply.sampleCount)
          // One sample per round trip, however fast (no batches): messages = samples.
          expect(p.reply.batch, id).toBe(1)
          expect(p.reply.sampleCount, id).toBe(p.reply.messages)
          expect(p.reply.cpusA, id).toEqual([0])
          expect(p.reply.cpusB, id).toEqual([1])
          expect(p.reply.costA?.scope, id).toBe('thread')
          if (mech === 'eventfd') continue
          const s = floor([mech, mode, ep, 'stream', 4096, 50, 15, 100_000, 0, 1])
          expect(s.reply.type, `${id} stream: ${s.reply.message}`).toBe('result')
          expect(s.reply.messages! * 4096, id).toBeGreaterThan(0)
          expect(s.reply.elapsedNs, id).toBeGreaterThan(0)
        }
      }
    }
    // Queues, segments and shared-memory names are gone (IPC_RMID, unlink right after opening).
    expect(ipcbenchSysv()).toBe(sysvBefore)
    expect(shmNames()).toEqual(shmBefore)
  }, 120_000)

  it('carries 1 MiB round trips through a pipe whole (the partial reads and writes of a byte stream)', () => {
    const p = floor(['pipe', 'blocking', 'process', 'pingpong', 1 << 20, 4, 30, 20, -1, -1])
    expect(p.reply.type, p.reply.message).toBe('result')
    expect(p.reply.messages).toBeGreaterThan(0)
  })

  it('a case without a C counterpart is skipped with the reason (exit 3), a bad size is a usage error (exit 2)', () => {
    const s = floor(['shm-ring', 'nonblocking', 'process', 'pingpong', 64, 10, 10, 100, -1, -1])
    expect(s.code).toBe(3)
    expect(s.reply).toMatchObject({ type: 'skipped', reason: expect.stringMatching(/no C counterpart/) })
    expect(floor(['pipe', 'blocking', 'process', 'pingpong', 2, 10, 10, 100, -1, -1]).code).toBe(2)
  })

  it('an impossible size errors with the system call named (POSIX queue beyond msgsize_max)', () => {
    const e = floor(['posix-mq', 'blocking', 'process', 'pingpong', 1 << 20, 10, 10, 100, -1, -1])
    expect(e.code).toBe(1)
    expect(e.reply).toMatchObject({ type: 'error', message: expect.stringMatching(/mq_open/) })
  })
})

describe.skipIf(!status.ok)('the C floor in a run', () => {
  it('interleaves the C floor with every case that has one, gives the ratio, and says why the others have none', () => {
    const out = tempFile('run.json')
    const cli = runCli([
      'run',
      'pipe',
      'worker-message',
      '--quick',
      '--modes',
      'blocking,nonblocking',
      '--patterns',
      'pingpong',
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
    const pipe = run.cases.find((c) => c.id === 'pipe/blocking/process/pingpong/64B')!
    if (!hasLatency(pipe)) throw new Error(`pipe/blocking/process/pingpong/64B did not complete: ${pipe.state} ${why(pipe)}`)
    expect(pipe.floor?.state).toBe('completed')
    expect(pipe.floor?.repetitions).toHaveLength(2)
    expect(pipe.floor?.latencyNs?.p50).toBeGreaterThan(0)
    expect(pipe.ratioToFloor?.p50).toBeCloseTo(pipe.latencyNs.p50 / pipe.floor!.latencyNs!.p50, 6)
    expect(pipe.floor?.repetitions[0].placement.applied).toBe(pipe.repetitions[0].placement.applied)
    // Every repetition's total CPU: two processes on both sides of the comparison.
    expect(pipe.floor?.repetitions.map((r) => r.cpu.total?.scope)).toEqual(['both processes', 'both processes'])
    expect(pipe.repetitions.map((r) => r.cpu.total?.scope)).toEqual(['both processes', 'both processes'])
    const worker = run.cases.find((c) => c.mechanism === 'worker-message')!
    if (!isCompleted(worker)) throw new Error(`${worker.id} did not complete: ${worker.state} ${why(worker)}`)
    expect(worker.floor).toMatchObject({ state: 'skipped', reason: expect.stringMatching(/no C floor/) })
    expect(worker.ratioToFloor).toBeUndefined()
    expect(cli.stdout).toMatch(/×C/)
    expect(run.context.calibration?.sameThreadEchoNs).toBeGreaterThan(0)
    expect(run.context.calibration?.emptySampleNs).toBeGreaterThan(0)
    expect(run.context.calibration?.clockReadNs).toBeGreaterThan(0)
    expect(cli.stdout).toMatch(/harness: \d+ ns per clock read \(one in every ping-pong sample\)/)
  }, 120_000)

  it('--no-floor runs no floor; --subtract-overhead takes the calibrated echo off and says how much', () => {
    const out = tempFile('run.json')
    const cli = runCli([
      'run',
      'pipe',
      '--no-floor',
      '--subtract-overhead',
      '--quick',
      '--modes',
      'blocking',
      '--patterns',
      'pingpong',
      '--sizes',
      '64',
      '--repetitions',
      '1',
      '--duration',
      '30ms',
      '--out',
      out,
    ])
    expect(cli.code, cli.stderr).toBe(0)
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult
    const c = run.cases[0]
    if (!isCompleted(c)) throw new Error(`${c.id} did not complete: ${c.state} ${why(c)}`)
    expect(c.floor).toBeUndefined()
    expect(run.context.options.subtractOverhead).toBe(true)
    expect(c.overheadSubtractedNs).toBe(run.context.calibration!.sameThreadEchoNs)
  }, 60_000)
})

describe.skipIf(!status.ok)('a C floor killed mid-case', () => {
  it(
    'is seen at once: its repetition errored naming the signal, its forked side b gone, the Node case going on',
    () =>
      fault('a C floor killed with SIGKILL mid-case', async () => {
        const out = tempFile('killed-floor.json')
        const args = ['run', 'pipe', '--modes', 'blocking', '--endpoints', 'process', '--patterns', 'pingpong', '--sizes', '64']
        const cli = spawn(process.execPath, [BIN, ...args, '--repetitions', '2', '--duration', '2s', '--out', out], {
          cwd: ROOT,
          stdio: 'ignore',
          env: { ...process.env, NO_COLOR: '1' },
        })
        const exited = new Promise<number | null>((res) => cli.once('exit', res))
        // The floor's main process (the oldest ipcfloor of this run), 1 s into its 2 s repetition.
        const floorPids = (): number[] =>
          spawnSync('pgrep', ['-f', '-P', String(cli.pid), 'ipcfloor'], { encoding: 'utf8' })
            .stdout.split('\n')
            .filter(Boolean)
            .map(Number)
        let main: number | undefined
        for (let i = 0; i < 100 && main === undefined; i++) {
          await new Promise((res) => setTimeout(res, 50))
          main = floorPids()[0]
        }
        expect(main, 'the floor never started').toBeDefined()
        await new Promise((res) => setTimeout(res, 1000))
        // Its forked side b, which must not outlive it.
        const sideB = spawnSync('pgrep', ['-P', String(main)], { encoding: 'utf8' })
          .stdout.split('\n')
          .filter(Boolean)
          .map(Number)
        expect(sideB).toHaveLength(1)
        const started = Date.now()
        process.kill(main!, 'SIGKILL')
        expect(await exited).toBe(0)
        const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult
        const c = run.cases[0]
        if (!isCompleted(c)) throw new Error(`${c.id} did not complete: ${c.state} ${why(c)}`)
        expect(c.floor).toMatchObject({ state: 'errored', reason: `C floor: ipcfloor (pid ${main}) was killed by SIGKILL without a result` })
        expect(c.repetitions).toHaveLength(2)
        // Not the time-out (30 s): the floor's end was seen when it died, and the Node repetitions followed.
        expect(Date.now() - started).toBeLessThan(15_000)
        expect(existsSync(`/proc/${sideB[0]}`), `side b (pid ${sideB[0]}) outlived the floor`).toBe(false)
      }),
    60_000,
  )
})

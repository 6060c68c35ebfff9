import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FanInMessage, faninWord, SEQ_STOP } from '../src/core/fanin-wire.js'
import type { CaseResult, CompletedCase, RunResult } from '../src/core/result.js'
import { Tally } from '../src/harness/case/fanin.js'
import { floorStatus } from '../src/harness/host/floor-binary.js'
import { loadNative } from '../src/native/index.js'
import { buildCharts } from '../src/report/charts.js'
import { renderGlance } from '../src/report/glance.js'
import { summaryTables } from '../src/report/summary.js'
import { fault } from './fault-suite.js'
import { runCli, tempFile, why } from './helpers.js'

/**
 * Fan-in in `ipcbench run` (the `fanin` pattern): 1, 2 and 4 senders into one channel
 * of each mechanism that offers it, Node and the C floor, every message checked and
 * each sender's messages in order; a FIFO refuses messages beyond PIPE_BUF; a sender
 * killed mid-run ends its case as errored, naming the sender and how it ended, with
 * nothing left behind.
 */
const addon = loadNative()
const floor = floorStatus()
if (!addon.ok) console.warn(`fan-in run tests of the native mechanisms skipped: ${addon.reason}`)
if (!floor.ok) console.warn(`fan-in C floor checks skipped: ${floor.reason}`)

const NATIVE = ['posix-mq', 'sysv-msg', 'unix-dgram', 'fifo']
const MECHANISMS = addon.ok ? [...NATIVE, 'worker-message'] : ['worker-message']

/** A run of fan-in cases in a private TMPDIR, so whatever it left there can be seen. */
function fanInRun(args: string[], env: Record<string, string> = {}): { run: RunResult; tmp: string; stderr: string } {
  const out = tempFile('run.json')
  const tmp = join(out, '..', 'tmp')
  mkdirSync(tmp)
  const cli = runCli(['run', '--patterns', 'fanin', '--repetitions', '1', '--out', out, ...args], { TMPDIR: tmp, ...env })
  expect(cli.code, cli.stderr).not.toBeNull()
  return { run: JSON.parse(readFileSync(out, 'utf8')) as RunResult, tmp, stderr: cli.stderr }
}

const byId = (run: RunResult, id: string): CaseResult => {
  const c = run.cases.find((x) => x.id === id)
  if (!c) throw new Error(`no case ${id} in ${run.cases.map((x) => x.id).join(', ')}`)
  return c
}

/** System V queues, with the last sender's and receiver's pids (/proc/sysvipc/msg). */
function sysvQueues(): Map<string, { lspid: number; lrpid: number }> {
  const rows = readFileSync('/proc/sysvipc/msg', 'utf8').trim().split('\n').slice(1)
  return new Map(rows.map((r) => r.trim().split(/\s+/)).map((f) => [f[1], { lspid: Number(f[5]), lrpid: Number(f[6]) }]))
}

/** What a run could leave: its FIFO and case directories, new queues whose users are all gone, sender processes. */
function leftovers(tmp: string, queuesBefore: Map<string, unknown>): string[] {
  const gone = (pid: number): boolean => pid === 0 || !existsSync(`/proc/${pid}`)
  const queues = [...sysvQueues()]
    .filter(([id, q]) => !queuesBefore.has(id) && q.lspid !== 0 && gone(q.lspid) && gone(q.lrpid))
    .map(([id]) => `sysv msg ${id}`)
  const mq = existsSync('/dev/mqueue') ? readdirSync('/dev/mqueue').filter((f) => /^ipcbench-\d+-/.test(f) && gone(Number(f.split('-')[1]))) : []
  const files = readdirSync(tmp).map((f) => `${tmp}/${f}`)
  const procs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('fanin-sender.js') || l.includes('ipcfloor --fanin'))
  return [...queues, ...mq, ...files, ...procs]
}

describe('the receiver checks each sender in order', () => {
  const size = 64
  const msg = (sender: number, seq: number): Uint8Array => new FanInMessage(size, sender).next(seq).slice()

  it('counts messages reordered between senders, and every message of each', () => {
    const t = new Tally(2, size, 16)
    // Sender 1's message is sent first, sender 0's after it, and they arrive the other way round.
    const early = msg(1, 0)
    const late = msg(0, 0)
    t.take(late, 1e12)
    t.take(early, 1e12)
    t.take(new FanInMessage(size, 0).stop(), 1e12)
    t.take(new FanInMessage(size, 1).stop(), 1e12)
    expect(t.done).toBe(true)
    expect(t.reordered).toBe(1)
    expect(t.received).toEqual([1, 1])
  })

  it('fails a message out of order within one sender, naming it', () => {
    const t = new Tally(4, size, 16)
    t.take(msg(3, 0), 1e12)
    expect(() => t.take(msg(3, 2), 1e12)).toThrow('sender 3: message 2 arrived where 1 was due (lost or reordered within one sender)')
    const u = new Tally(1, size, 16)
    u.take(msg(0, 0), 1e12)
    expect(() => u.take(msg(0, 0), 1e12)).toThrow('sender 0: message 0 arrived where 1 was due (duplicated or reordered within one sender)')
  })

  it("fails a corrupted byte, a sender it does not know, and a message after its sender's STOP", () => {
    const bad = msg(0, 0)
    bad[40] ^= 1
    expect(() => new Tally(1, size, 16).take(bad, 1e12)).toThrow(/^sender 0: message 0: byte 40 is/)
    expect(() => new Tally(2, size, 16).take(msg(2, 0), 1e12)).toThrow('a message from sender 2 of 2 (corrupted)')
    const t = new Tally(2, size, 16)
    t.take(new FanInMessage(size, 1).stop(), 1e12)
    expect(() => t.take(msg(1, 0), 1e12)).toThrow('sender 1: message 0 arrived after its STOP')
    expect(faninWord(1, SEQ_STOP) >>> 24).toBe(1)
  })
})

describe('fan-in in ipcbench run', () => {
  it('1, 2 and 4 senders into one channel of each mechanism complete, every message checked, Node and the C floor', () => {
    const before = sysvQueues()
    const { run, tmp } = fanInRun([...MECHANISMS, '--senders', '1,2,4', '--sizes', '64', '--duration', '40ms'])
    for (const mech of MECHANISMS) {
      const endpoints = mech === 'worker-message' ? 'nonblocking/thread' : 'blocking/process'
      for (const senders of [1, 2, 4]) {
        const id = `${mech}/${endpoints}/fanin-${senders}/64B`
        const c = byId(run, id)
        expect(c.state, `${id}: ${why(c)}`).toBe('completed')
        const done = c as CompletedCase
        expect(done.senders, id).toBe(senders)
        const fan = done.fanIn!
        expect(fan.perSender, id).toHaveLength(senders)
        for (const s of fan.perSender) {
          expect.soft(s.received, `${id} sender ${s.sender}`).toBe(s.sent)
          expect.soft(s.sent, `${id} sender ${s.sender}`).toBeGreaterThan(0)
          expect.soft(s.latencyNs.p99, `${id} sender ${s.sender}`).toBeGreaterThanOrEqual(s.latencyNs.p50)
        }
        expect(done.repetitions[0].messages, id).toBe(done.repetitions[0].fanIn!.perSender.reduce((n, s) => n + s.received, 0))
        expect(done.throughput!.msgsPerSec, id).toBeGreaterThan(0)
        if (senders === 1) expect(fan.reorderedBetweenSenders, id).toBe(0)
        expect(fan.receiverCpuUsPerMsg, id).toBeGreaterThan(0)
        if (floor.ok && NATIVE.includes(mech)) {
          expect(done.floor?.state, `${id} floor: ${done.floor?.reason}`).toBe('completed')
          const cf = done.floor!.fanIn!
          expect(cf.perSender, id).toHaveLength(senders)
          for (const s of cf.perSender) expect.soft(s.received, `${id} C sender ${s.sender}`).toBe(s.sent)
          expect(done.ratioToFloor?.throughput, id).toBeGreaterThan(0)
        }
        if (floor.ok && mech === 'worker-message') expect(done.floor?.reason ?? '', id).toMatch(/no C floor/)
      }
    }
    expect(leftovers(tmp, before)).toEqual([])

    // The reports: a line per mechanism in the summary, a row per case in the table, a point per case (and its C floor) in the chart.
    const glance = renderGlance(run, { color: false, width: 120 })
    expect(glance).toContain('fan-in at 64B')
    for (const mech of MECHANISMS) expect(glance).toMatch(new RegExp(`^  ${mech}/(process|thread) `, 'm'))
    const table = summaryTables(run).find((t) => t.pattern === 'fanin')
    expect(table?.rows.map((r) => r[0]).sort()).toEqual(run.cases.map((c) => c.id).sort())
    const chart = buildCharts([run]).find((c) => c.id === 'fanin-throughput')
    const points = (chart?.spec as unknown as { data: { values: Array<{ side: string }> } }).data.values
    const withC = floor.ok ? MECHANISMS.filter((m) => NATIVE.includes(m)).length : 0
    expect(points.filter((p) => p.side === 'Node')).toHaveLength(3 * MECHANISMS.length)
    expect(points.filter((p) => p.side === 'C floor')).toHaveLength(3 * withC)
  }, 120_000)

  it.skipIf(!addon.ok)(
    'FIFO: up to PIPE_BUF from several senders completes; larger messages are skipped with that reason',
    () => {
      const { run } = fanInRun(['fifo', '--senders', '2', '--sizes', '4k,8k', '--duration', '40ms'])
      const ok = byId(run, 'fifo/blocking/process/fanin-2/4KiB')
      expect(ok.state, why(ok)).toBe('completed')
      if (floor.ok) expect((ok as CompletedCase).floor?.state).toBe('completed')
      const big = byId(run, 'fifo/blocking/process/fanin-2/8KiB')
      expect(big.state).toBe('skipped')
      expect(why(big)).toBe(
        'message size 8192 exceeds PIPE_BUF (4096 bytes): a FIFO write is atomic only up to it, so larger messages from several senders could interleave; use --sizes 4k or less for a FIFO',
      )
    },
    60_000,
  )

  it(
    'a sender killed mid-run ends its case as errored, naming the sender and how it ended, with nothing left',
    () =>
      fault('a fan-in sender killed mid-run', () => {
        const before = sysvQueues()
        const { run, tmp } = fanInRun([...MECHANISMS, '--senders', '4', '--sizes', '64', '--duration', '400ms', '--no-floor'], {
          IPCBENCH_TEST_FAULTS: '1',
          IPCBENCH_TEST_FAULT: 'kill-sender:2:500',
        })
        for (const mech of MECHANISMS) {
          const c = run.cases.find((x) => x.mechanism === mech)!
          expect(c.state, `${c.id}: ${why(c)}`).toBe('errored')
          expect(why(c), c.id).toMatch(
            mech === 'worker-message'
              ? /^peer \(side b\): sender 2 \(thread\) ended: exit code 137$/
              : /^peer \(side b\): sender 2 \(pid \d+\) ended: killed by SIGKILL$/,
          )
        }
        expect(leftovers(tmp, before)).toEqual([])
      }),
    120_000,
  )

  it.skipIf(!addon.ok || !floor.ok)(
    'a C floor sender killed mid-run ends the floor as errored, naming it',
    () => {
      const { run } = fanInRun(['posix-mq', '--senders', '4', '--sizes', '64', '--duration', '300ms'], { IPCFLOOR_TEST_KILL: '2:500' })
      const c = byId(run, 'posix-mq/blocking/process/fanin-4/64B') as CompletedCase
      expect(c.state, why(c)).toBe('completed')
      expect(c.floor?.state).toBe('errored')
      expect(c.floor?.reason).toMatch(/^C floor \(side b\): sender 2 \(pid \d+\) ended: killed by SIGKILL$/)
    },
    60_000,
  )
})

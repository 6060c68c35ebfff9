import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { FLOOR_PATH, floorStatus } from '../src/harness/host/floor-binary.js'
import { tempFile } from './helpers.js'

/**
 * Fan-in in the C floor (`ipcfloor --fanin`, native-helpers/floor/fanin.c): many
 * senders, one receiver, one channel. Every message is checked by the receiver, each
 * sender's numbers must arrive in order (between senders they may interleave), a FIFO
 * refuses messages beyond PIPE_BUF, and a sender killed mid-run ends the case as an
 * error with nothing left behind.
 */
const status = floorStatus()
if (!status.ok) console.warn(`fan-in floor tests skipped: ${status.reason}`)

interface FaninReply {
  type: string
  message?: string
  reason?: string
  senders?: number
  messages?: number
  msgsPerSec?: number
  reorderedBetweenSenders?: number
  receiverCpu?: { userUs: number; sysUs: number }
  perSender?: Array<{ sender: number; sent: number; received: number; latencyNs: { p50: number; p99: number; max: number } }>
}

/** System V queues the floor said it made (its ledger), for the leftovers check. */
const ledgers: string[] = []

function fanin(args: (string | number)[], env: Record<string, string> = {}): { reply: FaninReply; code: number | null } {
  const ledger = tempFile('ledger')
  ledgers.push(ledger)
  const r = spawnSync(FLOOR_PATH, ['--fanin', ...args.map(String)], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, IPCFLOOR_LEDGER: ledger, ...env },
  })
  const line = r.stdout.trim().split('\n').pop() ?? ''
  return { reply: line ? (JSON.parse(line) as FaninReply) : { type: 'none', message: r.stderr }, code: r.status }
}

/** What a fan-in run could leave: its System V queues, POSIX queue names, FIFO directories, sender processes. */
function leftovers(): string[] {
  const live = new Set(
    execFileSync('ipcs', ['-q'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /^0x[0-9a-f]+\s+(\d+)\s/.exec(l)?.[1]),
  )
  const made = ledgers.flatMap((l) => (existsSync(l) ? [...readFileSync(l, 'utf8').matchAll(/^msg (\d+)$/gm)].map((m) => m[1]) : []))
  const queues = made.filter((id) => live.has(id)).map((id) => `sysv msg ${id}`)
  const names = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => /^ipcbench-\d+-fanin-/.test(f)) : [])
  const procs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith(`${FLOOR_PATH} --fanin`))
  return [...queues, ...names('/dev/mqueue'), ...names(tmpdir()), ...procs]
}

const MECHANISMS = ['posix-mq', 'sysv-msg', 'unix-dgram', 'fifo']

describe.skipIf(!status.ok)('fan-in in the C floor', () => {
  it.each(MECHANISMS)('%s: 1, 2 and 4 senders into one channel, every message checked, each sender in order', (mech) => {
    for (const senders of [1, 2, 4]) {
      const { reply, code } = fanin([mech, senders, 64, 40, 20_000])
      const id = `${mech} × ${senders}`
      expect(reply.type, `${id}: ${reply.message}`).toBe('result')
      expect(code, id).toBe(0)
      expect(reply.senders, id).toBe(senders)
      expect(reply.perSender, id).toHaveLength(senders)
      // Everything each sender says it sent arrived, and nothing else.
      for (const s of reply.perSender!) {
        expect.soft(s.received, `${id} sender ${s.sender}`).toBe(s.sent)
        expect.soft(s.sent, `${id} sender ${s.sender}`).toBeGreaterThan(0)
        expect.soft(s.latencyNs.p50, `${id} sender ${s.sender}`).toBeGreaterThan(0)
        expect.soft(s.latencyNs.p99, `${id} sender ${s.sender}`).toBeGreaterThanOrEqual(s.latencyNs.p50)
      }
      expect(reply.messages, id).toBe(reply.perSender!.reduce((n, s) => n + s.received, 0))
      expect(reply.msgsPerSec, id).toBeGreaterThan(0)
      if (senders === 1) expect(reply.reorderedBetweenSenders, id).toBe(0)
      expect(reply.receiverCpu!.userUs + reply.receiverCpu!.sysUs, id).toBeGreaterThan(0)
    }
    expect(leftovers()).toEqual([])
  })

  it('FIFO: messages up to PIPE_BUF travel whole from several writers; larger ones are refused with that reason', () => {
    const ok = fanin(['fifo', 4, 4096, 30, 2000])
    expect(ok.reply.type, ok.reply.message).toBe('result')
    expect(ok.reply.perSender!.every((s) => s.received === s.sent)).toBe(true)
    const big = fanin(['fifo', 2, 4097, 30, 2000])
    expect(big.code).toBe(3)
    expect(big.reply).toEqual({
      type: 'skipped',
      reason: 'a FIFO write is atomic only up to PIPE_BUF (4096 bytes): 4097-byte messages from several senders could interleave',
    })
  })

  it.each(MECHANISMS)('%s: a sender killed mid-run ends the case as an error naming it, with nothing left', (mech) => {
    const { reply, code } = fanin([mech, 4, 64, 2000, 1_000_000], { IPCFLOOR_TEST_KILL: '2:500' })
    expect(code).toBe(1)
    expect(reply.type).toBe('error')
    expect(reply.message).toMatch(/^sender 2 \(pid \d+\) ended: killed by SIGKILL$/)
    expect(leftovers()).toEqual([])
  })
})

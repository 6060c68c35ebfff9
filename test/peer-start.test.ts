import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadNative } from '../src/native/index.js'
import { floorStatus } from '../src/harness/host/floor-binary.js'
import { quickRun, tempFile } from './helpers.js'

/**
 * A child peer started beside its case process (`ipcfloor --launch-pair`), so that the
 * two Node starts overlap: it is still side a's child in side a's process group, pinned
 * to its own CPU, and it holds the very fds side a made, handed over once they existed.
 */
const ready = loadNative().ok && floorStatus().ok
const why = ready ? '' : 'needs the addon and the C program (npm install builds them)'
if (!ready) console.log(`peer-start: skipped, ${why}`)

interface Seen {
  pid: number
  ppid: number
  pgid: number
  cpus: string
  argv: string[]
}

describe.skipIf(!ready)('side b started beside the case process', () => {
  it('is side a child, in its process group, on its own CPU, holding the fds side a made', () => {
    // A preloaded module that notes, for each Node process of the case, who it is, its parent and group, and its CPUs.
    const log = tempFile('processes.log')
    const probe = tempFile('probe.cjs')
    writeFileSync(
      probe,
      `const fs = require('node:fs')
const stat = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')
const cpus = /Cpus_allowed_list:\\s*(\\S+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]
fs.appendFileSync(process.env.IPCBENCH_TEST_PROBE_LOG, JSON.stringify({ pid: process.pid, ppid: Number(stat[1]), pgid: Number(stat[2]), cpus, argv: process.argv.slice(1) }) + '\\n')
`,
    )
    const { cli, run } = quickRun(
      [
        'pipe',
        'unix-stream',
        '--patterns',
        'pingpong,stream',
        '--endpoints',
        'process',
        '--modes',
        'blocking',
        '--repetitions',
        '2',
        '--node-args',
        `--require=${probe}`,
      ],
      { IPCBENCH_TEST_PROBE_LOG: log },
    )
    expect(cli.code, cli.stderr).toBe(0)
    const seen = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Seen)
      .filter((p) => !p.argv.includes('-e'))
    const sideA = new Map(seen.filter((p) => !p.argv.includes('--side')).map((p) => [p.pid, p]))
    const sideB = seen.filter((p) => p.argv.includes('--side'))
    const completed = run.cases.filter((c) => c.state === 'completed')
    expect(completed.length).toBe(4)
    expect(sideB.length).toBe(8)
    for (const b of sideB) {
      expect(b.argv).toContain('--fds-later')
      const a = sideA.get(b.ppid)
      expect(a, `side b ${b.pid}: its parent ${b.ppid} is a case process`).toBeDefined()
      // The case process leads its own group (a time-out kills both at once); side b is in it.
      expect(a!.pgid).toBe(a!.pid)
      expect(b.pgid).toBe(a!.pid)
    }
    let pinned = 0
    for (const c of completed) {
      for (const rep of c.repetitions) {
        expect(rep.startupMs?.peerEarly, c.id).toBe(true)
        expect(rep.startupMs!.peerWait!).toBeLessThanOrEqual(rep.startupMs!.peer)
      }
      // Side b on the CPU its placement gave it, from its start (`describe` names the last repetition's peer).
      const last = c.repetitions.at(-1)!
      const b = sideB.find((p) => String(p.pid) === c.describe.peerPid)
      expect(b, c.id).toBeDefined()
      if (last.placement.applied === 'split') {
        expect(b!.cpus, c.id).toBe(last.placement.cpusB.join(','))
        pinned++
      }
      // Side b holds the objects side a made: the kinds of its fds, read from /proc by the mechanism.
      if (c.mechanism === 'pipe') expect(c.describe.fdKinds).toMatch(/b: pipe:\[\d+\] pipe:\[\d+\]/)
      if (c.mechanism === 'unix-stream') expect(c.describe.fdKinds).toMatch(/b: socket:\[\d+\]/)
    }
    if (pinned === 0) console.log('peer-start: one CPU here, side b pinning not checked')
  })

  it('a worker peer starts with its case process, and its ports and shared memory are transferred to it once made', () => {
    const { cli, run } = quickRun([
      'message-channel',
      'sab-ring',
      'pipe',
      '--patterns',
      'pingpong,stream',
      '--endpoints',
      'thread',
      '--modes',
      'nonblocking',
    ])
    expect(cli.code, cli.stderr).toBe(0)
    const done = run.cases.filter((c) => c.state === 'completed')
    // message-channel's clone and transfer variants, sab-ring and pipe, ping-pong and stream each (every message checked).
    expect(done.length, run.cases.map((c) => `${c.id}: ${c.state}`).join('\n')).toBe(run.cases.length)
    expect(done.length).toBeGreaterThanOrEqual(8)
    for (const c of done) for (const rep of c.repetitions) expect(rep.startupMs?.peerEarly, c.id).toBe(true)
  })

  it('is not used where the spawn makes the channel (Node IPC): that peer starts after the set-up, as before', () => {
    const { cli, run } = quickRun(['child-ipc', '--patterns', 'pingpong', '--endpoints', 'process'])
    expect(cli.code, cli.stderr).toBe(0)
    const done = run.cases.filter((c) => c.state === 'completed')
    expect(done.length).toBeGreaterThan(0)
    for (const c of done) for (const rep of c.repetitions) expect(rep.startupMs?.peerEarly, c.id).toBeUndefined()
  })
})

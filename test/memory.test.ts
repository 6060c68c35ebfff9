import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderTerminal } from '../src/report/table.js'
import { quickRun, tempFile } from './helpers.js'

/**
 * Every repetition records the largest resident set of its case process and of side b's
 * own processes, and the run its orchestrator's: a preloaded module makes side b's
 * processes (the peer, fan-in's senders) hold 160 MiB of written memory, which the
 * figures must show on side b and not on side a.
 */
const HELD_MIB = 160

describe('peak memory', () => {
  it('is recorded per repetition for the case process and side b, and for the run', () => {
    const probe = tempFile('hold.cjs')
    const log = tempFile('held.log')
    writeFileSync(
      probe,
      `const { isMainThread } = require('node:worker_threads')
const argv = process.argv.slice(1).join(' ')
if (isMainThread && (argv.includes('--side') || argv.includes('fanin-sender'))) {
  globalThis.held = Buffer.alloc(${HELD_MIB} * 1024 * 1024, 1)
  require('node:fs').appendFileSync(${JSON.stringify(log)}, process.pid + '\\n')
}
`,
    )
    const { cli, run } = quickRun([
      'pipe',
      'fifo',
      '--patterns',
      'pingpong,fanin',
      '--modes',
      'blocking',
      '--senders',
      '2',
      '--sizes',
      '64',
      '--node-args',
      `--require=${probe}`,
    ])
    expect(cli.code, cli.stderr).toBe(0)
    const holders = readFileSync(log, 'utf8').trim().split('\n')
    const done = run.cases.filter((c) => c.state === 'completed')
    const kinds = done.map((c) => `${c.pattern}/${c.endpoints}`)
    // pipe ping-pong in a process and in a thread, fifo's fan-in with two sender processes (and threads).
    expect(kinds).toEqual(expect.arrayContaining(['pingpong/process', 'pingpong/thread', 'fanin/process']))
    expect(holders.length).toBeGreaterThanOrEqual(1 + 2)
    const held = HELD_MIB * 1024
    for (const c of done) {
      for (const rep of c.repetitions) {
        const m = rep.peakRssKiB
        expect(m, c.id).toBeDefined()
        if (c.endpoints === 'process') {
          expect(m!.peer, c.id).toBeGreaterThanOrEqual(held)
          expect(m!.caseProcess, c.id).toBeLessThan(held)
        } else {
          // Side b is a thread of the case process: one process, one figure.
          expect(m!.peer, c.id).toBeUndefined()
          expect(m!.caseProcess, c.id).toBeGreaterThan(10 * 1024)
        }
      }
    }
    expect(run.context.peakRssKiB).toBeGreaterThan(10 * 1024)
    expect(renderTerminal(run, { color: false, full: true })).toMatch(
      /peak memory \(resident\): ipcbench \d+ MiB, a case process \d+ MiB \(\S+\), a peer process \d+ MiB/,
    )
  })
})

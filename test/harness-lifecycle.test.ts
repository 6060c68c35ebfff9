import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { isCompleted } from '../src/core/result.js'
import { quickRun, why } from './helpers.js'

/** The harness through a fake mechanism (real loopback TCP with a failure injected at one step). */
const fake = (behaviour: string, extra: string[] = []) =>
  quickRun(['fake', '--endpoints', 'process', '--patterns', 'pingpong', '--timeout', '3s', ...extra], {
    IPCBENCH_TEST_FAKE: '1',
    IPCBENCH_FAKE: behaviour,
  })

const ourTmpDirs = () => readdirSync(tmpdir()).filter((n) => /^ipcbench-\d+-/.test(n))

describe('harness lifecycle', () => {
  it('completes a case with every field of the result', () => {
    const { cli, run } = fake('ok')
    expect(cli.code).toBe(0)
    expect(run.schema).toBe('ipcbench/run@3')
    expect(run.context.status).toBe('finished')
    const c = run.cases[0]
    expect(c).toMatchObject({ id: 'fake/nonblocking/process/pingpong/64B', state: 'completed', mechanism: 'fake', sizeBytes: 64 })
    if (!isCompleted(c)) throw new Error(`not completed: ${why(c)}`)
    expect(c.repetitions).toHaveLength(1)
    expect(c.latencyNs!.n).toBeGreaterThan(0)
    expect(c.latencyNs!.p50).toBeGreaterThan(0)
    expect(c.cpu!.a.userUsPerMsg + c.cpu!.a.sysUsPerMsg).toBeGreaterThan(0)
    expect(c.cpu!.b.scope).toBe('process')
    expect(c.repetitions[0].placement.cpusA.length).toBeGreaterThan(0)
  })

  it('a failing setup errors the case with code and syscall, and the run goes on', () => {
    const { cli, run } = fake('setup-throws')
    expect(cli.code).toBe(1)
    expect(run.cases[0]).toMatchObject({
      state: 'errored',
      reason: 'side a: fake setup failure',
      error: { message: 'fake setup failure', code: 'EFAKE', syscall: 'fake_setup', side: 'a' },
    })
    expect(cli.stderr).toMatch(/1 case\(s\) errored/)
  })

  it("side b's own error is reported, not the symptom side a saw", () => {
    const { run } = fake('open-b-throws')
    expect(run.cases[0]).toMatchObject({
      state: 'errored',
      reason: 'peer (side b): fake open failure in side b',
      error: { message: 'fake open failure in side b', code: 'EFAKE', side: 'b' },
    })
  })

  it('a peer killed mid-case errors it, naming the peer and the signal', () => {
    const { run } = fake('b-crashes')
    expect(run.cases[0].state).toBe('errored')
    // 'side a' today, although the peer is side b: see the note on peerEnded in faults.test.ts.
    expect(why(run.cases[0])).toMatch(/^(?:side a|peer \(side b\)): peer \(pid \d+\) ended: killed by SIGKILL$/)
  })

  it('a peer that stops answering is ended by the time-out, and nothing is left behind', () => {
    const before = ourTmpDirs()
    const { run } = fake('b-hangs')
    expect(run.cases[0]).toMatchObject({
      state: 'errored',
      reason: 'harness: timed out after 3000 ms (a peer stopped answering); both sides killed',
      error: { code: 'ETIMEDOUT', side: 'harness' },
    })
    expect(ourTmpDirs().filter((d) => !before.includes(d))).toEqual([])
  })
})

import { describe, expect, it } from 'vitest'
import { caseId, matchesCase } from '../src/core/cases.js'
import { expandMatrix } from '../src/harness/plan/matrix.js'
import { planPlacement } from '../src/harness/plan/placement.js'
import { planCase, skipReason } from '../src/harness/plan/case-plan.js'
import { resolveRunOptions } from '../src/harness/plan/options.js'
import { MECHANISMS } from '../src/mechanisms/registry.js'
import { captureEnvironment } from '../src/harness/host/env.js'
import type { Mechanism } from '../src/mechanisms/types.js'
import type { CaseSpec } from '../src/core/result.js'

const mech = (over: Partial<Mechanism>): Mechanism => ({
  id: 'm',
  family: 'fd',
  summary: '',
  modes: ['blocking', 'nonblocking'],
  endpoints: ['process', 'thread'],
  patterns: ['pingpong', 'stream'],
  native: false,
  floor: { none: 'a test mechanism' },
  load: async () => {
    throw new Error('not loaded in this test')
  },
  ...over,
})
const all = {
  modes: ['blocking', 'nonblocking', 'busy-poll'] as const,
  endpoints: ['process', 'thread'] as const,
  patterns: ['pingpong', 'stream'] as const,
}
const opts = {
  ...all,
  modes: [...all.modes],
  endpoints: [...all.endpoints],
  patterns: [...all.patterns],
  sizesBytes: { pingpong: [64, 1024], stream: [65536] },
}

describe('expandMatrix', () => {
  it('crosses what the mechanism offers with what was asked, sizes per pattern', () => {
    const cases = expandMatrix([mech({})], opts)
    expect(cases).toHaveLength(2 * 2 * (2 + 1))
    expect(cases[0].id).toBe('m/blocking/process/pingpong/64B')
    expect(cases.map((c) => c.id)).toContain('m/nonblocking/thread/stream/64KiB')
    expect(cases.some((c) => c.mode === 'busy-poll')).toBe(false)
  })
  it('honours variants and fixed sizes', () => {
    const cases = expandMatrix(
      [mech({ id: 'v', variants: ['json', 'advanced'], modes: ['nonblocking'], endpoints: ['process'], patterns: ['pingpong'], fixedSizeBytes: 0 })],
      opts,
    )
    expect(cases.map((c) => c.id)).toEqual(['v:json/nonblocking/process/pingpong/0B', 'v:advanced/nonblocking/process/pingpong/0B'])
  })
  it('with one endpoint kind per mechanism (--quick), processes where offered, threads otherwise', () => {
    const cases = expandMatrix([mech({}), mech({ id: 't', endpoints: ['thread'] })], { ...opts, endpointsPerMechanism: 'one' })
    expect(new Set(cases.filter((c) => c.mechanism === 'm').map((c) => c.endpoints))).toEqual(new Set(['process']))
    expect(new Set(cases.filter((c) => c.mechanism === 't').map((c) => c.endpoints))).toEqual(new Set(['thread']))
  })
  it('adds fan-in cases, one per sender count, only for a mechanism that offers fan-in and only when asked', () => {
    const fanIn = { modes: ['blocking'] as const, endpoints: ['process'] as const, native: false, load: mech({}).load as never }
    const m = mech({ id: 'q', fanIn })
    const asked = { ...opts, patterns: [...opts.patterns, 'fanin' as const], sizesBytes: { ...opts.sizesBytes, fanin: [64] }, senders: [1, 2, 4] }
    const ids = expandMatrix([m, mech({})], asked)
      .filter((c) => c.pattern === 'fanin')
      .map((c) => c.id)
    expect(ids).toEqual(['q/blocking/process/fanin-1/64B', 'q/blocking/process/fanin-2/64B', 'q/blocking/process/fanin-4/64B'])
    expect(expandMatrix([m], opts).some((c) => c.pattern === 'fanin')).toBe(false)
    // A mechanism that lists fanin among its two-sided patterns gets no such case from that list.
    expect(expandMatrix([mech({ patterns: ['fanin'] })], asked)).toEqual([])
  })
  it('builds ids from parameters', () => {
    expect(caseId({ mechanism: 'pipe', mode: 'blocking', endpoints: 'process', pattern: 'pingpong', sizeBytes: 1048576 })).toBe(
      'pipe/blocking/process/pingpong/1MiB',
    )
  })
  it('selects cases by id or * pattern', () => {
    expect(matchesCase('pipe/blocking/process/pingpong/64B', ['pipe/blocking/*'])).toBe(true)
    expect(matchesCase('pipe/blocking/process/pingpong/64B', ['pipe/nonblocking/*'])).toBe(false)
    expect(matchesCase('a.b/x', ['a.b/x'])).toBe(true)
    expect(matchesCase('aXb/x', ['a.b/*'])).toBe(false)
  })
})

describe('planPlacement', () => {
  const spec = (mode: CaseSpec['mode'], endpoints: CaseSpec['endpoints'] = 'process'): CaseSpec => ({
    id: 'x',
    mechanism: 'x',
    mode,
    endpoints,
    pattern: 'pingpong',
    sizeBytes: 64,
  })
  it('auto splits across two CPUs', () => {
    expect(planPlacement(spec('blocking'), 'auto', [0, 1], true)).toEqual({ applied: 'split', cpuA: 0, cpuB: 1 })
  })
  it('never busy-polls with both ends on one CPU', () => {
    const why =
      'busy-poll with both ends on one CPU only progresses when the scheduler preempts (milliseconds per round trip, not microseconds); use --pin split'
    expect(planPlacement(spec('busy-poll'), 'same', [0, 1], true)).toEqual({ skip: why })
    expect(planPlacement(spec('busy-poll'), 'auto', [0], true)).toHaveProperty('skip')
    expect(planPlacement(spec('blocking'), 'same', [0, 1], true)).toEqual({ applied: 'same', cpuA: 0, cpuB: 0 })
  })
  it('says when threads cannot be pinned', () => {
    expect(planPlacement(spec('blocking', 'thread'), 'split', [0, 1], false)).toMatchObject({
      applied: 'none',
      warning: expect.stringMatching(/native helper/),
    })
  })
})

describe('the registry', () => {
  it('loads a working implementation for every mechanism, and says what each has for a C floor', async () => {
    const { MECHANISMS } = await import('../src/mechanisms/registry.js')
    for (const m of MECHANISMS) {
      const impl = await m.load()
      expect(typeof impl.setup, m.id).toBe('function')
      expect(typeof impl.openB, m.id).toBe('function')
      expect('name' in m.floor ? m.floor.name : m.floor.none, m.id).toMatch(/\S/)
    }
  })
})

describe("/dev/shm too small for a case (a container's 64 MiB default)", () => {
  it('shm-ring is skipped with the sizes when its two rings would not fit; smaller messages run', () => {
    const env = captureEnvironment()
    env.limits.devShm = { sizeBytes: 64 * 1024 * 1024, freeBytes: 2 * 1024 * 1024 }
    const spec = (sizeBytes: number): CaseSpec => ({
      id: `shm-ring/blocking/process/pingpong/${sizeBytes}B`,
      mechanism: 'shm-ring',
      mode: 'blocking',
      endpoints: 'process',
      pattern: 'pingpong',
      sizeBytes,
    })
    expect(skipReason(spec(1024 * 1024), env)).toBe(
      'its two rings need 8.0 MiB of /dev/shm, which has 2 MiB free of 64 MiB (in a container, raise it with docker run --shm-size=…)',
    )
    expect(skipReason(spec(64), env)).toBeUndefined()
    // A host that could not say keeps the case.
    delete env.limits.devShm
    expect(skipReason(spec(1024 * 1024), env)).toBeUndefined()
  })
})

describe('the sample target in the plan', () => {
  it('ends blocking and event-loop phases early; busy-poll runs its whole duration', () => {
    const env = captureEnvironment()
    const o = resolveRunOptions({ mechanisms: ['pipe'] }, MECHANISMS, 'test-run')
    const loopOf = (mode: CaseSpec['mode']) => {
      const spec: CaseSpec = {
        id: `pipe/${mode}/process/pingpong/64B`,
        mechanism: 'pipe',
        mode,
        endpoints: 'process',
        pattern: 'pingpong',
        sizeBytes: 64,
      }
      const planned = planCase(spec, o, env, true)
      if (!('plan' in planned)) throw new Error(`not planned: ${planned.skip}`)
      return planned.plan.loop
    }
    expect(loopOf('blocking')).toMatchObject({ targetSamples: 5000, minWindowMs: 10, durationMs: 150 })
    expect(loopOf('nonblocking').targetSamples).toBe(5000)
    expect(loopOf('busy-poll').targetSamples).toBe(0)
  })
})

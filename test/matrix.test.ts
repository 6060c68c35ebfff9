import { describe, expect, it } from 'vitest'
import { caseId, expandMatrix, matchesCase } from '../src/harness/matrix.js'
import { planPlacement } from '../src/harness/placement.js'
import type { Mechanism } from '../src/mechanisms/types.js'
import type { CaseSpec } from '../src/types.js'

const mech = (over: Partial<Mechanism>): Mechanism => ({
  id: 'm',
  family: 'fd',
  summary: '',
  modes: ['blocking', 'nonblocking'],
  endpoints: ['process', 'thread'],
  patterns: ['pingpong', 'stream'],
  native: false,
  load: async () => {
    throw new Error('not loaded in this test')
  },
  ...over,
})
const all = { modes: ['blocking', 'nonblocking', 'busy-poll'] as const, endpoints: ['process', 'thread'] as const, patterns: ['pingpong', 'stream'] as const }
const opts = { ...all, modes: [...all.modes], endpoints: [...all.endpoints], patterns: [...all.patterns], sizesBytes: { pingpong: [64, 1024], stream: [65536] } }

describe('expandMatrix', () => {
  it('crosses what the mechanism offers with what was asked, sizes per pattern', () => {
    const cases = expandMatrix([mech({})], opts)
    expect(cases).toHaveLength(2 * 2 * (2 + 1))
    expect(cases[0].id).toBe('m/blocking/process/pingpong/64B')
    expect(cases.map((c) => c.id)).toContain('m/nonblocking/thread/stream/64KiB')
    expect(cases.some((c) => c.mode === 'busy-poll')).toBe(false)
  })
  it('honours offers(), variants and fixed sizes', () => {
    const cases = expandMatrix(
      [mech({ id: 'v', variants: ['json', 'advanced'], modes: ['nonblocking'], fixedSizeBytes: 0, offers: (c) => c.pattern === 'pingpong' && c.endpoints === 'process' })],
      opts,
    )
    expect(cases.map((c) => c.id)).toEqual(['v:json/nonblocking/process/pingpong/0B', 'v:advanced/nonblocking/process/pingpong/0B'])
  })
  it('with one endpoint kind per mechanism (--quick), processes where offered, threads otherwise', () => {
    const cases = expandMatrix([mech({}), mech({ id: 't', endpoints: ['thread'] })], { ...opts, endpointsPerMechanism: 'one' })
    expect(new Set(cases.filter((c) => c.mechanism === 'm').map((c) => c.endpoints))).toEqual(new Set(['process']))
    expect(new Set(cases.filter((c) => c.mechanism === 't').map((c) => c.endpoints))).toEqual(new Set(['thread']))
  })
  it('builds ids from parameters', () => {
    expect(caseId({ mechanism: 'pipe', mode: 'blocking', endpoints: 'process', pattern: 'pingpong', sizeBytes: 1048576 })).toBe('pipe/blocking/process/pingpong/1MiB')
  })
  it('selects cases by id or * pattern', () => {
    expect(matchesCase('pipe/blocking/process/pingpong/64B', ['pipe/blocking/*'])).toBe(true)
    expect(matchesCase('pipe/blocking/process/pingpong/64B', ['pipe/nonblocking/*'])).toBe(false)
    expect(matchesCase('a.b/x', ['a.b/x'])).toBe(true)
    expect(matchesCase('aXb/x', ['a.b/*'])).toBe(false)
  })
})

describe('planPlacement', () => {
  const spec = (mode: CaseSpec['mode'], endpoints: CaseSpec['endpoints'] = 'process'): CaseSpec => ({ id: 'x', mechanism: 'x', mode, endpoints, pattern: 'pingpong', sizeBytes: 64 })
  it('auto splits across two CPUs', () => {
    expect(planPlacement(spec('blocking'), 'auto', [0, 1], true)).toEqual({ applied: 'split', cpuA: 0, cpuB: 1 })
  })
  it('never busy-polls with both ends on one CPU', () => {
    expect(planPlacement(spec('busy-poll'), 'same', [0, 1], true)).toHaveProperty('skip', expect.stringMatching(/use --pin split/))
    expect(planPlacement(spec('busy-poll'), 'auto', [0], true)).toHaveProperty('skip')
    expect(planPlacement(spec('blocking'), 'same', [0, 1], true)).toEqual({ applied: 'same', cpuA: 0, cpuB: 0 })
  })
  it('says when threads cannot be pinned', () => {
    expect(planPlacement(spec('blocking', 'thread'), 'split', [0, 1], false)).toMatchObject({ applied: 'none', warning: expect.stringMatching(/native helper/) })
  })
})

describe('the peers\' module table', () => {
  it('names every mechanism of the registry, and each loads as itself', async () => {
    const { MECHANISMS } = await import('../src/mechanisms/registry.js')
    const { MODULE_IDS, loadMechanism } = await import('../src/mechanisms/modules.js')
    expect(MODULE_IDS.filter((id) => id !== 'fake').sort()).toEqual(MECHANISMS.map((m) => m.id).filter((id) => id !== 'fake').sort())
    for (const id of MODULE_IDS) expect((await loadMechanism(id)).id).toBe(id)
  })
})

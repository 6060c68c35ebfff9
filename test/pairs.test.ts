import { describe, expect, it } from 'vitest'
import { readTopology, type Topology } from '../src/harness/host/topology.js'
import { defaultPairCounts, planPairs, type PairRequest, type PairsPlan } from '../src/harness/plan/pairs.js'
import { container, numa4, range, smt64, twoCpus, writeSysfs } from './sysfs-trees.js'

const REQUESTS: PairRequest[] = ['auto', 'within-node', 'across-nodes', 'same-cpu']

function plan(t: Topology, pairs: number, request: PairRequest, spin = false): PairsPlan {
  const p = planPairs(t, pairs, request, { spin })
  if ('skip' in p) throw new Error(`unexpected skip: ${p.skip}`)
  return p
}

/** How many pairs use each CPU (a same-cpu pair counts once). */
function pairsPerCpu(p: PairsPlan): Map<number, number> {
  const use = new Map<number, number>()
  for (const { cpuA, cpuB } of p.pairs) for (const c of new Set([cpuA, cpuB])) use.set(c, (use.get(c) ?? 0) + 1)
  return use
}

const facts = (t: Topology) => {
  const of = new Map(t.cpus.map((c) => [c.cpu, c]))
  return {
    node: (cpu: number) => of.get(cpu)!.node,
    core: (cpu: number) => Math.min(cpu, ...of.get(cpu)!.siblings),
  }
}

describe('planPairs on a 64-CPU host: two nodes, 32 cores of 2 threads', () => {
  const t = readTopology(range(64), writeSysfs(smt64()))
  const { node, core } = facts(t)

  for (const request of REQUESTS) {
    for (const n of [1, 2, 4, 8, 16, 32, 40]) {
      it(`${n} pairs, ${request}`, () => {
        const p = plan(t, n, request)
        expect(p.pairs).toHaveLength(n)
        expect(planPairs(t, n, request)).toEqual(p)
        const use = pairsPerCpu(p)
        const need = request === 'same-cpu' ? n : 2 * n
        if (need <= 64) {
          // No CPU carries two pairs while free CPUs remain, and nothing to warn about.
          expect([...use.values()].every((u) => u === 1)).toBe(true)
          expect(p.warnings).toEqual([])
        } else {
          // Every CPU in use, the least shared: 80 sides on 64 CPUs put two pairs on 16 of them.
          expect(use.size).toBe(64)
          expect([...use.values()].filter((u) => u === 2)).toHaveLength(need - 64)
          expect(p.warnings).toHaveLength(1)
          expect(p.warnings[0].code).toBe('placement')
          expect(p.warnings[0].message).toMatch(/^CPUs shared by more than one pair: /)
          expect(p.warnings[0].message).toContain(`${n} pairs need ${need} CPUs and this process may use 64`)
        }
        for (const { cpuA, cpuB } of p.pairs) {
          if (request === 'same-cpu') expect(cpuA).toBe(cpuB)
          else expect(core(cpuA)).not.toBe(core(cpuB))
          if (request === 'across-nodes') expect(node(cpuA)).not.toBe(node(cpuB))
          else expect(node(cpuA)).toBe(node(cpuB))
        }
        // Spread: as many sides on one node as on the other, and across nodes as many a sides as b sides.
        const onNode0 = p.pairs.filter((x) => node(x.cpuA) === 0).length
        expect(Math.abs(2 * onNode0 - n)).toBeLessThanOrEqual(1)
        // Idle cores first: while there are as many cores as sides, no two sides share one.
        const sides = p.pairs.flatMap((x) => (request === 'same-cpu' ? [x.cpuA] : [x.cpuA, x.cpuB]))
        if (sides.length <= 32) expect(new Set(sides.map(core)).size).toBe(sides.length)
      })
    }
  }

  it('places the first pairs on the first cores of alternate nodes, and across nodes alternates the direction', () => {
    expect(plan(t, 4, 'within-node').pairs).toEqual([
      { cpuA: 0, cpuB: 1 },
      { cpuA: 16, cpuB: 17 },
      { cpuA: 2, cpuB: 3 },
      { cpuA: 18, cpuB: 19 },
    ])
    expect(plan(t, 4, 'auto')).toEqual(plan(t, 4, 'within-node'))
    expect(plan(t, 2, 'across-nodes').pairs).toEqual([
      { cpuA: 0, cpuB: 16 },
      { cpuA: 17, cpuB: 1 },
    ])
    expect(plan(t, 3, 'same-cpu').pairs).toEqual([
      { cpuA: 0, cpuB: 0 },
      { cpuA: 16, cpuB: 16 },
      { cpuA: 1, cpuB: 1 },
    ])
  })

  it('takes the second threads of the cores once the first ones are used, never pairing a core with itself', () => {
    const p = plan(t, 32, 'within-node')
    expect(new Set(p.pairs.flatMap((x) => [x.cpuA, x.cpuB]))).toEqual(new Set(range(64)))
    expect(p.pairs[16]).toEqual({ cpuA: 32, cpuB: 33 })
  })

  it('shares the CPUs of the first pairs again at 40 pairs, and names them', () => {
    const p = plan(t, 40, 'within-node')
    expect(p.pairs.slice(32, 34)).toEqual([
      { cpuA: 0, cpuB: 1 },
      { cpuA: 16, cpuB: 17 },
    ])
    expect(p.warnings[0].message).toBe(
      'CPUs shared by more than one pair: 0-7,16-23 (their figures include waiting for the CPU); 40 pairs need 80 CPUs and this process may use 64',
    )
  })

  it('skips busy-poll plans where a spinning side would share a CPU', () => {
    expect('skip' in planPairs(t, 32, 'auto', { spin: true })).toBe(false)
    expect(planPairs(t, 40, 'auto', { spin: true })).toEqual({
      skip: '40 busy-poll pairs on 64 CPUs would share CPUs 0-7,16-23, and a spinning side on a shared CPU only progresses when the scheduler preempts',
    })
    expect(planPairs(t, 1, 'same-cpu', { spin: true })).toHaveProperty('skip')
  })

  it('refuses a pair count that is not a whole number of at least 1', () => {
    expect(() => planPairs(t, 0, 'auto')).toThrow(/at least 1/)
    expect(() => planPairs(t, 1.5, 'auto')).toThrow(/at least 1/)
  })
})

describe('planPairs on a 16-CPU host with four nodes', () => {
  const t = readTopology(range(16), writeSysfs(numa4()))
  const { node } = facts(t)

  it('within-node: two pairs per node at 8 pairs, every CPU once', () => {
    const p = plan(t, 8, 'within-node')
    expect(p.warnings).toEqual([])
    expect(new Set(p.pairs.flatMap((x) => [x.cpuA, x.cpuB]))).toEqual(new Set(range(16)))
    for (const x of p.pairs) expect(node(x.cpuA)).toBe(node(x.cpuB))
    for (const n of t.nodes) expect(p.pairs.filter((x) => node(x.cpuA) === n)).toHaveLength(2)
  })

  it('across-nodes: each node carries as many a sides as b sides', () => {
    const p = plan(t, 8, 'across-nodes')
    expect(p.warnings).toEqual([])
    expect(new Set(p.pairs.flatMap((x) => [x.cpuA, x.cpuB]))).toEqual(new Set(range(16)))
    for (const n of t.nodes) {
      expect(p.pairs.filter((x) => node(x.cpuA) === n)).toHaveLength(2)
      expect(p.pairs.filter((x) => node(x.cpuB) === n)).toHaveLength(2)
    }
    for (const x of p.pairs) expect(node(x.cpuA)).not.toBe(node(x.cpuB))
  })
})

describe('planPairs where the request cannot be met', () => {
  // Two nodes of three CPUs: a third pair finds one free CPU in each.
  const odd: Topology = {
    cpus: range(6).map((cpu) => ({ cpu, node: cpu < 3 ? 0 : 1, core: cpu, package: 0, siblings: [] })),
    nodes: [0, 1],
    source: 'sysfs',
  }

  it('within-node shares a CPU rather than cross nodes, and says which stayed free', () => {
    const p = plan(odd, 3, 'within-node')
    expect(p.pairs[2]).toEqual({ cpuA: 2, cpuB: 0 })
    expect(p.warnings.map((w) => w.message)).toEqual([
      'CPUs shared by more than one pair: 0 (their figures include waiting for the CPU); the free CPUs 5 had no partner that met within-node',
    ])
  })

  it('auto crosses nodes rather than share a CPU, and says so', () => {
    const p = plan(odd, 3, 'auto')
    expect(p.pairs[2]).toEqual({ cpuA: 2, cpuB: 5 })
    expect(p.warnings.map((w) => w.message)).toEqual([
      'pairs (counted from 0) spanning two NUMA nodes: 2 (no node had two free CPUs on different cores left)',
    ])
  })

  it('puts a pair on SMT siblings only when no other core is free, and says so', () => {
    const oneCore: Topology = {
      cpus: [
        { cpu: 0, node: 0, core: 0, package: 0, siblings: [1] },
        { cpu: 1, node: 0, core: 0, package: 0, siblings: [0] },
        { cpu: 2, node: 0, core: 1, package: 0, siblings: [3] },
        { cpu: 3, node: 0, core: 1, package: 0, siblings: [2] },
      ],
      nodes: [0],
      source: 'sysfs',
    }
    expect(plan(oneCore, 2, 'auto')).toEqual({
      pairs: [
        { cpuA: 0, cpuB: 2 },
        { cpuA: 1, cpuB: 3 },
      ],
      warnings: [],
    })
    const two = { ...oneCore, cpus: oneCore.cpus.slice(0, 2) }
    expect(plan(two, 1, 'within-node').warnings.map((w) => w.message)).toEqual([
      'pairs (counted from 0) with both sides on SMT siblings of one core: 0 (no two free CPUs on different cores were left)',
    ])
  })

  it('within-node with one CPU per node spans nodes, and says so', () => {
    const p = plan(readTopology([0, 4], writeSysfs(numa4())), 1, 'within-node')
    expect(p.pairs).toEqual([{ cpuA: 0, cpuB: 4 }])
    expect(p.warnings.map((w) => w.message)).toEqual(['within-node: no NUMA node has two allowed CPUs, so each pair spans two nodes'])
  })

  it('across-nodes on a container topology falls back and names what sysfs did not say', () => {
    const p = plan(readTopology(range(4), writeSysfs(container())), 2, 'across-nodes')
    expect(p.pairs).toEqual([
      { cpuA: 0, cpuB: 1 },
      { cpuA: 2, cpuB: 3 },
    ])
    expect(p.warnings.map((w) => w.message)).toEqual([
      'across-nodes needs allowed CPUs on two NUMA nodes, and all are on node 0 (topology partial: no NUMA node cpulist; no core topology for CPU 0-3): pairs placed within it',
    ])
  })

  it('one CPU: both sides of every pair on it', () => {
    const p = plan(readTopology([1], writeSysfs(twoCpus())), 1, 'auto')
    expect(p).toEqual({
      pairs: [{ cpuA: 1, cpuB: 1 }],
      warnings: [{ code: 'placement', message: 'one allowed CPU (1): both sides of every pair run on it' }],
    })
    expect(planPairs(readTopology([1], writeSysfs(twoCpus())), 1, 'auto', { spin: true })).toHaveProperty('skip')
  })
})

describe("planPairs on this host's shape: 2 CPUs, 1 node", () => {
  const t = readTopology([0, 1], writeSysfs(twoCpus()))

  it('1 pair: one CPU per side, or one CPU for both with same-cpu', () => {
    for (const request of ['auto', 'within-node'] as const) expect(plan(t, 1, request)).toEqual({ pairs: [{ cpuA: 0, cpuB: 1 }], warnings: [] })
    const across = plan(t, 1, 'across-nodes')
    expect(across.pairs).toEqual([{ cpuA: 0, cpuB: 1 }])
    expect(across.warnings.map((w) => w.message)).toEqual([
      'across-nodes needs allowed CPUs on two NUMA nodes, and all are on node 0: pairs placed within it',
    ])
    expect(plan(t, 1, 'same-cpu')).toEqual({ pairs: [{ cpuA: 0, cpuB: 0 }], warnings: [] })
  })

  it('2 pairs: the CPUs are shared, and said to be; same-cpu gives each pair its own CPU', () => {
    const p = plan(t, 2, 'auto')
    expect(p.pairs).toEqual([
      { cpuA: 0, cpuB: 1 },
      { cpuA: 0, cpuB: 1 },
    ])
    expect(p.warnings.map((w) => w.message)).toEqual([
      'CPUs shared by more than one pair: 0-1 (their figures include waiting for the CPU); 2 pairs need 4 CPUs and this process may use 2',
    ])
    expect(plan(t, 2, 'same-cpu')).toEqual({
      pairs: [
        { cpuA: 0, cpuB: 0 },
        { cpuA: 1, cpuB: 1 },
      ],
      warnings: [],
    })
    expect(planPairs(t, 2, 'auto', { spin: true })).toHaveProperty('skip')
  })
})

describe('defaultPairCounts', () => {
  it('doubles up to the most pairs that give every side its own CPU, that count included', () => {
    expect(defaultPairCounts(64)).toEqual([1, 2, 4, 8, 16, 32])
    expect(defaultPairCounts(12)).toEqual([1, 2, 4, 6])
    expect(defaultPairCounts(2)).toEqual([1])
    expect(defaultPairCounts(1)).toEqual([1])
    expect(defaultPairCounts(64, 'same-cpu')).toEqual([1, 2, 4, 8, 16, 32, 64])
    expect(defaultPairCounts(2, 'same-cpu')).toEqual([1, 2])
  })
})

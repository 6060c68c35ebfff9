import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { allowedCpus, parseCpuList } from '../src/core/proc.js'
import { captureEnvironment } from '../src/harness/host/env.js'
import { formatCpuList, readTopology } from '../src/harness/host/topology.js'
import { container, numa4, range, smt64, twoCpus, writeSysfs } from './sysfs-trees.js'

describe('formatCpuList', () => {
  it('writes the kernel cpulist form that parseCpuList reads', () => {
    expect(formatCpuList([5, 0, 2, 1, 1])).toBe('0-2,5')
    expect(formatCpuList([7])).toBe('7')
    expect(formatCpuList([])).toBe('')
    expect(formatCpuList(parseCpuList('0-15,32-47'))).toBe('0-15,32-47')
  })
})

describe('readTopology', () => {
  it("reads this host's shape: two CPUs on two cores in one node", () => {
    expect(readTopology([0, 1], writeSysfs(twoCpus()))).toEqual({
      cpus: [
        { cpu: 0, node: 0, core: 0, package: 0, siblings: [] },
        { cpu: 1, node: 0, core: 1, package: 0, siblings: [] },
      ],
      nodes: [0],
      source: 'sysfs',
    })
  })

  it('reads a 64-CPU host with SMT and two nodes: siblings, packages, core ids that repeat across packages', () => {
    const t = readTopology(range(64), writeSysfs(smt64()))
    expect(t.source).toBe('sysfs')
    expect(t.nodes).toEqual([0, 1])
    expect(t.cpus.map((c) => c.cpu)).toEqual(range(64))
    expect(t.cpus[0]).toEqual({ cpu: 0, node: 0, core: 0, package: 0, siblings: [32] })
    expect(t.cpus[16]).toEqual({ cpu: 16, node: 1, core: 0, package: 1, siblings: [48] })
    expect(t.cpus[47]).toEqual({ cpu: 47, node: 0, core: 15, package: 0, siblings: [15] })
    expect(t.cpus[48]).toEqual({ cpu: 48, node: 1, core: 0, package: 1, siblings: [16] })
    expect(formatCpuList(t.cpus.filter((c) => c.node === 1).map((c) => c.cpu))).toBe('16-31,48-63')
  })

  it('keeps only the CPUs it is given (the allowed ones), in order, with the siblings the kernel lists', () => {
    const t = readTopology([40, 2, 17, 2], writeSysfs(smt64()))
    expect(t.cpus.map((c) => c.cpu)).toEqual([2, 17, 40])
    // CPU 34, CPU 2's sibling, is not allowed but still shares its core.
    expect(t.cpus[0].siblings).toEqual([34])
    expect(t.nodes).toEqual([0, 1])
    expect(readTopology([0, 1, 2], writeSysfs(smt64())).nodes).toEqual([0])
  })

  it('reads a 16-CPU host with four nodes over two packages', () => {
    const t = readTopology(range(16), writeSysfs(numa4()))
    expect(t.source).toBe('sysfs')
    expect(t.nodes).toEqual([0, 1, 2, 3])
    expect(t.cpus.map((c) => c.node)).toEqual(range(16).map((c) => Math.floor(c / 4)))
    expect(t.cpus[13]).toEqual({ cpu: 13, node: 3, core: 5, package: 1, siblings: [] })
  })

  it('degrades in a container that hides the topology: node 0, each CPU its own core, and says what was missing', () => {
    const t = readTopology(range(4), writeSysfs(container()))
    expect(t.cpus).toEqual(range(4).map((cpu) => ({ cpu, node: 0, core: cpu, package: 0, siblings: [] })))
    expect(t.nodes).toEqual([0])
    expect(t.source).toBe('partial: no NUMA node cpulist; no core topology for CPU 0-3')
    // No sysfs at all reads the same way.
    expect(readTopology([0, 1], '/nonexistent-sys').source).toBe('partial: no NUMA node cpulist; no core topology for CPU 0-1')
  })

  it('degrades CPU by CPU when part of the tree is there', () => {
    const shape = smt64()
    shape.nodes = { 0: '0-15,32-47' }
    shape.cpus[3] = { cpu: 3 }
    const t = readTopology([2, 3, 16], writeSysfs(shape))
    expect(t.source).toBe('partial: CPU 16 in no node; no core topology for CPU 3')
    expect(t.cpus).toEqual([
      { cpu: 2, node: 0, core: 2, package: 0, siblings: [34] },
      { cpu: 3, node: 0, core: 3, package: 0, siblings: [] },
      { cpu: 16, node: 0, core: 0, package: 1, siblings: [48] },
    ])
  })

  it("reads this machine's /sys for the CPUs this process may use, and the environment records it", () => {
    const allowed = allowedCpus()
    const t = readTopology()
    expect(t.cpus.map((c) => c.cpu)).toEqual(allowed)
    expect(t.source === 'sysfs' || t.source.startsWith('partial: ')).toBe(true)
    if (existsSync('/sys/devices/system/node/node0/cpulist')) expect(t.source).not.toContain('no NUMA node')
    for (const c of t.cpus) {
      expect(t.nodes).toContain(c.node)
      expect(c.siblings).not.toContain(c.cpu)
    }
    const env = captureEnvironment()
    expect(env.host.topology).toEqual(readTopology(env.host.cpusAllowed))
  })
})

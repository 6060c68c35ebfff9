import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { allowedCpus, listDir, parseCpuList } from '../../core/proc.js'
import type { Environment } from '../../core/result.js'

/**
 * Where each CPU this process may use sits: its NUMA node, its physical core and package,
 * the other hardware threads of that core. Read from sysfs, never assumed, because the
 * placement of several pairs (`plan/pairs.ts`) depends on it and the result records it.
 */
export type Topology = NonNullable<Environment['host']['topology']>
export type TopologyCpu = Topology['cpus'][number]

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

function readInt(path: string): number | undefined {
  const text = readText(path)
  return text !== undefined && /^-?\d+$/.test(text) ? Number(text) : undefined
}

/** [0, 1, 2, 5] → `0-2,5`: the kernel's cpulist form, the inverse of `parseCpuList`, for messages. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((x, y) => x - y)
  const parts: string[] = []
  for (let i = 0; i < sorted.length; i++) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`)
    i = j
  }
  return parts.join(',')
}

/**
 * The topology of `cpus` (by default the CPUs this thread may run on) under `sysRoot`.
 * Containers often hide part of sysfs: a CPU no node lists goes in node 0, a CPU without
 * its topology files is its own core (package 0, no siblings), and `source` says which
 * CPUs were guessed so, instead of 'sysfs'. `siblings` leaves out the CPU itself.
 */
export function readTopology(cpus: readonly number[] = allowedCpus(), sysRoot = '/sys'): Topology {
  const nodeDir = join(sysRoot, 'devices/system/node')
  const nodeOf = new Map<number, number>()
  let nodeDirs = 0
  for (const name of listDir(nodeDir)) {
    const node = /^node(\d+)$/.exec(name)?.[1]
    const list = node === undefined ? undefined : readText(join(nodeDir, name, 'cpulist'))
    if (list === undefined) continue
    nodeDirs++
    for (const cpu of parseCpuList(list)) nodeOf.set(cpu, Number(node))
  }
  const noNode: number[] = []
  const noCore: number[] = []
  const out: TopologyCpu[] = []
  for (const cpu of [...new Set(cpus)].sort((x, y) => x - y)) {
    const dir = join(sysRoot, 'devices/system/cpu', `cpu${cpu}`, 'topology')
    const core = readInt(join(dir, 'core_id'))
    const pkg = readInt(join(dir, 'physical_package_id'))
    const siblings = readText(join(dir, 'thread_siblings_list'))
    const node = nodeOf.get(cpu)
    if (node === undefined) noNode.push(cpu)
    if (core === undefined || pkg === undefined || siblings === undefined) {
      noCore.push(cpu)
      out.push({ cpu, node: node ?? 0, core: cpu, package: 0, siblings: [] })
    } else {
      out.push({ cpu, node: node ?? 0, core, package: pkg, siblings: parseCpuList(siblings).filter((c) => c !== cpu) })
    }
  }
  const missing: string[] = []
  if (nodeDirs === 0) missing.push('no NUMA node cpulist')
  else if (noNode.length > 0) missing.push(`CPU ${formatCpuList(noNode)} in no node`)
  if (noCore.length > 0) missing.push(`no core topology for CPU ${formatCpuList(noCore)}`)
  return {
    cpus: out,
    nodes: [...new Set(out.map((c) => c.node))].sort((x, y) => x - y),
    source: missing.length === 0 ? 'sysfs' : `partial: ${missing.join('; ')}`,
  }
}

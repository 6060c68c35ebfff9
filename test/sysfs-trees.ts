import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { tempFile } from './helpers.js'

/**
 * Synthetic sysfs trees for the topology and pair-placement tests: the hosts this code is
 * designed for but the test machine is not. A CPU without `core` has no topology files,
 * as in containers that hide them; a shape without `nodes` has no node directory.
 */
export interface SysfsShape {
  nodes?: Record<number, string>
  cpus: Array<{ cpu: number; core?: number; package?: number; siblings?: string }>
}

export const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i)

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${text}\n`)
}

/** Writes `shape` under a fresh temporary directory and returns it, to pass as the sysfs root. */
export function writeSysfs(shape: SysfsShape): string {
  const root = tempFile('sys')
  const nodeDir = join(root, 'devices/system/node')
  if (shape.nodes) {
    // The files beside the node directories, which are not nodes.
    write(join(nodeDir, 'online'), Object.keys(shape.nodes).join(','))
    write(join(nodeDir, 'possible'), Object.keys(shape.nodes).join(','))
    for (const [node, list] of Object.entries(shape.nodes)) write(join(nodeDir, `node${node}`, 'cpulist'), list)
  }
  for (const c of shape.cpus) {
    const dir = join(root, 'devices/system/cpu', `cpu${c.cpu}`)
    mkdirSync(dir, { recursive: true })
    if (c.core === undefined) continue
    write(join(dir, 'topology/core_id'), `${c.core}`)
    write(join(dir, 'topology/physical_package_id'), `${c.package ?? 0}`)
    write(join(dir, 'topology/thread_siblings_list'), c.siblings ?? `${c.cpu}`)
  }
  return root
}

/** The test machine's shape: two CPUs on two cores, one node. */
export const twoCpus = (): SysfsShape => ({
  nodes: { 0: '0-1' },
  cpus: [
    { cpu: 0, core: 0 },
    { cpu: 1, core: 1 },
  ],
})

/**
 * Two packages of 16 cores with 2 threads each, one node per package, in the common Linux
 * numbering: the first threads of all cores come first, so node 0 is CPUs 0-15 and their
 * siblings 32-47. `core_id` starts again at 0 in the second package.
 */
export const smt64 = (): SysfsShape => ({
  nodes: { 0: '0-15,32-47', 1: '16-31,48-63' },
  cpus: range(64).map((cpu) => ({
    cpu,
    core: cpu % 16,
    package: Math.floor((cpu % 32) / 16),
    siblings: `${cpu % 32},${(cpu % 32) + 32}`,
  })),
})

/** Two packages split into two nodes each (sub-NUMA clustering): 4 nodes of 4 CPUs, no SMT. */
export const numa4 = (): SysfsShape => ({
  nodes: { 0: '0-3', 1: '4-7', 2: '8-11', 3: '12-15' },
  cpus: range(16).map((cpu) => ({ cpu, core: cpu % 8, package: Math.floor(cpu / 8) })),
})

/** What a container may show: CPU directories without topology files, no node directory. */
export const container = (): SysfsShape => ({ cpus: range(4).map((cpu) => ({ cpu })) })

import { ipcError } from '../../core/errors.js'
import { warning, type Warning } from '../../core/warnings.js'
import { formatCpuList, type Topology } from '../host/topology.js'

/** Where the two sides of each pair go (`planPairs` has the rules). */
export type PairRequest = 'auto' | 'within-node' | 'across-nodes' | 'same-cpu'

export interface PairPlacement {
  cpuA: number
  cpuB: number
}

export interface PairsPlan {
  pairs: PairPlacement[]
  /** What the plan could not do as asked. */
  warnings: Warning[]
}

export interface PairsOptions {
  /** The case busy-polls: a spinning side that shares a CPU only progresses when the scheduler preempts, so such a plan is a skip. */
  spin?: boolean
}

/** Lexicographic: the first element that differs decides. */
function less(x: readonly number[], y: readonly number[]): boolean {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i]
  return false
}

/**
 * Where N simultaneous pairs of one case run (`--pairs N`): two CPUs per pair, chosen
 * over the host's topology (`host/topology.ts`) so the pairs measure the mechanism under
 * contention, not each other's time slices. The rules, in the order they win:
 *
 * 1. No CPU carries two pairs while free CPUs remain: a shared CPU halves what each pair
 *    gets, the largest effect placement has. When the pairs need more CPUs than there are,
 *    the least loaded CPUs are shared, and a warning names them.
 * 2. A pair's two sides run on two physical cores, not on SMT siblings of one (which share
 *    L1 and L2 and would measure a different, faster channel), whenever two free CPUs on
 *    different cores exist. A core is its lowest thread (siblings), because `core_id`
 *    repeats across packages.
 * 3. The request:
 *    - `within-node`: both sides in one NUMA node, always (over rule 1: a pair shares a
 *      CPU rather than cross nodes, and says so);
 *    - `auto`: both sides in one node while a node has two free CPUs, else across two
 *      (rules 1 and 2 first: crossing costs less than sharing), and says so;
 *    - `across-nodes`: side a and side b on different nodes (what a node crossing costs);
 *      on a host with one node it falls back to within it, and says so;
 *    - `same-cpu`: both sides of a pair on one CPU, each pair on its own CPU.
 * 4. Spread: idle cores before the second threads of busy ones (pairs that share a core
 *    slow each other), then the node with the fewest sides placed, so pairs alternate over
 *    nodes (memory bandwidth and the last-level cache are per node) and, across nodes, so
 *    each node carries as many a sides as b sides.
 * 5. Ties go to the lowest CPU: the same topology and request always give the same plan.
 *
 * Pairs are placed one by one, each on its best choice under these rules: greedy, which on
 * the uniform nodes and cores of real hosts is also the best plan overall (the tests check
 * it on synthetic ones). A plan is a skip where a busy-polling side would share a CPU.
 */
export function planPairs(topology: Topology, pairs: number, request: PairRequest, opts: PairsOptions = {}): PairsPlan | { skip: string } {
  if (!Number.isInteger(pairs) || pairs < 1) throw ipcError('EPAIRS', `pairs: ${pairs} is not a whole number of at least 1`)
  if (topology.cpus.length === 0) throw ipcError('EPAIRS', 'pairs: the topology has no CPU to place them on')
  const cpus = topology.cpus.map((c) => c.cpu).sort((x, y) => x - y)
  const coreOf = new Map(topology.cpus.map((c) => [c.cpu, Math.min(c.cpu, ...c.siblings)]))
  const nodeOf = new Map(topology.cpus.map((c) => [c.cpu, c.node]))
  const byNode = new Map<number, number[]>()
  for (const cpu of cpus) {
    const list = byNode.get(nodeOf.get(cpu)!)
    if (list) list.push(cpu)
    else byNode.set(nodeOf.get(cpu)!, [cpu])
  }
  const nodes = [...byNode.keys()].sort((x, y) => x - y)
  const roomy = nodes.filter((n) => byNode.get(n)!.length >= 2)

  const warnings: Warning[] = []
  const same = request === 'same-cpu' || cpus.length === 1
  let within = request === 'within-node' || request === 'auto'
  let across = request === 'across-nodes' || request === 'auto'
  if (request === 'across-nodes' && nodes.length < 2) {
    within = true
    across = false
    const partial = topology.source === 'sysfs' ? '' : ` (topology ${topology.source})`
    warnings.push(
      warning('placement', `across-nodes needs allowed CPUs on two NUMA nodes, and all are on node ${nodes[0]}${partial}: pairs placed within it`),
    )
  }
  if (request === 'within-node' && roomy.length === 0 && !same) {
    within = false
    across = true
    warnings.push(warning('placement', 'within-node: no NUMA node has two allowed CPUs, so each pair spans two nodes'))
  }
  if (cpus.length === 1 && request !== 'same-cpu') {
    warnings.push(warning('placement', `one allowed CPU (${cpus[0]}): both sides of every pair run on it`))
  }

  // Sides placed so far: per CPU, per core, and per node for side a and side b.
  const load = new Map<number, number>()
  const coreLoad = new Map<number, number>()
  const sidesA = new Map<number, number>()
  const sidesB = new Map<number, number>()
  const get = (m: Map<number, number>, k: number): number => m.get(k) ?? 0
  const add = (m: Map<number, number>, k: number): void => {
    m.set(k, get(m, k) + 1)
  }

  /** The CPU of `list` a side should take: the least loaded, off `avoidCore` if it can, on the least loaded core, the lowest. */
  const pick = (list: readonly number[], avoidCore?: number): number => {
    let best = list[0]
    let bestKey: number[] | undefined
    for (const cpu of list) {
      const key = [get(load, cpu), coreOf.get(cpu) === avoidCore ? 1 : 0, get(coreLoad, coreOf.get(cpu)!), cpu]
      if (!bestKey || less(key, bestKey)) [best, bestKey] = [cpu, key]
    }
    return best
  }
  const candidates = (): Array<[number, number]> => {
    if (same) return nodes.map((n) => pick(byNode.get(n)!)).map((c) => [c, c])
    const out: Array<[number, number]> = []
    if (within) {
      for (const n of roomy) {
        const list = byNode.get(n)!
        const a = pick(list)
        const others = list.filter((c) => c !== a)
        out.push([a, pick(others, coreOf.get(a))])
      }
    }
    if (across) {
      for (const x of nodes) {
        const a = pick(byNode.get(x)!)
        for (const y of nodes) if (y !== x) out.push([a, pick(byNode.get(y)!, coreOf.get(a))])
      }
    }
    return out
  }
  const cost = ([a, b]: [number, number]): number[] => [
    get(load, a) + (b === a ? 0 : get(load, b)),
    coreOf.get(a) === coreOf.get(b) ? 1 : 0,
    nodeOf.get(a) === nodeOf.get(b) ? 0 : 1,
    get(coreLoad, coreOf.get(a)!) + get(coreLoad, coreOf.get(b)!),
    get(sidesA, nodeOf.get(a)!) + get(sidesB, nodeOf.get(b)!),
    a,
    b,
  ]

  const placed: PairPlacement[] = []
  for (let i = 0; i < pairs; i++) {
    let best: [number, number] | undefined
    let bestCost: number[] | undefined
    for (const c of candidates()) {
      const k = cost(c)
      if (!bestCost || less(k, bestCost)) [best, bestCost] = [c, k]
    }
    const [a, b] = best!
    placed.push({ cpuA: a, cpuB: b })
    for (const cpu of a === b ? [a] : [a, b]) {
      add(load, cpu)
      add(coreLoad, coreOf.get(cpu)!)
    }
    add(sidesA, nodeOf.get(a)!)
    add(sidesB, nodeOf.get(b)!)
  }

  const shared = cpus.filter((c) => get(load, c) > 1)
  const free = cpus.filter((c) => get(load, c) === 0)
  const need = request === 'same-cpu' ? pairs : 2 * pairs
  if (opts.spin && (same || shared.length > 0)) {
    return {
      skip: same
        ? 'busy-poll with both sides of a pair on one CPU only progresses when the scheduler preempts (milliseconds per round trip, not microseconds)'
        : `${pairs} busy-poll pairs on ${cpus.length} CPUs would share CPUs ${formatCpuList(shared)}, and a spinning side on a shared CPU only progresses when the scheduler preempts`,
    }
  }
  if (shared.length > 0) {
    const why =
      need > cpus.length
        ? `${pairs} pairs need ${need} CPUs and this process may use ${cpus.length}`
        : `the free CPUs ${formatCpuList(free)} had no partner that met ${request}`
    warnings.push(
      warning('placement', `CPUs shared by more than one pair: ${formatCpuList(shared)} (their figures include waiting for the CPU); ${why}`),
    )
  }
  const index = (keep: (p: PairPlacement) => boolean): number[] => placed.flatMap((p, i) => (keep(p) ? [i] : []))
  const siblings = same ? [] : index((p) => p.cpuA !== p.cpuB && coreOf.get(p.cpuA) === coreOf.get(p.cpuB))
  if (siblings.length > 0) {
    warnings.push(
      warning(
        'placement',
        `pairs (counted from 0) with both sides on SMT siblings of one core: ${formatCpuList(siblings)} (no two free CPUs on different cores were left)`,
      ),
    )
  }
  const crossed = request === 'auto' ? index((p) => nodeOf.get(p.cpuA) !== nodeOf.get(p.cpuB)) : []
  if (crossed.length > 0) {
    warnings.push(
      warning(
        'placement',
        `pairs (counted from 0) spanning two NUMA nodes: ${formatCpuList(crossed)} (no node had two free CPUs on different cores left)`,
      ),
    )
  }
  return { pairs: placed, warnings }
}

/**
 * The pair counts a run takes when `--pairs` gives none: 1, 2, 4, … up to the most pairs
 * that still give every side its own CPU (half the CPUs this process may use; all of them
 * for `same-cpu`), that count included. Beyond it pairs share CPUs and the figures measure
 * the scheduler's time slices rather than the mechanism under contention; a larger
 * `--pairs` asked for is still planned, and its warning says so.
 */
export function defaultPairCounts(cpuCount: number, request: PairRequest = 'auto'): number[] {
  const most = Math.max(1, request === 'same-cpu' ? cpuCount : Math.floor(cpuCount / 2))
  const counts: number[] = []
  for (let n = 1; n < most; n *= 2) counts.push(n)
  counts.push(most)
  return counts
}

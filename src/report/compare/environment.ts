import type { RunResult } from '../../core/result.js'

/**
 * Whether two runs can be compared at all. A different CPU, kernel, Node major,
 * placement or --subtract-overhead moves IPC figures by more than any threshold, so
 * those refuse the comparison (unless forced); lesser differences are warnings.
 */

export interface EnvDifference {
  what:
    'CPU model' | 'kernel' | 'Node major version' | 'pin option' | 'subtract-overhead option' | 'Node flags (--node-args)' | 'runs at the same time'
  base: string
  current: string
}

// Read defensively: a run written before the option existed has no such field (= off).
const subtractsOverhead = (run: RunResult): string =>
  String((run.context.options as { subtractOverhead?: boolean } | undefined)?.subtractOverhead === true)

const nodeMajor = (version: string | undefined): string => /^v?(\d+)/.exec(version ?? '')?.[1] ?? String(version)

/**
 * The two runs of one `ipcbench ab` session: measured interleaved on one host, where a
 * different Node binary is the configuration under test, not a change of environment.
 */
export function sameAbSession(base: RunResult, current: RunResult): boolean {
  const b = base.context.configuration
  const c = current.context.configuration
  return b !== undefined && c !== undefined && b.session === c.session && b.round === c.round && b.label !== c.label
}

const nodeArgsOf = (r: RunResult): string => (r.context.options?.nodeArgs ?? []).join(' ') || 'none'

export function environmentDifferences(base: RunResult, current: RunResult): EnvDifference[] {
  const b = base.context.env
  const c = current.context.env
  const pairs: EnvDifference[] = [
    { what: 'CPU model', base: String(b?.host?.cpuModel), current: String(c?.host?.cpuModel) },
    { what: 'kernel', base: String(b?.host?.kernel), current: String(c?.host?.kernel) },
    { what: 'Node major version', base: nodeMajor(b?.node?.version), current: nodeMajor(c?.node?.version) },
    { what: 'pin option', base: String(base.context.options?.pin), current: String(current.context.options?.pin) },
    // Taking the harness's own round trip off every latency shifts all of them at once.
    { what: 'subtract-overhead option', base: subtractsOverhead(base), current: subtractsOverhead(current) },
    // A V8 flag (the optimising compiler off, a heap size) changes what Node is.
    { what: 'Node flags (--node-args)', base: nodeArgsOf(base), current: nodeArgsOf(current) },
  ]
  const intended = sameAbSession(base, current)
  const differences = pairs.filter((d) => d.base !== d.current && !(intended && d.what === 'Node major version'))
  // Not a difference between the two but a flaw of either: another run measured beside it.
  const concurrent = (r: RunResult): string => {
    const o = r.context.env?.concurrentRun
    return o ? `another ipcbench run (${o.runId}, pid ${o.pid}) was measuring` : 'alone'
  }
  if (b?.concurrentRun || c?.concurrentRun) differences.push({ what: 'runs at the same time', base: concurrent(base), current: concurrent(current) })
  return differences
}

export const describeDifference = (d: EnvDifference): string => `${d.what}: "${d.base}" vs "${d.current}"`

/** Differences that do not refuse the comparison but can move figures; the user should know. */
export function softWarnings(base: RunResult, current: RunResult): string[] {
  const w: string[] = []
  const b = base.context
  const c = current.context
  if (b.env?.host?.cpuCount !== c.env?.host?.cpuCount) w.push(`CPU count differs: ${b.env?.host?.cpuCount} vs ${c.env?.host?.cpuCount}`)
  if (b.env?.host?.governor !== c.env?.host?.governor)
    w.push(`CPU governor differs: ${b.env?.host?.governor ?? 'unknown'} vs ${c.env?.host?.governor ?? 'unknown'}`)
  const nodeMinorOnly = nodeMajor(b.env?.node?.version) === nodeMajor(c.env?.node?.version)
  if (b.env?.node?.version !== c.env?.node?.version && nodeMinorOnly && !sameAbSession(base, current)) {
    w.push(`Node version differs: ${b.env?.node?.version} vs ${c.env?.node?.version}`)
  }
  if (b.options?.durationMs !== c.options?.durationMs)
    w.push(`measured time per repetition differs: ${b.options?.durationMs} ms vs ${c.options?.durationMs} ms`)
  for (const [label, ctx] of [
    ['base', b],
    ['current', c],
  ] as const) {
    if (ctx.status !== 'finished') w.push(`the ${label} run did not finish (status "${ctx.status}"); its missing cases show as removed or added`)
    for (const note of ctx.warnings ?? []) if (note.code === 'busy-host' || note.code === 'cpu-governor') w.push(`${label} run: ${note.message}`)
  }
  return w
}

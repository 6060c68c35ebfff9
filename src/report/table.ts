import Table from 'cli-table3'
import type { CaseResult, RunResult } from '../types.js'
import { formatBytesPerSec, formatNs, formatRate } from '../util/units.js'
import { cpuCell, ratioCell, spreadCell } from './summary.js'

/**
 * Terminal tables, one per pattern: rows grouped by size and sorted fastest first,
 * so the comparison a user came for (which mechanism, at this size) reads down a
 * column. Skipped and errored cases follow with their reasons. Pure: data in, text out.
 */
export interface TableOptions {
  color: boolean
}

export function renderTables(run: RunResult, o: TableOptions): string {
  const style = o.color ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] }
  const done = run.cases.filter((c) => c.state === 'completed')
  const withRatio = done.some((c) => c.ratioToBaseline)
  const parts: string[] = []

  const ping = done.filter((c) => c.pattern === 'pingpong' && c.latencyNs)
  if (ping.length > 0) {
    const head = ['round trip (ping-pong)', 'p50', 'p99', 'p99.9', 'round trips/s', 'CPU µs/msg', 'spread', ...(withRatio ? ['×C'] : [])]
    const t = new Table({ head, style })
    for (const c of sortCases(ping, (x) => x.latencyNs!.p50)) {
      t.push([c.id, formatNs(c.latencyNs!.p50), formatNs(c.latencyNs!.p99), formatNs(c.latencyNs!.p999), formatRate(1e9 / c.latencyNs!.mean), cpuCell(c), spreadCell(c), ...(withRatio ? [ratioCell(c.ratioToBaseline?.p50)] : [])])
    }
    parts.push(t.toString())
  }
  const stream = done.filter((c) => c.pattern === 'stream' && c.throughput)
  if (stream.length > 0) {
    const head = ['one way (stream)', 'MB/s', 'msgs/s', 'CPU µs/msg', 'spread', ...(withRatio ? ['×C'] : [])]
    const t = new Table({ head, style })
    for (const c of sortCases(stream, (x) => -x.throughput!.bytesPerSec)) {
      t.push([c.id, formatBytesPerSec(c.throughput!.bytesPerSec), formatRate(c.throughput!.msgsPerSec), cpuCell(c), spreadCell(c), ...(withRatio ? [ratioCell(c.ratioToBaseline?.throughput)] : [])])
    }
    parts.push(t.toString())
  }
  const notes: string[] = []
  if (withRatio) notes.push('×C: Node over the C floor measured in the same run (p50 round trip; C throughput over Node throughput), > 1 = Node slower')
  const cal = run.context.calibration
  if (cal) notes.push(`harness: ${cal.emptySampleNs.toFixed(0)} ns per timed section, ${cal.sameThreadEchoNs.toFixed(0)} ns per round trip with a same-thread echo${run.context.options.subtractOverhead ? ' (subtracted from latency figures)' : ''}`)
  if (notes.length > 0) parts.push(notes.join('\n'))
  const notDone = run.cases.filter((c) => c.state !== 'completed')
  if (notDone.length > 0) parts.push(notDone.map((c) => `${c.state.padEnd(8)} ${c.id}: ${c.reason ?? ''}`).join('\n'))
  const warned = done.filter((c) => c.warnings.length > 0)
  if (warned.length > 0) parts.push(warned.map((c) => `warning  ${c.id}: ${c.warnings.join('; ')}`).join('\n'))
  if (run.context.warnings.length > 0) parts.push(run.context.warnings.map((w) => `warning  ${w}`).join('\n'))
  return parts.join('\n\n')
}

/** Grouped by size (smallest first), then by the figure. */
function sortCases(cases: CaseResult[], key: (c: CaseResult) => number): CaseResult[] {
  return [...cases].sort((a, b) => a.sizeBytes - b.sizeBytes || key(a) - key(b))
}

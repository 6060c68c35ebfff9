import Table from 'cli-table3'
import type { RunResult } from '../core/result.js'
import { renderGlance } from './glance.js'
import { earlyStopNote, memoryNote, summaryTables } from './summary.js'

/**
 * Terminal tables (`--full`): the report's summary tables (summary.ts), one per pattern, then
 * the notes, the cases that did not complete with their reasons, and the warnings.
 * Pure: data in, text out.
 */
export interface TableOptions {
  color: boolean
  /** Every case's row (`--full`); without it, the one-screen summary (glance.ts). */
  full?: boolean
}

/** What `run`, `all` and `report` print: the summary, or with `--full` every case's table and then the summary. */
export function renderTerminal(run: RunResult, o: TableOptions): string {
  const glance = renderGlance(run, { color: o.color })
  return o.full ? `${renderTables(run, o)}\n\n${glance}` : glance
}

/** The terminal names each table in its first column's head, where the HTML has a caption. */
const FIRST_HEAD = {
  pingpong: 'round trip (ping-pong)',
  stream: 'one way (stream)',
  fanin: 'fan-in (senders → one receiver)',
  oneway: 'one way, paced (oneway)',
  load: 'under offered load (load)',
  pairs: 'pairs at once (--pairs)',
} as const

/** The look of every terminal table: cyan heads and grey borders in colour, plain otherwise. */
export const tableStyle = (color: boolean): { head: string[]; border: string[] } =>
  color ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] }

export function renderTables(run: RunResult, o: TableOptions): string {
  const style = tableStyle(o.color)
  const parts: string[] = []
  const tables = summaryTables(run)
  for (const s of tables) {
    const t = new Table({ head: [FIRST_HEAD[s.pattern], ...s.head.slice(1).map((h) => (h === '× C' ? '×C' : h))], style })
    for (const row of s.rows) t.push(row)
    parts.push(t.toString())
  }
  const notes: string[] = []
  for (const t of tables) if (t.pattern !== 'pingpong' && t.pattern !== 'stream') notes.push(t.caption)
  if (tables.some((t) => t.head.includes('× C'))) {
    const oneWay = tables.some((t) => t.pattern === 'oneway' && t.head.includes('× C')) ? ' (one way for oneway cases)' : ''
    notes.push(`×C: Node over the C floor measured in the same run (p50 round trip${oneWay}; C throughput over Node throughput), > 1 = Node slower`)
  }
  const early = earlyStopNote(run)
  if (early) notes.push(early)
  const cal = run.context.calibration
  if (cal) {
    const subtracted = run.context.options.subtractOverhead ? ' (subtracted from latency figures)' : ''
    notes.push(
      `harness: ${cal.clockReadNs !== undefined ? `${cal.clockReadNs.toFixed(0)} ns per clock read (one in every ping-pong sample)` : `${cal.emptySampleNs.toFixed(0)} ns per timed section`}, ` +
        `${cal.sameThreadEchoNs.toFixed(0)} ns per round trip with a same-thread echo` +
        (cal.sameThreadAsyncEchoNs !== undefined ? ` (${cal.sameThreadAsyncEchoNs.toFixed(0)} ns in the event-loop loop)` : '') +
        subtracted,
    )
  }
  const memory = memoryNote(run)
  if (memory) notes.push(memory)
  if (notes.length > 0) parts.push(notes.join('\n'))
  const notDone = run.cases.flatMap((c) => (c.state === 'completed' ? [] : [`${c.state.padEnd(8)} ${c.id}: ${c.reason}`]))
  if (notDone.length > 0) parts.push(notDone.join('\n'))
  const warned = run.cases.filter((c) => c.state === 'completed' && c.warnings.length > 0)
  if (warned.length > 0) parts.push(warned.map((c) => `warning  ${c.id}: ${c.warnings.map((w) => w.message).join('; ')}`).join('\n'))
  if (run.context.warnings.length > 0) parts.push(run.context.warnings.map((w) => `warning  ${w.message}`).join('\n'))
  return parts.join('\n\n')
}

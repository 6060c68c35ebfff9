import { hasLatency, hasThroughput, type CaseResult, type CompletedCase, type PeakRss, type RunResult } from '../core/result.js'
import { formatBytesApprox, formatBytesPerSec, formatNs, formatRate } from '../core/units.js'
import { fanInTable } from './fanin.js'
import { patternTables, type PatternTable } from './patterns.js'

/**
 * The figures every report format shares (HTML, markdown, charts): labels that name a
 * case, CPU per message, and the summary tables as plain cells. Pure: data in, data out;
 * each format only decides how to draw them.
 */

/** `pipe`, or `child-ipc:advanced` when the mechanism has variants. */
export const mechanismLabel = (c: CaseResult): string => (c.variant ? `${c.mechanism}:${c.variant}` : c.mechanism)

/** The case without pattern and size: `pipe/blocking/process`. */
export const caseLabel = (c: CaseResult): string => `${mechanismLabel(c)}/${c.mode}/${c.endpoints}`

/** The CPU columns' heads: one unit per table, named. */
export const CPU_HEAD = { pingpong: 'CPU µs per round trip (both sides)', stream: 'CPU µs per message (both sides)' } as const

/**
 * All the CPU µs (user + sys) the case burned per round trip or message: both sides
 * and every helper thread (`cpu.total`). Results written before it existed (run@1)
 * hold the two sides only; a thread case whose meters were process-wide then counts
 * side a alone (both meters read the same process), marked `sameProcess`.
 */
export function cpuUsPerMsg(c: CompletedCase): { us: number; sameProcess: boolean } | undefined {
  if (!c.cpu) return undefined
  if (c.cpu.total) return { us: c.cpu.total.userUsPerMsg + c.cpu.total.sysUsPerMsg, sameProcess: false }
  const a = c.cpu.a.userUsPerMsg + c.cpu.a.sysUsPerMsg
  const b = c.cpu.b.userUsPerMsg + c.cpu.b.sysUsPerMsg
  const sameProcess = c.endpoints === 'thread' && c.cpu.a.scope === 'process'
  return { us: sameProcess ? a : a + b, sameProcess }
}

export const cpuCell = (c: CompletedCase): string => {
  const cpu = cpuUsPerMsg(c)
  if (!cpu) return '–'
  return cpu.sameProcess ? `${cpu.us.toFixed(2)} (process)` : cpu.us.toFixed(2)
}

/** The fewest samples any repetition of the case took. */
const fewestSamples = (c: CompletedCase): number => Math.min(...c.repetitions.map((r) => r.latencyNs?.n ?? Infinity))

/**
 * A percentile as a cell, marked `(max)` when too few samples stand behind it for it
 * to be anything but the largest (p99 below 100 samples, p99.9 below 1000, per repetition).
 */
export function percentileCell(c: CompletedCase, ns: number, below: number): string {
  return fewestSamples(c) < below ? `${formatNs(ns)} (max)` : formatNs(ns)
}

/** Measured round trips over the measured time; results before run@2 have only the mean to go by. */
const roundTripsPerSec = (c: CompletedCase & { latencyNs: { mean: number } }): number => c.roundTripsPerSec ?? 1e9 / c.latencyNs.mean
/** The spread over the repetitions, and how many they were when the case stopped early (`--target-rme`). */
export const spreadCell = (c: CompletedCase): string => {
  const spread = c.spread ? `±${c.spread.cvPct.toFixed(0)}%` : '–'
  return c.earlyStop ? `${spread} (${c.earlyStop.repetitions} of ${c.earlyStop.of} reps)` : spread
}

/** The --full tables' note on the cases that stopped early; undefined when none did. */
export function earlyStopNote(run: RunResult): string | undefined {
  const stopped = run.cases.flatMap((c) => (c.state === 'completed' && c.earlyStop ? [c.earlyStop] : []))
  if (stopped.length === 0) return undefined
  const targets = [...new Set(stopped.map((e) => e.targetPct))].join('/')
  return `n of m reps (spread): ${stopped.length} of ${run.cases.length} case(s) stopped early, their repetitions agreed within ${targets}% (the relative margin of error of the case's figure, --target-rme)`
}

/** The --full tables' and the summary's line on the run's memory (peakMemory); undefined in results that recorded none. */
export function memoryNote(run: RunResult): string | undefined {
  const parts = peakMemory(run)
  return parts.length > 0 ? `peak memory (resident): ${parts.join(', ')}` : undefined
}

/**
 * The run's memory: the orchestrator's largest resident set and the largest of any
 * repetition's case process and side b process, with the case each was in.
 */
export function peakMemory(run: RunResult): string[] {
  const largest = (of: (r: PeakRss) => number | undefined): { kib: number; id: string } | undefined => {
    let best: { kib: number; id: string } | undefined
    for (const c of run.cases)
      for (const rep of c.repetitions) {
        const kib = rep.peakRssKiB ? of(rep.peakRssKiB) : undefined
        if (kib !== undefined && (!best || kib > best.kib)) best = { kib, id: c.id }
      }
    return best
  }
  const mib = (kib: number): string => formatBytesApprox(Math.round(kib / 1024) * 1024 ** 2)
  const caseProcess = largest((r) => r.caseProcess)
  const peer = largest((r) => r.peer)
  const own = run.context.peakRssKiB
  return [
    ...(own !== undefined ? [`ipcbench ${mib(own)}`] : []),
    ...(caseProcess ? [`a case process ${mib(caseProcess.kib)} (${caseProcess.id})`] : []),
    ...(peer ? [`a peer process ${mib(peer.kib)} (${peer.id})`] : []),
  ]
}

export const ratioCell = (r: number | undefined): string => (r === undefined ? '–' : `${r.toFixed(2)}×`)

export interface SummaryTable {
  pattern: 'pingpong' | 'stream' | 'fanin' | PatternTable['pattern']
  caption: string
  head: string[]
  rows: string[][]
}

/** One table per pattern (and one of the pairs cases), rows grouped by size (smallest first) and sorted fastest first. */
export function summaryTables(run: RunResult): SummaryTable[] {
  const withRatio = run.cases.some((c) => c.state === 'completed' && c.ratioToFloor)
  const ratioHead = withRatio ? ['× C'] : []
  const tables: SummaryTable[] = []
  const ping = run.cases.filter(hasLatency)
  if (ping.length > 0) {
    tables.push({
      pattern: 'pingpong',
      caption: 'Round trip (ping-pong)',
      head: ['case', 'p50', 'p99', 'p99.9', 'round trips/s', CPU_HEAD.pingpong, 'spread', ...ratioHead],
      rows: bySize(ping, (c) => c.latencyNs.p50).map((c) => {
        const l = c.latencyNs
        return [
          c.id,
          formatNs(l.p50),
          percentileCell(c, l.p99, 100),
          percentileCell(c, l.p999, 1000),
          formatRate(roundTripsPerSec(c)),
          cpuCell(c),
          spreadCell(c),
          ...(withRatio ? [ratioCell(c.ratioToFloor?.p50)] : []),
        ]
      }),
    })
  }
  const stream = run.cases.filter(hasThroughput)
  if (stream.length > 0) {
    tables.push({
      pattern: 'stream',
      caption: 'One way (stream)',
      head: ['case', 'MB/s', 'msgs/s', CPU_HEAD.stream, 'spread', ...ratioHead],
      rows: bySize(stream, (c) => -c.throughput.bytesPerSec).map((c) => [
        c.id,
        formatBytesPerSec(c.throughput.bytesPerSec),
        formatRate(c.throughput.msgsPerSec),
        cpuCell(c),
        spreadCell(c),
        ...(withRatio ? [ratioCell(c.ratioToFloor?.throughput)] : []),
      ]),
    })
  }
  const fan = fanInTable(run)
  if (fan) tables.push({ pattern: 'fanin', ...fan })
  tables.push(...patternTables(run))
  return tables
}

/** Cases that did not complete, with the reason a user can act on. */
export function notCompleted(run: RunResult): Array<{ id: string; state: string; reason: string }> {
  return run.cases.flatMap((c) => {
    if (c.state === 'completed') return []
    const e = c.state === 'errored' ? c.error : undefined
    const detail = e ? [e.code, e.syscall && `in ${e.syscall}`, e.side && `side ${e.side}`].filter(Boolean).join(', ') : ''
    const reason = c.reason ?? e?.message ?? '(no reason recorded)'
    return [{ id: c.id, state: c.state, reason: detail && !reason.includes(detail) ? `${reason} (${detail})` : reason }]
  })
}

/** The run's own warnings, then each case's, prefixed by its id. */
export function allWarnings(run: RunResult): string[] {
  return [...run.context.warnings.map((w) => w.message), ...run.cases.flatMap((c) => c.warnings.map((w) => `${c.id}: ${w.message}`))]
}

/** Each run's name in legends: its id, made unique when the same run is given twice. */
export function runLabels(runs: RunResult[]): string[] {
  return runs.map((r, i) => (runs.findIndex((o) => o.context.runId === r.context.runId) === i ? r.context.runId : `${r.context.runId} (#${i + 1})`))
}

/** Grouped by size (smallest first), then by the figure: which mechanism, at this size, reads down a column. */
function bySize<C extends CaseResult>(cases: C[], key: (c: C) => number): C[] {
  return [...cases].sort((a, b) => a.sizeBytes - b.sizeBytes || key(a) - key(b))
}

import {
  hasLoad,
  hasOneWay,
  hasPairs,
  isCompleted,
  isOnePair,
  RATE_KEPT,
  type CaseResult,
  type CompletedCase,
  type FloorResult,
  type LoadCase,
  type OneWayCase,
  type PairsCase,
  type RunResult,
} from '../core/result.js'
import { formatRate as formatOfferedRate } from '../core/cases.js'
import { formatBytesPerSec, formatNs, formatRate, formatSizeBytes } from '../core/units.js'
import { alignColumns, kShort, nsShort } from './format.js'
import { caseLabel, cpuCell, mechanismLabel, percentileCell, ratioCell, spreadCell } from './summary.js'

/**
 * The one-way, offered-load and many-pairs cases in the reports: a table each (every
 * case, for `--full`, the HTML page and markdown) and the terminal summary's lines (one
 * size, a row per mechanism). Pure: result types in, cells and text out. Runs without
 * such cases get no table and no line, so their reports read as before.
 */

export interface PatternTable {
  pattern: 'oneway' | 'load' | 'pairs'
  caption: string
  head: string[]
  rows: string[][]
}

/** The terminal summary shows this many rows of a section at most (fewer when the screen is full); `--full` and the report show every case. */
export const GLANCE_SECTION_ROWS = 10

const withRatio = (cases: CompletedCase[]): boolean => cases.some((c) => c.ratioToFloor !== undefined)
/** The C floor's figures where it completed. */
export const floorOf = (c: CompletedCase): FloorResult | undefined => (c.floor?.state === 'completed' ? c.floor : undefined)
/** `node/C` where the section shows the C floor (`–` for a case without one), `node` otherwise. */
const nodeAndC = (node: string, c: string | undefined, withC: boolean): string => (withC ? `${node}/${c ?? '–'}` : node)
const pct = (share: number): string => `${(100 * share).toFixed(1)}%`

/** One-way latency, each message acknowledged before the next: the table. */
export function oneWayTable(run: RunResult): PatternTable | undefined {
  const cases = run.cases.filter(hasOneWay)
  if (cases.length === 0) return undefined
  const ratio = withRatio(cases)
  return {
    pattern: 'oneway',
    caption:
      "One way, paced (oneway): each message's receipt less its send time on CLOCK_MONOTONIC, each acknowledged before the next; " +
      'beside it the round trip of the same messages and their acknowledgements',
    head: [
      'case',
      'p50 one way',
      'p99',
      'p99.9',
      'round trip p50',
      'one way ÷ round trip',
      'CPU µs per message (both sides)',
      'spread',
      ...(ratio ? ['× C'] : []),
    ],
    rows: [...cases]
      .sort((a, b) => a.sizeBytes - b.sizeBytes || a.latencyNs.p50 - b.latencyNs.p50)
      .map((c) => [
        c.id,
        formatNs(c.latencyNs.p50),
        percentileCell(c, c.latencyNs.p99, 100),
        percentileCell(c, c.latencyNs.p999, 1000),
        formatNs(c.oneWay.roundTripP50Ns),
        c.oneWay.p50OverRoundTrip.toFixed(2),
        cpuCell(c),
        spreadCell(c),
        ...(ratio ? [ratioCell(c.ratioToFloor?.p50)] : []),
      ]),
  }
}

/** `10% = 18.4k/s`, or `20000 msg/s` when the rate was asked for in messages per second. */
const offeredCell = (c: LoadCase): string =>
  'percent' in c.rate ? `${formatOfferedRate(c.rate)} = ${formatRate(c.load.offeredMsgsPerSec)}` : formatRate(c.load.offeredMsgsPerSec)

/** The load cases of one mechanism, mode and endpoints together, their rates in order: how latency grows with load reads down the table. */
const byCaseThenRate = (a: LoadCase, b: LoadCase): number =>
  a.sizeBytes - b.sizeBytes || caseLabel(a).localeCompare(caseLabel(b)) || a.load.offeredMsgsPerSec - b.load.offeredMsgsPerSec

/** Latency under a fixed offered rate: the table. */
export function loadTable(run: RunResult): PatternTable | undefined {
  const cases = run.cases.filter(hasLoad)
  if (cases.length === 0) return undefined
  const withC = cases.some((c) => floorOf(c) !== undefined)
  return {
    pattern: 'load',
    caption:
      "Under offered load (load): the sender keeps a schedule (message k at t0 + k/rate) and each latency runs from the message's scheduled send time, " +
      'so a stall counts for every message it delays (coordinated omission corrected); a share of capacity is of the case’s own full-speed rate in this run; ' +
      'kept: achieved ÷ offered rate; CPU: all CPU of both sides per message, idle waiting included',
    head: [
      'case',
      'offered',
      'kept',
      'p50',
      'p99',
      'p99.9',
      'CPU µs per message (both sides)',
      'spread',
      ...(withC ? ['C p50', 'C p99', 'C kept'] : []),
    ],
    rows: [...cases].sort(byCaseThenRate).map((c) => {
      const f = floorOf(c)
      return [
        c.id,
        offeredCell(c),
        pct(c.load.achievedOverOffered),
        formatNs(c.latencyNs.p50),
        percentileCell(c, c.latencyNs.p99, 100),
        percentileCell(c, c.latencyNs.p999, 1000),
        c.load.cpuUsPerMsg.toFixed(2),
        spreadCell(c),
        ...(withC ? [formatNs(f?.latencyNs?.p50), formatNs(f?.latencyNs?.p99), f?.load ? pct(f.load.achievedOverOffered) : '–'] : []),
      ]
    }),
  }
}

/** Several pairs at once: the table. */
export function pairsTable(run: RunResult): PatternTable | undefined {
  const cases = run.cases.filter(hasPairs)
  if (cases.length === 0) return undefined
  const withC = cases.some((c) => floorOf(c)?.pairsRun)
  const latency = cases.some((c) => c.latencyNs)
  const eff = (e: number | undefined): string => (e === undefined ? '–' : e.toFixed(2))
  return {
    pattern: 'pairs',
    caption:
      'Pairs at once (--pairs): each pair its own objects and peers, all started at one instant; aggregate: messages (round trips for ping-pong and one-way) ' +
      'per second of all pairs together; efficiency: aggregate ÷ (pairs × the one-pair case of this run); ' +
      'overlap: the share of their span all pairs were measuring at once' +
      (latency ? '; latency over every pair’s samples' : ''),
    head: [
      'case',
      'pairs',
      'aggregate msgs/s',
      'MB/s',
      'efficiency',
      ...(latency ? ['p50', 'p99'] : []),
      'overlap',
      'CPU µs per message (both sides)',
      'spread',
      ...(withC ? ['C aggregate', 'C efficiency'] : []),
    ],
    rows: [...cases]
      .sort(
        (a, b) => a.sizeBytes - b.sizeBytes || caseLabel(a).localeCompare(caseLabel(b)) || a.pattern.localeCompare(b.pattern) || a.pairs - b.pairs,
      )
      .map((c) => {
        const f = floorOf(c)?.pairsRun
        return [
          c.id,
          String(c.pairs),
          formatRate(c.pairsRun.aggregate.msgsPerSec),
          formatBytesPerSec(c.pairsRun.aggregate.bytesPerSec),
          eff(c.pairsRun.scalingEfficiency),
          ...(latency ? (c.latencyNs ? [formatNs(c.latencyNs.p50), percentileCell(c, c.latencyNs.p99, 100)] : ['–', '–']) : []),
          pct(c.pairsRun.overlap),
          cpuCell(c),
          spreadCell(c),
          ...(withC ? [formatRate(f?.aggregate.msgsPerSec), eff(f?.scalingEfficiency)] : []),
        ]
      }),
  }
}

/** The tables of the patterns this module draws, in the order the reports show them. */
export function patternTables(run: RunResult): PatternTable[] {
  return [oneWayTable(run), loadTable(run), pairsTable(run)].filter((t): t is PatternTable => t !== undefined)
}

/** The smallest size of the cases, and the cases at it: the terminal summary's lines show one size. */
function atSmallest<C extends CaseResult>(cases: C[]): { size: number; cases: C[] } {
  const size = Math.min(...cases.map((c) => c.sizeBytes))
  return { size, cases: cases.filter((c) => c.sizeBytes === size) }
}

/** Aligned rows under a head line, at most `maxRows`, and how many more `--full` shows. */
function section(title: string, head: string[], rows: string[][], maxRows: number): string[] {
  const shown = rows.slice(0, maxRows)
  const more = rows.length - shown.length
  return [
    title,
    ...alignColumns(head, shown).map((l) => `  ${l}`.trimEnd()),
    ...(more > 0 ? [`  … ${more} more row${more > 1 ? 's' : ''}: --full or the HTML report`] : []),
  ]
}

/**
 * The summary's one-way lines: per mechanism and endpoints, each mode's one-way p50
 * (the C floor's after a slash) and one way ÷ round trip.
 */
export function oneWayGlanceLines(run: RunResult, maxRows = GLANCE_SECTION_ROWS): string[] {
  const all = run.cases.filter(hasOneWay)
  if (all.length === 0) return []
  const { size, cases } = atSmallest(all)
  const withC = cases.some((c) => floorOf(c)?.latencyNs)
  const modes = [...new Set(cases.map((c) => c.mode))]
  const rowKey = (c: CaseResult): string => `${mechanismLabel(c)}/${c.endpoints}`
  const keys = [...new Set(cases.map(rowKey))]
  const cell = (c: OneWayCase | undefined): string => {
    if (!c) return '·'
    const cf = floorOf(c)?.latencyNs?.p50
    return `${nodeAndC(nsShort(c.latencyNs.p50), cf === undefined ? undefined : nsShort(cf), withC)} (${c.oneWay.p50OverRoundTrip.toFixed(2)})`
  }
  const rows = keys.map((k) => [k, ...modes.map((m) => cell(cases.find((c) => rowKey(c) === k && c.mode === m)))])
  return section(
    `one-way latency at ${formatSizeBytes(size)}: p50${withC ? ' (Node/C)' : ''}, each message acknowledged before the next; in brackets one way ÷ round trip`,
    ['one way', ...modes],
    rows,
    maxRows,
  )
}

/**
 * The summary's load lines: per mechanism, mode and endpoints, the p99 at each offered
 * rate (the C floor's after a slash), `!` where the sender fell behind the schedule.
 */
export function loadGlanceLines(run: RunResult, maxRows = GLANCE_SECTION_ROWS): string[] {
  const all = run.cases.filter(hasLoad)
  if (all.length === 0) return []
  const { size, cases } = atSmallest(all)
  const withC = cases.some((c) => floorOf(c)?.latencyNs)
  const rateOf = (c: LoadCase): string => formatOfferedRate(c.rate)
  // Ordered by the offered rate of the first case at each (shares of capacity order alike in every case).
  const rates = [...new Set(cases.map(rateOf))].sort(
    (a, b) => cases.find((c) => rateOf(c) === a)!.load.offeredMsgsPerSec - cases.find((c) => rateOf(c) === b)!.load.offeredMsgsPerSec,
  )
  const keys = [...new Set(cases.map(caseLabel))]
  const kept = (share: number | undefined): string => (share !== undefined && share < RATE_KEPT ? '!' : '')
  const cell = (c: LoadCase | undefined): string => {
    if (!c) return '·'
    const f = floorOf(c)
    const cp99 = f?.latencyNs?.p99
    return nodeAndC(
      `${nsShort(c.latencyNs.p99)}${kept(c.load.achievedOverOffered)}`,
      cp99 === undefined ? undefined : `${nsShort(cp99)}${kept(f?.load?.achievedOverOffered)}`,
      withC,
    )
  }
  const rows = keys.map((k) => [k, ...rates.map((r) => cell(cases.find((c) => caseLabel(c) === k && rateOf(c) === r)))])
  return section(
    `under load at ${formatSizeBytes(size)}: p99${withC ? ' (Node/C)' : ''} from the scheduled send time at each offered rate; ! the sender kept under 98% of the rate`,
    ['offered', ...rates],
    rows,
    maxRows,
  )
}

/**
 * The summary's pairs lines: per case (mechanism, mode, endpoints, pattern), thousands of
 * messages per second of all pairs together for each pair count, its efficiency against
 * one pair in brackets.
 */
export function pairsGlanceLines(run: RunResult, maxRows = GLANCE_SECTION_ROWS): string[] {
  const all = run.cases.filter(hasPairs)
  if (all.length === 0) return []
  const { size, cases } = atSmallest(all)
  const rowKey = (c: CaseResult): string => `${caseLabel(c)} ${c.pattern}${c.pattern === 'load' && c.rate ? ` ${formatOfferedRate(c.rate)}` : ''}`
  const keys = [...new Set(cases.map(rowKey))]
  const counts = [...new Set(cases.map((c) => c.pairs))].sort((a, b) => a - b)
  // The one-pair case of a row, where the run has it: the column every efficiency is against.
  const single = (k: string): CompletedCase | undefined =>
    run.cases.find((c): c is CompletedCase => isCompleted(c) && isOnePair(c) && c.sizeBytes === size && rowKey(c) === k)
  const rateOf = (c: CompletedCase): number | undefined => c.throughput?.msgsPerSec ?? c.roundTripsPerSec ?? c.load?.achievedMsgsPerSec
  const withSingle = keys.some((k) => single(k) !== undefined)
  const cell = (c: PairsCase | undefined): string => {
    if (!c) return '·'
    const e = c.pairsRun.scalingEfficiency
    return `${kShort(c.pairsRun.aggregate.msgsPerSec)}${e === undefined ? '' : ` (${e.toFixed(2)})`}`
  }
  const rows = keys.map((k) => {
    const one = single(k)
    const r = one ? rateOf(one) : undefined
    return [
      k,
      ...(withSingle ? [r === undefined ? '·' : kShort(r)] : []),
      ...counts.map((n) => cell(cases.find((c) => rowKey(c) === k && c.pairs === n))),
    ]
  })
  return section(
    `pairs at once at ${formatSizeBytes(size)}: thousands of msgs/s of all pairs together (round trips for ping-pong and one-way); in brackets ÷ (pairs × one pair)`,
    ['pairs', ...(withSingle ? ['1'] : []), ...counts.map(String)],
    rows,
    maxRows,
  )
}

import {
  isOnePair,
  MODES,
  type CaseResult,
  type CompletedCase,
  type Endpoints,
  type LatencyCase,
  type Mode,
  type RunResult,
  type ThroughputCase,
} from '../core/result.js'
import { formatSizeBytes } from '../core/units.js'
import { mechanismLabel } from './summary.js'

/**
 * The answers at a glance, as data: which size a run is read at (its headline sizes),
 * the matrix of mechanism × endpoints × mode at those sizes, and the families that
 * group mechanisms in panels. Every format (terminal summary, "what to use", charts)
 * draws from these, so they agree. Pure: a run in, figures out.
 */

/** Ping-pong is read at 64 B and streams at 64 KiB where the run has them; otherwise at the nearest size it has. */
/** How each endpoints kind is named in headings and findings. */
export const ENDPOINT_NAME: Record<Endpoints, string> = { process: 'processes', thread: 'threads' }

export const HEADLINE_PING_BYTES = 64
export const HEADLINE_STREAM_BYTES = 65536

/** The order families are shown in; a family this list does not know (a custom mechanism's) comes after, by name. */
const FAMILY_ORDER = ['fd', 'socket', 'shared-memory', 'message-queue', 'signal', 'runtime']

export const familyRank = (f: string | undefined): number => {
  const i = FAMILY_ORDER.indexOf(f ?? '')
  return i >= 0 ? i : FAMILY_ORDER.length
}

/** Families, known ones first in their order, then the others by name. */
export const sortFamilies = (fs: string[]): string[] => [...new Set(fs)].sort((a, b) => familyRank(a) - familyRank(b) || a.localeCompare(b))

/**
 * At which size each mechanism is read for one pattern: `preferred` where the run has
 * it, else the size of that mechanism nearest to it (a fixed-size mechanism's own).
 * The mechanisms read at another size are named, so every format can say so.
 */
export interface SizePick {
  /** The size most cases are read at (`preferred`, or the run's nearest to it). */
  bytes: number
  label: string
  /** Mechanism label → the size it is read at. */
  byMech: Map<string, number>
  /** `eventfd at 8B`, for mechanisms read at another size. */
  exceptions: string[]
  pick: (c: CaseResult) => boolean
}

export function pickSize(cases: readonly CaseResult[], preferred: number): SizePick | undefined {
  if (cases.length === 0) return undefined
  const dist = (s: number): number => Math.abs(Math.log2(Math.max(s, 1)) - Math.log2(preferred))
  const sizes = [...new Set(cases.map((c) => c.sizeBytes))]
  const bytes = sizes.reduce((best, s) => (dist(s) < dist(best) || (dist(s) === dist(best) && s < best) ? s : best))
  const byMech = new Map<string, number>()
  for (const c of cases) {
    const m = mechanismLabel(c)
    const cur = byMech.get(m)
    if (cur === undefined || dist(c.sizeBytes) < dist(cur) || (dist(c.sizeBytes) === dist(cur) && c.sizeBytes < cur)) byMech.set(m, c.sizeBytes)
  }
  const exceptions = [...byMech].filter(([, s]) => s !== bytes).map(([m, s]) => `${m} at ${formatSizeBytes(s)}`)
  return { bytes, label: formatSizeBytes(bytes), byMech, exceptions, pick: (c) => byMech.get(mechanismLabel(c)) === c.sizeBytes }
}

/**
 * The headline sizes of a run. Sizes are picked among the cases the plan had (completed
 * or not), so a mechanism whose 64 B case errored shows that error at 64 B instead of
 * a figure at another size.
 */
export function headlineSizes(run: RunResult): { ping?: SizePick; stream?: SizePick } {
  return {
    ping: pickSize(
      run.cases.filter((c) => c.pattern === 'pingpong' && isOnePair(c)),
      HEADLINE_PING_BYTES,
    ),
    stream: pickSize(
      run.cases.filter((c) => c.pattern === 'stream' && isOnePair(c)),
      HEADLINE_STREAM_BYTES,
    ),
  }
}

/** One mechanism with one kind of endpoints: a row of the matrix. */
export interface MatrixRow {
  family?: string
  mech: string
  endpoints: Endpoints
  /** The case at the headline size per mode, whatever its state; absent where the run had none. */
  ping: Partial<Record<Mode, CaseResult>>
  stream: Partial<Record<Mode, CaseResult>>
}

export interface Matrix {
  rows: MatrixRow[]
  /** The modes that have a case in some row, in the usual order. */
  modes: Mode[]
  ping?: SizePick
  stream?: SizePick
  /** Whether some completed case has a C floor ratio (the ×C columns are shown then). */
  withFloor: boolean
}

/** Rows grouped by family (in FAMILY_ORDER), then by mechanism, processes before threads. */
export function headlineMatrix(run: RunResult): Matrix {
  const { ping, stream } = headlineSizes(run)
  const rows = new Map<string, MatrixRow>()
  const place = (c: CaseResult, into: 'ping' | 'stream'): void => {
    const key = `${mechanismLabel(c)}\u0000${c.endpoints}`
    const row = rows.get(key) ?? { family: c.family, mech: mechanismLabel(c), endpoints: c.endpoints, ping: {}, stream: {} }
    row[into][c.mode] = c
    rows.set(key, row)
  }
  for (const c of run.cases.filter(isOnePair)) {
    if (c.pattern === 'pingpong' && ping?.pick(c)) place(c, 'ping')
    else if (c.pattern === 'stream' && stream?.pick(c)) place(c, 'stream')
  }
  const sorted = [...rows.values()].sort(
    (a, b) =>
      familyRank(a.family) - familyRank(b.family) ||
      (a.family ?? '').localeCompare(b.family ?? '') ||
      a.mech.localeCompare(b.mech) ||
      a.endpoints.localeCompare(b.endpoints),
  )
  const modes = MODES.filter((m) => sorted.some((r) => r.ping[m] || r.stream[m]))
  const withFloor = run.cases.some(
    (c) => c.state === 'completed' && c.ratioToFloor && (c.ratioToFloor.p50 ?? c.ratioToFloor.throughput) !== undefined,
  )
  return { rows: sorted, modes, ping, stream, withFloor }
}

/** The completed ping-pong cases read at the headline size. */
export const headlinePing = (run: RunResult): LatencyCase[] => {
  const { ping } = headlineSizes(run)
  return run.cases.filter(
    (c): c is LatencyCase => c.state === 'completed' && c.pattern === 'pingpong' && isOnePair(c) && !!c.latencyNs && !!ping?.pick(c),
  )
}

/** The completed stream cases read at the headline size. */
export const headlineStream = (run: RunResult): ThroughputCase[] => {
  const { stream } = headlineSizes(run)
  return run.cases.filter(
    (c): c is ThroughputCase => c.state === 'completed' && c.pattern === 'stream' && isOnePair(c) && !!c.throughput && !!stream?.pick(c),
  )
}

/** A case as the summary names it beside its figure: `pipe blocking`. */
export const shortName = (c: CompletedCase | CaseResult): string => `${mechanismLabel(c)} ${c.mode}`

/**
 * Panels of at most `max` mechanisms, one family each (a family with more is cut in
 * parts). Results written before cases carried their family are cut in alphabetical
 * runs of mechanisms instead, so no panel colours more than `max` series either way.
 */
export function familyPanels(cases: readonly CaseResult[], max = 8): Array<{ title: string; mechs: string[] }> {
  const byFamily = new Map<string, Set<string>>()
  for (const c of cases) {
    const f = c.family ?? ''
    byFamily.set(f, (byFamily.get(f) ?? new Set()).add(mechanismLabel(c)))
  }
  const panels: Array<{ title: string; mechs: string[] }> = []
  for (const f of sortFamilies([...byFamily.keys()])) {
    const mechs = [...byFamily.get(f)!].sort()
    const parts = Math.ceil(mechs.length / max)
    const per = Math.ceil(mechs.length / parts)
    for (let i = 0; i < parts; i++) {
      const chunk = mechs.slice(i * per, (i + 1) * per)
      const name = f === '' ? 'mechanisms' : f
      const title = f === '' && parts > 1 ? `${name} ${chunk[0]} – ${chunk[chunk.length - 1]}` : parts > 1 ? `${name} (${i + 1}/${parts})` : name
      panels.push({ title, mechs: chunk })
    }
  }
  return panels
}

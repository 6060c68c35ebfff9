import type { CaseResult, Endpoints, Mode, RunResult } from '../core/result.js'
import { nsShort } from './format.js'
import { findings, outcomeGroups, warningGroups } from './findings.js'
import { ENDPOINT_NAME, headlineMatrix, type Matrix, type MatrixRow } from './headline.js'
import { cpuUsPerMsg, memoryNote } from './summary.js'
import { fanInGlanceLines } from './fanin.js'
import { GLANCE_SECTION_ROWS, loadGlanceLines, oneWayGlanceLines, pairsGlanceLines } from './patterns.js'

/**
 * The terminal summary a person reads in ten seconds: the matrix of mechanism × mode at
 * the headline sizes (round trip p50 with ×C and CPU, stream throughput), the findings
 * that stand out, and the warnings and unfinished cases counted. It fits one screen
 * (about 60 lines of `width` columns) for a full run; `--full` prints every case's row
 * instead (table.ts). Pure: a run in, text out.
 */
export interface GlanceOptions {
  color: boolean
  /** Columns the text must fit (120 unless told). */
  width?: number
}

const cpuShort = (us: number): string => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2))

/** An SGR escape (colour, bold), built from its code point: a control character in a regex literal is easy to misread. */
const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')
const visible = (s: string): number => [...s.replace(SGR, '')].length
const padL = (s: string, w: number): string => ' '.repeat(Math.max(0, w - visible(s))) + s
const padR = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - visible(s)))

/** A cell of sub-columns, each right-aligned to its own width. */
type Sub = string[]

function pingSubs(c: CaseResult | undefined, withFloor: boolean): Sub {
  const n = withFloor ? 3 : 2
  if (!c) return ['·', ...Array<string>(n - 1).fill('')]
  if (c.state !== 'completed' || !c.latencyNs) return [c.state, ...Array<string>(n - 1).fill('')]
  const cpu = cpuUsPerMsg(c)
  const r = c.ratioToFloor?.p50
  // The head says ×C; the bare ratio keeps three columns of modes within 120 columns.
  return [nsShort(c.latencyNs.p50), ...(withFloor ? [r === undefined ? '' : r.toFixed(2)] : []), cpu ? cpuShort(cpu.us) : '–']
}

function streamSubs(c: CaseResult | undefined): Sub {
  if (!c) return ['·']
  if (c.state !== 'completed' || !c.throughput) return [c.state]
  return [mbShort(c.throughput.bytesPerSec)]
}

/** MB/s (10^6 B/s) as a bare number, three significant digits below 1000: the head carries the unit. */
export const mbShort = (bytesPerSec: number): string => {
  const mb = bytesPerSec / 1e6
  return mb >= 1000 ? mb.toFixed(0) : String(Number(mb.toPrecision(3)))
}

interface Block {
  /** The block's title over its columns. */
  title: string
  /** Mode names over each group of sub-columns; the sub-columns' own heads under them. */
  modes: Mode[]
  subHeads: string[]
  cells: (row: MatrixRow, mode: Mode) => Sub
}

/** Lays out blocks of mode groups beside each other; returns the lines (no colour). */
function layout(rows: MatrixRow[], blocks: Block[], labelHead: string): { head: string[]; body: Array<{ endpoints: Endpoints; line: string }> } {
  const label = (r: MatrixRow): string => r.mech
  const labelW = Math.max(visible(labelHead), ...rows.map((r) => visible(label(r))))
  // Widths per block, per mode, per sub-column.
  const widths = blocks.map((b) => b.modes.map((m) => b.subHeads.map((h, k) => Math.max(visible(h), ...rows.map((r) => visible(b.cells(r, m)[k]))))))
  // A mode's name must fit over its group: widen the group's first sub-column when it does not.
  blocks.forEach((b, i) =>
    b.modes.forEach((m, j) => {
      const w = widths[i][j].reduce((s, x) => s + x, 0) + widths[i][j].length - 1
      if (w < visible(m)) widths[i][j][0] += visible(m) - w
    }),
  )
  const groupW = (i: number, j: number): number => widths[i][j].reduce((s, x) => s + x, 0) + widths[i][j].length - 1
  const blockW = (i: number): number => blocks[i].modes.reduce((s, _, j) => s + groupW(i, j), 0) + 2 * (blocks[i].modes.length - 1)
  const join = (parts: string[]): string => parts.join('   ')
  const titles = join([padR('', labelW), ...blocks.map((b, i) => padR(b.title, blockW(i)))])
  const modeLine = join([padR('', labelW), ...blocks.map((b, i) => b.modes.map((m, j) => padL(m, groupW(i, j))).join('  '))])
  const subLine = join([
    padR(labelHead, labelW),
    ...blocks.map((b, i) => b.modes.map((_, j) => b.subHeads.map((h, k) => padL(h, widths[i][j][k])).join(' ')).join('  ')),
  ])
  const body = rows.map((r) => ({
    endpoints: r.endpoints,
    line: join([
      padR(label(r), labelW),
      ...blocks.map((b, i) =>
        b.modes
          .map((m, j) =>
            b
              .cells(r, m)
              .map((s, k) => padL(s, widths[i][j][k]))
              .join(' '),
          )
          .join('  '),
      ),
    ]).trimEnd(),
  }))
  return { head: [titles.trimEnd(), modeLine.trimEnd(), subLine.trimEnd()], body }
}

function blocksOf(m: Matrix): { ping?: Block; stream?: Block } {
  const pingModes = m.modes.filter((mode) => m.rows.some((r) => r.ping[mode]))
  const streamModes = m.modes.filter((mode) => m.rows.some((r) => r.stream[mode]))
  const ping: Block | undefined = m.ping
    ? {
        title: `round trip at ${m.ping.label}: p50${m.withFloor ? ', ×C' : ''}, CPU µs per round trip`,
        modes: pingModes,
        subHeads: ['p50', ...(m.withFloor ? ['×C'] : []), 'CPU'],
        cells: (r, mode) => pingSubs(r.ping[mode], m.withFloor),
      }
    : undefined
  const stream: Block | undefined = m.stream
    ? { title: `one way at ${m.stream.label}: MB/s`, modes: streamModes, subHeads: ['MB/s'], cells: (r, mode) => streamSubs(r.stream[mode]) }
    : undefined
  return { ping: ping && pingModes.length > 0 ? ping : undefined, stream: stream && streamModes.length > 0 ? stream : undefined }
}

/** The matrix, beside each other when they fit the width, else one under the other. */
function matrixLines(m: Matrix, width: number, color: boolean): string[] {
  const { ping, stream } = blocksOf(m)
  const blocks = [ping, stream].filter((b): b is Block => b !== undefined)
  if (blocks.length === 0) return []
  const render = (bs: Block[], rows: MatrixRow[]): string[] => {
    const { head, body } = layout(rows, bs, 'mechanism')
    const out = head.map((h) => (color ? `\x1b[36m${h}\x1b[39m` : h))
    let last: Endpoints | undefined
    for (const b of body) {
      if (b.endpoints !== last) out.push(color ? `\x1b[1m${ENDPOINT_NAME[b.endpoints]}\x1b[22m` : ENDPOINT_NAME[b.endpoints])
      last = b.endpoints
      out.push(`  ${b.line}`)
    }
    return out
  }
  const byEndpoints = [...m.rows].sort((a, b) => (a.endpoints === b.endpoints ? 0 : a.endpoints === 'process' ? -1 : 1))
  const rowsFor = (b: Block): MatrixRow[] => byEndpoints.filter((r) => b.modes.some((mode) => (b === ping ? r.ping[mode] : r.stream[mode])))
  const side = render(blocks, byEndpoints)
  if (side.every((l) => visible(l) <= width)) return side
  return blocks.flatMap((b, i) => [...(i > 0 ? [''] : []), ...render([b], rowsFor(b))])
}

/** Words wrapped to `width`, the lines after the first indented by `indent`. */
export function wrap(text: string, width: number, indent = 4): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`
    if (visible(next) > width && line.trim() !== '') {
      lines.push(line)
      line = `${' '.repeat(indent)}${word}`
    } else line = next
  }
  if (line.trim() !== '') lines.push(line)
  return lines
}

const cut = (s: string, w: number): string => (visible(s) <= w ? s : `${[...s].slice(0, w - 1).join('')}…`)

/** The summary's line budget: one screen. */
export const GLANCE_MAX_LINES = 60

export function renderGlance(run: RunResult, o: GlanceOptions): string {
  const width = o.width ?? 120
  const m = headlineMatrix(run)
  const done = run.cases.filter((c) => c.state === 'completed').length
  const status = run.context.status !== 'finished' ? ` (${run.context.status})` : ''
  const head = [`ipcbench ${run.context.runId}: ${done} of ${run.cases.length} cases completed${status} · every case: --full, or the HTML report`, '']
  const matrix = matrixLines(m, width, o.color)
  const notes: string[] = []
  if (m.withFloor) notes.push('×C: Node p50 ÷ C floor p50 measured in the same run, > 1 = Node slower')
  if (m.ping && m.ping.exceptions.length > 0) notes.push(`round trip of ${m.ping.exceptions.join(', ')}`)
  if (m.stream && m.stream.exceptions.length > 0) notes.push(`stream of ${m.stream.exceptions.join(', ')}`)
  notes.push('· not in this run')
  const noteLines = wrap(`(${notes.join('; ')})`, width)
  // Each section's title wraps; its aligned rows are cut at the width rather than broken.
  const sectionLines = (lines: string[]): string[] => lines.map((l, i) => (i === 0 ? wrap(l, width) : [cut(l, width)])).flat()
  const fanIn = sectionLines(fanInGlanceLines(run))
  const patternsAt = (maxRows: number): string[][] =>
    [oneWayGlanceLines(run, maxRows), loadGlanceLines(run, maxRows), pairsGlanceLines(run, maxRows)].filter((s) => s.length > 0).map(sectionLines)
  const findingLines = findings(run).map((f) => wrap(`${f.what}: ${f.items.join(' · ')}`, width))
  const outcomes = outcomeGroups(run).map((g) => {
    const mechs = g.mechanisms.length > 3 ? `${g.mechanisms.slice(0, 3).join(', ')} and ${g.mechanisms.length - 3} more` : g.mechanisms.join(', ')
    return cut(`${g.count} ${g.state} (${mechs}): ${g.reason}`, width)
  })
  const warnings = warningGroups(run).map((w) => cut(`warning: ${w.text}`, width))
  const cal = run.context.calibration
  const memory = memoryNote(run)
  const harness = [
    ...(cal?.clockReadNs !== undefined ? [`harness: ${cal.clockReadNs.toFixed(0)} ns per clock read (one in every ping-pong sample)`] : []),
    ...(memory ? [cut(memory, width)] : []),
  ]

  // What goes when a run is too big for one screen: the last findings (Node against C), then
  // the reasons and warnings beyond a count, then the rows of the pattern sections beyond a
  // few (the --full output and the report keep all).
  let keepFindings = findingLines.length
  let keepOutcomes = outcomes.length
  let keepWarnings = warnings.length
  let sectionRows = GLANCE_SECTION_ROWS
  const compose = (): string[] => {
    const patterns = patternsAt(sectionRows)
    const moreOutcomes = outcomes.length - keepOutcomes
    const moreWarnings = warnings.length - keepWarnings
    const tail = [
      ...outcomes.slice(0, keepOutcomes),
      ...(moreOutcomes > 0 ? [`… ${moreOutcomes} more kind${moreOutcomes > 1 ? 's' : ''} of case not completed`] : []),
      ...warnings.slice(0, keepWarnings),
      ...(moreWarnings > 0 ? [`… ${moreWarnings} more kind${moreWarnings > 1 ? 's' : ''} of warning`] : []),
    ]
    return [
      ...head,
      ...matrix,
      ...noteLines,
      ...(fanIn.length > 0 ? ['', ...fanIn] : []),
      ...patterns.flatMap((p) => ['', ...p]),
      ...(keepFindings > 0 ? ['', ...findingLines.slice(0, keepFindings).flat()] : []),
      ...(tail.length > 0 ? ['', ...tail] : []),
      ...harness,
    ]
  }
  let lines = compose()
  while (lines.length > GLANCE_MAX_LINES) {
    if (keepFindings > 4) keepFindings--
    else if (keepOutcomes > 2) keepOutcomes--
    else if (keepWarnings > 2) keepWarnings--
    else if (sectionRows > 3) sectionRows--
    else break
    lines = compose()
  }
  return lines.join('\n')
}

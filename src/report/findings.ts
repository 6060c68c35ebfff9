import { ENDPOINTS, MODES, type CaseResult, type RunResult } from '../core/result.js'
import type { Warning } from '../core/warnings.js'
import { formatBytesPerSec } from '../core/units.js'
import { nsShort } from './format.js'
import { ENDPOINT_NAME, headlinePing, headlineSizes, headlineStream, shortName } from './headline.js'
import { cpuUsPerMsg, mechanismLabel } from './summary.js'

/**
 * The few things in a run that stand out, each with its figure, and the warnings and
 * unfinished cases grouped and counted: what the terminal summary prints under the
 * matrix. Pure.
 */

export interface Finding {
  /** What the line answers, e.g. `fastest round trip (p50 at 64B)`. */
  what: string
  /** Its answers, each `name figure`; several are joined with ` · `. */
  items: string[]
}

export const ratioText = (r: number): string => `${r < 10 ? r.toFixed(2) : r.toFixed(0)}×`

function minBy<T>(xs: readonly T[], key: (x: T) => number | undefined): T | undefined {
  let best: T | undefined
  let bestKey = Infinity
  for (const x of xs) {
    const k = key(x)
    if (k !== undefined && Number.isFinite(k) && k < bestKey) [best, bestKey] = [x, k]
  }
  return best
}

export function findings(run: RunResult): Finding[] {
  const { ping: pingSize, stream: streamSize } = headlineSizes(run)
  const ping = headlinePing(run)
  const stream = headlineStream(run)
  const out: Finding[] = []
  for (const e of ENDPOINTS) {
    const mine = ping.filter((c) => c.endpoints === e)
    const items = MODES.flatMap((m) => {
      const best = minBy(
        mine.filter((c) => c.mode === m),
        (c) => c.latencyNs.p50,
      )
      return best ? [`${m} ${mechanismLabel(best)} ${nsShort(best.latencyNs.p50)}`] : []
    })
    if (items.length > 0) out.push({ what: `fastest p50 at ${pingSize!.label}, ${ENDPOINT_NAME[e]}`, items })
  }
  const tput = ENDPOINTS.flatMap((e) => {
    const best = minBy(
      stream.filter((c) => c.endpoints === e),
      (c) => -c.throughput.bytesPerSec,
    )
    return best ? [`${ENDPOINT_NAME[e]} ${shortName(best)} ${formatBytesPerSec(best.throughput.bytesPerSec)}`] : []
  })
  if (tput.length > 0) out.push({ what: `most MB/s at ${streamSize!.label}`, items: tput })
  const cheap = ENDPOINTS.flatMap((e) => {
    const best = minBy(
      ping.filter((c) => c.endpoints === e),
      (c) => cpuUsPerMsg(c)?.us,
    )
    const cpu = best && cpuUsPerMsg(best)
    return best && cpu ? [`${ENDPOINT_NAME[e]} ${shortName(best)} ${cpu.us.toFixed(2)} µs`] : []
  })
  if (cheap.length > 0) out.push({ what: `least CPU per round trip at ${pingSize!.label}`, items: cheap })
  const ratios = ping.filter((c) => c.ratioToFloor?.p50 !== undefined).sort((a, b) => b.ratioToFloor!.p50! - a.ratioToFloor!.p50!)
  if (ratios.length > 0) {
    const name = (c: (typeof ratios)[number]): string => `${shortName(c)} ${c.endpoints} ${ratioText(c.ratioToFloor!.p50!)}`
    out.push({ what: `Node ÷ C furthest at ${pingSize!.label}`, items: ratios.slice(0, 3).map(name) })
    // Only when it names other cases than the furthest three.
    if (ratios.length > 3)
      out.push({
        what: 'Node ÷ C closest',
        items: ratios
          .slice(Math.max(3, ratios.length - 2))
          .reverse()
          .map(name),
      })
  }
  return out
}

export interface WarningGroup {
  code: string
  /** How many cases carry it (0 for a warning of the run itself). */
  cases: number
  text: string
}

/**
 * Warnings by code: the cases' counted, one line per code with the range of the figure where there is one
 * (`37 cases noisy (cv 16–48%)`), else the first message as an example.
 */
export function warningGroups(run: RunResult): WarningGroup[] {
  const groups: WarningGroup[] = []
  const byCode = new Map<string, CaseResult[]>()
  // Warnings of files written before codes existed are told apart by the word their text starts with (`noisy: …`).
  const keyOf = (w: Warning): string => (w.code === 'legacy' ? (/^([a-z -]+):/.exec(w.message)?.[1] ?? 'legacy') : w.code)
  for (const c of run.cases)
    for (const code of new Set(c.warnings.map(keyOf))) {
      const list = byCode.get(code)
      if (list) list.push(c)
      else byCode.set(code, [c])
    }
  for (const [code, cases] of byCode) {
    const n = `${cases.length} case${cases.length === 1 ? '' : 's'}`
    if (code === 'noisy') {
      const cvs = cases.flatMap((c) => (c.state === 'completed' && c.spread ? [c.spread.cvPct] : []))
      const range = cvs.length > 0 ? ` (cv ${Math.min(...cvs).toFixed(0)}–${Math.max(...cvs).toFixed(0)}% across repetitions)` : ''
      groups.push({ code, cases: cases.length, text: `${n} noisy${range}` })
    } else {
      const first = cases[0].warnings.find((w) => keyOf(w) === code)!
      groups.push({ code, cases: cases.length, text: `${n} ${code}${cases.length > 1 ? ', e.g.' : ':'} ${first.message}` })
    }
  }
  // The cases' groups, most cases first, then the run's own: a summary that must drop lines keeps the widest.
  groups.sort((a, b) => b.cases - a.cases)
  return [...groups, ...run.context.warnings.map((w) => ({ code: w.code, cases: 0, text: w.message }))]
}

export interface OutcomeGroup {
  state: string
  count: number
  /** One reason, as the first case of the group gives it. */
  reason: string
  mechanisms: string[]
}

/**
 * Cases that did not complete, grouped by state and by reason with its numbers taken
 * out (`message size 65536 exceeds …` and `… 1048576 …` are one reason).
 */
export function outcomeGroups(run: RunResult): OutcomeGroup[] {
  const groups = new Map<string, OutcomeGroup>()
  for (const c of run.cases) {
    if (c.state === 'completed') continue
    const reason = c.reason ?? '(no reason recorded)'
    const key = `${c.state}\u0000${reason.replace(/\d+/g, '#')}`
    const g = groups.get(key) ?? { state: c.state, count: 0, reason, mechanisms: [] }
    g.count++
    if (!g.mechanisms.includes(c.mechanism)) g.mechanisms.push(c.mechanism)
    groups.set(key, g)
  }
  return [...groups.values()].sort((a, b) => b.count - a.count)
}

import { ENDPOINTS, isOnePair, type CaseResult, type CompletedCase, type Endpoints, type RepetitionResult, type RunResult } from '../core/result.js'
import { formatBytesPerSec, formatSizeBytes } from '../core/units.js'
import { nsShort } from './format.js'
import { ENDPOINT_NAME, HEADLINE_PING_BYTES, pickSize } from './headline.js'
import { mechanismLabel } from './summary.js'

/**
 * "What to use": for processes and for threads, for small messages and for bulk, the
 * case with the lowest p50, the lowest p99, the highest throughput and the lowest CPU
 * per message, each with its figure, its spread over repetitions and a sentence on what
 * it costs, all read from the run. Pure.
 */

/** Sizes below this are small messages; at or above it, bulk. */
export const BULK_BYTES = 16 * 1024

export type Criterion = 'lowest p50' | 'lowest p99' | 'highest throughput' | 'lowest CPU per message'

export interface Advice {
  endpoints: Endpoints
  messages: 'small' | 'bulk'
  criterion: Criterion
  /** `64B round trip`, `64KiB stream`. */
  at: string
  caseId: string
  /** `pipe`, `child-ipc:json`. */
  mechanism: string
  mode: string
  figure: string
  /** `12.8 µs – 13.5 µs over 5 repetitions`. */
  spread: string
  tradeoff: string
}

const cpuOf = (x: { cpu?: RepetitionResult['cpu'] }, threadSameProcess: boolean): number | undefined => {
  const c = x.cpu
  if (!c) return undefined
  if (c.total) return c.total.userUsPerMsg + c.total.sysUsPerMsg
  const a = c.a.userUsPerMsg + c.a.sysUsPerMsg
  return threadSameProcess ? a : a + c.b.userUsPerMsg + c.b.sysUsPerMsg
}
const sameProcess = (c: CompletedCase): boolean => c.endpoints === 'thread' && c.cpu?.a.scope === 'process' && !c.cpu.total

interface Metric {
  criterion: Criterion
  pattern: 'pingpong' | 'stream'
  /** Smaller is better. */
  key: (c: CompletedCase) => number | undefined
  perRep: (r: RepetitionResult, c: CompletedCase) => number | undefined
  show: (v: number) => string
}

const cpuShow = (v: number): string => `${Number(v.toPrecision(3))} µs`
const METRICS = (pattern: 'pingpong' | 'stream'): Metric[] => {
  const cpu: Metric = {
    criterion: 'lowest CPU per message',
    pattern,
    key: (c) => cpuOf(c, sameProcess(c)),
    perRep: (r, c) => cpuOf(r, sameProcess(c)),
    show: cpuShow,
  }
  if (pattern === 'stream')
    return [
      {
        criterion: 'highest throughput',
        pattern,
        key: (c) => (c.throughput ? -c.throughput.bytesPerSec : undefined),
        perRep: (r) => (r.throughput ? -r.throughput.bytesPerSec : undefined),
        show: (v) => formatBytesPerSec(-v),
      },
      cpu,
    ]
  return [
    { criterion: 'lowest p50', pattern, key: (c) => c.latencyNs?.p50, perRep: (r) => r.latencyNs?.p50, show: nsShort },
    { criterion: 'lowest p99', pattern, key: (c) => c.latencyNs?.p99, perRep: (r) => r.latencyNs?.p99, show: nsShort },
    cpu,
  ]
}

/** The typical time of one message, µs: the round trip's p50, or one message's share of the stream. */
const timePerMsgUs = (c: CompletedCase): number | undefined =>
  c.latencyNs ? c.latencyNs.p50 / 1000 : c.throughput?.msgsPerSec ? 1e6 / c.throughput.msgsPerSec : undefined

/**
 * The measured time per message, µs: what the CPU per message was spent in. Not the
 * p50: a round trip's mean is longer (its tail), and dividing by the p50 would make a
 * spinning pair look like more cores than the host has.
 */
const elapsedPerMsgUs = (c: CompletedCase): number | undefined =>
  c.roundTripsPerSec ? 1e6 / c.roundTripsPerSec : c.throughput?.msgsPerSec ? 1e6 / c.throughput.msgsPerSec : undefined

/** A sentence on what the winner costs or cannot do, from the run's own figures. */
function tradeoff(win: CompletedCase, m: Metric, rivals: CompletedCase[], run: RunResult): string {
  const parts: string[] = []
  const cpu = cpuOf(win, sameProcess(win))
  const t = timePerMsgUs(win)
  const unit = win.pattern === 'pingpong' ? 'round trip' : 'message'
  const elapsed = elapsedPerMsgUs(win)
  if (win.mode === 'busy-poll' && cpu !== undefined && t !== undefined) {
    const cores = elapsed !== undefined ? ` (${(cpu / elapsed).toFixed(1)} cores busy all along)` : ''
    parts.push(`busy-poll buys this with spinning cores: ${cpuShow(cpu)} of CPU per ${unit} of ${nsShort(t * 1000)}${cores}`)
    const sleeper = rivals.filter((c) => c.mode !== 'busy-poll' && m.key(c) !== undefined).sort((a, b) => m.key(a)! - m.key(b)!)[0]
    if (sleeper) parts.push(`the best that sleeps instead is ${mechanismLabel(sleeper)} ${sleeper.mode} at ${m.show(m.key(sleeper)!)}`)
  } else if (win.mode === 'nonblocking') parts.push('it waits in the event loop, so the thread stays free for other work')
  else if (win.mode === 'blocking') parts.push('it sleeps in the kernel: the waiting thread can do nothing else meanwhile')
  if (win.sizeBytes === 0) parts.push('it carries no payload (0 bytes): a wake-up only, the data must travel some other way')
  else if (win.sizeBytes < HEADLINE_PING_BYTES && win.pattern === 'pingpong')
    parts.push(`it carries a fixed ${formatSizeBytes(win.sizeBytes)}, not a message of any size`)
  const capped = run.cases.find(
    (c) => c.mechanism === win.mechanism && c.variant === win.variant && c.state === 'skipped' && /exceeds/.test(c.reason),
  )
  if (capped && capped.state === 'skipped') parts.push(`capped on this host: ${capped.reason.split(';')[0]}`)
  const sentence = parts.join('; ')
  return sentence ? sentence.charAt(0).toUpperCase() + sentence.slice(1) + '.' : ''
}

function spreadText(win: CompletedCase, m: Metric): string {
  const vals = win.repetitions.map((r) => m.perRep(r, win)).filter((v): v is number => v !== undefined)
  if (vals.length < 2) return vals.length === 1 ? 'one repetition' : '–'
  const [lo, hi] = [Math.min(...vals), Math.max(...vals)]
  // Throughput keys are negated (smaller is better): show them the right way round.
  const [a, b] = m.criterion === 'highest throughput' ? [hi, lo] : [lo, hi]
  return `${m.show(a)} – ${m.show(b)} over ${vals.length} repetitions`
}

/** The sizes each class is read at, per pattern: the smallest below BULK_BYTES, the largest at or above it. */
function classSizes(
  run: RunResult,
  pattern: 'pingpong' | 'stream',
): { small?: (c: CaseResult) => boolean; bulk?: (c: CaseResult) => boolean; label: Record<string, string> } {
  const cases = run.cases.filter((c) => c.pattern === pattern && isOnePair(c))
  const sizes = [...new Set(cases.map((c) => c.sizeBytes))].sort((a, b) => a - b)
  const small = sizes.filter((s) => s < BULK_BYTES)
  const bulk = sizes.filter((s) => s >= BULK_BYTES)
  const label: Record<string, string> = {}
  let smallPick: ((c: CaseResult) => boolean) | undefined
  if (small.length > 0) {
    // Small: read as the headline is (64 B, a fixed-size mechanism at its own size).
    const pick = pickSize(
      cases.filter((c) => c.sizeBytes < BULK_BYTES),
      // 64 B where there is such a size: a fixed-size mechanism's 4 B is not what "small" is read at.
      small.find((s) => s >= HEADLINE_PING_BYTES) ?? small[0],
    )!
    smallPick = pick.pick
    label.small = pick.label
  }
  let bulkPick: ((c: CaseResult) => boolean) | undefined
  if (bulk.length > 0) {
    const largest = bulk[bulk.length - 1]
    bulkPick = (c) => c.sizeBytes === largest
    label.bulk = formatSizeBytes(largest)
  }
  return { small: smallPick, bulk: bulkPick, label }
}

export function whatToUse(run: RunResult): Advice[] {
  const out: Advice[] = []
  const done = run.cases.filter((c): c is CompletedCase => c.state === 'completed')
  for (const endpoints of ENDPOINTS) {
    for (const messages of ['small', 'bulk'] as const) {
      for (const pattern of ['pingpong', 'stream'] as const) {
        const sizes = classSizes(run, pattern)
        const pick = sizes[messages]
        if (!pick) continue
        const pool = done.filter((c) => c.endpoints === endpoints && c.pattern === pattern && isOnePair(c) && pick(c))
        for (const m of METRICS(pattern)) {
          const ranked = pool.filter((c) => m.key(c) !== undefined).sort((a, b) => m.key(a)! - m.key(b)!)
          const win = ranked[0]
          if (!win) continue
          // CPU per message of small messages is read from ping-pong; a stream of small messages says the same twice.
          if (m.criterion === 'lowest CPU per message' && messages === 'small' && pattern === 'stream') continue
          if (m.criterion === 'lowest CPU per message' && messages === 'bulk' && pattern === 'pingpong' && classSizes(run, 'stream').bulk) continue
          out.push({
            endpoints,
            messages,
            criterion: m.criterion,
            at: `${sizes.label[messages]} ${pattern === 'pingpong' ? 'round trip' : 'stream'}`,
            caseId: win.id,
            mechanism: mechanismLabel(win),
            mode: win.mode,
            figure:
              m.show(m.key(win)!) + (m.criterion === 'lowest CPU per message' ? ` per ${pattern === 'pingpong' ? 'round trip' : 'message'}` : ''),
            spread: spreadText(win, m),
            tradeoff: tradeoff(win, m, ranked.slice(1), run),
          })
        }
      }
    }
  }
  return out
}

export const adviceHead = ['for', 'messages', 'criterion', 'at', 'use', 'figure', 'spread', 'trade-off'] as const

/** The advice as table cells, in `adviceHead`'s order. */
export const adviceRows = (advice: Advice[]): string[][] =>
  advice.map((a) => [ENDPOINT_NAME[a.endpoints], a.messages, a.criterion, a.at, `${a.mechanism} ${a.mode}`, a.figure, a.spread, a.tradeoff])

import type { CaseResult, CaseSpec, ResolvedOptions } from '../core/result.js'
import { formatBytesPerSec, formatNs } from '../core/units.js'

/**
 * Progress on stderr; silent unless enabled (a terminal, or --progress). On a terminal
 * (`live`) it is one line redrawn in place: the case count, the time taken, an estimate
 * of the time left, the running case and the last figure. Elsewhere (a log, CI, or
 * `--verbose`) one line per finished case, which a file keeps readably.
 */
export interface ProgressOptions {
  /** Redraw one line in place instead of writing a line per case. */
  live?: boolean
  /** The terminal's width: the live line is cut to it, so it never wraps (a wrapped line cannot be redrawn). */
  columns?: number
  /** Where the text goes (stderr unless a test says otherwise). */
  write?: (text: string) => void
  /** The clock, in ms (tests pass their own). */
  now?: () => number
  /** Redraw the live line this often so the clock moves during a long case; 0: only on events. */
  tickMs?: number
}

/**
 * What a repetition costs besides its measured time: the case process and its peer
 * start (about 95 ms each on a 2-core host), warm-up and settling, the report back.
 * Only the first estimate rests on it; after the first cases the measured pace takes over.
 */
const REPETITION_OVERHEAD_MS = 250

/** The plan's estimate of one case: its repetitions, each measured for `durationMs`, with the C floor's too when it runs. */
export function plannedCaseMs(o: Pick<ResolvedOptions, 'repetitions' | 'durationMs' | 'floor'>): number {
  return o.repetitions * (o.durationMs + REPETITION_OVERHEAD_MS) * (o.floor ? 2 : 1)
}

/**
 * The time left: the cases to go at the plan's cost, corrected by how the finished ones
 * compared with it (a run whose cases take twice the plan is told so after its first case).
 */
export function etaMs(done: number, total: number, elapsedMs: number, perCaseMs: number): number {
  const left = Math.max(0, total - done)
  if (done === 0) return left * perCaseMs
  return left * (elapsedMs / done)
}

/** `45 s`, `3m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** ANSI: back to the line's start and clear it. */
const CLEAR_LINE = '\r\x1b[2K'

export class Progress {
  private started = 0
  private total = 0
  private done = 0
  private perCaseMs = 0
  private current = ''
  private last = ''
  private shown = false
  private timer: NodeJS.Timeout | undefined
  private readonly write: (text: string) => void
  private readonly now: () => number

  constructor(
    private readonly enabled: boolean,
    private readonly opts: ProgressOptions = {},
  ) {
    this.write = opts.write ?? ((t) => process.stderr.write(t))
    this.now = opts.now ?? Date.now
  }

  /** `into`: where the results go (the result file by default). */
  start(total: number, o: ResolvedOptions, into: string = o.out): void {
    this.started = this.now()
    this.total = total
    this.perCaseMs = plannedCaseMs(o)
    this.note(
      `ipcbench: ${total} case(s), ${o.repetitions} repetition(s) each, ${o.durationMs} ms measured per repetition, about ${formatDuration(total * this.perCaseMs)} → ${into}`,
    )
    const tick = this.opts.tickMs ?? 1000
    if (this.enabled && this.opts.live && tick > 0) {
      this.timer = setInterval(() => this.redraw(), tick)
      this.timer.unref()
    }
  }

  caseStart(spec: CaseSpec, index: number, total: number): void {
    if (!this.enabled) return
    this.total = total
    this.done = index
    this.current = spec.id
    if (this.opts.live) this.redraw()
    else this.write(`[${index + 1}/${total}] ${spec.id} … `)
  }

  caseEnd(r: CaseResult): void {
    this.finished(outcome(r))
  }

  /** One case under several labelled configurations (`ab`): "base p50 91.2 µs · current p50 93.0 µs". */
  casesEnd(results: readonly CaseResult[], labels: readonly string[]): void {
    this.finished(results.map((r, k) => `${labels[k]} ${outcome(r)}`).join(' · '))
  }

  note(line: string): void {
    if (!this.enabled) return
    if (this.shown) this.write(CLEAR_LINE)
    this.write(`${line}\n`)
    this.shown = false
    if (this.opts.live && this.current) this.redraw()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.current = ''
    if (this.enabled && this.shown) this.write(CLEAR_LINE)
    this.shown = false
    this.note(`done in ${formatDuration(this.now() - this.started)}`)
  }

  /** The live line, as it reads now (exported for tests through `render`). */
  line(): string {
    const elapsed = this.now() - this.started
    const eta = etaMs(this.done, this.total, elapsed, this.perCaseMs)
    const parts = [
      `[${Math.min(this.done + 1, this.total)}/${this.total}]`,
      `${formatDuration(elapsed)} elapsed, ~${formatDuration(eta)} left`,
      this.current,
      ...(this.last ? [`(last: ${this.last})`] : []),
    ]
    const text = parts.filter(Boolean).join('  ')
    const cols = this.opts.columns ?? 120
    return [...text].length < cols ? text : `${[...text].slice(0, cols - 2).join('')}…`
  }

  private finished(text: string): void {
    if (!this.enabled) return
    this.done++
    this.last = text
    if (this.opts.live) this.redraw()
    else this.write(`${text}\n`)
  }

  private redraw(): void {
    if (!this.enabled || !this.current) return
    this.write(`${CLEAR_LINE}${this.line()}`)
    this.shown = true
  }
}

function outcome(r: CaseResult): string {
  if (r.state === 'completed') return r.latencyNs ? `p50 ${formatNs(r.latencyNs.p50)}` : `${formatBytesPerSec(r.throughput?.bytesPerSec)}`
  return r.reason ? `${r.state}: ${r.reason}` : r.state
}

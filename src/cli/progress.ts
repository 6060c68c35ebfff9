import type { CaseResult, CaseSpec, ResolvedOptions } from '../core/result.js'
import { formatBytesPerSec, formatNs } from '../core/units.js'

/** Progress on stderr, one line per case; silent unless enabled (a terminal, or --progress). */
export class Progress {
  private started = 0

  constructor(private readonly enabled: boolean) {}

  /** `into`: where the results go (the result file by default). */
  start(total: number, o: ResolvedOptions, into: string = o.out): void {
    this.started = Date.now()
    this.note(`ipcbench: ${total} case(s), ${o.repetitions} repetition(s) each, ${o.durationMs} ms measured per repetition → ${into}`)
  }

  caseStart(spec: CaseSpec, index: number, total: number): void {
    if (this.enabled) process.stderr.write(`[${index + 1}/${total}] ${spec.id} … `)
  }

  caseEnd(r: CaseResult): void {
    if (this.enabled) process.stderr.write(`${outcome(r)}\n`)
  }

  /** One case under several labelled configurations (`ab`): "base p50 91.2 µs · current p50 93.0 µs". */
  casesEnd(results: readonly CaseResult[], labels: readonly string[]): void {
    if (this.enabled) process.stderr.write(`${results.map((r, k) => `${labels[k]} ${outcome(r)}`).join(' · ')}\n`)
  }

  note(line: string): void {
    if (this.enabled) process.stderr.write(`${line}\n`)
  }

  stop(): void {
    this.note(`done in ${((Date.now() - this.started) / 1000).toFixed(1)} s`)
  }
}

function outcome(r: CaseResult): string {
  if (r.state === 'completed') return r.latencyNs ? `p50 ${formatNs(r.latencyNs.p50)}` : `${formatBytesPerSec(r.throughput?.bytesPerSec)}`
  return r.reason ? `${r.state}: ${r.reason}` : r.state
}

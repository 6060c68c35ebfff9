import type { CaseResult, CaseSpec, ResolvedOptions } from '../core/result.js'
import { formatBytesPerSec, formatNs } from '../core/units.js'

/** Progress on stderr, one line per case; silent unless enabled (a terminal, or --progress). */
export class Progress {
  private started = 0

  constructor(private readonly enabled: boolean) {}

  start(total: number, o: ResolvedOptions): void {
    this.started = Date.now()
    this.note(`ipcbench: ${total} case(s), ${o.repetitions} repetition(s) each, ${o.durationMs} ms measured per repetition → ${o.out}`)
  }

  caseStart(spec: CaseSpec, index: number, total: number): void {
    if (this.enabled) process.stderr.write(`[${index + 1}/${total}] ${spec.id} … `)
  }

  caseEnd(r: CaseResult): void {
    if (!this.enabled) return
    let what: string = r.state
    if (r.state === 'completed') what = r.latencyNs ? `p50 ${formatNs(r.latencyNs.p50)}` : `${formatBytesPerSec(r.throughput?.bytesPerSec)}`
    else if (r.reason) what = `${r.state}: ${r.reason}`
    process.stderr.write(`${what}\n`)
  }

  note(line: string): void {
    if (this.enabled) process.stderr.write(`${line}\n`)
  }

  stop(): void {
    this.note(`done in ${((Date.now() - this.started) / 1000).toFixed(1)} s`)
  }
}

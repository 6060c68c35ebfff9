import type { CompletedCase, HarnessCalibration, LatencyNs } from '../../core/result.js'
import { warning, type Warning } from '../../core/warnings.js'
import type { AsyncEndpoint, SyncEndpoint } from '../../mechanisms/types.js'
import { asyncPingpongA, syncPingpongA } from '../case/loops.js'
import { median } from '../../core/stats.js'

/**
 * The harness's own cost, measured at the start of every run in the ipcbench process:
 * an empty timed section (two clock reads), one clock read (what every ping-pong
 * sample carries besides its round trip), and the ping-pong loop itself driven
 * against a same-thread echo (stamp, send, receive, copy, check — everything but a
 * channel), and the event-loop ping-pong loop against an echo that answers from a
 * microtask. A case whose round trip is within a few times its loop's echo is mostly
 * measuring ipcbench; it gets a warning, and `--subtract-overhead` takes the echo off
 * (the event-loop echo for event-loop cases, the other for the rest).
 */
export async function measureCalibration(sizeBytes = 64): Promise<HarnessCalibration> {
  const empty: number[] = []
  for (let block = 0; block < 20; block++) {
    const n = 2000
    let total = 0n
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint()
      const t1 = process.hrtime.bigint()
      total += t1 - t0
    }
    empty.push(Number(total) / n)
  }
  // One clock read, as each ping-pong sample takes it (the end of one round trip is the start of the next).
  const reads: number[] = []
  for (let block = 0; block < 20; block++) {
    const n = 2000
    const t0 = process.hrtime.bigint()
    let last = t0
    for (let i = 0; i < n; i++) last = process.hrtime.bigint()
    reads.push(Number(last - t0) / n)
  }
  const echo: number[] = []
  const asyncEcho: number[] = []
  const zero = () => ({ userUs: 0, sysUs: 0, voluntaryCtx: 0, involuntaryCtx: 0 })
  const plan = { sizeBytes, warmup: 5000, durationMs: 25, maxMessages: 1_000_000, targetSamples: 0, minWindowMs: 25 }
  // The first rounds run before the JIT has optimised the loop; the least is the harness's cost.
  for (let round = 0; round < 6; round++) {
    const r = syncPingpongA(sameThreadEcho(), plan, zero)
    echo.push(median(Array.from(r.samples.subarray(0, r.sampleCount))))
    const a = await asyncPingpongA(sameThreadAsyncEcho(), plan, zero)
    asyncEcho.push(median(Array.from(a.samples.subarray(0, a.sampleCount))))
  }
  return {
    emptySampleNs: median(empty),
    clockReadNs: median(reads),
    sameThreadEchoNs: Math.min(...echo),
    sameThreadAsyncEchoNs: Math.min(...asyncEcho),
  }
}

/** An event-loop endpoint whose peer answers from a microtask with a copy of what went. */
function sameThreadAsyncEcho(): AsyncEndpoint {
  let onMessage: (msg: Uint8Array) => void = () => {}
  return {
    kind: 'async',
    send(buf) {
      const copy = new Uint8Array(buf)
      queueMicrotask(() => onMessage(copy))
      return true
    },
    onMessage(cb) {
      onMessage = cb
    },
    onDrain() {},
    onError() {},
    close() {},
  }
}

/** The echo a case's loop is measured against: the event loop's for event-loop cases. */
export function echoFor(c: Pick<CompletedCase, 'mode'>, cal: HarnessCalibration): { ns: number; what: string } {
  if (c.mode === 'nonblocking' && cal.sameThreadAsyncEchoNs !== undefined)
    return { ns: cal.sameThreadAsyncEchoNs, what: 'the event-loop ping-pong against a same-thread echo from a microtask' }
  return { ns: cal.sameThreadEchoNs, what: 'a same-thread echo' }
}

/** An endpoint whose peer is a function call: what comes back is a copy of what went. */
function sameThreadEcho(): SyncEndpoint {
  let pending: Uint8Array | undefined
  return {
    kind: 'sync',
    send(buf) {
      pending = buf
    },
    recv(into) {
      into.set(pending!)
      return into
    },
    close() {},
  }
}

/** How close to the harness's own cost a round trip may come before it is flagged. */
export const OVERHEAD_WARN_FACTOR = 5

export function overheadWarning(c: CompletedCase, cal: HarnessCalibration): Warning | undefined {
  const p50 = c.latencyNs?.p50
  const echo = echoFor(c, cal)
  if (p50 === undefined || p50 >= OVERHEAD_WARN_FACTOR * echo.ns) return undefined
  return warning(
    'near-harness-cost',
    `p50 ${p50.toFixed(0)} ns is within ${OVERHEAD_WARN_FACTOR}× of the harness's own round trip (${echo.ns.toFixed(0)} ns, ${echo.what}): much of this figure is ipcbench`,
  )
}

/** `--subtract-overhead`: takes the loop's same-thread echo off every latency figure (never below 0). */
export function subtractOverhead(c: CompletedCase, cal: HarnessCalibration): void {
  const ns = echoFor(c, cal).ns
  const sub = (l: LatencyNs | undefined): void => {
    if (!l) return
    for (const k of ['min', 'mean', 'p50', 'p90', 'p99', 'p999', 'max'] as const) l[k] = Math.max(0, l[k] - ns)
  }
  if (!c.latencyNs) return
  sub(c.latencyNs)
  for (const r of c.repetitions) sub(r.latencyNs)
  c.overheadSubtractedNs = ns
}

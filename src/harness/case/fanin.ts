import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IntegrityError, PeerError } from '../../core/errors.js'
import { fairnessOf, FanInCheck, maxPerSenderOf, SEQ_STOP, senderOf, sentAtNs, seqOf } from '../../core/fanin-wire.js'
import { ownedName, ownedPrefix } from '../../core/paths.js'
import { allowedCpus } from '../../core/proc.js'
import type { FanIn, FanInSender } from '../../core/result.js'
import { summarizeNs } from '../../core/stats.js'
import { readSeq } from '../../core/wire.js'
import { getMechanism } from '../../mechanisms/registry.js'
import type { AsyncEndpoint, Endpoint, FanInChannel, PeerHandoff, SyncEndpoint } from '../../mechanisms/types.js'
import { LEDGER } from '../host/cleanup.js'
import { readLimits } from '../host/env.js'
import { costBetween, peakRssKiB, sideAMeter, type CostMeter } from './cpu.js'
import type { SenderWorkerData } from './fanin-sender.js'
import { watchPeerWhileBlocked } from './liveness.js'
import { startChild, startWorker, stopPeer, type StartedPeer } from './peer-start.js'
import { SENDER_ENTRY, type CostSnapshot, type FromSender, type RepReport, type RepTask, type SenderDone, type ToSender } from './protocol.js'

/**
 * One fan-in repetition, in the case process, which is the receiver: create the one
 * channel, start every sender (child processes or worker threads, all on the CPUs the
 * case process was given), open the receiving end, say go to all, receive and check
 * until every sender's STOP, collect each sender's figures, tear down on every path.
 */

/** One sender as the receiver sees it: a peer of this case, numbered. */
type StartedSender = StartedPeer<FromSender, ToSender> & { index: number }

function startSender(index: number, endpoints: 'process' | 'thread', handoff: PeerHandoff): StartedSender {
  // No taskset: a sender inherits the case process's CPUs (the placement's), as the C floor's forked senders do.
  const peer =
    endpoints === 'thread'
      ? startWorker<FromSender, ToSender>(SENDER_ENTRY, (control) => ({ control }) satisfies SenderWorkerData, { ...handoff, transfer: [] })
      : startChild<FromSender, ToSender>(process.execPath, [...process.execArgv, SENDER_ENTRY], handoff)
  return Object.assign(peer, { index })
}

/** What the receiver counted and timed. */
export interface FanInReceipt {
  /** Messages checked (STOPs aside), all senders. */
  messages: number
  /** From the first message's receipt to the last one's. */
  elapsedNs: number
  reordered: number
  received: number[]
  /** Each sender's one-way latencies, in arrival order (`received[k]` of them). */
  latencies: Float64Array[]
  cost: CostSnapshot
}

/**
 * The receiver's state, fed one message at a time by either loop. Each message: its
 * sender and number from the sequence word, the number it must be (in order within
 * its sender), every byte but the send time compared with the template, its one-way
 * latency (now minus the send time it carries), and whether it came after a message
 * another sender had sent later (reordered between senders: expected).
 */
export class Tally {
  readonly received: number[]
  readonly latencies: Float64Array[]
  private readonly stopped: boolean[]
  private readonly check: FanInCheck
  stops = 0
  messages = 0
  reordered = 0
  first = 0
  last = 0
  private latestSent = -1
  private latestSender = -1

  constructor(
    readonly senders: number,
    readonly size: number,
    maxPerSender: number,
  ) {
    this.received = new Array<number>(senders).fill(0)
    this.stopped = new Array<boolean>(senders).fill(false)
    this.latencies = Array.from({ length: senders }, () => new Float64Array(maxPerSender))
    this.check = new FanInCheck(size)
  }

  /** Takes one message received at `now` (ns); throws when it is not the one its sender owed. */
  take(msg: Uint8Array, now: number): void {
    const word = readSeq(msg)
    const k = senderOf(word)
    const seq = seqOf(word)
    if (k >= this.senders) throw new IntegrityError(`a message from sender ${k} of ${this.senders} (corrupted)`)
    if (this.stopped[k]) throw new IntegrityError(`sender ${k}: message ${seq} arrived after its STOP (reordered within one sender)`)
    const due = this.received[k]
    if (seq !== SEQ_STOP && seq !== due) {
      throw new IntegrityError(
        `sender ${k}: message ${seq} arrived where ${due} was due (${seq < due ? 'duplicated or reordered' : 'lost or reordered'} within one sender)`,
      )
    }
    const problem = this.check.check(msg, word)
    if (problem !== undefined) throw new IntegrityError(`sender ${k}: message ${seq === SEQ_STOP ? 'STOP' : seq}: ${problem}`)
    if (seq === SEQ_STOP) {
      this.stopped[k] = true
      this.stops++
      return
    }
    const sent = sentAtNs(msg)
    if (this.latestSender >= 0 && this.latestSender !== k && sent < this.latestSent) this.reordered++
    if (sent >= this.latestSent) {
      this.latestSent = sent
      this.latestSender = k
    }
    if (this.messages === 0) this.first = now
    this.last = now
    const lat = this.latencies[k]
    if (due < lat.length) lat[due] = now - sent
    this.received[k] = due + 1
    this.messages++
  }

  get done(): boolean {
    return this.stops === this.senders
  }

  receipt(cost: CostSnapshot): FanInReceipt {
    return {
      messages: this.messages,
      elapsedNs: this.last - this.first,
      reordered: this.reordered,
      received: this.received,
      latencies: this.latencies,
      cost,
    }
  }
}

/** Blocking: one receive after another until every sender's STOP. Timed: receive, clock read, check, record. */
export function syncFanInReceive(ep: SyncEndpoint, tally: Tally, meter: CostMeter): FanInReceipt {
  const into = new Uint8Array(tally.size)
  const c0 = meter()
  while (!tally.done) {
    const msg = ep.recv(into)
    tally.take(msg, Number(process.hrtime.bigint()))
  }
  return tally.receipt(costBetween(c0, meter()))
}

/** Event loop: each message taken in the endpoint's callback. */
export function asyncFanInReceive(ep: AsyncEndpoint, tally: Tally, meter: CostMeter): Promise<FanInReceipt> {
  const c0 = meter()
  return new Promise((resolve, reject) => {
    let settled = false
    ep.onError((err) => {
      if (!settled) reject(err)
      settled = true
    })
    ep.onMessage((msg) => {
      if (settled) return
      try {
        tally.take(msg, Number(process.hrtime.bigint()))
      } catch (err) {
        settled = true
        return reject(err)
      }
      if (tally.done) {
        settled = true
        resolve(tally.receipt(costBetween(c0, meter())))
      }
    })
  })
}

/** The figures of one repetition, from the receiver's tally and what each sender said. */
export function fanInFigures(r: FanInReceipt, dones: readonly SenderDone[]): FanIn {
  const perSender: FanInSender[] = dones.map((d, k) => {
    const l = summarizeNs(r.latencies[k].subarray(0, Math.min(r.received[k], r.latencies[k].length)))
    return {
      sender: k,
      sent: d.sent,
      received: r.received[k],
      latencyNs: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max },
      cpuUsPerMsg: (d.cost.userUs + d.cost.sysUs) / Math.max(1, d.sent),
    }
  })
  return {
    senders: dones.length,
    reorderedBetweenSenders: r.reordered,
    receiverCpuUsPerMsg: (r.cost.userUs + r.cost.sysUs) / Math.max(1, r.messages),
    perSender,
    fairness: fairnessOf(perSender),
  }
}

export async function runFanInRepetition(task: RepTask): Promise<RepReport> {
  const { spec } = task
  const senders = spec.senders ?? 1
  const fan = getMechanism(spec.mechanism).fanIn
  if (!fan) throw new Error(`${spec.mechanism} has no fan-in`)
  const impl = await fan.load()
  const ownsProcess = spec.endpoints === 'process'
  const tmpDir = mkdtempSync(join(tmpdir(), ownedPrefix('')))
  const maxPerSender = maxPerSenderOf(task.plan.maxMessages, senders)
  let channel: FanInChannel | undefined
  const started: StartedSender[] = []
  let ep: Endpoint | undefined
  let finished = false
  try {
    const ch = await impl.setup(
      {
        spec,
        tmpDir,
        limits: readLimits(),
        objectName: () => ownedName(),
        ledger: (kind, id) => appendFileSync(join(tmpDir, LEDGER), `${kind} ${id}\n`, { mode: 0o600 }),
      },
      senders,
    )
    channel = ch
    for (let k = 0; k < senders; k++) {
      const s = startSender(k, spec.endpoints, ch.peer)
      started.push(s)
      s.control.send({
        type: 'hello',
        spec,
        sender: k,
        durationMs: task.plan.durationMs,
        maxMessages: maxPerSender,
        info: ch.peer.info,
        fds: s.link.fds,
        parentPid: process.pid,
        fault: task.fault,
      })
    }
    const [endpoint, readies] = await Promise.all([
      ch.openReceiver(started.map((s) => s.link)),
      Promise.all(started.map((s) => s.control.next('ready').catch((err: unknown) => Promise.reject(senderFailed(s, err))))),
    ])
    ep = endpoint
    const describe = { ...ch.describe(), senders: String(senders), senderPids: started.map((s) => s.link.pid).join(',') }
    const { meter, scope } = sideAMeter(ownsProcess)
    const tally = new Tally(senders, spec.sizeBytes, maxPerSender)

    // A receiver blocked in a call is woken when any sender process dies.
    const watchdogs = endpoint.kind === 'sync' && ownsProcess ? started.map((s) => watchPeerWhileBlocked(s.link.pid)) : []
    for (const s of started) s.control.send({ type: 'go' })
    let receipt: FanInReceipt
    try {
      receipt = endpoint.kind === 'sync' ? syncFanInReceive(endpoint, tally, meter) : await asyncFanInReceive(endpoint, tally, meter)
    } catch (err) {
      throw await preferSenderError(err, started)
    } finally {
      for (const w of watchdogs) w?.stop()
    }
    const dones = await Promise.all(started.map((s) => s.control.next('done')))
    for (const s of started) s.control.send({ type: 'bye' })
    for (const [k, d] of dones.entries()) {
      if (d.sent !== receipt.received[k]) throw new IntegrityError(`sender ${k} sent ${d.sent} messages, the receiver checked ${receipt.received[k]}`)
    }
    const sendersCost = dones.reduce<CostSnapshot>(
      (sum, d) => ({
        userUs: sum.userUs + d.cost.userUs,
        sysUs: sum.sysUs + d.cost.sysUs,
        voluntaryCtx: sum.voluntaryCtx + d.cost.voluntaryCtx,
        involuntaryCtx: sum.involuntaryCtx + d.cost.involuntaryCtx,
      }),
      { userUs: 0, sysUs: 0, voluntaryCtx: 0, involuntaryCtx: 0 },
    )
    finished = true
    const senderRss = dones.flatMap((d) => (d.maxRssKiB !== undefined ? [d.maxRssKiB] : []))
    return {
      type: 'result',
      messages: receipt.messages,
      elapsedNs: receipt.elapsedNs,
      batch: 1,
      sampleCount: 0,
      costA: { ...receipt.cost, scope },
      costB: { ...sendersCost, scope },
      cpusA: allowedCpus(),
      cpusB: readies[0]?.cpus ?? [],
      describe,
      fanIn: fanInFigures(receipt, dones),
      peakRssKiB: { caseProcess: peakRssKiB(), ...(senderRss.length > 0 ? { peer: Math.max(...senderRss) } : {}) },
    }
  } finally {
    try {
      await ep?.close()
    } catch {
      // a sender may have closed first
    }
    // A failed repetition's senders may still be sending: they go at once.
    if (!finished) for (const s of started) s.kill()
    await Promise.all(started.map(stopPeer))
    await channel?.teardown()
    rmSync(tmpDir, { recursive: true, force: true })
  }
}

/** `sender 2 (pid 1234)`, or `sender 2 (thread)`. */
const senderName = (s: StartedSender): string => `sender ${s.index}${s.link.pid !== process.pid ? ` (pid ${s.link.pid})` : ' (thread)'}`

/** A sender's failure, named: `sender 2 (pid 1234) ended: killed by SIGKILL`, or what it reported. */
function senderFailed(s: StartedSender, err: unknown): PeerError {
  const e = new PeerError(`${senderName(s)}: ${(err as Error).message}`)
  e.side = 'b'
  return e
}

/**
 * When the receiver's loop failed because a sender went away, the sender's end says
 * more: which one, and how it ended (its exit), or the error it reported.
 */
async function preferSenderError(err: unknown, started: readonly StartedSender[]): Promise<unknown> {
  if (err instanceof IntegrityError) return err
  const grace = new Promise<undefined>((r) => setTimeout(() => r(undefined), 500).unref())
  const never = new Promise<undefined>(() => {})
  const ended = started.map((s) =>
    s.exited.then((how) => {
      if (how === 'exit code 0') return never
      const e = new PeerError(`${senderName(s)} ended: ${how}`)
      e.side = 'b'
      return e
    }),
  )
  const reported = started.map((s) =>
    s.control.next('done').then(
      () => never,
      (e: unknown) => (e instanceof PeerError && !/control channel closed/.test(e.message) ? senderFailed(s, e) : never),
    ),
  )
  return (await Promise.race([...ended, ...reported, grace])) ?? err
}

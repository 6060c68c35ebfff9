import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PeerError } from '../../core/errors.js'
import { ownedName, ownedPrefix } from '../../core/paths.js'
import { allowedCpus } from '../../core/proc.js'
import { loadImpl } from '../../mechanisms/custom.js'
import type { Channel, Endpoint } from '../../mechanisms/types.js'
import { LEDGER } from '../host/cleanup.js'
import { readLimits } from '../host/env.js'
import { CHANNEL_CLOSED } from './control.js'
import { peakRssKiB, pinThisThread, sideAMeter } from './cpu.js'
import { watchPeerWhileBlocked } from './liveness.js'
import { asyncPingpongA, asyncStreamA, syncPingpongA, syncStreamA } from './loops.js'
import { asyncLoadA, asyncOnewayA, syncLoadA, syncOnewayA } from './timed-loops.js'
import { startPeer, stopPeer, type EarlyPeer, type StartedPeer } from './peer-start.js'
import type { CostSnapshot, RepReport, RepTask } from './protocol.js'

/**
 * Side a of one repetition, in a process of its own: create the channel, start the
 * peer, open both ends, run the loop, collect both sides' figures, tear down.
 *
 * Phase by phase, so a failure anywhere still reaches the teardown.
 */
export async function runRepetition(task: RepTask, early?: EarlyPeer): Promise<RepReport> {
  const caseProcessMs = ms(performance.now())
  const { spec } = task
  const ownsProcess = spec.endpoints === 'process'
  // Asked for by the orchestrator, which knows the case: side b of a two-sided pattern.
  if (early && (early.endpoints !== spec.endpoints || spec.pattern === 'fanin')) early = early.discard()
  // Many senders and one receiver: a repetition of its own shape (fanin.ts).
  if (spec.pattern === 'fanin') return (await import('./fanin.js')).runFanInRepetition(task)
  if (!ownsProcess && task.placement.cpuA !== undefined) pinThisThread(task.placement.cpuA)
  const impl = await loadImpl(spec.mechanism, task.mechanismModule)
  const tmpDir = mkdtempSync(join(tmpdir(), ownedPrefix('')))
  let channel: Channel | undefined
  let peer: StartedPeer | undefined
  let ep: Endpoint | undefined
  try {
    // Phase 1: kernel objects, then the peer.
    const ch = await impl.setup({
      spec,
      tmpDir,
      limits: readLimits(),
      objectName: () => ownedName(),
      ledger: (kind, id) => appendFileSync(join(tmpDir, LEDGER), `${kind} ${id}\n`, { mode: 0o600 }),
    })
    channel = ch
    const helloAt = performance.now()
    const started = startPeer(task, ch.peer, early)
    early = undefined
    peer = started
    started.control.send({
      type: 'hello',
      spec,
      plan: task.plan,
      info: ch.peer.info,
      fds: started.link.fds,
      parentPid: process.pid,
      cpuB: ownsProcess ? undefined : task.placement.cpuB,
      fault: task.fault,
      ...(task.mechanismModule ? { mechanismModule: task.mechanismModule } : {}),
    })

    // Phase 2: both ends open (some mechanisms need both sides opening at once).
    let readyAt = 0
    const [endpoint, ready] = await Promise.all([
      ch.openA(started.link),
      started.control.next('ready').then((r) => {
        readyAt = performance.now()
        return r
      }),
    ])
    const startup = {
      caseProcessMs,
      peerMs: ms(readyAt - started.startedAt),
      ...(started.early ? { peerEarly: true, peerWaitMs: ms(readyAt - helloAt) } : {}),
    }
    ep = endpoint
    // Read back now, while both sides hold their objects (side b closes its own as soon as it is done).
    const describe = { ...ch.describe(), peerPid: String(started.link.pid) }
    const { meter, scope } = sideAMeter(ownsProcess)

    // Phase 3: the measured exchange (several pairs start it at one instant).
    if (task.plan.startAtNs) await untilClock(task.plan.startAtNs)
    started.control.send({ type: 'go' })
    let a: {
      messages: number
      cost: CostSnapshot
      warmupMessages?: number
      elapsedNs?: number
      batch?: number
      samples?: Float64Array
      sampleCount?: number
      roundTripP50Ns?: number
      phaseNs?: [number, number]
    }
    const watchdog = endpoint.kind === 'sync' && spec.endpoints === 'process' ? watchPeerWhileBlocked(started.link.pid) : undefined
    try {
      if (spec.pattern === 'pingpong') {
        a = endpoint.kind === 'sync' ? syncPingpongA(endpoint, task.plan, meter) : await asyncPingpongA(endpoint, task.plan, meter)
      } else if (spec.pattern === 'oneway') {
        a = endpoint.kind === 'sync' ? syncOnewayA(endpoint, task.plan, meter) : await asyncOnewayA(endpoint, task.plan, meter)
      } else if (spec.pattern === 'load') {
        a = endpoint.kind === 'sync' ? syncLoadA(endpoint, task.plan, meter) : await asyncLoadA(endpoint, task.plan, meter)
      } else {
        a = endpoint.kind === 'sync' ? syncStreamA(endpoint, task.plan, meter) : await asyncStreamA(endpoint, task.plan, meter)
      }
    } catch (err) {
      throw await preferPeerError(err, started)
    } finally {
      watchdog?.stop()
    }
    const b = await started.control.next('done')

    // Phase 4: figures out.
    const sampleCount = a.sampleCount ?? 0
    if (a.samples) writeFileSync(task.samplesPath, new Uint8Array(a.samples.buffer, 0, sampleCount * 8))
    // Side a counts and times round trips (ping-pong, one-way) and what it received (load); side b what it received (stream).
    const aTimes = spec.pattern === 'pingpong' || spec.pattern === 'oneway'
    const messages = aTimes || spec.pattern === 'load' ? a.messages : b.messages
    const elapsedNs = aTimes ? (a.elapsedNs ?? 0) : (b.elapsedNs ?? 0)
    const sent = spec.pattern === 'load' || spec.pattern === 'stream' ? (spec.pattern === 'load' ? b.messages : a.messages) : undefined
    const received = spec.pattern === 'load' ? a.messages : b.messages
    return {
      type: 'result',
      messages,
      ...(a.warmupMessages !== undefined
        ? { warmupMessages: a.warmupMessages }
        : spec.pattern === 'load'
          ? { warmupMessages: task.plan.warmup }
          : {}),
      // More, never fewer: a side b that does not count its echoes (a pool worker) keeps side a's count.
      ...(aTimes && b.messages > messages ? { messagesB: b.messages } : {}),
      elapsedNs,
      batch: a.batch ?? 1,
      sampleCount,
      costA: { ...a.cost, scope },
      costB: { ...b.cost, scope: b.scope },
      cpusA: allowedCpus(),
      cpusB: ready.cpus,
      describe,
      startup,
      ...(a.roundTripP50Ns !== undefined ? { roundTripP50Ns: a.roundTripP50Ns } : {}),
      ...(spec.pattern === 'load' ? { sent: b.messages, sendElapsedNs: b.elapsedNs ?? 0 } : {}),
      ...(a.phaseNs ? { phaseNs: a.phaseNs } : {}),
      peakRssKiB: { caseProcess: peakRssKiB(), ...(b.maxRssKiB !== undefined ? { peer: b.maxRssKiB } : {}) },
      ...(sent !== undefined && sent !== received ? { countMismatch: { sent, received } } : {}),
    }
  } finally {
    early?.discard()
    await closeQuietly(ep)
    if (peer) await stopPeer(peer)
    await channel?.teardown()
    rmSync(tmpDir, { recursive: true, force: true })
  }
}

/** Resolves once CLOCK_MONOTONIC reads `at` (ns): a timer for all but the last 2 ms, then a spin. */
async function untilClock(at: number): Promise<void> {
  const left = (at - Number(process.hrtime.bigint())) / 1e6
  if (left > 2) await new Promise((r) => setTimeout(r, left - 2))
  while (Number(process.hrtime.bigint()) < at);
}

/** Milliseconds to a tenth. */
const ms = (x: number): number => Math.round(x * 10) / 10

async function closeQuietly(ep: Endpoint | undefined): Promise<void> {
  try {
    await ep?.close()
  } catch {
    // the peer may have closed first
  }
}

/** When our loop failed because the peer went away, the peer's own report (or its exit) says more. */
function peerEnded(pid: number, how: string): PeerError {
  const e = new PeerError(`peer (pid ${pid}) ended: ${how}`)
  e.side = 'b'
  return e
}

async function preferPeerError(err: unknown, peer: StartedPeer): Promise<unknown> {
  const grace = new Promise<undefined>((r) => setTimeout(() => r(undefined), 500).unref())
  const never = new Promise<undefined>(() => {})
  // The control channel closing says only that the peer went away; its exit says how.
  const fromPeer = peer.control.next('done').then(
    () => never,
    (e: unknown) => (e instanceof PeerError && e.message !== CHANNEL_CLOSED ? e : never),
  )
  const exited = peer.exited.then((how) => (how === 'exit code 0' ? never : peerEnded(peer.link.pid, how)))
  const better = await Promise.race([fromPeer, exited, grace])
  return better ?? err
}

import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MessageChannel, Worker } from 'node:worker_threads'
import { loadMechanism } from '../mechanisms/modules.js'
import type { Channel, Endpoint, PeerHandoff, PeerLink } from '../mechanisms/types.js'
import { Control, PeerError, type ControlMessage } from './control.js'
import { LEDGER } from './cleanup.js'
import { readLimits } from './env.js'
import { allowedCpus, meterFor } from './cost.js'
import { asyncPingpongA, asyncStreamA, syncPingpongA, syncStreamA, type CostSnapshot } from './loops.js'
import { pinThisThread } from './side-b.js'
import type { Hello, RepReport, RepTask, SideUsage } from './task.js'

const PEER_SCRIPT = fileURLToPath(new URL('./peer.js', import.meta.url))
/** Objects of ours carry this prefix and the owning pid, so `ipcbench clean` can tell whose they are. */
export const OBJECT_PREFIX = 'ipcbench'

interface StartedPeer {
  link: PeerLink
  control: Control
  /** Resolves with how the peer ended. */
  exited: Promise<string>
  kill(): void
}

/**
 * Side a of one repetition, in a process of its own: create the channel, start the
 * peer, open both ends, run the loop, collect both sides' figures, tear down.
 *
 * Phase by phase, so a failure anywhere still reaches the teardown.
 */
export async function runRepetition(task: RepTask): Promise<RepReport> {
  const { spec } = task
  const ownsProcess = spec.endpoints === 'process'
  if (!ownsProcess && task.placement.cpuA !== undefined) pinThisThread(task.placement.cpuA)
  const impl = await (await loadMechanism(spec.mechanism)).load()
  const tmpDir = mkdtempSync(join(tmpdir(), `${OBJECT_PREFIX}-${process.pid}-`))
  let channel: Channel | undefined
  let peer: StartedPeer | undefined
  let ep: Endpoint | undefined
  try {
    // Phase 1: kernel objects, then the peer.
    channel = await impl.setup({
      spec,
      tmpDir,
      limits: readLimits(),
      objectName: () => `${OBJECT_PREFIX}-${process.pid}-${randomBytes(6).toString('hex')}`,
      ledger: (kind, id) => appendFileSync(join(tmpDir, LEDGER), `${kind} ${id}\n`, { mode: 0o600 }),
    })
    peer = startPeer(task, channel.peer)
    const hello: Hello = {
      type: 'hello',
      spec,
      plan: task.plan,
      info: channel.peer.info,
      fds: ownsProcess ? (channel.peer.fds ?? []).map((_, i) => 4 + i) : (channel.peer.fds ?? []),
      parentPid: process.pid,
      cpuB: ownsProcess ? undefined : task.placement.cpuB,
      fault: task.fault,
    }
    peer.control.send(hello as unknown as ControlMessage)

    // Phase 2: both ends open (some mechanisms need both sides opening at once).
    const [endpoint, ready] = await Promise.all([channel.openA(peer.link), peer.control.next('ready')])
    ep = endpoint
    const { meter, scope } = meterFor(ownsProcess)

    // Phase 3: the measured exchange.
    peer.control.send({ type: 'go' })
    let a: { messages: number; cost: CostSnapshot; elapsedNs?: number; batch?: number; samples?: Float64Array; sampleCount?: number }
    try {
      if (spec.pattern === 'pingpong') {
        a = ep.kind === 'sync' ? syncPingpongA(ep, task.plan, meter) : await asyncPingpongA(ep, task.plan, meter)
      } else {
        a = ep.kind === 'sync' ? syncStreamA(ep, task.plan, meter) : await asyncStreamA(ep, task.plan, meter)
      }
    } catch (err) {
      throw await preferPeerError(err, peer)
    }
    const b = await peer.control.next('done')

    // Phase 4: figures out.
    const sampleCount = a.sampleCount ?? 0
    if (a.samples) writeFileSync(task.samplesPath, new Uint8Array(a.samples.buffer, 0, sampleCount * 8))
    const bMessages = Number(b.messages)
    const messages = spec.pattern === 'pingpong' ? a.messages : bMessages
    const elapsedNs = spec.pattern === 'pingpong' ? (a.elapsedNs ?? 0) : Number(b.elapsedNs)
    const warnings: string[] = []
    if (spec.pattern === 'stream' && bMessages !== a.messages) {
      warnings.push(`sender counted ${a.messages} messages, receiver ${bMessages}`)
    }
    const describe = { ...channel.describe(), peerPid: String(peer.link.pid) }
    return {
      type: 'result',
      messages,
      elapsedNs,
      batch: a.batch ?? 1,
      sampleCount,
      costA: usage(a.cost, messages, scope),
      costB: usage(b.cost as CostSnapshot, messages, b.scope as 'thread' | 'process'),
      cpusA: allowedCpus(),
      cpusB: (ready.cpus as number[]) ?? [],
      describe,
      warnings,
    }
  } finally {
    await closeQuietly(ep)
    if (peer) await stopPeer(peer)
    await channel?.teardown()
    rmSync(tmpDir, { recursive: true, force: true })
  }
}

function usage(c: CostSnapshot, messages: number, scope: 'thread' | 'process'): SideUsage {
  return { ...c, messages, scope }
}

async function closeQuietly(ep: Endpoint | undefined): Promise<void> {
  try {
    await ep?.close()
  } catch {
    // the peer may have closed first
  }
}

/** When our loop failed because the peer went away, the peer's own report (or its exit) says more. */
async function preferPeerError(err: unknown, peer: StartedPeer): Promise<unknown> {
  const grace = new Promise<undefined>((r) => setTimeout(() => r(undefined), 500).unref())
  const never = new Promise<undefined>(() => {})
  // The control channel closing says only that the peer went away; its exit says how.
  const fromPeer = peer.control.next('done').then(
    () => never,
    (e: unknown) => (e instanceof PeerError && e.message !== 'control channel closed: the peer went away' ? e : never),
  )
  const exited = peer.exited.then((how) => (how === 'exit code 0' ? never : new PeerError(`peer (pid ${peer.link.pid}) ended: ${how}`)))
  const better = await Promise.race([fromPeer, exited, grace])
  return better ?? err
}

async function stopPeer(peer: StartedPeer): Promise<void> {
  const timer = setTimeout(() => peer.kill(), 2000)
  timer.unref()
  // A child's 'exit' can come before its control socket closes; either way we are done.
  await peer.exited
  clearTimeout(timer)
  peer.control.close()
}

function startPeer(task: RepTask, handoff: PeerHandoff): StartedPeer {
  return task.spec.endpoints === 'process' ? startChildPeer(task, handoff) : startWorkerPeer(handoff)
}

function startChildPeer(task: RepTask, handoff: PeerHandoff): StartedPeer {
  const fds = handoff.fds ?? []
  const stdio: Array<'ignore' | 'inherit' | 'pipe' | 'ipc' | number> = ['ignore', 'inherit', 'inherit', 'pipe', ...fds]
  if (handoff.ipc) stdio.push('ipc')
  const cpuB = task.placement.cpuB
  // taskset pins every thread of the peer from its first instruction.
  const [cmd, args] =
    cpuB !== undefined ? ['taskset', ['-c', String(cpuB), process.execPath, PEER_SCRIPT, '--side', 'b']] : [process.execPath, [PEER_SCRIPT, '--side', 'b']]
  const child: ChildProcess = spawn(cmd, args, {
    stdio,
    serialization: handoff.ipc ?? 'json',
    env: process.env,
  })
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit code ${code}`))
    child.once('error', (err) => resolve(`failed to start: ${err.message}`))
  })
  const socket = child.stdio[3] as import('node:net').Socket
  return {
    link: { pid: child.pid ?? -1, child },
    control: Control.overSocket(socket),
    exited,
    kill: () => child.kill('SIGKILL'),
  }
}

function startWorkerPeer(handoff: PeerHandoff): StartedPeer {
  const { port1, port2 } = new MessageChannel()
  const worker = new Worker(PEER_SCRIPT, {
    workerData: { side: 'b', control: port2, transferred: handoff.transfer ?? [] },
    transferList: [port2, ...(handoff.transfer ?? [])],
    stdout: false,
    stderr: false,
  })
  const exited = new Promise<string>((resolve) => {
    worker.once('exit', (code) => resolve(`exit code ${code}`))
    worker.once('error', (err) => resolve(`worker error: ${err.message}`))
  })
  return {
    link: { pid: process.pid, worker },
    control: Control.overPort(port1),
    exited,
    kill: () => void worker.terminate(),
  }
}


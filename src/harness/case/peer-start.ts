import { spawn, type ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import type { PeerHandoff, PeerLink } from '../../mechanisms/types.js'
import { Control, type Message } from './control.js'
import { CASE_ENTRY, type FromPeer, type RepTask, type ToPeer } from './protocol.js'

/**
 * Side b's start, from side a: a child process (endpoints `process`) or a worker
 * thread (endpoints `thread`), each with its control channel. A child gets the
 * control socket as fd 3 and the mechanism's fds right after it, so it sees them as
 * 4, 5, …: the numbering is decided here and nowhere else (`PeerLink.fds`).
 */
export interface StartedPeer<In extends Message = FromPeer, Out extends Message = ToPeer> {
  link: PeerLink
  control: Control<In, Out>
  /** Resolves with how the peer ended: `exit code 0`, `killed by SIGKILL`, … */
  exited: Promise<string>
  kill(): void
}

/** The first fd a child peer receives beyond stdin, stdout, stderr and the control socket. */
const FIRST_HANDED_FD = 4

export function startPeer(task: RepTask, handoff: PeerHandoff): StartedPeer {
  return task.spec.endpoints === 'process' ? startChildPeer(task, handoff) : startWorkerPeer(handoff)
}

function startChildPeer(task: RepTask, handoff: PeerHandoff): StartedPeer {
  const cpuB = task.placement.cpuB
  // taskset pins every thread of the peer from its first instruction. The peer runs with this process's Node flags (--node-args).
  const node = [process.execPath, ...process.execArgv, CASE_ENTRY, '--side', 'b']
  const [cmd, args] = cpuB !== undefined ? ['taskset', ['-c', String(cpuB), ...node]] : [node[0], node.slice(1)]
  return startChild(cmd, args, handoff)
}

/**
 * A child process of this case (a peer, a fan-in sender): its control socket on fd 3,
 * the handed-over fds from FIRST_HANDED_FD on, told who its parent is so that it dies
 * with this process (liveness.ts).
 */
export function startChild<In extends Message, Out extends Message>(cmd: string, args: string[], handoff: PeerHandoff): StartedPeer<In, Out> {
  const fds = handoff.fds ?? []
  const stdio: Array<'ignore' | 'inherit' | 'pipe' | 'ipc' | number> = ['ignore', 'inherit', 'inherit', 'pipe', ...fds]
  if (handoff.ipc) stdio.push('ipc')
  const child: ChildProcess = spawn(cmd, args, {
    stdio,
    serialization: handoff.ipc ?? 'json',
    env: { ...process.env, IPCBENCH_PARENT_PID: String(process.pid) },
  })
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit code ${code}`))
    child.once('error', (err) => resolve(`failed to start: ${err.message}`))
  })
  return {
    link: { pid: child.pid ?? -1, child, fds: fds.map((_, i) => FIRST_HANDED_FD + i) },
    control: Control.overSocket<In, Out>(child.stdio[3] as Socket),
    exited,
    kill: () => child.kill('SIGKILL'),
  }
}

/** What a worker peer finds in its workerData. */
export interface WorkerPeerData {
  side: 'b'
  control: import('node:worker_threads').MessagePort
  transferred: import('node:worker_threads').TransferListItem[]
}

function startWorkerPeer(handoff: PeerHandoff): StartedPeer {
  return startWorker(CASE_ENTRY, (control) => ({ side: 'b', control, transferred: handoff.transfer ?? [] }) satisfies WorkerPeerData, handoff)
}

/** A worker thread of this case (a peer, a fan-in sender) running `entry`, its control channel a MessagePort in its workerData. */
export function startWorker<In extends Message, Out extends Message>(
  entry: string,
  workerData: (control: MessagePort) => object,
  handoff: PeerHandoff,
): StartedPeer<In, Out> {
  const { port1, port2 } = new MessageChannel()
  const worker = new Worker(entry, {
    workerData: workerData(port2),
    transferList: [port2, ...(handoff.transfer ?? [])],
    stdout: false,
    stderr: false,
  })
  const exited = new Promise<string>((resolve) => {
    worker.once('exit', (code) => resolve(`exit code ${code}`))
    worker.once('error', (err) => resolve(`worker error: ${err.message}`))
  })
  return {
    // A worker shares this process's fd table: its fds are ours.
    link: { pid: process.pid, worker, fds: handoff.fds ?? [] },
    control: Control.overPort<In, Out>(port1),
    exited,
    kill: () => void worker.terminate(),
  }
}

/** Waits for the peer to end (killing it after 2 s), then closes its control channel. */
export async function stopPeer<In extends Message, Out extends Message>(peer: StartedPeer<In, Out>): Promise<void> {
  const timer = setTimeout(() => peer.kill(), 2000)
  timer.unref()
  // A child's 'exit' can come before its control socket closes; either way we are done.
  await peer.exited
  clearTimeout(timer)
  peer.control.close()
}

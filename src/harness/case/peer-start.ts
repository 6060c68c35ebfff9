import { spawn, type ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import { constants } from 'node:os'
import { loadNative, WATCH_READABLE, type NativeApi } from '../../native/index.js'
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
  /** When it was started (`performance.now()`). */
  startedAt: number
  /** Started with the case process, before the objects existed (`adoptEarlyPeer`). */
  early?: boolean
}

/** The first fd a child peer receives beyond stdin, stdout, stderr and the control socket. */
const FIRST_HANDED_FD = 4

/**
 * A child peer started early keeps this many fds from FIRST_HANDED_FD on as places for
 * the fds it is handed later, so they land on the numbers a spawn would have given them
 * (nothing else of the process can have taken those). They arrive on the Unix socket
 * right after the places.
 */
const EARLY_PLACES = 4
const EARLY_SOCKET_FD = FIRST_HANDED_FD + EARLY_PLACES

/** The argument that tells a child peer its fds come later (`receiveHandedFds`). */
export const EARLY_ARG = '--fds-later'

/**
 * Side b's start, from side a. A child peer may have been started early, with the case
 * process (`adoptEarlyPeer`): it is used when what the mechanism hands over can reach a
 * running process (fds, by SCM_RIGHTS; names and sizes in the hello), else it is killed
 * and a peer started as usual.
 */
export function startPeer(task: RepTask, handoff: PeerHandoff, early?: EarlyPeer): StartedPeer {
  if (early) {
    const taken = early.take(handoff)
    if (taken) return taken
  }
  return task.spec.endpoints === 'process' ? startChildPeer(task.placement.cpuB, handoff) : startWorkerPeer(handoff)
}

function startChildPeer(cpuB: number | undefined, handoff: PeerHandoff): StartedPeer {
  // taskset pins every thread of the peer from its first instruction. The peer runs with this process's Node flags (--node-args).
  const node = [process.execPath, ...process.execArgv, CASE_ENTRY, '--side', 'b']
  const [cmd, args] = cpuB !== undefined ? ['taskset', ['-c', String(cpuB), ...node]] : [node[0], node.slice(1)]
  return startChild(cmd, args, handoff)
}

/** Side b started before the objects exist, so that its start overlaps the case process's own. */
export interface EarlyPeer {
  /** A child process (beside the case process) or a worker thread (at its start). */
  endpoints: 'process' | 'thread'
  /** The peer, its fds handed over; undefined when this handoff cannot reach it (it is then killed). */
  take(handoff: PeerHandoff): StartedPeer | undefined
  /** Kills it if it was never taken. */
  discard(): undefined
}

/** Where `ipcfloor --launch-pair` leaves this process's ends of the early peer's control and hand-over sockets. */
const EARLY_CONTROL_FD = 4
const EARLY_HANDOVER_FD = 5
/** The early peer's pid, set by the launcher. */
const EARLY_PEER_ENV = 'IPCBENCH_EARLY_PEER'

/**
 * The child peer `ipcfloor --launch-pair` started beside this case process (forked
 * before this process was exec'ed, so it is our child, in our process group); undefined
 * when there is none. It waits for the hello, and for its fds on the hand-over socket.
 */
export function adoptEarlyPeer(): EarlyPeer | undefined {
  const pid = Number(process.env[EARLY_PEER_ENV])
  delete process.env[EARLY_PEER_ENV]
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  const n = loadNative()
  if (!n.ok) {
    process.kill(pid, 'SIGKILL')
    return undefined
  }
  const api = n.api
  let exited: Promise<string>
  try {
    exited = exitOf(api, pid)
  } catch {
    // No pidfd here (Linux before 5.3): nothing to learn its end by; a peer started after the set-up is a ChildProcess.
    process.kill(pid, 'SIGKILL')
    return undefined
  }
  const control = Control.overFd<FromPeer, ToPeer>(EARLY_CONTROL_FD)
  const started: StartedPeer = {
    link: { pid, fds: [] },
    control,
    exited,
    kill: () => {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    },
    // The launcher started it just before this process.
    startedAt: 0,
    early: true,
  }
  let open = true
  const release = (): void => {
    if (open) api.close(EARLY_HANDOVER_FD)
    open = false
  }
  const discard = (): undefined => {
    release()
    started.kill()
    control.close()
    return undefined
  }
  return {
    endpoints: 'process',
    take(handoff) {
      const fds = handoff.fds ?? []
      if (handoff.ipc || fds.length > EARLY_PLACES) return discard()
      try {
        // Side b takes them as soon as they come and says so, before the hello: what the mechanism reads of its fds (/proc) is then its own.
        api.sendFds(EARLY_HANDOVER_FD, fds)
        if (api.read(EARLY_HANDOVER_FD, new Uint8Array(1), 0, 1) !== 1) return discard()
      } catch {
        // Gone already: a peer started now says why, if it fails too.
        return discard()
      }
      release()
      return { ...started, link: { ...started.link, fds: fds.map((_, i) => FIRST_HANDED_FD + i) } }
    },
    discard,
  }
}

/** How a child libuv did not spawn ended, as `ChildProcess` events would say it: its pidfd turns readable, then it is reaped. */
function exitOf(api: NativeApi, pid: number): Promise<string> {
  return new Promise((resolve) => {
    const pidfd = api.pidfdOpen(pid)
    const watcher = new api.FdWatcher(pidfd, () => {
      const how = api.reap(pid)
      if (!how) return
      watcher.close()
      api.close(pidfd)
      resolve('signal' in how ? `killed by ${signalName(how.signal)}` : `exit code ${how.code}`)
    })
    watcher.watch(WATCH_READABLE)
  })
}

const signalName = (signo: number): string => Object.entries(constants.signals).find(([, n]) => n === signo)?.[0] ?? `signal ${signo}`

/**
 * In a child peer started early (`EARLY_ARG`): takes the fds side a hands over, once
 * they come, onto the numbers a spawn would have given them (FIRST_HANDED_FD on), says
 * so with one byte, and closes the places left and the socket. Resolves with how many
 * came; the event loop stays free meanwhile (side b loads its code).
 */
export function receiveHandedFds(): Promise<number> {
  const n = loadNative()
  if (!n.ok) return Promise.reject(new Error(`a peer started early needs the native helper to receive its fds (${n.reason})`))
  const api = n.api
  return new Promise((resolve, reject) => {
    const watcher = new api.FdWatcher(EARLY_SOCKET_FD, () => {
      watcher.close()
      try {
        const got = api.receiveFdsAt(EARLY_SOCKET_FD, FIRST_HANDED_FD)
        api.write(EARLY_SOCKET_FD, new Uint8Array([1]), 0, 1)
        for (let fd = FIRST_HANDED_FD + got; fd <= EARLY_SOCKET_FD; fd++) api.close(fd)
        resolve(got)
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    })
    watcher.watch(WATCH_READABLE)
  })
}

/** The fds received are the ones the hello names. */
export function checkHandedFds(got: number, expected: readonly number[]): void {
  if (got !== expected.length || expected.some((fd, i) => fd !== FIRST_HANDED_FD + i))
    throw new Error(`peer started early: received ${got} fd(s) where the hello names ${expected.length} (${expected.join(', ')})`)
}

/**
 * A child process of this case (a peer, a fan-in sender): its control socket on fd 3,
 * the handed-over fds from FIRST_HANDED_FD on, told who its parent is so that it dies
 * with this process (liveness.ts).
 */
export function startChild<In extends Message, Out extends Message>(cmd: string, args: string[], handoff: PeerHandoff): StartedPeer<In, Out> {
  const fds = handoff.fds ?? []
  const startedAt = performance.now()
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
    startedAt,
  }
}

/** What a worker peer finds in its workerData. */
export interface WorkerPeerData {
  side: 'b'
  control: import('node:worker_threads').MessagePort
  transferred: import('node:worker_threads').TransferListItem[]
  /** Started before the objects existed: what it is handed comes in a `handover` message before the hello. */
  later?: boolean
}

/** The case process's argument that asks for its worker peer at once, before the task arrives. */
export const WORKER_AT_START = '--worker-at-start'

/**
 * A worker peer started as the case process starts, before the objects exist: what a
 * worker otherwise finds in its workerData (ports, shared memory) is transferred to it in
 * a `handover` message once the set-up has made it.
 */
export function startEarlyWorker(): EarlyPeer {
  const started = startWorker<FromPeer, ToPeer>(
    CASE_ENTRY,
    (control) => ({ side: 'b', control, transferred: [], later: true }) satisfies WorkerPeerData,
    { info: {} },
  )
  const discard = (): undefined => {
    started.kill()
    started.control.close()
    return undefined
  }
  return {
    endpoints: 'thread',
    take(handoff) {
      if (handoff.ipc) return discard()
      const transferred = handoff.transfer ?? []
      started.control.send({ type: 'handover', transferred }, transferred)
      return { ...started, link: { ...started.link, fds: handoff.fds ?? [] }, early: true }
    },
    discard,
  }
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
  const startedAt = performance.now()
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
    startedAt,
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

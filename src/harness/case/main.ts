/**
 * The entry point of every process and thread of a case (docs/ARCHITECTURE.md):
 *   - the case process (side a): a child of the orchestrator, given one repetition
 *     over Node's IPC channel;
 *   - side b in a process: a child of side a, its control channel on fd 3;
 *   - side b in a thread: a worker of side a, its control channel a MessagePort.
 * Uses the global `process`: importing node:process flips fd 0 to non-blocking.
 */
import { isMainThread, workerData } from 'node:worker_threads'
import { Control, errorReport } from './control.js'
import { dieWithParent } from './liveness.js'
import { adoptEarlyPeer, checkHandedFds, EARLY_ARG, receiveHandedFds, startEarlyWorker, WORKER_AT_START, type WorkerPeerData } from './peer-start.js'
import type { CaseProcessReply, FromPeer, RepTask, ToPeer } from './protocol.js'

async function main(): Promise<void> {
  if (!isMainThread) {
    const data = workerData as WorkerPeerData
    const ctl = Control.overPort<ToPeer, FromPeer>(data.control)
    const [hello, handover, { runSideB }] = await Promise.all([
      ctl.next('hello'),
      data.later ? ctl.next('handover') : undefined,
      import('./side-b.js'),
    ])
    await runSideB(ctl, hello, false, handover?.transferred ?? data.transferred)
    ctl.close()
    // A mechanism's port may still hold this thread's loop (parentPort cannot be closed), and
    // side a waits for our exit: end now. What we posted is already queued on the ports.
    setImmediate(() => process.exit(0))
    return
  }
  // Without the addon the case process still notices its IPC channel closing whenever its event loop is free (below).
  dieWithParent()
  if (process.argv.includes('--side') && process.argv[process.argv.indexOf('--side') + 1] === 'b') {
    const ctl = Control.overFd<ToPeer, FromPeer>(3)
    // Started before side a made the objects: its fds come on a socket of their own (peer-start.ts).
    const handed = process.argv.includes(EARLY_ARG) ? receiveHandedFds() : undefined
    handed?.catch(() => {}) // awaited in runSideB, where a failure is reported to side a
    // Each role loads only its own code: a peer's start is part of every repetition.
    const [hello, { runSideB }] = await Promise.all([ctl.next('hello'), import('./side-b.js')])
    await runSideB(ctl, hello, true, [], handed && (async () => checkHandedFds(await handed, hello.fds)))
    ctl.close()
    // Nothing of ours should keep the peer alive now; exit even if a mechanism left a handle.
    setTimeout(() => process.exit(0), 100).unref()
    return
  }
  if (!process.send) {
    process.stderr.write('ipcbench case process: started without an IPC channel (this is an internal entry point; use the ipcbench command)\n')
    process.exit(2)
  }
  // Side b, started beside us by the orchestrator (a child) or now (a worker), so that the starts overlap; it gets its objects once they exist.
  const early = adoptEarlyPeer() ?? (process.argv.includes(WORKER_AT_START) ? startEarlyWorker() : undefined)
  // The orchestrator gone (its end of the IPC channel closed): end the case's process group, peer included.
  const orphaned = (): void => void process.kill(-process.pid, 'SIGKILL')
  process.once('disconnect', orphaned)
  const reply = (m: CaseProcessReply): void =>
    void process.send!(m, () => {
      process.off('disconnect', orphaned)
      process.disconnect()
      // As for a peer: a mechanism's handle (a custom one's server left open) must not keep us alive after the reply.
      setTimeout(() => process.exit(0), 100).unref()
    })
  const sideA = import('./side-a.js')
  process.once('message', (task: RepTask) => {
    sideA
      .then(({ runRepetition }) => runRepetition(task, early))
      .then(reply, (err: unknown) => reply({ ...errorReport(err), side: (err as { side?: 'a' | 'b' }).side ?? 'a' }))
  })
}

main().catch((err: unknown) => {
  process.stderr.write(`ipcbench case process: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})

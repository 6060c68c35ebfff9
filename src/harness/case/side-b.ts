import type { TransferListItem } from 'node:worker_threads'
import { allowedCpus } from '../../core/proc.js'
import { loadImpl } from '../../mechanisms/custom.js'
import type { Endpoint } from '../../mechanisms/types.js'
import type { Control } from './control.js'
import { meterFor, pinThisThread } from './cpu.js'
import { wrapWithFault } from './faults.js'
import { watchPeerWhileBlocked } from './liveness.js'
import { asyncEchoB, asyncStreamB, syncEchoB, syncStreamB } from './loops.js'
import type { CostSnapshot, FromPeer, Hello, ToPeer } from './protocol.js'

/** What side b's loop measured: messages, its CPU, and for a stream the receiving time. */
interface SideBResult {
  messages: number
  cost: CostSnapshot
  elapsedNs?: number
}

/**
 * Side b: opens its endpoint, says ready, waits for go, echoes (ping-pong) or
 * receives (stream), reports its own cost and, for a stream, the throughput it saw.
 */
export async function runSideB(ctl: Control<ToPeer, FromPeer>, hello: Hello, ownsProcess: boolean, transferred: TransferListItem[]): Promise<void> {
  let ep: Endpoint | undefined
  try {
    if (!ownsProcess && hello.cpuB !== undefined) pinThisThread(hello.cpuB)
    const impl = await loadImpl(hello.spec.mechanism, hello.mechanismModule)
    let opened: Endpoint = await impl.openB({ spec: hello.spec, info: hello.info, fds: hello.fds, parentPid: hello.parentPid, transferred })
    if (hello.fault) opened = wrapWithFault(opened, hello.fault)
    ep = opened
    const { meter, scope } = meterFor(ownsProcess)
    const pingpong = hello.spec.pattern === 'pingpong'
    // An event-loop side listens before it says ready: side a's first message, sent
    // right after "go" on another channel, can then never arrive unheard, and a
    // credit-window endpoint acknowledges only what this loop has taken.
    const listening: Promise<SideBResult> | undefined =
      opened.kind === 'async' ? (pingpong ? asyncEchoB(opened, hello.plan, meter) : asyncStreamB(opened, hello.plan, meter)) : undefined
    listening?.catch(() => {}) // awaited below, after "go"
    ctl.send({ type: 'ready', cpus: allowedCpus(), scope })
    await ctl.next('go')
    let r: SideBResult
    if (opened.kind === 'async') r = await listening!
    else {
      const watchdog = ownsProcess ? watchPeerWhileBlocked(hello.parentPid) : undefined
      try {
        r = pingpong ? syncEchoB(opened, hello.plan, meter) : syncStreamB(opened, hello.plan, meter)
      } finally {
        watchdog?.stop()
      }
    }
    ctl.send({ type: 'done', messages: r.messages, elapsedNs: r.elapsedNs, cost: r.cost, scope })
  } catch (err) {
    ctl.sendError(err)
  } finally {
    // Closing our end tells a side a that is blocked in a read that we are gone.
    try {
      await ep?.close()
    } catch {
      // already closed by the peer
    }
  }
}

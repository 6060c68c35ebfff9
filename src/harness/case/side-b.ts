import type { TransferListItem } from 'node:worker_threads'
import { allowedCpus } from '../../core/proc.js'
import { loadImpl } from '../../mechanisms/custom.js'
import type { AsyncEndpoint, Endpoint, SyncEndpoint } from '../../mechanisms/types.js'
import type { Control } from './control.js'
import { meterFor, peakRssKiB, pinThisThread } from './cpu.js'
import { wrapWithFault } from './faults.js'
import { watchPeerWhileBlocked } from './liveness.js'
import { asyncEchoB, asyncStreamB, syncEchoB, syncStreamB } from './loops.js'
import { asyncLoadB, asyncOnewayB, syncLoadB, syncOnewayB } from './timed-loops.js'
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
export async function runSideB(
  ctl: Control<ToPeer, FromPeer>,
  hello: Hello,
  ownsProcess: boolean,
  transferred: TransferListItem[],
  /** A child started before the objects existed: its fds taken, and checked against the hello (peer-start.ts). */
  handedFds?: () => Promise<void>,
): Promise<void> {
  let ep: Endpoint | undefined
  try {
    await handedFds?.()
    if (!ownsProcess && hello.cpuB !== undefined) pinThisThread(hello.cpuB)
    const impl = await loadImpl(hello.spec.mechanism, hello.mechanismModule)
    let opened: Endpoint = await impl.openB({ spec: hello.spec, info: hello.info, fds: hello.fds, parentPid: hello.parentPid, transferred })
    if (hello.fault) opened = wrapWithFault(opened, hello.fault)
    ep = opened
    const { meter, scope } = meterFor(ownsProcess)
    const { pattern } = hello.spec
    const asyncLoop = (ep: AsyncEndpoint): Promise<SideBResult> =>
      pattern === 'pingpong'
        ? asyncEchoB(ep, hello.plan, meter)
        : pattern === 'oneway'
          ? asyncOnewayB(ep, hello.plan, meter)
          : asyncStreamB(ep, hello.plan, meter)
    const syncLoop = (ep: SyncEndpoint): SideBResult =>
      pattern === 'pingpong'
        ? syncEchoB(ep, hello.plan, meter)
        : pattern === 'oneway'
          ? syncOnewayB(ep, hello.plan, meter)
          : pattern === 'load'
            ? syncLoadB(ep, hello.plan, meter)
            : syncStreamB(ep, hello.plan, meter)
    // An event-loop side listens before it says ready: side a's first message, sent
    // right after "go" on another channel, can then never arrive unheard, and a
    // credit-window endpoint acknowledges only what this loop has taken. The load
    // pattern's sender has nothing to hear: it starts sending at "go".
    const listening: Promise<SideBResult> | undefined = opened.kind === 'async' && pattern !== 'load' ? asyncLoop(opened) : undefined
    listening?.catch(() => {}) // awaited below, after "go"
    ctl.send({ type: 'ready', cpus: allowedCpus(), scope })
    await ctl.next('go')
    let r: SideBResult
    if (opened.kind === 'async') r = listening ? await listening : await asyncLoadB(opened, hello.plan, meter)
    else {
      const watchdog = ownsProcess ? watchPeerWhileBlocked(hello.parentPid) : undefined
      try {
        r = syncLoop(opened)
      } finally {
        watchdog?.stop()
      }
    }
    ctl.send({ type: 'done', messages: r.messages, elapsedNs: r.elapsedNs, cost: r.cost, scope, ...(ownsProcess ? { maxRssKiB: peakRssKiB() } : {}) })
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

import type { TransferListItem } from 'node:worker_threads'
import { allowedCpus } from '../../core/proc.js'
import { getMechanism } from '../../mechanisms/registry.js'
import type { Endpoint } from '../../mechanisms/types.js'
import type { Control } from './control.js'
import { meterFor, pinThisThread } from './cpu.js'
import { holdEarlyMessages } from './early-messages.js'
import { wrapWithFault } from './faults.js'
import { asyncEchoB, asyncStreamB, syncEchoB, syncStreamB } from './loops.js'
import type { Done, FromPeer, Hello, ToPeer } from './protocol.js'

/**
 * Side b: opens its endpoint, says ready, waits for go, echoes (ping-pong) or
 * receives (stream), reports its own cost and, for a stream, the throughput it saw.
 */
export async function runSideB(ctl: Control<ToPeer, FromPeer>, hello: Hello, ownsProcess: boolean, transferred: TransferListItem[]): Promise<void> {
  let ep: Endpoint | undefined
  try {
    if (!ownsProcess && hello.cpuB !== undefined) pinThisThread(hello.cpuB)
    const impl = await getMechanism(hello.spec.mechanism).load()
    let opened: Endpoint = await impl.openB({ spec: hello.spec, info: hello.info, fds: hello.fds, parentPid: hello.parentPid, transferred })
    if (hello.fault) opened = wrapWithFault(opened, hello.fault)
    if (opened.kind === 'async') opened = holdEarlyMessages(opened)
    ep = opened
    const { meter, scope } = meterFor(ownsProcess)
    ctl.send({ type: 'ready', cpus: allowedCpus(), scope })
    await ctl.next('go')
    let done: Done
    if (hello.spec.pattern === 'pingpong') {
      const r = opened.kind === 'sync' ? syncEchoB(opened, hello.plan, meter) : await asyncEchoB(opened, hello.plan, meter)
      done = { type: 'done', messages: r.messages, cost: r.cost, scope }
    } else {
      const r = opened.kind === 'sync' ? syncStreamB(opened, hello.plan, meter) : await asyncStreamB(opened, hello.plan, meter)
      done = { type: 'done', messages: r.messages, elapsedNs: r.elapsedNs, cost: r.cost, scope }
    }
    ctl.send(done)
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

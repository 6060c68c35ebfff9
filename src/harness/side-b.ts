import type { TransferListItem } from 'node:worker_threads'
import { loadNative } from '../native/index.js'
import { getMechanism } from '../mechanisms/registry.js'
import type { Endpoint } from '../mechanisms/types.js'
import { errorMessage, type Control } from './control.js'
import { allowedCpus, meterFor } from './cost.js'
import { asyncEchoB, asyncStreamB, syncEchoB, syncStreamB, type CostSnapshot } from './loops.js'
import type { Hello } from './task.js'
import { wrapWithFault } from './faults.js'

/**
 * Side b: opens its endpoint, says ready, waits for go, echoes (ping-pong) or
 * receives (stream), reports its own cost and, for a stream, the throughput it saw.
 */
export async function runSideB(ctl: Control, hello: Hello, ownsProcess: boolean, transferred: TransferListItem[]): Promise<void> {
  let ep: Endpoint | undefined
  try {
    if (!ownsProcess && hello.cpuB !== undefined) pinThisThread(hello.cpuB)
    const mech = getMechanism(hello.spec.mechanism)
    const impl = await mech.load()
    ep = await impl.openB({ spec: hello.spec, info: hello.info, fds: hello.fds, parentPid: hello.parentPid, transferred })
    if (hello.fault) ep = wrapWithFault(ep, hello.fault)
    const { meter, scope } = meterFor(ownsProcess)
    ctl.send({ type: 'ready', cpus: allowedCpus(), scope })
    await ctl.next('go')
    let messages: number
    let cost: CostSnapshot
    let elapsedNs: number | undefined
    if (hello.spec.pattern === 'pingpong') {
      const r = ep.kind === 'sync' ? syncEchoB(ep, hello.plan, meter) : await asyncEchoB(ep, hello.plan, meter)
      messages = r.messages
      cost = r.cost
    } else {
      const r = ep.kind === 'sync' ? syncStreamB(ep, hello.plan, meter) : await asyncStreamB(ep, hello.plan, meter)
      messages = r.messages
      cost = r.cost
      elapsedNs = r.elapsedNs
    }
    ctl.send({ type: 'done', messages, elapsedNs, cost, scope })
  } catch (err) {
    ctl.send(errorMessage(err))
  } finally {
    // Closing our end tells a side a that is blocked in a read that we are gone.
    try {
      await ep?.close()
    } catch {
      // already closed by the peer
    }
  }
}

export function pinThisThread(cpu: number): void {
  const n = loadNative()
  if (n.ok) n.api.setAffinity([cpu])
}

import type { TransferListItem } from 'node:worker_threads'
import { loadNative } from '../native/index.js'
import { loadMechanism } from '../mechanisms/modules.js'
import type { AsyncEndpoint, Endpoint } from '../mechanisms/types.js'
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
    const mech = await loadMechanism(hello.spec.mechanism)
    const impl = await mech.load()
    ep = await impl.openB({ spec: hello.spec, info: hello.info, fds: hello.fds, parentPid: hello.parentPid, transferred })
    if (hello.fault) ep = wrapWithFault(ep, hello.fault)
    if (ep.kind === 'async') ep = holdEarlyMessages(ep)
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

/**
 * Side a sends its first message right after "go", on another channel than the
 * control one, so it can arrive before this side has registered its handler (after
 * "go"). An event-loop endpoint delivers at once, so such a message would be lost
 * and the case would hang; keep what arrives early until the loop asks for it.
 */
export function holdEarlyMessages(ep: AsyncEndpoint): AsyncEndpoint {
  const early: Uint8Array[] = []
  let earlyError: Error | undefined
  let onMessage: ((m: Uint8Array) => void) | undefined
  let onError: ((e: Error) => void) | undefined
  ep.onMessage((m) => (onMessage ? onMessage(m) : early.push(m)))
  ep.onError((e) => (onError ? onError(e) : (earlyError ??= e)))
  return {
    kind: 'async',
    transfers: ep.transfers,
    send: (buf, release) => ep.send(buf, release),
    onMessage(cb) {
      onMessage = cb
      while (early.length > 0) cb(early.shift()!)
    },
    onDrain: (cb) => ep.onDrain(cb),
    onError(cb) {
      onError = cb
      if (earlyError) cb(earlyError)
    },
    close: () => ep.close(),
  }
}

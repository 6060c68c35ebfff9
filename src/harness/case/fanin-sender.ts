/**
 * A fan-in sender: a child process of the receiver (its control channel on fd 3, the
 * mechanism's fds from fd 4 on) or a worker thread of it (its control channel a
 * MessagePort). It opens its end of the one channel, says ready, and on "go" sends
 * numbered, time-stamped messages (core/fanin-wire.ts) as fast as the channel takes
 * them until the time or count bound, then its STOP; it reports what it sent and its
 * CPU, and stays until the receiver says bye (a sender that ended early would look,
 * to the receiver's watchdog, like one that died).
 *
 * Test-only (IPCBENCH_TEST_FAULTS=1): the fault `kill-sender:K:N` makes sender K die
 * at its message N: SIGKILL of a sender process, an abrupt exit of a sender thread.
 * Uses the global `process`: importing node:process flips fd 0 to non-blocking.
 */
import { isMainThread, workerData, type MessagePort } from 'node:worker_threads'
import { FanInMessage } from '../../core/fanin-wire.js'
import { allowedCpus } from '../../core/proc.js'
import { getMechanism } from '../../mechanisms/registry.js'
import type { AsyncEndpoint, Endpoint, SyncEndpoint } from '../../mechanisms/types.js'
import { Control } from './control.js'
import { costBetween, meterFor, peakRssKiB, type CostMeter } from './cpu.js'
import { faultsEnabled } from './faults.js'
import { deadlineAfter } from './loops.js'
import { dieWithParent } from './liveness.js'
import type { CostSnapshot, FromSender, SenderHello, ToSender } from './protocol.js'

/** What a worker sender finds in its workerData. */
export interface SenderWorkerData {
  control: MessagePort
}

interface Sent {
  sent: number
  cost: CostSnapshot
}

/** Blocking: one message after another; the channel's back-pressure sleeps in the send. Not timed here: the receiver times. */
export function syncSend(ep: SyncEndpoint, hello: SenderHello, meter: CostMeter): Sent {
  const msg = new FanInMessage(hello.spec.sizeBytes, hello.sender)
  const c0 = meter()
  const deadline = deadlineAfter(process.hrtime.bigint(), hello.durationMs)
  let seq = 0
  while (seq < hello.maxMessages) {
    ep.send(msg.next(seq))
    seq++
    if ((seq & 63) === 0 && process.hrtime.bigint() >= deadline) break
  }
  const cost = costBetween(c0, meter())
  ep.send(msg.stop())
  return { sent: seq, cost }
}

/** Event loop: send while the endpoint accepts, wait for its drain callback when it pushes back. */
export function asyncSend(ep: AsyncEndpoint, hello: SenderHello, meter: CostMeter): Promise<Sent> {
  const msg = new FanInMessage(hello.spec.sizeBytes, hello.sender)
  const c0 = meter()
  const deadline = deadlineAfter(process.hrtime.bigint(), hello.durationMs)
  let seq = 0
  return new Promise((resolve, reject) => {
    ep.onError(reject)
    const pump = (): void => {
      for (;;) {
        if (seq >= hello.maxMessages || ((seq & 63) === 0 && seq > 0 && process.hrtime.bigint() >= deadline)) {
          const cost = costBetween(c0, meter())
          ep.send(msg.stop())
          return resolve({ sent: seq, cost })
        }
        // A structured clone copies at once: the one buffer is reused.
        if (!ep.send(msg.next(seq++))) return
      }
    }
    ep.onDrain(pump)
    pump()
  })
}

/** The test-only kill, as a wrapper, so the sending loop holds nothing else. */
function withKill(ep: Endpoint, fault: string | undefined, sender: number): Endpoint {
  const m = /^kill-sender:(\d+):(\d+)$/.exec(fault ?? '')
  if (!faultsEnabled() || !m || Number(m[1]) !== sender) return ep
  const at = Number(m[2])
  let n = 0
  const die = (): void => {
    if (n++ !== at) return
    if (isMainThread) process.kill(process.pid, 'SIGKILL')
    else process.exit(137)
  }
  if (ep.kind === 'sync') {
    const inner: SyncEndpoint = ep
    return { ...inner, send: (b: Uint8Array) => (die(), inner.send(b)) }
  }
  const inner: AsyncEndpoint = ep
  return { ...inner, send: (b: Uint8Array, r?: () => void) => (die(), inner.send(b, r)) }
}

async function runSender(ctl: Control<ToSender, FromSender>, ownsProcess: boolean): Promise<void> {
  let ep: Endpoint | undefined
  try {
    const hello = await ctl.next('hello')
    const fan = getMechanism(hello.spec.mechanism).fanIn
    if (!fan) throw new Error(`${hello.spec.mechanism} has no fan-in`)
    const impl = await fan.load()
    const opened = withKill(
      await impl.openSender({ spec: hello.spec, info: hello.info, fds: hello.fds, parentPid: hello.parentPid, transferred: [] }),
      hello.fault,
      hello.sender,
    )
    ep = opened
    const { meter } = meterFor(ownsProcess)
    ctl.send({ type: 'ready', cpus: allowedCpus() })
    await ctl.next('go')
    const r = opened.kind === 'sync' ? syncSend(opened, hello, meter) : await asyncSend(opened, hello, meter)
    ctl.send({ type: 'done', sent: r.sent, cost: r.cost, ...(ownsProcess ? { maxRssKiB: peakRssKiB() } : {}) })
    await ctl.next('bye').catch(() => {})
  } catch (err) {
    ctl.sendError(err)
  } finally {
    try {
      await ep?.close()
    } catch {
      // the receiver may have closed first
    }
  }
}

async function main(): Promise<void> {
  if (!isMainThread) {
    const ctl = Control.overPort<ToSender, FromSender>((workerData as SenderWorkerData).control)
    await runSender(ctl, false)
    ctl.close()
    setTimeout(() => process.exit(0), 100).unref()
    return
  }
  // Dies with the receiver, as a two-sided peer does.
  dieWithParent()
  const ctl = Control.overFd<ToSender, FromSender>(3)
  await runSender(ctl, true)
  ctl.close()
  setTimeout(() => process.exit(0), 100).unref()
}

main().catch((err: unknown) => {
  process.stderr.write(`ipcbench fan-in sender: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})

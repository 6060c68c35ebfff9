import { join } from 'node:path'
import { fairnessOf, maxPerSenderOf } from '../../core/fanin-wire.js'
import type { FanInSender } from '../../core/result.js'
import type { ErrorReport, RepReport } from '../case/protocol.js'
import { LEDGER } from '../host/cleanup.js'
import type { CasePlan } from '../plan/case-plan.js'
import type { RepOutcome } from './executor.js'
import { floorFailure, inFloorDir, runFloor } from './floor-executor.js'
import { buildRepetition } from './repetition.js'

/** What `ipcfloor --fanin` prints on success (native-helpers/floor/fanin.c). */
interface FloorFanIn {
  type: 'result'
  pattern: 'fanin'
  senders: number
  messages: number
  elapsedNs: number
  reorderedBetweenSenders: number
  receiverCpu: { userUs: number; sysUs: number; voluntaryCtx: number; involuntaryCtx: number }
  perSender: Array<{ sender: number; sent: number; received: number; latencyNs: FanInSender['latencyNs']; cpu: { userUs: number; sysUs: number } }>
}

/**
 * One C floor repetition of a fan-in case: `ipcfloor --fanin MECH SENDERS SIZE
 * DURATION_MS MAX_PER_SENDER`, its forked senders and its receiver all on the CPUs
 * the placement gives (taskset; forks inherit them), as the Node case's are. The
 * same time bound and count bound per sender as the Node case.
 */
export async function runFanInFloor(path: string, plan: CasePlan, repetition: number, name: string): Promise<RepOutcome> {
  const { spec, loop, placement } = plan
  const senders = spec.senders ?? 1
  const maxPerSender = maxPerSenderOf(loop.maxMessages, senders)
  const cpus = [...new Set([placement.cpuA, placement.cpuB].filter((c) => c !== undefined))]
  const floorArgs = ['--fanin', name, senders, spec.sizeBytes, loop.durationMs, maxPerSender].map(String)
  const [cmd, args] = cpus.length > 0 ? ['taskset', ['-c', cpus.join(','), path, ...floorArgs]] : [path, floorArgs]
  return inFloorDir(async (dir) => {
    const reply = (await runFloor(cmd, args, join(dir, LEDGER), plan.timeoutMs)) as
      RepReport | FloorFanIn | ErrorReport | { type: 'skipped'; reason: string }
    if (reply.type === 'skipped') return { ok: false, state: 'skipped', error: { message: `C floor: ${reply.reason}` } }
    if (reply.type === 'error') return floorFailure(reply)
    if (!('perSender' in reply))
      return { ok: false, state: 'errored', error: { message: 'C floor: a fan-in run answered without its senders', side: 'harness' } }
    const perSender: FanInSender[] = reply.perSender.map((s) => ({
      sender: s.sender,
      sent: s.sent,
      received: s.received,
      latencyNs: s.latencyNs,
      cpuUsPerMsg: (s.cpu.userUs + s.cpu.sysUs) / Math.max(1, s.sent),
    }))
    const bad = perSender.find((s) => s.sent !== s.received)
    if (bad)
      return {
        ok: false,
        state: 'errored',
        error: { message: `C floor: sender ${bad.sender} sent ${bad.sent}, the receiver checked ${bad.received}`, side: 'b' },
      }
    const sendersCpu = reply.perSender.reduce((u, s) => ({ userUs: u.userUs + s.cpu.userUs, sysUs: u.sysUs + s.cpu.sysUs }), { userUs: 0, sysUs: 0 })
    const report: RepReport = {
      type: 'result',
      messages: reply.messages,
      elapsedNs: reply.elapsedNs,
      batch: 1,
      sampleCount: 0,
      costA: { ...reply.receiverCpu, scope: 'process' },
      // The senders' context switches are not in the floor's report.
      costB: { ...sendersCpu, voluntaryCtx: 0, involuntaryCtx: 0, scope: 'process' },
      cpusA: cpus,
      cpusB: cpus,
      describe: { senders: String(senders), io: 'forked senders, blocking calls (ipcfloor --fanin)' },
      fanIn: {
        senders,
        reorderedBetweenSenders: reply.reorderedBetweenSenders,
        receiverCpuUsPerMsg: (reply.receiverCpu.userUs + reply.receiverCpu.sysUs) / Math.max(1, reply.messages),
        perSender,
        fairness: fairnessOf(perSender),
      },
    }
    const rep = buildRepetition(plan, repetition, report, new Float64Array(0))
    return { ok: true, rep, describe: report.describe, warnings: [] } satisfies RepOutcome
  })
}

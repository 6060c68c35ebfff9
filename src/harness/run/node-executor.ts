import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ownedPrefix } from '../../core/paths.js'
import { CASE_ENTRY, type CaseProcessReply, type RepReport, type RepTask } from '../case/protocol.js'
import { EARLY_ARG, WORKER_AT_START } from '../case/peer-start.js'
import { cleanStale } from '../host/cleanup.js'
import { caseEnvironment } from '../host/env.js'
import { floorStatus } from '../host/floor-binary.js'
import { loadNative } from '../../native/index.js'
import type { MechanismModule } from '../../core/result.js'
import { warning } from '../../core/warnings.js'
import { customModuleOf } from '../../mechanisms/registry.js'
import type { CasePlan } from '../plan/case-plan.js'
import type { RepetitionExecutor, RepOutcome } from './executor.js'
import { buildRepetition, keepSamples, readSamples, refusedCall, reportWarnings } from './repetition.js'

/**
 * The Node executor: each repetition in a fresh case process (side a), which starts
 * side b. The case process leads its own process group, so a time-out or an
 * interrupt kills both sides at once, whatever state they are in.
 */
/** What a configuration of the Node peers can differ in (for an A/B of two Node binaries, or two environments). */
export interface NodeConfiguration {
  /** The Node binary of the case process (its peers inherit it); this process's own by default. */
  execPath?: string
  /** Variables added to the case process's environment (and its peers'). */
  env?: Record<string, string>
  /** The case process's script: another ipcbench checkout's (same CASE_PROTOCOL) instead of this one's. */
  caseEntry?: string
  /** `--node-args`: flags of the case process, which gives its own to its child peers (`process.execArgv`). */
  nodeArgs?: readonly string[]
  /** Test-only fault for side b, by case id. */
  faultFor?: (id: string) => string | undefined
  /** Custom mechanisms' modules by id, for this configuration (an A/B of two versions); else each one's as registered. */
  mechanismModules?: Readonly<Record<string, MechanismModule>>
  /** `--samples`: this configuration's files are `node-<label>-<repetition>.f64` (an A/B's two configurations), else `node-…`. */
  samplesLabel?: string
}

export function nodeExecutor(config: NodeConfiguration = {}): RepetitionExecutor & { dispose(): void } {
  const { faultFor } = config
  const execPath = config.execPath ?? process.execPath
  // A custom mechanism's case gets the whole environment, a built-in one's starts lean (host/env.ts).
  const fullEnv = config.env ? { ...process.env, ...config.env } : process.env
  const leanEnv = caseEnvironment(config.env)
  const caseEntry = config.caseEntry ?? CASE_ENTRY
  const nodeArgs = config.nodeArgs ?? []
  const samplesName = config.samplesLabel ? `node-${config.samplesLabel}` : 'node'
  let workDir: string | undefined
  return {
    name: 'node',
    async run(plan, repetition, signal) {
      workDir ??= mkdtempSync(join(tmpdir(), ownedPrefix('run-')))
      const task: RepTask = {
        spec: plan.spec,
        repetition,
        plan: plan.loop,
        placement: plan.placement,
        samplesPath: join(workDir, `samples-${repetition}-${randomBytes(4).toString('hex')}.f64`),
        fault: faultFor?.(plan.spec.id),
      }
      const custom = config.mechanismModules?.[plan.spec.mechanism] ?? customModuleOf(plan.spec.mechanism)
      if (custom) task.mechanismModule = { path: custom.path, sha256: custom.sha256 }
      const env = custom ? fullEnv : leanEnv
      try {
        return await runInCaseProcess(plan, task, { execPath, nodeArgs, caseEntry, env, samplesName }, signal)
      } finally {
        rmSync(task.samplesPath, { force: true })
      }
    },
    dispose() {
      if (workDir) rmSync(workDir, { recursive: true, force: true })
      workDir = undefined
    },
  }
}

interface CaseProcess {
  execPath: string
  nodeArgs: readonly string[]
  caseEntry: string
  env: NodeJS.ProcessEnv
  /** The executor's name in `--samples` files. */
  samplesName: string
}

function runInCaseProcess(
  plan: CasePlan,
  task: RepTask,
  { execPath, nodeArgs, caseEntry, env, samplesName }: CaseProcess,
  signal?: AbortSignal,
): Promise<RepOutcome> {
  const { cpuA, cpuB } = task.placement
  // Both sides' CPUs for a thread case (each thread then pins itself); side a's alone for a process case.
  // Fan-in: the receiver and every sender share the placement's CPUs (senders inherit them), as in the C floor.
  const cpus =
    task.spec.endpoints === 'thread' || task.spec.pattern === 'fanin'
      ? [...new Set([cpuA, cpuB].filter((c) => c !== undefined))]
      : cpuA !== undefined
        ? [cpuA]
        : []
  // Side b started with the case process (harness/case/peer-start.ts), by this checkout's case entry only.
  const early = plan.peerAtStart === true && caseEntry === CASE_ENTRY
  const node = [execPath, ...nodeArgs, caseEntry, ...(early && task.spec.endpoints === 'thread' ? [WORKER_AT_START] : [])]
  const pair = early && task.spec.endpoints === 'process' ? pairLaunch(task, [execPath, ...nodeArgs, caseEntry, '--side', 'b', EARLY_ARG]) : undefined
  const [cmd, args] = pair
    ? [pair.launcher, [...pair.args, ...node]]
    : cpus.length > 0
      ? ['taskset', ['-c', cpus.join(','), ...node]]
      : [node[0], node.slice(1)]
  let child: ChildProcess
  try {
    child = spawn(cmd, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...(pair?.fds ?? [])],
      detached: true,
      env: { ...env, IPCBENCH_PARENT_PID: String(process.pid) },
    })
  } finally {
    pair?.close()
  }
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  return new Promise<RepOutcome>((resolve) => {
    let settled = false
    let reply: CaseProcessReply | undefined
    const finish = (o: RepOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      killGroup()
      // A case process that was killed could not tear down: remove what carries its pid.
      // A custom mechanism's teardown is the user's: what it leaves is removed and said.
      if ((!o.ok || task.mechanismModule) && child.pid) {
        const left = cleanStale({ isAlive: (pid) => pid !== child.pid }).removed
        if (o.ok && left.length > 0)
          o.warnings.push(warning('left-behind', `${task.spec.mechanism} left ${left.join(', ')} after its teardown; ipcbench removed it`))
      }
      resolve(o)
    }
    const onAbort = (): void => finish({ ok: false, state: 'aborted', error: { message: 'interrupted', side: 'harness' } })
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          state: 'errored',
          error: {
            message: `timed out after ${plan.timeoutMs} ms (a peer stopped answering); both sides killed`,
            code: 'ETIMEDOUT',
            side: 'harness',
          },
        }),
      plan.timeoutMs,
    )
    signal?.addEventListener('abort', onAbort)
    if (signal?.aborted) onAbort()
    child.on('message', (m: CaseProcessReply) => {
      reply = m
    })
    child.on('error', (err) =>
      finish({ ok: false, state: 'errored', error: { message: `could not start the case process: ${err.message}`, side: 'harness' } }),
    )
    child.on('exit', (code, sig) => {
      if (reply?.type === 'result') return finish(toOutcome(plan, task, reply, samplesName))
      if (reply?.type === 'error') {
        const { message, code: c, errno, syscall, side } = reply
        const refused = refusedCall({ code: c, syscall })
        return finish({
          ok: false,
          state: refused ? 'skipped' : 'errored',
          error: { message: refused ?? message, code: c, errno, syscall, side: side ?? 'a' },
        })
      }
      const how = sig ? `killed by ${sig}` : `exited with code ${code}`
      finish({ ok: false, state: 'errored', error: { message: `the case process (side a, pid ${child.pid}) ${how} without a result`, side: 'a' } })
    })
    child.send(task)
  })
}

/** The C program, looked up once: a repetition spawns it. */
let launcher: ReturnType<typeof floorStatus> | undefined

/**
 * Both sides of a child-peer case started at once, so that side b's start overlaps side
 * a's (each is most of a repetition's cost): `ipcfloor --launch-pair` forks side b, then
 * becomes the case process, so side b is still its child, in its process group. Each is
 * pinned to its CPU from its first instruction, as taskset would. The two sockets between
 * them are made here: the control channel, and the one side b's fds come on once side a
 * has made them (harness/case/peer-start.ts). Undefined without the C program or the addon.
 */
function pairLaunch(task: RepTask, peer: string[]): { launcher: string; args: string[]; fds: number[]; close(): void } | undefined {
  launcher ??= floorStatus()
  const n = loadNative()
  if (!launcher.ok || !n.ok) return undefined
  const { cpuA, cpuB } = task.placement
  const control = n.api.socketpair('stream', false)
  const handover = n.api.socketpair('stream', false)
  // Side a's ends as its fds 4 and 5, side b's as 6 and 7 (the launcher moves them).
  const fds = [control[0], handover[0], control[1], handover[1]]
  return {
    launcher: launcher.path,
    args: ['--launch-pair', cpuA === undefined ? '-' : String(cpuA), cpuB === undefined ? '-' : String(cpuB), String(peer.length), ...peer],
    fds,
    close: () => fds.forEach((fd) => n.api.close(fd)),
  }
}

function toOutcome(plan: CasePlan, task: RepTask, r: RepReport, samplesName: string): RepOutcome {
  const samples = readSamples(task.samplesPath, r.sampleCount)
  const unkept = keepSamples(plan, samplesName, task.repetition, samples)
  if (unkept) return unkept
  return { ok: true, describe: r.describe, warnings: reportWarnings(r), rep: buildRepetition(plan, task.repetition, r, samples) }
}

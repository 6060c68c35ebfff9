import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ownedPrefix } from '../../core/paths.js'
import type { Environment } from '../../core/result.js'
import { warning, type Warning } from '../../core/warnings.js'
import { getMechanism } from '../../mechanisms/registry.js'
import type { ErrorReport, RepReport } from '../case/protocol.js'
import { LEDGER, removeSysvFromLedger } from '../host/cleanup.js'
import type { CasePlan } from '../plan/case-plan.js'
import type { RepetitionExecutor, RepOutcome } from './executor.js'
import { buildRepetition, keepSamples, readSamples, refusedCall, reportWarnings } from './repetition.js'
import { runFanInFloor } from './fanin-floor.js'

export type FloorReply = RepReport | ErrorReport | { type: 'skipped'; reason: string }
type FloorList = Map<string, { modes: string[]; endpoints: string[] }>

/**
 * The C floor executor: one repetition of the same case in native-helpers/floor/ipcfloor
 * (same placement, sizes, warm-up and time bound), run by the case runner before
 * each Node repetition, so drift on a noisy host hits both alike. Undefined, with the
 * reason as a warning, when this run has no floor.
 */
export function floorExecutor(env: Environment): { executor?: RepetitionExecutor; warning?: Warning } {
  const path = env.native.floor.path
  if (!env.native.floor.available || !path) return { warning: warning('no-floor', `no C floor in this run: ${env.native.floor.reason}`) }
  let supported: FloorList
  try {
    supported = readList(path)
  } catch (err) {
    const why = (err as Error).message.split('\n')[0]
    return { warning: warning('no-floor', `no C floor in this run: ${path} --list failed (${why}); rebuild it with "npm install"`) }
  }
  return {
    executor: {
      name: 'floor',
      unsupported: (plan) => unsupported(plan, supported),
      run: (plan, repetition) => runOnce(path, plan, repetition),
    },
  }
}

async function runOnce(path: string, plan: CasePlan, repetition: number): Promise<RepOutcome> {
  if (plan.spec.pattern === 'fanin') return runFanInFloor(path, plan, repetition, floorName(plan.spec.mechanism)!)
  const { spec, loop, placement } = plan
  return inFloorDir(async (dir) => {
    const samplesPath = join(dir, 'samples.f64')
    const name = floorName(spec.mechanism)!
    const args = [
      name,
      spec.mode,
      spec.endpoints,
      spec.pattern,
      loop.sizeBytes,
      loop.warmup,
      loop.durationMs,
      loop.maxMessages,
      placement.cpuA ?? -1,
      placement.cpuB ?? -1,
      samplesPath,
      loop.targetSamples,
      loop.minWindowMs,
      // Protocol 5: the load sender's gap and the instant several pairs start at.
      ...(spec.pattern === 'load' || loop.startAtNs ? [Math.round(loop.intervalNs ?? 0), loop.startAtNs ?? 0] : []),
    ]
    const reply = await runFloor(path, args.map(String), join(dir, LEDGER), plan.timeoutMs)
    if (reply.type === 'skipped') return { ok: false, state: 'skipped', error: { message: reply.reason } }
    if (reply.type === 'error') return floorFailure(reply)
    const samples = readSamples(samplesPath, reply.sampleCount)
    const unkept = keepSamples(plan, 'floor', repetition, samples)
    if (unkept) return unkept
    return { ok: true, rep: buildRepetition(plan, repetition, reply, samples), describe: reply.describe, warnings: reportWarnings(reply) }
  })
}

/** A private directory for one floor repetition (its ledger, its samples), removed after it with what the ledger names. */
export async function inFloorDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), ownedPrefix('floor-')))
  try {
    return await run(dir)
  } finally {
    // A floor killed by the time-out could not remove its System V objects; its ledger names them.
    const ledger = join(dir, LEDGER)
    if (existsSync(ledger)) removeSysvFromLedger(ledger, false)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The floor's own error: a call the host refuses skips the case, anything else errors it. */
export function floorFailure(reply: ErrorReport): RepOutcome {
  const refused = refusedCall(reply)
  if (refused) return { ok: false, state: 'skipped', error: { message: `C floor: ${refused}` } }
  return { ok: false, state: 'errored', error: { ...reply, message: `C floor${reply.side === 'b' ? ' (side b)' : ''}: ${reply.message}` } }
}

/** The name the floor program knows a mechanism by (its descriptor says), if it has one. */
function floorName(mechanism: string): string | undefined {
  const floor = getMechanism(mechanism).floor
  return 'name' in floor ? floor.name : undefined
}

/** `ipcfloor --list`: one line per mechanism, "name modes endpoints". */
function readList(path: string): FloorList {
  const list: FloorList = new Map()
  for (const line of execFileSync(path, ['--list'], { encoding: 'utf8' }).split('\n')) {
    const [mech, modes, endpoints] = line.trim().split(/\s+/)
    if (mech && modes && endpoints) list.set(mech, { modes: modes.split(','), endpoints: endpoints.split(',') })
  }
  return list
}

function unsupported({ spec }: CasePlan, list: FloorList): string | undefined {
  const floor = getMechanism(spec.mechanism).floor
  if ('none' in floor) return `no C floor: ${floor.none}`
  // Fan-in is `ipcfloor --fanin` (blocking, forked senders), not a line of --list.
  if (spec.pattern === 'fanin') return undefined
  const entry = list.get(floor.name)
  if (!entry) return `no C floor: the floor program has no "${floor.name}" (rebuild it with "npm install")`
  if (!entry.modes.includes(spec.mode)) {
    return `no C floor for ${spec.mode} mode: ${spec.mode === 'nonblocking' ? 'the facility has no fd for epoll (Node waits on a pool thread)' : 'the facility has no such mode'}`
  }
  if (!entry.endpoints.includes(spec.endpoints)) return `no C floor between ${spec.endpoints}es`
  return undefined
}

/**
 * Runs the floor in its own process group, so a time-out ends both of its sides at
 * once. Its end is the main process's exit, not the end of its output: a forked side b
 * could hold the pipe open after the main process was killed, so on exit the group is
 * killed and the output read to its end (or for at most a second more).
 */
export function runFloor(path: string, args: string[], ledger: string, timeoutMs: number): Promise<FloorReply> {
  return new Promise((resolve) => {
    const child = spawn(path, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, IPCFLOOR_LEDGER: ledger, IPCBENCH_PARENT_PID: String(process.pid) },
    })
    let out = ''
    let err = ''
    let timedOut = false
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    let settled = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, timeoutMs)
    let grace: NodeJS.Timeout | undefined
    const finish = (): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearTimeout(grace)
      const line = out.trim().split('\n').pop() ?? ''
      try {
        // A report (a result or the floor's own error) unless a signal cut the process short.
        if (line && !exit?.signal) return resolve(JSON.parse(line) as FloorReply)
      } catch {
        // fall through: report what we have
      }
      const how = timedOut
        ? `timed out after ${timeoutMs} ms (both of its sides killed)`
        : exit?.signal
          ? `(pid ${child.pid}) was killed by ${exit.signal}`
          : `exited with code ${exit?.code}`
      resolve({ type: 'error', message: `ipcfloor ${how} without a result${err ? `: ${err.trim().slice(0, 200)}` : ''}` })
    }
    child.on('error', (e) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ type: 'error', message: `could not start ${path}: ${e.message}` })
    })
    child.on('exit', (code, signal) => {
      exit = { code, signal }
      // Whatever it left running (a forked side b) goes with it.
      killGroup()
      grace = setTimeout(finish, 1000)
    })
    child.on('close', finish)
  })
}

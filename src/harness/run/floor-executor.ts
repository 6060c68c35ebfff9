import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BaselineResult, CaseResult, CaseSpec, Environment, RepetitionResult, ResolvedOptions } from '../types.js'
import { LEDGER, removeSysvFromLedger } from './cleanup.js'
import type { BaselineRunner } from './run.js'
import { aggregate, warmupFor } from './run.js'
import { buildRepetition, readSamples } from './repetition.js'
import type { RepReport } from './task.js'
import { MIN_MESSAGE_BYTES } from './wire.js'

/** Why a mechanism has no C floor (the floor program's `--list` says which do). */
const NO_COUNTERPART: Record<string, string> = {
  'worker-message': 'worker messaging is a Node facility; C has no counterpart',
  'message-channel': 'MessageChannel is a Node facility; C has no counterpart',
  'child-ipc': "Node's child-process channel has no C counterpart",
  piscina: 'a Node worker pool; C has no counterpart',
  signal: 'not in the C floor (a signal handler round trip has no payload to check)',
  'rt-signal': 'not in the C floor yet',
  'shm-signal': 'not in the C floor yet',
}

interface FloorCase {
  reps: RepetitionResult[]
  pooled: Float64Array[]
  describe?: Record<string, string>
  /** Set once: every later repetition of the case is not run. */
  stopped?: { state: 'skipped' | 'errored'; reason: string }
}

type FloorReply = RepReport | { type: 'error'; message: string; side?: string; syscall?: string; code?: string } | { type: 'skipped'; reason: string }

/**
 * The C floor beside the Node cases: before each Node repetition, one repetition of
 * the same case in native-helpers/floor/ipcfloor (same placement, sizes, warm-up and
 * time bound), so drift on a noisy host hits both alike. `finish` attaches the
 * aggregate as `baseline` and the Node-to-C ratio.
 */
export function createBaselineRunner(o: ResolvedOptions, env: Environment, warn: (w: string) => void): BaselineRunner | undefined {
  const path = env.native.floor.path
  if (!env.native.floor.available || !path) {
    warn(`no C floor in this run: ${env.native.floor.reason}`)
    return undefined
  }
  let supported: ReturnType<typeof readList>
  try {
    supported = readList(path)
  } catch (err) {
    warn(`no C floor in this run: ${path} --list failed (${(err as Error).message.split('\n')[0]}); rebuild it with "npm install"`)
    return undefined
  }
  const cases = new Map<string, FloorCase>()
  const entry = (spec: CaseSpec): FloorCase => {
    let e = cases.get(spec.id)
    if (!e) cases.set(spec.id, (e = { reps: [], pooled: [] }))
    return e
  }
  return {
    async repetition(spec, index, placement) {
      const e = entry(spec)
      if (e.stopped) return
      const why = unsupported(spec, supported)
      if (why) {
        e.stopped = { state: 'skipped', reason: why }
        return
      }
      const size = Math.max(spec.sizeBytes, MIN_MESSAGE_BYTES)
      const dir = mkdtempSync(join(tmpdir(), `ipcbench-${process.pid}-floor-`))
      try {
        const samplesPath = join(dir, 'samples.f64')
        const args = [spec.mechanism, spec.mode, spec.endpoints, spec.pattern, size, warmupFor(o.warmup, size), o.durationMs, o.maxMessages, placement.cpuA ?? -1, placement.cpuB ?? -1, samplesPath]
        const reply = await runFloor(path, args.map(String), join(dir, LEDGER), o.timeoutMs)
        if (reply.type === 'skipped') e.stopped = { state: 'skipped', reason: reply.reason }
        else if (reply.type === 'error') e.stopped = { state: 'errored', reason: `C floor${reply.side === 'b' ? ' (side b)' : ''}: ${reply.message}` }
        else {
          const samples = readSamples(samplesPath, reply.sampleCount)
          e.reps.push(buildRepetition({ repetition: index, spec, placement: { requested: o.pin, applied: placement.applied } }, reply, samples))
          if (samples.length > 0) e.pooled.push(samples)
          e.describe = reply.describe
        }
      } finally {
        // A floor killed by the time-out could not remove its System V queue; its ledger names it.
        const ledger = join(dir, LEDGER)
        if (existsSync(ledger)) removeSysvFromLedger(ledger, false)
        rmSync(dir, { recursive: true, force: true })
      }
    },
    finish(spec, result) {
      const e = cases.get(spec.id)
      if (!e) return
      cases.delete(spec.id)
      result.baseline = toBaseline(spec, e)
      const ratio = ratioOf(result, result.baseline)
      if (ratio) result.ratioToBaseline = ratio
    },
  }
}

/** `ipcfloor --list`: one line per mechanism, "name modes endpoints". */
function readList(path: string): Map<string, { modes: string[]; endpoints: string[] }> {
  const list = new Map<string, { modes: string[]; endpoints: string[] }>()
  for (const line of execFileSync(path, ['--list'], { encoding: 'utf8' }).split('\n')) {
    const [mech, modes, endpoints] = line.trim().split(/\s+/)
    if (mech && modes && endpoints) list.set(mech, { modes: modes.split(','), endpoints: endpoints.split(',') })
  }
  return list
}

function unsupported(spec: CaseSpec, list: Map<string, { modes: string[]; endpoints: string[] }>): string | undefined {
  const entry = list.get(spec.mechanism)
  if (!entry) return `no C floor: ${NO_COUNTERPART[spec.mechanism] ?? 'this mechanism has no C counterpart'}`
  if (!entry.modes.includes(spec.mode)) {
    return `no C floor for ${spec.mode} mode: ${spec.mode === 'nonblocking' ? 'the facility has no fd for epoll (Node waits on a pool thread)' : 'the facility has no such mode'}`
  }
  if (!entry.endpoints.includes(spec.endpoints)) return `no C floor between ${spec.endpoints}es`
  return undefined
}

/** Runs the floor in its own process group, so a time-out ends both of its sides at once. */
function runFloor(path: string, args: string[], ledger: string, timeoutMs: number): Promise<FloorReply> {
  return new Promise((resolve) => {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, IPCFLOOR_LEDGER: ledger } })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      resolve({ type: 'error', message: `could not start ${path}: ${e.message}` })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = out.trim().split('\n').pop() ?? ''
      try {
        if (line) return resolve(JSON.parse(line) as FloorReply)
      } catch {
        // fall through: report what we have
      }
      const how = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : signal ? `killed by ${signal}` : `exit code ${code}`
      resolve({ type: 'error', message: `ipcfloor ${how} without a result${err ? `: ${err.trim().slice(0, 200)}` : ''}` })
    })
  })
}

function toBaseline(spec: CaseSpec, e: FloorCase): BaselineResult {
  if (e.stopped && e.reps.length === 0) return { state: e.stopped.state, reason: e.stopped.reason, repetitions: [] }
  const scratch: CaseResult = { ...spec, state: 'completed', repetitions: e.reps, describe: e.describe ?? {}, warnings: [] }
  aggregate(scratch, e.pooled)
  const b: BaselineResult = { state: e.stopped ? e.stopped.state : 'completed', repetitions: e.reps, cpu: scratch.cpu }
  if (e.stopped) b.reason = e.stopped.reason
  if (scratch.latencyNs) b.latencyNs = scratch.latencyNs
  if (scratch.throughput) b.throughput = scratch.throughput
  if (e.describe) b.describe = e.describe
  return b
}

/** p50 latency Node over C (> 1: Node slower); throughput C over Node (> 1: Node slower). */
function ratioOf(node: CaseResult, c: BaselineResult): CaseResult['ratioToBaseline'] {
  if (node.state !== 'completed' || c.state !== 'completed') return undefined
  if (node.latencyNs && c.latencyNs && c.latencyNs.p50 > 0) return { p50: node.latencyNs.p50 / c.latencyNs.p50 }
  if (node.throughput && c.throughput && node.throughput.bytesPerSec > 0) return { throughput: c.throughput.bytesPerSec / node.throughput.bytesPerSec }
  return undefined
}

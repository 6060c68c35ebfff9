import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { CaseError, RepetitionResult, PinRequest, Placement } from '../types.js'
import { summarizeNs } from './stats.js'
import { cleanStale } from './cleanup.js'
import type { RepReport, RepTask, SideUsage } from './task.js'

const PEER_SCRIPT = fileURLToPath(new URL('./peer.js', import.meta.url))

export type RepOutcome =
  | { ok: true; rep: RepetitionResult; samples: Float64Array; describe: Record<string, string>; warnings: string[] }
  | { ok: false; error: CaseError; aborted?: boolean; timedOut?: boolean }

/**
 * Runs one repetition in a fresh case process (side a), which starts side b. The
 * case process leads its own process group, so a time-out or an interrupt kills
 * both sides at once, whatever state they are in.
 */
export function runRepetitionInPeer(task: RepTask, timeoutMs: number, signal?: AbortSignal): Promise<RepOutcome> {
  const { cpuA, cpuB } = task.placement
  // Both sides' CPUs for a thread case (each thread then pins itself); side a's alone for a process case.
  const cpus = task.spec.endpoints === 'thread' ? [...new Set([cpuA, cpuB].filter((c) => c !== undefined))] : cpuA !== undefined ? [cpuA] : []
  const [cmd, args] = cpus.length > 0 ? ['taskset', ['-c', cpus.join(','), process.execPath, PEER_SCRIPT]] : [process.execPath, [PEER_SCRIPT]]
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true, env: process.env })
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  return new Promise<RepOutcome>((resolve) => {
    let settled = false
    let reply: RepReport | { type: 'error'; message: string; code?: string; errno?: number; syscall?: string; side?: 'a' | 'b' } | undefined
    const finish = (o: RepOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      killGroup()
      // A case process that was killed could not tear down: remove what carries its pid.
      if (!o.ok && child.pid) cleanStale({ isAlive: (pid) => pid !== child.pid })
      resolve(o)
    }
    const onAbort = (): void => finish({ ok: false, aborted: true, error: { message: 'interrupted', side: 'harness' } })
    const timer = setTimeout(
      () => finish({ ok: false, timedOut: true, error: { message: `timed out after ${timeoutMs} ms (a peer stopped answering); both sides killed`, code: 'ETIMEDOUT', side: 'harness' } }),
      timeoutMs,
    )
    signal?.addEventListener('abort', onAbort)
    if (signal?.aborted) onAbort()
    child.on('message', (m: typeof reply) => {
      reply = m
    })
    child.on('error', (err) => finish({ ok: false, error: { message: `could not start the case process: ${err.message}`, side: 'harness' } }))
    child.on('exit', (code, sig) => {
      if (reply?.type === 'result') return finish(toOutcome(task, reply))
      if (reply?.type === 'error') {
        const { message, code: c, errno, syscall, side } = reply
        return finish({ ok: false, error: { message, code: c, errno, syscall, side: side ?? 'a' } })
      }
      const how = sig ? `killed by ${sig}` : `exited with code ${code}`
      finish({ ok: false, error: { message: `the case process (side a, pid ${child.pid}) ${how} without a result`, side: 'a' } })
    })
    child.send(task)
  })
}

/** The first `count` samples a side wrote (little-endian float64 ns); none when it wrote no file. */
export function readSamples(path: string, count: number): Float64Array {
  if (!existsSync(path)) return new Float64Array(0)
  const bytes = readFileSync(path)
  const n = Math.min(count, Math.floor(bytes.byteLength / 8))
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 8))
}

function perMessage(u: SideUsage, messages: number) {
  const n = Math.max(1, messages)
  return {
    userUsPerMsg: u.userUs / n,
    sysUsPerMsg: u.sysUs / n,
    voluntaryCtxPerMsg: u.voluntaryCtx / n,
    involuntaryCtxPerMsg: u.involuntaryCtx / n,
    scope: u.scope,
  }
}

function toOutcome(task: RepTask, r: RepReport): RepOutcome {
  const samples = readSamples(task.samplesPath, r.sampleCount)
  rmSync(task.samplesPath, { force: true })
  return {
    ok: true,
    samples,
    describe: r.describe,
    warnings: r.warnings,
    rep: buildRepetition(task, r, samples),
  }
}

export function buildRepetition(
  task: { repetition: number; spec: { pattern: string; sizeBytes: number }; placement: { requested: PinRequest; applied: Placement } },
  r: Pick<RepReport, 'messages' | 'elapsedNs' | 'batch' | 'costA' | 'costB' | 'cpusA' | 'cpusB'>,
  samples: Float64Array,
): RepetitionResult {
  const rep: RepetitionResult = {
    index: task.repetition,
    messages: r.messages,
    elapsedNs: r.elapsedNs,
    batch: r.batch,
    cpu: { a: perMessage(r.costA, r.messages), b: perMessage(r.costB, r.messages) },
    placement: { requested: task.placement.requested, applied: task.placement.applied, cpusA: r.cpusA, cpusB: r.cpusB },
  }
  if (task.spec.pattern === 'pingpong' && samples.length > 0) rep.latencyNs = summarizeNs(samples)
  if (task.spec.pattern === 'stream' && r.elapsedNs > 0) {
    const seconds = r.elapsedNs / 1e9
    rep.throughput = { bytesPerSec: (r.messages * task.spec.sizeBytes) / seconds, msgsPerSec: r.messages / seconds }
  }
  return rep
}

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { hasFanIn, hasLatency, hasThroughput, type CaseResult, type RunResult } from '../src/core/result.js'

export const ROOT = join(import.meta.dirname, '..')
export const BIN = join(ROOT, 'bin', 'ipcbench.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI as a user would (compiled dist/, a fresh process). */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: timeoutMs,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const tempDirs: string[] = []
// Each test file that makes temporary files removes them when it ends.
afterAll(() => {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

export function tempFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ipcbench-test-'))
  tempDirs.push(dir)
  return join(dir, name)
}

/** A short real run of some cases; returns the parsed result file. */
export function quickRun(args: string[], env: Record<string, string> = {}): { cli: CliResult; run: RunResult } {
  const out = tempFile('run.json')
  const cli = runCli(
    [
      'run',
      '--quick',
      '--endpoints',
      'process,thread',
      '--no-floor',
      '--repetitions',
      '1',
      '--duration',
      '40ms',
      '--warmup',
      '50',
      '--out',
      out,
      ...args,
    ],
    env,
  )
  const run = JSON.parse(readFileSync(out, 'utf8')) as RunResult
  return { cli, run }
}

/** Why a case did not complete ('' when it did): the reason only skipped, errored and aborted cases carry. */
export const why = (c: CaseResult): string => ('reason' in c ? c.reason : '')

/** Polls `probe` every 25 ms until it gives a value, or fails naming `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = probe()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/**
 * A completed case's headline figure, 0 when it has none: the p50 of a ping-pong, the
 * bytes/s of a stream, and the aggregate bytes/s of a fan-in whose every sender's
 * messages all arrived and were checked.
 */
export function measuredFigure(c: CaseResult): number {
  if (c.pattern === 'pingpong') return hasLatency(c) ? c.latencyNs.p50 : 0
  if (c.pattern === 'fanin') return hasFanIn(c) && c.fanIn.perSender.every((s) => s.sent > 0 && s.received === s.sent) ? c.throughput.bytesPerSec : 0
  return hasThroughput(c) ? c.throughput.bytesPerSec : 0
}

#!/usr/bin/env node
// Cross-checks the C floor against an independent tool on the same host: `perf bench
// sched pipe` (two processes, two pipes, 4-byte messages; it reports the mean round
// trip per loop) and ipcfloor's blocking pipe ping-pong at 4 bytes, alternated ROUNDS
// times in both placements (both ends on CPU 0; unpinned), printing the means and
// their ratio. Usage: npm run bench:floor [-- ROUNDS]
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const FLOOR = join(ROOT, 'native-helpers', 'floor', 'ipcfloor')
const rounds = Number(process.argv[2] ?? 5)
const LOOPS = 50_000

function perfMeanUs(cpus) {
  const args = ['bench', 'sched', 'pipe', '-l', String(LOOPS)]
  const out = cpus ? execFileSync('taskset', ['-c', cpus, 'perf', ...args], { encoding: 'utf8' }) : execFileSync('perf', args, { encoding: 'utf8' })
  const m = /([\d.]+) usecs\/op/.exec(out)
  if (!m) throw new Error(`unexpected perf output:\n${out}`)
  return Number(m[1])
}

function floorMeanUs(cpuA, cpuB) {
  const dir = mkdtempSync(join(tmpdir(), `ipcbench-${process.pid}-benchfloor-`))
  try {
    const samples = join(dir, 's.f64')
    // 4-byte messages like perf's; a long time bound so LOOPS round trips bound the run.
    const out = execFileSync(FLOOR, ['pipe', 'blocking', 'process', 'pingpong', '4', '1000', '60000', String(LOOPS), String(cpuA), String(cpuB), samples], { encoding: 'utf8' })
    const r = JSON.parse(out.trim().split('\n').pop())
    if (r.type !== 'result') throw new Error(`ipcfloor: ${r.message ?? r.reason}`)
    return r.elapsedNs / r.messages / 1000
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

try {
  execFileSync('perf', ['--version'], { stdio: 'ignore' })
} catch {
  console.error('perf is not installed (Debian: apt-get install linux-perf); nothing to cross-check against')
  process.exit(2)
}
for (const [label, perfCpus, a, b] of [
  ['both ends on CPU 0', '0', 0, 0],
  ['unpinned', undefined, -1, -1],
]) {
  const perf = []
  const floor = []
  for (let i = 0; i < rounds; i++) {
    perf.push(perfMeanUs(perfCpus))
    floor.push(floorMeanUs(a, b))
  }
  const p = median(perf)
  const f = median(floor)
  console.log(`${label}: perf bench sched pipe ${p.toFixed(2)} µs/round trip, ipcfloor pipe ${f.toFixed(2)} µs (medians of ${rounds}); ipcfloor/perf = ${(f / p).toFixed(2)}`)
}

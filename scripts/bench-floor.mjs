#!/usr/bin/env node
// Cross-checks the C floor against independent programs on the same host.
//
// 1. test/c/pingpong.c, a plain C ping-pong that shares no code with ipcfloor, built
//    here with gcc -O2: for pipe, fifo, unix-stream and unix-dgram, ROUNDS runs of it
//    alternate with ROUNDS runs of `ipcfloor MECH blocking process pingpong 64 …`,
//    both with 64-byte messages, 1000 warm-up round trips, both ends on CPU 0 and one
//    clock read per round trip. Printed per mechanism: the medians of both p50s and
//    their ratio ipcfloor/independent (expected within 0.9–1.1).
// 2. When perf is installed, `perf bench sched pipe` against ipcfloor's blocking pipe
//    ping-pong at 4 bytes, in both placements (CPU 0; unpinned), as mean round trips.
//
// Usage: npm run bench:floor [-- ROUNDS] [--json]
//   --json prints one object { "cases": [{ mechanism, independentP50Ns, floorP50Ns, ratio }], "perf": … }
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const FLOOR = join(ROOT, 'native-helpers', 'floor', 'ipcfloor')
const PINGPONG_C = join(ROOT, 'test', 'c', 'pingpong.c')
const args = process.argv.slice(2)
const json = args.includes('--json')
const rounds = Number(args.find((a) => !a.startsWith('--')) ?? 5)
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: npm run bench:floor [-- ROUNDS] [--json]')
  process.exit(2)
}
const MECHANISMS = ['pipe', 'fifo', 'unix-stream', 'unix-dgram']
const ROUND_TRIPS = 20_000
const WARMUP = 1000
const PERF_LOOPS = 50_000

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const say = (line) => (json ? process.stderr : process.stdout).write(line + '\n')

if (!existsSync(FLOOR)) {
  console.error(`${FLOOR} is not built (make -C native-helpers/floor)`)
  process.exit(2)
}

// Not `ipcbench-<pid>-…`: `ipcbench clean` (run by the tests too) removes such a
// directory when its owner's command line does not look like ipcbench, as this one's does not.
const dir = mkdtempSync(join(tmpdir(), 'bench-floor-'))
const samplesPath = join(dir, 's.f64')

/** ipcfloor's reply; its samples (one per round trip) when asked. */
function runFloor(mech, size, roundTrips, cpuA, cpuB) {
  const out = execFileSync(
    FLOOR,
    [mech, 'blocking', 'process', 'pingpong', String(size), String(WARMUP), '60000', String(roundTrips), String(cpuA), String(cpuB), samplesPath],
    { encoding: 'utf8' },
  )
  const r = JSON.parse(out.trim().split('\n').pop())
  if (r.type !== 'result') throw new Error(`ipcfloor ${mech}: ${r.message ?? r.reason}`)
  const bytes = readFileSync(samplesPath)
  r.samples = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  return r
}

function independent(binary) {
  const cases = []
  for (const mech of MECHANISMS) {
    const ind = []
    const flo = []
    for (let i = 0; i < rounds; i++) {
      const r = JSON.parse(execFileSync(binary, [mech, String(ROUND_TRIPS), '0', String(WARMUP)], { encoding: 'utf8' }).trim())
      ind.push(r.p50Ns)
      flo.push(median(runFloor(mech, 64, ROUND_TRIPS, 0, 0).samples))
    }
    const independentP50Ns = median(ind)
    const floorP50Ns = median(flo)
    const ratio = floorP50Ns / independentP50Ns
    cases.push({ mechanism: mech, independentP50Ns, floorP50Ns, ratio })
    const us = (ns) => (ns / 1000).toFixed(3)
    const range = (xs) => `${us(Math.min(...xs))}–${us(Math.max(...xs))}`
    const outside = ratio < 0.9 || ratio > 1.1 ? '  OUTSIDE 0.9–1.1' : ''
    say(
      `${mech.padEnd(12)} p50 independent ${us(independentP50Ns)} µs (${range(ind)}), ipcfloor ${us(floorP50Ns)} µs (${range(flo)}); medians of ${rounds}; ipcfloor/independent = ${ratio.toFixed(3)}${outside}`,
    )
  }
  return cases
}

function perfMeanUs(cpus) {
  const perfArgs = ['bench', 'sched', 'pipe', '-l', String(PERF_LOOPS)]
  const out = cpus
    ? execFileSync('taskset', ['-c', cpus, 'perf', ...perfArgs], { encoding: 'utf8' })
    : execFileSync('perf', perfArgs, { encoding: 'utf8' })
  const m = /([\d.]+) usecs\/op/.exec(out)
  if (!m) throw new Error(`unexpected perf output:\n${out}`)
  return Number(m[1])
}

function perfCrossCheck() {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' })
  } catch {
    say('perf bench sched pipe: skipped, perf is not installed (Debian: apt-get install linux-perf)')
    return { skipped: 'perf is not installed' }
  }
  const placements = []
  for (const [label, perfCpus, a, b] of [
    ['both ends on CPU 0', '0', 0, 0],
    ['unpinned', undefined, -1, -1],
  ]) {
    const perf = []
    const floor = []
    for (let i = 0; i < rounds; i++) {
      perf.push(perfMeanUs(perfCpus))
      // 4-byte messages like perf's; mean round trip = elapsed / round trips.
      const r = runFloor('pipe', 4, PERF_LOOPS, a, b)
      floor.push(r.elapsedNs / r.messages / 1000)
    }
    const p = median(perf)
    const f = median(floor)
    placements.push({ placement: label, perfMeanUs: p, floorMeanUs: f, ratio: f / p })
    say(
      `perf bench sched pipe, ${label}: perf ${p.toFixed(2)} µs/round trip, ipcfloor pipe 4 B ${f.toFixed(2)} µs (medians of ${rounds}); ipcfloor/perf = ${(f / p).toFixed(2)}`,
    )
  }
  return placements
}

try {
  const binary = join(dir, 'pingpong')
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', binary, PINGPONG_C], { stdio: ['ignore', 'inherit', 'inherit'] })
  const cases = independent(binary)
  const perf = perfCrossCheck()
  if (json) console.log(JSON.stringify({ cases, perf }))
} finally {
  rmSync(dir, { recursive: true, force: true })
}

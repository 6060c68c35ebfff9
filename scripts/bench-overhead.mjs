#!/usr/bin/env node
// How much does the harness add? For one case per mode, a hand-written ping-pong
// (scripts/overhead-peer.mjs: the same system calls, the same per-message stamp and
// check, written without ipcbench) alternates with ipcbench's own case, ROUNDS times
// in one invocation, with the same message size, warm-up and count and the same
// placement (both ends on CPU 0; busy-poll on CPUs 0 and 1). Printed per case: the
// median p50 of each and the ratio ipcbench/hand-written (1.00 = the harness adds nothing).
//
//   npm run bench:overhead [-- ROUNDS] [--json]
//   --json prints { "cases": [{ "id", "handWrittenP50Ns", "ipcbenchP50Ns", "ratio", "rounds" }] }
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const PEER = join(ROOT, 'scripts', 'overhead-peer.mjs')
const args = process.argv.slice(2)
const json = args.includes('--json')
const rounds = Number(args.find((a) => !a.startsWith('--')) ?? 5)
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: npm run bench:overhead [-- ROUNDS] [--json]')
  process.exit(2)
}
const SIZE = 64
const WARMUP = 2000
const COUNT = 20000

// [ipcbench case, hand-written case, CPUs of side a and side b]
const CASES = [
  ['pipe/blocking/process/pingpong/64B', 'pipe-blocking', [0, 0]],
  ['pipe/busy-poll/process/pingpong/64B', 'pipe-busy-poll', [0, 1]],
  ['unix-stream/nonblocking/process/pingpong/64B', 'unix-stream', [0, 0]],
  ['unix-dgram/nonblocking/process/pingpong/64B', 'unix-dgram', [0, 0]],
  ['tcp/nonblocking/process/pingpong/64B', 'tcp', [0, 0]],
]

function handWritten(kase, [cpuA, cpuB]) {
  const out = execFileSync('taskset', ['-c', String(cpuA), process.execPath, PEER, kase, String(SIZE), String(WARMUP), String(COUNT)], {
    encoding: 'utf8',
    env: { ...process.env, PEER_CPU: String(cpuB) },
  })
  return JSON.parse(out.trim().split('\n').pop()).p50Ns
}

function ipcbench(caseId, [cpuA, cpuB]) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-overhead-'))
  const out = join(dir, 'r.json')
  try {
    // One repetition, no floor: one pair of fresh peers exchanging exactly COUNT measured round trips.
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'bin', 'ipcbench.js'),
        'run',
        '--cases',
        caseId,
        '--no-floor',
        '--pin',
        cpuA === cpuB ? 'same' : 'split',
        '--repetitions',
        '1',
        '--warmup',
        String(WARMUP),
        '--max-messages',
        String(COUNT),
        '--duration',
        '60s',
        '--out',
        out,
      ],
      { stdio: 'ignore' },
    )
    const c = JSON.parse(readFileSync(out, 'utf8')).cases[0]
    if (c.state !== 'completed') throw new Error(`${caseId}: ${c.state} ${c.reason ?? ''}`)
    if (c.repetitions[0].messages !== COUNT) throw new Error(`${caseId}: ${c.repetitions[0].messages} round trips measured, not ${COUNT}`)
    return c.latencyNs.p50
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const us = (ns) => (ns / 1000).toFixed(2)
const results = []
for (const [id, kase, cpus] of CASES) {
  const hand = []
  const ours = []
  for (let r = 0; r < rounds; r++) {
    hand.push(handWritten(kase, cpus))
    ours.push(ipcbench(id, cpus))
  }
  const row = { id, handWrittenP50Ns: median(hand), ipcbenchP50Ns: median(ours), ratio: median(ours) / median(hand), rounds }
  results.push(row)
  const line = `${id}: hand-written p50 ${us(row.handWrittenP50Ns)} µs, ipcbench p50 ${us(row.ipcbenchP50Ns)} µs, ratio ${row.ratio.toFixed(3)} (${rounds} alternating rounds; p50s hand ${hand.map(us).join('/')}, ipcbench ${ours.map(us).join('/')})`
  ;(json ? process.stderr : process.stdout).write(line + '\n')
}
if (json) process.stdout.write(JSON.stringify({ cases: results }, null, 2) + '\n')

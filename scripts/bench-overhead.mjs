#!/usr/bin/env node
// How much does the harness add? For one blocking case (fifo) and one event-loop
// case (unix-stream), run a minimal hand-written ping-pong and ipcbench's own case
// alternately in one invocation (same placement: ends on CPUs 0 and 1), and print
// each p50 and the ratio of medians. Usage: npm run bench:overhead [-- ROUNDS]
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const PEER = join(ROOT, 'scripts', 'overhead-peer.mjs')
const rounds = Number(process.argv[2] ?? 3)
const SIZE = '64'
const COUNT = '20000'

function pinned(cpu, args, opts) {
  return spawn('taskset', ['-c', String(cpu), process.execPath, ...args], opts)
}

async function handFifo() {
  const dir = mkdtempSync(join(tmpdir(), 'ipcbench-overhead-'))
  const [a, b] = [join(dir, 'a'), join(dir, 'b')]
  execFileSync('mkfifo', [a, b])
  const peer = pinned(1, [PEER, 'fifo-b', a, b, SIZE, COUNT], { stdio: 'ignore' })
  const peerExit = new Promise((r) => peer.once('exit', r))
  const out = await collect(pinned(0, [PEER, 'fifo-a', a, b, SIZE, COUNT], { stdio: ['ignore', 'pipe', 'inherit'] }))
  await peerExit
  rmSync(dir, { recursive: true, force: true })
  return JSON.parse(out)[0]
}

async function handUds() {
  const dir = mkdtempSync(join(tmpdir(), 'ipcbench-overhead-'))
  const path = join(dir, 's')
  const a = pinned(0, [PEER, 'uds-a', path, '', SIZE, COUNT], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  await new Promise((r) => a.once('message', r))
  const b = pinned(1, [PEER, 'uds-b', path, '', SIZE, COUNT], { stdio: 'ignore' })
  const out = await collect(a)
  b.kill()
  rmSync(dir, { recursive: true, force: true })
  return JSON.parse(out)[0]
}

function collect(child) {
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`peer exited ${code}`)))))
}

function ipcbench(caseId) {
  const dir = mkdtempSync(join(tmpdir(), 'ipcbench-overhead-'))
  const out = join(dir, 'r.json')
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'bin', 'ipcbench.js'),
      'run',
      '--cases',
      caseId,
      '--no-floor',
      '--pin',
      'split',
      '--repetitions',
      '1',
      '--warmup',
      '1000',
      '--max-messages',
      COUNT,
      '--duration',
      '10s',
      '--out',
      out,
    ],
    { stdio: 'ignore' },
  )
  const run = JSON.parse(readFileSync(out, 'utf8'))
  rmSync(dir, { recursive: true, force: true })
  const c = run.cases[0]
  if (c.state !== 'completed') throw new Error(`${caseId}: ${c.state} ${c.reason ?? ''}`)
  return c.latencyNs.p50
}

const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1]
const cases = [
  ['fifo/blocking/process/pingpong/64B', handFifo],
  ['unix-stream/nonblocking/process/pingpong/64B', handUds],
]
for (const [id, hand] of cases) {
  const h = []
  const i = []
  for (let r = 0; r < rounds; r++) {
    h.push(await hand())
    i.push(ipcbench(id))
  }
  const ratio = median(i) / median(h)
  console.log(
    `${id}: hand-written p50 ${(median(h) / 1000).toFixed(2)} µs, ipcbench p50 ${(median(i) / 1000).toFixed(2)} µs, ratio ${ratio.toFixed(3)} (${rounds} alternating rounds; p50s hand ${h.map((x) => (x / 1000).toFixed(1)).join('/')}, ipcbench ${i.map((x) => (x / 1000).toFixed(1)).join('/')})`,
  )
}

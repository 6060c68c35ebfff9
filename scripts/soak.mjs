#!/usr/bin/env node
// npm run soak [-- --rounds N] [--fault-repetitions N] [--json]
//
// A soak: the quick matrix N times back to back (3 by default) in this one long-lived
// process, through the public API as a user's program would run it, then the fault
// suite's cases with --repetitions 20 (each repetition fresh peers) and with a peer
// killed and hung in each family. After every round it counts what a leak would grow:
// this process's open fds and RSS, ipcbench's objects in /dev/shm and /dev/mqueue, the
// private System V queues, segments and semaphore sets, ipcbench's entries in the
// temporary directory, and the case and floor processes still alive. Passes when none of the
// counts grew from round 1 to the end and RSS stayed within 10% from round 1 to the last
// quick round; prints the figures either way (exit 1 on a leak).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const BIN = join(ROOT, 'bin', 'ipcbench.js')
if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
  console.error('soak: dist/ is not built; run "npm run build" first')
  process.exit(2)
}
const { run } = await import(join(ROOT, 'dist', 'index.js'))
const work = mkdtempSync(join(tmpdir(), 'ipcbench-soak-'))

const args = process.argv.slice(2)
const flag = (name, dflt) => {
  const i = args.indexOf(name)
  if (i < 0) return dflt
  const v = Number(args[i + 1])
  if (!Number.isInteger(v) || v < 1) {
    console.error(`soak: ${name} needs a whole number ≥ 1, got "${args[i + 1] ?? ''}"`)
    process.exit(2)
  }
  return v
}
const ROUNDS = flag('--rounds', 3)
const FAULT_REPS = flag('--fault-repetitions', 20)
const JSON_OUT = args.includes('--json')
if (typeof globalThis.gc !== 'function') {
  console.error('soak: run with --expose-gc (npm run soak does), so RSS is read after a full collection')
  process.exit(2)
}

const alive = (pid) => existsSync(`/proc/${pid}`)
/**
 * What ipcbench left in a directory: its names carry the owner's pid (`ipcbench-<pid>-`),
 * so an entry counts when its owner is dead, or is this process (whose runs have ended
 * when it counts). Another live run's objects on a shared host are not this soak's.
 */
const count = (dir) =>
  existsSync(dir)
    ? readdirSync(dir).filter((f) => {
        const m = /^ipcbench-(\d+)-/.exec(f)
        return m && (Number(m[1]) === process.pid || !alive(Number(m[1])))
      }).length
    : 0
/**
 * Private (key 0) System V objects with mode 600, as ipcbench makes them. Queues and
 * segments count when their creator is dead or this process (`ipcs -p`); semaphore sets
 * carry no pid, so all of them count.
 */
function sysv(flag) {
  const rows = execFileSync('ipcs', [flag], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /^0x0+\s+\d+\s+\S+\s+600\b/.test(l))
    .map((l) => l.split(/\s+/)[1])
  if (flag === '-s') return rows.length
  const creator = new Map(
    execFileSync('ipcs', [flag, '-p'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /^(\d+)\s+\S+\s+(\d+)\s+\d+\s*$/.exec(l))
      .filter(Boolean)
      .map((m) => [m[1], Number(m[2])]),
  )
  return rows.filter((id) => {
    const pid = creator.get(id)
    return pid === undefined || pid === process.pid || !alive(pid)
  }).length
}
const ourProcesses = () =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(join(ROOT, 'dist/harness/case/main.js')) || l.includes(join(ROOT, 'native-helpers/floor/ipcfloor '))).length

function snapshot(label) {
  globalThis.gc()
  const m = process.memoryUsage()
  return {
    label,
    fds: readdirSync('/proc/self/fd').length,
    devShm: count('/dev/shm'),
    mqueue: count('/dev/mqueue'),
    sysvMsg: sysv('-q'),
    sysvShm: sysv('-m'),
    sysvSem: sysv('-s'),
    tmp: count(tmpdir()),
    processes: ourProcesses(),
    rssMB: m.rss / 2 ** 20,
    heapMB: m.heapUsed / 2 ** 20,
  }
}

const rows = [snapshot('start')]
const say = (s) => process.stderr.write(`${s}\n`)
try {
  for (let r = 1; r <= ROUNDS; r++) {
    const started = Date.now()
    const result = await run({ quick: true, out: join(work, `round-${r}.json`) })
    const states = {}
    for (const c of result.cases) states[c.state] = (states[c.state] ?? 0) + 1
    say(
      `round ${r}: all --quick, ${result.cases.length} cases (${Object.entries(states)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}) in ${Math.round((Date.now() - started) / 1000)} s`,
    )
    rows.push(snapshot(`quick ${r}`))
  }

  // The fault suite's families (test/faults.test.ts) and the semaphore rings, clean and with a peer killed and hung.
  const families = [
    ['pipe', '--modes', 'blocking', '--endpoints', 'process'],
    ['unix-stream', '--modes', 'nonblocking', '--endpoints', 'process'],
    ['shm-ring', '--modes', 'blocking', '--endpoints', 'process'],
    ['posix-mq', '--modes', 'blocking,nonblocking', '--endpoints', 'process'],
    ['eventfd', '--modes', 'blocking', '--endpoints', 'process'],
    ['sysv-msg', '--modes', 'blocking', '--endpoints', 'process'],
    ['sysv-sem', '--modes', 'blocking', '--endpoints', 'process'],
    ['rt-signal', '--modes', 'blocking', '--endpoints', 'process'],
    ['sab-ring', '--modes', 'blocking', '--endpoints', 'thread'],
  ]
  const started = Date.now()
  let runs = 0
  let errored = 0
  for (const fam of families) {
    for (const fault of [undefined, 'kill:100', 'hang:100']) {
      const out = join(work, `fault-${runs++}.json`)
      const cli = ['run', ...fam, '--patterns', 'pingpong', '--sizes', '64', '--duration', '40ms', '--timeout', '4s', '--out', out]
      const r = spawnSync(process.execPath, [BIN, ...cli, '--repetitions', String(fault ? 1 : FAULT_REPS)], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', ...(fault ? { IPCBENCH_TEST_FAULTS: '1', IPCBENCH_TEST_FAULT: fault } : {}) },
      })
      if (r.status !== (fault ? 1 : 0)) {
        errored++
        say(`fault round: ${fam[0]} ${fault ?? `--repetitions ${FAULT_REPS}`} exited ${r.status}: ${r.stderr.trim().split('\n').pop()}`)
      }
    }
  }
  say(
    `fault round: ${runs} runs (${families.length} families × clean at --repetitions ${FAULT_REPS}, a peer killed, a peer hung) in ${Math.round((Date.now() - started) / 1000)} s`,
  )
  rows.push(snapshot('faults'))

  const first = rows[1]
  const lastQuick = rows[ROUNDS]
  const counted = ['fds', 'devShm', 'mqueue', 'sysvMsg', 'sysvShm', 'sysvSem', 'tmp', 'processes']
  const grew = counted.filter((k) => rows.slice(2).some((row) => row[k] > first[k]))
  const rssGrowth = lastQuick.rssMB / first.rssMB - 1
  const ok = grew.length === 0 && rssGrowth <= 0.1 && errored === 0
  if (JSON_OUT)
    process.stdout.write(JSON.stringify({ rounds: ROUNDS, faultRepetitions: FAULT_REPS, rows, grew, rssGrowth, errored, ok }, null, 2) + '\n')
  else {
    const head = ['after', ...counted, 'RSS MB', 'heap MB']
    const cells = rows.map((row) => [row.label, ...counted.map((k) => String(row[k])), row.rssMB.toFixed(1), row.heapMB.toFixed(1)])
    const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
    const line = (c) => c.map((v, i) => (i === 0 ? v.padEnd(width[i]) : v.padStart(width[i]))).join('  ')
    console.log(line(head))
    for (const c of cells) console.log(line(c))
    console.log(
      `\nleaks: ${grew.length === 0 ? 'none (no count grew after round 1)' : `${grew.join(', ')} grew`}; ` +
        `orchestrator RSS ${first.rssMB.toFixed(1)} MB after round 1, ${lastQuick.rssMB.toFixed(1)} MB after round ${ROUNDS} (${(rssGrowth * 100).toFixed(1)}%, limit 10%)` +
        (errored > 0 ? `; ${errored} fault-round run(s) ended unexpectedly` : ''),
    )
    console.log(ok ? 'soak: passed' : 'soak: FAILED')
  }
  process.exitCode = ok ? 0 : 1
} finally {
  rmSync(work, { recursive: true, force: true })
}

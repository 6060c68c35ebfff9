#!/usr/bin/env node
// Checks a smoke run's result file: the schema, that the run finished, that no case
// errored, that every available mechanism completed cases in each mode it offers,
// and that ipcbench left nothing behind. Exit 1 with the reasons otherwise.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'

const file = process.argv[2]
const run = JSON.parse(readFileSync(file, 'utf8'))
const problems = []
if (run.schema !== 'ipcbench/run@3') problems.push(`schema is ${run.schema}`)
if (run.context?.status !== 'finished') problems.push(`run status is ${run.context?.status}`)
const list = JSON.parse(execFileSync(process.execPath, ['bin/ipcbench.js', 'list', '--json'], { encoding: 'utf8' }))
for (const c of run.cases) if (c.state === 'errored') problems.push(`${c.id} errored: ${c.reason}`)
// The C floor: when it was built, a case's floor may be skipped (no C counterpart, with the reason), never errored.
const floorBuilt = run.context?.env?.native?.floor?.available === true
for (const c of run.cases) {
  if (c.floor?.state === 'errored') problems.push(`${c.id}: the C floor errored: ${c.floor.reason}`)
  if (floorBuilt && run.context.options.floor && c.state === 'completed' && !c.floor) problems.push(`${c.id}: no C floor although it was built`)
}
const withRatio = run.cases.filter((c) => c.ratioToFloor)
console.log(`${withRatio.length} case(s) with a Node-to-C ratio`)
for (const m of list) {
  if (!m.available) {
    console.log(`unavailable here: ${m.id} (${m.reason})`)
    continue
  }
  for (const mode of m.modes) {
    const cases = run.cases.filter((c) => c.mechanism === m.id && c.mode === mode)
    if (!cases.some((c) => c.state === 'completed')) {
      const why = cases.map((c) => `${c.id}: ${c.state} ${c.reason ?? ''}`).join('; ')
      const hostLimit = cases.length > 0 && cases.every((c) => c.state === 'skipped')
      ;(hostLimit ? console.log : (s) => problems.push(s))(`${m.id} ${mode}: no completed case (${why || 'no case ran'})`)
    }
  }
}
const leftovers = [
  ...readdirSync('/dev/shm')
    .filter((n) => n.startsWith('ipcbench-'))
    .map((n) => `/dev/shm/${n}`),
  ...safeList('/dev/mqueue')
    .filter((n) => n.startsWith('ipcbench-'))
    .map((n) => `/dev/mqueue/${n}`),
  ...readdirSync(tmpdir())
    .filter((n) => /^ipcbench-\d+-/.test(n))
    .map((n) => `${tmpdir()}/${n}`),
]
if (leftovers.length > 0) problems.push(`left behind: ${leftovers.join(', ')}`)
function safeList(d) {
  try {
    return readdirSync(d)
  } catch {
    return []
  }
}
const counts = run.cases.reduce((a, c) => ((a[c.state] = (a[c.state] ?? 0) + 1), a), {})
console.log(`${file}: ${run.cases.length} cases ${JSON.stringify(counts)}`)
if (problems.length > 0) {
  console.error(problems.map((p) => `problem: ${p}`).join('\n'))
  process.exit(1)
}

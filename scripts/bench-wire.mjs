#!/usr/bin/env node
// What the harness's own per-message work costs in Node, measured with tinybench: the
// stamp and whole-message check every received message gets (core/wire.ts), a copy
// into a receive buffer (TypedArray.set), and the clock read every ping-pong sample
// carries. These are the figures the README's methodology quotes.
//
//   npm run bench:wire [-- --json]
//   --json prints { "tasks": [{ "name", "medianNs", "samples" }] }
import { Bench } from 'tinybench'
import { makeMessage, MessageCheck, stamp } from '../dist/core/wire.js'

const json = process.argv.includes('--json')
// A 40 ns operation is close to the resolution of timing single calls: each task runs
// its operation REPEAT times (fewer for big messages) and the figure is per operation.
const bench = new Bench({ time: 300, warmupTime: 100, timestampProvider: 'hrtimeNow' })
const perOp = new Map()
const add = (name, repeat, op) => {
  perOp.set(name, repeat)
  bench.add(name, () => {
    for (let i = 0; i < repeat; i++) op()
  })
}
for (const [label, size] of [
  ['64 B', 64],
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024],
]) {
  const msg = makeMessage(size)
  const check = new MessageCheck(size)
  const into = new Uint8Array(size)
  let seq = 0
  const repeat = Math.max(1, Math.floor(65536 / size))
  add(`stamp + check ${label}`, repeat, () => {
    stamp(msg, seq)
    if (check.check(msg, seq) !== undefined) throw new Error('check failed')
    seq++
  })
  add(`copy ${label}`, repeat, () => into.set(msg))
}
let sink = 0n
add('clock read (process.hrtime.bigint)', 1024, () => {
  sink ^= process.hrtime.bigint()
})
await bench.run()
const rows = bench.tasks.map((t) => ({
  name: t.name,
  medianNs: (t.result.latency.p50 * 1e6) / perOp.get(t.name),
  samples: t.result.latency.samplesCount ?? t.result.latency.samples?.length,
}))
if (json) process.stdout.write(JSON.stringify({ tasks: rows }, null, 2) + '\n')
else
  for (const r of rows)
    console.log(`${r.name.padEnd(40)} ${r.medianNs.toFixed(1).padStart(10)} ns  (per operation; median of ${r.samples} timed batches)`)
if (sink === 1n) console.log('')

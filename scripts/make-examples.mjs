#!/usr/bin/env node
// Regenerates results/examples/: a real `ipcbench all --quick` run of this host (the
// result JSON), its HTML report, its markdown with the SVG charts, and the terminal
// summary as the run printed it: the sample a newcomer opens first.
//
//   npm run examples                 # measure (about two minutes on a 2-core host), then render
//   npm run examples -- --from FILE  # render an existing result file instead of measuring
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const dir = join(root, 'results', 'examples')
const bin = join(root, 'bin', 'ipcbench.js')
const json = join(dir, 'quick.json')

/** `okCodes`: a run whose cases errored exits 1 and still wrote its result; those cases are part of the sample. */
function ipcbench(args, okCodes = [0]) {
  // NO_COLOR: the files keep plain text; the progress stays on this terminal.
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NO_COLOR: '1' },
  })
  if (!okCodes.includes(r.status)) {
    process.stderr.write(r.stdout ?? '')
    console.error(`make-examples: ipcbench ${args.join(' ')} exited ${r.status}`)
    process.exit(1)
  }
  return r.stdout
}

mkdirSync(dir, { recursive: true })
const from = process.argv.indexOf('--from')
if (from >= 0) {
  if (!process.argv[from + 1]) {
    console.error('make-examples: --from needs a result file')
    process.exit(2)
  }
  const src = resolve(process.argv[from + 1])
  if (src !== json) copyFileSync(src, json)
} else {
  // --wait: another run measuring at the same time would be in the figures.
  ipcbench(['all', '--quick', '--wait', '--out', json, '--html', join(dir, 'quick.html')], [0, 1])
}
rmSync(join(dir, 'charts'), { recursive: true, force: true })
ipcbench(['report', json, '--html', join(dir, 'quick.html'), '--svg', join(dir, 'charts'), '--markdown', join(dir, 'quick.md')])
writeFileSync(join(dir, 'summary.txt'), ipcbench(['report', json]))
console.log(`make-examples: ${dir}: quick.json, quick.html, quick.md, charts/*.svg, summary.txt`)

#!/usr/bin/env node
// Builds the optional native helper at `npm install`. It never fails the install:
// when there is no compiler (or anything else goes wrong) it records the gist in
// build/status.json, and ipcbench lists the native mechanisms as unavailable with it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const BUILD = join(HERE, 'build')

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ]
  return candidates.find((c) => c && existsSync(c))
}

function gist(text) {
  const lines = text.split('\n').filter((l) => /error|not found|No such|fatal/i.test(l))
  return (lines.slice(-4).join(' | ') || text.trim().split('\n').slice(-3).join(' | ')).slice(0, 500)
}

function buildAddon() {
  const gyp = findNodeGyp()
  if (!gyp) return { ok: false, error: 'node-gyp not found (it ships with npm)' }
  // Offline: build against the headers of the running Node when they are installed.
  const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined)
  const args = [gyp, 'rebuild', '--directory', HERE, ...(nodedir ? [`--nodedir=${nodedir}`] : [])]
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: process.env })
  if (r.status === 0 && existsSync(join(BUILD, 'Release', 'ipcbench_native.node'))) return { ok: true }
  return { ok: false, error: gist(`${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error?.message ?? ''}`) }
}

function buildFloor() {
  const dir = join(HERE, 'floor')
  if (!existsSync(join(dir, 'Makefile'))) return { ok: false, error: 'not part of this version' }
  const r = spawnSync('make', ['-C', dir], { encoding: 'utf8' })
  if (r.status === 0) return { ok: true, path: join(dir, 'ipcfloor') }
  return { ok: false, error: gist(`${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error?.message ?? ''}`) }
}

let addon
let floor
try {
  addon = buildAddon()
} catch (err) {
  addon = { ok: false, error: String(err?.message ?? err) }
}
try {
  floor = buildFloor()
} catch (err) {
  floor = { ok: false, error: String(err?.message ?? err) }
}
mkdirSync(BUILD, { recursive: true })
writeFileSync(join(BUILD, 'status.json'), JSON.stringify({ addon, floor, builtAt: new Date().toISOString(), node: process.version }, null, 2) + '\n')
process.stderr.write(
  `ipcbench native helper: ${addon.ok ? 'built' : `not built (${addon.error})`}; C floor: ${floor.ok ? 'built' : `not built (${floor.error})`}\n`,
)

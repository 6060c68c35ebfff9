#!/usr/bin/env node
// The install script. Where the package ships a prebuilt binary for this host (made by
// prebuild.mjs before a pack), it checks it and builds nothing, so an install needs no
// compiler; `npm rebuild ipcbench --build-from-source`, a git clone (which has no
// prebuilds) or a host with none build from source as before. It never fails the install:
// when a build fails it records the gist in build/status.json, and ipcbench lists the
// native mechanisms as unavailable with it. Nothing at run time depends on this script
// having run: the loaders find the prebuilt binaries themselves.
import { spawnSync } from 'node:child_process'
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { arch } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findNodeGyp, gist, nodeDir } from './toolchain.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const BUILD = join(HERE, 'build')
const FROM_SOURCE = process.env.npm_config_build_from_source === 'true'

function nodeLibc() {
  const fd = openSync(process.execPath, 'r')
  const head = Buffer.alloc(4096)
  readSync(fd, head, 0, head.length, 0)
  closeSync(fd)
  return head.includes('/ld-musl-') ? 'musl' : 'glibc'
}

/** The prebuilt addon node-gyp-build would pick here, if it loads. */
function prebuiltAddon() {
  process.env.PREBUILDS_ONLY = '1'
  process.env.LIBC ??= nodeLibc()
  const require = createRequire(import.meta.url)
  try {
    const file = require('node-gyp-build').resolve(HERE)
    require(file)
    return file
  } catch {
    return undefined
  }
}

function prebuiltFloor() {
  const file = join(HERE, 'prebuilds', `linux-${arch()}`, 'ipcfloor')
  try {
    accessSync(file, constants.X_OK)
    return file
  } catch {
    return undefined
  }
}

function buildAddon() {
  const gyp = findNodeGyp()
  if (!gyp) return { ok: false, error: 'node-gyp not found (it ships with npm)' }
  const nodedir = nodeDir()
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

function attempt(build) {
  try {
    return build()
  } catch (err) {
    return { ok: false, error: String(err?.message ?? err) }
  }
}

const addonPrebuilt = FROM_SOURCE ? undefined : prebuiltAddon()
const floorPrebuilt = FROM_SOURCE ? undefined : prebuiltFloor()
const addon = addonPrebuilt ? { ok: true, prebuilt: addonPrebuilt } : attempt(buildAddon)
const floor = floorPrebuilt ? { ok: true, prebuilt: floorPrebuilt } : attempt(buildFloor)
mkdirSync(BUILD, { recursive: true })
writeFileSync(join(BUILD, 'status.json'), JSON.stringify({ addon, floor, builtAt: new Date().toISOString(), node: process.version }, null, 2) + '\n')
const say = (part) => (part.prebuilt ? 'prebuilt' : part.ok ? 'built' : `not built (${part.error})`)
process.stderr.write(`ipcbench native helper: ${say(addon)}; C floor: ${say(floor)}\n`)

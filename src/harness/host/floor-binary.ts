import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PACKAGE_ROOT } from '../../core/paths.js'

/** Built from source by native-helpers/build.mjs (at install, or `npm rebuild --build-from-source`). */
const FROM_SOURCE = join(PACKAGE_ROOT, 'native-helpers', 'floor', 'ipcfloor')
/** Made by native-helpers/prebuild.mjs before a pack; linked statically, so one per arch serves glibc and musl. */
const PREBUILT = join(PACKAGE_ROOT, 'native-helpers', 'prebuilds', `linux-${process.arch}`, 'ipcfloor')

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The C floor program this host runs: a build from source first, as node-gyp-build prefers for the addon. */
export const FLOOR_PATH = [FROM_SOURCE, PREBUILT].find(executable) ?? FROM_SOURCE

/** Whether the C floor program is there (built at install, or prebuilt in the package), and why not. */
export function floorStatus(): { ok: true; path: string; prebuilt: boolean } | { ok: false; reason: string } {
  if (executable(FLOOR_PATH)) return { ok: true, path: FLOOR_PATH, prebuilt: FLOOR_PATH === PREBUILT }
  const statusFile = join(PACKAGE_ROOT, 'native-helpers', 'build', 'status.json')
  let gist = `not built, and no prebuilt one for linux-${process.arch}; in a clone run "npm install", where it is installed "npm rebuild ipcbench --build-from-source" (needs gcc and make)`
  if (existsSync(statusFile)) {
    try {
      const s = JSON.parse(readFileSync(statusFile, 'utf8')) as { floor?: { error?: string } }
      if (s.floor?.error) gist = s.floor.error
    } catch {
      // unreadable status: keep the generic gist
    }
  }
  return { ok: false, reason: `C floor not built (${gist})` }
}

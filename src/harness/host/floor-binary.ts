import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PACKAGE_ROOT } from '../../core/paths.js'
export const FLOOR_PATH = join(PACKAGE_ROOT, 'native-helpers', 'floor', 'ipcfloor')

/** Whether the C floor program was built (at npm install), and why not. */
export function floorStatus(): { ok: true; path: string } | { ok: false; reason: string } {
  try {
    accessSync(FLOOR_PATH, constants.X_OK)
    return { ok: true, path: FLOOR_PATH }
  } catch {
    const statusFile = join(PACKAGE_ROOT, 'native-helpers', 'build', 'status.json')
    let gist = 'not built; run "npm install" (needs gcc and make)'
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
}

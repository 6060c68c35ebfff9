import type { Environment, ResolvedOptions } from '../types.js'
import type { BaselineRunner } from './run.js'

/** The C floor beside the Node cases; filled in with the floor program. */
export function createBaselineRunner(_o: ResolvedOptions, env: Environment, warn: (w: string) => void): BaselineRunner | undefined {
  if (!env.native.floor.available) {
    warn(`no C floor in this run: ${env.native.floor.reason}`)
    return undefined
  }
  return undefined
}

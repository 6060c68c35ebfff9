import type { Mechanism } from './types.js'
import { pipe } from './pipe.js'

/** Mechanisms that need the native helper (system calls Node has no API for). */
export const NATIVE_MECHANISMS: readonly Mechanism[] = [pipe]

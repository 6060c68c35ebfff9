import type { Mechanism } from './types.js'

/** Node's own messaging between threads and processes (worker ports, child IPC, piscina). */
export const RUNTIME_MECHANISMS: readonly Mechanism[] = []

import type { Mechanism } from './types.js'
import { unixStream } from './unix-stream.js'
import { tcp } from './tcp.js'

/** Kernel mechanisms Node reaches on its own (fs, net, Atomics, process signals). */
export const NODE_MECHANISMS: readonly Mechanism[] = [unixStream, tcp]

import type { Mechanism } from './types.js'
import { unixStream } from './unix-stream.js'
import { tcp } from './tcp.js'
import { fifo } from './fifo.js'
import { sabRing } from './sab-ring.js'
import { signal } from './signal.js'

/** Kernel mechanisms Node reaches on its own (fs, net, Atomics, process signals). */
export const NODE_MECHANISMS: readonly Mechanism[] = [fifo, unixStream, tcp, sabRing, signal]

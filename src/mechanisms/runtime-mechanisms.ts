import type { Mechanism } from './types.js'
import { workerMessage } from './worker-message.js'
import { messageChannel } from './message-channel.js'
import { childIpc } from './child-ipc.js'
import { piscinaMechanism } from './piscina.js'

/** Node's own messaging between threads and processes (worker ports, child IPC, piscina). */
export const RUNTIME_MECHANISMS: readonly Mechanism[] = [workerMessage, messageChannel, childIpc, piscinaMechanism]

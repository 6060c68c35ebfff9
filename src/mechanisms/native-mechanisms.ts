import type { Mechanism } from './types.js'
import { pipe } from './pipe.js'
import { unixDgram, unixSeqpacket } from './unix-sockets.js'
import { posixMq } from './posix-mq.js'
import { sysvMsg } from './sysv-msg.js'
import { shmRing, sysvShm } from './shm-ring.js'
import { eventfd } from './eventfd.js'
import { rtSignal, shmSignal } from './rt-signal.js'

/** Mechanisms that need the native helper (system calls Node has no API for). */
export const NATIVE_MECHANISMS: readonly Mechanism[] = [pipe, unixDgram, unixSeqpacket, posixMq, sysvMsg, shmRing, sysvShm, eventfd, rtSignal, shmSignal]

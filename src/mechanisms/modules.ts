import type { Mechanism } from './types.js'

/**
 * Where each mechanism lives, for the peers: a case process loads only the module of
 * the mechanism it runs (the registry would load all of them, tens of milliseconds of
 * every peer's start, twice per repetition). A test (matrix.test.ts) keeps this table
 * in step with the registry.
 */
const MODULES: Record<string, () => Promise<Mechanism>> = {
  pipe: async () => (await import('./pipe.js')).pipe,
  fifo: async () => (await import('./fifo.js')).fifo,
  'unix-stream': async () => (await import('./unix-stream.js')).unixStream,
  'unix-dgram': async () => (await import('./unix-sockets.js')).unixDgram,
  'unix-seqpacket': async () => (await import('./unix-sockets.js')).unixSeqpacket,
  tcp: async () => (await import('./tcp.js')).tcp,
  'sab-ring': async () => (await import('./sab-ring.js')).sabRing,
  signal: async () => (await import('./signal.js')).signal,
  'posix-mq': async () => (await import('./posix-mq.js')).posixMq,
  'sysv-msg': async () => (await import('./sysv-msg.js')).sysvMsg,
  'shm-ring': async () => (await import('./shm-ring.js')).shmRing,
  'sysv-shm': async () => (await import('./shm-ring.js')).sysvShm,
  eventfd: async () => (await import('./eventfd.js')).eventfd,
  'rt-signal': async () => (await import('./rt-signal.js')).rtSignal,
  'shm-signal': async () => (await import('./rt-signal.js')).shmSignal,
  'worker-message': async () => (await import('./worker-message.js')).workerMessage,
  'message-channel': async () => (await import('./message-channel.js')).messageChannel,
  'child-ipc': async () => (await import('./child-ipc.js')).childIpc,
  piscina: async () => (await import('./piscina.js')).piscinaMechanism,
  fake: async () => (await import('./testing/fake.js')).fake,
}

export const MODULE_IDS = Object.keys(MODULES)

export async function loadMechanism(id: string): Promise<Mechanism> {
  const load = MODULES[id]
  if (!load) throw new Error(`unknown mechanism "${id}"`)
  return load()
}

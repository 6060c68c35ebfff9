import { loadNative } from '../native/index.js'
import { datagramLimit, pipeBufLimit, posixMqLimit, sysvMsgLimit, sysvShmLimit } from './limits.js'
import type { CaseSpec, HostLimits, MechanismModule } from '../core/result.js'
import { formatBytesApprox } from '../core/units.js'
import { wireBytes } from '../core/wire.js'
import { ringGeometry } from './common/ring-layout.js'
import type { FanInCapability, FanInImpl, Mechanism } from './types.js'

/**
 * Every mechanism ipcbench knows, in the order `list` shows them: light descriptors
 * that say what each offers and what the harness needs to know about it (its size
 * limits, its C floor counterpart or why it has none). `load()` imports the
 * implementation, so the orchestrator and `list` never load one, and a peer loads
 * only its own.
 */
const ALL_MODES = ['blocking', 'nonblocking', 'busy-poll'] as const
const BOTH_ENDPOINTS = ['process', 'thread'] as const
const BOTH_PATTERNS = ['pingpong', 'stream'] as const

/** Fan-in between processes, blocking, as the C floor's `--fanin` does it. */
const blockingFanIn = (load: () => Promise<FanInImpl>, extra: Partial<FanInCapability> = {}): FanInCapability => ({
  modes: ['blocking'],
  endpoints: ['process'],
  native: true,
  load,
  ...extra,
})

/** The C floor program knows each of these by the mechanism's own id. */
const sameInC = (id: string) => ({ name: id })

/**
 * shm-ring's two rings live in /dev/shm (a tmpfs; 64 MiB in a container unless
 * --shm-size says otherwise): a case they would not fit in is skipped with the sizes,
 * before the kernel answers a write to the mapping with SIGBUS.
 */
function devShmSkip(spec: CaseSpec, limits: HostLimits): string | undefined {
  const free = limits.devShm?.freeBytes
  const need = 2 * ringGeometry(wireBytes(spec.sizeBytes)).ringBytes
  if (free === undefined || need <= free) return undefined
  const size = limits.devShm!.sizeBytes
  return `its two rings need ${formatBytesApprox(need)} of /dev/shm, which has ${formatBytesApprox(free)} free of ${formatBytesApprox(size)} (in a container, raise it with docker run --shm-size=…)`
}

export const BUILT_INS: readonly Mechanism[] = [
  {
    id: 'pipe',
    family: 'fd',
    summary: 'anonymous pipes (pipe2), one per direction, fds handed to the peer',
    modes: ALL_MODES,
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: true,
    floor: sameInC('pipe'),
    load: async () => (await import('./pipe.js')).pipe,
  },
  {
    id: 'fifo',
    family: 'fd',
    summary: 'named pipes (mkfifo), one per direction',
    modes: ['blocking', 'nonblocking'],
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: false,
    floor: sameInC('fifo'),
    load: async () => (await import('./fifo.js')).fifo,
    fanIn: blockingFanIn(async () => (await import('./fanin.js')).fifoFanIn, { maxMessage: pipeBufLimit }),
  },
  {
    id: 'unix-stream',
    family: 'socket',
    summary: 'Unix domain stream socket (AF_UNIX, SOCK_STREAM)',
    modes: ALL_MODES,
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: false,
    skipCase(spec) {
      const n = loadNative()
      return spec.mode !== 'nonblocking' && !n.ok ? `${spec.mode} mode needs the native helper: ${n.reason}` : undefined
    },
    floor: sameInC('unix-stream'),
    load: async () => (await import('./unix-stream.js')).unixStream,
  },
  {
    id: 'tcp',
    family: 'socket',
    summary: 'TCP over loopback (127.0.0.1), TCP_NODELAY',
    modes: ['nonblocking'],
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: false,
    floor: sameInC('tcp'),
    load: async () => (await import('./tcp.js')).tcp,
  },
  {
    id: 'sab-ring',
    family: 'shared-memory',
    summary: 'ring buffers in a SharedArrayBuffer with Atomics (threads)',
    modes: ALL_MODES,
    endpoints: ['thread'],
    patterns: BOTH_PATTERNS,
    native: false,
    floor: sameInC('sab-ring'),
    load: async () => (await import('./sab-ring.js')).sabRing,
  },
  {
    id: 'signal',
    family: 'signal',
    summary: 'standard signals (kill/handler via the event loop); no payload, strict alternation',
    modes: ['nonblocking'],
    endpoints: ['process'],
    patterns: ['pingpong'],
    fixedSizeBytes: 0,
    native: false,
    floor: { none: 'not in the C floor (a signal handler round trip has no payload to check)' },
    load: async () => (await import('./signal.js')).signal,
  },
  {
    id: 'unix-dgram',
    family: 'socket',
    summary: 'Unix datagram socketpair (AF_UNIX, SOCK_DGRAM), native',
    modes: ALL_MODES,
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: true,
    maxMessage: datagramLimit,
    floor: sameInC('unix-dgram'),
    load: async () => (await import('./unix-sockets.js')).unixDgram,
    fanIn: blockingFanIn(async () => (await import('./fanin.js')).unixDgramFanIn),
  },
  {
    id: 'unix-seqpacket',
    family: 'socket',
    summary: 'Unix seqpacket socketpair (AF_UNIX, SOCK_SEQPACKET), native',
    modes: ALL_MODES,
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: true,
    maxMessage: datagramLimit,
    floor: sameInC('unix-seqpacket'),
    load: async () => (await import('./unix-sockets.js')).unixSeqpacket,
  },
  {
    id: 'posix-mq',
    family: 'message-queue',
    summary: 'POSIX message queues (mq_open/mq_send/mq_receive), one per direction',
    modes: ALL_MODES,
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: true,
    maxMessage: posixMqLimit,
    floor: sameInC('posix-mq'),
    load: async () => (await import('./posix-mq.js')).posixMq,
    fanIn: blockingFanIn(async () => (await import('./fanin.js')).posixMqFanIn),
  },
  {
    id: 'sysv-msg',
    family: 'message-queue',
    summary: 'System V message queue (msgsnd/msgrcv), one queue, a message type per direction',
    modes: ['blocking', 'busy-poll'],
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: true,
    maxMessage: sysvMsgLimit,
    floor: sameInC('sysv-msg'),
    load: async () => (await import('./sysv-msg.js')).sysvMsg,
    fanIn: blockingFanIn(async () => (await import('./fanin.js')).sysvMsgFanIn),
  },
  {
    id: 'shm-ring',
    family: 'shared-memory',
    summary: 'ring buffers in POSIX shared memory (shm_open + mmap) with Atomics and futexes, between processes',
    modes: ALL_MODES,
    endpoints: ['process'],
    patterns: BOTH_PATTERNS,
    native: true,
    skipCase: devShmSkip,
    floor: sameInC('shm-ring'),
    load: async () => (await import('./shm-ring.js')).shmRing,
  },
  {
    id: 'sysv-shm',
    family: 'shared-memory',
    summary: 'the same ring in a System V segment (shmget + shmat), between processes',
    modes: ALL_MODES,
    endpoints: ['process'],
    patterns: BOTH_PATTERNS,
    native: true,
    maxMessage: sysvShmLimit,
    floor: sameInC('sysv-shm'),
    load: async () => (await import('./shm-ring.js')).sysvShm,
  },
  {
    id: 'shm-sem',
    family: 'shared-memory',
    summary: 'the ring in shm_open memory guarded by POSIX semaphores (sem_init pshared=1 in the segment), a bounded buffer',
    modes: ['blocking'],
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: true,
    skipCase: devShmSkip,
    floor: sameInC('shm-sem'),
    load: async () => (await import('./sem-ring.js')).shmSem,
  },
  {
    id: 'sysv-sem',
    family: 'shared-memory',
    summary: 'the ring in a shmget segment guarded by a System V semaphore set (semget/semop), a bounded buffer',
    modes: ['blocking'],
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    native: true,
    maxMessage: sysvShmLimit,
    floor: sameInC('sysv-sem'),
    load: async () => (await import('./sem-ring.js')).sysvSem,
  },
  {
    id: 'eventfd',
    family: 'fd',
    summary: 'eventfd counters, one per direction (notification latency; the 8-byte value is the message)',
    modes: ALL_MODES,
    endpoints: BOTH_ENDPOINTS,
    patterns: ['pingpong'],
    fixedSizeBytes: 8,
    native: true,
    floor: sameInC('eventfd'),
    load: async () => (await import('./eventfd.js')).eventfd,
  },
  {
    id: 'rt-signal',
    family: 'signal',
    summary: 'queued real-time signals with an int payload (sigqueue/sigwaitinfo)',
    modes: ['blocking', 'busy-poll'],
    endpoints: BOTH_ENDPOINTS,
    patterns: BOTH_PATTERNS,
    fixedSizeBytes: 4,
    native: true,
    floor: { none: 'not in the C floor yet' },
    load: async () => (await import('./rt-signal.js')).rtSignal,
  },
  {
    id: 'shm-signal',
    family: 'signal',
    summary: 'shared memory written, then a queued real-time signal to the reader (sigqueue/sigwaitinfo)',
    modes: ['blocking', 'busy-poll'],
    endpoints: BOTH_ENDPOINTS,
    patterns: ['pingpong'],
    native: true,
    floor: { none: 'not in the C floor yet' },
    load: async () => (await import('./rt-signal.js')).shmSignal,
  },
  {
    id: 'worker-message',
    family: 'runtime',
    summary: "a Worker's own channel: worker.postMessage ⇄ parentPort",
    variants: ['clone', 'transfer'],
    modes: ['nonblocking'],
    endpoints: ['thread'],
    patterns: BOTH_PATTERNS,
    native: false,
    floor: { none: 'worker messaging is a Node facility; C has no counterpart' },
    load: async () => (await import('./worker-message.js')).workerMessage,
    fanIn: {
      modes: ['nonblocking'],
      endpoints: ['thread'],
      native: false,
      load: async () => (await import('./fanin.js')).workerMessageFanIn,
    },
  },
  {
    id: 'message-channel',
    family: 'runtime',
    summary: 'MessageChannel ports between threads (structured clone or transfer)',
    variants: ['clone', 'transfer'],
    modes: ['nonblocking', 'busy-poll'],
    endpoints: ['thread'],
    patterns: BOTH_PATTERNS,
    native: false,
    floor: { none: 'MessageChannel is a Node facility; C has no counterpart' },
    load: async () => (await import('./message-channel.js')).messageChannel,
  },
  {
    id: 'child-ipc',
    family: 'runtime',
    summary: "Node's child-process IPC channel (process.send), json or advanced serialization",
    variants: ['json', 'advanced'],
    modes: ['nonblocking'],
    endpoints: ['process'],
    patterns: BOTH_PATTERNS,
    native: false,
    peerMadeBySpawn: true,
    floor: { none: "Node's child-process channel has no C counterpart" },
    load: async () => (await import('./child-ipc.js')).childIpc,
  },
  {
    id: 'piscina',
    family: 'runtime',
    summary: 'piscina pool.run() round trip (one worker), atomics on and off',
    variants: ['atomics', 'no-atomics'],
    modes: ['nonblocking'],
    endpoints: ['thread'],
    patterns: ['pingpong'],
    native: false,
    floor: { none: 'a Node worker pool; C has no counterpart' },
    load: async () => (await import('./piscina.js')).piscina,
  },
]

/** For the harness's own tests: loopback TCP with failures injected (registered only with IPCBENCH_TEST_FAKE=1). */
const FAKE: Mechanism = {
  id: 'fake',
  family: 'runtime',
  summary: 'test-only: loopback TCP with injected failures',
  modes: ['nonblocking'],
  endpoints: BOTH_ENDPOINTS,
  patterns: BOTH_PATTERNS,
  native: false,
  floor: { none: 'a test-only mechanism' },
  load: async () => (await import('./testing/fake.js')).fake,
}

export const MECHANISMS: readonly Mechanism[] = process.env.IPCBENCH_TEST_FAKE === '1' ? [...BUILT_INS, FAKE] : BUILT_INS

export function getMechanism(id: string): Mechanism {
  const m = MECHANISMS.find((x) => x.id === id) ?? CUSTOM.get(id)?.mechanism
  if (!m) throw new Error(`unknown mechanism "${id}"`)
  return m
}

/**
 * Custom mechanisms (`--mechanism <module>`, the API's `run`), loaded and checked by
 * custom.ts, known for the rest of this process after the built-ins, each with the
 * module it came from: a case process and its peer import that module again by path.
 * Registering an id again replaces it (the API may load a newer version of a module).
 */
const CUSTOM = new Map<string, { mechanism: Mechanism; module: MechanismModule }>()

export function registerCustomMechanism(mechanism: Mechanism, module: MechanismModule): void {
  CUSTOM.set(mechanism.id, { mechanism, module })
}

/** The custom mechanism's module, or undefined for a built-in. */
export const customModuleOf = (id: string): MechanismModule | undefined => CUSTOM.get(id)?.module

/** Every mechanism this process knows: the built-ins, then the custom ones in the order they were registered. */
export const allMechanisms = (): Mechanism[] => [...MECHANISMS, ...[...CUSTOM.values()].map((c) => c.mechanism)]

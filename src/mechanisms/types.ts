import type { ChildProcess } from 'node:child_process'
import type { Worker } from 'node:worker_threads'
import type { CaseSpec, Endpoints, HostLimits, Mode, Pattern } from '../core/result.js'

/**
 * The seam between the harness and a mechanism. A mechanism creates its kernel
 * objects, opens its two endpoints in each mode it offers, and tears everything down.
 * It never times anything and never prints: the harness owns the loops.
 *
 * Side `a` runs in the process the harness starts for the case; side `b` runs in a
 * child process (endpoints `process`) or a worker thread (endpoints `thread`) that
 * side a starts after `setup()`.
 */

/** blocking and busy-poll: calls that return when the message has gone or arrived. */
export interface SyncEndpoint {
  readonly kind: 'sync'
  /** True when send() transfers `buf` (it is detached afterwards). */
  readonly transfers?: boolean
  /** Sends all of `buf` as one message; sleeps (blocking) or spins (busy-poll) while the channel is full. */
  send(buf: Uint8Array): void
  /**
   * Receives exactly one message; returns the buffer holding it: `into` when the
   * mechanism fills a caller's buffer, or a buffer it made (structured clone).
   * Throws when the peer has gone (EOF).
   */
  recv(into: Uint8Array): Uint8Array
  close(): void
}

/** nonblocking: readiness through the event loop. */
export interface AsyncEndpoint {
  readonly kind: 'async'
  readonly transfers?: boolean
  /**
   * Sends one message. The endpoint may hold on to `buf` until it calls `release`
   * (or forever, when it transfers it). Returns false when the caller should wait
   * for the drain callback before sending more.
   */
  send(buf: Uint8Array, release?: () => void): boolean
  /**
   * Each whole message, in order. The buffer is lent to the callback: it may read and
   * change it, and send it on (the endpoint then holds it until written), but must not
   * keep it once the callback returns, since the endpoint may reuse it for a later
   * message. An endpoint that `transfers` gives the buffer away for good.
   */
  onMessage(cb: (msg: Uint8Array) => void): void
  onDrain(cb: () => void): void
  /** Errors and an early end of the channel (the peer went away). */
  onError(cb: (err: Error) => void): void
  close(): Promise<void> | void
}

export type Endpoint = SyncEndpoint | AsyncEndpoint

/** What side b needs, handed over when it starts. */
export interface PeerHandoff {
  /** JSON-serialisable description (paths, ports, names, sizes). */
  info: unknown
  /** File descriptors for the peer: a child gets them in its stdio (`PeerLink.fds` says as which numbers), a worker uses them as they are. */
  fds?: number[]
  /** Transferables for a worker peer (MessagePorts); SharedArrayBuffers go in `info`. */
  transfer?: import('node:worker_threads').TransferListItem[]
  /** Open Node's IPC channel to a child peer with this serialization (child-ipc only). */
  ipc?: 'json' | 'advanced'
}

/** The started peer, for mechanisms whose channel is the link to the peer itself. */
export interface PeerLink {
  pid: number
  /** `PeerHandoff.fds` as the peer sees them: other numbers in a child, the same in a worker. */
  fds: number[]
  child?: ChildProcess
  worker?: Worker
}

export interface SetupContext {
  spec: CaseSpec
  /** A private directory (mode 0700, mkdtemp) for FIFOs and socket files; removed after the case. */
  tmpDir: string
  /** This host's kernel limits (buffer and queue sizes to ask for). */
  limits: HostLimits
  /** A fresh random name with the ipcbench prefix and owner pid, e.g. `ipcbench-1234-k3j2h1`. */
  objectName(): string
  /**
   * Records an object `ipcbench clean` could not find by listing, so it can remove
   * it if this process dies first: System V ids (no names: queues, segments,
   * semaphore sets), and POSIX queue names (listable only where /dev/mqueue is mounted).
   */
  ledger(kind: 'msg' | 'shm' | 'sem' | 'mq', idOrName: number | string): void
}

export interface PeerContext {
  spec: CaseSpec
  info: unknown
  /** The handed-over fds as this side sees them. */
  fds: number[]
  /** The pid of side a's process. */
  parentPid: number
  /** What `PeerHandoff.transfer` carried (worker peers only). */
  transferred: import('node:worker_threads').TransferListItem[]
}

export interface Channel {
  peer: PeerHandoff
  /** Opens side a; called after the peer has started, concurrently with side b's open. */
  openA(peer: PeerLink): Promise<Endpoint>
  /** What was really used (fd kinds from /proc, buffer sizes, wait primitive…), for the result. */
  describe(): Record<string, string>
  /** Removes every object the channel created. Idempotent; called on every path. */
  teardown(): Promise<void>
}

export interface MechanismImpl {
  setup(ctx: SetupContext): Promise<Channel>
  openB(ctx: PeerContext): Promise<Endpoint>
}

export type Family = 'fd' | 'socket' | 'shared-memory' | 'message-queue' | 'signal' | 'runtime'

export interface SizeLimit {
  bytes: number
  /** The limit's name, e.g. `/proc/sys/fs/mqueue/msgsize_max (8192)`. */
  limit: string
  /** How to raise it or what to use instead. */
  fix: string
}

/** The C floor's counterpart: the name the floor program knows it by, or why there is none. */
export type FloorCounterpart = { name: string } | { none: string }

/**
 * A mechanism as the harness sees it: what it offers, what limits it, and its C
 * floor. Light data; `load()` imports the implementation.
 */
export interface Mechanism {
  id: string
  family: Family
  summary: string
  variants?: readonly string[]
  modes: readonly Mode[]
  endpoints: readonly Endpoints[]
  patterns: readonly Pattern[]
  /** Notification mechanisms carry a fixed size (a signal: 0 bytes). */
  fixedSizeBytes?: number
  /** Needs the native addon. */
  native: boolean
  /**
   * The channel to its child peer is made by the spawn itself (Node's IPC channel), so
   * the peer cannot be started before the objects exist, as the harness otherwise does.
   */
  peerMadeBySpawn?: boolean
  /** The largest message this host lets the mechanism carry, when there is one. */
  maxMessage?(limits: HostLimits): SizeLimit | undefined
  /** A reason when one case cannot run here (beyond size and availability), given this host's limits. */
  skipCase?(spec: CaseSpec, limits: HostLimits): string | undefined
  floor: FloorCounterpart
  /** Imports the implementation: only a case process and its peer call it. */
  load(): Promise<MechanismImpl>
  /** Many senders into one channel of this mechanism (the `fanin` pattern), where several writers can share one object honestly. */
  fanIn?: FanInCapability
}

/**
 * What a mechanism offers for fan-in: the modes and endpoints of its senders and
 * receiver, the size limit that holds when several write into one object (a FIFO's
 * PIPE_BUF), and the implementation. The C floor has it when `floor` names the
 * mechanism (`ipcfloor --fanin`).
 */
export interface FanInCapability {
  modes: readonly Mode[]
  endpoints: readonly Endpoints[]
  /** Needs the native addon (the blocking calls, and the watchdog that notices a dead sender). */
  native: boolean
  /** The largest message with several senders, when it is smaller than `maxMessage`'s. */
  maxMessage?(limits: HostLimits): SizeLimit | undefined
  load(): Promise<FanInImpl>
}

/**
 * Fan-in's seam: one channel, created by the receiver (the case process), written by
 * every sender (child processes or worker threads of it). The receiver's endpoint
 * only receives; a sender's only sends. Each message says which sender sent it.
 */
export interface FanInImpl {
  setup(ctx: SetupContext, senders: number): Promise<FanInChannel>
  /** A sender's end, in the sender: `PeerContext.info` and `fds` are what `FanInChannel.peer` handed over. */
  openSender(ctx: PeerContext): Promise<Endpoint>
}

export interface FanInChannel {
  /** What every sender needs (the same object for all of them). */
  peer: PeerHandoff
  /** The receiver's end, once every sender has started. */
  openReceiver(senders: readonly PeerLink[]): Promise<Endpoint>
  describe(): Record<string, string>
  /** Removes every object the channel created. Idempotent; called on every path. */
  teardown(): Promise<void>
}

import type { TransferListItem } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import type { Side } from '../../core/errors.js'
import type { CaseSpec, FanIn, PeakRss, Placement, PinRequest } from '../../core/result.js'

/**
 * Everything that crosses a process or thread boundary of a case, as types: what the
 * orchestrator asks a case process to do and what it answers (Node's IPC channel),
 * and what side a and side b say to each other (the control channel). Neither side
 * casts what it receives. See docs/ARCHITECTURE.md for the process diagram.
 */

/** The script every process of a case starts from: the case process (side a) and a peer (side b). */
export const CASE_ENTRY = fileURLToPath(new URL('./main.js', import.meta.url))

/**
 * The version of what crosses the orchestrator ⇄ case process boundary: RepTask,
 * RepReport, ErrorReport and the samples file (little-endian float64 ns). `ipcbench
 * ab --base-root DIR` drives another checkout's case processes and refuses one whose
 * number differs, so bump it with any change to those.
 */
export const CASE_PROTOCOL = 6

/** What one repetition's loops are asked to do. */
export interface LoopPlan {
  /** Bytes each message really carries (the case's size, at least the sequence number). */
  sizeBytes: number
  /** Warm-up messages (round trips) before measuring. */
  warmup: number
  /** Upper bound of the measured phase. */
  durationMs: number
  /** Upper bound of measured messages. */
  maxMessages: number
  /**
   * Enough: the measured phase ends once it holds this many samples (round trips, or
   * messages of a stream) and has lasted `minWindowMs`, if `durationMs` has not ended it
   * first; 0 keeps the whole `durationMs`. Not used by fan-in.
   */
  targetSamples: number
  /** The shortest measured phase a sample target may end (a few scheduler ticks). */
  minWindowMs: number
  /** Load (protocol 5): nanoseconds between the sender's scheduled sends; 0 sends as fast as the channel takes them. */
  intervalNs?: number
  /**
   * Several pairs at once (protocol 5): the clock time (CLOCK_MONOTONIC ns) at which the
   * pair's sides start their loops, both open and ready, so that every pair starts at once.
   */
  startAtNs?: number
}

/** CPU counters at one instant (getrusage): microseconds and context switches. */
export interface CostSnapshot {
  userUs: number
  sysUs: number
  voluntaryCtx: number
  involuntaryCtx: number
  /** Side a of a thread case: its whole process over the same interval (both sides and every helper thread). */
  process?: CostSnapshot
}

/** `thread`: the side's own thread (RUSAGE_THREAD); `process`: the whole process that hosts it. */
export type MeterScope = 'thread' | 'process'

/** One side's CPU over the measured phase. */
export interface SideUsage extends CostSnapshot {
  scope: MeterScope
}

/** Where the two sides are to run: the placement applied and each side's CPU. */
export interface PlacementPlan {
  requested: PinRequest
  applied: Placement
  cpuA?: number
  cpuB?: number
}

// ── Orchestrator ⇄ case process (Node's IPC channel) ─────────────────────────────

/** What the orchestrator asks one case process (side a) to do: one repetition. */
export interface RepTask {
  spec: CaseSpec
  repetition: number
  plan: LoopPlan
  placement: PlacementPlan
  /** Where side a writes the round-trip samples (little-endian float64 ns). */
  samplesPath: string
  /** Test-only fault injection in side b (IPCBENCH_TEST_FAULTS must also be set). */
  fault?: string
  /** A custom mechanism's module (`--mechanism`), which both sides import; its sha256 as the orchestrator read it. */
  mechanismModule?: CustomModuleRef
}

/** Where a case process and its peer find a custom mechanism (protocol 2). */
export interface CustomModuleRef {
  /** Absolute path of the module file. */
  path: string
  sha256: string
}

/** What side a reports back for one repetition. */
export interface RepReport {
  type: 'result'
  messages: number
  /** Ping-pong: side a's warm-up round trips (fixed count + settling blocks). */
  warmupMessages?: number
  /**
   * Messages in side b's cost window, when it differs from `messages`: a ping-pong
   * echo counts from the end of the fixed warm-up, so its window also holds the
   * settling blocks side a added.
   */
  messagesB?: number
  elapsedNs: number
  batch: number
  sampleCount: number
  costA: SideUsage
  costB: SideUsage
  cpusA: number[]
  cpusB: number[]
  describe: Record<string, string>
  /** Problems the case process noticed that do not end the repetition. */
  countMismatch?: { sent: number; received: number }
  /** Fan-in (protocol 3): the senders' figures; `costB` is then every sender's CPU added. */
  fanIn?: FanIn
  /** Protocol 4: how long the case's processes and threads took to start (milliseconds). */
  startup?: Startup
  /** One-way (protocol 5): the round trips' median, beside the one-way samples. */
  roundTripP50Ns?: number
  /** Load (protocol 5): what the scheduled sender sent over its measured phase, and in how long. */
  sent?: number
  sendElapsedNs?: number
  /** Protocol 5: side a's measured phase on the clock (CLOCK_MONOTONIC ns), to see whether several pairs measured at once. */
  phaseNs?: [number, number]
  /** Protocol 6: the largest resident set of the case's processes so far. */
  peakRssKiB?: PeakRss
}

export interface Startup {
  /** The case process: from its own start (`performance.timeOrigin`) to the start of the repetition. */
  caseProcessMs: number
  /** Side b: from the call that starts it (spawn, `new Worker`) to its "ready", its endpoint open. */
  peerMs: number
  /** Side b was started with the case process, before the objects existed; `peerMs` then overlaps the case process's own start. */
  peerEarly?: boolean
  /** What the repetition waited for side b: from the hello, sent once the objects exist, to its "ready". */
  peerWaitMs?: number
}

/** A failure, from whichever side saw it, with what the result keeps of it. */
export interface ErrorReport {
  type: 'error'
  message: string
  code?: string
  errno?: number
  syscall?: string
  side?: Side
}

export type CaseProcessReply = RepReport | ErrorReport

// ── Side a ⇄ side b (the control channel, never the measured one) ────────────────

/** Sent by side a to side b before anything else. */
export interface Hello {
  type: 'hello'
  spec: CaseSpec
  plan: LoopPlan
  /** The mechanism's own description of its objects (paths, names, sizes). */
  info: unknown
  /** The handed-over fds as side b sees them. */
  fds: number[]
  parentPid: number
  /** A worker peer pins its own thread; a child is pinned by taskset at its start. */
  cpuB?: number
  fault?: string
  mechanismModule?: CustomModuleRef
}

/** Side a has opened its end and both may start. */
export interface Go {
  type: 'go'
}

/** Side b has opened its end. */
export interface Ready {
  type: 'ready'
  cpus: number[]
  scope: MeterScope
}

/** Side b's figures: its CPU, and for a stream what it received and when. */
export interface Done {
  type: 'done'
  messages: number
  elapsedNs?: number
  cost: CostSnapshot
  scope: MeterScope
  /** A peer in a process of its own: its largest resident set so far (KiB). */
  maxRssKiB?: number
}

/** To a worker peer started before the objects existed (peer-start.ts): what it would have had in its workerData, transferred. */
export interface Handover {
  type: 'handover'
  transferred: TransferListItem[]
}

export type ToPeer = Hello | Handover | Go
export type FromPeer = Ready | Done | ErrorReport

// ── Fan-in: receiver (the case process) ⇄ each sender (fanin-sender.ts) ──────────

/** The script a fan-in sender starts from, as a process or a worker. */
export const SENDER_ENTRY = fileURLToPath(new URL('./fanin-sender.js', import.meta.url))

/** Sent by the receiver to each sender before anything else. */
export interface SenderHello {
  type: 'hello'
  spec: CaseSpec
  /** This sender's number, 0..senders-1: the high bits of every sequence word it sends. */
  sender: number
  durationMs: number
  /** Upper bound of this sender's messages. */
  maxMessages: number
  info: unknown
  fds: number[]
  parentPid: number
  fault?: string
}

export interface SenderReady {
  type: 'ready'
  cpus: number[]
}

/** What a sender sent (its STOP aside) and its CPU over the sending. */
export interface SenderDone {
  type: 'done'
  sent: number
  cost: CostSnapshot
  /** A sender in a process of its own: its largest resident set so far (KiB). */
  maxRssKiB?: number
}

/** The receiver has what it needs: the sender may close and end. */
export interface Bye {
  type: 'bye'
}

export type ToSender = SenderHello | Go | Bye
export type FromSender = SenderReady | SenderDone | ErrorReport

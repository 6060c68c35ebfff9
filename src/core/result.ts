import type { ErrorFields, Side } from './errors.js'
import type { EncodedHistogram } from './histogram.js'
import type { Warning } from './warnings.js'

/**
 * The result file's types: what a run produces and what reports and comparisons read.
 * Units are in the field names (`…Ns`, `…Us`, `…PerSec`, `…Bytes`). The schema id is
 * versioned; a breaking change to these types bumps it, and the loader
 * (report/load.ts) still reads every earlier version.
 *
 * run@2 (from run@1): the C floor is `floor`/`ratioToFloor` (was `baseline`/
 * `ratioToBaseline`), `options.floor` (was `options.baseline`), and warnings are
 * `{ code, message }` objects (were strings).
 *
 * run@3 (from run@2): the `oneway` and `load` patterns (a case's `oneWay`, `load`,
 * `rate`), several pairs at once (`pairs`, `pairsRun`), `options.rates` and
 * `options.pairs`. A run@2 file is a run@3 file with none of them.
 */

export const RUN_SCHEMA = 'ipcbench/run@3' as const
export const RUN_SCHEMA_V2 = 'ipcbench/run@2' as const
export const RUN_SCHEMA_V1 = 'ipcbench/run@1' as const

export type Mode = 'blocking' | 'nonblocking' | 'busy-poll'
export type Endpoints = 'process' | 'thread'
/**
 * `fanin`: many senders, one receiver, one channel (the case's `senders` says how many);
 * `oneway`: ping-pong timed one way, a to b (each message's send time against its receipt);
 * `load`: b sends on a fixed schedule (the case's `rate`), a times each message from
 * its scheduled send time.
 */
export type Pattern = 'pingpong' | 'stream' | 'fanin' | 'oneway' | 'load'
/** `auto` lets each case pick (see harness/plan/placement.ts); the applied placement is recorded. */
export type PinRequest = 'auto' | 'none' | 'same' | 'split'
export type Placement = 'none' | 'same' | 'split'
export type CaseState = 'completed' | 'skipped' | 'errored' | 'aborted'

export const MODES: readonly Mode[] = ['blocking', 'nonblocking', 'busy-poll']
export const ENDPOINTS: readonly Endpoints[] = ['process', 'thread']
export const PATTERNS: readonly Pattern[] = ['pingpong', 'stream', 'fanin', 'oneway', 'load']
/**
 * The patterns between one pair of sides. A mechanism's `patterns` lists `pingpong` and
 * `stream`; `oneway` goes where `pingpong` does (it needs the way back for the
 * acknowledgement) and `load` where `stream` does. Fan-in is its `fanIn` capability.
 */
export const PAIR_PATTERNS: readonly Pattern[] = ['pingpong', 'stream', 'oneway', 'load']
/** The patterns whose figure is a latency per message (round trip, one way, from the schedule); the others' is a throughput. */
export const isLatencyPattern = (p: Pattern): boolean => p === 'pingpong' || p === 'oneway' || p === 'load'

/** A load case's offered rate as asked: messages per second, or a share of the case's own measured capacity. */
export type OfferedRate = { msgsPerSec: number } | { percent: number }

/** One point of the matrix, before it runs. */
export interface CaseSpec {
  /** e.g. `pipe/blocking/process/pingpong/64B`, or `child-ipc:advanced/nonblocking/process/pingpong/64B` */
  id: string
  mechanism: string
  variant?: string
  /**
   * The mechanism's family (`fd`, `socket`, `shared-memory`, `message-queue`, `signal`,
   * `runtime`, or a custom mechanism's own), so reports can group cases without knowing
   * mechanisms. Absent in results written before it was recorded.
   */
  family?: string
  mode: Mode
  endpoints: Endpoints
  pattern: Pattern
  sizeBytes: number
  /** Fan-in: how many senders post into the one channel. */
  senders?: number
  /** Load: the offered rate. */
  rate?: OfferedRate
  /** How many pairs of the case run at once, each with its own objects (absent: one). */
  pairs?: number
}

/** Summary statistics of latency samples, all in nanoseconds except `n` (a count). */
export interface LatencyNs {
  n: number
  min: number
  mean: number
  sd: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

export interface Throughput {
  bytesPerSec: number
  msgsPerSec: number
}

/** CPU cost of one side over the measured phase, divided by the messages (round trips for ping-pong). */
export interface SideCost {
  userUsPerMsg: number
  sysUsPerMsg: number
  voluntaryCtxPerMsg: number
  involuntaryCtxPerMsg: number
  /**
   * `thread`: this side's own thread (getrusage RUSAGE_THREAD via the native helper);
   * `process`: the whole process that hosts the side (includes its other threads).
   */
  scope: 'thread' | 'process'
}

/**
 * All the CPU a case burned over the measured phase, per message (round trip for
 * ping-pong): both sides and every helper thread. `both processes`: the two sides'
 * processes, each metered whole; `whole process`: the one process that hosts both
 * threads (and a pool's workers, libuv's threads), metered whole by side a;
 * `both threads`: the C floor's two threads (C runs no other thread).
 */
export interface CpuTotal {
  userUsPerMsg: number
  sysUsPerMsg: number
  voluntaryCtxPerMsg: number
  involuntaryCtxPerMsg: number
  scope: 'both processes' | 'whole process' | 'both threads' | 'receiver and senders'
}

/** Fan-in: one sender's figures (one-way latency from the send time it stamped into each message; CLOCK_MONOTONIC). */
export interface FanInSender {
  sender: number
  /** What it says it sent, and what the receiver checked of it (equal in a completed case). */
  sent: number
  received: number
  /** One-way latency, send to receipt, nearest rank over every message of this sender. */
  latencyNs: { p50: number; p90: number; p99: number; max: number }
  /** This sender's own CPU over its sending, µs per message it sent. */
  cpuUsPerMsg: number
}

/**
 * Fan-in figures of one repetition, or of a case (each figure then the median over
 * repetitions of the repetition's own, sender by sender).
 */
export interface FanIn {
  senders: number
  /** Messages that arrived after one another sender had sent later (expected; within one sender it would fail the case). */
  reorderedBetweenSenders: number
  /** The receiver's CPU per message it received (user + system). */
  receiverCpuUsPerMsg: number
  perSender: FanInSender[]
  /**
   * Fairness, the spread between senders: the slowest sender's p50 over the fastest's
   * (1 = even), and the smallest share of the messages over the even share (1 = even).
   */
  fairness: { p50Ratio: number; minShareOfEven: number }
}

/**
 * One-way latency (the `oneway` pattern): `latencyNs` holds a-to-b latencies, each the
 * receiver's clock read on receipt less the sender's just before its send (both
 * CLOCK_MONOTONIC, one clock for every process and thread of a host); each message is
 * acknowledged before the next is sent, so no queue enters the figure.
 */
export interface OneWay {
  /** The same messages' round trips (send to the acknowledgement's receipt, checked), p50. */
  roundTripP50Ns: number
  /** One-way p50 over the round-trip p50 (0.5 when both ways cost the same). */
  p50OverRoundTrip: number
}

/** A load case whose sender achieved less than this share of the offered rate did not keep it (warned, and marked in the reports). */
export const RATE_KEPT = 0.98

/**
 * Latency at a fixed offered rate (the `load` pattern): side b sends message k at
 * t0 + k / rate, and `latencyNs` holds each message's receipt less its *scheduled* send
 * time, so a stall counts for every message it delays (coordinated omission corrected).
 * The case's `cpu`: `a` is the receiver, `b` the sender (whose pacing waits count).
 */
export interface Load {
  requested: OfferedRate
  offeredMsgsPerSec: number
  /** `percent` rates: the capacity they are shares of (the case's own, measured at full speed in this run). */
  capacityMsgsPerSec?: number
  /** Messages sent over the time from the first measured scheduled send to the return of the last send. */
  achievedMsgsPerSec: number
  /** achieved / offered: 1 while the channel keeps up. */
  achievedOverOffered: number
  /** Both sides' CPU (user + system) per message: what the rate costs, idle waits and spinning alike. */
  cpuUsPerMsg: number
}

/** One pair of a case run several at once. */
export interface PairFigures {
  pair: number
  cpuA?: number
  cpuB?: number
  latencyNs?: { p50: number; p99: number }
  throughput?: Throughput
}

/**
 * A case run as several pairs at once (`--pairs`): each pair its own objects and peers,
 * placed by the plan, all started at one instant. Per repetition, or (each figure the
 * median over repetitions) per case.
 */
export interface PairsRun {
  pairs: number
  /** How the pairs were placed: `spread` one CPU each side, `packed` both sides of a pair on one CPU, and the plan's words. */
  placement: string
  perPair: PairFigures[]
  /** Stream and load: every pair's messages over the common time; ping-pong and one-way: round trips per second, summed. */
  aggregate: Throughput
  /** Aggregate over (pairs × the one-pair case's figure in this run); absent without a one-pair case. */
  scalingEfficiency?: number
  /** The share of the longest measured phase that all pairs measured at once (1 = fully overlapped). */
  overlap: number
}

/** Side `a` initiates (times the ping-pong, sends the stream); side `b` echoes or receives. */
export interface Cost {
  a: SideCost
  b: SideCost
  /** Absent in results written before it existed (run@1). */
  total?: CpuTotal
}

/** Where the two sides ran. */
export interface AppliedPlacement {
  requested: PinRequest
  applied: Placement
  /** CPUs each side was allowed to run on after pinning (read back, not assumed). */
  cpusA: number[]
  cpusB: number[]
}

export type StoppedBy = 'samples' | 'duration' | 'max-messages'

/** The shortest measured phase a sample target may end: a few scheduler ticks, so a repetition still meets the host's periodic work. */
export const MIN_WINDOW_MS = 10

/** One repetition: a fresh pair of peers, a warm-up and a measured phase. */
export interface RepetitionResult {
  index: number
  /** Measured messages (round trips for ping-pong). */
  messages: number
  /**
   * Ping-pong: warm-up round trips before the measured ones, the fixed count and the
   * settling blocks that followed while the loop was still getting faster. Absent in
   * older results.
   */
  warmupMessages?: number
  /** Wall time of the measured phase. */
  elapsedNs: number
  /**
   * What ended the measured phase: `samples` (the run's `targetSamples`, after at least
   * MIN_WINDOW_MS), `duration`, or `max-messages`. Absent for fan-in and in older results.
   */
  stoppedBy?: StoppedBy
  /** Round trips per timed sample: always 1 (results before run@2 may hold batches). */
  batch: number
  /** Ping-pong: measured round trips over the measured time. */
  roundTripsPerSec?: number
  latencyNs?: LatencyNs
  /**
   * Ping-pong: every sample of the repetition, log-bucketed (core/histogram.ts: any
   * percentile within 2^-8 of the exact one; histograms merge). The raw samples: before
   * `--subtract-overhead`, whose amount the case records. Absent in older results.
   */
  histogram?: EncodedHistogram
  throughput?: Throughput
  cpu: Cost
  placement: AppliedPlacement
  /** Fan-in cases: the senders' figures. */
  fanIn?: FanIn
  oneWay?: OneWay
  load?: Load
  pairsRun?: PairsRun
  /** Side a's measured phase on the clock (CLOCK_MONOTONIC ns, start and end), where recorded: what shows whether several pairs measured at once. */
  phaseNs?: [number, number]
  /** The orchestrator's wall time of the whole repetition: start-up, warm-up, measuring, tear-down (ms). */
  wallMs?: number
  /**
   * Node repetitions: how long the case process and side b took to start (ms), each from
   * its spawn. `peerEarly`: side b was started with the case process, before the objects
   * existed, so that the two starts overlap; `peerWait` is then what the repetition
   * waited for it once the objects existed.
   */
  startupMs?: { caseProcess: number; peer: number; peerEarly?: boolean; peerWait?: number }
  /** Node repetitions: the largest resident set of the case's processes. Absent in older results. */
  peakRssKiB?: PeakRss
}

/**
 * The largest resident set so far (KiB, getrusage's maxrss). `caseProcess`: side a's
 * process, read once its loop is over (in a thread case it also holds side b). `peer`:
 * the largest of side b's own processes (the peer, or fan-in's senders), each read at
 * its end; absent when side b is a thread of the case process.
 */
export interface PeakRss {
  caseProcess: number
  peer?: number
}

export interface Spread {
  /** The per-repetition figure the spread is taken over (`latencyNs.p50` or `throughput.bytesPerSec`). */
  metric: 'latencyNs.p50' | 'throughput.bytesPerSec'
  min: number
  median: number
  max: number
  /** Coefficient of variation across repetitions, in percent. */
  cvPct: number
}

export interface CaseError extends ErrorFields {
  /** Which side failed: the initiating side, the peer, or the harness itself. */
  side?: Side
}

/** A case's figures from its repetitions (the same shape for the Node run and the C floor). */
export interface Figures {
  /**
   * Ping-pong: each repetition weighs the same. Percentiles, mean and sd are the median
   * over repetitions of each repetition's own; min and max the least and largest; n all samples.
   */
  latencyNs?: LatencyNs
  /** Ping-pong: the median over repetitions of round trips per second (measured, not 1e9 / mean). */
  roundTripsPerSec?: number
  /** Median over repetitions (stream). */
  throughput?: Throughput
  /** Median over repetitions, per side. */
  cpu?: Cost
  spread?: Spread
  /** How the samples were taken (e.g. "each sample one round trip"). */
  timing?: string
  /** Fan-in: the median over repetitions, sender by sender. */
  fanIn?: FanIn
  /** One-way: the median over repetitions. */
  oneWay?: OneWay
  /** Load: the median over repetitions. */
  load?: Load
  /** Several pairs: the median over repetitions, pair by pair. */
  pairsRun?: PairsRun
}

/** The C floor's figures for the same case, measured in the same run (see native-helpers/floor). */
export interface FloorResult extends Figures {
  state: CaseState
  reason?: string
  repetitions: RepetitionResult[]
  /** What the C side used (channel, io). */
  describe?: Record<string, string>
}

/** Node figure over C figure: p50 latency ratio (> 1 = Node slower); C throughput over Node throughput. */
export interface FloorRatio {
  p50?: number
  throughput?: number
}

interface CaseBase extends CaseSpec {
  repetitions: RepetitionResult[]
  /** What the mechanism really used: fd kinds seen in /proc, buffer sizes, wait primitive… */
  describe: Record<string, string>
  warnings: Warning[]
  startedAt?: string
  durationMs?: number
}

/**
 * `--target-rme`: the case's repetitions agreed before all of them were taken, so the
 * rest were not (the C floor's neither: it keeps as many as Node).
 */
export interface EarlyStop {
  /** Repetitions taken. */
  repetitions: number
  /** Repetitions asked for (`options.repetitions`). */
  of: number
  /** The largest relative margin of error of the case's figure (core/stats.ts rmePct) over Node's and the floor's repetitions, percent. */
  rmePct: number
  /** The target it was within (`options.targetRmePct`). */
  targetPct: number
}

export interface CompletedCase extends CaseBase, Figures {
  state: 'completed'
  /** Absent when every repetition asked for was taken (and in results written before early stops). */
  earlyStop?: EarlyStop
  floor?: FloorResult
  ratioToFloor?: FloorRatio
  /** With `--subtract-overhead`: the harness's own round trip (calibration) taken off every latency figure. */
  overheadSubtractedNs?: number
}

export interface SkippedCase extends CaseBase {
  state: 'skipped'
  /** Why the case cannot run here, and what to do about it. */
  reason: string
}

export interface ErroredCase extends CaseBase {
  state: 'errored'
  reason: string
  error: CaseError
}

export interface AbortedCase extends CaseBase {
  state: 'aborted'
  reason: string
}

/** One case of a run, by how it ended. */
export type CaseResult = CompletedCase | SkippedCase | ErroredCase | AbortedCase

export const isCompleted = (c: CaseResult): c is CompletedCase => c.state === 'completed'

/** A completed ping-pong case with its latency figures. */
export type LatencyCase = CompletedCase & { pattern: 'pingpong'; latencyNs: LatencyNs }
/** A completed stream case with its throughput figures. */
export type ThroughputCase = CompletedCase & { pattern: 'stream'; throughput: Throughput }

/** One pair (several pairs at once are `hasPairs`'s). */
export const isOnePair = (c: { pairs?: number }): boolean => (c.pairs ?? 1) === 1

/** The per-repetition figure a case can be judged by: a latency percentile, or throughput in bytes per second. */
export type CaseMetric = 'p50' | 'p99' | 'throughput'

/**
 * The figure a case is judged by unless asked otherwise (compare's `auto`, and the run's
 * early stop): ping-pong and one-way cases by their p50 latency, load cases by their p99
 * (the tail is what an offered rate is measured for), stream and fan-in cases by their
 * throughput, and several pairs at once by their aggregate throughput.
 */
export function autoMetric(c: Pick<CaseSpec, 'pattern' | 'pairs'>): CaseMetric {
  if (!isOnePair(c)) return 'throughput'
  return c.pattern === 'load' ? 'p99' : isLatencyPattern(c.pattern) ? 'p50' : 'throughput'
}

/**
 * One repetition's figure for `metric`, undefined when it is missing, not finite or not
 * positive (nothing to judge by); several pairs' throughput is their aggregate.
 */
export function repetitionFigure(r: RepetitionResult, metric: CaseMetric): number | undefined {
  const v = metric === 'throughput' ? (r.pairsRun?.aggregate.bytesPerSec ?? r.throughput?.bytesPerSec) : r.latencyNs?.[metric]
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined
}
const onePair = isOnePair
export const hasLatency = (c: CaseResult): c is LatencyCase =>
  c.state === 'completed' && c.pattern === 'pingpong' && c.latencyNs !== undefined && onePair(c)
export const hasThroughput = (c: CaseResult): c is ThroughputCase =>
  c.state === 'completed' && c.pattern === 'stream' && c.throughput !== undefined && onePair(c)
/** A completed fan-in case with its aggregate throughput and senders' figures. */
export type FanInCase = CompletedCase & { pattern: 'fanin'; senders: number; throughput: Throughput; fanIn: FanIn }
/** A completed one-way case: `latencyNs` is one-way latency. */
export type OneWayCase = CompletedCase & { pattern: 'oneway'; latencyNs: LatencyNs; oneWay: OneWay }
export const hasOneWay = (c: CaseResult): c is OneWayCase =>
  c.state === 'completed' && c.pattern === 'oneway' && c.latencyNs !== undefined && c.oneWay !== undefined && onePair(c)
/** A completed load case: `latencyNs` from each message's scheduled send time. */
export type LoadCase = CompletedCase & { pattern: 'load'; latencyNs: LatencyNs; load: Load; rate: OfferedRate }
export const hasLoad = (c: CaseResult): c is LoadCase =>
  c.state === 'completed' && c.pattern === 'load' && c.latencyNs !== undefined && c.load !== undefined && c.rate !== undefined && onePair(c)
/** A completed case of several pairs at once. */
export type PairsCase = CompletedCase & { pairs: number; pairsRun: PairsRun }
export const hasPairs = (c: CaseResult): c is PairsCase => c.state === 'completed' && (c.pairs ?? 1) > 1 && c.pairsRun !== undefined
export const hasFanIn = (c: CaseResult): c is FanInCase =>
  c.state === 'completed' && c.pattern === 'fanin' && c.throughput !== undefined && c.fanIn !== undefined && c.senders !== undefined

export interface HostLimits {
  pipeMaxSizeBytes?: number
  /** The tmpfs behind shm_open (a container's is 64 MiB unless --shm-size says otherwise). */
  devShm?: { sizeBytes: number; freeBytes: number }
  mqueue?: { msgMax?: number; msgsizeMax?: number; queuesMax?: number }
  sysv?: { msgmax?: number; msgmnb?: number; msgmni?: number; shmmax?: number }
  rlimitMsgqueueBytes?: number | 'unlimited'
  netCore?: { wmemMax?: number; rmemMax?: number }
}

/** Another ipcbench run that was measuring on the host when this one started (the host-wide run lock's holder). */
export interface ConcurrentRun {
  pid: number
  runId: string
  /** When it took the lock (ISO time). */
  since: string
}

/** What a container (or a cgroup) imposes on a run, read from /sys/fs/cgroup and /proc; fields absent where unreadable. */
export interface ContainerFacts {
  /**
   * The tightest CPU quota over this process's cgroup and its ancestors, in cgroup v2's
   * cpu.max form whichever version set it: "50000 100000" is half a CPU. Absent: none.
   */
  cpuMax?: string
  /** The same quota in CPUs (0.5 for "50000 100000"). */
  cpuQuotaCpus?: number
  /** The cgroup that sets it. */
  cpuQuotaCgroup?: string
  /** cgroup v2 cpuset.cpus.effective: the CPUs the cgroup may use. */
  cpusetEffective?: string
  /** Whether /proc/sys can be written (read-only in most containers: sysctl advice then cannot be followed). */
  procSysWritable: boolean
}

export interface Environment {
  container?: ContainerFacts
  /** Set when another run was measuring at this one's start: the two disturbed each other. */
  concurrentRun?: ConcurrentRun
  host: {
    hostname: string
    platform: string
    arch: string
    kernel: string
    cpuModel: string
    cpuCount: number
    /** CPUs this process may run on (sched_getaffinity / os.availableParallelism). */
    cpusAllowed: number[]
    memTotalBytes: number
    loadAvg: [number, number, number]
    governor?: string
    /**
     * The allowed CPUs' NUMA node, physical core (`core` is numbered within its package) and
     * SMT siblings (the core's other hardware threads), from sysfs (`harness/host/topology.ts`):
     * what placing several pairs depends on. `source` says what sysfs did not and was assumed
     * instead. Absent in older results.
     */
    topology?: {
      cpus: Array<{ cpu: number; node: number; core: number; package: number; siblings: number[] }>
      nodes: number[]
      source: 'sysfs' | `partial: ${string}`
    }
  }
  node: {
    version: string
    v8: string
    libuv: string
    execPath: string
    /**
     * Variables of this environment that built-in mechanisms' case processes started
     * without (harness/host/env.ts CASE_ENV_UNSET): Node 20 pays for them at every start
     * and no built-in mechanism uses them. Absent when none was set, and in older results.
     */
    caseEnvUnset?: string[]
  }
  ipcbench: { version: string; commit?: string; dirty?: boolean }
  limits: HostLimits
  native: {
    /** `file`: the addon binary loaded; `prebuilt`: shipped in the package rather than built from source here. */
    addon: { loaded: boolean; reason?: string; file?: string; prebuilt?: boolean }
    floor: { available: boolean; reason?: string; path?: string; prebuilt?: boolean }
  }
}

/** Options after defaults and validation; echoed into the result file. */
export interface ResolvedOptions {
  mechanisms: string[]
  modes: Mode[]
  endpoints: Endpoints[]
  /**
   * `one`: a mechanism that offers both runs only its process cases (`--quick`
   * without `--endpoints`, to keep the run short); `all`: every kind it offers.
   */
  endpointsPerMechanism: 'all' | 'one'
  patterns: Pattern[]
  /** Ping-pong sizes and stream sizes may differ (e.g. `--quick`). */
  sizesBytes: { pingpong: number[]; stream: number[]; fanin?: number[] }
  /** Fan-in: the sender counts, one case each (absent in results written before fan-in). */
  senders?: number[]
  /** Load: the offered rates, one case each (absent before run@3). */
  rates?: OfferedRate[]
  /** Pair counts, one case each (absent before run@3: one pair). */
  pairs?: number[]
  /** Where several pairs' sides go (`--pair-placement`; harness/plan/pairs.ts). */
  pairPlacement?: 'auto' | 'within-node' | 'across-nodes' | 'same-cpu'
  repetitions: number
  /** Upper bound of one repetition's measured phase. */
  durationMs: number
  /** Warm-up messages (round trips) before measuring. */
  warmup: number
  /** Upper bound on measured messages per repetition (keeps sample arrays bounded). */
  maxMessages: number
  /**
   * A repetition's measured phase ends once it has this many samples (round trips, or
   * messages of a stream) and has lasted MIN_WINDOW_MS, unless `durationMs` ends it
   * first; 0: always the whole duration. Absent in results written before it (whole
   * duration).
   */
  targetSamples?: number
  /**
   * A case stops before `repetitions` once its figure's relative margin of error is at
   * most this many percent, for Node and the floor alike, after at least the repetitions
   * `compare` needs for one case (harness/run/case-runner.ts); 0: every repetition.
   * Absent in results written before it (every repetition).
   */
  targetRmePct?: number
  /** Per-case time-out: a case still running after this is killed and marked errored. */
  timeoutMs: number
  pin: PinRequest
  /** Run the C floor beside the Node cases. */
  floor: boolean
  /** Take the calibrated harness cost off latency figures (recorded per case). */
  subtractOverhead: boolean
  quick: boolean
  out: string
  /** `--samples <dir>`: where every ping-pong repetition's raw samples were also written (absent when not asked). */
  samplesDir?: string
  /** `--mechanism <module>`: each custom mechanism this run measured, as loaded (absent when none). */
  mechanismModules?: MechanismModule[]
  /** `--node-args`: the flags every Node process of a case ran with (absent when none were given). */
  nodeArgs?: string[]
}

/**
 * A custom mechanism's module as the run loaded it, so a figure can be traced to the
 * code that made it: its absolute path, the sha256 of the module file's bytes (the
 * files it imports are not hashed: its package version stands for them), and the
 * package the file belongs to (the nearest package.json above it), when it has one.
 */
export interface MechanismModule {
  id: string
  path: string
  sha256: string
  packageName?: string
  packageVersion?: string
}

/** The harness's own cost, measured at the start of every run (harness/run/overhead.ts). */
export interface HarnessCalibration {
  /** Cost of one timed empty section (two clock reads), ns. */
  emptySampleNs: number
  /** Cost of one clock read, ns: what each ping-pong sample carries besides the round trip. */
  clockReadNs?: number
  /** The blocking and busy-poll loop against a same-thread echo through a function call, ns per round trip. */
  sameThreadEchoNs: number
  /**
   * The event-loop ping-pong loop against a same-thread echo that answers from a
   * resolved-promise callback (a microtask), ns per round trip: the loop's own work
   * (callback, check, stamp, send call, clock read) without a channel or a wait.
   * Absent in runs before it was measured.
   */
  sameThreadAsyncEchoNs?: number
}

/**
 * `ipcbench ab`: which configuration of an A/B session a run measured. Both runs of a
 * session (and of its confirmation round) share `session`; their repetitions were
 * interleaved, so a difference of Node version between them is the point, not a
 * reason to refuse the comparison.
 */
export interface RunConfiguration {
  /** The ab session's run id, the same in the base and the current run. */
  session: string
  label: 'base' | 'current'
  /** 1: the whole matrix; 2: the confirmation of the cases round 1 flagged. */
  round: 1 | 2
  /** The Node binary of the case processes (and their peers). */
  node: { execPath: string; version: string }
  /** Variables added to the case processes' environment. */
  env: Record<string, string>
  /** Another ipcbench checkout whose case entry ran the peers (`--base-root`, `--current-root`). */
  root?: { path: string; version: string; commit?: string }
}

export interface RunContext {
  runId: string
  startedAt: string
  finishedAt?: string
  /** `running` while the run is in progress; `interrupted` when SIGINT/SIGTERM ended it. */
  status: 'running' | 'finished' | 'interrupted' | 'failed'
  env: Environment
  options: ResolvedOptions
  calibration?: HarnessCalibration
  /** Only in the runs `ipcbench ab` writes. */
  configuration?: RunConfiguration
  warnings: Warning[]
  /** The orchestrator's largest resident set (KiB, getrusage's maxrss) at the file's last write: after the HTML report, when the run wrote one. */
  peakRssKiB?: number
}

export interface RunResult {
  schema: typeof RUN_SCHEMA
  context: RunContext
  cases: CaseResult[]
}

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { reasonOf, UsageError } from '../../core/errors.js'
import type { Mechanism } from '../../mechanisms/types.js'
import {
  ENDPOINTS,
  MODES,
  PATTERNS,
  type Endpoints,
  type Mode,
  type OfferedRate,
  type Pattern,
  type PinRequest,
  type ResolvedOptions,
} from '../../core/result.js'
import { parseDurationMs, parseSizeBytes } from '../../core/units.js'
import { MIN_MESSAGE_BYTES } from '../../core/wire.js'
import { RESULTS_DIR } from '../../core/paths.js'
import { warning, type Warning } from '../../core/warnings.js'
import type { PairRequest } from './pairs.js'

/** What the command line hands over: strings as typed, undefined when absent. */
export interface RawRunOptions {
  mechanisms?: string[]
  modes?: string
  endpoints?: string
  patterns?: string
  sizes?: string
  repetitions?: string
  duration?: string
  warmup?: string
  maxMessages?: string
  targetSamples?: string
  /** `--target-rme <percent>`: stop a case once its repetitions agree within this; 0: never early. */
  targetRme?: string
  timeout?: string
  pin?: string
  quick?: boolean
  /** `--no-floor` */
  floor?: boolean
  /** `--no-baseline`, the old name of `--no-floor` (deprecated). */
  baseline?: boolean
  subtractOverhead?: boolean
  out?: string
  cases?: string
  /** `--senders 1,2,4`: fan-in sender counts. */
  senders?: string
  /** `--samples <dir>`: also write every ping-pong repetition's raw samples there. */
  samples?: string
  /** `--rates 10%,50%,20000`: the load pattern's offered rates. */
  rates?: string
  /** `--pairs 1,2,4`: how many pairs of each case run at once. */
  pairs?: string
  /** `--pair-placement auto|within-node|across-nodes|same-cpu`. */
  pairPlacement?: string
  /** `--node-args "--max-opt=1 …"`: flags for every Node process of a case. */
  nodeArgs?: string
}

/** Every default in one place. `--quick` trades sizes, repetitions and time for a run of about a minute. */
export const DEFAULTS = {
  full: {
    sizesBytes: { pingpong: [64, 1024, 65536, 1048576], stream: [1024, 65536, 1048576], fanin: [64, 4096] },
    // Fan-in: one sender (the baseline), two, four; 4096 bytes is PIPE_BUF, the largest a FIFO carries whole from several writers.
    senders: [1, 2, 4],
    repetitions: 5,
    durationMs: 150,
    // Enough samples for a p99.9 of five tail samples; a fast case stops long before its duration.
    targetSamples: 5000,
    warmup: 500,
  },
  quick: {
    sizesBytes: { pingpong: [64], stream: [65536], fanin: [64] },
    // The textbook question alone: four senders into one channel.
    senders: [4],
    repetitions: 3,
    durationMs: 80,
    targetSamples: 2000,
    warmup: 100,
  },
  maxMessages: 1_000_000,
  /**
   * A case stops early once the 95% interval of its figure's mean is within ±5%: half
   * compare's noise threshold (10%), well inside what compare calls noise.
   */
  targetRmePct: 5,
  timeoutMs: 30_000,
  /**
   * The patterns a run measures unless `--patterns` says: one-way and load add a case
   * per rate and size to every mechanism, so they are asked for by name.
   */
  patterns: ['pingpong', 'stream', 'fanin'] as readonly Pattern[],
  /** The load pattern's rates: shares of each case's own capacity, measured in the run. */
  rates: [{ percent: 10 }, { percent: 50 }, { percent: 90 }] as readonly OfferedRate[],
  pairs: [1] as readonly number[],
  pin: 'auto' as PinRequest,
  resultsDir: RESULTS_DIR,
} as const

const PAIR_REQUESTS: readonly PairRequest[] = ['auto', 'within-node', 'across-nodes', 'same-cpu']
const MAX_SIZE_BYTES = 64 * 1024 * 1024
const PINS: readonly PinRequest[] = ['auto', 'none', 'same', 'split']

export function resolveRunOptions(raw: RawRunOptions, mechanisms: readonly Mechanism[], runId: string): ResolvedOptions {
  const quick = raw.quick === true
  const base = quick ? DEFAULTS.quick : DEFAULTS.full
  const ids = mechanisms.map((m) => m.id)
  const selected = (raw.mechanisms ?? []).map((name) => checkMechanism(name, ids))
  const sizes = raw.sizes === undefined ? undefined : parseSizes(raw.sizes)
  return {
    mechanisms: selected.length > 0 ? [...new Set(selected)] : ids,
    modes: parseList<Mode>('--modes', raw.modes, MODES),
    endpoints: parseList<Endpoints>('--endpoints', raw.endpoints, ENDPOINTS),
    endpointsPerMechanism: quick && raw.endpoints === undefined ? 'one' : 'all',
    patterns: raw.patterns === undefined ? [...DEFAULTS.patterns] : parseList<Pattern>('--patterns', raw.patterns, PATTERNS),
    sizesBytes: sizes
      ? { pingpong: sizes, stream: sizes, fanin: sizes }
      : { pingpong: [...base.sizesBytes.pingpong], stream: [...base.sizesBytes.stream], fanin: [...base.sizesBytes.fanin] },
    senders: raw.senders === undefined ? [...base.senders] : parseSenders(raw.senders),
    rates: raw.rates === undefined ? [...DEFAULTS.rates] : parseRates(raw.rates),
    pairs: raw.pairs === undefined ? [...DEFAULTS.pairs] : parsePairs(raw.pairs),
    pairPlacement: parseOne<PairRequest>('--pair-placement', raw.pairPlacement, PAIR_REQUESTS, 'auto'),
    repetitions: parseInteger('--repetitions', raw.repetitions, base.repetitions, 1, 1000),
    durationMs: parseDuration('--duration', raw.duration, base.durationMs, 10, 600_000),
    warmup: parseInteger('--warmup', raw.warmup, base.warmup, 0, 10_000_000),
    maxMessages: parseInteger('--max-messages', raw.maxMessages, DEFAULTS.maxMessages, 1, 100_000_000),
    // A --duration asked for is measured whole, unless a target is asked for too.
    targetSamples: parseInteger('--target-samples', raw.targetSamples, raw.duration === undefined ? base.targetSamples : 0, 0, 100_000_000),
    targetRmePct: parseTargetRme(raw.targetRme),
    timeoutMs: parseDuration('--timeout', raw.timeout, DEFAULTS.timeoutMs, 1000, 3_600_000),
    pin: parseOne<PinRequest>('--pin', raw.pin, PINS, DEFAULTS.pin),
    floor: raw.floor !== false && raw.baseline !== false,
    subtractOverhead: raw.subtractOverhead === true,
    quick,
    out: resolveOut(raw.out, runId),
    ...(raw.samples === undefined ? {} : { samplesDir: startSamples(raw.samples) }),
    ...(raw.nodeArgs === undefined ? {} : { nodeArgs: parseNodeArgs(raw.nodeArgs) }),
  }
}

/**
 * `--node-args`: Node and V8 flags, split at spaces, each starting with `-` (a script or
 * a value of its own would be taken for the case's entry). They are given to every case
 * process, which passes its own to its child peers; thread peers share their process's.
 */
export function parseNodeArgs(raw: string): string[] {
  const args = raw.split(/\s+/).filter((a) => a !== '')
  if (args.length === 0) throw new UsageError('--node-args: no flag given (e.g. --node-args "--max-opt=1")')
  const bad = args.find((a) => !a.startsWith('-'))
  if (bad !== undefined) throw new UsageError(`--node-args: "${bad}" is not a flag; give flags joined to their values, e.g. --max-old-space-size=512`)
  // Node refuses a flag it does not know at start: ask it once here, not in every repetition.
  const probe = spawnSync(process.execPath, [...args, '-e', '0'], { encoding: 'utf8', timeout: 20_000 })
  if (probe.status !== 0) {
    const why = (probe.stderr ?? '').trim().split('\n')[0] || probe.error?.message || `exit ${probe.status}`
    throw new UsageError(`--node-args: Node does not start with ${args.join(' ')}: ${why}`)
  }
  return args
}

/** Options that still work under an old name; each gets a warning in the result and on stderr. */
export function deprecations(raw: RawRunOptions): Warning[] {
  return raw.baseline === false
    ? [warning('deprecated-option', '--no-baseline is now --no-floor (the C floor); the old name will go in a later version')]
    : []
}

function checkMechanism(name: string, ids: readonly string[]): string {
  const [id] = name.split(':')
  if (ids.includes(id)) return id
  const guess = closest(id, ids)
  throw new UsageError(`unknown mechanism "${name}"${guess ? ` (did you mean "${guess}"?)` : ''}; "ipcbench list" shows them all`)
}

/** The most senders a fan-in case starts (each is a process or a thread; the wire keeps 8 bits for the sender). */
export const MAX_SENDERS = 64

export function parseSenders(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim())
  const counts = parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--senders: "${p}" is not a whole number (use e.g. 1,2,4)`)
    const n = Number(p)
    if (n < 1 || n > MAX_SENDERS) throw new UsageError(`--senders: ${n} is outside 1..${MAX_SENDERS}`)
    return n
  })
  return [...new Set(counts)].sort((a, b) => a - b)
}

/** The most pairs of one case run at once: each pair is two processes or threads. */
export const MAX_PAIRS = 256

/** `--pairs 1,2,4`: whole numbers 1..MAX_PAIRS, sorted, each once. */
export function parsePairs(text: string): number[] {
  const counts = text.split(',').map((raw) => {
    const p = raw.trim()
    if (!/^\d+$/.test(p)) throw new UsageError(`--pairs: "${p}" is not a whole number (use e.g. 1,2,4)`)
    const n = Number(p)
    if (n < 1 || n > MAX_PAIRS) throw new UsageError(`--pairs: ${n} is outside 1..${MAX_PAIRS}`)
    return n
  })
  return [...new Set(counts)].sort((a, b) => a - b)
}

/**
 * `--rates 10%,50%,90%,20000`: shares of each case's own capacity (a number and %, above
 * 0 and at most 100) or messages per second (a whole number, `k` and `m` allowed).
 */
export function parseRates(text: string): OfferedRate[] {
  const rates = text.split(',').map((raw): OfferedRate => {
    const p = raw.trim().toLowerCase()
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(p)
    if (pct) {
      const percent = Number(pct[1])
      if (!(percent > 0 && percent <= 100)) throw new UsageError(`--rates: "${raw.trim()}" is not a share of the capacity in (0%, 100%]`)
      return { percent }
    }
    const abs = /^(\d+(?:\.\d+)?)([km]?)$/.exec(p)
    const msgsPerSec = abs ? Number(abs[1]) * (abs[2] === 'k' ? 1e3 : abs[2] === 'm' ? 1e6 : 1) : NaN
    if (!Number.isInteger(msgsPerSec) || msgsPerSec < 1 || msgsPerSec > 1e9)
      throw new UsageError(`--rates: "${raw.trim()}" is neither a share like 50% nor messages per second like 20000 or 20k (1 to 1e9)`)
    return { msgsPerSec }
  })
  const seen = new Set<string>()
  return rates.filter((r) => {
    const key = JSON.stringify(r)
    return seen.has(key) ? false : (seen.add(key), true)
  })
}

/** `--target-rme <percent>`: a number of percent in 0..100 (0 turns the early stop off). */
export function parseTargetRme(text: string | undefined): number {
  if (text === undefined) return DEFAULTS.targetRmePct
  const trimmed = text.trim().replace(/%$/, '')
  const pct = Number(trimmed)
  if (trimmed === '' || !Number.isFinite(pct))
    throw new UsageError(`--target-rme: "${text}" is not a percentage (use e.g. 5, or 0 for every repetition)`)
  if (pct < 0 || pct > 100) throw new UsageError(`--target-rme: ${pct} is outside 0..100 (use e.g. 5, or 0 for every repetition)`)
  return pct
}

export function parseSizes(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim())
  if (parts.length === 0 || parts.some((p) => p === '')) throw new UsageError(`--sizes: "${text}" has an empty entry (use e.g. 64,1k,64k,1m)`)
  const sizes = parts.map((p) => {
    const bytes = parseSizeBytes(p)
    if (bytes === undefined || !Number.isInteger(bytes)) throw new UsageError(`--sizes: "${p}" is not a size (use e.g. 64,1k,64k,1m)`)
    if (bytes <= 0) throw new UsageError(`--sizes: "${p}" is not a positive size (use e.g. 64,1k,64k,1m)`)
    if (bytes < MIN_MESSAGE_BYTES)
      throw new UsageError(`--sizes: "${p}" is below the ${MIN_MESSAGE_BYTES}-byte minimum (every message carries a 32-bit sequence number)`)
    if (bytes > MAX_SIZE_BYTES) throw new UsageError(`--sizes: "${p}" is above the 64m maximum`)
    return bytes
  })
  return [...new Set(sizes)].sort((a, b) => a - b)
}

function parseList<T extends string>(option: string, text: string | undefined, allowed: readonly T[]): T[] {
  if (text === undefined) return [...allowed]
  const parts = text.split(',').map((s) => s.trim())
  for (const p of parts) {
    if (!allowed.includes(p as T)) {
      const guess = closest(p, allowed)
      throw new UsageError(`${option}: "${p}" is not one of ${allowed.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`)
    }
  }
  return allowed.filter((a) => parts.includes(a))
}

function parseOne<T extends string>(option: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback
  if (!allowed.includes(text as T)) throw new UsageError(`${option}: "${text}" is not one of ${allowed.join(', ')}`)
  return text as T
}

export function parseInteger(option: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback
  if (!/^\s*-?\d+\s*$/.test(text)) throw new UsageError(`${option}: "${text}" is not a whole number`)
  const n = Number(text)
  if (n < min || n > max) throw new UsageError(`${option}: ${n} is outside ${min}..${max}`)
  return n
}

export function parseDuration(option: string, text: string | undefined, fallback: number, minMs: number, maxMs: number): number {
  if (text === undefined) return fallback
  const ms = parseDurationMs(text)
  if (ms === undefined) throw new UsageError(`${option}: "${text}" is not a duration (use e.g. 500ms, 2s, 1m)`)
  if (ms < minMs || ms > maxMs) throw new UsageError(`${option}: ${text} is outside ${minMs} ms..${maxMs / 1000} s`)
  return ms
}

function resolveOut(out: string | undefined, runId: string): string {
  return resolve(out ?? join(DEFAULTS.resultsDir, `${runId}.json`))
}

/**
 * Fails before the run when the result file could not be written afterwards: a
 * missing directory is created, then a probe file is written and removed, which also
 * catches read-only and full filesystems (permission bits do not stop root).
 */
export function checkWritable(path: string): void {
  const dir = dirname(path)
  const fail = (err: unknown): never => {
    throw new UsageError(
      `--out: cannot write results to ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose another place with --out FILE`,
    )
  }
  makeDirectory(dir, fail)
  if (!statSync(dir).isDirectory()) throw new UsageError(`--out: ${dir} is not a directory`)
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--out: ${path} is a directory; give a file name`)
  const probe = join(dir, `.ipcbench-probe-${process.pid}`)
  try {
    writeFileSync(probe, 'x'.repeat(4096))
    unlinkSync(probe)
  } catch (err) {
    fail(err)
  }
}

/** A missing directory and its missing parents, level by level: recursive mkdir spins forever on some pseudo-filesystems. */
function makeDirectory(dir: string, fail: (err: unknown) => never): void {
  const missing: string[] = []
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d)
    if (dirname(d) === d) break
  }
  for (const d of missing) {
    try {
      mkdirSync(d)
    } catch (err) {
      fail(err)
    }
  }
}

/** The header of `--samples`' index.csv: one row per samples file (harness/run/repetition.ts keepSamples). */
export const SAMPLES_INDEX_HEADER = 'case,executor,repetition,samples,file\n'

/**
 * `--samples <dir>`, before the run: the directory made (with its parents) and its
 * index.csv started afresh, so the index lists this run's files alone. Returns the
 * absolute path.
 */
export function startSamples(path: string): string {
  if (path.trim() === '') throw new UsageError('--samples: give a directory')
  const dir = resolve(path)
  const fail = (err: unknown): never => {
    throw new UsageError(`--samples: cannot write samples to ${dir} (${reasonOf(err)})`)
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--samples: ${dir} exists and is not a directory`)
  makeDirectory(dir, fail)
  try {
    writeFileSync(join(dir, 'index.csv'), SAMPLES_INDEX_HEADER)
  } catch (err) {
    fail(err)
  }
  return dir
}

/** The nearest name by edit distance, when it is near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestD) {
      bestD = d
      best = c
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]
}

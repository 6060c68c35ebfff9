import { ipcError } from './errors.js'

/**
 * A repetition's latency distribution, kept whole in little space, in the manner of
 * HdrHistogram: any percentile can be read again later and histograms merged.
 *
 * Values are whole nanoseconds (what the clocks give; a fraction is dropped). Below
 * 256 ns each nanosecond has its own bucket. From there up, each power of two is split
 * into 2^SUB_BUCKET_BITS = 128 equal buckets, so a bucket is at most 1/128 of its lower
 * edge wide. A bucket stands for the middle of the whole nanoseconds it holds, which is
 * within 2^-8 (0.39%) of every value in it, relative, and exact below 256 ns. A
 * percentile is that of stats.ts's `percentileSorted` (nearest rank), read as its
 * bucket's middle, so it is within the same 2^-8 of the exact one; min and max are
 * kept exactly, and the top and bottom ranks are them.
 */
export const SUB_BUCKET_BITS = 7
/** The relative error bound of every percentile against the exact one over the same samples. */
export const HISTOGRAM_RELATIVE_ERROR = 2 ** -(SUB_BUCKET_BITS + 1)

const SUB = 2 ** SUB_BUCKET_BITS
/** Values at or above 2^53 ns (104 days) are no latency, and would no longer be whole in a double. */
const LIMIT = 2 ** 53

export interface Histogram {
  /** Samples per bucket, by bucket index; the last is maxNs's bucket, never empty. */
  readonly counts: readonly number[]
  readonly minNs: number
  readonly maxNs: number
}

/**
 * The JSON form, as a result file holds it. `counts` is base64 of zigzag LEB128
 * varints, from bucket 0: a positive n is the next bucket's count, a negative -k skips
 * k empty buckets (HdrHistogram's V2 encoding of its counts).
 */
export interface EncodedHistogram {
  version: 1
  subBucketBits: number
  minNs: number
  maxNs: number
  count: number
  counts: string
}

/** The histogram of the first `n` samples (nanoseconds, each in 0..2^53). */
export function buildHistogram(samples: Float64Array, n = samples.length): Histogram {
  if (!(n >= 1 && n <= samples.length)) throw new RangeError(`buildHistogram: ${n} samples of ${samples.length}`)
  let minNs = Infinity
  let maxNs = -Infinity
  for (let i = 0; i < n; i++) {
    const v = samples[i]
    if (!(v >= 0 && v < LIMIT)) throw new RangeError(`buildHistogram: sample ${i} is ${v} ns, outside 0..2^53`)
    if (v < minNs) minNs = v
    if (v > maxNs) maxNs = v
  }
  const counts = new Array<number>(bucketIndex(maxNs) + 1).fill(0)
  for (let i = 0; i < n; i++) counts[bucketIndex(samples[i])]++
  return { counts, minNs, maxNs }
}

export function totalCount(h: Histogram): number {
  let n = 0
  for (const c of h.counts) n += c
  return n
}

/** Nearest-rank percentile, p in (0, 100], with the rank rule of stats.ts's `percentileSorted`. */
export function percentile(h: Histogram, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile: p=${p} outside (0, 100]`)
  const n = totalCount(h)
  const rank = Math.min(n, Math.max(1, Math.ceil((p * n) / 100 - 1e-9)))
  if (rank === n) return h.maxNs
  if (rank === 1) return h.minNs
  let seen = 0
  for (let i = 0; ; i++) {
    seen += h.counts[i]
    // The middle of a bucket can lie past the exact min or max; they are nearer.
    if (seen >= rank) return Math.min(h.maxNs, Math.max(h.minNs, middle(i)))
  }
}

/** The histogram of both histograms' samples together. */
export function merge(a: Histogram, b: Histogram): Histogram {
  const [long, short] = a.counts.length >= b.counts.length ? [a, b] : [b, a]
  const counts = long.counts.map((c, i) => c + (short.counts[i] ?? 0))
  return { counts, minNs: Math.min(a.minNs, b.minNs), maxNs: Math.max(a.maxNs, b.maxNs) }
}

export function encodeHistogram(h: Histogram): EncodedHistogram {
  const bytes: number[] = []
  let empty = 0
  for (const c of h.counts) {
    if (c === 0) {
      empty++
      continue
    }
    if (empty > 0) writeVarint(bytes, 2 * empty - 1)
    empty = 0
    writeVarint(bytes, 2 * c)
  }
  return {
    version: 1,
    subBucketBits: SUB_BUCKET_BITS,
    minNs: h.minNs,
    maxNs: h.maxNs,
    count: totalCount(h),
    counts: Buffer.from(bytes).toString('base64'),
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** The histogram an encoding holds, checked whole: anything inconsistent is an EHISTOGRAM error saying what. */
export function decodeHistogram(e: unknown): Histogram {
  function fail(what: string): never {
    throw ipcError('EHISTOGRAM', `histogram: ${what}`)
  }
  if (typeof e !== 'object' || e === null) fail('not an object')
  const { version, subBucketBits, minNs, maxNs, count, counts } = e as Record<string, unknown>
  if (version !== 1) fail(`unknown version ${JSON.stringify(version)} (this ipcbench reads version 1)`)
  if (subBucketBits !== SUB_BUCKET_BITS) fail(`subBucketBits ${JSON.stringify(subBucketBits)} is not ${SUB_BUCKET_BITS}, version 1's`)
  if (typeof minNs !== 'number' || typeof maxNs !== 'number' || !(minNs >= 0 && minNs <= maxNs && maxNs < LIMIT))
    fail(`minNs ${JSON.stringify(minNs)} and maxNs ${JSON.stringify(maxNs)} are not 0 <= minNs <= maxNs < 2^53`)
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) fail(`count ${JSON.stringify(count)} is not a positive whole number`)
  if (typeof counts !== 'string' || !BASE64.test(counts)) fail('counts is not base64')
  const bytes = Buffer.from(counts, 'base64')
  const last = bucketIndex(maxNs)
  const out = new Array<number>(last + 1).fill(0)
  let bucket = 0
  let sum = 0
  for (let at = 0; at < bytes.length;) {
    const start = at
    let z = 0
    for (let scale = 1; ; scale *= 128) {
      if (at >= bytes.length) fail(`counts: the varint at byte ${start} is cut short`)
      if (scale > 128 ** 7) fail(`counts: the varint at byte ${start} is too long`)
      const b = bytes[at++]
      z += (b & 127) * scale
      if (b < 128) break
    }
    if (z === 0 || !Number.isSafeInteger(z)) fail(`counts: the entry at byte ${start} is ${z}, neither a count nor a skip`)
    const skip = z % 2 === 1
    if (skip) bucket += (z + 1) / 2
    // A skip is always followed by a count: neither may pass maxNs's bucket.
    if (bucket > last) fail(`counts: the entry at byte ${start} reaches past maxNs's bucket (${last})`)
    if (!skip) {
      out[bucket++] = z / 2
      sum += z / 2
    }
  }
  if (sum !== count) fail(`counts add up to ${sum}, not count ${count}`)
  if (out.findIndex((c) => c > 0) !== bucketIndex(minNs)) fail(`the first counted bucket is not minNs's`)
  if (out[last] === 0) fail(`maxNs's bucket is empty`)
  return { counts: out, minNs, maxNs }
}

/** The bucket of a value: its own below 2·SUB ns, else its power of two's shift and its top SUB_BUCKET_BITS + 1 bits. */
function bucketIndex(ns: number): number {
  const x = Math.floor(ns)
  if (x < 2 * SUB) return x
  let e = Math.floor(Math.log2(x))
  // log2 may round across a power of two.
  if (2 ** e > x) e--
  else if (2 ** (e + 1) <= x) e++
  const shift = e - SUB_BUCKET_BITS
  return shift * SUB + Math.floor(x / 2 ** shift)
}

/** The middle of the whole nanoseconds bucket `i` holds. */
function middle(i: number): number {
  if (i < 2 * SUB) return i
  const shift = Math.floor(i / SUB) - 1
  const width = 2 ** shift
  return (i - shift * SUB) * width + (width - 1) / 2
}

function writeVarint(out: number[], z: number): void {
  for (; z >= 128; z = Math.floor(z / 128)) out.push((z % 128) + 128)
  out.push(z)
}

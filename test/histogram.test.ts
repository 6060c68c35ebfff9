import { describe, expect, it } from 'vitest'
import {
  buildHistogram,
  decodeHistogram,
  encodeHistogram,
  HISTOGRAM_RELATIVE_ERROR,
  merge,
  percentile,
  totalCount,
  type EncodedHistogram,
} from '../src/core/histogram.js'
import { percentileSorted } from '../src/core/stats.js'

/** A seeded generator (mulberry32), so every run checks the same samples. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** Whole nanoseconds, as the clocks give them. */
function samples(n: number, draw: (r: () => number) => number, seed = 1): Float64Array {
  const r = random(seed)
  return Float64Array.from({ length: n }, () => Math.max(0, Math.round(draw(r))))
}

const gauss = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
const logNormal = (medianNs: number, sigma: number) => (r: () => number) => medianNs * Math.exp(sigma * gauss(r))

const N = 100_000
const DATA: Record<string, Float64Array> = {
  'uniform, 1 to 50 µs': samples(N, (r) => 1000 + 49_000 * r()),
  'log-normal, median 5 µs': samples(N, logNormal(5000, 0.3)),
  // A fast path and a slow one (a wake-up that missed the CPU), with a heavy tail on each.
  'bimodal, 2 µs and 40 µs': samples(N, (r) => (r() < 0.7 ? logNormal(2000, 0.1)(r) : logNormal(40_000, 0.2)(r))),
  'log-normal, median 3 µs, one 5 s outlier': (() => {
    const s = samples(N, logNormal(3000, 0.2))
    s[N / 2] = 5e9
    return s
  })(),
  'below 256 ns (every nanosecond its own bucket)': samples(N, (r) => 256 * r()),
}

const QS = [50, 90, 99, 99.9, 100]

describe('the histogram: every percentile within the stated error of the exact one', () => {
  it('states 2^-8 (0.39%)', () => expect(HISTOGRAM_RELATIVE_ERROR).toBe(2 ** -8))

  it.each(Object.entries(DATA))('%s: p50, p90, p99, p99.9, max and every 0.1% between', (_what, s) => {
    const h = buildHistogram(s)
    const sorted = Float64Array.from(s).sort()
    expect(totalCount(h)).toBe(N)
    expect(h.minNs).toBe(sorted[0])
    expect(h.maxNs).toBe(sorted[N - 1])
    expect(percentile(h, 100)).toBe(sorted[N - 1])
    const qs = [...QS, ...Array.from({ length: 1000 }, (_, i) => (i + 1) / 10)]
    for (const q of qs) {
      const exact = percentileSorted(sorted, q)
      const got = percentile(h, q)
      expect(Math.abs(got - exact), `p${q}: ${got} against ${exact}`).toBeLessThanOrEqual(exact * HISTOGRAM_RELATIVE_ERROR)
    }
  })

  it('is exact below 256 ns', () => {
    const s = DATA['below 256 ns (every nanosecond its own bucket)']
    const h = buildHistogram(s)
    const sorted = Float64Array.from(s).sort()
    for (const q of QS) expect(percentile(h, q)).toBe(percentileSorted(sorted, q))
  })

  it('counts only the first n samples, and refuses what is no latency', () => {
    const h = buildHistogram(Float64Array.from([300, 100, 200, 1e9]), 3)
    expect(totalCount(h)).toBe(3)
    expect(h.maxNs).toBe(300)
    expect(percentile(h, 50)).toBe(200)
    expect(() => buildHistogram(new Float64Array(0))).toThrow(/0 samples/)
    expect(() => buildHistogram(Float64Array.from([5, -1]))).toThrow(/sample 1 is -1 ns/)
    expect(() => buildHistogram(Float64Array.from([NaN]))).toThrow(/sample 0 is NaN/)
    expect(() => percentile(h, 0)).toThrow(RangeError)
  })
})

describe('merge', () => {
  it.each(Object.entries(DATA))('%s: the merge of two halves is the histogram of all the samples', (_what, s) => {
    const [a, b] = [s.subarray(0, 30_000), s.subarray(30_000)]
    expect(merge(buildHistogram(a), buildHistogram(b))).toEqual(buildHistogram(s))
    expect(merge(buildHistogram(b), buildHistogram(a))).toEqual(buildHistogram(s))
  })

  it('of two repetitions far apart keeps both exact ends', () => {
    const m = merge(buildHistogram(Float64Array.from([120, 130])), buildHistogram(Float64Array.from([9e6, 1e7])))
    expect([m.minNs, m.maxNs, totalCount(m), percentile(m, 50)]).toEqual([120, 1e7, 4, 130])
  })
})

describe('the encoding', () => {
  const json = (h: EncodedHistogram): string => JSON.stringify(h)

  it.each(Object.entries(DATA))('%s: decode(encode(h)) is h, through JSON', (_what, s) => {
    const h = buildHistogram(s)
    const back = decodeHistogram(JSON.parse(json(encodeHistogram(h))))
    expect(back).toEqual(h)
    for (const q of QS) expect(percentile(back, q)).toBe(percentile(h, q))
  })

  // Measured, the JSON text of the whole encoded histogram of 100 000 samples: log-normal
  // (sigma 0.3: p99 twice the median, wider than most repetitions) 1021 B, bimodal 941 B,
  // with a 5 s outlier 730 B, below 256 ns 768 B; uniform over 1-50 µs, 5.6 octaves
  // filled (no latency looks like that), 1577 B, the widest here.
  it.each(Object.entries(DATA))('%s: 100 000 samples encode in under 2 KB', (_what, s) => {
    expect(json(encodeHistogram(buildHistogram(s))).length).toBeLessThan(2048)
  })

  it('latency-like data encodes in about 1 KB', () => {
    for (const what of ['log-normal, median 5 µs', 'bimodal, 2 µs and 40 µs', 'log-normal, median 3 µs, one 5 s outlier'])
      expect(json(encodeHistogram(buildHistogram(DATA[what]))).length, what).toBeLessThan(1100)
  })

  describe('a corrupted or unknown histogram is refused, naming what is wrong', () => {
    const good = encodeHistogram(buildHistogram(Float64Array.from([1000, 1000, 1500, 3000, 250_000])))
    const bytes = (...b: number[]): string => Buffer.from(b).toString('base64')
    it.each<[string, unknown, RegExp]>([
      ['not an object', null, /not an object/],
      ['an unknown version', { ...good, version: 2 }, /unknown version 2/],
      ['no version', { ...good, version: undefined }, /unknown version undefined/],
      ['another precision', { ...good, subBucketBits: 6 }, /subBucketBits 6 is not 7/],
      ['min above max', { ...good, minNs: 300_000 }, /minNs 300000 and maxNs 250000/],
      ['a negative min', { ...good, minNs: -1 }, /minNs -1/],
      ['a count that is not whole', { ...good, count: 4.5 }, /count 4.5 is not a positive whole number/],
      ['counts not base64', { ...good, counts: 'a!b=' }, /counts is not base64/],
      ['a cut-short varint', { ...good, counts: bytes(0x80) }, /varint at byte 0 is cut short/],
      ['a varint too long', { ...good, counts: bytes(...Array<number>(9).fill(0x81), 1) }, /varint at byte 0 is too long/],
      ['an empty entry', { ...good, counts: bytes(0) }, /entry at byte 0 is 0/],
      ['counts that do not add up', { ...good, count: 6 }, /counts add up to 5, not count 6/],
      ['a skip past the max', { ...good, counts: bytes(0xff, 0x7f, 2) }, /reaches past maxNs's bucket/],
      ['an empty max bucket', { ...good, maxNs: 500_000 }, /maxNs's bucket is empty/],
    ])('%s', (_what, input, message) => {
      expect(() => decodeHistogram(input)).toThrow(message)
    })

    it('the first counted bucket must be the min', () => {
      expect(() => decodeHistogram({ ...good, minNs: 1200 })).toThrow(/the first counted bucket is not minNs's/)
    })

    it('the error carries its code', () => {
      expect(() => decodeHistogram({ ...good, version: 9 })).toThrow(expect.objectContaining({ code: 'EHISTOGRAM' }))
    })
  })
})

import { describe, expect, it } from 'vitest'
import { cvPct, median, percentileSorted, rmePct, studentT975, summarizeNs } from '../src/core/stats.js'

describe('summarizeNs', () => {
  it('gives exact figures for a small sample', () => {
    const s = summarizeNs([5, 1, 4, 2, 3])
    expect(s).toEqual({ n: 5, min: 1, mean: 3, sd: Math.sqrt(2.5), p50: 3, p90: 5, p99: 5, p999: 5, max: 5 })
  })

  it('uses nearest-rank percentiles (every percentile is a real sample)', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => i + 1)
    const s = summarizeNs(samples)
    expect(s.p50).toBe(500)
    expect(s.p90).toBe(900)
    expect(s.p99).toBe(990)
    expect(s.p999).toBe(999)
    expect(s.max).toBe(1000)
  })

  it('has no spread for one sample and refuses none', () => {
    expect(summarizeNs([7]).sd).toBe(0)
    expect(() => summarizeNs([])).toThrow(/no samples/)
  })
})

describe('percentileSorted', () => {
  it('rejects p outside (0, 100]', () => {
    expect(() => percentileSorted([1, 2], 0)).toThrow(RangeError)
    expect(() => percentileSorted([1, 2], 101)).toThrow(RangeError)
    expect(percentileSorted([1, 2], 100)).toBe(2)
  })
})

describe('rmePct: the relative margin of error of the mean', () => {
  it('t(0.975, n − 1) · sd / √n / mean, by hand', () => {
    // mean 100, sd √(8/3) = 1.63299, sd/√4 = 0.816497, t(0.975, 3) = 3.182446: 2.5985%.
    expect(rmePct([100, 102, 98, 100])).toBeCloseTo(2.5985, 4)
    expect(rmePct([7, 7, 7, 7])).toBe(0)
  })
  it('no margin from fewer than two values or a zero mean', () => {
    expect(rmePct([5])).toBe(Infinity)
    expect(rmePct([-1, 1])).toBe(Infinity)
  })
  it("Student's t: the table to 30 degrees of freedom, the expansion beyond it", () => {
    expect(studentT975(1)).toBe(12.706204736)
    expect(studentT975(4)).toBe(2.776445105)
    expect(studentT975(30)).toBe(2.042272456)
    expect(studentT975(31)).toBeCloseTo(2.039513446, 7)
    expect(studentT975(60)).toBeCloseTo(2.000297822, 8)
    expect(studentT975(1000)).toBeCloseTo(1.962339, 6)
    expect(() => studentT975(0)).toThrow(RangeError)
  })
})

describe('median and cvPct', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
  })
  it('cv in percent with the sample sd', () => {
    expect(cvPct([10, 10, 10])).toBe(0)
    expect(cvPct([9, 11])).toBeCloseTo((Math.SQRT2 / 10) * 100, 10)
    expect(cvPct([5])).toBe(0)
  })
})

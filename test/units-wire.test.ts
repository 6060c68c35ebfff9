import { describe, expect, it } from 'vitest'
import { formatBytesPerSec, formatNs, formatSizeBytes, parseDurationMs, parseSizeBytes } from '../src/core/units.js'
import { checkMessage, checkPattern, makeMessage, readSeq, stamp, STOP } from '../src/core/wire.js'
import { chooseBatch } from '../src/harness/case/loops.js'
import { parseCpuList } from '../src/core/proc.js'

describe('units', () => {
  it('parses sizes in binary multiples', () => {
    expect(parseSizeBytes('64')).toBe(64)
    expect(parseSizeBytes('1k')).toBe(1024)
    expect(parseSizeBytes('64KiB')).toBe(65536)
    expect(parseSizeBytes('1m')).toBe(1048576)
    expect(parseSizeBytes('1q')).toBeUndefined()
    expect(parseSizeBytes('')).toBeUndefined()
  })
  it('parses durations to milliseconds', () => {
    expect(parseDurationMs('2s')).toBe(2000)
    expect(parseDurationMs('500ms')).toBe(500)
    expect(parseDurationMs('1.5s')).toBe(1500)
    expect(parseDurationMs('2')).toBe(2000)
    expect(parseDurationMs('forever')).toBeUndefined()
  })
  it('formats sizes exactly and times with their unit', () => {
    expect(formatSizeBytes(64)).toBe('64B')
    expect(formatSizeBytes(65536)).toBe('64KiB')
    expect(formatSizeBytes(1048576)).toBe('1MiB')
    expect(formatSizeBytes(1500)).toBe('1500B')
    expect(formatNs(850)).toBe('850 ns')
    expect(formatNs(12_400)).toBe('12.4 µs')
    expect(formatNs(3_210_000)).toBe('3.21 ms')
    expect(formatBytesPerSec(2.5e9)).toBe('2.50 GB/s')
  })
  it('reads CPU lists', () => {
    expect(parseCpuList('0-2,5')).toEqual([0, 1, 2, 5])
    expect(parseCpuList('1')).toEqual([1])
  })
})

describe('wire format', () => {
  it('stamps and checks sequence number and trailer', () => {
    const m = makeMessage(64)
    stamp(m, 42)
    expect(readSeq(m)).toBe(42)
    expect(checkMessage(m, 42, 64)).toBeUndefined()
    expect(checkPattern(m, 42)).toBeUndefined()
    expect(checkMessage(m, 41, 64)).toMatch(/message 41: sequence number 42 \(lost message\)/)
    expect(checkMessage(m, 43, 64)).toMatch(/duplicated or reordered/)
  })
  it('catches a corrupted trailer and a corrupted payload byte', () => {
    const m = makeMessage(64)
    stamp(m, 7)
    m[63] ^= 1
    expect(checkMessage(m, 7, 64)).toMatch(/trailer corrupted/)
    const p = makeMessage(64)
    stamp(p, 7)
    p[20] ^= 1
    expect(checkPattern(p, 7)).toMatch(/payload byte 20/)
  })
  it('catches a short message and carries STOP', () => {
    expect(checkMessage(new Uint8Array(10), 0, 64)).toMatch(/10 bytes, expected 64/)
    const m = makeMessage(4)
    stamp(m, STOP)
    expect(readSeq(m)).toBe(STOP)
  })
})

describe('batching', () => {
  it('times round trips under 2 µs in batches of about 20 µs', () => {
    expect(chooseBatch(10_000)).toBe(1)
    expect(chooseBatch(2_500)).toBe(1)
    expect(chooseBatch(500)).toBe(64)
    expect(chooseBatch(1_000)).toBe(32)
    expect(chooseBatch(Infinity)).toBe(1)
  })
})

describe('warm-up', () => {
  it('is a count capped at 16 MiB of traffic, and never below 16 messages', async () => {
    const { warmupFor } = await import('../src/harness/plan/case-plan.js')
    expect(warmupFor(500, 64)).toBe(500)
    expect(warmupFor(500, 65536)).toBe(256)
    expect(warmupFor(500, 1048576)).toBe(16)
    expect(warmupFor(500, 64 * 1048576)).toBe(16)
    expect(warmupFor(0, 64)).toBe(0)
  })
})

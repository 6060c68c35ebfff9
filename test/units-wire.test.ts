import { describe, expect, it } from 'vitest'
import { formatBytesApprox, formatBytesPerSec, formatNs, formatSizeBytes, parseDurationMs, parseSizeBytes } from '../src/core/units.js'
import { isStop, LINE_BYTES, makeMessage, MessageCheck, patternByte, readSeq, stamp, STOP } from '../src/core/wire.js'
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

describe('formatBytesApprox (ipcbench list)', () => {
  it.each([
    [0, '0 B'],
    [64, '64 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [8192, '8 KiB'],
    [218_010, '212.9 KiB'],
    [8 * 1024 * 1024, '8 MiB'],
    [2 ** 42, '4 TiB'],
    [2 ** 42 + 2 ** 35, '4.0 TiB'],
    [2 ** 42 + 2 ** 36, '4.1 TiB'],
    [2 ** 42 + 2 ** 41, '6 TiB'],
    [2 ** 50, '1 PiB'],
    // Beyond the last unit the count goes on in PiB: kernel.shmmax / 4 on a 64-bit host.
    [Math.floor(18446744073692774000 / 4), '4096.0 PiB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytesApprox(bytes)).toBe(text)
  })
})

/** Message N as WIRE.md v2 says it is: the pattern, with N's u32 LE at 0, 64, 128, … while off + 4 <= size. */
function expectedMessage(size: number, seq: number): number[] {
  const le = [seq & 0xff, (seq >>> 8) & 0xff, (seq >>> 16) & 0xff, seq >>> 24]
  return Array.from({ length: size }, (_, i) => {
    const line = i - (i % LINE_BYTES)
    return i % LINE_BYTES < 4 && line + 4 <= size ? le[i % LINE_BYTES] : patternByte(i)
  })
}

/** Message `seq` of `size` bytes, as a sender makes it. */
const message = (size: number, seq: number): Uint8Array => {
  const m = makeMessage(size)
  stamp(m, seq)
  return m
}

describe('wire format v2', () => {
  it('the template is the pattern in every byte, stamped with 0', () => {
    expect(LINE_BYTES).toBe(64)
    expect(Array.from(makeMessage(200))).toEqual(expectedMessage(200, 0))
    // Bytes 1…3 of each stamp word hold 0 as well; byte 4 onwards the pattern, byte 0 included in the template.
    expect(patternByte(0)).toBe(17)
    expect(patternByte(1)).toBe(148)
  })

  it.each([4, 7, 63, 64, 67, 68, 127, 128, 131, 132, 195, 196, 1024, 4096])(
    'stamp writes the sequence number on every 64-byte line that holds it whole (%d B)',
    (size) => {
      const seq = 0x12345678
      const m = message(size, seq)
      expect(Array.from(m)).toEqual(expectedMessage(size, seq))
      const words = [...Array(Math.floor((size - 4) / LINE_BYTES) + 1).keys()].map((k) => k * LINE_BYTES)
      for (const off of words) expect(new DataView(m.buffer).getUint32(off, true), `offset ${off}`).toBe(seq)
      expect(readSeq(m)).toBe(seq)
    },
  )

  it('restamping leaves no trace of the previous number (no trailer, nothing else touched)', () => {
    const m = message(1024, 41)
    stamp(m, 42)
    expect(Array.from(m)).toEqual(expectedMessage(1024, 42))
    expect(Array.from(m.subarray(1020))).toEqual([1020, 1021, 1022, 1023].map(patternByte))
  })

  it('STOP is stamped the same way and recognised only at the case’s size', () => {
    const stop = message(256, STOP)
    expect(Array.from(stop)).toEqual(expectedMessage(256, STOP))
    expect(isStop(stop, 256)).toBe(true)
    expect(isStop(stop.subarray(0, 128), 256)).toBe(false)
    expect(isStop(message(256, 7), 256)).toBe(false)
    const small = message(4, STOP)
    expect(readSeq(small)).toBe(STOP)
    expect(isStop(small, 4)).toBe(true)
  })
})

describe('MessageCheck', () => {
  it('passes exactly the expected message, whichever numbers came before', () => {
    const check = new MessageCheck(1024)
    expect(check.sizeBytes).toBe(1024)
    for (const seq of [0, 1, 2, 255, 256, 70_000, 0xfffffffe]) expect(check.check(message(1024, seq), seq), `message ${seq}`).toBeUndefined()
    // A subarray of a larger buffer is checked by its own bytes.
    const big = new Uint8Array(2048)
    big.set(message(1024, 9), 512)
    expect(check.check(big.subarray(512, 1536), 9)).toBeUndefined()
  })

  it('a wrong length, then the first word, are named first', () => {
    const check = new MessageCheck(64)
    expect(check.check(new Uint8Array(10), 3)).toBe('message 3: 10 bytes, expected 64')
    expect(check.check(message(128, 3), 3)).toBe('message 3: 128 bytes, expected 64')
    expect(check.check(message(64, 42), 41)).toBe('message 41: sequence number 42 (lost message)')
    expect(check.check(message(64, 42), 43)).toBe('message 43: sequence number 42 (duplicated or reordered message)')
  })

  it('a byte flipped in the middle of a 1 KiB message is caught with its offset', () => {
    const check = new MessageCheck(1024)
    const m = message(1024, 9)
    m[520] ^= 0xff
    expect(check.check(m, 9)).toBe(`message 9: byte 520 is ${patternByte(520) ^ 0xff}, expected ${patternByte(520)} (stale or corrupted message)`)
    // Byte ⌊size/2⌋ + 1 (what the corrupt-mid fault flips): at 1 KiB, byte 1 of the stamp word at 512.
    const mid = message(1024, 300)
    mid[513] ^= 0xff
    expect(check.check(mid, 300)).toBe('message 300: byte 513 is 254, expected 1 (stale or corrupted message)')
  })

  it.each([
    [5, 4],
    [64, 63],
    [1024, 1023],
    [1024, 4],
  ])('any byte of a %d B message is checked (byte %d flipped)', (size, at) => {
    const m = message(size, 7)
    const expected = m[at]
    m[at] ^= 0x01
    expect(new MessageCheck(size).check(m, 7)).toBe(`message 7: byte ${at} is ${expected ^ 0x01}, expected ${expected} (stale or corrupted message)`)
  })

  it.each([
    ['aligned', 0],
    ['unaligned', 1],
  ])('a receive buffer used again and again (%s, the word-by-word path up to 256 B) is checked at every byte', (_, offset) => {
    for (const size of [8, 64, 68, 256]) {
      const check = new MessageCheck(size)
      const into = new Uint8Array(size + 1).subarray(offset, offset + size)
      for (let seq = 0; seq < 3; seq++) {
        into.set(message(size, seq))
        expect(check.check(into, seq), `${size} B message ${seq}`).toBeUndefined()
      }
      const right = message(size, 3)
      for (let at = 4; at < size; at++) {
        into.set(right)
        into[at] ^= 0x80
        expect(check.check(into, 3), `${size} B, byte ${at}`).toBe(
          `message 3: byte ${at} is ${right[at] ^ 0x80}, expected ${right[at]} (stale or corrupted message)`,
        )
      }
    }
  })

  it('a stamp word after the first that is not the number is caught at its offset', () => {
    const m = message(1024, 300)
    stamp(m.subarray(512, 516), 299)
    expect(new MessageCheck(1024).check(m, 300)).toBe('message 300: byte 512 is 43, expected 44 (stale or corrupted message)')
  })

  it.each([68, 128, 1024, 65536])('a stale message (N-1 relabelled N in its first word only) is caught at byte 64 (%d B)', (size) => {
    const stale = message(size, 6)
    new DataView(stale.buffer).setUint32(0, 7, true)
    expect(new MessageCheck(size).check(stale, 7)).toBe('message 7: byte 64 is 6, expected 7 (stale or corrupted message)')
  })

  it('a message that holds one stamp word cannot tell a stale message from a fresh one (WIRE.md: from the second line on)', () => {
    for (const size of [4, 64, 67]) {
      const stale = message(size, 6)
      new DataView(stale.buffer).setUint32(0, 7, true)
      expect(new MessageCheck(size).check(stale, 7), `${size} B`).toBeUndefined()
    }
  })

  it('a message of zeros with the right number is not the message', () => {
    const m = new Uint8Array(64)
    new DataView(m.buffer).setUint32(0, 5, true)
    expect(new MessageCheck(64).check(m, 5)).toBe(`message 5: byte 4 is 0, expected ${patternByte(4)} (stale or corrupted message)`)
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

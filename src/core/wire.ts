/**
 * The message format v2 (native-helpers/WIRE.md), shared with the C floor:
 *   every byte i holds the pattern (i*131 + 17) & 0xff, except
 *   the sequence number, u32 LE, at every offset 0, 64, 128, … that holds it whole
 *   (one word per 64-byte line; 0xFFFFFFFF = STOP).
 * Every message is checked whole on both sides, against the template stamped with the
 * number it must carry: a lost, duplicated, reordered, stale or corrupted message is
 * caught wherever its bytes differ. The check is part of every figure, as in C.
 */

export const STOP = 0xffffffff
export const MIN_MESSAGE_BYTES = 4
/** One sequence-number word per line of this many bytes. */
export const LINE_BYTES = 64

/**
 * The bytes a message of `sizeBytes` really carries: at least the sequence number,
 * so a notification without payload (a signal: 0 bytes) still travels numbered.
 */
export function wireBytes(sizeBytes: number): number {
  return Math.max(sizeBytes, MIN_MESSAGE_BYTES)
}

export function patternByte(i: number): number {
  return (i * 131 + 17) & 0xff
}

/** A message buffer filled with the pattern, stamped with 0 (stamp it with its own number before sending). */
export function makeMessage(sizeBytes: number): Uint8Array {
  const buf = new Uint8Array(sizeBytes)
  for (let i = 0; i < sizeBytes; i++) buf[i] = patternByte(i)
  stamp(buf, 0)
  return buf
}

/** Byte stores, not a DataView: a view per message was a measurable part of a 1 µs round trip. */
export function stamp(buf: Uint8Array, seq: number): void {
  const b0 = seq & 0xff
  const b1 = (seq >>> 8) & 0xff
  const b2 = (seq >>> 16) & 0xff
  const b3 = seq >>> 24
  for (let off = 0, end = buf.byteLength - 4; off <= end; off += LINE_BYTES) {
    buf[off] = b0
    buf[off + 1] = b1
    buf[off + 2] = b2
    buf[off + 3] = b3
  }
}

export function readSeq(buf: Uint8Array): number {
  return (buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24)) >>> 0
}

/**
 * The receiving side's check, with its own expected message (made once, restamped
 * per message, compared at memcmp speed). Returns a description of the problem, or
 * undefined when the message is exactly the one expected.
 */
export class MessageCheck {
  readonly timed: boolean
  private readonly expected: Uint8Array
  private readonly expectedWords: Int32Array | undefined
  /** The last buffer compared word by word and its view: a loop receives into one buffer. */
  private lastBuf: Uint8Array | undefined
  private lastWords: Int32Array | undefined

  /** `timed`: bytes TIME_OFFSET.. hold a time (time-stamped messages), not the pattern, and are not compared. */
  constructor(
    readonly sizeBytes: number,
    timed = false,
  ) {
    this.timed = timed
    this.expected = makeMessage(sizeBytes)
    this.expectedWords =
      sizeBytes <= WORD_COMPARE_MAX_BYTES && sizeBytes % 4 === 0 ? new Int32Array(this.expected.buffer, 0, sizeBytes / 4) : undefined
  }

  check(buf: Uint8Array, seq: number): string | undefined {
    const size = this.sizeBytes
    if (buf.byteLength !== size) return `message ${seq}: ${buf.byteLength} bytes, expected ${size}`
    const got = readSeq(buf)
    if (got !== seq) return `message ${seq}: sequence number ${got} (${got < seq ? 'duplicated or reordered' : 'lost'} message)`
    const expected = this.expected
    stamp(expected, seq)
    if (this.timed) for (let i = TIME_OFFSET; i < TIME_OFFSET + 8; i++) expected[i] = buf[i]
    if (this.same(buf)) return undefined
    let at = 0
    while (buf[at] === expected[at]) at++
    return `message ${seq}: byte ${at} is ${buf[at]}, expected ${expected[at]} (stale or corrupted message)`
  }

  /**
   * Whole-message equality. A loop that receives into one buffer again and again gets,
   * up to WORD_COMPARE_MAX_BYTES, a loop over 32-bit words of a view made once (43
   * against 18 ns at 64 B here: Buffer.compare is mostly its call); a buffer new with
   * each message (no view is made for it), a bigger or an unaligned one: Buffer.compare
   * (memcmp).
   */
  private same(buf: Uint8Array): boolean {
    const want = this.expectedWords
    if (want !== undefined && buf === this.lastBuf) {
      let got = this.lastWords
      if (got === undefined) {
        if ((buf.byteOffset & 3) !== 0) return Buffer.compare(buf, this.expected) === 0
        got = this.lastWords = new Int32Array(buf.buffer, buf.byteOffset, want.length)
      }
      let diff = 0
      for (let i = 0; i < want.length; i++) diff |= got[i] ^ want[i]
      return diff === 0
    }
    this.lastBuf = buf
    this.lastWords = undefined
    return Buffer.compare(buf, this.expected) === 0
  }
}

/** The largest message compared word by word in JavaScript (a memcmp call wins beyond). */
const WORD_COMPARE_MAX_BYTES = 256

/** A received message is STOP when it has the case's size and STOP in its first word. */
export function isStop(buf: Uint8Array, sizeBytes: number): boolean {
  return buf.byteLength === sizeBytes && readSeq(buf) === STOP
}

/**
 * Time-stamped messages (the `oneway` and `load` patterns, native-helpers/WIRE.md):
 * bytes 4..11 hold a u64 little-endian of CLOCK_MONOTONIC nanoseconds, which
 * `process.hrtime` reads (one clock for every process and thread of a host), in place
 * of the pattern; the receiver's check skips them.
 */
export const TIME_OFFSET = 4
/** The smallest time-stamped message: the sequence word and the time. */
export const TIMED_MIN_BYTES = 12

/** The clock as a number of nanoseconds: exact below 2^53 ns (104 days of uptime). */
export const nowNs = (): number => Number(process.hrtime.bigint())

/** Writes `ns` (a whole number of nanoseconds) at TIME_OFFSET. */
export function writeTimeNs(buf: Uint8Array, ns: number): void {
  const lo = ns % 2 ** 32
  const hi = (ns - lo) / 2 ** 32
  const o = TIME_OFFSET
  buf[o] = lo & 0xff
  buf[o + 1] = (lo >>> 8) & 0xff
  buf[o + 2] = (lo >>> 16) & 0xff
  buf[o + 3] = lo >>> 24
  buf[o + 4] = hi & 0xff
  buf[o + 5] = (hi >>> 8) & 0xff
  buf[o + 6] = (hi >>> 16) & 0xff
  buf[o + 7] = hi >>> 24
}

/** The time a message carries at TIME_OFFSET, in nanoseconds. */
export function readTimeNs(buf: Uint8Array): number {
  const o = TIME_OFFSET
  const lo = (buf[o] | (buf[o + 1] << 8) | (buf[o + 2] << 16) | (buf[o + 3] << 24)) >>> 0
  const hi = (buf[o + 4] | (buf[o + 5] << 8) | (buf[o + 6] << 16) | (buf[o + 7] << 24)) >>> 0
  return hi * 2 ** 32 + lo
}

/**
 * The message format (native-helpers/WIRE.md), shared with the C floor:
 *   [0,4)        sequence number, u32 LE (0xFFFFFFFF = STOP)
 *   [4,size-4)   pattern byte i = (i*131 + 17) & 0xff
 *   [size-4,size) trailer = seq ^ 0x5EEDC0DE (when size >= 8)
 * Stamping and checking touch only the two words, so they can sit in a timed loop;
 * the full-pattern check is for warm-up messages.
 */

export const STOP = 0xffffffff
export const MIN_MESSAGE_BYTES = 4

/**
 * The bytes a message of `sizeBytes` really carries: at least the sequence number,
 * so a notification without payload (a signal: 0 bytes) still travels numbered.
 */
export function wireBytes(sizeBytes: number): number {
  return Math.max(sizeBytes, MIN_MESSAGE_BYTES)
}
const TRAILER_XOR = 0x5eedc0de

export function patternByte(i: number): number {
  return (i * 131 + 17) & 0xff
}

/** A message buffer filled with the pattern (sequence words are stamped per message). */
export function makeMessage(sizeBytes: number): Uint8Array {
  const buf = new Uint8Array(sizeBytes)
  fillPattern(buf)
  return buf
}

export function fillPattern(buf: Uint8Array): void {
  for (let i = 4; i < buf.byteLength; i++) buf[i] = patternByte(i)
}

/** Byte stores, not a DataView: a view per message was a measurable part of a 1 µs round trip. */
export function stamp(buf: Uint8Array, seq: number): void {
  buf[0] = seq
  buf[1] = seq >>> 8
  buf[2] = seq >>> 16
  buf[3] = seq >>> 24
  const n = buf.byteLength
  if (n >= 8) {
    const t = seq ^ TRAILER_XOR
    buf[n - 4] = t
    buf[n - 3] = t >>> 8
    buf[n - 2] = t >>> 16
    buf[n - 1] = t >>> 24
  }
}

export function readSeq(buf: Uint8Array): number {
  return (buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24)) >>> 0
}

/**
 * Cheap check: length, sequence number and trailer. Returns a description of the
 * problem, or undefined when the message is the expected one.
 */
export function checkMessage(buf: Uint8Array, expectedSeq: number, sizeBytes: number): string | undefined {
  if (buf.byteLength !== sizeBytes) return `message ${expectedSeq}: ${buf.byteLength} bytes, expected ${sizeBytes}`
  const seq = readSeq(buf)
  if (seq !== expectedSeq) {
    const what = seq < expectedSeq ? 'duplicated or reordered' : 'lost'
    return `message ${expectedSeq}: sequence number ${seq} (${what} message)`
  }
  if (sizeBytes >= 8) {
    const n = sizeBytes
    const trailer = (buf[n - 4] | (buf[n - 3] << 8) | (buf[n - 2] << 16) | (buf[n - 1] << 24)) >>> 0
    if (trailer !== (seq ^ TRAILER_XOR) >>> 0) return `message ${expectedSeq}: trailer corrupted`
  }
  return undefined
}

/** Full check: every payload byte, for warm-up messages. */
export function checkPattern(buf: Uint8Array, seq: number): string | undefined {
  const end = buf.byteLength >= 8 ? buf.byteLength - 4 : buf.byteLength
  for (let i = 4; i < end; i++) {
    if (buf[i] !== patternByte(i)) return `message ${seq}: payload byte ${i} is ${buf[i]}, expected ${patternByte(i)}`
  }
  return undefined
}

/** How many leading messages are verified byte for byte. */
export function fullCheckCount(warmup: number): number {
  return Math.min(warmup, 64)
}

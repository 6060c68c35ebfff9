import type { FanIn, FanInSender } from './result.js'
import { makeMessage, stamp } from './wire.js'

/**
 * Fan-in's message, the same as the C floor's (native-helpers/floor/fanin.c): the wire
 * format of wire.ts, its sequence word made of the sender (high 8 bits) and that
 * sender's own number (low 24 bits), in every 64-byte line; and the send time, a u64
 * of CLOCK_MONOTONIC nanoseconds, little-endian, at bytes 4..11 (Node's hrtime reads
 * the same clock, one clock for every process of a host). The receiver compares
 * every other byte with the template.
 */
export const SEQ_BITS = 24
/** A sender's last message: its sender bits over this sequence number. */
export const SEQ_STOP = (1 << SEQ_BITS) - 1
export const STAMP_OFFSET = 4
/** The smallest fan-in message: the sequence word and the send time. */
export const FANIN_MIN_BYTES = 12

/** Each sender's bound when a repetition's `maxMessages` is shared among `senders` (at least one, below STOP). */
export const maxPerSenderOf = (maxMessages: number, senders: number): number => Math.max(1, Math.min(SEQ_STOP - 1, Math.ceil(maxMessages / senders)))

export const faninWord = (sender: number, seq: number): number => ((sender << SEQ_BITS) | seq) >>> 0
export const senderOf = (word: number): number => word >>> SEQ_BITS
export const seqOf = (word: number): number => word & SEQ_STOP

/** One sender's outgoing message, restamped for each send. */
export class FanInMessage {
  readonly buf: Uint8Array
  private readonly view: DataView
  constructor(
    size: number,
    private readonly sender: number,
  ) {
    this.buf = makeMessage(size)
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
  }
  /** Number `seq` of this sender, stamped with the time now. */
  next(seq: number): Uint8Array {
    stamp(this.buf, faninWord(this.sender, seq))
    this.view.setBigUint64(STAMP_OFFSET, process.hrtime.bigint(), true)
    return this.buf
  }
  stop(): Uint8Array {
    return this.next(SEQ_STOP)
  }
}

/** The receiver's check: every byte but the send time, against the template stamped with the message's own word. */
export class FanInCheck {
  private readonly expected: Uint8Array
  constructor(readonly sizeBytes: number) {
    this.expected = makeMessage(sizeBytes)
  }
  /** Undefined when `msg` is the message `word` names; else what is wrong. */
  check(msg: Uint8Array, word: number): string | undefined {
    const e = this.expected
    if (msg.byteLength !== this.sizeBytes) return `${msg.byteLength} bytes, expected ${this.sizeBytes}`
    stamp(e, word)
    for (let i = STAMP_OFFSET; i < STAMP_OFFSET + 8; i++) e[i] = msg[i]
    if (Buffer.compare(msg, e) === 0) return undefined
    let at = 0
    while (msg[at] === e[at]) at++
    return `byte ${at} is ${msg[at]}, expected ${e[at]} (stale or corrupted message)`
  }
}

/**
 * The send time a message carries, as a number of nanoseconds: exact while the clock
 * is below 2^53 ns (104 days of uptime), and no BigInt made per message.
 */
export function sentAtNs(msg: Uint8Array): number {
  const o = STAMP_OFFSET
  const lo = (msg[o] | (msg[o + 1] << 8) | (msg[o + 2] << 16) | (msg[o + 3] << 24)) >>> 0
  const hi = (msg[o + 4] | (msg[o + 5] << 8) | (msg[o + 6] << 16) | (msg[o + 7] << 24)) >>> 0
  return hi * 2 ** 32 + lo
}

/** The slowest sender's p50 over the fastest's, and the smallest share of the messages over the even share. */
export function fairnessOf(perSender: readonly FanInSender[]): FanIn['fairness'] {
  const p50s = perSender.map((s) => s.latencyNs.p50)
  const total = perSender.reduce((n, s) => n + s.received, 0)
  const least = Math.min(...perSender.map((s) => s.received))
  const fastest = Math.min(...p50s)
  return {
    p50Ratio: fastest > 0 ? Math.max(...p50s) / fastest : 1,
    minShareOfEven: total > 0 ? least / (total / perSender.length) : 1,
  }
}

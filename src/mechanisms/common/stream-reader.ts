import type { OnReadOpts } from 'node:net'

/*
 * Node's default is one new buffer per read (64 KiB), and message buffers made for
 * messages that straddle reads: at 1 MiB a stream of messages left about 2 MiB of
 * garbage per message, which V8 collects late (it counts buffers outside its heap
 * loosely), so one process held 200+ MB of dead buffers.
 *
 * Each read of 64 KiB and more goes straight into the message it belongs to (the
 * unfilled rest of a pooled message buffer), so nothing is copied and a read never
 * spans two messages. Smaller messages are read 64 KiB at a time into one reused
 * buffer and passed on as views of it; one that straddles two reads is assembled in a
 * pooled buffer. A socket made without `onread` (an accepted connection) gets a new
 * buffer per read from Node; its whole messages are passed on as views of it, and
 * straddling ones are assembled in pooled buffers too.
 *
 * So a message is lent to the callback: it may be read and changed there, and sent
 * (the endpoint then holds it until written), but not kept after the callback returns.
 */

/** The read size of small messages, and the size from which reads go straight into messages: Node's own read size. */
export const READ_BYTES = 64 * 1024

/** What the message callback is lent: whether a send may write it as is, must copy it, or hands it back to the pool once written. */
const enum Lent {
  /** A view of a buffer Node made for this read alone: it may be sent as is. */
  Fresh,
  /** A view of the reused read buffer: the next read overwrites it, so a send copies it. */
  Reused,
  /** A buffer of the pool: it goes back once the callback returns, or once written when sent. */
  Pooled,
}

/** Whole messages of one size out of a byte stream, with their buffers reused. */
export class StreamReader {
  /** The endpoint's message callback. */
  deliver: (msg: Uint8Array) => void = () => {}
  private readonly pool: Uint8Array[] = []
  private readonly readBuffer: Uint8Array | undefined
  private partial: Uint8Array | undefined
  private filled = 0
  private lent: Uint8Array | undefined
  private lentAs = Lent.Fresh
  private kept = false
  private ownReads = false

  constructor(readonly sizeBytes: number) {
    if (sizeBytes < READ_BYTES) this.readBuffer = new Uint8Array(READ_BYTES)
  }

  /**
   * The `onread` option of the socket this reads (net.connect, new net.Socket): Node
   * then reads into the buffers given here and emits no 'data'.
   */
  onread(): OnReadOpts {
    this.ownReads = true
    const callback = (n: number, buf: Uint8Array): boolean => {
      if (this.readBuffer === undefined) this.intoMessage(n)
      else this.split(buf.subarray(0, n), Lent.Reused)
      return true
    }
    const whole = this.readBuffer
    if (whole !== undefined) return { buffer: whole, callback }
    return { buffer: () => this.nextMessagePart(), callback }
  }

  /** Whether the socket reads through `onread`; otherwise the endpoint passes each 'data' chunk to `chunk`. */
  get readsOwnBuffers(): boolean {
    return this.ownReads
  }

  /** A chunk of the byte stream that Node made for this read ('data'), in order. */
  chunk(chunk: Uint8Array): void {
    this.split(chunk, Lent.Fresh)
  }

  private split(chunk: Uint8Array, lent: Lent): void {
    const size = this.sizeBytes
    const len = chunk.byteLength
    let off = 0
    while (off < len) {
      if (this.partial === undefined) {
        if (len - off >= size) {
          this.hand(len === size ? chunk : chunk.subarray(off, off + size), lent)
          off += size
          continue
        }
        this.partial = this.take()
        this.filled = 0
      }
      const n = Math.min(size - this.filled, len - off)
      this.partial.set(chunk.subarray(off, off + n), this.filled)
      this.filled += n
      off += n
      if (this.filled === size) this.handPartial()
    }
  }

  /**
   * What a send of `buf` writes, and what to run once it is written: a message still
   * in its callback is taken out of the read path's hands (a pooled buffer comes back
   * after the write; a view of the reused read buffer is copied first).
   */
  outgoing(buf: Uint8Array, release: (() => void) | undefined): [Uint8Array, (() => void) | undefined] {
    if (buf !== this.lent || this.lentAs === Lent.Fresh) return [buf, release]
    let out = buf
    if (this.lentAs === Lent.Reused) {
      out = this.take()
      out.set(buf)
    } else this.kept = true
    return [
      out,
      () => {
        this.pool.push(out)
        release?.()
      },
    ]
  }

  private take(): Uint8Array {
    return this.pool.pop() ?? new Uint8Array(this.sizeBytes)
  }

  private nextMessagePart(): Uint8Array {
    if (this.partial === undefined) {
      this.partial = this.take()
      this.filled = 0
    }
    return this.partial.subarray(this.filled)
  }

  private intoMessage(n: number): void {
    this.filled += n
    if (this.filled === this.sizeBytes) this.handPartial()
  }

  private handPartial(): void {
    const msg = this.partial!
    this.partial = undefined
    this.hand(msg, Lent.Pooled)
  }

  private hand(msg: Uint8Array, as: Lent): void {
    this.lent = msg
    this.lentAs = as
    this.kept = false
    try {
      this.deliver(msg)
    } finally {
      this.lent = undefined
      if (as === Lent.Pooled && !this.kept) this.pool.push(msg)
    }
  }
}

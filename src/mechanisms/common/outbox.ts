import type { AsyncEndpoint } from '../types.js'

interface Unsent {
  buf: Uint8Array
  release?: () => void
}

const ignore = (): void => {}

/**
 * The sending half every event-loop endpoint over a bounded channel needs, and the
 * callbacks its user registers. A mechanism supplies `trySend` (one attempt, false
 * when the channel is full) and `waitForRoom` (call `then` once it may have room);
 * its receive path calls `onMessage`/`onError` here and sets `closed` on close.
 *
 * Messages the channel had no room for wait in a backlog, and a later send queues
 * behind them rather than overtaking: order is kept. A buffer's release runs only
 * once its bytes are in the channel, since until then the caller must not reuse it.
 */
export class Outbox {
  /** What the endpoint's user registered; read at each call, so a later registration takes over. */
  onMessage: (msg: Uint8Array) => void = ignore
  onDrain: () => void = ignore
  onError: (err: Error) => void = ignore
  /** Set by the mechanism's close: a room wait that returns afterwards sends nothing. */
  closed = false
  private readonly backlog: Unsent[] = []
  private waitingForRoom = false

  constructor(
    private readonly trySend: (buf: Uint8Array) => boolean,
    private readonly waitForRoom: (then: () => void) => void,
  ) {}

  /** For a wait's rejection; made once, so a wait allocates no handler of its own. */
  readonly fail = (err: Error): void => this.onError(err)

  /**
   * A field, not a method, so the endpoint can hand it out as is: the hot path (an
   * empty backlog and room) is one trySend, with no wrapper call and no allocation.
   * Errors of that first attempt are thrown to the caller, as a synchronous send would.
   */
  readonly send = (buf: Uint8Array, release?: () => void): boolean => {
    if (this.backlog.length === 0 && this.trySend(buf)) {
      release?.()
      return true
    }
    this.backlog.push({ buf, release })
    this.flush()
    return false
  }

  // Made once: every room wait is given the same continuation.
  private readonly resume = (): void => {
    this.waitingForRoom = false
    if (!this.closed) this.flush()
  }

  /** Runs from a wait's continuation as well as from send, so its errors go to onError: there may be no caller to throw to. */
  private flush(): void {
    const backlog = this.backlog
    try {
      while (backlog.length > 0 && this.trySend(backlog[0].buf)) backlog.shift()!.release?.()
      if (backlog.length === 0) {
        this.onDrain()
        return
      }
      // One wait at a time: sends queued meanwhile are flushed by the wait already pending.
      if (this.waitingForRoom) return
      this.waitingForRoom = true
      this.waitForRoom(this.resume)
    } catch (e) {
      this.onError(e as Error)
    }
  }

  /** The AsyncEndpoint over this outbox, with the mechanism's close. */
  endpoint(close: () => Promise<void> | void): AsyncEndpoint {
    return {
      kind: 'async',
      send: this.send,
      onMessage: (cb) => {
        this.onMessage = cb
      },
      onDrain: (cb) => {
        this.onDrain = cb
      },
      onError: (cb) => {
        this.onError = cb
      },
      close,
    }
  }
}

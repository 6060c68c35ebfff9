import type { AsyncEndpoint, Endpoint, SyncEndpoint } from '../../mechanisms/types.js'
import { isMainThread } from 'node:worker_threads'
import { LINE_BYTES, readSeq, STOP } from '../../core/wire.js'

/**
 * Test-only fault injection in side b, honoured only when IPCBENCH_TEST_FAULTS=1 is
 * in the environment (so a stray option can never alter a real measurement):
 *   corrupt:N      flip the last byte of message N as it arrives
 *   corrupt-mid:N  flip the byte at offset ⌊size/2⌋ + 1 of message N, or, where that is a stamp word, the first
 *                  payload byte after it (a payload byte either way, from 8 B up)
 *   stale:N        message N arrives as message N-1's bytes with only its first word relabelled N
 *                  (a buffer that was not rewritten; caught from the second 64-byte line on)
 *   drop:N         relabel message N as N+1 (looks like a lost message)
 *   dup:N          relabel message N as N-1 (looks like a duplicate)
 *   delay:NS       spin NS nanoseconds before handing each message on (a slower peer)
 *   hang:N         stop answering at message N, forever (a deadlock, a lost wake-up)
 *   kill:N         die at message N: SIGKILL of a peer process, an abrupt exit of a peer thread
 *   pause:N        sleep PAUSE_MS once, just before sending message N (a peer stalled once: a load
 *                  case's sender, whose late messages keep their scheduled times)
 */
export const PAUSE_MS = 5
export function faultsEnabled(): boolean {
  return process.env.IPCBENCH_TEST_FAULTS === '1'
}

/** `at`, or the first byte past the stamp word it falls in (the sequence number sits in the first 4 bytes of every 64-byte line). */
const payloadByte = (at: number): number => (at % LINE_BYTES < 4 ? at - (at % LINE_BYTES) + 4 : at)

const relabel = (msg: Uint8Array, seq: number): void => new DataView(msg.buffer, msg.byteOffset).setUint32(0, seq >>> 0, true)

export function wrapWithFault(ep: Endpoint, fault: string): Endpoint {
  if (!faultsEnabled()) return ep
  const [kind, arg] = fault.split(':')
  const n = Number(arg)
  if (!Number.isFinite(n)) throw new Error(`bad test fault "${fault}"`)
  let previous: Uint8Array | undefined
  let paused = false
  const beforeSend = (msg: Uint8Array): void => {
    if (kind !== 'pause' || paused || readSeq(msg) !== n) return
    paused = true
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PAUSE_MS)
  }
  const touch = (msg: Uint8Array): void => {
    const seq = readSeq(msg)
    if (seq === STOP) return
    if (kind === 'delay') {
      const until = process.hrtime.bigint() + BigInt(n)
      while (process.hrtime.bigint() < until);
      return
    }
    if (kind === 'stale' && seq === n - 1) previous = msg.slice()
    if (seq !== n) return
    if (kind === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
    else if (kind === 'kill') {
      if (isMainThread) process.kill(process.pid, 'SIGKILL')
      else process.exit(137)
    } else if (kind === 'corrupt') msg[msg.byteLength - 1] ^= 0xff
    else if (kind === 'corrupt-mid') msg[payloadByte(Math.floor(msg.byteLength / 2) + 1)] ^= 0xff
    else if (kind === 'stale' && previous) {
      msg.set(previous)
      relabel(msg, n)
    } else if (kind === 'drop') relabel(msg, n + 1)
    else if (kind === 'dup') relabel(msg, n - 1)
  }
  if (ep.kind === 'sync') {
    const inner: SyncEndpoint = ep
    return {
      kind: 'sync',
      transfers: inner.transfers,
      send: (b) => {
        beforeSend(b)
        inner.send(b)
      },
      recv: (into) => {
        const m = inner.recv(into)
        touch(m)
        return m
      },
      close: () => inner.close(),
    }
  }
  const inner: AsyncEndpoint = ep
  return {
    kind: 'async',
    transfers: inner.transfers,
    send: (b, r) => {
      beforeSend(b)
      return inner.send(b, r)
    },
    onMessage: (cb) =>
      inner.onMessage((m) => {
        touch(m)
        cb(m)
      }),
    onDrain: (cb) => inner.onDrain(cb),
    onError: (cb) => inner.onError(cb),
    close: () => inner.close(),
  }
}

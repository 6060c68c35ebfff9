import type { AsyncEndpoint, Endpoint, SyncEndpoint } from '../../mechanisms/types.js'
import { isMainThread } from 'node:worker_threads'
import { readSeq, STOP } from '../../core/wire.js'

/**
 * Test-only fault injection in side b, honoured only when IPCBENCH_TEST_FAULTS=1 is
 * in the environment (so a stray option can never alter a real measurement):
 *   corrupt:N   flip a byte of message N as it arrives (the trailer check must catch it)
 *   drop:N      relabel message N as N+1 (looks like a lost message)
 *   dup:N       relabel message N as N-1 (looks like a duplicate)
 *   delay:NS    spin NS nanoseconds before handing each measured message on (a slower peer)
 *   hang:N      stop answering at message N, forever (a deadlock, a lost wake-up)
 *   kill:N      die at message N: SIGKILL of a peer process, an abrupt exit of a peer thread
 */
export function faultsEnabled(): boolean {
  return process.env.IPCBENCH_TEST_FAULTS === '1'
}

export function wrapWithFault(ep: Endpoint, fault: string): Endpoint {
  if (!faultsEnabled()) return ep
  const [kind, arg] = fault.split(':')
  const n = Number(arg)
  if (!Number.isFinite(n)) throw new Error(`bad test fault "${fault}"`)
  const touch = (msg: Uint8Array): void => {
    const seq = readSeq(msg)
    if (seq === STOP) return
    if (kind === 'delay') {
      const until = process.hrtime.bigint() + BigInt(n)
      while (process.hrtime.bigint() < until);
      return
    }
    if (seq !== n) return
    if (kind === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
    else if (kind === 'kill') {
      if (isMainThread) process.kill(process.pid, 'SIGKILL')
      else process.exit(137)
    } else if (kind === 'corrupt') msg[msg.byteLength - 1] ^= 0xff
    else if (kind === 'drop') new DataView(msg.buffer, msg.byteOffset).setUint32(0, n + 1, true)
    else if (kind === 'dup') new DataView(msg.buffer, msg.byteOffset).setUint32(0, n - 1, true)
  }
  if (ep.kind === 'sync') {
    const inner: SyncEndpoint = ep
    return {
      kind: 'sync',
      transfers: inner.transfers,
      send: (b) => inner.send(b),
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
    send: (b, r) => inner.send(b, r),
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

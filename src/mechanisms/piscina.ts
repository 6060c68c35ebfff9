import type { AsyncEndpoint, MechanismImpl } from './types.js'
import { stamp, STOP, wireBytes } from '../core/wire.js'

/**
 * A piscina task round trip: side a's "send" is `pool.run(message)` on a pool of one
 * worker whose task returns the message, and the resolved result is the echo. That
 * is the dispatch cost a real application pays, to set beside raw postMessage and
 * the SAB ring. piscina owns its worker, so the harness's own peer has no part in
 * the exchange: it reports end-of-stream at once and idles. The pool's thread lives
 * in side a's process, so side a's CPU (measured as the process without the native
 * helper) includes it.
 * Variants: `atomics` (piscina's default, atomics: 'sync') and `no-atomics`.
 */
export const piscina: MechanismImpl = {
  async setup(ctx) {
    const atomics = ctx.spec.variant === 'no-atomics' ? 'disabled' : 'sync'
    // Loaded here, not at the top: the case process's bundle would load it for every case.
    const { Piscina } = await import('piscina')
    const pool = new Piscina({
      filename: new URL('./piscina-task.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: 60_000,
      atomics,
    })
    return {
      peer: { info: {} },
      async openA(): Promise<AsyncEndpoint> {
        let onMessage: (m: Uint8Array) => void = () => {}
        let onError: (e: Error) => void = () => {}
        return {
          kind: 'async',
          send(buf) {
            pool.run(buf).then(
              (r: Uint8Array) => onMessage(r),
              (e: Error) => onError(e),
            )
            return true
          },
          onMessage: (cb) => {
            onMessage = cb
          },
          onDrain: () => {},
          onError: (cb) => {
            onError = cb
          },
          close: () => {},
        }
      },
      describe: () => ({ pool: 'piscina, 1 worker', atomics, peer: 'the harness peer idles; the pool worker echoes' }),
      async teardown() {
        await pool.destroy()
      },
    }
  },
  async openB(ctx): Promise<AsyncEndpoint> {
    // Not part of the exchange: hand the harness an immediate end-of-stream.
    return {
      kind: 'async',
      send: () => true,
      onMessage(cb) {
        const stop = new Uint8Array(wireBytes(ctx.spec.sizeBytes))
        stamp(stop, STOP)
        queueMicrotask(() => cb(stop))
      },
      onDrain: () => {},
      onError: () => {},
      close: () => {},
    }
  },
}

import type { AsyncEndpoint } from '../../mechanisms/types.js'

/**
 * Side a sends its first message right after "go", on another channel than the
 * control one, so it can arrive before side b has registered its handler (after
 * "go"). An event-loop endpoint delivers at once, so such a message would be lost
 * and the case would hang; keep what arrives early until the loop asks for it.
 */
export function holdEarlyMessages(ep: AsyncEndpoint): AsyncEndpoint {
  const early: Uint8Array[] = []
  let earlyError: Error | undefined
  let onMessage: ((m: Uint8Array) => void) | undefined
  let onError: ((e: Error) => void) | undefined
  ep.onMessage((m) => (onMessage ? onMessage(m) : early.push(m)))
  ep.onError((e) => (onError ? onError(e) : (earlyError ??= e)))
  return {
    kind: 'async',
    transfers: ep.transfers,
    send: (buf, release) => ep.send(buf, release),
    onMessage(cb) {
      onMessage = cb
      while (early.length > 0) cb(early.shift()!)
    },
    onDrain: (cb) => ep.onDrain(cb),
    onError(cb) {
      onError = cb
      if (earlyError) cb(earlyError)
    },
    close: () => ep.close(),
  }
}

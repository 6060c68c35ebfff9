import type { Socket } from 'node:net'
import type { AsyncEndpoint } from '../types.js'
import { PeerGoneError } from '../../core/errors.js'

/**
 * An event-loop endpoint over a byte stream (net.Socket on a UDS, TCP socket, pipe
 * or FIFO fd; `tx` when writes go to another fd, as with a pair of FIFOs). Every message has the same size, so framing is a split every
 * `sizeBytes`: no header is added to what the mechanism carries. A chunk holding
 * exactly one message is passed on without copying; otherwise messages are
 * assembled. Node allocates a fresh buffer per read, so views into it may be kept.
 */
export function socketEndpoint(socket: Socket, sizeBytes: number, tx: Socket = socket): AsyncEndpoint {
  let onMessage: (msg: Uint8Array) => void = () => {}
  let onError: (err: Error) => void = () => {}
  let partial: Uint8Array | undefined
  let filled = 0
  let closing = false

  socket.on('data', (chunk: Buffer) => {
    let off = 0
    const len = chunk.byteLength
    if (partial === undefined && len === sizeBytes) return onMessage(chunk)
    while (off < len) {
      if (partial === undefined) {
        if (len - off >= sizeBytes) {
          onMessage(chunk.subarray(off, off + sizeBytes))
          off += sizeBytes
          continue
        }
        partial = new Uint8Array(sizeBytes)
        filled = 0
      }
      const n = Math.min(sizeBytes - filled, len - off)
      partial.set(chunk.subarray(off, off + n), filled)
      filled += n
      off += n
      if (filled === sizeBytes) {
        const msg = partial
        partial = undefined
        onMessage(msg)
      }
    }
  })
  socket.on('error', (err) => {
    if (!closing) onError(err)
  })
  socket.on('end', () => {
    if (!closing) onError(new PeerGoneError('the peer closed the connection'))
  })
  if (tx !== socket) tx.on('error', (err) => !closing && onError(err))

  return {
    kind: 'async',
    send: (buf, release) => tx.write(buf, release),
    onMessage: (cb) => {
      onMessage = cb
    },
    onDrain: (cb) => {
      tx.removeAllListeners('drain')
      tx.on('drain', cb)
    },
    onError: (cb) => {
      onError = cb
    },
    close: async () => {
      closing = true
      if (tx !== socket) {
        // A pipe or FIFO writer: wait until every queued byte is in the kernel (an
        // empty write completes after the ones before it), then close. Bytes in the
        // pipe outlive the writer; shutdown(2), which end() would ask for, is for sockets.
        await new Promise<void>((resolve) => {
          if (tx.destroyed) return resolve()
          setTimeout(resolve, 2000).unref()
          tx.write(new Uint8Array(0), () => resolve())
        })
        tx.destroy()
        socket.destroy()
        return
      }
      // A socket: end() flushes, then shuts down our side; the peer sees EOF after the last byte.
      await new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve()
        socket.once('close', () => resolve())
        socket.end()
        setTimeout(() => socket.destroy(), 2000).unref()
      })
    },
  }
}

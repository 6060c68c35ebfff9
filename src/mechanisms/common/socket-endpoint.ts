import { Socket, type ConnectOpts, type SocketConstructorOpts } from 'node:net'
import type { AsyncEndpoint } from '../types.js'
import { PeerGoneError } from '../../core/errors.js'
import { StreamReader } from './stream-reader.js'

/**
 * An event-loop endpoint over a byte stream (net.Socket on a UDS, TCP socket, pipe
 * or FIFO fd; `tx` when writes go to another fd, as with a pair of FIFOs). Every
 * message has the same size, so framing is a split every `reader.sizeBytes`: no
 * header is added to what the mechanism carries. The reader reuses its buffers
 * (stream-reader.ts): the socket reads through `reader.onread()` when it was made
 * with it, and through 'data' otherwise.
 */
export function socketEndpoint(socket: Socket, reader: StreamReader, tx: Socket = socket): AsyncEndpoint {
  let onError: (err: Error) => void = () => {}
  let closing = false

  if (!reader.readsOwnBuffers) socket.on('data', (chunk: Buffer) => reader.chunk(chunk))
  socket.on('error', (err) => {
    if (!closing) onError(err)
  })
  socket.on('end', () => {
    if (!closing) onError(new PeerGoneError('the peer closed the connection'))
  })
  if (tx !== socket) tx.on('error', (err) => !closing && onError(err))

  return {
    kind: 'async',
    send: (buf, release) => {
      const [out, written] = reader.outgoing(buf, release)
      return tx.write(out, written)
    },
    onMessage: (cb) => {
      reader.deliver = cb
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

/**
 * The endpoint over a read fd and a write fd (a pipe pair, a pair of FIFOs), each in
 * a net.Socket; reads go into the reader's buffers. Node's constructor takes
 * `onread` as net.connect does, though its types leave it out there.
 */
export function fdPairEndpoint(rfd: number, wfd: number, sizeBytes: number): AsyncEndpoint {
  const reader = new StreamReader(sizeBytes)
  const rxOptions: SocketConstructorOpts & ConnectOpts = { fd: rfd, readable: true, writable: false, onread: reader.onread() }
  const rx = new Socket(rxOptions)
  const tx = new Socket({ fd: wfd, readable: false, writable: true })
  return socketEndpoint(rx, reader, tx)
}

// A user's own framing measured by ipcbench: each message goes over a Unix socket file
// as a 4-byte big-endian length and then its bytes, read back by a small parser. Its
// ×C is against the C floor of ipcbench's own unix-stream case, the kernel path it runs on.
//
//   ipcbench run unix-stream --mechanism examples/length-prefixed-unix-socket/length-prefixed.js --quick
import net from 'node:net'
import { join } from 'node:path'
import { defineMechanism } from 'ipcbench'

/** The framing itself: the part a user would write for their own protocol. */
function framed(socket) {
  let onMessage = () => {}
  let onError = () => {}
  let closing = false
  let pending = Buffer.alloc(0)
  socket.on('data', (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const end = 4 + pending.readUInt32BE(0)
      onMessage(pending.subarray(4, end))
      pending = pending.subarray(end)
    }
  })
  socket.on('error', (err) => closing || onError(err))
  socket.on('end', () => closing || onError(new Error('the peer closed the connection')))
  return {
    kind: 'async',
    send(buf, release) {
      const head = Buffer.allocUnsafe(4)
      head.writeUInt32BE(buf.byteLength)
      // One writev for the header and the message.
      socket.cork()
      socket.write(head)
      const more = socket.write(buf, release)
      socket.uncork()
      return more
    },
    onMessage: (cb) => (onMessage = cb),
    onDrain: (cb) => socket.on('drain', cb),
    onError: (cb) => (onError = cb),
    close: () =>
      new Promise((resolve) => {
        closing = true
        if (socket.destroyed) return resolve()
        socket.once('close', resolve)
        socket.end()
      }),
  }
}

const connected = (socket) =>
  new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })

export default defineMechanism({
  id: 'length-prefixed',
  summary: 'a 4-byte length prefix over net on a Unix socket file (an example of a custom mechanism)',
  family: 'socket',
  modes: ['nonblocking'],
  endpoints: ['process', 'thread'],
  patterns: ['pingpong', 'stream'],
  floor: 'unix-stream',
  // Side a: the socket file in the case's private directory (removed with it), and the server.
  async setup(ctx) {
    const path = join(ctx.tmpDir, 'length-prefixed.sock')
    const server = net.createServer()
    await new Promise((resolve, reject) => server.once('error', reject).listen(path, resolve))
    const accepted = new Promise((resolve) => server.once('connection', resolve))
    let socket
    return {
      peer: { info: { path } },
      openA: async () => framed((socket = await accepted)),
      describe: () => ({ framing: '4-byte big-endian length, then the message', transport: 'net.Server on a Unix socket file' }),
      async teardown() {
        socket?.destroy()
        await new Promise((resolve) => server.close(() => resolve()))
      },
    }
  },
  // Side b, in the peer process or worker thread.
  openB: async (ctx) => framed(await connected(net.connect(ctx.info.path))),
})

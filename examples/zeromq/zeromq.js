// The zeromq npm package measured by ipcbench: a Pair socket over ipc:// on each side,
// its own framing and queues over a Unix socket underneath, so its ×C is against the C
// floor of ipcbench's unix-stream case. zeromq is not one of ipcbench's dependencies:
// install the pinned version for this example alone (prebuilt binaries, no compiler):
//
//   npm run example:zeromq
//   ipcbench run unix-stream --mechanism examples/zeromq/zeromq.js --quick
import { join } from 'node:path'
import { Pair } from 'zeromq'
import { defineMechanism } from 'ipcbench'

/** At most this many messages wait for zeromq at once before `send` asks the loop to wait for drain. */
const QUEUE_LIMIT = 64

/**
 * A Pair socket as an event-loop endpoint. zeromq allows one send in flight per
 * socket, so sends queue here and go one after another; each buffer is released once
 * zeromq has taken it.
 */
function pairEndpoint(socket) {
  let onMessage = () => {}
  let onError = () => {}
  let onDrain = () => {}
  let closing = false
  const queue = []
  let sending = false

  const pump = async () => {
    sending = true
    try {
      while (queue.length > 0) {
        const [buf, release] = queue.shift()
        await socket.send(buf)
        release?.()
        if (queue.length === QUEUE_LIMIT - 1) onDrain()
      }
    } catch (err) {
      if (!closing) onError(err)
    } finally {
      sending = false
    }
  }
  const receive = async () => {
    try {
      for await (const [msg] of socket) onMessage(msg)
    } catch (err) {
      if (!closing) onError(err)
    }
  }
  void receive()

  return {
    kind: 'async',
    send(buf, release) {
      queue.push([buf, release])
      if (!sending) void pump()
      return queue.length < QUEUE_LIMIT
    },
    onMessage: (cb) => (onMessage = cb),
    onDrain: (cb) => (onDrain = cb),
    onError: (cb) => (onError = cb),
    async close() {
      closing = true
      // What is still queued goes out first (the peer counts it), then the socket closes.
      for (let i = 0; i < 200 && (sending || queue.length > 0); i++) await new Promise((r) => setTimeout(r, 10))
      socket.close()
    },
  }
}

export default defineMechanism({
  id: 'zeromq-pair',
  summary: 'zeromq Pair sockets over ipc:// (the zeromq npm package; an example of a custom mechanism)',
  family: 'socket',
  modes: ['nonblocking'],
  endpoints: ['process', 'thread'],
  // Streams are left out: on this project's 2-CPU VM a burst of messages (16 KiB and up)
  // intermittently stopped arriving at the receiving Pair socket, in ipcbench and in a
  // plain zeromq script alike, and ipcbench's time-out errored the case. Add 'stream'
  // here to see whether your host and zeromq version do the same.
  patterns: ['pingpong'],
  floor: 'unix-stream',
  async setup(ctx) {
    const endpoint = `ipc://${join(ctx.tmpDir, 'zeromq.sock')}`
    // linger 0: a socket closed at the end of a repetition drops what it still holds at once.
    const socket = new Pair({ linger: 0 })
    await socket.bind(endpoint)
    return {
      peer: { info: { endpoint } },
      openA: async () => pairEndpoint(socket),
      describe: () => ({ transport: `zeromq Pair over ${endpoint.replace(/^.*\//, 'ipc://…/')}`, zeromq: 'npm zeromq 6.8.0' }),
      async teardown() {
        if (!socket.closed) socket.close()
      },
    }
  },
  async openB(ctx) {
    const socket = new Pair({ linger: 0 })
    socket.connect(ctx.info.endpoint)
    return pairEndpoint(socket)
  },
})

import net from 'node:net'
import type { Mechanism } from './types.js'
import { listenOn, netPairOpenB, netPairSetup } from './common/net-pair.js'

/** TCP over loopback with Nagle off (TCP_NODELAY), through the event loop. */
const noDelay = (s: net.Socket): void => {
  s.setNoDelay(true)
}
const connect = (info: unknown): net.Socket => net.connect({ host: '127.0.0.1', port: (info as { port: number }).port })

export const tcp: Mechanism = {
  id: 'tcp',
  family: 'socket',
  summary: 'TCP over loopback (127.0.0.1), TCP_NODELAY',
  modes: ['nonblocking'],
  endpoints: ['process', 'thread'],
  patterns: ['pingpong', 'stream'],
  native: false,
  async load() {
    return {
      setup: (ctx) =>
        netPairSetup(ctx, {
          async listen(server) {
            await listenOn(server, 0, '127.0.0.1')
            return { port: (server.address() as net.AddressInfo).port }
          },
          connect,
          prepare: noDelay,
          describe: { transport: 'net over 127.0.0.1, setNoDelay(true)' },
        }),
      openB: (ctx) => netPairOpenB(ctx, { connect, prepare: noDelay }),
    }
  },
}

import net from 'node:net'
import type { MechanismImpl } from './types.js'
import { listenOn, netPairOpenB, netPairSetup } from './common/net-pair.js'

/** TCP over loopback with Nagle off (TCP_NODELAY), through the event loop. */
const noDelay = (s: net.Socket): void => {
  s.setNoDelay(true)
}
const connect = (info: unknown, onread: net.OnReadOpts): net.Socket =>
  net.connect({ host: '127.0.0.1', port: (info as { port: number }).port, onread })

export const tcp: MechanismImpl = {
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

import net from 'node:net'
import { join } from 'node:path'
import type { Mechanism } from './types.js'
import { listenOn, netPairOpenB, netPairSetup } from './common/net-pair.js'

/**
 * AF_UNIX SOCK_STREAM through the event loop: a net server on a socket file in the
 * case's private directory; the peer connects. Blocking and busy-poll modes need a
 * blocking or spinnable fd from the native helper (unix-stream in native mechanisms).
 */
export const unixStream: Mechanism = {
  id: 'unix-stream',
  family: 'socket',
  summary: 'Unix domain stream socket (AF_UNIX, SOCK_STREAM)',
  modes: ['nonblocking'],
  endpoints: ['process', 'thread'],
  patterns: ['pingpong', 'stream'],
  native: false,
  async load() {
    return {
      setup: (ctx) =>
        netPairSetup(ctx, {
          async listen(server, c) {
            const path = join(c.tmpDir, 's.sock')
            await listenOn(server, path)
            return { path }
          },
          connect: (info) => net.connect((info as { path: string }).path),
          describe: { transport: 'net.Server on a socket file (event loop)' },
        }),
      openB: (ctx) => netPairOpenB(ctx, { connect: (info) => net.connect((info as { path: string }).path) }),
    }
  },
}

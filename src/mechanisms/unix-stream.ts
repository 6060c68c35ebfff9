import net from 'node:net'
import { join } from 'node:path'
import type { MechanismImpl } from './types.js'
import { unixStreamNativeOpenB, unixStreamNativeSetup } from './unix-sockets.js'
import { listenOn, netPairOpenB, netPairSetup } from './common/net-pair.js'

/** Side b's connection, reading into its StreamReader's buffers. */
const connect = (info: unknown, onread: net.OnReadOpts): net.Socket => net.connect({ path: (info as { path: string }).path, onread })

/**
 * AF_UNIX SOCK_STREAM. nonblocking: a net server on a socket file in the case's
 * private directory, the peer connects (the event loop). blocking and busy-poll: a
 * socketpair from the native helper with read(2)/write(2) loops (unix-sockets.ts);
 * without the helper those cases are skipped with its reason.
 */
export const unixStream: MechanismImpl = {
  setup: (ctx) =>
    ctx.spec.mode !== 'nonblocking'
      ? unixStreamNativeSetup(ctx)
      : netPairSetup(ctx, {
          async listen(server, c) {
            const path = join(c.tmpDir, 's.sock')
            await listenOn(server, path)
            return { path }
          },
          connect,
          describe: { transport: 'net.Server on a socket file (event loop)' },
        }),
  openB: async (ctx) => (ctx.spec.mode !== 'nonblocking' ? unixStreamNativeOpenB(ctx) : netPairOpenB(ctx, { connect })),
}

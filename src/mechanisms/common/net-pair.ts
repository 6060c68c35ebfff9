import net from 'node:net'
import type { Channel, Endpoint, PeerContext, SetupContext } from '../types.js'
import { socketEndpoint } from './socket-endpoint.js'
import { StreamReader } from './stream-reader.js'
import { describeFd } from './proc.js'

/**
 * A connected pair of net sockets: side a listens, side b connects. Shared by
 * unix-stream (a socket file in the private directory) and tcp (loopback).
 */
export interface NetPairOptions {
  listen(server: net.Server, ctx: SetupContext): Promise<unknown>
  /** Connects with `onread` (net.connect's option), so side b reads into the reader's buffers. */
  connect(info: unknown, onread: net.OnReadOpts): net.Socket
  /** Applied to both ends once connected (e.g. TCP_NODELAY). */
  prepare?(socket: net.Socket): void
  describe: Record<string, string>
}

export async function netPairSetup(ctx: SetupContext, o: NetPairOptions): Promise<Channel> {
  const server = net.createServer()
  server.on('error', () => {})
  const info = await o.listen(server, ctx)
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve))
  let socket: net.Socket | undefined
  return {
    peer: { info },
    async openA(): Promise<Endpoint> {
      socket = await accepted
      o.prepare?.(socket)
      // Node's server gives an accepted socket no `onread`: side a reads through 'data'.
      return socketEndpoint(socket, new StreamReader(ctx.spec.sizeBytes))
    },
    describe: () => ({ ...o.describe, fdKind: socket ? describeFd(socketFd(socket)) : 'unknown' }),
    async teardown() {
      socket?.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

export async function netPairOpenB(ctx: PeerContext, o: Pick<NetPairOptions, 'connect' | 'prepare'>): Promise<Endpoint> {
  const reader = new StreamReader(ctx.spec.sizeBytes)
  const socket = o.connect(ctx.info, reader.onread())
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  o.prepare?.(socket)
  return socketEndpoint(socket, reader)
}

export function listenOn(server: net.Server, ...args: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    ;(server.listen as (...a: unknown[]) => void)(...args, () => resolve())
  })
}

/** The fd under a net.Socket (libuv keeps it in the handle). */
export function socketFd(socket: net.Socket): number {
  return (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1
}

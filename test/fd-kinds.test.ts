import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, constants as C, fstatSync, openSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { socketFd } from '../src/mechanisms/common/net-pair.js'
import { describeFd, fdKind, fifoFds, socketType } from '../src/mechanisms/common/proc.js'
import { loadNative } from '../src/native/index.js'
import { tempFile } from './helpers.js'

/**
 * describeFd, socketType and fifoFds in this process, on real kernel objects: a FIFO
 * made by mkfifo, a pipe (which fstat also calls a FIFO), socketpairs of each type,
 * net sockets over TCP and over a Unix socket file.
 */
const n = loadNative()
if (!n.ok) console.warn(`pipe and socketpair checks skipped: ${n.reason}`)

const fds: number[] = []
const children: ChildProcess[] = []
const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fd of fds.splice(0)) {
    try {
      closeSync(fd)
    } catch {
      // closed by the test
    }
  }
  for (const c of children.splice(0)) c.kill('SIGKILL')
  for (const f of cleanups.splice(0)) await f()
})

const open = (path: string, flags: number): number => {
  const fd = openSync(path, flags)
  fds.push(fd)
  return fd
}
const inode = (kind: string): string => /^socket:\[(\d+)\]$|^pipe:\[(\d+)\]$/.exec(kind)?.slice(1).find(Boolean) ?? ''

function makeFifo(name: string): string {
  const path = join(dirname(tempFile('x')), name)
  execFileSync('mkfifo', ['-m', '600', path])
  return path
}

describe('fifoFds: the fds that are the FIFO at a path (same inode, and a FIFO)', () => {
  it('finds every fd of this process open on the FIFO, and only those', () => {
    const a2b = makeFifo('a2b.fifo')
    const b2a = makeFifo('b2a.fifo')
    expect(fifoFds('self', a2b)).toEqual([])
    const rw = open(a2b, C.O_RDWR | C.O_NONBLOCK)
    const ro = open(a2b, C.O_RDONLY | C.O_NONBLOCK)
    const other = open(b2a, C.O_RDWR | C.O_NONBLOCK)
    expect(fifoFds('self', a2b).sort((x, y) => x - y)).toEqual([rw, ro].sort((x, y) => x - y))
    expect(fifoFds('self', b2a)).toEqual([other])
    // What /proc says of a FIFO's fd is its path.
    expect(fdKind(rw)).toBe(a2b)
    expect(describeFd(rw)).toBe(a2b)
  })

  it.skipIf(!n.ok)('a pipe is a FIFO to fstat, but not the FIFO of the case', () => {
    const api = n.ok ? n.api : undefined!
    const path = makeFifo('a2b.fifo')
    const [r, w] = api.pipe2(false)
    fds.push(r, w)
    expect(fstatSync(r).isFIFO()).toBe(true)
    expect(fifoFds('self', path)).toEqual([])
    expect(fifoFds('self', path)).not.toContain(r)
    expect(describeFd(r)).toMatch(/^pipe:\[\d+\]$/)
    expect(describeFd(r)).toBe(describeFd(w))
  })

  it('a file that is not a FIFO, or no file at all, has no FIFO fds even when open', () => {
    const file = tempFile('plain.fifo')
    writeFileSync(file, 'not a fifo')
    open(file, C.O_RDONLY)
    expect(fifoFds('self', file)).toEqual([])
    expect(fifoFds('self', `${file}.missing`)).toEqual([])
  })

  it('reads another process’s fds from /proc', () => {
    const path = makeFifo('b2a.fifo')
    const fd = open(path, C.O_RDWR | C.O_NONBLOCK)
    const child = spawn('sleep', ['30'], { stdio: [fd, 'ignore', 'ignore'] })
    children.push(child)
    expect(child.pid).toBeGreaterThan(0)
    expect(fifoFds(child.pid!, path)).toEqual([0])
    expect(describeFd(0, child.pid!)).toBe(path)
    expect(fifoFds(999_999_999, path)).toEqual([])
  })
})

describe('describeFd and socketType: sockets say their kind from /proc/net', () => {
  it.skipIf(!n.ok).each([
    ['dgram', 'SOCK_DGRAM'],
    ['seqpacket', 'SOCK_SEQPACKET'],
    ['stream', 'SOCK_STREAM'],
  ] as const)('a %s socketpair: both ends are AF_UNIX %s, each its own socket', (type, name) => {
    const api = n.ok ? n.api : undefined!
    const [x, y] = api.socketpair(type, false)
    fds.push(x, y)
    const [dx, dy] = [describeFd(x), describeFd(y)]
    expect(dx).toMatch(new RegExp(`^socket:\\[\\d+\\] AF_UNIX ${name}$`))
    expect(dy).toMatch(new RegExp(`^socket:\\[\\d+\\] AF_UNIX ${name}$`))
    expect(inode(fdKind(x))).not.toBe(inode(fdKind(y)))
    expect(socketType(inode(fdKind(x)))).toBe(`AF_UNIX ${name}`)
  })

  it('a TCP connection over loopback is TCP; a connection to a Unix socket file is AF_UNIX SOCK_STREAM', async () => {
    const connected = async (listen: (s: net.Server) => void, connect: (s: net.Server) => net.Socket) => {
      const server = net.createServer()
      const accepted = new Promise<net.Socket>((r) => server.once('connection', r))
      await new Promise<void>((r) => {
        server.once('listening', r)
        listen(server)
      })
      const client = connect(server)
      await new Promise<void>((r) => client.once('connect', r))
      const peer = await accepted
      cleanups.push(async () => {
        client.destroy()
        peer.destroy()
        await new Promise<void>((r) => server.close(() => r()))
      })
      return [client, peer]
    }
    const tcp = await connected(
      (s) => s.listen(0, '127.0.0.1'),
      (s) => net.connect((s.address() as net.AddressInfo).port, '127.0.0.1'),
    )
    for (const s of tcp) expect(describeFd(socketFd(s))).toMatch(/^socket:\[\d+\] TCP$/)
    const file = join(dirname(tempFile('x')), 'uds.sock')
    const uds = await connected(
      (s) => s.listen(file),
      () => net.connect(file),
    )
    for (const s of uds) expect(describeFd(socketFd(s))).toMatch(/^socket:\[\d+\] AF_UNIX SOCK_STREAM$/)
  })

  it('what is not a socket, or not open, says so', () => {
    // (Not '0': a TCP socket in TIME_WAIT is listed with inode 0. describeFd never asks for it.)
    expect(socketType('999999999999')).toBeUndefined()
    expect(socketType('not-an-inode')).toBeUndefined()
    expect(describeFd(-1)).toBe('unknown')
    const fd = open(tempFile('closed'), C.O_RDWR | C.O_CREAT)
    closeSync(fd)
    expect(describeFd(fd)).toBe('unknown')
    expect(fdKind(0, 999_999_999)).toBe('unknown')
  })
})

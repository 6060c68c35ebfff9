import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MessageChannel } from 'node:worker_threads'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { PeerError } from '../src/core/errors.js'
import { CHANNEL_CLOSED, Control } from '../src/harness/case/control.js'
import { loadNative } from '../src/native/index.js'

/**
 * The control channel between side a and side b, over the two transports it really
 * uses: a MessagePort pair (worker peers) and a connected stream socket carrying
 * JSON lines (child peers).
 */
type X = { type: 'x'; n: number }
type Y = { type: 'y'; n: number }
type Z = { type: 'z'; text: string }
type In = X | Y | Z

const n = loadNative()
if (!n.ok) console.log(`control over a native socketpair (overFd) not tested: ${n.reason}`)

const dir = mkdtempSync(join(tmpdir(), 'ipcbench-test-control-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Everything a test opened, closed after it. */
const opened: Array<() => void> = []
afterEach(() => {
  for (const close of opened.splice(0)) close()
})

/** A connected pair of stream sockets over a socket file (no native helper needed). */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const path = join(dir, `s${opened.length}-${Math.random().toString(36).slice(2)}.sock`)
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(path, r))
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r))
  const client = net.connect(path)
  await new Promise<void>((r) => client.once('connect', () => r()))
  const peer = await accepted
  server.close()
  opened.push(() => {
    client.destroy()
    peer.destroy()
  })
  return [client, peer]
}

function portPair(): [Control<In, In>, Control<In, In>, MessageChannel] {
  const mc = new MessageChannel()
  const a = Control.overPort<In, In>(mc.port1)
  const b = Control.overPort<In, In>(mc.port2)
  opened.push(() => {
    mc.port1.close()
    mc.port2.close()
  })
  return [a, b, mc]
}

const settle = () => new Promise((r) => setTimeout(r, 20))

/** The behaviours both transports must share. */
const transports: Array<[string, () => Promise<{ a: Control<In, In>; b: Control<In, In>; closeB: () => void }>]> = [
  [
    'MessagePort pair',
    async () => {
      const [a, b, mc] = portPair()
      return { a, b, closeB: () => mc.port2.close() }
    },
  ],
  [
    'stream socket (JSON lines)',
    async () => {
      const [s1, s2] = await socketPair()
      return { a: Control.overSocket<In, In>(s1), b: Control.overSocket<In, In>(s2), closeB: () => s2.destroy() }
    },
  ],
]

describe.each(transports)('Control over a %s', (_name, make) => {
  it('delivers each message to the next() of its type, in order, whether it arrived before or after the call', async () => {
    const { a, b } = await make()
    // z is asked for before anything is sent; x and y arrive before they are asked for.
    const z = a.next('z')
    b.send({ type: 'x', n: 1 })
    b.send({ type: 'y', n: 2 })
    b.send({ type: 'x', n: 3 })
    b.send({ type: 'z', text: 'late' })
    expect(await z).toEqual({ type: 'z', text: 'late' })
    // Everything sent before z has arrived and waits in the queue.
    expect(await a.next('y')).toEqual({ type: 'y', n: 2 })
    expect(await a.next('x')).toEqual({ type: 'x', n: 1 })
    expect(await a.next('x')).toEqual({ type: 'x', n: 3 })
    // Two waiters of different types, the later-sent type asked for first.
    const y = a.next('y')
    const x = a.next('x')
    b.send({ type: 'x', n: 4 })
    b.send({ type: 'y', n: 5 })
    expect(await Promise.all([x, y])).toEqual([
      { type: 'x', n: 4 },
      { type: 'y', n: 5 },
    ])
    // Two waiters of one type: the first asked gets the first sent.
    const first = a.next('x')
    const second = a.next('x')
    b.send({ type: 'x', n: 6 })
    b.send({ type: 'x', n: 7 })
    expect(await Promise.all([first, second])).toEqual([
      { type: 'x', n: 6 },
      { type: 'x', n: 7 },
    ])
  })

  it("an error message from the other side rejects the pending next() with a PeerError keeping code, errno, syscall and side 'b'", async () => {
    const { a, b } = await make()
    const pending = a.next('x')
    b.sendError(Object.assign(new Error('read failed in side b'), { code: 'EIO', errno: -5, syscall: 'read' }))
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(PeerError)
    expect(err).toMatchObject({ message: 'read failed in side b', code: 'EIO', errno: 5, syscall: 'read', side: 'b' })
  })

  it('an error message that arrives first rejects the next() of any type, once; later messages still arrive', async () => {
    const { a, b } = await make()
    b.sendError(new Error('side b could not open'))
    b.send({ type: 'y', n: 7 })
    await settle()
    await expect(a.next('y')).rejects.toMatchObject({ name: 'PeerError', message: 'side b could not open', side: 'b' })
    await expect(a.next('y')).resolves.toEqual({ type: 'y', n: 7 })
  })

  it('the channel closing rejects every waiter with CHANNEL_CLOSED, and later next() calls reject at once', async () => {
    const { a, closeB } = await make()
    const waiters = [a.next('x'), a.next('y'), a.next('z')]
    closeB()
    const results = await Promise.allSettled(waiters)
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
    for (const r of results) expect((r as PromiseRejectedResult).reason.message).toBe(CHANNEL_CLOSED)
    await expect(a.next('x')).rejects.toThrow(CHANNEL_CLOSED)
  })
})

describe('Control over a stream socket: the JSON-lines framing', () => {
  it('a line split across chunks is parsed once whole, a multi-byte character split between chunks included', async () => {
    const [s1, raw] = await socketPair()
    const chunks: string[] = []
    s1.on('data', (c: string | Buffer) => chunks.push(c.toString()))
    const a = Control.overSocket<In, In>(s1)
    const got = a.next('z')
    const line = Buffer.from(JSON.stringify({ type: 'z', text: 'µs and ✓' }) + '\n')
    // Cut inside the 3-byte ✓ and inside the 2-byte µ, each piece delivered before the next is written.
    const cuts = [line.indexOf('µ') + 1, line.indexOf('✓') + 2]
    const pieces = [line.subarray(0, cuts[0]), line.subarray(cuts[0], cuts[1]), line.subarray(cuts[1])]
    for (const p of pieces) {
      const arrived = new Promise((r) => s1.once('data', r))
      raw.write(p)
      await arrived
    }
    expect(await got).toEqual({ type: 'z', text: 'µs and ✓' })
    // Three reads really happened (the decoder holds a split character back, never garbles it).
    expect(chunks).toEqual(['{"type":"z","text":"', 'µs and ', '✓"}\n'])
  })

  it('several lines in one chunk (and empty lines) are each delivered, in order', async () => {
    const [s1, raw] = await socketPair()
    const a = Control.overSocket<In, In>(s1)
    raw.write('{"type":"x","n":1}\n\n{"type":"y","n":2}\n{"type":"x","n":3}\n{"type":"x"')
    expect(await a.next('x')).toEqual({ type: 'x', n: 1 })
    expect(await a.next('y')).toEqual({ type: 'y', n: 2 })
    expect(await a.next('x')).toEqual({ type: 'x', n: 3 })
    // The unfinished fourth line is held until its end comes.
    const fourth = a.next('x')
    let done = false
    void fourth.then(() => (done = true))
    await settle()
    expect(done).toBe(false)
    raw.write(',"n":4}\n')
    expect(await fourth).toEqual({ type: 'x', n: 4 })
  })

  it('what side a sends arrives as one JSON line per message', async () => {
    const [s1, raw] = await socketPair()
    const a = Control.overSocket<In, In>(s1)
    let text = ''
    raw.setEncoding('utf8').on('data', (d: string) => (text += d))
    a.send({ type: 'x', n: 1 })
    a.sendError(Object.assign(new Error('boom'), { code: 'EFOO' }))
    await new Promise<void>((r) => {
      const t = setInterval(() => text.split('\n').length > 2 && (clearInterval(t), r()), 5)
    })
    expect(text).toBe('{"type":"x","n":1}\n{"type":"error","message":"boom","code":"EFOO"}\n')
  })

  it.skipIf(!n.ok)('overFd on one end of a native socketpair talks to a socket on the other end', async () => {
    const api = n.ok ? n.api : undefined!
    const [fd1, fd2] = api.socketpair('stream', false)
    const a = Control.overFd<In, In>(fd1)
    const other = new net.Socket({ fd: fd2, readable: true, writable: true })
    const b = Control.overSocket<In, In>(other)
    opened.push(() => {
      a.close()
      other.destroy()
    })
    b.send({ type: 'y', n: 9 })
    expect(await a.next('y')).toEqual({ type: 'y', n: 9 })
    a.send({ type: 'x', n: 10 })
    expect(await b.next('x')).toEqual({ type: 'x', n: 10 })
    const waiting = a.next('z')
    other.destroy()
    await expect(waiting).rejects.toThrow(CHANNEL_CLOSED)
  })
})

describe("Control's own close()", () => {
  it('later next() calls reject at once with "control channel closed"', async () => {
    const [a] = portPair()
    a.close()
    await expect(a.next('x')).rejects.toThrow(/^control channel closed$/)
  })

  it('rejects a next() that is already waiting', async () => {
    const [a] = portPair()
    const waiting = a.next('x')
    a.close()
    const outcome = await Promise.race([
      waiting.then(
        () => 'resolved',
        (e: Error) => `rejected: ${e.message}`,
      ),
      new Promise((r) => setTimeout(() => r('still waiting'), 200)),
    ])
    expect(outcome).toMatch(/^rejected: control channel closed/)
  })
})

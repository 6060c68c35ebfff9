import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { socketEndpoint } from '../src/mechanisms/common/socket-endpoint.js'
import { READ_BYTES, StreamReader } from '../src/mechanisms/common/stream-reader.js'

/**
 * The reuse of buffers on both ends of an event-loop stream, over real Unix stream
 * sockets: the reader's `onread` path (side b's connected socket, a pipe's fd) lends
 * each message from buffers it reuses, and a message sent from its callback still
 * arrives whole.
 */
const dir = mkdtempSync(join(tmpdir(), 'ipcbench-test-reader-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const opened: net.Socket[] = []
afterEach(() => {
  for (const s of opened.splice(0)) s.destroy()
})

let serial = 0
/** [the connected socket, reading through `reader`; the accepted one]. */
async function readerPair(reader: StreamReader): Promise<[net.Socket, net.Socket]> {
  const path = join(dir, `r${serial++}.sock`)
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(path, r))
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r))
  const client = net.connect({ path, onread: reader.onread() })
  await new Promise<void>((r) => client.once('connect', () => r()))
  const peer = await accepted
  server.close()
  opened.push(client, peer)
  return [client, peer]
}

/** `count` messages of `size` bytes, message k filled with (k + i) & 0xff. */
function messages(size: number, count: number): Buffer {
  const all = Buffer.alloc(size * count)
  for (let k = 0; k < count; k++) for (let i = 0; i < size; i++) all[k * size + i] = (k + i) & 0xff
  return all
}

const until = async (done: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 5))
  expect(done()).toBe(true)
}

describe('StreamReader through onread', () => {
  it('small messages come whole and in order, as views of one reused read buffer, whatever the chunking', async () => {
    const size = 100
    const reader = new StreamReader(size)
    const [rx, peer] = await readerPair(reader)
    const ep = socketEndpoint(rx, reader)
    const got: Buffer[] = []
    const buffers = new Set<ArrayBufferLike>()
    ep.onMessage((m) => {
      buffers.add(m.buffer)
      got.push(Buffer.from(m))
    })
    const stream = messages(size, 50)
    // 2.5 messages, then the rest in odd pieces, each its own write.
    for (const [from, to] of [
      [0, 250],
      [250, 1001],
      [1001, 3333],
      [3333, 5000],
    ]) {
      peer.write(stream.subarray(from, to))
      await new Promise((r) => setTimeout(r, 10))
    }
    await until(() => got.length === 50)
    expect(Buffer.concat(got)).toEqual(stream)
    // The read buffer and, for the ones that straddled reads, pooled buffers: not one per read.
    expect(buffers.size).toBeLessThanOrEqual(3)
  })

  it(`messages of ${READ_BYTES / 1024} KiB and more are read straight into pooled message buffers, reused once their callback is done`, async () => {
    const size = 2 * READ_BYTES + 7
    const reader = new StreamReader(size)
    const [rx, peer] = await readerPair(reader)
    const ep = socketEndpoint(rx, reader)
    const got: Buffer[] = []
    const lent = new Set<Uint8Array>()
    ep.onMessage((m) => {
      expect(m.byteLength).toBe(size)
      lent.add(m)
      got.push(Buffer.from(m))
    })
    const stream = messages(size, 6)
    peer.write(stream)
    await until(() => got.length === 6)
    expect(Buffer.concat(got).equals(stream)).toBe(true)
    expect(lent.size).toBe(1)
  })

  it('a lent message sent from its callback arrives whole, though later reads reuse the buffers it came in', async () => {
    for (const size of [64, 3 * READ_BYTES]) {
      const reader = new StreamReader(size)
      const [rx, peer] = await readerPair(reader)
      const ep = socketEndpoint(rx, reader)
      ep.onMessage((m) => ep.send(m))
      const echoed: Buffer[] = []
      peer.on('data', (c: Buffer) => echoed.push(c))
      const stream = messages(size, 40)
      peer.write(stream)
      await until(() => Buffer.concat(echoed).length === stream.length)
      // equals(), not toEqual: a deep compare of megabytes takes seconds.
      expect(Buffer.concat(echoed).equals(stream)).toBe(true)
    }
  })
})

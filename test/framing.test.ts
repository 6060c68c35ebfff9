import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { PeerGoneError } from '../src/core/errors.js'
import { socketEndpoint } from '../src/mechanisms/common/socket-endpoint.js'
import { StreamReader } from '../src/mechanisms/common/stream-reader.js'

/**
 * socketEndpoint's framing over a real connected pair of Unix stream sockets: every
 * message has the same size, so whole messages must come out whatever the kernel's
 * chunking; the peer closing is an error with code EPEERCLOSED.
 */
const SIZE = 8
const dir = mkdtempSync(join(tmpdir(), 'ipcbench-test-framing-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const opened: net.Socket[] = []
afterEach(() => {
  for (const s of opened.splice(0)) s.destroy()
})

let serial = 0
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const path = join(dir, `p${serial++}.sock`)
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(path, r))
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r))
  const client = net.connect(path)
  await new Promise<void>((r) => client.once('connect', () => r()))
  const peer = await accepted
  server.close()
  opened.push(client, peer)
  return [client, peer]
}

const bytes = (...v: number[]) => Buffer.from(v)
const msg = (k: number) => bytes(k, k + 1, k + 2, k + 3, k + 4, k + 5, k + 6, k + 7)

/** Writes each piece as its own read on `reader` (waits for it to arrive before the next). */
async function writeAsReads(writer: net.Socket, reader: net.Socket, pieces: Buffer[]): Promise<Buffer[]> {
  const reads: Buffer[] = []
  const onData = (c: Buffer) => reads.push(c)
  reader.on('data', onData)
  for (const p of pieces) {
    const n = reads.length
    writer.write(p)
    while (reads.length === n) await new Promise((r) => setImmediate(r))
  }
  reader.off('data', onData)
  return reads
}

const endpoint = (rx: net.Socket, tx?: net.Socket) => socketEndpoint(rx, new StreamReader(SIZE), tx)

/** Copies each message: a message is only lent to its callback. */
function collect(ep: ReturnType<typeof socketEndpoint>) {
  const messages: Uint8Array[] = []
  const errors: Error[] = []
  ep.onMessage((m) => messages.push(m.slice()))
  ep.onError((e) => errors.push(e))
  return { messages, errors, asArrays: () => messages.map((m) => [...m]) }
}

describe('socketEndpoint framing', () => {
  it('a message split in 3 writes comes out once, whole', async () => {
    const [rx, peer] = await socketPair()
    const got = collect(endpoint(rx))
    const reads = await writeAsReads(peer, rx, [bytes(1, 2, 3), bytes(4, 5), bytes(6, 7, 8)])
    expect(reads.map((r) => r.length)).toEqual([3, 2, 3])
    expect(got.asArrays()).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]])
    expect(got.errors).toEqual([])
  })

  it('3 messages in one write come out as 3 messages, in order', async () => {
    const [rx, peer] = await socketPair()
    const got = collect(endpoint(rx))
    const reads = await writeAsReads(peer, rx, [Buffer.concat([msg(10), msg(20), msg(30)])])
    expect(reads.map((r) => r.length)).toEqual([24])
    expect(got.asArrays()).toEqual([[...msg(10)], [...msg(20)], [...msg(30)]])
  })

  it('messages straddling reads (2.5 + 0.5, then 1 + a bit + the rest) are reassembled', async () => {
    const [rx, peer] = await socketPair()
    const got = collect(endpoint(rx))
    const stream = Buffer.concat([msg(0), msg(8), msg(16), msg(24), msg(32)])
    await writeAsReads(peer, rx, [stream.subarray(0, 20), stream.subarray(20, 24), stream.subarray(24, 35), stream.subarray(35)])
    expect(got.asArrays()).toEqual([0, 8, 16, 24, 32].map((k) => [...msg(k)]))
  })

  it('a read holding exactly one message is passed on without a copy', async () => {
    const [rx, peer] = await socketPair()
    const ep = endpoint(rx)
    const lent: Uint8Array[] = []
    ep.onMessage((m) => lent.push(m))
    const reads = await writeAsReads(peer, rx, [msg(40)])
    expect(lent).toHaveLength(1)
    expect(lent[0]).toBe(reads[0])
  })

  it('the peer closing is reported once as an error with code EPEERCLOSED, after the messages before it', async () => {
    const [rx, peer] = await socketPair()
    const ep = endpoint(rx)
    const events: string[] = []
    ep.onMessage((m) => events.push(`message ${m[0]}`))
    const err = new Promise<Error>((resolve) =>
      ep.onError((e) => {
        events.push(`error ${(e as PeerGoneError).code}`)
        resolve(e)
      }),
    )
    peer.end(Buffer.concat([msg(1), msg(2)]))
    const e = await err
    expect(e).toBeInstanceOf(PeerGoneError)
    expect(e).toMatchObject({ code: 'EPEERCLOSED', message: 'the peer closed the connection' })
    await new Promise((r) => setTimeout(r, 20))
    expect(events).toEqual(['message 1', 'message 2', 'error EPEERCLOSED'])
  })

  it('a close of our own is not an error; the peer sees every byte sent before it, then EOF', async () => {
    const [rx, peer] = await socketPair()
    const ep = endpoint(rx)
    const got = collect(ep)
    const seen: Buffer[] = []
    peer.on('data', (c: Buffer) => seen.push(c))
    const peerEnded = new Promise<void>((r) => peer.once('end', () => r()))
    let released = 0
    expect(ep.send(msg(50), () => released++)).toBe(true)
    expect(ep.send(msg(60))).toBe(true)
    // The peer answers our end() with its own, so our close completes.
    peer.once('end', () => peer.end())
    await ep.close()
    await peerEnded
    expect(Buffer.concat(seen)).toEqual(Buffer.concat([msg(50), msg(60)]))
    expect(released).toBe(1)
    expect(got.errors).toEqual([])
  })

  it('with a separate tx socket (a pair of FIFOs), sends go to tx and reads come from the rx socket', async () => {
    const [rx, rxPeer] = await socketPair()
    const [tx, txPeer] = await socketPair()
    const ep = endpoint(rx, tx)
    const got = collect(ep)
    const onTx: Buffer[] = []
    const onRxPeer: Buffer[] = []
    txPeer.on('data', (c: Buffer) => onTx.push(c))
    rxPeer.on('data', (c: Buffer) => onRxPeer.push(c))
    ep.send(msg(70))
    await writeAsReads(rxPeer, rx, [msg(80)])
    await ep.close()
    await new Promise((r) => setTimeout(r, 20))
    expect(Buffer.concat(onTx)).toEqual(msg(70))
    expect(onRxPeer).toEqual([])
    expect(got.asArrays()).toEqual([[...msg(80)]])
    expect(tx.destroyed && rx.destroyed).toBe(true)
    expect(got.errors).toEqual([])
  })
})

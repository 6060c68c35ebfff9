// The hand-written ping-pongs that bench-overhead.mjs sets beside ipcbench's figure
// for the same case: written the way a careful Node programmer would, sharing no code
// with ipcbench, but doing the same work per message over the same system calls (so
// the ratio is what the harness adds, not a different path): side a stamps a sequence
// number into every 64-byte line of the message, side b and side a each check the
// whole message they receive against the expected bytes, side b echoes it.
//
//   overhead-peer.mjs CASE SIZE WARMUP COUNT      (side a; starts side b itself)
//
// CASE: pipe-blocking | pipe-busy-poll   the addon's read(2)/write(2) on two pipes
//       unix-stream | tcp                net.Socket on the event loop
//       unix-dgram                       the addon's fd watcher (epoll on the loop) and read(2)/write(2)
// Side a runs on the CPU it was started on; side b on CPU $PEER_CPU (default: the same).
// Prints {"p50Ns": …, "roundTrips": COUNT}.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const api = createRequire(import.meta.url)(join(ROOT, 'native-helpers', 'build', 'Release', 'ipcbench_native.node'))
const [kase, sizeText, warmupText, countText, role = 'a', ...rest] = process.argv.slice(2)
const size = Number(sizeText)
const warmup = Number(warmupText)
const count = Number(countText)
const STOP = 0xffffffff
const EAGAIN = -11

// The bytes every message carries: byte i = (i*131 + 17) & 255, then the sequence
// number (u32 LE) at the start of every 64-byte line.
const expected = new Uint8Array(size)
for (let i = 0; i < size; i++) expected[i] = (i * 131 + 17) & 0xff
const expectedView = new DataView(expected.buffer)
// Little-endian u32s written byte by byte: no view to make per message.
const put = (buf, seq) => {
  for (let off = 0; off + 4 <= size; off += 64) {
    buf[off] = seq & 0xff
    buf[off + 1] = (seq >>> 8) & 0xff
    buf[off + 2] = (seq >>> 16) & 0xff
    buf[off + 3] = seq >>> 24
  }
}
const seqOf = (buf) => (buf[0] | (buf[1] << 8) | (buf[2] << 16) | (buf[3] << 24)) >>> 0
const verify = (buf, seq) => {
  for (let off = 0; off + 4 <= size; off += 64) expectedView.setUint32(off, seq, true)
  if (buf.byteLength !== size || Buffer.compare(buf, expected) !== 0) throw new Error(`message ${seq} is not what was sent`)
}

/** Side a's samples: one clock read per round trip after the warm-up, as ipcbench takes them. */
function recorder(done) {
  const samples = new Float64Array(count)
  let n = 0
  let prev = 0n
  return {
    start() {
      prev = process.hrtime.bigint()
    },
    /** True once COUNT round trips are in. */
    tick() {
      const now = process.hrtime.bigint()
      samples[n++] = Number(now - prev)
      prev = now
      return n === count
    },
    finish() {
      samples.sort()
      process.stdout.write(JSON.stringify({ p50Ns: samples[count >> 1], roundTrips: count }) + '\n')
      done?.()
    },
  }
}

function startB(args, stdio) {
  const cpu = process.env.PEER_CPU
  const argv = [fileURLToPath(import.meta.url), kase, sizeText, warmupText, countText, 'b', ...args]
  return cpu !== undefined ? spawn('taskset', ['-c', cpu, process.execPath, ...argv], { stdio }) : spawn(process.execPath, argv, { stdio })
}

// ---- pipes, blocking or busy-poll: the addon's read/write, as ipcbench's pipe mechanism
function pipeA(spin) {
  const [abR, abW] = api.pipe2(spin)
  const [baR, baW] = api.pipe2(spin)
  const b = startB([], ['ignore', 'inherit', 'inherit', abR, baW])
  api.close(abR)
  api.close(baW)
  const out = expected.slice()
  const into = new Uint8Array(size)
  const rec = recorder()
  const send = (seq) => {
    put(out, seq)
    for (let off = 0; off < size;) {
      const n = api.write(abW, out, off, size - off)
      if (n > 0) off += n
    }
  }
  const recv = () => {
    for (let off = 0; off < size;) {
      const n = api.read(baR, into, off, size - off)
      if (n > 0) off += n
      else if (n === 0) throw new Error('side b closed the pipe')
    }
    return into
  }
  for (let seq = 0; seq < warmup + count; seq++) {
    if (seq === warmup) rec.start()
    send(seq)
    verify(recv(), seq)
    if (seq >= warmup) rec.tick()
  }
  send(STOP)
  recv()
  b.on('exit', () => rec.finish())
}

function pipeB() {
  const [rx, tx] = [3, 4]
  const into = new Uint8Array(size)
  for (let seq = 0; ; seq++) {
    for (let off = 0; off < size;) {
      const n = api.read(rx, into, off, size - off)
      if (n > 0) off += n
      else if (n === 0) return
    }
    const stop = seqOf(into) === STOP
    if (!stop) verify(into, seq)
    for (let off = 0; off < size;) {
      const n = api.write(tx, into, off, size - off)
      if (n > 0) off += n
    }
    if (stop) return
  }
}

// ---- unix-stream and tcp: net.Socket, whole messages assembled from the stream
function framer(onMessage) {
  let partial = null
  let filled = 0
  return (chunk) => {
    let off = 0
    while (off < chunk.length) {
      if (partial === null && chunk.length - off >= size) {
        onMessage(chunk.subarray(off, off + size))
        off += size
        continue
      }
      partial ??= new Uint8Array(size)
      const n = Math.min(size - filled, chunk.length - off)
      partial.set(chunk.subarray(off, off + n), filled)
      filled += n
      off += n
      if (filled === size) {
        const msg = partial
        partial = null
        filled = 0
        onMessage(msg)
      }
    }
  }
}

function socketA(tcp) {
  const dir = tcp ? undefined : mkdtempSync(join(tmpdir(), 'bench-overhead-'))
  const server = net.createServer({ noDelay: true }, (s) => {
    const rec = recorder(() => {
      s.destroy()
      server.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })
    let seq = 0
    // One buffer, as ipcbench's loop: the previous write is out before its echo comes back.
    const out = expected.slice()
    const send = () => {
      put(out, seq)
      s.write(out)
    }
    s.on(
      'data',
      framer((msg) => {
        if (seq === STOP) return rec.finish()
        verify(msg, seq)
        if (seq >= warmup && rec.tick()) seq = STOP
        else if (++seq === warmup) rec.start()
        send()
      }),
    )
    if (warmup === 0) rec.start()
    send()
  })
  const where = tcp ? { host: '127.0.0.1', port: 0 } : { path: join(dir, 's') }
  server.listen(where, () => {
    const addr = server.address()
    startB([tcp ? String(addr.port) : addr], ['ignore', 'inherit', 'inherit'])
  })
}

function socketB(tcp, where) {
  const s = tcp ? net.connect({ host: '127.0.0.1', port: Number(where), noDelay: true }) : net.connect(where)
  let seq = 0
  s.on(
    'data',
    framer((msg) => {
      if (seqOf(msg) !== STOP) verify(msg, seq++)
      s.write(msg)
    }),
  )
  s.on('error', () => {})
  s.on('close', () => process.exit(0))
}

// ---- unix-dgram: a datagram socketpair, readiness watched on the loop (the addon's FdWatcher)
function dgramA() {
  const [mine, theirs] = api.socketpair('dgram', true)
  const b = startB([], ['ignore', 'inherit', 'inherit', theirs])
  api.close(theirs)
  const rec = recorder()
  const out = expected.slice()
  let seq = 0
  const send = () => {
    put(out, seq)
    while (api.write(mine, out, 0, size) === EAGAIN) {
      // a datagram socket with room for many: never full in a ping-pong
    }
  }
  const w = new api.FdWatcher(mine, () => {
    const into = new Uint8Array(size)
    if (api.read(mine, into, 0, size) === EAGAIN) return
    if (seq === STOP) {
      w.close()
      b.on('exit', () => rec.finish())
      return
    }
    verify(into, seq)
    if (seq >= warmup && rec.tick()) seq = STOP
    else if (++seq === warmup) rec.start()
    send()
  })
  w.watch(1)
  if (warmup === 0) rec.start()
  send()
}

function dgramB() {
  const fd = 3
  let seq = 0
  const w = new api.FdWatcher(fd, () => {
    const into = new Uint8Array(size)
    if (api.read(fd, into, 0, size) === EAGAIN) return
    const stop = seqOf(into) === STOP
    if (!stop) verify(into, seq++)
    api.write(fd, into, 0, size)
    if (stop) w.close()
  })
  w.watch(1)
}

const roles = {
  'pipe-blocking': [() => pipeA(false), pipeB],
  'pipe-busy-poll': [() => pipeA(true), pipeB],
  'unix-stream': [() => socketA(false), () => socketB(false, rest[0])],
  tcp: [() => socketA(true), () => socketB(true, rest[0])],
  'unix-dgram': [dgramA, dgramB],
}
if (!roles[kase]) {
  console.error(`overhead-peer: unknown case ${kase}; one of ${Object.keys(roles).join(', ')}`)
  process.exit(2)
}
roles[kase][role === 'a' ? 0 : 1]()

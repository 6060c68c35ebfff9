// The minimal hand-written ping-pong that bench-overhead.mjs sets beside ipcbench's
// figure for the same case. Nothing but the exchange: no harness, no checks beyond
// the byte count. Usage: overhead-peer.mjs fifo-a|fifo-b|uds-a|uds-b ARGS…
import { openSync, readSync, writeSync, constants as C } from 'node:fs'
import net from 'node:net'

const [role, pathA, pathB, sizeText, countText] = process.argv.slice(2)
const size = Number(sizeText)
const count = Number(countText)
const buf = new Uint8Array(size)

function fullRead(fd) {
  let off = 0
  while (off < size) off += readSync(fd, buf, off, size - off, null)
}

if (role === 'fifo-a' || role === 'fifo-b') {
  // a writes pathA and reads pathB; b the reverse. Open order avoids the open() deadlock.
  const [w, r] = role === 'fifo-a' ? [openSync(pathA, C.O_WRONLY), openSync(pathB, C.O_RDONLY)] : [0, 0]
  if (role === 'fifo-b') {
    const rb = openSync(pathA, C.O_RDONLY)
    const wb = openSync(pathB, C.O_WRONLY)
    for (;;) {
      fullRead(rb)
      writeSync(wb, buf)
      if (buf[0] === 255) break
    }
  } else {
    const samples = new Float64Array(count)
    for (let i = 0; i < count + 1000; i++) {
      const t0 = process.hrtime.bigint()
      writeSync(w, buf)
      fullRead(r)
      if (i >= 1000) samples[i - 1000] = Number(process.hrtime.bigint() - t0)
    }
    buf[0] = 255
    writeSync(w, buf)
    fullRead(r)
    process.stdout.write(JSON.stringify(Array.from(samples.sort().subarray(count >> 1, (count >> 1) + 1))))
  }
} else if (role === 'uds-a') {
  const server = net.createServer((s) => {
    const samples = new Float64Array(count)
    let i = 0
    let got = 0
    let t0 = process.hrtime.bigint()
    s.on('data', (chunk) => {
      got += chunk.length
      if (got < size) return
      got = 0
      if (i >= 1000) samples[i - 1000] = Number(process.hrtime.bigint() - t0)
      if (++i === count + 1000) {
        process.stdout.write(JSON.stringify(Array.from(samples.sort().subarray(count >> 1, (count >> 1) + 1))))
        s.destroy()
        server.close()
        return
      }
      t0 = process.hrtime.bigint()
      s.write(buf)
    })
    t0 = process.hrtime.bigint()
    s.write(buf)
  })
  server.listen(pathA, () => process.send?.('listening'))
} else if (role === 'uds-b') {
  const s = net.connect(pathA)
  let got = 0
  s.on('data', (chunk) => {
    got += chunk.length
    while (got >= size) {
      got -= size
      s.write(buf)
    }
  })
  s.on('error', () => {})
}

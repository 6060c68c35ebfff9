import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { EAGAIN, loadNative, WATCH_READABLE } from '../src/native/index.js'

const n = loadNative()
if (!n.ok) console.warn(`native tests skipped: ${n.reason}`)

describe.skipIf(!n.ok)('native helper', () => {
  const api = n.ok ? n.api : undefined!
  it('pipe2 carries bytes; a non-blocking empty pipe reads -EAGAIN', () => {
    const [r, w] = api.pipe2(true)
    try {
      expect(api.read(r, new Uint8Array(8), 0, 8)).toBe(-EAGAIN)
      expect(api.write(w, Uint8Array.of(1, 2, 3), 0, 3)).toBe(3)
      const into = new Uint8Array(8)
      expect(api.read(r, into, 2, 6)).toBe(3)
      expect([...into.subarray(2, 5)]).toEqual([1, 2, 3])
      expect(api.getPipeSize(w)).toBeGreaterThanOrEqual(4096)
    } finally {
      api.close(r)
      api.close(w)
    }
  })
  it('checks offsets and lengths against the buffer', () => {
    const [r, w] = api.pipe2(true)
    try {
      expect(() => api.read(r, new Uint8Array(4), 2, 3)).toThrow(RangeError)
      expect(() => api.write(w, new Uint8Array(4), 5, 0)).toThrow(RangeError)
      expect(() => api.write(w, 'abc' as unknown as Uint8Array, 0, 1)).toThrow(TypeError)
    } finally {
      api.close(r)
      api.close(w)
    }
  })
  it('errors carry code, errno and syscall', () => {
    let err: NodeJS.ErrnoException | undefined
    try {
      api.read(987_654, new Uint8Array(1), 0, 1)
    } catch (e) {
      err = e as NodeJS.ErrnoException
    }
    expect(err).toMatchObject({ code: 'EBADF', errno: 9, syscall: 'read' })
  })
  it('pins the calling thread and reads it back; counts its own CPU', () => {
    const before = api.getAffinity()
    api.setAffinity([before[0]])
    expect(api.getAffinity()).toEqual([before[0]])
    api.setAffinity(before)
    const u = api.threadRusage()
    expect(u.userUs + u.sysUs).toBeGreaterThan(0)
    expect(api.gettid()).toBeGreaterThan(0)
  })
  it('the same binary loads in a fresh process (N-API only)', () => {
    const out = execFileSync(process.execPath, ['-e', "console.log(typeof require('./native-helpers/build/Release/ipcbench_native.node').pipe2)"], {
      encoding: 'utf8',
    })
    expect(out.trim()).toBe('function')
  })

  it('FdWatcher calls back on the loop thread when the fd is ready, runs microtasks after, and stops', async () => {
    const [r, w] = api.pipe2(true)
    const events: number[] = []
    const tids: number[] = []
    let afterMicrotask = false
    let readable!: () => void
    const fired = new Promise<void>((res) => (readable = res))
    const watcher = new api.FdWatcher(r, (ev) => {
      events.push(ev)
      tids.push(api.gettid())
      api.read(r, new Uint8Array(8), 0, 8)
      queueMicrotask(() => {
        afterMicrotask = true
        readable()
      })
    })
    try {
      watcher.watch(WATCH_READABLE)
      api.write(w, Uint8Array.of(7), 0, 1)
      await fired
      expect(events).toEqual([WATCH_READABLE])
      expect(tids).toEqual([api.gettid()])
      expect(afterMicrotask).toBe(true)
      // Not watching: a second write calls nothing back.
      watcher.watch(0)
      api.write(w, Uint8Array.of(8), 0, 1)
      await new Promise((res) => setTimeout(res, 50))
      expect(events).toHaveLength(1)
      watcher.close()
      watcher.close()
      expect(() => watcher.watch(WATCH_READABLE)).toThrow(/closed/)
    } finally {
      watcher.close()
      api.close(r)
      api.close(w)
    }
  })
  it('a worker thread that ends with a watcher still open ends cleanly (the handle is closed for it)', () => {
    const script = `
      const { Worker } = require('node:worker_threads')
      const w = new Worker(\`
        const api = require('./native-helpers/build/Release/ipcbench_native.node')
        const [r] = api.pipe2(true)
        new api.FdWatcher(r, () => {}).watch(1)
        require('node:worker_threads').parentPort.postMessage('watching')
      \`, { eval: true })
      w.once('message', () => w.terminate().then(() => console.log('ended')))
    `
    expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim()).toBe('ended')
  })
  it('PeerWatchdog interrupts a blocking read once the watched process has exited, with EPEERCLOSED', () => {
    // In a process of its own: the read blocks its thread until the watchdog interrupts it.
    const script = `
      const { spawn } = require('node:child_process')
      const api = require('./native-helpers/build/Release/ipcbench_native.node')
      const [r, w] = api.pipe2(false)
      const child = spawn('sleep', ['0.3'])
      const dog = new api.PeerWatchdog(child.pid)
      const t0 = Date.now()
      try { api.read(r, new Uint8Array(8), 0, 8); console.log('read returned') }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, ms: Date.now() - t0 })) }
      dog.stop()
    `
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim()) as {
      code: string
      message: string
      ms: number
    }
    expect(out.code).toBe('EPEERCLOSED')
    expect(out.message).toMatch(/^the peer \(pid \d+\) has gone$/)
    expect(out.ms).toBeGreaterThanOrEqual(250)
    expect(out.ms).toBeLessThan(5000)
  })
})

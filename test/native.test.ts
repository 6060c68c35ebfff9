import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { EAGAIN, loadNative } from '../src/native/index.js'

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
})

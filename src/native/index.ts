import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, sep } from 'node:path'
import { PACKAGE_ROOT } from '../core/paths.js'

/**
 * The typed façade of the native helper (native-helpers/): the only thing the rest
 * of ipcbench imports. The addon is optional: when it is not built, or disabled with
 * IPCBENCH_NATIVE=off, `loadNative()` says why and the mechanisms that need it are
 * listed as unavailable with that reason.
 */
export interface NativeApi {
  /** pipe2(O_CLOEXEC [| O_NONBLOCK]) → [readFd, writeFd] */
  pipe2(nonblock: boolean): [number, number]
  mkfifo(path: string, mode: number): void
  /** F_GETPIPE_SZ */
  getPipeSize(fd: number): number
  /** One read(2): bytes, 0 at EOF, or -11 (-EAGAIN) when a non-blocking fd is empty. */
  read(fd: number, buf: Uint8Array, offset: number, length: number): number
  /** One write(2): bytes written, or -11 (-EAGAIN). */
  write(fd: number, buf: Uint8Array, offset: number, length: number): number
  close(fd: number): void
  /** sched_setaffinity of the calling thread. */
  setAffinity(cpus: number[]): void
  getAffinity(): number[]
  /** getrusage(RUSAGE_THREAD) */
  threadRusage(): { userUs: number; sysUs: number; voluntaryCtx: number; involuntaryCtx: number }
  gettid(): number
  /** socketpair(AF_UNIX, type, SOCK_CLOEXEC [| SOCK_NONBLOCK]) */
  socketpair(type: 'stream' | 'dgram' | 'seqpacket', nonblock: boolean): [number, number]
  /** sendmsg(SCM_RIGHTS): hands `fds` (at most 16) to the process at the other end of the Unix socket `sock`. */
  sendFds(sock: number, fds: number[]): void
  /** recvmsg(SCM_RIGHTS) on `sock`, blocking; each fd received is moved (dup2) onto `first`, `first + 1`, …; returns how many came. */
  receiveFdsAt(sock: number, first: number): number
  /** waitpid(WNOHANG) of a child not spawned through libuv: how it ended, or undefined while it runs. */
  reap(pid: number): { code: number } | { signal: number } | undefined
  /** Sets SO_SNDBUF and SO_RCVBUF to `bytes` (0: leave them) and reads back what the kernel applied. */
  socketBuffers(fd: number, bytes: number): { sndbuf: number; rcvbuf: number }
  /**
   * Readiness of `fd` on the event loop's own thread (a libuv poll handle, epoll):
   * `callback` runs on the loop with the ready events (WATCH_READABLE | WATCH_WRITABLE),
   * or a negative libuv status. Stop it with close() before the fd is closed.
   */
  FdWatcher: new (fd: number, callback: (events: number) => void) => FdWatcher
  /** pidfd_open(2): an fd that becomes readable when process `pid` exits. */
  pidfdOpen(pid: number): number
  /**
   * prctl(PR_SET_PDEATHSIG, SIGKILL): this process is killed when the one that started
   * it ends. False when that process (`expectedParentPid`) had already gone.
   */
  dieWithParent(expectedParentPid: number): boolean
  /**
   * While it runs, a blocking call of this thread (read, write, mq_send/mq_receive,
   * msgsnd, futex, sigwaitinfo) throws EPEERCLOSED once process `pid` has exited: a
   * thread waits on its pidfd and interrupts this one with a signal. No deadline on
   * the waits themselves.
   */
  PeerWatchdog: new (pid: number) => { stop(): void }
  /** shm_open (+ O_CREAT|O_EXCL, mode 0600, ftruncate when creating) and mmap(MAP_SHARED); unmapped when the buffer is collected. */
  shmMap(name: string, bytes: number, create: boolean): ArrayBuffer
  shmUnlink(name: string): void
  /** Non-private FUTEX_WAIT on i32[index] (works across processes). */
  futexWait(i32: Int32Array, index: number, expected: number, timeoutMs?: number): 'ok' | 'not-equal' | 'timed-out'
  futexWake(i32: Int32Array, index: number, count?: number): number
  /** The same wait on a pool thread, resolving a promise (the event loop stays free). */
  futexWaitAsync(i32: Int32Array, index: number, expected: number, timeoutMs?: number): Promise<'ok' | 'not-equal' | 'timed-out'>
  /** mq_open: creating is O_EXCL with mode 0600 and the given attributes. Returns the mqd (an fd on Linux). */
  mqOpen(name: string, create: boolean, maxmsg: number, msgsize: number, nonblock: boolean): number
  /** mq_send: 0, or -11 when a non-blocking queue is full. */
  mqSend(mqd: number, buf: Uint8Array, offset: number, length: number): number
  /** mq_receive / mq_timedreceive: bytes, -11 (empty, non-blocking) or -110 (timed out). */
  mqReceive(mqd: number, buf: Uint8Array, offset: number, length: number, timeoutMs?: number): number
  mqGetattr(mqd: number): { maxmsg: number; msgsize: number; curmsgs: number; nonblocking: boolean }
  mqUnlink(name: string): void
  /** msgget(IPC_PRIVATE, 0600) */
  msgGet(): number
  /** msgsnd: 0, or -11 with IPC_NOWAIT on a full queue. */
  msgSnd(id: number, mtype: number, buf: Uint8Array, offset: number, length: number, nowait: boolean): number
  /** msgrcv of `mtype`: bytes, -11 with IPC_NOWAIT when none is there, or -4 (-EINTR) when a signal interrupted the wait. */
  msgRcv(id: number, mtype: number, buf: Uint8Array, offset: number, length: number, nowait: boolean): number
  msgRmid(id: number): void
  /** shmget(IPC_PRIVATE, bytes, 0600) */
  shmGet(bytes: number): number
  /** shmat; detached when the buffer is collected. */
  shmAttach(id: number, bytes: number): ArrayBuffer
  shmRmid(id: number): void
  /** eventfd(initval, EFD_CLOEXEC [| EFD_NONBLOCK]) */
  eventfd(initval: number, nonblock: boolean): number
  sigRtMin(): number
  /** pthread_sigmask for the calling thread. */
  sigBlock(signo: number, block?: boolean): void
  /** rt_tgsigqueueinfo: a queued real-time signal with an int payload to one thread; 0 or -11 (queue full). */
  sigqueueThread(pid: number, tid: number, signo: number, value: number): number
  /** sigwaitinfo (timeoutMs -1) or sigtimedwait: the signal's int payload, or null when the time ran out. */
  sigWait(signo: number, timeoutMs?: number): number | null
  /** sem_init(pshared = 1) of the sem_t whose first word is i32[index] (the memory both sides map). */
  semInit(i32: Int32Array, index: number, value: number): void
  semDestroy(i32: Int32Array, index: number): void
  semPost(i32: Int32Array, index: number): void
  /** sem_trywait, then sem_timedwait for at most `sliceMs`: 0, or -110 (-ETIMEDOUT) when the slice ran out. */
  semWait(i32: Int32Array, index: number, sliceMs: number): number
  /** sem_getvalue */
  semValue(i32: Int32Array, index: number): number
  /** semget(IPC_PRIVATE, nsems, 0600) */
  sysvSemGet(nsems: number): number
  /** semctl SETVAL */
  sysvSemSet(id: number, num: number, value: number): void
  /** semctl GETVAL */
  sysvSemGetVal(id: number, num: number): number
  /** One semtimedop on semaphore `num` (SEM_UNDO when `undo`): 0, or -11 (-EAGAIN) when the slice ran out (-1: no deadline). */
  sysvSemOp(id: number, num: number, delta: number, undo: boolean, sliceMs: number): number
  sysvSemRmid(id: number): void
}

export interface FdWatcher {
  /** What to wait for: WATCH_READABLE, WATCH_WRITABLE, both, or 0 (nothing, for now). */
  watch(events: number): void
  /** Stops for good; the callback is never called again. */
  close(): void
}

export const WATCH_READABLE = 1
export const WATCH_WRITABLE = 2

/** read/write return this negated when a non-blocking fd would block. */
export const EAGAIN = 11
/** msgRcv returns this negated when a signal interrupted it. */
export const EINTR = 4
/** semWait returns this negated when its slice ran out. */
export const ETIMEDOUT = 110

/**
 * `file` is the binary loaded: a build from source (native-helpers/build/Release, made by
 * the install script or `npm rebuild --build-from-source`) when there is one, else the
 * prebuilt one for this platform, arch and libc that the package ships
 * (native-helpers/prebuilds, made by native-helpers/prebuild.mjs before a pack).
 */
export type NativeStatus = { ok: true; api: NativeApi; file: string; prebuilt: boolean } | { ok: false; reason: string }

const NATIVE_DIR = join(PACKAGE_ROOT, 'native-helpers')
let cached: NativeStatus | undefined

export function loadNative(): NativeStatus {
  if (cached) return cached
  if (process.env.IPCBENCH_NATIVE === 'off') return (cached = { ok: false, reason: 'disabled by IPCBENCH_NATIVE=off' })
  const require = createRequire(import.meta.url)
  let file: string
  try {
    // node-gyp-build tells musl from glibc by /etc/alpine-release alone; other musl
    // systems are told by the loader this Node runs under.
    if (process.env.LIBC === undefined && nodeLibc() === 'musl') process.env.LIBC = 'musl'
    const gypBuild = require('node-gyp-build') as { resolve(dir: string): string }
    file = gypBuild.resolve(NATIVE_DIR)
  } catch {
    const libc = process.env.LIBC ?? nodeLibc()
    return (cached = { ok: false, reason: `native helper not built, and no prebuilt one for linux-${process.arch} ${libc} (${buildGist()})` })
  }
  const prebuilt = file.startsWith(join(NATIVE_DIR, 'prebuilds') + sep)
  try {
    const api = require(file) as NativeApi
    return (cached = { ok: true, api, file, prebuilt })
  } catch (err) {
    // A prebuilt one needs glibc ≥ 2.34 (it was linked on Debian 12); an older host builds its own.
    const next = prebuilt ? '; build one for this host with "npm rebuild ipcbench --build-from-source"' : ''
    return (cached = { ok: false, reason: `native helper ${file} failed to load (${(err as Error).message})${next}` })
  }
}

/** The C library of this Node: musl when its ELF interpreter is musl's loader. */
export function nodeLibc(): 'glibc' | 'musl' {
  try {
    const head = Buffer.alloc(4096)
    const fd = openSync(process.execPath, 'r')
    try {
      readSync(fd, head, 0, head.length, 0)
    } finally {
      closeSync(fd)
    }
    return head.includes('/ld-musl-') ? 'musl' : 'glibc'
  } catch {
    return 'glibc'
  }
}

export function native(): NativeApi {
  const n = loadNative()
  if (!n.ok) throw new Error(n.reason)
  return n.api
}

function buildGist(): string {
  const status = join(PACKAGE_ROOT, 'native-helpers', 'build', 'status.json')
  try {
    const s = JSON.parse(readFileSync(status, 'utf8')) as { addon?: { error?: string } }
    if (s.addon?.error) return s.addon.error
  } catch {
    // no status file: never built
  }
  return existsSync(status)
    ? 'build failed'
    : 'not built; in a clone run "npm install", where it is installed "npm rebuild ipcbench --build-from-source" (needs a C++ compiler, make and python3)'
}

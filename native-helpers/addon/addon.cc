// ipcbench's native helper: thin wrappers over system calls Node has no API for.
// Each function checks its arguments, makes one system call, and throws an Error
// carrying code, errno and syscall. Policy (what to call when) stays in TypeScript.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <napi.h>
#include <uv.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <semaphore.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace {

const char* ErrnoCode(int e) {
  switch (e) {
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EPIPE: return "EPIPE";
    case EINTR: return "EINTR";
    case ENOSPC: return "ENOSPC";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOMSG: return "ENOMSG";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EIDRM: return "EIDRM";
    case ENOSYS: return "ENOSYS";
    case ESRCH: return "ESRCH";
    case ENOMEM: return "ENOMEM";
    case E2BIG: return "E2BIG";
    case ERANGE: return "ERANGE";
    case EOVERFLOW: return "EOVERFLOW";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return "EUNKNOWN";
  }
}

Napi::Error ErrnoError(Napi::Env env, const char* syscall, int e, const std::string& what = "") {
  std::string msg = std::string(syscall) + (what.empty() ? "" : "(" + what + ")") + ": " + strerror(e);
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, ErrnoCode(e)));
  err.Set("errno", Napi::Number::New(env, e));
  err.Set("syscall", Napi::String::New(env, syscall));
  return err;
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int e, const std::string& what = "") {
  ErrnoError(env, syscall, e, what).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Set by a PeerWatchdog once the peer process it watches has exited: a blocking call
// that its signal interrupts (EINTR) then gives up instead of waiting again.
std::atomic<int> g_peer_gone{0};

// A call the watchdog interrupted may have had its answer already: the peer's last
// message (the echo of STOP) can arrive, and the peer exit, while this thread is still
// waking from its wait, and a socket read then reports the signal, not the data. So
// an interrupted wait looks once more without blocking before it says the peer has
// gone. ReadableNow: the fd (a pipe, a socket, an eventfd, a POSIX queue) has
// something to read, or its other end closed (a read then says EOF).
bool ReadableNow(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

Napi::Value ThrowPeerGone(Napi::Env env) {
  Napi::Error err = Napi::Error::New(env, "the peer (pid " + std::to_string(g_peer_gone.load()) + ") has gone");
  err.Set("code", Napi::String::New(env, "EPEERCLOSED"));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool CheckInt(const Napi::CallbackInfo& info, size_t i, int64_t lo, int64_t hi, int64_t* out) {
  // One call both checks the type and reads the value: these run on every message.
  double d;
  if (info.Length() <= i || napi_get_value_double(info.Env(), info[i], &d) != napi_ok) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  // Checked as a double first: converting NaN, an infinity or a value beyond int64_t
  // to int64_t is undefined behaviour. [-2^63, 2^63) is exactly what int64_t holds.
  if (!std::isfinite(d) || d != std::trunc(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0 || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    Napi::RangeError::New(info.Env(), "argument " + std::to_string(i) + " out of range").ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<int64_t>(d);
  if (*out < lo || *out > hi) {  // lo/hi beyond 2^53 round as doubles; the integer check is exact
    Napi::RangeError::New(info.Env(), "argument " + std::to_string(i) + " out of range").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// Buffer argument with offset and length checked against its size.
bool CheckBuf(const Napi::CallbackInfo& info, size_t i, uint8_t** data, size_t* len) {
  // One napi_get_typedarray_info for type, length and data (it fails for anything
  // but a typed array): the wrapper classes would ask three times, on every message.
  napi_typedarray_type type;
  size_t length;
  void* base;
  if (info.Length() <= i + 2 || napi_get_typedarray_info(info.Env(), info[i], &type, &length, &base, nullptr, nullptr) != napi_ok) {
    Napi::TypeError::New(info.Env(), "expected (Uint8Array, offset, length)").ThrowAsJavaScriptException();
    return false;
  }
  if (type != napi_uint8_array) {
    Napi::TypeError::New(info.Env(), "buffer must be a Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  int64_t off, n;
  if (!CheckInt(info, i + 1, 0, static_cast<int64_t>(length), &off)) return false;
  if (!CheckInt(info, i + 2, 0, static_cast<int64_t>(length) - off, &n)) return false;
  *data = static_cast<uint8_t*>(base) + off;
  *len = static_cast<size_t>(n);
  return true;
}

Napi::Value Pipe2(const Napi::CallbackInfo& info) {
  bool nonblock = info.Length() > 0 && info[0].ToBoolean();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0)) != 0) return ThrowErrno(info.Env(), "pipe2", errno);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString()) {
    Napi::TypeError::New(info.Env(), "mkfifo(path, mode)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::string path = info[0].As<Napi::String>();
  int64_t mode;
  if (!CheckInt(info, 1, 0, 07777, &mode)) return info.Env().Undefined();
  if (mkfifo(path.c_str(), static_cast<mode_t>(mode)) != 0) return ThrowErrno(info.Env(), "mkfifo", errno, path);
  return info.Env().Undefined();
}

Napi::Value GetPipeSize(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!CheckInt(info, 0, 0, INT32_MAX, &fd)) return info.Env().Undefined();
  int n = fcntl(static_cast<int>(fd), F_GETPIPE_SZ);
  if (n < 0) return ThrowErrno(info.Env(), "fcntl", errno, "F_GETPIPE_SZ");
  return Napi::Number::New(info.Env(), n);
}

// One read(2): bytes, 0 at EOF, or -EAGAIN when the fd is non-blocking and empty.
Napi::Value Read(const Napi::CallbackInfo& info) {
  int64_t fd;
  uint8_t* data;
  size_t len;
  if (!CheckInt(info, 0, 0, INT32_MAX, &fd) || !CheckBuf(info, 1, &data, &len)) return info.Env().Undefined();
  for (;;) {
    ssize_t n = read(static_cast<int>(fd), data, len);
    if (n >= 0) return Napi::Number::New(info.Env(), static_cast<double>(n));
    if (errno == EINTR) {
      if (g_peer_gone.load() != 0 && !ReadableNow(static_cast<int>(fd))) return ThrowPeerGone(info.Env());
      continue;
    }
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);
    return ThrowErrno(info.Env(), "read", errno);
  }
}

// One write(2): bytes written, or -EAGAIN.
Napi::Value Write(const Napi::CallbackInfo& info) {
  int64_t fd;
  uint8_t* data;
  size_t len;
  if (!CheckInt(info, 0, 0, INT32_MAX, &fd) || !CheckBuf(info, 1, &data, &len)) return info.Env().Undefined();
  for (;;) {
    ssize_t n = write(static_cast<int>(fd), data, len);
    if (n >= 0) return Napi::Number::New(info.Env(), static_cast<double>(n));
    if (errno == EINTR) {
      if (g_peer_gone.load() != 0) return ThrowPeerGone(info.Env());
      continue;
    }
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);
    return ThrowErrno(info.Env(), "write", errno);
  }
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!CheckInt(info, 0, 0, INT32_MAX, &fd)) return info.Env().Undefined();
  if (close(static_cast<int>(fd)) != 0 && errno != EINTR) return ThrowErrno(info.Env(), "close", errno);
  return info.Env().Undefined();
}

// sched_setaffinity(0): the calling thread only (a worker pins itself).
Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(info.Env(), "setAffinity(cpus: number[])").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Array cpus = info[0].As<Napi::Array>();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < cpus.Length(); i++) {
    Napi::Value v = cpus.Get(i);
    int c = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : -1;
    if (c < 0 || c >= CPU_SETSIZE) {
      Napi::RangeError::New(info.Env(), "cpu index out of range").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    CPU_SET(c, &set);
  }
  if (sched_setaffinity(0, sizeof(set), &set) != 0) return ThrowErrno(info.Env(), "sched_setaffinity", errno);
  return info.Env().Undefined();
}

Napi::Value GetAffinity(const Napi::CallbackInfo& info) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return ThrowErrno(info.Env(), "sched_getaffinity", errno);
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t k = 0;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) out.Set(k++, c);
  return out;
}

// getrusage(RUSAGE_THREAD): the cost of one side when both share a process.
Napi::Value ThreadRusage(const Napi::CallbackInfo& info) {
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return ThrowErrno(info.Env(), "getrusage", errno);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("userUs", static_cast<double>(ru.ru_utime.tv_sec) * 1e6 + ru.ru_utime.tv_usec);
  o.Set("sysUs", static_cast<double>(ru.ru_stime.tv_sec) * 1e6 + ru.ru_stime.tv_usec);
  o.Set("voluntaryCtx", static_cast<double>(ru.ru_nvcsw));
  o.Set("involuntaryCtx", static_cast<double>(ru.ru_nivcsw));
  return o;
}

Napi::Value Gettid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

bool CheckString(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a string").ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

// Names of POSIX shared memory and queues: "/ipcbench-…", no further slash.
bool CheckIpcName(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (!CheckString(info, i, out)) return false;
  if (out->size() < 2 || out->size() > 250 || (*out)[0] != '/' || out->find('/', 1) != std::string::npos) {
    Napi::RangeError::New(info.Env(), "name must start with a slash and contain no other").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// An Int32Array element: its address, checked against the array's length.
bool CheckI32(const Napi::CallbackInfo& info, size_t i, int32_t** addr) {
  if (info.Length() <= i + 1 || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(info.Env(), "expected (Int32Array, index)").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Int32Array a = info[i].As<Napi::Int32Array>();
  int64_t index;
  if (!CheckInt(info, i + 1, 0, static_cast<int64_t>(a.ElementLength()) - 1, &index)) return false;
  *addr = a.Data() + index;
  return true;
}

// socketpair(AF_UNIX, type): "stream" | "dgram" | "seqpacket".
Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  std::string kind;
  if (!CheckString(info, 0, &kind)) return info.Env().Undefined();
  int type = kind == "stream" ? SOCK_STREAM : kind == "dgram" ? SOCK_DGRAM : kind == "seqpacket" ? SOCK_SEQPACKET : -1;
  if (type < 0) {
    Napi::RangeError::New(info.Env(), "socket type must be stream, dgram or seqpacket").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  bool nonblock = info.Length() > 1 && info[1].ToBoolean();
  int fds[2];
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0, fds) != 0) return ThrowErrno(info.Env(), "socketpair", errno);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

// The fds a peer started before the objects existed receives later (the case's control
// channel carries JSON, so they travel on a Unix socket of their own).
constexpr size_t kMaxHandedFds = 16;

// sendmsg(SCM_RIGHTS): `fds` to the process at the other end of `sock`, with one byte.
Napi::Value SendFds(const Napi::CallbackInfo& info) {
  int64_t sock;
  if (!CheckInt(info, 0, 0, INT32_MAX, &sock)) return info.Env().Undefined();
  if (info.Length() < 2 || !info[1].IsArray() || info[1].As<Napi::Array>().Length() > kMaxHandedFds) {
    Napi::TypeError::New(info.Env(), "sendFds(sock, fds: number[]) with at most 16 fds").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Array list = info[1].As<Napi::Array>();
  size_t n = list.Length();
  int fds[kMaxHandedFds];
  for (uint32_t i = 0; i < n; i++) fds[i] = list.Get(i).As<Napi::Number>().Int32Value();
  char byte = 'f';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxHandedFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (n > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  }
  ssize_t r;
  do r = sendmsg(static_cast<int>(sock), &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "sendmsg", errno, "SCM_RIGHTS");
  return info.Env().Undefined();
}

// recvmsg(SCM_RIGHTS) on `sock` (blocking), each fd received then moved by dup2 onto
// first, first + 1, …: the numbers the peer would have had from its spawn. Returns how many.
Napi::Value ReceiveFdsAt(const Napi::CallbackInfo& info) {
  int64_t sock, first;
  if (!CheckInt(info, 0, 0, INT32_MAX, &sock) || !CheckInt(info, 1, 0, INT32_MAX - 64, &first)) return info.Env().Undefined();
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxHandedFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t r;
  do r = recvmsg(static_cast<int>(sock), &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "recvmsg", errno, "SCM_RIGHTS");
  if (r == 0) return ThrowErrno(info.Env(), "recvmsg", EPIPE, "the sender closed before handing its fds");
  if (msg.msg_flags & MSG_CTRUNC) return ThrowErrno(info.Env(), "recvmsg", EMSGSIZE, "more fds than a peer takes");
  int got[kMaxHandedFds];
  size_t n = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    memcpy(got + n, CMSG_DATA(c), sizeof(int) * k);
    n += k;
  }
  for (size_t i = 0; i < n; i++) {
    int target = static_cast<int>(first) + static_cast<int>(i);
    if (got[i] == target) continue;
    if (dup2(got[i], target) < 0) return ThrowErrno(info.Env(), "dup2", errno);
    close(got[i]);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// waitpid(WNOHANG) of a child this process did not spawn through libuv (a peer started
// beside it, ipcfloor --launch-pair): {code} or {signal} once it has ended, else undefined.
Napi::Value Reap(const Napi::CallbackInfo& info) {
  int64_t pid;
  if (!CheckInt(info, 0, 1, INT32_MAX, &pid)) return info.Env().Undefined();
  int status = 0;
  pid_t r;
  do r = waitpid(static_cast<pid_t>(pid), &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "waitpid", errno);
  if (r == 0) return info.Env().Undefined();
  Napi::Object o = Napi::Object::New(info.Env());
  if (WIFSIGNALED(status)) o.Set("signal", WTERMSIG(status));
  else o.Set("code", WEXITSTATUS(status));
  return o;
}

// setsockopt SO_SNDBUF / SO_RCVBUF, and their values as the kernel applied them.
Napi::Value SocketBuffers(const Napi::CallbackInfo& info) {
  int64_t fd, want;
  if (!CheckInt(info, 0, 0, INT32_MAX, &fd) || !CheckInt(info, 1, 0, INT32_MAX, &want)) return info.Env().Undefined();
  int v = static_cast<int>(want);
  if (v > 0) {
    if (setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_SNDBUF, &v, sizeof v) != 0) return ThrowErrno(info.Env(), "setsockopt", errno, "SO_SNDBUF");
    if (setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0) return ThrowErrno(info.Env(), "setsockopt", errno, "SO_RCVBUF");
  }
  int snd = 0, rcv = 0;
  socklen_t len = sizeof snd;
  getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_SNDBUF, &snd, &len);
  len = sizeof rcv;
  getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_RCVBUF, &rcv, &len);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("sndbuf", snd);
  o.Set("rcvbuf", rcv);
  return o;
}


// fd readiness on the event loop's own thread: a libuv poll handle (epoll, as libuv
// watches its own streams), so a wake-up costs no thread hop. watchFd(fd, callback)
// returns a watcher; watch(events) sets what it waits for (1 readable, 2 writable,
// 0 nothing), close() stops it for good. callback(events) runs on the loop thread
// with the events that are ready, or a negative libuv status on error; microtasks
// and process.nextTick callbacks queued by it run when it returns, as after any
// event-loop callback. A watcher left open when its environment (a worker thread)
// ends is closed by an async clean-up hook, so the loop is never closed under it.
struct FdWatch {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback = nullptr;
  napi_async_context context = nullptr;
  napi_async_cleanup_hook_handle cleanup = nullptr;
  int events = 0;
  bool closing = false;
  FdWatch** owner = nullptr;  // the JS object's pointer to this, cleared on close
};

void FdWatchClosed(uv_handle_t* h) {
  FdWatch* w = static_cast<FdWatch*>(h->data);
  if (w->cleanup) napi_remove_async_cleanup_hook(w->cleanup);
  delete w;
}

// Idempotent; the JS side may close after the environment's clean-up hook did.
void FdWatchClose(FdWatch* w) {
  if (w->closing) return;
  w->closing = true;
  if (w->owner) *w->owner = nullptr;
  w->owner = nullptr;
  uv_poll_stop(&w->handle);
  if (w->callback) napi_delete_reference(w->env, w->callback);
  if (w->context) napi_async_destroy(w->env, w->context);
  w->callback = nullptr;
  w->context = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->handle), FdWatchClosed);
}

void FdWatchCleanupHook(napi_async_cleanup_hook_handle, void* arg) { FdWatchClose(static_cast<FdWatch*>(arg)); }

void FdWatchReady(uv_poll_t* h, int status, int events) {
  FdWatch* w = static_cast<FdWatch*>(h->data);
  if (w->closing) return;
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  napi_value fn, recv, arg, result;
  napi_get_reference_value(w->env, w->callback, &fn);
  napi_get_global(w->env, &recv);
  napi_create_int32(w->env, status < 0 ? status : events, &arg);
  if (napi_make_callback(w->env, w->context, recv, fn, 1, &arg, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(w->env, &err);
    napi_fatal_exception(w->env, err);
  }
}

class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "FdWatcher", {InstanceMethod("watch", &FdWatcher::Watch), InstanceMethod("close", &FdWatcher::Close)});
  }
  FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdWatcher>(info) {
    Napi::Env env = info.Env();
    int64_t fd;
    if (!CheckInt(info, 0, 0, INT32_MAX, &fd)) return;
    if (info.Length() < 2 || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "argument 2 must be a function").ThrowAsJavaScriptException();
      return;
    }
    uv_loop_t* loop;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      Napi::Error::New(env, "no event loop").ThrowAsJavaScriptException();
      return;
    }
    FdWatch* w = new FdWatch();
    w->env = env;
    int rc = uv_poll_init(loop, &w->handle, static_cast<int>(fd));
    if (rc != 0) {
      delete w;
      ThrowErrno(env, "uv_poll_init", -rc);
      return;
    }
    w->handle.data = w;
    napi_create_reference(env, info[1], 1, &w->callback);
    napi_value name;
    napi_create_string_utf8(env, "ipcbench:FdWatcher", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, info.This(), name, &w->context);
    napi_add_async_cleanup_hook(env, FdWatchCleanupHook, w, &w->cleanup);
    watch_ = w;
    w->owner = &watch_;
  }
  ~FdWatcher() override { Stop(); }

 private:
  void Stop() {
    if (watch_) FdWatchClose(watch_);
  }
  Napi::Value Watch(const Napi::CallbackInfo& info) {
    int64_t events;
    if (!CheckInt(info, 0, 0, 3, &events)) return info.Env().Undefined();
    if (!watch_) return ThrowErrno(info.Env(), "uv_poll_start", EBADF, "closed");
    if (events == watch_->events) return info.Env().Undefined();
    // Held while it waits: a watcher nobody references must still call back.
    if (watch_->events == 0 && events != 0) Ref();
    if (watch_->events != 0 && events == 0) Unref();
    watch_->events = static_cast<int>(events);
    int rc = events == 0 ? uv_poll_stop(&watch_->handle) : uv_poll_start(&watch_->handle, static_cast<int>(events), FdWatchReady);
    if (rc != 0) return ThrowErrno(info.Env(), "uv_poll_start", -rc);
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (watch_ && watch_->events != 0) Unref();
    Stop();
    return info.Env().Undefined();
  }
  FdWatch* watch_ = nullptr;
};

// pidfd_open(pid) → an fd that polls readable once the process has exited: a
// peer's death seen by the event loop without a timer.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int64_t pid;
  if (!CheckInt(info, 0, 1, INT32_MAX, &pid)) return info.Env().Undefined();
  long fd = syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0);
  if (fd < 0) return ThrowErrno(info.Env(), "pidfd_open", errno);  // the kernel sets O_CLOEXEC on every pidfd
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

// DieWithParent(expectedParentPid): this process gets SIGKILL when the process that
// started it ends, however it ends (an orchestrator killed with SIGKILL runs no clean-up
// of its own, and a case process or peer blocked in a system call could not notice).
// What the killed process created carries its pid, so the next run's clean-up removes
// it. False when the parent had already gone before the request took effect.
Napi::Value DieWithParent(const Napi::CallbackInfo& info) {
  int64_t parent;
  if (!CheckInt(info, 0, 1, INT32_MAX, &parent)) return info.Env().Undefined();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return ThrowErrno(info.Env(), "prctl", errno, "PR_SET_PDEATHSIG");
  return Napi::Boolean::New(info.Env(), getppid() == static_cast<pid_t>(parent));
}

struct Mapping {
  void* addr;
  size_t len;
  bool sysv;
  bool* unmapped;  // set by Unmap while ExternalBuffer is still deciding who unmaps
};

void Unmap(Napi::Env, void*, Mapping* m) {
  if (m->unmapped) *m->unmapped = true;
  if (m->sysv) shmdt(m->addr);
  else munmap(m->addr, m->len);
  delete m;
}

Napi::Value ExternalBuffer(Napi::Env env, void* addr, size_t len, bool sysv) {
  bool unmapped = false;
  Mapping* m = new Mapping{addr, len, sysv, &unmapped};
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(env, addr, len, [](napi_env e, void* data, void* hint) { Unmap(Napi::Env(e), data, static_cast<Mapping*>(hint)); }, m, &ab);
  if (st != napi_ok) {
    // Node runs the finalizer itself when it refuses a length (beyond Buffer's
    // kMaxLength, with its own RangeError pending): then unmap and throw only once.
    if (!unmapped) Unmap(env, addr, m);
    if (!env.IsExceptionPending()) Napi::Error::New(env, "this runtime refuses external ArrayBuffers (napi_create_external_arraybuffer failed)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  m->unmapped = nullptr;
  return Napi::Value(env, ab);
}

// shmMap(name, bytes, create): shm_open (O_CREAT|O_EXCL, 0600 when creating) + ftruncate + mmap(MAP_SHARED).
// The mapping lives as long as the returned ArrayBuffer; the fd is closed at once.
Napi::Value ShmMap(const Napi::CallbackInfo& info) {
  std::string name;
  int64_t bytes;
  if (!CheckIpcName(info, 0, &name) || !CheckInt(info, 1, 1, int64_t(1) << 34, &bytes)) return info.Env().Undefined();
  bool create = info.Length() > 2 && info[2].ToBoolean();
  int fd = shm_open(name.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
  if (fd < 0) return ThrowErrno(info.Env(), "shm_open", errno, name);
  // From here on a failure removes the name when this call created it (O_EXCL: it is ours).
  auto fail = [&](const char* syscall, int e, const std::string& what) {
    close(fd);
    if (create) shm_unlink(name.c_str());
    return ThrowErrno(info.Env(), syscall, e, what);
  };
  struct stat st;
  if (create && ftruncate(fd, static_cast<off_t>(bytes)) != 0) return fail("ftruncate", errno, name);
  if (fstat(fd, &st) != 0 || st.st_size < bytes) return fail("fstat", errno ? errno : EINVAL, name + " is smaller than asked");
  void* addr = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return fail("mmap", errno, name);
  close(fd);
  Napi::Value ab = ExternalBuffer(info.Env(), addr, static_cast<size_t>(bytes), false);
  if (create && info.Env().IsExceptionPending()) shm_unlink(name.c_str());  // ExternalBuffer unmapped and threw
  return ab;
}

Napi::Value ShmUnlink(const Napi::CallbackInfo& info) {
  std::string name;
  if (!CheckIpcName(info, 0, &name)) return info.Env().Undefined();
  if (shm_unlink(name.c_str()) != 0 && errno != ENOENT) return ThrowErrno(info.Env(), "shm_unlink", errno, name);
  return info.Env().Undefined();
}

long Futex(int32_t* addr, int op, int32_t val, const struct timespec* ts) {
  return syscall(SYS_futex, addr, op, val, ts, nullptr, 0);
}

struct timespec MsToTimespec(int64_t ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000;
  return ts;
}

// futexWait(i32, index, expected, timeoutMs = -1): non-private FUTEX_WAIT, so it
// works on memory shared between processes. "ok" | "not-equal" | "timed-out".
Napi::Value FutexWait(const Napi::CallbackInfo& info) {
  int32_t* addr;
  int64_t expected, timeout = -1;
  if (!CheckI32(info, 0, &addr) || !CheckInt(info, 2, INT32_MIN, INT32_MAX, &expected)) return info.Env().Undefined();
  if (info.Length() > 3 && !CheckInt(info, 3, -1, INT32_MAX, &timeout)) return info.Env().Undefined();
  struct timespec ts = MsToTimespec(timeout);
  for (;;) {
    long r = Futex(addr, FUTEX_WAIT, static_cast<int32_t>(expected), timeout >= 0 ? &ts : nullptr);
    if (r == 0) return Napi::String::New(info.Env(), "ok");
    if (errno == EAGAIN) return Napi::String::New(info.Env(), "not-equal");
    if (errno == ETIMEDOUT) return Napi::String::New(info.Env(), "timed-out");
    if (errno == EINTR) {
      if (g_peer_gone.load() != 0) {
        // The word moved before the peer went: a wake-up like any other (the caller looks again).
        if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != static_cast<int32_t>(expected)) return Napi::String::New(info.Env(), "ok");
        return ThrowPeerGone(info.Env());
      }
      continue;
    }
    return ThrowErrno(info.Env(), "futex", errno, "FUTEX_WAIT");
  }
}

Napi::Value FutexWake(const Napi::CallbackInfo& info) {
  int32_t* addr;
  int64_t count = 1;
  if (!CheckI32(info, 0, &addr)) return info.Env().Undefined();
  if (info.Length() > 2 && !CheckInt(info, 2, 1, INT32_MAX, &count)) return info.Env().Undefined();
  long r = Futex(addr, FUTEX_WAKE, static_cast<int32_t>(count), nullptr);
  if (r < 0) return ThrowErrno(info.Env(), "futex", errno, "FUTEX_WAKE");
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

// The same wait on a pool thread, resolving a promise; the array is kept alive meanwhile.
class FutexWorker : public Napi::AsyncWorker {
 public:
  FutexWorker(Napi::Env env, Napi::Object array, int32_t* addr, int32_t expected, int64_t timeoutMs)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), addr_(addr), expected_(expected), timeoutMs_(timeoutMs) {
    keep_ = Napi::Persistent(array);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    struct timespec ts = MsToTimespec(timeoutMs_);
    for (;;) {
      long r = Futex(addr_, FUTEX_WAIT, expected_, timeoutMs_ >= 0 ? &ts : nullptr);
      if (r == 0) result_ = "ok";
      else if (errno == EAGAIN) result_ = "not-equal";
      else if (errno == ETIMEDOUT) result_ = "timed-out";
      else if (errno == EINTR) continue;
      else err_ = errno;  // errno is per thread: keep it for OnOK, which runs on the main thread
      return;
    }
  }
  void OnOK() override {
    keep_.Reset();
    if (err_ != 0) deferred_.Reject(ErrnoError(Env(), "futex", err_, "FUTEX_WAIT").Value());
    else deferred_.Resolve(Napi::String::New(Env(), result_));
  }
  void OnError(const Napi::Error& e) override {
    keep_.Reset();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference keep_;
  int32_t* addr_;
  int32_t expected_;
  int64_t timeoutMs_;
  const char* result_ = "ok";
  int err_ = 0;
};

Napi::Value FutexWaitAsync(const Napi::CallbackInfo& info) {
  int32_t* addr;
  int64_t expected, timeout = -1;
  if (!CheckI32(info, 0, &addr) || !CheckInt(info, 2, INT32_MIN, INT32_MAX, &expected)) return info.Env().Undefined();
  if (info.Length() > 3 && !CheckInt(info, 3, -1, INT32_MAX, &timeout)) return info.Env().Undefined();
  FutexWorker* w = new FutexWorker(info.Env(), info[0].As<Napi::Object>(), addr, static_cast<int32_t>(expected), timeout);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// mqOpen(name, create, maxmsg, msgsize, nonblock) → mqd (an fd on Linux). Creating is O_EXCL, mode 0600.
Napi::Value MqOpen(const Napi::CallbackInfo& info) {
  std::string name;
  int64_t maxmsg, msgsize;
  if (!CheckIpcName(info, 0, &name) || !CheckInt(info, 2, 0, INT32_MAX, &maxmsg) || !CheckInt(info, 3, 0, INT32_MAX, &msgsize)) return info.Env().Undefined();
  bool create = info[1].ToBoolean();
  bool nonblock = info.Length() > 4 && info[4].ToBoolean();
  struct mq_attr attr = {};
  attr.mq_maxmsg = maxmsg;
  attr.mq_msgsize = msgsize;
  int flags = O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0) | (create ? O_CREAT | O_EXCL : 0);
  mqd_t q = create ? mq_open(name.c_str(), flags, 0600, &attr) : mq_open(name.c_str(), flags);
  if (q == (mqd_t)-1) return ThrowErrno(info.Env(), "mq_open", errno, name);
  return Napi::Number::New(info.Env(), q);
}

// mqSend(mqd, buf, off, len) → 0, or -EAGAIN on a non-blocking full queue.
Napi::Value MqSend(const Napi::CallbackInfo& info) {
  int64_t q;
  uint8_t* data;
  size_t len;
  if (!CheckInt(info, 0, 0, INT32_MAX, &q) || !CheckBuf(info, 1, &data, &len)) return info.Env().Undefined();
  for (;;) {
    if (mq_send(static_cast<mqd_t>(q), reinterpret_cast<const char*>(data), len, 0) == 0) return Napi::Number::New(info.Env(), 0);
    if (errno == EINTR) {
      if (g_peer_gone.load() != 0) return ThrowPeerGone(info.Env());
      continue;
    }
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);
    return ThrowErrno(info.Env(), "mq_send", errno);
  }
}

// mqReceive(mqd, buf, off, len, timeoutMs = -1) → bytes, -EAGAIN (empty, non-blocking) or -ETIMEDOUT.
Napi::Value MqReceive(const Napi::CallbackInfo& info) {
  int64_t q, timeout = -1;
  uint8_t* data;
  size_t len;
  if (!CheckInt(info, 0, 0, INT32_MAX, &q) || !CheckBuf(info, 1, &data, &len)) return info.Env().Undefined();
  if (info.Length() > 4 && !CheckInt(info, 4, -1, INT32_MAX, &timeout)) return info.Env().Undefined();
  for (;;) {
    ssize_t n;
    if (timeout >= 0) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += timeout / 1000;
      ts.tv_nsec += (timeout % 1000) * 1000000;
      if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
      }
      n = mq_timedreceive(static_cast<mqd_t>(q), reinterpret_cast<char*>(data), len, nullptr, &ts);
    } else {
      n = mq_receive(static_cast<mqd_t>(q), reinterpret_cast<char*>(data), len, nullptr);
    }
    if (n >= 0) return Napi::Number::New(info.Env(), static_cast<double>(n));
    if (errno == EINTR) {
      // On Linux a queue descriptor is an fd that poll(2) can watch.
      if (g_peer_gone.load() != 0 && !ReadableNow(static_cast<int>(q))) return ThrowPeerGone(info.Env());
      continue;
    }
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);
    if (errno == ETIMEDOUT) return Napi::Number::New(info.Env(), -ETIMEDOUT);
    return ThrowErrno(info.Env(), "mq_receive", errno);
  }
}

Napi::Value MqGetattr(const Napi::CallbackInfo& info) {
  int64_t q;
  if (!CheckInt(info, 0, 0, INT32_MAX, &q)) return info.Env().Undefined();
  struct mq_attr a;
  if (mq_getattr(static_cast<mqd_t>(q), &a) != 0) return ThrowErrno(info.Env(), "mq_getattr", errno);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("maxmsg", static_cast<double>(a.mq_maxmsg));
  o.Set("msgsize", static_cast<double>(a.mq_msgsize));
  o.Set("curmsgs", static_cast<double>(a.mq_curmsgs));
  o.Set("nonblocking", (a.mq_flags & O_NONBLOCK) != 0);
  return o;
}

Napi::Value MqUnlink(const Napi::CallbackInfo& info) {
  std::string name;
  if (!CheckIpcName(info, 0, &name)) return info.Env().Undefined();
  if (mq_unlink(name.c_str()) != 0 && errno != ENOENT) return ThrowErrno(info.Env(), "mq_unlink", errno, name);
  return info.Env().Undefined();
}

// System V message queue, private, mode 0600.
Napi::Value MsgGet(const Napi::CallbackInfo& info) {
  int id = msgget(IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) return ThrowErrno(info.Env(), "msgget", errno);
  return Napi::Number::New(info.Env(), id);
}

// msgSnd(id, mtype, buf, off, len, nowait) → 0 or -EAGAIN.
Napi::Value MsgSnd(const Napi::CallbackInfo& info) {
  int64_t id, type;
  uint8_t* data;
  size_t len;
  if (!CheckInt(info, 0, 0, INT32_MAX, &id) || !CheckInt(info, 1, 1, INT32_MAX, &type) || !CheckBuf(info, 2, &data, &len)) return info.Env().Undefined();
  bool nowait = info.Length() > 5 && info[5].ToBoolean();
  thread_local std::vector<uint8_t> scratch;
  scratch.resize(sizeof(long) + len);
  long mtype = static_cast<long>(type);
  memcpy(scratch.data(), &mtype, sizeof mtype);
  memcpy(scratch.data() + sizeof mtype, data, len);
  for (;;) {
    if (msgsnd(static_cast<int>(id), scratch.data(), len, nowait ? IPC_NOWAIT : 0) == 0) return Napi::Number::New(info.Env(), 0);
    if (errno == EINTR) {
      if (g_peer_gone.load() != 0) return ThrowPeerGone(info.Env());
      continue;
    }
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);
    return ThrowErrno(info.Env(), "msgsnd", errno);
  }
}

// msgRcv(id, mtype, buf, off, len, nowait) → bytes, -EAGAIN (ENOMSG with IPC_NOWAIT) or -EINTR.
Napi::Value MsgRcv(const Napi::CallbackInfo& info) {
  int64_t id, type;
  uint8_t* data;
  size_t len;
  if (!CheckInt(info, 0, 0, INT32_MAX, &id) || !CheckInt(info, 1, 1, INT32_MAX, &type) || !CheckBuf(info, 2, &data, &len)) return info.Env().Undefined();
  bool nowait = info.Length() > 5 && info[5].ToBoolean();
  thread_local std::vector<uint8_t> scratch;
  scratch.resize(sizeof(long) + len);
  for (;;) {
    ssize_t n = msgrcv(static_cast<int>(id), scratch.data(), len, static_cast<long>(type), nowait ? IPC_NOWAIT : 0);
    if (n >= 0) {
      memcpy(data, scratch.data() + sizeof(long), static_cast<size_t>(n));
      return Napi::Number::New(info.Env(), static_cast<double>(n));
    }
    // msgrcv is never restarted after a signal: say so, so the caller can check its
    // peer (a dead child's SIGCHLD lands here) before waiting again.
    if (errno == EINTR) return Napi::Number::New(info.Env(), -EINTR);
    if (errno == ENOMSG || errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);
    return ThrowErrno(info.Env(), "msgrcv", errno);
  }
}

Napi::Value MsgRmid(const Napi::CallbackInfo& info) {
  int64_t id;
  if (!CheckInt(info, 0, 0, INT32_MAX, &id)) return info.Env().Undefined();
  if (msgctl(static_cast<int>(id), IPC_RMID, nullptr) != 0 && errno != EINVAL && errno != EIDRM) return ThrowErrno(info.Env(), "msgctl", errno, "IPC_RMID");
  return info.Env().Undefined();
}

// System V shared memory: shmGet(bytes) → id (private, 0600); shmAttach(id, bytes) → ArrayBuffer (shmdt when collected).
Napi::Value ShmGet(const Napi::CallbackInfo& info) {
  int64_t bytes;
  if (!CheckInt(info, 0, 1, int64_t(1) << 34, &bytes)) return info.Env().Undefined();
  int id = shmget(IPC_PRIVATE, static_cast<size_t>(bytes), IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) return ThrowErrno(info.Env(), "shmget", errno);
  return Napi::Number::New(info.Env(), id);
}

Napi::Value ShmAttach(const Napi::CallbackInfo& info) {
  int64_t id, bytes;
  if (!CheckInt(info, 0, 0, INT32_MAX, &id) || !CheckInt(info, 1, 1, int64_t(1) << 34, &bytes)) return info.Env().Undefined();
  struct shmid_ds ds;
  if (shmctl(static_cast<int>(id), IPC_STAT, &ds) != 0) return ThrowErrno(info.Env(), "shmctl", errno, "IPC_STAT");
  if (ds.shm_segsz < static_cast<size_t>(bytes)) return ThrowErrno(info.Env(), "shmat", EINVAL, "segment smaller than asked");
  void* addr = shmat(static_cast<int>(id), nullptr, 0);
  if (addr == reinterpret_cast<void*>(-1)) return ThrowErrno(info.Env(), "shmat", errno);
  return ExternalBuffer(info.Env(), addr, static_cast<size_t>(bytes), true);
}

Napi::Value ShmRmid(const Napi::CallbackInfo& info) {
  int64_t id;
  if (!CheckInt(info, 0, 0, INT32_MAX, &id)) return info.Env().Undefined();
  if (shmctl(static_cast<int>(id), IPC_RMID, nullptr) != 0 && errno != EINVAL && errno != EIDRM) return ThrowErrno(info.Env(), "shmctl", errno, "IPC_RMID");
  return info.Env().Undefined();
}

// Semaphores (shm-sem, sysv-sem). POSIX: a sem_t in memory both sides map, named by
// (Int32Array, index of its first word) and made with sem_init(pshared = 1), so a wait
// in one process is ended by a post from another. System V: a set from semget. A wait
// sleeps at most sliceMs and then returns -ETIMEDOUT (POSIX) or -EAGAIN (System V), so
// the caller can look at its peer between slices; a PeerWatchdog's signal ends it at
// once (EPEERCLOSED). The ring header keeps 32 bytes for each sem_t (ring-layout.ts).
static_assert(sizeof(sem_t) <= 32, "a sem_t must fit the 32 bytes the ring header keeps for it");

bool CheckSem(const Napi::CallbackInfo& info, size_t i, sem_t** out) {
  int32_t* addr;
  if (!CheckI32(info, i, &addr)) return false;
  Napi::Int32Array a = info[i].As<Napi::Int32Array>();
  size_t first = static_cast<size_t>(addr - a.Data());
  if (first * 4 + sizeof(sem_t) > a.ElementLength() * 4 || reinterpret_cast<uintptr_t>(addr) % alignof(sem_t) != 0) {
    Napi::RangeError::New(info.Env(), "no room for an aligned sem_t at this index").ThrowAsJavaScriptException();
    return false;
  }
  *out = reinterpret_cast<sem_t*>(addr);
  return true;
}

// semInit(i32, index, value): sem_init(pshared = 1).
Napi::Value SemInit(const Napi::CallbackInfo& info) {
  sem_t* s;
  int64_t value;
  if (!CheckSem(info, 0, &s) || !CheckInt(info, 2, 0, SEM_VALUE_MAX, &value)) return info.Env().Undefined();
  if (sem_init(s, 1, static_cast<unsigned>(value)) != 0) return ThrowErrno(info.Env(), "sem_init", errno);
  return info.Env().Undefined();
}

Napi::Value SemDestroy(const Napi::CallbackInfo& info) {
  sem_t* s;
  if (!CheckSem(info, 0, &s)) return info.Env().Undefined();
  if (sem_destroy(s) != 0) return ThrowErrno(info.Env(), "sem_destroy", errno);
  return info.Env().Undefined();
}

Napi::Value SemPost(const Napi::CallbackInfo& info) {
  sem_t* s;
  if (!CheckSem(info, 0, &s)) return info.Env().Undefined();
  if (sem_post(s) != 0) return ThrowErrno(info.Env(), "sem_post", errno);
  return info.Env().Undefined();
}

// semWait(i32, index, sliceMs) → 0, or -ETIMEDOUT when the slice ran out. A value
// already there is taken without reading the clock (sem_trywait); only a wait that
// must sleep computes its deadline (sem_timedwait takes CLOCK_REALTIME: a clock step
// changes only how long one slice lasts).
Napi::Value SemWait(const Napi::CallbackInfo& info) {
  sem_t* s;
  int64_t slice;
  if (!CheckSem(info, 0, &s) || !CheckInt(info, 2, 1, INT32_MAX, &slice)) return info.Env().Undefined();
  if (sem_trywait(s) == 0) return Napi::Number::New(info.Env(), 0);
  if (errno != EAGAIN && errno != EINTR) return ThrowErrno(info.Env(), "sem_trywait", errno);
  for (;;) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += slice / 1000;
    ts.tv_nsec += (slice % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    if (sem_timedwait(s, &ts) == 0) return Napi::Number::New(info.Env(), 0);
    if (errno == ETIMEDOUT) return Napi::Number::New(info.Env(), -ETIMEDOUT);
    if (errno == EINTR) {
      if (g_peer_gone.load() != 0) return sem_trywait(s) == 0 ? Napi::Number::New(info.Env(), 0) : ThrowPeerGone(info.Env());
      continue;
    }
    return ThrowErrno(info.Env(), "sem_timedwait", errno);
  }
}

Napi::Value SemValue(const Napi::CallbackInfo& info) {
  sem_t* s;
  if (!CheckSem(info, 0, &s)) return info.Env().Undefined();
  int v = 0;
  if (sem_getvalue(s, &v) != 0) return ThrowErrno(info.Env(), "sem_getvalue", errno);
  return Napi::Number::New(info.Env(), v);
}

// System V: semGet(nsems) → id (IPC_PRIVATE, mode 0600).
Napi::Value SysvSemGet(const Napi::CallbackInfo& info) {
  int64_t n;
  if (!CheckInt(info, 0, 1, 1024, &n)) return info.Env().Undefined();
  int id = semget(IPC_PRIVATE, static_cast<int>(n), IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) return ThrowErrno(info.Env(), "semget", errno);
  return Napi::Number::New(info.Env(), id);
}

union SemArg {
  int val;
  struct semid_ds* buf;
  unsigned short* array;
};

// sysvSemSet(id, num, value): semctl SETVAL; sysvSemGetVal(id, num): GETVAL.
Napi::Value SysvSemSet(const Napi::CallbackInfo& info) {
  int64_t id, num, value;
  if (!CheckInt(info, 0, 0, INT32_MAX, &id) || !CheckInt(info, 1, 0, 1023, &num) || !CheckInt(info, 2, 0, 32767, &value)) return info.Env().Undefined();
  SemArg arg;
  arg.val = static_cast<int>(value);
  if (semctl(static_cast<int>(id), static_cast<int>(num), SETVAL, arg) != 0) return ThrowErrno(info.Env(), "semctl", errno, "SETVAL");
  return info.Env().Undefined();
}

Napi::Value SysvSemGetVal(const Napi::CallbackInfo& info) {
  int64_t id, num;
  if (!CheckInt(info, 0, 0, INT32_MAX, &id) || !CheckInt(info, 1, 0, 1023, &num)) return info.Env().Undefined();
  int v = semctl(static_cast<int>(id), static_cast<int>(num), GETVAL);
  if (v < 0) return ThrowErrno(info.Env(), "semctl", errno, "GETVAL");
  return Napi::Number::New(info.Env(), v);
}

// sysvSemOp(id, num, delta, undo, sliceMs) → 0, or -EAGAIN when a wait's slice ran out
// (sliceMs -1: no deadline, for a post, which never sleeps). semtimedop is never
// restarted after a signal: a watchdog's ends the wait, any other is a retry.
Napi::Value SysvSemOp(const Napi::CallbackInfo& info) {
  int64_t id, num, delta, slice;
  if (!CheckInt(info, 0, 0, INT32_MAX, &id) || !CheckInt(info, 1, 0, 1023, &num) || !CheckInt(info, 2, -32767, 32767, &delta) ||
      !CheckInt(info, 4, -1, INT32_MAX, &slice))
    return info.Env().Undefined();
  struct sembuf op;
  op.sem_num = static_cast<unsigned short>(num);
  op.sem_op = static_cast<short>(delta);
  op.sem_flg = static_cast<short>(info[3].ToBoolean() ? SEM_UNDO : 0);
  struct timespec ts = MsToTimespec(slice < 0 ? 0 : slice);
  for (;;) {
    if (semtimedop(static_cast<int>(id), &op, 1, slice < 0 ? nullptr : &ts) == 0) return Napi::Number::New(info.Env(), 0);
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);
    if (errno == EINTR) {
      if (g_peer_gone.load() != 0) {
        struct sembuf now = op;
        now.sem_flg = static_cast<short>(now.sem_flg | IPC_NOWAIT);
        return semop(static_cast<int>(id), &now, 1) == 0 ? Napi::Number::New(info.Env(), 0) : ThrowPeerGone(info.Env());
      }
      continue;
    }
    return ThrowErrno(info.Env(), "semtimedop", errno);
  }
}

Napi::Value SysvSemRmid(const Napi::CallbackInfo& info) {
  int64_t id;
  if (!CheckInt(info, 0, 0, INT32_MAX, &id)) return info.Env().Undefined();
  if (semctl(static_cast<int>(id), 0, IPC_RMID) != 0 && errno != EINVAL && errno != EIDRM) return ThrowErrno(info.Env(), "semctl", errno, "IPC_RMID");
  return info.Env().Undefined();
}

// eventfd(initval, nonblock) → fd (EFD_CLOEXEC).
Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  int64_t init;
  if (!CheckInt(info, 0, 0, UINT32_MAX, &init)) return info.Env().Undefined();
  bool nonblock = info.Length() > 1 && info[1].ToBoolean();
  int fd = eventfd(static_cast<unsigned>(init), EFD_CLOEXEC | (nonblock ? EFD_NONBLOCK : 0));
  if (fd < 0) return ThrowErrno(info.Env(), "eventfd", errno);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value SigRtMin(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), SIGRTMIN);
}

bool CheckRtSignal(const Napi::CallbackInfo& info, size_t i, int* sig) {
  int64_t s;
  if (!CheckInt(info, i, SIGRTMIN, SIGRTMAX, &s)) return false;
  *sig = static_cast<int>(s);
  return true;
}

// Blocks a real-time signal in the calling thread only (it then waits for it with sigWait).
Napi::Value SigBlock(const Napi::CallbackInfo& info) {
  int sig;
  if (!CheckRtSignal(info, 0, &sig)) return info.Env().Undefined();
  bool block = info.Length() < 2 || info[1].ToBoolean();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  int e = pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, nullptr);
  if (e != 0) return ThrowErrno(info.Env(), "pthread_sigmask", e);
  return info.Env().Undefined();
}

// sigqueueThread(pid, tid, sig, value): rt_tgsigqueueinfo, a queued signal with an
// int payload directed at one thread (which has it blocked and waits for it).
Napi::Value SigqueueThread(const Napi::CallbackInfo& info) {
  int64_t pid, tid, value;
  int sig;
  if (!CheckInt(info, 0, 1, INT32_MAX, &pid) || !CheckInt(info, 1, 1, INT32_MAX, &tid) || !CheckRtSignal(info, 2, &sig) || !CheckInt(info, 3, INT32_MIN, INT32_MAX, &value)) return info.Env().Undefined();
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = sig;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = static_cast<int>(value);
  for (;;) {
    if (syscall(SYS_rt_tgsigqueueinfo, static_cast<pid_t>(pid), static_cast<pid_t>(tid), sig, &si) == 0) return Napi::Number::New(info.Env(), 0);
    if (errno == EINTR) {
      if (g_peer_gone.load() != 0) return ThrowPeerGone(info.Env());
      continue;
    }
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);  // the queue of pending signals is full
    return ThrowErrno(info.Env(), "rt_tgsigqueueinfo", errno);
  }
}

// sigWait(sig, timeoutMs = -1): sigwaitinfo (or sigtimedwait; 0 = poll once) on a
// blocked signal → its int payload; null when the time ran out. The payload of a
// signal sent without one reads as 0.
Napi::Value SigWait(const Napi::CallbackInfo& info) {
  int sig;
  int64_t timeout = -1;
  if (!CheckRtSignal(info, 0, &sig)) return info.Env().Undefined();
  if (info.Length() > 1 && !CheckInt(info, 1, -1, INT32_MAX, &timeout)) return info.Env().Undefined();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  siginfo_t si;
  struct timespec ts = MsToTimespec(timeout < 0 ? 0 : timeout);
  for (;;) {
    int r = timeout < 0 ? sigwaitinfo(&set, &si) : sigtimedwait(&set, &si, &ts);
    if (r == sig) return Napi::Number::New(info.Env(), si.si_value.sival_int);
    if (r < 0 && errno == EINTR) {
      if (g_peer_gone.load() != 0) {
        struct timespec zero = {0, 0};
        if (sigtimedwait(&set, &si, &zero) == sig) return Napi::Number::New(info.Env(), si.si_value.sival_int);
        return ThrowPeerGone(info.Env());
      }
      continue;
    }
    if (r < 0 && errno == EAGAIN) return info.Env().Null();
    return ThrowErrno(info.Env(), timeout < 0 ? "sigwaitinfo" : "sigtimedwait", errno);
  }
}

// PeerWatchdog(pid): a peer's death seen during a blocking wait without a deadline
// on the wait. A thread waits on pidfd_open(pid); once that process has exited it sets
// g_peer_gone and interrupts the thread that made the watchdog with SIGRTMAX (a
// handler that does nothing, installed without SA_RESTART, so the blocking system call
// returns EINTR and the call throws EPEERCLOSED), again every 20 ms until stop(),
// so a wait that starts after the first signal is interrupted too. Nothing runs on
// the measured path: the waits are the plain blocking calls.
void WatchdogSignal(int) {}

class PeerWatchdog : public Napi::ObjectWrap<PeerWatchdog> {
 public:
  static Napi::Function Init(Napi::Env env) { return DefineClass(env, "PeerWatchdog", {InstanceMethod("stop", &PeerWatchdog::Stop)}); }
  PeerWatchdog(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PeerWatchdog>(info) {
    int64_t pid;
    if (!CheckInt(info, 0, 1, INT32_MAX, &pid)) return;
    static bool installed = false;
    if (!installed) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = WatchdogSignal;
      sigemptyset(&sa.sa_mask);
      if (sigaction(SIGRTMAX, &sa, nullptr) != 0) {
        ThrowErrno(info.Env(), "sigaction", errno, "SIGRTMAX");
        return;
      }
      installed = true;
    }
    pid_ = static_cast<int>(pid);
    tid_ = static_cast<pid_t>(syscall(SYS_gettid));
    stop_ = eventfd(0, EFD_CLOEXEC);
    if (stop_ < 0) {
      ThrowErrno(info.Env(), "eventfd", errno);
      return;
    }
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
    if (pidfd_ < 0 && errno != ESRCH) {
      int e = errno;
      close(stop_);
      stop_ = -1;
      ThrowErrno(info.Env(), "pidfd_open", e);
      return;
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~PeerWatchdog() override { Join(); }

 private:
  void Run() {
    struct pollfd p[2] = {{stop_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
    // pidfd_ < 0: the process was gone before we looked.
    if (pidfd_ >= 0) {
      while (poll(p, 2, -1) < 0 && errno == EINTR) {
      }
      if (p[0].revents != 0) return;
    }
    g_peer_gone.store(pid_);
    for (;;) {
      syscall(SYS_tgkill, getpid(), tid_, SIGRTMAX);
      if (poll(p, 1, 20) > 0) return;
    }
  }
  void Join() {
    if (!thread_.joinable()) return;
    uint64_t one = 1;
    // An eventfd write of 1 to a counter at 0 cannot fail.
    ssize_t written = write(stop_, &one, 8);
    (void)written;
    thread_.join();
    // Its news ends with it: a later wait in this process is not "interrupted by a dead peer".
    int mine = pid_;
    g_peer_gone.compare_exchange_strong(mine, 0);
    close(stop_);
    if (pidfd_ >= 0) close(pidfd_);
    stop_ = pidfd_ = -1;
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Join();
    return info.Env().Undefined();
  }
  int pid_ = 0;
  pid_t tid_ = 0;
  int stop_ = -1;
  int pidfd_ = -1;
  std::thread thread_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe2", Napi::Function::New(env, Pipe2));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("getPipeSize", Napi::Function::New(env, GetPipeSize));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("write", Napi::Function::New(env, Write));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity));
  exports.Set("threadRusage", Napi::Function::New(env, ThreadRusage));
  exports.Set("gettid", Napi::Function::New(env, Gettid));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair));
  exports.Set("socketBuffers", Napi::Function::New(env, SocketBuffers));
  exports.Set("sendFds", Napi::Function::New(env, SendFds));
  exports.Set("receiveFdsAt", Napi::Function::New(env, ReceiveFdsAt));
  exports.Set("reap", Napi::Function::New(env, Reap));
  exports.Set("FdWatcher", FdWatcher::Init(env));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("dieWithParent", Napi::Function::New(env, DieWithParent));
  exports.Set("PeerWatchdog", PeerWatchdog::Init(env));
  exports.Set("shmMap", Napi::Function::New(env, ShmMap));
  exports.Set("shmUnlink", Napi::Function::New(env, ShmUnlink));
  exports.Set("futexWait", Napi::Function::New(env, FutexWait));
  exports.Set("futexWake", Napi::Function::New(env, FutexWake));
  exports.Set("futexWaitAsync", Napi::Function::New(env, FutexWaitAsync));
  exports.Set("mqOpen", Napi::Function::New(env, MqOpen));
  exports.Set("mqSend", Napi::Function::New(env, MqSend));
  exports.Set("mqReceive", Napi::Function::New(env, MqReceive));
  exports.Set("mqGetattr", Napi::Function::New(env, MqGetattr));
  exports.Set("mqUnlink", Napi::Function::New(env, MqUnlink));
  exports.Set("msgGet", Napi::Function::New(env, MsgGet));
  exports.Set("msgSnd", Napi::Function::New(env, MsgSnd));
  exports.Set("msgRcv", Napi::Function::New(env, MsgRcv));
  exports.Set("msgRmid", Napi::Function::New(env, MsgRmid));
  exports.Set("shmGet", Napi::Function::New(env, ShmGet));
  exports.Set("shmAttach", Napi::Function::New(env, ShmAttach));
  exports.Set("shmRmid", Napi::Function::New(env, ShmRmid));
  exports.Set("semInit", Napi::Function::New(env, SemInit));
  exports.Set("semDestroy", Napi::Function::New(env, SemDestroy));
  exports.Set("semPost", Napi::Function::New(env, SemPost));
  exports.Set("semWait", Napi::Function::New(env, SemWait));
  exports.Set("semValue", Napi::Function::New(env, SemValue));
  exports.Set("sysvSemGet", Napi::Function::New(env, SysvSemGet));
  exports.Set("sysvSemSet", Napi::Function::New(env, SysvSemSet));
  exports.Set("sysvSemGetVal", Napi::Function::New(env, SysvSemGetVal));
  exports.Set("sysvSemOp", Napi::Function::New(env, SysvSemOp));
  exports.Set("sysvSemRmid", Napi::Function::New(env, SysvSemRmid));
  exports.Set("eventfd", Napi::Function::New(env, Eventfd));
  exports.Set("sigRtMin", Napi::Function::New(env, SigRtMin));
  exports.Set("sigBlock", Napi::Function::New(env, SigBlock));
  exports.Set("sigqueueThread", Napi::Function::New(env, SigqueueThread));
  exports.Set("sigWait", Napi::Function::New(env, SigWait));
  return exports;
}

}  // namespace

NODE_API_MODULE(ipcbench_native, Init)

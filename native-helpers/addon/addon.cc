// ipcbench's native helper: thin wrappers over system calls Node has no API for.
// Each function checks its arguments, makes one system call, and throws an Error
// carrying code, errno and syscall. Policy (what to call when) stays in TypeScript.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <napi.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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
    default: return "EUNKNOWN";
  }
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int e, const std::string& what = "") {
  std::string msg = std::string(syscall) + (what.empty() ? "" : "(" + what + ")") + ": " + strerror(e);
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, ErrnoCode(e)));
  err.Set("errno", Napi::Number::New(env, e));
  err.Set("syscall", Napi::String::New(env, syscall));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool CheckInt(const Napi::CallbackInfo& info, size_t i, int64_t lo, int64_t hi, int64_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d)) || d < lo || d > hi) {
    Napi::RangeError::New(info.Env(), "argument " + std::to_string(i) + " out of range").ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

// Buffer argument with offset and length checked against its size.
bool CheckBuf(const Napi::CallbackInfo& info, size_t i, uint8_t** data, size_t* len) {
  if (info.Length() <= i + 2 || !info[i].IsTypedArray()) {
    Napi::TypeError::New(info.Env(), "expected (Uint8Array, offset, length)").ThrowAsJavaScriptException();
    return false;
  }
  Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(info.Env(), "buffer must be a Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Uint8Array u8 = info[i].As<Napi::Uint8Array>();
  int64_t off, n;
  if (!CheckInt(info, i + 1, 0, static_cast<int64_t>(u8.ByteLength()), &off)) return false;
  if (!CheckInt(info, i + 2, 0, static_cast<int64_t>(u8.ByteLength()) - off, &n)) return false;
  *data = u8.Data() + off;
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

Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!CheckInt(info, 0, 0, INT32_MAX, &fd)) return info.Env().Undefined();
  bool on = info.Length() > 1 && info[1].ToBoolean();
  int flags = fcntl(static_cast<int>(fd), F_GETFL);
  if (flags < 0) return ThrowErrno(info.Env(), "fcntl", errno);
  flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (fcntl(static_cast<int>(fd), F_SETFL, flags) != 0) return ThrowErrno(info.Env(), "fcntl", errno);
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
    if (errno == EINTR) continue;
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
    if (errno == EINTR) continue;
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe2", Napi::Function::New(env, Pipe2));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("setNonBlocking", Napi::Function::New(env, SetNonBlocking));
  exports.Set("getPipeSize", Napi::Function::New(env, GetPipeSize));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("write", Napi::Function::New(env, Write));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity));
  exports.Set("threadRusage", Napi::Function::New(env, ThreadRusage));
  exports.Set("gettid", Napi::Function::New(env, Gettid));
  return exports;
}

}  // namespace

NODE_API_MODULE(ipcbench_native, Init)

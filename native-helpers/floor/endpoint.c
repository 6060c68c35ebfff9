// Endpoints: send and receive exactly one message of `size` bytes, in the mode the
// case asks for. Blocking calls sleep in the kernel; the event-loop mode receives
// by waiting in epoll_wait (what libuv does under Node's event loop) and then
// reading, and sends first, waiting only on EAGAIN; busy-poll retries at once. EINTR is a retry unless the peer failed (see peer_failed).
#include <errno.h>
#include <mqueue.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <unistd.h>

#include "floor.h"

volatile sig_atomic_t peer_failed;

int failf(struct failure *f, char side, const char *syscall, int err, const char *fmt, ...) {
  if (f->set) return -1;
  f->set = 1;
  f->side = side;
  f->err = err;
  snprintf(f->syscall, sizeof f->syscall, "%s", syscall ? syscall : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->message, sizeof f->message, fmt, ap);
  va_end(ap);
  return -1;
}

static int wait_fd(struct ep *e, int epfd) {
  struct epoll_event ev;
  for (;;) {
    int n = epoll_wait(epfd, &ev, 1, -1);
    if (n == 1) return 0;
    if (n < 0 && errno == EINTR) {
      if (peer_failed) return failf(e->f, e->side, "epoll_wait", EINTR, "interrupted: the peer failed");
      continue;
    }
    return failf(e->f, e->side, "epoll_wait", errno, "epoll_wait: %s", strerror(errno));
  }
}

// After a failed call: 0 to try again, -1 to give up.
static int retry(struct ep *e, int err, int epfd, const char *syscall) {
  if (err == EINTR) return peer_failed ? failf(e->f, e->side, syscall, EINTR, "interrupted: the peer failed") : 0;
  if (err == EAGAIN && e->mode == M_NONBLOCKING && epfd >= 0) return wait_fd(e, epfd);
  if (err == EAGAIN && e->mode == M_BUSY) return peer_failed ? failf(e->f, e->side, syscall, 0, "the peer failed") : 0;
  if (err == EPIPE || err == ECONNRESET) return failf(e->f, e->side, syscall, err, "the peer closed the channel (%s)", strerror(err));
  return failf(e->f, e->side, syscall, err, "%s: %s", syscall, strerror(err));
}

static int ring_failed(struct ep *e, int rc) {
  if (rc == -2) return failf(e->f, e->side, NULL, 0, "shared ring corrupted: the peer's counters claim more messages than slots");
  return failf(e->f, e->side, "futex", EINTR, "interrupted: the peer failed");
}

int ep_send(struct ep *e, const uint8_t *buf) {
  size_t size = e->size;
  switch (e->kind) {
    case K_FD_STREAM: {
      size_t off = 0;
      while (off < size) {
        ssize_t n = write(e->wfd, buf + off, size - off);
        if (n > 0) off += (size_t)n;
        else if (retry(e, errno, e->wep, "write") < 0) return -1;
      }
      return 0;
    }
    case K_FD_MSG:
      for (;;) {
        ssize_t n = write(e->wfd, buf, size);
        if (n == (ssize_t)size) return 0;
        if (n >= 0) return failf(e->f, e->side, "write", 0, "a datagram of %zu bytes was cut to %zd", size, n);
        if (retry(e, errno, e->wep, "write") < 0) return -1;
      }
    case K_EVENTFD: {
      uint64_t v;
      memcpy(&v, buf, 8);
      for (;;) {
        if (write(e->wfd, &v, 8) == 8) return 0;
        if (retry(e, errno, e->wep, "write") < 0) return -1;
      }
    }
    case K_MQ:
      for (;;) {
        if (mq_send(e->wfd, (const char *)buf, size, 0) == 0) return 0;
        if (retry(e, errno, e->wep, "mq_send") < 0) return -1;
      }
    case K_SYSV:
      memcpy(e->msgbuf, &e->txtype, sizeof(long));
      memcpy(e->msgbuf + sizeof(long), buf, size);
      for (;;) {
        if (msgsnd(e->msqid, e->msgbuf, size, e->mode == M_BUSY ? IPC_NOWAIT : 0) == 0) return 0;
        if (retry(e, errno, -1, "msgsnd") < 0) return -1;
      }
    case K_RING: {
      int rc = ring_send(&e->tx, buf, size, e->mode == M_BUSY, &peer_failed);
      return rc == 0 ? 0 : ring_failed(e, rc);
    }
    case K_SEMRING:
      return semring_send(e, buf);
  }
  return -1;
}

ssize_t ep_recv(struct ep *e, uint8_t *buf) {
  size_t size = e->size;
  // The event loop waits first, then reads what is ready: two system calls per
  // message, as libuv (and the Node side's watcher) makes; a read that finds nothing
  // waits again.
  if (e->mode == M_NONBLOCKING && e->rep >= 0 && wait_fd(e, e->rep) < 0) return -1;
  switch (e->kind) {
    case K_FD_STREAM: {
      size_t off = 0;
      while (off < size) {
        ssize_t n = read(e->rfd, buf + off, size - off);
        if (n > 0) off += (size_t)n;
        else if (n == 0) return failf(e->f, e->side, "read", 0, "the peer closed the channel");
        else if (retry(e, errno, e->rep, "read") < 0) return -1;
      }
      return (ssize_t)size;
    }
    case K_FD_MSG:
      for (;;) {
        ssize_t n = read(e->rfd, buf, size);
        if (n > 0) return n;
        if (n == 0) return failf(e->f, e->side, "read", 0, "the peer closed the channel");
        if (retry(e, errno, e->rep, "read") < 0) return -1;
      }
    case K_EVENTFD: {
      uint64_t v;
      for (;;) {
        if (read(e->rfd, &v, 8) == 8) {
          memcpy(buf, &v, 8);
          return 8;
        }
        if (retry(e, errno, e->rep, "read") < 0) return -1;
      }
    }
    case K_MQ:
      for (;;) {
        ssize_t n = mq_receive(e->rfd, (char *)buf, size, NULL);
        if (n >= 0) return n;
        if (retry(e, errno, e->rep, "mq_receive") < 0) return -1;
      }
    case K_SYSV:
      for (;;) {
        ssize_t n = msgrcv(e->msqid, e->msgbuf, size, e->rxtype, e->mode == M_BUSY ? IPC_NOWAIT : 0);
        if (n >= 0) {
          memcpy(buf, e->msgbuf + sizeof(long), (size_t)n);
          return n;
        }
        if (retry(e, errno == ENOMSG ? EAGAIN : errno, -1, "msgrcv") < 0) return -1;
      }
    case K_RING: {
      int rc = ring_recv(&e->rx, buf, size, e->mode == M_BUSY, &peer_failed);
      return rc == 0 ? (ssize_t)size : ring_failed(e, rc);
    }
    case K_SEMRING:
      return semring_recv(e, buf) == 0 ? (ssize_t)size : -1;
  }
  return -1;
}

// Channels: both ends of one mechanism, made before the fork (or the thread), the
// way the TypeScript mechanisms make them (same kernel objects, same sizes, same
// buffer settings), so that a C figure and a Node figure measure the same path.
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "floor.h"

static long read_proc_long(const char *path, long fallback) {
  FILE *f = fopen(path, "r");
  long v = fallback;
  if (f) {
    if (fscanf(f, "%ld", &v) != 1) v = fallback;
    fclose(f);
  }
  return v;
}

static void pair_eps(struct channel *c, enum kind kind, int a_r, int a_w, int b_r, int b_w) {
  c->a.kind = c->b.kind = kind;
  c->a.rfd = a_r;
  c->a.wfd = a_w;
  c->b.rfd = b_r;
  c->b.wfd = b_w;
}

// A process closes the other side's fds, so that its death reads as end-of-file.
static void close_fds(struct ep *e) {
  close(e->rfd);
  if (e->wfd != e->rfd) close(e->wfd);
}

static void no_close(struct ep *e) { (void)e; }

static int open_pipes(struct channel *c, struct failure *f) {
  int a2b[2], b2a[2];
  if (pipe2(a2b, O_CLOEXEC) != 0 || pipe2(b2a, O_CLOEXEC) != 0) return failf(f, 'a', "pipe2", errno, "pipe2: %s", strerror(errno));
  pair_eps(c, K_FD_STREAM, b2a[0], a2b[1], a2b[0], b2a[1]);
  c->close_side = close_fds;
  snprintf(c->describe, sizeof c->describe, "\"channel\":\"pipe2, one per direction (pipe:[…])\",\"pipeSizeBytes\":\"%d\"", fcntl(a2b[1], F_GETPIPE_SZ));
  return 0;
}

// Two FIFOs in a private directory; each end opened by path, then the names removed.
static int open_fifos(struct channel *c, struct failure *f) {
  char dir[256], a2b[300], b2a[300];
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(dir, sizeof dir, "%s/ipcbench-%d-floor-XXXXXX", tmp, (int)getpid());
  if (!mkdtemp(dir)) return failf(f, 'a', "mkdtemp", errno, "mkdtemp %s: %s", dir, strerror(errno));
  snprintf(a2b, sizeof a2b, "%s/a2b", dir);
  snprintf(b2a, sizeof b2a, "%s/b2a", dir);
  int fds[4] = {-1, -1, -1, -1}, rc = 0;
  if (mkfifo(a2b, 0600) != 0 || mkfifo(b2a, 0600) != 0) rc = failf(f, 'a', "mkfifo", errno, "mkfifo: %s", strerror(errno));
  // A reader opened O_NONBLOCK first lets the writer's open return at once.
  if (rc == 0) {
    fds[0] = open(a2b, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    fds[1] = open(a2b, O_WRONLY | O_CLOEXEC);
    fds[2] = open(b2a, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    fds[3] = open(b2a, O_WRONLY | O_CLOEXEC);
    for (int i = 0; i < 4; i++)
      if (fds[i] < 0) rc = failf(f, 'a', "open", errno, "open FIFO: %s", strerror(errno));
  }
  unlink(a2b);
  unlink(b2a);
  rmdir(dir);
  if (rc < 0) return rc;
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) & ~O_NONBLOCK);
  fcntl(fds[2], F_SETFL, fcntl(fds[2], F_GETFL) & ~O_NONBLOCK);
  pair_eps(c, K_FD_STREAM, fds[2], fds[1], fds[0], fds[3]);
  c->close_side = close_fds;
  snprintf(c->describe, sizeof c->describe, "\"channel\":\"mkfifo, one per direction, in a private directory\"");
  return 0;
}

// socketpair(AF_UNIX); datagram buffers sized as src/mechanisms/unix-sockets.ts does.
static int open_socketpair(struct channel *c, int type, size_t size, struct failure *f) {
  int sv[2];
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) return failf(f, 'a', "socketpair", errno, "socketpair: %s", strerror(errno));
  const long dflt = 212992, skb = 32;
  if (type != SOCK_STREAM && (long)size + skb > dflt / 4) {
    long wmem = read_proc_long("/proc/sys/net/core/wmem_max", dflt);
    long want = 2 * ((long)size + skb) > dflt ? 2 * ((long)size + skb) : dflt;
    int v = (int)(want < wmem ? want : wmem);
    for (int i = 0; i < 2; i++) {
      setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
      setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    }
  }
  pair_eps(c, type == SOCK_STREAM ? K_FD_STREAM : K_FD_MSG, sv[0], sv[0], sv[1], sv[1]);
  c->close_side = close_fds;
  int snd = 0;
  socklen_t len = sizeof snd;
  getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &snd, &len);
  const char *t = type == SOCK_STREAM ? "SOCK_STREAM" : type == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_SEQPACKET";
  snprintf(c->describe, sizeof c->describe, "\"channel\":\"socketpair(AF_UNIX, %s)\",\"sndbufBytes\":\"%d\"", t, snd);
  return 0;
}

// TCP over 127.0.0.1 with TCP_NODELAY: connect and accept before the fork.
static int open_tcp(struct channel *c, struct failure *f) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(l, 1) != 0 || getsockname(l, (struct sockaddr *)&addr, &len) != 0)
    return failf(f, 'a', "listen", errno, "TCP listener on 127.0.0.1: %s", strerror(errno));
  int x = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (x < 0 || connect(x, (struct sockaddr *)&addr, sizeof addr) != 0) return failf(f, 'a', "connect", errno, "connect: %s", strerror(errno));
  int y = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  if (y < 0) return failf(f, 'a', "accept", errno, "accept: %s", strerror(errno));
  close(l);
  setsockopt(x, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(y, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  pair_eps(c, K_FD_STREAM, x, x, y, y);
  c->close_side = close_fds;
  snprintf(c->describe, sizeof c->describe, "\"channel\":\"TCP over 127.0.0.1, TCP_NODELAY\"");
  return 0;
}

static int open_eventfds(struct channel *c, size_t size, struct failure *f) {
  if (size != 8) return failf(f, 'a', NULL, 0, "eventfd carries 8-byte messages, not %zu", size);
  int a2b = eventfd(0, EFD_CLOEXEC), b2a = eventfd(0, EFD_CLOEXEC);
  if (a2b < 0 || b2a < 0) return failf(f, 'a', "eventfd", errno, "eventfd: %s", strerror(errno));
  pair_eps(c, K_EVENTFD, b2a, a2b, a2b, b2a);
  c->close_side = no_close;
  snprintf(c->describe, sizeof c->describe, "\"channel\":\"two eventfds, the 8-byte message is the value added\"");
  return 0;
}

// Two POSIX queues (0600, ipcbench-<pid>- names), unlinked as soon as they are open.
static int open_mqueues(struct channel *c, size_t size, struct failure *f) {
  long msg_max = read_proc_long("/proc/sys/fs/mqueue/msg_max", 10);
  struct mq_attr attr = {.mq_maxmsg = msg_max < 10 ? msg_max : 10, .mq_msgsize = (long)size};
  mqd_t q[2];
  for (int i = 0; i < 2; i++) {
    char name[96];
    snprintf(name, sizeof name, "/ipcbench-%d-floor-%08x-%d", (int)getpid(), (unsigned)random(), i);
    q[i] = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
    if (q[i] == (mqd_t)-1) return failf(f, 'a', "mq_open", errno, "mq_open %ld × %zu bytes: %s", attr.mq_maxmsg, size, strerror(errno));
    mq_unlink(name);
  }
  pair_eps(c, K_MQ, q[1], q[0], q[0], q[1]);
  c->close_side = no_close;
  snprintf(c->describe, sizeof c->describe, "\"channel\":\"two POSIX queues\",\"maxmsg\":\"%ld\",\"msgsize\":\"%zu\"", attr.mq_maxmsg, size);
  return 0;
}

static void remove_queue(struct channel *c) { msgctl(c->msqid, IPC_RMID, NULL); }

// One System V queue, a message type per direction (as sysv-msg.ts).
static int open_sysv_queue(struct channel *c, size_t size, struct failure *f) {
  c->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (c->msqid < 0) return failf(f, 'a', "msgget", errno, "msgget: %s", strerror(errno));
  c->destroy = remove_queue;
  c->a.kind = c->b.kind = K_SYSV;
  c->a.msqid = c->b.msqid = c->msqid;
  c->a.txtype = c->b.rxtype = 1;
  c->a.rxtype = c->b.txtype = 2;
  c->a.msgbuf = malloc(sizeof(long) + size);
  c->b.msgbuf = malloc(sizeof(long) + size);
  if (!c->a.msgbuf || !c->b.msgbuf) {
    remove_queue(c);  // main does not destroy a channel that failed to open
    return failf(f, 'a', "malloc", ENOMEM, "cannot allocate %zu bytes for a System V message", sizeof(long) + size);
  }
  c->close_side = no_close;
  snprintf(c->describe, sizeof c->describe, "\"channel\":\"one System V queue, types 1 and 2\",\"msqid\":\"%d\"", c->msqid);
  return 0;
}

// Two rings (one per direction) in memory both sides map: shm_open, a System V
// segment, or (threads) anonymous shared memory. Names go away before the fork.
static int open_rings(struct channel *c, const char *mech, size_t size, struct failure *f) {
  size_t bytes = 2 * ring_bytes(size);
  void *mem = MAP_FAILED;
  const char *what;
  if (strcmp(mech, "shm-ring") == 0) {
    char name[96];
    snprintf(name, sizeof name, "/ipcbench-%d-floor-%08x", (int)getpid(), (unsigned)random());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return failf(f, 'a', "shm_open", errno, "shm_open: %s", strerror(errno));
    shm_unlink(name);
    if (ftruncate(fd, (off_t)bytes) != 0) return failf(f, 'a', "ftruncate", errno, "ftruncate: %s", strerror(errno));
    mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    what = "shm_open + mmap(MAP_SHARED)";
  } else if (strcmp(mech, "sysv-shm") == 0) {
    int id = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
    if (id < 0) return failf(f, 'a', "shmget", errno, "shmget: %s", strerror(errno));
    mem = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);  // destroyed at the last detach; attached memory stays valid
    if (mem == (void *)-1) mem = MAP_FAILED;
    what = "shmget + shmat";
  } else {
    mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    what = "anonymous shared memory between threads";
  }
  if (mem == MAP_FAILED) return failf(f, 'a', "mmap", errno, "mapping %zu bytes: %s", bytes, strerror(errno));
  memset(mem, 0, bytes);
  uint8_t *base = mem;
  c->a.kind = c->b.kind = K_RING;
  ring_init(&c->a.tx, base, size);
  ring_init(&c->b.rx, base, size);
  ring_init(&c->b.tx, base + ring_bytes(size), size);
  ring_init(&c->a.rx, base + ring_bytes(size), size);
  c->close_side = no_close;
  snprintf(c->describe, sizeof c->describe, "\"channel\":\"SPSC rings in %s\",\"slots\":\"%u\",\"slotBytes\":\"%u\"", what, ring_slots(size), ring_slot_bytes(size));
  return 0;
}

// What has a C counterpart, in which modes and between which endpoints: `--list`
// prints this table and channel_open refuses what it does not hold.
#define ALL_MODES ((1 << M_BLOCKING) | (1 << M_NONBLOCKING) | (1 << M_BUSY))
#define NO_EPOLL ((1 << M_BLOCKING) | (1 << M_BUSY))  // no fd to wait on: no event-loop mode
static const struct {
  const char *mech;
  unsigned modes;
  int threads_only;
} COUNTERPARTS[] = {
    {"pipe", ALL_MODES, 0},       {"fifo", ALL_MODES, 0},     {"unix-stream", ALL_MODES, 0}, {"unix-dgram", ALL_MODES, 0},
    {"unix-seqpacket", ALL_MODES, 0}, {"tcp", ALL_MODES, 0},  {"eventfd", ALL_MODES, 0},     {"posix-mq", ALL_MODES, 0},
    {"sysv-msg", NO_EPOLL, 0},    {"shm-ring", NO_EPOLL, 0},  {"sysv-shm", NO_EPOLL, 0},     {"sab-ring", NO_EPOLL, 1},
    {"shm-sem", 1 << M_BLOCKING, 0}, {"sysv-sem", 1 << M_BLOCKING, 0},
};
static const char *MODE_NAMES[] = {"blocking", "nonblocking", "busy-poll"};

void channel_list(FILE *out) {
  for (size_t i = 0; i < sizeof COUNTERPARTS / sizeof COUNTERPARTS[0]; i++) {
    fprintf(out, "%s ", COUNTERPARTS[i].mech);
    const char *sep = "";
    for (int m = M_BLOCKING; m <= M_BUSY; m++)
      if (COUNTERPARTS[i].modes & (1u << m)) {
        fprintf(out, "%s%s", sep, MODE_NAMES[m]);
        sep = ",";
      }
    fprintf(out, " %s\n", COUNTERPARTS[i].threads_only ? "thread" : "process,thread");
  }
}

int channel_open(struct channel *c, const char *mech, enum mode mode, int threads, size_t size, struct failure *f) {
  memset(c, 0, sizeof *c);
  c->msqid = -1;
  c->semid = -1;
  c->a.rep = c->a.wep = c->b.rep = c->b.wep = -1;
  c->a.size = c->b.size = size;
  c->a.mode = c->b.mode = mode;
  c->a.side = 'a';
  c->b.side = 'b';
  size_t i = 0, n = sizeof COUNTERPARTS / sizeof COUNTERPARTS[0];
  while (i < n && strcmp(COUNTERPARTS[i].mech, mech) != 0) i++;
  if (i == n || !(COUNTERPARTS[i].modes & (1u << mode))) {
    failf(f, 'a', NULL, 0, "%s in %s mode has no C counterpart", mech, MODE_NAMES[mode]);
    return 1;
  }
  if (COUNTERPARTS[i].threads_only && !threads) {
    failf(f, 'a', NULL, 0, "%s runs between threads only", mech);
    return 1;
  }
  if (strcmp(mech, "pipe") == 0) return open_pipes(c, f);
  if (strcmp(mech, "fifo") == 0) return open_fifos(c, f);
  if (strcmp(mech, "unix-stream") == 0) return open_socketpair(c, SOCK_STREAM, size, f);
  if (strcmp(mech, "unix-dgram") == 0) return open_socketpair(c, SOCK_DGRAM, size, f);
  if (strcmp(mech, "unix-seqpacket") == 0) return open_socketpair(c, SOCK_SEQPACKET, size, f);
  if (strcmp(mech, "tcp") == 0) return open_tcp(c, f);
  if (strcmp(mech, "eventfd") == 0) return open_eventfds(c, size, f);
  if (strcmp(mech, "posix-mq") == 0) return open_mqueues(c, size, f);
  if (strcmp(mech, "sysv-msg") == 0) return open_sysv_queue(c, size, f);
  if (strcmp(mech, "shm-sem") == 0 || strcmp(mech, "sysv-sem") == 0) return open_sem_rings(c, mech, threads, size, f);
  return open_rings(c, mech, size, f);
}

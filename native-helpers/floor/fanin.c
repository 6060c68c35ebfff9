// Fan-in in C: many senders, one receiver, one channel (the mailbox of the lectures:
// several processes posting into one queue). N forked senders each send numbered
// messages as fast as the channel takes them; the receiver (this process) checks each
// one, measures its one-way latency from the send time the sender stamped into it
// (CLOCK_MONOTONIC is one clock for every process of the host), and reports the
// aggregate throughput, its own CPU, each sender's latency percentiles and CPU, and how
// many messages arrived after one another sender had sent later (reordered between
// senders: expected). A message out of order within one sender fails the case.
//
//   ipcfloor --fanin MECH SENDERS SIZE DURATION_MS MAX_PER_SENDER
//
// MECH: posix-mq (one queue), sysv-msg (one queue, one type), unix-dgram (one socket
// pair, the senders sharing its far end), fifo (one FIFO, each sender opening it for
// itself). Messages follow ../WIRE.md with the sequence word (sender << 24 | seq) in
// every 64-byte line and the send time (u64 ns, little-endian) at bytes 4..11; the
// receiver compares everything else with the template. A FIFO carries messages whole
// only up to PIPE_BUF: a larger size is refused (exit 3, the reason in the report).
// IPCFLOOR_TEST_KILL=K:N makes sender K kill itself at its message N (tests only).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define MAX_SENDERS 64
#define SEQ_BITS 24
#define SEQ_STOP ((1u << SEQ_BITS) - 1)
#define STAMP_OFF 4
#define STAMP_END 12

struct sender_report {
  uint64_t sent;
  struct usage cost;
  int failed;
  char message[200];
};

static pid_t pids[MAX_SENDERS];
static int nsenders;
static volatile sig_atomic_t sender_died;

static void on_child(int sig) {
  (void)sig;
  sender_died = 1;
}

static void on_tick(int sig) { (void)sig; }

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct usage self_usage(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  struct usage u = {ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec, ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec, (double)ru.ru_nvcsw, (double)ru.ru_nivcsw};
  return u;
}

static void template_into(uint8_t *buf, size_t size) {
  for (size_t i = 0; i < size; i++) buf[i] = (uint8_t)((i * 131 + 17) & 0xFF);
}

static void stamp_word(uint8_t *buf, size_t size, uint32_t word) {
  uint8_t le[4] = {(uint8_t)word, (uint8_t)(word >> 8), (uint8_t)(word >> 16), (uint8_t)(word >> 24)};
  for (size_t off = 0; off + 4 <= size; off += 64) memcpy(buf + off, le, 4);
}

static uint32_t word_of(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }

// The channel: what the receiver reads and what each sender writes.
// Which calls carry a message: decided once at open, not per message in the timed loops.
enum fan_kind { FAN_MQ, FAN_MSG, FAN_FD };

struct fan {
  const char *mech;
  enum fan_kind kind;
  size_t size;
  int rfd, wfd[MAX_SENDERS];  // fds, or mqds
  int msqid;
  uint8_t *msgbuf;
  char dir[256], path[300];
};

static int report_skip(const char *reason) {
  printf("{\"type\":\"skipped\",\"reason\":\"%s\"}\n", reason);
  return 3;
}

static int fail_open(const char *syscall, int err) {
  printf("{\"type\":\"error\",\"message\":\"%s: %s\",\"side\":\"a\",\"syscall\":\"%s\",\"errno\":%d}\n", syscall, strerror(err), syscall, err);
  return 1;
}

static void destroy(struct fan *c) {
  if (c->msqid >= 0) msgctl(c->msqid, IPC_RMID, NULL);
  if (c->path[0]) unlink(c->path);
  if (c->dir[0]) rmdir(c->dir);
}

static int open_fan(struct fan *c) {
  c->msqid = -1;
  c->kind = FAN_FD;
  if (strcmp(c->mech, "posix-mq") == 0) {
    c->kind = FAN_MQ;
    long msg_max = 10;
    FILE *f = fopen("/proc/sys/fs/mqueue/msg_max", "r");
    if (f) {
      if (fscanf(f, "%ld", &msg_max) != 1) msg_max = 10;
      fclose(f);
    }
    struct mq_attr attr = {.mq_maxmsg = msg_max < 10 ? msg_max : 10, .mq_msgsize = (long)c->size};
    char name[96];
    snprintf(name, sizeof name, "/ipcbench-%d-fanin-%08x", (int)getpid(), (unsigned)random());
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
    if (q == (mqd_t)-1) return fail_open("mq_open", errno);
    mq_unlink(name);
    c->rfd = q;
    for (int i = 0; i < nsenders; i++) c->wfd[i] = q;
    return 0;
  }
  if (strcmp(c->mech, "sysv-msg") == 0) {
    c->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (c->msqid < 0) return fail_open("msgget", errno);
    c->kind = FAN_MSG;
    c->msgbuf = malloc(sizeof(long) + c->size);
    if (!c->msgbuf) return fail_open("malloc", ENOMEM);
    long one = 1;  // every sender posts type 1; the receiver takes any type
    memcpy(c->msgbuf, &one, sizeof one);
    const char *ledger = getenv("IPCFLOOR_LEDGER");
    FILE *l = ledger ? fopen(ledger, "a") : NULL;
    if (l) {
      fprintf(l, "msg %d\n", c->msqid);
      fclose(l);
    }
    return 0;
  }
  if (strcmp(c->mech, "unix-dgram") == 0) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) return fail_open("socketpair", errno);
    c->rfd = sv[0];
    for (int i = 0; i < nsenders; i++) c->wfd[i] = sv[1];
    return 0;
  }
  // fifo: one FIFO; the receiver's end first (non-blocking, so the writers' opens do
  // not wait), then one open per sender: each its own open file description.
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(c->dir, sizeof c->dir, "%s/ipcbench-%d-fanin-XXXXXX", tmp, (int)getpid());
  if (!mkdtemp(c->dir)) return fail_open("mkdtemp", errno);
  snprintf(c->path, sizeof c->path, "%s/mailbox", c->dir);
  if (mkfifo(c->path, 0600) != 0) return fail_open("mkfifo", errno);
  c->rfd = open(c->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (c->rfd < 0) return fail_open("open", errno);
  for (int i = 0; i < nsenders; i++)
    if ((c->wfd[i] = open(c->path, O_WRONLY | O_CLOEXEC)) < 0) return fail_open("open", errno);
  fcntl(c->rfd, F_SETFL, fcntl(c->rfd, F_GETFL) & ~O_NONBLOCK);
  unlink(c->path);
  rmdir(c->dir);
  c->path[0] = c->dir[0] = 0;
  return 0;
}

static int fan_send(struct fan *c, int k, const uint8_t *buf) {
  for (;;) {
    ssize_t n;
    if (c->kind == FAN_MQ) n = mq_send(c->wfd[k], (const char *)buf, c->size, 0) == 0 ? (ssize_t)c->size : -1;
    else if (c->kind == FAN_MSG) {
      memcpy(c->msgbuf + sizeof(long), buf, c->size);  // its mtype (1) was written at open
      n = msgsnd(c->msqid, c->msgbuf, c->size, 0) == 0 ? (ssize_t)c->size : -1;
    } else n = write(c->wfd[k], buf, c->size);
    if (n == (ssize_t)c->size) return 0;
    if (n >= 0) return -1;  // a short write: no message boundary left
    if (errno != EINTR) return -1;
  }
}

// One message into buf: its length, or -1 (errno set; EINTR when a sender died).
static ssize_t fan_recv(struct fan *c, uint8_t *buf) {
  if (c->kind == FAN_MQ) return mq_receive(c->rfd, (char *)buf, c->size, NULL);
  if (c->kind == FAN_MSG) {
    ssize_t n = msgrcv(c->msqid, c->msgbuf, c->size, 0, 0);
    if (n >= 0) memcpy(buf, c->msgbuf + sizeof(long), (size_t)n);
    return n;
  }
  // A FIFO is a byte stream: one read may hold part of a message, never two senders'
  // bytes mixed within one write of at most PIPE_BUF; read until the message is whole.
  size_t off = 0;
  while (off < c->size) {
    ssize_t n = read(c->rfd, buf + off, c->size - off);
    if (n > 0) off += (size_t)n;
    else if (n == 0) return (ssize_t)off;
    else return -1;
  }
  return (ssize_t)off;
}

static void run_sender(struct fan *c, int k, uint64_t deadline, uint64_t max, struct sender_report *r) {
  uint8_t *buf = malloc(c->size);
  if (!buf) _exit(1);
  template_into(buf, c->size);
  int kill_at = -1;
  const char *t = getenv("IPCFLOOR_TEST_KILL");
  if (t && atoi(t) == k && strchr(t, ':')) kill_at = atoi(strchr(t, ':') + 1);
  struct usage u0 = self_usage();
  uint64_t seq = 0;
  for (; seq < max; seq++) {
    if ((int64_t)seq == kill_at) kill(getpid(), SIGKILL);
    stamp_word(buf, c->size, (uint32_t)k << SEQ_BITS | (uint32_t)seq);
    uint64_t now = mono_ns();
    memcpy(buf + STAMP_OFF, &now, 8);
    if (fan_send(c, k, buf) != 0) {
      r->failed = 1;
      snprintf(r->message, sizeof r->message, "sender %d: send: %s", k, strerror(errno));
      _exit(1);
    }
    if ((seq & 63) == 63 && now >= deadline) {
      seq++;
      break;
    }
  }
  stamp_word(buf, c->size, (uint32_t)k << SEQ_BITS | SEQ_STOP);
  // Without its STOP the receiver would wait for ever: a failure, said as one.
  if (fan_send(c, k, buf) != 0) {
    r->failed = 1;
    snprintf(r->message, sizeof r->message, "sender %d: send STOP: %s", k, strerror(errno));
    _exit(1);
  }
  struct usage u1 = self_usage();
  r->cost = (struct usage){u1.user_us - u0.user_us, u1.sys_us - u0.sys_us, u1.vol - u0.vol, u1.invol - u0.invol};
  r->sent = seq;
  _exit(0);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double rank(const double *s, uint64_t n, double q) {
  if (n == 0) return 0;
  uint64_t i = (uint64_t)(q * (double)n + 0.999999999);
  return s[(i == 0 ? 1 : i > n ? n : i) - 1];
}

static void kill_senders(void) {
  for (int i = 0; i < nsenders; i++)
    if (pids[i] > 0) kill(pids[i], SIGKILL);
}

int fanin_main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: ipcfloor --fanin MECH SENDERS SIZE DURATION_MS MAX_PER_SENDER\n");
    return 2;
  }
  struct fan c = {.mech = argv[2]};
  nsenders = atoi(argv[3]);
  c.size = (size_t)atol(argv[4]);
  double duration_ms = atof(argv[5]);
  uint64_t max = (uint64_t)atoll(argv[6]);
  const char *known[] = {"posix-mq", "sysv-msg", "unix-dgram", "fifo"};
  int ok = 0;
  for (size_t i = 0; i < 4; i++) ok |= strcmp(c.mech, known[i]) == 0;
  if (!ok) return report_skip("no fan-in counterpart in C for this mechanism");
  if (nsenders < 1 || nsenders > MAX_SENDERS || c.size < STAMP_END || c.size > (64u << 20) || max < 1 || max >= SEQ_STOP || duration_ms <= 0) {
    fprintf(stderr, "ipcfloor --fanin: SENDERS 1..%d, SIZE >= %d, MAX_PER_SENDER 1..%u, DURATION_MS > 0\n", MAX_SENDERS, STAMP_END, SEQ_STOP - 1);
    return 2;
  }
  if (strcmp(c.mech, "fifo") == 0 && c.size > PIPE_BUF) {
    char why[200];
    snprintf(why, sizeof why, "a FIFO write is atomic only up to PIPE_BUF (%d bytes): %zu-byte messages from several senders could interleave", PIPE_BUF, c.size);
    return report_skip(why);
  }
  srandom((unsigned)(getpid() ^ time(NULL)));
  int rc = open_fan(&c);
  if (rc != 0) {
    destroy(&c);
    return rc;
  }
  struct sender_report *reports = mmap(NULL, sizeof(struct sender_report) * (size_t)nsenders, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  double *lat = malloc(sizeof(double) * (size_t)nsenders * (size_t)max);
  uint64_t *got = calloc((size_t)nsenders, sizeof(uint64_t)), *last_sent = calloc((size_t)nsenders, sizeof(uint64_t));
  uint8_t *in = malloc(c.size), *expect = malloc(c.size);
  if (reports == MAP_FAILED || !lat || !got || !last_sent || !in || !expect) {
    destroy(&c);
    return fail_open("malloc", ENOMEM);
  }
  memset(reports, 0, sizeof(struct sender_report) * (size_t)nsenders);
  template_into(expect, c.size);
  struct sigaction sa = {0};
  sa.sa_handler = on_child;  // no SA_RESTART: the receiver's wait returns EINTR
  sigaction(SIGCHLD, &sa, NULL);
  sa.sa_handler = on_tick;
  sigaction(SIGALRM, &sa, NULL);
  pid_t self = getpid();
  uint64_t deadline = mono_ns() + (uint64_t)(duration_ms * 1e6);
  for (int k = 0; k < nsenders; k++) {
    pids[k] = fork();
    if (pids[k] < 0) {
      kill_senders();
      destroy(&c);
      return fail_open("fork", errno);
    }
    if (pids[k] == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != self) _exit(1);  // the receiver died before the request took effect
      run_sender(&c, k, deadline, max, &reports[k]);
    }
  }
  // The senders' ends are theirs alone (a queue's descriptor is both ends: kept).
  if (strcmp(c.mech, "fifo") == 0)
    for (int k = 0; k < nsenders; k++) close(c.wfd[k]);
  if (strcmp(c.mech, "unix-dgram") == 0) close(c.wfd[0]);
  // A sender's death interrupts the receive (SIGCHLD); a tick every 100 ms covers one
  // that came between two receives.
  struct itimerval tick = {{0, 100000}, {0, 100000}};
  setitimer(ITIMER_REAL, &tick, NULL);

  // Receiving: every message checked; the clock read once per message.
  struct usage u0 = self_usage();
  uint64_t first = 0, lastt = 0, total = 0, reordered = 0, max_sent_so_far = 0;
  int max_sender = -1, stopped = 0;
  char failure[300] = "";
  while (stopped < nsenders) {
    ssize_t n = fan_recv(&c, in);
    uint64_t now = mono_ns();
    // The tick's EINTR with no sender gone: wait again, without a waitpid per sender.
    if (n < 0 && errno == EINTR && !sender_died) continue;
    if ((n < 0 && errno == EINTR) || sender_died) {
      sender_died = 0;
      // A sender that ended before its STOP arrived has failed: its exit says how.
      int st;
      for (int k = 0; k < nsenders; k++) {
        if (pids[k] > 0 && waitpid(pids[k], &st, WNOHANG) == pids[k]) {
          pids[k] = -pids[k];
          if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && failure[0] == 0) {
            const char *sig = WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : NULL;
            if (WIFSIGNALED(st)) snprintf(failure, sizeof failure, "sender %d (pid %d) ended: killed by SIG%s", k, -pids[k], sig ? sig : "?");
            else snprintf(failure, sizeof failure, "sender %d (pid %d) ended: exit code %d%s%s", k, -pids[k], WEXITSTATUS(st), reports[k].message[0] ? ": " : "", reports[k].message);
          }
        }
      }
      if (failure[0]) break;
      if (n < 0) continue;
    }
    if (n != (ssize_t)c.size) {
      snprintf(failure, sizeof failure, "receive: %s", n < 0 ? strerror(errno) : "a short message");
      break;
    }
    uint32_t word = word_of(in);
    int k = (int)(word >> SEQ_BITS);
    uint32_t seq = word & SEQ_STOP;
    if (k >= nsenders) {
      snprintf(failure, sizeof failure, "a message from sender %d of %d (corrupted)", k, nsenders);
      break;
    }
    if (seq == SEQ_STOP) {
      stopped++;
      continue;
    }
    if (seq != got[k]) {
      snprintf(failure, sizeof failure, "sender %d: message %u arrived where %llu was due (%s within one sender)", k, seq, (unsigned long long)got[k],
               seq < got[k] ? "duplicated or reordered" : "lost or reordered");
      break;
    }
    uint64_t sent;
    memcpy(&sent, in + STAMP_OFF, 8);
    stamp_word(expect, c.size, word);
    memcpy(expect + STAMP_OFF, in + STAMP_OFF, 8);
    if (memcmp(in, expect, c.size) != 0) {
      snprintf(failure, sizeof failure, "sender %d: message %u corrupted", k, seq);
      break;
    }
    // Arrived after a message another sender sent later: reordered between senders.
    if (max_sender >= 0 && max_sender != k && sent < max_sent_so_far) reordered++;
    if (sent >= max_sent_so_far) {
      max_sent_so_far = sent;
      max_sender = k;
    }
    last_sent[k] = sent;
    if (total == 0) first = now;
    lastt = now;
    lat[(size_t)k * max + got[k]] = (double)(now - sent);
    got[k]++;
    total++;
  }
  struct usage u1 = self_usage();
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  if (failure[0]) {
    kill_senders();
    destroy(&c);
    printf("{\"type\":\"error\",\"message\":\"");
    for (const char *p = failure; *p; p++) putchar(*p == '"' ? '\'' : *p);
    printf("\",\"side\":\"b\"}\n");
    return 1;
  }
  for (int k = 0; k < nsenders; k++) {
    int st;
    if (pids[k] > 0) waitpid(pids[k], &st, 0);
  }
  destroy(&c);
  printf("{\"type\":\"result\",\"pattern\":\"fanin\",\"mechanism\":\"%s\",\"senders\":%d,\"sizeBytes\":%zu,\"messages\":%llu,\"elapsedNs\":%llu,", c.mech, nsenders, c.size,
         (unsigned long long)total, (unsigned long long)(lastt - first));
  printf("\"msgsPerSec\":%.1f,\"reorderedBetweenSenders\":%llu,", lastt > first ? (double)total / ((double)(lastt - first) / 1e9) : 0.0, (unsigned long long)reordered);
  printf("\"receiverCpu\":{\"userUs\":%.0f,\"sysUs\":%.0f,\"voluntaryCtx\":%.0f,\"involuntaryCtx\":%.0f},\"perSender\":[", u1.user_us - u0.user_us, u1.sys_us - u0.sys_us, u1.vol - u0.vol,
         u1.invol - u0.invol);
  for (int k = 0; k < nsenders; k++) {
    double *s = lat + (size_t)k * max;
    qsort(s, got[k], sizeof(double), cmp_double);
    printf("%s{\"sender\":%d,\"sent\":%llu,\"received\":%llu,\"latencyNs\":{\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"max\":%.0f},\"cpu\":{\"userUs\":%.0f,\"sysUs\":%.0f}}", k ? "," : "", k,
           (unsigned long long)reports[k].sent, (unsigned long long)got[k], rank(s, got[k], 0.5), rank(s, got[k], 0.9), rank(s, got[k], 0.99), got[k] ? s[got[k] - 1] : 0.0,
           reports[k].cost.user_us, reports[k].cost.sys_us);
  }
  printf("]}\n");
  return 0;
}

// ipcfloor: the C floor of ipcbench. Runs one repetition of one case — the same
// mechanism, mode, pattern, size, placement, warm-up, time bound, message format
// (../WIRE.md) and checks as the TypeScript harness — and prints one JSON line in the
// shape of the harness's RepReport (src/harness/task.ts). The loops (loops.c) mirror
// src/harness/case/loops.ts, so Node's figure over this one is Node's own cost.
//
//   ipcfloor --list
//   ipcfloor --fanin MECH SENDERS SIZE DURATION_MS MAX_PER_SENDER   (fanin.c)
//   ipcfloor MECH MODE ENDPOINTS PATTERN SIZE WARMUP DURATION_MS MAX_MESSAGES CPU_A CPU_B SAMPLES_FILE
//            [TARGET_SAMPLES MIN_WINDOW_MS [INTERVAL_NS START_AT_NS]]
//
// ENDPOINTS is process (fork) or thread (pthread); CPU_A/CPU_B are -1 when not pinned.
// PATTERN is pingpong, stream, oneway or load (the last two with time-stamped messages,
// SIZE >= 12). INTERVAL_NS: load's gap between scheduled sends (0: as fast as the
// channel takes them). START_AT_NS: a CLOCK_MONOTONIC time both sides wait for before
// their loop (0: none), so several floors can measure at one instant. SAMPLES_FILE gets
// side a's samples as float64 little-endian (pingpong, oneway, load).
// IPCFLOOR_LEDGER, when set, is a file that gets "msg <id>" for a System V queue ("sem <id>" for a semaphore set), so a
// floor killed by the case time-out leaves nothing behind. Exit 0 with a result, 1
// with {"type":"error"}, 3 with {"type":"skipped"} when the case has no C counterpart.
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

enum pattern { PAT_PINGPONG, PAT_STREAM, PAT_ONEWAY, PAT_LOAD };

static struct plan P;
static enum pattern pattern;
static int cpu_a = -1, cpu_b = -1;
static struct channel C;
static pid_t child = -1;
static volatile sig_atomic_t child_status_known;
static int child_status;
static pthread_t thread_a;

static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') fprintf(out, "\\%c", ch);
    else if (ch < 0x20) fprintf(out, "\\u%04x", ch);
    else fputc(ch, out);
  }
  fputc('"', out);
}

static int report_error(const struct failure *f, const char *fallback) {
  printf("{\"type\":\"error\",\"message\":");
  json_string(stdout, f->set ? f->message : fallback);
  printf(",\"side\":\"%c\"", f->set ? f->side : 'a');
  if (f->set && f->syscall[0]) printf(",\"syscall\":\"%s\"", f->syscall);
  if (f->set && f->err) printf(",\"errno\":%d,\"code\":\"%s\"", f->err, strerrorname_np(f->err) ? strerrorname_np(f->err) : "");
  printf("}\n");
  return 1;
}

// A dead child (or a failed peer thread) interrupts whatever side a waits in.
static void on_sigchld(int sig) {
  (void)sig;
  int st;
  if (child > 0 && waitpid(child, &st, WNOHANG) == child) {
    child_status = st;
    child_status_known = 1;
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) peer_failed = 1;
  }
}

static void on_peer_failed(int sig) {
  (void)sig;
  peer_failed = 1;
}

static void install(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;  // no SA_RESTART: a blocked call returns EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

static void pin_self(int cpu, struct side_report *r, struct failure *f, char side) {
  cpu_set_t set;
  if (cpu >= 0) {
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) failf(f, side, "sched_setaffinity", errno, "cannot pin side %c to CPU %d: %s", side, cpu, strerror(errno));
  }
  r->ncpus = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &set)) r->cpus[r->ncpus++] = c;
}

// Per side, after the fork: O_NONBLOCK for the event-loop and busy-poll modes, and the
// side's own epoll instances for the event-loop mode.
static int ready(struct ep *e) {
  if (e->kind == K_SEMRING) return semring_ready(e);
  if (e->kind == K_SYSV || e->kind == K_RING || e->mode == M_BLOCKING) return 0;
  int fds[2] = {e->rfd, e->wfd};
  for (int i = 0; i < 2; i++) {
    int fl = fcntl(fds[i], F_GETFL);
    if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) != 0) return failf(e->f, e->side, "fcntl", errno, "O_NONBLOCK: %s", strerror(errno));
  }
  if (e->mode != M_NONBLOCKING) return 0;
  e->rep = epoll_create1(EPOLL_CLOEXEC);
  e->wep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event in = {.events = EPOLLIN}, out = {.events = EPOLLOUT};
  if (e->rep < 0 || e->wep < 0 || epoll_ctl(e->rep, EPOLL_CTL_ADD, e->rfd, &in) != 0 || epoll_ctl(e->wep, EPOLL_CTL_ADD, e->wfd, &out) != 0)
    return failf(e->f, e->side, "epoll_ctl", errno, "epoll: %s", strerror(errno));
  return 0;
}

struct side_b {
  struct side_report r;
  struct failure f;
  int ok;
};

static void run_b(struct side_b *b) {
  C.b.f = &b->f;
  pin_self(cpu_b, &b->r, &b->f, 'b');
  int rc = b->f.set ? -1 : ready(&C.b);
  if (rc == 0) rc = wait_start(&P, &C.b);
  if (rc == 0) {
    switch (pattern) {
      case PAT_PINGPONG: rc = echo_b(&P, &C.b, &b->r); break;
      case PAT_STREAM: rc = stream_b(&P, &C.b, &b->r); break;
      case PAT_ONEWAY: rc = oneway_b(&P, &C.b, &b->r); break;
      case PAT_LOAD: rc = load_b(&P, &C.b, &b->r); break;
    }
  }
  b->ok = rc == 0;
}

static void *thread_b(void *arg) {
  struct side_b *b = arg;
  run_b(b);
  if (!b->ok) pthread_kill(thread_a, SIGUSR1);
  return NULL;
}

// Side b's report lives in shared memory, so a forked child's is visible to side a.
static struct side_b *mmap_shared_side_b(void) {
  void *m = mmap(NULL, sizeof(struct side_b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    struct failure f = {0};
    failf(&f, 'a', "mmap", errno, "cannot map %zu bytes for side b's report: %s", sizeof(struct side_b), strerror(errno));
    if (C.destroy) C.destroy(&C);
    exit(report_error(&f, ""));
  }
  memset(m, 0, sizeof(struct side_b));
  return m;
}

static void print_usage(const char *name, struct usage u) {
  printf("\"%s\":{\"userUs\":%.3f,\"sysUs\":%.3f,\"voluntaryCtx\":%.0f,\"involuntaryCtx\":%.0f,\"scope\":\"thread\"}", name, u.user_us, u.sys_us, u.vol, u.invol);
}

static void print_cpus(const char *name, const struct side_report *r) {
  printf("\"%s\":[", name);
  for (int i = 0; i < r->ncpus; i++) printf("%s%d", i ? "," : "", r->cpus[i]);
  printf("]");
}

static enum pattern parse_pattern(const char *s) {
  if (strcmp(s, "pingpong") == 0) return PAT_PINGPONG;
  if (strcmp(s, "stream") == 0) return PAT_STREAM;
  if (strcmp(s, "oneway") == 0) return PAT_ONEWAY;
  if (strcmp(s, "load") == 0) return PAT_LOAD;
  fprintf(stderr, "ipcfloor: unknown pattern %s\n", s);
  exit(2);
}

static enum mode parse_mode(const char *s) {
  if (strcmp(s, "blocking") == 0) return M_BLOCKING;
  if (strcmp(s, "nonblocking") == 0) return M_NONBLOCKING;
  if (strcmp(s, "busy-poll") == 0) return M_BUSY;
  fprintf(stderr, "ipcfloor: unknown mode %s\n", s);
  exit(2);
}

// Checked argv numbers: digits only (no sign, space or suffix), the whole string, in
// [lo, hi]. A bad one is a usage error, as an unknown mode is.
static void usage_error(const char *what, const char *s, const char *why) {
  fprintf(stderr, "ipcfloor: %s \"%s\" %s\n", what, s, why);
  exit(2);
}

static uint64_t parse_u64(const char *what, const char *s, uint64_t lo, uint64_t hi) {
  if (s[0] < '0' || s[0] > '9') usage_error(what, s, "is not a non-negative whole number");
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0') usage_error(what, s, "is not a non-negative whole number");
  if (errno == ERANGE || v < lo || v > hi) {
    char why[96];
    snprintf(why, sizeof why, "is out of range [%llu, %llu]", (unsigned long long)lo, (unsigned long long)hi);
    usage_error(what, s, why);
  }
  return v;
}

static double parse_ms(const char *what, const char *s, double hi) {
  if (s[0] < '0' || s[0] > '9' || s[strspn(s, "0123456789.eE+-")] != '\0') usage_error(what, s, "is not a non-negative number of milliseconds");
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (*end != '\0') usage_error(what, s, "is not a non-negative number of milliseconds");
  if (errno == ERANGE || !isfinite(v) || v < 0 || v > hi) {
    char why[96];
    snprintf(why, sizeof why, "is out of range [0, %.0f]", hi);
    usage_error(what, s, why);
  }
  return v;
}

// -1 (not pinned) or a CPU a cpu_set_t can hold.
static int parse_cpu(const char *what, const char *s) {
  if (strcmp(s, "-1") == 0) return -1;
  if (s[0] < '0' || s[0] > '9') usage_error(what, s, "is not -1 or a CPU index");
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end != '\0') usage_error(what, s, "is not -1 or a CPU index");
  if (errno == ERANGE || v >= CPU_SETSIZE) {
    char why[64];
    snprintf(why, sizeof why, "is out of range (-1, or 0 to %d)", CPU_SETSIZE - 1);
    usage_error(what, s, why);
  }
  return (int)v;
}

static int write_samples(const char *path, const struct pingpong_out *o) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t n = o->count ? fwrite(o->samples, sizeof(double), o->count, f) : 0;
  fclose(f);
  return n == o->count ? 0 : -1;
}

int main(int argc, char **argv) {
  // Before anything else, fan-in too. Killed when the process that started it ends (the orchestrator killed with SIGKILL
  // runs no clean-up); what it leaves is in its ledger, which the next run removes.
  const char *parent = getenv("IPCBENCH_PARENT_PID");
  if (parent != NULL) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)atol(parent)) return 1;
  }
  if (argc >= 2 && strcmp(argv[1], "--fanin") == 0) return fanin_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "--launch-pair") == 0) return launch_main(argc, argv);
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    channel_list(stdout);
    return 0;
  }
  if (argc != 12 && argc != 14 && argc != 16) {
    fprintf(stderr,
            "usage: ipcfloor --list | MECH MODE ENDPOINTS PATTERN SIZE WARMUP DURATION_MS MAX_MESSAGES CPU_A CPU_B SAMPLES_FILE "
            "[TARGET_SAMPLES MIN_WINDOW_MS [INTERVAL_NS START_AT_NS]]\n");
    return 2;
  }
  const char *mech = argv[1], *samples_path = argv[11];
  enum mode mode = parse_mode(argv[2]);
  int threads = strcmp(argv[3], "thread") == 0;
  pattern = parse_pattern(argv[4]);
  int timed = pattern == PAT_ONEWAY || pattern == PAT_LOAD;
  // Bounds: a ring slot's size is a uint32_t, and sequence numbers (uint32_t, STOP
  // reserved) must not wrap over WARMUP + MAX_MESSAGES; a day bounds the time.
  P.size = (size_t)parse_u64("SIZE", argv[5], 4, 1u << 30);
  // A time-stamped message holds its sequence word and its time.
  if (timed && P.size < TIMED_MIN_BYTES) usage_error("SIZE", argv[5], "is below 12, the smallest time-stamped message (oneway, load)");
  P.warmup = parse_u64("WARMUP", argv[6], 0, 1000000000);
  P.duration_ns = (uint64_t)(parse_ms("DURATION_MS", argv[7], 86400000.0) * 1e6);
  P.max_messages = parse_u64("MAX_MESSAGES", argv[8], 1, 1000000000);
  cpu_a = parse_cpu("CPU_A", argv[9]);
  cpu_b = parse_cpu("CPU_B", argv[10]);
  if (argc >= 14) {
    P.target_samples = parse_u64("TARGET_SAMPLES", argv[12], 0, 1000000000);
    P.min_window_ns = (uint64_t)(parse_ms("MIN_WINDOW_MS", argv[13], 86400000.0) * 1e6);
  }
  if (argc == 16) {
    P.interval_ns = parse_u64("INTERVAL_NS", argv[14], 0, 1000000000000ull);
    P.start_at_ns = parse_u64("START_AT_NS", argv[15], 0, UINT64_MAX);
  }
  srandom((unsigned)(getpid() ^ time(NULL)));

  struct failure fa = {0};
  int rc = channel_open(&C, mech, mode, threads, P.size, &fa);
  if (rc == 1) {
    printf("{\"type\":\"skipped\",\"reason\":");
    json_string(stdout, fa.message);
    printf("}\n");
    return 3;
  }
  if (rc < 0) return report_error(&fa, "could not open the channel");
  const char *ledger = getenv("IPCFLOOR_LEDGER");
  if (ledger && (C.msqid >= 0 || C.semid >= 0)) {
    FILE *l = fopen(ledger, "a");
    if (l) {
      if (C.msqid >= 0) fprintf(l, "msg %d\n", C.msqid);
      if (C.semid >= 0) fprintf(l, "sem %d\n", C.semid);
      fclose(l);
    }
  }
  C.a.f = &fa;
  fflush(stdout);

  // Side b: a forked child that reports through a pipe, or a thread.
  struct side_b *b = mmap_shared_side_b();
  thread_a = pthread_self();
  install(SIGCHLD, on_sigchld);
  install(SIGUSR1, on_peer_failed);
  // As in Node: a write to a peer that is gone fails with EPIPE (reported) instead of
  // killing side a before it can report side b's error.
  signal(SIGPIPE, SIG_IGN);
  pthread_t tb;
  if (threads) {
    if (pthread_create(&tb, NULL, thread_b, b) != 0) {
      if (C.destroy) C.destroy(&C);
      return report_error(&fa, "pthread_create failed");
    }
  } else {
    pid_t self = getpid();
    child = fork();
    if (child < 0) {
      if (C.destroy) C.destroy(&C);
      return report_error(&fa, "fork failed");
    }
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != self) _exit(1);  // side a died before the request took effect
      C.close_side(&C.a);
      run_b(b);
      _exit(b->ok ? 0 : 1);
    }
    C.close_side(&C.b);
  }

  struct side_report ra = {0};
  struct pingpong_out po = {1, 0, 0, NULL, 0};
  pin_self(cpu_a, &ra, &fa, 'a');
  rc = fa.set ? -1 : ready(&C.a);
  if (rc == 0) rc = wait_start(&P, &C.a);
  if (rc == 0) {
    switch (pattern) {
      case PAT_PINGPONG: rc = pingpong_a(&P, &C.a, &ra, &po); break;
      case PAT_STREAM: rc = stream_a(&P, &C.a, &ra); break;
      case PAT_ONEWAY: rc = oneway_a(&P, &C.a, &ra, &po); break;
      case PAT_LOAD: rc = load_a(&P, &C.a, &ra, &po); break;
    }
  }

  // Side b done: join the thread, or wait for the child (its report is in shared memory).
  if (rc == 0) {
    if (threads) pthread_join(tb, NULL);
    else {
      while (!child_status_known) {
        int st;
        pid_t w = waitpid(child, &st, 0);
        if (w == child) {
          child_status = st;
          child_status_known = 1;
        } else if (w < 0 && errno != EINTR) break;
      }
    }
  } else if (!threads) {
    // Give a failing child a moment to finish its report, then make sure it is gone.
    for (int i = 0; i < 50 && !child_status_known; i++) usleep(2000);
    if (!child_status_known) kill(child, SIGKILL);
  } else {
    usleep(20000);
  }
  if (C.destroy) C.destroy(&C);

  if (b->f.set) return report_error(&b->f, "");
  if (!threads && child_status_known && !(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0) && rc == 0) {
    struct failure fb = {0};
    if (WIFSIGNALED(child_status)) failf(&fb, 'b', NULL, 0, "peer (pid %d) ended: killed by %s", (int)child, sigabbrev_np(WTERMSIG(child_status)) ? sigabbrev_np(WTERMSIG(child_status)) : "a signal");
    else failf(&fb, 'b', NULL, 0, "peer (pid %d) ended: exit code %d", (int)child, WEXITSTATUS(child_status));
    return report_error(&fb, "");
  }
  if (rc != 0) return report_error(&fa, "side a failed");
  if (pattern != PAT_STREAM && write_samples(samples_path, &po) != 0) {
    failf(&fa, 'a', "write", errno, "cannot write the samples to %s", samples_path);
    return report_error(&fa, "");
  }

  // Who timed the phase: side a in ping-pong and oneway; side b (the receiver) in a
  // stream; in load the sender's elapsed time, over the messages side a received.
  int a_timed = pattern == PAT_PINGPONG || pattern == PAT_ONEWAY;
  uint64_t messages = pattern == PAT_STREAM ? b->r.messages : ra.messages;
  uint64_t elapsed = a_timed ? ra.elapsed_ns : b->r.elapsed_ns;
  const uint64_t *phase = pattern == PAT_STREAM ? b->r.phase_ns : ra.phase_ns;
  printf("{\"type\":\"result\",\"messages\":%llu,\"elapsedNs\":%llu,\"batch\":%llu,\"sampleCount\":%llu,", (unsigned long long)messages, (unsigned long long)elapsed,
         (unsigned long long)po.batch, (unsigned long long)po.count);
  // Side a's measured phase on CLOCK_MONOTONIC (a stream's is side b's), so that
  // several pairs' phases can be checked to overlap.
  printf("\"phaseNs\":[%llu,%llu],", (unsigned long long)phase[0], (unsigned long long)phase[1]);
  // As side a of the Node case reports them (RepReport.warmupMessages, messagesB).
  if (pattern != PAT_STREAM) printf("\"warmupMessages\":%llu,", (unsigned long long)po.warmup);
  if (a_timed && b->r.messages != messages) printf("\"messagesB\":%llu,", (unsigned long long)b->r.messages);
  if (pattern == PAT_ONEWAY) printf("\"roundTripP50Ns\":%.0f,", po.round_trip_p50);
  if (pattern == PAT_LOAD) printf("\"sent\":%llu,\"sendElapsedNs\":%llu,", (unsigned long long)b->r.messages, (unsigned long long)b->r.elapsed_ns);
  print_usage("costA", ra.cost);
  printf(",");
  print_usage("costB", b->r.cost);
  printf(",");
  print_cpus("cpusA", &ra);
  printf(",");
  print_cpus("cpusB", &b->r);
  printf(",\"describe\":{%s,\"io\":\"%s\",\"endpoints\":\"%s\"}", C.describe,
         mode == M_BLOCKING ? "blocking calls" : mode == M_NONBLOCKING ? "O_NONBLOCK + epoll_wait" : "O_NONBLOCK, retried at once",
         threads ? "pthreads" : "fork");
  /* As the Node case process reports it (RepReport.countMismatch). */
  if (pattern == PAT_STREAM && b->r.messages != ra.messages)
    printf(",\"countMismatch\":{\"sent\":%llu,\"received\":%llu}", (unsigned long long)ra.messages, (unsigned long long)b->r.messages);
  if (pattern == PAT_LOAD && b->r.messages != ra.messages)
    printf(",\"countMismatch\":{\"sent\":%llu,\"received\":%llu}", (unsigned long long)b->r.messages, (unsigned long long)ra.messages);
  printf("}\n");
  return 0;
}

// Shared declarations of the C floor (see ipcfloor.c for what it is).
#ifndef IPCFLOOR_H
#define IPCFLOOR_H
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ring.h"

enum kind { K_FD_STREAM, K_FD_MSG, K_EVENTFD, K_MQ, K_SYSV, K_RING, K_SEMRING };
enum mode { M_BLOCKING, M_NONBLOCKING, M_BUSY };

#define STOP 0xFFFFFFFFu

// The first error wins; side b's is handed to side a.
struct failure {
  int set;
  char side;
  char syscall[32];
  int err;
  char message[400];
};

int failf(struct failure *f, char side, const char *syscall, int err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

// Set when the peer failed or died (SIGCHLD, or a signal from the peer thread):
// blocking calls return EINTR and the waiting side gives up instead of hanging.
extern volatile sig_atomic_t peer_failed;

// The two semaphores of one ring: ITEMS (messages ready) and SPACES (free slots).
struct ring_sems {
  sem_t *items, *spaces;     // POSIX
  int items_num, spaces_num;  // System V semaphore numbers
};

// One side's view of the channel; send/recv move exactly `size` bytes.
struct ep {
  enum kind kind;
  enum mode mode;
  size_t size;
  int rfd, wfd;  // fds, eventfds or mqds
  int rep, wep;  // epoll instances (event-loop mode), -1 otherwise
  int msqid;     // System V queue
  long txtype, rxtype;
  uint8_t *msgbuf;  // long mtype + bytes
  struct ring tx, rx;
  struct failure *f;
  char side;
  // The semaphore rings (semring.c): POSIX sem_t in the ring headers, or a System V set.
  struct ring_sems txs, rxs;
  int semid;         // -1: POSIX semaphores
  int peer_present;  // System V: the peer's SEM_UNDO presence semaphore, -1 between threads
};

int ep_send(struct ep *e, const uint8_t *buf);
ssize_t ep_recv(struct ep *e, uint8_t *buf);

struct usage {
  double user_us, sys_us, vol, invol;
};

struct side_report {
  struct usage cost;
  uint64_t messages, elapsed_ns;
  uint64_t phase_ns[2];  // the side's measured phase on CLOCK_MONOTONIC: its start and end
  int cpus[CPU_SETSIZE];  // every CPU a cpu_set_t can hold
  int ncpus;
};

struct plan {
  size_t size;
  uint64_t warmup, duration_ns, max_messages;
  // Enough (src/harness/case/loops.ts): the measured phase also ends once it holds
  // target_samples samples (0: never) and has lasted min_window_ns.
  uint64_t target_samples, min_window_ns;
  uint64_t interval_ns;  // load: ns between scheduled sends (0: as fast as the channel takes them)
  uint64_t start_at_ns;  // CLOCK_MONOTONIC time both sides' loops wait for (0: none)
};

// True when a measured phase that began at `start` may end at `now` after `count` samples.
static inline int enough(const struct plan *p, uint64_t count, uint64_t start, uint64_t now) {
  return p->target_samples > 0 && count >= p->target_samples && now - start >= p->min_window_ns;
}

// Side a's samples: ping-pong (round trips), oneway (one-way latencies), load (each
// message's receipt less its scheduled time).
struct pingpong_out {
  uint64_t batch, count;  // batch is always 1: each sample is one message
  uint64_t warmup;        // warm-up round trips: the fixed count and the settling blocks
  double *samples;
  double round_trip_p50;  // oneway: the nearest-rank median of the same messages' round trips
};

// Time-stamped messages (oneway, load; ../WIRE.md): bytes TIME_OFFSET..+7 hold a u64
// little-endian CLOCK_MONOTONIC time, which the receiver's check skips.
#define TIME_OFFSET 4
#define TIMED_MIN_BYTES 12

int pingpong_a(const struct plan *p, struct ep *e, struct side_report *r, struct pingpong_out *out);
int echo_b(const struct plan *p, struct ep *e, struct side_report *r);
int stream_a(const struct plan *p, struct ep *e, struct side_report *r);
int stream_b(const struct plan *p, struct ep *e, struct side_report *r);
int oneway_a(const struct plan *p, struct ep *e, struct side_report *r, struct pingpong_out *out);
int oneway_b(const struct plan *p, struct ep *e, struct side_report *r);
int load_a(const struct plan *p, struct ep *e, struct side_report *r, struct pingpong_out *out);
int load_b(const struct plan *p, struct ep *e, struct side_report *r);
// Both sides, before their loop: sleep until p->start_at_ns (when non-zero).
int wait_start(const struct plan *p, struct ep *e);

// A channel: both sides' endpoints, made before the fork (or the thread).
struct channel {
  struct ep a, b;
  char describe[512];  // JSON members, e.g. "\"fdKinds\":\"pipe\""
  void (*close_side)(struct ep *e);
  void (*destroy)(struct channel *c);
  int msqid;
  int semid;  // a System V semaphore set to remove at the end (ledgered), or -1
};

// semring.c: the channel, one message each way, and a side's start after the fork.
int open_sem_rings(struct channel *c, const char *mech, int threads, size_t size, struct failure *f);
int semring_send(struct ep *e, const uint8_t *buf);
int semring_recv(struct ep *e, uint8_t *buf);
int semring_ready(struct ep *e);

// fanin.c: `ipcfloor --fanin …`, many senders into one channel.
int fanin_main(int argc, char **argv);
int launch_main(int argc, char **argv);

// 0 ok; -1 failed (f set); 1 no C counterpart (reason in f->message).
int channel_open(struct channel *c, const char *mech, enum mode mode, int threads, size_t size, struct failure *f);
// `--list`: "mech modes endpoints" per line.
void channel_list(FILE *out);

#endif

// The timing loops, line for line those of src/harness/case/loops.ts (synchronous
// variants), with the message format of ../WIRE.md: what Node's figure adds to these
// is Node's own cost.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "floor.h"

// WIRE.md: the template, byte i = (i*131 + 17) & 0xFF, and the sequence number as
// u32 little-endian at offsets 0, 64, 128, … (one word per 64-byte line).
static uint8_t *make_template(size_t size) {
  uint8_t *buf = malloc(size);
  if (!buf) return NULL;
  for (size_t i = 0; i < size; i++) buf[i] = (uint8_t)((i * 131 + 17) & 0xFF);
  return buf;
}

static inline void stamp(uint8_t *buf, size_t size, uint32_t seq) {
  uint8_t le[4] = {(uint8_t)seq, (uint8_t)(seq >> 8), (uint8_t)(seq >> 16), (uint8_t)(seq >> 24)};
  for (size_t off = 0; off + 4 <= size; off += 64) memcpy(buf + off, le, 4);
}

static inline uint32_t read_seq(const uint8_t *buf) {
  return (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
}

// A failed allocation is the side's failure, reported as every other one is.
static int no_memory(struct ep *e, size_t bytes, const char *what) {
  return failf(e->f, e->side, "malloc", ENOMEM, "cannot allocate %zu bytes for %s", bytes, what);
}

// Every message, warm-up and measured alike: its length, its sequence number, then
// the whole of it against `expect` (the template, restamped here with `seq`). 0 when
// it is message `seq`. `timed`: a time-stamped message, whose bytes TIME_OFFSET..+7
// hold a time, not the template; they are copied into `expect`, so not compared.
static int check_as(struct ep *e, uint8_t *expect, const uint8_t *buf, ssize_t n, uint32_t seq, int timed) {
  size_t size = e->size;
  if (n != (ssize_t)size) return failf(e->f, e->side, NULL, 0, "message %u: %zd bytes, expected %zu", seq, n, size);
  uint32_t got = read_seq(buf);
  if (got != seq)
    return failf(e->f, e->side, NULL, 0, "message %u: sequence number %u (%s message)", seq, got, got < seq ? "duplicated or reordered" : "lost");
  stamp(expect, size, seq);
  if (timed) memcpy(expect + TIME_OFFSET, buf + TIME_OFFSET, 8);
  if (memcmp(buf, expect, size) != 0) {
    size_t x = 0;
    while (buf[x] == expect[x]) x++;
    return failf(e->f, e->side, NULL, 0, "message %u: byte %zu is %u, expected %u (stale or corrupted message)", seq, x, buf[x], expect[x]);
  }
  return 0;
}

static int check(struct ep *e, uint8_t *expect, const uint8_t *buf, ssize_t n, uint32_t seq) { return check_as(e, expect, buf, n, seq, 0); }

// The time of a time-stamped message: u64 little-endian at TIME_OFFSET.
static inline void write_time(uint8_t *buf, uint64_t t) {
  for (int i = 0; i < 8; i++) buf[TIME_OFFSET + i] = (uint8_t)(t >> (8 * i));
}

static inline uint64_t read_time(const uint8_t *buf) {
  uint64_t t = 0;
  for (int i = 0; i < 8; i++) t |= (uint64_t)buf[TIME_OFFSET + i] << (8 * i);
  return t;
}

#define SETTLE_GAIN 0.97
#define SETTLE_MAX_BLOCKS 64

// Round trips per settling block: 256, fewer for big messages (at most 4 MiB of traffic, at least 8).
static uint64_t settle_block(size_t size) {
  uint64_t b = (4u << 20) / (size ? size : 1);
  return b < 8 ? 8 : b > 256 ? 256 : b;
}

static inline int is_stop(const uint8_t *buf, ssize_t n, size_t size) { return n == (ssize_t)size && read_seq(buf) == STOP; }

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct usage usage_now(void) {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  struct usage u = {ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec, ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec, (double)ru.ru_nvcsw, (double)ru.ru_nivcsw};
  return u;
}

static struct usage usage_since(struct usage a) {
  struct usage b = usage_now();
  struct usage d = {b.user_us - a.user_us, b.sys_us - a.sys_us, b.vol - a.vol, b.invol - a.invol};
  return d;
}

// One warm-up round trip of side a: message `seq` out, its echo checked. `timed`
// (oneway): the send time goes into the message, and the echo is checked as a
// time-stamped message.
static inline int warm_round_trip(struct ep *e, uint8_t *out, uint8_t *expect, uint8_t *in, uint32_t seq, int timed) {
  stamp(out, e->size, seq);
  if (timed) write_time(out, now_ns());
  if (ep_send(e, out) < 0) return -1;
  return check_as(e, expect, in, ep_recv(e, in), seq, timed);
}

// Side a's warm-up in ping-pong and oneway: WARMUP round trips, then settling blocks
// while the loop still gets faster: the rule of Settler in src/harness/case/loops.ts
// (blocks of settle_block() round trips, until one is not SETTLE_GAIN faster than the
// best before it, SETTLE_MAX_BLOCKS, or half the time). `*seq` is the next message.
static int warm_up(const struct plan *p, struct ep *e, uint8_t *out, uint8_t *expect, uint8_t *in, uint32_t *seq, int timed) {
  uint32_t s = 0;
  for (; s < p->warmup; s++)
    if (warm_round_trip(e, out, expect, in, s, timed) < 0) return -1;
  if (p->warmup > 0) {
    uint64_t block = settle_block(p->size), until = now_ns() + p->duration_ns / 2;
    double best = 1e300;
    for (int blocks = 1;; blocks++) {
      uint64_t t0 = now_ns();
      for (uint64_t i = 0; i < block; i++, s++)
        if (warm_round_trip(e, out, expect, in, s, timed) < 0) return -1;
      uint64_t t1 = now_ns();
      double per = (double)(t1 - t0) / (double)block;
      int falling = per < best * SETTLE_GAIN;
      if (per < best) best = per;
      if (!falling || blocks >= SETTLE_MAX_BLOCKS || t1 >= until) break;
    }
  }
  *seq = s;
  return 0;
}

// Side a, ping-pong. Each sample is one round trip: one clock read per round trip,
// each sample the time from the previous read to this one (stamp, send, receive and
// check in between); ends with STOP, which the peer echoes.
int pingpong_a(const struct plan *p, struct ep *e, struct side_report *r, struct pingpong_out *o) {
  size_t size = p->size;
  uint8_t *out = make_template(size), *expect = make_template(size), *in = malloc(size);
  double *samples = malloc(p->max_messages * sizeof(double));
  if (!out || !expect || !in) return no_memory(e, size, "a message");
  if (!samples) return no_memory(e, p->max_messages * sizeof(double), "the samples");
  uint32_t seq = 0;
  if (warm_up(p, e, out, expect, in, &seq, 0) < 0) return -1;
  o->warmup = seq;
  uint64_t count = 0;
  struct usage c0 = usage_now();
  uint64_t start = now_ns(), deadline = start + p->duration_ns, t_prev = start, t = start;
  while (count < p->max_messages) {
    stamp(out, size, seq);
    if (ep_send(e, out) < 0) return -1;
    if (check(e, expect, in, ep_recv(e, in), seq) < 0) return -1;
    seq++;
    t = now_ns();
    samples[count++] = (double)(t - t_prev);
    t_prev = t;
    if (t >= deadline || enough(p, count, start, t)) break;
  }
  r->cost = usage_since(c0);
  stamp(out, size, STOP);
  if (ep_send(e, out) < 0) return -1;
  ssize_t n = ep_recv(e, in);
  if (n < 0) return -1;
  if (!is_stop(in, n, size)) return failf(e->f, 'a', NULL, 0, "expected the STOP echo, got message %u", read_seq(in));
  r->messages = count;
  r->elapsed_ns = t - start;
  r->phase_ns[0] = start;
  r->phase_ns[1] = t;
  o->batch = 1;
  o->samples = samples;
  o->count = count;
  free(out);
  free(expect);
  free(in);
  return 0;
}

// Side b, ping-pong: check each message and echo it unchanged until STOP.
int echo_b(const struct plan *p, struct ep *e, struct side_report *r) {
  size_t size = p->size;
  uint8_t *expect = make_template(size), *in = malloc(size);
  if (!expect || !in) return no_memory(e, size, "a message");
  uint32_t seq = 0;
  struct usage c0 = usage_now();
  for (;;) {
    if (seq == p->warmup) c0 = usage_now();
    ssize_t n = ep_recv(e, in);
    if (n < 0) return -1;
    if (is_stop(in, n, size)) {
      if (ep_send(e, in) < 0) return -1;
      break;
    }
    if (check(e, expect, in, n, seq) < 0) return -1;
    if (ep_send(e, in) < 0) return -1;
    seq++;
  }
  r->cost = usage_since(c0);
  r->messages = seq > p->warmup ? seq - p->warmup : 0;
  free(expect);
  free(in);
  return 0;
}

// Side a, stream: the warm-up messages, then (WARMUP > 0) the receiver's echo of the
// last of them, so the measured messages start into a drained channel; then numbered
// messages until the time or count bound, then STOP.
int stream_a(const struct plan *p, struct ep *e, struct side_report *r) {
  size_t size = p->size;
  uint8_t *out = make_template(size), *expect = make_template(size), *in = malloc(size);
  if (!out || !expect || !in) return no_memory(e, size, "a message");
  uint32_t seq = 0;
  for (; seq < p->warmup; seq++) {
    stamp(out, size, seq);
    if (ep_send(e, out) < 0) return -1;
  }
  if (p->warmup > 0 && check(e, expect, in, ep_recv(e, in), seq - 1) < 0) return -1;
  struct usage c0 = usage_now();
  uint64_t start = now_ns(), deadline = start + p->duration_ns, last = p->warmup + p->max_messages;
  // Not timed here: the receiver times from the end of warm-up to STOP.
  while (seq < last) {
    stamp(out, size, seq);
    if (ep_send(e, out) < 0) return -1;
    seq++;
    if ((seq & 63) == 0) {
      uint64_t t = now_ns();
      if (t >= deadline || enough(p, seq - p->warmup, start, t)) break;
    }
  }
  r->cost = usage_since(c0);
  r->messages = seq - p->warmup;
  stamp(out, size, STOP);
  int rc = ep_send(e, out);
  free(out);
  free(expect);
  free(in);
  return rc;
}

// Side b, stream: checks every message; echoes the last warm-up message to side a,
// then times from there to the receipt of STOP (from the start when WARMUP is 0).
int stream_b(const struct plan *p, struct ep *e, struct side_report *r) {
  size_t size = p->size;
  uint8_t *expect = make_template(size), *in = malloc(size);
  if (!expect || !in) return no_memory(e, size, "a message");
  uint32_t seq = 0;
  struct usage c0 = usage_now();
  uint64_t t0 = now_ns();
  for (;;) {
    ssize_t n = ep_recv(e, in);
    if (n < 0) return -1;
    if (is_stop(in, n, size)) break;
    if (check(e, expect, in, n, seq) < 0) return -1;
    seq++;
    if (seq == p->warmup) {
      if (ep_send(e, in) < 0) return -1;
      t0 = now_ns();
      c0 = usage_now();
    }
  }
  uint64_t t1 = now_ns();
  r->elapsed_ns = t1 - t0;
  r->phase_ns[0] = t0;
  r->phase_ns[1] = t1;
  r->cost = usage_since(c0);
  r->messages = seq > p->warmup ? seq - p->warmup : 0;
  free(expect);
  free(in);
  return 0;
}

// A sleep until CLOCK_MONOTONIC reads `at` (at once when that is past); a signal
// resumes it unless the peer failed.
static int sleep_until(struct ep *e, uint64_t at) {
  struct timespec ts = {.tv_sec = (time_t)(at / 1000000000ull), .tv_nsec = (long)(at % 1000000000ull)};
  for (;;) {
    int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    if (rc == 0) return 0;
    if (rc != EINTR) return failf(e->f, e->side, "clock_nanosleep", rc, "clock_nanosleep: %s", strerror(rc));
    if (peer_failed) return failf(e->f, e->side, "clock_nanosleep", EINTR, "interrupted: the peer failed");
  }
}

// START_AT_NS: both sides of every pattern sleep until that instant after their
// ready() and before their first message, so that several ipcfloor processes begin
// their loops together.
int wait_start(const struct plan *p, struct ep *e) { return p->start_at_ns ? sleep_until(e, p->start_at_ns) : 0; }

// Nearest-rank median of the first n values: rank ceil(n/2) of a sorted copy.
static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static int median(struct ep *e, const double *v, uint64_t n, double *m) {
  *m = 0;
  if (n == 0) return 0;
  double *s = malloc(n * sizeof(double));
  if (!s) return no_memory(e, n * sizeof(double), "the round-trip median");
  memcpy(s, v, n * sizeof(double));
  qsort(s, n, sizeof(double), cmp_double);
  *m = s[(n + 1) / 2 - 1];
  free(s);
  return 0;
}

// Side a, oneway: the warm-up of the ping-pong loop, then per message the stamp, a
// clock read written into it (its send time), the send, the receipt of side b's
// acknowledgement, a clock read, the check. The acknowledgement carries side b's
// receive time: each sample is that less the send time (one-way a to b on the one
// clock of the host); the round trip is kept beside it. The next message waits for
// the acknowledgement, so no queue enters a sample. Ends with STOP, which b echoes.
int oneway_a(const struct plan *p, struct ep *e, struct side_report *r, struct pingpong_out *o) {
  size_t size = p->size;
  uint8_t *out = make_template(size), *expect = make_template(size), *in = malloc(size);
  double *samples = malloc(p->max_messages * sizeof(double)), *rt = malloc(p->max_messages * sizeof(double));
  if (!out || !expect || !in) return no_memory(e, size, "a message");
  if (!samples || !rt) return no_memory(e, 2 * p->max_messages * sizeof(double), "the samples");
  uint32_t seq = 0;
  if (warm_up(p, e, out, expect, in, &seq, 1) < 0) return -1;
  o->warmup = seq;
  uint64_t count = 0;
  struct usage c0 = usage_now();
  uint64_t start = now_ns(), deadline = start + p->duration_ns, t_r = start;
  while (count < p->max_messages) {
    stamp(out, size, seq);
    uint64_t t_s = now_ns();
    write_time(out, t_s);
    if (ep_send(e, out) < 0) return -1;
    ssize_t n = ep_recv(e, in);
    t_r = now_ns();
    if (check_as(e, expect, in, n, seq, 1) < 0) return -1;
    seq++;
    // Signed differences: one clock for every CPU, so b's receipt is never before the send.
    samples[count] = (double)(int64_t)(read_time(in) - t_s);
    rt[count++] = (double)(int64_t)(t_r - t_s);
    if (t_r >= deadline || enough(p, count, start, t_r)) break;
  }
  r->cost = usage_since(c0);
  stamp(out, size, STOP);
  if (ep_send(e, out) < 0) return -1;
  ssize_t n = ep_recv(e, in);
  if (n < 0) return -1;
  if (!is_stop(in, n, size)) return failf(e->f, 'a', NULL, 0, "expected the STOP echo, got message %u", read_seq(in));
  if (median(e, rt, count, &o->round_trip_p50) < 0) return -1;
  r->messages = count;
  r->elapsed_ns = t_r - start;
  r->phase_ns[0] = start;
  r->phase_ns[1] = t_r;
  o->batch = 1;
  o->samples = samples;
  o->count = count;
  free(rt);
  free(out);
  free(expect);
  free(in);
  return 0;
}

// Side b, oneway: per message a clock read on receipt, the check, that time written
// into the message, and the message sent back as the acknowledgement; STOP is echoed
// and ends it. The cost is counted from the end of the fixed warm-up, as echo_b's.
int oneway_b(const struct plan *p, struct ep *e, struct side_report *r) {
  size_t size = p->size;
  uint8_t *expect = make_template(size), *in = malloc(size);
  if (!expect || !in) return no_memory(e, size, "a message");
  uint32_t seq = 0;
  struct usage c0 = usage_now();
  for (;;) {
    if (seq == p->warmup) c0 = usage_now();
    ssize_t n = ep_recv(e, in);
    uint64_t t = now_ns();
    if (n < 0) return -1;
    if (is_stop(in, n, size)) {
      if (ep_send(e, in) < 0) return -1;
      break;
    }
    if (check_as(e, expect, in, n, seq, 1) < 0) return -1;
    write_time(in, t);
    if (ep_send(e, in) < 0) return -1;
    seq++;
  }
  r->cost = usage_since(c0);
  r->messages = seq > p->warmup ? seq - p->warmup : 0;
  free(expect);
  free(in);
  return 0;
}

// A gap longer than SLEEP_OVER_NS is slept until SPIN_NS before its end, then spun: a
// sleep alone overshoots by tens of microseconds. A shorter gap is spun.
#define SLEEP_OVER_NS 200000ull
#define SPIN_NS 100000ull

static int wait_until(struct ep *e, uint64_t at) {
  uint64_t now = now_ns();
  if (now >= at) return 0;
  if (at - now > SLEEP_OVER_NS && sleep_until(e, at - SPIN_NS) < 0) return -1;
  while (now_ns() < at)
    if (peer_failed) return failf(e->f, e->side, NULL, 0, "the peer failed");
  return 0;
}

// Message k of the load sender: waits for its scheduled time `at` (a message that is
// late goes at once and keeps its time), carries `at`, and goes.
static inline int paced_send(struct ep *e, uint8_t *out, uint32_t k, uint64_t at) {
  if (wait_until(e, at) < 0) return -1;
  stamp(out, e->size, k);
  write_time(out, at);
  return ep_send(e, out);
}

// Side b, load (the sender): message k is scheduled at t0 + k × INTERVAL_NS and
// carries that time, never skipped and never rescheduled, so a message sent late
// counts all of its lateness at the receiver (no coordinated omission). The first
// WARMUP are the warm-up; the measured ones follow on the same schedule, from the
// scheduled time of the first of them, until the count, time or enough() bound,
// checked before each (one measured message at least, as the Node loop); then STOP.
// INTERVAL_NS 0 sends as fast as the channel takes them (its capacity).
int load_b(const struct plan *p, struct ep *e, struct side_report *r) {
  size_t size = p->size;
  uint8_t *out = make_template(size);
  if (!out) return no_memory(e, size, "a message");
  uint64_t iv = p->interval_ns, t0 = now_ns(), k = 0;
  for (; k < p->warmup; k++)
    if (paced_send(e, out, (uint32_t)k, t0 + k * iv) < 0) return -1;
  // At full speed (INTERVAL_NS 0) the measured phase starts once the warm-up is sent.
  uint64_t start = iv > 0 ? t0 + k * iv : now_ns(), last = start;
  struct usage c0 = usage_now();
  for (;; k++) {
    uint64_t sent = k - p->warmup, now = now_ns();
    // The schedule may be ahead of the clock: no time of the phase has passed yet.
    uint64_t in = now > start ? now - start : 0;
    if (sent > 0 && (sent >= p->max_messages || in >= p->duration_ns || enough(p, sent, start, start + in))) break;
    if (paced_send(e, out, (uint32_t)k, t0 + k * iv) < 0) return -1;
    last = now_ns();
  }
  r->cost = usage_since(c0);
  r->messages = k - p->warmup;
  r->elapsed_ns = last - start;
  r->phase_ns[0] = start;
  r->phase_ns[1] = last;
  stamp(out, size, STOP);
  write_time(out, now_ns());
  int rc = ep_send(e, out);
  free(out);
  return rc;
}

// Side a, load (the receiver): per message the receipt, a clock read, the check
// (messages 0, 1, 2, … in order); each measured message's sample is its receipt less
// the scheduled time it carries. STOP ends it. The cost is counted from the check of
// the last warm-up message (from the start when WARMUP is 0); the phase runs from the
// receipt of the first measured message to that of STOP.
int load_a(const struct plan *p, struct ep *e, struct side_report *r, struct pingpong_out *o) {
  size_t size = p->size;
  uint8_t *expect = make_template(size), *in = malloc(size);
  double *samples = malloc(p->max_messages * sizeof(double));
  if (!expect || !in) return no_memory(e, size, "a message");
  if (!samples) return no_memory(e, p->max_messages * sizeof(double), "the samples");
  uint32_t seq = 0;
  uint64_t count = 0, first = 0, t;
  struct usage c0 = usage_now();
  for (;;) {
    ssize_t n = ep_recv(e, in);
    t = now_ns();
    if (n < 0) return -1;
    if (is_stop(in, n, size)) break;
    if (check_as(e, expect, in, n, seq, 1) < 0) return -1;
    if (seq >= p->warmup) {
      if (count == p->max_messages) return failf(e->f, e->side, NULL, 0, "more measured messages than MAX_MESSAGES (%llu)", (unsigned long long)p->max_messages);
      if (count == 0) first = t;
      samples[count++] = (double)(int64_t)(t - read_time(in));
    }
    seq++;
    if (seq == p->warmup) c0 = usage_now();
  }
  r->cost = usage_since(c0);
  r->messages = count;
  r->elapsed_ns = count ? t - first : 0;
  r->phase_ns[0] = first;
  r->phase_ns[1] = t;
  o->warmup = p->warmup;
  o->batch = 1;
  o->samples = samples;
  o->count = count;
  free(expect);
  free(in);
  return 0;
}

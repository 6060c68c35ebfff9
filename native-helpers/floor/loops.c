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
// it is message `seq`.
static int check(struct ep *e, uint8_t *expect, const uint8_t *buf, ssize_t n, uint32_t seq) {
  size_t size = e->size;
  if (n != (ssize_t)size) return failf(e->f, e->side, NULL, 0, "message %u: %zd bytes, expected %zu", seq, n, size);
  uint32_t got = read_seq(buf);
  if (got != seq)
    return failf(e->f, e->side, NULL, 0, "message %u: sequence number %u (%s message)", seq, got, got < seq ? "duplicated or reordered" : "lost");
  stamp(expect, size, seq);
  if (memcmp(buf, expect, size) != 0) {
    size_t x = 0;
    while (buf[x] == expect[x]) x++;
    return failf(e->f, e->side, NULL, 0, "message %u: byte %zu is %u, expected %u (stale or corrupted message)", seq, x, buf[x], expect[x]);
  }
  return 0;
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
  for (; seq < p->warmup; seq++) {
    stamp(out, size, seq);
    if (ep_send(e, out) < 0) return -1;
    if (check(e, expect, in, ep_recv(e, in), seq) < 0) return -1;
  }
  // Settling blocks while the loop still gets faster: the rule of Settler in
  // src/harness/case/loops.ts (blocks of settle_block() round trips, until one is not
  // SETTLE_GAIN faster than the best before it, SETTLE_MAX_BLOCKS, or half the time).
  if (p->warmup > 0) {
    uint64_t block = settle_block(size), until = now_ns() + p->duration_ns / 2;
    double best = 1e300;
    for (int blocks = 1;; blocks++) {
      uint64_t t0 = now_ns();
      for (uint64_t i = 0; i < block; i++, seq++) {
        stamp(out, size, seq);
        if (ep_send(e, out) < 0) return -1;
        if (check(e, expect, in, ep_recv(e, in), seq) < 0) return -1;
      }
      uint64_t t1 = now_ns();
      double per = (double)(t1 - t0) / (double)block;
      int falling = per < best * SETTLE_GAIN;
      if (per < best) best = per;
      if (!falling || blocks >= SETTLE_MAX_BLOCKS || t1 >= until) break;
    }
  }
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
  r->elapsed_ns = now_ns() - t0;
  r->cost = usage_since(c0);
  r->messages = seq > p->warmup ? seq - p->warmup : 0;
  free(expect);
  free(in);
  return 0;
}

// The timing loops, line for line those of src/harness/loops.ts (synchronous
// variants), with the message format of WIRE.md: what Node's figure adds to these
// is Node's own cost.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "floor.h"

static inline void stamp(uint8_t *buf, size_t size, uint32_t seq) {
  memcpy(buf, &seq, 4);
  if (size >= 8) {
    uint32_t t = seq ^ TRAILER_XOR;
    memcpy(buf + size - 4, &t, 4);
  }
}

static inline uint32_t read_seq(const uint8_t *buf) {
  uint32_t s;
  memcpy(&s, buf, 4);
  return s;
}

static inline uint8_t pattern_byte(size_t i) { return (uint8_t)((i * 131 + 17) & 0xFF); }

static uint8_t *make_message(size_t size) {
  uint8_t *buf = calloc(1, size);
  if (!buf) return NULL;
  for (size_t i = 4; i < size; i++) buf[i] = pattern_byte(i);
  return buf;
}

// A failed allocation is the side's failure, reported as every other one is.
static int no_memory(struct ep *e, size_t bytes, const char *what) {
  return failf(e->f, e->side, "malloc", ENOMEM, "cannot allocate %zu bytes for %s", bytes, what);
}

// Length, sequence number and trailer (and every byte when `full`). 0 when expected.
static int check(struct failure *f, char side, const uint8_t *buf, ssize_t n, size_t size, uint32_t expect, int full) {
  if (n != (ssize_t)size) return failf(f, side, NULL, 0, "message %u: %zd bytes, expected %zu", expect, n, size);
  uint32_t seq = read_seq(buf);
  if (seq != expect)
    return failf(f, side, NULL, 0, "message %u: sequence number %u (%s message)", expect, seq, seq < expect ? "duplicated or reordered" : "lost");
  if (size >= 8) {
    uint32_t t;
    memcpy(&t, buf + size - 4, 4);
    if (t != (seq ^ TRAILER_XOR)) return failf(f, side, NULL, 0, "message %u: trailer corrupted", expect);
  }
  if (full) {
    size_t end = size >= 8 ? size - 4 : size;
    for (size_t i = 4; i < end; i++)
      if (buf[i] != pattern_byte(i)) return failf(f, side, NULL, 0, "message %u: payload byte %zu is %u, expected %u", expect, i, buf[i], pattern_byte(i));
  }
  return 0;
}

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

// Round trips shorter than 2 µs are timed in batches (loops.ts chooseBatch).
static uint64_t choose_batch(double warm_ns) {
  if (!(warm_ns < 2000) || warm_ns <= 0) return 1;
  uint64_t b = (uint64_t)pow(2, ceil(log2(20000 / warm_ns)));
  return b > 1024 ? 1024 : b;
}

#define FULL_CHECKS(w) ((w) < 64 ? (w) : 64)

// Side a, ping-pong. Times each round trip (or batch, stored as the mean) from just
// before send to just after the echo has been received and checked; ends with STOP.
int pingpong_a(const struct plan *p, struct ep *e, struct side_report *r, struct pingpong_out *o) {
  size_t size = p->size;
  uint8_t *out = make_message(size), *in = malloc(size);
  if (!out || !in) return no_memory(e, size, "a message");
  uint64_t full = FULL_CHECKS(p->warmup);
  // The batch is chosen from the fastest block of 16 warm-up round trips (loops.ts).
  double warm = INFINITY;
  uint64_t b0 = now_ns();
  for (uint32_t seq = 0; seq < p->warmup; seq++) {
    stamp(out, size, seq);
    if (ep_send(e, out) < 0) return -1;
    if (check(e->f, 'a', in, ep_recv(e, in), size, seq, seq < full) < 0) return -1;
    if ((seq + 1) % 16 == 0 || seq + 1 == p->warmup) {
      uint64_t b1 = now_ns();
      double mean = (double)(b1 - b0) / (double)(seq % 16 + 1);
      if (mean < warm) warm = mean;
      b0 = b1;
    }
  }
  uint64_t batch = choose_batch(warm);
  uint64_t max_samples = p->max_messages / batch > 0 ? p->max_messages / batch : 1;
  double *samples = malloc(max_samples * sizeof(double));
  if (!samples) return no_memory(e, max_samples * sizeof(double), "the samples");
  uint32_t seq = (uint32_t)p->warmup;
  uint64_t count = 0;
  struct usage c0 = usage_now();
  uint64_t start = now_ns(), deadline = start + p->duration_ns;
  // Timed: batch × (stamp, send, receive, check).
  while (count < max_samples) {
    uint64_t t0 = now_ns();
    for (uint64_t k = 0; k < batch; k++) {
      stamp(out, size, seq);
      if (ep_send(e, out) < 0) return -1;
      if (check(e->f, 'a', in, ep_recv(e, in), size, seq, 0) < 0) return -1;
      seq++;
    }
    uint64_t t1 = now_ns();
    samples[count++] = (double)(t1 - t0) / (double)batch;
    if (t1 >= deadline) break;
  }
  uint64_t end = now_ns();
  r->cost = usage_since(c0);
  stamp(out, size, STOP);
  if (ep_send(e, out) < 0 || ep_recv(e, in) < 0) return -1;
  if (read_seq(in) != STOP) return failf(e->f, 'a', NULL, 0, "expected the STOP echo, got message %u", read_seq(in));
  r->messages = count * batch;
  r->elapsed_ns = end - start;
  o->batch = batch;
  o->samples = samples;
  o->count = count;
  free(out);
  free(in);
  return 0;
}

// Side b, ping-pong: echo each message unchanged until STOP.
int echo_b(const struct plan *p, struct ep *e, struct side_report *r) {
  size_t size = p->size;
  uint8_t *in = malloc(size);
  if (!in) return no_memory(e, size, "a message");
  uint64_t full = FULL_CHECKS(p->warmup);
  uint32_t seq = 0;
  struct usage c0 = usage_now();
  for (;;) {
    if (seq == p->warmup) c0 = usage_now();
    ssize_t n = ep_recv(e, in);
    if (n < 0) return -1;
    if (read_seq(in) == STOP && (size_t)n == size) {
      if (ep_send(e, in) < 0) return -1;
      break;
    }
    if (check(e->f, 'b', in, n, size, seq, seq < full) < 0) return -1;
    if (ep_send(e, in) < 0) return -1;
    seq++;
  }
  r->cost = usage_since(c0);
  r->messages = seq > p->warmup ? seq - p->warmup : 0;
  free(in);
  return 0;
}

// Side a, stream: numbered messages until the time or count bound, then STOP.
int stream_a(const struct plan *p, struct ep *e, struct side_report *r) {
  size_t size = p->size;
  uint8_t *out = make_message(size);
  if (!out) return no_memory(e, size, "a message");
  uint32_t seq = 0;
  for (; seq < p->warmup; seq++) {
    stamp(out, size, seq);
    if (ep_send(e, out) < 0) return -1;
  }
  struct usage c0 = usage_now();
  uint64_t deadline = now_ns() + p->duration_ns, last = p->warmup + p->max_messages;
  // Not timed here: the receiver times from the end of warm-up to STOP.
  while (seq < last) {
    stamp(out, size, seq);
    if (ep_send(e, out) < 0) return -1;
    seq++;
    if ((seq & 63) == 0 && now_ns() >= deadline) break;
  }
  r->cost = usage_since(c0);
  r->messages = seq - p->warmup;
  stamp(out, size, STOP);
  int rc = ep_send(e, out);
  free(out);
  return rc;
}

// Side b, stream: times from the receipt of the last warm-up message to STOP.
int stream_b(const struct plan *p, struct ep *e, struct side_report *r) {
  size_t size = p->size;
  uint8_t *in = malloc(size);
  if (!in) return no_memory(e, size, "a message");
  uint64_t full = FULL_CHECKS(p->warmup);
  uint32_t seq = 0;
  struct usage c0 = usage_now();
  uint64_t t0 = now_ns();
  for (;;) {
    ssize_t n = ep_recv(e, in);
    if (n < 0) return -1;
    if (read_seq(in) == STOP && (size_t)n == size) break;
    if (check(e->f, 'b', in, n, size, seq, seq < full) < 0) return -1;
    seq++;
    if (seq == p->warmup) {
      t0 = now_ns();
      c0 = usage_now();
    }
  }
  r->elapsed_ns = now_ns() - t0;
  r->cost = usage_since(c0);
  r->messages = seq > p->warmup ? seq - p->warmup : 0;
  free(in);
  return 0;
}

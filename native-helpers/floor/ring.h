// The shared-memory SPSC ring of src/mechanisms/common/ring.ts, in C: the same layout
// (ring-layout.ts: HEAD, TAIL, CONSUMER_WAITING, PRODUCER_WAITING each on its own
// 64-byte line, then the slots) and the same protocol, with sequentially consistent
// atomics as JavaScript's Atomics are:
//   producer: copy into slot TAIL % slots; store TAIL+1; if CONSUMER_WAITING, wake.
//   consumer: store CONSUMER_WAITING=1; re-load TAIL; sleep while TAIL is unchanged.
// Futexes are non-private, so the ring works across processes.
#ifndef IPCFLOOR_RING_H
#define IPCFLOOR_RING_H
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RING_HEAD 0
#define RING_TAIL 16
#define RING_CONSUMER_WAITING 32
#define RING_PRODUCER_WAITING 48
#define RING_HEADER_BYTES 256

struct ring {
  int32_t *i32;
  uint8_t *bytes;
  uint32_t slots, slot_bytes;
  uint32_t mine;  // our next TAIL (producer) or HEAD (consumer)
};

static inline uint32_t ring_slot_bytes(size_t size) { return (uint32_t)((size + 63) / 64 * 64); }

static inline uint32_t ring_slots(size_t size) {
  uint64_t n = (4u * 1024 * 1024) / ring_slot_bytes(size);
  return (uint32_t)(n < 2 ? 2 : n > 64 ? 64 : n);
}

static inline size_t ring_bytes(size_t size) { return RING_HEADER_BYTES + (size_t)ring_slots(size) * ring_slot_bytes(size); }

static inline void ring_init(struct ring *r, void *base, size_t size) {
  r->i32 = (int32_t *)base;
  r->bytes = (uint8_t *)base + RING_HEADER_BYTES;
  r->slots = ring_slots(size);
  r->slot_bytes = ring_slot_bytes(size);
  r->mine = 0;
}

static inline int32_t ld(const int32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void st(int32_t *p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

// Sleeps while *addr == expected. -1 when interrupted because the peer failed.
static inline int ring_futex_wait(int32_t *addr, int32_t expected, volatile sig_atomic_t *peer_failed) {
  long r = syscall(SYS_futex, addr, FUTEX_WAIT, expected, NULL, NULL, 0);
  if (r < 0 && errno == EINTR && *peer_failed) return -1;
  return 0;
}

static inline void ring_futex_wake(int32_t *addr) { syscall(SYS_futex, addr, FUTEX_WAKE, 1, NULL, NULL, 0); }

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Peer indices are untrusted: more used slots than exist is corruption, not an index to follow.
static inline int ring_used(const struct ring *r, uint32_t head, uint32_t tail) {
  uint32_t used = tail - head;
  return used > r->slots ? -1 : (int)used;
}

static inline int ring_send(struct ring *r, const uint8_t *buf, size_t size, int spin, volatile sig_atomic_t *peer_failed) {
  int32_t *h = r->i32;
  for (;;) {
    int used = ring_used(r, (uint32_t)ld(&h[RING_HEAD]), r->mine);
    if (used < 0) return -2;
    if ((uint32_t)used < r->slots) break;
    if (*peer_failed) return -1;
    if (spin) {
      cpu_relax();
      continue;
    }
    int32_t seen = ld(&h[RING_HEAD]);
    st(&h[RING_PRODUCER_WAITING], 1);
    if ((uint32_t)ring_used(r, (uint32_t)ld(&h[RING_HEAD]), r->mine) >= r->slots && ring_futex_wait(&h[RING_HEAD], seen, peer_failed) < 0) return -1;
    st(&h[RING_PRODUCER_WAITING], 0);
  }
  memcpy(r->bytes + (size_t)(r->mine % r->slots) * r->slot_bytes, buf, size);
  r->mine++;
  st(&h[RING_TAIL], (int32_t)r->mine);
  if (!spin && ld(&h[RING_CONSUMER_WAITING]) != 0) ring_futex_wake(&h[RING_TAIL]);
  return 0;
}

static inline int ring_recv(struct ring *r, uint8_t *buf, size_t size, int spin, volatile sig_atomic_t *peer_failed) {
  int32_t *h = r->i32;
  while ((uint32_t)ld(&h[RING_TAIL]) == r->mine) {
    if (*peer_failed) return -1;
    if (spin) {
      cpu_relax();
      continue;
    }
    st(&h[RING_CONSUMER_WAITING], 1);
    if ((uint32_t)ld(&h[RING_TAIL]) == r->mine && ring_futex_wait(&h[RING_TAIL], (int32_t)r->mine, peer_failed) < 0) return -1;
    st(&h[RING_CONSUMER_WAITING], 0);
  }
  if (ring_used(r, r->mine, (uint32_t)ld(&h[RING_TAIL])) < 0) return -2;
  memcpy(buf, r->bytes + (size_t)(r->mine % r->slots) * r->slot_bytes, size);
  r->mine++;
  st(&h[RING_HEAD], (int32_t)r->mine);
  if (!spin && ld(&h[RING_PRODUCER_WAITING]) != 0) ring_futex_wake(&h[RING_HEAD]);
  return 0;
}
#endif

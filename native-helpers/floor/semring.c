// The semaphore rings of src/mechanisms/sem-ring.ts in C (shm-sem, sysv-sem): the
// same two SPSC rings (ring.h's layout) guarded as a bounded buffer by two counting
// semaphores per ring, ITEMS and SPACES, in the same places (ring-layout.ts, SemHeader
// and SysvSem), with the same work per message:
//   send: wait SPACES; copy into slot TAIL % slots; store TAIL+1; post ITEMS.
//   recv: wait ITEMS; check that TAIL moved; copy out; store HEAD+1; post SPACES.
// Waits sleep in slices of SLICE_MS (sem_trywait then sem_timedwait; semtimedop); a
// slice that runs out looks at the peer (its SEM_UNDO presence for System V) and waits
// again. A dead child's SIGCHLD (or a failed thread's signal) ends a wait at once.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define SLICE_MS 500
// Byte offsets in a ring's header (ring-layout.ts: the futex ring's waiting-flag lines).
#define SEM_ITEMS_BYTE 128
#define SEM_SPACES_BYTE 192
// The System V set (ring-layout.ts, SysvSem).
enum { AB_ITEMS, AB_SPACES, BA_ITEMS, BA_SPACES, A_PRESENT, B_PRESENT, SEM_COUNT };

_Static_assert(sizeof(sem_t) <= 32, "a sem_t must fit the 32 bytes the ring header keeps for it");

union semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
};

static int sysv_op(int semid, int num, int delta, int undo, const struct timespec *slice) {
  struct sembuf op = {.sem_num = (unsigned short)num, .sem_op = (short)delta, .sem_flg = (short)(undo ? SEM_UNDO : 0)};
  return semtimedop(semid, &op, 1, slice);
}

// No fds: a process's death is seen by SIGCHLD, its presence semaphore, or PDEATHSIG.
static void keep_fds(struct ep *e) { (void)e; }

static void remove_sems(struct channel *c) {
  if (c->semid >= 0) semctl(c->semid, 0, IPC_RMID);
}

static void set_sems(struct ring_sems *s, struct ring *r, int items, int spaces) {
  s->items = (sem_t *)((uint8_t *)r->i32 + SEM_ITEMS_BYTE);
  s->spaces = (sem_t *)((uint8_t *)r->i32 + SEM_SPACES_BYTE);
  s->items_num = items;
  s->spaces_num = spaces;
}

// Two rings in shm_open memory (unlinked before the fork) with four sem_t made by
// sem_init(pshared = 1), or in a shmget segment (removed at once: it goes at the last
// detach) with a System V set of six, ledgered and removed at the end.
int open_sem_rings(struct channel *c, const char *mech, int threads, size_t size, struct failure *f) {
  size_t bytes = 2 * ring_bytes(size);
  void *mem = MAP_FAILED;
  int posix = strcmp(mech, "shm-sem") == 0;
  if (posix) {
    char name[96];
    snprintf(name, sizeof name, "/ipcbench-%d-floor-%08x", (int)getpid(), (unsigned)random());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return failf(f, 'a', "shm_open", errno, "shm_open: %s", strerror(errno));
    shm_unlink(name);
    if (ftruncate(fd, (off_t)bytes) != 0) return failf(f, 'a', "ftruncate", errno, "ftruncate: %s", strerror(errno));
    mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
  } else {
    int id = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
    if (id < 0) return failf(f, 'a', "shmget", errno, "shmget: %s", strerror(errno));
    mem = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);
    if (mem == (void *)-1) mem = MAP_FAILED;
  }
  if (mem == MAP_FAILED) return failf(f, 'a', "mmap", errno, "mapping %zu bytes: %s", bytes, strerror(errno));
  memset(mem, 0, bytes);
  uint8_t *base = mem;
  c->a.kind = c->b.kind = K_SEMRING;
  ring_init(&c->a.tx, base, size);
  ring_init(&c->b.rx, base, size);
  ring_init(&c->b.tx, base + ring_bytes(size), size);
  ring_init(&c->a.rx, base + ring_bytes(size), size);
  set_sems(&c->a.txs, &c->a.tx, AB_ITEMS, AB_SPACES);
  set_sems(&c->b.rxs, &c->b.rx, AB_ITEMS, AB_SPACES);
  set_sems(&c->b.txs, &c->b.tx, BA_ITEMS, BA_SPACES);
  set_sems(&c->a.rxs, &c->a.rx, BA_ITEMS, BA_SPACES);
  c->close_side = keep_fds;
  uint32_t slots = ring_slots(size);
  if (posix) {
    sem_t *s[4] = {c->a.txs.items, c->a.txs.spaces, c->a.rxs.items, c->a.rxs.spaces};
    unsigned v[4] = {0, slots, 0, slots};
    for (int i = 0; i < 4; i++)
      if (sem_init(s[i], 1, v[i]) != 0) return failf(f, 'a', "sem_init", errno, "sem_init: %s", strerror(errno));
    c->a.semid = c->b.semid = -1;
    c->a.peer_present = c->b.peer_present = -1;
    snprintf(c->describe, sizeof c->describe,
             "\"channel\":\"SPSC rings in shm_open + mmap(MAP_SHARED), four sem_t (sem_init pshared=1)\",\"slots\":\"%u\",\"slotBytes\":\"%u\"", slots,
             ring_slot_bytes(size));
    return 0;
  }
  c->semid = semget(IPC_PRIVATE, SEM_COUNT, IPC_CREAT | 0600);
  if (c->semid < 0) return failf(f, 'a', "semget", errno, "semget: %s", strerror(errno));
  c->destroy = remove_sems;
  union semun arg = {.val = (int)slots};
  if (semctl(c->semid, AB_SPACES, SETVAL, arg) != 0 || semctl(c->semid, BA_SPACES, SETVAL, arg) != 0) {
    int e = errno;
    remove_sems(c);  // main does not destroy a channel that failed to open
    return failf(f, 'a', "semctl", e, "semctl SETVAL: %s", strerror(e));
  }
  c->a.semid = c->b.semid = c->semid;
  c->a.peer_present = threads ? -1 : B_PRESENT;
  c->b.peer_present = threads ? -1 : A_PRESENT;
  // Side a's presence, raised before the fork (a child inherits no SEM_UNDO adjustment).
  if (!threads && sysv_op(c->semid, A_PRESENT, 1, 1, NULL) != 0) {
    int e = errno;
    remove_sems(c);
    return failf(f, 'a', "semop", e, "semop: %s", strerror(e));
  }
  snprintf(c->describe, sizeof c->describe,
           "\"channel\":\"SPSC rings in shmget + shmat, one System V set of %d semaphores (semid %d)\",\"slots\":\"%u\",\"slotBytes\":\"%u\"", SEM_COUNT,
           c->semid, slots, ring_slot_bytes(size));
  return 0;
}

// Side b of a process case raises its own presence once it runs in its own process.
int semring_ready(struct ep *e) {
  if (e->semid < 0 || e->peer_present < 0 || e->side != 'b') return 0;
  if (sysv_op(e->semid, B_PRESENT, 1, 1, NULL) != 0) return failf(e->f, e->side, "semop", errno, "semop: %s", strerror(errno));
  return 0;
}

// Between slices: is the peer still there?
static int peer_gone(struct ep *e) {
  if (peer_failed) return failf(e->f, e->side, NULL, EINTR, "interrupted: the peer failed");
  if (e->semid >= 0 && e->peer_present >= 0 && semctl(e->semid, e->peer_present, GETVAL) == 0)
    return failf(e->f, e->side, NULL, 0, "the peer has gone (its SEM_UNDO presence was released)");
  return 0;
}

// Takes one unit of a ring's semaphore, a slice at a time. 0, or -1 (f set).
static int take(struct ep *e, sem_t *s, int num) {
  if (e->semid < 0) {
    if (sem_trywait(s) == 0) return 0;
    for (;;) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += SLICE_MS / 1000;
      ts.tv_nsec += (SLICE_MS % 1000) * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      if (sem_timedwait(s, &ts) == 0) return 0;
      if (errno != ETIMEDOUT && errno != EINTR) return failf(e->f, e->side, "sem_timedwait", errno, "sem_timedwait: %s", strerror(errno));
      if (peer_gone(e) < 0) return -1;
    }
  }
  const struct timespec slice = {SLICE_MS / 1000, (SLICE_MS % 1000) * 1000000L};
  for (;;) {
    if (sysv_op(e->semid, num, -1, 0, &slice) == 0) return 0;
    if (errno != EAGAIN && errno != EINTR) return failf(e->f, e->side, "semtimedop", errno, "semtimedop: %s", strerror(errno));
    if (peer_gone(e) < 0) return -1;
  }
}

static int post(struct ep *e, sem_t *s, int num) {
  int rc = e->semid < 0 ? sem_post(s) : sysv_op(e->semid, num, 1, 0, NULL);
  return rc == 0 ? 0 : failf(e->f, e->side, e->semid < 0 ? "sem_post" : "semop", errno, "post: %s", strerror(errno));
}

int semring_send(struct ep *e, const uint8_t *buf) {
  struct ring *r = &e->tx;
  if (take(e, e->txs.spaces, e->txs.spaces_num) < 0) return -1;
  memcpy(r->bytes + (size_t)(r->mine % r->slots) * r->slot_bytes, buf, e->size);
  r->mine++;
  st(&r->i32[RING_TAIL], (int32_t)r->mine);
  return post(e, e->txs.items, e->txs.items_num);
}

int semring_recv(struct ep *e, uint8_t *buf) {
  struct ring *r = &e->rx;
  if (take(e, e->rxs.items, e->rxs.items_num) < 0) return -1;
  if (ring_used(r, r->mine, (uint32_t)ld(&r->i32[RING_TAIL])) <= 0)
    return failf(e->f, e->side, NULL, 0, "shared ring corrupted: ITEMS was posted with no message in the ring");
  memcpy(buf, r->bytes + (size_t)(r->mine % r->slots) * r->slot_bytes, e->size);
  r->mine++;
  st(&r->i32[RING_HEAD], (int32_t)r->mine);
  return post(e, e->rxs.spaces, e->rxs.spaces_num);
}

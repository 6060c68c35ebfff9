// An independent ping-pong, to check the C floor (native-helpers/floor) against: two
// processes (fork), both pinned to one CPU, bounce a 64-byte message over
//   pipe         two pipes, one per direction
//   fifo         two FIFOs in a mkdtemp directory
//   unix-stream  socketpair(AF_UNIX, SOCK_STREAM)
//   unix-dgram   socketpair(AF_UNIX, SOCK_DGRAM)
// with blocking read and write. Shares no code with ipcfloor on purpose.
//
//   pingpong MECH ROUND_TRIPS CPU [WARMUP]
//
// After WARMUP untimed round trips (default 1000), the parent reads the clock once,
// then once after each round trip; each sample is the time since the previous read.
// Prints {"mechanism":…,"roundTrips":N,"elapsedNs":…,"p50Ns":…}.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIZE 64

static void die(const char *what) {
  fprintf(stderr, "pingpong: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

// Writes or reads exactly SIZE bytes (a byte stream may split them; a datagram never does).
static void send_all(int fd, const char *buf) {
  size_t done = 0;
  while (done < SIZE) {
    ssize_t n = write(fd, buf + done, SIZE - done);
    if (n < 0) die("write");
    done += (size_t)n;
  }
}

static void recv_all(int fd, char *buf) {
  size_t done = 0;
  while (done < SIZE) {
    ssize_t n = read(fd, buf + done, SIZE - done);
    if (n < 0) die("read");
    if (n == 0) {
      fprintf(stderr, "pingpong: the peer closed the channel\n");
      exit(1);
    }
    done += (size_t)n;
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: pingpong pipe|fifo|unix-stream|unix-dgram ROUND_TRIPS CPU [WARMUP]\n");
    return 2;
  }
  const char *mech = argv[1];
  long n = atol(argv[2]), cpu = atol(argv[3]), warmup = argc == 5 ? atol(argv[4]) : 1000;
  if (n < 1 || cpu < 0 || warmup < 0) {
    fprintf(stderr, "pingpong: ROUND_TRIPS must be >= 1, CPU and WARMUP >= 0\n");
    return 2;
  }
  long total = warmup + n;
  pin((int)cpu);

  // a_rd/a_wr: the parent's ends; b_rd/b_wr: the child's.
  int a_rd = -1, a_wr = -1, b_rd = -1, b_wr = -1;
  char dir[] = "/tmp/pingpong-XXXXXX", a2b[64] = "", b2a[64] = "";
  int fifo = strcmp(mech, "fifo") == 0;
  if (strcmp(mech, "pipe") == 0) {
    int p1[2], p2[2];
    if (pipe(p1) != 0 || pipe(p2) != 0) die("pipe");
    b_rd = p1[0], a_wr = p1[1], a_rd = p2[0], b_wr = p2[1];
  } else if (fifo) {
    if (!mkdtemp(dir)) die("mkdtemp");
    snprintf(a2b, sizeof a2b, "%s/a2b", dir);
    snprintf(b2a, sizeof b2a, "%s/b2a", dir);
    if (mkfifo(a2b, 0600) != 0 || mkfifo(b2a, 0600) != 0) die("mkfifo");
  } else if (strcmp(mech, "unix-stream") == 0 || strcmp(mech, "unix-dgram") == 0) {
    int sv[2];
    if (socketpair(AF_UNIX, strcmp(mech, "unix-stream") == 0 ? SOCK_STREAM : SOCK_DGRAM, 0, sv) != 0) die("socketpair");
    a_rd = a_wr = sv[0];
    b_rd = b_wr = sv[1];
  } else {
    fprintf(stderr, "pingpong: unknown mechanism %s\n", mech);
    return 2;
  }

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    pin((int)cpu);
    if (fifo) {
      // The opens pair up in this order on both sides: a2b first, then b2a.
      if ((b_rd = open(a2b, O_RDONLY)) < 0 || (b_wr = open(b2a, O_WRONLY)) < 0) die("open FIFO");
    } else if (a_rd != b_rd) {
      close(a_rd);
      if (a_wr != a_rd) close(a_wr);
    }
    char buf[SIZE];
    for (long i = 0; i < total; i++) {
      recv_all(b_rd, buf);
      send_all(b_wr, buf);
    }
    _exit(0);
  }
  if (fifo) {
    if ((a_wr = open(a2b, O_WRONLY)) < 0 || (a_rd = open(b2a, O_RDONLY)) < 0) die("open FIFO");
    unlink(a2b);
    unlink(b2a);
    rmdir(dir);
  } else {
    close(b_rd);
    if (b_wr != b_rd) close(b_wr);
  }

  uint64_t *samples = malloc((size_t)n * sizeof *samples);
  if (!samples) die("malloc");
  char out[SIZE], in[SIZE];
  for (int i = 0; i < SIZE; i++) out[i] = (char)i;
  uint64_t start = 0, prev = 0, t = 0;
  for (long i = 0; i < total; i++) {
    if (i == warmup) start = prev = now_ns();
    uint32_t seq = (uint32_t)i;
    memcpy(out, &seq, 4);
    send_all(a_wr, out);
    recv_all(a_rd, in);
    if (memcmp(in, out, SIZE) != 0) {
      fprintf(stderr, "pingpong: round trip %ld came back different\n", i);
      return 1;
    }
    if (i >= warmup) {
      t = now_ns();
      samples[i - warmup] = t - prev;
      prev = t;
    }
  }
  int status;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "pingpong: the child failed\n");
    return 1;
  }

  qsort(samples, (size_t)n, sizeof *samples, cmp_u64);
  double p50 = n % 2 ? (double)samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2.0;
  printf("{\"mechanism\":\"%s\",\"roundTrips\":%ld,\"elapsedNs\":%llu,\"p50Ns\":%.1f}\n", mech, n, (unsigned long long)(t - start), p50);
  free(samples);
  return 0;
}

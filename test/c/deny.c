// Runs a command with some system calls refused, as a container runtime's seccomp
// profile refuses them: each named call returns -1 with ENOSYS (the errno Docker's
// default profile gives for calls it does not know). Used by the tests to check that a
// refused call turns a case into "skipped", naming it.
//
//   deny CALL[,CALL…] COMMAND [ARG…]      CALL: mq_open | msgget | shmget | eventfd2
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "deny: no seccomp architecture for this target"
#endif

static int number(const char *name) {
  if (strcmp(name, "mq_open") == 0) return SYS_mq_open;
  if (strcmp(name, "msgget") == 0) return SYS_msgget;
  if (strcmp(name, "shmget") == 0) return SYS_shmget;
  if (strcmp(name, "eventfd2") == 0) return SYS_eventfd2;
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: deny CALL[,CALL...] COMMAND [ARG...]\n");
    return 2;
  }
  struct sock_filter f[64];
  int n = 0;
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  char *list = strdup(argv[1]);
  for (char *name = strtok(list, ","); name && n < 60; name = strtok(NULL, ",")) {
    int nr = number(name);
    if (nr < 0) {
      fprintf(stderr, "deny: unknown call %s\n", name);
      return 2;
    }
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
  }
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {(unsigned short)n, f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    perror("deny: seccomp");
    return 1;
  }
  execvp(argv[2], argv + 2);
  perror("deny: exec");
  return 127;
}

// ipcfloor --launch-pair: a Node case's two processes started at once (src/harness/run/
// node-executor.ts). Node's start is most of a repetition's cost, and side b can start
// before side a has made the objects (it is handed its fds later, by SCM_RIGHTS). This
// process forks side b, then becomes side a by exec: side b stays side a's child (the same
// process group, and PR_SET_PDEATHSIG on side a), as when side a spawns it.
//
// usage: ipcfloor --launch-pair CPUS_A CPU_B N PEER_ARGV[N] CASE_ARGV...
//   CPUS_A: "0" or "0,1" or "-"; CPU_B: "1" or "-" (unpinned).
// fds on entry: 3 side a's IPC channel to the orchestrator, 4 and 5 side a's ends of the
// control and hand-over sockets, 6 and 7 side b's. Side b gets its control socket on 3,
// FDS_PLACES places from 4 on (copies of the hand-over socket, taken over by the fds it is
// handed), and the hand-over socket after them; side a keeps 3, 4 and 5.
#include "floor.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { A_IPC = 3, A_CONTROL = 4, A_HANDOVER = 5, B_CONTROL = 6, B_HANDOVER = 7, FIRST_PLACE = 4, FDS_PLACES = 4 };

// Pins the calling thread (and what it execs, with every thread that makes) to CPUS, "-" for none.
static int pin_to(const char *cpus) {
  if (strcmp(cpus, "-") == 0) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  char *copy = strdup(cpus), *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) CPU_SET(atoi(tok), &set);
  free(copy);
  return sched_setaffinity(0, sizeof set, &set);
}

int launch_main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: ipcfloor --launch-pair CPUS_A CPU_B N PEER_ARGV[N] CASE_ARGV...\n");
    return 2;
  }
  int n = atoi(argv[4]);
  if (n < 1 || 5 + n >= argc) {
    fprintf(stderr, "ipcfloor --launch-pair: N %s does not leave a peer and a case command\n", argv[4]);
    return 2;
  }
  char **peer = argv + 5, **self = argv + 5 + n;
  char *peer_argv[n + 1];
  memcpy(peer_argv, peer, sizeof(char *) * n);
  peer_argv[n] = NULL;
  pid_t pid = fork();
  if (pid < 0) {
    perror("ipcfloor --launch-pair: fork");
    return 1;
  }
  if (pid == 0) {
    int handover = FIRST_PLACE + FDS_PLACES;
    if (pin_to(argv[3]) != 0 || dup2(B_CONTROL, A_IPC) < 0 || dup2(B_HANDOVER, handover) < 0) _exit(126);
    for (int fd = FIRST_PLACE; fd < handover; fd++)
      if (dup2(handover, fd) < 0) _exit(126);
    for (int fd = handover + 1; fd < 1024; fd++) close(fd);
    // Side b is not on the orchestrator's IPC channel, and dies with side a.
    unsetenv("NODE_CHANNEL_FD");
    unsetenv("NODE_CHANNEL_SERIALIZATION_MODE");
    char parent[24];
    snprintf(parent, sizeof parent, "%ld", (long)getppid());
    setenv("IPCBENCH_PARENT_PID", parent, 1);
    unsetenv("IPCBENCH_EARLY_PEER");
    execvp(peer_argv[0], peer_argv);
    perror("ipcfloor --launch-pair: exec side b");
    _exit(127);
  }
  close(B_CONTROL);
  close(B_HANDOVER);
  if (pin_to(argv[2]) != 0) {
    perror("ipcfloor --launch-pair: sched_setaffinity");
    return 1;
  }
  char child[24];
  snprintf(child, sizeof child, "%ld", (long)pid);
  setenv("IPCBENCH_EARLY_PEER", child, 1);
  execvp(self[0], self);
  perror("ipcfloor --launch-pair: exec side a");
  return 127;
}

/* Starting executors and commands from the agent without fork().
 *
 * Why: the agent is a big process (thousands of task records, the HTTP
 * server, its buffers), and fork() copies its page tables and then makes
 * every page the agent writes afterwards take a copy-on-write fault with
 * a TLB shootdown.  Measured on the task-launch benchmark that was the
 * largest single CPU cost of a launch.  posix_spawn() (glibc: clone with
 * CLONE_VM|CLONE_VFORK) shares the memory until exec, copies nothing, and
 * reports a failed exec to the caller as an error instead of a child that
 * exits 127.  The descriptors beyond 2 are closed with one
 * closefrom, not a loop of a thousand close() calls.
 */
#ifndef MESOS_AGENT_SPAWN_H
#define MESOS_AGENT_SPAWN_H

#include <stdint.h>

#include "mesos/error.h"

typedef struct mesos__agent_spawn_opts {
  const char *path;      /* the program; with `search`, looked up in PATH (execvp) */
  int search;
  char *const *argv;     /* NULL-terminated */
  char *const *envp;     /* NULL-terminated */
  const char *dir;       /* working directory of the child (NULL: the agent's) */
  /* stdin is /dev/null; stdout and stderr are these files, created if
   * needed and appended to. */
  const char *stdout_path, *stderr_path;
  /* 1: a session of its own (setsid: executors, so the agent can end
   * everything they start); 0: a process group of its own (commands). */
  int new_session;
} mesos__agent_spawn_opts;

/* Starts the program with every signal at its default disposition and
 * none blocked (except that glibc leaves its two internal real-time
 * signals, 32 and 33, ignored: no program may use those).  A failure to open the files, enter `dir` or exec the
 * program is an error here (MESOS_EIO naming the program) and leaves no
 * child behind. */
mesos_status mesos__agent_spawn(const mesos__agent_spawn_opts *o, int32_t *pid, mesos_error **err);

#endif

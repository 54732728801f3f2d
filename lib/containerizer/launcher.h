/*
 * launcher: starts a container's first process (an init) in new
 * namespaces, optionally on its own root filesystem, and runs the task
 * under it.
 *
 * Process model.  The agent clones the *init* with CLONE_VM|CLONE_VFORK
 * into the new namespaces, and the clone execs the init helper
 * (daemons/mesos-container-init.c, a small static program; the plan it
 * gets is in init_plan.h).  The init builds the container's mounts, pivots
 * into the rootfs, and then waits on a sync socket until the agent has put
 * it into its cgroups (isolate) and checkpointed its pid.  Released, the
 * init forks the task, which switches user, sets up stdio and exec's the
 * command, and the init stays as the container's reaper: PID 1 of the PID
 * namespace when there is one.  When the task exits the init writes the
 * task's wait status to the status file (opened on the host before
 * pivoting) and exits with the task's code (128+signal for a signal),
 * which takes the rest of a PID namespace down with it.  The init holds
 * none of the agent's descriptors (a restarted agent must be able to bind
 * its port again), so a restarted agent that is no longer its parent finds
 * it through the checkpointed pid and the status file.
 *
 * Everything the init needs (paths, argv, environment, uid/gids) is
 * computed before the clone: between clone and exec the child makes raw
 * system calls only, because it shares the multi-threaded agent's memory.
 */
#ifndef MESOS_CONTAINERIZER_LAUNCHER_H
#define MESOS_CONTAINERIZER_LAUNCHER_H

#include <stdint.h>
#include <sys/types.h>

#include "mesos/containerizer.h"

/* A bind mount into the container (volumes). */
typedef struct mesos__launch_mount {
  const char *source;  /* host path */
  const char *target;  /* absolute path in the container, or relative to the sandbox */
  int readonly;
} mesos__launch_mount;

typedef struct mesos__launch_spec {
  const char *path;          /* the program: a path, or a name looked up in PATH of envp; NULL: argv[0] */
  const char *const *argv;
  const char *const *envp;   /* NULL-terminated NAME=VALUE */
  const char *cwd;           /* in the container; NULL: the sandbox, else "/" */
  const char *rootfs;        /* host path of the root filesystem, NULL: the host's */
  const char *sandbox;       /* host path of the sandbox, may be NULL */
  const char *sandbox_target;/* where the sandbox appears with a rootfs */
  const char *hostname;      /* with MESOS_NS_UTS */
  uint32_t namespaces;       /* MESOS_NS_* */
  const mesos__launch_mount *mounts;
  size_t nmounts;
  const char *user;          /* NULL: stay the agent's user */
  int stdout_fd, stderr_fd;  /* -1: /dev/null; the launcher does not close them */
  int status_fd;             /* the init writes the task's wait status here */
  const char *init_path;     /* REQUIRED: absolute path of mesos-container-init */
} mesos__launch_spec;

typedef struct mesos__launch mesos__launch;

/*
 * Clones the init; it prepares the namespaces and then waits.  *pid is its
 * pid (in our namespace).  Errors: MESOS_EINVAL (bad spec: the message
 * says what), MESOS_ENOTFOUND (command or user not found), MESOS_EIO
 * (clone failed); MESOS_ENOTFOUND also when init_path does not exist.
 */
mesos_status mesos__launch_start(const mesos__launch_spec *spec, mesos__launch **out,
                                 pid_t *pid, mesos_error **err);

/*
 * Lets the init run the task and waits until it has exec'ed: an error
 * in any step of the child (mount, pivot, user, exec) comes back as the
 * error here, naming the step.  Frees `l`.
 */
mesos_status mesos__launch_release(mesos__launch *l, mesos_error **err);

/*
 * The same, in two halves for a caller that must not block: go lets the
 * init run and returns the error pipe (*fd, non-blocking), which becomes
 * readable when there is news; collect reads what is there and returns 0
 * while the outcome is not known yet, else 1 with *st (and *err) set as
 * release would, and frees `l`.  A go that fails leaves `l` to abort.
 */
mesos_status mesos__launch_go(mesos__launch *l, int *fd, mesos_error **err);
int mesos__launch_collect(mesos__launch *l, mesos_status *st, mesos_error **err);
/* The error pipe (the fd go returned). */
int mesos__launch_fd(const mesos__launch *l);

/* Gives up on a started launch: the init sees the sync socket close and
 * exits without running the task.  Frees `l`; the caller reaps. */
void mesos__launch_abort(mesos__launch *l);

/* Looks `name` up in the PATH of `envp` (default
 * /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin) under
 * `rootfs` (NULL: the host).  *out is the path inside the container. */
mesos_status mesos__launch_resolve(const char *name, const char *const *envp,
                                   const char *rootfs, char **out, mesos_error **err);

/* Start time of `pid` from /proc/<pid>/stat (clock ticks since boot), 0
 * when the process does not exist: with the pid it names a process
 * uniquely, so a recycled pid is not mistaken for the container. */
uint64_t mesos__proc_starttime(pid_t pid);

#endif

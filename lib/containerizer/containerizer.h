/*
 * The unified ("mesos") containerizer: launcher + isolators, per container
 * id.  Used by the agent (and by tests and benchmarks directly).
 *
 * Life of a container: launch() prepares every isolator (in --isolation
 * order), clones the init (launcher.h), isolates it (cgroups joined),
 * checkpoints `<runtime_dir>/containers/<id>/pid`, releases it and returns
 * once the task has exec'ed.  wait() reports the termination once, on the
 * loop: the task's wait status (from the init's status file), and a
 * limitation when an isolator reported one (memory OOM -> the container is
 * destroyed and the termination says REASON_CONTAINER_LIMITATION_MEMORY).
 * destroy() kills everything, runs every isolator's cleanup (reverse
 * order) and removes the runtime directory.  A containerizer freed without
 * destroy leaves its containers running (agent restart); a new one
 * recover()s them from the runtime directory.
 */
#ifndef MESOS_CONTAINERIZER_CONTAINERIZER_H
#define MESOS_CONTAINERIZER_CONTAINERIZER_H

#include <stdint.h>
#include <sys/types.h>

#include "mesos/containerizer.h"
#include "mesos/loop.h"

typedef struct mesos__containerizer mesos__containerizer;

typedef struct mesos__containerizer_options {
  const char *runtime_dir;       /* NULL: /var/run/mesos */
  const char *isolation;         /* NULL: "posix/cpu,posix/mem" */
  const char *cgroups_root;      /* NULL: "mesos" */
  const char *sandbox_directory; /* NULL: /mnt/mesos/sandbox */
  int cgroups_enable_cfs;
  int cgroups_limit_swap;
  /* Where mesos-container-init is (every container's first process);
   * NULL: the running program's directory. */
  const char *launcher_dir;
} mesos__containerizer_options;

/* Volume sources (Volume.source.type).  PERSISTENT: a persistent volume's
 * directory the agent itself chose (work_dir/volumes/...), bind-mounted
 * like a HOST_PATH but needing only a mount namespace (filesystem/linux),
 * not the volume/host_path isolator, as in Mesos. */
enum { MESOS__VOLUME_HOST_PATH = 1, MESOS__VOLUME_SANDBOX_PATH = 2, MESOS__VOLUME_PERSISTENT = 3 };

typedef struct mesos__volume {
  int type;                   /* MESOS__VOLUME_* */
  const char *host_path;      /* HOST_PATH, PERSISTENT: absolute host path; SANDBOX_PATH: relative to the sandbox */
  const char *container_path; /* absolute (in the rootfs) or relative to the sandbox */
  int readonly;
} mesos__volume;

typedef struct mesos__container_config {
  const char *const *argv;    /* REQUIRED */
  const char *path;           /* program to exec; NULL: argv[0] (PATH of env searched without '/') */
  const char *const *env;     /* NAME=VALUE, NULL-terminated; MESOS_SANDBOX is added */
  const char *user;           /* NULL: the agent's user */
  const char *rootfs;         /* NULL: the host filesystem */
  const char *sandbox;        /* host directory; stdout/stderr files go there */
  const char *working_dir;    /* in the container; NULL: the sandbox */
  const char *hostname;       /* non-NULL: own UTS namespace with this name */
  int isolate_network;        /* own network namespace with only lo */
  double cpus;
  uint64_t mem_bytes;
  uint64_t pids_max;
  const mesos__volume *volumes;
  size_t nvolumes;
} mesos__container_config;

typedef struct mesos__container_termination {
  int has_status;       /* status is the task's wait status */
  int status;
  int limited;          /* an isolator reported a limitation */
  int32_t reason;       /* MESOS_LIMITATION_* */
  char message[512];
} mesos__container_termination;

typedef void (*mesos__container_wait_fn)(const char *id, const mesos__container_termination *t,
                                         void *ud);

/*
 * Errors: MESOS_EINVAL (bad options or an unknown isolator name, named),
 * MESOS_EUNSUPPORTED (an isolator the host cannot do, e.g. cgroups/devices
 * on cgroup v2), MESOS_EIO.
 */
mesos_status mesos__containerizer_new(mesos__containerizer **out, mesos_loop *loop,
                                      const mesos__containerizer_options *opts,
                                      mesos_error **err);
/* Frees the object; running containers keep running. */
void mesos__containerizer_free(mesos__containerizer *cz);

/*
 * Starts container `id` ([A-Za-z0-9_.-], at most 128 characters) and
 * returns once its task has exec'ed (blocking; see launch_async).
 * Errors: MESOS_EINVAL, MESOS_EEXIST (id in use), MESOS_ENOTFOUND (command,
 * user or rootfs missing), MESOS_EIO; on error nothing is left behind.
 */
mesos_status mesos__containerizer_launch(mesos__containerizer *cz, const char *id,
                                         const mesos__container_config *cfg, pid_t *pid,
                                         mesos_error **err);

/* How an asynchronous launch ended: MESOS_OK and the init's pid once the
 * task has exec'ed; otherwise the error's code and message (pid -1), and
 * the container is gone (nothing left behind; a waiter registered
 * meanwhile gets a termination without status). */
typedef void (*mesos__container_launch_fn)(const char *id, mesos_status status,
                                           const char *message, pid_t pid, void *ud);

/*
 * launch without blocking the caller's loop on the container's start:
 * returns once the init is cloned, isolated (cgroups joined) and its pid
 * checkpointed; the init then builds the mounts, pivots and execs the task
 * while the loop runs, and `cb` reports the outcome on the loop (never
 * from inside this call).  A synchronous error (bad config, prepare,
 * clone) is returned here and `cb` is not called.  kill/destroy while
 * launching end the launch with MESOS_ECLOSED.  The container exists from
 * this call on (wait, kill, destroy, usage, status work).  A containerizer
 * freed before `cb` ran never calls it.
 */
mesos_status mesos__containerizer_launch_async(mesos__containerizer *cz, const char *id,
                                               const mesos__container_config *cfg,
                                               mesos__container_launch_fn cb, void *ud,
                                               mesos_error **err);

/* Calls `cb` once when the container has terminated (on the loop), after
 * its cleanup.  One waiter per container.  MESOS_ENOTFOUND, MESOS_EEXIST. */
mesos_status mesos__containerizer_wait(mesos__containerizer *cz, const char *id,
                                       mesos__container_wait_fn cb, void *ud, mesos_error **err);

/* Runs the loop until `id` terminates or `timeout_ms` passes (tests,
 * benchmarks).  MESOS_ETIMEDOUT, MESOS_ENOTFOUND. */
mesos_status mesos__containerizer_wait_sync(mesos__containerizer *cz, const char *id,
                                            int timeout_ms, mesos__container_termination *t,
                                            mesos_error **err);

/* Kills the container's processes and cleans up (synchronously); the
 * waiter, if any, gets the termination.  MESOS_ENOTFOUND. */
mesos_status mesos__containerizer_destroy(mesos__containerizer *cz, const char *id,
                                          mesos_error **err);

/* New resources for a running container (every isolator's update, in
 * order).  0 members are left as they are.  MESOS_ENOTFOUND, or the first
 * isolator's error. */
mesos_status mesos__containerizer_update(mesos__containerizer *cz, const char *id,
                                         const mesos_container_limits *limits, mesos_error **err);

/* Asynchronous destroy for the agent's loop: sends SIGKILL to the
 * container's init (and its process group without cgroups) and returns;
 * the pidfd watch then reaps, kills what is left in the cgroup, cleans up
 * and reports to the waiter.  MESOS_ENOTFOUND. */
mesos_status mesos__containerizer_kill(mesos__containerizer *cz, const char *id,
                                       mesos_error **err);

mesos_status mesos__containerizer_usage(mesos__containerizer *cz, const char *id,
                                        mesos_container_usage *u, mesos_error **err);

/* 1 when container `id` is known and over, its termination kept for a
 * waiter: e.g. one recover() found dead (it ended while the agent was
 * down), whose wait() then reports the status its init checkpointed. */
int mesos__containerizer_ended(mesos__containerizer *cz, const char *id);

/* Calls `cb(key, value)` with facts about the container (pid, cgroups). */
mesos_status mesos__containerizer_status(mesos__containerizer *cz, const char *id,
                                         mesos_isolator_status_fn cb, void *ud,
                                         mesos_error **err);

/*
 * Re-attaches to the containers checkpointed under the runtime directory:
 * live ones are watched again (their termination comes from the status
 * file the init writes), dead ones are cleaned up (their termination,
 * with the status the init checkpointed, waits for a wait()).  *ids (may be NULL)
 * gets the live ids, NULL-terminated, caller frees with
 * mesos__containerizer_ids_free.
 */
mesos_status mesos__containerizer_recover(mesos__containerizer *cz, char ***ids,
                                          mesos_error **err);
void mesos__containerizer_ids_free(char **ids);

/* The pid of a running container's init, or -1. */
pid_t mesos__containerizer_pid(mesos__containerizer *cz, const char *id);

/* Images: the provisioner (lib/provisioner) gives the rootfs
 * (mesos__provision_info.rootfs) and, through mesos__image_launch_command
 * (docker/runtime's rules), path/argv/env/working_dir/user, which map
 * one-to-one onto mesos__container_config. */

#endif

/*
 * mesos/containerizer.h - isolators of the unified ("mesos") containerizer.
 *
 * The agent's containerizer starts every container through a launcher and
 * wraps it in isolators, selected by name with `--isolation` (Mesos names:
 * "cgroups/cpu", "cgroups/mem", "namespaces/pid", ...).  Each isolator sees
 * every container at these points, in the order they are listed for
 * prepare/isolate and in reverse for cleanup:
 *
 *   prepare   before the container's first process exists: asks for
 *             namespaces, creates per-container state (cgroups, ...);
 *   isolate   the first process exists (`pid`) but has not run a single
 *             instruction of the task yet: put it under control;
 *   watch     report a limitation (memory limit hit, ...) at most once;
 *   update    the container's resources changed;
 *   usage     resource statistics, now;
 *   status    key/value facts about the container (cgroup paths, ...);
 *   cleanup   the container's processes are gone: remove all state;
 *   recover   after an agent restart: the containers still known.
 *
 * A vendor adds an isolator by filling a mesos_isolator_ops table and
 * registering it under a name with mesos_isolator_register(); a
 * containerizer created afterwards with that name in its isolation list
 * uses it exactly like a built-in one.  The built-in isolators implement
 * this same table.
 *
 * Slow members (prepare, isolate, update, cleanup) are asynchronous the way
 * Mesos's isolators return futures: they receive a mesos_isolator_pending
 * and complete it exactly once with mesos_isolator_pending_done(), on the
 * loop thread, possibly before returning.  If a member returns without
 * completing it, the containerizer waits (running its loop) for the
 * completion.
 *
 * Strings are NUL-terminated and borrowed for the duration of a call; an
 * isolator copies what it keeps.
 *
 * Thread safety: registration happens before containerizers are created,
 * from one thread.  Isolator members run on the containerizer's loop
 * thread.
 *
 * Since 1.0.
 */
#ifndef MESOS_CONTAINERIZER_H
#define MESOS_CONTAINERIZER_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ data */

/* Namespaces an isolator asks for in prepare (mesos_isolator_launch_info
 * .namespaces).  The launcher creates the union of all requests. */
#define MESOS_NS_MOUNT 0x1u /* private mount namespace (filesystem/linux) */
#define MESOS_NS_PID 0x2u   /* own PID namespace, init as PID 1 (namespaces/pid) */
#define MESOS_NS_UTS 0x4u   /* own hostname */
#define MESOS_NS_IPC 0x8u   /* own System V IPC and /dev/shm (namespaces/ipc) */
#define MESOS_NS_NET 0x10u  /* own network namespace, only `lo` up */

/* The container as isolators see it.  Resource values are those of the
 * whole container; 0 means "not set / no limit". */
#define MESOS_ISOLATOR_CONTAINER_VERSION 1
typedef struct mesos_isolator_container {
  uint32_t version;     /* MESOS_ISOLATOR_CONTAINER_VERSION */
  const char *id;       /* ContainerID.value */
  const char *sandbox;  /* the sandbox directory on the host; may be NULL */
  const char *rootfs;   /* the container's root filesystem, or NULL: the host's */
  const char *user;     /* the task's user, or NULL: the agent's */
  double cpus;          /* cpus resource */
  uint64_t mem_bytes;   /* mem resource, bytes */
  uint64_t pids_max;    /* highest number of processes, 0: no limit */
} mesos_isolator_container;

/* What prepare may ask of the launcher. */
#define MESOS_ISOLATOR_LAUNCH_INFO_VERSION 1
typedef struct mesos_isolator_launch_info {
  uint32_t version;    /* MESOS_ISOLATOR_LAUNCH_INFO_VERSION */
  uint32_t namespaces; /* MESOS_NS_* bits; an isolator ORs its own in */
} mesos_isolator_launch_info;

/* New resources for update (same meaning as in mesos_isolator_container). */
#define MESOS_CONTAINER_LIMITS_VERSION 1
typedef struct mesos_container_limits {
  uint32_t version; /* MESOS_CONTAINER_LIMITS_VERSION */
  double cpus;
  uint64_t mem_bytes;
  uint64_t pids_max;
} mesos_container_limits;

/* Bits of mesos_container_usage.fields: which members hold a value. */
#define MESOS_USAGE_CPU_TIMES 0x1u      /* cpus_user/system_time_secs */
#define MESOS_USAGE_CPU_LIMIT 0x2u      /* cpus_limit */
#define MESOS_USAGE_CPU_THROTTLING 0x4u /* cpus_nr_periods/nr_throttled/throttled_time */
#define MESOS_USAGE_MEM 0x8u            /* mem_total_bytes, mem_rss_bytes */
#define MESOS_USAGE_MEM_DETAIL 0x10u    /* mem_cache_bytes, mem_swap_bytes */
#define MESOS_USAGE_MEM_LIMIT 0x20u     /* mem_limit_bytes */
#define MESOS_USAGE_MEM_OOM 0x40u       /* mem_oom_events */
#define MESOS_USAGE_PROCESSES 0x80u     /* processes, threads */

/* Resource statistics (the plain-C view of mesos.v1.ResourceStatistics).
 * Each isolator fills the members it knows and sets their bits in
 * `fields`; the containerizer merges what all isolators report. */
#define MESOS_CONTAINER_USAGE_VERSION 1
typedef struct mesos_container_usage {
  uint32_t version;  /* MESOS_CONTAINER_USAGE_VERSION, set by the caller */
  uint32_t fields;   /* MESOS_USAGE_* bits */
  double timestamp;  /* seconds since the epoch */
  double cpus_user_time_secs;
  double cpus_system_time_secs;
  double cpus_limit;
  uint64_t cpus_nr_periods;
  uint64_t cpus_nr_throttled;
  double cpus_throttled_time_secs;
  uint64_t mem_total_bytes;  /* charged memory (usage) */
  uint64_t mem_rss_bytes;    /* anonymous memory */
  uint64_t mem_cache_bytes;  /* page cache */
  uint64_t mem_swap_bytes;
  uint64_t mem_limit_bytes;
  uint64_t mem_oom_events;   /* processes killed by the memory limit */
  uint64_t processes;
  uint64_t threads;
} mesos_container_usage;
#define MESOS_CONTAINER_USAGE_INIT \
  { MESOS_CONTAINER_USAGE_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Limitation reasons (mesos.v1.TaskStatus.Reason of the task they end). */
#define MESOS_LIMITATION_OTHER 0  /* REASON_CONTAINER_LIMITATION */
#define MESOS_LIMITATION_MEMORY 1 /* REASON_CONTAINER_LIMITATION_MEMORY */
#define MESOS_LIMITATION_DISK 2   /* REASON_CONTAINER_LIMITATION_DISK */

/* An isolator reports that `container_id` broke a limit; the containerizer
 * then destroys the container and the task ends with `reason` and
 * `message` (borrowed for the call). */
typedef void (*mesos_isolator_limitation_fn)(const char *container_id, int32_t reason,
                                             const char *message, void *cb_ud);

/* One fact for status: both strings borrowed for the call. */
typedef void (*mesos_isolator_status_fn)(const char *key, const char *value, void *cb_ud);

/* The completion handle of a slow member. */
typedef struct mesos_isolator_pending mesos_isolator_pending;

/* ------------------------------------------------------------ the table */

/*
 * An isolator.  Each member takes the `ud` given at registration first.
 * Members marked REQUIRED must be set; NULL in the others means "nothing
 * to do" (the call succeeds).
 *
 * Version 1 has every member below.
 */
#define MESOS_ISOLATOR_OPS_VERSION 1

typedef struct mesos_isolator_ops {
  uint32_t version; /* MESOS_ISOLATOR_OPS_VERSION */

  /* Called by mesos_isolator_unregister(); NULL: nothing to free. */
  void (*destroy)(void *ud);

  /* After an agent restart, before anything else: `ids` are the `n`
   * containers the containerizer found alive.  State for other containers
   * (orphans) is the isolator's to remove.  Synchronous. */
  mesos_status (*recover)(void *ud, const char *const *ids, size_t n, mesos_error **err);

  /* REQUIRED.  A container is about to start; `info->namespaces` may get
   * more bits.  Completes `p` with MESOS_OK or an error that fails the
   * launch (then cleanup runs for every isolator already prepared). */
  void (*prepare)(void *ud, const mesos_isolator_container *c,
                  mesos_isolator_launch_info *info, mesos_isolator_pending *p);

  /* The first process `pid` exists and waits: put it under control. */
  void (*isolate)(void *ud, const char *container_id, int32_t pid, mesos_isolator_pending *p);

  /* Registers the limitation callback for a running container; the
   * isolator calls it at most once, on the loop thread. */
  mesos_status (*watch)(void *ud, const char *container_id, mesos_isolator_limitation_fn cb,
                        void *cb_ud, mesos_error **err);

  /* The container's resources changed. */
  void (*update)(void *ud, const char *container_id, const mesos_container_limits *limits,
                 mesos_isolator_pending *p);

  /* Adds what the isolator measures to *usage (see `fields`). */
  mesos_status (*usage)(void *ud, const char *container_id, mesos_container_usage *usage,
                        mesos_error **err);

  /* Reports facts through `cb`, zero or more times, before returning. */
  mesos_status (*status)(void *ud, const char *container_id, mesos_isolator_status_fn cb,
                         void *cb_ud, mesos_error **err);

  /* REQUIRED.  The container's processes are gone (or its launch failed):
   * remove everything prepare made.  Also called for a container the
   * isolator never saw, which is not an error. */
  void (*cleanup)(void *ud, const char *container_id, mesos_isolator_pending *p);
} mesos_isolator_ops;

/* ------------------------------------------------------------ calls */

/*
 * Registers the isolator `name` (1..63 characters of [a-z0-9_/-]): copies
 * `ops`, keeps `ud`.  Containerizers created afterwards accept `name` in
 * their isolation list.  At most 32 vendor isolators.
 * Errors: MESOS_EINVAL (bad name, NULL ops, a REQUIRED member NULL: the
 * message names it), MESOS_EVERSION (ops->version unknown), MESOS_EEXIST
 * (the name is taken, also by a built-in isolator), MESOS_ELIMIT.
 * On error ops->destroy is not called.
 */
MESOS_EXTERN(mesos_status) mesos_isolator_register(const char *name,
                                                   const mesos_isolator_ops *ops, void *ud,
                                                   mesos_error **err);

/*
 * Removes the isolator `name` and calls its destroy(ud).
 * Errors: MESOS_ENOTFOUND, MESOS_EBUSY (a containerizer still uses it).
 */
MESOS_EXTERN(mesos_status) mesos_isolator_unregister(const char *name, mesos_error **err);

/*
 * Completes a slow member's `p`: MESOS_OK, or an error status with a
 * message (may be NULL).  Exactly once per pending; `p` is invalid after
 * the call.  Loop thread only.
 */
MESOS_EXTERN(void) mesos_isolator_pending_done(mesos_isolator_pending *p, mesos_status status,
                                               const char *message);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_CONTAINERIZER_H */

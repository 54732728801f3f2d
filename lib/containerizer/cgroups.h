/*
 * cgroups: the host's control-group layout and per-container cgroups.
 *
 * Hosts come in three shapes: pure v1 (one hierarchy per controller or
 * group of controllers), pure v2 (one unified hierarchy) and hybrid (v1
 * controllers plus a cgroup2 mount with few or no controllers).  The layout
 * says, per controller, where it lives and where *this process* sits in
 * that hierarchy: the agent may run in a non-root cgroup, and that path
 * differs between hierarchies, so container cgroups are created as
 * <mount>/<own cgroup>/<cgroups_root>/<container id> per hierarchy.
 */
#ifndef MESOS_CONTAINERIZER_CGROUPS_H
#define MESOS_CONTAINERIZER_CGROUPS_H

#include <stdint.h>
#include <sys/types.h>

#include "mesos/containerizer.h"

/* Controllers we drive.  FREEZER is the v1 launcher's way to kill every
 * process of a container at once. */
enum {
  MESOS__CG_CPU,
  MESOS__CG_CPUACCT,
  MESOS__CG_MEMORY,
  MESOS__CG_PIDS,
  MESOS__CG_DEVICES,
  MESOS__CG_FREEZER,
  MESOS__CG_COUNT
};

#define MESOS__CG_BIT(c) (1u << (c))

/* Where a controller lives. */
enum { MESOS__CG_NONE = 0, MESOS__CG_V1 = 1, MESOS__CG_V2 = 2 };

enum { MESOS__CG_MODE_NONE, MESOS__CG_MODE_V1, MESOS__CG_MODE_V2, MESOS__CG_MODE_HYBRID };

typedef struct mesos__cg_layout {
  int mode;                          /* MESOS__CG_MODE_* */
  int where[MESOS__CG_COUNT];        /* MESOS__CG_NONE / V1 / V2 */
  char *v1_mount[MESOS__CG_COUNT];   /* v1 mount point of the controller */
  char *v1_self[MESOS__CG_COUNT];    /* our cgroup in it, "/..." */
  char *v2_mount;                    /* cgroup2 mount point, or NULL */
  char *v2_self;                     /* our cgroup in it, "/..." */
  int v2_has_kill;                   /* cgroup.kill exists (Linux 5.14+) */
} mesos__cg_layout;

/* Name of a controller ("cpu", "memory", ...). */
const char *mesos__cg_name(int controller);

/*
 * Builds a layout from the text of /proc/self/mountinfo and
 * /proc/self/cgroup, and `v2_controllers`, the content of the cgroup.controllers
 * file of our own v2 cgroup (NULL: none).  Pure: tests feed it fixtures.
 * Errors: MESOS_EINVAL (malformed text), MESOS_ENOMEM.
 */
mesos_status mesos__cg_layout_parse(mesos__cg_layout *out, const char *mountinfo,
                                    const char *proc_cgroup, const char *v2_controllers,
                                    mesos_error **err);

/* Detects this host's layout (reads the /proc files and cgroup.controllers). */
mesos_status mesos__cg_layout_detect(mesos__cg_layout *out, mesos_error **err);

void mesos__cg_layout_free(mesos__cg_layout *l);

/* A container's cgroups: one directory per hierarchy in use. */
typedef struct mesos__cgroup {
  uint32_t controllers;          /* MESOS__CG_BIT set asked for */
  char *v1[MESOS__CG_COUNT];     /* v1 directory per controller (shared mounts repeat) */
  char *v2;                      /* v2 directory, or NULL */
  int oom_efd;                   /* v1 OOM eventfd, or -1 */
} mesos__cgroup;

/*
 * Creates (or, with `existing`, opens) the cgroups of container `id` under
 * `root` for `controllers`.  On v2 the controllers are enabled in
 * cgroup.subtree_control from our own cgroup down.  Every directory gets a
 * `tracking` cgroup even without controllers (v1 freezer, else v2) so all
 * of the container's processes can be found and killed.
 * With `existing`, hierarchies whose directory is missing are left out.
 * Errors: MESOS_EUNSUPPORTED (a controller the host lacks, named),
 * MESOS_EIO (mkdir/write failed, path named), MESOS_ENOTFOUND (existing and
 * no directory at all).
 */
mesos_status mesos__cg_create(const mesos__cg_layout *l, const char *root, const char *id,
                              uint32_t controllers, int existing, mesos__cgroup **out,
                              mesos_error **err);

/* Moves `pid` into every cgroup of `cg`. */
mesos_status mesos__cg_attach(mesos__cgroup *cg, pid_t pid, mesos_error **err);

/* cpu.shares = 1024 * cpus (min 2), and with cfs the quota (v2: cpu.weight
 * and cpu.max). */
mesos_status mesos__cg_set_cpu(mesos__cgroup *cg, double cpus, int cfs, mesos_error **err);
/* Hard (and soft) memory limit; with `swap` the memsw limit too. */
mesos_status mesos__cg_set_mem(mesos__cgroup *cg, uint64_t bytes, int swap, mesos_error **err);
/* The soft limit alone (v1 memory.soft_limit_in_bytes, v2 memory.low
 * where the kernel has it): a container's memory shrinking under it. */
mesos_status mesos__cg_set_mem_soft(mesos__cgroup *cg, uint64_t bytes, mesos_error **err);
mesos_status mesos__cg_set_pids(mesos__cgroup *cg, uint64_t max, mesos_error **err);
/* Mesos's default device whitelist: v1 devices.allow, v2 a BPF device
 * program (devices.h). */
mesos_status mesos__cg_set_devices(mesos__cgroup *cg, mesos_error **err);

/* v1: arms an OOM notification (cg->oom_efd becomes readable on OOM).
 * v2: opens memory.events (readable with POLLPRI on change). */
mesos_status mesos__cg_oom_fd(mesos__cgroup *cg, int *fd, mesos_error **err);

/* Processes killed by the memory limit so far. */
uint64_t mesos__cg_oom_kills(const mesos__cgroup *cg);

/* Adds the cgroups' statistics to *u. */
mesos_status mesos__cg_usage(const mesos__cgroup *cg, mesos_container_usage *u,
                             mesos_error **err);

/* Pids in the tracking cgroup (up to `max`); returns the count or -1. */
int mesos__cg_pids(const mesos__cgroup *cg, pid_t *pids, int max);

/*
 * Kills every process in the cgroups and removes the directories.  Safe
 * to call on cgroups already gone.  Errors: MESOS_EBUSY (processes left
 * after the retries), MESOS_EIO.
 */
mesos_status mesos__cg_destroy(mesos__cgroup *cg, mesos_error **err);

/* Frees the handle only (the cgroups stay). */
void mesos__cg_free(mesos__cgroup *cg);

#endif

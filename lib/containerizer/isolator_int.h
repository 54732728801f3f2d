/* Isolators inside the containerizer: the vendor registry, pendings, and
 * the built-in isolators (which implement the public mesos_isolator_ops). */
#ifndef MESOS_CONTAINERIZER_ISOLATOR_INT_H
#define MESOS_CONTAINERIZER_ISOLATOR_INT_H

#include <uv.h>

#include "containerizer/cgroups.h"
#include "mesos/containerizer.h"
#include "mesos/loop.h"

#define MESOS__ISOLATOR_NAME_MAX 63

/* A pending slow call.  The containerizer holds one reference while it
 * waits, the isolator one until it completes; whoever drops the last frees
 * it, so an isolator completing after the containerizer gave up is safe. */
struct mesos_isolator_pending {
  int refs;
  int done;
  mesos_status status;
  char message[512];
  int on_stack;  /* cleanup's fallback when allocation fails: never freed */
};

mesos_isolator_pending *mesos__pending_new(void);
void mesos__pending_unref(mesos_isolator_pending *p);

/* An isolator as a containerizer uses it. */
typedef struct mesos__isolator {
  char name[MESOS__ISOLATOR_NAME_MAX + 1];
  mesos_isolator_ops ops;
  void *ud;
  int vendor;  /* from the registry (released with mesos__isolator_put) */
} mesos__isolator;

/* Finds a registered vendor isolator and takes a reference.  ENOTFOUND. */
mesos_status mesos__isolator_get(const char *name, mesos__isolator *out);
void mesos__isolator_put(const char *name);

/* Names the built-ins answer to (for the registry's EEXIST). */
int mesos__builtin_isolator_known(const char *name);

/* What built-in isolators share within one containerizer. */
typedef struct mesos__builtin_ctx mesos__builtin_ctx;

mesos_status mesos__builtin_ctx_new(mesos__builtin_ctx **out, mesos_loop *loop,
                                    const char *cgroups_root, int enable_cfs, int limit_swap,
                                    mesos_error **err);
void mesos__builtin_ctx_free(mesos__builtin_ctx *ctx);

/* Makes the built-in isolator `name` (ops + ud; the ud is owned by ctx).
 * MESOS_ENOTFOUND when `name` is not a built-in one; MESOS_EUNSUPPORTED
 * when the host cannot do it. */
mesos_status mesos__builtin_isolator(mesos__builtin_ctx *ctx, const char *name,
                                     mesos__isolator *out, mesos_error **err);

/* The cgroup of a container (or NULL), for the containerizer's destroy. */
mesos__cgroup *mesos__builtin_cgroup(mesos__builtin_ctx *ctx, const char *id);

/* Processes the container's memory cgroup saw OOM-killed (0 without
 * one). */
uint64_t mesos__builtin_oom_kills(mesos__builtin_ctx *ctx, const char *id);

/* Tells posix isolators the init pid of a container (set on isolate, also
 * on recover). */
void mesos__builtin_set_pid(mesos__builtin_ctx *ctx, const char *id, pid_t pid);

/* Process tracking for the launcher: the container's cgroup (at least the
 * tracking hierarchy) even when no cgroups isolator is enabled; no-ops when
 * not root or without cgroups. */
mesos_status mesos__builtin_track(mesos__builtin_ctx *ctx, const char *id, mesos_error **err);
mesos_status mesos__builtin_attach(mesos__builtin_ctx *ctx, const char *id, pid_t pid,
                                   mesos_error **err);
/* Kills what is left in the container's cgroup and removes it. */
mesos_status mesos__builtin_remove(mesos__builtin_ctx *ctx, const char *id, mesos_error **err);
mesos_status mesos__builtin_recover_tracking(mesos__builtin_ctx *ctx, const char *const *ids,
                                             size_t n, mesos_error **err);
/* Removes the cgroups_root directories if empty. */
void mesos__builtin_remove_roots(mesos__builtin_ctx *ctx);

#endif

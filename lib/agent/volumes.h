/*
 * The agent's checkpointed resources: the dynamic reservations and
 * persistent volumes the master tells it about with CHECKPOINT_RESOURCES
 * (lib/proto/mesos/internal/internal.proto), as Mesos's agent keeps them.
 *
 *  - They are checkpointed in meta/resources/resources.info (one
 *    CheckpointResources record; write, fsync, rename) and reported back
 *    in REGISTER / REREGISTER (checkpointed_resources), so a master that
 *    lost its registry (in_memory, wiped) learns them again from the agent.
 *  - Each persistent volume is a directory work_dir/volumes/roles/<role>/
 *    <persistence id> ('/' of a hierarchical role written as ' ', as
 *    Mesos does): created before the checkpoint that names it is written,
 *    removed after the checkpoint that drops it (DESTROY), so a crash in
 *    between leaves a directory too many, never a volume without one.
 *  - A task (or executor) whose resources hold a volume gets it at the
 *    volume's container_path: in a container with its own mount
 *    namespace a bind mount (read-only for mode RO; an absolute path is
 *    in the image's root filesystem), otherwise a symlink in the sandbox
 *    (Mesos's filesystem/posix isolator; read-only volumes refused there).
 *    A task of a group sees it in its own directory (tasks/<task id>) and
 *    the group's executor in its sandbox.  What one task writes there the
 *    next task using the volume reads, across agent restarts.
 */
#ifndef MESOS_AGENT_VOLUMES_H
#define MESOS_AGENT_VOLUMES_H

#include <stddef.h>

#include "containerizer/containerizer.h"
#include "mesos/error.h"
#include "mesos/internal/internal.pb-c.h"
#include "mesos/v1/mesos.pb-c.h"

struct mesos_agent;

/* Start-up: reads meta/resources/resources.info (none: nothing
 * checkpointed).  A damaged file, or resources that do not fit the
 * agent's --resources (Mesos: "incompatible"), is an error naming the
 * file; with --no-strict it is logged and what cannot be used is dropped.
 * Makes sure every volume's directory exists. */
mesos_status mesos__agent_volumes_recover(struct mesos_agent *a, mesos_error **err);

/* CHECKPOINT_RESOURCES from the master: validated as a whole (an invalid
 * resource or volume id refuses the message, logged, nothing changed),
 * new volumes' directories created, the checkpoint written, then the
 * directories of volumes no longer listed removed. */
void mesos__agent_volumes_checkpoint(struct mesos_agent *a,
                                     const Mesos__Internal__CheckpointResources *cr);

/* The checkpointed resources for REGISTER / REREGISTER (borrowed, valid
 * until the next CHECKPOINT_RESOURCES); *n = 0 when none. */
void mesos__agent_volumes_reported(struct mesos_agent *a, Mesos__V1__Resource ***v, size_t *n);

/* Links each persistent volume among r[0..n) into `sandbox` at its
 * container_path (tasks and executors outside a mount namespace: Mesos's
 * filesystem/posix).  A volume the agent has not checkpointed, an
 * absolute container path or one climbing out of the sandbox is
 * MESOS_EINVAL naming the volume; a read-only one (mode RO), which a
 * link cannot enforce, MESOS_EUNSUPPORTED. */
mesos_status mesos__agent_volumes_link(struct mesos_agent *a, const char *sandbox,
                                       Mesos__V1__Resource *const *r, size_t n,
                                       mesos_error **err);

/* Persistent volumes of r[0..n) as bind mounts of a container with its
 * own mount namespace (containers.c; Mesos's filesystem/linux): appends
 * one PERSISTENT entry per volume to out[*nout..cap), read-only per
 * Volume.mode, container_path relative (in the sandbox) or, when the
 * container has an `image`, absolute (in its root filesystem; refused
 * without one, as Mesos does).  srcs[k] gets out[k]'s host directory,
 * which the caller frees (mesos__free) once the launch has read it; on
 * an error those appended so far are there too.  Errors as for link. */
mesos_status mesos__agent_volumes_mounts(struct mesos_agent *a, Mesos__V1__Resource *const *r,
                                         size_t n, int image, mesos__volume *out, char **srcs,
                                         size_t cap, size_t *nout, mesos_error **err);

/* The same for a sandbox that may not exist yet: when r[0..n) holds a
 * persistent volume, creates the sandbox first; else does nothing. */
mesos_status mesos__agent_volumes_prepare(struct mesos_agent *a, const char *sandbox,
                                          Mesos__V1__Resource *const *r, size_t n,
                                          mesos_error **err);

/* *out = work_dir/volumes/roles/<role>/<persistence id> of volume `r`
 * (free with mesos__free).  MESOS_EINVAL when `r` is not a persistent
 * volume or its role or id is not a safe path component. */
mesos_status mesos__agent_volume_path(char **out, const char *work_dir,
                                      const Mesos__V1__Resource *r, mesos_error **err);

/* The agent's total resources as Mesos's agent keeps them: --resources
 * with the checkpointed reservations and volumes applied (what /state
 * renders as resources, reserved_resources*, unreserved_resources*).
 * *v: *n messages, freed with mesos__agent_volumes_total_free. */
mesos_status mesos__agent_volumes_total(struct mesos_agent *a, Mesos__V1__Resource ***v,
                                       size_t *n, mesos_error **err);
void mesos__agent_volumes_total_free(Mesos__V1__Resource **v, size_t n);

/* Agent shutdown. */
void mesos__agent_volumes_free(struct mesos_agent *a);

#endif

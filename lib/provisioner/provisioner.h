/* The image provisioner of the Mesos containerizer (spec/containerizer.md
 * section 4): image reference -> prepared root filesystem + image config,
 * and back.
 *
 *  - Layers are extracted once into a content-addressed store under
 *    --docker_store_dir: `layers/<key>/rootfs` (whiteouts kept, for the copy
 *    backend) or `layers/<key>/rootfs.overlay` (whiteouts converted, for
 *    overlayfs).  Extraction happens in `staging/<random>/` and is renamed
 *    into place only after the layer's digest checked out, so a crash or a
 *    refused layer never leaves a half layer visible.  Concurrent provisions
 *    of one layer extract it once (the others wait for it).
 *  - Per-container root filesystems live under
 *    `<work_dir>/provisioner/containers/<container id>/backends/<backend>/
 *    rootfses/<rootfs id>` (overlay scratch dirs under `.../scratch/<id>`).
 *
 * Provisioning runs off the loop on libuv's thread pool; the result comes
 * back on the loop thread.  The *_sync variants are for tests and tools. */
#ifndef MESOS_PROVISIONER_PROVISIONER_H
#define MESOS_PROVISIONER_PROVISIONER_H

#include <stdbool.h>
#include <stdint.h>

#include "mesos/error.h"
#include "mesos/loop.h"
#include "provisioner/image.h"
#include "provisioner/tar.h"

typedef struct mesos__provisioner mesos__provisioner;

typedef struct mesos__provisioner_opts {
  const char *registry_dir; /* --docker_registry: a local directory (required) */
  const char *store_dir;    /* --docker_store_dir (NULL: /tmp/mesos/store/docker) */
  const char *work_dir;     /* agent --work_dir (required) */
  const char *backend;      /* --image_provisioner_backend: "overlay" (NULL) or "copy" */
  mesos__tar_opts limits;   /* per-layer limits; whiteouts and preserve_owner are set here */
} mesos__provisioner_opts;

typedef struct mesos__provision_info {
  char *rootfs;                /* absolute path of the container's root filesystem */
  mesos__image_config config;  /* the image's Entrypoint, Cmd, Env, WorkingDir, User */
  char **layers;               /* store keys, base first, NULL-terminated */
  uint64_t extracted;          /* layers this call extracted (0: all from the store) */
} mesos__provision_info;

void mesos__provision_info_free(mesos__provision_info *info);

/* Creates the store and provisioner directories and removes what a crash
 * left in staging.  EINVAL for a missing registry/work dir, an unknown
 * backend, or a directory path overlayfs cannot take (',' or ':'). */
mesos_status mesos__provisioner_new(const mesos__provisioner_opts *opts, mesos__provisioner **out,
                                    mesos_error **err);
/* Frees the provisioner; provisions still running on the thread pool are
 * cancelled (their extraction or copy stops at its next entry, their
 * partial layer and root filesystem are removed) and their callbacks get
 * MESOS_ECLOSED. */
void mesos__provisioner_free(mesos__provisioner *p);

/* Provisions `image` (a reference resolved in the registry directory) for
 * `container_id` ([A-Za-z0-9_.-], 1..128 chars, not "." or "..").
 * `cached` is Image.cached: true uses what an earlier provision of the
 * same reference read from the registry (layer keys and config, kept in
 * memory) as long as its layers are in the store, so an image replaced or
 * removed in the registry since is not seen; false (or nothing
 * remembered) reads the registry again and remembers the result. */
mesos_status mesos__provisioner_provision_sync(mesos__provisioner *p, const char *container_id,
                                               const char *image, bool cached,
                                               mesos__provision_info **out, mesos_error **err);

/* `info` and `err` belong to the callback (free them). */
typedef void (*mesos__provision_cb)(mesos_status st, mesos__provision_info *info,
                                    mesos_error *err, void *ud);
/* The same off the loop: `cb` runs on the loop thread exactly once, unless
 * this call fails (EINVAL for bad arguments, ENOMEM). */
mesos_status mesos__provisioner_provision(mesos__provisioner *p, mesos_loop *loop,
                                          const char *container_id, const char *image,
                                          bool cached, mesos__provision_cb cb, void *ud,
                                          mesos_error **err);

/* Unmounts and removes every root filesystem of `container_id`.  Nothing
 * of it is left in /proc/mounts afterwards.  Unknown ids are OK. */
mesos_status mesos__provisioner_destroy(mesos__provisioner *p, const char *container_id,
                                        mesos_error **err);

/* The same off the loop (a copy-backend rootfs can take a while to
 * remove): `cb` runs on the loop thread exactly once with the status and
 * an error the callback frees, unless this call fails (EINVAL, ENOMEM). */
typedef void (*mesos__provision_destroy_cb)(mesos_status st, mesos_error *err, void *ud);
mesos_status mesos__provisioner_destroy_async(mesos__provisioner *p, mesos_loop *loop,
                                              const char *container_id,
                                              mesos__provision_destroy_cb cb, void *ud,
                                              mesos_error **err);

/* After an agent restart: destroys the root filesystems of every container
 * not in `known` (the containers the agent recovered) and empties staging
 * (unless an extraction of this provisioner is running).  One provisioner
 * per store: a second process sharing the store directory would have its
 * staging area cleared by our start-up. */
mesos_status mesos__provisioner_recover(mesos__provisioner *p, const char *const *known,
                                        size_t nknown, mesos_error **err);

/* Times this provisioner read an image from the registry (cache misses
 * and Image.cached=false). */
uint64_t mesos__provisioner_registry_reads(const mesos__provisioner *p);

/* Layers this provisioner extracted so far (store misses). */
uint64_t mesos__provisioner_extractions(const mesos__provisioner *p);

/* The store directory of a layer key, for tests and tools. */
const char *mesos__provisioner_store_dir(const mesos__provisioner *p);

#endif

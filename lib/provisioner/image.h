/* Images from a local Docker "registry" directory (spec/containerizer.md
 * section 4.3): reference parsing, the three on-disk layouts (docker-save
 * legacy `repositories` + `<id>/json` + `<id>/layer.tar`; docker-save
 * `manifest.json` + config blob; OCI image layout `oci-layout` +
 * `index.json` + `blobs/sha256/...`), either as a tarball `<dir>/<ref>.tar`
 * read in place or as an unpacked directory, and the image configuration.
 *
 * Every digest an image states is checked: OCI manifests and configs when
 * read, OCI layer blobs (raw bytes) and docker layers (decompressed bytes
 * against the config's rootfs.diff_ids) while they are extracted.  Legacy
 * layouts state no digests; their layers get store keys in a namespace of
 * their own ("v1-<id>") so they can never stand in for a verified layer. */
#ifndef MESOS_PROVISIONER_IMAGE_H
#define MESOS_PROVISIONER_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesos/error.h"
#include "provisioner/tar.h"

/* [REGISTRY_HOST[:PORT]/]REPOSITORY[:TAG|@DIGEST] */
typedef struct mesos__image_ref {
  char *registry;   /* NULL when the first component is not a host */
  char *repository; /* as written: no "library/" is added */
  char *tag;        /* NULL when none was written */
  char *digest;     /* "sha256:<hex>" or NULL */
} mesos__image_ref;

/* EINVAL with the reason for malformed references. */
mesos_status mesos__image_ref_parse(const char *s, mesos__image_ref *out, mesos_error **err);
void mesos__image_ref_clear(mesos__image_ref *r);
/* The reference printed back as Mesos does (the local registry's file name
 * without ".tar"); NULL on ENOMEM. */
char *mesos__image_ref_str(const mesos__image_ref *r);

/* Runtime configuration of an image (docker config / OCI config). */
typedef struct mesos__image_config {
  char **entrypoint; /* NULL-terminated; NULL when the image sets none */
  char **cmd;        /* NULL-terminated; NULL when none */
  char **env;        /* NULL-terminated "K=V" list; never NULL */
  char *working_dir; /* NULL when none */
  char *user;        /* NULL when none */
} mesos__image_config;

void mesos__image_config_clear(mesos__image_config *c);
/* Parses a docker image config / v1 layer json / OCI config document: the
 * runtime fields are under "config" (falling back to "container_config"
 * for v1 layer json). */
mesos_status mesos__image_config_parse(const char *json, size_t len, mesos__image_config *out,
                                       mesos_error **err);

typedef enum {
  MESOS__IMAGE_DOCKER_LEGACY,
  MESOS__IMAGE_DOCKER,
  MESOS__IMAGE_OCI
} mesos__image_layout;

typedef enum {
  MESOS__LAYER_VERIFY_NONE,  /* legacy: nothing stated */
  MESOS__LAYER_VERIFY_RAW,   /* sha256 of the blob bytes == id (OCI) */
  MESOS__LAYER_VERIFY_PLAIN  /* sha256 of the decompressed tar == id (docker diff_id) */
} mesos__layer_verify;

typedef struct mesos__image_layer {
  char *key;    /* store key: 64 hex chars, or "v1-<id>" for legacy layers */
  char *digest; /* expected hex for verify != NONE */
  mesos__layer_verify verify;
  char *member; /* path of the layer inside the image source */
} mesos__image_layer;

typedef struct mesos__image_source mesos__image_source;

/* An image resolved from the registry directory, with its source kept
 * open so its layers can be read. */
typedef struct mesos__image {
  mesos__image_layout layout;
  char *name;                  /* the reference as printed back */
  mesos__image_layer *layers;  /* base first */
  size_t nlayers;
  mesos__image_config config;
  mesos__image_source *src;
} mesos__image;

/* Most layers an image may have (overlayfs stacks at most 500 lower dirs;
 * real images have tens). */
#define MESOS__IMAGE_MAX_LAYERS 128
/* Members of a docker-save tarball we index. */
#define MESOS__IMAGE_MAX_MEMBERS 100000
/* Largest manifest / index / config / repositories document read. */
#define MESOS__IMAGE_MAX_DOC ((size_t)8 << 20)

/* Finds `ref` under the local registry directory `registry_dir`:
 * `<dir>/<ref>.tar`, then `<dir>/<ref>` (a directory), then, for a
 * reference with a tag, `<dir>/<repository>.tar` and `<dir>/<repository>`
 * holding that tag.  ENOTFOUND when none exists or the tag is not in it;
 * EPROTO for a layout that lies about a digest or is malformed. */
mesos_status mesos__image_open(const char *registry_dir, const char *ref, mesos__image **out,
                               mesos_error **err);
/* Opens an image from one file or directory (any layout), choosing the
 * reference's tag when the layout holds several. */
mesos_status mesos__image_open_path(const char *path, const mesos__image_ref *ref,
                                    mesos__image **out, mesos_error **err);
void mesos__image_free(mesos__image *img);

/* Opens layer `i` as a byte stream (zin.h) limited to `max_out`
 * decompressed bytes. */
mesos_status mesos__image_layer_open(mesos__image *img, size_t i, uint64_t max_out,
                                     mesos__zin **out, mesos_error **err);
/* After the stream was read to its end: EPROTO when the digest does not
 * match what the image stated. */
mesos_status mesos__image_layer_verify(const mesos__image *img, size_t i, mesos__zin *z,
                                       mesos_error **err);

#endif

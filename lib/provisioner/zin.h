/* A layer's byte stream: a range of a file, gzip-decompressed when it
 * starts with the gzip magic, with the SHA-256 of both the raw bytes (the
 * OCI blob digest) and the decompressed bytes (the docker diff_id) computed
 * on the way.  Feeds the tar extractor (tar.h) and the fetcher. */
#ifndef MESOS_PROVISIONER_ZIN_H
#define MESOS_PROVISIONER_ZIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesos/error.h"

typedef struct mesos__zin mesos__zin;

typedef enum {
  MESOS__ZIN_PLAIN,
  MESOS__ZIN_GZIP
} mesos__zin_format;

/* Reads `length` bytes of `fd` from `offset` (UINT64_MAX: to end of file;
 * the fd is borrowed and must stay open).  `max_out` bounds the
 * decompressed bytes (a gzip bomb stops with ELIMIT).  zstd and bzip2 are
 * recognised and refused with EUNSUPPORTED. */
mesos_status mesos__zin_open(int fd, uint64_t offset, uint64_t length, uint64_t max_out,
                             mesos__zin **out, mesos_error **err);
void mesos__zin_free(mesos__zin *z);
/* Which digests to compute (both by default): the raw-bytes hash costs as
 * much as the decompressed one, and each layout checks only one of them. */
void mesos__zin_hash(mesos__zin *z, bool raw, bool plain);
/* From now on the stream owns its fd and closes it when freed. */
void mesos__zin_set_owned_fd(mesos__zin *z);

mesos__zin_format mesos__zin_format_of(const mesos__zin *z);

/* Reads up to `cap` decompressed bytes; *got = 0 at the end.  A truncated
 * or corrupt gzip stream fails with EPROTO naming the problem. */
mesos_status mesos__zin_read(mesos__zin *z, void *buf, size_t cap, size_t *got, mesos_error **err);
/* Reads (and hashes) everything that is left. */
mesos_status mesos__zin_drain(mesos__zin *z, mesos_error **err);

/* Lower-case hex SHA-256 of the raw and of the decompressed bytes; valid
 * after the stream reached its end (mesos__zin_drain). */
void mesos__zin_raw_digest(mesos__zin *z, char hex[65]);
void mesos__zin_plain_digest(mesos__zin *z, char hex[65]);
uint64_t mesos__zin_plain_bytes(const mesos__zin *z);
uint64_t mesos__zin_raw_bytes(const mesos__zin *z);

/* One-shot SHA-256 of a buffer, lower-case hex. */
void mesos__sha256_hex(const void *p, size_t n, char hex[65]);

#endif

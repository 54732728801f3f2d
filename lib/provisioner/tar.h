/* Tar streams: a streaming reader (ustar, pax extended headers, GNU long
 * names) and a safe extractor for untrusted image layers.
 *
 * Safety rules of the extractor (image layers are untrusted input):
 *  - every path is relative to the extraction root and walked component by
 *    component with openat(O_NOFOLLOW): absolute names, `..` components and
 *    paths through a symbolic link or a non-directory are refused;
 *  - symbolic links are created as they are and never followed;
 *  - hard links must name an entry already extracted from the same stream
 *    (inside the root), again walked without following links;
 *  - device nodes are refused; FIFOs are created;
 *  - sizes are checked against per-file and per-stream limits before any
 *    byte of the entry is written, and the entry count is bounded.
 * Whiteouts (.wh.<name>, .wh..wh..opq) are kept as plain files or converted
 * to overlayfs whiteouts (char 0:0 device, trusted.overlay.opaque=y).
 * Ownership is applied when the caller asks (root); modes and mtimes always.
 */
#ifndef MESOS_PROVISIONER_TAR_H
#define MESOS_PROVISIONER_TAR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mesos/error.h"
#include "provisioner/zin.h"

/* Defaults of the limits (each overridable in mesos__tar_opts). */
#define MESOS__TAR_MAX_FILE ((uint64_t)8 << 30)    /* one file: 8 GiB */
#define MESOS__TAR_MAX_TOTAL ((uint64_t)32 << 30)  /* one layer: 32 GiB */
#define MESOS__TAR_MAX_ENTRIES ((uint64_t)2000000) /* entries of one layer */
/* A pax header or GNU long name larger than this is refused: real ones
 * hold a path and a few numbers. */
#define MESOS__TAR_MAX_META ((size_t)1 << 20)

/* Pulls up to `cap` bytes; *got = 0 at the end. */
typedef mesos_status (*mesos__tar_read_fn)(void *ud, void *buf, size_t cap, size_t *got,
                                           mesos_error **err);
/* Optional: skips `n` bytes without reading them (a seekable file). */
typedef mesos_status (*mesos__tar_skip_fn)(void *ud, uint64_t n, mesos_error **err);

typedef enum {
  MESOS__TAR_WHITEOUT_KEEP,    /* .wh.* stay regular files (copy backend applies them) */
  MESOS__TAR_WHITEOUT_OVERLAY  /* converted for overlayfs at extraction */
} mesos__tar_whiteout;

typedef struct mesos__tar_opts {
  mesos__tar_whiteout whiteouts;
  uint64_t max_file_size;  /* 0: MESOS__TAR_MAX_FILE */
  uint64_t max_total_size; /* 0: MESOS__TAR_MAX_TOTAL (sum of file sizes) */
  uint64_t max_entries;    /* 0: MESOS__TAR_MAX_ENTRIES */
  bool preserve_owner;     /* chown to the archive's uid/gid (needs root) */
  /* Optional: set (by another thread) to stop the extraction at its next
   * entry or data chunk with MESOS_ECLOSED (the agent is shutting down:
   * a huge layer must not hold it). */
  const atomic_bool *cancel;
} mesos__tar_opts;

typedef struct mesos__tar_stats {
  uint64_t entries;
  uint64_t bytes; /* file data written */
} mesos__tar_stats;

/* Extracts a tar stream into the directory `rootfd` (borrowed).  On error
 * the directory holds a partial result the caller must discard (the store
 * extracts into a staging directory for that reason).  EINVAL/EPERM name the
 * offending entry; ELIMIT for limits; EPROTO for a malformed or truncated
 * archive; EIO for the file system.  `stats` may be NULL. */
mesos_status mesos__tar_extract(int rootfd, mesos__tar_read_fn rd, void *ud,
                                const mesos__tar_opts *opts, mesos__tar_stats *stats,
                                mesos_error **err);
/* The same over a layer stream (zin.h); the stream is drained to its end so
 * its digests are complete. */
mesos_status mesos__tar_extract_zin(int rootfd, mesos__zin *z, const mesos__tar_opts *opts,
                                    mesos__tar_stats *stats, mesos_error **err);

/* One member of an uncompressed tar file, for reading docker-save archives
 * in place. */
typedef struct mesos__tar_member {
  char *name;     /* normalised ("./" and trailing "/" removed) */
  char *linkname; /* symlink / hard link target, or NULL */
  char type;      /* '0' file, '1' hard link, '2' symlink, '5' dir, ... */
  uint64_t offset, size; /* data offset in the file */
} mesos__tar_member;

typedef struct mesos__tar_index {
  mesos__tar_member *m;
  size_t n;
} mesos__tar_index;

/* Lists the members of the uncompressed tar file `fd` (at most
 * `max_members`; ELIMIT beyond), seeking over data. */
mesos_status mesos__tar_index_fd(int fd, size_t max_members, mesos__tar_index *out,
                                 mesos_error **err);
void mesos__tar_index_free(mesos__tar_index *ix);

/* Normalises a member name: strips leading "./" and "/" is NOT stripped
 * (absolute names are refused), collapses "//" and "/./", drops a trailing
 * "/".  EINVAL for absolute names, ".." components, empty components over
 * NAME_MAX.  *out is "" for the root itself. */
mesos_status mesos__tar_clean_path(const char *in, char **out, mesos_error **err);

/* Removes `name` in `dirfd` and, for a directory, everything below it,
 * never following symbolic links.  Depth-limited (ELIMIT). ENOENT is OK. */
mesos_status mesos__rmtree_at(int dirfd, const char *name, mesos_error **err);

#endif

/* Small blocking file-system helpers for durable state: whole writes and
 * reads that survive EINTR and short counts, directory fsync, and mkdir -p
 * that makes each new directory entry durable.  Used by the registry log
 * and the agent's checkpoints only; everything here blocks the caller (see
 * log.h for why that is acceptable for now). */
#ifndef MESOS_REGISTRY_FSUTIL_H
#define MESOS_REGISTRY_FSUTIL_H

#include <stdint.h>
#include <sys/types.h>

#include "mesos/error.h"

/* Writes all `n` bytes at the current offset.  MESOS_EIO on failure (the
 * message names `what` and the errno); some bytes may have been written. */
mesos_status mesos__fs_write_all(int fd, const void *p, size_t n, const char *what,
                                 mesos_error **err);

/* Reads up to `n` bytes at `off`, stopping early only at end of file;
 * *got is the count read.  MESOS_EIO on failure. */
mesos_status mesos__fs_pread_all(int fd, void *p, size_t n, uint64_t off, size_t *got,
                                 const char *what, mesos_error **err);

/* fsync(2) on a directory, so entries created, renamed or removed in it
 * survive a crash.  MESOS_EIO. */
mesos_status mesos__fs_fsync_dir(const char *dir, mesos_error **err);

/* Creates `path` and any missing parents with `mode`; each directory it
 * creates is made durable by fsyncing its parent, and a directory another
 * thread of the process is creating at the same time counts as existing
 * only once that thread made it durable.  Existing directories are
 * fine; an existing non-directory is MESOS_EEXIST; other failures MESOS_EIO.
 * Paths longer than PATH_MAX are MESOS_ELIMIT. */
mesos_status mesos__fs_mkdirs(const char *path, mode_t mode, mesos_error **err);
/* Test-only hook: when non-zero, mesos__fs_mkdirs sleeps this many ms
 * between creating a directory and fsyncing its parent (the window two
 * threads creating the same directories race in).  Nothing but tests sets
 * it; 0 (the default) does nothing. */
extern unsigned mesos__fs_mkdirs_test_delay_ms;

/* *out = "<a>/<b>" (free with mesos__free).  MESOS_ENOMEM, or MESOS_ELIMIT
 * past PATH_MAX. */
mesos_status mesos__fs_join(char **out, const char *a, const char *b, mesos_error **err);

/* *out = the directory part of `path` ("." when it has none). */
mesos_status mesos__fs_dirname(char **out, const char *path, mesos_error **err);

#endif

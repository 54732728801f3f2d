/*
 * The files service shared by the master and the agent: a table of virtual
 * roots (sandboxes, log files) that operators browse and read through
 * /files/browse, /files/read, /files/download and /files/debug and through
 * the v1 LIST_FILES / READ_FILE calls, without ever reaching a file outside
 * the roots.
 *
 * Paths.  A request names a virtual path ("/frameworks/<f>/executors/<e>/
 * runs/latest/stdout", or the sandbox's real path, as Mesos accepts both).
 * It is normalised first: repeated and trailing '/' and "." components are
 * dropped; a ".." component, a relative path, a NUL byte or more than
 * MESOS__FILES_MAX_PATH bytes is refused (MESOS_EINVAL: 400).  The longest
 * attached virtual path that is a component-wise prefix picks the root; the
 * rest is resolved beneath the root's directory with openat2(2)
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so symlinks inside the sandbox
 * work while one that leaves it (to /etc, or "../..") is refused
 * (MESOS_EPERM: 403).  Kernels without openat2 get a component-by-component
 * O_NOFOLLOW walk that refuses every symlink below the root.  The root
 * itself is trusted (the agent or master chose it).  Only directories are
 * listed and only regular files read: a FIFO or device in a sandbox is never
 * opened for reading in a way that could block (O_NONBLOCK, then fstat).
 *
 * Resolvers.  Besides the static table (attach/detach), an owner may install
 * a resolver that maps paths on the fly: the agent derives sandbox roots
 * from its tasks and work directory instead of attaching each one.
 *
 * Errors map to HTTP as mesos__files_http_status() says: EINVAL 400,
 * ENOTFOUND 404, EPERM 403, ELIMIT 400, others
 * 500.  Messages name the virtual path only, never the real one.
 *
 * Threads: everything belongs to the loop thread of its owner.  The file
 * system calls block (a directory listing, one bounded read); sandboxes live
 * on local disks, as in Mesos.
 */
#ifndef MESOS_FILES_FILES_H
#define MESOS_FILES_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/server.h"
#include "mesos/error.h"

/* Longest virtual path accepted (PATH_MAX): longer ones cannot name a file. */
#define MESOS__FILES_MAX_PATH 4096
/* Entries one listing returns at most: a sandbox with more is a runaway
 * task, and a larger answer only hurts the server and the client. */
#define MESOS__FILES_MAX_ENTRIES 100000u
/* /files/read returns at most 16 pages per call, as Mesos does (clients page
 * through logs with offset/length). */
#define MESOS__FILES_MAX_HTTP_READ ((size_t)64 << 10)
/* READ_FILE (v1) returns at most this much per call. */
#define MESOS__FILES_MAX_API_READ ((size_t)4 << 20)
/* Attached roots at most. */
#define MESOS__FILES_MAX_ROOTS 100000u

typedef struct mesos__files mesos__files;

/* One directory entry, as /files/browse and FileInfo describe it. */
typedef struct mesos__file_entry {
  char *path;        /* virtual path of the entry */
  uint32_t mode;     /* st_mode */
  uint64_t nlink;
  uint64_t size;
  int64_t mtime_ns;  /* nanoseconds since the epoch */
  char uid[64];      /* user name, or the number when it has none */
  char gid[64];      /* group name, or the number */
} mesos__file_entry;

/*
 * A resolver: given a normalised virtual path, sets *root to a newly
 * allocated real directory (or file) path (mesos__free) and *consumed to
 * the length of the prefix of `path` that the root stands for (at a '/' or
 * the end), and returns MESOS_OK; MESOS_ENOTFOUND when it does not know the
 * path (the static table is tried next); any other error is answered as is.
 * `list` (optional, for /files/debug) calls emit(virtual, real) for each
 * root it currently knows.
 */
typedef struct mesos__files_resolver {
  mesos_status (*resolve)(void *ud, const char *path, char **root, size_t *consumed,
                          mesos_error **err);
  void (*list)(void *ud, void (*emit)(const char *virt, const char *real, void *ctx),
               void *ctx);
  void *ud;
} mesos__files_resolver;

mesos_status mesos__files_new(mesos__files **out, mesos_error **err);
/* NULL is accepted. */
void mesos__files_free(mesos__files *f);

/* Attaches the real path `real` (a directory or a file; made absolute
 * against the current directory when relative) at the virtual path `virt`
 * (normalised as above; replaces an earlier attachment there).
 * MESOS_EINVAL (bad `virt`), MESOS_ELIMIT, MESOS_ENOMEM. */
mesos_status mesos__files_attach(mesos__files *f, const char *real, const char *virt,
                                 mesos_error **err);
/* Removes the attachment at `virt` (nothing when there is none). */
void mesos__files_detach(mesos__files *f, const char *virt);
/* Installs (copies) a resolver; NULL removes it. */
void mesos__files_set_resolver(mesos__files *f, const mesos__files_resolver *r);

/*
 * Authorization (issue 8, spec/authorization.md §3.3/3.4).  The owner
 * decides who may reach which root: `authorize` is asked with the
 * request's principal (NULL: unauthenticated) and the normalised virtual
 * path before anything is opened, and answers MESOS_OK, or MESOS_EPERM
 * with a message (403) -- the agent maps sandbox paths to ACCESS_SANDBOX
 * on the executor's user and the rest to ACCESS_MESOS_LOG.  `auth`, when
 * set, authenticates the /files routes in the read-only realm (401 before
 * any handler runs) and authorizes /files/debug as GET_ENDPOINT_WITH_PATH,
 * as Mesos does; set both before mesos__files_routes().  The unsuffixed
 * mesos__files_browse/read below are the trusted, unchecked calls; request
 * paths use the _as variants.
 */
struct mesos__auth;
typedef struct mesos__files_auth {
  struct mesos__auth *auth; /* not owned; NULL: /files needs no authentication */
  mesos_status (*authorize)(void *ud, const char *principal, const char *path,
                            mesos_error **err); /* NULL: everything allowed */
  void *ud;
} mesos__files_auth;
/* Installs (copies) the hook; NULL removes it.  The hook answers
 * MESOS_EAGAIN when a late authorizer parked the request's pass
 * (mesos__auth_parked): the caller then answers nothing (the request is
 * replayed with the answer). */
void mesos__files_set_auth(mesos__files *f, const mesos__files_auth *a);
/* Whether `st` from a *_as call means "parked, answer nothing". */
bool mesos__files_auth_waits(const mesos__files *f, mesos_status st);

/* Lists the directory at `path`, sorted by name; one entry (the file
 * itself) when `path` names a file.  Free with mesos__files_entries_free.
 * MESOS_EINVAL, MESOS_ENOTFOUND, MESOS_EPERM, MESOS_ELIMIT, MESOS_EIO. */
mesos_status mesos__files_browse(mesos__files *f, const char *path, mesos__file_entry **out,
                                 size_t *n, mesos_error **err);
void mesos__files_entries_free(mesos__file_entry *e, size_t n);

/* Reads at most min(length, max) bytes at `offset` of the regular file at
 * `path` into *data (mesos__free; NUL-terminated for convenience) and
 * *len, and its size into *size.  length < 0: to the end of the file
 * (then capped by max).  An offset at or past the end reads nothing.
 * MESOS_EINVAL (negative offset, a directory), MESOS_ENOTFOUND,
 * MESOS_EPERM, MESOS_EIO, MESOS_ENOMEM. */
mesos_status mesos__files_read(mesos__files *f, const char *path, int64_t offset, int64_t length,
                               size_t max, char **data, size_t *len, uint64_t *size,
                               mesos_error **err);

/* mesos__files_browse / mesos__files_read after asking the authorization
 * hook for `principal` (NULL: none); MESOS_EPERM when it denies. */
mesos_status mesos__files_browse_as(mesos__files *f, const char *principal, const char *path,
                                    mesos__file_entry **out, size_t *n, mesos_error **err);
mesos_status mesos__files_read_as(mesos__files *f, const char *principal, const char *path,
                                  int64_t offset, int64_t length, size_t max, char **data,
                                  size_t *len, uint64_t *size, mesos_error **err);

/* The HTTP status an error of these functions is answered with. */
int mesos__files_http_status(mesos_status st);

/* Routes GET /files/browse, /files/read, /files/download, /files/debug
 * (and their ".json" aliases) on `srv`, plus the same under `alias_prefix`
 * when not NULL ("/slave(1)" gives "/slave(1)/files/browse"...).  Answers:
 *   browse   ?path=P              JSON array of {path, nlink, size, mtime
 *                                 (seconds), mode ("-rw-r--r--"), uid, gid}
 *   read     ?path=P&offset=N&length=M   {"data": "...", "offset": N};
 *            offset absent or -1: {"data": "", "offset": <size>}; length
 *            capped at MESOS__FILES_MAX_HTTP_READ; invalid bytes in data
 *            escaped as \u00XX
 *   download ?path=P              the bytes, application/octet-stream,
 *                                 Content-Disposition: attachment; streamed
 *                                 (chunked) with bounded memory, any size
 *   debug                         {"<virtual>": "<real>", ...}
 * Errors: 400/403/404 with a plain-text message. */
mesos_status mesos__files_routes(mesos__files *f, mesos__http_server *srv,
                                 const char *alias_prefix, mesos_error **err);

/* Normalises a virtual path into `out` (cap bytes).  Exposed for tests and
 * resolvers.  MESOS_EINVAL, MESOS_ELIMIT. */
mesos_status mesos__files_normalize(const char *path, char *out, size_t cap, mesos_error **err);

#endif

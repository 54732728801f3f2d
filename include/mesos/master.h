/*
 * mesos/master.h - a Mesos master, as a library object.
 *
 * mesos-master(8) is a thin program around these functions; a vendor can run
 * the same master inside its own process, on its own loop.  A master serves
 * the v1 scheduler API (/api/v1/scheduler) and the classic /version and
 * /health endpoints on one HTTP listener.
 *
 * Configuration comes either from an options struct or from Mesos-style
 * flags (--name=value, MESOS_<NAME> environment variables), the same set
 * mesos-master accepts; both end up as the flag set /flags would show.
 *
 * Thread safety: a master belongs to its loop's thread.
 *
 * Since 1.0.
 */
#ifndef MESOS_MASTER_H
#define MESOS_MASTER_H

#include "common.h"
#include "error.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mesos_master mesos_master;

/* A vendor authorizer, mesos/authz.h. */
typedef struct mesos_authorizer mesos_authorizer;
typedef struct mesos_master_flags mesos_master_flags;

/* The allocator interface, mesos/sys/allocator.h. */
typedef struct mesos_allocator mesos_allocator;

/* Version 2 appended `allocator`; version 1 structs are still accepted. */
#define MESOS_MASTER_OPTIONS_VERSION 2

typedef struct mesos_master_options {
  uint32_t version;            /* MESOS_MASTER_OPTIONS_VERSION */
  const char *ip;              /* listen address; NULL: "0.0.0.0" */
  uint32_t port;               /* 0 picks a free port (see mesos_master_port) */
  const char *hostname;        /* NULL: the host's name */
  const char *work_dir;        /* registry directory; NULL: none */
  const char *registry;        /* "in_memory" or "replicated_log" (durable
                                * file log in work_dir); NULL: durable when
                                * work_dir is set, else in_memory */
  const char *cluster;         /* display name, or NULL */
  uint64_t heartbeat_interval_ms; /* scheduler HEARTBEAT period; 0: 15 s */
  /* Since version 2.  The allocator that decides who gets offers: a handle
   * from mesos_allocator_new() that is not initialized yet (the master
   * initializes it with its offer callbacks).  The master takes it over
   * with the call: mesos_master_free() frees it, and so does a failing
   * mesos_master_new() (except with MESOS_EVERSION, when the struct cannot
   * be read).  NULL: the built-in hierarchical DRF allocator. */
  mesos_allocator *allocator;
} mesos_master_options;

#define MESOS_MASTER_OPTIONS_INIT { MESOS_MASTER_OPTIONS_VERSION, NULL, 5050, NULL, NULL, NULL, NULL, 0, NULL }

/* FFI twin of MESOS_MASTER_OPTIONS_INIT.  `version` 1 fills only the
 * fields version 1 has (a caller built against the older header passes a
 * smaller struct).  MESOS_EVERSION for an unknown version. */
MESOS_EXTERN(mesos_status) mesos_master_options_init(mesos_master_options *opts,
                                                     uint32_t version);

/*
 * Parses mesos-master's flags from argv[1..argc) and the MESOS_* entries of
 * `envp` (may be NULL).  Errors: MESOS_EINVAL naming the flag (unknown flag,
 * bad value).  `--help` and `--version` are ordinary boolean flags here: ask
 * with mesos_master_flags_bool().
 */
MESOS_EXTERN(mesos_status) mesos_master_flags_parse(mesos_master_flags **out, int argc,
                                                    char *const *argv, char *const *envp,
                                                    mesos_error **err);
MESOS_EXTERN(void) mesos_master_flags_free(mesos_master_flags *flags);

/* The value of a boolean flag ("help", "version", "quiet", ...): 1 or 0. */
MESOS_EXTERN(int) mesos_master_flags_bool(const mesos_master_flags *flags, const char *name);

/* The string form of a flag (borrowed from `flags`), NULL when unset. */
MESOS_EXTERN(const char *) mesos_master_flags_get(const mesos_master_flags *flags,
                                                  const char *name);

/* The usage text listing every flag, in a new string (free with mesos_free). */
MESOS_EXTERN(mesos_status) mesos_master_flags_usage(const char *program, char **out,
                                                    mesos_error **err);

/*
 * Creates a master on `loop` and starts serving: the listener is bound when
 * this returns.  Exactly one of `opts` and `flags` is used: pass NULL for the
 * other (both NULL: defaults).  `flags` is copied.
 * Errors: MESOS_EINVAL (bad option), MESOS_EVERSION, MESOS_EEXIST (port in
 * use), MESOS_EIO, MESOS_ENOMEM.
 */
MESOS_EXTERN(mesos_status) mesos_master_new(mesos_master **out, mesos_loop *loop,
                                            const mesos_master_options *opts,
                                            const mesos_master_flags *flags, mesos_error **err);

/* The TCP port the master listens on. */
MESOS_EXTERN(uint32_t) mesos_master_port(const mesos_master *master);

/* The master's id (a UUID, also the prefix of framework ids). Borrowed. */
MESOS_EXTERN(const char *) mesos_master_id(const mesos_master *master);

/* Re-reads the --credentials file and the --acls file (mesos-master does
 * it on SIGHUP).  A file that cannot be read or parsed leaves what was
 * loaded from it in force; the error (MESOS_EINVAL, MESOS_EIO,
 * MESOS_ELIMIT) names the file and says why.  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_master_reload(mesos_master *master, mesos_error **err);

/* The authorizer the master asks from now on, instead of the local one over
 * --acls (or none): a vendor authorizer from mesos_authorizer_new()
 * (mesos/authz.h), taken over on success (mesos_master_free() frees it;
 * reloading reloads it).  It may answer later: a request waits for its
 * answers without blocking the loop (a client that leaves is forgotten;
 * after 30 s the request gets 503).  Set it before the loop runs, or
 * between requests.  MESOS_EINVAL (NULL argument), MESOS_EBUSY (the
 * current authorizer still owes answers: try again later; the new one
 * stays the caller's).  Since 1.0. */
MESOS_EXTERN(mesos_status) mesos_master_set_authorizer(mesos_master *master, mesos_authorizer *authorizer,
                                                     mesos_error **err);

/* Stops serving and frees the master: open event streams are ended, every
 * connection closed.  NULL is accepted.  Run the loop afterwards until it
 * has no more work to let the closes finish. */
MESOS_EXTERN(void) mesos_master_free(mesos_master *master);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_MASTER_H */

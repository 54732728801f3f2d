/*
 * Mesos-style command-line flags: --name=value, --name / --no-name for
 * booleans, MESOS_<NAME> environment variables (the command line wins),
 * deprecated aliases (the "slave" names), file:// values, Mesos duration and
 * byte-size syntax.  A daemon declares a table of mesos__flag_def, parses
 * argv + environ once, then reads typed values; the parsed set keeps the
 * string form of every flag for GET_FLAGS and /flags.
 */
#ifndef MESOS_BASE_FLAGS_H
#define MESOS_BASE_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "mesos/error.h"

typedef enum mesos__flag_type {
  MESOS__FLAG_BOOL,
  MESOS__FLAG_STRING,
  MESOS__FLAG_INT,       /* int64 */
  MESOS__FLAG_DOUBLE,
  MESOS__FLAG_DURATION,  /* "15secs" */
  MESOS__FLAG_BYTES,     /* "2GB" */
  MESOS__FLAG_TEXT       /* a string, or the contents of "file:///path" */
} mesos__flag_type;

typedef struct mesos__flag_def {
  const char *name;      /* without dashes, e.g. "work_dir" */
  mesos__flag_type type;
  const char *def;       /* default in string form; NULL = no default */
  const char *help;
  const char *aliases;   /* comma-separated deprecated names, or NULL */
  const char *choices;   /* '|'-separated allowed values (strings), or NULL */
} mesos__flag_def;

typedef struct mesos__flags mesos__flags;

/*
 * Parses argv[1..argc) and the MESOS_* variables of `envp` (may be NULL).
 * Errors (MESOS_EINVAL, message names the flag): unknown flag, missing or
 * malformed value, value not among choices, non-flag argument, a file://
 * value that cannot be read, the same flag given twice on the command line.
 */
mesos_status mesos__flags_parse(mesos__flags **out, const mesos__flag_def *defs, size_t ndefs,
                                int argc, char *const *argv, char *const *envp,
                                mesos_error **err);
void mesos__flags_free(mesos__flags *f);

/* True if the flag was given on the command line or in the environment. */
bool mesos__flags_is_set(const mesos__flags *f, const char *name);
/* String form (the default when not set); NULL when it has no value. */
const char *mesos__flags_get(const mesos__flags *f, const char *name);
bool mesos__flags_bool(const mesos__flags *f, const char *name);
int64_t mesos__flags_int(const mesos__flags *f, const char *name);
double mesos__flags_double(const mesos__flags *f, const char *name);
uint64_t mesos__flags_duration_ns(const mesos__flags *f, const char *name);
uint64_t mesos__flags_bytes(const mesos__flags *f, const char *name);

/* Iteration over every defined flag (for /flags): name and string value
 * (NULL when it has none).  Returns false past the end. */
bool mesos__flags_at(const mesos__flags *f, size_t i, const char **name, const char **value);

/* A new flag set for `defs` holding the values explicitly set in `src`
 * (parsed with the same table): how a daemon's flag handle is copied into
 * the object it configures.  Errors as mesos__flags_parse. */
mesos_status mesos__flags_copy(mesos__flags **out, const mesos__flag_def *defs, size_t ndefs,
                               const mesos__flags *src, mesos_error **err);

/* The usage text as a new string (free with mesos__free), for the public
 * mesos_<daemon>_flags_usage functions. */
mesos_status mesos__flags_usage_string(const mesos__flag_def *defs, size_t ndefs,
                                       const char *program, char **out, mesos_error **err);

/* Usage text for --help: one line per flag with default and help. */
mesos_status mesos__flags_usage(const mesos__flag_def *defs, size_t ndefs, const char *program,
                                mesos__buf *out);

/*
 * The daemons' public flag handles (struct mesos_master_flags, struct
 * mesos_agent_flags) are each a struct whose first member is its parsed
 * `mesos__flags *f`; these are the bodies of their public
 * mesos_<daemon>_flags_parse/_free/_bool/_get/_usage functions, which
 * differ only in the flag table (one copy, not one per daemon).
 */
/* A new zeroed handle of `size` bytes holding argv/envp parsed with `defs`
 * (errors as mesos__flags_parse); *out set only on success. */
mesos_status mesos__flags_handle_parse(void **out, size_t size, const mesos__flag_def *defs,
                                       size_t ndefs, int argc, char *const *argv,
                                       char *const *envp, mesos_error **err);
/* Frees a handle from mesos__flags_handle_parse (NULL accepted). */
void mesos__flags_handle_free(void *handle);
/* mesos__flags_bool / mesos__flags_get on a handle; 0 / NULL for a NULL
 * handle or name. */
int mesos__flags_handle_bool(const void *handle, const char *name);
const char *mesos__flags_handle_get(const void *handle, const char *name);

#endif

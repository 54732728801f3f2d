/*
 * mesos/error.h - error values.
 *
 * Every fallible public function returns a mesos_status and, when its last
 * parameter `mesos_error **err` is not NULL and the call fails, stores a
 * newly allocated mesos_error there.  The caller owns it and frees it with
 * mesos_error_free().  On success *err is left untouched.
 *
 * Thread safety: mesos_error values are plain data; any thread may read or
 * free one it owns.  mesos_status_name() and mesos_status_str() are safe from
 * any thread.
 *
 * Since 1.0.
 */
#ifndef MESOS_ERROR_H
#define MESOS_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An error: a status code, a human-readable message, an optional cause. */
typedef struct mesos_error mesos_error;

/* The error's status code (never MESOS_OK).  `e` must not be NULL. */
MESOS_EXTERN(mesos_status) mesos_error_code(const mesos_error *e);

/* The error's message, borrowed from `e`, never NULL. */
MESOS_EXTERN(const char *) mesos_error_message(const mesos_error *e);

/* The error that caused `e`, borrowed from `e`, or NULL. */
MESOS_EXTERN(const mesos_error *) mesos_error_cause(const mesos_error *e);

/* Frees `e` and its causes.  NULL is accepted. */
MESOS_EXTERN(void) mesos_error_free(mesos_error *e);

/* The enumerator's name for `status`, e.g. "MESOS_EINVAL"; "MESOS_UNKNOWN"
 * for a value this version does not know.  Static storage. */
MESOS_EXTERN(const char *) mesos_status_name(mesos_status status);

/* A short English description of `status`.  Static storage. */
MESOS_EXTERN(const char *) mesos_status_str(mesos_status status);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_ERROR_H */

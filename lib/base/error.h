/* Internal error helpers. */
#ifndef MESOS_BASE_ERROR_H
#define MESOS_BASE_ERROR_H

#include "mesos/error.h"

/* If `err` is not NULL, stores a new error with `code` and a printf-style
 * message there.  Always returns `code`, so `return mesos__err(...)` works.
 * On allocation failure *err gets a static out-of-memory error. */
mesos_status mesos__err(mesos_error **err, mesos_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like mesos__err, but the new error takes ownership of `cause` as its
 * cause (or frees it when err is NULL). */
mesos_status mesos__err_wrap(mesos_error **err, mesos_status code, mesos_error *cause,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Error from an errno value: message is "<what>: strerror(errnum)". */
mesos_status mesos__err_errno(mesos_error **err, mesos_status code, int errnum,
                              const char *what);

/* Moves the error `src` into `*dst` (if dst is not NULL; frees otherwise). */
void mesos__err_move(mesos_error **dst, mesos_error *src);

#endif

#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

struct mesos_error {
  mesos_status code;
  int is_static;
  char *message;
  struct mesos_error *cause;
};

/* Returned when the error itself cannot be allocated; never freed. */
static struct mesos_error oom_error = {MESOS_ENOMEM, 1, (char *)"out of memory", NULL};

static mesos_error *error_vnew(mesos_status code, mesos_error *cause, const char *fmt,
                               va_list ap) {
  mesos_error *e = MESOS__NEW(mesos_error);
  if (e == NULL) {
    mesos_error_free(cause);
    return &oom_error;
  }
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) n = 0;
  e->message = mesos__malloc((size_t)n + 1);
  if (e->message == NULL) {
    mesos__free(e);
    mesos_error_free(cause);
    return &oom_error;
  }
  vsnprintf(e->message, (size_t)n + 1, fmt, ap);
  e->code = code;
  e->cause = cause;
  return e;
}

mesos_status mesos__err(mesos_error **err, mesos_status code, const char *fmt, ...) {
  if (err == NULL) return code;
  va_list ap;
  va_start(ap, fmt);
  *err = error_vnew(code, NULL, fmt, ap);
  va_end(ap);
  return code;
}

mesos_status mesos__err_wrap(mesos_error **err, mesos_status code, mesos_error *cause,
                             const char *fmt, ...) {
  if (err == NULL) {
    mesos_error_free(cause);
    return code;
  }
  va_list ap;
  va_start(ap, fmt);
  *err = error_vnew(code, cause, fmt, ap);
  va_end(ap);
  return code;
}

mesos_status mesos__err_errno(mesos_error **err, mesos_status code, int errnum,
                              const char *what) {
  char buf[128];
  const char *msg = strerror_r(errnum, buf, sizeof buf);
  return mesos__err(err, code, "%s: %s", what, msg);
}

void mesos__err_move(mesos_error **dst, mesos_error *src) {
  if (dst) *dst = src;
  else mesos_error_free(src);
}

MESOS_EXTERN(mesos_status) mesos_error_code(const mesos_error *e) { return e->code; }

MESOS_EXTERN(const char *) mesos_error_message(const mesos_error *e) {
  return e->message ? e->message : "";
}

MESOS_EXTERN(const mesos_error *) mesos_error_cause(const mesos_error *e) {
  return e->cause;
}

MESOS_EXTERN(void) mesos_error_free(mesos_error *e) {
  /* Iterative, so a long cause chain cannot exhaust the stack. */
  while (e != NULL) {
    mesos_error *next = e->cause;
    if (!e->is_static) {
      mesos__free(e->message);
      mesos__free(e);
    }
    e = next;
  }
}

struct status_info {
  mesos_status code;
  const char *name;
  const char *str;
};

static const struct status_info statuses[] = {
  {MESOS_OK, "MESOS_OK", "success"},
  {MESOS_ERROR, "MESOS_ERROR", "unspecified error"},
  {MESOS_EINVAL, "MESOS_EINVAL", "invalid argument"},
  {MESOS_ENOMEM, "MESOS_ENOMEM", "out of memory"},
  {MESOS_EVERSION, "MESOS_EVERSION", "unsupported structure version"},
  {MESOS_ENOTFOUND, "MESOS_ENOTFOUND", "not found"},
  {MESOS_EEXIST, "MESOS_EEXIST", "already exists"},
  {MESOS_EIO, "MESOS_EIO", "operating system error"},
  {MESOS_ETIMEDOUT, "MESOS_ETIMEDOUT", "timed out"},
  {MESOS_ECLOSED, "MESOS_ECLOSED", "closed"},
  {MESOS_EPROTO, "MESOS_EPROTO", "protocol error"},
  {MESOS_ETLS, "MESOS_ETLS", "TLS error"},
  {MESOS_ELIMIT, "MESOS_ELIMIT", "limit exceeded"},
  {MESOS_EBUSY, "MESOS_EBUSY", "busy"},
  {MESOS_EUSER, "MESOS_EUSER", "aborted by callback"},
  {MESOS_EAGAIN, "MESOS_EAGAIN", "try again"},
  {MESOS_EPERM, "MESOS_EPERM", "not permitted"},
  {MESOS_EUNSUPPORTED, "MESOS_EUNSUPPORTED", "not supported"},
};

static const struct status_info *status_find(mesos_status s) {
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
    if (statuses[i].code == s) return &statuses[i];
  return NULL;
}

MESOS_EXTERN(const char *) mesos_status_name(mesos_status status) {
  const struct status_info *i = status_find(status);
  return i ? i->name : "MESOS_UNKNOWN";
}

MESOS_EXTERN(const char *) mesos_status_str(mesos_status status) {
  const struct status_info *i = status_find(status);
  return i ? i->str : "unknown status";
}

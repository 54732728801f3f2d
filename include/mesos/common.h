/*
 * mesos/common.h - export macro and the basic types every header uses.
 *
 * Part of libmesos-core.  Since 1.0.
 */
#ifndef MESOS_COMMON_H
#define MESOS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * MESOS_EXTERN marks a function as part of the public ABI.  The library is
 * built with -fvisibility=hidden, so only functions carrying this macro (and
 * listed in the linker version script) are exported.
 */
#if defined(__GNUC__) || defined(__clang__)
#  define MESOS_EXTERN(type) __attribute__((visibility("default"))) type
#  define MESOS_DEPRECATED(replacement) __attribute__((deprecated("use " #replacement)))
#else
#  define MESOS_EXTERN(type) type
#  define MESOS_DEPRECATED(replacement)
#endif

/*
 * mesos_status: the result of every fallible public function.
 * 0 (MESOS_OK) is success; errors are negative.  Values are never reused:
 * a retired code leaves a hole.
 */
typedef int32_t mesos_status;

enum {
  MESOS_OK = 0,
  MESOS_ERROR = -1,        /* unspecified failure */
  MESOS_EINVAL = -2,       /* an argument or input is invalid */
  MESOS_ENOMEM = -3,       /* out of memory */
  MESOS_EVERSION = -4,     /* options/vtable version not supported */
  MESOS_ENOTFOUND = -5,    /* the named thing does not exist */
  MESOS_EEXIST = -6,       /* the named thing already exists */
  MESOS_EIO = -7,          /* an operating system call failed */
  MESOS_ETIMEDOUT = -8,    /* a deadline passed */
  MESOS_ECLOSED = -9,      /* the handle or connection is closed */
  MESOS_EPROTO = -10,      /* the peer or the data broke the protocol */
  MESOS_ETLS = -11,        /* TLS handshake or record failure */
  MESOS_ELIMIT = -12,      /* a configured size or count limit was hit */
  MESOS_EBUSY = -13,       /* the resource is in use */
  MESOS_EUSER = -14,       /* a user callback asked to abort */
  MESOS_EAGAIN = -15,      /* try again later; nothing was done */
  MESOS_EPERM = -16,       /* not permitted */
  MESOS_EUNSUPPORTED = -17 /* not supported on this host or build */
};

#ifdef __cplusplus
}
#endif

#endif /* MESOS_COMMON_H */

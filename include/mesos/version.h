/*
 * mesos/version.h - library version at compile time and at run time.
 *
 * Compare MESOS_VERSION_NUMBER (the headers you compiled against) with
 * mesos_version_number() (the library loaded at run time) to detect a
 * mismatch.  The ABI is stable across minor and patch releases of a major
 * version; see README "Versioning".
 *
 * Thread safety: any thread.  Since 1.0.
 */
#ifndef MESOS_VERSION_H
#define MESOS_VERSION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MESOS_VERSION_MAJOR 1
#define MESOS_VERSION_MINOR 0
#define MESOS_VERSION_PATCH 0
#define MESOS_VERSION_STRING "1.0.0"
/* MAJOR * 1000000 + MINOR * 1000 + PATCH, e.g. 1000000 for 1.0.0. */
#define MESOS_VERSION_NUMBER 1000000

/* The run-time library's version as MESOS_VERSION_NUMBER encodes it. */
MESOS_EXTERN(uint32_t) mesos_version_number(void);

/* The run-time library's version string, e.g. "1.0.0".  Static storage. */
MESOS_EXTERN(const char *) mesos_version_string(void);

/* The Mesos v1 API version this library speaks: "v1".  Static storage. */
MESOS_EXTERN(const char *) mesos_api_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_VERSION_H */

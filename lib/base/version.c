#include "mesos/version.h"

/* The headers and the Makefile must agree on the release; a mismatch is a
 * build error rather than a library that lies about its version. */
#if !defined(MESOS_MAKE_VERSION_MAJOR) || MESOS_MAKE_VERSION_MAJOR != MESOS_VERSION_MAJOR || \
    MESOS_MAKE_VERSION_MINOR != MESOS_VERSION_MINOR || MESOS_MAKE_VERSION_PATCH != MESOS_VERSION_PATCH
#error "include/mesos/version.h and the Makefile disagree on the version"
#endif

#if MESOS_VERSION_NUMBER != \
    (MESOS_VERSION_MAJOR * 1000000 + MESOS_VERSION_MINOR * 1000 + MESOS_VERSION_PATCH)
#error "MESOS_VERSION_NUMBER does not match MAJOR/MINOR/PATCH"
#endif

MESOS_EXTERN(uint32_t) mesos_version_number(void) { return MESOS_VERSION_NUMBER; }

MESOS_EXTERN(const char *) mesos_version_string(void) { return MESOS_VERSION_STRING; }

MESOS_EXTERN(const char *) mesos_api_version(void) { return "v1"; }

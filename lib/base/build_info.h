/*
 * When the library was built, in the two forms Mesos's /version,
 * GET_VERSION and /state give it: build_date "YYYY-MM-DD hh:mm:ss" and
 * build_time in seconds since the epoch.  Taken from one translation
 * unit's __DATE__/__TIME__ (which honour SOURCE_DATE_EPOCH, for
 * reproducible builds), so every endpoint agrees.
 */
#ifndef MESOS_BASE_BUILD_INFO_H
#define MESOS_BASE_BUILD_INFO_H

#include <stddef.h>

/* Writes "YYYY-MM-DD hh:mm:ss" into buf (cap >= 20; truncated otherwise)
 * and returns buf.  Thread-safe: no shared state. */
const char *mesos__build_date(char *buf, size_t cap);
/* Seconds since the epoch (the build machine's clock read as UTC). */
double mesos__build_time(void);

#endif

/* Mesos's duration and byte-size syntax, used by flags and by JSON. */
#ifndef MESOS_BASE_UNITS_H
#define MESOS_BASE_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "mesos/error.h"

#define MESOS__NS_PER_MS UINT64_C(1000000)
#define MESOS__NS_PER_SEC UINT64_C(1000000000)

/* "<number><unit>" with unit ns, us, ms, secs, mins, hrs, days, weeks; the
 * number may have a fraction ("1.5secs").  Result in nanoseconds. */
mesos_status mesos__parse_duration(const char *s, uint64_t *ns, mesos_error **err);
/* The shortest exact form in the largest unit that keeps it whole-ish, as
 * Mesos prints it ("15secs", "10mins", "2weeks", "150ms"). */
void mesos__format_duration(uint64_t ns, char *out, size_t cap);

/* "<integer><unit>" with unit B, KB, MB, GB, TB (powers of 1024). */
mesos_status mesos__parse_bytes(const char *s, uint64_t *bytes, mesos_error **err);
/* "2GB", "1536MB", "100B": the largest unit that divides exactly. */
void mesos__format_bytes(uint64_t bytes, char *out, size_t cap);

/* Strict integer / double parsing of a whole string (no trailing junk, no
 * overflow).  MESOS_EINVAL with a message naming `what`. */
mesos_status mesos__parse_int64(const char *s, int64_t *out, const char *what, mesos_error **err);
mesos_status mesos__parse_uint64(const char *s, uint64_t *out, const char *what,
                                 mesos_error **err);
mesos_status mesos__parse_double(const char *s, double *out, const char *what, mesos_error **err);

/* The wall clock in seconds since the epoch, to the microsecond: what
 * Mesos' timestamps (TaskStatus, TimeInfo) hold. */
double mesos__wall_seconds(void);

/* Randomised exponential back-off, as Mesos's agent and executors retry:
 * returns a delay drawn uniformly from [0, *ceiling_ms], then doubles
 * *ceiling_ms, capped at `max_ms`. */
uint64_t mesos__backoff_draw(uint64_t *ceiling_ms, uint64_t max_ms);

#endif

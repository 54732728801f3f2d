/* Query strings of request targets ("path=/a%20b&offset=0"): finding one
 * parameter and percent-decoding its value.
 *
 * Values are decoded strictly: a '%' not followed by two hex digits is an
 * error rather than a literal, and an encoded NUL (%00) is refused, because
 * every caller turns values into C strings (file paths above all) where a
 * NUL would silently cut the value short. */
#ifndef MESOS_HTTP_QUERY_H
#define MESOS_HTTP_QUERY_H

#include <stddef.h>

#include "mesos/error.h"

/* *out = the decoded value of the first parameter called `name` in `query`
 * (the part after '?', without it), '+' read as a space; free with
 * mesos__free.  A parameter given without '=' has the value "".
 * MESOS_ENOTFOUND (absent; *out untouched), MESOS_EINVAL (bad escape or
 * %00; the message names the parameter), MESOS_ELIMIT (decoded value longer
 * than `max` bytes), MESOS_ENOMEM. */
mesos_status mesos__query_get(const char *query, const char *name, size_t max, char **out,
                              mesos_error **err);

#endif

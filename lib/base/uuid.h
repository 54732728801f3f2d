/* Random (version 4) UUIDs: Mesos uses them for framework ids, stream ids,
 * offer ids and status update uuids. */
#ifndef MESOS_BASE_UUID_H
#define MESOS_BASE_UUID_H

#include <stdint.h>

#include "mesos/common.h"

#define MESOS__UUID_STR_LEN 36

/* 16 random bytes with the version-4 and variant bits set.  Uses getrandom(2);
 * MESOS_EIO only if the kernel cannot supply randomness. */
mesos_status mesos__uuid_random(uint8_t out[16]);
/* Canonical text form "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" + NUL. */
void mesos__uuid_format(const uint8_t uuid[16], char out[MESOS__UUID_STR_LEN + 1]);
mesos_status mesos__uuid_random_str(char out[MESOS__UUID_STR_LEN + 1]);

#endif

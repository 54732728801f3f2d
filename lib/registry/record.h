/* Checksummed record framing, shared by the registry log (log.h), its
 * snapshots and the agent's checkpoint files (checkpoint.h).
 *
 * On disk a record is a 16-byte header followed by the payload:
 *
 *   offset  size  field
 *   0       4     magic 0x93 'M' 'R' 'C'
 *   4       1     format version (MESOS__RECORD_VERSION)
 *   5       1     kind (mesos__record_kind): what the payload is
 *   6       2     reserved, zero
 *   8       4     payload length, little-endian
 *   12      4     CRC-32C of bytes 4..11 and the payload, little-endian
 *
 * The checksum covers the length and kind too, so a flipped bit anywhere in
 * a record is detected.  Files of records are only ever appended to, one
 * record per pwritev(2) followed by fdatasync(2) before the next record is
 * written; hence after a crash only the LAST record can be incomplete (a
 * torn tail).  Damage followed by a valid record is therefore not a crash
 * artefact but corruption, and readers refuse it rather than guess. */
#ifndef MESOS_REGISTRY_RECORD_H
#define MESOS_REGISTRY_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "mesos/error.h"

#define MESOS__RECORD_HEADER_SIZE 16
#define MESOS__RECORD_VERSION 1

/* Default largest payload: 64 MiB, the codec's largest message
 * (MESOS__PB_MAX_SIZE), which holds the registry snapshot of a cluster of
 * tens of thousands of agents.  The hard ceiling is what the 32-bit length
 * field holds. */
#define MESOS__RECORD_MAX_DEFAULT ((size_t)64 << 20)
#define MESOS__RECORD_MAX_LIMIT ((size_t)UINT32_MAX)

typedef enum mesos__record_kind {
  MESOS__RECORD_LOG = 1,        /* an entry of a registry log segment */
  MESOS__RECORD_SNAPSHOT = 2,   /* the one record of a snapshot file */
  MESOS__RECORD_CHECKPOINT = 3, /* the one record of an agent checkpoint file */
  MESOS__RECORD_UPDATE = 4      /* an entry of a task's status update stream */
} mesos__record_kind;

/* Writes one record at offset *end of `fd` (header and payload in one
 * writev), then fdatasync(2)s it when `sync`, and advances *end.  `len` over
 * `max` (0 = default, clamped to MESOS__RECORD_MAX_LIMIT) is MESOS_ELIMIT
 * and writes nothing.
 *
 * On an I/O failure (MESOS_EIO) the file is truncated back to *end so that
 * a later append does not follow a partial record.  When that is impossible,
 * or when fdatasync itself failed (after which Linux may have dropped the
 * dirty pages: retrying could report success for lost data), *poisoned is
 * set: the caller must stop appending to this file and recover by reopening
 * it.  `what` names the file in errors. */
mesos_status mesos__record_append(int fd, uint64_t *end, mesos__record_kind kind,
                                  const void *data, size_t len, size_t max, bool sync,
                                  bool *poisoned, const char *what, mesos_error **err);

/* Called for each valid record, in file order.  `data` is borrowed until
 * the callback returns.  A non-OK return stops the scan and is returned. */
typedef mesos_status (*mesos__record_cb)(const uint8_t *data, size_t len, uint64_t offset,
                                         void *ud);

/* Reads every record of `fd` from offset 0 and checks that each has kind
 * `kind`.  Never modifies the file.  On success *valid_end is the end of
 * the last valid record and *torn the number of bytes after it (a torn
 * tail, left for the caller to truncate or ignore).
 *
 * Errors (the message names `what` and the byte offset):
 *   MESOS_EPROTO  a damaged record followed by a valid one, or a valid
 *                 record of another kind
 *   MESOS_EVERSION  a valid record of a format version this build does not
 *                 know
 *   MESOS_ELIMIT  a complete record longer than `max` (0 = default)
 *   MESOS_EIO, MESOS_ENOMEM, or the callback's status. */
mesos_status mesos__record_scan(int fd, mesos__record_kind kind, size_t max,
                                mesos__record_cb cb, void *ud, uint64_t *valid_end,
                                uint64_t *torn, const char *what, mesos_error **err);

#endif

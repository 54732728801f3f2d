/* CRC-32C (Castagnoli), the checksum of every record the registry log and
 * the agent's checkpoints write.  Castagnoli rather than the zlib CRC-32
 * because it detects more error patterns at the record sizes we write and
 * is the checksum ext4, btrfs and iSCSI use for the same job. */
#ifndef MESOS_REGISTRY_CRC32C_H
#define MESOS_REGISTRY_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends `crc` (0 to start) over `len` bytes of `data`; chaining calls
 * over consecutive pieces gives the CRC of their concatenation.
 * Thread-safe. */
uint32_t mesos__crc32c(uint32_t crc, const void *data, size_t len);

#endif

#include "registry/crc32c.h"

#include <pthread.h>

/* Reflected form of the Castagnoli polynomial 0x1EDC6F41. */
#define CRC32C_POLY 0x82F63B78u

/* One byte at a time through a 256-entry table: registry records are small
 * and rare, so a 1 KiB table built once beats both hardware dispatch code
 * and a slice-by-8 table in simplicity at no cost that matters. */
static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
    table[i] = c;
  }
}

uint32_t mesos__crc32c(uint32_t crc, const void *data, size_t len) {
  pthread_once(&table_once, build_table);
  const uint8_t *p = data;
  crc = ~crc;
  while (len-- > 0) crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

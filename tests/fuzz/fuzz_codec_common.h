/* Shared by the codec fuzz targets: the input names its message type on
 * its first line ("mesos.v1.scheduler.Call\n..."), so corpus files stay
 * valid when the generated descriptor table changes order; an input
 * without a known name picks a type by its first byte, so the fuzzer
 * reaches every type either way. */
#ifndef MESOS_FUZZ_CODEC_COMMON_H
#define MESOS_FUZZ_CODEC_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/registry.h"

static inline const ProtobufCMessageDescriptor *fuzz_pick_type(const uint8_t **data, size_t *size) {
  const uint8_t *nl = memchr(*data, '\n', *size < 128 ? *size : 128);
  if (nl != NULL) {
    char name[128];
    size_t n = (size_t)(nl - *data);
    memcpy(name, *data, n);
    name[n] = '\0';
    const ProtobufCMessageDescriptor *d = mesos__codec_find_message(name);
    if (d != NULL) {
      *size -= n + 1;
      *data = nl + 1;
      return d;
    }
  }
  size_t count;
  const ProtobufCMessageDescriptor *const *all = mesos__codec_messages(&count);
  if (*size == 0 || count == 0) return NULL;
  const ProtobufCMessageDescriptor *d = all[(*data)[0] % count];
  (*data)++;
  (*size)--;
  return d;
}

#define FUZZ_CHECK(cond, ...)                  \
  do {                                         \
    if (!(cond)) {                             \
      fprintf(stderr, "fuzz check failed: " __VA_ARGS__); \
      fputc('\n', stderr);                     \
      abort();                                 \
    }                                          \
  } while (0)

#endif

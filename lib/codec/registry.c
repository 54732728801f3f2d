#include "codec/registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proto_registry.h"

/* Lookups by name come from the public API once per call; a sorted index
 * (built once, then read-only) makes them a binary search instead of a
 * scan over several hundred names. */
static const ProtobufCMessageDescriptor *sorted[MESOS__PROTO_REGISTRY_N_MESSAGES];
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int cmp_desc(const void *a, const void *b) {
  return strcmp((*(const ProtobufCMessageDescriptor *const *)a)->name,
                (*(const ProtobufCMessageDescriptor *const *)b)->name);
}

static void sort_index(void) {
  memcpy(sorted, mesos__proto_registry_messages, sizeof sorted);
  qsort(sorted, MESOS__PROTO_REGISTRY_N_MESSAGES, sizeof sorted[0], cmp_desc);
}

const ProtobufCMessageDescriptor *mesos__codec_find_message(const char *name) {
  if (name == NULL) return NULL;
  if (name[0] == '.') name++;
  pthread_once(&sorted_once, sort_index);
  size_t lo = 0, hi = MESOS__PROTO_REGISTRY_N_MESSAGES;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(sorted[mid]->name, name);
    if (c == 0) return sorted[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const ProtobufCMessageDescriptor *const *mesos__codec_messages(size_t *n) {
  *n = MESOS__PROTO_REGISTRY_N_MESSAGES;
  return mesos__proto_registry_messages;
}

#include "codec/registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codec/pb.h"
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

/* ------------------------------------------------------------ static depth */

#define N_MSG MESOS__PROTO_REGISTRY_N_MESSAGES
#define DEPTH_INF (MESOS__PB_MAX_DEPTH + 1)
#define IN_PROGRESS 0xff

/* Descriptors sorted by address, and their static depths. */
static const ProtobufCMessageDescriptor *by_addr[N_MSG];
static unsigned char depth_of[N_MSG];
static pthread_once_t depth_once = PTHREAD_ONCE_INIT;

static int cmp_addr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (const ProtobufCMessageDescriptor *const *)a;
  uintptr_t y = (uintptr_t) * (const ProtobufCMessageDescriptor *const *)b;
  return x < y ? -1 : x > y;
}

static long addr_index(const ProtobufCMessageDescriptor *d) {
  size_t lo = 0, hi = N_MSG;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (by_addr[mid] == d) return (long)mid;
    if ((uintptr_t)by_addr[mid] < (uintptr_t)d)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

/* Depth-first over the type graph.  A type met again while in progress is
 * on a cycle: unbounded.  The walk never goes deeper than DEPTH_INF types,
 * since anything that deep is "too deep" whatever lies below. */
static unsigned compute_depth(long i, unsigned path) {
  if (depth_of[i] == IN_PROGRESS) return DEPTH_INF;
  if (depth_of[i] != 0) return depth_of[i];
  if (path > DEPTH_INF) return DEPTH_INF; /* not memoised: cut by the path */
  depth_of[i] = IN_PROGRESS;
  const ProtobufCMessageDescriptor *d = by_addr[i];
  unsigned best = 1;
  for (unsigned f = 0; f < d->n_fields && best < DEPTH_INF; f++) {
    if (d->fields[f].type != PROTOBUF_C_TYPE_MESSAGE) continue;
    long j = addr_index(d->fields[f].descriptor);
    unsigned sub = j < 0 ? DEPTH_INF : compute_depth(j, path + 1);
    if (sub + 1 > best) best = sub + 1 > DEPTH_INF ? DEPTH_INF : sub + 1;
  }
  depth_of[i] = (unsigned char)best;
  return best;
}

static void compute_depths(void) {
  memcpy(by_addr, mesos__proto_registry_messages, sizeof by_addr);
  qsort(by_addr, N_MSG, sizeof by_addr[0], cmp_addr);
  for (long i = 0; i < (long)N_MSG; i++) {
    /* A cut walk may leave an entry unset or in progress: recompute it
     * from its own root, where the path starts afresh. */
    if (depth_of[i] == 0 || depth_of[i] == IN_PROGRESS) {
      depth_of[i] = 0;
      compute_depth(i, 1);
    }
  }
  for (long i = 0; i < (long)N_MSG; i++)
    if (depth_of[i] == IN_PROGRESS || depth_of[i] == 0) depth_of[i] = DEPTH_INF;
}

unsigned mesos__codec_static_depth(const ProtobufCMessageDescriptor *d) {
  pthread_once(&depth_once, compute_depths);
  long i = addr_index(d);
  return i < 0 ? DEPTH_INF : depth_of[i];
}

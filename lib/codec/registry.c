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

/* Descriptors sorted by address, and their static depths (0: not computed
 * yet).
 *
 * Why computed lazily, per type asked for and what it reaches, and not
 * for the whole registry at once: every process that decodes one message
 * paid for a walk over all ~500 descriptors (their field tables spread
 * over the whole read-only data of the library), ~0.3 ms of CPU and a
 * dozen page faults on the 2-core VM.  That was a noticeable part of
 * mesos-executor's start-up, which runs once per command task; it decodes
 * only executor events. */
static const ProtobufCMessageDescriptor *by_addr[N_MSG];
static unsigned char depth_of[N_MSG];
static pthread_once_t by_addr_once = PTHREAD_ONCE_INIT;
/* Held while computing: the walk marks types in progress, so two walks
 * must not interleave.  Readers of finished values do not take it. */
static pthread_mutex_t depth_mu = PTHREAD_MUTEX_INITIALIZER;

static int cmp_addr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (const ProtobufCMessageDescriptor *const *)a;
  uintptr_t y = (uintptr_t) * (const ProtobufCMessageDescriptor *const *)b;
  return x < y ? -1 : x > y;
}

static void sort_by_addr(void) {
  memcpy(by_addr, mesos__proto_registry_messages, sizeof by_addr);
  qsort(by_addr, N_MSG, sizeof by_addr[0], cmp_addr);
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

static unsigned char depth_get(long i) { return __atomic_load_n(&depth_of[i], __ATOMIC_ACQUIRE); }

static void depth_set(long i, unsigned char v) {
  __atomic_store_n(&depth_of[i], v, __ATOMIC_RELEASE);
}

/* Depth-first over the type graph (depth_mu held).  A type met again while
 * in progress is on a cycle: unbounded.  The walk never goes deeper than
 * DEPTH_INF types, since anything that deep is "too deep" whatever lies
 * below.  Every type the walk enters has its final value when it returns:
 * one that reached a type in progress reaches a cycle, so it is unbounded
 * too. */
static unsigned compute_depth(long i, unsigned path) {
  unsigned char cur = depth_get(i);
  if (cur == IN_PROGRESS) return DEPTH_INF;
  if (cur != 0) return cur;
  if (path > DEPTH_INF) return DEPTH_INF; /* not memoised: cut by the path */
  depth_set(i, IN_PROGRESS);
  const ProtobufCMessageDescriptor *d = by_addr[i];
  unsigned best = 1;
  for (unsigned f = 0; f < d->n_fields && best < DEPTH_INF; f++) {
    if (d->fields[f].type != PROTOBUF_C_TYPE_MESSAGE) continue;
    long j = addr_index(d->fields[f].descriptor);
    unsigned sub = j < 0 ? DEPTH_INF : compute_depth(j, path + 1);
    if (sub + 1 > best) best = sub + 1 > DEPTH_INF ? DEPTH_INF : sub + 1;
  }
  depth_set(i, (unsigned char)best);
  return best;
}

unsigned mesos__codec_static_depth(const ProtobufCMessageDescriptor *d) {
  pthread_once(&by_addr_once, sort_by_addr);
  long i = addr_index(d);
  if (i < 0) return DEPTH_INF;
  unsigned char v = depth_get(i);
  if (v != 0 && v != IN_PROGRESS) return v;
  pthread_mutex_lock(&depth_mu);
  if (depth_get(i) == 0) compute_depth(i, 1);
  v = depth_get(i);
  pthread_mutex_unlock(&depth_mu);
  return v == 0 || v == IN_PROGRESS ? DEPTH_INF : v;
}

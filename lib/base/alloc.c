#include "base/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mesos/memory.h"

static void *libc_malloc(size_t n, void *ud) { (void)ud; return malloc(n); }
static void *libc_realloc(void *p, size_t n, void *ud) { (void)ud; return realloc(p, n); }
static void libc_free(void *p, void *ud) { (void)ud; free(p); }

static mesos_mem_functions mem = {
  MESOS_MEM_FUNCTIONS_VERSION, libc_malloc, libc_realloc, libc_free, NULL
};

/* Live allocations, so replacing the allocator while memory from the old
 * one is outstanding can be refused instead of corrupting the heap. */
static atomic_int_fast64_t live;

/* OOM torture: 0 = off; otherwise the countdown to the first failure.
 * Counting allocations costs an atomic read-modify-write per call, so it is
 * switched on only once a test has asked for torture (`counting`); a
 * program that never calls mesos__alloc_fail_after() pays one relaxed load. */
static atomic_uint_fast64_t fail_countdown;
static atomic_uint_fast64_t alloc_count;
static atomic_int counting;

static bool should_fail(void) {
  if (!atomic_load_explicit(&counting, memory_order_relaxed)) return false;
  atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
  uint_fast64_t c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
  if (c == 0) return false;
  if (c == 1) return true; /* stays failing until reset */
  atomic_fetch_sub_explicit(&fail_countdown, 1, memory_order_relaxed);
  return false;
}

uint64_t mesos__alloc_fail_after(uint64_t n) {
  atomic_store(&counting, 1);
  atomic_store(&fail_countdown, n);
  return atomic_exchange(&alloc_count, 0);
}

int64_t mesos__alloc_live(void) { return atomic_load(&live); }

void *mesos__malloc(size_t n) {
  if (should_fail()) return NULL;
  void *p = mem.malloc_fn(n ? n : 1, mem.ud);
  if (p) atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
  return p;
}

void *mesos__calloc(size_t count, size_t size) {
  size_t total;
  if (!mesos__size_mul(&total, count, size)) return NULL;
  void *p = mesos__malloc(total);
  if (p) memset(p, 0, total);
  return p;
}

void *mesos__realloc(void *p, size_t n) {
  if (p == NULL) return mesos__malloc(n);
  if (should_fail()) return NULL;
  return mem.realloc_fn(p, n ? n : 1, mem.ud);
}

void mesos__free(void *p) {
  if (p == NULL) return;
  atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
  mem.free_fn(p, mem.ud);
}

char *mesos__strndup(const char *s, size_t n) {
  char *d = mesos__malloc(n + 1);
  if (d == NULL) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *mesos__strdup(const char *s) { return mesos__strndup(s, strlen(s)); }

void *mesos__memdup(const void *p, size_t n) {
  void *d = mesos__malloc(n);
  if (d && n) memcpy(d, p, n);
  return d;
}

MESOS_EXTERN(mesos_status) mesos_mem_set_functions(const mesos_mem_functions *fns) {
  if (fns != NULL) {
    if (fns->version != MESOS_MEM_FUNCTIONS_VERSION) return MESOS_EVERSION;
    if (!fns->malloc_fn || !fns->realloc_fn || !fns->free_fn) return MESOS_EINVAL;
  }
  if (atomic_load(&live) != 0) return MESOS_EBUSY;
  if (fns) {
    mem = *fns;
  } else {
    mem.malloc_fn = libc_malloc;
    mem.realloc_fn = libc_realloc;
    mem.free_fn = libc_free;
    mem.ud = NULL;
  }
  return MESOS_OK;
}

MESOS_EXTERN(void) mesos_free(void *ptr) { mesos__free(ptr); }

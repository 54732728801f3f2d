/* Internal allocation wrappers: every allocation in the library goes through
 * these so a host can swap the allocator (mesos_mem_set_functions) and tests
 * can fail the Nth allocation (OOM torture). */
#ifndef MESOS_BASE_ALLOC_H
#define MESOS_BASE_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

void *mesos__malloc(size_t n);
void *mesos__calloc(size_t count, size_t size);
void *mesos__realloc(void *p, size_t n);
void mesos__free(void *p);
char *mesos__strdup(const char *s);
char *mesos__strndup(const char *s, size_t n);
void *mesos__memdup(const void *p, size_t n);

/* Overflow-checked size arithmetic: false when the result does not fit. */
static inline bool mesos__size_add(size_t *out, size_t a, size_t b) {
  return !__builtin_add_overflow(a, b, out);
}
static inline bool mesos__size_mul(size_t *out, size_t a, size_t b) {
  return !__builtin_mul_overflow(a, b, out);
}

/* Test hook: the allocation numbered `n` from now (1 = the next) and every
 * later one fail until reset with 0.  Returns how many allocations were made
 * since the last call, so a torture loop knows when it has covered them all. */
uint64_t mesos__alloc_fail_after(uint64_t n);

/* Number of live allocations made through the wrappers. */
int64_t mesos__alloc_live(void);

#define MESOS__NEW(type) ((type *)mesos__calloc(1, sizeof(type)))

#endif

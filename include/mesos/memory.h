/*
 * mesos/memory.h - replacing the library's allocator.
 *
 * Every allocation the library's own code makes goes through these
 * functions.  The event loop inside (libuv) keeps the C library's allocator,
 * because a host that uses libuv itself owns that process-wide setting.
 * Replace them once, before any other call into the library, e.g. to account
 * memory in a host program.
 *
 * Thread safety: call before any other library function, from one thread.
 *
 * Since 1.0.
 */
#ifndef MESOS_MEMORY_H
#define MESOS_MEMORY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MESOS_MEM_FUNCTIONS_VERSION 1

typedef struct mesos_mem_functions {
  uint32_t version;  /* MESOS_MEM_FUNCTIONS_VERSION */
  /* REQUIRED, all three.  Same contracts as malloc/realloc/free; `ud` is
   * the field below.  realloc(NULL, n) must allocate; free(NULL) must be a
   * no-op. */
  void *(*malloc_fn)(size_t size, void *ud);
  void *(*realloc_fn)(void *ptr, size_t size, void *ud);
  void (*free_fn)(void *ptr, void *ud);
  void *ud;
} mesos_mem_functions;

/*
 * Installs `fns` (copied).  NULL restores the C library's allocator.
 * MESOS_EVERSION if fns->version is unknown, MESOS_EINVAL if a function is
 * missing, MESOS_EBUSY if the library has already allocated memory with the
 * current functions that it has not freed yet.
 */
MESOS_EXTERN(mesos_status) mesos_mem_set_functions(const mesos_mem_functions *fns);

/* Frees memory the library returned to the caller as a plain buffer
 * (documented as "free with mesos_free").  NULL is accepted. */
MESOS_EXTERN(void) mesos_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_MEMORY_H */

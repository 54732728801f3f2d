/*
 * The master's slab for its small, numerous records (issue 4:
 * master-reregister-10k): task records and task bodies, 100,000 of each
 * when 10,000 agents re-register.
 *
 * On a virtual machine the first touch of each new 4 KiB page costs a trap
 * of several microseconds, and re-registering 100,000 tasks touches tens of
 * thousands of new pages; that was a third of the master's time.  The slab
 * takes its memory in 2 MiB-aligned regions (from mesos__malloc, so a
 * host's allocator still provides it) and asks the kernel, for those
 * regions only, to back them with huge pages (MADV_HUGEPAGE) and to fault
 * them in at once (MADV_POPULATE_WRITE): one fault per region instead of
 * one per page.  Nothing process-wide changes: memory the master does not
 * own is left alone.
 *
 * Pieces come in size classes of 16 bytes up to 256 bytes (larger requests
 * go to mesos__malloc), are zeroed, and go back to their class's free list
 * for reuse; regions are returned when the slab is freed (master shutdown,
 * after every piece).  Loop only (not thread-safe).  Built with
 * AddressSanitizer every piece is its own mesos__malloc block, so the
 * sanitizer still sees each record.
 */
#ifndef MESOS_MASTER_SLAB_H
#define MESOS_MASTER_SLAB_H

#include <stddef.h>

typedef struct mesos__slab mesos__slab;

/* A new, empty slab; NULL when out of memory. */
mesos__slab *mesos__slab_new(void);
/* Frees the slab and its regions (every piece must have been freed). */
void mesos__slab_destroy(mesos__slab *s);
/* `n` zeroed bytes (8-byte aligned), or NULL when out of memory. */
void *mesos__slab_alloc(mesos__slab *s, size_t n);
/* Gives back a piece from mesos__slab_alloc(s, n) (the same `n`). */
void mesos__slab_free(mesos__slab *s, void *p, size_t n);

#endif

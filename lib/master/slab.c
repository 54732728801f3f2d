/* The master's slab (slab.h). */
#include "master/slab.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "base/alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_PASSTHROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_PASSTHROUGH 1
#endif
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels refuse it (ignored) */
#endif

#define SLAB_STEP 16
#define SLAB_CLASSES 16 /* pieces of 16, 32, ... 256 bytes */
#define SLAB_MAX (SLAB_STEP * SLAB_CLASSES)
#define REGION ((size_t)2 << 20)

typedef struct free_piece {
  struct free_piece *next;
} free_piece;

struct mesos__slab {
  free_piece *free[SLAB_CLASSES];
  char *cur, *end;   /* unused space of the newest region */
  char *rcur, *rend; /* regions of the newest block not used yet */
  void **raw;        /* every region's mesos__malloc block */
  size_t nraw, capraw;
};

mesos__slab *mesos__slab_new(void) { return MESOS__NEW(mesos__slab); }

void mesos__slab_destroy(mesos__slab *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->nraw; i++) mesos__free(s->raw[i]);
  mesos__free(s->raw);
  mesos__free(s);
}

#ifdef SLAB_PASSTHROUGH

void *mesos__slab_alloc(mesos__slab *s, size_t n) {
  (void)s;
  return mesos__calloc(1, n ? n : 1);
}

void mesos__slab_free(mesos__slab *s, void *p, size_t n) {
  (void)s;
  (void)n;
  mesos__free(p);
}

#else

/* The next region: 2 MiB, aligned, from the current block, or a new block
 * of `k` regions plus the slack that aligning needs (address space only,
 * never touched).  Blocks double up to 8 regions, so the slack is a small
 * share of a big slab and a small slab holds one region. */
static bool new_region(mesos__slab *s) {
  if (s->rcur == s->rend) {
    if (s->nraw == s->capraw) {
      size_t cap = s->capraw ? s->capraw * 2 : 8;
      void **v = mesos__realloc(s->raw, cap * sizeof *v);
      if (v == NULL) return false;
      s->raw = v;
      s->capraw = cap;
    }
    size_t k = s->nraw >= 3 ? 8 : (size_t)1 << s->nraw;
    char *raw = mesos__malloc((k + 1) * REGION);
    if (raw == NULL) return false;
    s->raw[s->nraw++] = raw;
    s->rcur = (char *)(((uintptr_t)raw + REGION - 1) & ~(uintptr_t)(REGION - 1));
    s->rend = s->rcur + k * REGION;
  }
  char *r = s->rcur;
  s->rcur += REGION;
  /* Advice only: without huge pages or populate the region still works,
   * page by page. */
  (void)madvise(r, REGION, MADV_HUGEPAGE);
  (void)madvise(r, REGION, MADV_POPULATE_WRITE);
  /* Pieces are handed out zeroed; the block may be reused heap memory. */
  memset(r, 0, REGION);
  s->cur = r;
  s->end = r + REGION;
  return true;
}

void *mesos__slab_alloc(mesos__slab *s, size_t n) {
  if (n > SLAB_MAX) return mesos__calloc(1, n);
  size_t c = n ? (n - 1) / SLAB_STEP : 0, size = (c + 1) * SLAB_STEP;
  free_piece *f = s->free[c];
  if (f) {
    s->free[c] = f->next;
    memset(f, 0, size);
    return f;
  }
  if ((size_t)(s->end - s->cur) < size) {
    /* The rest of the old region feeds the free lists (largest first). */
    while ((size_t)(s->end - s->cur) >= SLAB_STEP) {
      size_t left = (size_t)(s->end - s->cur);
      size_t k = (left > SLAB_MAX ? SLAB_MAX : left) / SLAB_STEP - 1;
      free_piece *p = (free_piece *)(void *)s->cur;
      p->next = s->free[k];
      s->free[k] = p;
      s->cur += (k + 1) * SLAB_STEP;
    }
    if (!new_region(s)) return NULL;
  }
  void *p = s->cur; /* fresh memory is zero */
  s->cur += size;
  return p;
}

void mesos__slab_free(mesos__slab *s, void *p, size_t n) {
  if (p == NULL) return;
  if (n > SLAB_MAX) {
    mesos__free(p);
    return;
  }
  size_t c = n ? (n - 1) / SLAB_STEP : 0;
  free_piece *f = p;
  f->next = s->free[c];
  s->free[c] = f;
}

#endif

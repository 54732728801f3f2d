/*
 * Refuse filters: "do not offer me these resources of that agent again for
 * N seconds" (a declined offer's Filters.refuse_seconds).  A filter holds a
 * copy of what was declined and applies while the agent's offerable
 * resources fit inside it, as in Mesos: once a task ends there and the
 * agent has more to offer, the framework sees it again.
 *
 * The cycle asks "is (framework, agent) filtered?" for nearly every
 * candidate, so the answer starts with one bit: each agent keeps a bitmap
 * over framework indices of who has any filter there.  Only a set bit
 * costs a walk of the agent's (short) filter list.  Timed filters sit in a
 * binary heap by expiry, so expiring them costs nothing per cycle until one
 * is due; unbounded filters live until revive or removal.
 */
#include <string.h>

#include "allocator/bag.h"
#include "allocator/hierarchical_int.h"
#include "base/alloc.h"

static void heap_swap(h_alloc *h, size_t a, size_t b) {
  h_filter *t = h->heap[a];
  h->heap[a] = h->heap[b];
  h->heap[b] = t;
  h->heap[a]->heap = a;
  h->heap[b]->heap = b;
}

static void heap_up(h_alloc *h, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (h->heap[p]->expires_ns <= h->heap[i]->expires_ns) break;
    heap_swap(h, p, i);
    i = p;
  }
}

static void heap_down(h_alloc *h, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->nheap && h->heap[l]->expires_ns < h->heap[m]->expires_ns) m = l;
    if (r < h->nheap && h->heap[r]->expires_ns < h->heap[m]->expires_ns) m = r;
    if (m == i) break;
    heap_swap(h, i, m);
    i = m;
  }
}

static void heap_remove(h_alloc *h, h_filter *f) {
  size_t i = f->heap;
  if (i == SIZE_MAX) return;
  h->nheap--;
  if (i != h->nheap) {
    h->heap[i] = h->heap[h->nheap];
    h->heap[i]->heap = i;
    heap_down(h, i);
    heap_up(h, i);
  }
  f->heap = SIZE_MAX;
}

static mesos_status fbit_set(h_agent *ag, uint32_t idx) {
  uint32_t w = idx / 64;
  if (w >= ag->nfwords) {
    uint32_t n = w + 1 + w / 2;
    uint64_t *b = mesos__realloc(ag->fbits, (size_t)n * sizeof *b);
    if (b == NULL) return MESOS_ENOMEM;
    memset(b + ag->nfwords, 0, (size_t)(n - ag->nfwords) * sizeof *b);
    ag->fbits = b;
    ag->nfwords = n;
  }
  ag->fbits[w] |= (uint64_t)1 << (idx % 64);
  return MESOS_OK;
}

mesos_status mesos__hfilter_add(h_alloc *h, h_framework *fw, h_agent *ag,
                                mesos__resources *refused, uint64_t expires_ns,
                                uint64_t covers_gen) {
  if (expires_ns != UINT64_MAX && h->nheap == h->capheap) {
    size_t cap = h->capheap ? h->capheap * 2 : 64;
    h_filter **v = mesos__realloc(h->heap, cap * sizeof *v);
    if (v == NULL) return MESOS_ENOMEM;
    h->heap = v;
    h->capheap = cap;
  }
  h_filter *f = MESOS__NEW(h_filter);
  if (f == NULL) return MESOS_ENOMEM;
  if (fbit_set(ag, fw->idx) != MESOS_OK) {
    mesos__free(f);
    return MESOS_ENOMEM;
  }
  /* Taken over, not copied: the caller made the copy already. */
  f->refused = *refused;
  mesos__resources_init(refused);
  f->fw = fw;
  f->ag = ag;
  f->expires_ns = expires_ns;
  f->covers_gen = covers_gen;
  f->heap = SIZE_MAX;
  f->fnext = fw->filters;
  if (fw->filters) fw->filters->fprev = f;
  fw->filters = f;
  f->anext = ag->filters;
  if (ag->filters) ag->filters->aprev = f;
  ag->filters = f;
  if (expires_ns != UINT64_MAX) {
    f->heap = h->nheap;
    h->heap[h->nheap++] = f;
    heap_up(h, f->heap);
  }
  h->nfilters++;
  return MESOS_OK;
}

void mesos__hfilter_free(h_alloc *h, h_filter *f) {
  h_framework *fw = f->fw;
  h_agent *ag = f->ag;
  heap_remove(h, f);
  if (f->fprev) f->fprev->fnext = f->fnext;
  else fw->filters = f->fnext;
  if (f->fnext) f->fnext->fprev = f->fprev;
  if (f->aprev) f->aprev->anext = f->anext;
  else ag->filters = f->anext;
  if (f->anext) f->anext->aprev = f->aprev;
  bool more = false;
  for (h_filter *g = ag->filters; g && !more; g = g->anext) more = g->fw == fw;
  if (!more && fw->idx / 64 < ag->nfwords)
    ag->fbits[fw->idx / 64] &= ~((uint64_t)1 << (fw->idx % 64));
  mesos__resources_free(&f->refused);
  mesos__free(f);
  h->nfilters--;
  /* What the filter held back may be offered again. */
  mesos__hagent_mark_dirty(h, ag);
}

void mesos__hfilter_expire(h_alloc *h, uint64_t now) {
  while (h->nheap > 0 && h->heap[0]->expires_ns <= now) mesos__hfilter_free(h, h->heap[0]);
}

bool mesos__hfilter_covers(h_agent *ag, const h_framework *fw,
                           bool (*include)(const mesos__res *x, void *ctx), void *ctx) {
  if (!mesos__hagent_fbit(ag, fw->idx)) return false;
  for (h_filter *f = ag->filters; f; f = f->anext) {
    if (f->fw != fw) continue;
    /* A declined offer comes back as the agent's whole availability, and
     * stays so until something changes there: remember the answer for
     * that state instead of comparing every resource again. */
    if (include == NULL && f->covers_gen == ag->avail_gen) return true;
    bool all = true;
    for (size_t i = 0; i < ag->avail.r.n && all; i++) {
      if (include && !include(&ag->avail.r.v[i], ctx)) continue;
      mesos__resources one = mesos__bag_view(&ag->avail.r, i);
      all = mesos__resources_contains_all(&f->refused, &one);
    }
    if (all) {
      if (include == NULL) f->covers_gen = ag->avail_gen;
      return true;
    }
  }
  return false;
}

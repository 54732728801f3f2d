#include "allocator/sorter.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

/* The role tree is at most this deep (mesos__role depth limit), so the
 * recursive re-sort below is bounded. */
#define SORTER_MAX_DEPTH 64

void mesos__sorter_init(mesos__sorter *s) {
  memset(s, 0, sizeof *s);
  mesos__snode_init(&s->root, MESOS__SNODE_ROOT, "", NULL);
}

void mesos__sorter_fini(mesos__sorter *s) { mesos__snode_fini(&s->root); }

void mesos__snode_init(mesos__snode *n, int kind, const char *name, void *owner) {
  memset(n, 0, sizeof *n);
  n->kind = kind;
  n->name = name;
  n->owner = owner;
  n->weight = 1.0;
}

void mesos__snode_fini(mesos__snode *n) {
  mesos__free(n->kids);
  n->kids = NULL;
  n->nkids = n->capkids = 0;
}

double mesos__sorter_share(const mesos__sorter *s, const mesos__qv *alloc, double weight) {
  double share = 0;
  for (uint32_t i = 0; i < s->nnames; i++) {
    if ((s->excluded >> i) & 1u || s->total.v[i] <= 0) continue;
    double x = (double)alloc->v[i] / (double)s->total.v[i];
    if (x > share) share = x;
  }
  return share / weight;
}

/* Sort order: lower share first; equal shares by fewer allocations made
 * so far, then by name, so the order is total and stable across runs.
 * The allocation count is Mesos's DRF tie-break: without it a framework
 * that declines everything (its share back at zero) is first in line again
 * at every cycle, ahead of every zero-share framework with a later name,
 * and 1,000 frameworks subscribing to a few agents waited tens of seconds
 * for a first offer while the first ones were offered every agent in turn
 * (bench_master: master-subscribe-1k). */
static int node_cmp(const mesos__snode *a, const mesos__snode *b) {
  if (a->share < b->share) return -1;
  if (a->share > b->share) return 1;
  if (a->count != b->count) return a->count < b->count ? -1 : 1;
  return strcmp(a->name, b->name);
}

/* Where `n` goes among kids[0..count) (which do not include it). */
static uint32_t find_slot(mesos__snode **kids, uint32_t count, const mesos__snode *n) {
  uint32_t lo = 0, hi = count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (node_cmp(kids[mid], n) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Index of `n` in its parent's list, found by its current sort key. */
static uint32_t index_of(const mesos__snode *n) {
  mesos__snode *const *k = n->parent->kids;
  uint32_t at = find_slot((mesos__snode **)k, n->parent->nkids, n);
  /* Keys are unique (names break ties), so this is n unless the caller
   * changed n's key without re-placing it: fall back to a scan. */
  if (at < n->parent->nkids && k[at] == n) return at;
  for (uint32_t i = 0; i < n->parent->nkids; i++)
    if (k[i] == n) return i;
  return UINT32_MAX;
}

mesos_status mesos__snode_attach(mesos__sorter *s, mesos__snode *parent, mesos__snode *child) {
  if (parent->nkids == parent->capkids) {
    uint32_t cap = parent->capkids ? parent->capkids * 2 : 4;
    if (cap < parent->capkids) return MESOS_ENOMEM;
    mesos__snode **k = mesos__realloc(parent->kids, (size_t)cap * sizeof *k);
    if (k == NULL) return MESOS_ENOMEM;
    parent->kids = k;
    parent->capkids = cap;
  }
  child->share = mesos__sorter_share(s, &child->alloc, child->weight);
  uint32_t at = find_slot(parent->kids, parent->nkids, child);
  memmove(&parent->kids[at + 1], &parent->kids[at],
          (size_t)(parent->nkids - at) * sizeof *parent->kids);
  parent->kids[at] = child;
  parent->nkids++;
  child->parent = parent;
  return MESOS_OK;
}

void mesos__snode_detach(mesos__snode *child) {
  mesos__snode *p = child->parent;
  if (p == NULL) return;
  uint32_t at = index_of(child);
  if (at != UINT32_MAX) {
    memmove(&p->kids[at], &p->kids[at + 1], (size_t)(p->nkids - at - 1) * sizeof *p->kids);
    p->nkids--;
  }
  child->parent = NULL;
}

/* Moves `n`, found at `at`, to its sorted place after its share changed.
 * Only the slots between the old and the new place shift.  Positions are
 * not stored in the nodes: keeping them would cost a write per shifted
 * sibling, where the memmove costs far less. */
static void replace(mesos__snode *n, uint32_t at) {
  mesos__snode *p = n->parent;
  mesos__snode **k = p->kids;
  bool left_ok = at == 0 || node_cmp(k[at - 1], n) < 0;
  bool right_ok = at + 1 == p->nkids || node_cmp(n, k[at + 1]) < 0;
  if (left_ok && right_ok) return;
  if (!right_ok) {
    uint32_t lo = at + 1, hi = p->nkids;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (node_cmp(k[mid], n) < 0) lo = mid + 1;
      else hi = mid;
    }
    uint32_t to = lo - 1;
    memmove(&k[at], &k[at + 1], (size_t)(to - at) * sizeof *k);
    k[to] = n;
  } else {
    uint32_t to = find_slot(k, at, n);
    memmove(&k[to + 1], &k[to], (size_t)(at - to) * sizeof *k);
    k[to] = n;
  }
}

void mesos__sorter_add(mesos__sorter *s, mesos__snode *n, const mesos__qv *q, int sign) {
  for (; n != NULL; n = n->parent) {
    mesos__qv_add(&n->alloc, q, s->nnames, sign);
    if (n->kind == MESOS__SNODE_ROOT) break;
    if (n->parent == NULL) {
      n->share = mesos__sorter_share(s, &n->alloc, n->weight);
      if (sign > 0) n->count++;
      continue;
    }
    uint32_t at = index_of(n); /* by the old key, still in n->share/count */
    n->share = mesos__sorter_share(s, &n->alloc, n->weight);
    if (sign > 0) n->count++;
    if (at != UINT32_MAX) replace(n, at);
  }
}

void mesos__sorter_eligible(mesos__snode *n, int delta) {
  for (; n != NULL; n = n->parent) n->eligible = (uint32_t)((int64_t)n->eligible + delta);
}

void mesos__sorter_set_weight(mesos__sorter *s, mesos__snode *n, double weight) {
  uint32_t at = n->parent ? index_of(n) : UINT32_MAX;
  n->weight = weight;
  n->share = mesos__sorter_share(s, &n->alloc, n->weight);
  if (at != UINT32_MAX) replace(n, at);
}

static int kid_cmp(const void *a, const void *b) {
  return node_cmp(*(mesos__snode *const *)a, *(mesos__snode *const *)b);
}

static void resort(mesos__sorter *s, mesos__snode *n, int depth) {
  if (depth > SORTER_MAX_DEPTH) return;
  for (uint32_t i = 0; i < n->nkids; i++) {
    mesos__snode *k = n->kids[i];
    k->share = mesos__sorter_share(s, &k->alloc, k->weight);
    resort(s, k, depth + 1);
  }
  if (n->nkids > 1) qsort(n->kids, n->nkids, sizeof *n->kids, kid_cmp);
}

void mesos__sorter_resort(mesos__sorter *s) {
  resort(s, &s->root, 0);
  s->stale = false;
}

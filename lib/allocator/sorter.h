/*
 * The DRF sorter of the built-in allocator: one tree holding roles (from
 * their '/'-separated names) and, under each role, the frameworks
 * subscribed to it.
 *
 * Every node keeps the scalar resources allocated in its subtree (in
 * thousandths, one slot per interned resource name) and its dominant share:
 * the largest fraction of the cluster total it holds over the names that
 * count for fairness, divided by its weight.  A node's children are kept
 * sorted by (share, allocations made, name) at all times: an allocation moves one leaf and
 * its ancestors a few places each (binary search + memmove), which is what
 * makes a cycle over 10,000 agents cheap; Mesos re-sorts a dirty sorter
 * on every agent instead.
 *
 * A role node R has a first child SELF standing for the resources
 * allocated to R itself (not to its sub-roles); the frameworks subscribed
 * to R are SELF's children.  So "eng" with frameworks and sub-roles
 * "eng/web" and "eng/db" compares its own frameworks, as one group, with
 * each sub-role, as Mesos's hierarchical sorter does with its "eng/." leaf.
 */
#ifndef MESOS_ALLOCATOR_SORTER_H
#define MESOS_ALLOCATOR_SORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesos/common.h"

/* Distinct scalar resource names the allocator accounts: cpus, mem, disk,
 * gpus and a few custom ones in practice.  A fixed bound keeps every
 * quantity vector a flat array with no allocation in the hot path. */
#define MESOS__ALLOC_MAX_NAMES 32

typedef struct mesos__qv {
  int64_t v[MESOS__ALLOC_MAX_NAMES];
} mesos__qv;

enum { MESOS__SNODE_ROOT, MESOS__SNODE_ROLE, MESOS__SNODE_SELF, MESOS__SNODE_LEAF };

typedef struct mesos__snode mesos__snode;
struct mesos__snode {
  mesos__snode *parent;
  mesos__snode **kids; /* sorted by (share, count, name) */
  uint32_t nkids, capkids;
  int kind;
  const char *name;    /* borrowed from the owner: tie-break */
  double weight;
  double share;
  uint64_t count;      /* allocations made to the subtree: tie-break */
  uint32_t eligible;   /* leaves below that may receive offers now */
  void *owner;         /* the role (ROLE, SELF) or framework role (LEAF) */
  mesos__qv alloc;
};

typedef struct mesos__sorter {
  mesos__snode root;
  mesos__qv total;         /* cluster total per name */
  uint32_t nnames;         /* names in use (slots [0, nnames)) */
  uint64_t excluded;       /* bit i: name i does not count for fairness */
  bool stale;              /* total changed: shares need a recompute */
} mesos__sorter;

void mesos__sorter_init(mesos__sorter *s);
/* Frees the root's child array (nodes belong to their owners). */
void mesos__sorter_fini(mesos__sorter *s);

void mesos__snode_init(mesos__snode *n, int kind, const char *name, void *owner);
/* Adds `child` under `parent` at its sorted place.  MESOS_ENOMEM. */
mesos_status mesos__snode_attach(mesos__sorter *s, mesos__snode *parent, mesos__snode *child);
/* Removes `child` from its parent (its alloc and eligible counts must have
 * been taken away first). */
void mesos__snode_detach(mesos__snode *child);
/* Frees the node's child array. */
void mesos__snode_fini(mesos__snode *n);

/* Adds sign * q to `n` and every ancestor, re-placing each among its
 * siblings. */
void mesos__sorter_add(mesos__sorter *s, mesos__snode *n, const mesos__qv *q, int sign);
/* Adds `delta` to the eligible count of `n` and its ancestors. */
void mesos__sorter_eligible(mesos__snode *n, int delta);
/* Changes a node's weight and re-places it. */
void mesos__sorter_set_weight(mesos__sorter *s, mesos__snode *n, double weight);
/* Recomputes every share and re-sorts every child list (after the
 * cluster total changed). */
void mesos__sorter_resort(mesos__sorter *s);

double mesos__sorter_share(const mesos__sorter *s, const mesos__qv *alloc, double weight);

/* a += sign * b over the first `n` slots.  A resource value is at most
 * 1e15 (1e18 thousandths), so a few hostile agents could overflow a sum:
 * it saturates instead (the books are then wrong for that name, but never
 * undefined). */
static inline void mesos__qv_add(mesos__qv *a, const mesos__qv *b, uint32_t n, int sign) {
  for (uint32_t i = 0; i < n; i++) {
    if (sign >= 0) {
      if (__builtin_add_overflow(a->v[i], b->v[i], &a->v[i]))
        a->v[i] = b->v[i] > 0 ? INT64_MAX : INT64_MIN;
    } else if (__builtin_sub_overflow(a->v[i], b->v[i], &a->v[i])) {
      a->v[i] = b->v[i] > 0 ? INT64_MIN : INT64_MAX;
    }
  }
}

#endif

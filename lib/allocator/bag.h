/*
 * Moving resources between bags without copying them.
 *
 * lib/resources copies on every add (each copy re-decodes the resource's
 * identity from protobuf).  The allocator mostly moves resources: an
 * agent's whole availability becomes one offer, a declined offer becomes
 * availability again.  These helpers move the mesos__res entries
 * themselves, so the common path of a cycle costs a few memcmp and no
 * allocation; only merging two ranges or sets of the same identity falls
 * back to lib/resources' copying add.
 */
#ifndef MESOS_ALLOCATOR_BAG_H
#define MESOS_ALLOCATOR_BAG_H

#include "resources/resources.h"

/* Moves entry `i` of `src` into `dst` (merged with an entry of the same
 * identity).  On MESOS_ENOMEM both bags are unchanged. */
mesos_status mesos__bag_take(mesos__resources *dst, mesos__resources *src, size_t i);

/* Moves everything from `src` into `dst`; `src` ends up empty.  An empty
 * `dst` just takes `src`'s array. */
mesos_status mesos__bag_move_all(mesos__resources *dst, mesos__resources *src);

/* Moves `milli` thousandths of scalar entry `i` of `src` into `dst`
 * (all of it when milli >= its value). */
mesos_status mesos__bag_take_scalar(mesos__resources *dst, mesos__resources *src, size_t i,
                                    int64_t milli);

/* A read-only one-entry view of entry `i`, for contains/subtract checks
 * against a single resource.  Never free it. */
static inline mesos__resources mesos__bag_view(const mesos__resources *r, size_t i) {
  mesos__resources v;
  v.v = (mesos__res *)&r->v[i];
  v.n = 1;
  v.cap = 1;
  return v;
}

#endif

/*
 * Resource arithmetic: the model the allocator, the master and the agent
 * share.
 *
 * A mesos__resources is a bag of resources where two resources with the
 * same identity (everything except the value: name, type, reservations,
 * disk info, revocable, shared, allocation role, provider) are merged.
 * Identity is compared through a cached key: the resource packed as
 * protobuf with its value removed.  protobuf-c packs fields in number order,
 * so equal identities give equal bytes, and a merge costs one memcmp.
 *
 * Values are kept in compact forms: scalars as fixed-point thousandths (the
 * precision Mesos guarantees, so 0.1 + 0.2 == 0.3 here as it does there),
 * ranges sorted and coalesced, set items sorted and unique.
 *
 * Shared resources (Resource.shared) are not merged: each copy is kept, as
 * Mesos counts them.
 */
#ifndef MESOS_RESOURCES_H
#define MESOS_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesos/error.h"
#include "mesos/v1/mesos.pb-c.h"

typedef struct mesos__range {
  uint64_t begin, end; /* inclusive */
} mesos__range;

typedef struct mesos__res {
  Mesos__V1__Resource *proto; /* identity: owned copy without scalar/ranges/set */
  uint8_t *key;               /* packed identity */
  size_t key_len;
  Mesos__V1__Value__Type type;
  int64_t milli;              /* SCALAR: value * 1000 */
  mesos__range *ranges;       /* RANGES: sorted, disjoint, non-adjacent */
  size_t nranges;
  char **items;               /* SET: sorted, unique */
  size_t nitems;
} mesos__res;

typedef struct mesos__resources {
  mesos__res *v;
  size_t n, cap;
} mesos__resources;

void mesos__resources_init(mesos__resources *r);
void mesos__resources_free(mesos__resources *r);
mesos_status mesos__resources_copy(mesos__resources *dst, const mesos__resources *src);
/* Makes entries of `r` that have an equal identity in `from` share it
 * (memory only; `r`'s contents do not change).  For long-lived bags built
 * from protos (a task's resources) that can share with the offer's. */
void mesos__resources_share_identities(mesos__resources *r, const mesos__resources *from);
/* mesos__resources_add, taking the identity from an equal entry of `from`
 * when there is one (no encode, decode or allocation for it): for bags
 * built by the hundred thousand from protos whose identities some
 * long-lived bag already holds (tasks re-registered on an agent). */
mesos_status mesos__resources_add_sharing(mesos__resources *r, const Mesos__V1__Resource *res,
                                          const mesos__resources *from, mesos_error **err);
/* Room for `n` entries in all (a bag whose size is known up front). */
mesos_status mesos__resources_reserve(mesos__resources *r, size_t n);

/*
 * Checks one resource the way Mesos validates input: a name, a type that
 * matches the value present (exactly one of scalar/ranges/set), scalar finite
 * and non-negative, ranges with begin <= end, no empty set item, a
 * reservation role that is a valid role name.  MESOS_EINVAL names the
 * problem ("resource 'cpus': ...").
 */
mesos_status mesos__resource_validate(const Mesos__V1__Resource *res, mesos_error **err);

/* Whether `role` is a valid role name: "*", or '/'-separated components,
 * none empty, "." or "..", none starting with '-', no whitespace, no '*'
 * or '\\' and nothing unprintable (what the agent's --default_role is
 * checked against, too). */
bool mesos__role_valid(const char *role);

/* Adds `res` (validated first).  A zero/empty value is a no-op. */
mesos_status mesos__resources_add(mesos__resources *r, const Mesos__V1__Resource *res,
                                  mesos_error **err);
mesos_status mesos__resources_add_all(mesos__resources *r, const mesos__resources *other);

/* Subtracts; MESOS_EINVAL (and no change) when `r` does not contain it. */
mesos_status mesos__resources_subtract(mesos__resources *r, const Mesos__V1__Resource *res,
                                       mesos_error **err);
mesos_status mesos__resources_subtract_all(mesos__resources *r, const mesos__resources *other,
                                           mesos_error **err);

bool mesos__resources_contains(const mesos__resources *r, const Mesos__V1__Resource *res);
bool mesos__resources_contains_all(const mesos__resources *r, const mesos__resources *other);
bool mesos__resources_equal(const mesos__resources *a, const mesos__resources *b);
static inline bool mesos__resources_empty(const mesos__resources *r) { return r->n == 0; }

/* Sum of the scalar resources called `name` (any role), in thousandths. */
int64_t mesos__resources_scalar_milli(const mesos__resources *r, const char *name);

/* The reservation role of a resource: the last refined reservation's role,
 * else the legacy Resource.role, else "*" (unreserved). Borrowed. */
const char *mesos__resource_role(const Mesos__V1__Resource *res);

/*
 * Parses the agent's --resources syntax: "name(role):value;..." where value
 * is a scalar ("2", "1.5"), ranges ("[31000-32000, 33000-33100]") or a set
 * ("{a,b}"); role defaults to `default_role` (NULL means "*").  A JSON array
 * of Resource is handled by the caller through the codec.  Entries with the
 * same name and role are added together, as Mesos does.
 */
mesos_status mesos__resources_parse(mesos__resources *r, const char *text,
                                     const char *default_role, mesos_error **err);

/* The resources as a newly allocated array of protobuf messages (each freed
 * with mesos__pb_free, the array with mesos__free). */
mesos_status mesos__resources_to_protos(const mesos__resources *r, Mesos__V1__Resource ***out,
                                        size_t *n, mesos_error **err);

/* Human-readable form in the --resources syntax, e.g.
 * "cpus(*):2; mem(*):1024; ports(*):[31000-32000]". */
mesos_status mesos__resources_format(const mesos__resources *r, char **out);

#endif

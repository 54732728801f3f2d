/*
 * mesos/resources.h - resource arithmetic (cpus, mem, ports, ...).
 *
 * A mesos_resources is a bag of Mesos resources (mesos.v1.Resource): values
 * of the same identity (name, type, reservation, disk, revocable, shared,
 * allocation role) are merged; scalars are exact to three decimals as in
 * Mesos; ranges and sets are normalized.  The allocator vtable
 * (mesos/sys/allocator.h) passes resources as this type.
 *
 * Thread safety: a mesos_resources may be used by one thread at a time;
 * distinct objects are independent.
 *
 * Since 1.0.
 */
#ifndef MESOS_RESOURCES_PUBLIC_H
#define MESOS_RESOURCES_PUBLIC_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mesos_resources mesos_resources;

/* Creates an empty bag.  MESOS_ENOMEM. */
MESOS_EXTERN(mesos_status) mesos_resources_new(mesos_resources **out, mesos_error **err);

/* Frees `r`.  NULL is accepted. */
MESOS_EXTERN(void) mesos_resources_free(mesos_resources *r);

/* A new copy of `r`.  MESOS_ENOMEM. */
MESOS_EXTERN(mesos_status) mesos_resources_clone(mesos_resources **out,
                                                 const mesos_resources *r, mesos_error **err);

/*
 * Adds resources written in the agent's --resources syntax,
 * "name(role):value;..." with scalar ("2.5"), ranges ("[31000-32000]") or
 * set ("{a,b}") values; `default_role` (NULL: "*") applies where no role is
 * given.  All or nothing: on MESOS_EINVAL (the message names the entry) `r`
 * is unchanged.
 */
MESOS_EXTERN(mesos_status) mesos_resources_parse(mesos_resources *r, const char *text,
                                                 const char *default_role, mesos_error **err);

/*
 * Adds one resource given as the protobuf encoding of mesos.v1.Resource.
 * MESOS_EINVAL for bytes that do not decode or a resource Mesos would
 * reject (the message says why); `r` is unchanged then.
 */
MESOS_EXTERN(mesos_status) mesos_resources_add_protobuf(mesos_resources *r, const uint8_t *data,
                                                        size_t len, mesos_error **err);

/* r += other. */
MESOS_EXTERN(mesos_status) mesos_resources_add(mesos_resources *r, const mesos_resources *other,
                                               mesos_error **err);

/* r -= other.  MESOS_EINVAL (and no change) unless r contains other. */
MESOS_EXTERN(mesos_status) mesos_resources_subtract(mesos_resources *r,
                                                    const mesos_resources *other,
                                                    mesos_error **err);

/* 1 if `r` contains every resource of `other`, else 0. */
MESOS_EXTERN(int) mesos_resources_contains(const mesos_resources *r,
                                           const mesos_resources *other);

/* 1 if both hold the same resources, else 0. */
MESOS_EXTERN(int) mesos_resources_equal(const mesos_resources *a, const mesos_resources *b);

/* 1 if `r` holds nothing, else 0. */
MESOS_EXTERN(int) mesos_resources_is_empty(const mesos_resources *r);

/* Sum of the scalar resources called `name` over all roles (0 if none). */
MESOS_EXTERN(double) mesos_resources_scalar(const mesos_resources *r, const char *name);

/* Number of distinct resources (after merging). */
MESOS_EXTERN(size_t) mesos_resources_count(const mesos_resources *r);

/* The i-th resource as the protobuf encoding of mesos.v1.Resource, in a new
 * buffer freed with mesos_free().  MESOS_ENOTFOUND past the end. */
MESOS_EXTERN(mesos_status) mesos_resources_get_protobuf(const mesos_resources *r, size_t i,
                                                        uint8_t **out, size_t *out_len,
                                                        mesos_error **err);

/* Text form, e.g. "cpus(*):2; mem(*):1024; ports(*):[31000-32000]", in a new
 * string freed with mesos_free(). */
MESOS_EXTERN(mesos_status) mesos_resources_format(const mesos_resources *r, char **out,
                                                  mesos_error **err);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_RESOURCES_PUBLIC_H */

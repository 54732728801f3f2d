/*
 * The resource operations RESERVE, UNRESERVE, CREATE and DESTROY as
 * conversions of an agent's resources, shared by the scheduler's ACCEPT
 * (offer.c) and the operator's RESERVE_RESOURCES / UNRESERVE_RESOURCES /
 * CREATE_VOLUMES / DESTROY_VOLUMES (operator.c), so that both paths turn
 * the same resources into the same result and record it the same way.
 */
#ifndef MESOS_MASTER_RESOURCE_OPS_H
#define MESOS_MASTER_RESOURCE_OPS_H

#include <stddef.h>

#include "master/master_int.h"
#include "mesos/v1/mesos.pb-c.h"

typedef enum mesos__resop {
  MESOS__RESOP_RESERVE = 0,
  MESOS__RESOP_UNRESERVE = 1,
  MESOS__RESOP_CREATE = 2,
  MESOS__RESOP_DESTROY = 3,
} mesos__resop;

/* A caller's own per-resource rule (an offer's role and principal), run
 * after the operation's structural checks; returns 0 to refuse, with the
 * reason in `why`. */
typedef int (*mesos__resop_check)(const Mesos__V1__Resource *r, mesos__resop kind, void *ud,
                                  char *why, size_t cap);

/* 1 when the resource's last reservation is dynamic. */
int mesos__resop_dynamically_reserved(const Mesos__V1__Resource *r);
/* The principal of the last reservation, or NULL. */
const char *mesos__resop_reservation_principal(const Mesos__V1__Resource *r);

/* Adds what the operation of `kind` over v[0..n) consumes to `consumed`
 * and what it turns that into to `converted` (allocation_info is ignored):
 * RESERVE: the unreserved twin -> the reservation; UNRESERVE the reverse;
 * CREATE: the volume's disk -> the volume; DESTROY the reverse.  With
 * `validate`, every resource is checked with mesos__resource_validate
 * first.  Returns 1, or 0 with the reason in `why` (n == 0 is refused by
 * the callers, each with its own words). */
int mesos__resop_conversion(mesos__resop kind, Mesos__V1__Resource *const *v, size_t n,
                            int validate, mesos__resop_check check, void *ud,
                            mesos_resources *consumed, mesos_resources *converted, char *why,
                            size_t cap);

/* The reservations and volumes of `total`: *all holds every resource
 * (free with mesos__resop_protos_free), *keep (mesos__free) borrows the
 * dynamically reserved ones and the persistent volumes. */
mesos_status mesos__resop_kept(const mesos_resources *total, Mesos__V1__Resource ***all,
                               size_t *n, Mesos__V1__Resource ***keep, size_t *k);
void mesos__resop_protos_free(Mesos__V1__Resource **all, size_t n);

/* Sends the agent CHECKPOINT_RESOURCES with the reservations and volumes
 * of its total. */
void mesos__resop_send_checkpoint(mesos__agent *a);

/* Records the reservations and volumes of `total` in the agent's registry
 * record (durable before it returns), so that a master restart or the
 * agent's readmission after it was unreachable applies them again. */
mesos_status mesos__resop_persist(mesos_master *m, const mesos__agent *a,
                                  const mesos_resources *total, mesos_error **err);

/* Applies the reservations and volumes v[0..n) to a->total, each turning
 * the unreserved, non-volume twin it was made from into itself.  Every
 * resource is untrusted (it may come from the agent): an invalid one, one
 * that is neither dynamically reserved nor a persistent volume, or one
 * that does not fit what is left of the total is logged (naming `source`)
 * and skipped.  Returns how many were applied. */
size_t mesos__resop_apply(mesos__agent *a, Mesos__V1__Resource *const *v, size_t n,
                          const char *source);

/* REGISTER / REREGISTER of an agent the master does not run (new, or
 * after a fail-over) that reports checkpointed_resources v[0..n): when
 * the registry records no reservations or volumes for it (in_memory
 * registry, wiped, or never any), the agent's are applied to a->total
 * (Mesos: the agent is their source) and recorded, else the registry's
 * (written before any operation applies, so never older than the agent's)
 * stand.  So a lost registry never costs a volume its data; the price is
 * that an UNRESERVE / DESTROY of the agent's last ones that the agent never
 * heard of (master killed in between, registry lost too) comes back.
 * Call once the agent is admitted in the registry and before the
 * allocator sees the total (a failure to record is logged: the agent
 * reports them again next time). */
void mesos__resop_adopt_reported(mesos__agent *a, Mesos__V1__Resource *const *v, size_t n);

/* After (RE)REGISTERED: when the agent's report v[0..n) differs from the
 * reservations and volumes of a->total (it missed a CHECKPOINT_RESOURCES
 * while away, or the registry's stand), it is sent the master's set. */
void mesos__resop_sync_agent(mesos__agent *a, Mesos__V1__Resource *const *v, size_t n);

#endif

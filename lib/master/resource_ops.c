/*
 * RESERVE / UNRESERVE / CREATE / DESTROY as resource conversions
 * (resource_ops.h): one implementation for the scheduler's ACCEPT and the
 * operator API.
 */
#include "master/resource_ops.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "codec/pb.h"
#include "master/operator_int.h"
#include "resources/resources_int.h"

int mesos__resop_dynamically_reserved(const Mesos__V1__Resource *r) {
  if (r->n_reservations > 0)
    return r->reservations[r->n_reservations - 1]->has_type &&
           r->reservations[r->n_reservations - 1]->type ==
               MESOS__V1__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC;
  return r->reservation != NULL;
}

const char *mesos__resop_reservation_principal(const Mesos__V1__Resource *r) {
  if (r->n_reservations > 0) return r->reservations[r->n_reservations - 1]->principal;
  return r->reservation ? r->reservation->principal : NULL;
}

int mesos__resop_conversion(mesos__resop kind, Mesos__V1__Resource *const *v, size_t n,
                            int validate, mesos__resop_check check, void *ud,
                            mesos_resources *consumed, mesos_resources *converted, char *why,
                            size_t cap) {
  int forward = kind == MESOS__RESOP_RESERVE || kind == MESOS__RESOP_CREATE;
  mesos_error *e = NULL;
  for (size_t i = 0; i < n; i++) {
    Mesos__V1__Resource r = *v[i];
    r.allocation_info = NULL; /* what the allocator and the agent's total track */
    if (validate && mesos__resource_validate(&r, &e) != MESOS_OK) {
      snprintf(why, cap, "Invalid resource: %s", e ? mesos_error_message(e) : "");
      mesos_error_free(e);
      return 0;
    }
    Mesos__V1__Resource base;
    Mesos__V1__Resource__DiskInfo disk;
    if (kind == MESOS__RESOP_RESERVE || kind == MESOS__RESOP_UNRESERVE) {
      if (!mesos__resop_dynamically_reserved(&r)) {
        snprintf(why, cap, "Resource '%s' is not dynamically reserved", r.name);
        return 0;
      }
      if (check && !check(&r, kind, ud, why, cap)) return 0;
      /* The unreserved twin: pop the refinement, or clear the legacy form. */
      base = r;
      if (base.n_reservations > 0) base.n_reservations--;
      else base.role = NULL, base.reservation = NULL;
      if (base.n_reservations == 0) base.reservations = NULL;
    } else {
      if (r.disk == NULL || r.disk->persistence == NULL) {
        snprintf(why, cap, "Resource '%s' is not a persistent volume", r.name);
        return 0;
      }
      if (strcmp(mesos__resource_role(&r), "*") == 0) {
        snprintf(why, cap, "Persistent volumes need reserved disk");
        return 0;
      }
      if (check && !check(&r, kind, ud, why, cap)) return 0;
      /* The volume's disk: the same reserved disk without persistence and
       * volume (its source, if any, stays). */
      disk = *r.disk;
      disk.persistence = NULL;
      disk.volume = NULL;
      base = r;
      base.disk = disk.source ? &disk : NULL;
    }
    if (mesos__resources_add(&(forward ? consumed : converted)->r, &base, &e) != MESOS_OK ||
        mesos__resources_add(&(forward ? converted : consumed)->r, &r, &e) != MESOS_OK) {
      snprintf(why, cap, "Invalid resources: %s", e ? mesos_error_message(e) : "");
      mesos_error_free(e);
      return 0;
    }
  }
  return 1;
}

mesos_status mesos__resop_kept(const mesos_resources *total, Mesos__V1__Resource ***all,
                               size_t *n, Mesos__V1__Resource ***keep, size_t *k) {
  *all = NULL;
  *keep = NULL;
  *n = 0;
  *k = 0;
  if (mesos__resources_to_protos(&total->r, all, n, NULL) != MESOS_OK) return MESOS_ENOMEM;
  *keep = mesos__calloc(*n ? *n : 1, sizeof **keep);
  if (*keep == NULL) return MESOS_ENOMEM;
  for (size_t i = 0; i < *n; i++)
    if (mesos__resop_dynamically_reserved((*all)[i]) ||
        ((*all)[i]->disk && (*all)[i]->disk->persistence))
      (*keep)[(*k)++] = (*all)[i];
  return MESOS_OK;
}

void mesos__resop_protos_free(Mesos__V1__Resource **all, size_t n) {
  for (size_t i = 0; i < n; i++) mesos__pb_free(all[i]);
  mesos__free(all);
}

void mesos__resop_send_checkpoint(mesos__agent *a) {
  Mesos__V1__Resource **all = NULL, **keep = NULL;
  size_t n = 0, k = 0;
  if (mesos__resop_kept(a->total, &all, &n, &keep, &k) == MESOS_OK) {
    Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
    Mesos__Internal__CheckpointResources cr = MESOS__INTERNAL__CHECKPOINT_RESOURCES__INIT;
    cr.n_resources = k;
    cr.resources = keep;
    ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
    ev.has_type = 1;
    ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__CHECKPOINT_RESOURCES;
    ev.checkpoint_resources = &cr;
    mesos__agent_send(a, &ev);
  }
  mesos__resop_protos_free(all, n);
  mesos__free(keep);
}

mesos_status mesos__resop_persist(mesos_master *m, const mesos__agent *a,
                                  const mesos_resources *total, mesos_error **err) {
  Mesos__V1__Resource **all = NULL, **keep = NULL;
  size_t n = 0, k = 0;
  mesos_status st = mesos__resop_kept(total, &all, &n, &keep, &k);
  if (st == MESOS_OK) {
    mesos__agent_record_change c = {0};
    c.set_resources = 1;
    c.resources = keep;
    c.n_resources = k;
    st = mesos__op_update_agent_record(m, a->id, &c, err);
  } else {
    st = mesos__err(err, st, "out of memory");
  }
  mesos__resop_protos_free(all, n);
  mesos__free(keep);
  return st;
}

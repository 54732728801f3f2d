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
#include "base/log.h"
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

/* The unreserved resource a reservation or volume was made from: without
 * its persistence and volume and without its last dynamic reservation (a
 * volume on reserved disk comes from unreserved disk too).  Shallow: `out`
 * and `disk` borrow from `r`. */
static void resource_base(const Mesos__V1__Resource *r, Mesos__V1__Resource *out,
                          Mesos__V1__Resource__DiskInfo *disk) {
  *out = *r;
  out->allocation_info = NULL;
  if (r->disk && r->disk->persistence) {
    *disk = *r->disk;
    disk->persistence = NULL;
    disk->volume = NULL;
    out->disk = disk->source ? disk : NULL;
  }
  if (mesos__resop_dynamically_reserved(out)) {
    if (out->n_reservations > 0) out->n_reservations--;
    else out->role = NULL, out->reservation = NULL;
    if (out->n_reservations == 0) out->reservations = NULL;
  }
}

size_t mesos__resop_apply(mesos__agent *a, Mesos__V1__Resource *const *v, size_t n,
                          const char *source) {
  if (n == 0) return 0;
  mesos_resources *total = NULL, *one = NULL, *base = NULL;
  size_t applied = 0;
  if (mesos_resources_clone(&total, a->total, NULL) != MESOS_OK) return 0;
  for (size_t i = 0; i < n; i++) {
    Mesos__V1__Resource b;
    Mesos__V1__Resource__DiskInfo disk;
    mesos_error *e = NULL;
    const char *why = NULL;
    if (mesos__resource_validate(v[i], &e) != MESOS_OK) why = mesos_error_message(e);
    else if (!mesos__resop_dynamically_reserved(v[i]) && !(v[i]->disk && v[i]->disk->persistence))
      why = "neither dynamically reserved nor a persistent volume";
    int ok = why == NULL;
    if (ok) {
      resource_base(v[i], &b, &disk);
      ok = mesos_resources_new(&one, NULL) == MESOS_OK &&
           mesos_resources_new(&base, NULL) == MESOS_OK &&
           mesos__resources_add(&one->r, v[i], NULL) == MESOS_OK &&
           mesos__resources_add(&base->r, &b, NULL) == MESOS_OK;
      /* Already in the agent's own total (a static reservation), or the
       * agent shrank: keep what it says. */
      if (ok && !mesos_resources_contains(total, base)) why = "does not fit its total", ok = 0;
    }
    if (ok && mesos_resources_subtract(total, base, NULL) == MESOS_OK &&
        mesos_resources_add(total, one, NULL) == MESOS_OK)
      applied++;
    else
      LOG_WARN("agent %s: %s resource %zu (%s) %s; not applied", a->id, source, i,
               v[i]->name ? v[i]->name : "?", why ? why : "cannot be applied");
    mesos_error_free(e);
    mesos_resources_free(one);
    mesos_resources_free(base);
    one = base = NULL;
  }
  mesos_resources_free(a->total);
  a->total = total;
  mesos__agent_changed(a);
  LOG_INFO("Agent %s: %zu %s reservations and volumes applied", a->id, applied, source);
  return applied;
}

void mesos__resop_adopt_reported(mesos__agent *a, Mesos__V1__Resource *const *v, size_t n) {
  mesos_master *m = a->master;
  const Mesos__Internal__Registry__Agent *rec = mesos__registry_find_agent(m->registry, a->id);
  if (n == 0 || (rec && rec->n_resources > 0)) return;
  if (mesos__resop_apply(a, v, n, "reported") == 0) return;
  mesos_error *e = NULL;
  if (mesos__resop_persist(m, a, a->total, &e) != MESOS_OK) {
    LOG_WARN("agent %s: cannot record its reported reservations and volumes: %s", a->id,
             e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
}

void mesos__resop_sync_agent(mesos__agent *a, Mesos__V1__Resource *const *v, size_t n) {
  Mesos__V1__Resource **all = NULL, **keep = NULL;
  size_t na = 0, k = 0;
  mesos_resources *mine = NULL, *theirs = NULL;
  int same = 0;
  if (mesos__resop_kept(a->total, &all, &na, &keep, &k) == MESOS_OK &&
      mesos_resources_new(&mine, NULL) == MESOS_OK &&
      mesos_resources_new(&theirs, NULL) == MESOS_OK) {
    int ok = 1;
    for (size_t i = 0; ok && i < k; i++) ok = mesos__resources_add(&mine->r, keep[i], NULL) == MESOS_OK;
    for (size_t i = 0; ok && i < n; i++) {
      Mesos__V1__Resource r = *v[i];
      r.allocation_info = NULL;
      ok = mesos__resources_add(&theirs->r, &r, NULL) == MESOS_OK;
    }
    same = ok && mesos_resources_equal(mine, theirs);
  }
  mesos_resources_free(mine);
  mesos_resources_free(theirs);
  mesos__resop_protos_free(all, na);
  mesos__free(keep);
  if (same) return;
  LOG_INFO("Agent %s reported other checkpointed resources than the master's: sending them", a->id);
  mesos__resop_send_checkpoint(a);
}

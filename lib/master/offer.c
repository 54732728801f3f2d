/*
 * Offers: the allocator hands resources out during an allocation cycle; the
 * master wraps each grant in an Offer and sends each framework one OFFERS
 * event per cycle.  ACCEPT turns offered resources into tasks (LAUNCH,
 * LAUNCH_GROUP); what an ACCEPT leaves unused and what DECLINE returns goes
 * back to the allocator with the framework's refuse filter.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/pb.h"
#include "master/master_auth.h"
#include "master/master_int.h"
#include "master/resource_ops.h"
#include "mesos/memory.h"
#include "resources/resources_int.h"

/* Mesos's default Filters.refuse_seconds. */
#define DEFAULT_REFUSE_SECONDS 5.0

/* Offers of one framework made during the current cycle. */
typedef struct offer_batch {
  mesos__offer **v;
  size_t n, cap;
} offer_batch;

static void offer_timeout_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__offer *o = ud;
  LOG_INFO("Offer %s timed out", o->id);
  mesos__offer_remove(o, 1, 0, 1);
}

static void send_rescind(mesos__offer *o) {
  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  Mesos__V1__Scheduler__Event__Rescind r = MESOS__V1__SCHEDULER__EVENT__RESCIND__INIT;
  Mesos__V1__OfferID oid = MESOS__V1__OFFER_ID__INIT;
  oid.value = o->id;
  r.offer_id = &oid;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__RESCIND;
  ev.rescind = &r;
  mesos__framework_send(o->fw, &ev);
}

void mesos__offer_remove(mesos__offer *o, int recover, double refuse_seconds, int rescind) {
  mesos_master *m = o->fw->master;
  if (rescind) send_rescind(o);
  if (recover && m->allocator) {
    mesos_error *e = NULL;
    if (mesos_allocator_recover_resources(m->allocator, o->fw->id, o->agent->id, o->role,
                                          o->resources, refuse_seconds, &e) != MESOS_OK) {
      LOG_WARN("offer %s: cannot recover resources: %s", o->id, e ? mesos_error_message(e) : "");
      mesos_error_free(e);
    }
  }
  mesos__map_remove(&m->offers, o->id);
  mesos__map_remove(&o->fw->offers, o->id);
  mesos__framework_changed(o->fw);
  mesos__agent_changed(o->agent);
  mesos_timer_free(o->timeout);
  mesos_resources_free(o->resources);
  mesos__free(o->role);
  mesos__free(o->id);
  mesos__free(o);
}

/* Collects ids first: removal changes the maps being walked. */
static void remove_matching(mesos_master *m, mesos__agent *a, mesos__framework *fw, int recover) {
  mesos__map *src = fw ? &fw->offers : &m->offers;
  size_t n = mesos__map_count(src), k = 0;
  if (n == 0) return;
  mesos__offer **v = mesos__calloc(n, sizeof *v);
  if (v == NULL) return;
  size_t it = 0;
  void *val;
  while (mesos__map_next(src, &it, NULL, &val)) {
    mesos__offer *o = val;
    if (a == NULL || o->agent == a) v[k++] = o;
  }
  for (size_t i = 0; i < k; i++) mesos__offer_remove(v[i], recover, 0, 1);
  mesos__free(v);
}

void mesos__offers_rescind_agent(mesos__agent *a) { remove_matching(a->master, a, NULL, 1); }

void mesos__offers_rescind_framework(mesos__framework *fw, int recover) {
  remove_matching(fw->master, NULL, fw, recover);
}

void mesos__offers_rescind_roles(mesos__framework *fw, const char *const *roles, size_t n) {
  size_t total = mesos__map_count(&fw->offers), k = 0;
  if (total == 0) return;
  mesos__offer **v = mesos__calloc(total, sizeof *v);
  if (v == NULL) return;
  size_t it = 0;
  void *val;
  while (mesos__map_next(&fw->offers, &it, NULL, &val)) {
    mesos__offer *o = val;
    int keep = 0;
    for (size_t i = 0; i < n && !keep; i++) keep = strcmp(o->role, roles[i]) == 0;
    if (!keep) v[k++] = o;
  }
  for (size_t i = 0; i < k; i++) mesos__offer_remove(v[i], 1, 0, 1);
  mesos__free(v);
}

/* ------------------------------------------------------------ allocation */

static void offer_cb(const char *framework_id, const char *role, const char *agent_id,
                     const mesos_resources *resources, void *ud) {
  mesos_master *m = ud;
  mesos__framework *fw = mesos__map_get(&m->frameworks, framework_id);
  mesos__agent *a = mesos__map_get(&m->agents, agent_id);
  mesos__offer *o = MESOS__NEW(mesos__offer);
  char id[128];
  snprintf(id, sizeof id, "%s-O%llu", m->id, (unsigned long long)m->next_offer++);
  int ok = fw && a && a->stream && o;
  if (ok) {
    o->id = mesos__strdup(id);
    o->role = mesos__strdup(role);
    o->fw = fw;
    o->agent = a;
    ok = o->id && o->role && mesos_resources_clone(&o->resources, resources, NULL) == MESOS_OK;
  }
  offer_batch *b = NULL;
  if (ok) {
    b = mesos__map_get(&m->pending_offers, framework_id);
    if (b == NULL) {
      b = MESOS__NEW(offer_batch);
      ok = b && mesos__map_put(&m->pending_offers, framework_id, b) == MESOS_OK;
      if (!ok) mesos__free(b), b = NULL;
    }
  }
  if (ok && b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 8;
    mesos__offer **v = mesos__realloc(b->v, cap * sizeof *v);
    ok = v != NULL;
    if (ok) b->v = v, b->cap = cap;
  }
  if (ok) ok = mesos__map_put(&m->offers, o->id, o) == MESOS_OK;
  if (ok && mesos__map_put(&fw->offers, o->id, o) != MESOS_OK) {
    mesos__map_remove(&m->offers, o->id);
    ok = 0;
  }
  if (!ok) {
    /* Cannot offer: the grant goes back at the end of the cycle (the
     * allocator refuses re-entrant calls from inside this callback). */
    LOG_WARN("cannot make an offer to %s on %s; resources stay with the allocator until "
             "the framework is removed or revives", framework_id, agent_id);
    if (o) {
      mesos_resources_free(o->resources);
      mesos__free(o->role);
      mesos__free(o->id);
      mesos__free(o);
    }
    return;
  }
  b->v[b->n++] = o;
  mesos__framework_changed(fw);
  mesos__agent_changed(a);
  LOG_DEBUG("Offer %s to framework %s on agent %s", o->id, framework_id, agent_id);
}

static void send_offers(mesos__framework *fw, offer_batch *b) {
  mesos_master *m = fw->master;
  Mesos__V1__Offer **offers = mesos__calloc(b->n, sizeof *offers);
  Mesos__V1__Offer *storage = mesos__calloc(b->n, sizeof *storage);
  Mesos__V1__OfferID *oids = mesos__calloc(b->n, sizeof *oids);
  Mesos__V1__AgentID *aids = mesos__calloc(b->n, sizeof *aids);
  Mesos__V1__Resource__AllocationInfo *ais = mesos__calloc(b->n, sizeof *ais);
  Mesos__V1__Resource ***res = mesos__calloc(b->n, sizeof *res);
  size_t *nres = mesos__calloc(b->n, sizeof *nres);
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = fw->id;
  if (!offers || !storage || !oids || !aids || !ais || !res || !nres) goto out;
  for (size_t i = 0; i < b->n; i++) {
    mesos__offer *o = b->v[i];
    mesos__v1__offer__init(&storage[i]);
    mesos__v1__offer_id__init(&oids[i]);
    mesos__v1__agent_id__init(&aids[i]);
    mesos__v1__resource__allocation_info__init(&ais[i]);
    oids[i].value = o->id;
    aids[i].value = o->agent->id;
    ais[i].role = o->role;
    storage[i].id = &oids[i];
    storage[i].framework_id = &fid;
    storage[i].agent_id = &aids[i];
    storage[i].hostname = o->agent->info->hostname;
    storage[i].allocation_info = &ais[i];
    storage[i].n_attributes = o->agent->info->n_attributes;
    storage[i].attributes = o->agent->info->attributes;
    if (mesos__resources_to_protos(&o->resources->r, &res[i], &nres[i], NULL) == MESOS_OK) {
      /* Offered resources carry the role they are allocated to (1.2+);
       * the allocation info lives in the event only. */
      for (size_t k = 0; k < nres[i]; k++) res[i][k]->allocation_info = &ais[i];
      storage[i].resources = res[i];
      storage[i].n_resources = nres[i];
    }
    offers[i] = &storage[i];
    if (m->offer_timeout_ms && mesos_timer_new(&o->timeout, m->loop, offer_timeout_cb, o,
                                               NULL) == MESOS_OK)
      mesos_timer_start(o->timeout, m->offer_timeout_ms, 0);
  }
  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  Mesos__V1__Scheduler__Event__Offers eo = MESOS__V1__SCHEDULER__EVENT__OFFERS__INIT;
  eo.n_offers = b->n;
  eo.offers = offers;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__OFFERS;
  ev.offers = &eo;
  mesos__framework_send(fw, &ev);
  for (size_t i = 0; i < b->n; i++) {
    for (size_t k = 0; k < nres[i]; k++) {
      res[i][k]->allocation_info = NULL;
      mesos__pb_free(res[i][k]);
    }
    mesos__free(res[i]);
  }
out:
  mesos__free(offers);
  mesos__free(storage);
  mesos__free(oids);
  mesos__free(aids);
  mesos__free(ais);
  mesos__free(res);
  mesos__free(nres);
}

static void run_allocation(mesos_master *m) {
  if (m->allocator == NULL || m->in_allocation) return;
  m->in_allocation = 1;
  mesos_error *e = NULL;
  if (mesos_allocator_allocate(m->allocator, &e) != MESOS_OK) {
    LOG_WARN("allocation cycle failed: %s", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
  m->in_allocation = 0;
  /* Send the batches; collect framework ids first (sending never changes
   * the batch map, but removal below does). */
  size_t it = 0;
  const char *fid;
  void *v;
  while (mesos__map_next(&m->pending_offers, &it, &fid, &v)) {
    offer_batch *b = v;
    mesos__framework *fw = mesos__map_get(&m->frameworks, fid);
    if (fw && b->n) send_offers(fw, b);
    mesos__free(b->v);
    mesos__free(b);
  }
  mesos__map_free(&m->pending_offers);
  mesos__map_init(&m->pending_offers);
}

static void allocation_timer_cb(mesos_timer *t, void *ud) {
  (void)t;
  run_allocation(ud);
}

/* Why: with the 1 s interval alone, resources a finished task frees wait
 * up to a second before a framework with more tasks to launch sees them
 * again, which caps a busy cluster at (slots / interval) launches per
 * second.  The short delay batches the ends of many tasks into one cycle.
 * Declines do not trigger it (a framework declining with refuse_seconds
 * 0 would otherwise spin). */
#define ALLOC_SOON_MS 5u

static void alloc_soon_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos_master *m = ud;
  m->alloc_soon_armed = 0;
  run_allocation(m);
}

void mesos__offers_soon(mesos_master *m) {
  if (m->alloc_soon == NULL || m->alloc_soon_armed) return;
  uint64_t delay = m->allocation_ms < ALLOC_SOON_MS ? m->allocation_ms : ALLOC_SOON_MS;
  if (mesos_timer_start(m->alloc_soon, delay, 0) == MESOS_OK) m->alloc_soon_armed = 1;
}

mesos_status mesos__offers_init(mesos_master *m, mesos_error **err) {
  mesos__map_init(&m->offers);
  mesos__map_init(&m->pending_offers);
  /* The caller's allocator (mesos_master_options.allocator), else ours. */
  mesos_status st =
      m->allocator ? MESOS_OK : mesos_hierarchical_allocator_new(&m->allocator, NULL, err);
  if (st == MESOS_OK) st = mesos_allocator_initialize(m->allocator, offer_cb,
                                                   mesos__operator_inverse_offer_cb, m, err);
  if (st == MESOS_OK) st = mesos_timer_new(&m->allocation_timer, m->loop, allocation_timer_cb, m, err);
  if (st == MESOS_OK)
    st = mesos_timer_start(m->allocation_timer, m->allocation_ms, m->allocation_ms);
  if (st == MESOS_OK) st = mesos_timer_new(&m->alloc_soon, m->loop, alloc_soon_cb, m, err);
  return st;
}

void mesos__offers_fini(mesos_master *m) {
  mesos_timer_free(m->allocation_timer);
  m->allocation_timer = NULL;
  mesos_timer_free(m->alloc_soon);
  m->alloc_soon = NULL;
  /* Snapshot first: removal reorders the map being walked. */
  size_t n = mesos__map_count(&m->offers), k = 0;
  mesos__offer **v = mesos__calloc(n ? n : 1, sizeof *v);
  size_t it = 0;
  void *val;
  while (v && k < n && mesos__map_next(&m->offers, &it, NULL, &val)) v[k++] = val;
  for (size_t i = 0; i < k; i++) mesos__offer_remove(v[i], 0, 0, 0);
  mesos__free(v);
  for (;;) { /* only if the snapshot could not be allocated */
    it = 0;
    if (!mesos__map_next(&m->offers, &it, NULL, &val)) break;
    mesos__offer_remove(val, 0, 0, 0);
  }
  mesos__map_free(&m->offers);
  mesos__map_free(&m->pending_offers);
  mesos_allocator_free(m->allocator);
  m->allocator = NULL;
}

/* ------------------------------------------------------------ frameworks */

/* The allocator's description of the framework; `single` holds the
 * legacy role the roles array may point at. */
static void allocator_framework(const mesos__framework *fw, const char **single,
                                mesos_allocator_framework *out) {
  const Mesos__V1__FrameworkInfo *fi = fw->info;
  *single = fi->role ? fi->role : "*";
  mesos_allocator_framework af = MESOS_ALLOCATOR_FRAMEWORK_INIT;
  af.id = fw->id;
  af.roles = fi->n_roles ? (const char *const *)fi->roles : single;
  af.nroles = fi->n_roles ? fi->n_roles : 1;
  for (size_t i = 0; i < fi->n_capabilities; i++) {
    switch (fi->capabilities[i]->type) {
      case MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__REVOCABLE_RESOURCES:
        af.capabilities |= MESOS_ALLOCATOR_CAP_REVOCABLE_RESOURCES;
        break;
      case MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__GPU_RESOURCES:
        af.capabilities |= MESOS_ALLOCATOR_CAP_GPU_RESOURCES;
        break;
      case MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__SHARED_RESOURCES:
        af.capabilities |= MESOS_ALLOCATOR_CAP_SHARED_RESOURCES;
        break;
      case MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__MULTI_ROLE:
        af.capabilities |= MESOS_ALLOCATOR_CAP_MULTI_ROLE;
        break;
      default:
        break;
    }
  }
  *out = af;
}

mesos_status mesos__allocator_framework_update(mesos__framework *fw, mesos_error **err) {
  mesos_master *m = fw->master;
  if (m->allocator == NULL || !fw->in_allocator) return MESOS_OK;
  const char *single;
  mesos_allocator_framework af;
  allocator_framework(fw, &single, &af);
  return mesos_allocator_update_framework(m->allocator, &af, err);
}

static mesos_status framework_to_allocator(mesos__framework *fw, int active) {
  mesos_master *m = fw->master;
  const char *single;
  mesos_allocator_framework af;
  allocator_framework(fw, &single, &af);
  mesos_error *e = NULL;
  mesos_status st = mesos_allocator_add_framework(m->allocator, &af, active, &e);
  if (st != MESOS_OK) {
    LOG_WARN("framework %s: allocator refused it: %s", fw->id, e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
  return st;
}

void mesos__allocator_framework_set_active(mesos__framework *fw, int active) {
  mesos_master *m = fw->master;
  if (m->allocator == NULL) return;
  if (!fw->in_allocator) {
    if (framework_to_allocator(fw, active) == MESOS_OK) fw->in_allocator = 1;
    return;
  }
  if (active) mesos_allocator_activate_framework(m->allocator, fw->id, NULL);
  else mesos_allocator_deactivate_framework(m->allocator, fw->id, NULL);
}

void mesos__allocator_framework_remove(mesos__framework *fw) {
  mesos_master *m = fw->master;
  if (m->allocator && fw->in_allocator) mesos_allocator_remove_framework(m->allocator, fw->id, NULL);
  fw->in_allocator = 0;
}

/* ------------------------------------------------------------ DECLINE */

static double refuse_seconds(const Mesos__V1__Filters *f) {
  if (f == NULL || !f->has_refuse_seconds) return DEFAULT_REFUSE_SECONDS;
  double s = f->refuse_seconds;
  if (!isfinite(s) && s > 0) return MESOS_ALLOCATOR_REFUSE_FOREVER;
  if (!(s >= 0)) return DEFAULT_REFUSE_SECONDS; /* Mesos: invalid -> default */
  return s;
}

void mesos__master_decline(mesos__framework *fw, const Mesos__V1__Scheduler__Call__Decline *d) {
  double refuse = refuse_seconds(d->filters);
  int declined = 0;
  for (size_t i = 0; i < d->n_offer_ids; i++) {
    mesos__offer *o = mesos__map_get(&fw->offers, d->offer_ids[i]->value);
    if (o == NULL) {
      LOG_INFO("Framework %s declined unknown offer %s", fw->id, d->offer_ids[i]->value);
      continue;
    }
    LOG_DEBUG("Framework %s declined offer %s (refuse %gs)", fw->id, o->id, refuse);
    mesos__offer_remove(o, 1, refuse, 0);
    declined = 1;
  }
  /* Declined resources the decliner refuses for at least an allocation
   * interval go to the next framework in line at once, not a whole
   * --allocation_interval later: 1,000 frameworks subscribing to 10 agents
   * were offered 10 per second.  A shorter filter waits for the regular
   * cycle, so a framework declining with refuse_seconds=0 is not offered
   * the same resources back in a tight loop. */
  if (declined && refuse * 1000.0 >= (double)fw->master->allocation_ms)
    mesos__offers_soon(fw->master);
}

/* ------------------------------------------------------------ operations */

/* An offer's rules on top of the operation's own (RESERVE/UNRESERVE):
 * the reservation is for the offer's role, and a reserve names the
 * framework's principal. */
typedef struct offer_rules {
  mesos__framework *fw;
  const char *role;
} offer_rules;

static int offer_check(const Mesos__V1__Resource *r, mesos__resop kind, void *ud, char *why,
                       size_t cap) {
  const offer_rules *o = ud;
  if (kind != MESOS__RESOP_RESERVE && kind != MESOS__RESOP_UNRESERVE) return 1;
  const char *rrole = mesos__resource_role(r);
  if (strcmp(rrole, o->role) != 0) {
    snprintf(why, cap, "Resource '%s' is reserved for role '%s', not the offer's '%s'", r->name,
             rrole, o->role);
    return 0;
  }
  const char *p = mesos__resop_reservation_principal(r);
  if (kind == MESOS__RESOP_RESERVE && o->fw->info->principal &&
      (p == NULL || strcmp(p, o->fw->info->principal) != 0)) {
    snprintf(why, cap, "A reserve operation must name the framework's principal '%s'",
             o->fw->info->principal);
    return 0;
  }
  return 1;
}

/* Builds the allocator conversion for RESERVE / UNRESERVE / CREATE /
 * DESTROY (resource_ops.h): `consumed` resources become `converted` ones.
 * Validation follows Mesos's operation checks; on failure `why` says what
 * is wrong. */
static int build_conversion(mesos__framework *fw, const char *role,
                            const Mesos__V1__Offer__Operation *op, mesos_resources *consumed,
                            mesos_resources *converted, char *why, size_t cap) {
  Mesos__V1__Resource **v = NULL;
  size_t n = 0;
  mesos__resop kind;
  switch (op->type) {
    case MESOS__V1__OFFER__OPERATION__TYPE__RESERVE:
      if (op->reserve) v = op->reserve->resources, n = op->reserve->n_resources;
      kind = MESOS__RESOP_RESERVE;
      break;
    case MESOS__V1__OFFER__OPERATION__TYPE__UNRESERVE:
      if (op->unreserve) v = op->unreserve->resources, n = op->unreserve->n_resources;
      kind = MESOS__RESOP_UNRESERVE;
      break;
    case MESOS__V1__OFFER__OPERATION__TYPE__CREATE:
      if (op->create) v = op->create->volumes, n = op->create->n_volumes;
      kind = MESOS__RESOP_CREATE;
      break;
    case MESOS__V1__OFFER__OPERATION__TYPE__DESTROY:
      if (op->destroy) v = op->destroy->volumes, n = op->destroy->n_volumes;
      kind = MESOS__RESOP_DESTROY;
      break;
    default:
      snprintf(why, cap, "operation type %d is not supported", (int)op->type);
      return 0;
  }
  if (n == 0) {
    snprintf(why, cap, "operation names no resources");
    return 0;
  }
  offer_rules rules = {fw, role};
  return mesos__resop_conversion(kind, v, n, 0, offer_check, &rules, consumed, converted, why,
                                 cap);
}

/* Applies one conversion to what is left of the offers, the allocator's
 * view and the agent's total, all or nothing. */
static void apply_operation(mesos__framework *fw, mesos__agent *a, const char *role,
                            mesos_resources *left, const Mesos__V1__Offer__Operation *op) {
  mesos_master *m = fw->master;
  char why[512];
  mesos_resources *consumed = NULL, *converted = NULL, *total = NULL;
  mesos_error *e = NULL;
  int ok = mesos_resources_new(&consumed, NULL) == MESOS_OK &&
           mesos_resources_new(&converted, NULL) == MESOS_OK;
  if (ok) ok = build_conversion(fw, role, op, consumed, converted, why, sizeof why);
  else snprintf(why, sizeof why, "out of memory");
  if (ok) ok = mesos__master_auth_operation(m, fw->info, op, why, sizeof why);
  if (ok && !mesos_resources_contains(left, consumed)) {
    snprintf(why, sizeof why, "the offered resources do not contain what the operation uses");
    ok = 0;
  }
  if (ok) {
    /* Check the agent total can take it before anything changes. */
    ok = mesos_resources_clone(&total, a->total, NULL) == MESOS_OK &&
         mesos_resources_subtract(total, consumed, NULL) == MESOS_OK &&
         mesos_resources_add(total, converted, NULL) == MESOS_OK;
    if (!ok) snprintf(why, sizeof why, "the agent does not hold the resources");
  }
  if (ok && m->allocator) {
    mesos_allocator_conversion conv = {consumed, converted};
    if (mesos_allocator_update_allocation(m->allocator, fw->id, a->id, role, &conv, 1, &e) !=
        MESOS_OK) {
      snprintf(why, sizeof why, "%s", e ? mesos_error_message(e) : "allocator refused");
      mesos_error_free(e);
      ok = 0;
    }
  }
  /* Recorded like the operator's reservations and volumes, so a master
   * restart or the agent's readmission after it was unreachable applies
   * them again; not recorded, not applied. */
  if (ok && mesos__resop_persist(m, a, total, &e) != MESOS_OK) {
    snprintf(why, sizeof why, "cannot record it: %s", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    e = NULL;
    mesos_allocator_conversion undo = {converted, consumed};
    if (m->allocator)
      mesos_allocator_update_allocation(m->allocator, fw->id, a->id, role, &undo, 1, NULL);
    ok = 0;
  }
  if (ok) {
    mesos_resources_subtract(left, consumed, NULL);
    mesos_resources_add(left, converted, NULL);
    mesos_resources_free(a->total);
    a->total = total;
    mesos__agent_changed(a);
    total = NULL;
    mesos__resop_send_checkpoint(a);
    LOG_INFO("Framework %s: applied operation %d on agent %s", fw->id, (int)op->type, a->id);
  } else {
    LOG_INFO("Framework %s: dropped operation %d: %s", fw->id, (int)op->type, why);
  }
  mesos_resources_free(total);
  mesos_resources_free(consumed);
  mesos_resources_free(converted);
}

/* ------------------------------------------------------------ ACCEPT */

/* Task (or executor) resources as given, without allocation info,
 * validated. */
static mesos_status resources_of(Mesos__V1__Resource *const *v, size_t n, const char *role,
                                 mesos_resources **out, char *why, size_t cap) {
  mesos_resources *r = NULL;
  if (mesos_resources_new(&r, NULL) != MESOS_OK) {
    snprintf(why, cap, "out of memory");
    return MESOS_ENOMEM;
  }
  mesos_error *e = NULL;
  for (size_t i = 0; i < n; i++) {
    Mesos__V1__Resource res = *v[i];
    if (res.allocation_info && res.allocation_info->role &&
        strcmp(res.allocation_info->role, role) != 0) {
      snprintf(why, cap, "Resource '%s' is allocated to role '%s', not the offer's '%s'",
               res.name, res.allocation_info->role, role);
      mesos_resources_free(r);
      return MESOS_EINVAL;
    }
    res.allocation_info = NULL;
    if (mesos__resources_add(&r->r, &res, &e) != MESOS_OK) {
      snprintf(why, cap, "Invalid resources: %s", e ? mesos_error_message(e) : "");
      mesos_error_free(e);
      mesos_resources_free(r);
      return MESOS_EINVAL;
    }
  }
  *out = r;
  return MESOS_OK;
}

/* The resources a new custom executor brings (ExecutorInfo.resources, on
 * top of its tasks'): *out is NULL when there are none to account, i.e.
 * the agent already runs (or was just sent) that executor, as Mesos counts
 * them only for an executor the agent does not have yet.  An executor
 * without resources is allowed: Mesos 1.0 only warns (MESOS-1807). */
static int executor_resources(mesos__framework *fw, mesos__agent *a,
                              const Mesos__V1__ExecutorInfo *ei, const char *role,
                              mesos_resources **out, char *why, size_t cap) {
  *out = NULL;
  if (ei == NULL || mesos__agent_has_executor(a, fw->id, ei->executor_id->value)) return 1;
  if (ei->n_resources == 0) {
    LOG_WARN("Executor '%s' of framework %s uses no resources (neither cpus nor mem); Mesos "
             "only warns about it",
             ei->executor_id->value, fw->id);
    return 1;
  }
  char inner[512];
  if (resources_of(ei->resources, ei->n_resources, role, out, inner, sizeof inner) != MESOS_OK) {
    snprintf(why, cap, "Executor '%s' is invalid: %s", ei->executor_id->value, inner);
    return 0;
  }
  if (mesos_resources_scalar(*out, "cpus") <= 0 || mesos_resources_scalar(*out, "mem") <= 0)
    LOG_WARN("Executor '%s' of framework %s uses less cpus or mem than the minimum; Mesos only "
             "warns about it",
             ei->executor_id->value, fw->id);
  return 1;
}

/* Validates one TaskInfo against the framework, the agent and what is left
 * of the offered resources (spec 2.3 ACCEPT; Mesos's task validation).  On
 * success *res holds the task's resources and, when `exec` is not NULL,
 * *exec those of its executor if the executor is new on the agent (NULL
 * otherwise): the task and that executor must fit together. */
static int task_valid(mesos__framework *fw, mesos__agent *a, const Mesos__V1__TaskInfo *ti,
                      const char *role, const mesos_resources *left, mesos_resources **res,
                      mesos_resources **exec, char *why, size_t cap) {
  if (exec) *exec = NULL;
  const char *r;
  if ((r = mesos__validate_id(ti->task_id->value)) != NULL) {
    snprintf(why, cap, "Task ID is invalid: %s", r);
    return 0;
  }
  if (mesos__map_get(&fw->tasks, ti->task_id->value)) {
    snprintf(why, cap, "Task has duplicate ID: %s", ti->task_id->value);
    return 0;
  }
  if (strcmp(ti->agent_id->value, a->id) != 0) {
    snprintf(why, cap, "Task uses agent %s, but the offers are for agent %s", ti->agent_id->value,
             a->id);
    return 0;
  }
  if ((ti->executor != NULL) == (ti->command != NULL)) {
    snprintf(why, cap, "Task should have at least one (but not both) of CommandInfo or "
                       "ExecutorInfo present");
    return 0;
  }
  if (ti->executor && (r = mesos__validate_id(ti->executor->executor_id->value)) != NULL) {
    snprintf(why, cap, "Executor ID is invalid: %s", r);
    return 0;
  }
  /* One ExecutorID names one executor on an agent: a task may join it
   * only with the same ExecutorInfo (Mesos's executor validation). */
  if (ti->executor && mesos__agent_executor_mismatch(a, fw->id, ti->executor, why, cap)) return 0;
  if (ti->n_resources == 0) {
    snprintf(why, cap, "Task uses no resources");
    return 0;
  }
  if (resources_of(ti->resources, ti->n_resources, role, res, why, cap) != MESOS_OK) return 0;
  if (exec && !executor_resources(fw, a, ti->executor, role, exec, why, cap)) {
    mesos_resources_free(*res);
    *res = NULL;
    return 0;
  }
  /* The task and a new executor together (Mesos: "total"), while the
   * message names the task's own resources as Mesos's does. */
  mesos_resources *total = NULL;
  int fits = 0;
  if (exec && *exec) {
    fits = mesos_resources_clone(&total, *res, NULL) == MESOS_OK &&
           mesos_resources_add(total, *exec, NULL) == MESOS_OK &&
           mesos_resources_contains(left, total);
    mesos_resources_free(total);
  } else {
    fits = mesos_resources_contains(left, *res);
  }
  if (!fits) {
    char *have = NULL, *want = NULL;
    mesos_resources_format(left, &have, NULL);
    mesos_resources_format(*res, &want, NULL);
    snprintf(why, cap, "Task uses more resources %s than available %s", want ? want : "?",
             have ? have : "?");
    mesos_free(have);
    mesos_free(want);
    mesos_resources_free(*res);
    *res = NULL;
    if (exec) {
      mesos_resources_free(*exec);
      *exec = NULL;
    }
    return 0;
  }
  if (exec && *exec) mesos__resources_share_identities(&(*exec)->r, &left->r);
  /* The task keeps its resources as long as it runs: their identities
   * come from the offer (the agent's), not a copy per task. */
  mesos__resources_share_identities(&(*res)->r, &left->r);
  return 1;
}

/* RUN_TASK events of one ACCEPT are collected and written to the agent's
 * stream together: one write instead of one per task (the write is what a
 * launch costs most otherwise).  Flushed before anything else goes to the
 * agent, so the agent sees events in order. */
#define RUN_BATCH_MAX ((size_t)1 << 20)

static void flush_runs(mesos__agent *a, mesos__buf *runs) {
  if (runs->len) mesos__agent_send_records(a, runs->data, runs->len);
  mesos__buf_clear(runs);
}

static void send_run_task(mesos__framework *fw, mesos__agent *a, const Mesos__V1__TaskInfo *ti,
                          mesos__buf *runs) {
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__RunTask rt = MESOS__INTERNAL__RUN_TASK__INIT;
  rt.framework = fw->info;
  rt.task = (Mesos__V1__TaskInfo *)ti;
  ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
  ev.has_type = 1;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK;
  ev.run_task = &rt;
  if (a->stream == NULL) return;
  if (runs->len > RUN_BATCH_MAX) flush_runs(a, runs);
  if (mesos__agent_encode(a, &ev, runs) != MESOS_OK) {
    /* Too big to batch: alone, as before. */
    flush_runs(a, runs);
    mesos__agent_send(a, &ev);
  }
}

static void send_run_group(mesos__framework *fw, mesos__agent *a,
                           const Mesos__V1__Offer__Operation__LaunchGroup *lg) {
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__RunTaskGroup rg = MESOS__INTERNAL__RUN_TASK_GROUP__INIT;
  rg.framework = fw->info;
  rg.executor = lg->executor;
  rg.task_group = lg->task_group;
  ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
  ev.has_type = 1;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK_GROUP;
  ev.run_task_group = &rg;
  mesos__agent_send(a, &ev);
}

/* Tasks named by an ACCEPT whose offers were invalid: TASK_DROPPED for
 * partition-aware frameworks, TASK_LOST otherwise, REASON_INVALID_OFFERS. */
static void drop_launches(mesos__framework *fw, const Mesos__V1__Scheduler__Call__Accept *acc,
                          const char *why) {
  int pa = 0;
  for (size_t i = 0; i < fw->info->n_capabilities; i++)
    pa |= fw->info->capabilities[i]->type ==
          MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE;
  Mesos__V1__TaskState state =
      pa ? MESOS__V1__TASK_STATE__TASK_DROPPED : MESOS__V1__TASK_STATE__TASK_LOST;
  for (size_t i = 0; i < acc->n_operations; i++) {
    const Mesos__V1__Offer__Operation *op = acc->operations[i];
    if (op->launch)
      for (size_t k = 0; k < op->launch->n_task_infos; k++)
        mesos__send_master_update(fw, op->launch->task_infos[k]->task_id,
                                  op->launch->task_infos[k]->agent_id, state,
                                  MESOS__V1__TASK_STATUS__REASON__REASON_INVALID_OFFERS, why);
    if (op->launch_group && op->launch_group->task_group)
      for (size_t k = 0; k < op->launch_group->task_group->n_tasks; k++)
        mesos__send_master_update(fw, op->launch_group->task_group->tasks[k]->task_id,
                                  op->launch_group->task_group->tasks[k]->agent_id, state,
                                  MESOS__V1__TASK_STATUS__REASON__REASON_INVALID_OFFERS, why);
  }
}

void mesos__master_accept(mesos__framework *fw, const Mesos__V1__Scheduler__Call__Accept *acc) {
  char why[1024];
  /* All offers must be outstanding for this framework, distinct, and on one
   * agent, for one role. */
  mesos__offer **offers = mesos__calloc(acc->n_offer_ids ? acc->n_offer_ids : 1, sizeof *offers);
  if (offers == NULL) return;
  const char *bad = NULL;
  if (acc->n_offer_ids == 0) bad = "No offers specified";
  for (size_t i = 0; !bad && i < acc->n_offer_ids; i++) {
    offers[i] = mesos__map_get(&fw->offers, acc->offer_ids[i]->value);
    if (offers[i] == NULL) {
      snprintf(why, sizeof why, "Offer %s is no longer valid", acc->offer_ids[i]->value);
      bad = why;
      break;
    }
    for (size_t k = 0; k < i; k++)
      if (offers[k] == offers[i]) {
        snprintf(why, sizeof why, "Duplicate offer %s", acc->offer_ids[i]->value);
        bad = why;
      }
    if (!bad && offers[i]->agent != offers[0]->agent) bad = "Aggregated offers must belong to one agent";
    if (!bad && strcmp(offers[i]->role, offers[0]->role) != 0)
      bad = "Aggregated offers must be allocated to the same role";
  }
  if (bad) {
    LOG_INFO("Framework %s: invalid ACCEPT: %s", fw->id, bad);
    drop_launches(fw, acc, bad);
    /* Valid offers named in an invalid ACCEPT go back (Mesos does too). */
    for (size_t i = 0; i < acc->n_offer_ids; i++) {
      mesos__offer *o = mesos__map_get(&fw->offers, acc->offer_ids[i]->value);
      if (o) mesos__offer_remove(o, 1, 0, 0);
    }
    mesos__free(offers);
    return;
  }
  mesos__agent *a = offers[0]->agent;
  char *role = mesos__strdup(offers[0]->role);
  mesos_resources *left = NULL;
  if (role == NULL || mesos_resources_new(&left, NULL) != MESOS_OK) {
    mesos__free(role);
    mesos__free(offers);
    return;
  }
  for (size_t i = 0; i < acc->n_offer_ids; i++) {
    mesos_resources_add(left, offers[i]->resources, NULL);
    /* The offer is used up: its resources now belong to `left`. */
    mesos__offer_remove(offers[i], 0, 0, 0);
  }
  mesos__free(offers);

  mesos__buf runs = MESOS__BUF_INIT(RUN_BATCH_MAX + ((size_t)16 << 20));
  for (size_t i = 0; i < acc->n_operations; i++) {
    const Mesos__V1__Offer__Operation *op = acc->operations[i];
    if (op->launch) {
      for (size_t k = 0; k < op->launch->n_task_infos; k++) {
        const Mesos__V1__TaskInfo *ti = op->launch->task_infos[k];
        mesos_resources *res = NULL;
        if (!mesos__master_auth_run_task(fw->master, fw->info, ti)) {
          mesos__send_master_update(fw, ti->task_id, ti->agent_id,
                                    MESOS__V1__TASK_STATE__TASK_ERROR,
                                    MESOS__V1__TASK_STATUS__REASON__REASON_TASK_UNAUTHORIZED,
                                    "Not authorized to launch the task as its user");
          continue;
        }
        mesos_resources *exec = NULL;
        if (!task_valid(fw, a, ti, role, left, &res, &exec, why, sizeof why)) {
          mesos__send_master_update(fw, ti->task_id, ti->agent_id,
                                    MESOS__V1__TASK_STATE__TASK_ERROR,
                                    MESOS__V1__TASK_STATUS__REASON__REASON_TASK_INVALID, why);
          continue;
        }
        mesos__task *t = NULL;
        if (mesos__task_new(&t, fw, a, ti, role, res) != MESOS_OK) {
          mesos_resources_free(res);
          mesos_resources_free(exec);
          continue;
        }
        mesos_resources_subtract(left, res, NULL);
        mesos_resources_free(res);
        if (ti->executor) mesos__agent_add_executor(a, fw->id, ti->executor);
        if (exec) {
          /* The executor's own resources stay allocated to the framework
           * until the agent reports the executor's exit (agent.c). */
          mesos_resources_subtract(left, exec, NULL);
          mesos__agent_use_executor(a, fw->id, ti->executor->executor_id->value, role, exec);
        }
        send_run_task(fw, a, ti, &runs);
      }
    } else if (op->launch_group && op->launch_group->executor && op->launch_group->task_group) {
      /* All or nothing: validate every task against what is left, then
       * launch them together. */
      const Mesos__V1__TaskGroupInfo *tg = op->launch_group->task_group;
      mesos_resources *need = NULL;
      mesos_resources_clone(&need, left, NULL);
      int ok = need != NULL && tg->n_tasks > 0;
      int unauthorized = 0;
      if (tg->n_tasks == 0) snprintf(why, sizeof why, "Task group is empty");
      mesos_resources **each = mesos__calloc(tg->n_tasks ? tg->n_tasks : 1, sizeof *each);
      ok = ok && each;
      for (size_t k = 0; ok && k < tg->n_tasks; k++) {
        const Mesos__V1__TaskInfo *ti = tg->tasks[k];
        if (ti->executor) {
          snprintf(why, sizeof why, "Task '%s' in a group must not set an executor",
                   ti->task_id->value);
          ok = 0;
          break;
        }
        Mesos__V1__TaskInfo chk = *ti;
        chk.executor = op->launch_group->executor;
        chk.command = NULL;
        for (size_t j = 0; j < k; j++)
          if (strcmp(tg->tasks[j]->task_id->value, ti->task_id->value) == 0) {
            snprintf(why, sizeof why, "Task has duplicate ID: %s", ti->task_id->value);
            ok = 0;
          }
        if (ok && !mesos__master_auth_run_task(fw->master, fw->info, &chk)) {
          snprintf(why, sizeof why, "Not authorized to launch task '%.200s' as its user",
                   ti->task_id->value);
          ok = 0;
          unauthorized = 1;
        }
        if (ok && !task_valid(fw, a, &chk, role, need, &each[k], NULL, why, sizeof why)) ok = 0;
        if (ok) mesos_resources_subtract(need, each[k], NULL);
      }
      /* The group's executor, when new on the agent, must fit beside its
       * tasks (Mesos's task group resource check). */
      mesos_resources *gexec = NULL;
      if (ok) ok = executor_resources(fw, a, op->launch_group->executor, role, &gexec, why,
                                      sizeof why);
      if (ok && gexec && !mesos_resources_contains(need, gexec)) {
        mesos_resources *total = NULL;
        char *have = NULL, *want = NULL;
        if (mesos_resources_clone(&total, gexec, NULL) == MESOS_OK) {
          for (size_t k = 0; k < tg->n_tasks; k++) mesos_resources_add(total, each[k], NULL);
          mesos_resources_format(total, &want, NULL);
        }
        mesos_resources_format(left, &have, NULL);
        snprintf(why, sizeof why,
                 "Total resources %s required by task group and its executor are more than "
                 "available %s",
                 want ? want : "?", have ? have : "?");
        mesos_free(have);
        mesos_free(want);
        mesos_resources_free(total);
        ok = 0;
      }
      if (ok) {
        for (size_t k = 0; k < tg->n_tasks; k++) {
          mesos__task *t = NULL;
          if (mesos__task_new(&t, fw, a, tg->tasks[k], role, each[k]) == MESOS_OK)
            mesos_resources_subtract(left, each[k], NULL);
        }
        mesos__agent_add_executor(a, fw->id, op->launch_group->executor);
        if (gexec) {
          mesos__resources_share_identities(&gexec->r, &left->r);
          mesos_resources_subtract(left, gexec, NULL);
          mesos__agent_use_executor(a, fw->id, op->launch_group->executor->executor_id->value,
                                    role, gexec);
          gexec = NULL;
        }
        flush_runs(a, &runs);
        send_run_group(fw, a, op->launch_group);
      } else {
        for (size_t k = 0; k < tg->n_tasks; k++)
          mesos__send_master_update(fw, tg->tasks[k]->task_id, tg->tasks[k]->agent_id,
                                    MESOS__V1__TASK_STATE__TASK_ERROR,
                                    unauthorized
                                        ? MESOS__V1__TASK_STATUS__REASON__REASON_TASK_GROUP_UNAUTHORIZED
                                        : MESOS__V1__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID,
                                    why);
      }
      for (size_t k = 0; each && k < tg->n_tasks; k++) mesos_resources_free(each[k]);
      mesos__free(each);
      mesos_resources_free(need);
      mesos_resources_free(gexec);
    } else if (op->has_type && (op->type == MESOS__V1__OFFER__OPERATION__TYPE__RESERVE ||
                                op->type == MESOS__V1__OFFER__OPERATION__TYPE__UNRESERVE ||
                                op->type == MESOS__V1__OFFER__OPERATION__TYPE__CREATE ||
                                op->type == MESOS__V1__OFFER__OPERATION__TYPE__DESTROY)) {
      flush_runs(a, &runs);
      apply_operation(fw, a, role, left, op);
    } else {
      const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
          &mesos__v1__offer__operation__type__descriptor, op->has_type ? (int)op->type : 0);
      LOG_WARN("Framework %s: ACCEPT operation %s (type %d) is not supported by this master; "
               "dropped, its resources go back",
               fw->id, ev ? ev->name : "UNKNOWN", op->has_type ? (int)op->type : 0);
    }
  }
  flush_runs(a, &runs);
  mesos__buf_free(&runs);
  /* What the operations did not use goes back with the call's filter. */
  if (!mesos_resources_is_empty(left) && fw->master->allocator)
    mesos_allocator_recover_resources(fw->master->allocator, fw->id, a->id, role, left,
                                      refuse_seconds(acc->filters), NULL);
  mesos_resources_free(left);
  mesos__free(role);
}

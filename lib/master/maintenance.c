/*
 * Maintenance (Mesos's maintenance primitives): the schedule and each
 * machine's mode live in the registry (registry.h: UPDATE_SCHEDULE,
 * START_MAINTENANCE, STOP_MAINTENANCE check the transitions); this file
 * answers the operator calls and applies the schedule:
 *  - agents on scheduled machines get an unavailability in the allocator,
 *    which then asks the frameworks using them to give them back (inverse
 *    offers, sent as INVERSE_OFFERS events from the callback below);
 *  - START_MAINTENANCE takes machines DOWN: their agents are told to shut
 *    down and removed, and are refused while the machine is down;
 *  - STOP_MAINTENANCE brings them UP and out of the schedule.
 *
 * Machines are matched to agents by hostname (an agent announces no IP of
 * its own in our protocol), falling back to the IP when only that is
 * given and the agent's hostname is an address.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/pb.h"
#include "master/master_auth.h"
#include "master/operator_int.h"

static int machine_matches(const Mesos__V1__MachineID *id, const char *hostname) {
  if (id == NULL || hostname == NULL) return 0;
  if (id->hostname && id->hostname[0]) return strcasecmp(id->hostname, hostname) == 0;
  return id->ip && strcmp(id->ip, hostname) == 0;
}

mesos__machine_mode mesos__maintenance_mode(const mesos_master *m, const char *hostname) {
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  for (size_t i = 0; reg && i < reg->n_machines; i++) {
    const Mesos__V1__MachineInfo *mi = reg->machines[i];
    if (!machine_matches(mi->id, hostname)) continue;
    if (mi->has_mode && mi->mode == MESOS__V1__MACHINE_INFO__MODE__DOWN) return MESOS__MACHINE_DOWN;
    return MESOS__MACHINE_DRAINING;
  }
  return MESOS__MACHINE_UP;
}

int mesos__operator_machine_down(const mesos_master *m, const char *hostname) {
  return hostname && mesos__maintenance_mode(m, hostname) == MESOS__MACHINE_DOWN;
}

/* The window the agent's machine is scheduled in, or NULL. */
static const Mesos__V1__Unavailability *agent_window(const mesos_master *m, const mesos__agent *a) {
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  for (size_t s = 0; reg && s < reg->n_schedules; s++)
    for (size_t w = 0; w < reg->schedules[s]->n_windows; w++) {
      const Mesos__V1__Maintenance__Window *win = reg->schedules[s]->windows[w];
      for (size_t k = 0; k < win->n_machine_ids; k++)
        if (machine_matches(win->machine_ids[k], a->info->hostname)) return win->unavailability;
    }
  return NULL;
}

static void io_free(mesos__op_io *io) {
  if (io == NULL) return;
  mesos__free(io->agent_id);
  mesos__free(io->framework_id);
  mesos__free(io);
}

static mesos__op_io *io_new(const char *agent_id, const char *framework_id, int status) {
  mesos__op_io *io = MESOS__NEW(mesos__op_io);
  if (io == NULL) return NULL;
  io->agent_id = mesos__strdup(agent_id);
  io->framework_id = mesos__strdup(framework_id);
  io->status = status;
  io->ts_ns = (int64_t)(mesos__master_now() * 1e9);
  if (io->agent_id == NULL || io->framework_id == NULL) {
    io_free(io);
    return NULL;
  }
  return io;
}

static void io_key(char *key, size_t cap, const char *agent_id, const char *framework_id) {
  snprintf(key, cap, "%s\n%s", agent_id, framework_id);
}

/* Replaces (or adds) the (agent, framework) answer; false when it could
 * not be kept. */
static int io_set_status(mesos__operator *op, const char *agent_id, const char *framework_id,
                         int status) {
  char key[640];
  io_key(key, sizeof key, agent_id, framework_id);
  mesos__op_io *old = mesos__map_get(&op->io_status, key);
  if (old && status == MESOS__V1__ALLOCATOR__INVERSE_OFFER_STATUS__STATUS__UNKNOWN) return 1;
  if (old == NULL && mesos__map_count(&op->io_status) >= MESOS__OP_MAX_INVERSE) return 0;
  mesos__op_io *io = io_new(agent_id, framework_id, status);
  if (io == NULL || mesos__map_put(&op->io_status, key, io) != MESOS_OK) {
    io_free(io);
    return 0;
  }
  io_free(old);
  return 1;
}

/* Forgets the inverse offers and answers of agents no longer scheduled for
 * maintenance (or gone): each window's answers belong to that window. */
static void io_prune(mesos_master *m) {
  mesos__operator *op = m->op;
  if (op == NULL) return;
  mesos__map *maps[2] = {&op->io_outstanding, &op->io_status};
  for (int k = 0; k < 2; k++) {
    for (;;) {
      size_t it = 0;
      const char *key;
      void *v;
      char *victim = NULL;
      while (!victim && mesos__map_next(maps[k], &it, &key, &v)) {
        mesos__op_io *io = v;
        mesos__agent *a = mesos__map_get(&m->agents, io->agent_id);
        if (a == NULL || agent_window(m, a) == NULL) victim = mesos__strdup(key);
      }
      if (victim == NULL) break;
      io_free(mesos__map_remove(maps[k], victim));
      mesos__free(victim);
    }
  }
}

void mesos__maintenance_apply(mesos_master *m) {
  io_prune(m);
  if (m->allocator == NULL) return;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->agents, &it, NULL, &v)) {
    mesos__agent *a = v;
    const Mesos__V1__Unavailability *u = agent_window(m, a);
    mesos_allocator_unavailability au;
    if (u) {
      au.start_ns = u->start ? u->start->nanoseconds : 0;
      au.duration_ns = u->duration ? u->duration->nanoseconds : 0;
    }
    mesos_error *e = NULL;
    mesos_status st = mesos_allocator_update_unavailability(m->allocator, a->id, u ? &au : NULL, &e);
    if (st != MESOS_OK && st != MESOS_EUNSUPPORTED)
      LOG_WARN("agent %s: cannot update its unavailability: %s", a->id,
               e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
  }
}

void mesos__operator_inverse_offer_cb(const char *framework_id, const char *agent_id,
                                      const mesos_allocator_unavailability *u, void *ud) {
  mesos_master *m = ud;
  mesos__framework *fw = mesos__map_get(&m->frameworks, framework_id);
  if (fw == NULL || m->op == NULL) return;
  char id[128];
  snprintf(id, sizeof id, "%s-I%llu", m->id, (unsigned long long)m->op->next_inverse++);
  Mesos__V1__InverseOffer io = MESOS__V1__INVERSE_OFFER__INIT;
  Mesos__V1__OfferID oid = MESOS__V1__OFFER_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__Unavailability un = MESOS__V1__UNAVAILABILITY__INIT;
  Mesos__V1__TimeInfo start = MESOS__V1__TIME_INFO__INIT;
  Mesos__V1__DurationInfo dur = MESOS__V1__DURATION_INFO__INIT;
  oid.value = id;
  fid.value = (char *)framework_id;
  aid.value = (char *)agent_id;
  start.nanoseconds = u ? u->start_ns : 0;
  un.start = &start;
  if (u && u->duration_ns) {
    dur.nanoseconds = u->duration_ns;
    un.duration = &dur;
  }
  io.id = &oid;
  io.framework_id = &fid;
  io.agent_id = &aid;
  io.unavailability = &un;
  Mesos__V1__InverseOffer *ios[1] = {&io};
  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  Mesos__V1__Scheduler__Event__InverseOffers ie = MESOS__V1__SCHEDULER__EVENT__INVERSE_OFFERS__INIT;
  ie.n_inverse_offers = 1;
  ie.inverse_offers = ios;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__INVERSE_OFFERS;
  ev.inverse_offers = &ie;
  LOG_INFO("Inverse offer %s to framework %s for agent %s", id, framework_id, agent_id);
  /* Remembered so the answer can be matched; the framework's status for
   * the agent shows as UNKNOWN until it answers. */
  mesos__operator *op = m->op;
  if (mesos__map_count(&op->io_outstanding) < MESOS__OP_MAX_INVERSE) {
    mesos__op_io *rec = io_new(agent_id, framework_id,
                               MESOS__V1__ALLOCATOR__INVERSE_OFFER_STATUS__STATUS__UNKNOWN);
    if (rec == NULL || mesos__map_put(&op->io_outstanding, id, rec) != MESOS_OK) io_free(rec);
  }
  io_set_status(op, agent_id, framework_id,
                MESOS__V1__ALLOCATOR__INVERSE_OFFER_STATUS__STATUS__UNKNOWN);
  mesos__framework_send(fw, &ev);
}

void mesos__maintenance_inverse_answer(mesos__framework *fw, Mesos__V1__OfferID **ids, size_t n,
                                       const Mesos__V1__Filters *filters, int accept) {
  mesos_master *m = fw->master;
  mesos__operator *op = m->op;
  if (op == NULL) return;
  /* Filters.refuse_seconds defaults to 5 (mesos.proto). */
  double refuse = filters && filters->has_refuse_seconds ? filters->refuse_seconds : 5.0;
  if (!(refuse >= 0) || refuse > 365.0 * 86400) refuse = 365.0 * 86400;
  for (size_t i = 0; i < n; i++) {
    const char *id = ids[i] ? ids[i]->value : NULL;
    mesos__op_io *io = id ? mesos__map_get(&op->io_outstanding, id) : NULL;
    if (io == NULL || strcmp(io->framework_id, fw->id) != 0) {
      LOG_INFO("Framework %s answered unknown inverse offer %s: ignored", fw->id, id ? id : "");
      continue;
    }
    mesos__map_remove(&op->io_outstanding, id);
    io_set_status(op, io->agent_id, fw->id,
                  accept ? MESOS__V1__ALLOCATOR__INVERSE_OFFER_STATUS__STATUS__ACCEPT
                         : MESOS__V1__ALLOCATOR__INVERSE_OFFER_STATUS__STATUS__DECLINE);
    mesos_error *e = NULL;
    if (m->allocator &&
        mesos_allocator_update_inverse_offer(m->allocator, fw->id, io->agent_id, refuse, &e) !=
            MESOS_OK) {
      LOG_INFO("inverse offer %s: allocator: %s", id, e ? mesos_error_message(e) : "refused");
      mesos_error_free(e);
    }
    LOG_INFO("Framework %s %s inverse offer %s for agent %s (refuse %.3g s)", fw->id,
             accept ? "accepted" : "declined", id, io->agent_id, refuse);
    io_free(io);
  }
}

/* The ClusterStatus of GET_MAINTENANCE_STATUS and /maintenance/status:
 * draining machines with each framework's latest answer for the agents on
 * them, and down machines.  Borrows the registry's records. */
static Mesos__V1__Maintenance__ClusterStatus *cluster_status(mesos__op_scratch *s,
                                                             mesos_master *m) {
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  Mesos__V1__Maintenance__ClusterStatus *cs = mesos__op_alloc(s, sizeof *cs);
  if (cs == NULL) return NULL;
  mesos__v1__maintenance__cluster_status__init(cs);
  size_t n = reg ? reg->n_machines : 0;
  cs->draining_machines = mesos__op_alloc(s, (n ? n : 1) * sizeof *cs->draining_machines);
  cs->down_machines = mesos__op_alloc(s, (n ? n : 1) * sizeof *cs->down_machines);
  size_t nst = mesos__map_count(&m->op->io_status);
  for (size_t i = 0; cs->draining_machines && cs->down_machines && i < n; i++) {
    const Mesos__V1__MachineInfo *mi = reg->machines[i];
    if (mi->has_mode && mi->mode == MESOS__V1__MACHINE_INFO__MODE__DOWN) {
      cs->down_machines[cs->n_down_machines++] = mi->id;
      continue;
    }
    Mesos__V1__Maintenance__ClusterStatus__DrainingMachine *d = mesos__op_alloc(s, sizeof *d);
    if (d == NULL) break;
    mesos__v1__maintenance__cluster_status__draining_machine__init(d);
    d->id = mi->id;
    if (nst) d->statuses = mesos__op_alloc(s, nst * sizeof *d->statuses);
    size_t it = 0;
    void *v;
    while (d->statuses && mesos__map_next(&m->op->io_status, &it, NULL, &v)) {
      mesos__op_io *io = v;
      mesos__agent *a = mesos__map_get(&m->agents, io->agent_id);
      if (a == NULL || !machine_matches(mi->id, a->info->hostname)) continue;
      Mesos__V1__Allocator__InverseOfferStatus *st = mesos__op_alloc(s, sizeof *st);
      Mesos__V1__FrameworkID *fid = mesos__op_alloc(s, sizeof *fid);
      Mesos__V1__TimeInfo *ts = mesos__op_alloc(s, sizeof *ts);
      if (!st || !fid || !ts) break;
      mesos__v1__allocator__inverse_offer_status__init(st);
      mesos__v1__framework_id__init(fid);
      mesos__v1__time_info__init(ts);
      fid->value = io->framework_id;
      ts->nanoseconds = io->ts_ns;
      st->status = (Mesos__V1__Allocator__InverseOfferStatus__Status)io->status;
      st->framework_id = fid;
      st->timestamp = ts;
      d->statuses[d->n_statuses++] = st;
    }
    cs->draining_machines[cs->n_draining_machines++] = d;
  }
  return cs;
}

static void status_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  mesos__op_scratch s;
  mesos__op_scratch_init(&s, 4096);
  Mesos__V1__Maintenance__ClusterStatus *cs = cluster_status(&s, m);
  if (cs) mesos__master_auth_filter_cluster_status(m, mesos__http_request_principal(req), cs);
  if (mesos__auth_parked(m->auth)) { /* a late authorizer: replayed with the answer */
    mesos__op_scratch_free(&s);
    return;
  }
  if (cs == NULL || s.oom) mesos__http_respond_text(req, 503, "Out of memory");
  else mesos__op_respond(req, MESOS__MEDIA_JSON, &cs->base);
  mesos__op_scratch_free(&s);
}

/* Registry errors of the maintenance operations as Mesos's answers. */
static void respond_registry_error(mesos__http_request *req, mesos_status st, mesos_error *e,
                                   const char *what) {
  char msg[600];
  snprintf(msg, sizeof msg, "Failed to %s: %s", what,
           e ? mesos_error_message(e) : mesos_status_str(st));
  int code = st == MESOS_EINVAL || st == MESOS_ENOTFOUND || st == MESOS_EEXIST ? 400 : 503;
  mesos__http_respond_text(req, code, msg);
}

static const char *machines_invalid(Mesos__V1__MachineID **ids, size_t n) {
  if (n == 0) return "no machines given";
  for (size_t i = 0; i < n; i++) {
    const Mesos__V1__MachineID *id = ids[i];
    if ((id->hostname == NULL || !id->hostname[0]) && (id->ip == NULL || !id->ip[0]))
      return "a machine needs a hostname or an ip";
    for (size_t k = 0; k < i; k++) {
      const Mesos__V1__MachineID *o = ids[k];
      if (!strcmp(o->hostname ? o->hostname : "", id->hostname ? id->hostname : "") &&
          !strcmp(o->ip ? o->ip : "", id->ip ? id->ip : ""))
        return "a machine is listed twice";
    }
  }
  return NULL;
}

static void take_down_agents(mesos_master *m, Mesos__V1__MachineID **ids, size_t n) {
  for (;;) {
    mesos__agent *victim = NULL;
    size_t it = 0;
    void *v;
    while (!victim && mesos__map_next(&m->agents, &it, NULL, &v))
      for (size_t i = 0; i < n; i++)
        if (machine_matches(ids[i], ((mesos__agent *)v)->info->hostname)) victim = v;
    if (victim == NULL) return;
    Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
    ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
    ev.has_type = 1;
    ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_AGENT;
    mesos__agent_send(victim, &ev);
    mesos__agent_remove(victim, "its machine is DOWN for maintenance", 0);
  }
}

int mesos__maintenance_call(mesos_master *m, mesos__http_request *req, mesos__media media,
                            const Mesos__V1__Master__Call *call) {
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  Mesos__Internal__RegistryOperation op = MESOS__INTERNAL__REGISTRY_OPERATION__INIT;
  op.has_type = 1;
  mesos_error *e = NULL;
  mesos_status st;
  const char *bad;
  switch (call->type) {
    case MESOS__V1__MASTER__CALL__TYPE__GET_MAINTENANCE_SCHEDULE: {
      Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
      Mesos__V1__Master__Response__GetMaintenanceSchedule gs =
          MESOS__V1__MASTER__RESPONSE__GET_MAINTENANCE_SCHEDULE__INIT;
      Mesos__V1__Maintenance__Schedule empty = MESOS__V1__MAINTENANCE__SCHEDULE__INIT;
      gs.schedule = reg && reg->n_schedules ? reg->schedules[0] : &empty;
      r.has_type = 1;
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_MAINTENANCE_SCHEDULE;
      r.get_maintenance_schedule = &gs;
      mesos__master_auth_filter_lists(m, req, &r, NULL); /* GET_MAINTENANCE_SCHEDULE */
      mesos__op_respond(req, media, &r.base);
      return 1;
    }
    case MESOS__V1__MASTER__CALL__TYPE__GET_MAINTENANCE_STATUS: {
      mesos__op_scratch s;
      mesos__op_scratch_init(&s, 4096);
      Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
      Mesos__V1__Master__Response__GetMaintenanceStatus gs =
          MESOS__V1__MASTER__RESPONSE__GET_MAINTENANCE_STATUS__INIT;
      gs.status = cluster_status(&s, m);
      r.has_type = 1;
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_MAINTENANCE_STATUS;
      r.get_maintenance_status = &gs;
      mesos__master_auth_filter_lists(m, req, &r, &s); /* GET_MAINTENANCE_STATUS */
      if (s.oom) mesos__http_respond_text(req, 503, "Out of memory");
      else mesos__op_respond(req, media, &r.base);
      mesos__op_scratch_free(&s);
      return 1;
    }
    case MESOS__V1__MASTER__CALL__TYPE__UPDATE_MAINTENANCE_SCHEDULE: {
      Mesos__V1__Maintenance__Schedule *sch = call->update_maintenance_schedule->schedule;
      for (size_t w = 0; sch && w < sch->n_windows; w++) {
        const Mesos__V1__Maintenance__Window *win = sch->windows[w];
        bad = machines_invalid(win->machine_ids, win->n_machine_ids);
        if (!bad && (win->unavailability == NULL || win->unavailability->start == NULL))
          bad = "a window needs an unavailability with a start";
        if (!bad && win->unavailability->duration &&
            win->unavailability->duration->nanoseconds < 0)
          bad = "a window's duration must not be negative";
        if (bad) {
          char msg[256];
          snprintf(msg, sizeof msg, "Failed to validate maintenance schedule: %s", bad);
          mesos__http_respond_text(req, 400, msg);
          return 1;
        }
      }
      op.type = MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__UPDATE_SCHEDULE;
      op.schedule = sch;
      st = mesos__registry_apply(m->registry, &op, &e);
      if (st != MESOS_OK) {
        respond_registry_error(req, st, e, "update the maintenance schedule");
        mesos_error_free(e);
        return 1;
      }
      LOG_INFO("Maintenance schedule updated: %zu windows", sch ? sch->n_windows : 0);
      mesos__maintenance_apply(m);
      mesos__http_respond(req, 200, NULL, "", 0);
      return 1;
    }
    case MESOS__V1__MASTER__CALL__TYPE__START_MAINTENANCE:
    case MESOS__V1__MASTER__CALL__TYPE__STOP_MAINTENANCE: {
      int start = call->type == MESOS__V1__MASTER__CALL__TYPE__START_MAINTENANCE;
      Mesos__V1__MachineID **ids =
          start ? call->start_maintenance->machines : call->stop_maintenance->machines;
      size_t n = start ? call->start_maintenance->n_machines : call->stop_maintenance->n_machines;
      if ((bad = machines_invalid(ids, n)) != NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "Failed to validate the machines: %s", bad);
        mesos__http_respond_text(req, 400, msg);
        return 1;
      }
      op.type = start ? MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__START_MAINTENANCE
                      : MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__STOP_MAINTENANCE;
      op.machines = ids;
      op.n_machines = n;
      st = mesos__registry_apply(m->registry, &op, &e);
      if (st != MESOS_OK) {
        respond_registry_error(req, st, e, start ? "start maintenance" : "stop maintenance");
        mesos_error_free(e);
        return 1;
      }
      LOG_INFO("%s maintenance on %zu machines", start ? "Started" : "Stopped", n);
      mesos__http_respond(req, 200, NULL, "", 0);
      if (start) take_down_agents(m, ids, n);
      mesos__maintenance_apply(m);
      return 1;
    }
    default:
      return 0;
  }
}

/* ------------------------------------------------------------ agent records */

/*
 * DEACTIVATE_AGENT, REACTIVATE_AGENT and DRAIN_AGENT (Mesos 1.9 calls; we
 * take them as they are since nothing in 1.0 contradicts them) and the
 * operator's reservations and volumes all live in the agent's registry
 * record (Registry.Agent: resources, drain_info, deactivated), so they
 * survive a master restart.  The record is the one truth; what the
 * allocator and the agent are told follows from it:
 *  - a deactivated or draining agent is deactivated in the allocator (no
 *    offers), and again whenever it (re-)registers;
 *  - a draining agent's tasks are killed (grace capped by the drain's
 *    max_grace_period), again on re-registration; once it runs no task the
 *    drain is DRAINED, and with mark_gone the agent is then marked gone.
 */

/* An agent's registry record, admitted or unreachable (borrowed). */
typedef struct agent_record {
  const Mesos__V1__AgentInfo *info; /* NULL for an unreachable agent */
  Mesos__V1__Resource **resources;
  size_t n_resources;
  Mesos__V1__DrainInfo *drain_info;
  int deactivated;
} agent_record;

/* Mesos takes DRAIN_AGENT and DEACTIVATE_AGENT for admitted and for
 * unreachable agents alike, and an unreachable agent's record keeps its
 * drain state for its readmission: both are looked up here. */
static int find_record(const mesos_master *m, const char *agent_id, agent_record *out) {
  memset(out, 0, sizeof *out);
  if (agent_id == NULL) return 0;
  const Mesos__Internal__Registry__Agent *a = mesos__registry_find_agent(m->registry, agent_id);
  if (a) {
    out->info = a->info;
    out->resources = a->resources;
    out->n_resources = a->n_resources;
    out->drain_info = a->drain_info;
    out->deactivated = a->has_deactivated && a->deactivated;
    return 1;
  }
  const Mesos__Internal__Registry__UnreachableAgent *u =
      mesos__registry_find_unreachable(m->registry, agent_id);
  if (u == NULL) return 0;
  out->resources = u->resources;
  out->n_resources = u->n_resources;
  out->drain_info = u->drain_info;
  out->deactivated = u->has_deactivated && u->deactivated;
  return 1;
}

mesos_status mesos__op_update_agent_record(mesos_master *m, const char *agent_id,
                                           const mesos__agent_record_change *c,
                                           mesos_error **err) {
  agent_record rec;
  if (!find_record(m, agent_id, &rec))
    return mesos__err(err, MESOS_ENOTFOUND, "agent %s is neither admitted nor unreachable",
                      agent_id);
  Mesos__Internal__RegistryOperation op = MESOS__INTERNAL__REGISTRY_OPERATION__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = (char *)agent_id;
  op.has_type = 1;
  op.type = MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__UPDATE_AGENT;
  op.agent_info = (Mesos__V1__AgentInfo *)rec.info; /* NULL: the unreachable entry */
  op.agent_id = rec.info ? NULL : &aid;
  op.resources = c->set_resources ? c->resources : rec.resources;
  op.n_resources = c->set_resources ? c->n_resources : rec.n_resources;
  op.drain_info = c->set_drain ? c->drain_info : rec.drain_info;
  int deact = c->set_deactivated ? c->deactivated : rec.deactivated;
  op.has_deactivated = deact != 0;
  op.deactivated = deact != 0;
  mesos__agent_changed(mesos__map_get(&m->agents, agent_id)); /* its drain state */
  return mesos__registry_apply(m->registry, &op, err);
}

/* The agent's drain state in the registry (UNKNOWN: not draining). */
static Mesos__V1__DrainState drain_state(const mesos_master *m, const char *agent_id,
                                         const Mesos__V1__DrainInfo **info) {
  agent_record rec;
  int found = find_record(m, agent_id, &rec);
  if (info) *info = found ? rec.drain_info : NULL;
  return found && rec.drain_info ? rec.drain_info->state : MESOS__V1__DRAIN_STATE__UNKNOWN;
}

static int agent_deactivated(const mesos_master *m, const char *agent_id) {
  agent_record rec;
  return find_record(m, agent_id, &rec) && (rec.deactivated || rec.drain_info);
}

static int agent_runs_tasks(const mesos__agent *a) {
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    const mesos__task *t = v;
    if (!mesos__task_state_terminal(t->state)) return 1;
  }
  return 0;
}

/* Kills every running task of a draining agent.  The grace period is the
 * task's own kill policy capped by the drain's max_grace_period, as Mesos
 * does it. */
static void kill_for_drain(mesos__agent *a, const Mesos__V1__DrainInfo *di) {
  const Mesos__V1__DurationInfo *cap =
      di && di->config ? di->config->max_grace_period : NULL;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__task *t = v;
    if (mesos__task_state_terminal(t->state)) continue;
    Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
    Mesos__Internal__KillTask kt = MESOS__INTERNAL__KILL_TASK__INIT;
    Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
    Mesos__V1__KillPolicy kp = MESOS__V1__KILL_POLICY__INIT;
    Mesos__V1__DurationInfo grace = MESOS__V1__DURATION_INFO__INIT;
    fid.value = t->fw->id;
    kt.framework_id = &fid;
    kt.task_id = mesos__task_tid(t);
    const Mesos__V1__KillPolicy *policy = mesos__task_body_kill_policy(t->body);
    const Mesos__V1__DurationInfo *own = policy ? policy->grace_period : NULL;
    if (cap) {
      grace.nanoseconds = own && own->nanoseconds < cap->nanoseconds ? own->nanoseconds
                                                                      : cap->nanoseconds;
      kp.grace_period = &grace;
      kt.kill_policy = &kp;
    }
    ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
    ev.has_type = 1;
    ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__KILL_TASK;
    ev.kill_task = &kt;
    if (mesos__agent_send(a, &ev) == MESOS_OK)
      LOG_INFO("Killing task %s on draining agent %s", t->key, a->id);
  }
}

/* Moves every draining agent that runs no task to DRAINED (and marks it
 * gone when its drain asked for that).  Runs from a zero-delay timer, never
 * inside a task update: marking an agent gone frees its tasks. */
static void drain_check_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos_master *m = ud;
  for (;;) {
    mesos__agent *done = NULL;
    size_t it = 0;
    void *v;
    while (!done && mesos__map_next(&m->agents, &it, NULL, &v)) {
      mesos__agent *a = v;
      if (drain_state(m, a->id, NULL) == MESOS__V1__DRAIN_STATE__DRAINING && !agent_runs_tasks(a))
        done = a;
    }
    if (done == NULL) return;
    const Mesos__V1__DrainInfo *old = NULL;
    drain_state(m, done->id, &old);
    Mesos__V1__DrainInfo di = MESOS__V1__DRAIN_INFO__INIT;
    di.config = old->config;
    di.state = MESOS__V1__DRAIN_STATE__DRAINED;
    int gone = old->config && old->config->has_mark_gone && old->config->mark_gone;
    mesos__agent_record_change c = {0};
    c.set_drain = 1;
    c.drain_info = &di;
    mesos_error *e = NULL;
    if (mesos__op_update_agent_record(m, done->id, &c, &e) != MESOS_OK) {
      LOG_WARN("agent %s: cannot record that it is drained: %s", done->id,
               e ? mesos_error_message(e) : "");
      mesos_error_free(e);
      return; /* tried again at the next task update */
    }
    LOG_INFO("Agent %s is DRAINED", done->id);
    if (gone) {
      char id[256];
      snprintf(id, sizeof id, "%s", done->id);
      if (mesos__op_mark_agent_gone(m, id, &e) != MESOS_OK) {
        LOG_WARN("agent %s: drained, but cannot mark it gone: %s", id,
                 e ? mesos_error_message(e) : "");
        mesos_error_free(e);
      }
    }
  }
}

void mesos__op_drain_check_soon(mesos_master *m, const mesos__agent *a) {
  if (m->op == NULL || m->op->drain_check == NULL) return;
  if (a && drain_state(m, a->id, NULL) != MESOS__V1__DRAIN_STATE__DRAINING) return;
  mesos_timer_start(m->op->drain_check, 0, 0);
}

mesos_status mesos__maintenance_init(mesos_master *m, mesos_error **err) {
  mesos__map_init(&m->op->io_outstanding);
  mesos__map_init(&m->op->io_status);
  mesos_status st = mesos_timer_new(&m->op->drain_check, m->loop, drain_check_cb, m, err);
  /* Read-only realm, like Mesos's /maintenance/status. */
  if (st == MESOS_OK)
    st = mesos__auth_route(m->auth, m->http, "GET", "/maintenance/status", 0,
                           MESOS__REALM_READONLY, 0, NULL, status_handler, m);
  return st;
}

void mesos__maintenance_fini(mesos_master *m) {
  mesos_timer_free(m->op->drain_check);
  m->op->drain_check = NULL;
  mesos__map *maps[2] = {&m->op->io_outstanding, &m->op->io_status};
  for (int k = 0; k < 2; k++) {
    size_t it = 0;
    void *v;
    while (mesos__map_next(maps[k], &it, NULL, &v)) io_free(v);
    mesos__map_free(maps[k]);
  }
}

void mesos__op_agent_registered(mesos__agent *a) {
  mesos_master *m = a->master;
  const Mesos__V1__DrainInfo *di = NULL;
  Mesos__V1__DrainState ds = drain_state(m, a->id, &di);
  if (agent_deactivated(m, a->id) && m->allocator) {
    mesos_allocator_deactivate_agent(m->allocator, a->id, NULL);
    LOG_INFO("Agent %s stays deactivated%s", a->id, ds ? " (draining)" : "");
  }
  if (ds == MESOS__V1__DRAIN_STATE__DRAINING) {
    kill_for_drain(a, di);
    mesos__op_drain_check_soon(m, NULL);
  }
}

void mesos__op_drain_decorate_update(mesos_master *m, const char *agent_id,
                                     Mesos__Internal__StatusUpdate *su) {
  Mesos__V1__TaskStatus *st = su ? su->status : NULL;
  if (st == NULL || (st->state != MESOS__V1__TASK_STATE__TASK_KILLING &&
                     st->state != MESOS__V1__TASK_STATE__TASK_KILLED))
    return;
  const Mesos__V1__DrainInfo *di = NULL;
  if (drain_state(m, agent_id, &di) == MESOS__V1__DRAIN_STATE__UNKNOWN || di == NULL) return;
  /* Mesos's draining agent overwrites any earlier reason, so that
   * schedulers see one consistent signal; with mark_gone a partition-aware
   * framework is told its task is gone by the operator. */
  st->has_reason = 1;
  st->reason = MESOS__V1__TASK_STATUS__REASON__REASON_AGENT_DRAINING;
  mesos__framework *fw =
      su->framework_id && su->framework_id->value
          ? mesos__map_get(&m->frameworks, su->framework_id->value)
          : NULL;
  if (di->config && di->config->has_mark_gone && di->config->mark_gone && fw &&
      mesos__framework_partition_aware(fw)) {
    st->state = MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR;
    if (su->has_latest_state && su->latest_state == MESOS__V1__TASK_STATE__TASK_KILLED)
      su->latest_state = MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR;
  }
}

static mesos__agent *known_agent(mesos_master *m, mesos__http_request *req,
                                 const Mesos__V1__AgentID *aid, int *admitted) {
  const char *id = aid ? aid->value : NULL;
  agent_record rec;
  *admitted = find_record(m, id, &rec);
  if (!*admitted) {
    mesos__http_respond_text(req, 400, "Unknown agent: it is not registered with this master");
    return NULL;
  }
  return mesos__map_get(&m->agents, id); /* NULL: admitted, not re-registered yet */
}

static int record_or_503(mesos_master *m, mesos__http_request *req, const char *id,
                         const mesos__agent_record_change *c, const char *what) {
  mesos_error *e = NULL;
  mesos_status st = mesos__op_update_agent_record(m, id, c, &e);
  if (st == MESOS_OK) return 1;
  respond_registry_error(req, st == MESOS_ENOTFOUND ? MESOS_EIO : st, e, what);
  mesos_error_free(e);
  return 0;
}

static void deactivate_agent(mesos_master *m, mesos__http_request *req,
                             const Mesos__V1__AgentID *aid) {
  int admitted;
  mesos__agent *a = known_agent(m, req, aid, &admitted);
  if (!admitted) return;
  mesos__agent_record_change c = {0};
  c.set_deactivated = 1;
  c.deactivated = 1;
  if (!record_or_503(m, req, aid->value, &c, "deactivate the agent")) return;
  if (a) {
    if (m->allocator) mesos_allocator_deactivate_agent(m->allocator, a->id, NULL);
    mesos__offers_rescind_agent(a);
  }
  LOG_INFO("Agent %s deactivated by the operator", aid->value);
  mesos__http_respond(req, 200, NULL, "", 0);
}

static void reactivate_agent(mesos_master *m, mesos__http_request *req,
                             const Mesos__V1__AgentID *aid) {
  int admitted;
  mesos__agent *a = known_agent(m, req, aid, &admitted);
  if (!admitted) return;
  if (!agent_deactivated(m, aid->value)) {
    mesos__http_respond_text(req, 400, "Agent is not deactivated");
    return;
  }
  if (drain_state(m, aid->value, NULL) == MESOS__V1__DRAIN_STATE__DRAINING) {
    mesos__http_respond_text(req, 409,
                             "Agent is still DRAINING: it can be reactivated once DRAINED");
    return;
  }
  mesos__agent_record_change c = {0};
  c.set_deactivated = 1;
  c.deactivated = 0;
  c.set_drain = 1;
  c.drain_info = NULL;
  if (!record_or_503(m, req, aid->value, &c, "reactivate the agent")) return;
  /* A disconnected agent stays inactive in the allocator until it
   * re-registers (its offers could not be used). */
  if (a && a->stream && m->allocator) {
    mesos_allocator_activate_agent(m->allocator, a->id, NULL);
    mesos__offers_soon(m);
  }
  LOG_INFO("Agent %s reactivated by the operator", aid->value);
  mesos__http_respond(req, 200, NULL, "", 0);
}

static void drain_agent(mesos_master *m, mesos__http_request *req,
                        const Mesos__V1__Master__Call__DrainAgent *d) {
  const Google__Protobuf__Duration *g = d->max_grace_period;
  if (g && (g->seconds < 0 || g->nanos < 0 || g->nanos > 999999999 ||
            g->seconds > INT64_MAX / 1000000000 - 1)) {
    mesos__http_respond_text(req, 400,
                             "Failed to validate master::Call: 'drain_agent.max_grace_period' "
                             "must be a non-negative duration");
    return;
  }
  int admitted;
  mesos__agent *a = known_agent(m, req, d->agent_id, &admitted);
  if (!admitted) return;
  /* Mesos keeps the two ways of emptying an agent apart: one in the
   * maintenance schedule is drained through its inverse offers, not by
   * DRAIN_AGENT (checked, as Mesos does, for agents it can see). */
  if (a && agent_window(m, a) != NULL) {
    char msg[512];
    snprintf(msg, sizeof msg, "Agent %s is part of a maintenance schedule (machine %s)", a->id,
             a->info->hostname ? a->info->hostname : "");
    mesos__http_respond_text(req, 400, msg);
    return;
  }
  Mesos__V1__DrainInfo di = MESOS__V1__DRAIN_INFO__INIT;
  Mesos__V1__DrainConfig dc = MESOS__V1__DRAIN_CONFIG__INIT;
  Mesos__V1__DurationInfo grace = MESOS__V1__DURATION_INFO__INIT;
  if (g) {
    grace.nanoseconds = g->seconds * 1000000000 + g->nanos;
    dc.max_grace_period = &grace;
  }
  dc.has_mark_gone = 1;
  dc.mark_gone = d->has_mark_gone && d->mark_gone;
  di.state = MESOS__V1__DRAIN_STATE__DRAINING;
  di.config = &dc;
  mesos__agent_record_change c = {0};
  c.set_drain = 1;
  c.drain_info = &di;
  c.set_deactivated = 1;
  c.deactivated = 1;
  if (!record_or_503(m, req, d->agent_id->value, &c, "drain the agent")) return;
  LOG_INFO("Draining agent %s (max grace period %s, mark gone: %s)", d->agent_id->value,
           g ? "set" : "unset", dc.mark_gone ? "yes" : "no");
  mesos__http_respond(req, 200, NULL, "", 0);
  if (a) {
    if (m->allocator) mesos_allocator_deactivate_agent(m->allocator, a->id, NULL);
    mesos__offers_rescind_agent(a);
    kill_for_drain(a, &di);
  }
  mesos__op_drain_check_soon(m, NULL);
}

int mesos__agent_state_call(mesos_master *m, mesos__http_request *req,
                            const Mesos__V1__Master__Call *call) {
  switch (call->type) {
    case MESOS__V1__MASTER__CALL__TYPE__DEACTIVATE_AGENT:
      deactivate_agent(m, req, call->deactivate_agent->agent_id);
      return 1;
    case MESOS__V1__MASTER__CALL__TYPE__REACTIVATE_AGENT:
      reactivate_agent(m, req, call->reactivate_agent->agent_id);
      return 1;
    case MESOS__V1__MASTER__CALL__TYPE__DRAIN_AGENT:
      drain_agent(m, req, call->drain_agent);
      return 1;
    default:
      return 0;
  }
}

void mesos__op_agent_drain_view(const mesos_master *m, const mesos__agent *a,
                                Mesos__V1__Master__Response__GetAgents__Agent *ag) {
  const Mesos__Internal__Registry__Agent *rec = mesos__registry_find_agent(m->registry, a->id);
  if (rec == NULL) return;
  ag->has_deactivated = 1;
  ag->deactivated = (rec->has_deactivated && rec->deactivated) || rec->drain_info;
  ag->drain_info = rec->drain_info;
}

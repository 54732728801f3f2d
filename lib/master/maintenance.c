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

void mesos__maintenance_apply(mesos_master *m) {
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
  mesos__framework_send(fw, &ev);
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
      Mesos__V1__Maintenance__ClusterStatus cs = MESOS__V1__MAINTENANCE__CLUSTER_STATUS__INIT;
      size_t n = reg ? reg->n_machines : 0;
      cs.draining_machines = mesos__op_alloc(&s, (n ? n : 1) * sizeof *cs.draining_machines);
      cs.down_machines = mesos__op_alloc(&s, (n ? n : 1) * sizeof *cs.down_machines);
      for (size_t i = 0; cs.draining_machines && cs.down_machines && i < n; i++) {
        const Mesos__V1__MachineInfo *mi = reg->machines[i];
        if (mi->has_mode && mi->mode == MESOS__V1__MACHINE_INFO__MODE__DOWN) {
          cs.down_machines[cs.n_down_machines++] = mi->id;
        } else {
          Mesos__V1__Maintenance__ClusterStatus__DrainingMachine *d =
              mesos__op_alloc(&s, sizeof *d);
          if (d == NULL) break;
          mesos__v1__maintenance__cluster_status__draining_machine__init(d);
          d->id = mi->id;
          cs.draining_machines[cs.n_draining_machines++] = d;
        }
      }
      gs.status = &cs;
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

/*
 * POST /api/v1 on the master (spec/http-api.md section 4): transport checks
 * in Mesos's order (Content-Type 400/415, body 400, validation 400, Accept
 * 406), then one handler per call.
 *
 * Responses borrow the master's live records: a GET_STATE answer is a tree
 * of small structs (allocated in a scratch arena) whose leaves point at the
 * Task, FrameworkInfo and AgentInfo messages the master already keeps, so
 * answering costs the encoding and little else; nothing is copied twice.
 *
 * The operator event stream (SUBSCRIBE) lives here too: every subscriber is
 * a chunked response; events are encoded once per media type and written
 * to each; a subscriber that leaves more than MESOS__OP_SUB_BACKLOG unread
 * is dropped with a log line, so a slow tool never grows the master.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/build_info.h"
#include "base/error.h"
#include "base/log.h"
#include "base/units.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "master/master_auth.h"
#include "master/operator_int.h"
#include "master/resource_ops.h"
#include "mesos/version.h"
#include "resources/resources_int.h"

#define API_VERSION "1.0.0"

/* ------------------------------------------------------------ scratch */

void mesos__op_scratch_init(mesos__op_scratch *s, size_t hint) {
  memset(s, 0, sizeof *s);
  s->arena = mesos__pb_arena_new(hint);
  if (s->arena == NULL) s->oom = 1;
}

void mesos__op_scratch_free(mesos__op_scratch *s) {
  for (size_t i = 0; i < s->n; i++) mesos__pb_free(s->owned[i]);
  mesos__free(s->owned);
  mesos__pb_arena_free(s->arena);
  memset(s, 0, sizeof *s);
}

void *mesos__op_alloc(mesos__op_scratch *s, size_t n) {
  void *p = s->arena ? mesos__pb_arena_alloc(s->arena, n ? n : 1) : NULL;
  if (p == NULL) {
    s->oom = 1;
    return NULL;
  }
  memset(p, 0, n);
  return p;
}

void mesos__op_own(mesos__op_scratch *s, void *msg) {
  if (msg == NULL) return;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    void **v = mesos__realloc(s->owned, cap * sizeof *v);
    if (v == NULL) {
      /* Cannot remember it: free now and fail the response. */
      mesos__pb_free(msg);
      s->oom = 1;
      return;
    }
    s->owned = v;
    s->cap = cap;
  }
  s->owned[s->n++] = msg;
}

Mesos__V1__Resource **mesos__op_resources(mesos__op_scratch *s, const mesos_resources *r,
                                         size_t *n) {
  *n = 0;
  if (r == NULL || r->r.n == 0) return NULL;
  Mesos__V1__Resource **v = NULL;
  size_t k = 0;
  if (mesos__resources_to_protos(&r->r, &v, &k, NULL) != MESOS_OK) {
    s->oom = 1;
    return NULL;
  }
  Mesos__V1__Resource **out = mesos__op_alloc(s, k * sizeof *out);
  for (size_t i = 0; i < k; i++) {
    mesos__op_own(s, v[i]);
    if (out) out[i] = v[i];
  }
  mesos__free(v);
  if (out) *n = k;
  return out;
}

/* ------------------------------------------------------------ responses */

void mesos__op_respond(mesos__http_request *req, mesos__media media, const ProtobufCMessage *msg) {
  mesos__buf b = MESOS__BUF_INIT(MESOS__OP_RESPONSE_MAX);
  mesos_error *e = NULL;
  mesos_status st = media == MESOS__MEDIA_PROTOBUF ? mesos__pb_pack_buf(msg, &b, &e)
                                                   : mesos__json_encode(msg, &b, &e);
  if (st != MESOS_OK) {
    char text[512];
    snprintf(text, sizeof text, "Failed to encode the response: %s",
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    mesos__buf_free(&b);
    mesos__http_respond_text(req, 500, text);
    return;
  }
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", media == MESOS__MEDIA_PROTOBUF
                                                  ? MESOS__MEDIA_TYPE_PROTOBUF
                                                  : MESOS__MEDIA_TYPE_JSON);
  mesos__http_respond(req, 200, &h, b.data ? b.data : "", b.len);
  mesos__http_headers_free(&h);
  mesos__buf_free(&b);
}

static void respond_empty(mesos__http_request *req, int status) {
  mesos__http_respond(req, status, NULL, "", 0);
}

static void respond_oom(mesos__http_request *req) {
  mesos__http_respond_text(req, 503, "Out of memory while building the response");
}

/* ------------------------------------------------------------ builders */

static Mesos__V1__TimeInfo *time_info(mesos__op_scratch *s, double seconds) {
  if (!(seconds > 0)) return NULL;
  Mesos__V1__TimeInfo *t = mesos__op_alloc(s, sizeof *t);
  if (t == NULL) return NULL;
  mesos__v1__time_info__init(t);
  t->nanoseconds = (int64_t)(seconds * 1e9);
  return t;
}

/* Allocated (tasks not yet released) and offered resources on an agent or
 * of a framework. */
static void sum_usage(mesos__map *tasks, mesos__map *offers, mesos_resources *used,
                      mesos_resources *offered) {
  size_t it = 0;
  void *v;
  while (tasks && mesos__map_next(tasks, &it, NULL, &v)) {
    mesos__task *t = v;
    if (!t->released && t->resources) mesos__resources_add_all(&used->r, &t->resources->r);
  }
  it = 0;
  while (offers && mesos__map_next(offers, &it, NULL, &v)) {
    mesos__offer *o = v;
    if (o->resources) mesos__resources_add_all(&offered->r, &o->resources->r);
  }
}

/* Offers on agent `a` (the master keeps them in one table). */
static void agent_offered(mesos_master *m, mesos__agent *a, mesos_resources *offered) {
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->offers, &it, NULL, &v)) {
    mesos__offer *o = v;
    if (o->agent == a && o->resources) mesos__resources_add_all(&offered->r, &o->resources->r);
  }
}

Mesos__V1__Master__Response__GetAgents__Agent *mesos__op_agent(mesos__op_scratch *s,
                                                              mesos__agent *a) {
  Mesos__V1__Master__Response__GetAgents__Agent *ag = mesos__op_alloc(s, sizeof *ag);
  if (ag == NULL) return NULL;
  mesos__v1__master__response__get_agents__agent__init(ag);
  ag->agent_info = a->info;
  ag->active = a->stream != NULL;
  ag->version = (char *)API_VERSION;
  char pid[320];
  snprintf(pid, sizeof pid, "slave(1)@%s", a->info->hostname ? a->info->hostname : "");
  ag->pid = mesos__pb_arena_alloc_bytes(s->arena, strlen(pid) + 1);
  if (ag->pid) memcpy(ag->pid, pid, strlen(pid) + 1);
  ag->registered_time = time_info(s, a->registered_time);
  ag->reregistered_time = time_info(s, a->reregistered_time);
  ag->total_resources = mesos__op_resources(s, a->total, &ag->n_total_resources);
  mesos_resources *used = NULL, *offered = NULL;
  if (mesos_resources_new(&used, NULL) == MESOS_OK &&
      mesos_resources_new(&offered, NULL) == MESOS_OK) {
    sum_usage(&a->tasks, NULL, used, offered);
    agent_offered(a->master, a, offered);
    ag->allocated_resources = mesos__op_resources(s, used, &ag->n_allocated_resources);
    ag->offered_resources = mesos__op_resources(s, offered, &ag->n_offered_resources);
  } else {
    s->oom = 1;
  }
  mesos_resources_free(used);
  mesos_resources_free(offered);
  mesos__op_agent_drain_view(a->master, a, ag);
  return ag;
}

static Mesos__V1__Offer *offer_proto(mesos__op_scratch *s, mesos__offer *o) {
  Mesos__V1__Offer *p = mesos__op_alloc(s, sizeof *p);
  Mesos__V1__OfferID *oid = mesos__op_alloc(s, sizeof *oid);
  Mesos__V1__FrameworkID *fid = mesos__op_alloc(s, sizeof *fid);
  Mesos__V1__AgentID *aid = mesos__op_alloc(s, sizeof *aid);
  if (!p || !oid || !fid || !aid) return NULL;
  mesos__v1__offer__init(p);
  mesos__v1__offer_id__init(oid);
  mesos__v1__framework_id__init(fid);
  mesos__v1__agent_id__init(aid);
  oid->value = o->id;
  fid->value = o->fw->id;
  aid->value = o->agent->id;
  p->id = oid;
  p->framework_id = fid;
  p->agent_id = aid;
  p->hostname = o->agent->info->hostname;
  p->resources = mesos__op_resources(s, o->resources, &p->n_resources);
  return p;
}

Mesos__V1__Master__Response__GetFrameworks__Framework *mesos__op_framework(
    mesos__op_scratch *s, mesos__framework *fw) {
  Mesos__V1__Master__Response__GetFrameworks__Framework *f = mesos__op_alloc(s, sizeof *f);
  if (f == NULL) return NULL;
  mesos__v1__master__response__get_frameworks__framework__init(f);
  f->framework_info = fw->info;
  f->active = fw->stream != NULL;
  f->connected = fw->stream != NULL;
  f->recovered = 0;
  f->registered_time = time_info(s, fw->registered_time);
  f->reregistered_time = time_info(s, fw->reregistered_time);
  size_t no = mesos__map_count(&fw->offers);
  if (no) {
    f->offers = mesos__op_alloc(s, no * sizeof *f->offers);
    size_t it = 0;
    void *v;
    while (f->offers && mesos__map_next(&fw->offers, &it, NULL, &v)) {
      Mesos__V1__Offer *p = offer_proto(s, v);
      if (p) f->offers[f->n_offers++] = p;
    }
  }
  mesos_resources *used = NULL, *offered = NULL;
  if (mesos_resources_new(&used, NULL) == MESOS_OK &&
      mesos_resources_new(&offered, NULL) == MESOS_OK) {
    sum_usage(&fw->tasks, &fw->offers, used, offered);
    f->allocated_resources = mesos__op_resources(s, used, &f->n_allocated_resources);
    f->offered_resources = mesos__op_resources(s, offered, &f->n_offered_resources);
  } else {
    s->oom = 1;
  }
  mesos_resources_free(used);
  mesos_resources_free(offered);
  return f;
}

/* ------------------------------------------------------------ completed */

/* Frees a completed Task, unless a state snapshot still reads it. */
static void task_drop(mesos__operator *op, Mesos__V1__Task *t) {
  if (!mesos__state_retire_task(op->m, t)) mesos__pb_free(t);
}

static void ring_free(mesos__operator *op, mesos__op_tasks *r) {
  for (size_t i = 0; i < r->n; i++) task_drop(op, r->v[(r->head + i) % r->cap]);
  mesos__free(r->v);
  memset(r, 0, sizeof *r);
}

/* Appends, evicting the oldest when full.  Takes `t` (freed on failure). */
static void ring_push(mesos__operator *op, mesos__op_tasks *r, size_t max, Mesos__V1__Task *t) {
  if (max == 0) {
    task_drop(op, t);
    return;
  }
  if (r->cap == 0) {
    /* Grow in steps up to max, so idle frameworks cost little. */
    size_t cap = max < 16 ? max : 16;
    r->v = mesos__calloc(cap, sizeof *r->v);
    if (r->v == NULL) {
      task_drop(op, t);
      return;
    }
    r->cap = cap;
  } else if (r->n == r->cap && r->cap < max) {
    size_t cap = r->cap * 2 < max ? r->cap * 2 : max;
    Mesos__V1__Task **v = mesos__calloc(cap, sizeof *v);
    if (v) {
      for (size_t i = 0; i < r->n; i++) v[i] = r->v[(r->head + i) % r->cap];
      mesos__free(r->v);
      r->v = v;
      r->cap = cap;
      r->head = 0;
    }
  }
  if (r->n == r->cap) {
    task_drop(op, r->v[r->head]);
    r->v[r->head] = t;
    r->head = (r->head + 1) % r->cap;
    return;
  }
  r->v[(r->head + r->n) % r->cap] = t;
  r->n++;
}

const mesos__op_tasks *mesos__op_completed_tasks(const mesos_master *m, const char *fw_id) {
  return m->op ? mesos__map_get(&m->op->live_done, fw_id) : NULL;
}

static void keep_completed(mesos__task *t);

void mesos__operator_on_task_freed(mesos__task *t) {
  mesos__framework_changed(t->fw);
  mesos__agent_changed(t->agent);
  keep_completed(t);
  /* Not kept: task_free frees them, unless a state snapshot reads them
   * off the loop (the body, and a bag the task owns). */
  mesos_master *m = t->fw ? t->fw->master : NULL;
  if (m && t->body && mesos__state_retire_body(m, t->body)) t->body = NULL;
  if (m && !t->res_shared && t->resources && mesos__state_retire_resources(m, t->resources))
    t->resources = NULL;
}

/* Keeps a copy of the task's Task message in its framework's completed
 * tasks (when there is room to keep any). */
static void keep_completed(mesos__task *t) {
  mesos_master *m = t->fw ? t->fw->master : NULL;
  if (m == NULL || m->op == NULL || t->body == NULL) return;
  mesos__operator *op = m->op;
  if (t->agent) mesos__op_drain_check_soon(m, t->agent);
  if (op->max_tasks_per_fw == 0) return;
  mesos__op_tasks *ring = mesos__map_get(&op->live_done, t->fw->id);
  /* The tasks of a framework being removed are freed after
   * on_framework_removed moved it to the completed frameworks: they join
   * it there (never a new ring for an id that cannot come back). */
  if (ring == NULL && strcmp(op->removing_id, t->fw->id) == 0) {
    mesos__op_done_fw *last =
        op->done_n ? &op->done[(op->done_head + op->done_n - 1) % op->done_cap] : NULL;
    if (last == NULL || last->info == NULL || last->info->id == NULL ||
        last->info->id->value == NULL || strcmp(last->info->id->value, t->fw->id) != 0)
      return; /* not kept (--max_completed_frameworks=0) */
    Mesos__V1__Task *copy = mesos__task_to_proto(t);
    if (copy == NULL) return;
    if (!mesos__task_state_terminal(copy->state)) copy->state = MESOS__V1__TASK_STATE__TASK_KILLED;
    ring_push(op, &last->tasks, op->max_tasks_per_fw, copy);
    return;
  }
  if (ring == NULL) {
    ring = MESOS__NEW(mesos__op_tasks);
    if (ring == NULL) return;
    if (mesos__map_put(&op->live_done, t->fw->id, ring) != MESOS_OK) {
      mesos__free(ring);
      return;
    }
  }
  Mesos__V1__Task *copy = mesos__task_to_proto(t);
  if (copy == NULL) return;
  /* A task forgotten before it ended (its agent or framework went away)
   * is recorded as lost, as Mesos's completed tasks show it. */
  if (!mesos__task_state_terminal(copy->state)) copy->state = MESOS__V1__TASK_STATE__TASK_LOST;
  ring_push(op, ring, op->max_tasks_per_fw, copy);
}

/* ------------------------------------------------------------ events */

static void sub_remove(mesos__operator *op, size_t i, int end) {
  mesos__http_request *req = op->subs[i].req;
  mesos__buf_free(&op->subs[i].queued);
  mesos__auth_view_free(&op->subs[i].view);
  op->subs[i] = op->subs[--op->nsubs];
  mesos__http_request_on_abort(req, NULL, NULL);
  if (end) mesos__http_stream_end(req);
}

static void sub_aborted(mesos__http_request *req, void *ud) {
  mesos__operator *op = ud;
  for (size_t i = 0; i < op->nsubs; i++)
    if (op->subs[i].req == req) {
      mesos__buf_free(&op->subs[i].queued);
      mesos__auth_view_free(&op->subs[i].view);
      op->subs[i] = op->subs[--op->nsubs];
      LOG_INFO("Operator event stream subscriber went away (%zu left)", op->nsubs);
      return;
    }
}

/* Sends one event to every subscriber, encoding it at most once per
 * media type. */
static void broadcast(mesos__operator *op, const Mesos__V1__Master__Event *ev) {
  if (op == NULL || op->nsubs == 0) return;
  mesos__buf rec[3] = {MESOS__BUF_INIT(MESOS__OP_RESPONSE_MAX), MESOS__BUF_INIT(MESOS__OP_RESPONSE_MAX),
                       MESOS__BUF_INIT(MESOS__OP_RESPONSE_MAX)};
  int done[3] = {0, 0, 0};
  for (size_t i = 0; i < op->nsubs;) {
    mesos__op_sub *sub = &op->subs[i];
    if (!mesos__master_auth_event_visible(op->m, &sub->view, ev)) {
      i++;
      continue;
    }
    if (sub->pending && (!sub->snapshotted || sub->overflow)) {
      i++; /* its snapshot shows this (or it is to be dropped) */
      continue;
    }
    int k = sub->media == MESOS__MEDIA_PROTOBUF ? 2 : 1;
    if (!done[k]) {
      if (mesos__encode_event_record(&ev->base, sub->media, &rec[k], NULL) != MESOS_OK)
        LOG_ERROR("cannot encode an operator event of type %d", (int)ev->type);
      done[k] = 1;
    }
    if (sub->pending) {
      /* SUBSCRIBED is still going out: the event waits behind it. */
      if (rec[k].len && (sub->queued.len + rec[k].len > MESOS__OP_SUB_BACKLOG ||
                         mesos__buf_append(&sub->queued, rec[k].data, rec[k].len) != MESOS_OK)) {
        sub->overflow = 1;
        mesos__buf_free(&sub->queued);
      }
      i++;
      continue;
    }
    size_t pending = mesos__http_request_pending(sub->req);
    if (pending > MESOS__OP_SUB_BACKLOG) {
      LOG_WARN("Dropping operator event stream subscriber %s: %zu bytes unread",
               mesos__http_request_peer(sub->req), pending);
      op->c.subscribers_dropped++;
      sub_remove(op, i, 1);
      continue;
    }
    if (rec[k].len && mesos__http_stream_send(sub->req, rec[k].data, rec[k].len) == MESOS_ELIMIT) {
      /* The server closed the connection; the abort callback removes it. */
      op->c.subscribers_dropped++;
    }
    i++;
  }
  for (int k = 0; k < 3; k++) mesos__buf_free(&rec[k]);
}

static void heartbeat_cb(mesos_timer *t, void *ud) {
  (void)t;
  Mesos__V1__Master__Event ev = MESOS__V1__MASTER__EVENT__INIT;
  ev.has_type = 1;
  ev.type = MESOS__V1__MASTER__EVENT__TYPE__HEARTBEAT;
  broadcast(ud, &ev);
}

void mesos__operator_on_task_added(mesos_master *m, const mesos__task *t) {
  mesos__framework_changed(t->fw);
  mesos__agent_changed(t->agent);
  if (m->op == NULL) return;
  m->op->c.tasks_added++;
  if (m->op->nsubs == 0 || t->body == NULL) return;
  Mesos__V1__Master__Event ev = MESOS__V1__MASTER__EVENT__INIT;
  Mesos__V1__Master__Event__TaskAdded ta = MESOS__V1__MASTER__EVENT__TASK_ADDED__INIT;
  Mesos__V1__Task view;
  mesos__task_view(t, &view);
  ta.task = &view;
  ev.has_type = 1;
  ev.type = MESOS__V1__MASTER__EVENT__TYPE__TASK_ADDED;
  ev.task_added = &ta;
  broadcast(m->op, &ev);
}

void mesos__operator_on_task_updated(mesos_master *m, const mesos__task *t,
                                     const Mesos__V1__TaskStatus *status) {
  mesos__framework_changed(t->fw);
  mesos__agent_changed(t->agent);
  if (m->op == NULL) return;
  m->op->c.valid_status_updates++;
  if (mesos__task_state_terminal(t->state)) mesos__op_drain_check_soon(m, t->agent);
  if (m->op->nsubs == 0 || t->body == NULL) return;
  Mesos__V1__Master__Event ev = MESOS__V1__MASTER__EVENT__INIT;
  Mesos__V1__Master__Event__TaskUpdated tu = MESOS__V1__MASTER__EVENT__TASK_UPDATED__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = t->fw->id;
  tu.framework_id = &fid;
  tu.status = (Mesos__V1__TaskStatus *)status;
  tu.state = mesos__task_state(t);
  ev.has_type = 1;
  ev.type = MESOS__V1__MASTER__EVENT__TYPE__TASK_UPDATED;
  ev.task_updated = &tu;
  broadcast(m->op, &ev);
}

void mesos__operator_on_agent_added(mesos__agent *a) {
  mesos_master *m = a->master;
  if (m->op == NULL) return;
  m->op->c.agents_added++;
  /* The agent learns its recorded reservations and volumes first. */
  const Mesos__Internal__Registry__Agent *rec = mesos__registry_find_agent(m->registry, a->id);
  if (rec && rec->n_resources) mesos__resop_send_checkpoint(a);
  mesos__op_agent_registered(a);
  if (m->op->nsubs == 0) return;
  mesos__op_scratch s;
  mesos__op_scratch_init(&s, 4096);
  Mesos__V1__Master__Event ev = MESOS__V1__MASTER__EVENT__INIT;
  Mesos__V1__Master__Event__AgentAdded aa = MESOS__V1__MASTER__EVENT__AGENT_ADDED__INIT;
  aa.agent = mesos__op_agent(&s, a);
  ev.has_type = 1;
  ev.type = MESOS__V1__MASTER__EVENT__TYPE__AGENT_ADDED;
  ev.agent_added = &aa;
  if (aa.agent && !s.oom) broadcast(m->op, &ev);
  mesos__op_scratch_free(&s);
}

void mesos__operator_on_agent_removed(mesos_master *m, const char *agent_id) {
  if (m->op == NULL) return;
  m->op->c.agents_removed++;
  if (m->op->nsubs == 0) return;
  Mesos__V1__Master__Event ev = MESOS__V1__MASTER__EVENT__INIT;
  Mesos__V1__Master__Event__AgentRemoved ar = MESOS__V1__MASTER__EVENT__AGENT_REMOVED__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = (char *)agent_id;
  ar.agent_id = &aid;
  ev.has_type = 1;
  ev.type = MESOS__V1__MASTER__EVENT__TYPE__AGENT_REMOVED;
  ev.agent_removed = &ar;
  broadcast(m->op, &ev);
}

static void framework_event(mesos__framework *fw, int added) {
  mesos_master *m = fw->master;
  if (m->op->nsubs == 0) return;
  mesos__op_scratch s;
  mesos__op_scratch_init(&s, 4096);
  Mesos__V1__Master__Event ev = MESOS__V1__MASTER__EVENT__INIT;
  Mesos__V1__Master__Event__FrameworkAdded fa = MESOS__V1__MASTER__EVENT__FRAMEWORK_ADDED__INIT;
  Mesos__V1__Master__Event__FrameworkUpdated fu =
      MESOS__V1__MASTER__EVENT__FRAMEWORK_UPDATED__INIT;
  ev.has_type = 1;
  if (added) {
    fa.framework = mesos__op_framework(&s, fw);
    ev.type = MESOS__V1__MASTER__EVENT__TYPE__FRAMEWORK_ADDED;
    ev.framework_added = &fa;
  } else {
    fu.framework = mesos__op_framework(&s, fw);
    ev.type = MESOS__V1__MASTER__EVENT__TYPE__FRAMEWORK_UPDATED;
    ev.framework_updated = &fu;
  }
  if (!s.oom && (fa.framework || fu.framework)) broadcast(m->op, &ev);
  mesos__op_scratch_free(&s);
}

void mesos__operator_on_framework_updated(mesos__framework *fw) {
  mesos__framework_changed(fw);
  mesos__operator *op = fw->master->op;
  if (op == NULL) return;
  /* The completed-task ring doubles as "seen before": it exists from the
   * first subscription on. */
  int added = mesos__map_get(&op->live_done, fw->id) == NULL;
  if (added) {
    op->c.frameworks_added++;
    mesos__op_tasks *ring = MESOS__NEW(mesos__op_tasks);
    if (ring && mesos__map_put(&op->live_done, fw->id, ring) != MESOS_OK) mesos__free(ring);
  }
  framework_event(fw, added);
}

void mesos__operator_on_framework_removed(mesos__framework *fw) {
  mesos_master *m = fw->master;
  mesos__operator *op = m->op;
  if (op == NULL) return;
  if (op->nsubs) {
    Mesos__V1__Master__Event ev = MESOS__V1__MASTER__EVENT__INIT;
    Mesos__V1__Master__Event__FrameworkRemoved fr =
        MESOS__V1__MASTER__EVENT__FRAMEWORK_REMOVED__INIT;
    fr.framework_info = fw->info;
    ev.has_type = 1;
    ev.type = MESOS__V1__MASTER__EVENT__TYPE__FRAMEWORK_REMOVED;
    ev.framework_removed = &fr;
    broadcast(op, &ev);
  }
  mesos__op_tasks *ring = mesos__map_remove(&op->live_done, fw->id);
  snprintf(op->removing_id, sizeof op->removing_id, "%s", fw->id);
  if (op->done_cap == 0) {
    if (ring) ring_free(op, ring);
    mesos__free(ring);
    return;
  }
  /* Copy the info: the framework is freed right after. */
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  if (mesos__pb_pack(&fw->info->base, 0, &bytes, &len, NULL) != MESOS_OK ||
      mesos__pb_unpack(&mesos__v1__framework_info__descriptor, bytes, len, 0, 0, &copy, NULL) !=
          MESOS_OK) {
    mesos__free(bytes);
    if (ring) ring_free(op, ring);
    mesos__free(ring);
    return;
  }
  mesos__free(bytes);
  mesos__op_done_fw *slot;
  if (op->done_n == op->done_cap) {
    slot = &op->done[op->done_head];
    mesos__pb_free(slot->info);
    ring_free(op, &slot->tasks);
    op->done_head = (op->done_head + 1) % op->done_cap;
  } else {
    slot = &op->done[(op->done_head + op->done_n) % op->done_cap];
    op->done_n++;
  }
  memset(slot, 0, sizeof *slot);
  slot->info = (Mesos__V1__FrameworkInfo *)copy;
  slot->registered_time = fw->registered_time;
  slot->unregistered_time = mesos__master_now();
  if (ring) {
    slot->tasks = *ring;
    mesos__free(ring);
  }
}

/* ------------------------------------------------------------ SUBSCRIBE */

static size_t sub_find(mesos__operator *op, mesos__http_request *req) {
  for (size_t i = 0; i < op->nsubs; i++)
    if (op->subs[i].req == req) return i;
  return SIZE_MAX;
}

void mesos__op_sub_snapshotted(mesos_master *m, mesos__http_request *req) {
  size_t i = m->op ? sub_find(m->op, req) : SIZE_MAX;
  if (i != SIZE_MAX) m->op->subs[i].snapshotted = 1;
}

void mesos__op_sub_forget(mesos_master *m, mesos__http_request *req) {
  mesos__operator *op = m->op;
  size_t i = op ? sub_find(op, req) : SIZE_MAX;
  if (i == SIZE_MAX || !op->subs[i].pending) return;
  mesos__buf_free(&op->subs[i].queued);
  mesos__auth_view_free(&op->subs[i].view);
  op->subs[i] = op->subs[--op->nsubs];
}

void mesos__op_sub_ready(mesos_master *m, mesos__http_request *req) {
  mesos__operator *op = m->op;
  size_t i = op ? sub_find(op, req) : SIZE_MAX;
  if (i == SIZE_MAX || !op->subs[i].pending) return;
  mesos__op_sub *sub = &op->subs[i];
  sub->pending = 0;
  sub->past_first = 1;
  mesos__http_request_on_abort(req, sub_aborted, op);
  if (sub->overflow) {
    LOG_WARN("Dropping operator event stream subscriber %s: more than %zu bytes of events "
             "waited behind its SUBSCRIBED state",
             mesos__http_request_peer(req), (size_t)MESOS__OP_SUB_BACKLOG);
    op->c.subscribers_dropped++;
    sub_remove(op, i, 1);
    return;
  }
  mesos_status st = MESOS_OK;
  if (sub->queued.len) st = mesos__http_stream_send(req, sub->queued.data, sub->queued.len);
  mesos__buf_free(&sub->queued);
  if (st != MESOS_OK && st != MESOS_ECLOSED) op->c.subscribers_dropped++;
  LOG_INFO("Operator event stream subscriber %s (%zu now)", mesos__http_request_peer(req),
           op->nsubs);
}

/* Makes room for one more subscriber: Mesos drops the oldest.  Only one
 * that got its SUBSCRIBED can be dropped (the others' requests belong to
 * state.c until then); 0 when none can. */
static int sub_make_room(mesos__operator *op) {
  if (op->nsubs < op->max_subs) return 1;
  for (size_t i = 0; i < op->nsubs; i++) {
    if (op->subs[i].pending) continue;
    LOG_WARN("Too many operator event stream subscribers (%zu): dropping the oldest", op->nsubs);
    op->c.subscribers_dropped++;
    sub_remove(op, i, 1);
    return 1;
  }
  return 0;
}

static void handle_subscribe(mesos_master *m, mesos__http_request *req, mesos__media media) {
  mesos__operator *op = m->op;
  if (op->state == NULL) {
    mesos__http_respond_text(req, 503, "The master is shutting down");
    return;
  }
  /* SUBSCRIBED is the whole GET_STATE: rendered off the loop and streamed
   * by state.c (any size up to MESOS__OP_RESPONSE_MAX; with an authorizer
   * filtered for the request's principal while the snapshot is taken),
   * the events after its snapshot queued behind it. */
  /* The events' filter: the principal's approvers, kept for the
   * subscription (asked first: a late authorizer parks the call here). */
  mesos__auth_view view;
  memset(&view, 0, sizeof view);
  if (mesos__auth_has_authorizer(m->auth)) {
    mesos__auth_view_init(&view, m->auth, mesos__http_request_principal(req));
    if (mesos__auth_parked(m->auth)) {
      mesos__auth_view_free(&view);
      return;
    }
  }
  if (!sub_make_room(op)) {
    mesos__auth_view_free(&view);
    mesos__http_respond_text(req, 503, "Too many operator event stream subscribers");
    return;
  }
  mesos__op_sub *nsubs = mesos__realloc(op->subs, (op->nsubs + 1) * sizeof *nsubs);
  if (nsubs == NULL) {
    mesos__auth_view_free(&view);
    respond_oom(req);
    return;
  }
  op->subs = nsubs;
  mesos__op_sub *sub = &op->subs[op->nsubs++];
  memset(sub, 0, sizeof *sub);
  sub->req = req;
  sub->media = media;
  sub->view = view;
  sub->pending = 1;
  mesos__buf_init(&sub->queued, MESOS__OP_SUB_BACKLOG);
  mesos__state_v1_serve(m, req, MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE, media);
}

/* ------------------------------------------------------------ calls */

static const char *call_invalid(const Mesos__V1__Master__Call *c) {
  if (!c->has_type) return "Expecting 'type' to be present";
#define NEED(field, name) return c->field ? NULL : "Expecting '" name "' to be present"
  switch (c->type) {
    case MESOS__V1__MASTER__CALL__TYPE__GET_METRICS: NEED(get_metrics, "get_metrics");
    case MESOS__V1__MASTER__CALL__TYPE__SET_LOGGING_LEVEL: NEED(set_logging_level, "set_logging_level");
    case MESOS__V1__MASTER__CALL__TYPE__LIST_FILES: NEED(list_files, "list_files");
    case MESOS__V1__MASTER__CALL__TYPE__READ_FILE: NEED(read_file, "read_file");
    case MESOS__V1__MASTER__CALL__TYPE__UPDATE_WEIGHTS: NEED(update_weights, "update_weights");
    case MESOS__V1__MASTER__CALL__TYPE__RESERVE_RESOURCES: NEED(reserve_resources, "reserve_resources");
    case MESOS__V1__MASTER__CALL__TYPE__UNRESERVE_RESOURCES: NEED(unreserve_resources, "unreserve_resources");
    case MESOS__V1__MASTER__CALL__TYPE__CREATE_VOLUMES: NEED(create_volumes, "create_volumes");
    case MESOS__V1__MASTER__CALL__TYPE__DESTROY_VOLUMES: NEED(destroy_volumes, "destroy_volumes");
    case MESOS__V1__MASTER__CALL__TYPE__UPDATE_MAINTENANCE_SCHEDULE:
      NEED(update_maintenance_schedule, "update_maintenance_schedule");
    case MESOS__V1__MASTER__CALL__TYPE__START_MAINTENANCE: NEED(start_maintenance, "start_maintenance");
    case MESOS__V1__MASTER__CALL__TYPE__STOP_MAINTENANCE: NEED(stop_maintenance, "stop_maintenance");
    case MESOS__V1__MASTER__CALL__TYPE__SET_QUOTA: NEED(set_quota, "set_quota");
    case MESOS__V1__MASTER__CALL__TYPE__UPDATE_QUOTA: NEED(update_quota, "update_quota");
    case MESOS__V1__MASTER__CALL__TYPE__REMOVE_QUOTA: NEED(remove_quota, "remove_quota");
    case MESOS__V1__MASTER__CALL__TYPE__TEARDOWN: NEED(teardown, "teardown");
    case MESOS__V1__MASTER__CALL__TYPE__MARK_AGENT_GONE: NEED(mark_agent_gone, "mark_agent_gone");
    case MESOS__V1__MASTER__CALL__TYPE__GROW_VOLUME: NEED(grow_volume, "grow_volume");
    case MESOS__V1__MASTER__CALL__TYPE__SHRINK_VOLUME: NEED(shrink_volume, "shrink_volume");
    case MESOS__V1__MASTER__CALL__TYPE__DRAIN_AGENT: NEED(drain_agent, "drain_agent");
    case MESOS__V1__MASTER__CALL__TYPE__DEACTIVATE_AGENT: NEED(deactivate_agent, "deactivate_agent");
    case MESOS__V1__MASTER__CALL__TYPE__REACTIVATE_AGENT: NEED(reactivate_agent, "reactivate_agent");
    default:
      return NULL;
  }
#undef NEED
}

static void respond_response(mesos__http_request *req, mesos__media media,
                             Mesos__V1__Master__Response *r, mesos__op_scratch *s) {
  if (s && s->oom) respond_oom(req);
  else mesos__op_respond(req, media, &r->base);
}

static void get_version(mesos__http_request *req, mesos__media media) {
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  Mesos__V1__Master__Response__GetVersion gv = MESOS__V1__MASTER__RESPONSE__GET_VERSION__INIT;
  Mesos__V1__VersionInfo vi = MESOS__V1__VERSION_INFO__INIT;
  char date[32];
  vi.version = (char *)API_VERSION;
  vi.build_date = (char *)mesos__build_date(date, sizeof date);
  vi.has_build_time = 1;
  vi.build_time = mesos__build_time();
  vi.build_user = (char *)"libmesos-core";
  gv.version_info = &vi;
  r.has_type = 1;
  r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_VERSION;
  r.get_version = &gv;
  respond_response(req, media, &r, NULL);
}

static void get_flags(mesos_master *m, mesos__http_request *req, mesos__media media) {
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  Mesos__V1__Master__Response__GetFlags gf = MESOS__V1__MASTER__RESPONSE__GET_FLAGS__INIT;
  mesos__op_scratch s;
  mesos__op_scratch_init(&s, 8192);
  size_t n = 0;
  const char *name, *value;
  while (mesos__flags_at(m->flags, n, &name, &value)) n++;
  gf.flags = mesos__op_alloc(&s, (n ? n : 1) * sizeof *gf.flags);
  for (size_t i = 0; gf.flags && i < n; i++) {
    if (!mesos__flags_at(m->flags, i, &name, &value) || value == NULL) continue;
    Mesos__V1__Flag *f = mesos__op_alloc(&s, sizeof *f);
    if (f == NULL) break;
    mesos__v1__flag__init(f);
    f->name = (char *)name;
    f->value = (char *)value;
    gf.flags[gf.n_flags++] = f;
  }
  r.has_type = 1;
  r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_FLAGS;
  r.get_flags = &gf;
  respond_response(req, media, &r, &s);
  mesos__op_scratch_free(&s);
}

/* glog verbosity (what Mesos reports) <-> our levels: INFO is verbosity 0,
 * DEBUG 1, TRACE 2 and above. */
static uint32_t verbosity(mesos_log_level l) {
  return l > MESOS_LOG_INFO ? (uint32_t)(l - MESOS_LOG_INFO) : 0;
}

static void log_revert_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__operator *op = ud;
  op->log_temporary = 0;
  LOG_INFO("Logging level reverts to %s", mesos_log_level_name(op->log_base));
  mesos_log_set_level(op->log_base);
}

static void set_logging_level(mesos_master *m, mesos__http_request *req,
                              const Mesos__V1__Master__Call__SetLoggingLevel *sl) {
  mesos__operator *op = m->op;
  if (sl->duration == NULL || sl->duration->nanoseconds < 0) {
    mesos__http_respond_text(req, 400, "Failed to validate master::Call: 'duration' must not be negative");
    return;
  }
  uint32_t v = sl->level > 2 ? 2 : sl->level;
  mesos_log_level lvl = (mesos_log_level)(MESOS_LOG_INFO + (int)v);
  /* The level to revert to is the one from before the first temporary
   * change, so overlapping changes never make a temporary level stick. */
  if (!op->log_temporary) op->log_base = mesos_log_get_level();
  op->log_temporary = 1;
  mesos_log_set_level(lvl);
  uint64_t ms = (uint64_t)sl->duration->nanoseconds / 1000000u;
  mesos_timer_start(op->log_revert, ms, 0);
  LOG_INFO("Logging level set to %s (verbosity %u) for %llu ms", mesos_log_level_name(lvl),
           (unsigned)v, (unsigned long long)ms);
  respond_empty(req, 200);
}

static void get_master(mesos_master *m, mesos__http_request *req, mesos__media media) {
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  Mesos__V1__Master__Response__GetMaster gm = MESOS__V1__MASTER__RESPONSE__GET_MASTER__INIT;
  gm.master_info = &m->info;
  gm.has_start_time = 1;
  gm.start_time = m->start_time;
  gm.has_elected_time = 1;
  gm.elected_time = m->start_time;
  r.has_type = 1;
  r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_MASTER;
  r.get_master = &gm;
  respond_response(req, media, &r, NULL);
}

/* ---- weights */

/* Weights in force: --weights, overridden by what operators stored. */
static double role_weight(mesos_master *m, const char *role) {
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  for (size_t i = 0; reg && i < reg->n_weights; i++)
    if (reg->weights[i]->role && strcmp(reg->weights[i]->role, role) == 0)
      return reg->weights[i]->weight;
  const char *text = mesos__flags_get(m->flags, "weights");
  size_t len = strlen(role);
  for (const char *p = text; p && *p;) {
    const char *comma = strchr(p, ',');
    const char *eq = strchr(p, '=');
    if (eq && (!comma || eq < comma) && (size_t)(eq - p) == len && strncmp(p, role, len) == 0) {
      double w = 1.0;
      char tmp[64];
      size_t vl = comma ? (size_t)(comma - eq - 1) : strlen(eq + 1);
      if (vl < sizeof tmp) {
        memcpy(tmp, eq + 1, vl);
        tmp[vl] = '\0';
        if (mesos__parse_double(tmp, &w, "weight", NULL) == MESOS_OK) return w;
      }
    }
    p = comma ? comma + 1 : NULL;
  }
  return 1.0;
}

static void get_weights(mesos_master *m, mesos__http_request *req, mesos__media media) {
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  Mesos__V1__Master__Response__GetWeights gw = MESOS__V1__MASTER__RESPONSE__GET_WEIGHTS__INIT;
  mesos__op_scratch s;
  mesos__op_scratch_init(&s, 4096);
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  size_t n = reg ? reg->n_weights : 0;
  const char *text = mesos__flags_get(m->flags, "weights");
  for (const char *p = text; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) n++;
  gw.weight_infos = mesos__op_alloc(&s, (n ? n : 1) * sizeof *gw.weight_infos);
  for (size_t i = 0; gw.weight_infos && reg && i < reg->n_weights; i++)
    gw.weight_infos[gw.n_weight_infos++] = reg->weights[i];
  /* Flag roles the registry does not override. */
  for (const char *p = text; gw.weight_infos && p && *p;) {
    const char *comma = strchr(p, ',');
    const char *eq = strchr(p, '=');
    if (eq && (!comma || eq < comma)) {
      size_t rl = (size_t)(eq - p);
      char *role = mesos__pb_arena_alloc_bytes(s.arena, rl + 1);
      if (role) {
        memcpy(role, p, rl);
        role[rl] = '\0';
        int stored = 0;
        for (size_t i = 0; reg && i < reg->n_weights; i++)
          stored |= reg->weights[i]->role && strcmp(reg->weights[i]->role, role) == 0;
        Mesos__V1__WeightInfo *wi = stored ? NULL : mesos__op_alloc(&s, sizeof *wi);
        if (wi) {
          mesos__v1__weight_info__init(wi);
          wi->role = role;
          wi->weight = role_weight(m, role);
          gw.weight_infos[gw.n_weight_infos++] = wi;
        }
      }
    }
    p = comma ? comma + 1 : NULL;
  }
  r.has_type = 1;
  r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_WEIGHTS;
  r.get_weights = &gw;
  mesos__master_auth_filter_lists(m, req, &r, &s); /* VIEW_ROLE / GET_QUOTA */
  respond_response(req, media, &r, &s);
  mesos__op_scratch_free(&s);
}

/* Hands the registry's weights and quotas to the allocator (start-up). */
static mesos_status apply_registry(mesos_master *m, mesos_error **err) {
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  if (reg == NULL || m->allocator == NULL) return MESOS_OK;
  mesos_status st = MESOS_OK;
  for (size_t i = 0; st == MESOS_OK && i < reg->n_weights; i++) {
    const char *role = reg->weights[i]->role;
    double w = reg->weights[i]->weight;
    st = mesos_allocator_update_weights(m->allocator, &role, &w, 1, err);
  }
  for (size_t i = 0; st == MESOS_OK && i < reg->n_quotas; i++) {
    const Mesos__V1__Quota__QuotaConfig *q = reg->quotas[i];
    mesos_resources *g = NULL;
    st = mesos_resources_new(&g, err);
    for (size_t k = 0; st == MESOS_OK && k < q->n_guarantees; k++) {
      Mesos__V1__Resource res = MESOS__V1__RESOURCE__INIT;
      res.name = q->guarantees[k]->key;
      res.type = MESOS__V1__VALUE__TYPE__SCALAR;
      res.scalar = q->guarantees[k]->value;
      st = mesos__resources_add(&g->r, &res, err);
    }
    if (st == MESOS_OK) st = mesos_allocator_set_quota(m->allocator, q->role, g, err);
    mesos_resources_free(g);
  }
  return st;
}

static void update_weights(mesos_master *m, mesos__http_request *req,
                           const Mesos__V1__Master__Call__UpdateWeights *uw) {
  char msg[512];
  const char **roles = mesos__calloc(uw->n_weight_infos ? uw->n_weight_infos : 1, sizeof *roles);
  double *ws = mesos__calloc(uw->n_weight_infos ? uw->n_weight_infos : 1, sizeof *ws);
  if (!roles || !ws) {
    mesos__free(roles);
    mesos__free(ws);
    respond_oom(req);
    return;
  }
  for (size_t i = 0; i < uw->n_weight_infos; i++) {
    const Mesos__V1__WeightInfo *wi = uw->weight_infos[i];
    const char *why = wi->role ? mesos__validate_role(wi->role) : "'role' must be set";
    if (why == NULL && !(isfinite(wi->weight) && wi->weight > 0))
      why = "weight must be a positive number";
    if (why == NULL)
      for (size_t k = 0; k < i; k++)
        if (strcmp(roles[k], wi->role) == 0) why = "role appears twice";
    if (why) {
      snprintf(msg, sizeof msg, "Failed to validate update weights request: '%.128s': %s",
               wi->role ? wi->role : "", why);
      mesos__free(roles);
      mesos__free(ws);
      mesos__http_respond_text(req, 400, msg);
      return;
    }
    roles[i] = wi->role;
    ws[i] = wi->weight;
  }
  Mesos__Internal__RegistryOperation op = MESOS__INTERNAL__REGISTRY_OPERATION__INIT;
  op.has_type = 1;
  op.type = MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__UPDATE_WEIGHTS;
  op.n_weights = uw->n_weight_infos;
  op.weights = uw->weight_infos;
  mesos_error *e = NULL;
  mesos_status st = uw->n_weight_infos ? mesos__registry_apply(m->registry, &op, &e) : MESOS_OK;
  if (st == MESOS_OK && m->allocator && uw->n_weight_infos)
    st = mesos_allocator_update_weights(m->allocator, roles, ws, uw->n_weight_infos, &e);
  mesos__free(roles);
  mesos__free(ws);
  if (st != MESOS_OK) {
    snprintf(msg, sizeof msg, "Failed to update weights: %s",
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    mesos__http_respond_text(req, st == MESOS_EINVAL ? 400 : 503, msg);
    return;
  }
  LOG_INFO("Updated the weights of %zu roles", uw->n_weight_infos);
  respond_empty(req, 200);
}

/* ---- roles */

static int add_role(mesos__map *roles, const char *role) {
  if (role == NULL || mesos__map_get(roles, role)) return 0;
  return mesos__map_put(roles, role, (void *)role) == MESOS_OK;
}

/* GET_ROLES's response in r (its parts in s; the names borrow from
 * `roles`, freed by the caller). */
static void roles_response(mesos_master *m, Mesos__V1__Master__Response *r,
                           Mesos__V1__Master__Response__GetRoles *gr, mesos__op_scratch *sp,
                           mesos__map *roles_out) {
  mesos__op_scratch s = *sp;
  mesos__map roles;
  mesos__map_init(&roles);
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  for (size_t i = 0; reg && i < reg->n_weights; i++) add_role(&roles, reg->weights[i]->role);
  for (size_t i = 0; reg && i < reg->n_quotas; i++) add_role(&roles, reg->quotas[i]->role);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    mesos__framework *fw = v;
    if (fw->info->n_roles)
      for (size_t i = 0; i < fw->info->n_roles; i++) add_role(&roles, fw->info->roles[i]);
    else add_role(&roles, fw->info->role ? fw->info->role : "*");
  }
  size_t n = mesos__map_count(&roles);
  gr->roles = mesos__op_alloc(&s, (n ? n : 1) * sizeof *gr->roles);
  it = 0;
  const char *name;
  while (gr->roles && mesos__map_next(&roles, &it, &name, &v)) {
    Mesos__V1__Role *role = mesos__op_alloc(&s, sizeof *role);
    if (role == NULL) break;
    mesos__v1__role__init(role);
    role->name = (char *)v;
    role->weight = role_weight(m, name);
    size_t nf = mesos__map_count(&m->frameworks);
    role->frameworks = mesos__op_alloc(&s, (nf ? nf : 1) * sizeof *role->frameworks);
    mesos_resources *used = NULL;
    if (mesos_resources_new(&used, NULL) != MESOS_OK) {
      s.oom = 1;
      break;
    }
    size_t fit = 0;
    void *fv;
    while (role->frameworks && mesos__map_next(&m->frameworks, &fit, NULL, &fv)) {
      mesos__framework *fw = fv;
      int member = 0;
      if (fw->info->n_roles) {
        for (size_t i = 0; i < fw->info->n_roles; i++) member |= !strcmp(fw->info->roles[i], name);
      } else {
        member = !strcmp(fw->info->role ? fw->info->role : "*", name);
      }
      if (!member) continue;
      Mesos__V1__FrameworkID *fid = mesos__op_alloc(&s, sizeof *fid);
      if (fid == NULL) break;
      mesos__v1__framework_id__init(fid);
      fid->value = fw->id;
      role->frameworks[role->n_frameworks++] = fid;
      /* Its tasks in this role, added up once per change of the framework
       * (state.c): a poll of an unchanged master does not walk the tasks. */
      const mesos__fw_usage *u = mesos__state_fw_usage(m, fw);
      if (u == NULL) {
        s.oom = 1;
        break;
      }
      for (size_t i = 0; i < u->n; i++)
        if (!strcmp(u->v[i].role, name) && mesos__resources_add_all(&used->r, &u->v[i].used->r))
          s.oom = 1;
    }
    role->resources = mesos__op_resources(&s, used, &role->n_resources);
    mesos_resources_free(used);
    gr->roles[gr->n_roles++] = role;
  }
  r->has_type = 1;
  r->type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_ROLES;
  r->get_roles = gr;
  *sp = s;
  *roles_out = roles;
}

/* GET_ROLES's response with what it borrows. */
typedef struct roles_resp {
  mesos__op_scratch s;
  mesos__map roles;
  Mesos__V1__Master__Response r;
  Mesos__V1__Master__Response__GetRoles gr;
} roles_resp;

static void roles_resp_make(mesos_master *m, roles_resp *x) {
  mesos__op_scratch_init(&x->s, 8192);
  mesos__v1__master__response__init(&x->r);
  mesos__v1__master__response__get_roles__init(&x->gr);
  roles_response(m, &x->r, &x->gr, &x->s, &x->roles);
}

static void roles_resp_free(roles_resp *x) {
  mesos__map_free(&x->roles);
  mesos__op_scratch_free(&x->s);
}

static void get_roles(mesos_master *m, mesos__http_request *req, mesos__media media) {
  roles_resp x;
  roles_resp_make(m, &x);
  mesos__master_auth_filter_lists(m, req, &x.r, &x.s); /* VIEW_ROLE / GET_QUOTA */
  respond_response(req, media, &x.r, &x.s);
  roles_resp_free(&x);
}

mesos_status mesos__op_get_roles_json(mesos_master *m, mesos__buf *out) {
  roles_resp x;
  roles_resp_make(m, &x);
  mesos_status st = x.s.oom ? MESOS_ENOMEM : mesos__json_encode(&x.r.base, out, NULL);
  roles_resp_free(&x);
  return st;
}

/* ---- quota */

static void get_quota(mesos_master *m, mesos__http_request *req, mesos__media media) {
  mesos__op_scratch s;
  mesos__op_scratch_init(&s, 4096);
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  Mesos__V1__Master__Response__GetQuota gq = MESOS__V1__MASTER__RESPONSE__GET_QUOTA__INIT;
  Mesos__V1__Quota__QuotaStatus qs = MESOS__V1__QUOTA__QUOTA_STATUS__INIT;
  size_t n = reg ? reg->n_quotas : 0;
  qs.configs = reg ? reg->quotas : NULL;
  qs.n_configs = n;
  /* The 1.0 form: QuotaInfo with the guarantee as scalar resources. */
  qs.infos = mesos__op_alloc(&s, (n ? n : 1) * sizeof *qs.infos);
  for (size_t i = 0; qs.infos && i < n; i++) {
    const Mesos__V1__Quota__QuotaConfig *q = reg->quotas[i];
    Mesos__V1__Quota__QuotaInfo *qi = mesos__op_alloc(&s, sizeof *qi);
    if (qi == NULL) break;
    mesos__v1__quota__quota_info__init(qi);
    qi->role = q->role;
    for (size_t k = 0; k < reg->n_quota_setters; k++) /* who set it (1.0's principal) */
      if (reg->quota_setters[k]->role && q->role && !strcmp(reg->quota_setters[k]->role, q->role))
        qi->principal = reg->quota_setters[k]->principal;
    qi->guarantee = mesos__op_alloc(&s, (q->n_guarantees ? q->n_guarantees : 1) *
                                            sizeof *qi->guarantee);
    for (size_t k = 0; qi->guarantee && k < q->n_guarantees; k++) {
      Mesos__V1__Resource *res = mesos__op_alloc(&s, sizeof *res);
      if (res == NULL) break;
      mesos__v1__resource__init(res);
      res->name = q->guarantees[k]->key;
      res->type = MESOS__V1__VALUE__TYPE__SCALAR;
      res->scalar = q->guarantees[k]->value;
      qi->guarantee[qi->n_guarantee++] = res;
    }
    qs.infos[qs.n_infos++] = qi;
  }
  gq.status = &qs;
  r.has_type = 1;
  r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_QUOTA;
  r.get_quota = &gq;
  mesos__master_auth_filter_lists(m, req, &r, &s); /* VIEW_ROLE / GET_QUOTA */
  respond_response(req, media, &r, &s);
  mesos__op_scratch_free(&s);
}

static const Mesos__V1__Quota__QuotaConfig *find_quota(mesos_master *m, const char *role) {
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  for (size_t i = 0; reg && i < reg->n_quotas; i++)
    if (strcmp(reg->quotas[i]->role, role) == 0) return reg->quotas[i];
  return NULL;
}

/* --roles whitelist: NULL when the role may be used. */
static const char *role_not_whitelisted(mesos_master *m, const char *role) {
  const char *whitelist = mesos__flags_get(m->flags, "roles");
  if (whitelist == NULL) return NULL;
  size_t len = strlen(role);
  for (const char *p = whitelist; p && *p;) {
    const char *comma = strchr(p, ',');
    size_t l = comma ? (size_t)(comma - p) : strlen(p);
    if (l == len && strncmp(p, role, len) == 0) return NULL;
    p = comma ? comma + 1 : NULL;
  }
  return "role is not present in the master's --roles";
}

/* The sum of every agent's unreserved-or-reserved scalar `name`, in milli
 * units: the capacity quota guarantees are checked against. */
static int64_t cluster_milli(mesos_master *m, const char *name) {
  int64_t sum = 0;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->agents, &it, NULL, &v)) {
    int64_t x = mesos__resources_scalar_milli(&((mesos__agent *)v)->total->r, name);
    if (x > INT64_MAX - sum) return INT64_MAX;
    sum += x;
  }
  return sum;
}

/* Applies one role's new guarantee (NULL or empty: removal): registry
 * first, then the allocator.  The request's principal is recorded as the
 * quota's setter (Mesos 1.0's remove_quotas ACLs decide by it).  Writes
 * an HTTP answer on failure. */
static int store_quota(mesos_master *m, mesos__http_request *req, const char *role,
                       Mesos__V1__Quota__QuotaConfig__GuaranteesEntry **g, size_t ng,
                       Mesos__V1__Quota__QuotaConfig__LimitsEntry **l, size_t nl) {
  Mesos__V1__Quota__QuotaConfig qc = MESOS__V1__QUOTA__QUOTA_CONFIG__INIT;
  Mesos__V1__Quota__QuotaConfig *qcs[1] = {&qc};
  qc.role = (char *)role;
  qc.guarantees = g;
  qc.n_guarantees = ng;
  qc.limits = l;
  qc.n_limits = nl;
  Mesos__Internal__RegistryOperation op = MESOS__INTERNAL__REGISTRY_OPERATION__INIT;
  op.has_type = 1;
  op.type = MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__UPDATE_QUOTA;
  op.quotas = qcs;
  op.n_quotas = 1;
  Mesos__Internal__Registry__QuotaSetter setter = MESOS__INTERNAL__REGISTRY__QUOTA_SETTER__INIT;
  Mesos__Internal__Registry__QuotaSetter *setters[1] = {&setter};
  setter.role = (char *)role;
  setter.principal = (char *)mesos__http_request_principal(req);
  if (setter.principal && (ng || nl)) {
    op.quota_setters = setters;
    op.n_quota_setters = 1;
  }
  mesos_error *e = NULL;
  mesos_status st = mesos__registry_apply(m->registry, &op, &e);
  if (st == MESOS_OK && m->allocator) {
    if (ng == 0) {
      mesos_allocator_remove_quota(m->allocator, role, NULL);
    } else {
      mesos_resources *gr = NULL;
      st = mesos_resources_new(&gr, &e);
      for (size_t k = 0; st == MESOS_OK && k < ng; k++) {
        Mesos__V1__Resource res = MESOS__V1__RESOURCE__INIT;
        res.name = g[k]->key;
        res.type = MESOS__V1__VALUE__TYPE__SCALAR;
        res.scalar = g[k]->value;
        st = mesos__resources_add(&gr->r, &res, &e);
      }
      if (st == MESOS_OK) st = mesos_allocator_set_quota(m->allocator, role, gr, &e);
      mesos_resources_free(gr);
    }
  }
  if (st != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Failed to update quota: %s",
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    mesos__http_respond_text(req, st == MESOS_EINVAL ? 400 : 503, msg);
    return 0;
  }
  return 1;
}

/* Validates a 1.0 guarantee: scalar, unreserved, plain resources named at
 * most once.  NULL when valid. */
static const char *guarantee_invalid(Mesos__V1__Resource **g, size_t n, char *why, size_t cap) {
  for (size_t i = 0; i < n; i++) {
    const Mesos__V1__Resource *r = g[i];
    if (r->name == NULL || r->name[0] == '\0') return "a resource has no name";
    if (r->type != MESOS__V1__VALUE__TYPE__SCALAR || r->scalar == NULL ||
        !isfinite(r->scalar->value) || r->scalar->value < 0) {
      snprintf(why, cap, "resource '%s' must be a non-negative scalar", r->name);
      return why;
    }
    if (r->n_reservations || r->reservation || (r->role && strcmp(r->role, "*") != 0) || r->disk ||
        r->revocable) {
      snprintf(why, cap, "resource '%s' must be unreserved, without disk or revocable info",
               r->name);
      return why;
    }
    for (size_t k = 0; k < i; k++)
      if (strcmp(g[k]->name, r->name) == 0) {
        snprintf(why, cap, "resource '%s' appears twice", r->name);
        return why;
      }
  }
  return NULL;
}

static void set_quota(mesos_master *m, mesos__http_request *req,
                      const Mesos__V1__Master__Call__SetQuota *sq) {
  const Mesos__V1__Quota__QuotaRequest *q = sq->quota_request;
  char why[256], msg[512];
  const char *bad = NULL;
  if (q == NULL || q->role == NULL) bad = "'quota_request.role' must be set";
  else if ((bad = mesos__validate_role(q->role)) == NULL && strcmp(q->role, "*") == 0)
    bad = "quota cannot be set for role '*'";
  else if (bad == NULL) bad = role_not_whitelisted(m, q->role);
  if (bad == NULL && q->n_guarantee == 0) bad = "the guarantee is empty";
  if (bad == NULL) bad = guarantee_invalid(q->guarantee, q->n_guarantee, why, sizeof why);
  if (bad) {
    snprintf(msg, sizeof msg, "Failed to validate set quota request: %s", bad);
    mesos__http_respond_text(req, 400, msg);
    return;
  }
  if (find_quota(m, q->role)) {
    snprintf(msg, sizeof msg, "Failed to validate set quota request: quota for role '%.128s' "
             "already exists", q->role);
    mesos__http_respond_text(req, 409, msg);
    return;
  }
  /* Capacity heuristic (Mesos 1.0): every guaranteed resource, together
   * with the other roles' guarantees, must fit into the cluster unless
   * `force` is set. */
  if (!(q->has_force && q->force)) {
    const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
    for (size_t i = 0; i < q->n_guarantee; i++) {
      const char *name = q->guarantee[i]->name;
      double want = q->guarantee[i]->scalar->value;
      for (size_t k = 0; reg && k < reg->n_quotas; k++)
        for (size_t j = 0; j < reg->quotas[k]->n_guarantees; j++)
          if (!strcmp(reg->quotas[k]->guarantees[j]->key, name) &&
              reg->quotas[k]->guarantees[j]->value)
            want += reg->quotas[k]->guarantees[j]->value->value;
      double have = (double)cluster_milli(m, name) / 1000.0;
      if (want > have + 1e-9) {
        snprintf(msg, sizeof msg, "Not enough resources to satisfy quota: '%s' needs %g of "
                 "which the cluster has %g (use 'force' to set it anyway)", name, want, have);
        mesos__http_respond_text(req, 409, msg);
        return;
      }
    }
  }
  Mesos__V1__Quota__QuotaConfig__GuaranteesEntry *ge = mesos__calloc(q->n_guarantee, sizeof *ge);
  Mesos__V1__Quota__QuotaConfig__GuaranteesEntry **gp = mesos__calloc(q->n_guarantee, sizeof *gp);
  if (ge == NULL || gp == NULL) {
    mesos__free(ge);
    mesos__free(gp);
    respond_oom(req);
    return;
  }
  for (size_t i = 0; i < q->n_guarantee; i++) {
    mesos__v1__quota__quota_config__guarantees_entry__init(&ge[i]);
    ge[i].key = q->guarantee[i]->name;
    ge[i].value = q->guarantee[i]->scalar;
    gp[i] = &ge[i];
  }
  if (store_quota(m, req, q->role, gp, q->n_guarantee, NULL, 0)) {
    LOG_INFO("Set quota for role '%s'", q->role);
    respond_empty(req, 200);
  }
  mesos__free(ge);
  mesos__free(gp);
}

static void remove_quota(mesos_master *m, mesos__http_request *req,
                         const Mesos__V1__Master__Call__RemoveQuota *rq) {
  char msg[512];
  if (rq->role == NULL || mesos__validate_role(rq->role)) {
    mesos__http_respond_text(req, 400, "Failed to validate remove quota request: invalid role");
    return;
  }
  if (find_quota(m, rq->role) == NULL) {
    snprintf(msg, sizeof msg, "Failed to remove quota: role '%.128s' has no quota set", rq->role);
    mesos__http_respond_text(req, 400, msg);
    return;
  }
  if (store_quota(m, req, rq->role, NULL, 0, NULL, 0)) {
    LOG_INFO("Removed quota for role '%s'", rq->role);
    respond_empty(req, 200);
  }
}

static void update_quota(mesos_master *m, mesos__http_request *req,
                         const Mesos__V1__Master__Call__UpdateQuota *uq) {
  char msg[512];
  /* Validate all first, so the update applies to every role or none. */
  for (size_t i = 0; i < uq->n_quota_configs; i++) {
    const Mesos__V1__Quota__QuotaConfig *q = uq->quota_configs[i];
    const char *bad = mesos__validate_role(q->role);
    if (bad == NULL && strcmp(q->role, "*") == 0) bad = "quota cannot be set for role '*'";
    if (bad == NULL) bad = role_not_whitelisted(m, q->role);
    for (size_t k = 0; bad == NULL && k < i; k++)
      if (strcmp(uq->quota_configs[k]->role, q->role) == 0) bad = "role appears twice";
    for (size_t k = 0; bad == NULL && k < q->n_guarantees; k++) {
      const Mesos__V1__Value__Scalar *gv = q->guarantees[k]->value;
      if (gv == NULL || !isfinite(gv->value) || gv->value < 0)
        bad = "guarantees must be non-negative numbers";
      for (size_t j = 0; bad == NULL && j < q->n_limits; j++)
        if (!strcmp(q->limits[j]->key, q->guarantees[k]->key) && q->limits[j]->value &&
            q->limits[j]->value->value < gv->value)
          bad = "a limit is below its guarantee";
    }
    for (size_t k = 0; bad == NULL && k < q->n_limits; k++)
      if (q->limits[k]->value == NULL || isnan(q->limits[k]->value->value) ||
          q->limits[k]->value->value < 0)
        bad = "limits must be non-negative numbers";
    if (bad) {
      snprintf(msg, sizeof msg, "Invalid QuotaConfig for role '%.128s': %s", q->role, bad);
      mesos__http_respond_text(req, 400, msg);
      return;
    }
  }
  for (size_t i = 0; i < uq->n_quota_configs; i++) {
    const Mesos__V1__Quota__QuotaConfig *q = uq->quota_configs[i];
    if (!store_quota(m, req, q->role, q->guarantees, q->n_guarantees, q->limits, q->n_limits))
      return;
  }
  respond_empty(req, 200);
}

/* ---- operator-initiated resource operations */

void mesos__operator_restore_agent(mesos__agent *a) {
  const Mesos__Internal__Registry__Agent *rec =
      mesos__registry_find_agent(a->master->registry, a->id);
  if (rec == NULL || rec->n_resources == 0) return;
  mesos__resop_apply(a, rec->resources, rec->n_resources, "recorded"); /* resource_ops.c */
}

static void resource_operation(mesos_master *m, mesos__http_request *req, mesos__resop kind,
                               const Mesos__V1__AgentID *aid, Mesos__V1__Resource **v, size_t n) {
  static const char *const names[] = {"reserve", "unreserve", "create volumes",
                                      "destroy volumes"};
  char why[512], msg[700];
  mesos__agent *a = aid && aid->value ? mesos__map_get(&m->agents, aid->value) : NULL;
  if (a == NULL) {
    snprintf(msg, sizeof msg, "No agent found with specified ID");
    mesos__http_respond_text(req, 400, msg);
    return;
  }
  mesos_resources *consumed = NULL, *converted = NULL, *total = NULL;
  if (mesos_resources_new(&consumed, NULL) != MESOS_OK ||
      mesos_resources_new(&converted, NULL) != MESOS_OK) {
    mesos_resources_free(consumed);
    respond_oom(req);
    return;
  }
  if (n == 0) snprintf(why, sizeof why, "no resources given");
  if (n == 0 || !mesos__resop_conversion(kind, v, n, 1, NULL, NULL, consumed,
                                         converted, why, sizeof why)) {
    snprintf(msg, sizeof msg, "Invalid %s operation: %s", names[kind], why);
    mesos__http_respond_text(req, 400, msg);
    goto out;
  }
  /* Outstanding offers on the agent go back first (Mesos rescinds them so
   * the operation can use offered resources). */
  mesos__offers_rescind_agent(a);
  if (mesos_resources_clone(&total, a->total, NULL) != MESOS_OK ||
      !mesos_resources_contains(total, consumed) ||
      mesos_resources_subtract(total, consumed, NULL) != MESOS_OK ||
      mesos_resources_add(total, converted, NULL) != MESOS_OK) {
    snprintf(msg, sizeof msg, "Agent %s does not hold the resources to %s", a->id, names[kind]);
    mesos__http_respond_text(req, 409, msg);
    goto out;
  }
  mesos_error *e = NULL;
  mesos_allocator_conversion conv = {consumed, converted};
  if (m->allocator &&
      mesos_allocator_update_available(m->allocator, a->id, &conv, 1, &e) != MESOS_OK) {
    snprintf(msg, sizeof msg, "Resources are not available to %s: %s", names[kind],
             e ? mesos_error_message(e) : "in use");
    mesos_error_free(e);
    mesos__http_respond_text(req, 409, msg);
    goto out;
  }
  /* Durable before it is acknowledged: a master restarted after kill -9
   * applies the record again when the agent re-registers. */
  if (mesos__resop_persist(m, a, total, &e) != MESOS_OK) {
    snprintf(msg, sizeof msg, "Failed to %s: cannot record it: %s", names[kind],
             e ? mesos_error_message(e) : "registry error");
    mesos_error_free(e);
    e = NULL;
    mesos_allocator_conversion undo = {converted, consumed};
    if (m->allocator) mesos_allocator_update_available(m->allocator, a->id, &undo, 1, NULL);
    mesos__http_respond_text(req, 503, msg);
    goto out;
  }
  mesos_resources_free(a->total);
  a->total = total;
  mesos__agent_changed(a);
  total = NULL;
  mesos__resop_send_checkpoint(a);
  LOG_INFO("Operator %s on agent %s applied", names[kind], a->id);
  respond_empty(req, 202);
out:
  mesos_resources_free(total);
  mesos_resources_free(consumed);
  mesos_resources_free(converted);
}

/* GROW_VOLUME / SHRINK_VOLUME (Mesos 1.6).  Validated as Mesos does; then
 * the agent must hold the volume.  Resizing needs the agent to grow or
 * shrink the volume's storage, which Mesos gates on the agent's
 * RESIZE_VOLUME capability; our agent protocol announces no such
 * capability and our agent cannot resize a volume, so a valid request is
 * refused with 409 (a conflict with the agent's abilities) rather than
 * changing the master's books alone. */
static void resize_volume(mesos_master *m, mesos__http_request *req, int grow,
                          const Mesos__V1__AgentID *aid, const Mesos__V1__Resource *vol,
                          const Mesos__V1__Resource *addition,
                          const Mesos__V1__Value__Scalar *subtract) {
  const char *what = grow ? "grow volume" : "shrink volume";
  char msg[700];
  const char *bad = NULL;
  mesos_error *e = NULL;
  if (aid == NULL || aid->value == NULL) bad = "'agent_id' must be set";
  else if (vol == NULL || vol->disk == NULL || vol->disk->persistence == NULL)
    bad = "'volume' is not a persistent volume";
  else if (vol->name == NULL || strcmp(vol->name, "disk") != 0 ||
           vol->type != MESOS__V1__VALUE__TYPE__SCALAR || vol->scalar == NULL)
    bad = "'volume' must be scalar disk";
  else if (vol->shared)
    bad = "shared persistent volumes cannot be resized";
  if (bad == NULL && grow) {
    if (addition == NULL || addition->name == NULL || strcmp(addition->name, "disk") != 0 ||
        addition->type != MESOS__V1__VALUE__TYPE__SCALAR || addition->scalar == NULL ||
        !(addition->scalar->value > 0) || !isfinite(addition->scalar->value))
      bad = "'addition' must be a positive amount of scalar disk";
    else if (addition->disk && addition->disk->persistence)
      bad = "'addition' must not be a persistent volume";
    else if (strcmp(mesos__resource_role(addition), mesos__resource_role(vol)) != 0)
      bad = "'addition' must be reserved for the volume's role";
  }
  if (bad == NULL && !grow &&
      (subtract == NULL || !(subtract->value > 0) || !isfinite(subtract->value) ||
       !(subtract->value < vol->scalar->value)))
    bad = "'subtract' must be positive and smaller than the volume";
  if (bad == NULL) {
    Mesos__V1__Resource r = *vol;
    r.allocation_info = NULL;
    if (mesos__resource_validate(&r, &e) != MESOS_OK) {
      snprintf(msg, sizeof msg, "Invalid %s operation: invalid volume: %s", what,
               e ? mesos_error_message(e) : "");
      mesos_error_free(e);
      mesos__http_respond_text(req, 400, msg);
      return;
    }
  }
  if (bad) {
    snprintf(msg, sizeof msg, "Invalid %s operation: %s", what, bad);
    mesos__http_respond_text(req, 400, msg);
    return;
  }
  mesos__agent *a = mesos__map_get(&m->agents, aid->value);
  if (a == NULL) {
    mesos__http_respond_text(req, 400, "No agent found with specified ID");
    return;
  }
  mesos_resources *want = NULL;
  int held = mesos_resources_new(&want, NULL) == MESOS_OK &&
             mesos__resources_add(&want->r, vol, NULL) == MESOS_OK &&
             mesos_resources_contains(a->total, want);
  mesos_resources_free(want);
  if (!held) {
    snprintf(msg, sizeof msg, "Agent %s does not hold the persistent volume '%s'", a->id,
             vol->disk->persistence->id ? vol->disk->persistence->id : "");
    mesos__http_respond_text(req, 409, msg);
    return;
  }
  snprintf(msg, sizeof msg,
           "Agent %s cannot %s: it does not have the RESIZE_VOLUME capability (resizing "
           "persistent volumes is not supported by libmesos-core agents)", a->id, what);
  mesos__http_respond_text(req, 409, msg);
}

/* GET_OPERATIONS (Mesos 1.6): the operations with feedback the master
 * tracks -- those a framework submitted with an `id` against a resource
 * provider or an agent with operation feedback.  Offer operations in our
 * 1.0 feature set are applied at once and carry no id, and there are no
 * resource providers, so the master tracks none: the answer is the empty
 * list, in Mesos's shape. */
static void get_operations(mesos__http_request *req, mesos__media media) {
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  Mesos__V1__Master__Response__GetOperations go = MESOS__V1__MASTER__RESPONSE__GET_OPERATIONS__INIT;
  r.has_type = 1;
  r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_OPERATIONS;
  r.get_operations = &go;
  respond_response(req, media, &r, NULL);
}

/* ---- MARK_AGENT_GONE and TEARDOWN */

mesos_status mesos__op_mark_agent_gone(mesos_master *m, const char *id, mesos_error **err) {
  mesos__registry_agent_state rs = mesos__registry_agent(m->registry, id);
  mesos__agent *a = mesos__map_get(&m->agents, id);
  if (rs == MESOS__REGISTRY_AGENT_GONE) return MESOS_OK; /* already gone: nothing to do */
  if (a == NULL && rs != MESOS__REGISTRY_AGENT_ADMITTED && rs != MESOS__REGISTRY_AGENT_UNREACHABLE)
    return mesos__err(err, MESOS_ENOTFOUND, "Agent not found");
  Mesos__Internal__RegistryOperation op = MESOS__INTERNAL__REGISTRY_OPERATION__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__TimeInfo ts = MESOS__V1__TIME_INFO__INIT;
  aid.value = (char *)id;
  ts.nanoseconds = (int64_t)(mesos__master_now() * 1e9);
  op.has_type = 1;
  op.type = MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__MARK_AGENT_GONE;
  op.agent_id = &aid;
  op.timestamp = &ts;
  mesos_status st = mesos__registry_apply(m->registry, &op, err);
  if (st != MESOS_OK) return st;
  LOG_WARN("Agent %s marked gone by the operator", id);
  if (a) {
    /* Tell the agent to shut down, report its tasks, forget it. */
    Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
    ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
    ev.has_type = 1;
    ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_AGENT;
    mesos__agent_send(a, &ev);
    mesos__offers_rescind_agent(a);
    for (;;) {
      size_t it = 0;
      void *v;
      if (!mesos__map_next(&a->tasks, &it, NULL, &v)) break;
      mesos__task *t = v;
      if (!mesos__task_state_terminal(t->state)) {
        int pa = 0;
        for (size_t i = 0; i < t->fw->info->n_capabilities; i++)
          pa |= t->fw->info->capabilities[i]->type ==
                MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE;
        Mesos__V1__TaskState state =
            pa ? MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR : MESOS__V1__TASK_STATE__TASK_LOST;
        mesos__send_master_update(t->fw, mesos__task_tid(t), &aid, state,
                                  MESOS__V1__TASK_STATUS__REASON__REASON_AGENT_REMOVED_BY_OPERATOR,
                                  "Agent marked gone by the operator");
        t->state = state;
        Mesos__V1__TaskStatus status = MESOS__V1__TASK_STATUS__INIT;
        status.task_id = mesos__task_tid(t);
        status.agent_id = &aid;
        status.state = state;
        mesos__operator_on_task_updated(m, t, &status);
      }
      t->released = 1;
      mesos__task_free(t);
    }
    if (m->allocator) mesos_allocator_remove_agent(m->allocator, a->id, NULL);
    mesos__map_remove(&m->agents, a->id);
    /* Frameworks hear that the agent is gone (Event.FAILURE). */
    Mesos__V1__Scheduler__Event sev = MESOS__V1__SCHEDULER__EVENT__INIT;
    Mesos__V1__Scheduler__Event__Failure f = MESOS__V1__SCHEDULER__EVENT__FAILURE__INIT;
    f.agent_id = &aid;
    sev.has_type = 1;
    sev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__FAILURE;
    sev.failure = &f;
    size_t it = 0;
    void *v;
    while (mesos__map_next(&m->frameworks, &it, NULL, &v)) mesos__framework_send(v, &sev);
    mesos__operator_on_agent_removed(m, id);
    mesos__agent_free(a);
  }
  return MESOS_OK;
}

static void mark_agent_gone(mesos_master *m, mesos__http_request *req, const char *id) {
  mesos_error *e = NULL;
  mesos_status st = mesos__op_mark_agent_gone(m, id, &e);
  if (st == MESOS_OK) {
    respond_empty(req, 200);
  } else if (st == MESOS_ENOTFOUND) {
    mesos__http_respond_text(req, 404, "Agent not found");
  } else {
    char msg[512];
    snprintf(msg, sizeof msg, "Failed to mark agent gone: %s", e ? mesos_error_message(e) : "");
    mesos__http_respond_text(req, 503, msg);
  }
  mesos_error_free(e);
}

static void teardown(mesos_master *m, mesos__http_request *req, const Mesos__V1__FrameworkID *fid) {
  mesos__framework *fw = fid && fid->value ? mesos__map_get(&m->frameworks, fid->value) : NULL;
  if (fw == NULL) {
    mesos__http_respond_text(req, 400, "No framework found with specified ID");
    return;
  }
  respond_empty(req, 200);
  mesos__framework_remove(fw, "operator TEARDOWN");
}

/* ------------------------------------------------------------ dispatch */

static void dispatch(mesos_master *m, mesos__http_request *req, const Mesos__V1__Master__Call *c,
                     mesos__media media) {
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  r.has_type = 1;
  mesos__op_scratch s;
  if (!mesos__master_auth_operator_call(m, req, c)) return;
  switch (c->type) {
    case MESOS__V1__MASTER__CALL__TYPE__GET_HEALTH: {
      Mesos__V1__Master__Response__GetHealth gh = MESOS__V1__MASTER__RESPONSE__GET_HEALTH__INIT;
      gh.healthy = 1;
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_HEALTH;
      r.get_health = &gh;
      respond_response(req, media, &r, NULL);
      return;
    }
    case MESOS__V1__MASTER__CALL__TYPE__GET_FLAGS:
      get_flags(m, req, media);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__GET_VERSION:
      get_version(req, media);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__GET_METRICS: {
      Mesos__V1__Master__Response__GetMetrics gm = MESOS__V1__MASTER__RESPONSE__GET_METRICS__INIT;
      mesos__op_scratch_init(&s, 8192);
      gm.metrics = mesos__metrics_protos(m, &s, &gm.n_metrics);
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_METRICS;
      r.get_metrics = &gm;
      respond_response(req, media, &r, &s);
      mesos__op_scratch_free(&s);
      return;
    }
    case MESOS__V1__MASTER__CALL__TYPE__GET_LOGGING_LEVEL: {
      Mesos__V1__Master__Response__GetLoggingLevel gl =
          MESOS__V1__MASTER__RESPONSE__GET_LOGGING_LEVEL__INIT;
      gl.level = verbosity(mesos_log_get_level());
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_LOGGING_LEVEL;
      r.get_logging_level = &gl;
      respond_response(req, media, &r, NULL);
      return;
    }
    case MESOS__V1__MASTER__CALL__TYPE__SET_LOGGING_LEVEL:
      set_logging_level(m, req, c->set_logging_level);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__LIST_FILES:
    case MESOS__V1__MASTER__CALL__TYPE__READ_FILE:
      mesos__master_files_call(m, req, media, c);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__GET_STATE:
    case MESOS__V1__MASTER__CALL__TYPE__GET_AGENTS:
    case MESOS__V1__MASTER__CALL__TYPE__GET_FRAMEWORKS:
    case MESOS__V1__MASTER__CALL__TYPE__GET_EXECUTORS:
    case MESOS__V1__MASTER__CALL__TYPE__GET_TASKS:
      if (!mesos__auth_replaying(m->auth)) m->op->c.state_requests++;
      /* Written off the loop from a snapshot (state_v1.c), batched with
       * identical calls of the same principal; with an authorizer the
       * snapshot leaves out what the principal may not view. */
      if (m->op->state == NULL) {
        mesos__http_respond_text(req, 503, "The master is shutting down");
        return;
      }
      mesos__state_v1_serve(m, req, (int)c->type, media);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__GET_ROLES:
      get_roles(m, req, media);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__GET_WEIGHTS:
      get_weights(m, req, media);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__UPDATE_WEIGHTS:
      update_weights(m, req, c->update_weights);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__GET_MASTER:
      get_master(m, req, media);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE:
      handle_subscribe(m, req, media);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__RESERVE_RESOURCES:
      resource_operation(m, req, MESOS__RESOP_RESERVE, c->reserve_resources->agent_id,
                         c->reserve_resources->resources, c->reserve_resources->n_resources);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__UNRESERVE_RESOURCES:
      resource_operation(m, req, MESOS__RESOP_UNRESERVE, c->unreserve_resources->agent_id,
                         c->unreserve_resources->resources, c->unreserve_resources->n_resources);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__CREATE_VOLUMES:
      resource_operation(m, req, MESOS__RESOP_CREATE, c->create_volumes->agent_id,
                         c->create_volumes->volumes, c->create_volumes->n_volumes);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__DESTROY_VOLUMES:
      resource_operation(m, req, MESOS__RESOP_DESTROY, c->destroy_volumes->agent_id,
                         c->destroy_volumes->volumes, c->destroy_volumes->n_volumes);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__GET_QUOTA:
      get_quota(m, req, media);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__SET_QUOTA:
      set_quota(m, req, c->set_quota);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__UPDATE_QUOTA:
      update_quota(m, req, c->update_quota);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__REMOVE_QUOTA:
      remove_quota(m, req, c->remove_quota);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__TEARDOWN:
      teardown(m, req, c->teardown->framework_id);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__MARK_AGENT_GONE:
      if (c->mark_agent_gone->agent_id == NULL || c->mark_agent_gone->agent_id->value == NULL) {
        mesos__http_respond_text(req, 400, "Expecting 'mark_agent_gone.agent_id' to be present");
        return;
      }
      mark_agent_gone(m, req, c->mark_agent_gone->agent_id->value);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__GET_OPERATIONS:
      get_operations(req, media);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__GROW_VOLUME:
      resize_volume(m, req, 1, c->grow_volume->agent_id, c->grow_volume->volume,
                    c->grow_volume->addition, NULL);
      return;
    case MESOS__V1__MASTER__CALL__TYPE__SHRINK_VOLUME:
      resize_volume(m, req, 0, c->shrink_volume->agent_id, c->shrink_volume->volume, NULL,
                    c->shrink_volume->subtract);
      return;
    default:
      if (mesos__maintenance_call(m, req, media, c)) return;
      if (mesos__agent_state_call(m, req, c)) return;
      break;
  }
  char msg[128];
  snprintf(msg, sizeof msg, "Unsupported call type %d: not implemented", (int)c->type);
  mesos__http_respond_text(req, 501, msg);
}

static void operator_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  /* A pass replayed after a late authorizer answer: decoded and counted. */
  ProtobufCMessage *msg = mesos__auth_take_kept(m->auth);
  if (msg == NULL) {
    msg = mesos__decode_call(req, &mesos__v1__master__call__descriptor, "call");
    if (msg == NULL) return;
    m->op->c.operator_calls++;
  }
  const Mesos__V1__Master__Call *call = (const Mesos__V1__Master__Call *)msg;
  const char *invalid = call_invalid(call);
  mesos__negotiated resp;
  if (invalid) {
    char text[256];
    snprintf(text, sizeof text, "Failed to validate master::Call: %s", invalid);
    mesos__http_respond_text(req, 400, text);
  } else if (call->type == MESOS__V1__MASTER__CALL__TYPE__UNKNOWN) {
    mesos__http_respond_text(req, 501, "Received 'UNKNOWN' call");
  } else {
    mesos__negotiate_response(mesos__http_request_header(req, "Accept"), NULL, false, &resp);
    if (resp.http_status) mesos__http_respond_text(req, resp.http_status, resp.error);
    else dispatch(m, req, call, resp.message);
  }
  if (!mesos__auth_keep_for_replay(m->auth, msg, mesos__pb_free)) mesos__pb_free(msg);
}

/* ------------------------------------------------------------ lifecycle */

mesos_status mesos__operator_init(mesos_master *m, mesos_error **err) {
  mesos__operator *op = MESOS__NEW(mesos__operator);
  if (op == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  op->log_handle = -1;
  op->m = m;
  mesos__map_init(&op->live_done);
  int64_t mt = mesos__flags_int(m->flags, "max_completed_tasks_per_framework");
  int64_t mf = mesos__flags_int(m->flags, "max_completed_frameworks");
  int64_t ms = mesos__flags_int(m->flags, "max_operator_event_stream_subscribers");
  if (mt < 0 || mt > 100000000 || mf < 0 || mf > 1000000 || ms < 1 || ms > 1000000) {
    mesos__free(op);
    return mesos__err(err, MESOS_EINVAL,
                      "--max_completed_tasks_per_framework, --max_completed_frameworks and "
                      "--max_operator_event_stream_subscribers must be within bounds");
  }
  op->max_tasks_per_fw = (size_t)mt;
  op->done_cap = (size_t)mf;
  op->max_subs = (size_t)ms;
  const char *log_dir = mesos__flags_get(m->flags, "log_dir");
  if (log_dir) snprintf(op->log_dir, sizeof op->log_dir, "%s", log_dir);
  op->log_base = mesos_log_get_level();
  mesos_status st = MESOS_OK;
  if (op->done_cap) {
    op->done = mesos__calloc(op->done_cap, sizeof *op->done);
    if (op->done == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (st == MESOS_OK) st = mesos_timer_new(&op->heartbeat, m->loop, heartbeat_cb, op, err);
  if (st == MESOS_OK) st = mesos_timer_new(&op->log_revert, m->loop, log_revert_cb, op, err);
  m->op = op;
  if (st == MESOS_OK) st = mesos__maintenance_init(m, err);
  if (st == MESOS_OK)
    st = mesos_timer_start(op->heartbeat, m->heartbeat_ms, m->heartbeat_ms);
  static const char *const paths[] = {"/api/v1", "/master/api/v1"};
  for (size_t i = 0; st == MESOS_OK && i < 2; i++)
    st = mesos__auth_route(m->auth, m->http, "POST", paths[i], 0, MESOS__REALM_READWRITE, 0,
                           NULL, operator_handler, m);
  if (st == MESOS_OK) st = mesos__master_files_init(m, err);
  if (st == MESOS_OK) st = mesos__state_routes(m);
  if (st == MESOS_OK) st = mesos__metrics_routes(m);
  if (st == MESOS_OK) st = apply_registry(m, err);
  if (st == MESOS_OK) mesos__maintenance_apply(m);
  if (st != MESOS_OK) {
    mesos__operator_fini(m);
    return st == MESOS_ENOMEM || st == MESOS_EEXIST
               ? mesos__err(err, st, "cannot set up the operator API")
               : st;
  }
  return MESOS_OK;
}

void mesos__operator_fini(mesos_master *m) {
  mesos__operator *op = m->op;
  if (op == NULL) return;
  mesos__state_fini(m);
  /* Subscribers still waiting for SUBSCRIBED are state.c's requests, which
   * it let go of (the server closes them): only forgotten here. */
  for (size_t i = op->nsubs; i-- > 0;) {
    if (!op->subs[i].pending) continue;
    mesos__buf_free(&op->subs[i].queued);
    mesos__auth_view_free(&op->subs[i].view);
    op->subs[i] = op->subs[--op->nsubs];
  }
  while (op->nsubs) sub_remove(op, op->nsubs - 1, 1);
  mesos__free(op->subs);
  mesos_timer_free(op->heartbeat);
  mesos_timer_free(op->log_revert);
  mesos__maintenance_fini(m);
  mesos__master_files_fini(m);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&op->live_done, &it, NULL, &v)) {
    ring_free(op, v);
    mesos__free(v);
  }
  mesos__map_free(&op->live_done);
  for (size_t i = 0; i < op->done_n; i++) {
    mesos__op_done_fw *d = &op->done[(op->done_head + i) % op->done_cap];
    mesos__pb_free(d->info);
    ring_free(op, &d->tasks);
  }
  mesos__free(op->done);
  mesos__free(op);
  m->op = NULL;
}

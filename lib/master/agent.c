/*
 * The master's end of libmesos-core's agent protocol (lib/proto/mesos/
 * internal/internal.proto): POST /api/v1/agent.
 *
 * An agent subscribes with REGISTER (no id yet) or REREGISTER (it has one);
 * the response is the agent's event stream (RecordIO of AgentEvent), the
 * only channel from master to agent, so agents need no port the master can
 * reach.  Every other agent message is a POSTed AgentCall answered 202.
 *
 * Liveness: the master sends PING every --agent_ping_timeout; an agent that
 * has not answered PONG for --max_agent_ping_timeouts periods (connected or
 * not) is removed, and its tasks are reported lost.
 */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/arena.h"
#include "codec/json.h"
#include "codec/negotiate.h"
#include "codec/pb.h"
#include "codec/pb_agent_call.h"
#include "master/master_int.h"
#include "master/resource_ops.h"
#include "mesos/memory.h"
#include "resources/resources_int.h"

#define AGENT_EVENT_MAX ((size_t)16 << 20)

mesos_status mesos__agent_send(mesos__agent *a, const Mesos__Internal__AgentEvent *ev) {
  if (a->stream == NULL) return MESOS_ECLOSED;
  mesos__buf rec = MESOS__BUF_INIT(AGENT_EVENT_MAX + 32);
  mesos_error *e = NULL;
  mesos_status st = mesos__encode_event_record(&ev->base, a->media, &rec, &e);
  if (st == MESOS_OK) st = mesos__http_stream_send(a->stream, rec.data, rec.len);
  else LOG_ERROR("agent %s: cannot encode event: %s", a->id, e ? mesos_error_message(e) : "");
  mesos_error_free(e);
  mesos__buf_free(&rec);
  return st;
}

mesos_status mesos__agent_encode(const mesos__agent *a, const Mesos__Internal__AgentEvent *ev,
                                 mesos__buf *out) {
  mesos_error *e = NULL;
  mesos_status st = mesos__encode_event_record(&ev->base, a->media, out, &e);
  if (st != MESOS_OK)
    LOG_ERROR("agent %s: cannot encode event: %s", a->id, e ? mesos_error_message(e) : "");
  mesos_error_free(e);
  return st;
}

mesos_status mesos__agent_send_records(mesos__agent *a, const char *data, size_t len) {
  if (a->stream == NULL) return MESOS_ECLOSED;
  return mesos__http_stream_send(a->stream, data, len);
}

static void detach_stream(mesos__agent *a) {
  mesos__http_request *req = a->stream;
  if (req == NULL) return;
  a->stream = NULL;
  mesos__http_request_on_abort(req, NULL, NULL);
  mesos__http_stream_end(req);
}

static void free_executors(mesos__agent *a) {
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->executors, &it, NULL, &v)) mesos__pb_free(v);
  mesos__map_free(&a->executors);
  mesos__map_init(&a->executors);
}

/* What an executor reported on re-registration holds on its agent. */
typedef struct executor_use {
  char *framework_id;
  char *role;
  mesos_resources *res;
  int accounted; /* the allocator holds them (they fit the agent) */
} executor_use;

static void executor_use_free(executor_use *u) {
  if (u == NULL) return;
  mesos_resources_free(u->res);
  mesos__free(u->role);
  mesos__free(u->framework_id);
  mesos__free(u);
}

static void free_executor_used(mesos__agent *a) {
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->executor_used, &it, NULL, &v)) executor_use_free(v);
  mesos__map_free(&a->executor_used);
  mesos__map_init(&a->executor_used);
}

static char *executor_key(const char *framework_id, const char *executor_id) {
  size_t n = strlen(framework_id) + strlen(executor_id) + 2;
  char *k = mesos__malloc(n);
  if (k) snprintf(k, n, "%s/%s", framework_id, executor_id);
  return k;
}

/* Keeps a copy of `ei` under framework/executor.  An entry already there
 * stays unless `replace`: a launch names the same executor again and again,
 * but a re-registering agent's ExecutorInfo is the whole truth about an
 * executor the master may only know by id from its tasks. */
static void store_executor(mesos__agent *a, const char *framework_id,
                           const Mesos__V1__ExecutorInfo *ei, int replace) {
  if (ei == NULL || ei->executor_id == NULL || ei->executor_id->value == NULL) return;
  char *key = executor_key(framework_id, ei->executor_id->value);
  ProtobufCMessage *copy = NULL, *old = NULL;
  uint8_t *bytes = NULL;
  size_t len = 0;
  if (key && (replace || mesos__map_get(&a->executors, key) == NULL) &&
      mesos__pb_pack(&ei->base, 0, &bytes, &len, NULL) == MESOS_OK &&
      mesos__pb_unpack(&mesos__v1__executor_info__descriptor, bytes, len, 0, 0, &copy, NULL) ==
          MESOS_OK) {
    old = mesos__map_get(&a->executors, key);
    if (mesos__map_put(&a->executors, key, copy) == MESOS_OK)
      copy = NULL;
    else
      old = NULL; /* map unchanged: the old entry stays */
  }
  mesos__pb_free(old);
  mesos__pb_free(copy);
  mesos__free(bytes);
  mesos__free(key);
}

/* An entry made from a re-registering agent's task that named its
 * executor by id only (agents that report no executor_infos): not the
 * executor's real ExecutorInfo, which every framework-supplied executor
 * has (a command, or type DEFAULT). */
static bool executor_placeholder(const Mesos__V1__ExecutorInfo *ei) {
  return ei->command == NULL && ei->container == NULL && !ei->has_type && ei->name == NULL &&
         ei->n_resources == 0 && ei->data.len == 0;
}

void mesos__agent_add_executor(mesos__agent *a, const char *framework_id,
                               const Mesos__V1__ExecutorInfo *ei) {
  const Mesos__V1__ExecutorInfo *known = NULL;
  char *key = ei && ei->executor_id && ei->executor_id->value
                  ? executor_key(framework_id, ei->executor_id->value)
                  : NULL;
  if (key) known = mesos__map_get(&a->executors, key);
  mesos__free(key);
  /* A launch's full ExecutorInfo replaces a placeholder, so later
   * launches are compared with the real one. */
  store_executor(a, framework_id, ei, known && executor_placeholder(known));
}

/* The ExecutorInfo without its framework id (Mesos fills that in when a
 * framework leaves it out) and without its resources (compared as a set,
 * below), packed: two executors are the same when these bytes are
 * (protobuf-c packs fields in a fixed order) and their resources are. */
static mesos_status executor_bytes(const Mesos__V1__ExecutorInfo *ei, uint8_t **out,
                                   size_t *len) {
  Mesos__V1__ExecutorInfo tmp = *ei;
  tmp.framework_id = NULL;
  tmp.n_resources = 0;
  tmp.resources = NULL;
  return mesos__pb_pack(&tmp.base, 0, out, len, NULL);
}

/* The executor's resources as a bag, without allocation_info (the master
 * adds that on the way to the agent, which reports it back after a master
 * fail-over): Mesos compares executors' resources as Resources, so order
 * and how a quantity is split do not make two executors differ. */
static mesos_status executor_bag(const Mesos__V1__ExecutorInfo *ei, mesos_resources **out) {
  mesos_status st = mesos_resources_new(out, NULL);
  for (size_t i = 0; st == MESOS_OK && i < ei->n_resources; i++) {
    Mesos__V1__Resource r = *ei->resources[i];
    r.allocation_info = NULL;
    st = mesos__resources_add(&(*out)->r, &r, NULL);
  }
  return st;
}

static bool executors_differ(const Mesos__V1__ExecutorInfo *x, const Mesos__V1__ExecutorInfo *y) {
  uint8_t *xb = NULL, *yb = NULL;
  size_t xl = 0, yl = 0;
  mesos_resources *xr = NULL, *yr = NULL;
  /* Out of memory (or resources that do not add up): compared as bytes. */
  bool differ = executor_bytes(x, &xb, &xl) == MESOS_OK &&
                executor_bytes(y, &yb, &yl) == MESOS_OK && (xl != yl || memcmp(xb, yb, xl) != 0);
  if (!differ && xb && yb) {
    if (executor_bag(x, &xr) == MESOS_OK && executor_bag(y, &yr) == MESOS_OK)
      differ = !mesos__resources_equal(&xr->r, &yr->r);
    else
      differ = x->n_resources != y->n_resources;
  }
  mesos_resources_free(xr);
  mesos_resources_free(yr);
  mesos__free(xb);
  mesos__free(yb);
  return differ;
}

static void executor_json(const Mesos__V1__ExecutorInfo *ei, mesos__buf *b) {
  Mesos__V1__ExecutorInfo tmp = *ei;
  tmp.framework_id = NULL;
  if (mesos__json_encode(&tmp.base, b, NULL) != MESOS_OK) mesos__buf_append(b, "?", 1);
}

bool mesos__agent_executor_mismatch(mesos__agent *a, const char *framework_id,
                                    const Mesos__V1__ExecutorInfo *ei, char *why, size_t cap) {
  if (ei == NULL || ei->executor_id == NULL || ei->executor_id->value == NULL) return false;
  char *key = executor_key(framework_id, ei->executor_id->value);
  const Mesos__V1__ExecutorInfo *known = key ? mesos__map_get(&a->executors, key) : NULL;
  mesos__free(key);
  if (known == NULL || executor_placeholder(known)) return false;
  if (!executors_differ(known, ei)) return false;
  /* Mesos's words, with both ExecutorInfos (as JSON here). */
  mesos__buf old_json = MESOS__BUF_INIT((size_t)64 << 10), new_json = MESOS__BUF_INIT((size_t)64 << 10);
  executor_json(known, &old_json);
  executor_json(ei, &new_json);
  static const char line[] = "------------------------------------------------------------";
  snprintf(why, cap,
           "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID.\n"
           "%s\nExisting ExecutorInfo:\n%.*s\n%s\nExecutorInfo:\n%.*s\n%s\n",
           line, (int)old_json.len, old_json.data ? old_json.data : "", line, (int)new_json.len,
           new_json.data ? new_json.data : "", line);
  mesos__buf_free(&old_json);
  mesos__buf_free(&new_json);
  return true;
}

bool mesos__agent_has_executor(mesos__agent *a, const char *framework_id,
                               const char *executor_id) {
  char *key = executor_key(framework_id, executor_id);
  bool has = key && mesos__map_get(&a->executors, key) != NULL;
  mesos__free(key);
  return has;
}

void mesos__agent_use_executor(mesos__agent *a, const char *framework_id,
                               const char *executor_id, const char *role, mesos_resources *res) {
  char *key = executor_key(framework_id, executor_id);
  executor_use *u = MESOS__NEW(executor_use);
  mesos_status st = key && u ? MESOS_OK : MESOS_ENOMEM;
  if (st == MESOS_OK) {
    u->res = res;
    res = NULL;
    u->accounted = 1; /* taken from an offer: the allocator holds them */
    u->framework_id = mesos__strdup(framework_id);
    u->role = mesos__strdup(role);
    st = u->framework_id && u->role ? MESOS_OK : MESOS_ENOMEM;
  }
  if (st == MESOS_OK) {
    executor_use_free(mesos__map_remove(&a->executor_used, key));
    st = mesos__map_put(&a->executor_used, key, u);
  }
  if (st != MESOS_OK) {
    /* Out of memory: the resources stay allocated to the framework until
     * it goes (the allocator forgets its allocations wholesale). */
    LOG_WARN("agent %s: executor %s/%s: cannot remember its resources", a->id, framework_id,
             executor_id);
    executor_use_free(u);
  }
  mesos_resources_free(res);
  mesos__free(key);
}

void mesos__agents_forget_framework(mesos_master *m, const char *framework_id,
                                    mesos__map *touched) {
  size_t flen = strlen(framework_id);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->agents, &it, NULL, &v)) {
    mesos__agent *a = v;
    if (mesos__map_count(&a->executors) == 0) continue;
    /* Keys first: removal changes the map being walked. */
    size_t n = mesos__map_count(&a->executors), k = 0;
    char **keys = mesos__calloc(n, sizeof *keys);
    if (keys == NULL) continue;
    size_t j = 0;
    const char *key;
    void *ei;
    while (mesos__map_next(&a->executors, &j, &key, &ei))
      if (strncmp(key, framework_id, flen) == 0 && key[flen] == '/') keys[k++] = mesos__strdup(key);
    for (size_t i = 0; i < k; i++) {
      if (keys[i] == NULL) continue;
      mesos__pb_free(mesos__map_get(&a->executors, keys[i]));
      mesos__map_remove(&a->executors, keys[i]);
      /* The allocator forgets the framework's allocations wholesale. */
      executor_use_free(mesos__map_remove(&a->executor_used, keys[i]));
      mesos__free(keys[i]);
    }
    mesos__free(keys);
    if (k && touched) mesos__map_put(touched, a->id, a);
  }
}

void mesos__agent_free(mesos__agent *a) {
  if (a == NULL) return;
  free_executors(a);
  free_executor_used(a);
  detach_stream(a);
  mesos_timer_free(a->ping);
  mesos_resources_free(a->total);
  mesos__pb_free(a->info);
  mesos__map_free(&a->tasks);
  mesos__free(a->id);
  mesos__free(a);
}

/* Tells every framework the agent is gone (Event.FAILURE with agent_id). */
static void notify_agent_lost(mesos_master *m, const char *agent_id) {
  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  Mesos__V1__Scheduler__Event__Failure f = MESOS__V1__SCHEDULER__EVENT__FAILURE__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = (char *)agent_id;
  f.agent_id = &aid;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__FAILURE;
  ev.failure = &f;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) mesos__framework_send(v, &ev);
}

void mesos__agent_remove(mesos__agent *a, const char *why, int unreachable) {
  mesos_master *m = a->master;
  LOG_WARN("Removing agent %s (%s): %s", a->id, a->info->hostname, why);
  mesos_error *e = NULL;
  if (mesos__registry_agent_op(m, unreachable
                                      ? MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__MARK_AGENT_UNREACHABLE
                                      : MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__REMOVE_AGENT,
                               a, &e) != MESOS_OK) {
    LOG_WARN("agent %s: registry update failed: %s", a->id, e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
  mesos__offers_rescind_agent(a);
  /* Tasks: LOST for ordinary frameworks, UNREACHABLE for partition-aware
   * ones (spec 2.7's table, agent unreachable). */
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  size_t nt = 0;
  mesos__task **tv = mesos__tasks_snapshot(&a->tasks, &nt);
  for (size_t k = 0; tv && k < nt; k++) {
    mesos__task *t = tv[k];
    if (!mesos__task_state_terminal(t->state)) {
      int pa = 0;
      for (size_t i = 0; i < t->fw->info->n_capabilities; i++)
        pa |= t->fw->info->capabilities[i]->type ==
              MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE;
      mesos__send_master_update(
          t->fw, mesos__task_tid(t), &aid,
          pa ? MESOS__V1__TASK_STATE__TASK_UNREACHABLE : MESOS__V1__TASK_STATE__TASK_LOST,
          MESOS__V1__TASK_STATUS__REASON__REASON_AGENT_REMOVED,
          "Agent removed");
    }
  }
  mesos__free(tv);
  /* The whole agent leaves the allocator below; no per-task recovery. */
  mesos__tasks_free_all(&a->tasks);
  if (m->allocator) mesos_allocator_remove_agent(m->allocator, a->id, NULL);
  mesos__map_remove(&m->agents, a->id);
  notify_agent_lost(m, a->id);
  mesos__operator_on_agent_removed(m, a->id);
  mesos__agent_free(a);
}

static void ping_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos__agent *a = ud;
  mesos_master *m = a->master;
  if (a->pong_due) a->missed_pongs++;
  if (a->missed_pongs >= m->max_ping_timeouts) {
    mesos__agent_remove(a, "health check timed out", 1);
    return;
  }
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__Ping ping = MESOS__INTERNAL__PING__INIT;
  ping.has_connected = 1;
  ping.connected = a->stream != NULL;
  ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
  ev.has_type = 1;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__PING;
  ev.ping = &ping;
  if (mesos__agent_send(a, &ev) == MESOS_OK) a->pong_due = 1;
  else a->pong_due = 1; /* disconnected: counts as a missed pong */
}

static void stream_aborted(mesos__http_request *req, void *ud) {
  mesos__agent *a = ud;
  if (a->stream != req) return;
  a->stream = NULL;
  LOG_INFO("Agent %s disconnected; waiting for it to re-register", a->id);
  mesos__offers_rescind_agent(a);
  if (a->master->allocator) mesos_allocator_deactivate_agent(a->master->allocator, a->id, NULL);
}

/* Copies AgentInfo with the id set. */
static mesos_status own_info(mesos__agent *a, const Mesos__V1__AgentInfo *info) {
  Mesos__V1__AgentInfo tmp = *info;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  tmp.id = &aid;
  /* One block (kept as long as the agent), not one allocation per field. */
  ProtobufCMessage *copy = NULL;
  mesos_status st = mesos__pb_clone_compact(&tmp.base, &copy, NULL);
  if (st == MESOS_OK) {
    mesos__pb_free(a->info);
    a->info = (Mesos__V1__AgentInfo *)copy;
    mesos__agent_changed(a);
  }
  return st;
}

static void start_stream(mesos__agent *a, mesos__http_request *req, mesos__media media,
                         int reregistered) {
  mesos_master *m = a->master;
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", media == MESOS__MEDIA_PROTOBUF
                                                  ? MESOS__MEDIA_TYPE_PROTOBUF
                                                  : MESOS__MEDIA_TYPE_JSON);
  mesos_status st = mesos__http_stream_start(req, 200, &h);
  mesos__http_headers_free(&h);
  if (st != MESOS_OK) return;
  a->stream = req;
  /* A new name per stream (a time-based start, so a master restarted
   * within the same agent's life does not hand out an old one again). */
  a->conn_id = a->conn_id ? a->conn_id + 1 : (uint64_t)(mesos__master_now() * 1e6);
  a->media = media;
  a->missed_pongs = 0;
  a->pong_due = 0;
  mesos__http_request_on_abort(req, stream_aborted, a);

  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__AgentRegistered reg = MESOS__INTERNAL__AGENT_REGISTERED__INIT;
  Mesos__Internal__AgentReregistered rereg = MESOS__INTERNAL__AGENT_REREGISTERED__INIT;
  Mesos__Internal__AgentConnection conn = MESOS__INTERNAL__AGENT_CONNECTION__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  conn.has_total_ping_timeout_seconds = 1;
  conn.total_ping_timeout_seconds = (double)m->agent_ping_ms * m->max_ping_timeouts / 1000.0;
  ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
  ev.has_type = 1;
  if (reregistered) {
    rereg.agent_id = &aid;
    rereg.connection = &conn;
    rereg.master_info = &m->info;
    rereg.has_connection_id = 1;
    rereg.connection_id = a->conn_id;
    ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__REREGISTERED;
    ev.agent_reregistered = &rereg;
  } else {
    reg.agent_id = &aid;
    reg.connection = &conn;
    reg.master_info = &m->info;
    reg.has_connection_id = 1;
    reg.connection_id = a->conn_id;
    ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__REGISTERED;
    ev.agent_registered = &reg;
  }
  mesos__agent_send(a, &ev);
  mesos_timer_start(a->ping, m->agent_ping_ms, m->agent_ping_ms);
  mesos__operator_on_agent_added(a);
}

static mesos_status agent_new(mesos__agent **out, mesos_master *m, const char *id,
                              const Mesos__V1__AgentInfo *info, mesos_error **err) {
  mesos__agent *a = MESOS__NEW(mesos__agent);
  if (a == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  a->master = m;
  mesos__map_init_borrowed(&a->tasks); /* keyed by each task's t->key */
  mesos__map_init(&a->executors);
  mesos__map_init(&a->executor_used);
  a->id = mesos__strdup(id);
  mesos_status st = a->id ? MESOS_OK : mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st == MESOS_OK) st = own_info(a, info);
  if (st == MESOS_OK) st = mesos__agent_total_new(m, info, &a->total, err);
  if (st == MESOS_OK) st = mesos_timer_new(&a->ping, m->loop, ping_cb, a, err);
  if (st != MESOS_OK) {
    mesos__agent_free(a);
    return st;
  }
  a->registered_time = mesos__master_now();
  *out = a;
  return MESOS_OK;
}

/* Adds the agent (with what already runs there) to the allocator. */
static mesos_status agent_to_allocator(mesos__agent *a, mesos_error **err) {
  mesos_master *m = a->master;
  if (m->allocator == NULL) return MESOS_OK;
  mesos_allocator_agent aa = MESOS_ALLOCATOR_AGENT_INIT;
  aa.id = a->id;
  aa.hostname = a->info->hostname;
  aa.total = a->total;
  size_t n = mesos__map_count(&a->tasks) + mesos__map_count(&a->executor_used), k = 0;
  mesos_allocator_allocation *used = mesos__calloc(n ? n : 1, sizeof *used);
  if (used == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__task *t = v;
    if (t->released) continue;
    used[k].framework_id = t->fw->id;
    used[k].agent_id = a->id;
    used[k].role = t->role;
    used[k].resources = t->resources;
    k++;
  }
  if (mesos__map_count(&a->executor_used)) {
    /* Executors count only while everything fits the agent's total (the
     * allocator refuses an agent whose used resources exceed it): one
     * that does not is logged and left out, never the agent. */
    mesos_resources *room = NULL;
    mesos_status rs = mesos_resources_clone(&room, a->total, NULL);
    for (size_t i = 0; rs == MESOS_OK && i < k; i++)
      rs = mesos_resources_subtract(room, used[i].resources, NULL);
    const char *key;
    it = 0;
    while (rs == MESOS_OK && mesos__map_next(&a->executor_used, &it, &key, &v)) {
      executor_use *u = v;
      u->accounted = mesos_resources_subtract(room, u->res, NULL) == MESOS_OK;
      if (!u->accounted) {
        LOG_WARN("agent %s: executor %s uses more than the agent has left; not accounted", a->id,
                 key);
        continue;
      }
      used[k].framework_id = u->framework_id;
      used[k].agent_id = a->id;
      used[k].role = u->role;
      used[k].resources = u->res;
      k++;
    }
    mesos_resources_free(room);
  }
  aa.used = used;
  aa.nused = k;
  mesos_status st = mesos_allocator_add_agent(m->allocator, &aa, err);
  mesos__free(used);
  return st;
}

static void handle_register(mesos_master *m, mesos__http_request *req,
                            const Mesos__Internal__AgentCall *call, mesos__media media) {
  const Mesos__Internal__RegisterAgent *ra = call->register_agent;
  if (mesos__operator_machine_down(m, ra->agent ? ra->agent->hostname : NULL)) {
    mesos__http_respond_text(req, 403, "Agent is on a machine that is DOWN for maintenance");
    return;
  }
  char id[96];
  snprintf(id, sizeof id, "%s-S%llu", m->id, (unsigned long long)m->next_agent++);
  mesos__agent *a = NULL;
  mesos_error *e = NULL;
  if (agent_new(&a, m, id, ra->agent, &e) != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Invalid agent: %s", e ? mesos_error_message(e) : "out of memory");
    mesos_error_free(e);
    mesos__http_respond_text(req, 400, msg);
    return;
  }
  /* Durable admission first: the agent learns its id only once a master
   * restart cannot forget it. */
  if (mesos__registry_agent_op(m, MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__ADMIT_AGENT, a,
                               &e) != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot admit agent: %s", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    mesos__agent_free(a);
    mesos__http_respond_text(req, 503, msg);
    return;
  }
  /* Reservations and volumes the agent kept (resource_ops.c). */
  mesos__resop_adopt_reported(a, ra->checkpointed_resources, ra->n_checkpointed_resources);
  if (mesos__map_put(&m->agents, a->id, a) != MESOS_OK ||
      agent_to_allocator(a, &e) != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot admit agent: %s", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    mesos__map_remove(&m->agents, a->id);
    mesos__registry_agent_op(m, MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__REMOVE_AGENT, a, NULL);
    mesos__agent_free(a);
    mesos__http_respond_text(req, 500, msg);
    return;
  }
  char *res = NULL;
  mesos_resources_format(a->total, &res, NULL);
  LOG_INFO("Registered agent %s at %s (%s) with %s", a->id, mesos__http_request_peer(req),
           a->info->hostname, res ? res : "");
  mesos_free(res);
  start_stream(a, req, media, 0);
  mesos__resop_sync_agent(a, ra->checkpointed_resources, ra->n_checkpointed_resources);
}

/* The FrameworkInfo a re-registering agent reports for `fid`, or NULL. */
static const Mesos__V1__FrameworkInfo *reported_framework(
    const Mesos__Internal__ReregisterAgent *rr, const char *fid) {
  for (size_t i = 0; i < rr->n_frameworks; i++) {
    const Mesos__V1__FrameworkInfo *fi = rr->frameworks[i];
    if (fi && fi->id && fi->id->value && strcmp(fi->id->value, fid) == 0) return fi;
  }
  return NULL;
}

/* After a master restart frameworks are unknown until they subscribe
 * again.  One that an agent reports is recovered from its FrameworkInfo,
 * disconnected, so its tasks are accounted for and it keeps its id (Mesos's
 * "recovered frameworks"; no failover timer runs until it has subscribed
 * once, so its tasks are not torn down before the scheduler can return). */
static mesos__framework *recover_framework(mesos_master *m,
                                           const Mesos__Internal__ReregisterAgent *rr,
                                           const char *fid) {
  if (mesos__map_get(&m->removed, fid) || mesos__validate_id(fid)) return NULL;
  const Mesos__V1__FrameworkInfo *fi = reported_framework(rr, fid);
  mesos__framework *fw = NULL;
  if (fi == NULL || mesos__framework_new(&fw, m, fid, fi) != MESOS_OK) return NULL;
  fw->recovered = 1;
  mesos__allocator_framework_set_active(fw, 0);
  LOG_INFO("Recovered framework %s (%s) from a re-registering agent", fw->id,
           fw->info->name ? fw->info->name : "");
  return fw;
}

/* Remembers an executor's own resources for the allocator (see
 * agent_to_allocator); invalid resources are logged and left out. */
static void account_executor(mesos__agent *a, mesos__framework *fw,
                             const Mesos__V1__ExecutorInfo *ei) {
  char *key = executor_key(fw->id, ei->executor_id->value);
  executor_use *u = MESOS__NEW(executor_use);
  mesos_error *e = NULL;
  mesos_status st = key && u && mesos_resources_new(&u->res, NULL) == MESOS_OK ? MESOS_OK
                                                                                 : MESOS_ENOMEM;
  const char *role = fw->info->n_roles ? fw->info->roles[0]
                                       : (fw->info->role ? fw->info->role : "*");
  for (size_t k = 0; st == MESOS_OK && k < ei->n_resources; k++) {
    Mesos__V1__Resource r = *ei->resources[k];
    if (k == 0 && r.allocation_info && r.allocation_info->role) role = r.allocation_info->role;
    r.allocation_info = NULL;
    st = mesos__resources_add(&u->res->r, &r, &e);
  }
  if (st == MESOS_OK) {
    mesos__resources_share_identities(&u->res->r, &a->total->r);
    u->framework_id = mesos__strdup(fw->id);
    u->role = mesos__strdup(role);
    st = u->framework_id && u->role ? MESOS_OK : MESOS_ENOMEM;
  }
  if (st == MESOS_OK) {
    executor_use_free(mesos__map_remove(&a->executor_used, key));
    st = mesos__map_put(&a->executor_used, key, u);
  }
  if (st != MESOS_OK) {
    LOG_WARN("agent %s: resources of executor %s not accounted: %s", a->id,
             ei->executor_id->value, e ? mesos_error_message(e) : "out of memory");
    executor_use_free(u);
  }
  mesos_error_free(e);
  mesos__free(key);
}

/* What a re-registering agent reports, merged into the master's view:
 * tasks of known (or recoverable) frameworks the master does not know are
 * adopted; every reported task's key goes into `seen` (when not NULL); frameworks the
 * master removed go into `shutdown` (the agent must end them); custom
 * executors are (re-)added. */
static void adopt_tasks(mesos__agent *a, Mesos__Internal__ReregisterAgent *rr, mesos__map *seen,
                        mesos__map *shutdown) {
  mesos_master *m = a->master;
  for (size_t i = 0; i < rr->n_tasks; i++) {
    Mesos__V1__Task *rt = rr->tasks[i];
    if (rt == NULL) continue;
    if (rt->framework_id == NULL || rt->framework_id->value == NULL || rt->task_id == NULL ||
        rt->task_id->value == NULL)
      continue;
    const char *fid = rt->framework_id->value;
    mesos__framework *fw = mesos__map_get(&m->frameworks, fid);
    if (fw == NULL && mesos__map_get(&m->removed, fid)) {
      mesos__map_put(shutdown, fid, a);
      continue;
    }
    if (fw == NULL) fw = recover_framework(m, rr, fid);
    if (fw == NULL) continue;
    if (seen) {
      char key[600];
      snprintf(key, sizeof key, "%s/%s", fid, rt->task_id->value);
      mesos__map_put(seen, key, a);
    }
    /* A task's executor other than the task itself is one the framework
     * supplied (the command executor takes the task's id). */
    if (rt->executor_id && rt->executor_id->value &&
        strcmp(rt->executor_id->value, rt->task_id->value) != 0) {
      Mesos__V1__ExecutorInfo ei = MESOS__V1__EXECUTOR_INFO__INIT;
      ei.executor_id = rt->executor_id;
      ei.framework_id = rt->framework_id;
      mesos__agent_add_executor(a, fid, &ei);
    }
    if (mesos__map_get(&fw->tasks, rt->task_id->value)) continue;
    const char *role = fw->info->n_roles ? fw->info->roles[0]
                                         : (fw->info->role ? fw->info->role : "*");
    if (rt->n_resources && rt->resources[0]->allocation_info &&
        rt->resources[0]->allocation_info->role)
      role = rt->resources[0]->allocation_info->role;
    /* The record is the agent's Task as reported (its executor, resources
     * and labels included), as Mesos keeps it, naming this agent: a
     * compact record (task_body.h) whose ids, user and resources are
     * shared with other tasks; the call itself lives in an arena and goes
     * when the call is answered. */
    mesos__task *t = NULL;
    if (mesos__task_adopt(&t, fw, a, rt, role) != MESOS_OK)
      LOG_WARN("agent %s: task %s of framework %s not adopted: out of memory", a->id,
               rt->task_id->value, fid);
  }
  /* Executors the agent runs (agents that send them; older ones do not
   * and their executors are known through their tasks only).  Their own
   * resources are the agent's report: the allocator's view of the agent
   * is rebuilt from it, so what an earlier report accounted goes. */
  free_executor_used(a);
  for (size_t i = 0; i < rr->n_executor_infos; i++) {
    const Mesos__V1__ExecutorInfo *ei = rr->executor_infos[i];
    if (ei == NULL || ei->framework_id == NULL || ei->framework_id->value == NULL ||
        ei->executor_id == NULL || ei->executor_id->value == NULL ||
        mesos__validate_id(ei->executor_id->value))
      continue;
    const char *fid = ei->framework_id->value;
    mesos__framework *fw = mesos__map_get(&m->frameworks, fid);
    if (fw == NULL && mesos__map_get(&m->removed, fid)) {
      mesos__map_put(shutdown, fid, a);
      continue;
    }
    if (fw == NULL) fw = recover_framework(m, rr, fid);
    if (fw == NULL) continue;
    store_executor(a, fid, ei, 1); /* over the id-only entry its tasks made */
    if (ei->n_resources) account_executor(a, fw, ei);
  }
}

/* Master-side reconciliation of a re-registering agent the master knows:
 * a task the master has for it that the agent no longer reports is gone.
 * Ordinary frameworks hear TASK_LOST; partition-aware ones TASK_DROPPED
 * when the task never got past STAGING (the launch was lost on the way)
 * and TASK_GONE otherwise; all with REASON_RECONCILIATION and no uuid. */
static void reconcile_missing(mesos__agent *a, const mesos__map *seen) {
  size_t n = mesos__map_count(&a->tasks), k = 0;
  if (n == 0) return;
  mesos__task **gone = mesos__calloc(n, sizeof *gone);
  if (gone == NULL) return;
  size_t it = 0;
  const char *key;
  void *v;
  while (mesos__map_next(&a->tasks, &it, &key, &v))
    if (mesos__map_get(seen, key) == NULL) gone[k++] = v;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  for (size_t i = 0; i < k; i++) {
    mesos__task *t = gone[i];
    if (!mesos__task_state_terminal(t->state)) {
      Mesos__V1__TaskState st = MESOS__V1__TASK_STATE__TASK_LOST;
      if (mesos__framework_partition_aware(t->fw))
        st = t->state == MESOS__V1__TASK_STATE__TASK_STAGING
                 ? MESOS__V1__TASK_STATE__TASK_DROPPED
                 : MESOS__V1__TASK_STATE__TASK_GONE;
      LOG_INFO("Task %s is unknown to re-registered agent %s: %s", t->key, a->id,
               protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, st)->name);
      mesos__send_master_update(t->fw, mesos__task_tid(t), &aid, st,
                                MESOS__V1__TASK_STATUS__REASON__REASON_RECONCILIATION,
                                "Reconciliation: task is unknown to the agent");
    }
    /* The agent's allocation is rebuilt from the surviving tasks below. */
    t->released = 1;
    mesos__task_free(t);
  }
  mesos__free(gone);
}

/* Frameworks the master removed but the agent still runs: shut down. */
static void send_shutdowns(mesos__agent *a, const mesos__map *shutdown) {
  size_t it = 0;
  const char *fid;
  while (mesos__map_next(shutdown, &it, &fid, NULL)) {
    Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
    Mesos__Internal__ShutdownFramework sf = MESOS__INTERNAL__SHUTDOWN_FRAMEWORK__INIT;
    Mesos__V1__FrameworkID id = MESOS__V1__FRAMEWORK_ID__INIT;
    id.value = (char *)fid;
    sf.framework_id = &id;
    ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
    ev.has_type = 1;
    ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_FRAMEWORK;
    ev.shutdown_framework = &sf;
    LOG_INFO("Agent %s runs tasks of removed framework %s: shutting it down", a->id, fid);
    mesos__agent_send(a, &ev);
  }
}

/* The agent is back: it no longer counts against the re-registration
 * window. */
static void agent_arrived(mesos_master *m, const char *id) {
  if (mesos__map_count(&m->expected) == 0) return;
  mesos__map_remove(&m->expected, id);
  if (mesos__map_count(&m->expected) == 0) {
    mesos_timer_stop(m->reregister_timer);
    LOG_INFO("All agents admitted before the restart have re-registered");
  }
}

static void handle_reregister(mesos_master *m, mesos__http_request *req,
                              Mesos__Internal__AgentCall *call, mesos__media media) {
  /* Not const: adopt_tasks points a reported task at this agent while it
   * copies it.  The call lives in an arena (codec/arena.h, from JSON or
   * protobuf): what the master keeps is copied out of it. */
  Mesos__Internal__ReregisterAgent *rr = call->reregister_agent;
  if (mesos__operator_machine_down(m, rr->agent ? rr->agent->hostname : NULL)) {
    mesos__http_respond_text(req, 403, "Agent is on a machine that is DOWN for maintenance");
    return;
  }
  const char *id = rr->agent->id && rr->agent->id->value ? rr->agent->id->value
                   : call->agent_id                      ? call->agent_id->value
                                                         : NULL;
  if (id == NULL || mesos__validate_id(id)) {
    mesos__http_respond_text(req, 400, "REREGISTER needs a valid agent id");
    return;
  }
  mesos__agent *a = mesos__map_get(&m->agents, id);
  mesos_error *e = NULL;
  mesos__map seen, shutdown;
  mesos__map_init(&seen);
  mesos__map_init(&shutdown);
  if (a) {
    detach_stream(a);
    /* Offers made on the old connection go back before the allocator's
     * view of the agent is rebuilt from what it reports. */
    mesos__offers_rescind_agent(a);
    a->reregistered_time = mesos__master_now();
    adopt_tasks(a, rr, &seen, &shutdown);
    reconcile_missing(a, &seen);
    if (m->allocator) {
      mesos_allocator_remove_agent(m->allocator, a->id, NULL);
      if (agent_to_allocator(a, &e) != MESOS_OK) {
        LOG_WARN("agent %s: cannot re-add it to the allocator: %s", a->id,
                 e ? mesos_error_message(e) : "");
        mesos_error_free(e);
      }
    }
    LOG_INFO("Agent %s re-registered", a->id);
    start_stream(a, req, media, 1);
    /* The master's reservations and volumes stand; an agent that missed
     * a CHECKPOINT_RESOURCES while away gets them now. */
    mesos__resop_sync_agent(a, rr->checkpointed_resources, rr->n_checkpointed_resources);
    send_shutdowns(a, &shutdown);
    mesos__map_free(&seen);
    mesos__map_free(&shutdown);
    return;
  }
  /* Unknown to us (master fail-over): the registry says whether it may
   * come back.  Gone agents never do; unreachable ones are re-admitted;
   * admitted ones simply resume; others are admitted now. */
  mesos__registry_agent_state rs = mesos__registry_agent(m->registry, id);
  if (rs == MESOS__REGISTRY_AGENT_GONE) {
    mesos__http_respond_text(req, 403, "Agent has been marked gone and cannot re-register");
    return;
  }
  if (agent_new(&a, m, id, rr->agent, &e) != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Invalid agent: %s", e ? mesos_error_message(e) : "out of memory");
    mesos_error_free(e);
    mesos__http_respond_text(req, 400, msg);
    return;
  }
  a->reregistered_time = a->registered_time;
  if (rs != MESOS__REGISTRY_AGENT_ADMITTED &&
      mesos__registry_agent_op(m, rs == MESOS__REGISTRY_AGENT_UNREACHABLE
                                      ? MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__READMIT_AGENT
                                      : MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__ADMIT_AGENT,
                               a, &e) != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot re-admit agent: %s", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    mesos__agent_free(a);
    mesos__http_respond_text(req, 503, msg);
    return;
  }
  mesos__operator_restore_agent(a); /* recorded reservations and volumes */
  mesos__resop_adopt_reported(a, rr->checkpointed_resources, rr->n_checkpointed_resources);
  /* A new agent has no tasks to reconcile: no `seen` set to build. */
  adopt_tasks(a, rr, NULL, &shutdown);
  if (mesos__map_put(&m->agents, a->id, a) != MESOS_OK ||
      agent_to_allocator(a, &e) != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot admit agent: %s", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    mesos__tasks_free_all(&a->tasks);
    mesos__map_remove(&m->agents, a->id);
    mesos__agent_free(a);
    mesos__http_respond_text(req, 500, msg);
    mesos__map_free(&seen);
    mesos__map_free(&shutdown);
    return;
  }
  agent_arrived(m, a->id);
  LOG_INFO("Agent %s re-registered after master fail-over", a->id);
  start_stream(a, req, media, 1);
  mesos__resop_sync_agent(a, rr->checkpointed_resources, rr->n_checkpointed_resources);
  send_shutdowns(a, &shutdown);
  mesos__map_free(&seen);
  mesos__map_free(&shutdown);
}

/* ------------------------------------------------------------ re-registration window */

/* --agent_reregister_timeout ran out: agents admitted before the restart
 * that did not come back are marked unreachable (durably) and every
 * framework hears that they are lost.  The master never knew their tasks;
 * schedulers learn those through reconciliation (TASK_UNREACHABLE or
 * TASK_LOST, spec 2.7). */
static void reregister_timeout_cb(mesos_timer *t, void *ud) {
  (void)t;
  mesos_master *m = ud;
  size_t n = mesos__map_count(&m->expected), k = 0;
  char **ids = mesos__calloc(n ? n : 1, sizeof *ids);
  size_t it = 0;
  const char *id;
  while (ids && mesos__map_next(&m->expected, &it, &id, NULL)) ids[k++] = mesos__strdup(id);
  mesos__map_free(&m->expected);
  mesos__map_init(&m->expected);
  for (size_t i = 0; i < k; i++) {
    if (ids[i] == NULL) continue;
    Mesos__Internal__RegistryOperation op = MESOS__INTERNAL__REGISTRY_OPERATION__INIT;
    Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
    Mesos__V1__TimeInfo ts = MESOS__V1__TIME_INFO__INIT;
    aid.value = ids[i];
    ts.nanoseconds = (int64_t)(mesos__master_now() * 1e9);
    op.has_type = 1;
    op.type = MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__MARK_AGENT_UNREACHABLE;
    op.agent_id = &aid;
    op.timestamp = &ts;
    mesos_error *e = NULL;
    if (mesos__registry_apply(m->registry, &op, &e) != MESOS_OK) {
      LOG_WARN("agent %s: cannot mark it unreachable: %s", ids[i],
               e ? mesos_error_message(e) : "");
      mesos_error_free(e);
    } else {
      LOG_WARN("Agent %s did not re-register within --agent_reregister_timeout: unreachable",
               ids[i]);
      notify_agent_lost(m, ids[i]);
    }
    mesos__free(ids[i]);
  }
  mesos__free(ids);
}

mesos_status mesos__agents_expect_recovered(mesos_master *m, mesos_error **err) {
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  for (size_t i = 0; i < reg->n_agents; i++) {
    const Mesos__V1__AgentInfo *info = reg->agents[i]->info;
    if (info && info->id && info->id->value &&
        mesos__map_put(&m->expected, info->id->value, m) != MESOS_OK)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (mesos__map_count(&m->expected) == 0) return MESOS_OK;
  mesos_status st = mesos_timer_new(&m->reregister_timer, m->loop, reregister_timeout_cb, m, err);
  if (st == MESOS_OK) st = mesos_timer_start(m->reregister_timer, m->reregister_ms, 0);
  if (st == MESOS_OK)
    LOG_INFO("Waiting up to %llu ms for %zu agents to re-register",
             (unsigned long long)m->reregister_ms, mesos__map_count(&m->expected));
  return st;
}

void mesos__agents_fini(mesos_master *m) {
  mesos_timer_free(m->reregister_timer);
  m->reregister_timer = NULL;
  mesos__map_free(&m->expected);
  mesos__map_init(&m->expected);
}

/* Mesos forwards an executor's exit as Event.FAILURE only for executors the
 * master knows, i.e. ones the framework supplied (custom executors, the
 * default executor of a task group).  The command executor is made up by
 * the agent per task; its end is already told by the task's terminal
 * update, so the master drops it. */
static void forward_exited_executor(mesos_master *m, mesos__agent *a,
                                    const Mesos__Internal__ExitedExecutor *ee) {
  char *key = executor_key(ee->framework_id->value, ee->executor_id->value);
  if (key == NULL) return;
  ProtobufCMessage *known = mesos__map_get(&a->executors, key);
  if (known) {
    mesos__map_remove(&a->executors, key);
    mesos__pb_free(known);
  }
  /* Its own resources go back (when they were accounted). */
  executor_use *u = mesos__map_remove(&a->executor_used, key);
  if (u && u->accounted && m->allocator) {
    mesos_error *e = NULL;
    if (mesos_allocator_recover_resources(m->allocator, u->framework_id, a->id, u->role, u->res,
                                          0, &e) != MESOS_OK) {
      LOG_WARN("agent %s: executor %s: cannot recover resources: %s", a->id, key,
               e ? mesos_error_message(e) : "");
      mesos_error_free(e);
    }
    mesos__offers_soon(m);
  }
  executor_use_free(u);
  mesos__free(key);
  mesos__framework *fw = mesos__map_get(&m->frameworks, ee->framework_id->value);
  if (known == NULL || fw == NULL) {
    LOG_DEBUG("agent %s: exit of executor %s (framework %s) not forwarded: %s", a->id,
              ee->executor_id->value, ee->framework_id->value,
              known ? "unknown framework" : "not a known custom executor");
    return;
  }
  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  Mesos__V1__Scheduler__Event__Failure f = MESOS__V1__SCHEDULER__EVENT__FAILURE__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  f.agent_id = &aid;
  f.executor_id = ee->executor_id;
  f.has_status = ee->has_status;
  f.status = ee->status;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__FAILURE;
  ev.failure = &f;
  mesos__framework_send(fw, &ev);
}

static void forward_executor_message(mesos_master *m, mesos__agent *a,
                                     const Mesos__Internal__FrameworkMessage *fm) {
  mesos__framework *fw = mesos__map_get(&m->frameworks, fm->framework_id->value);
  if (fw == NULL) return;
  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  Mesos__V1__Scheduler__Event__Message msg = MESOS__V1__SCHEDULER__EVENT__MESSAGE__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  msg.agent_id = &aid;
  msg.executor_id = fm->executor_id;
  msg.data = fm->data;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__MESSAGE;
  ev.message = &msg;
  mesos__framework_send(fw, &ev);
}

/* The sub-message each call type needs, or NULL when valid. */
static const char *agent_call_invalid(const Mesos__Internal__AgentCall *c) {
  if (c->protocol_version != MESOS__AGENT_PROTOCOL_VERSION)
    return "unsupported protocol_version (this master speaks 1)";
  if (!c->has_type) return "Expecting 'type' to be present";
  switch (c->type) {
    case MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER:
      return c->register_agent ? NULL : "Expecting 'register_agent' to be present";
    case MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER:
      return c->reregister_agent ? NULL : "Expecting 'reregister_agent' to be present";
    default:
      break;
  }
  if (!c->agent_id || !c->agent_id->value) return "Expecting 'agent_id' to be present";
  switch (c->type) {
    case MESOS__INTERNAL__AGENT_CALL__TYPE__STATUS_UPDATE:
      return c->status_update ? NULL : "Expecting 'status_update' to be present";
    case MESOS__INTERNAL__AGENT_CALL__TYPE__EXITED_EXECUTOR:
      return c->exited_executor ? NULL : "Expecting 'exited_executor' to be present";
    case MESOS__INTERNAL__AGENT_CALL__TYPE__EXECUTOR_MESSAGE:
      return c->executor_message ? NULL : "Expecting 'executor_message' to be present";
    case MESOS__INTERNAL__AGENT_CALL__TYPE__UPDATE_AGENT:
      return c->update_agent ? NULL : "Expecting 'update_agent' to be present";
    case MESOS__INTERNAL__AGENT_CALL__TYPE__PONG:
    case MESOS__INTERNAL__AGENT_CALL__TYPE__UNREGISTER:
      return NULL;
    default:
      return "Unknown call type";
  }
}

/* A protobuf REREGISTER through the hand-written decoder (codec/
 * pb_agent_call.h: the same message, a fraction of the time for 100,000
 * reported tasks); NULL for anything else, which the ordinary decode
 * takes, errors included. */
static ProtobufCMessage *decode_reregister(mesos__http_request *req) {
  mesos__negotiated neg;
  mesos__negotiate_request(mesos__http_request_header(req, "Content-Type"), NULL, false, &neg);
  if (neg.http_status || neg.message != MESOS__MEDIA_PROTOBUF) return NULL;
  size_t len = 0;
  const char *body = mesos__http_request_body(req, &len);
  return mesos__pb_agent_call_reregister((const uint8_t *)body, len);
}

void mesos__agent_api_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  ProtobufCMessage *msg = decode_reregister(req);
  if (msg == NULL)
    msg = mesos__decode_call_arena(req, &mesos__internal__agent_call__descriptor, "AgentCall");
  if (msg == NULL) return;
  const Mesos__Internal__AgentCall *call = (const Mesos__Internal__AgentCall *)msg;
  const char *invalid = agent_call_invalid(call);
  if (invalid) {
    char text[256];
    snprintf(text, sizeof text, "Failed to validate AgentCall: %s", invalid);
    mesos__http_respond_text(req, 400, text);
    mesos__pb_free(msg);
    return;
  }
  if (call->type == MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER ||
      call->type == MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER) {
    mesos__negotiated resp;
    mesos__negotiate_response(mesos__http_request_header(req, "Accept"), NULL, false, &resp);
    if (resp.http_status) mesos__http_respond_text(req, resp.http_status, resp.error);
    else if (call->type == MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER)
      handle_register(m, req, call, resp.message);
    else
      handle_reregister(m, req, (Mesos__Internal__AgentCall *)msg, resp.message);
    mesos__pb_free(msg);
    return;
  }
  mesos__agent *a = mesos__map_get(&m->agents, call->agent_id->value);
  if (a == NULL) {
    /* Tells a stale agent to register again. */
    mesos__http_respond_text(req, 404, "Agent is not registered");
    mesos__pb_free(msg);
    return;
  }
  if (call->type == MESOS__INTERNAL__AGENT_CALL__TYPE__STATUS_UPDATE &&
      (a->stream == NULL || (call->has_connection_id && call->connection_id != a->conn_id))) {
    /* Forwarded, its acknowledgement could not come back the way the
     * update came (the stream is gone, or the call is from an older one
     * whose updates the agent sent again on re-registering): the
     * framework would see it twice.  The agent keeps it and sends it on
     * its current connection. */
    LOG_INFO("status update for task %s from agent %s refused: %s",
             call->status_update->status->task_id->value, a->id,
             a->stream ? "sent on an older connection" : "the agent is disconnected");
    mesos__http_respond_text(req, 409, a->stream ? "Call from an older connection of this agent"
                                                 : "Agent is disconnected; re-register first");
    mesos__pb_free(msg);
    return;
  }
  mesos__http_respond(req, 202, NULL, "", 0);
  switch (call->type) {
    case MESOS__INTERNAL__AGENT_CALL__TYPE__PONG:
      a->pong_due = 0;
      a->missed_pongs = 0;
      break;
    case MESOS__INTERNAL__AGENT_CALL__TYPE__STATUS_UPDATE:
      mesos__op_drain_decorate_update(m, a->id, call->status_update); /* the call is ours */
      mesos__task_status_update(m, call->status_update);
      break;
    case MESOS__INTERNAL__AGENT_CALL__TYPE__EXITED_EXECUTOR:
      forward_exited_executor(m, a, call->exited_executor);
      break;
    case MESOS__INTERNAL__AGENT_CALL__TYPE__EXECUTOR_MESSAGE:
      forward_executor_message(m, a, call->executor_message);
      break;
    case MESOS__INTERNAL__AGENT_CALL__TYPE__UNREGISTER:
      mesos__agent_remove(a, "the agent unregistered", 0);
      break;
    case MESOS__INTERNAL__AGENT_CALL__TYPE__UPDATE_AGENT: {
      const Mesos__Internal__UpdateAgent *ua = call->update_agent;
      if (ua->n_total_resources) {
        mesos_resources *total = NULL;
        mesos_error *e = NULL;
        if (mesos_resources_new(&total, NULL) == MESOS_OK) {
          mesos_status s2 = MESOS_OK;
          for (size_t i = 0; s2 == MESOS_OK && i < ua->n_total_resources; i++)
            s2 = mesos__resources_add(&total->r, ua->total_resources[i], &e);
          if (s2 == MESOS_OK && m->allocator)
            s2 = mesos_allocator_update_agent(m->allocator, a->id, total, &e);
          if (s2 == MESOS_OK) {
            mesos_resources_free(a->total);
            a->total = total;
            mesos__agent_changed(a);
            total = NULL;
          } else {
            LOG_WARN("agent %s: UPDATE_AGENT refused: %s", a->id,
                     e ? mesos_error_message(e) : "");
          }
          mesos_error_free(e);
          mesos_resources_free(total);
        }
      }
      break;
    }
    default:
      break;
  }
  mesos__pb_free(msg);
}

/*
 * Tasks as the master tracks them: created on a valid LAUNCH, updated by the
 * agent's status updates, released to the allocator when terminal, forgotten
 * when the terminal update is acknowledged (or the framework goes away).
 *
 * Reliability lives on the agent: it retries each update until the
 * framework's ACKNOWLEDGE comes back through us, so the master forwards
 * updates and acknowledgements without persisting them (spec 2.8).
 */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/pb.h"
#include "master/master_int.h"
#include "master/slab.h"
#include "resources/resources_int.h"

int mesos__task_state_terminal(Mesos__V1__TaskState s) {
  switch (s) {
    case MESOS__V1__TASK_STATE__TASK_FINISHED:
    case MESOS__V1__TASK_STATE__TASK_FAILED:
    case MESOS__V1__TASK_STATE__TASK_KILLED:
    case MESOS__V1__TASK_STATE__TASK_LOST:
    case MESOS__V1__TASK_STATE__TASK_ERROR:
    case MESOS__V1__TASK_STATE__TASK_DROPPED:
    case MESOS__V1__TASK_STATE__TASK_GONE:
    case MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR:
      return 1;
    default:
      return 0;
  }
}

/* Enters the task in its framework's and its agent's maps.  Both borrow
 * their keys from the task's own block, which lives as long as the task
 * (its key "<framework id>/<task id>", and the task id at its end, not the
 * body's copy: a body may be replaced): the task leaves both maps before
 * it is freed (mesos__task_free). */
static mesos_status task_link(mesos__task *t) {
  const char *tid = t->key + strlen(t->fw->id) + 1;
  mesos_status st = mesos__map_put(&t->fw->tasks, tid, t);
  if (st == MESOS_OK) {
    st = mesos__map_put(&t->agent->tasks, t->key, t);
    if (st != MESOS_OK) mesos__map_remove(&t->fw->tasks, tid);
  }
  return st;
}

/* Frees what task_init made (the task is not linked). */
static void task_unmake(mesos__task *t) {
  mesos_master *m = t->fw->master;
  if (!t->res_shared) mesos_resources_free(t->resources);
  mesos__task_body_free(m, t->body);
  mesos__intern_str_release(m, t->role);
  /* The key lives in the same block. */
  mesos__slab_free(mesos__master_slab(m), t, sizeof *t + strlen(t->key) + 1);
}

/* A new, unlinked task record for `msg` (read only) on `a`: its body, key
 * and role.  Resources are the caller's to set. */
static mesos_status task_make(mesos__task **out, mesos__framework *fw, mesos__agent *a,
                              const Mesos__V1__Task *msg, const char *role) {
  /* The key "<framework id>/<task id>" follows the record in its block:
   * one allocation instead of two per task. */
  size_t lf = strlen(fw->id), lt = strlen(msg->task_id->value), n;
  if (!mesos__size_add(&n, sizeof(mesos__task) + 2, lf) || !mesos__size_add(&n, n, lt))
    return MESOS_ENOMEM;
  mesos_master *m = fw->master;
  mesos__slab *slab = mesos__master_slab(m);
  mesos__task *t = slab ? mesos__slab_alloc(slab, n) : NULL;
  if (t == NULL) return MESOS_ENOMEM;
  t->fw = fw;
  t->agent = a;
  t->res_shared = 1; /* nothing to free yet */
  char *key = (char *)(t + 1);
  memcpy(key, fw->id, lf);
  key[lf] = '/';
  memcpy(key + lf + 1, msg->task_id->value, lt + 1);
  t->key = key;
  t->role = mesos__intern_str(m, role);
  mesos_status st = t->role ? MESOS_OK : MESOS_ENOMEM;
  if (st == MESOS_OK) st = mesos__task_body_new(m, msg, fw->id, a->id, &t->body);
  if (st != MESOS_OK) {
    task_unmake(t);
    return st;
  }
  *out = t;
  return MESOS_OK;
}

mesos_status mesos__task_new(mesos__task **out, mesos__framework *fw, mesos__agent *a,
                             const Mesos__V1__TaskInfo *ti, const char *role,
                             const mesos_resources *res) {
  /* The Task record: what the operator API and reconciliation report. */
  Mesos__V1__Task task = MESOS__V1__TASK__INIT;
  task.name = ti->name;
  task.task_id = ti->task_id;
  task.executor_id = ti->executor ? ti->executor->executor_id : NULL;
  task.state = MESOS__V1__TASK_STATE__TASK_STAGING;
  task.n_resources = ti->n_resources;
  task.resources = ti->resources;
  task.labels = ti->labels;
  task.discovery = ti->discovery;
  task.container = ti->container;
  /* The user the task runs as (Mesos: its command's, else its executor's,
   * else the framework's): VIEW_TASK decides on it. */
  task.user = ti->command && ti->command->user ? ti->command->user
              : ti->executor && ti->executor->command && ti->executor->command->user
                  ? ti->executor->command->user
                  : fw->info->user;
  task.kill_policy = ti->kill_policy;
  mesos__task *t = NULL;
  mesos_status st = task_make(&t, fw, a, &task, role);
  if (st != MESOS_OK) return st;
  t->state = MESOS__V1__TASK_STATE__TASK_STAGING;
  /* Tasks of the same resource list share one bag when it is what the
   * offer gave (it is, unless validation changed the list). */
  const mesos_resources *bag = mesos__task_body_bag(t->body);
  if (bag && mesos__resources_equal(&bag->r, &res->r)) {
    t->resources = (mesos_resources *)bag;
  } else {
    t->res_shared = 0;
    st = mesos_resources_clone(&t->resources, res, NULL);
  }
  if (st == MESOS_OK) st = task_link(t);
  if (st != MESOS_OK) {
    task_unmake(t);
    return st;
  }
  mesos__operator_on_task_added(fw->master, t);
  *out = t;
  return MESOS_OK;
}

/* A bag built entry by entry starts with room for 8; a task keeps its bag
 * for as long as it runs, so it gets exactly the room it uses (shrinking
 * in place: no copy). */
static void fit_bag(mesos__resources *r) {
  if (r->n == 0 || r->cap <= r->n) return;
  mesos__res *v = mesos__realloc(r->v, r->n * sizeof *v);
  if (v) {
    r->v = v;
    r->cap = r->n;
  }
}

mesos_status mesos__task_adopt(mesos__task **out, mesos__framework *fw, mesos__agent *a,
                               const Mesos__V1__Task *task, const char *role) {
  mesos__task *t = NULL;
  mesos_status st = task_make(&t, fw, a, task, role);
  if (st != MESOS_OK) return st;
  t->state = task->state;
  t->has_su_state = task->has_status_update_state ? 1 : 0;
  t->su_state = task->status_update_state;
  const mesos_resources *bag = mesos__task_body_bag(t->body);
  if (bag || task->n_resources == 0) {
    t->resources = (mesos_resources *)bag;
  } else {
    /* An unusual task keeps a bag of its own: exactly the room it uses,
     * identities shared with the agent's total. */
    t->res_shared = 0;
    st = mesos_resources_new(&t->resources, NULL);
    if (st == MESOS_OK) st = mesos__resources_reserve(&t->resources->r, task->n_resources);
    for (size_t k = 0; st == MESOS_OK && k < task->n_resources; k++) {
      Mesos__V1__Resource r = *task->resources[k];
      r.allocation_info = NULL;
      st = mesos__resources_add_sharing(&t->resources->r, &r, &a->total->r, NULL);
    }
    if (st == MESOS_OK) fit_bag(&t->resources->r);
  }
  if (t->resources == NULL) {
    /* No resources at all: an empty bag of its own (readers expect one). */
    t->res_shared = 0;
    if (st == MESOS_OK) st = mesos_resources_new(&t->resources, NULL);
  }
  if (st == MESOS_OK) st = task_link(t);
  if (st != MESOS_OK) {
    task_unmake(t);
    return st;
  }
  if (mesos__task_state_terminal(t->state)) t->released = 1;
  mesos__operator_on_task_added(fw->master, t);
  *out = t;
  return MESOS_OK;
}

Mesos__V1__Task *mesos__task_to_proto(const mesos__task *t) {
  Mesos__V1__Task view;
  mesos__task_view(t, &view);
  ProtobufCMessage *copy = NULL;
  if (mesos__pb_clone_compact(&view.base, &copy, NULL) != MESOS_OK) return NULL;
  return (Mesos__V1__Task *)copy;
}

/* Gives the task's resources back to the allocator, once. */
static void task_release(mesos__task *t) {
  if (t->released) return;
  t->released = 1;
  mesos_master *m = t->fw->master;
  mesos_error *e = NULL;
  if (m->allocator &&
      mesos_allocator_recover_resources(m->allocator, t->fw->id, t->agent->id, t->role,
                                        t->resources, 0, &e) != MESOS_OK) {
    LOG_WARN("task %s: cannot recover resources: %s", t->key, e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
  mesos__offers_soon(m);
}

mesos__task **mesos__tasks_snapshot(const mesos__map *tasks, size_t *n) {
  *n = mesos__map_count(tasks);
  mesos__task **v = mesos__calloc(*n ? *n : 1, sizeof *v);
  if (v == NULL) return NULL;
  size_t it = 0, k = 0;
  void *val;
  while (k < *n && mesos__map_next(tasks, &it, NULL, &val)) v[k++] = val;
  *n = k;
  return v;
}

void mesos__tasks_free_all(mesos__map *tasks) {
  size_t n = 0;
  mesos__task **v = mesos__tasks_snapshot(tasks, &n);
  if (v) {
    for (size_t i = 0; i < n; i++) {
      v[i]->released = 1;
      mesos__task_free(v[i]);
    }
    mesos__free(v);
    return;
  }
  /* Out of memory: one at a time (each lookup restarts the walk). */
  for (;;) {
    size_t it = 0;
    void *val;
    if (!mesos__map_next(tasks, &it, NULL, &val)) break;
    ((mesos__task *)val)->released = 1;
    mesos__task_free(val);
  }
}

/* Unlinks and frees; resources go back first if still held. */
void mesos__task_free(mesos__task *t) {
  if (t == NULL) return;
  task_release(t);
  mesos__map_remove(&t->fw->tasks, mesos__task_id(t));
  mesos__map_remove(&t->agent->tasks, t->key);
  /* May keep a copy as a completed task, and parks the body and an owned
   * bag while a state snapshot reads them off the loop (then NULL). */
  mesos__operator_on_task_freed(t);
  task_unmake(t);
}

static void send_update(mesos__framework *fw, Mesos__V1__TaskStatus *status) {
  Mesos__V1__Scheduler__Event ev = MESOS__V1__SCHEDULER__EVENT__INIT;
  Mesos__V1__Scheduler__Event__Update up = MESOS__V1__SCHEDULER__EVENT__UPDATE__INIT;
  up.status = status;
  ev.has_type = 1;
  ev.type = MESOS__V1__SCHEDULER__EVENT__TYPE__UPDATE;
  ev.update = &up;
  mesos__framework_send(fw, &ev);
}

void mesos__send_master_update(mesos__framework *fw, const Mesos__V1__TaskID *task_id,
                               const Mesos__V1__AgentID *agent_id, Mesos__V1__TaskState state,
                               Mesos__V1__TaskStatus__Reason reason, const char *message) {
  mesos__send_master_update_at(fw, task_id, agent_id, state, reason, message, NULL);
}

void mesos__send_master_update_at(mesos__framework *fw, const Mesos__V1__TaskID *task_id,
                                  const Mesos__V1__AgentID *agent_id, Mesos__V1__TaskState state,
                                  Mesos__V1__TaskStatus__Reason reason, const char *message,
                                  const Mesos__V1__TimeInfo *unreachable_time) {
  Mesos__V1__TaskStatus st = MESOS__V1__TASK_STATUS__INIT;
  st.unreachable_time = (Mesos__V1__TimeInfo *)unreachable_time;
  st.task_id = (Mesos__V1__TaskID *)task_id;
  st.agent_id = (Mesos__V1__AgentID *)agent_id;
  st.state = state;
  st.has_source = 1;
  st.source = MESOS__V1__TASK_STATUS__SOURCE__SOURCE_MASTER;
  st.has_reason = 1;
  st.reason = reason;
  st.message = (char *)message;
  st.has_timestamp = 1;
  st.timestamp = mesos__master_now();
  send_update(fw, &st);
}

void mesos__task_status_update(mesos_master *m, const Mesos__Internal__StatusUpdate *su) {
  const Mesos__V1__TaskStatus *status = su->status;
  mesos__framework *fw = mesos__map_get(&m->frameworks, su->framework_id->value);
  mesos__task *t = fw ? mesos__map_get(&fw->tasks, status->task_id->value) : NULL;
  if (t) {
    /* The latest state the agent knows wins for our record (it may be
     * ahead of the update being delivered when older ones are still
     * unacknowledged). */
    t->state = su->has_latest_state ? su->latest_state : status->state;
    t->has_su_state = 1;
    t->su_state = status->state;
    if (mesos__task_state_terminal(t->state)) task_release(t);
    mesos__operator_on_task_updated(m, t, status);
  }
  if (fw == NULL) {
    LOG_INFO("status update for task %s of unknown framework %s dropped (the agent retries)",
             status->task_id->value, su->framework_id->value);
    return;
  }
  /* Forward as is (with the uuid the acknowledgement must echo). */
  send_update(fw, (Mesos__V1__TaskStatus *)status);
  /* A terminal update without uuid needs no acknowledgement: forget now. */
  if (t && mesos__task_state_terminal(t->state) && !status->has_uuid) mesos__task_free(t);
}

void mesos__master_kill(mesos__framework *fw, const Mesos__V1__Scheduler__Call__Kill *k) {
  mesos__task *t = mesos__map_get(&fw->tasks, k->task_id->value);
  if (t == NULL) {
    /* Unknown task: answer as an explicit reconciliation would (spec 2.3). */
    mesos__send_master_update(fw, k->task_id, k->agent_id, MESOS__V1__TASK_STATE__TASK_LOST,
                              MESOS__V1__TASK_STATUS__REASON__REASON_RECONCILIATION,
                              "Attempted to kill an unknown task");
    return;
  }
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__KillTask kt = MESOS__INTERNAL__KILL_TASK__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = fw->id;
  kt.framework_id = &fid;
  kt.task_id = k->task_id;
  kt.kill_policy = k->kill_policy;
  ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
  ev.has_type = 1;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__KILL_TASK;
  ev.kill_task = &kt;
  if (mesos__agent_send(t->agent, &ev) != MESOS_OK)
    LOG_INFO("kill of task %s: agent %s is disconnected; it is killed on re-registration",
             t->key, t->agent->id);
}

void mesos__master_acknowledge(mesos__framework *fw,
                               const Mesos__V1__Scheduler__Call__Acknowledge *ack) {
  mesos_master *m = fw->master;
  mesos__agent *a = mesos__map_get(&m->agents, ack->agent_id->value);
  mesos__task *t = mesos__map_get(&fw->tasks, ack->task_id->value);
  if (a == NULL) {
    LOG_INFO("acknowledgement for task %s on unknown agent %s dropped", ack->task_id->value,
             ack->agent_id->value);
    return;
  }
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__StatusUpdateAcknowledgement sa =
      MESOS__INTERNAL__STATUS_UPDATE_ACKNOWLEDGEMENT__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  fid.value = fw->id;
  sa.agent_id = ack->agent_id;
  sa.framework_id = &fid;
  sa.task_id = ack->task_id;
  sa.uuid = ack->uuid;
  ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
  ev.has_type = 1;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__STATUS_UPDATE_ACKNOWLEDGEMENT;
  ev.status_update_acknowledgement = &sa;
  /* Sent as is, as Mesos does: an acknowledgement that cannot reach a
   * disconnected agent is lost, and the agent sends the update again
   * once it re-registered (at-least-once delivery).  Logged, so such a
   * redelivery can be told from a bug. */
  if (mesos__agent_send(a, &ev) != MESOS_OK)
    LOG_INFO("acknowledgement for task %s not delivered: agent %s is disconnected (it sends the "
             "update again)",
             ack->task_id->value, a->id);
  /* Once the terminal update is acknowledged the master forgets the task
   * (Mesos moves it to completed tasks). */
  if (t && t->agent == a && mesos__task_state_terminal(t->state) && t->has_su_state &&
      mesos__task_state_terminal(t->su_state))
    mesos__task_free(t);
}

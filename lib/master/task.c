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

static char *task_key(const char *framework_id, const char *task_id) {
  size_t n = strlen(framework_id) + strlen(task_id) + 2;
  char *k = mesos__malloc(n);
  if (k) snprintf(k, n, "%s/%s", framework_id, task_id);
  return k;
}

/* Enters the task in its framework's and its agent's maps. */
static mesos_status task_link(mesos__task *t) {
  const char *tid = t->task->task_id->value;
  mesos_status st = mesos__map_put(&t->fw->tasks, tid, t);
  if (st == MESOS_OK) {
    st = mesos__map_put(&t->agent->tasks, t->key, t);
    if (st != MESOS_OK) mesos__map_remove(&t->fw->tasks, tid);
  }
  return st;
}

mesos_status mesos__task_new(mesos__task **out, mesos__framework *fw, mesos__agent *a,
                             const Mesos__V1__TaskInfo *ti, const char *role,
                             const mesos_resources *res) {
  mesos__task *t = MESOS__NEW(mesos__task);
  if (t == NULL) return MESOS_ENOMEM;
  t->fw = fw;
  t->agent = a;
  t->key = task_key(fw->id, ti->task_id->value);
  t->role = mesos__strdup(role);
  mesos_status st = t->key && t->role ? MESOS_OK : MESOS_ENOMEM;
  if (st == MESOS_OK) st = mesos_resources_clone(&t->resources, res, NULL);
  /* The Task record: what the operator API and reconciliation report. */
  Mesos__V1__Task task = MESOS__V1__TASK__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  fid.value = fw->id;
  aid.value = a->id;
  task.name = ti->name;
  task.task_id = ti->task_id;
  task.framework_id = &fid;
  task.agent_id = &aid;
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
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  if (st == MESOS_OK) st = mesos__pb_pack(&task.base, 0, &bytes, &len, NULL);
  if (st == MESOS_OK)
    st = mesos__pb_unpack(&mesos__v1__task__descriptor, bytes, len, 0, 0, &copy, NULL);
  mesos__free(bytes);
  if (st == MESOS_OK) t->task = (Mesos__V1__Task *)copy;
  if (st == MESOS_OK) st = task_link(t);
  if (st != MESOS_OK) {
    mesos_resources_free(t->resources);
    mesos__pb_free(t->task);
    mesos__free(t->key);
    mesos__free(t->role);
    mesos__free(t);
    return st;
  }
  mesos__operator_on_task_added(fw->master, t);
  *out = t;
  return MESOS_OK;
}

mesos_status mesos__task_adopt(mesos__task **out, mesos__framework *fw, mesos__agent *a,
                               Mesos__V1__Task *task, const char *role, mesos_resources *res) {
  mesos__task *t = MESOS__NEW(mesos__task);
  if (t == NULL) return MESOS_ENOMEM;
  t->fw = fw;
  t->agent = a;
  t->key = task_key(fw->id, task->task_id->value);
  t->role = mesos__strdup(role);
  mesos_status st = t->key && t->role ? MESOS_OK : MESOS_ENOMEM;
  /* The record names this agent, whatever the report said. */
  if (st == MESOS_OK && (task->agent_id == NULL || task->agent_id->value == NULL ||
                         strcmp(task->agent_id->value, a->id) != 0)) {
    char *v = mesos__strdup(a->id);
    Mesos__V1__AgentID *aid = task->agent_id;
    if (aid == NULL && v) {
      aid = mesos__malloc(sizeof *aid);
      if (aid) mesos__v1__agent_id__init(aid);
      task->agent_id = aid;
    }
    if (aid == NULL || v == NULL) {
      mesos__free(v);
      st = MESOS_ENOMEM;
    } else {
      mesos__free(aid->value);
      aid->value = v;
    }
  }
  if (st == MESOS_OK) {
    t->task = task;
    st = task_link(t);
  }
  if (st != MESOS_OK) {
    mesos__free(t->key);
    mesos__free(t->role);
    mesos__free(t);
    return st;
  }
  t->resources = res;
  if (mesos__task_state_terminal(task->state)) t->released = 1;
  mesos__operator_on_task_added(fw->master, t);
  *out = t;
  return MESOS_OK;
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
  mesos__map_remove(&t->fw->tasks, t->task->task_id->value);
  mesos__map_remove(&t->agent->tasks, t->key);
  /* may keep t->task as a completed task, and either (a state snapshot
   * reads them off the loop) until no snapshot needs it */
  mesos__operator_on_task_freed(t);
  mesos_resources_free(t->resources);
  mesos__pb_free(t->task);
  mesos__free(t->key);
  mesos__free(t->role);
  mesos__free(t);
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
    t->task->state = su->has_latest_state ? su->latest_state : status->state;
    t->task->has_status_update_state = 1;
    t->task->status_update_state = status->state;
    if (mesos__task_state_terminal(t->task->state)) task_release(t);
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
  if (t && mesos__task_state_terminal(t->task->state) && !status->has_uuid) mesos__task_free(t);
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
  if (t && t->agent == a && mesos__task_state_terminal(t->task->state) &&
      t->task->has_status_update_state && mesos__task_state_terminal(t->task->status_update_state))
    mesos__task_free(t);
}

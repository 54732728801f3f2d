/* Internal state of a master.  Everything here is owned by the loop thread. */
#ifndef MESOS_MASTER_INT_H
#define MESOS_MASTER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/flags.h"
#include "base/map.h"
#include "codec/negotiate.h"
#include "http/call.h"
#include "http/server.h"
#include "mesos/internal/internal.pb-c.h"
#include "mesos/master.h"
#include "mesos/resources.h"
#include "mesos/sys/allocator.h"
#include "mesos/v1/mesos.pb-c.h"
#include "mesos/v1/scheduler.pb-c.h"
#include "registry/registry.h"
#include "master/operator.h"
#include "master/task_body.h"

struct mesos_master_flags {
  mesos__flags *f;
};

typedef struct mesos__framework mesos__framework;
typedef struct mesos__agent mesos__agent;
typedef struct mesos__offer mesos__offer;
typedef struct mesos__task mesos__task;

/* The protocol version of /api/v1/agent this master speaks. */
#define MESOS__AGENT_PROTOCOL_VERSION 1

struct mesos_master {
  mesos_loop *loop;
  mesos__flags *flags;
  mesos__http_server *http;
  struct mesos__auth *auth;   /* authentication + authorization (master_auth.h) */
  struct mesos__auth_view *view; /* while rendering state for one request: what it may see */
  char id[40];
  char hostname[256];
  char ip[64];
  uint32_t port;
  uint64_t start_ms;          /* loop clock at start */
  double start_time;          /* wall clock, seconds */
  uint64_t heartbeat_ms;
  uint64_t next_framework;    /* sequence for framework ids */
  mesos__map frameworks;      /* id -> mesos__framework*: active and disconnected */
  mesos__map removed;         /* ids of frameworks torn down: never again */
  Mesos__V1__MasterInfo info; /* points into the fields above */
  Mesos__V1__Address address;

  /* Agents and the work on them. */
  mesos__map agents;          /* id -> mesos__agent* */
  uint64_t next_agent;
  mesos__map offers;          /* id -> mesos__offer* */
  uint64_t next_offer;
  mesos_allocator *allocator;
  mesos__registry *registry;  /* admitted/unreachable/gone agents, durable */
  mesos_timer *allocation_timer;
  mesos_timer *alloc_soon;   /* one-shot: resources came back (offer.c) */
  int alloc_soon_armed;
  uint64_t allocation_ms;
  uint64_t offer_timeout_ms;  /* 0: offers never time out */
  uint64_t agent_ping_ms;
  uint32_t max_ping_timeouts;
  /* Offers made during one allocation cycle, sent per framework as one
   * OFFERS event when the cycle ends. */
  mesos__map pending_offers;  /* framework id -> mesos__offer_batch* */
  int in_allocation;
  struct mesos__operator *op;   /* operator API, events, metrics (operator.h) */
  /* After a restart: agents the registry admitted that have not
   * re-registered yet (id -> non-NULL); when --agent_reregister_timeout
   * runs out the rest are marked unreachable. */
  mesos__map expected;
  mesos_timer *reregister_timer;
  uint64_t reregister_ms;
  struct mesos__interns *interns; /* shared pieces of task records (task_body.c) */
};

struct mesos__framework {
  mesos_master *master;
  char *id;
  Mesos__V1__FrameworkInfo *info; /* owned (mesos__pb_free) */
  /* The subscription: the open SUBSCRIBE response, or NULL while
   * disconnected. */
  mesos__http_request *stream;
  mesos__media media;
  char stream_id[40];
  mesos_timer *heartbeat;
  mesos_timer *failover;
  double registered_time;
  double reregistered_time;
  mesos__map offers;   /* offer id -> mesos__offer* (owned by master->offers) */
  mesos__map tasks;    /* task id -> mesos__task* */
  int in_allocator;    /* added to the allocator */
  /* Known only from a re-registering agent's report after a master
   * restart: kept (no failover timer) until the scheduler subscribes. */
  int recovered;
  /* Roles the scheduler suppressed (role -> non-NULL): UPDATE_FRAMEWORK
   * revives the ones that leave the set. */
  mesos__map suppressed;
  uint64_t state_gen;  /* state.c's fragment cache: 0 after a change (mesos__framework_changed) */
};

struct mesos__agent {
  mesos_master *master;
  char *id;
  Mesos__V1__AgentInfo *info;   /* owned, id filled in */
  mesos_resources *total;
  mesos__http_request *stream;  /* the agent's event stream, or NULL */
  uint64_t conn_id;              /* connection_id of `stream` (agent.c) */
  mesos__media media;
  mesos_timer *ping;            /* PING period */
  uint32_t missed_pongs;
  int pong_due;
  double registered_time;
  double reregistered_time;
  mesos__map tasks;             /* "<framework id>/<task id>" -> mesos__task* */
  /* Custom executors running there: "<framework id>/<executor id>" ->
   * Mesos__V1__ExecutorInfo* (owned).  Command executors are not listed:
   * the agent makes them up, so their exit is never a FAILURE event. */
  mesos__map executors;
  /* Executors' own resources (ExecutorInfo.resources) a re-registering
   * agent reported, accounted to their frameworks in the allocator until
   * the executor exits or its framework goes: same keys ->
   * executor resources (agent.c). */
  mesos__map executor_used;
  uint64_t state_gen;           /* state.c's fragment cache: 0 after a change (mesos__agent_changed) */
};

struct mesos__offer {
  char *id;
  mesos__framework *fw;
  mesos__agent *agent;
  char *role;
  mesos_resources *resources;
  mesos_timer *timeout;
};

/* A task: its links and what changes; the rest is its immutable body
 * (task_body.h), read through the accessors below. */
struct mesos__task {
  mesos__framework *fw;
  mesos__agent *agent;
  char *key;                    /* "<framework id>/<task id>", in the same block */
  const char *role;             /* interned (mesos__intern_str) */
  mesos__task_body *body;       /* owned; NULL once handed to a snapshot's graveyard */
  /* Released when the task ends.  Shared with other tasks of the same
   * resource list (the body's intern) when res_shared, else owned. */
  mesos_resources *resources;
  int32_t state;                /* Task.state: the latest known */
  int32_t su_state;             /* Task.status_update_state, when has_su_state */
  uint8_t has_su_state;
  uint8_t released;
  uint8_t res_shared;
};

/* state.c keeps each agent's and framework's rendered part of /state and
 * of the v1 state calls (GET_STATE, ...) while its state_gen stays: every
 * change to what they show -- info, total resources, offers, tasks (the
 * operator hooks), drain state -- calls one of these, so the next poll
 * renders that record again.  Active and the (re)registration times are
 * compared directly; agent executors are never cached. */
static inline void mesos__agent_changed(mesos__agent *a) {
  if (a) a->state_gen = 0;
}
static inline void mesos__framework_changed(mesos__framework *fw) {
  if (fw) fw->state_gen = 0;
}
static inline Mesos__V1__TaskState mesos__task_state(const mesos__task *t) {
  return (Mesos__V1__TaskState)t->state;
}
static inline const char *mesos__task_id(const mesos__task *t) {
  return mesos__task_body_id(t->body);
}
static inline Mesos__V1__TaskID *mesos__task_tid(const mesos__task *t) {
  return (Mesos__V1__TaskID *)mesos__task_body_tid(t->body);
}
static inline const char *mesos__task_user(const mesos__task *t) {
  return mesos__task_body_user(t->body);
}
/* The task as a v1 Task message (see mesos__task_body_view): valid while
 * the task lives and is not changed. */
static inline void mesos__task_view(const mesos__task *t, Mesos__V1__Task *view) {
  mesos__task_body_view(t->body, t->state, t->has_su_state, t->su_state, view);
}
/* A standalone copy of the task's Task message (mesos__pb_free), or NULL
 * when out of memory. */
Mesos__V1__Task *mesos__task_to_proto(const mesos__task *t);

/* framework.c */
mesos_status mesos__framework_new(mesos__framework **out, mesos_master *m, const char *id,
                                  const Mesos__V1__FrameworkInfo *info);
/* Attaches a SUBSCRIBE response as the framework's event stream: 200 with
 * the stream headers, then SUBSCRIBED.  An older stream gets ERROR and is
 * closed first. */
mesos_status mesos__framework_attach(mesos__framework *fw, mesos__http_request *req,
                                     mesos__media media);
/* Sends one event on the framework's stream (dropped when disconnected). */
mesos_status mesos__framework_send(mesos__framework *fw, const Mesos__V1__Scheduler__Event *ev);
/* Removes the framework for good (TEARDOWN or failover timeout): ends its
 * stream, forgets it, remembers the id as removed.  Frees `fw`. */
void mesos__framework_remove(mesos__framework *fw, const char *why);
/* Frees without side effects (master shutdown). */
void mesos__framework_free(mesos__framework *fw);
/* Replaces the framework's FrameworkInfo by a copy of `info` (id set). */
mesos_status mesos__framework_set_info(mesos__framework *fw, const Mesos__V1__FrameworkInfo *info);
bool mesos__framework_partition_aware(const mesos__framework *fw);
/* The one call site for "framework (re)subscribed, disconnected or its
 * info changed" (the operator API's FRAMEWORK_UPDATED event hooks in
 * here; a no-op until that exists). */
void mesos__master_framework_updated(mesos__framework *fw);

/* Writes a complete event as a one-off stream: 200, the event, end.  Used
 * for SUBSCRIBE requests refused with an ERROR event. */
void mesos__scheduler_error_stream(mesos__http_request *req, mesos__media media,
                                   const char *message);

/* Encodes `ev` as one RecordIO record in `media` and appends it to `out`. */
mesos_status mesos__encode_event_record(const ProtobufCMessage *ev, mesos__media media,
                                        mesos__buf *out, mesos_error **err);

/* agent.c: /api/v1/agent and the agent table */
void mesos__agent_api_handler(mesos__http_request *req, void *ud);
/* Sends an event to an agent (dropped when disconnected). */
mesos_status mesos__agent_send(mesos__agent *a, const Mesos__Internal__AgentEvent *ev);
/* Appends `ev` as one record in the agent's media to `out`; several such
 * records go out with one mesos__agent_send_records (one write). */
mesos_status mesos__agent_encode(const mesos__agent *a, const Mesos__Internal__AgentEvent *ev,
                                 mesos__buf *out);
mesos_status mesos__agent_send_records(mesos__agent *a, const char *data, size_t len);
void mesos__agent_free(mesos__agent *a);
/* Records a custom executor launched on `a` (idempotent). */
void mesos__agent_add_executor(mesos__agent *a, const char *framework_id,
                               const Mesos__V1__ExecutorInfo *ei);
/* True when `a` runs (or was sent) the framework's executor of the same
 * id as `ei` with a different ExecutorInfo (framework_id aside); `why`
 * then holds Mesos's validation message.  An executor known only by id
 * (from a re-registering agent's task) never mismatches. */
bool mesos__agent_executor_mismatch(mesos__agent *a, const char *framework_id,
                                    const Mesos__V1__ExecutorInfo *ei, char *why, size_t cap);
/* Whether `a` runs (or was sent) the framework's custom executor. */
bool mesos__agent_has_executor(mesos__agent *a, const char *framework_id,
                               const char *executor_id);
/* A custom executor launched through ACCEPT brought resources of its own
 * (`res`, taken): they stay allocated to the framework in `role` until
 * the agent reports the executor's exit, then go back to the allocator. */
void mesos__agent_use_executor(mesos__agent *a, const char *framework_id,
                               const char *executor_id, const char *role, mesos_resources *res);
/* Forgets every executor of a framework on every agent; the agents that
 * had one are added to `touched` (id -> agent) when it is not NULL. */
void mesos__agents_forget_framework(mesos_master *m, const char *framework_id,
                                    mesos__map *touched);
/* Starts the --agent_reregister_timeout window for the agents the
 * recovered registry admitted (none: nothing to wait for). */
mesos_status mesos__agents_expect_recovered(mesos_master *m, mesos_error **err);
void mesos__agents_fini(mesos_master *m);

/* Applies one registry operation for agent `a` (ADMIT, READMIT, MARK
 * UNREACHABLE, REMOVE); durable when it returns MESOS_OK. */
mesos_status mesos__registry_agent_op(mesos_master *m, Mesos__Internal__RegistryOperation__Type type,
                                      mesos__agent *a, mesos_error **err);

/* offer.c: allocation cycles, offers, ACCEPT / DECLINE */
mesos_status mesos__offers_init(mesos_master *m, mesos_error **err);
void mesos__offers_fini(mesos_master *m);
/* Resources came back to the allocator (a task ended): an allocation
 * cycle runs within a few milliseconds instead of at the next
 * --allocation_interval tick; any number of calls make one cycle. */
void mesos__offers_soon(mesos_master *m);
void mesos__offer_remove(mesos__offer *o, int recover, double refuse_seconds, int rescind);
void mesos__offers_rescind_agent(mesos__agent *a);
void mesos__offers_rescind_framework(mesos__framework *fw, int recover);
/* Rescinds (and recovers) the framework's offers for roles not in
 * `roles[0..n)`. */
void mesos__offers_rescind_roles(mesos__framework *fw, const char *const *roles, size_t n);
/* Re-registers the framework's roles and capabilities with the allocator. */
mesos_status mesos__allocator_framework_update(mesos__framework *fw, mesos_error **err);
void mesos__master_accept(mesos__framework *fw, const Mesos__V1__Scheduler__Call__Accept *acc);
void mesos__master_decline(mesos__framework *fw, const Mesos__V1__Scheduler__Call__Decline *d);
/* Registers a framework with the allocator (idempotent) and activates or
 * deactivates it. */
void mesos__allocator_framework_set_active(mesos__framework *fw, int active);
void mesos__allocator_framework_remove(mesos__framework *fw);

/* task.c */
mesos_status mesos__task_new(mesos__task **out, mesos__framework *fw, mesos__agent *a,
                             const Mesos__V1__TaskInfo *ti, const char *role,
                             const mesos_resources *res);
/* The same for a task a re-registering agent reports (`task`, only read:
 * it may live in the call's arena), naming agent `a` whatever the report
 * says, with its reported state fields.  A terminal task starts
 * released. */
mesos_status mesos__task_adopt(mesos__task **out, mesos__framework *fw, mesos__agent *a,
                               const Mesos__V1__Task *task, const char *role);
void mesos__task_free(mesos__task *t);
/* The tasks of a map as an array (free with mesos__free), so they can be
 * freed while walking: removal reorders the map.  NULL when out of memory. */
mesos__task **mesos__tasks_snapshot(const mesos__map *tasks, size_t *n);
/* Frees every task in `tasks` (a framework's or an agent's) without giving
 * resources back to the allocator (the caller removes them wholesale). */
void mesos__tasks_free_all(mesos__map *tasks);
/* Applies a status update from an agent: records the state, forwards the
 * UPDATE to the framework, releases resources on a terminal state. */
void mesos__task_status_update(mesos_master *m, const Mesos__Internal__StatusUpdate *su);
/* Sends a master-generated UPDATE (no uuid) for a task id. */
void mesos__send_master_update(mesos__framework *fw, const Mesos__V1__TaskID *task_id,
                               const Mesos__V1__AgentID *agent_id, Mesos__V1__TaskState state,
                               Mesos__V1__TaskStatus__Reason reason, const char *message);
/* The same, with TaskStatus.unreachable_time (NULL: unset). */
void mesos__send_master_update_at(mesos__framework *fw, const Mesos__V1__TaskID *task_id,
                                  const Mesos__V1__AgentID *agent_id, Mesos__V1__TaskState state,
                                  Mesos__V1__TaskStatus__Reason reason, const char *message,
                                  const Mesos__V1__TimeInfo *unreachable_time);
int mesos__task_state_terminal(Mesos__V1__TaskState s);
void mesos__master_kill(mesos__framework *fw, const Mesos__V1__Scheduler__Call__Kill *k);
void mesos__master_acknowledge(mesos__framework *fw,
                               const Mesos__V1__Scheduler__Call__Acknowledge *ack);
/* The agent leaves: its tasks become LOST/UNREACHABLE; the registry marks
 * it unreachable (it may re-register) or forgets it. */
void mesos__agent_remove(mesos__agent *a, const char *why, int unreachable);

/* scheduler_api.c */
void mesos__scheduler_api_handler(mesos__http_request *req, void *ud);

/* master.c */
double mesos__master_now(void);

/* Validates an id chosen by a framework (framework, task, executor ids):
 * NULL when valid, else a static reason. */
const char *mesos__validate_id(const char *id);
/* NULL when `role` is a valid role name, else a static reason. */
const char *mesos__validate_role(const char *role);

#endif

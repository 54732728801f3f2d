/*
 * The master's operator side (issue 6): POST /api/v1 (operator.c), the
 * operator event stream (SUBSCRIBE), the classic JSON endpoints (/state,
 * /state-summary, /flags, /frameworks, /slaves, /roles, /master/redirect;
 * state.c), metrics (/metrics/snapshot and GET_METRICS; metrics.c) and
 * maintenance (schedule, DRAINING/DOWN machines, inverse offers;
 * maintenance.c).
 *
 * The rest of the master calls the mesos__operator_on_* hooks where things
 * happen; each is cheap when nobody subscribes (one branch) except the
 * completed-task bookkeeping, which is O(1).
 */
#ifndef MESOS_MASTER_OPERATOR_H
#define MESOS_MASTER_OPERATOR_H

#include <stdint.h>

#include "base/buf.h"
#include "codec/negotiate.h"
#include "http/server.h"
#include "mesos/v1/master.pb-c.h"
#include "mesos/sys/allocator.h"
#include "mesos/v1/mesos.pb-c.h"

typedef struct mesos_master mesos_master;
typedef struct mesos__framework mesos__framework;
typedef struct mesos__agent mesos__agent;
typedef struct mesos__task mesos__task;
typedef struct mesos__operator mesos__operator;

/* Sets up m->op (subscribers, completed tasks and frameworks, metrics
 * counters, maintenance state recovered from the registry) and registers
 * the operator and classic routes on m->http.  Called once the registry and
 * the allocator exist. */
mesos_status mesos__operator_init(mesos_master *m, mesos_error **err);
/* Ends every operator stream and frees m->op.  Safe with m->op NULL. */
void mesos__operator_fini(mesos_master *m);
/* The state endpoints' service (state.c): stops a render in flight (waits
 * for it), drops queued /state requests unanswered and frees the service.
 * Idempotent; mesos_master_free calls it before freeing any task. */
void mesos__state_fini(mesos_master *m);

/* ---- hooks: the rest of the master reports what happens ------------- */

/* A task was created (launched by a framework or adopted from an agent). */
void mesos__operator_on_task_added(mesos_master *m, const mesos__task *t);
/* The task's state changed with `status` (after t->state is set). */
void mesos__operator_on_task_updated(mesos_master *m, const mesos__task *t,
                                     const Mesos__V1__TaskStatus *status);
/* The task is being freed (mesos__task_free): its record moves to the
 * framework's completed tasks (bounded by --max_completed_tasks_per_framework).
 * May take ownership of t->body and an owned t->resources (then sets them to NULL). */
void mesos__operator_on_task_freed(mesos__task *t);
/* An agent registered or re-registered (its stream is open). */
void mesos__operator_on_agent_added(mesos__agent *a);
/* An agent was removed (unreachable, gone, unregistered). */
void mesos__operator_on_agent_removed(mesos_master *m, const char *agent_id);
/* A framework subscribed, re-subscribed, disconnected or changed its info
 * (the first time it is seen: FRAMEWORK_ADDED, later FRAMEWORK_UPDATED). */
void mesos__operator_on_framework_updated(mesos__framework *fw);
/* The framework is removed for good: it joins the completed frameworks
 * (bounded by --max_completed_frameworks).  Called before its tasks go. */
void mesos__operator_on_framework_removed(mesos__framework *fw);

/* An agent the registry admitted before a master restart re-registers:
 * the reservations and persistent volumes recorded for it (operator
 * RESERVE_RESOURCES / CREATE_VOLUMES) are applied to a->total.  Call it
 * before the agent's tasks and the allocator see the total. */
void mesos__operator_restore_agent(mesos__agent *a);

/* A status update from agent `agent_id`: while the agent's record has a
 * drain, TASK_KILLING/TASK_KILLED carry REASON_AGENT_DRAINING (and become
 * TASK_GONE_BY_OPERATOR for partition-aware frameworks when the drain
 * marks the agent gone), as a Mesos agent does while it drains.  Rewrites
 * `su` in place. */
void mesos__op_drain_decorate_update(mesos_master *m, const char *agent_id,
                                     struct Mesos__Internal__StatusUpdate *su);
/* 1 when an agent on `hostname` may not register or re-register: its
 * machine is DOWN for maintenance (maintenance.c). */
int mesos__operator_machine_down(const mesos_master *m, const char *hostname);

/* The allocator's inverse-offer callback (maintenance.c): sends the
 * framework an INVERSE_OFFERS event for the agent's unavailability. */
void mesos__operator_inverse_offer_cb(const char *framework_id, const char *agent_id,
                                      const mesos_allocator_unavailability *u, void *ud);

/* ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS from framework `fw`
 * (maintenance.c): each inverse offer of the framework's among `ids` is
 * answered -- the answer and its time show in GET_MAINTENANCE_STATUS and
 * /maintenance/status, and the allocator does not ask the framework about
 * that agent again for filters.refuse_seconds (default 5 s).  Unknown ids
 * are ignored, as Mesos does. */
void mesos__maintenance_inverse_answer(mesos__framework *fw, Mesos__V1__OfferID **ids, size_t n,
                                       const Mesos__V1__Filters *filters, int accept);

#endif

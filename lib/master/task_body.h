/*
 * The master's compact record of a task (issue 4: master-reregister-10k,
 * master-bytes-per-task).
 *
 * A task used to be a full v1 Task message per task (~800 bytes in ~15
 * structs), most of it the same for every task: the framework and agent
 * ids, the resources, the user.  Memory first touched is most of what
 * re-registering 100,000 tasks costs on a virtual machine, so a task is now
 * two parts:
 *
 *  - mesos__task (master_int.h): what changes -- its state fields, whether
 *    its resources went back -- plus links; only the loop reads it.
 *  - mesos__task_body (here): what never changes once the task exists.
 *    The usual task keeps its own ids and name in one small block and
 *    points at shared, reference-counted pieces ("interns") for the
 *    framework id, agent id, user and the resources (one per identical
 *    resource list in the whole master, with its resources bag).  A task
 *    with anything else (labels, discovery, container, health check, kill
 *    policy, limits, status history, status update uuid, unknown fields)
 *    keeps a compact copy of its whole Task message instead: correct for
 *    every task, small for the common one.
 *
 * Readers that need a v1 Task (the /state and GET_STATE renderers, the
 * operator API's events, reconciliation) get one from
 * mesos__task_body_view: a Task struct filled in place (no allocation)
 * whose pointers are valid as long as the body lives.
 *
 * Lifetime: a body is immutable and owned by its task; when the task goes
 * while a state snapshot pins the master's records, the body is parked in
 * state.c's graveyard (mesos__state_retire_body) and freed when the last
 * snapshot goes.  An intern is freed when the last body that names it is
 * freed, so it outlives every body -- parked ones included -- that a render
 * off the loop may still read.  Reference counts change on the loop only
 * (bodies are created, freed and parked there).
 */
#ifndef MESOS_MASTER_TASK_BODY_H
#define MESOS_MASTER_TASK_BODY_H

#include <stdbool.h>
#include <stdint.h>

#include "mesos/error.h"
#include "mesos/v1/mesos.pb-c.h"
#include "resources/resources.h"

typedef struct mesos_master mesos_master;
typedef struct mesos__intern mesos__intern;
typedef struct mesos__task_body mesos__task_body;

struct mesos__task_body {
  /* Unusual task: its whole Task message (a compact copy; its state
   * fields are not read: mesos__task has them), else NULL. */
  Mesos__V1__Task *full;
  /* The usual task: */
  mesos__intern *fid, *aid, *user, *res; /* user, res: NULL when none */
  const char *name;                      /* NULL when none; may be tid.value */
  Mesos__V1__TaskID tid;
  Mesos__V1__ExecutorID eid; /* eid.value NULL: no executor id */
  char data[];               /* the strings tid, name and eid point at */
};

/* Builds the body of the task `msg` describes; its framework and agent ids
 * are `framework_id` and `agent_id` whatever `msg` says, and its state
 * fields are ignored.  `msg` is only read (it may live in an arena). */
mesos_status mesos__task_body_new(mesos_master *m, const Mesos__V1__Task *msg,
                                  const char *framework_id, const char *agent_id,
                                  mesos__task_body **out);
void mesos__task_body_free(mesos_master *m, mesos__task_body *b);

/* The task as a v1 Task message, in `view` (overwritten), with the given
 * state fields.  No allocation; valid while `b` lives; read-only.  Safe
 * off the loop on a pinned body. */
void mesos__task_body_view(const mesos__task_body *b, int32_t state, bool has_su_state,
                           int32_t su_state, Mesos__V1__Task *view);

static inline const char *mesos__task_body_id(const mesos__task_body *b) {
  return b->full ? b->full->task_id->value : b->tid.value;
}
static inline const Mesos__V1__TaskID *mesos__task_body_tid(const mesos__task_body *b) {
  return b->full ? b->full->task_id : &b->tid;
}
const char *mesos__task_body_user(const mesos__task_body *b);
/* The kill policy the task was launched with, or NULL. */
static inline const Mesos__V1__KillPolicy *mesos__task_body_kill_policy(const mesos__task_body *b) {
  return b->full ? b->full->kill_policy : NULL;
}

/* The shared resources bag of a usual task's resource list (allocation
 * roles dropped), NULL for an unusual task or one without resources.  Owned by the
 * intern: valid while `b` lives. */
const mesos_resources *mesos__task_body_bag(const mesos__task_body *b);

/* Interned strings (roles): the same pointer for equal strings while any
 * reference lives.  NULL when out of memory.  Loop only. */
const char *mesos__intern_str(mesos_master *m, const char *s);
void mesos__intern_str_release(mesos_master *m, const char *s);

/* An agent's total resources (AgentInfo.resources) as a bag of exactly the
 * room it uses whose resource identities are shared with other agents'
 * totals (resources.h: one identity copy per distinct name/role/... in
 * the master, not per agent).  MESOS_EINVAL for invalid resources. */
mesos_status mesos__agent_total_new(mesos_master *m, const Mesos__V1__AgentInfo *info,
                                    mesos_resources **out, mesos_error **err);

/* The master's slab for task records and bodies (slab.h), made on first
 * use and freed with the intern tables; NULL when out of memory. */
typedef struct mesos__slab mesos__slab;
mesos__slab *mesos__master_slab(mesos_master *m);

/* Frees the master's intern tables (at master shutdown, after every task
 * and body). */
void mesos__interns_fini(mesos_master *m);
/* How many interns of each kind live (tests). */
size_t mesos__interns_count(const mesos_master *m);

#endif

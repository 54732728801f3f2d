/*
 * mesos/executor.h - the executor side of the Mesos v1 executor API.
 *
 * An executor runs tasks for a framework on an agent.  The agent starts it
 * with MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_AGENT_ENDPOINT,
 * MESOS_DIRECTORY and MESOS_SANDBOX in its environment; this client
 * subscribes to the agent's /api/v1/executor with them, delivers the
 * agent's events (LAUNCH, KILL, ACKNOWLEDGED, SHUTDOWN) to callbacks, and
 * sends status updates (UPDATE calls, each with a fresh UUID).
 * mesos-default-executor (task groups, LAUNCH_GROUP) is built on it too.
 * mesos-executor, the command executor, is built on it.
 *
 * Thread safety: an executor client belongs to its loop's thread.  It must
 * not be freed from inside its own callbacks (stop the loop, free after).
 *
 * Since 1.0.
 */
#ifndef MESOS_EXECUTOR_H
#define MESOS_EXECUTOR_H

#include "common.h"
#include "error.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mesos_executor mesos_executor;
/* A task of a LAUNCH event; borrowed, valid during the callback only. */
typedef struct mesos_executor_task mesos_executor_task;

#define MESOS_EXECUTOR_OPTIONS_VERSION 1

typedef struct mesos_executor_options {
  uint32_t version;           /* MESOS_EXECUTOR_OPTIONS_VERSION */
  const char *agent_endpoint; /* "ip:port"; NULL: $MESOS_AGENT_ENDPOINT */
  const char *framework_id;   /* NULL: $MESOS_FRAMEWORK_ID */
  const char *executor_id;    /* NULL: $MESOS_EXECUTOR_ID */
} mesos_executor_options;

#define MESOS_EXECUTOR_OPTIONS_INIT { MESOS_EXECUTOR_OPTIONS_VERSION, NULL, NULL, NULL }

/* 2 added launch_group; a version 1 struct (without it) is still accepted. */
#define MESOS_EXECUTOR_CALLBACKS_VERSION 2

/* Every member may be NULL (the event is then ignored). */
typedef struct mesos_executor_callbacks {
  uint32_t version; /* MESOS_EXECUTOR_CALLBACKS_VERSION */
  /* SUBSCRIBED: the agent accepted the executor. */
  void (*subscribed)(mesos_executor *e, void *ud);
  /* LAUNCH: run `task`. */
  void (*launch)(mesos_executor *e, const mesos_executor_task *task, void *ud);
  /* KILL: kill the task; `grace_ms` is the kill policy's grace period, or
   * -1 when the framework gave none. */
  void (*kill)(mesos_executor *e, const char *task_id, int64_t grace_ms, void *ud);
  /* ACKNOWLEDGED: the framework acknowledged the update with this uuid. */
  void (*acknowledged)(mesos_executor *e, const char *task_id, const uint8_t uuid[16], void *ud);
  /* SHUTDOWN: kill every task and exit. */
  void (*shutdown)(mesos_executor *e, void *ud);
  /* The event stream ended or could not be opened and the client gave up;
   * `why` says why.  Without checkpointing (MESOS_CHECKPOINT is not 1)
   * that is the first loss.  With it the client outlives an agent restart:
   * it subscribes again after a random back-off (up to
   * MESOS_SUBSCRIPTION_BACKOFF_MAX, 2secs by default), handing back the
   * tasks and updates not acknowledged yet, calls `subscribed` again once
   * back, and reports the loss here only after MESOS_RECOVERY_TIMEOUT
   * (15mins by default) without the agent, or when the agent refuses the
   * subscription (4xx). */
  void (*disconnected)(mesos_executor *e, const char *why, void *ud);
  /* LAUNCH_GROUP (version 2): run the `n` tasks of one task group together
   * (the default executor's job).  NULL: the event is ignored. */
  void (*launch_group)(mesos_executor *e, const mesos_executor_task *const *tasks, size_t n,
                       void *ud);
} mesos_executor_callbacks;

#define MESOS_EXECUTOR_CALLBACKS_INIT { MESOS_EXECUTOR_CALLBACKS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/* FFI twin of MESOS_EXECUTOR_OPTIONS_INIT.  MESOS_EINVAL, MESOS_EVERSION. */
MESOS_EXTERN(mesos_status) mesos_executor_options_init(mesos_executor_options *opts,
                                                       uint32_t version);

/*
 * Creates the client and starts subscribing (the answer arrives through the
 * callbacks as the loop runs).  `opts` (NULL: all from the environment) and
 * `cbs` are copied.
 * Errors: MESOS_EINVAL (an id or the endpoint missing from both the options
 * and the environment: the message names it), MESOS_EVERSION, MESOS_ENOMEM.
 */
MESOS_EXTERN(mesos_status) mesos_executor_new(mesos_executor **out, mesos_loop *loop,
                                              const mesos_executor_options *opts,
                                              const mesos_executor_callbacks *cbs, void *ud,
                                              mesos_error **err);

/*
 * Sends a status update for `task_id`: `state` is a TaskState name
 * ("TASK_RUNNING", "TASK_FINISHED", ...), `message` may be NULL.  The update
 * gets a fresh UUID; the agent retries it towards the framework until it is
 * acknowledged (reported through the acknowledged callback).  The client
 * keeps it until then; while it is re-subscribing after a lost agent the
 * update waits and goes with the re-subscription.
 * Errors: MESOS_EINVAL (unknown state, NULL task id), MESOS_ECLOSED (not
 * subscribed, and not re-subscribing), MESOS_ELIMIT (1024 updates wait
 * for acknowledgement already), MESOS_ENOMEM.
 */
MESOS_EXTERN(mesos_status) mesos_executor_update(mesos_executor *e, const char *task_id,
                                                 const char *state, const char *message,
                                                 mesos_error **err);

/* Accessors of a LAUNCH event's task (borrowed strings). */
MESOS_EXTERN(const char *) mesos_executor_task_id(const mesos_executor_task *task);
/* The command's value: a shell command line, or the program to run. */
MESOS_EXTERN(const char *) mesos_executor_task_command(const mesos_executor_task *task);
/* 1 when the command runs through /bin/sh -c, 0 when it is exec'd. */
MESOS_EXTERN(int) mesos_executor_task_shell(const mesos_executor_task *task);
/* The argument vector of a non-shell command: count and entries. */
MESOS_EXTERN(size_t) mesos_executor_task_argc(const mesos_executor_task *task);
MESOS_EXTERN(const char *) mesos_executor_task_arg(const mesos_executor_task *task, size_t i);
/* The task's kill policy grace period in ms, or -1. */
MESOS_EXTERN(int64_t) mesos_executor_task_grace_ms(const mesos_executor_task *task);
/* The command's environment (CommandInfo.environment): the number of
 * variables, and the name and value of variable i (NULL past the end; a
 * variable without value has ""). */
MESOS_EXTERN(size_t) mesos_executor_task_env_count(const mesos_executor_task *task);
MESOS_EXTERN(const char *) mesos_executor_task_env_name(const mesos_executor_task *task,
                                                        size_t i);
MESOS_EXTERN(const char *) mesos_executor_task_env_value(const mesos_executor_task *task,
                                                         size_t i);
/* The user the command runs as (CommandInfo.user), or NULL: the
 * executor's own. */
MESOS_EXTERN(const char *) mesos_executor_task_user(const mesos_executor_task *task);

/* Closes the connections and frees the client.  NULL is accepted. */
MESOS_EXTERN(void) mesos_executor_free(mesos_executor *e);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_EXECUTOR_H */

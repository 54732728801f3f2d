/* Internal state of an agent.  Everything here is owned by the loop thread.
 *
 * Pieces (one concept per file):
 *   agent.c          configuration (flags/options), start-up, the agent id
 *                    checkpoint, the agent's own HTTP listener
 *   master_link.c    the connection to the master: REGISTER/REREGISTER, the
 *                    event stream, PING/PONG, reconnect with back-off, and
 *                    POSTing calls
 *   task_runner.c    tasks: sandbox, fork/exec of the command, kill with a
 *                    grace period, exit -> terminal status update
 *   status_update.c  the status update manager: uuid, checkpoint, in-order
 *                    delivery per task, retries until acknowledged
 *   executors.c      custom executors (TaskInfo.executor) and the default
 *                    executor of task groups: one process serving many
 *                    tasks, LAUNCH / LAUNCH_GROUP delivery, kill, exit
 */
#ifndef MESOS_AGENT_INT_H
#define MESOS_AGENT_INT_H

#include <stdint.h>

#include "agent/containers.h"
#include "base/flags.h"
#include "base/map.h"
#include "codec/recordio.h"
#include "http/client.h"
#include "http/server.h"
#include "mesos/agent.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "mesos/internal/internal.pb-c.h"
#include "mesos/resources.h"
#include "mesos/v1/executor.pb-c.h"
#include "mesos/v1/mesos.pb-c.h"

struct mesos_agent_flags {
  mesos__flags *f;
};

/* The protocol version of /api/v1/agent this agent speaks. */
#define MESOS__AGENT_PROTOCOL 1

/* Registration back-off never waits longer than this between attempts
 * (Mesos caps its agent registration back-off at one minute). */
#define MESOS__AGENT_MAX_BACKOFF_MS 60000u

/* Status updates are re-sent at most this far apart (Mesos:
 * STATUS_UPDATE_RETRY_INTERVAL_MAX, 10 minutes). */
#define MESOS__AGENT_MAX_RETRY_MS 600000u

/* Updates one task may have waiting for acknowledgement.  A task produces a
 * handful (STARTING, RUNNING, a terminal one); thousands means a framework
 * that never acknowledges and an executor that never stops: refuse rather
 * than grow without bound. */
#define MESOS__AGENT_MAX_PENDING_UPDATES 1024u

/* Tasks on one agent: far above what a host runs, below what would make a
 * REREGISTER call exceed the master's 16 MiB body limit. */
#define MESOS__AGENT_MAX_TASKS 10000u

typedef struct mesos__agent_task mesos__agent_task;
typedef struct mesos__su_stream mesos__su_stream;
typedef struct mesos__agent_executor mesos__agent_executor;

struct mesos_agent {
  mesos_loop *loop;
  mesos__flags *flags;
  struct mesos__auth *auth;  /* HTTP authentication + authorization (agent_auth.h) */
  char *master_authorization; /* "Basic ..." from --credential, or NULL */
  struct mesos__agent_exec_auth *exec_auth; /* executor tokens (agent_auth.c), or NULL */
  char *work_dir;
  char master_url[512];      /* http://host:port/api/v1/agent */
  char ip[64];
  char hostname[256];
  uint32_t port;
  char *id;                  /* NULL until registered or recovered */
  Mesos__V1__AgentInfo *info; /* owned: hostname, resources, attributes (id once known) */
  mesos__http_server *http;
  /* With --tls_cert: the plain loopback listener executors use (agent.c),
   * else NULL and executors share `http`. */
  mesos__http_server *exec_http;
  uint32_t exec_port;
  mesos__http_client *client;
  /* Every call to the master but the event stream, pipelined on one
   * connection (http/pipe.h; master_link.c). */
  struct mesos__http_pipe *pipe;

  /* The event stream. */
  mesos__http_call *stream;  /* NULL while disconnected */
  mesos__recordio_decoder dec;
  int stream_status;         /* HTTP status of the stream's response */
  int registered;            /* REGISTERED/REREGISTERED seen on this stream */
  uint64_t link_gen;         /* registrations so far (status_update.c sends each
                              * pending update once per registration) */
  uint64_t conn_id;          /* the master's connection_id of this registration
                              * (0: none), echoed in every call */
  mesos_timer *reconnect;    /* back-off before the next attempt */
  uint64_t backoff_ms;       /* current back-off ceiling */
  uint64_t backoff_factor_ms;
  mesos_timer *ping_timeout; /* no event for this long: reconnect */
  uint64_t ping_timeout_ms;
  uint64_t registered_ms;    /* loop time of the last (RE)REGISTERED (master_link.c) */
  int closing;

  /* Tasks and status updates. */
  mesos__map frameworks;     /* framework id -> Mesos__V1__FrameworkInfo* (owned) */
  mesos__map tasks;          /* "<framework>/<task>" -> mesos__agent_task* */
  mesos__map streams;        /* "<framework>/<task>" -> mesos__su_stream* */
  char **launch_q;           /* task keys waiting to start (task_runner.c) */
  size_t launch_qn;
  mesos_timer *launch_timer;
  size_t nspawning;          /* executor starts on the thread pool (executor_api.c) */
  mesos__map executors;      /* "<framework>/<executor>" -> mesos__agent_executor*
                              * (custom and default executors; executors.c) */
  uint64_t retry_base_ms;    /* first status update retry interval */
  uint64_t shutdown_grace_ms;
  uint64_t exec_reg_timeout_ms;
  /* Recovery (recover.c): --executor_reregistration_timeout, the
   * MESOS_RECOVERY_TIMEOUT executors get (--recovery_timeout), and the
   * HEARTBEAT period of executor streams (executor_api.c). */
  uint64_t exec_rereg_timeout_ms;
  uint64_t recovery_timeout_ms;
  uint64_t exec_heartbeat_ms;
  mesos_timer *exec_heartbeat;
  /* Sessions of ended executors waiting for one batched /proc sweep
   * (executor_api.c). */
  int32_t *sweep;
  size_t nsweep;
  mesos_timer *sweep_timer;
  int cleanup_pending;       /* --recover=cleanup: old id kept until drained */
  struct mesos__agent_cleanup *cleanup; /* executors it is stopping (recover.c) */
  char *executor_path;       /* mesos-executor, or NULL: in-agent runner */
  struct mesos__agent_operator *op; /* operator API, classic endpoints, files (operator.c) */
  struct mesos__agent_containers *containers; /* NULL: no containerizer (containers.c) */
  /* Reservations and volumes from CHECKPOINT_RESOURCES (volumes.c), or NULL. */
  Mesos__Internal__CheckpointResources *checkpointed;
};

/* ---- operator.c */
typedef struct mesos__agent_operator mesos__agent_operator;
/* Routes POST /api/v1, /state, /flags, /metrics/snapshot,
 * /monitor/statistics, /containers and the /files/ endpoints (also
 * under /slave(1)). */
mesos_status mesos__agent_operator_init(mesos_agent *a, mesos_error **err);
/* After the HTTP server is freed.  NULL-safe. */
void mesos__agent_operator_fini(mesos_agent *a);
/* Task `t` is about to be forgotten (its terminal update acknowledged, its
 * process gone): keep a copy for the completed lists and count it. */
void mesos__agent_operator_task_done(mesos_agent *a, const mesos__agent_task *t);

/* ---- agent.c */
/* MESOS_AGENT_ENDPOINT for executors ("ip:port", "[ip6]:port"): the main
 * listener, or the plain loopback one when the agent serves HTTPS. */
void mesos__agent_executor_endpoint(const mesos_agent *a, char *buf, size_t cap);
/* Writes meta/slaves/<id>/slave.info and the meta/slaves/latest link. */
mesos_status mesos__agent_checkpoint_id(mesos_agent *a, const char *id, mesos_error **err);

/* mkdir -p of `dir` without fsyncs (status_update.c): for what frameworks
 * without checkpointing leave under meta/, which need not survive a crash
 * of the host.  MESOS_EIO naming the directory, MESOS_EINVAL. */
mesos_status mesos__agent_mkdirs_nosync(const char *dir, mesos_error **err);

/* ---- master_link.c */
/* Creates the link's timers and the call pipe (`tls`: for an https://
 * --master, else NULL; the pipe takes a reference). */
mesos_status mesos__agent_link_init(mesos_agent *a, struct mesos__tls_config *tls,
                                    mesos_error **err);
/* Starts (or restarts) the registration: REGISTER without an id, else
 * REREGISTER. */
void mesos__agent_link_start(mesos_agent *a);
/* Drops the stream (if any) and schedules a new attempt after back-off. */
void mesos__agent_link_reset(mesos_agent *a, const char *why);
void mesos__agent_link_stop(mesos_agent *a);
/* POSTs `call` (protocol_version, agent_id filled in here).  Failures are
 * logged: callers that need delivery (status updates) retry themselves.
 * Returns the call's number on the pipe (mesos__http_pipe_unanswered
 * tells whether it is still on its way), 0 when it was not sent. */
uint64_t mesos__agent_post(mesos_agent *a, Mesos__Internal__AgentCall *call);
/* EXITED_EXECUTOR: an executor of any kind ended with `wait_status`. */
void mesos__agent_post_exited_executor(mesos_agent *a, const char *framework_id,
                                       const char *executor_id, int wait_status);

/* ---- task_runner.c */
struct mesos__agent_task {
  mesos_agent *agent;
  char *key;
  char *framework_id;
  char *task_id;
  char *executor_id;         /* command tasks: the task id, as Mesos does */
  char *container_id;
  char *sandbox;
  char *updates_path;        /* task.updates of the status update manager */
  Mesos__V1__TaskInfo *info; /* owned */
  Mesos__V1__TaskState state; /* latest state generated */
  int32_t pid;               /* 0 before fork / after exit */
  mesos_child *child;
  mesos_timer *kill_timer;   /* SIGKILL after the grace period */
  int killing;
  /* Under mesos-executor (else forked by the agent itself). */
  int use_executor;
  mesos__http_request *exec_stream; /* the executor's SUBSCRIBE stream */
  mesos_timer *reg_timer;           /* --executor_registration_timeout */
  int terminal_seen;                /* the executor sent a terminal update */
  /* Recovery (recover.c).  `checkpoint`: the framework checkpoints, so
   * the executor outlives the agent and executor.info/task.info exist.
   * `recovered`: adopted from a previous run of the agent; not our child,
   * watched by `reaper` instead of `child`.  `exit_reason`: the reason of
   * the terminal update if the executor ends before sending one (-1: the
   * default, REASON_EXECUTOR_TERMINATED). */
  int checkpoint;
  int recovered;
  uint64_t pid_start;
  int exit_reason;
  struct mesos__agent_reaper *reaper;
  /* Run by a custom or default executor (executors.c), NULL otherwise
   * (then pid/child/exec_stream above describe the task's own process). */
  mesos__agent_executor *exec;
  int queued;                /* in a->launch_q, not started yet */
  /* Its mesos-executor is being started off the loop (executor_api.c):
   * pid is 0 until mesos__agent_executor_started. */
  struct mesos__agent_spawn_job *spawn_job;
  /* Runs in a container of the mesos containerizer (containers.c): `pid`
   * is the container's init, watched by the containerizer, not `child`. */
  int containerized;
};

void mesos__agent_run_task(mesos_agent *a, const Mesos__Internal__RunTask *rt);
/* A new task in STAGING, in a->tasks: TaskInfo copied, sandbox and update
 * stream paths under executor `executor_id` (NULL: the task id, as for
 * command tasks) and container `container_id` (NULL: a fresh one).  The
 * ids were checked by the caller.  Nothing is started. */
mesos_status mesos__agent_task_new(mesos_agent *a, const char *fw, const Mesos__V1__TaskInfo *ti,
                                   const char *executor_id, const char *container_id,
                                   mesos__agent_task **out, mesos_error **err);
/* A status update generated by the agent for task `t` (state recorded). */
void mesos__agent_task_update(mesos__agent_task *t, Mesos__V1__TaskState state, int reason,
                              const char *message);
/* A task refused before it exists: one terminal update, not checkpointed. */
void mesos__agent_task_refuse(mesos_agent *a, const char *fw, const char *task,
                              Mesos__V1__TaskState state, int reason, const char *message);
/* Keeps (and checkpoints) a framework's info the first time it is seen. */
void mesos__agent_remember_framework(mesos_agent *a, const Mesos__V1__FrameworkInfo *fi);
/* mkdir -p without fsyncs, for sandboxes (not checkpoints). */
mesos_status mesos__agent_mkdirs(const char *path, mesos_error **err);
/* mkdir -p of `path` without fsyncs, new directories with `mode`: from the
 * deepest directory recent calls (of any thread) made when `path` is
 * under it (one mkdir per new directory), else backwards from the whole
 * path.  MESOS_EIO naming the directory, MESOS_EINVAL.  Thread-safe. */
mesos_status mesos__agent_mkdirs_mode(const char *path, mode_t mode, mesos_error **err);
/* mesos__checkpoint_write_bytes of a copy of `data` on the libuv thread
 * pool (a failure is logged): for checkpoints nothing waits for. */
void mesos__agent_checkpoint_async(mesos_agent *a, const char *path, const void *data,
                                   size_t len);
void mesos__agent_kill_task(mesos_agent *a, const char *framework_id, const char *task_id,
                            const Mesos__V1__KillPolicy *policy);
void mesos__agent_shutdown_framework(mesos_agent *a, const char *framework_id);
/* Kills every task at once (agent shutdown) and frees them. */
void mesos__agent_tasks_free(mesos_agent *a);
/* Called by the update manager once a task's terminal update was
 * acknowledged: forget the task if its process is gone. */
void mesos__agent_task_maybe_done(mesos_agent *a, const char *key);
/* Fills `out` with Task messages for REREGISTER (borrowed pointers into
 * the tasks; free the array only). */
mesos_status mesos__agent_tasks_report(mesos_agent *a, Mesos__V1__Task ***out, size_t *n,
                                       Mesos__V1__FrameworkInfo ***fws, size_t *nfws);
void mesos__agent_tasks_report_free(Mesos__V1__Task **tasks, size_t n);

/* ---- status_update.c */
/* Generates a status update for a task: a fresh uuid, checkpointed to
 * `updates_path` (NULL: not checkpointed, e.g. a task the agent does not
 * know), queued behind the task's earlier unacknowledged updates, and sent
 * when it reaches the head.  `reason` < 0: none. */
mesos_status mesos__agent_status_update(mesos_agent *a, const char *framework_id,
                                        const char *executor_id, const char *task_id,
                                        const char *updates_path, Mesos__V1__TaskState state,
                                        int reason, const char *message, mesos_error **err);
/* The same with the uuid the executor chose (16 bytes). */
mesos_status mesos__agent_status_update_uuid(mesos_agent *a, const char *framework_id,
                                             const char *executor_id, const char *task_id,
                                             const char *updates_path, Mesos__V1__TaskState state,
                                             int reason, const char *message,
                                             const uint8_t *uuid, mesos_error **err);
/* Creates (durably, on the thread pool) the stream file of a task about to
 * start, so its first update need not wait for that. */
void mesos__agent_status_prepare(mesos_agent *a, const char *framework_id, const char *task_id,
                                 const char *updates_path);
/* Queues again, in order, updates recovered from `updates_path` (copied;
 * not appended again), and remembers the uuids the framework acknowledged
 * already (`acked`), so neither reaches it twice. */
mesos_status mesos__agent_status_recover(mesos_agent *a, const char *framework_id,
                                         const char *task_id, const char *updates_path,
                                         Mesos__Internal__StatusUpdate *const *updates, size_t n,
                                         const uint8_t (*acked)[16], size_t nacked,
                                         mesos_error **err);
/* Whether the update with this uuid (16 bytes) is known for task `key`:
 * 0 no, 1 queued (not acknowledged yet), 2 acknowledged. */
int mesos__agent_status_known(mesos_agent *a, const char *key, const uint8_t *uuid);
/* 1 when the stream of `key` ("framework/task") has its file open and no
 * write queued or in flight (tests: an update is then written at once
 * when the stream is not durable). */
int mesos__agent_status_file_ready(mesos_agent *a, const char *key);
/* One update an executor lists as unacknowledged in its SUBSCRIBE, for its
 * task `t` (the caller matched the task id): goes to the status update
 * manager with its uuid unless the manager has it or the task's terminal
 * update came already.  Returns 1 when the framework acknowledged it
 * already (the executor is to get ACKNOWLEDGED), -1 when it is unusable
 * (no 16-byte uuid, STAGING or an unknown state), else 0.  Shared by the
 * command executor's endpoint (executor_api.c) and the others'
 * (executors.c). */
int mesos__agent_status_resubscribed(mesos_agent *a, mesos__agent_task *t,
                                     const Mesos__V1__TaskStatus *s);
/* FINISHED, FAILED, KILLED, LOST, ERROR, DROPPED, GONE, GONE_BY_OPERATOR. */
int mesos__agent_state_terminal(Mesos__V1__TaskState s);
/* STATUS_UPDATE_ACKNOWLEDGEMENT from the master. */
void mesos__agent_status_ack(mesos_agent *a, const Mesos__Internal__StatusUpdateAcknowledgement *ack);
/* After (re)registration: send every stream's head again now. */
void mesos__agent_status_resend_all(mesos_agent *a);
/* Whether a task still has unacknowledged updates. */
int mesos__agent_status_pending(mesos_agent *a, const char *key);
/* Appends to `tasks` (from mesos__agent_tasks_report, freed the same way)
 * a Task in its latest state for every task not in a->tasks that still
 * has unacknowledged updates. */
mesos_status mesos__agent_status_report(mesos_agent *a, Mesos__V1__Task ***tasks, size_t *n);
/* Whether any task has unacknowledged updates. */
int mesos__agent_status_any_pending(mesos_agent *a);
void mesos__agent_status_free_all(mesos_agent *a);

/* ---- executors.c */
/* RUN_TASK whose TaskInfo names an executor: starts it (or reuses the
 * running one with that id) and delivers LAUNCH once it subscribed. */
void mesos__agent_run_custom(mesos_agent *a, const Mesos__Internal__RunTask *rt);
/* RUN_TASK_GROUP: the same with LAUNCH_GROUP (DEFAULT: mesos-default-executor). */
void mesos__agent_run_task_group(mesos_agent *a, const Mesos__Internal__RunTaskGroup *rg);
/* KILL for a task that runs under an executor of executors.c. */
void mesos__agent_exec_kill_task(mesos__agent_task *t, const Mesos__V1__KillPolicy *policy);
/* SHUTDOWN_EXECUTOR; returns 0 when no such executor exists here. */
int mesos__agent_exec_shutdown(mesos_agent *a, const char *framework_id, const char *executor_id);
/* FRAMEWORK_MESSAGE from the master towards an executor. */
void mesos__agent_exec_message(mesos_agent *a, const Mesos__Internal__FrameworkMessage *fm);
/* An executor's MESSAGE call (validated) towards its framework, through
 * the master; for every kind of executor (executor_api.c too). */
void mesos__agent_executor_message_up(mesos_agent *a, const Mesos__V1__Executor__Call *call);
/* The executor API for an executor of executors.c (the call is validated
 * and its framework known); returns 0 when `key` names none. */
int mesos__agent_exec_call(mesos_agent *a, const char *key, mesos__http_request *req,
                           const Mesos__V1__Executor__Call *call);
/* The container id of the executor `key` ("<framework>/<executor>") of
 * executors.c, or NULL when there is none (executor authentication
 * compares it with the token's claim). */
const char *mesos__agent_exec_container_id(mesos_agent *a, const char *key);
/* ACKNOWLEDGED towards the executor of task `t`. */
void mesos__agent_exec_acked(mesos__agent_task *t, const ProtobufCBinaryData *uuid);
/* Task `t` is being freed: forget it. */
void mesos__agent_exec_task_gone(mesos__agent_task *t);
/* The ExecutorInfos (framework_id set) of the live custom and default
 * executors, for REREGISTER: borrowed pointers, free the array only. */
mesos_status mesos__agent_executors_report(mesos_agent *a, Mesos__V1__ExecutorInfo ***out,
                                           size_t *n);
/* Forgets (without killing) the processes of checkpointing frameworks'
 * executors: see mesos__agent_release_executors. */
void mesos__agent_executors_release(mesos_agent *a);
/* Kills every executor at once (agent shutdown) and frees them. */
void mesos__agent_executors_free(mesos_agent *a);
/* Recovery of a checkpointing framework's custom or default executor,
 * alive with the checkpointed pid and start time (`ec`): adopts it (once,
 * whatever the number of its tasks; it must re-subscribe within
 * --executor_reregistration_timeout) and, with `ti`, its task in `state`
 * (the latest of its update stream). */
mesos_status mesos__agent_exec_adopt(mesos_agent *a, const char *fw,
                                     const Mesos__Internal__ExecutorCheckpoint *ec,
                                     const Mesos__V1__TaskInfo *ti, Mesos__V1__TaskState state,
                                     mesos_error **err);

/* ---- recover.c */
/* task.info (TaskCheckpoint) of a task under a checkpointing framework's
 * custom or default executor (executors.c). */
void mesos__agent_checkpoint_task(mesos__agent_task *t);
/* Recovers what a previous run of the agent left (--recover=reconnect):
 * re-queues unacknowledged status updates, adopts the live executors of
 * checkpointing frameworks (they must re-subscribe within
 * --executor_reregistration_timeout), and reports the other unfinished
 * tasks terminal.  --recover=cleanup kills every checkpointed executor
 * instead (and the agent registers anew once their updates are out). */
mesos_status mesos__agent_recover_updates(mesos_agent *a, mesos_error **err);
/* Checkpoints executor.info (pid and its start time) and task.info of a
 * command task just launched under mesos-executor; nothing for
 * frameworks without checkpoint=true. */
void mesos__agent_checkpoint_executor(mesos__agent_task *t);
/* Start time of `pid` (field 22 of /proc/<pid>/stat); 0 when gone. */
uint64_t mesos__agent_pid_start_time(int32_t pid);
/* Stops watching a recovered executor (task being freed). */
void mesos__agent_reaper_free(mesos__agent_task *t);
/* Watches `pid` (started at `start`, see mesos__agent_pid_start_time), a
 * process that is not the agent's child: `cb(ud)` once it ended, after
 * which the caller frees the watch (mesos__agent_pidwatch_free, NULL-safe).
 * MESOS_ENOTFOUND: it ended already. */
mesos_status mesos__agent_pidwatch(mesos_agent *a, int32_t pid, uint64_t start,
                                   void (*cb)(void *ud), void *ud,
                                   struct mesos__agent_reaper **out, mesos_error **err);
void mesos__agent_pidwatch_free(struct mesos__agent_reaper *r);
/* --recover=cleanup: once every update about the killed executors' tasks
 * is acknowledged, forgets the old id and registers as a new agent. */
void mesos__agent_cleanup_check(mesos_agent *a);
/* Agent shutdown: ends what --recover=cleanup is still stopping. */
void mesos__agent_recover_fini(mesos_agent *a);
/* Whether framework `fw` checkpoints (FrameworkInfo.checkpoint). */
int mesos__agent_framework_checkpoints(mesos_agent *a, const char *fw);
/* The agent is stopping (SIGTERM, mesos_agent_free): the executors of
 * checkpointing frameworks are left running for the next agent to
 * recover, as Mesos does; unless --recover=cleanup.  Call before
 * mesos__agent_tasks_free, which kills what is left. */
void mesos__agent_release_executors(mesos_agent *a);

/* ---- executor_api.c */
/* POST /api/v1/executor. */
void mesos__agent_executor_api_handler(mesos__http_request *req, void *ud);
/* Starts mesos-executor for task `t` on the thread pool (its sandbox is
 * made there too); the outcome comes to mesos__agent_executor_started
 * (task_runner.c), with t->pid set on success.  An error here: nothing
 * was started. */
typedef struct mesos__agent_spawn_job mesos__agent_spawn_job;
mesos_status mesos__agent_executor_launch(mesos__agent_task *t, mesos_error **err);
void mesos__agent_executor_started(mesos__agent_task *t, mesos_status st, mesos_error *e,
                                   int pid_written);
/* Where `t`'s forked.pid goes (owned; NULL, logged, when it cannot be
 * named), and whether its directories need no fsyncs (`nosync_dirs`: a
 * framework without checkpointing). */
char *mesos__agent_pid_path(mesos__agent_task *t, int *nosync_dirs);
/* Writes forked.pid naming `pid` at `path` (no fsync of the file: see
 * task_runner.c).  Touches nothing else: safe on a pool thread. */
mesos_status mesos__agent_write_pid_file(const char *path, int32_t pid, int nosync_dirs,
                                         mesos_error **err);
/* An executor start ended: start the next queued task (task_runner.c). */
void mesos__agent_launch_more(mesos_agent *a);
/* The task goes while its executor starts: the start's end kills it. */
void mesos__agent_executor_spawn_orphan(mesos__agent_task *t);
/* KILL towards the executor (or its process when not subscribed yet). */
void mesos__agent_executor_kill(mesos__agent_task *t, uint64_t grace_ms,
                                const Mesos__V1__KillPolicy *policy);
/* UPDATE from the executor of task `t`: validated, handed to the status
 * update manager with the executor's uuid, answered 202 (or 4xx/5xx). */
void mesos__agent_executor_update(mesos_agent *a, mesos__agent_task *t, mesos__http_request *req,
                                  const Mesos__V1__Executor__Call__Update *u);
/* ACKNOWLEDGED towards the executor of task `key`. */
void mesos__agent_executor_acked(mesos_agent *a, const char *key, const ProtobufCBinaryData *uuid);
/* The executor process ended; `wait_status` < 0: unknown (a recovered
 * executor is not the agent's child). */
void mesos__agent_executor_exited(mesos__agent_task *t, int wait_status);
/* A recovered executor has --executor_reregistration_timeout from now
 * to re-subscribe, else it is killed (REASON_EXECUTOR_REREGISTRATION_TIMEOUT). */
void mesos__agent_executor_await(mesos__agent_task *t);
/* Starts / stops the HEARTBEAT timer of executor streams. */
mesos_status mesos__agent_executor_api_init(mesos_agent *a, mesos_error **err);
void mesos__agent_executor_api_fini(mesos_agent *a);
/* Ends the executor's stream (task going away). */
void mesos__agent_executor_detach(mesos__agent_task *t);
/* Sends `sig` to every process of session `sid` (an executor and all it
 * started, unless they left the session). */
void mesos__agent_kill_session(int32_t sid, int sig);
/* Seconds since the epoch. */
double mesos__agent_now(void);

#endif

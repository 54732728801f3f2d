/*
 * The agent's end of the v1 executor API (spec/http-api.md section 3) and
 * the launch of mesos-executor, the command executor.
 *
 * A command task runs under its own mesos-executor process (executor id =
 * task id, as in Mesos).  The agent starts it in the task's sandbox with
 * the environment of spec 3.5, in a session of its own: everything the
 * executor and the task start belongs to that session unless it leaves it,
 * so the agent can always end all of it (kill_session), even when the
 * executor is wedged.  The executor subscribes to /api/v1/executor; the
 * agent answers SUBSCRIBED, then LAUNCH with the task.  The executor's
 * UPDATE calls go into the status update manager with the executor's own
 * uuid, and the framework's acknowledgements come back as ACKNOWLEDGED.
 *
 * An executor that does not subscribe within --executor_registration_
 * timeout is killed, and one that exits before sending a terminal update
 * has its task reported TASK_FAILED (REASON_EXECUTOR_TERMINATED); either
 * way the master hears EXITED_EXECUTOR.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "agent/agent_auth.h"
#include "agent/agent_int.h"
#include "agent/spawn.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/units.h"
#include "codec/json.h"
#include "http/call.h"
#include "codec/negotiate.h"
#include "codec/pb.h"
#include "loop/loop_int.h"
#include "mesos/v1/executor.pb-c.h"
#include "registry/fsutil.h"

extern char **environ;

/* Largest event record the agent writes on an executor stream. */
#define EXEC_EVENT_MAX ((size_t)16 << 20)

/* After the kill policy's grace period the executor has this much longer
 * to report TASK_KILLED before the agent ends its whole session. */
#define EXEC_KILL_SLACK_MS 3000u

/* An executor that sent its task's terminal update gets this long to exit
 * by itself (mesos-executor waits for the acknowledgement) before the agent
 * sends SHUTDOWN: the update is checkpointed, the executor has no more
 * work, and a checkpointing executor never exits while it still holds an
 * update the agent may not have. */
#define EXEC_DONE_WAIT_MS 5000u

/* Largest MESOS_SUBSCRIPTION_BACKOFF_MAX given to executors: a restarted
 * agent must see them back within --executor_reregistration_timeout. */
#define EXEC_BACKOFF_MAX_MS 2000u

/* Sends `sig` to every process whose session is one of `sids` (one pass
 * over /proc).  getsid() per process, not a read of /proc/<pid>/stat:
 * one system call instead of three plus the kernel formatting fifty
 * fields; a pass over ~170 processes went from ~2 ms to ~0.3 ms of CPU on
 * the 2-core VM.  A process that ended meanwhile fails getsid (ESRCH) and
 * is skipped. */
static void kill_sessions(const int32_t *sids, size_t nsids, int sig) {
  DIR *d = opendir("/proc");
  if (d == NULL) return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char *end = NULL;
    long pid = strtol(de->d_name, &end, 10);
    if (pid <= 0 || pid > INT32_MAX || (end && *end)) continue;
    pid_t session = getsid((pid_t)pid);
    if (session <= 0) continue;
    for (size_t i = 0; i < nsids; i++) {
      if (session == sids[i]) {
        kill((pid_t)pid, sig);
        break;
      }
    }
  }
  closedir(d);
}

void mesos__agent_kill_session(int32_t sid, int sig) {
  if (sid <= 0) return;
  kill(-sid, sig);
  kill_sessions(&sid, 1, sig);
}

/* The sweep after an executor exited: what it left in its session.
 *
 * Why batched: finding a session's processes means reading the stat file
 * of every process on the host, which with a thousand processes costs
 * milliseconds of the loop thread.  Done for each executor that ends,
 * it was a large part of the agent's CPU time per task when tasks end by
 * the hundred.  The executor's own process group is killed at once; the
 * /proc pass runs SWEEP_DELAY_MS later for every session queued by then.
 * Why a delay and not the next loop turn: tasks end one or two per turn
 * when they end steadily (not in bursts), so a per-turn pass still cost one
 * /proc pass per task: ~1.7 ms of CPU with 160 processes on the host when
 * it read their stat files (measured on the 2-core VM), a third of the
 * agent's CPU per task in bench_task_launch; ~0.3 ms with getsid.  Leftovers of a dead executor (its task's process
 * group, daemons it started) live that much longer; nothing waits on them.
 * A session id is the pid of its (reaped) leader: one that names a live
 * executor of ours again (pid reuse) is skipped. */
#define SWEEP_MAX 4096u
#define SWEEP_DELAY_MS 100u

static void sweep_cb(mesos_timer *timer, void *ud) {
  (void)timer;
  mesos_agent *a = ud;
  size_t k = 0;
  for (size_t i = 0; i < a->nsweep; i++) {
    int live = 0;
    size_t it = 0;
    void *v;
    while (!live && mesos__map_next(&a->tasks, &it, NULL, &v))
      live = ((mesos__agent_task *)v)->pid == a->sweep[i];
    if (!live) a->sweep[k++] = a->sweep[i];
  }
  a->nsweep = 0;
  if (k) kill_sessions(a->sweep, k, SIGKILL);
}

static void sweep_session(mesos_agent *a, int32_t sid) {
  if (sid <= 0) return;
  kill(-sid, SIGKILL);
  if (a->sweep == NULL) a->sweep = mesos__calloc(SWEEP_MAX, sizeof *a->sweep);
  if (a->sweep_timer == NULL && mesos_timer_new(&a->sweep_timer, a->loop, sweep_cb, a, NULL) != MESOS_OK)
    a->sweep_timer = NULL;
  if (a->sweep == NULL || a->sweep_timer == NULL || a->nsweep == SWEEP_MAX) {
    kill_sessions(&sid, 1, SIGKILL); /* cannot queue: now */
    return;
  }
  a->sweep[a->nsweep++] = sid;
  if (a->nsweep == 1) mesos_timer_start(a->sweep_timer, SWEEP_DELAY_MS, 0);
}

/* ------------------------------------------------------------ events */

static mesos_status send_event(mesos__agent_task *t, const Mesos__V1__Executor__Event *ev) {
  if (t->exec_stream == NULL) return MESOS_ECLOSED;
  uint8_t *bytes = NULL;
  size_t len = 0;
  mesos_status st = mesos__pb_pack(&ev->base, EXEC_EVENT_MAX, &bytes, &len, NULL);
  if (st != MESOS_OK) return st;
  mesos__buf rec = MESOS__BUF_INIT(EXEC_EVENT_MAX + 32);
  st = mesos__recordio_append(&rec, bytes, len, NULL);
  if (st == MESOS_OK) st = mesos__http_stream_send(t->exec_stream, rec.data, rec.len);
  mesos__buf_free(&rec);
  mesos__free(bytes);
  return st;
}

void mesos__agent_executor_acked(mesos_agent *a, const char *key, const ProtobufCBinaryData *uuid) {
  mesos__agent_task *t = mesos__map_get(&a->tasks, key);
  if (t && t->exec) {
    mesos__agent_exec_acked(t, uuid); /* custom or default executor */
    return;
  }
  if (t == NULL || !t->use_executor || t->exec_stream == NULL) return;
  Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
  Mesos__V1__Executor__Event__Acknowledged ack = MESOS__V1__EXECUTOR__EVENT__ACKNOWLEDGED__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  tid.value = t->task_id;
  ack.task_id = &tid;
  ack.uuid = *uuid;
  ev.has_type = 1;
  ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__ACKNOWLEDGED;
  ev.acknowledged = &ack;
  send_event(t, &ev);
}

static void stream_aborted(mesos__http_request *req, void *ud) {
  mesos__agent_task *t = ud;
  if (t->exec_stream == req) t->exec_stream = NULL;
}

void mesos__agent_executor_detach(mesos__agent_task *t) {
  mesos__http_request *req = t->exec_stream;
  if (req == NULL) return;
  t->exec_stream = NULL;
  mesos__http_request_on_abort(req, NULL, NULL);
  mesos__http_stream_end(req);
}

void mesos__agent_executor_kill(mesos__agent_task *t, uint64_t grace_ms,
                                const Mesos__V1__KillPolicy *policy) {
  t->killing = 1;
  if (t->exec_stream) {
    Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
    Mesos__V1__Executor__Event__Kill k = MESOS__V1__EXECUTOR__EVENT__KILL__INIT;
    Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
    Mesos__V1__KillPolicy kp = MESOS__V1__KILL_POLICY__INIT;
    Mesos__V1__DurationInfo d = MESOS__V1__DURATION_INFO__INIT;
    tid.value = t->task_id;
    k.task_id = &tid;
    d.nanoseconds = (int64_t)grace_ms * 1000000;
    kp.grace_period = &d;
    k.kill_policy = policy ? (Mesos__V1__KillPolicy *)policy : &kp;
    ev.has_type = 1;
    ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__KILL;
    ev.kill = &k;
    if (send_event(t, &ev) == MESOS_OK) {
      mesos_timer_start(t->kill_timer, grace_ms + EXEC_KILL_SLACK_MS, 0);
      return;
    }
  }
  /* No executor to ask: end its session now. */
  mesos__agent_kill_session(t->pid, SIGKILL);
}

void mesos__agent_executor_exited(mesos__agent_task *t, int wait_status) {
  mesos_agent *a = t->agent;
  mesos_timer_stop(t->reg_timer);
  mesos__agent_executor_detach(t);
  /* Whatever the executor left behind in its session goes too. */
  int32_t sid = t->pid;
  t->pid = 0;
  sweep_session(a, sid);
  if (!t->terminal_seen) {
    char msg[160];
    if (wait_status < 0)
      snprintf(msg, sizeof msg,
               "Executor (adopted after an agent restart) terminated before the task ended");
    else if (WIFEXITED(wait_status))
      snprintf(msg, sizeof msg, "Executor terminated with exit status %d before the task ended",
               WEXITSTATUS(wait_status));
    else
      snprintf(msg, sizeof msg, "Executor terminated by signal %s before the task ended",
               WIFSIGNALED(wait_status) ? strsignal(WTERMSIG(wait_status)) : "?");
    t->terminal_seen = 1;
    t->state = t->killing ? MESOS__V1__TASK_STATE__TASK_KILLED : MESOS__V1__TASK_STATE__TASK_FAILED;
    mesos_error *e = NULL;
    if (t->exit_reason == MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_REREGISTRATION_TIMEOUT)
      snprintf(msg, sizeof msg,
               "Executor did not re-subscribe within %llu ms after the agent restarted",
               (unsigned long long)a->exec_rereg_timeout_ms);
    if (mesos__agent_status_update(a, t->framework_id, t->executor_id, t->task_id,
                                   t->updates_path, t->state,
                                   t->exit_reason > 0
                                       ? t->exit_reason
                                       : MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED,
                                   msg, &e) != MESOS_OK) {
      LOG_ERROR("task %s: cannot generate a status update: %s", t->key,
                e ? mesos_error_message(e) : "");
      mesos_error_free(e);
    }
  }
  mesos__agent_post_exited_executor(t->agent, t->framework_id, t->executor_id,
                                    wait_status < 0 ? 0 : wait_status);
  mesos__agent_task_maybe_done(a, t->key);
}

static mesos_status send_event(mesos__agent_task *t, const Mesos__V1__Executor__Event *ev);

/* One timer, three deadlines: the first subscription
 * (--executor_registration_timeout), the re-subscription of an executor
 * adopted after an agent restart (--executor_reregistration_timeout), and
 * the exit of an executor whose task has ended (EXEC_DONE_WAIT_MS). */
static void reg_timeout_cb(mesos_timer *timer, void *ud) {
  (void)timer;
  mesos__agent_task *t = ud;
  if (t->pid <= 0) return;
  if (t->terminal_seen) {
    Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
    ev.has_type = 1;
    ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__SHUTDOWN;
    LOG_INFO("task %s has ended: shutting its executor down", t->key);
    if (send_event(t, &ev) == MESOS_OK) mesos_timer_start(t->reg_timer, EXEC_DONE_WAIT_MS, 0);
    else mesos__agent_kill_session(t->pid, SIGKILL);
    return;
  }
  if (t->exec_stream) return;
  if (t->recovered) {
    LOG_WARN("task %s: executor did not re-subscribe within %llu ms; killing it", t->key,
             (unsigned long long)t->agent->exec_rereg_timeout_ms);
    t->exit_reason = MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_REREGISTRATION_TIMEOUT;
  } else {
    LOG_WARN("task %s: executor did not subscribe within %llu ms; killing it", t->key,
             (unsigned long long)t->agent->exec_reg_timeout_ms);
  }
  mesos__agent_kill_session(t->pid, SIGKILL);
}

void mesos__agent_executor_await(mesos__agent_task *t) {
  mesos_error *e = NULL;
  if (t->reg_timer == NULL &&
      mesos_timer_new(&t->reg_timer, t->agent->loop, reg_timeout_cb, t, &e) != MESOS_OK) {
    LOG_ERROR("task %s: %s", t->key, e ? mesos_error_message(e) : "cannot create a timer");
    mesos_error_free(e);
    return;
  }
  mesos_timer_start(t->reg_timer, t->agent->exec_rereg_timeout_ms, 0);
}

/* HEARTBEAT on every command executor's stream (spec 3.4: lets
 * intermediaries keep the idle connection open). */
static void heartbeat_cb(mesos_timer *timer, void *ud) {
  (void)timer;
  mesos_agent *a = ud;
  Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
  ev.has_type = 1;
  ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__HEARTBEAT;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__agent_task *t = v;
    if (t->use_executor && t->exec == NULL && t->exec_stream) send_event(t, &ev);
  }
}

mesos_status mesos__agent_executor_api_init(mesos_agent *a, mesos_error **err) {
  if (a->exec_heartbeat_ms == 0) return MESOS_OK;
  mesos_status st = mesos_timer_new(&a->exec_heartbeat, a->loop, heartbeat_cb, a, err);
  if (st == MESOS_OK)
    st = mesos_timer_start(a->exec_heartbeat, a->exec_heartbeat_ms, a->exec_heartbeat_ms);
  return st;
}

void mesos__agent_executor_api_fini(mesos_agent *a) {
  mesos_timer_free(a->exec_heartbeat);
  a->exec_heartbeat = NULL;
  /* Sessions still queued are swept now: nothing outlives the agent's
   * knowledge of them. */
  if (a->nsweep) kill_sessions(a->sweep, a->nsweep, SIGKILL);
  a->nsweep = 0;
  mesos_timer_free(a->sweep_timer);
  a->sweep_timer = NULL;
  mesos__free(a->sweep);
  a->sweep = NULL;
}

/* ------------------------------------------------------------ launch */

static char *kv(const char *k, const char *v) {
  size_t n = strlen(k) + strlen(v) + 2;
  char *s = mesos__malloc(n);
  if (s) snprintf(s, n, "%s=%s", k, v);
  return s;
}

/* A start of mesos-executor in flight on the libuv thread pool.
 *
 * Why off the loop: posix_spawn is clone(CLONE_VM|CLONE_VFORK), so the
 * calling thread sleeps until the child has run its file actions and
 * exec'ed, and the child first has to be given a CPU.  On the loop thread
 * of a busy 2-core machine that was a median of ~19 ms (p90 46 ms, strace
 * -T on clone3 during bench_task_launch at load ~12) per executor, during
 * which the agent answered nothing: no executor call, no status update, no
 * acknowledgement.  A pool thread sleeps instead.  The sandbox's mkdirs go
 * with it (ext4 mkdir is a third of the agent's own CPU per task), since
 * the child's chdir needs them first.  So does the pid file (forked.pid)
 * once the child is there: its own pool job cost one more round trip
 * (wake-ups of a pool thread and of the loop) per task.
 *
 * Everything the job needs is built and copied on the loop; the worker
 * touches only the job.  `t` is cleared when the task goes first
 * (mesos__agent_executor_spawn_orphan); the done callback then ends what
 * was started, as the agent's shutdown does for running executors. */
struct mesos__agent_spawn_job {
  uv_work_t req;
  mesos__agent_task *t; /* NULL: the task went while the job ran */
  char **envp;          /* owned, NULL-terminated */
  char *path, *dir, *out_path, *err_path;
  char *pid_path;       /* forked.pid; NULL: written later, by the loop */
  int pid_nosync_dirs;
  int pid_written;
  int32_t pid;
  mesos_status st;
  mesos_error *err;
};

static void spawn_job_free(mesos__agent_spawn_job *j) {
  for (size_t i = 0; j->envp && j->envp[i]; i++) mesos__free(j->envp[i]);
  mesos__free(j->envp);
  mesos__free(j->path);
  mesos__free(j->dir);
  mesos__free(j->out_path);
  mesos__free(j->err_path);
  mesos__free(j->pid_path);
  mesos_error_free(j->err);
  mesos__free(j);
}

/* On a pool thread (or the loop, without a pool): touches only the job. */
static void spawn_work(uv_work_t *req) {
  mesos__agent_spawn_job *j = req->data;
  char *argv[] = {j->path, NULL};
  /* In a session of its own (see the top of the file), in its sandbox,
   * its output in the sandbox's files: spawn.h, no fork of the agent.  The
   * sandbox is not a checkpoint: no fsync of its directories. */
  j->st = mesos__agent_mkdirs(j->dir, &j->err);
  if (j->st == MESOS_OK) {
    mesos__agent_spawn_opts so = {.path = j->path,
                                  .argv = argv,
                                  .envp = j->envp,
                                  .dir = j->dir,
                                  .stdout_path = j->out_path,
                                  .stderr_path = j->err_path,
                                  .new_session = 1};
    j->st = mesos__agent_spawn(&so, &j->pid, &j->err);
  }
  /* Failing here is not the start's failure: the loop tries again. */
  if (j->st == MESOS_OK && j->pid_path)
    j->pid_written =
        mesos__agent_write_pid_file(j->pid_path, j->pid, j->pid_nosync_dirs, NULL) == MESOS_OK;
}

static void spawn_done(uv_work_t *req, int status) {
  (void)status;
  mesos__agent_spawn_job *j = req->data;
  mesos__agent_task *t = j->t;
  if (t == NULL) {
    /* The task is gone (agent shutdown): nothing watches this executor. */
    if (j->st == MESOS_OK && j->pid > 0) {
      mesos__agent_kill_session(j->pid, SIGKILL);
      waitpid(j->pid, NULL, 0);
    }
    spawn_job_free(j);
    return;
  }
  t->spawn_job = NULL;
  mesos_agent *a = t->agent;
  if (a->nspawning > 0) a->nspawning--;
  if (j->st == MESOS_OK) {
    t->pid = j->pid;
    mesos_timer_start(t->reg_timer, t->agent->exec_reg_timeout_ms, 0);
  }
  mesos_error *e = j->err;
  j->err = NULL;
  mesos_status st = j->st;
  int pid_written = j->pid_written;
  spawn_job_free(j);
  mesos__agent_executor_started(t, st, e, pid_written); /* task_runner.c; takes `e` */
  mesos__agent_launch_more(a);               /* the next queued start */
}

void mesos__agent_executor_spawn_orphan(mesos__agent_task *t) {
  if (t->spawn_job) t->spawn_job->t = NULL;
  t->spawn_job = NULL;
}

mesos_status mesos__agent_executor_launch(mesos__agent_task *t, mesos_error **err) {
  mesos_agent *a = t->agent;
  size_t nenv = 0;
  while (environ && environ[nenv]) nenv++;
  if (nenv > 65536) return mesos__err(err, MESOS_ELIMIT, "the agent's environment is too big");
  mesos__agent_spawn_job *j = MESOS__NEW(mesos__agent_spawn_job);
  if (j == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  char **envp = j->envp = mesos__calloc(nenv + 20, sizeof *envp);
  if (envp == NULL) {
    spawn_job_free(j);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  size_t k = 0;
  mesos_status st = MESOS_OK;
  for (size_t i = 0; i < nenv && st == MESOS_OK; i++) {
    if (strncmp(environ[i], "MESOS_", 6) == 0) continue;
    if ((envp[k++] = mesos__strdup(environ[i])) == NULL) st = MESOS_ENOMEM;
  }
  char endpoint[128], grace[64], recovery[64], backoff[64];
  int checkpoint = mesos__agent_framework_checkpoints(a, t->framework_id);
  uint64_t backoff_ms = a->exec_rereg_timeout_ms / 2;
  if (backoff_ms > EXEC_BACKOFF_MAX_MS) backoff_ms = EXEC_BACKOFF_MAX_MS;
  if (backoff_ms < 100) backoff_ms = 100;
  mesos__format_duration(a->recovery_timeout_ms * MESOS__NS_PER_MS, recovery, sizeof recovery);
  mesos__format_duration(backoff_ms * MESOS__NS_PER_MS, backoff, sizeof backoff);
  mesos__agent_executor_endpoint(a, endpoint, sizeof endpoint);
  mesos__format_duration(a->shutdown_grace_ms * MESOS__NS_PER_MS, grace, sizeof grace);
  const char *vars[][2] = {{"MESOS_FRAMEWORK_ID", t->framework_id},
                           {"MESOS_EXECUTOR_ID", t->executor_id},
                           {"MESOS_AGENT_ENDPOINT", endpoint},
                           {"MESOS_DIRECTORY", t->sandbox},
                           {"MESOS_SANDBOX", t->sandbox},
                           {"MESOS_CHECKPOINT", checkpoint ? "1" : "0"},
                           /* Checkpointing executors outlive the agent
                            * and re-subscribe (lib/executor/executor.c). */
                           {"MESOS_RECOVERY_TIMEOUT", recovery},
                           {"MESOS_SUBSCRIPTION_BACKOFF_MAX", backoff},
                           {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", grace},
                           {"MESOS_HTTP_COMMAND_EXECUTOR", "1"},
                           {"MESOS_AGENT_ID", a->id},
                           {"MESOS_SLAVE_ID", a->id}};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0] && st == MESOS_OK; i++)
    if ((envp[k++] = kv(vars[i][0], vars[i][1])) == NULL) st = MESOS_ENOMEM;
  /* MESOS_EXECUTOR_AUTHENTICATION_TOKEN, with --jwt_secret_key. */
  if (st == MESOS_OK)
    envp[k] = mesos__agent_exec_token_env(a, t->framework_id, t->executor_id, t->container_id);
  if (st != MESOS_OK) {
    spawn_job_free(j);
    return mesos__err(err, st, "out of memory");
  }
  j->path = mesos__strdup(a->executor_path);
  j->dir = mesos__strdup(t->sandbox);
  if (j->path == NULL || j->dir == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st == MESOS_OK) st = mesos__fs_join(&j->out_path, t->sandbox, "stdout", err);
  if (st == MESOS_OK) st = mesos__fs_join(&j->err_path, t->sandbox, "stderr", err);
  if (st == MESOS_OK) j->pid_path = mesos__agent_pid_path(t, &j->pid_nosync_dirs);
  if (st == MESOS_OK && t->reg_timer == NULL)
    st = mesos_timer_new(&t->reg_timer, a->loop, reg_timeout_cb, t, err);
  if (st != MESOS_OK) {
    spawn_job_free(j);
    return st;
  }
  j->t = t;
  j->req.data = j;
  t->spawn_job = j;
  a->nspawning++;
  if (uv_queue_work(mesos__loop_uv(a->loop), &j->req, spawn_work, spawn_done) != 0) {
    /* No thread pool: start it here, reported the same way. */
    spawn_work(&j->req);
    spawn_done(&j->req, 0);
  }
  return MESOS_OK;
}

/* ------------------------------------------------------------ the endpoint */


/* The updates a re-subscribing executor has no ACKNOWLEDGED for (after an
 * agent restart, or a broken connection): each goes to the status update
 * manager, which ignores the ones it has (same uuid).  Returns how many
 * the framework acknowledged already, listed in `acked` (the executor is
 * told at once). */
static size_t resubscribed_updates(mesos_agent *a, mesos__agent_task *t,
                                   const Mesos__V1__Executor__Call__Subscribe *sub,
                                   const Mesos__V1__Executor__Call__Update **acked) {
  size_t nacked = 0;
  for (size_t i = 0; i < sub->n_unacknowledged_updates; i++) {
    const Mesos__V1__Executor__Call__Update *u = sub->unacknowledged_updates[i];
    const Mesos__V1__TaskStatus *s = u ? u->status : NULL;
    int r = s == NULL || s->task_id == NULL || s->task_id->value == NULL ||
                    strcmp(s->task_id->value, t->task_id) != 0
                ? -1
                : mesos__agent_status_resubscribed(a, t, s);
    if (r < 0)
      LOG_WARN("task %s: an invalid unacknowledged update in SUBSCRIBE is ignored", t->key);
    if (r == 1) acked[nacked++] = u;
  }
  return nacked;
}

static void subscribe(mesos_agent *a, mesos__agent_task *t, mesos__http_request *req,
                      mesos__media media, const Mesos__V1__Executor__Call__Subscribe *call) {
  if (media != MESOS__MEDIA_PROTOBUF) {
    /* Our events are written as protobuf; mesos-executor asks for it. */
    mesos__http_respond_text(req, 406, "This agent writes executor events as application/x-protobuf");
    return;
  }
  if (t->exec_stream) mesos__agent_executor_detach(t);
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", MESOS__MEDIA_TYPE_PROTOBUF);
  mesos_status st = mesos__http_stream_start(req, 200, &h);
  mesos__http_headers_free(&h);
  if (st != MESOS_OK) return;
  t->exec_stream = req;
  mesos__http_request_on_abort(req, stream_aborted, t);
  mesos_timer_stop(t->reg_timer);
  size_t nupd = call->n_unacknowledged_updates;
  if (nupd > MESOS__AGENT_MAX_PENDING_UPDATES) nupd = MESOS__AGENT_MAX_PENDING_UPDATES;
  const Mesos__V1__Executor__Call__Update **acked = mesos__calloc(nupd ? nupd : 1, sizeof *acked);
  size_t nacked = acked ? resubscribed_updates(a, t, call, acked) : 0;
  if (t->terminal_seen) mesos_timer_start(t->reg_timer, EXEC_DONE_WAIT_MS, 0);
  /* A task the executor got already (it says so) is not launched twice. */
  int has_task = 0;
  for (size_t i = 0; i < call->n_unacknowledged_tasks; i++) {
    const Mesos__V1__TaskInfo *ti = call->unacknowledged_tasks[i];
    if (ti && ti->task_id && ti->task_id->value && strcmp(ti->task_id->value, t->task_id) == 0)
      has_task = 1;
  }

  Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
  Mesos__V1__Executor__Event__Subscribed sub = MESOS__V1__EXECUTOR__EVENT__SUBSCRIBED__INIT;
  Mesos__V1__ExecutorInfo ei = MESOS__V1__EXECUTOR_INFO__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__ContainerID cid = MESOS__V1__CONTAINER_ID__INIT;
  Mesos__V1__AgentInfo ai = *a->info;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  eid.value = t->executor_id;
  fid.value = t->framework_id;
  cid.value = t->container_id;
  aid.value = a->id;
  ai.id = &aid;
  ei.executor_id = &eid;
  ei.framework_id = &fid;
  ei.command = t->info->command;
  ei.name = (char *)"Command Executor";
  sub.executor_info = &ei;
  sub.framework_info = mesos__map_get(&a->frameworks, t->framework_id);
  sub.agent_info = &ai;
  sub.container_id = &cid;
  ev.has_type = 1;
  ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__SUBSCRIBED;
  ev.subscribed = &sub;
  if (sub.framework_info == NULL || send_event(t, &ev) != MESOS_OK) {
    mesos__free(acked);
    return;
  }
  LOG_INFO("Executor of task %s %s", t->key,
           t->recovered ? "re-subscribed after the agent restarted" : "subscribed");
  t->recovered = 0;
  for (size_t i = 0; i < nacked; i++)
    mesos__agent_executor_acked(a, t->key, &acked[i]->status->uuid);
  mesos__free(acked);
  if (t->state == MESOS__V1__TASK_STATE__TASK_STAGING && !has_task) {
    Mesos__V1__Executor__Event lev = MESOS__V1__EXECUTOR__EVENT__INIT;
    Mesos__V1__Executor__Event__Launch l = MESOS__V1__EXECUTOR__EVENT__LAUNCH__INIT;
    l.task = t->info;
    lev.has_type = 1;
    lev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH;
    lev.launch = &l;
    send_event(t, &lev);
  }
  if (t->killing) mesos__agent_executor_kill(t, a->shutdown_grace_ms, NULL);
}

void mesos__agent_executor_update(mesos_agent *a, mesos__agent_task *t, mesos__http_request *req,
                                  const Mesos__V1__Executor__Call__Update *u) {
  const Mesos__V1__TaskStatus *s = u->status;
  if (s->task_id == NULL || s->task_id->value == NULL || strcmp(s->task_id->value, t->task_id)) {
    mesos__http_respond_text(req, 400, "Failed to validate executor::Call: the update is for a task this executor does not run");
    return;
  }
  if (!s->has_uuid || s->uuid.len != 16) {
    mesos__http_respond_text(req, 400, "Failed to validate executor::Call: 'status.uuid' must be 16 bytes");
    return;
  }
  if (protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, (int)s->state) ==
      NULL) {
    mesos__http_respond_text(req, 400, "Failed to validate executor::Call: 'status.state' is not a task state");
    return;
  }
  if (s->state == MESOS__V1__TASK_STATE__TASK_STAGING) {
    mesos__http_respond_text(req, 400, "Failed to validate executor::Call: an executor cannot send TASK_STAGING");
    return;
  }
  if (t->terminal_seen) {
    mesos__http_respond_text(req, 400, "Failed to validate executor::Call: the task already reached a terminal state");
    return;
  }
  mesos_error *e = NULL;
  mesos_status st = mesos__agent_status_update_uuid(
      a, t->framework_id, t->executor_id, t->task_id, t->updates_path, s->state,
      s->has_reason ? (int)s->reason : -1, s->message, s->uuid.data, &e);
  if (st != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot accept the update: %s", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    mesos__http_respond_text(req, st == MESOS_ELIMIT ? 429 : 503, msg);
    return;
  }
  t->state = s->state;
  if (mesos__agent_state_terminal(s->state) && !t->terminal_seen) {
    t->terminal_seen = 1;
    if (t->exec == NULL && t->reg_timer) mesos_timer_start(t->reg_timer, EXEC_DONE_WAIT_MS, 0);
  }
  mesos__http_respond(req, 202, NULL, "", 0);
}

static void executor_call(mesos_agent *a, mesos__http_request *req,
                          const mesos__jwt_claims *claims);

/* With --authenticate_http_executors the token comes first (401 before
 * any other answer, as Mesos authenticates before it reads a request);
 * its claims are compared with the executor a call names once that is
 * known (403). */
void mesos__agent_executor_api_handler(mesos__http_request *req, void *ud) {
  mesos_agent *a = ud;
  mesos__jwt_claims claims;
  if (!mesos__agent_exec_authenticate(a, req, &claims)) return;
  executor_call(a, req, &claims);
  mesos__jwt_claims_free(&claims);
}

static void executor_call(mesos_agent *a, mesos__http_request *req,
                          const mesos__jwt_claims *claims) {
  ProtobufCMessage *msg =
      mesos__decode_call(req, &mesos__v1__executor__call__descriptor, "executor::Call");
  if (msg == NULL) return;
  const Mesos__V1__Executor__Call *call = (const Mesos__V1__Executor__Call *)msg;
  const char *invalid = NULL;
  if (!call->has_type) invalid = "Expecting 'type' to be present";
  else if (call->type == MESOS__V1__EXECUTOR__CALL__TYPE__SUBSCRIBE && !call->subscribe)
    invalid = "Expecting 'subscribe' to be present";
  else if (call->type == MESOS__V1__EXECUTOR__CALL__TYPE__UPDATE &&
           (!call->update || !call->update->status))
    invalid = "Expecting 'update' to be present";
  else if (call->type == MESOS__V1__EXECUTOR__CALL__TYPE__MESSAGE && !call->message)
    invalid = "Expecting 'message' to be present";
  if (invalid) {
    char text[256];
    snprintf(text, sizeof text, "Failed to validate executor::Call: %s", invalid);
    mesos__http_respond_text(req, 400, text);
    mesos__pb_free(msg);
    return;
  }
  /* An executor acts only as itself: the ids it names must be its
   * token's (the container is compared once the executor is found). */
  if (!mesos__agent_exec_authorized(a, req, claims, call->framework_id->value,
                                    call->executor_id->value, NULL)) {
    mesos__pb_free(msg);
    return;
  }
  if (call->type == MESOS__V1__EXECUTOR__CALL__TYPE__HEARTBEAT) {
    mesos__http_respond(req, 202, NULL, "", 0);
    mesos__pb_free(msg);
    return;
  }
  if (mesos__map_get(&a->frameworks, call->framework_id->value) == NULL) {
    mesos__http_respond_text(req, 400, "Framework cannot be found");
    mesos__pb_free(msg);
    return;
  }
  char key[600];
  snprintf(key, sizeof key, "%s/%s", call->framework_id->value, call->executor_id->value);
  /* Custom and default executors live in executors.c. */
  const char *xcid = mesos__agent_exec_container_id(a, key);
  if (xcid && !mesos__agent_exec_authorized(a, req, claims, NULL, NULL, xcid)) {
    mesos__pb_free(msg);
    return;
  }
  if (mesos__agent_exec_call(a, key, req, call)) {
    mesos__pb_free(msg);
    return;
  }
  mesos__agent_task *t = mesos__map_get(&a->tasks, key);
  if (t == NULL || !t->use_executor || (t->pid <= 0 && t->spawn_job == NULL)) {
    mesos__http_respond_text(req, 400, "Executor cannot be found");
    mesos__pb_free(msg);
    return;
  }
  if (!mesos__agent_exec_authorized(a, req, claims, NULL, NULL, t->container_id)) {
    mesos__pb_free(msg);
    return;
  }
  switch (call->type) {
    case MESOS__V1__EXECUTOR__CALL__TYPE__SUBSCRIBE: {
      mesos__negotiated resp;
      mesos__negotiate_response(mesos__http_request_header(req, "Accept"), NULL, false, &resp);
      if (resp.http_status) mesos__http_respond_text(req, resp.http_status, resp.error);
      else subscribe(a, t, req, resp.message, call->subscribe);
      break;
    }
    case MESOS__V1__EXECUTOR__CALL__TYPE__UPDATE:
      mesos__agent_executor_update(a, t, req, call->update);
      break;
    case MESOS__V1__EXECUTOR__CALL__TYPE__MESSAGE:
      mesos__agent_executor_message_up(a, call);
      mesos__http_respond(req, 202, NULL, "", 0);
      break;
    default:
      mesos__http_respond_text(req, 501, "Unknown call type");
      break;
  }
  mesos__pb_free(msg);
}

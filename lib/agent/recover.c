/*
 * Agent recovery: tasks keep running across agent restarts and upgrades
 * (spec/containerizer.md section 7).
 *
 * What a run of the agent leaves for the next one, per command task under
 * mesos-executor (paths: registry/agent_paths.h):
 *   task.updates   every status update and acknowledgement (status_update.c),
 *                  for every framework;
 *   forked.pid     the executor's pid;
 *   executor.info  ExecutorCheckpoint: pid and its start time in clock
 *                  ticks since boot (field 22 of /proc/<pid>/stat);
 *   task.info      TaskCheckpoint with the TaskInfo;
 * the last two only for frameworks with FrameworkInfo.checkpoint, the only
 * ones Mesos recovers.  mesos-executor does not depend on the agent's
 * process (its own session, no PDEATHSIG, no agent fd): when the agent
 * dies, a checkpointing framework's executor keeps its task running and
 * retries its subscription (MESOS_RECOVERY_TIMEOUT, MESOS_SUBSCRIPTION_
 * BACKOFF_MAX); the others exit.
 *
 * On start-up (--recover=reconnect) each task's stream is replayed: updates
 * the framework did not acknowledge are queued again (same uuid, same
 * order) and the acknowledged uuids are remembered, so an update an
 * executor sends again on re-subscription never reaches the framework
 * twice.  Then, for a task with no terminal update yet:
 *  - checkpointing framework, executor pid alive with the checkpointed
 *    start time (a recycled pid is a stranger: never adopted, never
 *    killed): the task is adopted as it was; the executor must re-subscribe
 *    within --executor_reregistration_timeout or it is killed and the task
 *    reported TASK_FAILED with REASON_EXECUTOR_REREGISTRATION_TIMEOUT.  The
 *    agent is not the executor's parent any more, so it watches the pid
 *    with a pidfd (pidfd_open, readable when the process ends) where the
 *    kernel has it, else polls /proc on a timer.
 *  - checkpointing framework, executor gone: what is left of its session
 *    is killed, the task is TASK_FAILED with REASON_EXECUTOR_TERMINATED.
 *  - framework without checkpointing: the leftovers (if any survived) are
 *    killed, the task is TASK_LOST with REASON_AGENT_RESTARTED, as the
 *    Mesos master reports such tasks.
 * Adopted tasks are in a->tasks, so the REREGISTER call that follows
 * reports them to the master.
 *
 * A damaged checkpoint is an error naming its file; with --strict (the
 * default) start-up stops, with --no-strict the task is reported lost with
 * that message and recovery goes on.
 *
 * --recover=cleanup: every unfinished task's executor is stopped and the
 * task reported TASK_FAILED (REASON_EXECUTOR_TERMINATED): SIGTERM to its
 * session first (the executor kills its tasks with their grace periods),
 * then SIGKILL to whatever is left after --executor_shutdown_grace_period,
 * so a wedged or stopped executor cannot hold the cleanup up; the agent
 * re-registers with its old id only to deliver those updates, and once the
 * framework acknowledged all of them it removes meta/slaves/latest and
 * registers as a new agent (Mesos: "kill all old executors; the next start
 * registers as a new agent").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/pb.h"
#include "loop/loop_int.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "registry/agent_paths.h"
#include "registry/checkpoint.h"

/* Records one task's stream may hold: a handful per task in practice; the
 * bound keeps a damaged or hostile file from exhausting memory. */
#define MAX_STREAM_RECORDS 8192u

/* Polling period of a recovered executor's pid where pidfds are missing. */
#define REAP_POLL_MS 200u

static int terminal(Mesos__V1__TaskState s) {
  return s == MESOS__V1__TASK_STATE__TASK_FINISHED || s == MESOS__V1__TASK_STATE__TASK_FAILED ||
         s == MESOS__V1__TASK_STATE__TASK_KILLED || s == MESOS__V1__TASK_STATE__TASK_LOST ||
         s == MESOS__V1__TASK_STATE__TASK_ERROR || s == MESOS__V1__TASK_STATE__TASK_DROPPED ||
         s == MESOS__V1__TASK_STATE__TASK_GONE ||
         s == MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR;
}

/* ------------------------------------------------------------ processes */

/* Start time of `pid` even when it is a zombie (`*zombie` set), 0 when
 * there is no such process. */
static uint64_t start_time(int32_t pid, int *zombie) {
  *zombie = 0;
  if (pid <= 1) return 0;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *fp = fopen(path, "re");
  if (fp == NULL) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, fp);
  fclose(fp);
  buf[n] = '\0';
  /* The command name (field 2) is in parentheses and may hold anything:
   * the fields after the last ')' start with the state (field 3). */
  char *p = strrchr(buf, ')');
  if (p == NULL) return 0;
  p++;
  char state = 0;
  unsigned long long start = 0;
  for (int field = 3; field <= 22; field++) {
    while (*p == ' ') p++;
    if (*p == '\0') return 0;
    if (field == 3) state = *p;
    if (field == 22) {
      char *end = NULL;
      errno = 0;
      start = strtoull(p, &end, 10);
      if (errno || end == p) return 0;
    }
    while (*p && *p != ' ') p++;
  }
  *zombie = state == 'Z' || state == 'X' || state == 'x';
  return (uint64_t)start;
}

uint64_t mesos__agent_pid_start_time(int32_t pid) {
  int zombie = 0;
  uint64_t t = start_time(pid, &zombie);
  /* A zombie has ended already; only its parent's wait is missing. */
  return zombie ? 0 : t;
}

/* Whether `pid` names another process than the one that started at
 * `start` (ours may linger as a zombie). */
static int pid_is_stranger(int32_t pid, uint64_t start) {
  int zombie = 0;
  uint64_t t = start_time(pid, &zombie);
  return t != 0 && t != start;
}

int mesos__agent_framework_checkpoints(mesos_agent *a, const char *fw) {
  const Mesos__V1__FrameworkInfo *fi = mesos__map_get(&a->frameworks, fw);
  return fi && fi->has_checkpoint && fi->checkpoint;
}

/* ------------------------------------------------------------ checkpoint */

void mesos__agent_checkpoint_task(mesos__agent_task *t) {
  mesos_agent *a = t->agent;
  t->checkpoint = 1;
  mesos__agent_path_ids ids = {a->id, t->framework_id, t->executor_id, t->container_id,
                               t->task_id};
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  eid.value = t->executor_id;
  fid.value = t->framework_id;
  tid.value = t->task_id;
  aid.value = a->id;
  Mesos__V1__Task task = MESOS__V1__TASK__INIT;
  task.name = t->info->name ? t->info->name : (char *)"";
  task.task_id = &tid;
  task.framework_id = &fid;
  task.executor_id = &eid;
  task.agent_id = &aid;
  task.state = MESOS__V1__TASK_STATE__TASK_STAGING;
  task.n_resources = t->info->n_resources;
  task.resources = t->info->resources;
  Mesos__Internal__TaskCheckpoint tc = MESOS__INTERNAL__TASK_CHECKPOINT__INIT;
  tc.task = &task;
  tc.task_info = t->info;
  char *path = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_TASK_INFO, &ids, &e);
  if (st == MESOS_OK) st = mesos__checkpoint_write(path, &tc.base, &e);
  mesos__free(path);
  if (st != MESOS_OK) {
    LOG_WARN("task %s: cannot checkpoint it: %s", t->key,
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
  }
}

void mesos__agent_checkpoint_executor(mesos__agent_task *t) {
  mesos_agent *a = t->agent;
  t->checkpoint = mesos__agent_framework_checkpoints(a, t->framework_id);
  if (!t->checkpoint || t->pid <= 0) return;
  t->pid_start = mesos__agent_pid_start_time(t->pid);
  mesos__agent_path_ids ids = {a->id, t->framework_id, t->executor_id, t->container_id,
                               t->task_id};
  char *path = NULL;
  mesos_error *e = NULL;
  Mesos__V1__ExecutorInfo ei = MESOS__V1__EXECUTOR_INFO__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__ContainerID cid = MESOS__V1__CONTAINER_ID__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  eid.value = t->executor_id;
  fid.value = t->framework_id;
  cid.value = t->container_id;
  tid.value = t->task_id;
  aid.value = a->id;
  ei.executor_id = &eid;
  ei.framework_id = &fid;
  ei.command = t->info->command;
  ei.name = (char *)"Command Executor";
  Mesos__Internal__ExecutorCheckpoint ec = MESOS__INTERNAL__EXECUTOR_CHECKPOINT__INIT;
  ec.info = &ei;
  ec.container_id = &cid;
  ec.has_pid = 1;
  ec.pid = t->pid;
  ec.has_pid_start_time = 1;
  ec.pid_start_time = t->pid_start;
  Mesos__V1__Task task = MESOS__V1__TASK__INIT;
  task.name = t->info->name ? t->info->name : (char *)"";
  task.task_id = &tid;
  task.framework_id = &fid;
  task.executor_id = &eid;
  task.agent_id = &aid;
  task.state = MESOS__V1__TASK_STATE__TASK_STAGING;
  task.n_resources = t->info->n_resources;
  task.resources = t->info->resources;
  Mesos__Internal__TaskCheckpoint tc = MESOS__INTERNAL__TASK_CHECKPOINT__INIT;
  tc.task = &task;
  tc.task_info = t->info;
  /* task.info first: an executor.info without it would be adopted with no
   * TaskInfo. */
  mesos_status st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_TASK_INFO, &ids, &e);
  if (st == MESOS_OK) st = mesos__checkpoint_write(path, &tc.base, &e);
  mesos__free(path);
  path = NULL;
  if (st == MESOS_OK)
    st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_EXECUTOR_INFO, &ids, &e);
  if (st == MESOS_OK) st = mesos__checkpoint_write(path, &ec.base, &e);
  mesos__free(path);
  path = NULL;
  if (st == MESOS_OK)
    st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_LATEST_RUN, &ids, &e);
  if (st == MESOS_OK) st = mesos__checkpoint_symlink(path, t->container_id, &e);
  mesos__free(path);
  if (st != MESOS_OK) {
    /* The task runs; it only will not survive an agent restart. */
    LOG_WARN("task %s: cannot checkpoint its executor: %s", t->key,
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
  }
}

/* ------------------------------------------------------------ reaper */

/* Watches a process the agent did not start (adopted after a restart):
 * a pidfd where the kernel has them, else polling /proc. */
struct mesos__agent_reaper {
  mesos_agent *agent;
  int32_t pid;
  uint64_t start;
  void (*cb)(void *ud);
  void *ud;
  uv_poll_t poll; /* on the pidfd */
  int fd;         /* -1: polling /proc with `timer` */
  int polling;
  mesos_timer *timer;
};

static void reaper_close_cb(uv_handle_t *h) {
  struct mesos__agent_reaper *r = h->data;
  close(r->fd);
  mesos__free(r);
}

void mesos__agent_pidwatch_free(struct mesos__agent_reaper *r) {
  if (r == NULL) return;
  mesos_timer_free(r->timer);
  if (r->polling) {
    uv_poll_stop(&r->poll);
    uv_close((uv_handle_t *)&r->poll, reaper_close_cb);
    return;
  }
  if (r->fd >= 0) close(r->fd);
  mesos__free(r);
}

void mesos__agent_reaper_free(mesos__agent_task *t) {
  struct mesos__agent_reaper *r = t->reaper;
  t->reaper = NULL;
  mesos__agent_pidwatch_free(r);
}

/* The watched process ended: the callback frees the watch (it may free
 * its owner too). */
static void reaped(struct mesos__agent_reaper *r) {
  if (r->polling) uv_poll_stop(&r->poll);
  if (r->timer) mesos_timer_stop(r->timer);
  r->cb(r->ud);
}

static void reaper_poll_cb(uv_poll_t *h, int status, int events) {
  (void)status, (void)events;
  reaped(h->data);
}

static void reaper_timer_cb(mesos_timer *timer, void *ud) {
  (void)timer;
  struct mesos__agent_reaper *r = ud;
  if (mesos__agent_pid_start_time(r->pid) != r->start) reaped(r);
}

mesos_status mesos__agent_pidwatch(mesos_agent *a, int32_t pid, uint64_t start,
                                   void (*cb)(void *ud), void *ud,
                                   struct mesos__agent_reaper **out, mesos_error **err) {
  struct mesos__agent_reaper *r = MESOS__NEW(struct mesos__agent_reaper);
  if (r == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  r->agent = a;
  r->pid = pid;
  r->start = start;
  r->cb = cb;
  r->ud = ud;
  r->fd = -1;
#ifdef SYS_pidfd_open
  r->fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
#endif
  /* The pidfd names the process, not the number: check again that it is
   * ours now that it cannot be recycled under us. */
  if (r->fd >= 0 && mesos__agent_pid_start_time(pid) != start) {
    close(r->fd);
    mesos__free(r);
    return mesos__err(err, MESOS_ENOTFOUND, "the executor (pid %d) ended", (int)pid);
  }
  if (r->fd >= 0 && uv_poll_init(mesos__loop_uv(a->loop), &r->poll, r->fd) == 0) {
    r->poll.data = r;
    r->polling = 1;
    if (uv_poll_start(&r->poll, UV_READABLE, reaper_poll_cb) == 0) {
      *out = r;
      return MESOS_OK;
    }
    mesos__agent_pidwatch_free(r);
    return mesos__err(err, MESOS_EIO, "cannot watch the executor's pidfd");
  }
  if (r->fd >= 0) {
    close(r->fd);
    r->fd = -1;
  }
  mesos_status st = mesos_timer_new(&r->timer, a->loop, reaper_timer_cb, r, err);
  if (st == MESOS_OK) st = mesos_timer_start(r->timer, REAP_POLL_MS, REAP_POLL_MS);
  if (st != MESOS_OK) {
    mesos__agent_pidwatch_free(r);
    return st;
  }
  *out = r;
  return MESOS_OK;
}

/* The recovered command executor ended. */
static void task_reaped(void *ud) {
  mesos__agent_task *t = ud;
  mesos__agent_reaper_free(t);
  LOG_INFO("Recovered executor of task %s (pid %d) ended", t->key, (int)t->pid);
  /* May free the task. */
  mesos__agent_executor_exited(t, -1);
}

static mesos_status reaper_start(mesos__agent_task *t, mesos_error **err) {
  return mesos__agent_pidwatch(t->agent, t->pid, t->pid_start, task_reaped, t, &t->reaper, err);
}

/* ------------------------------------------------------------ replay */

typedef struct replay {
  Mesos__Internal__StatusUpdateRecord **recs;
  size_t n;
} replay;

static mesos_status collect(ProtobufCMessage *msg, void *ud) {
  replay *r = ud;
  if (r->n >= MAX_STREAM_RECORDS) {
    mesos__pb_free(msg);
    return MESOS_ELIMIT;
  }
  Mesos__Internal__StatusUpdateRecord **grown = mesos__realloc(r->recs, (r->n + 1) * sizeof *grown);
  if (grown == NULL) {
    mesos__pb_free(msg);
    return MESOS_ENOMEM;
  }
  r->recs = grown;
  r->recs[r->n++] = (Mesos__Internal__StatusUpdateRecord *)msg;
  return MESOS_OK;
}

/* Kills what is left of the task's process tree, if the checkpointed pid
 * still names a process working in the sandbox (frameworks without
 * executor.info: no start time to compare). */
static void kill_leftovers(mesos_agent *a, const mesos__agent_path_ids *ids) {
  char *pid_path = NULL, *sandbox = NULL;
  uint8_t *bytes = NULL;
  size_t len = 0;
  if (mesos__agent_path(&pid_path, a->work_dir, MESOS__AGENT_PATH_FORKED_PID, ids, NULL) ==
          MESOS_OK &&
      mesos__agent_path(&sandbox, a->work_dir, MESOS__AGENT_PATH_SANDBOX, ids, NULL) == MESOS_OK &&
      mesos__checkpoint_read_bytes(pid_path, 64, &bytes, &len, NULL) == MESOS_OK && len < 32) {
    char text[32], link[64], cwd[4096];
    memcpy(text, bytes, len);
    text[len] = '\0';
    long pid = strtol(text, NULL, 10);
    snprintf(link, sizeof link, "/proc/%ld/cwd", pid);
    ssize_t n = pid > 1 ? readlink(link, cwd, sizeof cwd - 1) : -1;
    if (n > 0) {
      cwd[n] = '\0';
      if (strcmp(cwd, sandbox) == 0) {
        LOG_WARN("killing the leftover processes of pid %ld (%s)", pid, sandbox);
        kill(-(pid_t)pid, SIGKILL);
        mesos__agent_kill_session((int32_t)pid, SIGKILL);
      }
    }
  }
  mesos__free(bytes);
  mesos__free(pid_path);
  mesos__free(sandbox);
}

/* What recovery learned about one task's executor. */
typedef struct exec_state {
  Mesos__Internal__ExecutorCheckpoint *ec; /* NULL: none (or damaged) */
  Mesos__Internal__TaskCheckpoint *tc;
  int alive; /* ec->pid runs with ec->pid_start_time */
} exec_state;

/* Reads executor.info and task.info.  MESOS_ENOTFOUND: the framework does
 * not checkpoint (or the agent died before writing them); another error
 * names the damaged file. */
static mesos_status read_exec_state(mesos_agent *a, const mesos__agent_path_ids *ids,
                                    exec_state *x, mesos_error **err) {
  char *path = NULL;
  ProtobufCMessage *m = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_EXECUTOR_INFO, ids, err);
  if (st != MESOS_OK) return st;
  st = mesos__checkpoint_read(path, &mesos__internal__executor_checkpoint__descriptor, &m, &e);
  if (st == MESOS_OK) {
    x->ec = (Mesos__Internal__ExecutorCheckpoint *)m;
    if (!x->ec->has_pid || x->ec->pid <= 1 || !x->ec->has_pid_start_time)
      st = mesos__err(&e, MESOS_EPROTO, "no executor pid");
  }
  if (st == MESOS_OK) {
    mesos__free(path);
    path = NULL;
    m = NULL;
    st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_TASK_INFO, ids, &e);
    if (st == MESOS_OK)
      st = mesos__checkpoint_read(path, &mesos__internal__task_checkpoint__descriptor, &m, &e);
    if (st == MESOS_OK) {
      x->tc = (Mesos__Internal__TaskCheckpoint *)m;
      const Mesos__V1__TaskInfo *ti = x->tc->task_info;
      if (ti == NULL || ti->task_id == NULL || ti->task_id->value == NULL ||
          strcmp(ti->task_id->value, ids->task_id) != 0)
        st = mesos__err(&e, MESOS_EPROTO, "no TaskInfo for task %s", ids->task_id);
    }
  }
  if (st == MESOS_ENOTFOUND) {
    mesos_error_free(e);
    st = MESOS_ENOTFOUND;
  } else if (st != MESOS_OK) {
    st = mesos__err_wrap(err, st, e, "cannot recover the executor checkpoint %s: %s", path,
                         e ? mesos_error_message(e) : mesos_status_str(st));
  }
  mesos__free(path);
  if (st != MESOS_OK) {
    mesos__pb_free(x->ec);
    mesos__pb_free(x->tc);
    x->ec = NULL;
    x->tc = NULL;
    return st;
  }
  /* executor.info describes the executor's latest run: a task of an older
   * run (a custom executor started again under the same id) had another
   * process, gone since. */
  if (x->ec->container_id == NULL || x->ec->container_id->value == NULL ||
      strcmp(x->ec->container_id->value, ids->container_id) != 0) {
    mesos__pb_free(x->ec);
    mesos__pb_free(x->tc);
    x->ec = NULL;
    x->tc = NULL;
    return MESOS_ENOTFOUND;
  }
  x->alive = mesos__agent_pid_start_time(x->ec->pid) == x->ec->pid_start_time;
  return MESOS_OK;
}

/* Whether `ec` is the checkpoint of a command task's own mesos-executor
 * (else a custom or the default executor, recovered by executors.c). */
static int command_executor(const mesos__agent_path_ids *ids,
                            const Mesos__Internal__ExecutorCheckpoint *ec) {
  const Mesos__V1__ExecutorInfo *ei = ec->info;
  return strcmp(ids->executor_id, ids->task_id) == 0 && ei->name &&
         strcmp(ei->name, "Command Executor") == 0 &&
         !(ei->has_type && ei->type == MESOS__V1__EXECUTOR_INFO__TYPE__DEFAULT);
}

/* Keeps framework `fw`'s checkpointed info in a->frameworks (for the
 * executor API and REREGISTER). */
static mesos_status load_framework(mesos_agent *a, const mesos__agent_path_ids *ids,
                                   mesos_error **err) {
  if (mesos__map_get(&a->frameworks, ids->framework_id)) return MESOS_OK;
  char *path = NULL;
  ProtobufCMessage *m = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_FRAMEWORK_INFO, ids, err);
  if (st != MESOS_OK) return st;
  st = mesos__checkpoint_read(path, &mesos__internal__framework_checkpoint__descriptor, &m, &e);
  if (st == MESOS_OK) {
    Mesos__Internal__FrameworkCheckpoint *fc = (Mesos__Internal__FrameworkCheckpoint *)m;
    if (fc->info->id == NULL || fc->info->id->value == NULL ||
        strcmp(fc->info->id->value, ids->framework_id) != 0) {
      st = mesos__err(&e, MESOS_EPROTO, "the framework id inside does not match");
    } else {
      /* The map owns the FrameworkInfo, cut out of its checkpoint. */
      Mesos__V1__FrameworkInfo *fi = fc->info;
      uint8_t *bytes = NULL;
      size_t len = 0;
      ProtobufCMessage *copy = NULL;
      st = mesos__pb_pack(&fi->base, 0, &bytes, &len, &e);
      if (st == MESOS_OK)
        st = mesos__pb_unpack(&mesos__v1__framework_info__descriptor, bytes, len, 0, 0, &copy, &e);
      mesos__free(bytes);
      if (st == MESOS_OK && (st = mesos__map_put(&a->frameworks, ids->framework_id, copy)) != MESOS_OK)
        mesos__pb_free(copy);
    }
  }
  mesos__pb_free(m);
  if (st != MESOS_OK)
    st = mesos__err_wrap(err, st, e, "cannot recover the framework checkpoint %s: %s", path,
                         e ? mesos_error_message(e) : mesos_status_str(st));
  mesos__free(path);
  return st;
}

static void report(mesos_agent *a, const mesos__agent_path_ids *ids, const char *updates_path,
                   Mesos__V1__TaskState state, int reason, const char *message) {
  mesos_error *e = NULL;
  if (mesos__agent_status_update(a, ids->framework_id, ids->executor_id, ids->task_id,
                                 updates_path, state, reason, message, &e) != MESOS_OK) {
    LOG_ERROR("task %s/%s: cannot generate a status update: %s", ids->framework_id, ids->task_id,
              e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
}

/* Adopts the live executor of a checkpointing framework's task. */
static mesos_status adopt(mesos_agent *a, const mesos__agent_path_ids *ids, exec_state *x,
                          Mesos__V1__TaskState state, mesos_error **err) {
  mesos__agent_task *t = NULL;
  mesos_status st = mesos__agent_task_new(a, ids->framework_id, x->tc->task_info,
                                          ids->executor_id, ids->container_id, &t, err);
  if (st != MESOS_OK) return st;
  t->use_executor = 1;
  t->checkpoint = 1;
  t->recovered = 1;
  t->exit_reason = -1;
  t->state = state;
  t->pid = x->ec->pid;
  t->pid_start = x->ec->pid_start_time;
  st = reaper_start(t, err);
  if (st != MESOS_OK) {
    /* Reported by the caller; the task leaves once that is delivered. */
    char key[600];
    snprintf(key, sizeof key, "%s", t->key);
    t->pid = 0;
    mesos__agent_task_maybe_done(a, key);
    return st;
  }
  LOG_INFO("Recovered task %s: executor pid %d alive, waiting %llu ms for it to re-subscribe",
           t->key, (int)t->pid, (unsigned long long)a->exec_rereg_timeout_ms);
  return MESOS_OK;
}

static void cleanup_stop(mesos_agent *a, int32_t pid, uint64_t start);

static mesos_status recover_task(mesos_agent *a, const mesos__agent_path_ids *ids, int cleanup,
                                 mesos_error **err) {
  char *path = NULL;
  mesos_status st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_TASK_UPDATES, ids, err);
  if (st != MESOS_OK) return st;
  replay r = {NULL, 0};
  mesos_error *e = NULL;
  bool torn = false;
  st = mesos__update_stream_read(path, &mesos__internal__status_update_record__descriptor, collect,
                                 &r, &torn, &e);
  /* --no-strict: a damaged stream is set aside (task.updates.damaged,
   * for a human to look at) and the task is reported lost, its executor
   * killed: nothing it says can be trusted, and a fresh stream carries
   * that report. */
  mesos_error *stream_err = NULL;
  if (st == MESOS_ENOTFOUND) {
    mesos_error_free(e);
    st = MESOS_OK;
  } else if (st != MESOS_OK && st != MESOS_ENOMEM && !mesos__flags_bool(a->flags, "strict")) {
    mesos__err_wrap(&stream_err, st, e, "cannot recover the status updates in %s: %s", path,
                    e ? mesos_error_message(e) : mesos_status_str(st));
    LOG_ERROR("%s (--no-strict: the task is reported lost)", mesos_error_message(stream_err));
    char aside[4200];
    snprintf(aside, sizeof aside, "%s.damaged", path);
    if (rename(path, aside) != 0) LOG_WARN("cannot move %s aside: %s", path, strerror(errno));
    for (size_t i = 0; i < r.n; i++) mesos__pb_free(r.recs[i]);
    r.n = 0;
    st = MESOS_OK;
  } else if (st != MESOS_OK) {
    st = mesos__err_wrap(err, st, e, "cannot recover the status updates in %s: %s", path,
                         e ? mesos_error_message(e) : mesos_status_str(st));
  }
  Mesos__Internal__StatusUpdate **pending = NULL;
  uint8_t (*acked)[16] = NULL;
  size_t head = 0, np = 0, nacked = 0;
  int generated_terminal = 0;
  Mesos__V1__TaskState last = MESOS__V1__TASK_STATE__TASK_STAGING;
  if (st == MESOS_OK) {
    pending = mesos__calloc(r.n ? r.n : 1, sizeof *pending);
    acked = mesos__calloc(r.n ? r.n : 1, sizeof *acked);
    if (pending == NULL || acked == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  /* Acknowledgements arrive in order, each for the oldest pending one. */
  for (size_t i = 0; st == MESOS_OK && i < r.n; i++) {
    Mesos__Internal__StatusUpdateRecord *rec = r.recs[i];
    if (rec->type == MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__UPDATE && rec->update &&
        rec->update->status) {
      pending[np++] = rec->update;
      last = rec->update->status->state;
      generated_terminal |= terminal(last);
    } else if (rec->type == MESOS__INTERNAL__STATUS_UPDATE_RECORD__TYPE__ACK && head < np &&
               rec->has_uuid && rec->uuid.len == pending[head]->uuid.len &&
               memcmp(rec->uuid.data, pending[head]->uuid.data, rec->uuid.len) == 0) {
      if (rec->uuid.len == 16) memcpy(acked[nacked++], rec->uuid.data, 16);
      head++;
    }
  }
  exec_state x = {NULL, NULL, 0};
  mesos_status xst = MESOS_ENOTFOUND;
  mesos_error *xe = NULL;
  if (st == MESOS_OK) {
    mesos_error *fe = NULL;
    mesos_status fst = load_framework(a, ids, &fe);
    if (fst != MESOS_OK && fst != MESOS_ENOTFOUND && fst != MESOS_ENOMEM &&
        mesos__flags_bool(a->flags, "strict")) {
      /* --strict: a damaged framework.info stops start-up like any other
       * damaged checkpoint (Mesos: every recovery error is fatal). */
      st = mesos__err_wrap(err, fst, fe, "%s", fe ? mesos_error_message(fe) : mesos_status_str(fst));
      fe = NULL;
    } else if (fst != MESOS_OK) {
      /* Without its FrameworkInfo the framework counts as not
       * checkpointing: its task is reported, not adopted. */
      LOG_WARN("%s", fe ? mesos_error_message(fe) : "cannot recover a framework");
      mesos_error_free(fe);
    }
  }
  if (st == MESOS_OK && stream_err) {
    xst = mesos_error_code(stream_err);
    xe = stream_err;
    stream_err = NULL;
  } else if (st == MESOS_OK) {
    xst = read_exec_state(a, ids, &x, &xe);
    if (xst != MESOS_OK && xst != MESOS_ENOTFOUND && mesos__flags_bool(a->flags, "strict")) {
      st = mesos__err_wrap(err, xst, xe, "%s", xe ? mesos_error_message(xe) : mesos_status_str(xst));
      xe = NULL;
    }
  }
  /* A live custom or default executor being adopted may send again the
   * terminal update of a task of it that is over (the agent died before
   * ACKNOWLEDGED reached it): the acknowledged uuids are kept for it to be
   * told, as for a running task. */
  int shared_alive = st == MESOS_OK && xst == MESOS_OK && x.alive && !cleanup &&
                     !command_executor(ids, x.ec) &&
                     mesos__agent_framework_checkpoints(a, ids->framework_id);
  if (st == MESOS_OK && (head < np || !generated_terminal || shared_alive)) {
    LOG_INFO("Recovering task %s/%s: %zu unacknowledged status update(s)", ids->framework_id,
             ids->task_id, np - head);
    st = mesos__agent_status_recover(a, ids->framework_id, ids->task_id, path, pending + head,
                                     np - head, (const uint8_t(*)[16])acked, nacked, err);
  }
  if (st == MESOS_OK) {
    int checkpoints = mesos__agent_framework_checkpoints(a, ids->framework_id);
    /* A custom or default executor serves several tasks: it is adopted
     * (once) when alive, even for a task of it that has ended. */
    int shared = xst == MESOS_OK && !command_executor(ids, x.ec);
    int adopt_shared = shared && !cleanup && checkpoints && x.alive;
    if (adopt_shared && generated_terminal) {
      mesos_error *ae = NULL;
      if (mesos__agent_exec_adopt(a, ids->framework_id, x.ec, NULL, last, &ae) != MESOS_OK) {
        LOG_ERROR("executor %s/%s: cannot reattach to it: %s", ids->framework_id,
                  ids->executor_id, ae ? mesos_error_message(ae) : "");
        mesos__agent_kill_session(x.ec->pid, SIGKILL);
      }
      mesos_error_free(ae);
    } else if (adopt_shared) {
      /* Below. */
    } else if (generated_terminal || cleanup || !checkpoints || xst != MESOS_OK || !x.alive) {
      /* Not adopted: nothing of it may keep running. */
      if (x.ec && x.alive && cleanup) {
        cleanup_stop(a, x.ec->pid, x.ec->pid_start_time);
      } else if (x.ec && x.alive) {
        LOG_WARN("killing the executor of task %s/%s (pid %d)", ids->framework_id, ids->task_id,
                 (int)x.ec->pid);
        mesos__agent_kill_session(x.ec->pid, SIGKILL);
      } else if (x.ec && !pid_is_stranger(x.ec->pid, x.ec->pid_start_time)) {
        /* Its session outlives a dead leader, and the kernel does not
         * recycle a pid still naming a session: whatever has that session
         * id is what the executor left.  (A live pid with another start
         * time is a stranger, so the old session is gone.) */
        mesos__agent_kill_session(x.ec->pid, SIGKILL);
      } else if (x.ec == NULL) {
        kill_leftovers(a, ids);
      }
    }
    if (generated_terminal) {
      /* Only the re-queued updates are left to deliver. */
    } else if (cleanup) {
      report(a, ids, path, MESOS__V1__TASK_STATE__TASK_FAILED,
             MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED,
             "The executor was killed: the agent restarted with --recover=cleanup");
    } else if (xst != MESOS_OK && xst != MESOS_ENOTFOUND) {
      char msg[1024];
      snprintf(msg, sizeof msg, "The agent restarted and %s",
               xe ? mesos_error_message(xe) : mesos_status_str(xst));
      LOG_ERROR("%s (--no-strict: the task is reported lost)", msg);
      report(a, ids, path, MESOS__V1__TASK_STATE__TASK_LOST,
             MESOS__V1__TASK_STATUS__REASON__REASON_AGENT_RESTARTED, msg);
    } else if (!checkpoints || xst == MESOS_ENOTFOUND) {
      report(a, ids, path, MESOS__V1__TASK_STATE__TASK_LOST,
             MESOS__V1__TASK_STATUS__REASON__REASON_AGENT_RESTARTED,
             !checkpoints ? "The agent restarted; the tasks of frameworks without checkpointing "
                            "are not recovered"
                          : "The agent restarted; this executor has no recovery checkpoint");
    } else if (!shared && !x.alive && x.tc && mesos__agent_container_ended(a, ids->container_id)) {
      /* A container whose task ended while the agent was down: its init
       * checkpointed the exit status, which is what the framework receives (not
       * "executor terminated"). */
      mesos__agent_container_adopt(a, ids, x.tc->task_info, last, path); /* containers.c */
    } else if (!x.alive) {
      report(a, ids, path, MESOS__V1__TASK_STATE__TASK_FAILED,
             MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED,
             "The executor terminated while the agent was down");
    } else if (!shared && mesos__agent_container_alive(a, ids->container_id)) {
      /* (A custom executor's container is adopted with its executor.) */
      mesos__agent_container_adopt(a, ids, x.tc->task_info, last, path); /* containers.c */
    } else {
      mesos_error *ae = NULL;
      if ((shared ? mesos__agent_exec_adopt(a, ids->framework_id, x.ec, x.tc->task_info, last, &ae)
                  : adopt(a, ids, &x, last, &ae)) != MESOS_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "The agent restarted and cannot reattach to the executor: %s",
                 ae ? mesos_error_message(ae) : "");
        mesos_error_free(ae);
        LOG_ERROR("task %s/%s: %s", ids->framework_id, ids->task_id, msg);
        mesos__agent_kill_session(x.ec->pid, SIGKILL);
        report(a, ids, path, MESOS__V1__TASK_STATE__TASK_FAILED,
               MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED, msg);
      }
    }
  }
  mesos_error_free(xe);
  mesos_error_free(stream_err);
  mesos__pb_free(x.ec);
  mesos__pb_free(x.tc);
  mesos__free(pending);
  mesos__free(acked);
  for (size_t i = 0; i < r.n; i++) mesos__pb_free(r.recs[i]);
  mesos__free(r.recs);
  mesos__free(path);
  return st;
}

/* Lists the ids under `dir` + `sub`; a missing directory is an empty list. */
static mesos_status list(const char *dir, const char *sub, char ***ids, size_t *n,
                         mesos_error **err) {
  size_t len = strlen(dir) + strlen(sub) + 2;
  char *p = mesos__malloc(len);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  snprintf(p, len, "%s/%s", dir, sub);
  mesos_error *e = NULL;
  mesos_status st = mesos__checkpoint_list_ids(p, 0, ids, n, &e);
  if (st == MESOS_ENOTFOUND) {
    *ids = NULL;
    *n = 0;
    st = MESOS_OK;
    mesos_error_free(e);
  } else if (st != MESOS_OK) {
    st = mesos__err_wrap(err, st, e, "%s: %s", p, e ? mesos_error_message(e) : "");
  }
  mesos__free(p);
  return st;
}

/* --recover=cleanup: the executors being stopped (pid = session id, and
 * its start time), SIGKILLed at the deadline. */
struct mesos__agent_cleanup {
  int32_t *pid;
  uint64_t *start;
  size_t n, cap;
  mesos_timer *deadline;
};

static void cleanup_deadline_cb(mesos_timer *timer, void *ud) {
  (void)timer;
  mesos_agent *a = ud;
  struct mesos__agent_cleanup *c = a->cleanup;
  for (size_t i = 0; i < c->n; i++) {
    /* A live pid with another start time is a stranger (ours is gone, and
     * with it, its session: the kernel keeps a pid that names one). */
    if (pid_is_stranger(c->pid[i], c->start[i])) continue;
    if (mesos__agent_pid_start_time(c->pid[i]) == c->start[i])
      LOG_WARN("--recover=cleanup: executor pid %d still there after %llu ms: SIGKILL",
               (int)c->pid[i], (unsigned long long)a->shutdown_grace_ms);
    mesos__agent_kill_session(c->pid[i], SIGKILL);
  }
  c->n = 0;
  mesos__agent_cleanup_check(a);
}

/* Stops the executor `pid` (started at `start`) and everything in its
 * session: SIGTERM now, SIGKILL after the grace period. */
static void cleanup_stop(mesos_agent *a, int32_t pid, uint64_t start) {
  struct mesos__agent_cleanup *c = a->cleanup;
  if (c == NULL) {
    mesos_error *e = NULL;
    if ((c = MESOS__NEW(struct mesos__agent_cleanup)) == NULL ||
        mesos_timer_new(&c->deadline, a->loop, cleanup_deadline_cb, a, &e) != MESOS_OK) {
      LOG_ERROR("--recover=cleanup: %s; killing pid %d at once",
                e ? mesos_error_message(e) : "out of memory", (int)pid);
      mesos_error_free(e);
      mesos__free(c);
      mesos__agent_kill_session(pid, SIGKILL);
      return;
    }
    a->cleanup = c;
  }
  for (size_t i = 0; i < c->n; i++)
    if (c->pid[i] == pid) return; /* a custom executor of several tasks */
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    int32_t *p = mesos__realloc(c->pid, cap * sizeof *p);
    if (p) c->pid = p;
    uint64_t *st = p ? mesos__realloc(c->start, cap * sizeof *st) : NULL;
    if (st) c->start = st;
    if (p == NULL || st == NULL) {
      mesos__agent_kill_session(pid, SIGKILL);
      return;
    }
    c->cap = cap;
  }
  c->pid[c->n] = pid;
  c->start[c->n] = start;
  if (c->n++ == 0) mesos_timer_start(c->deadline, a->shutdown_grace_ms, 0);
  LOG_WARN("--recover=cleanup: stopping executor pid %d (SIGTERM, SIGKILL after %llu ms)",
           (int)pid, (unsigned long long)a->shutdown_grace_ms);
  mesos__agent_kill_session(pid, SIGTERM);
}

void mesos__agent_recover_fini(mesos_agent *a) {
  struct mesos__agent_cleanup *c = a->cleanup;
  if (c == NULL) return;
  a->cleanup = NULL;
  /* Stopping: what has not exited yet is killed now. */
  for (size_t i = 0; i < c->n; i++)
    if (!pid_is_stranger(c->pid[i], c->start[i])) mesos__agent_kill_session(c->pid[i], SIGKILL);
  mesos_timer_free(c->deadline);
  mesos__free(c->pid);
  mesos__free(c->start);
  mesos__free(c);
}

void mesos__agent_cleanup_check(mesos_agent *a) {
  if (!a->cleanup_pending || a->id == NULL || mesos__agent_status_any_pending(a)) return;
  if (a->cleanup && a->cleanup->n > 0) return; /* executors still stopping */
  a->cleanup_pending = 0;
  char *latest = NULL;
  mesos__agent_path_ids ids = {NULL, NULL, NULL, NULL, NULL};
  if (mesos__agent_path(&latest, a->work_dir, MESOS__AGENT_PATH_LATEST_AGENT, &ids, NULL) ==
      MESOS_OK)
    unlink(latest);
  mesos__free(latest);
  LOG_WARN("--recover=cleanup: the tasks of agent %s are reported; registering as a new agent",
           a->id);
  mesos__agent_status_free_all(a);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->frameworks, &it, NULL, &v)) mesos__pb_free(v);
  mesos__map_free(&a->frameworks);
  mesos__map_init(&a->frameworks);
  mesos__free(a->id);
  a->id = NULL;
  /* Drops the old registration (if any) and sends REGISTER. */
  if (a->client) mesos__agent_link_reset(a, "--recover=cleanup finished");
}

void mesos__agent_release_executors(mesos_agent *a) {
  if (strcmp(mesos__flags_get(a->flags, "recover"), "cleanup") == 0) return;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__agent_task *t = v;
    if (!t->use_executor || t->exec || !t->checkpoint || t->pid <= 0) continue;
    LOG_INFO("Leaving the executor of task %s (pid %d) running for the next agent", t->key,
             (int)t->pid);
    /* Not killed, not waited for: from here on only the next agent's
     * recovery knows it. */
    mesos_child_free(t->child);
    t->child = NULL;
    mesos__agent_reaper_free(t);
    t->pid = 0;
  }
  mesos__agent_executors_release(a);
}

mesos_status mesos__agent_recover_updates(mesos_agent *a, mesos_error **err) {
  if (a->id == NULL) return MESOS_OK;
  int cleanup = strcmp(mesos__flags_get(a->flags, "recover"), "cleanup") == 0;
  mesos__agent_path_ids ids = {a->id, NULL, NULL, NULL, NULL};
  char *agent_dir = NULL, **fws = NULL;
  size_t nfw = 0;
  mesos_status st = mesos__agent_path(&agent_dir, a->work_dir, MESOS__AGENT_PATH_AGENT_DIR, &ids, err);
  if (st == MESOS_OK) st = list(agent_dir, "frameworks", &fws, &nfw, err);
  for (size_t f = 0; st == MESOS_OK && f < nfw; f++) {
    ids.framework_id = fws[f];
    char *fw_dir = NULL, **execs = NULL;
    size_t nex = 0;
    st = mesos__agent_path(&fw_dir, a->work_dir, MESOS__AGENT_PATH_FRAMEWORK_DIR, &ids, err);
    if (st == MESOS_OK) st = list(fw_dir, "executors", &execs, &nex, err);
    for (size_t x = 0; st == MESOS_OK && x < nex; x++) {
      ids.executor_id = execs[x];
      char *ex_dir = NULL, **runs = NULL;
      size_t nruns = 0;
      st = mesos__agent_path(&ex_dir, a->work_dir, MESOS__AGENT_PATH_EXECUTOR_DIR, &ids, err);
      if (st == MESOS_OK) st = list(ex_dir, "runs", &runs, &nruns, err);
      for (size_t c = 0; st == MESOS_OK && c < nruns; c++) {
        ids.container_id = runs[c];
        char *run_dir = NULL, **tasks = NULL;
        size_t ntasks = 0;
        st = mesos__agent_path(&run_dir, a->work_dir, MESOS__AGENT_PATH_RUN_DIR, &ids, err);
        if (st == MESOS_OK) st = list(run_dir, "tasks", &tasks, &ntasks, err);
        for (size_t t = 0; st == MESOS_OK && t < ntasks; t++) {
          ids.task_id = tasks[t];
          mesos_error *e = NULL;
          st = recover_task(a, &ids, cleanup, &e);
          if (st != MESOS_OK && st != MESOS_ENOMEM && !mesos__flags_bool(a->flags, "strict")) {
            LOG_WARN("skipping a damaged checkpoint (--no-strict): %s", e ? mesos_error_message(e) : "");
            mesos_error_free(e);
            st = MESOS_OK;
          } else if (st != MESOS_OK) {
            mesos__err_wrap(err, st, e, "%s", e ? mesos_error_message(e) : mesos_status_str(st));
          }
        }
        mesos__checkpoint_free_ids(tasks, ntasks);
        mesos__free(run_dir);
      }
      mesos__checkpoint_free_ids(runs, nruns);
      mesos__free(ex_dir);
    }
    mesos__checkpoint_free_ids(execs, nex);
    mesos__free(fw_dir);
  }
  mesos__checkpoint_free_ids(fws, nfw);
  mesos__free(agent_dir);
  if (st == MESOS_OK && cleanup) mesos__agent_cleanup_check(a);
  if (st == MESOS_OK) {
    /* The adopted executors' time to re-subscribe starts now. */
    size_t it = 0;
    void *v;
    while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
      mesos__agent_task *t = v;
      /* (Tasks of custom and default executors wait with their executor.) */
      if (t->recovered && t->exec == NULL && t->exec_stream == NULL)
        mesos__agent_executor_await(t);
    }
  }
  return st;
}

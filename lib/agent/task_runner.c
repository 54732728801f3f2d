/*
 * Tasks with a CommandInfo.  Normally each runs under its own
 * mesos-executor (executor_api.c starts it; this file keeps the task
 * table, kills and exits).  Without that binary, or with
 * --in_agent_command_runner, the agent forks the command directly (the
 * "in-agent command runner"), with the same visible behaviour:
 *
 *  - the sandbox is slaves/<agent>/frameworks/<fw>/executors/<task>/runs/
 *    <container> under --work_dir, with the command's stdout and stderr
 *    files in it, and the command runs there with MESOS_SANDBOX,
 *    MESOS_DIRECTORY, MESOS_TASK_ID, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID,
 *    MESOS_AGENT_ID set (plus CommandInfo.environment);
 *  - shell commands run as `/bin/sh -c value`, others exec `value` with
 *    `arguments` as argv;
 *  - TASK_STARTING and TASK_RUNNING once forked; TASK_FINISHED on exit 0,
 *    TASK_FAILED with the exit status or signal in the message otherwise;
 *  - kill: SIGTERM to the task's process group, SIGKILL after the kill
 *    policy's grace period (or --executor_shutdown_grace_period), then
 *    TASK_KILLED.
 *
 * Each task is its own process group, so a kill reaches whatever the shell
 * started too.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "agent/agent_int.h"
#include "agent/volumes.h"
#include "agent/spawn.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/uuid.h"
#include "codec/pb.h"
#include "loop/loop_int.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "registry/agent_paths.h"
#include "registry/checkpoint.h"
#include "registry/fsutil.h"
#include "registry/record.h"

extern char **environ;

/* Environment entries a task gets beyond the agent's own: a bound keeps
 * a hostile CommandInfo from making the agent build a huge array. */
#define MAX_TASK_ENV 4096u
/* argv entries of a shell=false command, for the same reason. */
#define MAX_TASK_ARGS 4096u

static void task_free(mesos__agent_task *t) {
  if (t == NULL) return;
  mesos__agent_executor_spawn_orphan(t); /* an executor start in flight */
  if (t->exec) mesos__agent_exec_task_gone(t);
  mesos__agent_executor_detach(t);
  mesos__agent_reaper_free(t); /* recovered executors (recover.c) */
  mesos_child_free(t->child);
  mesos_timer_free(t->kill_timer);
  mesos_timer_free(t->reg_timer);
  mesos__pb_free(t->info);
  mesos__free(t->key);
  mesos__free(t->framework_id);
  mesos__free(t->task_id);
  mesos__free(t->executor_id);
  mesos__free(t->container_id);
  mesos__free(t->sandbox);
  mesos__free(t->updates_path);
  mesos__free(t);
}

void mesos__agent_task_update(mesos__agent_task *t, Mesos__V1__TaskState state, int reason,
                             const char *message) {
  mesos_error *e = NULL;
  t->state = state;
  if (mesos__agent_status_update(t->agent, t->framework_id, t->executor_id, t->task_id,
                                 t->updates_path, state, reason, message, &e) != MESOS_OK) {
    LOG_ERROR("task %s: cannot generate a status update: %s", t->key,
              e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
}

/* A task the agent refuses before it has a sandbox: one terminal update,
 * not checkpointed (there is nowhere safe to put it). */
void mesos__agent_task_refuse(mesos_agent *a, const char *fw, const char *task,
                             Mesos__V1__TaskState state, int reason, const char *message) {
  mesos_error *e = NULL;
  if (mesos__agent_status_update(a, fw, NULL, task, NULL, state, reason, message, &e) != MESOS_OK) {
    LOG_ERROR("task %s/%s: cannot generate a status update: %s", fw, task,
              e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
}

static void child_exited(mesos_child *child, int32_t pid, int wait_status, void *ud) {
  (void)pid;
  mesos__agent_task *t = ud;
  mesos_child_free(child);
  t->child = NULL;
  mesos_timer_stop(t->kill_timer);
  if (t->use_executor) {
    mesos__agent_executor_exited(t, wait_status);
    return;
  }
  t->pid = 0;
  char msg[128];
  if (WIFEXITED(wait_status))
    snprintf(msg, sizeof msg, "Command exited with status %d", WEXITSTATUS(wait_status));
  else if (WIFSIGNALED(wait_status))
    snprintf(msg, sizeof msg, "Command terminated with signal %s",
             strsignal(WTERMSIG(wait_status)));
  else
    snprintf(msg, sizeof msg, "Command ended with wait status %d", wait_status);
  if (t->killing)
    mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_KILLED, -1, msg);
  else if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0)
    mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_FINISHED, -1, msg);
  else
    mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_FAILED, -1, msg);
  mesos__agent_task_maybe_done(t->agent, t->key);
}

static void kill_timer_cb(mesos_timer *timer, void *ud) {
  (void)timer;
  mesos__agent_task *t = ud;
  if (t->pid > 0) {
    LOG_INFO("task %s: grace period over, sending SIGKILL", t->key);
    if (t->use_executor) mesos__agent_kill_session(t->pid, SIGKILL);
    else kill(-t->pid, SIGKILL);
  }
}

void mesos__agent_task_maybe_done(mesos_agent *a, const char *key) {
  mesos__agent_task *t = mesos__map_get(&a->tasks, key);
  if (t == NULL || t->pid > 0 || t->spawn_job || mesos__agent_status_pending(a, key)) return;
  mesos__agent_operator_task_done(a, t);
  mesos__map_remove(&a->tasks, key);
  task_free(t);
}

/* The strings execve needs, built before fork(): the child may only call
 * async-signal-safe functions. */
typedef struct launch_plan {
  char **argv;
  char **envp;
  char *stdout_path, *stderr_path;
} launch_plan;

static void plan_free(launch_plan *p) {
  for (size_t i = 0; p->argv && p->argv[i]; i++) mesos__free(p->argv[i]);
  for (size_t i = 0; p->envp && p->envp[i]; i++) mesos__free(p->envp[i]);
  mesos__free(p->argv);
  mesos__free(p->envp);
  mesos__free(p->stdout_path);
  mesos__free(p->stderr_path);
}

static char *kv(const char *k, const char *v) {
  size_t n = strlen(k) + strlen(v) + 2;
  char *s = mesos__malloc(n);
  if (s) snprintf(s, n, "%s=%s", k, v);
  return s;
}

static mesos_status plan_build(mesos__agent_task *t, launch_plan *p, mesos_error **err) {
  const Mesos__V1__CommandInfo *cmd = t->info->command;
  int shell = !cmd->has_shell || cmd->shell;
  size_t nargs = shell ? 3 : cmd->n_arguments;
  if (nargs > MAX_TASK_ARGS) return mesos__err(err, MESOS_ELIMIT, "more than %u arguments", MAX_TASK_ARGS);
  size_t nenv = 0;
  while (environ && environ[nenv]) nenv++;
  size_t ncmdenv = cmd->environment ? cmd->environment->n_variables : 0;
  if (ncmdenv > MAX_TASK_ENV || nenv > MAX_TASK_ENV * 16)
    return mesos__err(err, MESOS_ELIMIT, "too many environment variables");
  p->argv = mesos__calloc(nargs + 2, sizeof *p->argv);
  p->envp = mesos__calloc(nenv + ncmdenv + 8, sizeof *p->envp);
  if (p->argv == NULL || p->envp == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (shell) {
    p->argv[0] = mesos__strdup("sh");
    p->argv[1] = mesos__strdup("-c");
    p->argv[2] = mesos__strdup(cmd->value);
  } else if (cmd->n_arguments == 0) {
    p->argv[0] = mesos__strdup(cmd->value);
  } else {
    for (size_t i = 0; i < cmd->n_arguments; i++) p->argv[i] = mesos__strdup(cmd->arguments[i]);
  }
  for (size_t i = 0; i < (shell ? 3 : (cmd->n_arguments ? cmd->n_arguments : 1)); i++)
    if (p->argv[i] == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t k = 0;
  /* The agent's environment minus the MESOS_ variables of the agent's own
   * configuration, which must not leak into tasks. */
  for (size_t i = 0; i < nenv; i++) {
    if (strncmp(environ[i], "MESOS_", 6) == 0) continue;
    if ((p->envp[k++] = mesos__strdup(environ[i])) == NULL)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  const char *vars[][2] = {{"MESOS_SANDBOX", t->sandbox},         {"MESOS_DIRECTORY", t->sandbox},
                           {"MESOS_TASK_ID", t->task_id},         {"MESOS_FRAMEWORK_ID", t->framework_id},
                           {"MESOS_EXECUTOR_ID", t->executor_id}, {"MESOS_AGENT_ID", t->agent->id}};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if ((p->envp[k++] = kv(vars[i][0], vars[i][1] ? vars[i][1] : "")) == NULL)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
  for (size_t i = 0; i < ncmdenv; i++) {
    const Mesos__V1__Environment__Variable *v = cmd->environment->variables[i];
    if (v->name == NULL || *v->name == '\0' || strchr(v->name, '=')) continue;
    if ((p->envp[k++] = kv(v->name, v->value ? v->value : "")) == NULL)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  mesos_status st = mesos__fs_join(&p->stdout_path, t->sandbox, "stdout", err);
  if (st == MESOS_OK) st = mesos__fs_join(&p->stderr_path, t->sandbox, "stderr", err);
  return st;
}

/* A checkpoint written on the libuv thread pool (see agent_int.h). */
typedef struct async_cp {
  uv_work_t req;
  char *path;
  size_t len;
  int pid_file; /* write_pid_file, not mesos__checkpoint_write_bytes */
  int nosync_dirs; /* pid file of a framework without checkpointing */
  mesos_status st;
  mesos_error *err;
  char data[];
} async_cp;

/* forked.pid in the checkpoint format, but with no fsync of the file or
 * of its directory after the rename.  Why that is enough: the file names
 * a process, and processes do not survive what an fsync protects against
 * (a crash of the host); when only the agent dies the page cache keeps the
 * file.  The directories it has to make are still made durably
 * (mesos__fs_mkdirs), because the task's update stream lives under the
 * same runs/<container>/ and counts on them, except for a framework
 * without checkpointing (`nosync_dirs`), whose stream makes them without
 * fsyncs too (status_update.c).  Saves two of a launch's fsyncs. */
static mesos_status write_pid_file(const char *path, const void *data, size_t len,
                                   int nosync_dirs, mesos_error **err) {
  char *dir = NULL, *tmp = NULL;
  mesos_status st = mesos__fs_dirname(&dir, path, err);
  if (st == MESOS_OK)
    st = nosync_dirs ? mesos__agent_mkdirs_nosync(dir, err) : mesos__fs_mkdirs(dir, 0700, err);
  size_t n = strlen(path);
  if (st == MESOS_OK && (tmp = mesos__malloc(n + sizeof ".tmp")) == NULL)
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  int fd = -1;
  if (st == MESOS_OK) {
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", sizeof ".tmp");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) st = mesos__err_errno(err, MESOS_EIO, errno, tmp);
  }
  if (st == MESOS_OK) {
    uint64_t end = 0;
    bool poisoned = false;
    st = mesos__record_append(fd, &end, MESOS__RECORD_CHECKPOINT, data, len, 0, false, &poisoned,
                              tmp, err);
  }
  if (fd >= 0) close(fd);
  if (st == MESOS_OK && rename(tmp, path) != 0) st = mesos__err_errno(err, MESOS_EIO, errno, path);
  if (st != MESOS_OK && tmp) unlink(tmp);
  mesos__free(tmp);
  mesos__free(dir);
  return st;
}

static void async_cp_work(uv_work_t *req) {
  async_cp *c = req->data;
  c->st = c->pid_file ? write_pid_file(c->path, c->data, c->len, c->nosync_dirs, &c->err)
                      : mesos__checkpoint_write_bytes(c->path, c->data, c->len, &c->err);
}

static void async_cp_done(uv_work_t *req, int status) {
  (void)status;
  async_cp *c = req->data;
  if (c->st != MESOS_OK)
    LOG_WARN("cannot checkpoint %s: %s", c->path,
             c->err ? mesos_error_message(c->err) : mesos_status_str(c->st));
  mesos_error_free(c->err);
  mesos__free(c->path);
  mesos__free(c);
}

static void checkpoint_async(mesos_agent *a, const char *path, const void *data, size_t len,
                             int pid_file, int nosync_dirs) {
  size_t total;
  async_cp *c = mesos__size_add(&total, sizeof *c, len) ? mesos__calloc(1, total) : NULL;
  if (c == NULL || (c->path = mesos__strdup(path)) == NULL) {
    mesos__free(c);
    LOG_WARN("cannot checkpoint %s: out of memory", path);
    return;
  }
  c->req.data = c;
  c->len = len;
  c->pid_file = pid_file;
  c->nosync_dirs = nosync_dirs;
  memcpy(c->data, data, len);
  if (uv_queue_work(mesos__loop_uv(a->loop), &c->req, async_cp_work, async_cp_done) != 0) {
    async_cp_work(&c->req);
    async_cp_done(&c->req, 0);
  }
}

void mesos__agent_checkpoint_async(mesos_agent *a, const char *path, const void *data,
                                   size_t len) {
  checkpoint_async(a, path, data, len, 0, 0);
}

/* Directories made (or found) last, by any thread: where the next mkdir -p
 * can start.  Shared, not per thread: a task's sandbox, its status update
 * stream (meta/.../tasks/<task>) and its pid file (meta/.../pids) are made
 * by different pool threads, and the pid directory sits next to the
 * stream's.  Eight, for tasks of several frameworks at once. */
#define MKDIRS_HINTS 8
#define MKDIRS_HINT_MAX 512
static char mkdirs_hint[MKDIRS_HINTS][MKDIRS_HINT_MAX];
static unsigned mkdirs_hint_next;
static pthread_mutex_t mkdirs_hint_mu = PTHREAD_MUTEX_INITIALIZER;

/* Length of the longest prefix of `path` that is a whole directory of
 * `hint` and a proper one of `path` (path[len] is a '/'); 0 when none. */
static size_t hint_prefix(const char *path, const char *hint) {
  size_t i = 0;
  while (path[i] && path[i] == hint[i]) i++;
  /* path[0..i) == hint[0..i) */
  if (i > 0 && path[i] == '/' && hint[i] == '\0') return i;
  for (size_t k = i; k-- > 1;)
    if (path[k] == '/') return k; /* < i: hint[k] is that '/' too */
  return 0;
}

static void hint_remember(const char *path, size_t n) {
  if (n >= MKDIRS_HINT_MAX) return;
  pthread_mutex_lock(&mkdirs_hint_mu);
  int known = 0;
  for (unsigned k = 0; k < MKDIRS_HINTS && !known; k++) known = strcmp(mkdirs_hint[k], path) == 0;
  if (!known) {
    memcpy(mkdirs_hint[mkdirs_hint_next], path, n + 1);
    mkdirs_hint_next = (mkdirs_hint_next + 1) % MKDIRS_HINTS;
  }
  pthread_mutex_unlock(&mkdirs_hint_mu);
}

/* mkdirs `buf` (the whole of `path`, n bytes) forwards from buf[0..from),
 * a directory that exists.  `stale`: set when the first mkdir says that
 * directory does not exist (any more), leaving the caller to start over. */
static mesos_status mkdirs_forward(char *buf, const char *path, size_t n, size_t from,
                                   mode_t mode, int *stale, mesos_error **err) {
  int first = 1;
  memcpy(buf, path, n + 1);
  for (size_t i = from + 1; i <= n; i++) {
    if ((buf[i] != '/' && buf[i] != '\0') || buf[i - 1] == '/') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, mode) != 0 && errno != EEXIST) {
      if (first && errno == ENOENT && stale) {
        *stale = 1;
        return MESOS_OK;
      }
      return mesos__err_errno(err, MESOS_EIO, errno, buf);
    }
    first = 0;
    buf[i] = saved;
  }
  return MESOS_OK;
}

mesos_status mesos__agent_mkdirs_mode(const char *path, mode_t mode, mesos_error **err) {
  size_t n = strlen(path);
  if (n == 0 || n >= 4096) return mesos__err(err, MESOS_EINVAL, "bad directory path");
  char buf[4096];
  /* Why the hints: a sandbox is executors/<id>/runs/<container> under a
   * framework directory that exists, and its status update stream
   * meta/.../tasks/<task> likewise.  Starting from the deepest directory a
   * previous call made, this is one mkdir per new directory (3 for a
   * sandbox, 5 for a stream, 1 for the pid directory); walking back from
   * the whole path first cost 2, 4 and 3 failed ones more per task.  A hint
   * whose directory went away meanwhile (garbage collection) only costs
   * one failed mkdir, then the walk below. */
  size_t from = 0;
  pthread_mutex_lock(&mkdirs_hint_mu);
  for (unsigned k = 0; k < MKDIRS_HINTS; k++) {
    size_t p = hint_prefix(path, mkdirs_hint[k]);
    if (p > from) from = p;
  }
  pthread_mutex_unlock(&mkdirs_hint_mu);
  if (from > 0) {
    int stale = 0;
    mesos_status st = mkdirs_forward(buf, path, n, from, mode, &stale, err);
    if (st != MESOS_OK || !stale) {
      if (st == MESOS_OK) hint_remember(path, n);
      return st;
    }
  }
  /* Backwards from the whole path to the deepest directory that exists,
   * then forwards. */
  memcpy(buf, path, n + 1);
  size_t end = n;
  for (;;) {
    buf[end] = '\0';
    if (mkdir(buf, mode) == 0 || errno == EEXIST) break;
    if (errno != ENOENT) return mesos__err_errno(err, MESOS_EIO, errno, buf);
    while (end > 0 && buf[end - 1] != '/') end--;
    while (end > 0 && buf[end - 1] == '/') end--;
    if (end == 0) return mesos__err_errno(err, MESOS_EIO, ENOENT, path);
  }
  mesos_status st = mkdirs_forward(buf, path, n, end, mode, NULL, err);
  if (st == MESOS_OK) hint_remember(path, n);
  return st;
}

mesos_status mesos__agent_mkdirs(const char *path, mesos_error **err) {
  return mesos__agent_mkdirs_mode(path, 0755, err);
}

/* forked.pid: lets a restarted agent find what this run left behind.
 * Written off the loop thread (its new directories take fsyncs) and
 * without fsyncs of its own (write_pid_file).  A crash before it is
 * written leaves an executor recovery cannot name; it still ends when it
 * loses the agent (the executor client gives up). */
char *mesos__agent_pid_path(mesos__agent_task *t, int *nosync_dirs) {
  mesos_agent *a = t->agent;
  mesos__agent_path_ids ids = {a->id, t->framework_id, t->executor_id, t->container_id, t->task_id};
  char *path = NULL;
  mesos_error *e = NULL;
  if (mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_FORKED_PID, &ids, &e) != MESOS_OK) {
    LOG_WARN("task %s: cannot checkpoint its pid: %s", t->key, e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    return NULL;
  }
  *nosync_dirs = mesos__map_get(&a->frameworks, t->framework_id) != NULL &&
                 !mesos__agent_framework_checkpoints(a, t->framework_id);
  return path;
}

mesos_status mesos__agent_write_pid_file(const char *path, int32_t pid, int nosync_dirs,
                                         mesos_error **err) {
  char text[32];
  int n = snprintf(text, sizeof text, "%d", (int)pid);
  return write_pid_file(path, text, (size_t)n, nosync_dirs, err);
}

static void checkpoint_pid(mesos__agent_task *t) {
  int nosync_dirs = 0;
  char *path = mesos__agent_pid_path(t, &nosync_dirs), text[32];
  int n = snprintf(text, sizeof text, "%d", (int)t->pid);
  if (path) checkpoint_async(t->agent, path, text, (size_t)n, 1, nosync_dirs);
  mesos__free(path);
}

static void launch_failed(mesos__agent_task *t, mesos_status st, mesos_error *e);

/* The in-agent command runner's start (commands under mesos-executor
 * start in executor_api.c, off the loop). */
static mesos_status launch(mesos__agent_task *t, mesos_error **err) {
  /* The sandbox is not a checkpoint: no fsync of its directories. */
  mesos_status st = mesos__agent_mkdirs(t->sandbox, err);
  if (st != MESOS_OK) return st;
  launch_plan plan;
  memset(&plan, 0, sizeof plan);
  st = plan_build(t, &plan, err);
  if (st != MESOS_OK) {
    plan_free(&plan);
    return st;
  }
  const Mesos__V1__CommandInfo *cmd = t->info->command;
  int shell = !cmd->has_shell || cmd->shell;
  /* Its own process group, so a kill reaches whatever the shell started
   * (spawn.h: no fork of the agent). */
  int32_t pid = -1;
  mesos__agent_spawn_opts so = {.path = shell ? "/bin/sh" : plan.argv[0],
                                .search = !shell,
                                .argv = plan.argv,
                                .envp = plan.envp,
                                .dir = t->sandbox,
                                .stdout_path = plan.stdout_path,
                                .stderr_path = plan.stderr_path,
                                .new_session = 0};
  st = mesos__agent_spawn(&so, &pid, err);
  plan_free(&plan);
  if (st != MESOS_OK) return st;
  t->pid = pid;
  st = mesos_child_new(&t->child, t->agent->loop, pid, child_exited, t, err);
  if (st != MESOS_OK) {
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    t->pid = 0;
    return st;
  }
  checkpoint_pid(t);
  return MESOS_OK;
}

static char *dup_id(const char *s) { return s ? mesos__strdup(s) : NULL; }

/* Keeps the framework's info (for REREGISTER) and checkpoints it. */
void mesos__agent_remember_framework(mesos_agent *a, const Mesos__V1__FrameworkInfo *fi) {
  const char *id = fi->id->value;
  if (mesos__map_get(&a->frameworks, id)) return;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  if (mesos__pb_pack(&fi->base, 0, &bytes, &len, NULL) == MESOS_OK &&
      mesos__pb_unpack(&mesos__v1__framework_info__descriptor, bytes, len, 0, 0, &copy, NULL) ==
          MESOS_OK &&
      mesos__map_put(&a->frameworks, id, copy) == MESOS_OK) {
    copy = NULL;
    char *path = NULL;
    mesos__agent_path_ids ids = {a->id, id, NULL, NULL, NULL};
    mesos_error *e = NULL;
    Mesos__Internal__FrameworkCheckpoint cp = MESOS__INTERNAL__FRAMEWORK_CHECKPOINT__INIT;
    cp.info = (Mesos__V1__FrameworkInfo *)fi;
    if (mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_FRAMEWORK_INFO, &ids, &e) !=
            MESOS_OK ||
        mesos__checkpoint_write(path, &cp.base, &e) != MESOS_OK) {
      LOG_WARN("framework %s: cannot checkpoint its info: %s", id, e ? mesos_error_message(e) : "");
      mesos_error_free(e);
    }
    mesos__free(path);
  }
  mesos__pb_free(copy);
  mesos__free(bytes);
}

static void launch_now(mesos__agent_task *t);
static void launch_next(mesos_timer *timer, void *ud);

mesos_status mesos__agent_task_new(mesos_agent *a, const char *fw, const Mesos__V1__TaskInfo *ti,
                                   const char *executor_id, const char *container_id,
                                   mesos__agent_task **out, mesos_error **err) {
  const char *tid = ti->task_id->value;
  char key[600];
  snprintf(key, sizeof key, "%s/%s", fw, tid);
  mesos__agent_task *t = MESOS__NEW(mesos__agent_task);
  char container[MESOS__UUID_STR_LEN + 1];
  mesos_status st = t ? MESOS_OK : MESOS_ENOMEM;
  if (st == MESOS_OK && container_id == NULL) {
    st = mesos__uuid_random_str(container);
    container_id = container;
  }
  if (executor_id == NULL) executor_id = tid; /* command tasks: as Mesos does */
  if (st == MESOS_OK) {
    t->agent = a;
    t->state = MESOS__V1__TASK_STATE__TASK_STAGING;
    t->key = dup_id(key);
    t->framework_id = dup_id(fw);
    t->task_id = dup_id(tid);
    t->executor_id = dup_id(executor_id);
    t->container_id = dup_id(container_id);
    if (!t->key || !t->framework_id || !t->task_id || !t->executor_id || !t->container_id)
      st = MESOS_ENOMEM;
  }
  if (st != MESOS_OK) {
    task_free(t);
    return mesos__err(err, st, "out of memory");
  }
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  st = mesos__pb_pack(&ti->base, 0, &bytes, &len, err);
  if (st == MESOS_OK)
    st = mesos__pb_unpack(&mesos__v1__task_info__descriptor, bytes, len, 0, 0, &copy, err);
  mesos__free(bytes);
  t->info = (Mesos__V1__TaskInfo *)copy;
  mesos__agent_path_ids ids = {a->id, fw, executor_id, container_id, tid};
  if (st == MESOS_OK)
    st = mesos__agent_path(&t->sandbox, a->work_dir, MESOS__AGENT_PATH_SANDBOX, &ids, err);
  if (st == MESOS_OK)
    st = mesos__agent_path(&t->updates_path, a->work_dir, MESOS__AGENT_PATH_TASK_UPDATES, &ids,
                           err);
  if (st == MESOS_OK) st = mesos_timer_new(&t->kill_timer, a->loop, kill_timer_cb, t, err);
  if (st == MESOS_OK) st = mesos__map_put(&a->tasks, key, t);
  if (st != MESOS_OK) {
    task_free(t);
    return st;
  }
  *out = t;
  return MESOS_OK;
}

void mesos__agent_run_task(mesos_agent *a, const Mesos__Internal__RunTask *rt) {
  const Mesos__V1__TaskInfo *ti = rt->task;
  const char *fw = rt->framework->id ? rt->framework->id->value : NULL;
  const char *tid = ti->task_id ? ti->task_id->value : NULL;
  if (fw == NULL || tid == NULL || a->id == NULL) {
    LOG_WARN("RUN_TASK without framework or task id dropped");
    return;
  }
  mesos_error *e = NULL;
  if (mesos__agent_path_check_id("framework id", fw, &e) != MESOS_OK ||
      mesos__agent_path_check_id("task id", tid, &e) != MESOS_OK) {
    LOG_WARN("RUN_TASK refused: %s", mesos_error_message(e));
    mesos_error_free(e);
    return;
  }
  char key[600];
  snprintf(key, sizeof key, "%s/%s", fw, tid);
  if (mesos__map_get(&a->tasks, key) || mesos__agent_status_pending(a, key)) {
    LOG_WARN("task %s is already known; duplicate RUN_TASK ignored", key);
    return;
  }
  if (ti->executor) {
    mesos__agent_run_custom(a, rt);
    return;
  }
  /* With an image the command may leave the program to the image's
   * Entrypoint/Cmd (containers.c). */
  if (ti->command == NULL ||
      (ti->command->value == NULL &&
       !(ti->container && ti->container->mesos && ti->container->mesos->image))) {
    mesos__agent_task_refuse(a, fw, tid, MESOS__V1__TASK_STATE__TASK_ERROR,
                             MESOS__V1__TASK_STATUS__REASON__REASON_TASK_INVALID,
                             "Task has no command");
    return;
  }
  if (mesos__map_count(&a->tasks) >= MESOS__AGENT_MAX_TASKS) {
    mesos__agent_task_refuse(a, fw, tid, MESOS__V1__TASK_STATE__TASK_FAILED,
                             MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED,
                             "Too many tasks on this agent");
    return;
  }
  const char *no_container = NULL;
  int contained = mesos__agent_container_wanted(a, ti, &no_container); /* containers.c */
  if (no_container) {
    mesos__agent_task_refuse(a, fw, tid, MESOS__V1__TASK_STATE__TASK_FAILED,
                             MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED,
                             no_container);
    return;
  }
  mesos__agent_remember_framework(a, rt->framework);

  mesos__agent_task *t = NULL;
  mesos_status st = mesos__agent_task_new(a, fw, ti, NULL, NULL, &t, &e);
  if (st != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot start the task: %s",
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    mesos__agent_task_refuse(a, fw, tid, MESOS__V1__TASK_STATE__TASK_FAILED,
                             MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, msg);
    return;
  }
  if (contained) {
    mesos__agent_container_launch(t);
    return;
  }
  t->use_executor = a->executor_path != NULL;
  /* Its update stream is created while the task starts (status_update.c). */
  mesos__agent_status_prepare(a, fw, tid, t->updates_path);
  if (t->use_executor) {
    /* One executor start per loop turn (launch_next): a RUN_TASK of a
     * hundred tasks would otherwise keep the loop from answering anything
     * else, executors' calls included, for a hundred fork+execs. */
    char **grown = mesos__realloc(a->launch_q, (a->launch_qn + 1) * sizeof *grown);
    char *k = mesos__strdup(key);
    if (grown) a->launch_q = grown;
    if (grown && k && (a->launch_timer || mesos_timer_new(&a->launch_timer, a->loop,
                                                          launch_next, a, NULL) == MESOS_OK)) {
      a->launch_q[a->launch_qn++] = k;
      t->queued = 1;
      mesos_timer_start(a->launch_timer, 0, 0);
      return;
    }
    mesos__free(k); /* out of memory: launch it now */
  }
  launch_now(t);
}

/* A start that failed: TASK_FAILED (takes `e`); `t` may be gone after. */
static void launch_failed(mesos__agent_task *t, mesos_status st, mesos_error *e) {
  char key[600], msg[512];
  snprintf(key, sizeof key, "%s", t->key);
  snprintf(msg, sizeof msg, "Cannot launch the command: %s",
           e ? mesos_error_message(e) : mesos_status_str(st));
  mesos_error_free(e);
  mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_FAILED,
                           MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, msg);
  mesos__agent_task_maybe_done(t->agent, key);
}

void mesos__agent_executor_started(mesos__agent_task *t, mesos_status st, mesos_error *e,
                                   int pid_written) {
  if (st == MESOS_OK) st = mesos_child_new(&t->child, t->agent->loop, t->pid, child_exited, t, &e);
  if (st != MESOS_OK) {
    if (t->pid > 0) {
      mesos__agent_kill_session(t->pid, SIGKILL);
      waitpid(t->pid, NULL, 0);
      t->pid = 0;
    }
    mesos_timer_stop(t->reg_timer);
    launch_failed(t, st, e);
    return;
  }
  if (!pid_written) checkpoint_pid(t);
  mesos__agent_checkpoint_executor(t); /* recover.c */
  LOG_INFO("Task %s: mesos-executor started (pid %d) in %s", t->key, (int)t->pid, t->sandbox);
  /* Killed while it was starting, before it subscribed: as a kill of an
   * executor that has not subscribed yet (mesos__agent_executor_kill). */
  if (t->killing && t->exec_stream == NULL) mesos__agent_kill_session(t->pid, SIGKILL);
}

/* Starts task `t` (queued or not); a failure becomes TASK_FAILED. */
static void launch_now(mesos__agent_task *t) {
  mesos_error *e = NULL;
  /* Persistent volumes appear in the sandbox (volumes.c; nothing to do,
   * and no mkdir on the loop, for a task without one). */
  mesos_status vst = mesos__agent_volumes_prepare(t->agent, t->sandbox, t->info->resources,
                                                  t->info->n_resources, &e);
  if (vst != MESOS_OK) {
    launch_failed(t, vst, e);
    return;
  }
  if (t->use_executor) {
    /* Reported by mesos__agent_executor_started, once it has a pid. */
    mesos_status st = mesos__agent_executor_launch(t, &e);
    if (st != MESOS_OK) launch_failed(t, st, e);
    return;
  }
  mesos_status st = launch(t, &e);
  if (st != MESOS_OK) {
    launch_failed(t, st, e);
    return;
  }
  LOG_INFO("Task %s started (pid %d) in %s", t->key, (int)t->pid, t->sandbox);
  mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_STARTING, -1, NULL);
  mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_RUNNING, -1, NULL);
}

/* Executor starts in flight on the thread pool at once.  Why a bound: the
 * pool is libuv's, FIFO and four threads, and the status update manager's
 * fsync jobs share it; a burst of a thousand queued spawns put every
 * TASK_STARTING's checkpoint behind them (median ACCEPT->RUNNING of a
 * 300-task burst 2.3-2.8 s -> 4.2 s with no gain in tasks/s).  Two keep
 * both cores busy starting executors; the rest wait in launch_q, in order.
 * executor_api.c's spawn_done runs the queue again. */
#define MAX_SPAWNING 2u

void mesos__agent_launch_more(mesos_agent *a) {
  if (a->launch_qn > 0 && a->launch_timer) mesos_timer_start(a->launch_timer, 0, 0);
}

static void launch_next(mesos_timer *timer, void *ud) {
  mesos_agent *a = ud;
  if (a->nspawning >= MAX_SPAWNING) return; /* mesos__agent_launch_more, later */
  while (a->launch_qn > 0) {
    char *key = a->launch_q[0];
    memmove(a->launch_q, a->launch_q + 1, (a->launch_qn - 1) * sizeof *a->launch_q);
    a->launch_qn--;
    mesos__agent_task *t = mesos__map_get(&a->tasks, key);
    mesos__free(key);
    if (t == NULL || !t->queued) continue; /* killed (or gone) while queued */
    t->queued = 0;
    launch_now(t);
    break;
  }
  if (a->launch_qn > 0) mesos_timer_start(timer, 0, 0);
}

void mesos__agent_kill_task(mesos_agent *a, const char *framework_id, const char *task_id,
                            const Mesos__V1__KillPolicy *policy) {
  char key[600];
  snprintf(key, sizeof key, "%s/%s", framework_id, task_id);
  mesos__agent_task *t = mesos__map_get(&a->tasks, key);
  if (t == NULL) {
    if (!mesos__agent_status_pending(a, key))
      mesos__agent_task_refuse(a, framework_id, task_id, MESOS__V1__TASK_STATE__TASK_LOST,
             MESOS__V1__TASK_STATUS__REASON__REASON_RECONCILIATION,
             "Attempted to kill a task unknown to the agent");
    return;
  }
  if (t->exec) {
    mesos__agent_exec_kill_task(t, policy);
    return;
  }
  if (t->queued) { /* never started: nothing to signal */
    t->queued = 0;
    t->killing = 1;
    mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_KILLED,
                             MESOS__V1__TASK_STATUS__REASON__REASON_TASK_KILLED_DURING_LAUNCH,
                             "Killed before its executor started");
    mesos__agent_task_maybe_done(a, key);
    return;
  }
  uint64_t grace = a->shutdown_grace_ms;
  const Mesos__V1__KillPolicy *kp = policy ? policy : t->info->kill_policy;
  if (kp && kp->grace_period && kp->grace_period->nanoseconds >= 0)
    grace = (uint64_t)kp->grace_period->nanoseconds / 1000000u;
  if (t->containerized) { /* also while its image is still provisioning */
    mesos__agent_container_kill(t, grace);
    return;
  }
  if (t->spawn_job && t->exec_stream == NULL && !t->killing) {
    /* Its executor is starting (executor_api.c): ended as soon as it has a
     * pid (mesos__agent_executor_started), or told to kill the task if it
     * subscribes first. */
    LOG_INFO("Killing task %s while its executor starts", key);
    t->killing = 1;
    t->exit_reason = MESOS__V1__TASK_STATUS__REASON__REASON_TASK_KILLED_DURING_LAUNCH;
    return;
  }
  if ((t->pid <= 0 && t->spawn_job == NULL) || t->killing) return;
  if (t->use_executor) {
    LOG_INFO("Killing task %s through its executor (grace %llu ms)", key, (unsigned long long)grace);
    mesos__agent_executor_kill(t, grace, policy);
    return;
  }
  t->killing = 1;
  LOG_INFO("Killing task %s (SIGTERM, SIGKILL after %llu ms)", key, (unsigned long long)grace);
  kill(-t->pid, SIGTERM);
  mesos_timer_start(t->kill_timer, grace, 0);
}

void mesos__agent_shutdown_framework(mesos_agent *a, const char *framework_id) {
  size_t it = 0;
  void *v;
  size_t flen = strlen(framework_id);
  /* Killing does not change the map (tasks leave when their exit is
   * reaped), so iterating while killing is safe. */
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__agent_task *t = v;
    if (strncmp(t->key, framework_id, flen) == 0 && t->key[flen] == '/' && t->exec == NULL)
      mesos__agent_kill_task(a, t->framework_id, t->task_id, NULL);
  }
  /* Custom and default executors get SHUTDOWN (their tasks with them).
   * That never removes an executor at once (it leaves when its exit is
   * reaped), so iterating is safe here too. */
  it = 0;
  const char *k;
  while (mesos__map_next(&a->executors, &it, &k, &v)) {
    if (strncmp(k, framework_id, flen) == 0 && k[flen] == '/')
      mesos__agent_exec_shutdown(a, framework_id, k + flen + 1);
  }
}

void mesos__agent_tasks_free(mesos_agent *a) {
  for (size_t i = 0; i < a->launch_qn; i++) mesos__free(a->launch_q[i]);
  mesos__free(a->launch_q);
  a->launch_q = NULL;
  a->launch_qn = 0;
  mesos_timer_free(a->launch_timer);
  a->launch_timer = NULL;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__agent_task *t = v;
    if (t->pid > 0) {
      if (t->use_executor) mesos__agent_kill_session(t->pid, SIGKILL);
      else kill(-t->pid, SIGKILL);
      mesos_child_free(t->child);
      t->child = NULL;
      waitpid(t->pid, NULL, 0);
    }
    task_free(t);
  }
  mesos__map_free(&a->tasks);
  mesos__map_init(&a->tasks);
  mesos__agent_executors_free(a);
}

mesos_status mesos__agent_tasks_report(mesos_agent *a, Mesos__V1__Task ***out, size_t *n,
                                       Mesos__V1__FrameworkInfo ***fws, size_t *nfws) {
  size_t count = mesos__map_count(&a->tasks), nf = mesos__map_count(&a->frameworks);
  Mesos__V1__Task **tasks = mesos__calloc(count ? count : 1, sizeof *tasks);
  Mesos__V1__FrameworkInfo **f = mesos__calloc(nf ? nf : 1, sizeof *f);
  if (tasks == NULL || f == NULL) {
    mesos__free(tasks);
    mesos__free(f);
    return MESOS_ENOMEM;
  }
  size_t it = 0, k = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__agent_task *t = v;
    /* One allocation holds the Task and the ids it points to. */
    struct task_msg {
      Mesos__V1__Task task;
      Mesos__V1__TaskID tid;
      Mesos__V1__FrameworkID fid;
      Mesos__V1__ExecutorID eid;
      Mesos__V1__AgentID aid;
    } *m = MESOS__NEW(struct task_msg);
    if (m == NULL) {
      mesos__agent_tasks_report_free(tasks, k);
      mesos__free(f);
      return MESOS_ENOMEM;
    }
    mesos__v1__task__init(&m->task);
    mesos__v1__task_id__init(&m->tid);
    mesos__v1__framework_id__init(&m->fid);
    mesos__v1__executor_id__init(&m->eid);
    mesos__v1__agent_id__init(&m->aid);
    m->tid.value = t->task_id;
    m->fid.value = t->framework_id;
    m->eid.value = t->executor_id;
    m->aid.value = a->id;
    m->task.name = t->info->name ? t->info->name : (char *)"";
    m->task.task_id = &m->tid;
    m->task.framework_id = &m->fid;
    m->task.executor_id = &m->eid;
    m->task.agent_id = &m->aid;
    m->task.state = t->state;
    m->task.n_resources = t->info->n_resources;
    m->task.resources = t->info->resources;
    tasks[k++] = &m->task;
  }
  it = 0;
  size_t j = 0;
  while (mesos__map_next(&a->frameworks, &it, NULL, &v)) f[j++] = v;
  *out = tasks;
  *n = k;
  *fws = f;
  *nfws = j;
  return MESOS_OK;
}

void mesos__agent_tasks_report_free(Mesos__V1__Task **tasks, size_t n) {
  /* Each Task is the first member of its allocation. */
  for (size_t i = 0; i < n; i++) mesos__free(tasks[i]);
  mesos__free(tasks);
}

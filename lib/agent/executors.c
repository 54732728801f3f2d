/*
 * Executors that serve more than one task: custom executors (a TaskInfo
 * with an ExecutorInfo: the framework's own program) and the default
 * executor of task groups (RUN_TASK_GROUP: mesos-default-executor from the
 * launcher directory).  Command tasks keep their one-task mesos-executor
 * in executor_api.c / task_runner.c.
 *
 * One executor per "<framework>/<executor id>": the first task (or task
 * group) for that id starts the executor process in its own sandbox
 * (slaves/<agent>/frameworks/<fw>/executors/<executor>/runs/<container>)
 * and own session, with the environment Mesos gives executors; later ones
 * for the same id go to the running process, as in Mesos.  Until the
 * executor SUBSCRIBEs its launches wait here, in order, as task keys (the
 * TaskInfos live in the task table), so a KILL meanwhile simply drops them
 * (TASK_KILLED, for a group the whole group, as Mesos does).  Once
 * subscribed it gets SUBSCRIBED, then LAUNCH / LAUNCH_GROUP.
 *
 * --executor_registration_timeout: an executor that does not subscribe in
 * time is killed and its tasks fail with REASON_EXECUTOR_REGISTRATION_
 * TIMEOUT.  When the executor process ends, every task it had not reported
 * terminal gets TASK_FAILED (TASK_KILLED if a kill was asked for) with
 * REASON_EXECUTOR_TERMINATED, whatever it left in its session is killed,
 * and the master hears EXITED_EXECUTOR (the framework gets FAILURE).
 *
 * SHUTDOWN_EXECUTOR / SHUTDOWN_FRAMEWORK: SHUTDOWN towards the executor,
 * and the whole session is killed after --executor_shutdown_grace_period
 * (plus a little) if it is still there.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_auth.h"
#include "agent/agent_int.h"
#include "agent/containers.h"
#include "agent/volumes.h"
#include "agent/spawn.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/units.h"
#include "base/uuid.h"
#include "codec/json.h"
#include "codec/negotiate.h"
#include "codec/pb.h"
#include "registry/agent_paths.h"
#include "registry/checkpoint.h"
#include "registry/fsutil.h"

extern char **environ;

/* Largest event record written on an executor stream. */
#define EXEC_EVENT_MAX ((size_t)16 << 20)
/* After the shutdown grace period the executor has this much longer to
 * exit on its own before its session is killed. */
#define EXEC_SHUTDOWN_SLACK_MS 3000u
/* Tasks in one task group: the master validates groups, this only keeps a
 * hostile RUN_TASK_GROUP from making the agent allocate without bound. */
#define MAX_GROUP_TASKS 1024u
/* Launches that may wait for one executor to subscribe. */
#define MAX_PENDING_LAUNCHES 4096u
/* Environment entries an executor's CommandInfo may add. */
#define MAX_EXEC_ENV 4096u
/* argv entries of a shell=false executor command. */
#define MAX_EXEC_ARGS 4096u
/* Largest MESOS_SUBSCRIPTION_BACKOFF_MAX given to executors (as
 * executor_api.c's). */
#define EXEC_BACKOFF_MAX_MS 2000u

/* A LAUNCH (n == 1, !group) or LAUNCH_GROUP waiting for SUBSCRIBE. */
typedef struct pending_launch {
  struct pending_launch *next;
  int group;
  size_t n;
  char *keys[]; /* "<framework>/<task>" */
} pending_launch;

struct mesos__agent_executor {
  mesos_agent *agent;
  char *key;
  char *framework_id;
  char *executor_id;
  char *container_id;
  char *sandbox;
  Mesos__V1__ExecutorInfo *info; /* owned; framework_id set */
  int is_default;
  int32_t pid;                   /* also the session id */
  mesos_child *child;
  mesos__http_request *stream;   /* the SUBSCRIBE response, NULL before */
  mesos__media media;            /* encoding of events on `stream` */
  mesos_timer *reg_timer;
  mesos_timer *kill_timer;
  pending_launch *q_head, *q_tail;
  size_t nq;
  int reg_timed_out;
  int shutting_down;
  int shutdown_sent;             /* SHUTDOWN went out, kill_timer armed */
  /* Recovery (recover.c).  `checkpoint`: the framework checkpoints, so the
   * executor outlives the agent (executor.info and task.info exist).
   * `recovered`: adopted from a previous run of the agent, not our child:
   * `watch` (a pidfd) sees it end instead of `child`, and it must
   * re-subscribe within --executor_reregistration_timeout. */
  int checkpoint;
  int recovered;
  uint64_t pid_start;
  struct mesos__agent_reaper *watch;
  /* In a container of its own (ExecutorInfo.container, containers.c):
   * `pid` is the container's init once it runs (0 while the image is
   * provisioned and the init starts), the containerizer watches and kills
   * it, and `fail_msg` says why it could not start. */
  int containerized;
  int starting;                  /* inside container_start: a failure is returned there */
  char fail_msg[512];
  int fail_reason;               /* with fail_msg; 0: REASON_CONTAINER_LAUNCH_FAILED */
};

static void pending_free(pending_launch *p) {
  for (size_t i = 0; i < p->n; i++) mesos__free(p->keys[i]);
  mesos__free(p);
}

static void exec_free(mesos__agent_executor *x) {
  if (x == NULL) return;
  while (x->q_head) {
    pending_launch *p = x->q_head;
    x->q_head = p->next;
    pending_free(p);
  }
  if (x->stream) {
    mesos__http_request_on_abort(x->stream, NULL, NULL);
    mesos__http_stream_end(x->stream);
  }
  mesos_child_free(x->child);
  mesos__agent_pidwatch_free(x->watch);
  mesos_timer_free(x->reg_timer);
  mesos_timer_free(x->kill_timer);
  mesos__pb_free(x->info);
  mesos__free(x->key);
  mesos__free(x->framework_id);
  mesos__free(x->executor_id);
  mesos__free(x->container_id);
  mesos__free(x->sandbox);
  mesos__free(x);
}

static ProtobufCMessage *pb_copy(const ProtobufCMessage *m, mesos_error **err) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  if (mesos__pb_pack(m, 0, &bytes, &len, err) == MESOS_OK)
    mesos__pb_unpack(m->descriptor, bytes, len, 0, 0, &copy, err);
  mesos__free(bytes);
  return copy;
}

/* A task came or ended: a container's limits follow (containers.c). */
static void exec_resize(mesos__agent_executor *x) {
  if (x->containerized) mesos__agent_exec_container_resize(x->agent, x->key, x->container_id);
}

/* Kills the executor and whatever it started: its session, or its
 * container (which also stops a container still starting). */
static void exec_kill(mesos__agent_executor *x) {
  if (x->containerized) mesos__agent_exec_container_kill(x->agent, x->container_id);
  else mesos__agent_kill_session(x->pid, SIGKILL);
}

/* ------------------------------------------------------------ events */

static mesos_status send_event(mesos__agent_executor *x, const Mesos__V1__Executor__Event *ev) {
  if (x->stream == NULL) return MESOS_ECLOSED;
  mesos__buf body = MESOS__BUF_INIT(EXEC_EVENT_MAX);
  mesos_status st;
  if (x->media == MESOS__MEDIA_JSON) {
    st = mesos__json_encode(&ev->base, &body, NULL);
  } else {
    uint8_t *bytes = NULL;
    size_t len = 0;
    st = mesos__pb_pack(&ev->base, EXEC_EVENT_MAX, &bytes, &len, NULL);
    if (st == MESOS_OK) st = mesos__buf_append(&body, bytes, len);
    mesos__free(bytes);
  }
  mesos__buf rec = MESOS__BUF_INIT(EXEC_EVENT_MAX + 32);
  if (st == MESOS_OK) st = mesos__recordio_append(&rec, body.data, body.len, NULL);
  if (st == MESOS_OK) st = mesos__http_stream_send(x->stream, rec.data, rec.len);
  mesos__buf_free(&rec);
  mesos__buf_free(&body);
  if (st != MESOS_OK) LOG_WARN("executor %s: cannot send an event: %s", x->key, mesos_status_str(st));
  return st;
}

/* LAUNCH or LAUNCH_GROUP for the tasks `keys` that are still waiting
 * (a task killed meanwhile is no longer sent). */
static void send_launch(mesos__agent_executor *x, int group, char *const *keys, size_t n) {
  mesos_agent *a = x->agent;
  Mesos__V1__TaskInfo **infos = mesos__calloc(n ? n : 1, sizeof *infos);
  if (infos == NULL) return;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    mesos__agent_task *t = mesos__map_get(&a->tasks, keys[i]);
    if (t && t->exec == x && !t->terminal_seen && !t->killing) infos[k++] = t->info;
  }
  if (k > 0) {
    Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
    Mesos__V1__Executor__Event__Launch l = MESOS__V1__EXECUTOR__EVENT__LAUNCH__INIT;
    Mesos__V1__Executor__Event__LaunchGroup lg = MESOS__V1__EXECUTOR__EVENT__LAUNCH_GROUP__INIT;
    Mesos__V1__TaskGroupInfo tg = MESOS__V1__TASK_GROUP_INFO__INIT;
    ev.has_type = 1;
    if (group) {
      tg.n_tasks = k;
      tg.tasks = infos;
      lg.task_group = &tg;
      ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH_GROUP;
      ev.launch_group = &lg;
    } else {
      l.task = infos[0];
      ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__LAUNCH;
      ev.launch = &l;
    }
    send_event(x, &ev);
  }
  mesos__free(infos);
}

static void send_shutdown(mesos__agent_executor *x) {
  Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
  ev.has_type = 1;
  ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__SHUTDOWN;
  if (send_event(x, &ev) == MESOS_OK) {
    x->shutdown_sent = 1;
    mesos_timer_start(x->kill_timer, x->agent->shutdown_grace_ms + EXEC_SHUTDOWN_SLACK_MS, 0);
  } else
    exec_kill(x);
}

/* Sends now when subscribed, else queues (keys copied). */
static mesos_status deliver(mesos__agent_executor *x, int group, char *const *keys, size_t n,
                            mesos_error **err) {
  if (x->stream) {
    send_launch(x, group, keys, n);
    return MESOS_OK;
  }
  if (x->nq >= MAX_PENDING_LAUNCHES)
    return mesos__err(err, MESOS_ELIMIT, "executor %s: %u launches wait for it to subscribe",
                      x->key, MAX_PENDING_LAUNCHES);
  pending_launch *p = mesos__calloc(1, sizeof *p + n * sizeof p->keys[0]);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  p->group = group;
  for (size_t i = 0; i < n; i++) {
    if ((p->keys[i] = mesos__strdup(keys[i])) == NULL) {
      pending_free(p);
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    }
    p->n++;
  }
  if (x->q_tail) x->q_tail->next = p;
  else x->q_head = p;
  x->q_tail = p;
  x->nq++;
  return MESOS_OK;
}

/* ------------------------------------------------------------ exit */

/* The executor process ended (`wait_status` < 0: unknown, it was adopted
 * after an agent restart and is not our child). */
static void exec_exited(mesos__agent_executor *x, int wait_status) {
  mesos_agent *a = x->agent;
  mesos_timer_stop(x->reg_timer);
  mesos_timer_stop(x->kill_timer);
  /* Whatever the executor left behind in its session goes too (a
   * container's are gone with it: its pid is not ours to signal). */
  if (!x->containerized) mesos__agent_kill_session(x->pid, SIGKILL);
  char msg[600];
  if (x->fail_msg[0])
    snprintf(msg, sizeof msg, "%s", x->fail_msg);
  else if (x->reg_timed_out && x->recovered)
    snprintf(msg, sizeof msg, "Executor did not re-subscribe within %llu ms after the agent restarted",
             (unsigned long long)a->exec_rereg_timeout_ms);
  else if (x->reg_timed_out)
    snprintf(msg, sizeof msg, "Executor did not register within %llu ms",
             (unsigned long long)a->exec_reg_timeout_ms);
  else if (wait_status < 0)
    snprintf(msg, sizeof msg, "Executor (adopted after an agent restart) terminated");
  else if (WIFEXITED(wait_status))
    snprintf(msg, sizeof msg, "Executor terminated with exit status %d",
             WEXITSTATUS(wait_status));
  else
    snprintf(msg, sizeof msg, "Executor terminated by signal %s",
             WIFSIGNALED(wait_status) ? strsignal(WTERMSIG(wait_status)) : "?");
  LOG_INFO("Executor %s (pid %d): %s", x->key, (int)x->pid, msg);
  int reason = x->fail_msg[0] && x->fail_reason > 0 ? x->fail_reason
               : x->fail_msg[0] ? MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED
               : x->reg_timed_out && x->recovered
                   ? MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_REREGISTRATION_TIMEOUT
               : x->reg_timed_out
                   ? MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_REGISTRATION_TIMEOUT
                   : MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
  /* Its tasks: collected first, since maybe_done changes the table. */
  size_t n = 0, cap = 16, it = 0;
  char **keys = mesos__calloc(cap, sizeof *keys);
  void *v;
  while (keys && mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__agent_task *t = v;
    if (t->exec != x) continue;
    if (!t->terminal_seen) {
      t->terminal_seen = 1;
      mesos__agent_task_update(t,
                               t->killing ? MESOS__V1__TASK_STATE__TASK_KILLED
                                          : MESOS__V1__TASK_STATE__TASK_FAILED,
                               reason, msg);
    }
    t->exec = NULL;
    if (n == cap) {
      char **grown = mesos__realloc(keys, cap * 2 * sizeof *keys);
      if (grown == NULL) continue; /* that task is forgotten when acknowledged */
      keys = grown;
      cap *= 2;
    }
    keys[n] = mesos__strdup(t->key);
    if (keys[n]) n++;
  }
  mesos__agent_post_exited_executor(x->agent, x->framework_id, x->executor_id,
                                    wait_status < 0 ? 0 : wait_status);
  mesos__map_remove(&a->executors, x->key);
  exec_free(x);
  for (size_t i = 0; i < n; i++) {
    mesos__agent_task_maybe_done(a, keys[i]);
    mesos__free(keys[i]);
  }
  mesos__free(keys);
}

static void child_exited(mesos_child *child, int32_t pid, int wait_status, void *ud) {
  (void)pid;
  mesos__agent_executor *x = ud;
  mesos_child_free(child);
  x->child = NULL;
  exec_exited(x, wait_status);
}

static void watch_ended(void *ud) {
  mesos__agent_executor *x = ud;
  mesos__agent_pidwatch_free(x->watch);
  x->watch = NULL;
  LOG_INFO("Recovered executor %s (pid %d) ended", x->key, (int)x->pid);
  exec_exited(x, -1);
}

static void reg_timeout_cb(mesos_timer *timer, void *ud) {
  (void)timer;
  mesos__agent_executor *x = ud;
  if (x->stream || x->pid <= 0) return;
  LOG_WARN("executor %s did not %s within %llu ms; killing it", x->key,
           x->recovered ? "re-subscribe" : "subscribe",
           (unsigned long long)(x->recovered ? x->agent->exec_rereg_timeout_ms
                                             : x->agent->exec_reg_timeout_ms));
  x->reg_timed_out = 1;
  exec_kill(x);
}

static void kill_timer_cb(mesos_timer *timer, void *ud) {
  (void)timer;
  mesos__agent_executor *x = ud;
  LOG_INFO("executor %s: still there after the shutdown grace period; killing it", x->key);
  if (x->containerized && x->pid <= 0) {
    /* Its container never started: nothing to wait for. */
    mesos__agent_exec_container_kill(x->agent, x->container_id);
    snprintf(x->fail_msg, sizeof x->fail_msg, "Executor shut down before its container started");
    exec_exited(x, -1);
    return;
  }
  exec_kill(x);
}

/* ------------------------------------------------------------ launch */

static char *kv(const char *k, const char *v) {
  size_t n = strlen(k) + strlen(v) + 2;
  char *s = mesos__malloc(n);
  if (s) snprintf(s, n, "%s=%s", k, v);
  return s;
}

/* mesos-default-executor: beside mesos-executor, else in --launcher_dir,
 * else beside the running program. */
static mesos_status default_executor_path(mesos_agent *a, char **out, mesos_error **err) {
  char dir[4096];
  const char *given = mesos__flags_get(a->flags, "launcher_dir");
  if (a->executor_path) {
    snprintf(dir, sizeof dir, "%s", a->executor_path);
  } else if (given) {
    snprintf(dir, sizeof dir, "%s/x", given);
  } else {
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) n = 0;
    dir[n] = '\0';
  }
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  else snprintf(dir, sizeof dir, ".");
  mesos_status st = mesos__fs_join(out, dir, "mesos-default-executor", err);
  if (st == MESOS_OK && access(*out, X_OK) != 0) {
    st = mesos__err(err, MESOS_ENOTFOUND, "%s is not an executable", *out);
    mesos__free(*out);
    *out = NULL;
  }
  return st;
}

typedef struct exec_plan {
  char **argv, **envp;
  size_t nargv, nenvp;
  char *out_path, *err_path, *program;
  int shell;
} exec_plan;

static void plan_free(exec_plan *p) {
  for (size_t i = 0; i < p->nargv; i++) mesos__free(p->argv[i]);
  for (size_t i = 0; i < p->nenvp; i++) mesos__free(p->envp[i]);
  mesos__free(p->argv);
  mesos__free(p->envp);
  mesos__free(p->out_path);
  mesos__free(p->err_path);
  mesos__free(p->program);
}

static mesos_status plan_build(mesos__agent_executor *x, exec_plan *p, mesos_error **err) {
  mesos_agent *a = x->agent;
  const Mesos__V1__CommandInfo *cmd = x->is_default ? NULL : x->info->command;
  size_t nenv = 0;
  while (environ && environ[nenv]) nenv++;
  size_t ncmdenv = cmd && cmd->environment ? cmd->environment->n_variables : 0;
  if (nenv > 65536 || ncmdenv > MAX_EXEC_ENV)
    return mesos__err(err, MESOS_ELIMIT, "too many environment variables");
  p->envp = mesos__calloc(nenv + ncmdenv + 16, sizeof *p->envp);
  if (p->envp == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  /* The agent's environment minus its own MESOS_ configuration. */
  for (size_t i = 0; i < nenv; i++) {
    if (strncmp(environ[i], "MESOS_", 6) == 0) continue;
    if ((p->envp[p->nenvp] = mesos__strdup(environ[i])) == NULL)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    p->nenvp++;
  }
  char endpoint[128], grace[64], recovery[64], backoff[64];
  mesos__agent_executor_endpoint(a, endpoint, sizeof endpoint);
  mesos__format_duration(a->shutdown_grace_ms * MESOS__NS_PER_MS, grace, sizeof grace);
  /* As for command executors (executor_api.c): a restarted agent must see
   * the executor back within --executor_reregistration_timeout. */
  uint64_t backoff_ms = a->exec_rereg_timeout_ms / 2;
  if (backoff_ms > EXEC_BACKOFF_MAX_MS) backoff_ms = EXEC_BACKOFF_MAX_MS;
  if (backoff_ms < 100) backoff_ms = 100;
  mesos__format_duration(a->recovery_timeout_ms * MESOS__NS_PER_MS, recovery, sizeof recovery);
  mesos__format_duration(backoff_ms * MESOS__NS_PER_MS, backoff, sizeof backoff);
  const char *vars[][2] = {{"MESOS_FRAMEWORK_ID", x->framework_id},
                           {"MESOS_EXECUTOR_ID", x->executor_id},
                           {"MESOS_AGENT_ENDPOINT", endpoint},
                           {"MESOS_DIRECTORY", x->sandbox},
                           {"MESOS_SANDBOX", x->sandbox},
                           /* Checkpointing frameworks' executors outlive
                            * the agent and re-subscribe to the next one
                            * (recover.c adopts them). */
                           {"MESOS_CHECKPOINT", x->checkpoint ? "1" : "0"},
                           {"MESOS_RECOVERY_TIMEOUT", recovery},
                           {"MESOS_SUBSCRIPTION_BACKOFF_MAX", backoff},
                           {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", grace},
                           {"MESOS_AGENT_ID", a->id},
                           {"MESOS_SLAVE_ID", a->id}};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    if ((p->envp[p->nenvp] = kv(vars[i][0], vars[i][1])) == NULL)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    p->nenvp++;
  }
  /* MESOS_EXECUTOR_AUTHENTICATION_TOKEN (with --jwt_secret_key), before
   * the command's own variables so that the agent's wins. */
  p->envp[p->nenvp] =
      mesos__agent_exec_token_env(a, x->framework_id, x->executor_id, x->container_id);
  if (p->envp[p->nenvp]) p->nenvp++;
  for (size_t i = 0; i < ncmdenv; i++) {
    const Mesos__V1__Environment__Variable *v = cmd->environment->variables[i];
    if (v->name == NULL || *v->name == '\0' || strchr(v->name, '=')) continue;
    if ((p->envp[p->nenvp] = kv(v->name, v->value ? v->value : "")) == NULL)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    p->nenvp++;
  }
  mesos_status st;
  if (x->is_default) {
    if ((st = default_executor_path(a, &p->program, err)) != MESOS_OK) return st;
    p->argv = mesos__calloc(2, sizeof *p->argv);
    if (p->argv == NULL || (p->argv[0] = mesos__strdup(p->program)) == NULL)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
    p->nargv = 1;
  } else {
    p->shell = !cmd->has_shell || cmd->shell;
    size_t nargs = p->shell ? 3 : (cmd->n_arguments ? cmd->n_arguments : 1);
    if (nargs > MAX_EXEC_ARGS)
      return mesos__err(err, MESOS_ELIMIT, "more than %u arguments", MAX_EXEC_ARGS);
    p->argv = mesos__calloc(nargs + 1, sizeof *p->argv);
    if (p->argv == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    for (size_t i = 0; i < nargs; i++) {
      const char *s = p->shell ? (i == 0 ? "sh" : i == 1 ? "-c" : cmd->value)
                               : (cmd->n_arguments ? cmd->arguments[i] : cmd->value);
      if ((p->argv[i] = mesos__strdup(s)) == NULL)
        return mesos__err(err, MESOS_ENOMEM, "out of memory");
      p->nargv++;
    }
    p->program = mesos__strdup(p->shell ? "/bin/sh" : cmd->value);
    if (p->program == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  st = mesos__fs_join(&p->out_path, x->sandbox, "stdout", err);
  if (st == MESOS_OK) st = mesos__fs_join(&p->err_path, x->sandbox, "stderr", err);
  return st;
}

/* forked.pid: lets a restarted agent find (and end) what this run left. */
static void checkpoint_pid(mesos__agent_executor *x) {
  mesos_agent *a = x->agent;
  mesos__agent_path_ids ids = {a->id, x->framework_id, x->executor_id, x->container_id, NULL};
  char *path = NULL, text[32];
  mesos_error *e = NULL;
  int n = snprintf(text, sizeof text, "%d", (int)x->pid);
  if (mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_FORKED_PID, &ids, &e) != MESOS_OK) {
    LOG_WARN("executor %s: cannot checkpoint its pid: %s", x->key, e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  } else {
    mesos__agent_checkpoint_async(a, path, text, (size_t)n); /* as task_runner.c's */
  }
  mesos__free(path);
}

/* executor.info (ExecutorInfo, container, pid and its start time) and
 * runs/latest: what recover.c needs to adopt the executor after an agent
 * restart.  Written before any LAUNCH reaches it.  A failure only costs
 * the executor its recovery. */
static void checkpoint_executor(mesos__agent_executor *x) {
  mesos_agent *a = x->agent;
  x->pid_start = mesos__agent_pid_start_time(x->pid);
  mesos__agent_path_ids ids = {a->id, x->framework_id, x->executor_id, x->container_id, NULL};
  Mesos__V1__ContainerID cid = MESOS__V1__CONTAINER_ID__INIT;
  cid.value = x->container_id;
  Mesos__Internal__ExecutorCheckpoint ec = MESOS__INTERNAL__EXECUTOR_CHECKPOINT__INIT;
  ec.info = x->info;
  ec.container_id = &cid;
  ec.has_pid = 1;
  ec.pid = x->pid;
  ec.has_pid_start_time = 1;
  ec.pid_start_time = x->pid_start;
  char *path = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_EXECUTOR_INFO, &ids, &e);
  if (st == MESOS_OK) st = mesos__checkpoint_write(path, &ec.base, &e);
  mesos__free(path);
  path = NULL;
  if (st == MESOS_OK)
    st = mesos__agent_path(&path, a->work_dir, MESOS__AGENT_PATH_LATEST_RUN, &ids, &e);
  if (st == MESOS_OK) st = mesos__checkpoint_symlink(path, x->container_id, &e);
  mesos__free(path);
  if (st != MESOS_OK) {
    LOG_WARN("executor %s: cannot checkpoint it: %s", x->key,
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
  }
}

/* The agent's variables of an executor in a container (containers.c adds
 * MESOS_SANDBOX, the sandbox's path inside it; MESOS_DIRECTORY stays the
 * host path, as in Mesos). */
static mesos_status container_start(mesos__agent_executor *x, mesos_error **err) {
  mesos_agent *a = x->agent;
  char endpoint[128], grace[64], recovery[64], backoff[64];
  mesos__agent_executor_endpoint(a, endpoint, sizeof endpoint);
  mesos__format_duration(a->shutdown_grace_ms * MESOS__NS_PER_MS, grace, sizeof grace);
  uint64_t backoff_ms = a->exec_rereg_timeout_ms / 2;
  if (backoff_ms > EXEC_BACKOFF_MAX_MS) backoff_ms = EXEC_BACKOFF_MAX_MS;
  if (backoff_ms < 100) backoff_ms = 100;
  mesos__format_duration(a->recovery_timeout_ms * MESOS__NS_PER_MS, recovery, sizeof recovery);
  mesos__format_duration(backoff_ms * MESOS__NS_PER_MS, backoff, sizeof backoff);
  const char *vars[][2] = {{"MESOS_FRAMEWORK_ID", x->framework_id},
                           {"MESOS_EXECUTOR_ID", x->executor_id},
                           {"MESOS_AGENT_ENDPOINT", endpoint},
                           {"MESOS_DIRECTORY", x->sandbox},
                           {"MESOS_CHECKPOINT", x->checkpoint ? "1" : "0"},
                           {"MESOS_RECOVERY_TIMEOUT", recovery},
                           {"MESOS_SUBSCRIPTION_BACKOFF_MAX", backoff},
                           {"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", grace},
                           {"MESOS_AGENT_ID", a->id},
                           {"MESOS_SLAVE_ID", a->id},
                           {"MESOS_CONTAINER_ID", x->container_id}};
  enum { NV = sizeof vars / sizeof vars[0] };
  char *env[NV + 2];
  size_t n = 0;
  mesos_status st = MESOS_OK;
  for (size_t i = 0; i < NV && st == MESOS_OK; i++)
    if ((env[n] = kv(vars[i][0], vars[i][1] ? vars[i][1] : "")) != NULL) n++;
    else st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st == MESOS_OK &&
      (env[n] = mesos__agent_exec_token_env(a, x->framework_id, x->executor_id, x->container_id)))
    n++;
  env[n] = NULL;
  /* The default executor's program (its ExecutorInfo has no command). */
  char *program = NULL;
  if (st == MESOS_OK && x->is_default) st = default_executor_path(a, &program, err);
  if (st == MESOS_OK) {
    x->starting = 1;
    st = mesos__agent_exec_container_launch(a, x->key, x->container_id, x->sandbox, program,
                                            (const char *const *)env, err);
    x->starting = 0;
    /* A start that failed at once (a fetch or launch refused before
     * anything ran) reported through mesos__agent_exec_container_started
     * from inside that call: the error belongs to the caller. */
    if (st == MESOS_OK && x->fail_msg[0]) st = mesos__err(err, MESOS_EIO, "%s", x->fail_msg);
  }
  for (size_t i = 0; i < n; i++) mesos__free(env[i]);
  mesos__free(program);
  if (st == MESOS_OK)
    LOG_INFO("Executor %s: starting in container %s (sandbox %s)", x->key, x->container_id,
             x->sandbox);
  return st;
}

static mesos_status exec_start(mesos__agent_executor *x, mesos_error **err) {
  mesos_status st = mesos__agent_mkdirs(x->sandbox, err); /* not a checkpoint */
  if (st == MESOS_OK) /* the executor's own persistent volumes (volumes.c) */
    st = mesos__agent_volumes_link(x->agent, x->sandbox, x->info->resources,
                                   x->info->n_resources, err);
  if (st != MESOS_OK) return st;
  if (x->containerized) return container_start(x, err);
  exec_plan p;
  memset(&p, 0, sizeof p);
  st = plan_build(x, &p, err);
  int32_t pid = -1;
  if (st == MESOS_OK) {
    /* The same start as the command executor's (executor_api.c): a
     * session of its own, in its sandbox, output in the sandbox's files,
     * no fork of the agent (spawn.h).  A program that cannot be executed
     * is an error here, so the task fails at once with the reason
     * instead of with an executor that exits 127. */
    mesos__agent_spawn_opts so = {.path = p.program,
                                  .search = !(p.shell || x->is_default),
                                  .argv = p.argv,
                                  .envp = p.envp,
                                  .dir = x->sandbox,
                                  .stdout_path = p.out_path,
                                  .stderr_path = p.err_path,
                                  .new_session = 1};
    st = mesos__agent_spawn(&so, &pid, err);
  }
  plan_free(&p);
  if (st != MESOS_OK) return st;
  x->pid = pid;
  st = mesos_child_new(&x->child, x->agent->loop, pid, child_exited, x, err);
  if (st != MESOS_OK) {
    mesos__agent_kill_session(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    x->pid = 0;
    return st;
  }
  checkpoint_pid(x);
  if (x->checkpoint) checkpoint_executor(x);
  mesos_timer_start(x->reg_timer, x->agent->exec_reg_timeout_ms, 0);
  LOG_INFO("Executor %s started (pid %d) in %s", x->key, (int)pid, x->sandbox);
  return MESOS_OK;
}

/* The running executor `fw/eid`, or a new one started from `ei`. */
static mesos_status exec_get(mesos_agent *a, const char *fw, const Mesos__V1__ExecutorInfo *ei,
                             int is_default, mesos__agent_executor **out, mesos_error **err) {
  const char *eid = ei->executor_id->value;
  char key[600];
  snprintf(key, sizeof key, "%s/%s", fw, eid);
  mesos__agent_executor *x = mesos__map_get(&a->executors, key);
  if (x) {
    *out = x;
    return MESOS_OK;
  }
  x = MESOS__NEW(mesos__agent_executor);
  if (x == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  x->agent = a;
  x->is_default = is_default;
  x->checkpoint = mesos__agent_framework_checkpoints(a, fw);
  x->media = MESOS__MEDIA_PROTOBUF;
  char container[MESOS__UUID_STR_LEN + 1];
  mesos_status st = mesos__uuid_random_str(container);
  if (st != MESOS_OK) mesos__err(err, st, "cannot generate a container id");
  if (st == MESOS_OK) {
    x->key = mesos__strdup(key);
    x->framework_id = mesos__strdup(fw);
    x->executor_id = mesos__strdup(eid);
    x->container_id = mesos__strdup(container);
    x->info = (Mesos__V1__ExecutorInfo *)pb_copy(&ei->base, err);
    if (!x->key || !x->framework_id || !x->executor_id || !x->container_id || !x->info)
      st = mesos__err(err, MESOS_ENOMEM, "cannot copy the executor");
  }
  /* SUBSCRIBED carries the ExecutorInfo with its framework id. */
  static Mesos__V1__FrameworkID unset = MESOS__V1__FRAMEWORK_ID__INIT;
  if (st == MESOS_OK && x->info->framework_id == NULL) {
    Mesos__V1__FrameworkID fid = unset;
    fid.value = x->framework_id;
    x->info->framework_id = &fid;
    Mesos__V1__ExecutorInfo *copy = (Mesos__V1__ExecutorInfo *)pb_copy(&x->info->base, err);
    x->info->framework_id = NULL;
    mesos__pb_free(x->info);
    x->info = copy;
    if (copy == NULL) st = mesos__err(err, MESOS_ENOMEM, "cannot copy the executor");
  }
  /* Recorded, so that a restarted agent knows which executor it adopts. */
  if (st == MESOS_OK && is_default) {
    x->info->has_type = 1;
    x->info->type = MESOS__V1__EXECUTOR_INFO__TYPE__DEFAULT;
  }
  mesos__agent_path_ids ids = {a->id, fw, eid, container, NULL};
  if (st == MESOS_OK)
    st = mesos__agent_path(&x->sandbox, a->work_dir, MESOS__AGENT_PATH_SANDBOX, &ids, err);
  if (st == MESOS_OK) st = mesos_timer_new(&x->reg_timer, a->loop, reg_timeout_cb, x, err);
  if (st == MESOS_OK) st = mesos_timer_new(&x->kill_timer, a->loop, kill_timer_cb, x, err);
  const char *why = NULL;
  /* Every executor under isolation, the default executor too (its task
   * group's tasks are its children: they share its container, sized for
   * it and them, as Mesos's nested containers share their parent's
   * cgroups).  An image, volumes or a hostname of the default executor
   * were refused before (mesos__agent_executor_container_refusal). */
  x->containerized = mesos__agent_exec_container_wanted(a, ei, &why);
  /* In the table first: a container's start finds the executor there. */
  if (st == MESOS_OK && (st = mesos__map_put(&a->executors, key, x)) != MESOS_OK)
    mesos__err(err, st, "out of memory");
  if (st == MESOS_OK && (st = exec_start(x, err)) != MESOS_OK)
    mesos__map_remove(&a->executors, key);
  if (st != MESOS_OK) {
    exec_free(x);
    return st;
  }
  *out = x;
  return MESOS_OK;
}

/* Checks shared by RUN_TASK with an executor and RUN_TASK_GROUP; NULL or
 * the reason the executor cannot be used. */
static const char *exec_refusal(mesos_agent *a, const char *fw, const Mesos__V1__ExecutorInfo *ei,
                                int launch_executor, int *reason) {
  char key[600];
  snprintf(key, sizeof key, "%s/%s", fw, ei->executor_id->value);
  mesos__agent_executor *x = mesos__map_get(&a->executors, key);
  *reason = MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
  if (x && x->shutting_down) return "Executor is shutting down";
  if (x == NULL && !launch_executor) return "Executor is not running on this agent";
  *reason = MESOS__V1__TASK_STATUS__REASON__REASON_TASK_INVALID;
  if (x && x->is_default != (ei->has_type && ei->type == MESOS__V1__EXECUTOR_INFO__TYPE__DEFAULT))
    return "ExecutorInfo differs from the running executor's (type)";
  return NULL;
}

/* ------------------------------------------------------------ RUN_TASK */

void mesos__agent_run_custom(mesos_agent *a, const Mesos__Internal__RunTask *rt) {
  const Mesos__V1__TaskInfo *ti = rt->task;
  const Mesos__V1__ExecutorInfo *ei = ti->executor;
  const char *fw = rt->framework->id->value;
  const char *tid = ti->task_id->value;
  mesos_error *e = NULL;
  const char *bad = NULL;
  int reason = MESOS__V1__TASK_STATUS__REASON__REASON_TASK_INVALID;
  if (ei->executor_id == NULL || ei->executor_id->value == NULL)
    bad = "ExecutorInfo has no executor_id";
  else if (mesos__agent_path_check_id("executor id", ei->executor_id->value, &e) != MESOS_OK)
    bad = mesos_error_message(e);
  else if (ei->has_type && ei->type == MESOS__V1__EXECUTOR_INFO__TYPE__DEFAULT)
    bad = "The default executor runs task groups (LAUNCH_GROUP), not single tasks";
  else if (ei->command == NULL || ei->command->value == NULL)
    bad = "ExecutorInfo has no command";
  else if (mesos__map_count(&a->tasks) >= MESOS__AGENT_MAX_TASKS)
    bad = "Too many tasks on this agent",
    reason = MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED;
  else if (!mesos__agent_exec_container_wanted(a, ei, &bad) && bad) /* containers.c */
    reason = MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED;
  else
    bad = exec_refusal(a, fw, ei, !rt->has_launch_executor || rt->launch_executor, &reason);
  if (bad) {
    mesos__agent_task_refuse(a, fw, tid,
                             reason == MESOS__V1__TASK_STATUS__REASON__REASON_TASK_INVALID
                                 ? MESOS__V1__TASK_STATE__TASK_ERROR
                                 : MESOS__V1__TASK_STATE__TASK_FAILED,
                             reason, bad);
    mesos_error_free(e);
    return;
  }
  mesos__agent_remember_framework(a, rt->framework);
  mesos__agent_executor *x = NULL;
  mesos__agent_task *t = NULL;
  mesos_status st = exec_get(a, fw, ei, 0, &x, &e);
  /* The task's persistent volumes appear in its executor's sandbox. */
  if (st == MESOS_OK)
    st = mesos__agent_volumes_link(a, x->sandbox, ti->resources, ti->n_resources, &e);
  if (st == MESOS_OK) st = mesos__agent_task_new(a, fw, ti, x->executor_id, x->container_id, &t, &e);
  if (st != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot start the executor: %s",
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    mesos__agent_task_refuse(a, fw, tid, MESOS__V1__TASK_STATE__TASK_FAILED,
                             MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, msg);
    return;
  }
  t->exec = x;
  exec_resize(x); /* before the executor hears of the task, as in Mesos */
  if (x->checkpoint) mesos__agent_checkpoint_task(t);
  if ((st = deliver(x, 0, &t->key, 1, &e)) != MESOS_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot launch the task: %s", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    t->terminal_seen = 1;
    mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_FAILED,
                             MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, msg);
    return;
  }
  LOG_INFO("Task %s: for executor %s (pid %d)", t->key, x->key, (int)x->pid);
}

/* ------------------------------------------------------------ RUN_TASK_GROUP */

void mesos__agent_run_task_group(mesos_agent *a, const Mesos__Internal__RunTaskGroup *rg) {
  const char *fw = rg->framework && rg->framework->id ? rg->framework->id->value : NULL;
  const Mesos__V1__TaskGroupInfo *g = rg->task_group;
  const Mesos__V1__ExecutorInfo *ei = rg->executor;
  if (fw == NULL || g == NULL || ei == NULL || a->id == NULL) {
    LOG_WARN("RUN_TASK_GROUP without framework id, executor or task group dropped");
    return;
  }
  mesos_error *e = NULL;
  if (mesos__agent_path_check_id("framework id", fw, &e) != MESOS_OK) {
    LOG_WARN("RUN_TASK_GROUP refused: %s", mesos_error_message(e));
    mesos_error_free(e);
    return;
  }
  /* Tasks whose id is unusable or already known are not ours to report
   * on: they are dropped with a log line, the rest of the group fails. */
  size_t n = g->n_tasks;
  const char *bad = NULL;
  char invalid[320];
  int reason = MESOS__V1__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID;
  if (n == 0 || n > MAX_GROUP_TASKS) bad = "The task group is empty or too big";
  for (size_t i = 0; i < n && !bad; i++) {
    const Mesos__V1__TaskInfo *ti = g->tasks[i];
    char key[600];
    if (ti->task_id == NULL || ti->task_id->value == NULL ||
        mesos__agent_path_check_id("task id", ti->task_id->value, &e) != MESOS_OK) {
      bad = "A task of the group has an unusable task id";
      break;
    }
    snprintf(key, sizeof key, "%s/%s", fw, ti->task_id->value);
    if (mesos__map_get(&a->tasks, key) || mesos__agent_status_pending(a, key)) {
      LOG_WARN("task %s is already known; duplicate RUN_TASK_GROUP ignored", key);
      return;
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(g->tasks[j]->task_id->value, ti->task_id->value) == 0)
        bad = "Duplicate task id in the task group";
    if (!bad && (ti->command == NULL || ti->command->value == NULL))
      bad = "A task of the group has no command";
    /* Mesos's task group validation (1.1+, with its words): invalid, not
     * merely unsupported here. */
    if (!bad && ti->container && ti->container->type == MESOS__V1__CONTAINER_INFO__TYPE__DOCKER) {
      snprintf(invalid, sizeof invalid,
               "Task '%.200s' is invalid: Docker ContainerInfo is not supported on the task",
               ti->task_id->value);
      bad = invalid;
    }
    if (!bad && (bad = mesos__agent_executor_container_refusal(NULL, ti)) != NULL)
      reason = MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED;
  }
  if (!bad) {
    if (ei->executor_id == NULL || ei->executor_id->value == NULL)
      bad = "ExecutorInfo has no executor_id";
    else if (mesos__agent_path_check_id("executor id", ei->executor_id->value, &e) != MESOS_OK)
      bad = "ExecutorInfo has an unusable executor id";
    else if (ei->has_type && ei->type != MESOS__V1__EXECUTOR_INFO__TYPE__DEFAULT)
      bad = "Task groups run under the default executor (ExecutorInfo.type DEFAULT)";
    else if (ei->container && ei->container->type == MESOS__V1__CONTAINER_INFO__TYPE__DOCKER)
      bad = "Docker ContainerInfo is not supported on the executor"; /* as Mesos validates */
    else if (mesos__map_count(&a->tasks) + n > MESOS__AGENT_MAX_TASKS)
      bad = "Too many tasks on this agent",
      reason = MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED;
    else if ((bad = mesos__agent_executor_container_refusal(ei, NULL)) != NULL) /* containers.c */
      reason = MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED;
    else {
      Mesos__V1__ExecutorInfo def = *ei;
      def.has_type = 1;
      def.type = MESOS__V1__EXECUTOR_INFO__TYPE__DEFAULT;
      bad = exec_refusal(a, fw, &def, !rg->has_launch_executor || rg->launch_executor, &reason);
      if (reason == MESOS__V1__TASK_STATUS__REASON__REASON_TASK_INVALID)
        reason = MESOS__V1__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID;
    }
  }
  mesos_error_free(e);
  e = NULL;
  if (bad) {
    for (size_t i = 0; i < n; i++)
      if (g->tasks[i]->task_id && g->tasks[i]->task_id->value)
        mesos__agent_task_refuse(a, fw, g->tasks[i]->task_id->value,
                                 reason == MESOS__V1__TASK_STATUS__REASON__REASON_TASK_GROUP_INVALID
                                     ? MESOS__V1__TASK_STATE__TASK_ERROR
                                     : MESOS__V1__TASK_STATE__TASK_FAILED,
                                 reason, bad);
    return;
  }
  mesos__agent_remember_framework(a, rg->framework);
  mesos__agent_executor *x = NULL;
  mesos_status st = exec_get(a, fw, ei, 1, &x, &e);
  /* Each task's persistent volumes (volumes.c): in the executor's
   * sandbox and in the task's own directory there, which the default
   * executor makes the task's MESOS_SANDBOX (Mesos mounts them into the
   * executor's container and the task's nested one). */
  for (size_t i = 0; i < n && st == MESOS_OK; i++) {
    const Mesos__V1__TaskInfo *ti = g->tasks[i];
    char tdir[4400];
    st = mesos__agent_volumes_link(a, x->sandbox, ti->resources, ti->n_resources, &e);
    if (st == MESOS_OK && (size_t)snprintf(tdir, sizeof tdir, "%s/tasks/%s", x->sandbox,
                                           ti->task_id->value) >= sizeof tdir)
      st = mesos__err(&e, MESOS_EINVAL, "task %s: sandbox path too long", ti->task_id->value);
    if (st == MESOS_OK)
      st = mesos__agent_volumes_prepare(a, tdir, ti->resources, ti->n_resources, &e);
  }
  char **keys = st == MESOS_OK ? mesos__calloc(n, sizeof *keys) : NULL;
  if (st == MESOS_OK && keys == NULL) st = mesos__err(&e, MESOS_ENOMEM, "out of memory");
  size_t made = 0;
  for (size_t i = 0; i < n && st == MESOS_OK; i++) {
    mesos__agent_task *t = NULL;
    st = mesos__agent_task_new(a, fw, g->tasks[i], x->executor_id, x->container_id, &t, &e);
    if (st == MESOS_OK) {
      t->exec = x;
      keys[made++] = t->key;
      if (x->checkpoint) mesos__agent_checkpoint_task(t);
    }
  }
  if (made > 0) exec_resize(x); /* before the executor hears of them */
  if (st == MESOS_OK) st = deliver(x, 1, keys, made, &e);
  if (st != MESOS_OK) {
    /* All or nothing: the tasks made so far fail with the rest. */
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot launch the task group: %s",
             e ? mesos_error_message(e) : mesos_status_str(st));
    mesos_error_free(e);
    for (size_t i = 0; i < n; i++) {
      char key[600];
      snprintf(key, sizeof key, "%s/%s", fw, g->tasks[i]->task_id->value);
      mesos__agent_task *t = mesos__map_get(&a->tasks, key);
      if (t) {
        t->terminal_seen = 1;
        mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_FAILED,
                                 MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED,
                                 msg);
      } else {
        mesos__agent_task_refuse(a, fw, g->tasks[i]->task_id->value,
                                 MESOS__V1__TASK_STATE__TASK_FAILED,
                                 MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED,
                                 msg);
      }
    }
    mesos__free(keys);
    return;
  }
  mesos__free(keys);
  LOG_INFO("Task group of %zu task(s) for executor %s (pid %d)", made, x->key, (int)x->pid);
}

/* ------------------------------------------------------------ kill, shutdown */

void mesos__agent_exec_kill_task(mesos__agent_task *t, const Mesos__V1__KillPolicy *policy) {
  mesos__agent_executor *x = t->exec;
  if (x == NULL || t->terminal_seen || t->killing) return;
  if (x->stream) {
    t->killing = 1;
    Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
    Mesos__V1__Executor__Event__Kill k = MESOS__V1__EXECUTOR__EVENT__KILL__INIT;
    Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
    tid.value = t->task_id;
    k.task_id = &tid;
    k.kill_policy = (Mesos__V1__KillPolicy *)(policy ? policy : t->info->kill_policy);
    ev.has_type = 1;
    ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__KILL;
    ev.kill = &k;
    LOG_INFO("Killing task %s through executor %s", t->key, x->key);
    send_event(x, &ev);
    return;
  }
  /* Not subscribed yet: the launch has not reached the executor, so the
   * task (for a group, the whole group) is dropped from the queue. */
  pending_launch **pp = &x->q_head, *prev = NULL;
  for (; *pp; prev = *pp, pp = &(*pp)->next) {
    pending_launch *p = *pp;
    size_t i;
    for (i = 0; i < p->n && strcmp(p->keys[i], t->key) != 0; i++) {
    }
    if (i == p->n) continue;
    *pp = p->next;
    if (x->q_tail == p) x->q_tail = prev;
    x->nq--;
    for (i = 0; i < p->n; i++) {
      mesos__agent_task *gt = mesos__map_get(&x->agent->tasks, p->keys[i]);
      if (gt == NULL || gt->exec != x || gt->terminal_seen) continue;
      gt->killing = 1;
      gt->terminal_seen = 1;
      mesos__agent_task_update(gt, MESOS__V1__TASK_STATE__TASK_KILLED,
                               MESOS__V1__TASK_STATUS__REASON__REASON_TASK_KILLED_DURING_LAUNCH,
                               "Killed before the executor registered");
    }
    pending_free(p);
    break;
  }
  /* Not queued: launched before an agent restart, to an executor that has
   * not re-subscribed yet: the KILL goes out when it does. */
  if (*pp == NULL && !t->terminal_seen) t->killing = 1;
  /* An executor left with nothing to run is shut down when it subscribes
   * (or killed at its registration timeout). */
  int live = 0;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&x->agent->tasks, &it, NULL, &v)) {
    mesos__agent_task *o = v;
    if (o->exec == x && !o->terminal_seen) live = 1;
  }
  if (!live) x->shutting_down = 1;
  /* One whose container is still being made is not made at all (its
   * start then reports and ends it). */
  if (!live && x->containerized && x->pid <= 0) exec_kill(x);
}

int mesos__agent_exec_shutdown(mesos_agent *a, const char *framework_id, const char *executor_id) {
  char key[600];
  snprintf(key, sizeof key, "%s/%s", framework_id, executor_id);
  mesos__agent_executor *x = mesos__map_get(&a->executors, key);
  if (x == NULL) return 0;
  if (x->shutdown_sent) return 1;
  x->shutting_down = 1;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__agent_task *t = v;
    if (t->exec == x) t->killing = 1;
  }
  LOG_INFO("Shutting down executor %s", key);
  send_shutdown(x);
  return 1;
}

void mesos__agent_exec_message(mesos_agent *a, const Mesos__Internal__FrameworkMessage *fm) {
  char key[600];
  snprintf(key, sizeof key, "%s/%s", fm->framework_id->value, fm->executor_id->value);
  mesos__agent_executor *x = mesos__map_get(&a->executors, key);
  if (x == NULL || x->stream == NULL) {
    LOG_INFO("framework message for %s dropped: no such subscribed executor", key);
    return;
  }
  Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
  Mesos__V1__Executor__Event__Message m = MESOS__V1__EXECUTOR__EVENT__MESSAGE__INIT;
  m.data = fm->data;
  ev.has_type = 1;
  ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__MESSAGE;
  ev.message = &m;
  send_event(x, &ev);
}

static void send_acked(mesos__agent_executor *x, Mesos__V1__TaskID *tid,
                       const ProtobufCBinaryData *uuid) {
  if (x->stream == NULL) return;
  Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
  Mesos__V1__Executor__Event__Acknowledged ack = MESOS__V1__EXECUTOR__EVENT__ACKNOWLEDGED__INIT;
  ack.task_id = tid;
  ack.uuid = *uuid;
  ev.has_type = 1;
  ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__ACKNOWLEDGED;
  ev.acknowledged = &ack;
  send_event(x, &ev);
}

void mesos__agent_exec_acked(mesos__agent_task *t, const ProtobufCBinaryData *uuid) {
  if (t->exec == NULL) return;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  tid.value = t->task_id;
  send_acked(t->exec, &tid, uuid);
}

void mesos__agent_exec_task_gone(mesos__agent_task *t) { t->exec = NULL; }

void mesos__agent_executors_release(mesos_agent *a) {
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->executors, &it, NULL, &v)) {
    mesos__agent_executor *x = v;
    if (!x->checkpoint || x->pid <= 0) continue;
    LOG_INFO("Leaving executor %s (pid %d) running for the next agent", x->key, (int)x->pid);
    if (x->containerized) mesos__agent_exec_container_leave(a, x->container_id);
    mesos_child_free(x->child);
    x->child = NULL;
    mesos__agent_pidwatch_free(x->watch);
    x->watch = NULL;
    x->pid = 0;
  }
}

mesos_status mesos__agent_exec_adopt(mesos_agent *a, const char *fw,
                                     const Mesos__Internal__ExecutorCheckpoint *ec,
                                     const Mesos__V1__TaskInfo *ti, Mesos__V1__TaskState state,
                                     mesos_error **err) {
  const Mesos__V1__ExecutorInfo *ei = ec->info;
  const char *eid = ei->executor_id->value;
  char key[600];
  snprintf(key, sizeof key, "%s/%s", fw, eid);
  mesos__agent_executor *x = mesos__map_get(&a->executors, key);
  mesos_status st = MESOS_OK;
  if (x == NULL) {
    x = MESOS__NEW(mesos__agent_executor);
    if (x == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    x->agent = a;
    x->is_default = ei->has_type && ei->type == MESOS__V1__EXECUTOR_INFO__TYPE__DEFAULT;
    x->checkpoint = 1;
    x->recovered = 1;
    x->media = MESOS__MEDIA_PROTOBUF;
    x->pid = ec->pid;
    x->pid_start = ec->pid_start_time;
    x->key = mesos__strdup(key);
    x->framework_id = mesos__strdup(fw);
    x->executor_id = mesos__strdup(eid);
    x->container_id = mesos__strdup(ec->container_id->value);
    x->info = (Mesos__V1__ExecutorInfo *)pb_copy(&ei->base, err);
    if (!x->key || !x->framework_id || !x->executor_id || !x->container_id || !x->info)
      st = mesos__err(err, MESOS_ENOMEM, "cannot copy the executor");
    mesos__agent_path_ids ids = {a->id, fw, eid, x->container_id, NULL};
    if (st == MESOS_OK)
      st = mesos__agent_path(&x->sandbox, a->work_dir, MESOS__AGENT_PATH_SANDBOX, &ids, err);
    if (st == MESOS_OK) st = mesos_timer_new(&x->reg_timer, a->loop, reg_timeout_cb, x, err);
    if (st == MESOS_OK) st = mesos_timer_new(&x->kill_timer, a->loop, kill_timer_cb, x, err);
    /* An executor in a container (its checkpointed pid is the container's
     * init): the containerizer recovered it and watches it again. */
    x->containerized = st == MESOS_OK && (mesos__agent_container_alive(a, x->container_id) ||
                                          mesos__agent_container_ended(a, x->container_id));
    if (st == MESOS_OK && !x->containerized)
      st = mesos__agent_pidwatch(a, x->pid, x->pid_start, watch_ended, x, &x->watch, err);
    if (st == MESOS_OK) st = mesos__map_put(&a->executors, key, x);
    if (st == MESOS_OK && x->containerized) {
      int32_t pid = 0;
      st = mesos__agent_exec_container_adopt(a, key, x->container_id, &pid, err);
      if (st != MESOS_OK) mesos__map_remove(&a->executors, key);
      else if (pid > 0) x->pid = pid;
    }
    if (st != MESOS_OK) {
      exec_free(x);
      return st;
    }
    /* Its time to re-subscribe starts now. */
    mesos_timer_start(x->reg_timer, a->exec_rereg_timeout_ms, 0);
    LOG_INFO("Recovered executor %s: pid %d alive, waiting %llu ms for it to re-subscribe", key,
             (int)x->pid, (unsigned long long)a->exec_rereg_timeout_ms);
  }
  if (ti == NULL) return MESOS_OK;
  mesos__agent_task *t = NULL;
  st = mesos__agent_task_new(a, fw, ti, eid, x->container_id, &t, err);
  if (st != MESOS_OK) return st;
  t->exec = x;
  t->use_executor = 1;
  t->checkpoint = 1;
  t->recovered = 1;
  t->exit_reason = -1;
  t->state = state;
  return MESOS_OK;
}

mesos_status mesos__agent_executors_report(mesos_agent *a, Mesos__V1__ExecutorInfo ***out,
                                           size_t *n) {
  *out = NULL;
  *n = 0;
  size_t count = mesos__map_count(&a->executors);
  if (count == 0) return MESOS_OK;
  Mesos__V1__ExecutorInfo **infos = mesos__calloc(count, sizeof *infos);
  if (infos == NULL) return MESOS_ENOMEM;
  size_t it = 0, k = 0;
  void *v;
  while (mesos__map_next(&a->executors, &it, NULL, &v) && k < count) {
    mesos__agent_executor *x = v;
    /* Only the live ones: an executor that ended uses no resources and
     * the master heard EXITED_EXECUTOR for it. */
    if (x->pid > 0 && x->info) infos[k++] = x->info;
  }
  *out = infos;
  *n = k;
  return MESOS_OK;
}

void mesos__agent_executors_free(mesos_agent *a) {
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->executors, &it, NULL, &v)) {
    mesos__agent_executor *x = v;
    /* A container's executor went with mesos__agent_containers_fini. */
    if (x->pid > 0 && !x->containerized) {
      mesos__agent_kill_session(x->pid, SIGKILL);
      mesos_child_free(x->child);
      x->child = NULL;
      waitpid(x->pid, NULL, 0);
    }
    exec_free(x);
  }
  mesos__map_free(&a->executors);
  mesos__map_init(&a->executors);
}

/* ------------------------------------------------------------ the endpoint */


void mesos__agent_executor_message_up(mesos_agent *a, const Mesos__V1__Executor__Call *call) {
  Mesos__Internal__AgentCall ac = MESOS__INTERNAL__AGENT_CALL__INIT;
  Mesos__Internal__FrameworkMessage fm = MESOS__INTERNAL__FRAMEWORK_MESSAGE__INIT;
  fm.framework_id = call->framework_id;
  fm.executor_id = call->executor_id;
  fm.data = call->message->data;
  ac.has_type = 1;
  ac.type = MESOS__INTERNAL__AGENT_CALL__TYPE__EXECUTOR_MESSAGE;
  ac.executor_message = &fm;
  mesos__agent_post(a, &ac);
}

static void stream_aborted(mesos__http_request *req, void *ud) {
  mesos__agent_executor *x = ud;
  if (x->stream == req) x->stream = NULL;
  LOG_INFO("executor %s: its event stream closed", x->key);
}

/* The updates a re-subscribing executor has no ACKNOWLEDGED for (after an
 * agent restart or a broken stream): each one the agent does not have
 * goes to the status update manager (the same uuid: it is what the
 * executor sends again and again until acknowledged); the ones the
 * framework acknowledged already are answered with ACKNOWLEDGED once the
 * executor is subscribed (listed in `acked`, returns how many). */
static size_t resubscribed_updates(mesos_agent *a, mesos__agent_executor *x,
                                   const Mesos__V1__Executor__Call__Subscribe *sub,
                                   const Mesos__V1__Executor__Call__Update **acked) {
  size_t nacked = 0;
  size_t n = sub->n_unacknowledged_updates;
  if (n > MESOS__AGENT_MAX_PENDING_UPDATES) n = MESOS__AGENT_MAX_PENDING_UPDATES;
  for (size_t i = 0; i < n; i++) {
    const Mesos__V1__Executor__Call__Update *u = sub->unacknowledged_updates[i];
    const Mesos__V1__TaskStatus *s = u ? u->status : NULL;
    mesos__agent_task *t = NULL;
    char key[600];
    if (s && s->task_id && s->task_id->value && s->has_uuid && s->uuid.len == 16) {
      snprintf(key, sizeof key, "%s/%s", x->framework_id, s->task_id->value);
      t = mesos__map_get(&a->tasks, key);
      /* Also for a task that is over (no longer in the table). */
      if (mesos__agent_status_known(a, key, s->uuid.data) == 2) {
        acked[nacked++] = u;
        continue;
      }
    }
    int r = t == NULL || t->exec != x ? -1 : mesos__agent_status_resubscribed(a, t, s);
    if (r < 0)
      LOG_WARN("executor %s: an unusable unacknowledged update in SUBSCRIBE is ignored", x->key);
    if (r == 1) acked[nacked++] = u;
  }
  return nacked;
}

/* After a (re-)subscription: a task adopted after an agent restart
 * (t->recovered) still in STAGING that the executor does not list never
 * reached it (the agent died between checkpointing and LAUNCH): it is
 * lost, as Mesos reports it.  A task killed while the executor was away
 * gets its KILL now. */
static void resubscribed_tasks(mesos_agent *a, mesos__agent_executor *x,
                               const Mesos__V1__Executor__Call__Subscribe *sub) {
  size_t it = 0;
  void *v;
  char **lost = NULL, **kill = NULL;
  size_t nlost = 0, nkill = 0, cap = mesos__map_count(&a->tasks);
  if (cap == 0) return;
  lost = mesos__calloc(cap, sizeof *lost);
  kill = mesos__calloc(cap, sizeof *kill);
  while (lost && kill && mesos__map_next(&a->tasks, &it, NULL, &v)) {
    mesos__agent_task *t = v;
    if (t->exec != x || t->terminal_seen) continue;
    int listed = 0;
    for (size_t i = 0; sub && i < sub->n_unacknowledged_tasks && !listed; i++) {
      const Mesos__V1__TaskInfo *ti = sub->unacknowledged_tasks[i];
      listed = ti && ti->task_id && ti->task_id->value &&
               strcmp(ti->task_id->value, t->task_id) == 0;
    }
    if (t->recovered && !listed && t->state == MESOS__V1__TASK_STATE__TASK_STAGING)
      lost[nlost++] = t->key;
    else if (t->killing) /* again, if it went out before: a kill is idempotent */
      kill[nkill++] = t->key;
    t->recovered = 0;
  }
  for (size_t i = 0; i < nlost; i++) {
    mesos__agent_task *t = mesos__map_get(&a->tasks, lost[i]);
    t->terminal_seen = 1;
    mesos__agent_task_update(t, MESOS__V1__TASK_STATE__TASK_LOST,
                             MESOS__V1__TASK_STATUS__REASON__REASON_AGENT_RESTARTED,
                             "The agent restarted before the executor got the task");
  }
  for (size_t i = 0; i < nkill; i++) {
    mesos__agent_task *t = mesos__map_get(&a->tasks, kill[i]);
    t->killing = 0;
    mesos__agent_exec_kill_task(t, NULL);
  }
  mesos__free(lost);
  mesos__free(kill);
}

static void subscribe(mesos_agent *a, mesos__agent_executor *x, mesos__http_request *req,
                      const Mesos__V1__Executor__Call__Subscribe *call) {
  mesos__negotiated resp;
  mesos__negotiate_response(mesos__http_request_header(req, "Accept"), NULL, false, &resp);
  if (resp.http_status) {
    mesos__http_respond_text(req, resp.http_status, resp.error);
    return;
  }
  Mesos__V1__FrameworkInfo *fi = mesos__map_get(&a->frameworks, x->framework_id);
  if (fi == NULL) {
    mesos__http_respond_text(req, 400, "Framework cannot be found");
    return;
  }
  if (x->stream) {
    /* A re-subscription replaces the old stream. */
    mesos__http_request *old = x->stream;
    x->stream = NULL;
    mesos__http_request_on_abort(old, NULL, NULL);
    mesos__http_stream_end(old);
  }
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", resp.message == MESOS__MEDIA_JSON
                                                  ? MESOS__MEDIA_TYPE_JSON
                                                  : MESOS__MEDIA_TYPE_PROTOBUF);
  mesos_status st = mesos__http_stream_start(req, 200, &h);
  mesos__http_headers_free(&h);
  if (st != MESOS_OK) return;
  x->stream = req;
  x->media = resp.message == MESOS__MEDIA_JSON ? MESOS__MEDIA_JSON : MESOS__MEDIA_PROTOBUF;
  mesos__http_request_on_abort(req, stream_aborted, x);
  mesos_timer_stop(x->reg_timer);
  size_t nupd = call ? call->n_unacknowledged_updates : 0;
  const Mesos__V1__Executor__Call__Update **acked = mesos__calloc(nupd ? nupd : 1, sizeof *acked);
  size_t nacked = acked && call ? resubscribed_updates(a, x, call, acked) : 0;

  Mesos__V1__Executor__Event ev = MESOS__V1__EXECUTOR__EVENT__INIT;
  Mesos__V1__Executor__Event__Subscribed sub = MESOS__V1__EXECUTOR__EVENT__SUBSCRIBED__INIT;
  Mesos__V1__ContainerID cid = MESOS__V1__CONTAINER_ID__INIT;
  Mesos__V1__AgentInfo ai = *a->info;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  cid.value = x->container_id;
  aid.value = a->id;
  ai.id = &aid;
  sub.executor_info = x->info;
  sub.framework_info = fi;
  sub.agent_info = &ai;
  sub.container_id = &cid;
  ev.has_type = 1;
  ev.type = MESOS__V1__EXECUTOR__EVENT__TYPE__SUBSCRIBED;
  ev.subscribed = &sub;
  if (send_event(x, &ev) != MESOS_OK) {
    mesos__free(acked);
    return;
  }
  LOG_INFO("Executor %s %s", x->key,
           x->recovered ? "re-subscribed after the agent restarted" : "subscribed");
  x->recovered = 0;
  for (size_t i = 0; i < nacked; i++)
    send_acked(x, acked[i]->status->task_id, &acked[i]->status->uuid);
  mesos__free(acked);
  resubscribed_tasks(a, x, call);
  while (x->q_head) {
    pending_launch *p = x->q_head;
    x->q_head = p->next;
    if (x->q_head == NULL) x->q_tail = NULL;
    x->nq--;
    send_launch(x, p->group, p->keys, p->n);
    pending_free(p);
  }
  if (x->shutting_down) send_shutdown(x);
}

/* ------------------------------------------------------------ containers (containers.h) */

static mesos__agent_executor *exec_of(mesos_agent *a, const char *key, const char *container_id) {
  mesos__agent_executor *x = key ? mesos__map_get(&a->executors, key) : NULL;
  if (x == NULL || !x->containerized ||
      (container_id && strcmp(container_id, x->container_id) != 0))
    return NULL;
  return x;
}

const Mesos__V1__ExecutorInfo *mesos__agent_exec_info(mesos_agent *a, const char *key,
                                                      const char *container_id) {
  mesos__agent_executor *x = exec_of(a, key, container_id);
  return x ? x->info : NULL;
}

static void add_resources(Mesos__V1__Resource *const *rs, size_t n, double *cpus, double *mem) {
  for (size_t i = 0; i < n; i++) {
    const Mesos__V1__Resource *r = rs[i];
    if (r->name == NULL || r->scalar == NULL) continue;
    if (strcmp(r->name, "cpus") == 0) *cpus += r->scalar->value;
    else if (strcmp(r->name, "mem") == 0) *mem += r->scalar->value;
  }
}

void mesos__agent_exec_resources(mesos_agent *a, const char *key, double *cpus, double *mem_mb) {
  *cpus = *mem_mb = 0;
  mesos__agent_executor *x = exec_of(a, key, NULL);
  if (x == NULL) return;
  /* As Mesos sizes an executor's container: its own resources plus those
   * of the tasks it runs (here: the ones known when its container starts). */
  add_resources(x->info->resources, x->info->n_resources, cpus, mem_mb);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->tasks, &it, NULL, &v)) {
    const mesos__agent_task *t = v;
    if (t->exec == x && !t->terminal_seen)
      add_resources(t->info->resources, t->info->n_resources, cpus, mem_mb);
  }
}

int mesos__agent_exec_container_started(mesos_agent *a, const char *key,
                                        const char *container_id, int32_t pid,
                                        const char *error) {
  mesos__agent_executor *x = exec_of(a, key, container_id);
  if (x == NULL || x->pid > 0) return 0;
  if (pid <= 0) {
    snprintf(x->fail_msg, sizeof x->fail_msg, "%s", error ? error : "The container did not start");
    if (!x->starting) exec_exited(x, -1);
    return 0;
  }
  if (x->shutting_down && x->stream == NULL) {
    /* Shut down (or left with nothing to run) while it was starting. */
    snprintf(x->fail_msg, sizeof x->fail_msg, "Executor shut down before its container started");
    exec_exited(x, -1);
    return 0;
  }
  x->pid = pid;
  checkpoint_pid(x);
  if (x->checkpoint) checkpoint_executor(x);
  mesos_timer_start(x->reg_timer, a->exec_reg_timeout_ms, 0);
  LOG_INFO("Executor %s started (container %s, init pid %d) in %s", x->key, x->container_id,
           (int)pid, x->sandbox);
  return 1;
}

void mesos__agent_exec_container_ended(mesos_agent *a, const char *key, const char *container_id,
                                       int wait_status, int reason, const char *message) {
  mesos__agent_executor *x = exec_of(a, key, container_id);
  if (x == NULL) return;
  if (reason >= 0 && message) {
    /* A limitation (memory): the executor's tasks fail with its reason. */
    snprintf(x->fail_msg, sizeof x->fail_msg, "%s", message);
    x->fail_reason = reason;
  }
  exec_exited(x, wait_status);
}

const char *mesos__agent_exec_container_id(mesos_agent *a, const char *key) {
  const mesos__agent_executor *x = mesos__map_get(&a->executors, key);
  return x ? x->container_id : NULL;
}

int mesos__agent_exec_call(mesos_agent *a, const char *key, mesos__http_request *req,
                           const Mesos__V1__Executor__Call *call) {
  mesos__agent_executor *x = mesos__map_get(&a->executors, key);
  if (x == NULL) return 0;
  switch (call->type) {
    case MESOS__V1__EXECUTOR__CALL__TYPE__SUBSCRIBE:
      subscribe(a, x, req, call->subscribe);
      break;
    case MESOS__V1__EXECUTOR__CALL__TYPE__UPDATE: {
      const Mesos__V1__TaskStatus *s = call->update->status;
      mesos__agent_task *t = NULL;
      if (s->task_id && s->task_id->value) {
        char tkey[600];
        snprintf(tkey, sizeof tkey, "%s/%s", x->framework_id, s->task_id->value);
        t = mesos__map_get(&a->tasks, tkey);
      }
      if (t == NULL || t->exec != x) {
        mesos__http_respond_text(req, 400,
                "Failed to validate executor::Call: the update is for a task this executor does "
                "not run");
      } else {
        int was_terminal = t->terminal_seen;
        mesos__agent_executor_update(a, t, req, call->update);
        if (!was_terminal && t->terminal_seen) exec_resize(x); /* its resources are free */
      }
      break;
    }
    case MESOS__V1__EXECUTOR__CALL__TYPE__MESSAGE:
      mesos__agent_executor_message_up(a, call);
      mesos__http_respond(req, 202, NULL, "", 0);
      break;
    default:
      mesos__http_respond_text(req, 501, "Unknown call type");
      break;
  }
  return 1;
}

/*
 * mesos-default-executor: the executor of task groups.  The agent starts
 * it (MESOS_* environment of the executor API) for RUN_TASK_GROUP with an
 * ExecutorInfo of type DEFAULT; it subscribes and runs every task of each
 * LAUNCH_GROUP it receives, as Mesos's default executor does:
 *
 *  - each task's CommandInfo (`sh -c value`, or `value` with `arguments`
 *    as argv) runs in its own process group with its own working directory
 *    tasks/<task id> under the executor's sandbox, holding the task's
 *    stdout and stderr files; MESOS_SANDBOX points there; the command's
 *    environment variables are added to (and override) the executor's;
 *    with CommandInfo.user it runs as that user (its groups too; the task
 *    directory becomes the user's), which needs the executor to be root;
 *  - each task's CommandInfo URIs are fetched into its directory before it
 *    starts (the library's fetcher: local paths, file://, http(s)://,
 *    archives extracted, output_file, executable); a failed fetch is
 *    TASK_FAILED with REASON_CONTAINER_LAUNCH_FAILED, as a containerized
 *    task's (and Mesos's) is, and takes the task's group down;
 *  - TASK_STARTING then TASK_RUNNING per task, TASK_FINISHED on exit 0,
 *    TASK_FAILED otherwise, TASK_KILLED when killed;
 *  - group semantics: when a task of a group fails or is killed, the other
 *    tasks of that group are killed; a KILL for one task kills its whole
 *    group (Mesos 1.x);
 *  - kills are SIGTERM, then SIGKILL after the kill policy's grace period
 *    (the KILL event's, else the task's, else
 *    MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD);
 *  - SHUTDOWN (or SIGTERM) kills every task;
 *  - once every task it was given is terminal, it exits (after the
 *    acknowledgements, or a few seconds; with MESOS_CHECKPOINT=1 it waits
 *    for them up to MESOS_RECOVERY_TIMEOUT, since the agent may be
 *    restarting);
 *  - agent restarts (MESOS_CHECKPOINT=1, a checkpointing framework): the
 *    tasks keep running while the executor client re-subscribes to the
 *    next agent with the tasks and updates not acknowledged yet; only when
 *    no agent comes back within MESOS_RECOVERY_TIMEOUT are the tasks
 *    killed and the executor exits.
 *
 * It uses the public API of libmesos-core (mesos/executor.h) and, linked
 * with the static library, the internal fetcher (provisioner/fetcher.h)
 * and executor additions (executor/executor_int.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mesos/mesos.h>

#include "executor/executor_int.h"
#include "provisioner/fetcher.h"

extern char **environ;

/* How long to wait for the acknowledgements of the last terminal updates
 * before exiting anyway: the agent checkpointed them when it answered the
 * UPDATE calls, so nothing is lost when we go. */
#define ACK_WAIT_MS 5000
/* Tasks over the executor's life: far above a real group's size. */
#define MAX_TASKS 4096
/* argv entries of one non-shell command. */
#define MAX_ARGS 4096
/* Variables a task's CommandInfo may add to its environment. */
#define MAX_ENV 4096
/* Supplementary groups of a task's user. */
#define MAX_GROUPS 256

typedef struct dexec dexec;

typedef struct dtask {
  dexec *x;
  char id[256];
  char dir[4400];
  size_t group;
  pid_t pid;
  mesos_child *child;
  mesos_timer *kill_timer;
  int64_t grace_ms; /* the task's own kill policy, -1: none */
  int killing;
  int terminal;
  struct fetch_op *fetch; /* its URIs are being fetched */
} dtask;

/* A fetch in flight: the task's copy outlives the LAUNCH_GROUP callback;
 * `t` is cleared when the task goes away first (the fetcher's callback
 * may come after, with MESOS_ECLOSED). */
typedef struct fetch_op {
  dtask *t;
  mesos_executor_task *task;
} fetch_op;

struct dexec {
  mesos_loop *loop;
  mesos_executor *client;
  mesos_timer *exit_timer;
  dtask *tasks[MAX_TASKS];
  size_t n;
  size_t groups;
  int shutting_down;
  int64_t default_grace_ms;
  int updates_sent, acks;
  int exit_code;
  /* MESOS_CHECKPOINT=1: the executor outlives agent restarts (the client
   * re-subscribes); MESOS_RECOVERY_TIMEOUT bounds the wait. */
  int checkpoint;
  int64_t recovery_timeout_ms;
  int64_t waited_ms;
  char sandbox[4096];
  mesos__fetcher *fetcher; /* made for the first task with URIs */
};

static void finish(dexec *x, int code) {
  x->exit_code = code;
  mesos_loop_stop(x->loop);
}

static void send_update_reason(dexec *x, const char *task_id, const char *state, int reason,
                               const char *message) {
  mesos_error *err = NULL;
  if (mesos__executor_update_reason(x->client, task_id, state, reason, message, &err) != MESOS_OK) {
    fprintf(stderr, "mesos-default-executor: cannot send %s for %s: %s\n", state, task_id,
            mesos_error_message(err));
    mesos_error_free(err);
    return;
  }
  x->updates_sent++;
}

static void send_update(dexec *x, const char *task_id, const char *state, const char *message) {
  mesos_error *err = NULL;
  if (mesos_executor_update(x->client, task_id, state, message, &err) != MESOS_OK) {
    fprintf(stderr, "mesos-default-executor: cannot send %s for %s: %s\n", state, task_id,
            mesos_error_message(err));
    mesos_error_free(err);
    return;
  }
  x->updates_sent++;
}

static int all_terminal(const dexec *x) {
  for (size_t i = 0; i < x->n; i++)
    if (!x->tasks[i]->terminal) return 0;
  return 1;
}

/* Exits once everything is terminal and acknowledged (or after a while). */
static void maybe_exit(dexec *x) {
  if (x->n == 0 && !x->shutting_down) return;
  if (!all_terminal(x)) return;
  if (x->acks >= x->updates_sent) finish(x, 0);
  else mesos_timer_start(x->exit_timer, ACK_WAIT_MS, 0);
}

static void on_exit_timer(mesos_timer *t, void *ud) {
  (void)t;
  dexec *x = ud;
  /* With checkpointing the agent may be away (restarting): updates not
   * acknowledged yet may exist only here, and go to the next agent when
   * the client re-subscribes.  So wait for them, up to the recovery
   * timeout, unless told to shut down. */
  if (x->checkpoint && x->acks < x->updates_sent && !x->shutting_down &&
      x->waited_ms < x->recovery_timeout_ms) {
    x->waited_ms += ACK_WAIT_MS;
    mesos_timer_start(x->exit_timer, ACK_WAIT_MS, 0);
    return;
  }
  finish(x, 0);
}

static void terminal_update_reason(dtask *t, const char *state, int reason,
                                   const char *message) {
  if (t->terminal) return;
  t->terminal = 1;
  fprintf(stderr, "mesos-default-executor: task %s: %s (%s)\n", t->id, state, message);
  send_update_reason(t->x, t->id, state, reason, message);
}

static void terminal_update(dtask *t, const char *state, const char *message) {
  terminal_update_reason(t, state, -1, message);
}

static void on_kill_timer(mesos_timer *timer, void *ud) {
  (void)timer;
  dtask *t = ud;
  if (t->pid > 0) {
    fprintf(stderr, "mesos-default-executor: task %s: grace period over, SIGKILL\n", t->id);
    kill(-t->pid, SIGKILL);
  }
}

static void kill_task(dtask *t, int64_t grace_ms) {
  if (t->terminal || t->killing) return;
  t->killing = 1;
  if (grace_ms < 0) grace_ms = t->grace_ms >= 0 ? t->grace_ms : t->x->default_grace_ms;
  if (t->pid <= 0) {
    terminal_update(t, "TASK_KILLED", "Killed before it started");
    return;
  }
  fprintf(stderr, "mesos-default-executor: killing task %s (SIGTERM, SIGKILL after %lld ms)\n",
          t->id, (long long)grace_ms);
  kill(-t->pid, SIGTERM);
  mesos_timer_start(t->kill_timer, (uint64_t)grace_ms, 0);
}

static void kill_group(dexec *x, size_t group, int64_t grace_ms) {
  for (size_t i = 0; i < x->n; i++)
    if (x->tasks[i]->group == group) kill_task(x->tasks[i], grace_ms);
}

static void child_exited(mesos_child *child, int32_t pid, int status, void *ud) {
  (void)pid;
  dtask *t = ud;
  dexec *x = t->x;
  mesos_child_free(child);
  t->child = NULL;
  t->pid = 0;
  mesos_timer_stop(t->kill_timer);
  char msg[128];
  if (WIFEXITED(status))
    snprintf(msg, sizeof msg, "Command exited with status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(msg, sizeof msg, "Command terminated with signal %s", strsignal(WTERMSIG(status)));
  else
    snprintf(msg, sizeof msg, "Command ended with wait status %d", status);
  int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  terminal_update(t, t->killing ? "TASK_KILLED" : ok ? "TASK_FINISHED" : "TASK_FAILED", msg);
  /* A task that did not finish takes its group with it. */
  if (t->killing || !ok) kill_group(x, t->group, -1);
  maybe_exit(x);
}

static void env_free(char **envp) {
  if (envp == NULL) return;
  for (size_t i = 0; envp[i]; i++) free(envp[i]);
  free(envp);
}

static char *env_entry(const char *name, const char *value) {
  size_t len = strlen(name) + strlen(value) + 2;
  char *e = malloc(len);
  if (e) snprintf(e, len, "%s=%s", name, value);
  return e;
}

/* Whether environment entry `entry` ("NAME=...") sets `name`. */
static int sets(const char *entry, const char *name) {
  size_t n = strlen(name);
  return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* The environment of a task: ours (the executor's), then the variables of
 * its CommandInfo (which win over ours), then MESOS_SANDBOX pointing at
 * the task's own directory.  Built before fork(); every entry is owned. */
static char **task_env(const dtask *t, const mesos_executor_task *task) {
  size_t n = 0, m = mesos_executor_task_env_count(task);
  while (environ && environ[n]) n++;
  if (m > MAX_ENV) return NULL;
  char **envp = calloc(n + m + 2, sizeof *envp);
  if (envp == NULL) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (sets(environ[i], "MESOS_SANDBOX")) continue;
    int replaced = 0;
    for (size_t j = 0; j < m && !replaced; j++)
      replaced = sets(environ[i], mesos_executor_task_env_name(task, j));
    if (replaced) continue;
    if ((envp[k++] = strdup(environ[i])) == NULL) goto oom;
  }
  for (size_t j = 0; j < m; j++) {
    const char *name = mesos_executor_task_env_name(task, j);
    /* A name that cannot be one (empty, with '=') is left out. */
    if (name == NULL || *name == '\0' || strchr(name, '=') || strcmp(name, "MESOS_SANDBOX") == 0)
      continue;
    if ((envp[k++] = env_entry(name, mesos_executor_task_env_value(task, j))) == NULL) goto oom;
  }
  if ((envp[k++] = env_entry("MESOS_SANDBOX", t->dir)) == NULL) goto oom;
  envp[k] = NULL;
  return envp;
oom:
  env_free(envp);
  return NULL;
}

/* The identity a task runs as (CommandInfo.user), looked up before fork():
 * getpwnam and getgrouplist are not async-signal-safe. */
typedef struct task_user {
  int set;
  uid_t uid;
  gid_t gid;
  gid_t groups[MAX_GROUPS];
  int ngroups;
} task_user;

/* 0, or an errno with `why` saying what is wrong. */
static int lookup_user(const char *name, task_user *u, char *why, size_t cap) {
  memset(u, 0, sizeof *u);
  if (name == NULL) return 0;
  errno = 0;
  struct passwd *pw = getpwnam(name);
  if (pw == NULL) {
    snprintf(why, cap, "no user '%.64s' on this host", name);
    return errno ? errno : ENOENT;
  }
  if (geteuid() != 0 && pw->pw_uid != geteuid()) {
    snprintf(why, cap, "running as user '%.64s' needs the executor to run as root", name);
    return EPERM;
  }
  u->set = geteuid() == 0;
  u->uid = pw->pw_uid;
  u->gid = pw->pw_gid;
  u->ngroups = MAX_GROUPS;
  if (getgrouplist(name, pw->pw_gid, u->groups, &u->ngroups) < 0) u->ngroups = 0;
  return 0;
}

/* Forks the task's command; 0 or an errno (`why` may say more). */
static int start_task(dtask *t, const mesos_executor_task *task, char *why, size_t cap) {
  const char *value = mesos_executor_task_command(task);
  if (value == NULL) return EINVAL;
  int shell = mesos_executor_task_shell(task);
  size_t argc = mesos_executor_task_argc(task);
  if (argc > MAX_ARGS) return E2BIG;
  task_user user;
  int rc = lookup_user(mesos_executor_task_user(task), &user, why, cap);
  if (rc != 0) return rc;
  /* The task writes in its own directory. */
  if (user.set && chown(t->dir, user.uid, user.gid) != 0) {
    rc = errno;
    snprintf(why, cap, "cannot give the task's directory to user '%.64s': %s",
             mesos_executor_task_user(task), strerror(rc));
    return rc;
  }
  char **argv = calloc(argc + 4, sizeof *argv);
  char **envp = task_env(t, task);
  char out_path[4500], err_path[4500];
  snprintf(out_path, sizeof out_path, "%s/stdout", t->dir);
  snprintf(err_path, sizeof err_path, "%s/stderr", t->dir);
  if (argv == NULL || envp == NULL) {
    free(argv);
    env_free(envp);
    return ENOMEM;
  }
  if (shell) {
    argv[0] = "sh";
    argv[1] = "-c";
    argv[2] = (char *)value;
  } else if (argc == 0) {
    argv[0] = (char *)value;
  } else {
    for (size_t i = 0; i < argc; i++) argv[i] = (char *)mesos_executor_task_arg(task, i);
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int errfd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || errfd < 0 || chdir(t->dir) != 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(errfd, 2);
    for (int fd = 3; fd < 1024; fd++) close(fd);
    /* Groups first, the uid last: after it nothing else may change. */
    if (user.set && (setgroups((size_t)user.ngroups, user.groups) != 0 ||
                     setgid(user.gid) != 0 || setuid(user.uid) != 0)) {
      static const char msg[] = "mesos-default-executor: cannot switch to the task's user\n";
      ssize_t ignored = write(2, msg, sizeof msg - 1);
      (void)ignored;
      _exit(126);
    }
    if (shell) execve("/bin/sh", argv, envp);
    else execvpe(argv[0], argv, envp);
    static const char msg[] = "mesos-default-executor: cannot execute the task's command\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  int saved = errno;
  free(argv);
  env_free(envp);
  if (pid < 0) return saved;
  setpgid(pid, pid); /* also here: no race with an early kill */
  t->pid = pid;
  mesos_error *err = NULL;
  if (mesos_child_new(&t->child, t->x->loop, pid, child_exited, t, &err) != MESOS_OK) {
    fprintf(stderr, "mesos-default-executor: %s\n", mesos_error_message(err));
    mesos_error_free(err);
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    t->pid = 0;
    return EIO;
  }
  return 0;
}

/* Starts task `t` (its directory made, URIs fetched) and reports it
 * RUNNING, or FAILED taking its group down. */
static void run_task(dtask *t, const mesos_executor_task *task) {
  char detail[300] = "";
  int rc = start_task(t, task, detail, sizeof detail);
  if (rc != 0) {
    char why[400];
    snprintf(why, sizeof why, "Cannot start the task: %s", detail[0] ? detail : strerror(rc));
    terminal_update(t, "TASK_FAILED", why);
    kill_group(t->x, t->group, -1);
    return;
  }
  fprintf(stderr, "mesos-default-executor: task %s started (pid %d) in %s\n", t->id, (int)t->pid,
          t->dir);
  send_update(t->x, t->id, "TASK_RUNNING", NULL);
}

static void fetched(mesos_status st, mesos_error *err, void *ud) {
  fetch_op *op = ud;
  dtask *t = op->t;
  if (t) t->fetch = NULL;
  if (t && !t->terminal && !t->killing) {
    if (st != MESOS_OK) {
      /* As a containerized task's failed fetch (and Mesos's). */
      char why[600];
      snprintf(why, sizeof why, "Cannot fetch the command's URIs: %s",
               err ? mesos_error_message(err) : mesos_status_str(st));
      terminal_update_reason(t, "TASK_FAILED",
                             MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, why);
      kill_group(t->x, t->group, -1);
    } else {
      run_task(t, op->task);
    }
  }
  mesos_error_free(err);
  mesos__executor_task_free(op->task);
  free(op);
  if (t) maybe_exit(t->x);
}

/* Fetches the task's CommandInfo URIs into its directory, then starts
 * it; 0, or an errno with `why` set (the task was not started). */
static int fetch_then_run(dtask *t, const mesos_executor_task *task, char *why, size_t cap) {
  const Mesos__V1__TaskInfo *ti = mesos__executor_task_info(task);
  dexec *x = t->x;
  mesos_error *err = NULL;
  if (x->fetcher == NULL) {
    mesos__fetcher_opts fo;
    memset(&fo, 0, sizeof fo);
    if (mesos__fetcher_new(x->loop, &fo, &x->fetcher, &err) != MESOS_OK) {
      snprintf(why, cap, "cannot set up the fetcher: %s", mesos_error_message(err));
      mesos_error_free(err);
      return EIO;
    }
  }
  fetch_op *op = calloc(1, sizeof *op);
  if (op == NULL || (op->task = mesos__executor_task_copy(task)) == NULL) {
    free(op);
    return ENOMEM;
  }
  op->t = t;
  t->fetch = op;
  mesos_status st = mesos__fetcher_fetch(x->fetcher, ti->command->uris, ti->command->n_uris, t->dir,
                                         fetched, op, &err);
  if (st != MESOS_OK) {
    snprintf(why, cap, "cannot fetch the command's URIs: %s",
             err ? mesos_error_message(err) : mesos_status_str(st));
    mesos_error_free(err);
    t->fetch = NULL;
    mesos__executor_task_free(op->task);
    free(op);
    return EINVAL;
  }
  return 0;
}

static void on_launch_group(mesos_executor *e, const mesos_executor_task *const *tasks, size_t n,
                            void *ud) {
  (void)e;
  dexec *x = ud;
  size_t group = x->groups++;
  size_t first = x->n;
  /* src[k]: the LAUNCH_GROUP entry of the k-th task made here. */
  const mesos_executor_task **src = calloc(n ? n : 1, sizeof *src);
  mesos_timer_stop(x->exit_timer);
  /* Every task is known (and STARTING) before any runs, so a task that
   * fails at once can take its whole group down. */
  for (size_t i = 0; i < n; i++) {
    const char *id = mesos_executor_task_id(tasks[i]);
    if (id == NULL) continue;
    if (src == NULL || x->n == MAX_TASKS || x->shutting_down) {
      send_update(x, id, "TASK_FAILED",
                  x->shutting_down ? "The executor is shutting down"
                  : src == NULL    ? "Out of memory"
                                   : "Too many tasks");
      continue;
    }
    dtask *t = calloc(1, sizeof *t);
    mesos_error *err = NULL;
    if (t == NULL || mesos_timer_new(&t->kill_timer, x->loop, on_kill_timer, t, &err) != MESOS_OK) {
      mesos_error_free(err);
      free(t);
      send_update(x, id, "TASK_FAILED", "Out of memory");
      continue;
    }
    t->x = x;
    t->group = group;
    t->grace_ms = mesos_executor_task_grace_ms(tasks[i]);
    snprintf(t->id, sizeof t->id, "%s", id);
    snprintf(t->dir, sizeof t->dir, "%s/tasks/%s", x->sandbox, id);
    src[x->n - first] = tasks[i];
    x->tasks[x->n++] = t;
    send_update(x, t->id, "TASK_STARTING", NULL);
  }
  char tasks_dir[4200];
  snprintf(tasks_dir, sizeof tasks_dir, "%s/tasks", x->sandbox);
  mkdir(tasks_dir, 0755);
  for (size_t i = first; i < x->n; i++) {
    dtask *t = x->tasks[i];
    if (t->terminal || t->killing) continue; /* its group was killed already */
    char detail[300] = "";
    int rc = strchr(t->id, '/') || strcmp(t->id, ".") == 0 || strcmp(t->id, "..") == 0
                 ? EINVAL
             : (mkdir(t->dir, 0755) == 0 || errno == EEXIST) ? 0
                                                              : errno;
    const Mesos__V1__TaskInfo *ti = mesos__executor_task_info(src[i - first]);
    if (rc == 0 && ti && ti->command && ti->command->n_uris > 0) {
      rc = fetch_then_run(t, src[i - first], detail, sizeof detail);
      if (rc == 0) continue; /* started once fetched */
      char why[400];
      snprintf(why, sizeof why, "Cannot start the task: %s", detail[0] ? detail : strerror(rc));
      terminal_update_reason(t, "TASK_FAILED",
                             MESOS__V1__TASK_STATUS__REASON__REASON_CONTAINER_LAUNCH_FAILED, why);
      kill_group(x, group, -1);
      continue;
    }
    if (rc != 0) {
      char why[400];
      snprintf(why, sizeof why, "Cannot start the task: %s", detail[0] ? detail : strerror(rc));
      terminal_update(t, "TASK_FAILED", why);
      kill_group(x, group, -1);
      continue;
    }
    run_task(t, src[i - first]);
  }
  free(src);
  maybe_exit(x);
}

static void on_launch(mesos_executor *e, const mesos_executor_task *task, void *ud) {
  /* Not what the default executor is for, but harmless: a group of one. */
  const mesos_executor_task *one[] = {task};
  on_launch_group(e, one, 1, ud);
}

static void on_kill(mesos_executor *e, const char *task_id, int64_t grace_ms, void *ud) {
  (void)e;
  dexec *x = ud;
  for (size_t i = 0; i < x->n; i++) {
    if (strcmp(x->tasks[i]->id, task_id) == 0) {
      /* Mesos 1.x: killing a task of a group kills the group. */
      kill_group(x, x->tasks[i]->group, grace_ms);
      maybe_exit(x);
      return;
    }
  }
  fprintf(stderr, "mesos-default-executor: KILL for unknown task %s\n", task_id);
}

static void on_acknowledged(mesos_executor *e, const char *task_id, const uint8_t uuid[16],
                            void *ud) {
  (void)e, (void)task_id, (void)uuid;
  dexec *x = ud;
  x->acks++;
  if (x->n > 0 && all_terminal(x) && x->acks >= x->updates_sent) finish(x, 0);
}

static void shutdown_all(dexec *x) {
  x->shutting_down = 1;
  for (size_t i = 0; i < x->n; i++) kill_task(x->tasks[i], -1);
  maybe_exit(x);
}

static void on_shutdown(mesos_executor *e, void *ud) {
  (void)e;
  shutdown_all(ud);
}

static void on_disconnected(mesos_executor *e, const char *why, void *ud) {
  (void)e;
  dexec *x = ud;
  fprintf(stderr, "mesos-default-executor: lost the agent: %s\n", why);
  for (size_t i = 0; i < x->n; i++)
    if (x->tasks[i]->pid > 0) kill(-x->tasks[i]->pid, SIGKILL);
  finish(x, x->n > 0 && all_terminal(x) ? 0 : 1);
}

static void on_signal(mesos_signal *sig, int signum, void *ud) {
  (void)sig, (void)signum;
  shutdown_all(ud);
}

/* "5secs", "500ms", "1mins" -> ms; -1 when unparsable. */
static int64_t parse_duration_ms(const char *s) {
  if (s == NULL) return -1;
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s || v < 0) return -1;
  if (strcmp(end, "ms") == 0) return (int64_t)v;
  if (strcmp(end, "secs") == 0 || strcmp(end, "") == 0) return (int64_t)(v * 1000);
  if (strcmp(end, "mins") == 0) return (int64_t)(v * 60000);
  if (strcmp(end, "hrs") == 0) return (int64_t)(v * 3600000);
  if (strcmp(end, "days") == 0) return (int64_t)(v * 86400000);
  if (strcmp(end, "us") == 0) return (int64_t)(v / 1000);
  if (strcmp(end, "ns") == 0) return (int64_t)(v / 1e6);
  return -1;
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc > 1) {
    fprintf(stderr, "usage: mesos-default-executor (started by mesos-agent for task groups, "
                    "configured through MESOS_* environment variables)\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  static dexec x;
  x.default_grace_ms = parse_duration_ms(getenv("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"));
  if (x.default_grace_ms < 0) x.default_grace_ms = 5000;
  const char *cp = getenv("MESOS_CHECKPOINT");
  x.checkpoint = cp && strcmp(cp, "1") == 0;
  x.recovery_timeout_ms = parse_duration_ms(getenv("MESOS_RECOVERY_TIMEOUT"));
  if (x.recovery_timeout_ms < 0) x.recovery_timeout_ms = 15 * 60 * 1000;
  x.exit_code = 1;
  const char *sb = getenv("MESOS_SANDBOX");
  if (sb == NULL || *sb == '\0') sb = getenv("MESOS_DIRECTORY");
  if (sb == NULL || *sb == '\0') sb = ".";
  snprintf(x.sandbox, sizeof x.sandbox, "%s", sb);
  mesos_error *err = NULL;
  mesos_signal *sigterm = NULL;
  mesos_executor_callbacks cbs = MESOS_EXECUTOR_CALLBACKS_INIT;
  cbs.launch = on_launch;
  cbs.launch_group = on_launch_group;
  cbs.kill = on_kill;
  cbs.acknowledged = on_acknowledged;
  cbs.shutdown = on_shutdown;
  cbs.disconnected = on_disconnected;
  if (mesos_loop_new(&x.loop, NULL, &err) != MESOS_OK ||
      mesos_timer_new(&x.exit_timer, x.loop, on_exit_timer, &x, &err) != MESOS_OK ||
      mesos_signal_new(&sigterm, x.loop, SIGTERM, on_signal, &x, &err) != MESOS_OK ||
      mesos_executor_new(&x.client, x.loop, NULL, &cbs, &x, &err) != MESOS_OK) {
    fprintf(stderr, "mesos-default-executor: %s\n",
            err ? mesos_error_message(err) : "start-up failed");
    mesos_error_free(err);
  } else {
    mesos_loop_run(x.loop, NULL);
  }
  for (size_t i = 0; i < x.n; i++)
    if (x.tasks[i]->fetch) x.tasks[i]->fetch->t = NULL; /* its callback may come later */
  mesos__fetcher_free(x.fetcher);
  for (size_t i = 0; i < x.n; i++) {
    dtask *t = x.tasks[i];
    if (t->pid > 0) kill(-t->pid, SIGKILL);
    mesos_child_free(t->child);
    mesos_timer_free(t->kill_timer);
    free(t);
  }
  mesos_signal_free(sigterm);
  mesos_timer_free(x.exit_timer);
  mesos_executor_free(x.client);
  if (x.loop) {
    while (mesos_loop_run_once(x.loop) > 0) {
    }
    mesos_loop_free(x.loop);
  }
  return x.exit_code;
}

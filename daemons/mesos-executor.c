/*
 * mesos-executor: the command executor.  The agent starts it (with the
 * MESOS_* environment of the executor API) for a task that has a
 * CommandInfo; it subscribes, runs the task's command (`sh -c value`, or
 * `value` with `arguments` as argv) in its own process group, reports
 * TASK_STARTING, TASK_RUNNING and the terminal state, honours KILL with
 * SIGTERM then SIGKILL after the grace period, and exits once the terminal
 * update is acknowledged (or a few seconds after sending it).
 * Everything it does is available to a program linking libmesos-core.
 *
 * For a framework with checkpointing (MESOS_CHECKPOINT=1) it outlives the
 * agent: the task keeps running while the client re-subscribes (see
 * lib/executor/executor.c), and after the terminal update it waits for the
 * acknowledgement or the agent's SHUTDOWN instead of a fixed delay, so an
 * update sent while the agent is down is never given up.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mesos/mesos.h>

extern char **environ;

/* How long to wait for the acknowledgement of the terminal update before
 * exiting anyway.  Not a few seconds: the UPDATE calls go out one at a
 * time, and on a busy agent the terminal one can still be queued here
 * after 5 s (seen in bench_task_launch: the executor exited first and the
 * task was reported TASK_FAILED).  Normally the acknowledgement, or the
 * agent's SHUTDOWN a few seconds after it has the update, ends us first. */
#define ACK_WAIT_MS 60000

typedef struct executor {
  mesos_loop *loop;
  mesos_executor *client;
  mesos_child *child;
  mesos_timer *kill_timer;
  mesos_timer *exit_timer;
  mesos_timer *spawn_timer; /* see on_launch */
  /* The task's command between LAUNCH and its start (owned copies). */
  char **argv;
  int shell;
  int spawn_wait; /* 0: nothing pending; 1, 2: the steps of on_launch's wait */
  char task_id[256];
  pid_t pid;
  int launched;
  int killing;
  int terminal_sent;
  int updates_sent;
  int acks;
  int64_t default_grace_ms;
  int exit_code;
  int checkpoint; /* MESOS_CHECKPOINT=1 */
} executor;

static void finish(executor *x, int code) {
  x->exit_code = code;
  mesos_loop_stop(x->loop);
}

/* After the terminal update: without checkpointing, exit after ACK_WAIT_MS
 * even without the acknowledgement (the agent has the update once it
 * answered the call).  With it, wait: the agent may be down and get the
 * update only when the client re-subscribes; it sends SHUTDOWN once it has
 * it. */
static void await_exit(executor *x) {
  x->terminal_sent = 1;
  if (!x->checkpoint) mesos_timer_start(x->exit_timer, ACK_WAIT_MS, 0);
}

static void send_update(executor *x, const char *state, const char *message) {
  mesos_error *err = NULL;
  if (mesos_executor_update(x->client, x->task_id, state, message, &err) != MESOS_OK) {
    fprintf(stderr, "mesos-executor: cannot send %s: %s\n", state, mesos_error_message(err));
    mesos_error_free(err);
    return;
  }
  x->updates_sent++;
}

static void on_exit_timer(mesos_timer *t, void *ud) {
  (void)t;
  finish(ud, 0);
}

static void child_exited(mesos_child *child, int32_t pid, int status, void *ud) {
  (void)pid;
  executor *x = ud;
  mesos_child_free(child);
  x->child = NULL;
  x->pid = 0;
  mesos_timer_stop(x->kill_timer);
  char msg[128];
  if (WIFEXITED(status))
    snprintf(msg, sizeof msg, "Command exited with status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(msg, sizeof msg, "Command terminated with signal %s", strsignal(WTERMSIG(status)));
  else
    snprintf(msg, sizeof msg, "Command ended with wait status %d", status);
  fprintf(stderr, "mesos-executor: %s\n", msg);
  const char *state = x->killing                                     ? "TASK_KILLED"
                      : WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "TASK_FINISHED"
                                                                      : "TASK_FAILED";
  send_update(x, state, msg);
  await_exit(x);
}

static void on_kill_timer(mesos_timer *t, void *ud) {
  (void)t;
  executor *x = ud;
  if (x->pid > 0) {
    fprintf(stderr, "mesos-executor: grace period over, sending SIGKILL\n");
    kill(-x->pid, SIGKILL);
  }
}

static void free_argv(executor *x) {
  for (size_t i = 0; x->argv && x->argv[i]; i++) free(x->argv[i]);
  free(x->argv);
  x->argv = NULL;
}

static void kill_task(executor *x, int64_t grace_ms) {
  if (x->spawn_wait && !x->killing) {
    /* Not started yet (see on_launch): it never will be. */
    x->killing = 1;
    x->spawn_wait = 0;
    mesos_timer_stop(x->spawn_timer);
    free_argv(x);
    send_update(x, "TASK_KILLED", "Killed before the command started");
    await_exit(x);
    return;
  }
  if (x->pid <= 0 || x->killing) return;
  x->killing = 1;
  if (grace_ms < 0) grace_ms = x->default_grace_ms;
  fprintf(stderr, "mesos-executor: killing the task (SIGTERM, SIGKILL after %lld ms)\n",
          (long long)grace_ms);
  kill(-x->pid, SIGTERM);
  mesos_timer_start(x->kill_timer, (uint64_t)grace_ms, 0);
}

/* Starts the command of x->argv (see on_launch for when). */
static void spawn_task(executor *x) {
  char **argv = x->argv;
  x->argv = NULL;
  fflush(NULL);
  /* posix_spawn, not fork: no copy of the executor's page tables and no
   * copy-on-write faults afterwards (this runs once per task).  The task
   * gets its own process group, every signal at its default (we ignore
   * SIGPIPE and handle SIGTERM) and none blocked. */
  pid_t pid = -1;
  posix_spawnattr_t attr;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  int rc = posix_spawnattr_init(&attr);
  if (rc == 0) {
    rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                             POSIX_SPAWN_SETSIGDEF);
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (rc == 0)
      rc = x->shell ? posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ)
                    : posix_spawnp(&pid, argv[0], NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
  }
  if (rc != 0) {
    char msg[512];
    snprintf(msg, sizeof msg, "Cannot execute '%s': %s", x->shell ? "/bin/sh" : argv[0],
             strerror(rc));
    fprintf(stderr, "mesos-executor: %s\n", msg);
    x->argv = argv;
    free_argv(x);
    send_update(x, "TASK_FAILED", msg);
    await_exit(x);
    return;
  }
  x->argv = argv;
  free_argv(x);
  x->pid = pid;
  mesos_error *err = NULL;
  if (mesos_child_new(&x->child, x->loop, pid, child_exited, x, &err) != MESOS_OK) {
    fprintf(stderr, "mesos-executor: %s\n", mesos_error_message(err));
    mesos_error_free(err);
    kill(-pid, SIGKILL);
    finish(x, 1);
    return;
  }
  fprintf(stderr, "mesos-executor: task %s started (pid %d)\n", x->task_id, (int)pid);
  send_update(x, "TASK_RUNNING", NULL);
}

/* Step 1 (next loop turn, before its I/O) arms step 2 for 1 ms later, which
 * libuv cannot run before that turn's I/O: a timer started from a timer
 * callback with 0 ms would run in the same pass. */
static void on_spawn_timer(mesos_timer *t, void *ud) {
  executor *x = ud;
  if (x->spawn_wait == 1) {
    x->spawn_wait = 2;
    mesos_timer_start(t, 1, 0);
    return;
  }
  if (x->spawn_wait != 2) return;
  x->spawn_wait = 0;
  spawn_task(x);
}

static void on_launch(mesos_executor *e, const mesos_executor_task *task, void *ud) {
  (void)e;
  executor *x = ud;
  if (x->launched) {
    fprintf(stderr, "mesos-executor: a second LAUNCH is ignored (one task per executor)\n");
    return;
  }
  x->launched = 1;
  snprintf(x->task_id, sizeof x->task_id, "%s", mesos_executor_task_id(task));
  const char *value = mesos_executor_task_command(task);
  if (value == NULL) {
    send_update(x, "TASK_FAILED", "The task has no command");
    await_exit(x);
    return;
  }
  x->shell = mesos_executor_task_shell(task);
  size_t argc = mesos_executor_task_argc(task);
  if (argc > 4096) argc = 4096;
  /* Copies: the task is valid during this callback only. */
  x->argv = calloc(argc + 4, sizeof *x->argv);
  int nomem = x->argv == NULL;
  if (!nomem && x->shell) {
    nomem = (x->argv[0] = strdup("sh")) == NULL || (x->argv[1] = strdup("-c")) == NULL ||
            (x->argv[2] = strdup(value)) == NULL;
  } else if (!nomem && argc == 0) {
    nomem = (x->argv[0] = strdup(value)) == NULL;
  } else if (!nomem) {
    for (size_t i = 0; i < argc && !nomem; i++) {
      const char *arg = mesos_executor_task_arg(task, i);
      nomem = (x->argv[i] = strdup(arg ? arg : "")) == NULL;
    }
  }
  if (nomem) {
    free_argv(x);
    send_update(x, "TASK_FAILED", "Out of memory");
    await_exit(x);
    return;
  }
  /* CommandInfo.environment over the executor's own, as Mesos's command
   * executor gives it to the task (which inherits `environ`). */
  for (size_t i = 0; i < mesos_executor_task_env_count(task); i++) {
    const char *name = mesos_executor_task_env_name(task, i);
    const char *val = mesos_executor_task_env_value(task, i);
    if (name && name[0] && strchr(name, '=') == NULL) setenv(name, val ? val : "", 1);
  }
  int64_t grace = mesos_executor_task_grace_ms(task);
  if (grace >= 0) x->default_grace_ms = grace;
  send_update(x, "TASK_STARTING", NULL);
  /* The command starts one loop turn later, after that turn's I/O, not
   * here.  Why: posix_spawn sleeps until the child has exec'ed (on a busy
   * 2-core machine tens of ms, up to 0.5 s seen in strace), and
   * TASK_STARTING's request only leaves when the loop runs its I/O (its
   * connection was just opened).  Spawning here held TASK_STARTING back
   * by the whole spawn, and TASK_RUNNING reaches the framework only after
   * TASK_STARTING's acknowledgement came back through the agent and the
   * master: the spawn was on the whole ACCEPT->TASK_RUNNING path.  Now
   * the two overlap. */
  x->spawn_wait = 1;
  mesos_timer_start(x->spawn_timer, 0, 0);
}

static void on_kill(mesos_executor *e, const char *task_id, int64_t grace_ms, void *ud) {
  (void)e;
  executor *x = ud;
  if (strcmp(task_id, x->task_id) == 0) kill_task(x, grace_ms);
}

static void on_acknowledged(mesos_executor *e, const char *task_id, const uint8_t uuid[16],
                            void *ud) {
  (void)e, (void)task_id, (void)uuid;
  executor *x = ud;
  x->acks++;
  /* The agent delivers updates in order, so the last acknowledgement is
   * the terminal update's. */
  if (x->terminal_sent && x->acks >= x->updates_sent) finish(x, 0);
}

static void on_shutdown(mesos_executor *e, void *ud) {
  (void)e;
  executor *x = ud;
  if (x->pid > 0 || x->spawn_wait) kill_task(x, -1);
  else finish(x, 0);
}

static void on_disconnected(mesos_executor *e, const char *why, void *ud) {
  (void)e;
  executor *x = ud;
  fprintf(stderr, "mesos-executor: lost the agent: %s\n", why);
  if (x->pid > 0) kill(-x->pid, SIGKILL);
  finish(x, x->terminal_sent ? 0 : 1);
}

static void on_signal(mesos_signal *sig, int signum, void *ud) {
  (void)sig, (void)signum;
  executor *x = ud;
  if (x->pid > 0 || x->spawn_wait) kill_task(x, -1);
  else finish(x, 0);
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
  if (strcmp(end, "us") == 0) return (int64_t)(v / 1000);
  if (strcmp(end, "ns") == 0) return (int64_t)(v / 1e6);
  return -1;
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc > 1) {
    fprintf(stderr, "usage: mesos-executor (started by mesos-agent, configured through MESOS_* "
                    "environment variables)\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  executor x;
  memset(&x, 0, sizeof x);
  x.default_grace_ms = parse_duration_ms(getenv("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"));
  if (x.default_grace_ms < 0) x.default_grace_ms = 5000;
  const char *cp = getenv("MESOS_CHECKPOINT");
  x.checkpoint = cp && strcmp(cp, "1") == 0;
  x.exit_code = 1;
  mesos_error *err = NULL;
  mesos_signal *sigterm = NULL;
  mesos_executor_callbacks cbs = {MESOS_EXECUTOR_CALLBACKS_VERSION, NULL, on_launch, on_kill,
                                  on_acknowledged, on_shutdown, on_disconnected, NULL};
  if (mesos_loop_new(&x.loop, NULL, &err) != MESOS_OK ||
      mesos_timer_new(&x.kill_timer, x.loop, on_kill_timer, &x, &err) != MESOS_OK ||
      mesos_timer_new(&x.exit_timer, x.loop, on_exit_timer, &x, &err) != MESOS_OK ||
      mesos_timer_new(&x.spawn_timer, x.loop, on_spawn_timer, &x, &err) != MESOS_OK ||
      mesos_signal_new(&sigterm, x.loop, SIGTERM, on_signal, &x, &err) != MESOS_OK ||
      mesos_executor_new(&x.client, x.loop, NULL, &cbs, &x, &err) != MESOS_OK) {
    fprintf(stderr, "mesos-executor: %s\n", err ? mesos_error_message(err) : "start-up failed");
    mesos_error_free(err);
  } else {
    mesos_loop_run(x.loop, NULL);
  }
  if (x.pid > 0) kill(-x.pid, SIGKILL);
  mesos_child_free(x.child);
  mesos_signal_free(sigterm);
  mesos_timer_free(x.kill_timer);
  mesos_timer_free(x.exit_timer);
  mesos_timer_free(x.spawn_timer);
  free_argv(&x);
  mesos_executor_free(x.client);
  if (x.loop) {
    while (mesos_loop_run_once(x.loop) > 0) {
    }
    mesos_loop_free(x.loop);
  }
  return x.exit_code;
}

/*
 * custom_executor: a framework's own executor, on the C executor client
 * (mesos/executor.h).  A framework names it in TaskInfo.executor
 * (ExecutorInfo type CUSTOM, command = the path of this program); the
 * agent starts it once per ExecutorID and hands it every task for that id.
 *
 * It runs each task's shell command (`sh -c value`; a task without a
 * CommandInfo runs $CUSTOM_EXECUTOR_TASK_COMMAND, which the framework may
 * set in the ExecutorInfo's environment, else nothing) in its own process
 * group, in the executor's sandbox, several at a time if asked; reports
 * TASK_RUNNING, then TASK_FINISHED or TASK_FAILED; KILL sends SIGTERM to
 * the task (SIGKILL after the grace period); it stays up between tasks and
 * exits on SHUTDOWN (after killing what runs) or when the agent goes away.
 * Each task it starts is logged to stdout as
 *   custom_executor <pid>: task <task id>
 * so one can see which executor process ran which task.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mesos/mesos.h>

#define MAX_RUNNING 64

typedef struct job {
  char id[256];
  pid_t pid;
  mesos_child *child;
  mesos_timer *kill_timer;
  int killing;
  struct app *app;
} job;

typedef struct app {
  mesos_loop *loop;
  mesos_executor *client;
  job jobs[MAX_RUNNING];
  int shutting_down;
  int exit_code;
} app;

static void update(app *x, const char *task_id, const char *state, const char *message) {
  mesos_error *err = NULL;
  if (mesos_executor_update(x->client, task_id, state, message, &err) != MESOS_OK) {
    fprintf(stderr, "custom_executor: cannot send %s: %s\n", state, mesos_error_message(err));
    mesos_error_free(err);
  }
}

static int running(const app *x) {
  int n = 0;
  for (int i = 0; i < MAX_RUNNING; i++) n += x->jobs[i].pid > 0;
  return n;
}

static void job_exited(mesos_child *child, int32_t pid, int status, void *ud) {
  (void)pid;
  job *j = ud;
  app *x = j->app;
  mesos_child_free(child);
  mesos_timer_free(j->kill_timer);
  j->child = NULL;
  j->kill_timer = NULL;
  j->pid = 0;
  char msg[128];
  int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (WIFEXITED(status)) snprintf(msg, sizeof msg, "exit status %d", WEXITSTATUS(status));
  else snprintf(msg, sizeof msg, "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  update(x, j->id, j->killing ? "TASK_KILLED" : ok ? "TASK_FINISHED" : "TASK_FAILED", msg);
  if (x->shutting_down && running(x) == 0) {
    x->exit_code = 0;
    mesos_loop_stop(x->loop);
  }
}

static void on_kill_timer(mesos_timer *t, void *ud) {
  (void)t;
  job *j = ud;
  if (j->pid > 0) kill(-j->pid, SIGKILL);
}

static void kill_job(job *j, int64_t grace_ms) {
  if (j->pid <= 0 || j->killing) return;
  j->killing = 1;
  kill(-j->pid, SIGTERM);
  mesos_timer_start(j->kill_timer, grace_ms >= 0 ? (uint64_t)grace_ms : 3000, 0);
}

static void on_launch(mesos_executor *e, const mesos_executor_task *task, void *ud) {
  (void)e;
  app *x = ud;
  const char *id = mesos_executor_task_id(task);
  const char *cmd = mesos_executor_task_command(task);
  if (cmd == NULL) cmd = getenv("CUSTOM_EXECUTOR_TASK_COMMAND");
  if (cmd == NULL) cmd = "true";
  job *j = NULL;
  for (int i = 0; i < MAX_RUNNING && j == NULL; i++)
    if (x->jobs[i].pid == 0) j = &x->jobs[i];
  if (j == NULL || x->shutting_down) {
    update(x, id, "TASK_FAILED", "executor busy or shutting down");
    return;
  }
  memset(j, 0, sizeof *j);
  j->app = x;
  snprintf(j->id, sizeof j->id, "%s", id);
  printf("custom_executor %d: task %s\n", (int)getpid(), id);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  mesos_error *err = NULL;
  if (pid < 0 || mesos_timer_new(&j->kill_timer, x->loop, on_kill_timer, j, &err) != MESOS_OK) {
    mesos_error_free(err);
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
    }
    update(x, id, "TASK_FAILED", "cannot start the command");
    return;
  }
  setpgid(pid, pid);
  j->pid = pid;
  if (mesos_child_new(&j->child, x->loop, pid, job_exited, j, &err) != MESOS_OK) {
    mesos_error_free(err);
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    j->pid = 0;
    mesos_timer_free(j->kill_timer);
    j->kill_timer = NULL;
    update(x, id, "TASK_FAILED", "cannot watch the command");
    return;
  }
  update(x, id, "TASK_RUNNING", NULL);
}

static void on_kill(mesos_executor *e, const char *task_id, int64_t grace_ms, void *ud) {
  (void)e;
  app *x = ud;
  for (int i = 0; i < MAX_RUNNING; i++)
    if (x->jobs[i].pid > 0 && strcmp(x->jobs[i].id, task_id) == 0) kill_job(&x->jobs[i], grace_ms);
}

static void on_shutdown(mesos_executor *e, void *ud) {
  (void)e;
  app *x = ud;
  x->shutting_down = 1;
  for (int i = 0; i < MAX_RUNNING; i++) kill_job(&x->jobs[i], -1);
  if (running(x) == 0) {
    x->exit_code = 0;
    mesos_loop_stop(x->loop);
  }
}

static void on_disconnected(mesos_executor *e, const char *why, void *ud) {
  (void)e;
  app *x = ud;
  fprintf(stderr, "custom_executor: lost the agent: %s\n", why);
  mesos_loop_stop(x->loop);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  static app x;
  x.exit_code = 1;
  mesos_error *err = NULL;
  mesos_executor_callbacks cbs = MESOS_EXECUTOR_CALLBACKS_INIT;
  cbs.launch = on_launch;
  cbs.kill = on_kill;
  cbs.shutdown = on_shutdown;
  cbs.disconnected = on_disconnected;
  if (mesos_loop_new(&x.loop, NULL, &err) != MESOS_OK ||
      mesos_executor_new(&x.client, x.loop, NULL, &cbs, &x, &err) != MESOS_OK) {
    fprintf(stderr, "custom_executor: %s\n", err ? mesos_error_message(err) : "start-up failed");
    mesos_error_free(err);
  } else {
    mesos_loop_run(x.loop, NULL);
  }
  for (int i = 0; i < MAX_RUNNING; i++) {
    if (x.jobs[i].pid > 0) kill(-x.jobs[i].pid, SIGKILL);
    mesos_child_free(x.jobs[i].child);
    mesos_timer_free(x.jobs[i].kill_timer);
  }
  mesos_executor_free(x.client);
  if (x.loop) {
    while (mesos_loop_run_once(x.loop) > 0) {
    }
    mesos_loop_free(x.loop);
  }
  return x.exit_code;
}

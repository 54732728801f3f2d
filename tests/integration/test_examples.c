/*
 * The example frameworks (examples/launch_n_tasks.c, examples/service.c),
 * run as the programs users run, against the real mesos-master and a
 * simulated agent that plays the task lifecycle (RUNNING, then FINISHED
 * when asked to).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/certs.h"
#include "support/daemon.h"
#include "support/sim_agent.h"
#include "support/testutil.h"

static pid_t master_pid = -1;
static int master_port;
/* Outputs go to a directory made before the tests and removed after them
 * by the runner process, so a failing test leaves no file behind. */
static char tmpdir[64];
static char out_path[128];

static void make_tmpdir(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sched-examples-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) tmpdir[0] = '\0';
}

static void remove_tmpdir(void) { mesos_test_rmtree(tmpdir); }

static void start_master(void) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                  "--agent_ping_timeout=10secs", "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));
}

static void stop_master(void) {
  int st = mesos_test_stop(master_pid, 3000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  master_pid = -1;
}

/* $O/examples/<name>, next to $O/bin/. */
static void example_path(const char *name, char *buf, size_t cap) {
  char bin[4096];
  mesos_test_daemon_path("x", bin, sizeof bin);
  size_t n = strlen(bin);
  ck_assert(n > 6 && strcmp(bin + n - 6, "/bin/x") == 0);
  bin[n - 6] = '\0';
  snprintf(buf, cap, "%s/examples/%s", bin, name);
  ck_assert_msg(access(buf, X_OK) == 0, "%s is not built", buf);
}

/* Runs an example with stdout and stderr in out_path; it dies with us. */
static pid_t run_example(char *const argv[]) {
  ck_assert_msg(tmpdir[0] != '\0', "no temporary directory");
  snprintf(out_path, sizeof out_path, "%s/example-%d.out", tmpdir, (int)getpid());
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

/* Waits up to `timeout_ms` for the example; returns its wait status, or
 * kills it and fails the test. */
static int wait_example(pid_t pid, int timeout_ms) {
  int st = 0;
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (waitpid(pid, &st, WNOHANG) == pid) return st;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  ck_abort_msg("example did not exit within %d ms", timeout_ms);
  return -1;
}

static char *read_output(void) {
  static char buf[1 << 16];
  FILE *f = fopen(out_path, "r");
  if (f == NULL) {
    buf[0] = '\0';
    return buf;
  }
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static void check_agent(mesos_sim_agent *a) {
  char e[512];
  ck_assert_msg(mesos_sim_agent_errors(a, e, sizeof e) == 0, "sim agent: %s", e);
}

START_TEST(test_examples__launch_n_tasks_runs_every_task_to_finished_and_exits_0) {
  start_master();
  mesos_sim_agent *a = mesos_sim_agent_start(master_port, "agent-ex", 1, 1024, 1);
  ck_assert_ptr_nonnull(a);
  char path[4096], master[64];
  example_path("launch_n_tasks", path, sizeof path);
  snprintf(master, sizeof master, "--master=http://127.0.0.1:%d", master_port);
  /* 0.3 cpus each on a 1-cpu agent: at most 3 per offer, so the 5 tasks
   * need a second round of offers. */
  char *argv[] = {path, master, "--tasks=5", "--command=echo \"hi\"", "--cpus=0.3", "--mem=32",
                  "--timeout=20", NULL};
  pid_t pid = run_example(argv);
  int st = wait_example(pid, 25000);
  char *out = read_output();
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d, output:\n%s", st, out);
  ck_assert_ptr_nonnull(strstr(out, "5 of 5 tasks finished"));
  ck_assert_ptr_nonnull(strstr(out, "task-4 is TASK_FINISHED"));
  ck_assert_int_eq(mesos_sim_agent_launched(a), 5);
  ck_assert_int_eq(mesos_sim_agent_finished(a), 5);
  /* RUNNING and FINISHED of each task were acknowledged. */
  for (int i = 0; i < 200 && mesos_sim_agent_acks(a) < 10; i++) usleep(10000);
  ck_assert_int_eq(mesos_sim_agent_acks(a), 10);
  check_agent(a);
  unlink(out_path);
  mesos_sim_agent_stop(a);
  stop_master();
}
END_TEST

START_TEST(test_examples__launch_n_tasks_exits_1_when_a_task_fails) {
  start_master();
  mesos_sim_agent *a = mesos_sim_agent_start(master_port, "agent-fail", 4, 1024, 0);
  ck_assert_ptr_nonnull(a);
  char path[4096], master[64];
  example_path("launch_n_tasks", path, sizeof path);
  snprintf(master, sizeof master, "--master=http://127.0.0.1:%d", master_port);
  char *argv[] = {path, master, "--tasks=2", "--command=false", "--timeout=20", NULL};
  pid_t pid = run_example(argv);
  char task[128];
  for (int i = 0; i < 500 && !mesos_sim_agent_some_running(a, task, sizeof task); i++)
    usleep(10000);
  ck_assert_int_eq(mesos_sim_agent_end_task(a, task, "TASK_FAILED"), 202);
  int st = wait_example(pid, 10000);
  char *out = read_output();
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d, output:\n%s", st, out);
  ck_assert_ptr_nonnull(strstr(out, "TASK_FAILED"));
  check_agent(a);
  unlink(out_path);
  mesos_sim_agent_stop(a);
  stop_master();
}
END_TEST

START_TEST(test_examples__launch_n_tasks_times_out_with_exit_2_without_resources) {
  start_master(); /* no agent: no offers */
  char path[4096], master[64];
  example_path("launch_n_tasks", path, sizeof path);
  snprintf(master, sizeof master, "--master=http://127.0.0.1:%d", master_port);
  char *argv[] = {path, master, "--tasks=1", "--timeout=1", NULL};
  int st = wait_example(run_example(argv), 10000);
  char *out = read_output();
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "exit status %d, output:\n%s", st, out);
  ck_assert_ptr_nonnull(strstr(out, "timed out"));
  /* Bad flags: 3. */
  char *bad[] = {path, "--tasks=zero", NULL};
  st = wait_example(run_example(bad), 5000);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
  unlink(out_path);
  stop_master();
}
END_TEST

static int running_3(mesos_sim_agent *a) { return mesos_sim_agent_running(a) == 3; }

START_TEST(test_examples__service_relaunches_ended_instances_and_tears_down_on_sigterm) {
  start_master();
  mesos_sim_agent *a = mesos_sim_agent_start(master_port, "agent-svc", 4, 1024, 0);
  ck_assert_ptr_nonnull(a);
  char path[4096], master[64];
  example_path("service", path, sizeof path);
  snprintf(master, sizeof master, "--master=http://127.0.0.1:%d", master_port);
  char *argv[] = {path, master, "--instances=3", "--command=sleep 1000", "--cpus=0.5",
                  "--mem=64", NULL};
  pid_t pid = run_example(argv);
  ck_assert_msg(mesos_sim_agent_wait(a, running_3, 10000), "running: %d",
                mesos_sim_agent_running(a));
  ck_assert_int_eq(mesos_sim_agent_launched(a), 3);

  /* One instance dies: a fourth launch replaces it. */
  char task[128];
  for (int i = 0; i < 500 && !mesos_sim_agent_some_running(a, task, sizeof task); i++)
    usleep(10000);
  /* All three RUNNING updates must be acknowledged before one may end. */
  for (int i = 0; i < 500 && mesos_sim_agent_acks(a) < 3; i++) usleep(10000);
  ck_assert_int_eq(mesos_sim_agent_end_task(a, task, "TASK_FAILED"), 202);
  for (int i = 0; i < 1000 && mesos_sim_agent_launched(a) < 4; i++) usleep(10000);
  ck_assert_int_eq(mesos_sim_agent_launched(a), 4);
  ck_assert(mesos_sim_agent_wait(a, running_3, 10000));

  kill(pid, SIGTERM);
  int st = wait_example(pid, 10000);
  char *out = read_output();
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d, output:\n%s", st, out);
  ck_assert_ptr_nonnull(strstr(out, "relaunching"));
  ck_assert_ptr_nonnull(strstr(out, "torn down"));
  ck_assert(mesos_sim_agent_wait(a, mesos_sim_agent_shutdowns, 5000) >= 1);
  check_agent(a);
  unlink(out_path);
  mesos_sim_agent_stop(a);
  stop_master();
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("examples");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
  tcase_add_test(tc, test_examples__launch_n_tasks_runs_every_task_to_finished_and_exits_0);
  tcase_add_test(tc, test_examples__launch_n_tasks_exits_1_when_a_task_fails);
  tcase_add_test(tc, test_examples__launch_n_tasks_times_out_with_exit_2_without_resources);
  tcase_add_test(tc, test_examples__service_relaunches_ended_instances_and_tears_down_on_sigterm);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }

/*
 * Issue 5's "bad input" cases the other agent tests do not cover, against
 * the real mesos-agent:
 *
 *  - --resources strings that do not parse, one per kind of mistake (a
 *    negative, NaN or infinite scalar, a word for a number, a reversed
 *    range, an unclosed role, a missing value, truncated JSON, a JSON
 *    value of the wrong type): each ends the agent with status 1 and a
 *    message naming the flag and the value, before any checkpoint is
 *    written.  (test_agent_tasks covers "cpus:lots".)
 *  - Executor calls about executors or tasks the agent does not have, or
 *    with an invalid update (a task the executor does not run, a uuid
 *    that is not 16 bytes, TASK_STAGING from an executor, a MESSAGE with
 *    no message, bytes that are not a protobuf): each is a 400 naming
 *    what is wrong, and the running task is untouched: it is still
 *    RUNNING and a KILL ends it as usual.  (test_agent_tasks covers a
 *    body that is not JSON, missing type/update, an unknown framework and
 *    a wrong media type.)
 */
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/container_harness.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static char base_dir[256];
static char agent_log[512];

static void make_base(void) {
  /* Named after the runner (each test is its forked child), whose exit
   * removes what a failing test left. */
  snprintf(base_dir, sizeof base_dir, "/tmp/mesos-badin-%d-XXXXXX", (int)getppid());
  ck_assert_ptr_nonnull(mkdtemp(base_dir));
  snprintf(agent_log, sizeof agent_log, "%s/agent.log", base_dir);
}

static void remove_base(void) {
  mesos_test_kill_under(base_dir);
  if (getenv("MESOS_TEST_KEEP") == NULL) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base_dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", base_dir);
  }
}

/* ------------------------------------------------------------ --resources */

static const struct {
  const char *value, *says;
} bad_resources[] = {
    {"cpus:-1", "finite and >= 0"},
    {"cpus:nan", "finite and >= 0"},
    {"disk:1e400", "finite and >= 0"},
    {"mem:abc", "not a number"},
    {"ports:[5-3]", "bad range"},
    {"cpus(vol:1", "bad role"},
    {"cpus:1;;mem:", "has no value"},
    {"[{\"name\":\"cpus\"", "required field missing"},
    {"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}}", "invalid JSON"},
    {"[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":\"x\"}}]", "not a number"},
};

START_TEST(test_badinput__resources_that_do_not_parse_end_the_agent_naming_the_value) {
  make_base();
  char path[4096], wd[400], res[400];
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  snprintf(wd, sizeof wd, "--work_dir=%s/agent", base_dir);
  snprintf(res, sizeof res, "--resources=%s", bad_resources[_i].value);
  char *argv[] = {path, "--master=127.0.0.1:1", wd, "--port=0", res, NULL};
  pid_t pid = mesos_test_spawn(argv, agent_log);
  ck_assert_int_gt(pid, 0);
  int st = 0;
  /* It must end by itself, and fast; a hang is a failure, not a wait. */
  long long deadline = sim_fw_now_ms() + 10000;
  pid_t got;
  while ((got = waitpid(pid, &st, WNOHANG)) == 0 && sim_fw_now_ms() < deadline) usleep(10000);
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_abort_msg("--resources=%s: the agent did not stop:\n%s", bad_resources[_i].value,
                 mesos_test_slurp(agent_log));
  }
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "--resources=%s: exit status %d",
                bad_resources[_i].value, st);
  const char *log = mesos_test_slurp(agent_log);
  ck_assert_msg(strstr(log, "--resources") && strstr(log, bad_resources[_i].value) &&
                    strstr(log, bad_resources[_i].says),
                "--resources=%s: the message does not say '%s':\n%s", bad_resources[_i].value,
                bad_resources[_i].says, log);
  /* Nothing checkpointed (no agent id, no resources). */
  char meta[600];
  snprintf(meta, sizeof meta, "%s/agent/meta/slaves", base_dir);
  struct stat sb;
  ck_assert_msg(stat(meta, &sb) != 0, "%s was written", meta);
  remove_base();
}
END_TEST

/* ------------------------------------------------------------ executor calls */

static int master_port, agent_port;
static pid_t master_pid = -1, agent_pid = -1;

static void start_cluster(void) {
  char path[4096], port_arg[64], wd_arg[400];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/master", base_dir);
  char *margv[] = {path, "--ip=127.0.0.1", port_arg, wd_arg, "--allocation_interval=50ms",
                   "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(margv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 10000));
  char apath[4096], master_arg[64], aport[64], awd[400];
  mesos_test_daemon_path("mesos-agent", apath, sizeof apath);
  agent_port = mesos_test_free_port();
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(aport, sizeof aport, "--port=%d", agent_port);
  snprintf(awd, sizeof awd, "--work_dir=%s/agent", base_dir);
  char *aargv[] = {apath, master_arg, aport, awd, "--ip=127.0.0.1", "--hostname=agent-test",
                   "--resources=cpus:2;mem:512;disk:512", "--registration_backoff_factor=50ms",
                   "--executor_shutdown_grace_period=1secs", NULL};
  agent_pid = mesos_test_spawn(aargv, agent_log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert(mesos_test_wait_http_ok(agent_port, "/health", 10000));
}

static void stop_cluster(void) {
  int st = mesos_test_stop(agent_pid, 10000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "agent exit status %d", st);
  st = mesos_test_stop(master_pid, 10000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "master exit status %d", st);
}

/* POSTs an executor call; asserts `status` and that the body says `says`. */
static void exec_call(const char *ctype, const char *body, int status, const char *says) {
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(
      mesos_test_http(agent_port, "POST", "/api/v1/executor", ctype, NULL, body, &r), 0);
  ck_assert_msg(r.status == status && r.body && strstr(r.body, says),
                "executor call %s: %d '%s' (wanted %d '%s')", body, r.status,
                r.body ? r.body : "", status, says);
  mesos_test_response_free(&r);
}

START_TEST(test_badinput__executor_calls_about_unknown_executors_or_bad_updates_are_400) {
  make_base();
  start_cluster();
  sim_fw f;
  sim_fw_subscribe(&f, master_port, "\"user\":\"root\",\"name\":\"bad input\"");
  char offer[160], agent[160];
  sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
  sim_fw_launch(&f, offer, agent, "x", NULL, 32, "sleep 60");
  free(sim_fw_expect_update(&f, "x", "TASK_STARTING", 30000));
  free(sim_fw_expect_update(&f, "x", "TASK_RUNNING", 30000));

  char call[2048];
  /* A framework the agent runs, an executor it does not. */
  snprintf(call, sizeof call,
           "{\"type\":\"SUBSCRIBE\",\"framework_id\":{\"value\":\"%s\"},\"executor_id\":{"
           "\"value\":\"ghost\"},\"subscribe\":{}}",
           f.id);
  exec_call("application/json", call, 400, "Executor cannot be found");
  snprintf(call, sizeof call,
           "{\"type\":\"UPDATE\",\"framework_id\":{\"value\":\"%s\"},\"executor_id\":{\"value\":"
           "\"ghost\"},\"update\":{\"status\":{\"task_id\":{\"value\":\"x\"},\"state\":"
           "\"TASK_FINISHED\",\"uuid\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}}}",
           f.id);
  exec_call("application/json", call, 400, "Executor cannot be found");
  /* The real executor (a command task's executor id is its task id), with
   * updates that must not be taken. */
  snprintf(call, sizeof call,
           "{\"type\":\"UPDATE\",\"framework_id\":{\"value\":\"%s\"},\"executor_id\":{\"value\":"
           "\"x\"},\"update\":{\"status\":{\"task_id\":{\"value\":\"other\"},\"state\":"
           "\"TASK_FINISHED\",\"uuid\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}}}",
           f.id);
  exec_call("application/json", call, 400, "a task this executor does not run");
  snprintf(call, sizeof call,
           "{\"type\":\"UPDATE\",\"framework_id\":{\"value\":\"%s\"},\"executor_id\":{\"value\":"
           "\"x\"},\"update\":{\"status\":{\"task_id\":{\"value\":\"x\"},\"state\":"
           "\"TASK_FINISHED\",\"uuid\":\"AAAA\"}}}",
           f.id);
  exec_call("application/json", call, 400, "'status.uuid' must be 16 bytes");
  snprintf(call, sizeof call,
           "{\"type\":\"UPDATE\",\"framework_id\":{\"value\":\"%s\"},\"executor_id\":{\"value\":"
           "\"x\"},\"update\":{\"status\":{\"task_id\":{\"value\":\"x\"},\"state\":"
           "\"TASK_STAGING\",\"uuid\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}}}",
           f.id);
  exec_call("application/json", call, 400, "cannot send TASK_STAGING");
  snprintf(call, sizeof call,
           "{\"type\":\"MESSAGE\",\"framework_id\":{\"value\":\"%s\"},\"executor_id\":{\"value\":"
           "\"x\"}}",
           f.id);
  exec_call("application/json", call, 400, "Expecting 'message' to be present");
  exec_call("application/x-protobuf", "\x0a\xff\xff\xff\xff\x0f garbage", 400, "Failed to parse");

  /* Nothing of that reached the task: still running, no update came, and
   * a KILL ends it as usual. */
  char *rec = sim_fw_next(&f, 500, "\"type\":\"UPDATE\"", NULL);
  ck_assert_msg(rec == NULL, "an update came from a refused call: %s", rec ? rec : "");
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(mesos_test_http(agent_port, "GET", "/state", NULL, NULL, NULL, &r), 0);
  ck_assert_msg(r.body && strstr(r.body, "\"state\":\"TASK_RUNNING\""), "%s",
                r.body ? r.body : "");
  mesos_test_response_free(&r);
  ck_assert_int_eq(sim_fw_call(&f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":{"
                               "\"task_id\":{\"value\":\"x\"}}}",
                               f.id),
                   202);
  free(sim_fw_expect_final(&f, "x", "TASK_KILLED", 30000));
  sim_fw_close(&f);
  stop_cluster();
  remove_base();
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_state_badinput");
  TCase *tc = tcase_create("badinput");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_badinput__resources_that_do_not_parse_end_the_agent_naming_the_value,
                      0, (int)(sizeof bad_resources / sizeof *bad_resources));
  tcase_add_test(tc, test_badinput__executor_calls_about_unknown_executors_or_bad_updates_are_400);
  suite_add_tcase(s, tc);
  return s;
}

static pid_t runner_pid;

/* At the runner's exit: the processes and directories of failed tests. */
static void runner_cleanup(void) {
  if (getpid() != runner_pid) return;
  char pattern[128];
  snprintf(pattern, sizeof pattern, "/tmp/mesos-badin-%d-*", (int)runner_pid);
  glob_t g;
  if (glob(pattern, 0, NULL, &g) != 0) return;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    mesos_test_kill_under(g.gl_pathv[i]);
    if (getenv("MESOS_TEST_KEEP") == NULL) {
      char cmd[400];
      snprintf(cmd, sizeof cmd, "rm -rf '%s'", g.gl_pathv[i]);
      if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", g.gl_pathv[i]);
    }
  }
  globfree(&g);
}

int main(void) {
  runner_pid = getpid();
  atexit(runner_cleanup);
  return mesos_test_main(make_suite());
}

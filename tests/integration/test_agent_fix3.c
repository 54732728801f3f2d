/*
 * Issue 5's command executor details with the real daemons on loopback
 * (support/cluster.h, a JSON scheduler from support/sim_fw.h):
 *  - a command task sees the environment Mesos gives executors
 *    (MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_AGENT_ENDPOINT,
 *    MESOS_DIRECTORY, MESOS_SANDBOX, MESOS_CHECKPOINT) with the right
 *    values, and its CommandInfo environment;
 *  - CommandInfo with shell=false runs `value` with `arguments` as argv,
 *    untouched by a shell (an argument with a space stays one argument).
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/cluster.h"
#include "support/container_harness.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static mesos_test_cluster cl;

static void make_base(void) { mesos_test_cluster_make_base(&cl, "/tmp/mesos-agent-fix3"); }
static void remove_base(void) { mesos_test_cluster_remove_base(&cl); }

/* ACCEPTs `offer` with one task whose CommandInfo is `command` (a JSON
 * object); asserts 202. */
static void launch_command(sim_fw *f, const char *offer, const char *agent, const char *task,
                           const char *command) {
  sim_fw_take_offer(f, offer);
  ck_assert_int_eq(
      sim_fw_call(f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                  "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},"
                  "\"agent_id\":{\"value\":\"%s\"},\"command\":%s,\"resources\":["
                  "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
                  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]}]}}],"
                  "\"filters\":{\"refuse_seconds\":0}}}",
                  f->id, offer, task, agent, command),
      202);
}

/* The task's sandbox (the one run of executor `task`). */
static void sandbox_of(const char *agent, const char *fw, const char *task, char *out,
                       size_t cap) {
  char pattern[1200];
  snprintf(pattern, sizeof pattern, "%s/slaves/%s/frameworks/%s/executors/%s/runs/*", cl.work_dir,
           agent, fw, task);
  glob_t g;
  ck_assert_msg(glob(pattern, 0, NULL, &g) == 0, "no sandbox %s", pattern);
  size_t found = 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    if (strstr(g.gl_pathv[i], "/runs/latest")) continue;
    snprintf(out, cap, "%s", g.gl_pathv[i]);
    found++;
  }
  globfree(&g);
  ck_assert_uint_eq(found, 1);
}

/* The contents of `file` in task `task`'s sandbox (mesos_test_slurp's
 * buffer); the sandbox's path in `sandbox`. */
static const char *sandbox_file(sim_fw *f, const char *agent, const char *task, const char *file,
                                char *sandbox, size_t cap) {
  char path[1600];
  sandbox_of(agent, f->id, task, sandbox, cap);
  snprintf(path, sizeof path, "%s/%s", sandbox, file);
  return mesos_test_slurp(path);
}

/* Master, agent, a subscribed framework and an offer big enough for one
 * task. */
static void start(sim_fw *f, const char *agent_name, char *offer, char *agent, size_t cap) {
  mesos_test_cluster_start_master(&cl, NULL);
  mesos_test_cluster_start_agent(&cl, agent_name, NULL, NULL);
  sim_fw_subscribe(f, cl.master_port, "\"user\":\"nobody\",\"name\":\"fix3\"");
  sim_fw_wait_offer_min(f, "agent-test", 0.5, 32, offer, agent, cap);
}

static void finish(sim_fw *f) {
  mesos_test_conn_close(&f->stream);
  free(f->offers);
  mesos_test_cluster_stop(&cl);
}

START_TEST(test_agent_fix3__command_task_gets_the_executor_environment) {
  sim_fw f;
  char offer[160], agent[160];
  start(&f, "env", offer, agent, sizeof offer);
  launch_command(&f, offer, agent, "env-task",
                 "{\"value\":\"env > env.txt\",\"environment\":{\"variables\":[{\"name\":"
                 "\"FROM_TASK\",\"value\":\"yes\"}]}}");
  free(sim_fw_expect_final(&f, "env-task", "TASK_FINISHED", 20000));
  char sandbox[1400];
  const char *env = sandbox_file(&f, agent, "env-task", "env.txt", sandbox, sizeof sandbox);
  char want[1700];
  const struct {
    const char *name, *value;
  } vars[] = {{"MESOS_FRAMEWORK_ID", f.id},   {"MESOS_EXECUTOR_ID", "env-task"},
              {"MESOS_DIRECTORY", sandbox},  {"MESOS_SANDBOX", sandbox},
              {"MESOS_CHECKPOINT", "0"},     {"FROM_TASK", "yes"}};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    snprintf(want, sizeof want, "\n%s=%s\n", vars[i].name, vars[i].value);
    ck_assert_msg(strstr(env, want) != NULL || strncmp(env, want + 1, strlen(want + 1)) == 0,
                  "no %s=%s in the task's environment:\n%s", vars[i].name, vars[i].value, env);
  }
  /* The agent's executor endpoint: loopback and its port. */
  snprintf(want, sizeof want, "MESOS_AGENT_ENDPOINT=127.0.0.1:%d\n", cl.agent_port);
  ck_assert_msg(strstr(env, want) != NULL, "no %s in:\n%s", want, env);
  finish(&f);
}
END_TEST

START_TEST(test_agent_fix3__shell_false_runs_value_with_arguments_as_argv) {
  sim_fw f;
  char offer[160], agent[160];
  start(&f, "argv", offer, agent, sizeof offer);
  /* A shell would split "a b" and expand $HOME; argv keeps both as is. */
  launch_command(&f, offer, agent, "argv-task",
                 "{\"shell\":false,\"value\":\"/usr/bin/printf\",\"arguments\":[\"printf\","
                 "\"[%s]\",\"a b\",\"$HOME\"]}");
  free(sim_fw_expect_final(&f, "argv-task", "TASK_FINISHED", 20000));
  char sandbox[1400];
  ck_assert_str_eq(sandbox_file(&f, agent, "argv-task", "stdout", sandbox, sizeof sandbox),
                   "[a b][$HOME]");
  finish(&f);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_fix3");
  TCase *tc = tcase_create("command");
  tcase_set_timeout(tc, 90);
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_add_test(tc, test_agent_fix3__command_task_gets_the_executor_environment);
  tcase_add_test(tc, test_agent_fix3__shell_false_runs_value_with_arguments_as_argv);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }

/*
 * The real mesos-master and mesos-agent as processes on loopback, with a
 * JSON scheduler speaking the v1 API over raw HTTP: registration and
 * offers, tasks that finish, fail and are killed, status updates retried
 * until acknowledged, an agent killed with SIGKILL and restarted, and bad
 * start-up input.
 */
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/cluster.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"


/* ------------------------------------------------------------ processes */

static mesos_test_cluster cl; /* master, agent, directory: support/cluster.h */

/* Unchecked fixtures run in the parent process, so the temporary tree goes
 * away even when a test fails (MESOS_TEST_KEEP=1 keeps it). */
static void make_base(void) { mesos_test_cluster_make_base(&cl, "/tmp/mesos-agent-test"); }
static void remove_base(void) { mesos_test_cluster_remove_base(&cl); }

static void start_master(void) {
  char *flags[] = {"--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=5", NULL};
  mesos_test_cluster_start_master(&cl, flags);
}

/* mesos-agent `name` with the cluster's flags and `extra` ones. */
static void start_agent_with(const char *name, char *const *extra) {
  mesos_test_cluster_start_agent(&cl, name, NULL, extra);
}

static void start_agent(const char *name) { start_agent_with(name, NULL); }

static void stop_all(void) { mesos_test_cluster_stop(&cl); }

/* ------------------------------------------------------------ framework */

static void fw_subscribe(sim_fw *f) {
  sim_fw_subscribe(f, cl.master_port, "\"user\":\"nobody\",\"name\":\"agent test\"");
}

/* Waits for an offer from our agent with room for one launch() task
 * (0.5 cpus, 32 MB); returns its agent id in `agent`. */
static void wait_offer(sim_fw *f, char *offer, char *agent, size_t cap) {
  sim_fw_wait_offer_min(f, "agent-test", 0.5, 32, offer, agent, cap);
}

static void launch(sim_fw *f, const char *offer, const char *agent, const char *task,
                   const char *command) {
  sim_fw_launch(f, offer, agent, task, NULL, 32, command);
}

/* The next UPDATE for `task`, acknowledged; it must be in `state`. */
static char *expect_update(sim_fw *f, const char *task, const char *state) {
  return sim_fw_expect_update(f, task, state, 10000);
}

static void read_file(const char *path, char *out, size_t cap) {
  FILE *fp = fopen(path, "r");
  ck_assert_msg(fp != NULL, "cannot open %s", path);
  size_t n = fread(out, 1, cap - 1, fp);
  out[n] = '\0';
  fclose(fp);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_agent__registers_and_a_task_runs_to_finished_in_its_sandbox) {
  start_master();
  start_agent("finish");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  launch(&f, offer, agent, "echo-task", "echo hi > out; echo to-stdout; echo to-stderr >&2");
  free(expect_update(&f, "echo-task", "TASK_STARTING"));
  free(expect_update(&f, "echo-task", "TASK_RUNNING"));
  char *rec = expect_update(&f, "echo-task", "TASK_FINISHED");
  ck_assert_ptr_nonnull(strstr(rec, "exited with status 0"));
  free(rec);

  /* The sandbox: slaves/<agent>/frameworks/<fw>/executors/<task>/runs/<c>. */
  char runs[1024], path[1400], text[256];
  snprintf(runs, sizeof runs, "%s/slaves/%s/frameworks/%s/executors/echo-task/runs", cl.work_dir,
           agent, f.id);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "ls %s", runs);
  FILE *ls = popen(cmd, "r");
  ck_assert_ptr_nonnull(ls);
  char container[128] = "";
  ck_assert_ptr_nonnull(fgets(container, sizeof container, ls));
  pclose(ls);
  container[strcspn(container, "\n")] = '\0';
  snprintf(path, sizeof path, "%s/%s/out", runs, container);
  read_file(path, text, sizeof text);
  ck_assert_str_eq(text, "hi\n");
  snprintf(path, sizeof path, "%s/%s/stdout", runs, container);
  read_file(path, text, sizeof text);
  ck_assert_str_eq(text, "to-stdout\n");
  /* The executor's own messages share the sandbox's stderr, as in Mesos. */
  snprintf(path, sizeof path, "%s/%s/stderr", runs, container);
  read_file(path, text, sizeof text);
  ck_assert_msg(strstr(text, "to-stderr\n") != NULL, "%s", text);
  ck_assert_msg(strstr(text, "mesos-executor") != NULL, "not run by mesos-executor: %s", text);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_agent__failing_command_gives_task_failed_with_its_exit_status) {
  start_master();
  start_agent("fail");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  launch(&f, offer, agent, "exit-3", "exit 3");
  free(expect_update(&f, "exit-3", "TASK_STARTING"));
  free(expect_update(&f, "exit-3", "TASK_RUNNING"));
  char *rec = expect_update(&f, "exit-3", "TASK_FAILED");
  ck_assert_msg(strstr(rec, "exited with status 3") != NULL, "%s", rec);
  free(rec);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_agent__kill_gives_task_killed) {
  start_master();
  start_agent("kill");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  /* The shell ignores SIGTERM, so only the SIGKILL after the 1 s grace
   * period ends it: the kill must escalate. */
  launch(&f, offer, agent, "sleeper", "trap '' TERM; touch trapped; sleep 1000");
  free(expect_update(&f, "sleeper", "TASK_STARTING"));
  free(expect_update(&f, "sleeper", "TASK_RUNNING"));
  /* Kill only once the shell ignores SIGTERM (else it would die at once). */
  char pattern[1024];
  snprintf(pattern, sizeof pattern, "%s/slaves/*/frameworks/*/executors/sleeper/runs/*/trapped",
           cl.work_dir);
  long long wait_until = sim_fw_now_ms() + 5000;
  for (;;) {
    glob_t g;
    int found = glob(pattern, 0, NULL, &g) == 0;
    globfree(&g);
    if (found) break;
    ck_assert_msg(sim_fw_now_ms() < wait_until, "the task never started");
    usleep(10000);
  }
  long long t0 = sim_fw_now_ms();
  ck_assert_int_eq(sim_fw_call(&f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":"
                           "{\"task_id\":{\"value\":\"sleeper\"}}}",
                           f.id),
                   202);
  char *rec = expect_update(&f, "sleeper", "TASK_KILLED");
  ck_assert_msg(strstr(rec, "signal Killed") != NULL, "escalated to SIGKILL: %s", rec);
  free(rec);
  long long took = sim_fw_now_ms() - t0;
  ck_assert_msg(took >= 900 && took < 8000, "kill took %lld ms", took);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_agent__unacknowledged_update_is_resent_and_an_ack_stops_it) {
  start_master();
  char *retry[] = {"--status_update_retry_interval=300ms", NULL};
  start_agent_with("retry", retry);
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  launch(&f, offer, agent, "slow-ack", "sleep 1000");
  char *first = sim_fw_next(&f, 10000, "\"type\":\"UPDATE\"", "TASK_STARTING", NULL);
  ck_assert_ptr_nonnull(first);
  char uuid1[64], uuid2[64];
  sim_fw_json_str(first, "uuid", uuid1, sizeof uuid1);
  /* Not acknowledged: the same update (same uuid) comes again, and
   * TASK_RUNNING waits behind it. */
  char *again = sim_fw_next(&f, 5000, "\"type\":\"UPDATE\"", "slow-ack", NULL);
  ck_assert_ptr_nonnull(again);
  ck_assert_msg(strstr(again, "TASK_STARTING") != NULL, "in order: %s", again);
  sim_fw_json_str(again, "uuid", uuid2, sizeof uuid2);
  ck_assert_str_eq(uuid1, uuid2);
  free(again);
  sim_fw_ack(&f, first);
  free(first);
  char *running = expect_update(&f, "slow-ack", "TASK_RUNNING");
  free(running);
  /* Acknowledged: nothing more for this task within several retry
   * intervals. */
  char *more = sim_fw_next(&f, 1500, "\"type\":\"UPDATE\"", "slow-ack", NULL);
  ck_assert_msg(more == NULL, "unexpected re-send: %s", more ? more : "");
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_agent__restart_after_kill_9_reregisters_with_the_same_id) {
  start_master();
  start_agent("restart");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160], agent2[160];
  wait_offer(&f, offer, agent, sizeof offer);
  mesos_test_wait_agent_id(cl.work_dir);
  kill(cl.agent_pid, SIGKILL);
  waitpid(cl.agent_pid, NULL, 0);
  cl.agent_pid = mesos_test_cluster_spawn_agent(&cl, "restart", NULL, NULL);
  ck_assert_int_gt(cl.agent_pid, 0);
  ck_assert(mesos_test_wait_http_ok(cl.agent_port, "/health", 5000));
  /* The offer of the old connection is rescinded; the next one comes
   * from the re-registered agent, under the same id. */
  char *rec = sim_fw_next(&f, 10000, "\"type\":\"OFFERS\"", "agent-test", NULL);
  ck_assert_ptr_nonnull(rec);
  sim_fw_json_id(rec, "agent_id", agent2, sizeof agent2);
  free(rec);
  ck_assert_str_eq(agent, agent2);
  /* The agent logs the re-registration when it reads REREGISTERED, which
   * may be after the framework already has the new offer: poll. */
  char log[16384];
  for (int i = 0; i < 100; i++) {
    read_file(cl.agent_log, log, sizeof log);
    if (strstr(log, "Re-registered with the master")) break;
    usleep(50000);
  }
  ck_assert_msg(strstr(log, "Recovered agent id") != NULL, "%s", log);
  ck_assert_msg(strstr(log, "Re-registered with the master") != NULL, "%s", log);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_agent__in_agent_runner_runs_tasks_without_mesos_executor) {
  start_master();
  char *extra[] = {"--in_agent_command_runner", NULL};
  start_agent_with("inagent", extra);
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  launch(&f, offer, agent, "direct", "echo direct");
  free(expect_update(&f, "direct", "TASK_STARTING"));
  free(expect_update(&f, "direct", "TASK_RUNNING"));
  free(expect_update(&f, "direct", "TASK_FINISHED"));
  char log[16384];
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(strstr(log, "run inside the agent") != NULL, "%s", log);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

/* The master forwards an executor's end as a FAILURE event only for
 * executors the framework supplied; the command executor's end is told by
 * its task's TASK_FAILED alone (as in Mesos). */
START_TEST(test_agent__executor_crash_gives_task_failed_and_no_failure_for_command_executor) {
  start_master();
  start_agent("crash");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  /* The task kills its executor (its parent) before ending, and stays
   * behind as `sleep` (its pid in crasher.pid): in its own process group
   * but in the executor's session, which the agent sweeps. */
  char cmd[600], pid_file[300];
  snprintf(pid_file, sizeof pid_file, "%s/crasher.pid", cl.base_dir);
  snprintf(cmd, sizeof cmd, "echo $$ > %s; sleep 0.3; kill -9 $PPID; exec sleep 5", pid_file);
  launch(&f, offer, agent, "crasher", cmd);
  free(expect_update(&f, "crasher", "TASK_STARTING"));
  free(expect_update(&f, "crasher", "TASK_RUNNING"));
  char *rec = expect_update(&f, "crasher", "TASK_FAILED");
  ck_assert_msg(strstr(rec, "REASON_EXECUTOR_TERMINATED") != NULL, "%s", rec);
  ck_assert_msg(strstr(rec, "Executor terminated") != NULL, "%s", rec);
  free(rec);
  FILE *pf = fopen(pid_file, "r");
  ck_assert_ptr_nonnull(pf);
  int left = 0;
  ck_assert_int_eq(fscanf(pf, "%d", &left), 1);
  fclose(pf);
  ck_assert_int_gt(left, 1);
  /* Gone (or a zombie waiting for init) within a few seconds. */
  int gone = 0;
  for (int i = 0; i < 300 && !gone; i++) {
    char path[64], st[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", left);
    FILE *sf = fopen(path, "r");
    if (sf == NULL) {
      gone = 1;
      break;
    }
    size_t n = fread(st, 1, sizeof st - 1, sf);
    fclose(sf);
    st[n] = '\0';
    const char *paren = strrchr(st, ')');
    if (paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X')) gone = 1;
    else usleep(10000);
  }
  if (!gone) kill(left, SIGKILL);
  ck_assert_msg(gone, "the task's process %d outlived its crashed executor's session", left);
  rec = sim_fw_next(&f, 1000, "\"type\":\"FAILURE\"", "crasher", NULL);
  ck_assert_msg(rec == NULL, "FAILURE event for a command executor: %s", rec);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_agent__bad_executor_calls_are_answered_400) {
  start_master();
  start_agent("badcalls");
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(cl.agent_port, "POST", "/api/v1/executor", "application/json",
                                   NULL, "{not json", &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  ck_assert_msg(strstr(r.body, "Failed to parse body into executor::Call") != NULL, "%s", r.body);
  mesos_test_response_free(&r);
  /* Well-formed JSON that is not a valid call: validated before use. */
  ck_assert_int_eq(mesos_test_http(cl.agent_port, "POST", "/api/v1/executor", "application/json",
                                   NULL,
                                   "{\"framework_id\":{\"value\":\"f\"},"
                                   "\"executor_id\":{\"value\":\"x\"}}",
                                   &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  ck_assert_msg(strstr(r.body, "Expecting 'type' to be present") != NULL, "%s", r.body);
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(cl.agent_port, "POST", "/api/v1/executor", "application/json",
                                   NULL,
                                   "{\"type\":\"UPDATE\",\"framework_id\":{\"value\":\"f\"},"
                                   "\"executor_id\":{\"value\":\"x\"}}",
                                   &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  ck_assert_msg(strstr(r.body, "Expecting 'update' to be present") != NULL, "%s", r.body);
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(cl.agent_port, "POST", "/api/v1/executor", "application/json",
                                   NULL,
                                   "{\"type\":\"SUBSCRIBE\",\"framework_id\":{\"value\":\"nope\"},"
                                   "\"executor_id\":{\"value\":\"x\"},\"subscribe\":{}}",
                                   &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  ck_assert_msg(strstr(r.body, "Framework cannot be found") != NULL, "%s", r.body);
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(cl.agent_port, "POST", "/api/v1/executor", "text/plain", NULL,
                                   "hello", &r),
                   0);
  ck_assert_int_eq(r.status, 415);
  mesos_test_response_free(&r);
  stop_all();
}
END_TEST

START_TEST(test_agent__restart_resends_unacknowledged_updates_and_reports_lost_tasks) {
  start_master();
  start_agent("recover");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  launch(&f, offer, agent, "long", "sleep 1000");
  free(expect_update(&f, "long", "TASK_STARTING"));
  free(expect_update(&f, "long", "TASK_RUNNING"));
  /* A second task ends, and its terminal update is left unacknowledged. */
  wait_offer(&f, offer, agent, sizeof offer);
  char *rec = NULL;
  launch(&f, offer, agent, "short", "exit 3");
  free(expect_update(&f, "short", "TASK_STARTING"));
  free(expect_update(&f, "short", "TASK_RUNNING"));
  rec = sim_fw_next(&f, 10000, "\"type\":\"UPDATE\"", "TASK_FAILED", NULL);
  ck_assert_ptr_nonnull(rec);
  char uuid1[64], uuid2[64];
  sim_fw_json_str(rec, "uuid", uuid1, sizeof uuid1);
  free(rec);

  kill(cl.agent_pid, SIGKILL);
  waitpid(cl.agent_pid, NULL, 0);
  cl.agent_pid = mesos_test_cluster_spawn_agent(&cl, "recover", NULL, NULL);
  ck_assert_int_gt(cl.agent_pid, 0);
  ck_assert(mesos_test_wait_http_ok(cl.agent_port, "/health", 5000));

  /* The unacknowledged TASK_FAILED again, with the same uuid ... */
  rec = sim_fw_next(&f, 10000, "\"type\":\"UPDATE\"", "\"value\":\"short\"", NULL);
  ck_assert_msg(rec != NULL, "the unacknowledged update was not re-sent");
  ck_assert_msg(strstr(rec, "TASK_FAILED") != NULL, "%s", rec);
  sim_fw_json_str(rec, "uuid", uuid2, sizeof uuid2);
  ck_assert_str_eq(uuid1, uuid2);
  sim_fw_ack(&f, rec);
  free(rec);
  /* ... and the task that was running is reported, once. */
  rec = expect_update(&f, "long", "TASK_LOST");
  ck_assert_msg(strstr(rec, "REASON_AGENT_RESTARTED") != NULL, "%s", rec);
  free(rec);
  rec = sim_fw_next(&f, 1500, "\"type\":\"UPDATE\"", NULL);
  ck_assert_msg(rec == NULL, "unexpected update: %s", rec ? rec : "");
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

/* What a finished task freed comes as an offer of its own beside the rest
 * of the agent's; sim_fw_wait_offer_min declines the offers too small for
 * it and gets the whole agent in one offer again, which a task using all
 * of it then proves. */
START_TEST(test_agent__split_offers_declined_come_back_as_one) {
  start_master();
  start_agent("split");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  launch(&f, offer, agent, "first", "true");
  free(expect_update(&f, "first", "TASK_STARTING"));
  free(expect_update(&f, "first", "TASK_RUNNING"));
  free(expect_update(&f, "first", "TASK_FINISHED"));
  sim_fw_wait_offer_min(&f, "agent-test", 4, 1024, offer, agent, sizeof offer);
  ck_assert_int_eq(
      sim_fw_call(
          &f,
          "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
          "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
          "[{\"name\":\"t\",\"task_id\":{\"value\":\"all\"},\"agent_id\":{\"value\":\"%s\"},"
          "\"command\":{\"value\":\"true\"},\"resources\":["
          "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":4}},"
          "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1024}}]}]}}],"
          "\"filters\":{\"refuse_seconds\":0}}}",
          f.id, offer, agent),
      202);
  free(expect_update(&f, "all", "TASK_STARTING"));
  sim_fw_close(&f);
  stop_all();
}
END_TEST

/* Runs the agent with `extra` flags, expects exit status 1, and returns
 * its log. */
static void expect_startup_failure(const char *name, char *const *extra, char *log, size_t cap) {
  pid_t pid = mesos_test_cluster_spawn_agent(&cl, name, NULL, extra);
  ck_assert_int_gt(pid, 0);
  int st = 0;
  long long deadline = sim_fw_now_ms() + 5000;
  while (waitpid(pid, &st, WNOHANG) == 0) {
    ck_assert_msg(sim_fw_now_ms() < deadline, "mesos-agent did not exit");
    usleep(20000);
  }
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d", st);
  read_file(cl.agent_log, log, cap);
}

START_TEST(test_agent__resources_that_do_not_parse_exit_1_naming_the_flag) {
  /* The master is never contacted: the flags fail first. */
  char log[8192];
  char path[4096], wd[600];
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  snprintf(wd, sizeof wd, "--work_dir=%s/badres", cl.base_dir);
  snprintf(cl.agent_log, sizeof cl.agent_log, "%s/badres.log", cl.base_dir);
  char *argv[] = {path, "--master=127.0.0.1:1", wd, "--port=0", "--resources=cpus:lots;mem:1",
                  NULL};
  pid_t pid = mesos_test_spawn(argv, cl.agent_log);
  int st = 0;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d", st);
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(strstr(log, "--resources") && strstr(log, "cpus:lots"), "%s", log);
}
END_TEST

START_TEST(test_agent__corrupted_agent_checkpoint_is_an_error_naming_the_file) {
  start_master();
  start_agent("corrupt");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  mesos_test_wait_agent_id(cl.work_dir);
  kill(cl.agent_pid, SIGKILL);
  waitpid(cl.agent_pid, NULL, 0);
  cl.agent_pid = -1;
  /* Flip bytes in the middle of slave.info. */
  char info[1024];
  snprintf(info, sizeof info, "%s/meta/slaves/%s/slave.info", cl.work_dir, agent);
  FILE *fp = fopen(info, "r+b");
  ck_assert_ptr_nonnull(fp);
  fseek(fp, 12, SEEK_SET);
  fputs("garbage!", fp);
  fclose(fp);
  char log[8192];
  expect_startup_failure("corrupt", NULL, log, sizeof log);
  ck_assert_msg(strstr(log, info) != NULL, "the error must name %s: %s", info, log);
  stop_all();
}
END_TEST

START_TEST(test_agent__damaged_update_stream_is_an_error_naming_the_file) {
  start_master();
  start_agent("badstream");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  launch(&f, offer, agent, "done", "true");
  free(expect_update(&f, "done", "TASK_STARTING"));
  free(expect_update(&f, "done", "TASK_RUNNING"));
  free(expect_update(&f, "done", "TASK_FINISHED"));
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  kill(cl.agent_pid, SIGKILL);
  waitpid(cl.agent_pid, NULL, 0);
  cl.agent_pid = -1;
  char pattern[1024], updates[1024];
  snprintf(pattern, sizeof pattern,
           "%s/meta/slaves/*/frameworks/*/executors/*/runs/*/tasks/done/task.updates", cl.work_dir);
  glob_t g;
  ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
  snprintf(updates, sizeof updates, "%s", g.gl_pathv[0]);
  globfree(&g);
  /* Damage the first record: valid ones follow, so this is not a torn
   * tail but a broken file. */
  FILE *fp = fopen(updates, "r+b");
  ck_assert_ptr_nonnull(fp);
  fseek(fp, 10, SEEK_SET);
  fputs("XXXXXXXX", fp);
  fclose(fp);
  char log[8192];
  expect_startup_failure("badstream", NULL, log, sizeof log);
  ck_assert_msg(strstr(log, updates) != NULL, "the error must name %s: %s", updates, log);
  stop_all();
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_tasks");
  TCase *tc = tcase_create("agent");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_add_test(tc, test_agent__registers_and_a_task_runs_to_finished_in_its_sandbox);
  tcase_add_test(tc, test_agent__failing_command_gives_task_failed_with_its_exit_status);
  tcase_add_test(tc, test_agent__kill_gives_task_killed);
  tcase_add_test(tc, test_agent__unacknowledged_update_is_resent_and_an_ack_stops_it);
  tcase_add_test(tc, test_agent__in_agent_runner_runs_tasks_without_mesos_executor);
  tcase_add_test(tc, test_agent__executor_crash_gives_task_failed_and_no_failure_for_command_executor);
  tcase_add_test(tc, test_agent__bad_executor_calls_are_answered_400);
  tcase_add_test(tc, test_agent__restart_after_kill_9_reregisters_with_the_same_id);
  tcase_add_test(tc, test_agent__restart_resends_unacknowledged_updates_and_reports_lost_tasks);
  tcase_add_test(tc, test_agent__split_offers_declined_come_back_as_one);
  tcase_add_test(tc, test_agent__resources_that_do_not_parse_exit_1_naming_the_flag);
  tcase_add_test(tc, test_agent__corrupted_agent_checkpoint_is_an_error_naming_the_file);
  tcase_add_test(tc, test_agent__damaged_update_stream_is_an_error_naming_the_file);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }

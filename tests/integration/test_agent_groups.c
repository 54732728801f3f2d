/*
 * Task groups under mesos-default-executor and custom executors
 * (examples/custom_executor), with the real mesos-master and mesos-agent
 * on loopback and a JSON scheduler over raw HTTP: a group whose tasks all
 * finish, a failing task that takes its group down, a kill of one task
 * that kills the group, a custom executor serving two tasks one after the
 * other, an executor that never subscribes (registration timeout) and one
 * that crashes (FAILURE, tasks failed).
 */
#include <glob.h>
#include <signal.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/cluster.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"


/* ------------------------------------------------------------ processes */

static mesos_test_cluster cl; /* master, agent, directory: support/cluster.h */

/* Unchecked fixtures run in the parent process, so the temporary tree goes
 * away even when a test fails (MESOS_TEST_KEEP=1 keeps it). */
static void make_base(void) { mesos_test_cluster_make_base(&cl, "/tmp/mesos-agent-groups"); }
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

/* Waits for an offer from our agent with room for the largest launch here
 * (a default executor and two tasks of RES: 0.6 cpus, 96 MB); returns its
 * agent id in `agent`.  Resources a task freed come as an offer of their
 * own: sim_fw_wait_offer_min declines the small ones until enough comes. */
static void wait_offer(sim_fw *f, char *offer, char *agent, size_t cap) {
  sim_fw_wait_offer_min(f, "agent-test", 0.6, 96, offer, agent, cap);
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

/* ------------------------------------------------------------ helpers */

#define RES "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.2}}," \
            "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]"

#define RES_HALF "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}}," \
                 "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":16}}]"

/* $O/examples/<name>, next to $O/bin/. */
static void example_path(const char *name, char *buf, size_t cap) {
  char bin[4096];
  mesos_test_daemon_path("x", bin, sizeof bin);
  size_t n = strlen(bin);
  ck_assert(n > 6 && strcmp(bin + n - 6, "/bin/x") == 0);
  bin[n - 6] = '\0';
  /* The agent starts executors in their sandbox: the path must be absolute. */
  char cwd[2048] = "";
  if (bin[0] != '/') ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  snprintf(buf, cap, "%s%s%s/examples/%s", cwd, cwd[0] ? "/" : "", bin, name);
}

/* ACCEPT with LAUNCH_GROUP: executor `exec` (DEFAULT) runs `n` tasks named
 * ids[i] with commands cmds[i] (kill grace period 1 s). */
static void launch_group(sim_fw *f, const char *offer, const char *agent, const char *exec,
                         size_t n, const char *const *ids, const char *const *cmds) {
  char tasks[6000] = "";
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(tasks + len, sizeof tasks - len,
                            "%s{\"name\":\"g\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":"
                            "{\"value\":\"%s\"},\"command\":{\"value\":\"%s\"},"
                            "\"kill_policy\":{\"grace_period\":{\"nanoseconds\":1000000000}},"
                            "\"resources\":" RES "}",
                            i ? "," : "", ids[i], agent, cmds[i]);
  ck_assert_int_lt(len, sizeof tasks);
  ck_assert_int_eq(
      sim_fw_call(f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
              "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"%s\"},"
              "\"framework_id\":{\"value\":\"%s\"},\"resources\":" RES "},"
              "\"task_group\":{\"tasks\":[%s]}}}],\"filters\":{\"refuse_seconds\":0}}}",
              f->id, offer, exec, f->id, tasks),
      202);
}

/* ACCEPT with LAUNCH of one task (no CommandInfo) under custom executor
 * `exec` whose command is `exec_cmd`; `work` (may be NULL) becomes the
 * executor's CUSTOM_EXECUTOR_TASK_COMMAND, what examples/custom_executor
 * runs for such tasks. */
static void launch_custom(sim_fw *f, const char *offer, const char *agent, const char *exec,
                          const char *exec_cmd, const char *task, const char *work) {
  char env[512] = "";
  if (work)
    snprintf(env, sizeof env,
             ",\"environment\":{\"variables\":[{\"name\":\"CUSTOM_EXECUTOR_TASK_COMMAND\","
             "\"value\":\"%s\"}]}",
             work);
  ck_assert_int_eq(
      sim_fw_call(f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
              "\"executor\":{\"type\":\"CUSTOM\",\"executor_id\":{\"value\":\"%s\"},"
              "\"command\":{\"value\":\"%s\"%s},\"resources\":" RES "},"
              "\"resources\":" RES "}]}}],\"filters\":{\"refuse_seconds\":0}}}",
              f->id, offer, task, agent, exec, exec_cmd, env),
      202);
}

/* Reads UPDATEs of the `n` tasks `ids` (acknowledging each) until every
 * one reached a terminal state; finals[i] gets that state's event. */
static void wait_terminal(sim_fw *f, size_t n, const char *const *ids, char **finals) {
  /* "state": only (an update may carry a newer latest_state too). */
  static const char *const terminal[] = {
      "\"state\":\"TASK_FINISHED\"", "\"state\":\"TASK_FAILED\"",
      "\"state\":\"TASK_KILLED\"",   "\"state\":\"TASK_LOST\"",
      "\"state\":\"TASK_ERROR\"",    "\"state\":\"TASK_DROPPED\""};
  for (size_t i = 0; i < n; i++) finals[i] = NULL;
  long long deadline = sim_fw_now_ms() + 20000;
  size_t done = 0;
  while (done < n) {
    long long left = deadline - sim_fw_now_ms();
    ck_assert_msg(left > 0, "only %zu of %zu tasks reached a terminal state", done, n);
    char *rec = sim_fw_next(f, (int)left, "\"type\":\"UPDATE\"", NULL);
    ck_assert_msg(rec != NULL, "only %zu of %zu tasks reached a terminal state", done, n);
    sim_fw_ack(f, rec);
    size_t which = n;
    for (size_t i = 0; i < n; i++) {
      char tid[300];
      snprintf(tid, sizeof tid, "\"task_id\":{\"value\":\"%s\"}", ids[i]);
      if (strstr(rec, tid)) which = i;
    }
    int is_terminal = 0;
    for (size_t k = 0; k < sizeof terminal / sizeof terminal[0]; k++)
      is_terminal |= strstr(rec, terminal[k]) != NULL;
    if (which < n && is_terminal && finals[which] == NULL) {
      finals[which] = rec;
      done++;
    } else {
      free(rec);
    }
  }
}

static void free_all(size_t n, char **recs) {
  for (size_t i = 0; i < n; i++) free(recs[i]);
}

/* The only run directory of executor `exec`: its sandbox. */
static void executor_sandbox(const char *agent, const char *fw, const char *exec, char *out,
                             size_t cap) {
  char runs[1024], cmd[1200];
  snprintf(runs, sizeof runs, "%s/slaves/%s/frameworks/%s/executors/%s/runs", cl.work_dir, agent,
           fw, exec);
  snprintf(cmd, sizeof cmd, "ls %s | grep -v latest", runs);
  FILE *ls = popen(cmd, "r");
  ck_assert_ptr_nonnull(ls);
  char container[128] = "", extra[128] = "";
  ck_assert_msg(fgets(container, sizeof container, ls) != NULL, "no run of %s", exec);
  int more = fgets(extra, sizeof extra, ls) != NULL;
  pclose(ls);
  ck_assert_msg(!more, "executor %s ran more than once", exec);
  container[strcspn(container, "\n")] = '\0';
  snprintf(out, cap, "%s/%s", runs, container);
}

/* The terminal UPDATE of `task` (acknowledged; it must be in `state`) and
 * the FAILURE event of executor `exec`, in either order: the agent sends
 * the executor's exit at once while the update waits for its checkpoint,
 * as in Mesos.  Returns the update. */
static char *update_and_failure(sim_fw *f, const char *task, const char *state,
                                const char *exec) {
  char tid[300], eid[300];
  snprintf(tid, sizeof tid, "\"task_id\":{\"value\":\"%s\"}", task);
  snprintf(eid, sizeof eid, "\"executor_id\":{\"value\":\"%s\"}", exec);
  char *update = NULL;
  int failure = 0;
  long long deadline = sim_fw_now_ms() + 15000;
  while (update == NULL || !failure) {
    long long left = deadline - sim_fw_now_ms();
    ck_assert_msg(left > 0, "%s: update %s, FAILURE %s", task, update ? "seen" : "missing",
                  failure ? "seen" : "missing");
    char *rec = NULL;
    ck_assert_msg(mesos_test_conn_next_record(&f->stream, &rec, (int)left) >= 0,
                  "%s: update %s, FAILURE %s", task, update ? "seen" : "missing",
                  failure ? "seen" : "missing");
    if (strstr(rec, "\"type\":\"FAILURE\"") && strstr(rec, eid)) {
      failure = 1;
      free(rec);
    } else if (update == NULL && strstr(rec, "\"type\":\"UPDATE\"") && strstr(rec, tid)) {
      ck_assert_msg(strstr(rec, state) != NULL, "wanted %s, got %s", state, rec);
      sim_fw_ack(f, rec);
      update = rec;
    } else {
      sim_fw_note_event(f, rec); /* an offer passed over stays held */
      free(rec);
    }
  }
  return update;
}

/* ------------------------------------------------------------ tests */

START_TEST(test_groups__both_tasks_of_a_group_finish_in_their_own_directories) {
  start_master();
  start_agent("both");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  const char *ids[] = {"g1-a", "g1-b"};
  const char *cmds[] = {"echo from-a; pwd > where", "sleep 0.2; echo from-b >&2"};
  launch_group(&f, offer, agent, "exec-both", 2, ids, cmds);
  char *finals[2];
  wait_terminal(&f, 2, ids, finals);
  ck_assert_msg(strstr(finals[0], "TASK_FINISHED") != NULL, "%s", finals[0]);
  ck_assert_msg(strstr(finals[1], "TASK_FINISHED") != NULL, "%s", finals[1]);
  ck_assert_msg(strstr(finals[0], "\"executor_id\":{\"value\":\"exec-both\"}") != NULL, "%s",
                finals[0]);
  free_all(2, finals);

  char sandbox[1200], path[1500], text[1600];
  executor_sandbox(agent, f.id, "exec-both", sandbox, sizeof sandbox);
  snprintf(path, sizeof path, "%s/tasks/g1-a/stdout", sandbox);
  read_file(path, text, sizeof text);
  ck_assert_str_eq(text, "from-a\n");
  snprintf(path, sizeof path, "%s/tasks/g1-a/where", sandbox);
  read_file(path, text, sizeof text);
  ck_assert_msg(strstr(text, "/tasks/g1-a") != NULL, "ran in %s", text);
  snprintf(path, sizeof path, "%s/tasks/g1-b/stderr", sandbox);
  read_file(path, text, sizeof text);
  ck_assert_str_eq(text, "from-b\n");
  snprintf(path, sizeof path, "%s/stderr", sandbox);
  read_file(path, text, sizeof text);
  ck_assert_msg(strstr(text, "mesos-default-executor") != NULL, "not the default executor: %s",
                text);
  /* With every task over, the default executor exits: FAILURE follows. */
  char *rec = sim_fw_next(&f, 10000, "\"type\":\"FAILURE\"", "exec-both", NULL);
  ck_assert_msg(rec != NULL, "no FAILURE event when the default executor exited");
  free(rec);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_groups__a_failing_task_kills_the_rest_of_its_group) {
  start_master();
  start_agent("fails");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  const char *ids[] = {"g2-bad", "g2-long"};
  const char *cmds[] = {"sleep 0.3; exit 3", "sleep 60"};
  long long t0 = sim_fw_now_ms();
  launch_group(&f, offer, agent, "exec-fails", 2, ids, cmds);
  char *finals[2];
  wait_terminal(&f, 2, ids, finals);
  ck_assert_msg(strstr(finals[0], "TASK_FAILED") != NULL, "%s", finals[0]);
  ck_assert_msg(strstr(finals[0], "exited with status 3") != NULL, "%s", finals[0]);
  ck_assert_msg(strstr(finals[1], "TASK_KILLED") != NULL, "%s", finals[1]);
  ck_assert_msg(sim_fw_now_ms() - t0 < 8000, "the group took %lld ms to end", sim_fw_now_ms() - t0);
  free_all(2, finals);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_groups__killing_one_task_kills_the_group_within_the_grace_period) {
  start_master();
  start_agent("kill");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  const char *ids[] = {"g3-a", "g3-b"};
  /* g3-b ignores SIGTERM: only the SIGKILL after the 1 s grace ends it. */
  /* The marker says the trap is set: RUNNING is sent when the shell is
   * forked, before it has run `trap`, and a SIGTERM that came first would
   * end g3-b at once. */
  char armed[400], armed_cmd[512];
  snprintf(armed, sizeof armed, "%s/g3-b-armed", cl.base_dir);
  snprintf(armed_cmd, sizeof armed_cmd, "trap '' TERM; touch '%s'; sleep 60", armed);
  const char *cmds[] = {"sleep 60", armed_cmd};
  launch_group(&f, offer, agent, "exec-kill", 2, ids, cmds);
  char tid[64];
  snprintf(tid, sizeof tid, "\"task_id\":{\"value\":\"%s\"}", "g3-a");
  /* Both RUNNING (acknowledged) before the kill. */
  int running = 0;
  while (running < 2) {
    char *rec = sim_fw_next(&f, 10000, "\"type\":\"UPDATE\"", NULL);
    ck_assert_msg(rec != NULL, "the tasks never ran");
    sim_fw_ack(&f, rec);
    running += strstr(rec, "\"state\":\"TASK_RUNNING\"") != NULL;
    free(rec);
  }
  for (int i = 0; i < 1000 && access(armed, F_OK) != 0; i++) usleep(10000);
  ck_assert_msg(access(armed, F_OK) == 0, "g3-b never set its trap");
  unlink(armed);
  long long t0 = sim_fw_now_ms();
  ck_assert_int_eq(sim_fw_call(&f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":{"
                           "\"task_id\":{\"value\":\"g3-a\"},\"agent_id\":{\"value\":\"%s\"}}}",
                           f.id, agent),
                   202);
  char *finals[2];
  wait_terminal(&f, 2, ids, finals);
  long long took = sim_fw_now_ms() - t0;
  ck_assert_msg(strstr(finals[0], "TASK_KILLED") != NULL, "%s", finals[0]);
  ck_assert_msg(strstr(finals[1], "TASK_KILLED") != NULL, "%s", finals[1]);
  ck_assert_msg(strstr(finals[1], "signal") != NULL, "%s", finals[1]);
  ck_assert_msg(took >= 900 && took < 6000, "the kill took %lld ms (grace 1 s)", took);
  free_all(2, finals);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_groups__custom_executor_runs_two_tasks_one_after_the_other) {
  start_master();
  start_agent("custom");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160], exe[4200];
  example_path("custom_executor", exe, sizeof exe);
  const char *tasks[] = {"c-first", "c-second"};
  for (int i = 0; i < 2; i++) {
    wait_offer(&f, offer, agent, sizeof offer);
    launch_custom(&f, offer, agent, "my-exec", exe, tasks[i], "sleep 0.1");
    char *rec = expect_update(&f, tasks[i], "TASK_RUNNING");
    ck_assert_msg(strstr(rec, "\"executor_id\":{\"value\":\"my-exec\"}") != NULL, "%s", rec);
    free(rec);
    free(expect_update(&f, tasks[i], "TASK_FINISHED"));
  }
  /* One executor process ran both. */
  char sandbox[1200], path[1500], text[2000];
  executor_sandbox(agent, f.id, "my-exec", sandbox, sizeof sandbox);
  snprintf(path, sizeof path, "%s/stdout", sandbox);
  read_file(path, text, sizeof text);
  int pid1 = 0, pid2 = 0;
  char *second = strstr(text, "task c-second");
  ck_assert_msg(sscanf(text, "custom_executor %d: task c-first", &pid1) == 1 && second, "%s",
                text);
  char *line = strstr(text, "\ncustom_executor ");
  ck_assert_ptr_nonnull(line);
  ck_assert_int_eq(sscanf(line + 1, "custom_executor %d:", &pid2), 1);
  ck_assert_int_eq(pid1, pid2);
  /* SHUTDOWN through the framework's teardown ends it (no FAILURE needed). */
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_groups__executor_that_never_subscribes_times_out) {
  start_master();
  char *extra[] = {"--executor_registration_timeout=1secs", NULL};
  start_agent_with("regtimeout", extra);
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  long long t0 = sim_fw_now_ms();
  launch_custom(&f, offer, agent, "mute-exec", "sleep 20", "mute-task", NULL);
  char *rec = update_and_failure(&f, "mute-task", "TASK_FAILED", "mute-exec");
  ck_assert_msg(strstr(rec, "REASON_EXECUTOR_REGISTRATION_TIMEOUT") != NULL, "%s", rec);
  ck_assert_msg(sim_fw_now_ms() - t0 >= 900, "timed out after %lld ms", sim_fw_now_ms() - t0);
  free(rec);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

START_TEST(test_groups__custom_executor_crash_fails_its_task_and_reports_failure) {
  start_master();
  start_agent("crash");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160], exe[4200], cmd[4400];
  example_path("custom_executor", exe, sizeof exe);
  wait_offer(&f, offer, agent, sizeof offer);
  /* `exec`: the executor is the process the agent started. */
  snprintf(cmd, sizeof cmd, "exec %s", exe);
  launch_custom(&f, offer, agent, "doomed-exec", cmd, "doomed-task", "sleep 30");
  char *rec = expect_update(&f, "doomed-task", "TASK_RUNNING");
  free(rec);
  /* Then it dies by SIGKILL: the test kills it (the pid it printed in its
   * sandbox), not a timer, which under ASan may fire before it even
   * subscribed. */
  char sandbox[1200], path[1500], text[2000];
  executor_sandbox(agent, f.id, "doomed-exec", sandbox, sizeof sandbox);
  snprintf(path, sizeof path, "%s/stdout", sandbox);
  read_file(path, text, sizeof text);
  int pid = 0;
  ck_assert_msg(sscanf(text, "custom_executor %d:", &pid) == 1 && pid > 1, "%s", text);
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  rec = update_and_failure(&f, "doomed-task", "TASK_FAILED", "doomed-exec");
  ck_assert_msg(strstr(rec, "REASON_EXECUTOR_TERMINATED") != NULL, "%s", rec);
  ck_assert_msg(strstr(rec, "Executor terminated by signal") != NULL, "%s", rec);
  free(rec);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST


/* Each task of a group gets its CommandInfo's environment (over the
 * executor's) and runs as its CommandInfo.user: "nobody" when the test
 * runs as root, else the current user (switching needs root); a user
 * that does not exist fails the task with a message naming it. */
START_TEST(test_groups__tasks_get_their_environment_and_user) {
  start_master();
  start_agent("envuser");
  sim_fw f;
  fw_subscribe(&f);
  char offer[160], agent[160];
  wait_offer(&f, offer, agent, sizeof offer);
  struct passwd *me = getpwuid(geteuid());
  ck_assert_ptr_nonnull(me);
  char user[64];
  snprintf(user, sizeof user, "%s", geteuid() == 0 ? "nobody" : me->pw_name);
  char tasks[4000];
  snprintf(tasks, sizeof tasks,
           "{\"name\":\"g\",\"task_id\":{\"value\":\"eu-1\"},\"agent_id\":{\"value\":\"%s\"},"
           "\"command\":{\"value\":\"echo $FOO $PATH_X; id -un\",\"user\":\"%s\","
           "\"environment\":{\"variables\":[{\"name\":\"FOO\",\"value\":\"bar\"},"
           "{\"name\":\"PATH_X\",\"value\":\"x y\"}]}},\"resources\":" RES "}",
           agent, user);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
              "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"exec-env\"},"
              "\"framework_id\":{\"value\":\"%s\"},\"resources\":" RES "},"
              "\"task_group\":{\"tasks\":[%s]}}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer, f.id, tasks),
      202);
  const char *ids[] = {"eu-1"};
  char *finals[1];
  wait_terminal(&f, 1, ids, finals);
  ck_assert_msg(strstr(finals[0], "TASK_FINISHED") != NULL, "%s", finals[0]);
  free_all(1, finals);
  char sandbox[1200], path[1500], text[1600], want[200];
  executor_sandbox(agent, f.id, "exec-env", sandbox, sizeof sandbox);
  snprintf(path, sizeof path, "%s/tasks/eu-1/stdout", sandbox);
  read_file(path, text, sizeof text);
  snprintf(want, sizeof want, "bar x y\n%s\n", user);
  ck_assert_str_eq(text, want);

  /* A user this host does not have.  The resources freed by eu-1 may come
   * as an offer of their own (0.2 cpus, 32 MB) beside the rest of the
   * agent, and the one kept last may be either: ask for half as much so
   * the group fits whichever offer this is. */
  wait_offer(&f, offer, agent, sizeof offer);
  snprintf(tasks, sizeof tasks,
           "{\"name\":\"g\",\"task_id\":{\"value\":\"eu-2\"},\"agent_id\":{\"value\":\"%s\"},"
           "\"command\":{\"value\":\"true\",\"user\":\"no-such-user-x7\"},\"resources\":" RES_HALF "}",
           agent);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
              "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"exec-env2\"},"
              "\"framework_id\":{\"value\":\"%s\"},\"resources\":" RES_HALF "},"
              "\"task_group\":{\"tasks\":[%s]}}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer, f.id, tasks),
      202);
  const char *ids2[] = {"eu-2"};
  wait_terminal(&f, 1, ids2, finals);
  ck_assert_msg(strstr(finals[0], "TASK_FAILED") != NULL, "%s", finals[0]);
  ck_assert_msg(strstr(finals[0], "no-such-user-x7") != NULL, "%s", finals[0]);
  free_all(1, finals);
  mesos_test_conn_close(&f.stream);
  free(f.offers);
  stop_all();
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_groups");
  TCase *tc = tcase_create("groups");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_add_test(tc, test_groups__both_tasks_of_a_group_finish_in_their_own_directories);
  tcase_add_test(tc, test_groups__a_failing_task_kills_the_rest_of_its_group);
  tcase_add_test(tc, test_groups__killing_one_task_kills_the_group_within_the_grace_period);
  tcase_add_test(tc, test_groups__custom_executor_runs_two_tasks_one_after_the_other);
  tcase_add_test(tc, test_groups__executor_that_never_subscribes_times_out);
  tcase_add_test(tc, test_groups__custom_executor_crash_fails_its_task_and_reports_failure);
  tcase_add_test(tc, test_groups__tasks_get_their_environment_and_user);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }

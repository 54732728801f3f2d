/*
 * Agent recovery, second file (the first one's harness is being moved to
 * tests/support/sim_fw by another change; these tests are new):
 *  - a container of a checkpointing framework survives a SIGTERM of its
 *    agent like an executor does, and the next agent re-attaches it: the
 *    task finishes TASK_FINISHED exactly once;
 *  - containers whose task ended while the agent was down report the real
 *    exit status after the restart (TASK_FAILED "exited with status 3",
 *    TASK_FINISHED for 0), not "executor terminated";
 *  - the default executor fetches its tasks' CommandInfo URIs (a local
 *    file and an http:// URI served on loopback) before starting them, and
 *    a failed fetch is TASK_FAILED with REASON_CONTAINER_LAUNCH_FAILED.
 *
 * Real mesos-master and mesos-agent over loopback.  The container tests
 * need root, cgroups and namespaces (SKIPPED with the reason otherwise);
 * they use the host's root filesystem (no image), so a file under the
 * test's directory is how the test tells a task to end.  Every process,
 * mount and cgroup a test made is removed, also when it fails.
 */
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/cluster.h"
#include "support/container_harness.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static mesos_test_ctr ctr; /* the host side: support/container_harness.h */
static pid_t master_pid = -1, agent_pid = -1;
static int master_port, agent_port;
static char work_dir[512], agent_log[512];

/* ------------------------------------------------------------ files */

/* A test's directory and cgroups root; the daemons get new ports. */
static void make_base(int k) {
  master_port = agent_port = 0;
  mesos_test_ctr_make_base(&ctr, k);
}

static void touch(const char *name) {
  char p[600];
  snprintf(p, sizeof p, "%s/%s", ctr.base_dir, name);
  FILE *f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fclose(f);
}

/* ------------------------------------------------------------ processes */

static void start_master(void) {
  char path[4096], port_arg[64], wd_arg[400];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  if (master_port == 0) master_port = mesos_test_free_port(); /* kept over a restart */
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/master", ctr.base_dir);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                  "--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=10",
                  "--logging_level=WARNING", wd_arg, NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));
}

/* mesos-agent; with `containers`, running command tasks in containers
 * (cgroups, pid namespace) on the host's filesystem.  The same flags on a
 * restart. */
static void start_agent_with(int containers) {
  char path[4096], bin_dir[4096], master_arg[64], port_arg[64], wd_arg[600], launcher[4200];
  char run[400], cgr[200];
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  snprintf(bin_dir, sizeof bin_dir, "%s", path);
  *strrchr(bin_dir, '/') = '\0';
  snprintf(launcher, sizeof launcher, "--launcher_dir=%s", bin_dir);
  if (agent_port == 0) agent_port = mesos_test_free_port();
  snprintf(work_dir, sizeof work_dir, "%s/agent", ctr.base_dir);
  snprintf(agent_log, sizeof agent_log, "%s/agent.log", ctr.base_dir);
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(port_arg, sizeof port_arg, "--port=%d", agent_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s", work_dir);
  snprintf(run, sizeof run, "--runtime_dir=%s/run", ctr.base_dir);
  snprintf(cgr, sizeof cgr, "--cgroups_root=%s", ctr.cg_root);
  char *argv[] = {path, master_arg, port_arg, wd_arg, launcher, "--ip=127.0.0.1",
                  "--hostname=agent-test", "--resources=cpus:4;mem:1024;disk:1024",
                  "--registration_backoff_factor=50ms", "--executor_shutdown_grace_period=1secs",
                  containers ? "--isolation=namespaces/pid,cgroups/cpu,cgroups/mem" : NULL, run,
                  cgr, NULL};
  agent_pid = mesos_test_spawn(argv, agent_log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(agent_port, "/health", 10000), "agent did not start: %s",
                mesos_test_slurp(agent_log));
}

static void start_agent(void) { start_agent_with(1); }

static void stop_agent(void) {
  int st = mesos_test_stop(agent_pid, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
  agent_pid = -1;
}

static void stop_all(void) {
  if (agent_pid > 0) stop_agent();
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 5000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
    master_pid = -1;
  }
}

/* ------------------------------------------------------------ framework */

/* SUBSCRIBE as root (the container tests' tasks need it) with a 60 s
 * failover timeout; `checkpoint` decides whether the agent keeps the
 * framework's executors across its own restarts. */
static void fw_subscribe_cp(sim_fw *f, int checkpoint) {
  char info[200];
  snprintf(info, sizeof info,
           "\"user\":\"root\",\"name\":\"recovery2 test\",\"checkpoint\":%s,"
           "\"failover_timeout\":60",
           checkpoint ? "true" : "false");
  sim_fw_subscribe(f, master_port, info);
}

static void fw_subscribe(sim_fw *f) { fw_subscribe_cp(f, 1); }

/* LAUNCH of command tasks `tasks[i]` running `cmds[i]`, on one offer. */
static void launch(sim_fw *f, int n, const char *const *tasks, const char *const *cmds) {
  char offer[160], agent[160], infos[6000] = "";
  sim_fw_wait_offer_min(f, "agent-test", 0.5 * n, 64.0 * n, offer, agent, sizeof offer);
  size_t len = 0;
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(
        infos + len, sizeof infos - len,
        "%s{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
        "\"command\":{\"value\":\"%s\"},\"resources\":["
        "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
        "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}}]}",
        i ? "," : "", tasks[i], agent, cmds[i]);
  ck_assert_int_lt(len, sizeof infos);
  ck_assert_int_eq(
      sim_fw_call(f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[%s]}}],\"filters\":{\"refuse_seconds\":0}}}",
              f->id, offer, infos),
      202);
}

/* Every update of the test's tasks, acknowledged, until each of the `n`
 * tasks reached a terminal state; finals[i] gets task i's terminal update
 * (caller frees).  A terminal update seen twice fails; so does one
 * arriving within `quiet_ms` after the last. */
static void collect_finals(sim_fw *f, int n, const char *const *tasks, char **finals,
                           int timeout_ms, int quiet_ms) {
  for (int i = 0; i < n; i++) finals[i] = NULL;
  int done = 0;
  long long deadline = sim_fw_now_ms() + timeout_ms;
  while (done < n) {
    long long left = deadline - sim_fw_now_ms();
    char *rec = left > 0 ? sim_fw_next(f, (int)left, "\"type\":\"UPDATE\"", NULL) : NULL;
    ck_assert_msg(rec != NULL, "%d of %d tasks ended", done, n);
    sim_fw_ack(f, rec);
    char task[160];
    sim_fw_json_id(rec, "task_id", task, sizeof task);
    if (strstr(rec, "\"TASK_STARTING\"") || strstr(rec, "\"TASK_RUNNING\"")) {
      free(rec);
      continue;
    }
    int k = -1;
    for (int i = 0; i < n; i++)
      if (strcmp(tasks[i], task) == 0) k = i;
    ck_assert_msg(k >= 0, "an update of an unknown task: %s", rec);
    ck_assert_msg(finals[k] == NULL, "a second terminal update: %s", rec);
    finals[k] = rec;
    done++;
  }
  char *more = sim_fw_next(f, quiet_ms, "\"type\":\"UPDATE\"", NULL);
  ck_assert_msg(more == NULL, "delivered again: %s", more ? more : "");
}

/* Waits until every one of the `n` tasks was reported TASK_RUNNING and
 * the agent has the acknowledgements of STARTING and RUNNING on disk. */
static void wait_running(sim_fw *f, int n, const char *const *tasks) {
  int running = 0;
  long long deadline = sim_fw_now_ms() + 20000;
  while (running < n) {
    long long left = deadline - sim_fw_now_ms();
    char *rec = left > 0 ? sim_fw_next(f, (int)left, "\"type\":\"UPDATE\"", NULL) : NULL;
    ck_assert_msg(rec != NULL, "%d of %d tasks running", running, n);
    ck_assert_msg(strstr(rec, "\"TASK_STARTING\"") || strstr(rec, "\"TASK_RUNNING\""),
                  "before running: %s", rec);
    sim_fw_ack(f, rec);
    running += strstr(rec, "\"TASK_RUNNING\"") != NULL;
    free(rec);
  }
  /* Polled, not slept: a command task's executor id is its task id. */
  for (int i = 0; i < n; i++) mesos_test_wait_acks(work_dir, tasks[i], tasks[i], 2, 10000);
}

/* The init pids of the test's containers (from the runtime directory). */
static int init_pids(pid_t *out, int cap) {
  char pattern[600];
  snprintf(pattern, sizeof pattern, "%s/run/containers/*/pid", ctr.base_dir);
  glob_t g;
  int n = 0;
  if (glob(pattern, 0, NULL, &g) != 0) return 0;
  for (size_t i = 0; i < g.gl_pathc && n < cap; i++) {
    long pid = strtol(mesos_test_slurp(g.gl_pathv[i]), NULL, 10);
    if (pid > 1) out[n++] = (pid_t)pid;
  }
  globfree(&g);
  return n;
}

/* A task command waiting for file `name` under the test's directory. */
static void wait_cmd(char *out, size_t cap, const char *name, int code) {
  snprintf(out, cap, "while [ ! -e %s/%s ]; do sleep 0.05; done; exit %d", ctr.base_dir, name, code);
}

/* ------------------------------------------------------------ tests */

/* The executor rule for containers: a SIGTERM'ed agent leaves the
 * container of a checkpointing framework running, the next agent
 * re-attaches it, and its task finishes once. */
START_TEST(test_recovery2__container_survives_agent_sigterm_and_finishes_once) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  make_base(0);
  start_master();
  start_agent();
  sim_fw f;
  fw_subscribe(&f);
  char cmd[700];
  wait_cmd(cmd, sizeof cmd, "go", 0);
  const char *tasks[] = {"kept"};
  const char *cmds[] = {cmd};
  launch(&f, 1, tasks, cmds);
  wait_running(&f, 1, tasks);
  pid_t init[4];
  ck_assert_int_eq(init_pids(init, 4), 1);
  stop_agent(); /* SIGTERM */
  ck_assert_msg(kill(init[0], 0) == 0, "the container was destroyed with the agent: %s",
                mesos_test_slurp(agent_log));
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "Leaving container") != NULL, "%s", mesos_test_slurp(agent_log));
  start_agent();
  for (int i = 0; i < 250 && strstr(mesos_test_slurp(agent_log), "re-attached") == NULL; i++) usleep(20000);
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "re-attached") != NULL, "%s", mesos_test_slurp(agent_log));
  touch("go");
  char *finals[1];
  collect_finals(&f, 1, tasks, finals, 15000, 1000);
  ck_assert_msg(strstr(finals[0], "\"TASK_FINISHED\"") != NULL, "%s", finals[0]);
  free(finals[0]);
  for (int i = 0; i < 100 && kill(init[0], 0) == 0; i++) usleep(20000);
  ck_assert_msg(kill(init[0], 0) != 0, "the container's init %d is still there", (int)init[0]);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* Containers whose tasks end while the agent is down (killed with
 * SIGKILL): after the restart the framework gets each task's real exit
 * status, which the container's init checkpointed. */
START_TEST(test_recovery2__container_ended_while_agent_down_reports_its_exit_status) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  make_base(1);
  start_master();
  start_agent();
  sim_fw f;
  fw_subscribe(&f);
  char cmd3[700], cmd0[700];
  wait_cmd(cmd3, sizeof cmd3, "go", 3);
  wait_cmd(cmd0, sizeof cmd0, "go", 0);
  const char *tasks[] = {"three", "zero"};
  const char *cmds[] = {cmd3, cmd0};
  launch(&f, 2, tasks, cmds);
  wait_running(&f, 2, tasks);
  pid_t init[4];
  ck_assert_int_eq(init_pids(init, 4), 2);
  kill(agent_pid, SIGKILL);
  waitpid(agent_pid, NULL, 0);
  agent_pid = -1;
  touch("go");
  /* Both tasks (and so their inits) end while no agent runs. */
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < 250 && kill(init[k], 0) == 0; i++) usleep(20000);
    ck_assert_msg(kill(init[k], 0) != 0, "container init %d still runs", (int)init[k]);
  }
  start_agent();
  char *finals[2];
  collect_finals(&f, 2, tasks, finals, 15000, 1000);
  ck_assert_msg(strstr(finals[0], "\"TASK_FAILED\"") && strstr(finals[0], "status 3"), "%s",
                finals[0]);
  ck_assert_msg(strstr(finals[1], "\"TASK_FINISHED\"") != NULL, "%s", finals[1]);
  ck_assert_msg(strstr(finals[0], "executor terminated") == NULL, "%s", finals[0]);
  free(finals[0]);
  free(finals[1]);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* ACCEPT of one offer with `n` LAUNCH_GROUPs: group i is one task
 * tasks[i] under DEFAULT executor execs[i], running cmds[i] after fetching
 * the URIs uris[i] (a JSON array). */
#define RES2 "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.2}}," \
             "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]"
static void launch_groups(sim_fw *f, int n, const char *const *execs, const char *const *tasks,
                          const char *const *cmds, const char *const *uris) {
  char offer[160], agent[160], ops[8000] = "";
  /* Each group: its executor's RES2 and its task's. */
  sim_fw_wait_offer_min(f, "agent-test", 0.4 * n, 64.0 * n, offer, agent, sizeof offer);
  size_t len = 0;
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(
        ops + len, sizeof ops - len,
        "%s{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
        "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"%s\"},"
        "\"framework_id\":{\"value\":\"%s\"},\"resources\":" RES2 "},"
        "\"task_group\":{\"tasks\":[{\"name\":\"g\",\"task_id\":{\"value\":\"%s\"},"
        "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"%s\",\"uris\":%s},"
        "\"resources\":" RES2 "}]}}}",
        i ? "," : "", execs[i], f->id, tasks[i], agent, cmds[i], uris[i]);
  ck_assert_int_lt(len, sizeof ops);
  ck_assert_int_eq(sim_fw_call(f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                           "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[%s],"
                           "\"filters\":{\"refuse_seconds\":0}}}",
                           f->id, offer, ops),
                   202);
}

/* Updates of other tasks read while waiting for one task's: kept for
 * their own wait. */
static char *stash[8];

/* Acknowledges every update until `task` has one in `state` (returned);
 * the other updates of `task` must be STARTING or RUNNING. */
static char *until_state(sim_fw *f, const char *task, const char *state) {
  char tid[256];
  snprintf(tid, sizeof tid, "\"task_id\":{\"value\":\"%s\"}", task);
  for (int i = 0; i < 8; i++)
    if (stash[i] && strstr(stash[i], tid) && strstr(stash[i], state)) {
      char *rec = stash[i];
      stash[i] = NULL;
      return rec;
    }
  long long deadline = sim_fw_now_ms() + 15000;
  for (;;) {
    long long left = deadline - sim_fw_now_ms();
    char *rec = left > 0 ? sim_fw_next(f, (int)left, "\"type\":\"UPDATE\"", NULL) : NULL;
    ck_assert_msg(rec != NULL, "%s never reached %s", task, state);
    if (strstr(rec, "\"uuid\":\"")) sim_fw_ack(f, rec);
    if (strstr(rec, tid) == NULL) {
      int kept = 0;
      for (int i = 0; i < 8 && !kept; i++)
        if (stash[i] == NULL) stash[i] = rec, kept = 1;
      if (!kept) free(rec);
      continue;
    }
    if (strstr(rec, state)) return rec;
    ck_assert_msg(strstr(rec, "\"TASK_STARTING\"") || strstr(rec, "\"TASK_RUNNING\""),
                  "wanted %s: %s", state, rec);
    free(rec);
  }
}

static void write_file(const char *name, const char *text) {
  char p[600];
  snprintf(p, sizeof p, "%s/%s", ctr.base_dir, name);
  FILE *fp = fopen(p, "w");
  ck_assert_ptr_nonnull(fp);
  fputs(text, fp);
  fclose(fp);
}

/* The default executor fetches a task's URIs into the task's directory
 * before starting it: a local file (absolute path) and an http:// URI
 * (python3's http.server on loopback) renamed by output_file; an URI that
 * cannot be fetched fails the task with REASON_CONTAINER_LAUNCH_FAILED. */
START_TEST(test_recovery2__default_executor_fetches_uris_before_the_task_starts) {
  if (access("/usr/bin/python3", X_OK) != 0) MESOS_TEST_SKIP("no /usr/bin/python3 to serve http");
  make_base(2);
  char served[400];
  snprintf(served, sizeof served, "%s/www", ctr.base_dir);
  ck_assert_int_eq(mkdir(served, 0755), 0);
  write_file("local.txt", "from-a-local-file\n");
  write_file("www/served.txt", "from-http\n");
  int http_port = mesos_test_free_port();
  char port_s[16];
  snprintf(port_s, sizeof port_s, "%d", http_port);
  char *py[] = {"/usr/bin/python3", "-m", "http.server", port_s, "--bind", "127.0.0.1",
                "--directory", served, NULL};
  pid_t http_pid = mesos_test_spawn(py, NULL);
  ck_assert_int_gt(http_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(http_port, "/served.txt", 10000), "no http server");
  start_master();
  start_agent_with(0);
  sim_fw f;
  fw_subscribe(&f);
  char ok_uris[1200], bad_uris[300];
  snprintf(ok_uris, sizeof ok_uris,
           "[{\"value\":\"%s/local.txt\"},{\"value\":\"http://127.0.0.1:%d/served.txt\","
           "\"output_file\":\"renamed.txt\"}]",
           ctr.base_dir, http_port);
  snprintf(bad_uris, sizeof bad_uris, "[{\"value\":\"http://127.0.0.1:%d/missing.txt\"}]",
           http_port);
  const char *execs[] = {"exec-ok", "exec-bad"};
  const char *tasks[] = {"fetch-ok", "fetch-bad"};
  const char *cmds[] = {"grep -q from-a-local-file local.txt && grep -q from-http renamed.txt",
                        "true"};
  const char *uris[] = {ok_uris, bad_uris};
  launch_groups(&f, 2, execs, tasks, cmds, uris);
  char *rec = until_state(&f, "fetch-ok", "\"TASK_FINISHED\"");
  free(rec);
  rec = until_state(&f, "fetch-bad", "\"TASK_FAILED\"");
  ck_assert_msg(strstr(rec, "REASON_CONTAINER_LAUNCH_FAILED") && strstr(rec, "fetch"), "%s", rec);
  free(rec);
  for (int i = 0; i < 8; i++) {
    free(stash[i]);
    stash[i] = NULL;
  }
  sim_fw_close(&f);
  stop_all();
  kill(http_pid, SIGKILL);
  waitpid(http_pid, NULL, 0);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* The operator API's answer to `{"type":"<call>"}` (caller frees). */
static char *operator_call(const char *call) {
  char body[128];
  snprintf(body, sizeof body, "{\"type\":\"%s\"}", call);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1", "application/json",
                                   "Accept: application/json\r\n", body, &r),
                   0);
  ck_assert_msg(r.status == 200, "%s: %d %s", call, r.status, r.body ? r.body : "");
  char *out = strdup(r.body ? r.body : "");
  mesos_test_response_free(&r);
  return out;
}

/* An agent re-registering in JSON (the master decodes it into an arena
 * and copies what it keeps): its task, framework and executor survive
 * into GET_TASKS, GET_AGENTS and GET_EXECUTORS. */
START_TEST(test_recovery2__json_reregistration_keeps_tasks_and_executors) {
  make_base(3);
  start_master();
#define RES3 "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1}}," \
             "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}}]"
  const char *body =
      "{\"protocol_version\":1,\"type\":\"REREGISTER\",\"agent_id\":{\"value\":\"json-agent-S1\"},"
      "\"reregister_agent\":{\"version\":\"1.0.0\",\"agent\":{\"hostname\":\"json-host\","
      "\"id\":{\"value\":\"json-agent-S1\"},\"resources\":"
      "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":4}},"
      "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1024}}]},"
      "\"executor_infos\":[{\"executor_id\":{\"value\":\"json-exec\"},\"framework_id\":"
      "{\"value\":\"json-fw\"},\"type\":\"CUSTOM\",\"command\":{\"value\":\"/bin/json-exec\"},"
      "\"resources\":" RES3 "}],"
      "\"tasks\":[{\"name\":\"jt\",\"task_id\":{\"value\":\"json-task\"},\"framework_id\":"
      "{\"value\":\"json-fw\"},\"executor_id\":{\"value\":\"json-exec\"},\"agent_id\":"
      "{\"value\":\"json-agent-S1\"},\"state\":\"TASK_RUNNING\",\"resources\":" RES3 "}],"
      "\"frameworks\":[{\"id\":{\"value\":\"json-fw\"},\"name\":\"json framework\","
      "\"user\":\"nobody\",\"checkpoint\":true}]}}";
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1/agent", "application/json",
                                           "Accept: application/json\r\n", body, strlen(body)),
                   0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 0, 5000), 0);
  ck_assert_msg(r.status == 200, "REREGISTER in JSON: %d %s", r.status, r.body ? r.body : "");
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&c, &rec, 5000), 0);
  ck_assert_msg(strstr(rec, "REREGISTERED") != NULL, "%s", rec);
  free(rec);
  char *tasks = operator_call("GET_TASKS");
  ck_assert_msg(strstr(tasks, "json-task") && strstr(tasks, "TASK_RUNNING") &&
                    strstr(tasks, "json-exec"),
                "%s", tasks);
  free(tasks);
  char *agents = operator_call("GET_AGENTS");
  ck_assert_msg(strstr(agents, "json-agent-S1") && strstr(agents, "json-host"), "%s", agents);
  free(agents);
  char *execs = operator_call("GET_EXECUTORS");
  ck_assert_msg(strstr(execs, "json-exec") && strstr(execs, "/bin/json-exec"), "%s", execs);
  free(execs);
  mesos_test_conn_close(&c);
  stop_all();
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* A real agent running a custom executor sends its ExecutorInfo when it
 * re-registers with a restarted master, which lists it (with its command)
 * in GET_EXECUTORS. */
START_TEST(test_recovery2__executor_infos_reach_a_restarted_master) {
  make_base(4);
  start_master();
  start_agent_with(0);
  sim_fw f;
  fw_subscribe_cp(&f, 0); /* its executor ends with the agent */
  char exe[6400], bin[4096];
  mesos_test_daemon_path("x", bin, sizeof bin);
  size_t n = strlen(bin);
  ck_assert(n > 6 && strcmp(bin + n - 6, "/bin/x") == 0);
  bin[n - 6] = '\0';
  char cwd[2048] = "";
  if (bin[0] != '/') ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  snprintf(exe, sizeof exe, "%s%s%s/examples/custom_executor", cwd, cwd[0] ? "/" : "", bin);
  char offer[160], agent[160];
  sim_fw_wait_offer_min(&f, "agent-test", 0.4, 64, offer, agent, sizeof offer);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[{\"name\":\"t\",\"task_id\":{\"value\":\"ct\"},\"agent_id\":{\"value\":\"%s\"},"
              "\"executor\":{\"type\":\"CUSTOM\",\"executor_id\":{\"value\":\"rec-exec\"},"
              "\"command\":{\"value\":\"%s\",\"environment\":{\"variables\":[{\"name\":"
              "\"CUSTOM_EXECUTOR_TASK_COMMAND\",\"value\":\"sleep 30\"}]}},\"resources\":" RES2 "},"
              "\"resources\":" RES2 "}]}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer, agent, exe),
      202);
  free(until_state(&f, "ct", "\"TASK_RUNNING\""));
  sim_fw_close(&f);
  int st = mesos_test_stop(master_pid, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  master_pid = -1;
  start_master(); /* same port and work dir: the agent re-registers */
  char *execs = NULL;
  for (int i = 0; i < 100; i++) {
    free(execs);
    execs = operator_call("GET_EXECUTORS");
    if (strstr(execs, "rec-exec")) break;
    usleep(100000);
  }
  ck_assert_msg(strstr(execs, "rec-exec") && strstr(execs, "custom_executor"), "%s", execs);
  /* Once: the re-registration's info replaced any id-only entry. */
  ck_assert_msg(strstr(strstr(execs, "rec-exec") + 1, "rec-exec") == NULL, "%s", execs);
  free(execs);
  stop_all();
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_recovery2");
  TCase *tc = tcase_create("containers");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_recovery2__container_survives_agent_sigterm_and_finishes_once);
  tcase_add_test(tc, test_recovery2__container_ended_while_agent_down_reports_its_exit_status);
  suite_add_tcase(s, tc);
  TCase *tu = tcase_create("uris");
  tcase_set_timeout(tu, 60);
  tcase_add_test(tu, test_recovery2__default_executor_fetches_uris_before_the_task_starts);
  tcase_add_test(tu, test_recovery2__json_reregistration_keeps_tasks_and_executors);
  tcase_add_test(tu, test_recovery2__executor_infos_reach_a_restarted_master);
  suite_add_tcase(s, tu);
  return s;
}

int main(void) {
  mesos_test_ctr_init(&ctr, "rec2", 0);
  return mesos_test_main(make_suite());
}

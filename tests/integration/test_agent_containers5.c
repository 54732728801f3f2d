/*
 * Executor containers, end to end (real mesos-master and mesos-agent on
 * loopback with tests/support/cluster.h, the scheduler of
 * tests/support/sim_fw.h, the host side of tests/support/container_harness.h):
 *
 *  - a custom executor WITHOUT a ContainerInfo still runs in a container
 *    when --isolation names cgroups (as Mesos puts every executor in one):
 *    its memory limit, read from the cgroup, is the executor's plus its
 *    task's, its task runs in that cgroup, and GET_CONTAINERS and
 *    /monitor/statistics report usage from it;
 *  - that container's limits follow the executor's tasks: a second task
 *    raises cpu shares and the memory limit before it starts; when it
 *    ends the cpu shares and the soft memory limit go back (the hard limit
 *    only grows, as Mesos's cgroups/mem does: lowering it could OOM-kill
 *    the container);
 *
 * After every test nothing is left: no mount under the test's directory,
 * no container cgroup, no runtime state or root filesystem, no process.
 * Needs root and writable cgroups: SKIPPED with the reason otherwise.
 */
#include <glob.h>
#include <limits.h>
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
static mesos_test_cluster cl;
static char executor_bin[PATH_MAX]; /* examples/custom_executor of this build */

/* ------------------------------------------------------------ cluster */

/* The test's directory (number k) and the master. */
static void start_master(int k) {
  mesos_test_ctr_make_base(&ctr, k);
  memset(&cl, 0, sizeof cl);
  cl.master_pid = cl.agent_pid = -1;
  snprintf(cl.base_dir, sizeof cl.base_dir, "%s", ctr.base_dir);
  mesos_test_cluster_start_master(&cl, NULL);
}

/* An agent with cgroups isolation in the test's directory; with
 * `images`, images from <base>/registry (copy backend, store in
 * <base>/store). */
static void start_agent(int images) {
  char run[400], cgr[200], reg[400], store[400];
  snprintf(run, sizeof run, "--runtime_dir=%s/run", ctr.base_dir);
  snprintf(cgr, sizeof cgr, "--cgroups_root=%s", ctr.cg_root);
  snprintf(reg, sizeof reg, "--docker_registry=%s/registry", ctr.base_dir);
  snprintf(store, sizeof store, "--docker_store_dir=%s/store", ctr.base_dir);
  char *plain[] = {"--isolation=namespaces/pid,cgroups/cpu,cgroups/mem", run, cgr, NULL};
  char *with_images[] = {"--isolation=filesystem/linux,docker/runtime,namespaces/pid,cgroups/cpu,"
                         "cgroups/mem",
                         "--image_providers=docker", "--image_provisioner_backend=copy", reg,
                         store, run, cgr, NULL};
  mesos_test_cluster_start_agent(&cl, "agent", NULL, images ? with_images : plain);
}

/* Master, agent (cgroups isolation, no images) and a framework. */
static void start_cluster(sim_fw *f, int k) {
  start_master(k);
  start_agent(0);
  sim_fw_subscribe(f, cl.master_port, "\"user\":\"root\",\"name\":\"containers5\"");
}

static void finish_test(sim_fw *f) {
  sim_fw_close(f);
  mesos_test_cluster_stop(&cl);
  mesos_test_ctr_assert_clean(&ctr);
  ck_assert_msg(mesos_test_kill_under(ctr.base_dir) == 0, "processes were left under %s",
                ctr.base_dir);
  mesos_test_ctr_remove_base(&ctr);
}

static void teardown(void) {
  /* A failed test: its daemons, containers and tasks (the harness's
   * runner clean-up removes the rest at exit). */
  if (cl.agent_pid > 0) kill(cl.agent_pid, SIGKILL);
  if (cl.master_pid > 0) kill(cl.master_pid, SIGKILL);
  if (ctr.base_dir[0]) mesos_test_kill_under(ctr.base_dir);
}

/* ------------------------------------------------------------ helpers */

/* 0.1 cpus and 16 MB: an executor and its tasks together fit the smallest
 * offer sim_fw_wait_offer_min asks for. */
#define RES                                                                  \
  "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}},"     \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":16}}]"
#define MB16 (16ull << 20)
/* Mesos's floor of a container's memory limit (cgroups/mem). */
#define MB32 (32ull << 20)

/* Each task of the executor claims the first free number n (mkdir is
 * atomic), writes its cgroups (/proc/self resolves in the host's /proc:
 * no mount namespace here) and its pid as it sees it (its pid namespace)
 * to run-<n>/, and runs until stop-<n> exists. */
#define TASK_CMD                                                                           \
  "n=1; until mkdir $MESOS_SANDBOX/run-$n 2>/dev/null; do n=$((n+1)); done; "              \
  "cat /proc/self/cgroup > $MESOS_SANDBOX/run-$n/cg; "                                      \
  "echo $$ > $MESOS_SANDBOX/run-$n/pid.tmp && mv $MESOS_SANDBOX/run-$n/pid.tmp "            \
  "$MESOS_SANDBOX/run-$n/pid; while [ ! -e $MESOS_SANDBOX/stop-$n ]; do sleep 0.05; done"

/* ACCEPTs an offer of at least `cpus`/`mem` with task `task` for executor
 * `eid` (the example custom executor on the host filesystem, no
 * ContainerInfo, RES), the task RES too. */
static void launch_exec_task(sim_fw *f, const char *eid, const char *task, double cpus,
                             double mem) {
  char offer[160], agent[160], body[2048];
  sim_fw_wait_offer_min(f, "agent-test", cpus, mem, offer, agent, sizeof offer);
  int code = sim_fw_call_body(
      f, body, sizeof body,
      "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
      "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
      "[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
      "\"executor\":{\"type\":\"CUSTOM\",\"executor_id\":{\"value\":\"%s\"},"
      "\"command\":{\"value\":\"%s\",\"environment\":{\"variables\":[{\"name\":"
      "\"CUSTOM_EXECUTOR_TASK_COMMAND\",\"value\":\"" TASK_CMD "\"}]}},\"resources\":" RES "},"
      "\"resources\":" RES "}]}}],\"filters\":{\"refuse_seconds\":0}}}",
      f->id, offer, task, agent, eid, executor_bin);
  ck_assert_msg(code == 202, "ACCEPT of %s: %d %s", task, code, body);
}

/* The host sandbox of executor `eid`'s only run (polls up to 20 s). */
static void executor_sandbox(const char *eid, char *out, size_t cap) {
  char pattern[1200];
  snprintf(pattern, sizeof pattern, "%s/slaves/*/frameworks/*/executors/%s/runs/*-*",
           cl.work_dir, eid);
  for (long long until = sim_fw_now_ms() + 20000; sim_fw_now_ms() < until; usleep(20000)) {
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
      snprintf(out, cap, "%s", g.gl_pathv[0]);
      globfree(&g);
      return;
    }
  }
  ck_abort_msg("no sandbox of executor %s", eid);
}

/* Test k's cluster with task `task` of executor `eid` running; the
 * executor's sandbox, and its container id (in `sandbox`). */
static const char *start_with_task(sim_fw *f, int k, const char *eid, const char *task,
                                   char *sandbox, size_t cap) {
  start_cluster(f, k);
  launch_exec_task(f, eid, task, 0.2, 32);
  free(sim_fw_expect_update(f, task, "TASK_RUNNING", 20000));
  executor_sandbox(eid, sandbox, cap);
  return strrchr(sandbox, '/') + 1;
}

/* The pid task number `n` of the executor in `sandbox` has in its pid
 * namespace (polls), and whether its cgroups name container `id`. */
static pid_t task_pid(const char *sandbox, int n, const char *id, int *in_cgroup) {
  char p[1400];
  snprintf(p, sizeof p, "%s/run-%d/pid", sandbox, n);
  for (long long until = sim_fw_now_ms() + 20000; sim_fw_now_ms() < until; usleep(20000)) {
    long pid = strtol(mesos_test_slurp(p), NULL, 10);
    if (pid > 1) {
      snprintf(p, sizeof p, "%s/run-%d/cg", sandbox, n);
      *in_cgroup = strstr(mesos_test_slurp(p), id) != NULL;
      return (pid_t)pid;
    }
  }
  ck_abort_msg("task %d never wrote %s", n, p);
  return -1;
}

static void stop_task(const char *sandbox, int n) {
  char p[1400];
  snprintf(p, sizeof p, "%s/stop-%d", sandbox, n);
  FILE *f = fopen(p, "w");
  ck_assert_msg(f != NULL, "cannot create %s", p);
  fclose(f);
}

/* The value of the first of `files` (v1 name, v2 name) that container
 * `id` has in any hierarchy; -1 when none exists. */
static long long cg_value(const char *id, const char *v1, const char *v2) {
  char dirs[16][1024];
  int nd = mesos_test_cg_dirs(ctr.cg_root, dirs, 16);
  const char *files[] = {v1, v2};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nd; i++) {
      char p[1400];
      struct stat sb;
      snprintf(p, sizeof p, "%.1000s/%.200s/%s", dirs[i], id, files[k]);
      if (stat(p, &sb) == 0) return strtoll(mesos_test_slurp(p), NULL, 10);
    }
  return -1;
}

static long long mem_limit(const char *id) {
  return cg_value(id, "memory.limit_in_bytes", "memory.max");
}
static long long mem_soft(const char *id) {
  return cg_value(id, "memory.soft_limit_in_bytes", "memory.low");
}
/* v1 cpu.shares (1024 per cpu); -1 on a v2 cpu controller (cpu.weight
 * maps shares, checked by the unit tests). */
static long long cpu_shares(const char *id) { return cg_value(id, "cpu.shares", "cpu.shares"); }

/* Polls until `get`(id) == want (5 s); the last value. */
static long long wait_value(long long (*get)(const char *), const char *id, long long want) {
  long long v = get(id);
  for (long long until = sim_fw_now_ms() + 5000; v != want && sim_fw_now_ms() < until;
       usleep(20000))
    v = get(id);
  return v;
}

/* An agent endpoint's body (GET, or POST of `call` to /api/v1). */
static char *agent_body(const char *path, const char *call) {
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(cl.agent_port, call ? "POST" : "GET", path,
                                   call ? "application/json" : NULL, NULL, call, &r),
                   0);
  ck_assert_msg(r.status == 200, "%s: %d %s", path, r.status, r.body);
  char *body = strdup(r.body);
  mesos_test_response_free(&r);
  return body;
}

/* ------------------------------------------------------------ tests */

/* A custom executor with no ContainerInfo on an agent with cgroups
 * isolation runs in a container of its own (runtime state, an init, a
 * cgroup): its memory limit is the executor's and its task's (16 + 16 MB,
 * raised to Mesos's 32 MB floor), cpu shares 1024 x (0.1 + 0.1), its task
 * runs in that cgroup, and GET_CONTAINERS and /monitor/statistics report
 * the limit and usage read from it. */
START_TEST(test_containers5__custom_executor_without_container_info_runs_in_cgroups) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  sim_fw f;
  char sandbox[1200], p[1400];
  const char *cid = start_with_task(&f, 1, "plain-ex", "plain-1", sandbox, sizeof sandbox);
  snprintf(p, sizeof p, "%s/run/containers/%s/pid", ctr.base_dir, cid);
  pid_t init = (pid_t)strtol(mesos_test_slurp(p), NULL, 10);
  ck_assert_msg(init > 1 && kill(init, 0) == 0, "no container init for the executor (%s)", p);
  ck_assert_int_eq(mem_limit(cid), (long long)MB32);
  long long shares = cpu_shares(cid);
  ck_assert_msg(shares == -1 || shares == 204, "cpu.shares %lld", shares);
  /* The task: in the executor's cgroup and pid namespace (init 1, the
   * executor's shell and the executor before it). */
  int in_cg = 0;
  pid_t tp = task_pid(sandbox, 1, cid, &in_cg);
  ck_assert_msg(in_cg, "the task is not in the executor's cgroup");
  ck_assert_msg(tp < 100, "the task's pid %d is not from a new pid namespace", (int)tp);
  char *body = agent_body("/api/v1", "{\"type\":\"GET_CONTAINERS\"}");
  ck_assert_msg(strstr(body, cid) && strstr(body, "\"mem_limit_bytes\":33554432") &&
                    strstr(body, "\"mem_total_bytes\""),
                "%s", body);
  free(body);
  body = agent_body("/monitor/statistics", NULL);
  ck_assert_msg(strstr(body, "plain-ex") && strstr(body, "\"mem_limit_bytes\":33554432"), "%s",
                body);
  free(body);
  stop_task(sandbox, 1);
  free(sim_fw_expect_final(&f, "plain-1", "TASK_FINISHED", 20000));
  /* Its framework goes: the executor is shut down, its container too. */
  ck_assert_int_eq(
      sim_fw_call(&f, "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"TEARDOWN\"}", f.id), 202);
  for (long long until = sim_fw_now_ms() + 10000; kill(init, 0) == 0 && sim_fw_now_ms() < until;)
    usleep(20000);
  ck_assert_msg(kill(init, 0) != 0, "the executor's container (init %d) is still there",
                (int)init);
  finish_test(&f);
}
END_TEST

/* The executor container's limits follow its tasks: a second task raises
 * the memory limit (16 + 16 + 16 MB) and cpu shares (0.3 cpus) before it
 * runs; when it finishes, cpu shares and the soft limit go back to the
 * executor's and the first task's, and the hard limit stays (Mesos never
 * lowers it under a running container). */
START_TEST(test_containers5__executor_container_limits_follow_its_tasks) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  sim_fw f;
  char sandbox[1200];
  const char *cid = start_with_task(&f, 2, "grow-ex", "grow-1", sandbox, sizeof sandbox);
  int in_cg = 0;
  task_pid(sandbox, 1, cid, &in_cg);
  ck_assert_int_eq(mem_limit(cid), (long long)MB32);
  ck_assert_int_eq(mem_soft(cid), (long long)MB32);
  int v1cpu = cpu_shares(cid) != -1;
  launch_exec_task(&f, "grow-ex", "grow-2", 0.1, 16);
  free(sim_fw_expect_update(&f, "grow-2", "TASK_RUNNING", 20000));
  /* Updated before the executor heard of the task: no wait needed. */
  ck_assert_int_eq(mem_limit(cid), (long long)(3 * MB16));
  ck_assert_int_eq(mem_soft(cid), (long long)(3 * MB16));
  if (v1cpu) ck_assert_int_eq(cpu_shares(cid), 307);
  task_pid(sandbox, 2, cid, &in_cg);
  ck_assert_msg(in_cg, "the second task is not in the executor's cgroup");
  /* Two tasks, one container: listed once, as Mesos lists containers. */
  char *body = agent_body("/api/v1", "{\"type\":\"GET_CONTAINERS\"}");
  const char *first = strstr(body, "\"executor_id\":{\"value\":\"grow-ex\"}");
  ck_assert_msg(first && !strstr(first + 1, "\"executor_id\":{\"value\":\"grow-ex\"}") &&
                    strstr(body, "\"mem_limit_bytes\":50331648"),
                "%s", body);
  free(body);
  body = agent_body("/monitor/statistics", NULL);
  first = strstr(body, "\"executor_id\":\"grow-ex\"");
  ck_assert_msg(first && !strstr(first + 1, "\"executor_id\":\"grow-ex\""), "%s", body);
  free(body);
  stop_task(sandbox, 2);
  free(sim_fw_expect_final(&f, "grow-2", "TASK_FINISHED", 20000));
  /* Its terminal update frees its share: soft limit and shares go back. */
  ck_assert_int_eq(wait_value(mem_soft, cid, (long long)MB32), (long long)MB32);
  if (v1cpu) ck_assert_int_eq(wait_value(cpu_shares, cid, 204), 204);
  ck_assert_int_eq(mem_limit(cid), (long long)(3 * MB16));
  stop_task(sandbox, 1);
  free(sim_fw_expect_final(&f, "grow-1", "TASK_FINISHED", 20000));
  ck_assert_int_eq(
      sim_fw_call(&f, "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"TEARDOWN\"}", f.id), 202);
  finish_test(&f);
}
END_TEST

#define DOCKER_CI ",\"container\":{\"type\":\"DOCKER\",\"docker\":{\"image\":\"busybox\"}}"

/* ACCEPTs an offer (cpus 0.3, 48 MB) with LAUNCH_GROUP: default executor
 * `eid` (RES, `exec_extra` members appended) and tasks <prefix>1 and
 * <prefix>2 (TASK_CMD, RES, the first with `task_extra`). */
static void launch_group(sim_fw *f, const char *eid, const char *exec_extra, const char *prefix,
                         const char *task_extra) {
  char offer[160], agent[160], tasks[4000];
  sim_fw_wait_offer_min(f, "agent-test", 0.3, 48, offer, agent, sizeof offer);
  size_t len = 0;
  for (int i = 1; i <= 2; i++)
    len += (size_t)snprintf(tasks + len, sizeof tasks - len,
                            "%s{\"name\":\"g\",\"task_id\":{\"value\":\"%s%d\"},\"agent_id\":"
                            "{\"value\":\"%s\"},\"command\":{\"value\":\"%s\"},"
                            "\"resources\":" RES "%s}",
                            i > 1 ? "," : "", prefix, i, agent, TASK_CMD, i == 1 ? task_extra : "");
  ck_assert_int_lt(len, sizeof tasks);
  ck_assert_int_eq(
      sim_fw_call(f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\","
                  "\"launch_group\":{\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{"
                  "\"value\":\"%s\"},\"framework_id\":{\"value\":\"%s\"},\"resources\":" RES
                  "%s},\"task_group\":{\"tasks\":[%s]}}}],\"filters\":{\"refuse_seconds\":0}}}",
                  f->id, offer, eid, f->id, exec_extra, tasks),
      202);
}

/* The default executor of a task group runs in a container too under
 * cgroups isolation: sized for itself and the group (16 x 3 MB), the
 * group's tasks in its cgroup and pid namespace; both tasks finish, and
 * the executor and its container go with the framework.  A DOCKER
 * ContainerInfo on the group's executor or on one of its tasks is
 * invalid, as Mesos's task group validation says (TASK_ERROR,
 * REASON_TASK_GROUP_INVALID, Mesos's words), for the whole group. */
START_TEST(test_containers5__default_executor_and_its_group_run_in_one_container) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  sim_fw f;
  start_cluster(&f, 5);
  static const struct {
    const char *eid, *exec_extra, *prefix, *task_extra, *message;
  } invalid[] = {
      {"dx", DOCKER_CI, "d", "", "Docker ContainerInfo is not supported on the executor"},
      {"tx", "", "t", DOCKER_CI, "Task 't1' is invalid: Docker ContainerInfo is not supported on the task"},
  };
  for (size_t k = 0; k < 2; k++) {
    launch_group(&f, invalid[k].eid, invalid[k].exec_extra, invalid[k].prefix,
                 invalid[k].task_extra);
    for (int i = 1; i <= 2; i++) {
      char task[32];
      snprintf(task, sizeof task, "%s%d", invalid[k].prefix, i);
      char *rec = sim_fw_expect_final(&f, task, "TASK_ERROR", 20000);
      ck_assert_msg(strstr(rec, "REASON_TASK_GROUP_INVALID") && strstr(rec, invalid[k].message),
                    "%s", rec);
      free(rec);
    }
  }
  launch_group(&f, "gx", "", "g", "");
  char sandbox[1200]; /* (the tasks' files below show them running) */
  executor_sandbox("gx", sandbox, sizeof sandbox);
  const char *cid = strrchr(sandbox, '/') + 1;
  /* The default executor gives each task tasks/<id> as its sandbox. */
  char dirs[2][1300];
  for (int i = 0; i < 2; i++) {
    snprintf(dirs[i], sizeof dirs[i], "%s/tasks/g%d", sandbox, i + 1);
    int in_cg = 0;
    pid_t tp = task_pid(dirs[i], 1, cid, &in_cg);
    ck_assert_msg(in_cg, "group task g%d is not in the executor's cgroup", i + 1);
    ck_assert_msg(tp < 100, "group task g%d has pid %d: not the executor's pid namespace",
                  i + 1, (int)tp);
  }
  ck_assert_int_eq(mem_limit(cid), (long long)(3 * MB16));
  for (int i = 0; i < 2; i++) stop_task(dirs[i], 1);
  free(sim_fw_expect_final(&f, "g1", "TASK_FINISHED", 20000));
  free(sim_fw_expect_final(&f, "g2", "TASK_FINISHED", 20000));
  ck_assert_int_eq(
      sim_fw_call(&f, "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"TEARDOWN\"}", f.id), 202);
  finish_test(&f);
}
END_TEST

/* ------------------------------------------------------------ agent stopped while provisioning */

/* Polls (10 s) until `dir` has an entry; whether it has. */
static int wait_entries(const char *dir) {
  for (long long until = sim_fw_now_ms() + 10000; sim_fw_now_ms() < until; usleep(10000))
    if (mesos_test_count_entries(dir) > 0) return 1;
  return 0;
}

/* SIGTERM to an agent that is extracting a huge layer (one file of 6 GiB
 * of zeros: many seconds of writing) makes it exit promptly and cleanly:
 * the extraction stops at its next chunk, its staging directory and the
 * container's root filesystem are removed, nothing else is left.  And a
 * FIFO put in the registry under an image's name (which a plain open
 * would wait on forever, holding a thread-pool thread and the agent's
 * exit) fails its task at once with the reason. */
START_TEST(test_containers5__agent_stopped_while_provisioning_exits_promptly_leaving_nothing) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  start_master(3);
  char cmd[1200], p[600];
  snprintf(cmd, sizeof cmd,
           "mkdir -p '%s/registry' && python3 tests/support/huge_image.py '%s/registry/huge.tar' 6"
           " && mkfifo '%s/registry/fifo.tar'",
           ctr.base_dir, ctr.base_dir, ctr.base_dir);
  ck_assert_msg(system(cmd) == 0, "cannot build the huge image: %s", cmd);
  start_agent(1);
  sim_fw f;
  sim_fw_subscribe(&f, cl.master_port, "\"user\":\"root\",\"name\":\"containers5\"");
  char offer[160], agent[160];
  sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
  sim_fw_launch(&f, offer, agent, "fifo-task",
                "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\","
                "\"docker\":{\"name\":\"fifo\"}}}},",
                32, "true");
  char *rec = sim_fw_expect_final(&f, "fifo-task", "TASK_FAILED", 20000);
  ck_assert_msg(strstr(rec, "REASON_CONTAINER_LAUNCH_FAILED") && strstr(rec, "not a file"), "%s",
                rec);
  free(rec);
  sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
  sim_fw_launch(&f, offer, agent, "huge-task",
                "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\","
                "\"docker\":{\"name\":\"huge\"}}}},",
                32, "true");
  snprintf(p, sizeof p, "%s/store/staging", ctr.base_dir);
  ck_assert_msg(wait_entries(p), "the huge layer's extraction never started (%s)", p);
  usleep(100000); /* well into the layer's 6 GiB */
  sim_fw_close(&f);
  long long t0 = sim_fw_now_ms();
  int st = mesos_test_stop(cl.agent_pid, 10000);
  long long took = sim_fw_now_ms() - t0;
  cl.agent_pid = -1;
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
  ck_assert_msg(took < 3000, "the agent took %lld ms to stop while provisioning", took);
  ck_assert_msg(mesos_test_count_entries(p) == 0, "a staging directory was left in %s", p);
  snprintf(p, sizeof p, "%s/store/layers", ctr.base_dir);
  ck_assert_msg(mesos_test_count_entries(p) == 0, "a partial layer was published in %s", p);
  mesos_test_cluster_stop(&cl);
  mesos_test_ctr_assert_clean(&ctr);
  ck_assert_msg(mesos_test_kill_under(ctr.base_dir) == 0, "processes were left under %s",
                ctr.base_dir);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* ------------------------------------------------------------ kill while the init starts */

/* Freezes (1) or thaws (0) the test's whole cgroups root, made first if
 * the agent has not yet: the v1 freezer (freezer.state), else cgroup2's
 * cgroup.freeze.  Both are hierarchical: a container cgroup the agent
 * creates below a frozen root, and the init it moves there, are frozen
 * too.  0 when neither exists.  (The harness removes the root.) */
static int freeze_root(int on) {
  char dirs[16][1024];
  int nd = mesos_test_cg_dirs(ctr.cg_root, dirs, 16);
  static const char *const files[][3] = {{"freezer.state", "FROZEN", "THAWED"},
                                         {"cgroup.freeze", "1", "0"}};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nd; i++) {
      char p[1100];
      if (k == 0 && strstr(dirs[i], "/freezer/") == NULL) continue;
      mkdir(dirs[i], 0755);
      snprintf(p, sizeof p, "%.1000s/%s", dirs[i], files[k][0]);
      FILE *f = access(p, F_OK) == 0 ? fopen(p, "w") : NULL;
      if (f == NULL) continue;
      int ok = fputs(files[k][on ? 1 : 2], f) >= 0;
      ok &= fclose(f) == 0;
      ck_assert_msg(ok, "cannot write %s", p);
      return 1;
    }
  return 0;
}

/* KILL while the container's init starts (after the launch returned,
 * before the task exec'ed): the cgroups root is frozen, so the init the
 * agent cloned and moved into its container cgroup stops right there;
 * the KILL reaches the agent, which kills the starting init (SIGKILL,
 * delivered once thawed), and the launch ends: TASK_KILLED with
 * REASON_TASK_KILLED_DURING_LAUNCH, the task never ran, nothing is left. */
START_TEST(test_containers5__kill_while_the_init_starts_gives_task_killed_and_leaves_nothing) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  sim_fw f;
  start_cluster(&f, 4);
  if (!freeze_root(1)) MESOS_TEST_SKIP("no v1 freezer or cgroup.freeze for the cgroups root");
  char offer[160], agent[160], ran[600], cmd[700], p[600];
  snprintf(ran, sizeof ran, "%s/ran", ctr.base_dir);
  snprintf(cmd, sizeof cmd, "touch %s", ran);
  sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
  sim_fw_launch(&f, offer, agent, "frozen", NULL, 32, cmd);
  /* The init exists (its pid is checkpointed) but cannot exec. */
  snprintf(p, sizeof p, "%s/run/containers", ctr.base_dir);
  int started = wait_entries(p);
  if (!started) freeze_root(0);
  ck_assert_msg(started, "no container was started: %s", mesos_test_slurp(cl.agent_log));
  ck_assert_int_eq(sim_fw_call(&f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\","
                               "\"kill\":{\"task_id\":{\"value\":\"frozen\"}}}",
                               f.id),
                   202);
  int heard = 0;
  for (long long until = sim_fw_now_ms() + 10000; !heard && sim_fw_now_ms() < until;
       usleep(10000))
    heard = strstr(mesos_test_slurp(cl.agent_log), "while its container") != NULL;
  freeze_root(0);
  ck_assert_msg(heard, "the agent never killed the starting container: %s",
                mesos_test_slurp(cl.agent_log));
  char *rec = sim_fw_expect_final(&f, "frozen", "TASK_KILLED", 20000);
  ck_assert_msg(strstr(rec, "REASON_TASK_KILLED_DURING_LAUNCH"), "%s", rec);
  free(rec);
  ck_assert_msg(access(ran, F_OK) != 0, "the killed task ran");
  for (long long until = sim_fw_now_ms() + 5000;
       mesos_test_count_entries(p) > 0 && sim_fw_now_ms() < until;)
    usleep(20000);
  ck_assert_msg(mesos_test_count_entries(p) == 0, "runtime state left in %s", p);
  finish_test(&f);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_containers5");
  TCase *tc = tcase_create("containers5");
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, test_containers5__custom_executor_without_container_info_runs_in_cgroups);
  tcase_add_test(tc, test_containers5__executor_container_limits_follow_its_tasks);
  tcase_add_test(tc, test_containers5__default_executor_and_its_group_run_in_one_container);
  tcase_add_test(tc, test_containers5__agent_stopped_while_provisioning_exits_promptly_leaving_nothing);
  tcase_add_test(tc, test_containers5__kill_while_the_init_starts_gives_task_killed_and_leaves_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  mesos_test_ctr_init(&ctr, "ctr5", 0);
  char bin[4096], rel[4200];
  mesos_test_daemon_path("mesos-agent", bin, sizeof bin);
  *strrchr(bin, '/') = '\0';
  snprintf(rel, sizeof rel, "%.4000s/../examples/custom_executor", bin);
  if (realpath(rel, executor_bin) == NULL && !ctr.why_not[0])
    snprintf(ctr.why_not, sizeof ctr.why_not, "!no example executor at %.400s", rel);
  return mesos_test_main(make_suite());
}

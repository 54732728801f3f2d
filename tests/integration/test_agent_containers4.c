/*
 * Executors in containers, end to end (real mesos-master and mesos-agent
 * on loopback, the scheduler of tests/support/sim_fw.h, busybox images
 * built with umoci and skopeo by tests/support/container_images.bash):
 *
 *  - a custom executor whose ExecutorInfo asks for an image runs inside
 *    it: fetched into its sandbox from a URI, started there, subscribed to
 *    the agent over the host's network, its task its child in the same
 *    container, the container's memory limit the executor's plus the
 *    task's;
 *  - that container outlives a kill -9 of the agent and the restarted
 *    agent re-attaches it (the executor re-subscribes, its task finishes);
 *  - an executor whose image or program is missing fails its task with
 *    REASON_CONTAINER_LAUNCH_FAILED;
 *  - a KILL while the image of a command task or of a custom executor is
 *    still being provisioned gives TASK_KILLED at once and leaves nothing
 *    once the provisioning has finished.
 *
 * After every test nothing is left: no mount under the test's directory,
 * no container cgroup, no runtime state or root filesystem, no process.
 * Needs root, busybox-static, umoci, skopeo and writable cgroups: SKIPPED
 * with the reason otherwise.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerizer/cgroups.h"
#include "support/cluster.h"
#include "support/container_harness.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static mesos_test_ctr ctr; /* the host side: support/container_harness.h */
static pid_t master_pid = -1, agent_pid = -1, server_pid = -1;
static char executor_bin[4096]; /* examples/custom_executor of this build */
static int executor_static;     /* it needs no shared library */
static int master_port, agent_port;
static char work_dir[512], agent_log[512];

/* ------------------------------------------------------------ processes */

static void start_master(void) {
  char path[4096], port_arg[64], wd_arg[400];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/master", ctr.base_dir);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                  "--logging_level=WARNING", wd_arg, NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));
}

static void start_agent(void) {
  char path[4096], bin_dir[4096], master_arg[64], port_arg[64], wd_arg[600], launcher[4200];
  char reg[400], store[400], run[400], cgr[200];
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  snprintf(bin_dir, sizeof bin_dir, "%s", path);
  *strrchr(bin_dir, '/') = '\0';
  snprintf(launcher, sizeof launcher, "--launcher_dir=%s", bin_dir);
  if (agent_port == 0) agent_port = mesos_test_free_port(); /* a restart keeps it */
  snprintf(work_dir, sizeof work_dir, "%s/agent", ctr.base_dir);
  snprintf(agent_log, sizeof agent_log, "%s/agent.log", ctr.base_dir);
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(port_arg, sizeof port_arg, "--port=%d", agent_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s", work_dir);
  snprintf(reg, sizeof reg, "--docker_registry=%s/registry", ctr.fix_dir);
  snprintf(store, sizeof store, "--docker_store_dir=%s/store", ctr.base_dir);
  snprintf(run, sizeof run, "--runtime_dir=%s/run", ctr.base_dir);
  snprintf(cgr, sizeof cgr, "--cgroups_root=%s", ctr.cg_root);
  char *argv[] = {path, master_arg, port_arg, wd_arg, launcher, "--ip=127.0.0.1",
                  "--hostname=agent-test", "--resources=cpus:4;mem:1024;disk:1024",
                  "--registration_backoff_factor=50ms", "--executor_shutdown_grace_period=1secs",
                  "--isolation=filesystem/linux,docker/runtime,namespaces/pid,cgroups/cpu,"
                  "cgroups/mem,volume/host_path",
                  "--image_providers=docker", "--image_provisioner_backend=copy", reg, store, run,
                  cgr, NULL};
  agent_pid = mesos_test_spawn(argv, agent_log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(agent_port, "/health", 10000), "agent did not start: %s",
                mesos_test_slurp(agent_log));
}

static void stop_all(void) {
  if (agent_pid > 0) {
    int st = mesos_test_stop(agent_pid, 5000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
    agent_pid = -1;
  }
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 5000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
    master_pid = -1;
  }
  if (server_pid > 0) {
    kill(server_pid, SIGKILL);
    waitpid(server_pid, NULL, 0);
    server_pid = -1;
  }
}

/* Master, agent and a checkpointing framework with an offer. */
static void start_cluster(sim_fw *f, char *offer, char *agent, size_t cap) {
  agent_port = 0;
  start_master();
  start_agent();
  sim_fw_subscribe(f, master_port,
                   "\"user\":\"root\",\"name\":\"containers4\",\"checkpoint\":true");
  sim_fw_wait_offer(f, "agent-test", offer, agent, cap);
}

static void finish_test(sim_fw *f) {
  sim_fw_close(f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  ck_assert_msg(mesos_test_kill_under(ctr.base_dir) == 0, "processes were left under %s",
                ctr.base_dir);
  if (getenv("MESOS_TEST_KEEP") == NULL) mesos_test_rm_tree(ctr.base_dir);
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

#define RES                                                                  \
  "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.2}},"     \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]"
/* Half of RES, for an executor and its task that must fit the smallest
 * offer a freed task (RES, or sim_fw_launch's 32 MB) comes back in. */
#define RES_HALF                                                             \
  "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}},"     \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":16}}]"
#define RES_QUARTER                                                          \
  "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.05}},"    \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":8}}]"
#define IMAGE(name) \
  "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\",\"docker\":{\"name\":\"" name "\"}}}}"

/* ------------------------------------------------------------ helpers */

/* The example custom executor of this build (examples/custom_executor.c,
 * a framework's own executor on the C executor client), and whether it
 * needs shared libraries: then the directories of the libraries it loads
 * become read-only volumes of its container, the way a framework mounts
 * what its executor needs from the host. */
static void find_executor(void) {
  char bin[4096];
  mesos_test_daemon_path("mesos-agent", bin, sizeof bin);
  *strrchr(bin, '/') = '\0';
  snprintf(executor_bin, sizeof executor_bin, "%.4000s/../examples/custom_executor", bin);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "LC_ALL=C ldd '%s' 2>&1", executor_bin);
  FILE *p = popen(cmd, "r");
  char line[1024];
  executor_static = 0;
  while (p && fgets(line, sizeof line, p))
    if (strstr(line, "not a dynamic executable") || strstr(line, "statically linked"))
      executor_static = 1;
  if (p) pclose(p);
}

/* ",\"volumes\":[...]" with the library directories of the executor, or
 * "" when it is static. */
static void lib_volumes(char *out, size_t cap) {
  out[0] = '\0';
  if (executor_static) return;
  char dirs[16][512];
  int nd = 0;
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "LC_ALL=C ldd '%s' 2>&1", executor_bin);
  FILE *p = popen(cmd, "r");
  char line[1024];
  while (p && fgets(line, sizeof line, p) && nd < 16) {
    /* "\tlibx.so.1 => /dir/libx.so.1 (0x...)" or "\t/lib64/ld-linux-x86-64.so.2 (0x...)" */
    char *path = strstr(line, "=> /");
    path = path ? path + 3 : strchr(line, '/');
    if (path == NULL) continue;
    path[strcspn(path, " \n")] = '\0';
    char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path) continue;
    *slash = '\0';
    int dup = 0;
    for (int i = 0; i < nd; i++) dup |= strcmp(dirs[i], path) == 0;
    if (!dup) snprintf(dirs[nd++], sizeof dirs[0], "%s", path);
  }
  if (p) pclose(p);
  size_t n = (size_t)snprintf(out, cap, ",\"volumes\":[");
  for (int i = 0; i < nd && n < cap; i++)
    n += (size_t)snprintf(out + n, cap - n,
                          "%s{\"container_path\":\"%s\",\"host_path\":\"%s\",\"mode\":\"RO\"}",
                          i ? "," : "", dirs[i], dirs[i]);
  if (n < cap) snprintf(out + n, cap - n, "]");
}

/* A custom executor in `image`: the example custom executor (it runs
 * each task as its child: a task without a CommandInfo, as a task of an
 * ExecutorInfo has, runs $CUSTOM_EXECUTOR_TASK_COMMAND, here `task_cmd`),
 * fetched into the sandbox from a file:// URI, as frameworks ship their
 * executors, and started from there inside the image. */
static void executor_json(char *out, size_t cap, const char *eid, const char *image,
                          const char *task_cmd, const char *res) {
  char vols[2048];
  lib_volumes(vols, sizeof vols);
  snprintf(out, cap,
           "\"executor\":{\"type\":\"CUSTOM\",\"executor_id\":{\"value\":\"%s\"},"
           "\"command\":{\"value\":\"./custom_executor\",\"uris\":[{\"value\":\"file://%s\","
           "\"executable\":true,\"extract\":false}],\"environment\":{\"variables\":[{\"name\":"
           "\"CUSTOM_EXECUTOR_TASK_COMMAND\",\"value\":\"%s\"}]}},"
           "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\","
           "\"docker\":{\"name\":\"%s\"}}}%s},\"resources\":%s}",
           eid, executor_bin, task_cmd, image, vols, res);
  ck_assert_msg(strlen(out) + 1 < cap, "executor JSON too long");
}

/* ACCEPTs `offer` with one task for the executor `exec_json`. */
static void launch_with_executor(sim_fw *f, const char *offer, const char *agent,
                                 const char *task, const char *exec_json, const char *res) {
  char body[2048];
  int code = sim_fw_call_body(
      f, body, sizeof body,
      "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
      "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
      "[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},%s,"
      "\"resources\":%s}]}}],\"filters\":{\"refuse_seconds\":0}}}",
      f->id, offer, task, agent, exec_json, res);
  ck_assert_msg(code == 202, "ACCEPT of %s: %d %s", task, code, body);
}

/* The host sandbox of executor `eid`'s only run (polls up to 20 s). */
static void executor_sandbox(const char *eid, char *out, size_t cap) {
  char pattern[1200];
  snprintf(pattern, sizeof pattern, "%s/slaves/*/frameworks/*/executors/%s/runs/*-*", work_dir,
           eid);
  for (int t = 0; t < 20000; t += 20) {
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
      snprintf(out, cap, "%s", g.gl_pathv[0]);
      globfree(&g);
      return;
    }
    usleep(20000);
  }
  ck_abort_msg("no sandbox of executor %s", eid);
}

/* Polls (up to 20 s) until `dir`/`file` holds `want`; its text. */
static const char *wait_text(const char *dir, const char *file, const char *want) {
  char p[1400];
  snprintf(p, sizeof p, "%s/%s", dir, file);
  for (int t = 0; t < 20000; t += 20) {
    if (strstr(mesos_test_slurp(p), want)) return mesos_test_slurp(p);
    usleep(20000);
  }
  ck_abort_msg("%s never held '%s': '%s'\nagent log:\n%s", p, want, mesos_test_slurp(p), mesos_test_slurp(agent_log));
  return NULL;
}

/* The pid of container `id`'s init (its runtime checkpoint). */
static pid_t init_pid(const char *id) {
  char p[800];
  snprintf(p, sizeof p, "%s/run/containers/%s/pid", ctr.base_dir, id);
  long pid = strtol(mesos_test_slurp(p), NULL, 10);
  ck_assert_msg(pid > 1, "no init pid for container %s", id);
  return (pid_t)pid;
}

/* The memory limit of container `id` (v1 memory.limit_in_bytes or v2
 * memory.max in whichever hierarchy has it), 0 if none is found. */
static unsigned long long mem_limit(const char *id) {
  char dirs[16][1024];
  int nd = mesos_test_cg_dirs(ctr.cg_root, dirs, 16);
  for (int i = 0; i < nd; i++) {
    static const char *const files[] = {"memory.limit_in_bytes", "memory.max"};
    for (int k = 0; k < 2; k++) {
      char p[1400];
      snprintf(p, sizeof p, "%.1000s/%.200s/%s", dirs[i], id, files[k]);
      if (exists(p)) return strtoull(mesos_test_slurp(p), NULL, 10);
    }
  }
  return 0;
}

static void touch_file(const char *dir, const char *name) {
  char p[1400];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  ck_assert_msg(f != NULL, "cannot create %s", p);
  fclose(f);
}

static void teardown_framework(sim_fw *f) {
  ck_assert_int_eq(
      sim_fw_call(f, "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"TEARDOWN\"}", f->id),
      202);
}

/* What the executor's task records about where it runs. */
#define PROOF_TASK                                                                           \
  "test -f /etc/image-marker && ! test -e /etc/debian_version && "                          \
  "echo parent=$(ls -l /proc/$PPID/exe) sandbox=$MESOS_SANDBOX > $MESOS_SANDBOX/proof.tmp && " \
  "mv $MESOS_SANDBOX/proof.tmp $MESOS_SANDBOX/proof && "                                     \
  "while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.05; done; echo task-done"

/* ------------------------------------------------------------ executors in containers */

/* A custom executor whose ExecutorInfo asks for an image runs inside it:
 * the executor binary is fetched into its sandbox and run from there in
 * the image's root filesystem, it subscribes to the agent over the host's
 * network, and its task is its child in the same container (it sees the
 * image, not the host; its parent is the executor at the sandbox path
 * inside the container).  The container's memory limit covers the
 * executor and its task.  Afterwards nothing is left. */
START_TEST(test_containers4__custom_executor_runs_in_its_image_with_its_task_inside) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 1);
  sim_fw f;
  char offer[160], agent[160], exec[16384], sandbox[1200];
  start_cluster(&f, offer, agent, sizeof offer);
  executor_json(exec, sizeof exec, "ex-img", "busybox:latest", PROOF_TASK, RES);
  launch_with_executor(&f, offer, agent, "in-image", exec, RES);
  free(sim_fw_expect_update(&f, "in-image", "TASK_RUNNING", 30000));
  executor_sandbox("ex-img", sandbox, sizeof sandbox);
  const char *proof = wait_text(sandbox, "proof", "sandbox=");
  ck_assert_msg(strstr(proof, "-> /mnt/mesos/sandbox/custom_executor") != NULL,
                "the task's parent is not the executor inside the container: %s", proof);
  ck_assert_msg(strstr(proof, "sandbox=/mnt/mesos/sandbox") != NULL, "%s", proof);
  /* The executor's container: its init runs, with the executor's and the
   * task's memory (32 + 32 MB) as its limit. */
  const char *cid = strrchr(sandbox, '/') + 1;
  pid_t init = init_pid(cid);
  ck_assert_int_eq(kill(init, 0), 0);
  ck_assert_msg(mem_limit(cid) == 64ull << 20, "memory limit %llu", mem_limit(cid));
  /* GET_CONTAINERS shows that container with statistics from its cgroups
   * (the limit covers executor and task; mem_total_bytes only comes from
   * a cgroup). */
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(agent_port, "POST", "/api/v1", "application/json", NULL,
                                   "{\"type\":\"GET_CONTAINERS\"}", &r),
                   0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_msg(strstr(r.body, cid) != NULL, "%s", r.body);
  ck_assert_msg(strstr(r.body, "\"mem_limit_bytes\":67108864") != NULL, "%s", r.body);
  ck_assert_msg(strstr(r.body, "\"mem_total_bytes\"") != NULL, "%s", r.body);
  mesos_test_response_free(&r);
  touch_file(sandbox, "go");
  free(sim_fw_expect_final(&f, "in-image", "TASK_FINISHED", 20000));
  /* The executor stays for more tasks until its framework goes: then it
   * is shut down, and its container with it. */
  teardown_framework(&f);
  for (int i = 0; i < 500 && kill(init, 0) == 0; i++) usleep(20000);
  ck_assert_msg(kill(init, 0) != 0, "the executor's container (init %d) is still there",
                (int)init);
  finish_test(&f);
}
END_TEST

/* The executor's container outlives a kill -9 of the agent; the restarted
 * agent re-attaches to it (not an orphan: not destroyed), the executor
 * re-subscribes and its task's end reaches the framework. */
START_TEST(test_containers4__executor_container_survives_agent_kill_9_and_is_reattached) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 2);
  sim_fw f;
  char offer[160], agent[160], exec[16384], sandbox[1200];
  start_cluster(&f, offer, agent, sizeof offer);
  executor_json(exec, sizeof exec, "ex-keep", "busybox:latest", PROOF_TASK, RES);
  launch_with_executor(&f, offer, agent, "keep", exec, RES);
  free(sim_fw_expect_update(&f, "keep", "TASK_RUNNING", 30000));
  executor_sandbox("ex-keep", sandbox, sizeof sandbox);
  wait_text(sandbox, "proof", "sandbox=");
  const char *cid = strrchr(sandbox, '/') + 1;
  pid_t init = init_pid(cid);
  /* TASK_RUNNING's acknowledgement is on disk: the restarted agent has
   * nothing of it to re-send. */
  mesos_test_wait_acks(work_dir, "ex-keep", "keep", 1, 10000);
  kill(agent_pid, SIGKILL);
  waitpid(agent_pid, NULL, 0);
  agent_pid = -1;
  usleep(200000);
  ck_assert_msg(kill(init, 0) == 0, "the executor's container died with the agent");
  start_agent();
  for (int i = 0; i < 500 && strstr(mesos_test_slurp(agent_log), "re-attached to its container") == NULL; i++)
    usleep(20000);
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "re-attached to its container") != NULL, "%s",
                mesos_test_slurp(agent_log));
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "orphan") == NULL, "%s", mesos_test_slurp(agent_log));
  ck_assert_int_eq(kill(init, 0), 0);
  touch_file(sandbox, "go");
  /* The executor re-subscribes with a random back-off (up to 2 s per try):
   * under ASan on a loaded machine that can take a while. */
  free(sim_fw_expect_final(&f, "keep", "TASK_FINISHED", 60000));
  teardown_framework(&f);
  for (int i = 0; i < 500 && kill(init, 0) == 0; i++) usleep(20000);
  ck_assert_msg(kill(init, 0) != 0, "the executor's container (init %d) is still there",
                (int)init);
  finish_test(&f);
}
END_TEST

/* An executor whose image cannot be provisioned, or whose command cannot
 * start in it: its task fails with REASON_CONTAINER_LAUNCH_FAILED and the
 * reason, and nothing ran or is left. */
START_TEST(test_containers4__executor_that_cannot_start_in_its_image_fails_its_task) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 3);
  sim_fw f;
  char offer[160], agent[160], exec[16384];
  start_cluster(&f, offer, agent, sizeof offer);
  executor_json(exec, sizeof exec, "ex-none", "no-such-image:latest", "true", RES_HALF);
  launch_with_executor(&f, offer, agent, "no-image", exec, RES_HALF);
  char *rec = sim_fw_expect_final(&f, "no-image", "TASK_FAILED", 20000);
  ck_assert_msg(strstr(rec, "REASON_CONTAINER_LAUNCH_FAILED") &&
                    strstr(rec, "no-such-image:latest"),
                "%s", rec);
  free(rec);
  /* The executor's program is not in the image (no URI to fetch it). */
  sim_fw_wait_offer(&f, "agent-test", offer, agent, sizeof offer);
  snprintf(exec, sizeof exec,
           "\"executor\":{\"type\":\"CUSTOM\",\"executor_id\":{\"value\":\"ex-missing\"},"
           "\"command\":{\"value\":\"/no/such/executor\",\"shell\":false},"
           IMAGE("busybox:latest") ",\"resources\":" RES_QUARTER "}");
  launch_with_executor(&f, offer, agent, "no-binary", exec, RES_QUARTER);
  rec = sim_fw_expect_final(&f, "no-binary", "TASK_FAILED", 20000);
  ck_assert_msg(strstr(rec, "REASON_CONTAINER_LAUNCH_FAILED") || strstr(rec, "REASON_EXECUTOR_TERMINATED"),
                "%s", rec);
  free(rec);
  finish_test(&f);
}
END_TEST

/* ------------------------------------------------------------ kill while provisioning */

/* A copy of the busybox image with a layer of `n` empty files: slow to
 * provision (extraction, then the copy backend's copy). */
static void make_slow_image(const char *name, int n) {
  char cmd[2000];
  snprintf(cmd, sizeof cmd,
           "set -e; d=$(mktemp -d); mkdir $d/many; cd $d/many; seq 1 %d | xargs touch; "
           "cd '%s/registry'; rm -rf '%s'; cp -a ocibox '%s'; "
           "umoci insert --image '%s:latest' $d/many /many >/dev/null; rm -rf $d",
           n, ctr.fix_dir, name, name, name);
  ck_assert_int_eq(system(cmd), 0);
}

/* KILL while the task's image is still being provisioned (a command task,
 * and a custom executor's task whose executor waits for its image):
 * TASK_KILLED at once (REASON_TASK_KILLED_DURING_LAUNCH), the task never
 * runs, and once the provisioning has finished in the background nothing
 * is left: no root filesystem, mount, cgroup, runtime state or process. */
START_TEST(test_containers4__kill_while_the_image_is_provisioned_leaves_nothing) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 4);
  make_slow_image("slowbox", 20000);
  sim_fw f;
  char offer[160], agent[160], ran[600], exec[16384];
  start_cluster(&f, offer, agent, sizeof offer);
  snprintf(ran, sizeof ran, "%s/ran", ctr.base_dir);
  char command[800];
  snprintf(command, sizeof command, "touch %s", ran);
  sim_fw_launch(&f, offer, agent, "slow-task", IMAGE("slowbox") ",", 32, command);
  ck_assert_int_eq(sim_fw_call(&f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\","
                               "\"kill\":{\"task_id\":{\"value\":\"slow-task\"}}}",
                               f.id),
                   202);
  char *rec = sim_fw_expect_final(&f, "slow-task", "TASK_KILLED", 20000);
  ck_assert_msg(strstr(rec, "REASON_TASK_KILLED_DURING_LAUNCH"), "%s", rec);
  free(rec);
  /* The same for a custom executor waiting for its (slow) image: its task
   * is killed before the executor ever runs. */
  sim_fw_wait_offer(&f, "agent-test", offer, agent, sizeof offer);
  executor_json(exec, sizeof exec, "ex-slow", "slowbox", command, RES_HALF);
  launch_with_executor(&f, offer, agent, "slow-exec-task", exec, RES_HALF);
  ck_assert_int_eq(sim_fw_call(&f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\","
                               "\"kill\":{\"task_id\":{\"value\":\"slow-exec-task\"}}}",
                               f.id),
                   202);
  rec = sim_fw_expect_final(&f, "slow-exec-task", "TASK_KILLED", 20000);
  ck_assert_msg(strstr(rec, "REASON_TASK_KILLED_DURING_LAUNCH"), "%s", rec);
  free(rec);
  /* The provisions end in the background, then both launches stop (the
   * agent says so) and their root filesystems go. */
  for (int i = 0; i < 1500 && !(strstr(mesos_test_slurp(agent_log), "launch of container") &&
                                 strstr(mesos_test_slurp(agent_log), "/ex-slow: container"));
       i++)
    usleep(20000);
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "launch of container") &&
                    strstr(mesos_test_slurp(agent_log), "/ex-slow: container"),
                "%s", mesos_test_slurp(agent_log));
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "started in container") == NULL,
                "a killed task's container started: %s", mesos_test_slurp(agent_log));
  char p[600];
  snprintf(p, sizeof p, "%s/agent/provisioner/containers", ctr.base_dir);
  for (int i = 0; i < 500 && mesos_test_count_entries(p) > 0; i++) usleep(20000);
  ck_assert_msg(mesos_test_count_entries(p) == 0, "root filesystems left in %s", p);
  ck_assert_msg(!exists(ran), "a killed task ran");
  finish_test(&f);
}
END_TEST

static void teardown(void) {
  /* A failed test: its daemons, containers and tasks (runner_cleanup
   * removes the rest at the runner's exit). */
  if (agent_pid > 0) kill(agent_pid, SIGKILL);
  if (master_pid > 0) kill(master_pid, SIGKILL);
  if (ctr.base_dir[0]) mesos_test_kill_under(ctr.base_dir);
}

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_containers4");
  TCase *tc = tcase_create("containers4");
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, test_containers4__custom_executor_runs_in_its_image_with_its_task_inside);
  tcase_add_test(tc, test_containers4__executor_container_survives_agent_kill_9_and_is_reattached);
  tcase_add_test(tc, test_containers4__executor_that_cannot_start_in_its_image_fails_its_task);
  tcase_add_test(tc, test_containers4__kill_while_the_image_is_provisioned_leaves_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  mesos_test_ctr_init(&ctr, "ctr4", 1);
  if (!ctr.why_not[0]) find_executor();
  return mesos_test_main(make_suite());
}

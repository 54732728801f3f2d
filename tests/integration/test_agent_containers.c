/*
 * Tasks in containers, end to end: the real mesos-master and mesos-agent
 * (--isolation with filesystem/linux, namespaces/pid, cgroups, docker
 * images from a local --docker_registry) and a JSON scheduler over raw
 * HTTP on loopback.  The images are built once per run from Debian's
 * busybox-static with umoci and skopeo (tests/integration/
 * container_images.bash): an OCI layout and a docker-archive.
 *
 * Checked: the task sees the image's files and not the host's, is PID 2
 * under the container's init (PID 1), runs with its memory limit in its
 * own cgroup, is listed by GET_CONTAINERS with statistics from that
 * cgroup; an unknown image and a memory hog fail as Mesos reports them;
 * the container survives `kill -9` of the agent and the task still
 * finishes; and after every test nothing is left: no mount under the
 * test's directory, no container cgroup, no runtime state, no process.
 *
 * Needs root, busybox-static, umoci, skopeo and writable cgroups: SKIPPED
 * with the reason otherwise.  A failing test's containers are killed and
 * its mounts and cgroups removed by the runner at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "containerizer/cgroups.h"
#include "support/cluster.h"
#include "support/container_harness.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static mesos_test_ctr ctr; /* the host side: support/container_harness.h */
static pid_t master_pid = -1, agent_pid = -1;
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
                  "--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=10",
                  "--logging_level=WARNING", wd_arg, NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));
}

/* mesos-agent with the containerizer flags (the same on a restart). */
static void start_agent(int overlay) {
  char path[4096], bin_dir[4096], master_arg[64], port_arg[64], wd_arg[600], launcher[4200];
  char reg[400], store[400], run[400], cgr[200], backend[64];
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
  snprintf(reg, sizeof reg, "--docker_registry=%s/registry", ctr.fix_dir);
  snprintf(store, sizeof store, "--docker_store_dir=%s/store", ctr.base_dir);
  snprintf(run, sizeof run, "--runtime_dir=%s/run", ctr.base_dir);
  snprintf(cgr, sizeof cgr, "--cgroups_root=%s", ctr.cg_root);
  snprintf(backend, sizeof backend, "--image_provisioner_backend=%s",
           overlay && ctr.have_overlay ? "overlay" : "copy");
  char *argv[] = {path, master_arg, port_arg, wd_arg, launcher, "--ip=127.0.0.1",
                  "--hostname=agent-test", "--resources=cpus:4;mem:1024;disk:1024",
                  "--registration_backoff_factor=50ms", "--executor_shutdown_grace_period=1secs",
                  "--isolation=filesystem/linux,docker/runtime,namespaces/pid,cgroups/cpu,"
                  "cgroups/mem",
                  "--image_providers=docker", reg, store, run, cgr, backend, NULL};
  agent_pid = mesos_test_spawn(argv, agent_log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(agent_port, "/health", 10000), "agent did not start: %s",
                mesos_test_slurp(agent_log));
}

static void kill_agent(void) {
  kill(agent_pid, SIGKILL);
  waitpid(agent_pid, NULL, 0);
  agent_pid = -1;
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
}

/* ------------------------------------------------------------ framework */

static void fw_subscribe(sim_fw *f, int checkpoint) {
  sim_fw_subscribe(f, master_port,
                   checkpoint ? "\"user\":\"nobody\",\"name\":\"recovery test\",\"checkpoint\":true,"
                                "\"failover_timeout\":60"
                              : "\"user\":\"nobody\",\"name\":\"recovery test\",\"checkpoint\":false,"
                                "\"failover_timeout\":60");
}

/* LAUNCH of one task: `image` NULL for none, `mem` MB. */
static void launch(sim_fw *f, const char *offer, const char *agent, const char *task,
                   const char *image, double mem, const char *command) {
  char container[400] = "";
  if (image)
    snprintf(container, sizeof container,
             "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\","
             "\"docker\":{\"name\":\"%s\"}}}},",
             image);
  sim_fw_launch(f, offer, agent, task, container, mem, command);
}

/* Master, agent and a checkpointing framework; one task launched. */
static int checkpointing = 1; /* of the framework run_task subscribes */

static void run_task(sim_fw *f, int overlay, const char *task, const char *image, double mem,
                     const char *command) {
  start_master();
  start_agent(overlay);
  fw_subscribe(f, checkpointing);
  char offer[160], agent[160];
  sim_fw_wait_offer_min(f, "agent-test", 0.5, mem, offer, agent, sizeof offer);
  launch(f, offer, agent, task, image, mem, command);
}

/* The sandbox of `task` (its only run). */
static void sandbox_of(const char *task, char *out, size_t cap) {
  char pattern[1200];
  snprintf(pattern, sizeof pattern, "%s/slaves/*/frameworks/*/executors/%s/runs/*-*", work_dir,
           task);
  glob_t g;
  ck_assert_msg(glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1, "no sandbox %s", pattern);
  snprintf(out, cap, "%s", g.gl_pathv[0]);
  globfree(&g);
}

/* Waits until the sandbox file `name` of `task` contains `text`. */
static char *wait_output(const char *sandbox, const char *name, const char *text) {
  char p[1400];
  snprintf(p, sizeof p, "%s/%s", sandbox, name);
  for (int i = 0; i < 500; i++) {
    char *s = mesos_test_slurp(p);
    if (strstr(s, text)) return s;
    usleep(20000);
  }
  ck_abort_msg("%s never got '%s': %s", p, text, mesos_test_slurp(p));
  return NULL;
}

/* The running container's init pid (from the runtime directory). */
static pid_t init_pid(const char *container) {
  char p[800];
  snprintf(p, sizeof p, "%s/run/containers/%s/pid", ctr.base_dir, container);
  long pid = strtol(mesos_test_slurp(p), NULL, 10);
  ck_assert_msg(pid > 1, "no pid in %s", p);
  return (pid_t)pid;
}

/* The memory limit file of process `pid`'s memory cgroup. */
static char *memory_limit_of(pid_t pid) {
  char p[128];
  snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
  char *text = strdup(mesos_test_slurp(p));
  static char out[64];
  out[0] = '\0';
  mesos__cg_layout l;
  ck_assert_mesos_ok(mesos__cg_layout_detect(&l, NULL), NULL);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL) continue;
    char file[2048];
    if (strncmp(c1 + 1, "memory:", 7) == 0 && l.v1_mount[MESOS__CG_MEMORY])
      snprintf(file, sizeof file, "%s%s/memory.limit_in_bytes", l.v1_mount[MESOS__CG_MEMORY], c2 + 1);
    else if (c1[1] == ':' && l.where[MESOS__CG_MEMORY] == MESOS__CG_V2 && l.v2_mount)
      snprintf(file, sizeof file, "%s%s/memory.max", l.v2_mount, c2 + 1);
    else
      continue;
    snprintf(out, sizeof out, "%s", mesos_test_slurp(file));
  }
  mesos__cg_layout_free(&l);
  free(text);
  return out;
}

/* ------------------------------------------------------------ tests */

START_TEST(test_containers__bad_flags_end_the_agent_with_a_clear_message) {
  char path[4096], dir[] = "/tmp/mesos-ctr-flags-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  struct {
    const char *flag, *flag2, *says;
  } cases[] = {
      {"--image_providers=appc", NULL, "appc"},
      {"--image_providers=rkt", NULL, "unknown provider 'rkt'"},
      {"--containerizers=mesos,docker", NULL, "Docker daemon"},
      {"--image_providers=docker", "--isolation=posix/cpu", "needs 'filesystem/linux'"},
      {"--image_provisioner_backend=aufs", NULL, "not one of overlay, copy"},
      {"--isolation=cgroups/bogus", NULL, "cgroups/bogus"},
      {"--image_providers=docker", "--isolation=filesystem/linux,docker/runtime",
       "--docker_registry"},
      {"--runtime_dir=relative/dir", NULL, "--runtime_dir"},
      {"--cgroups_root=../escape", NULL, "--cgroups_root"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char wd[300], log[300], rt[300];
    snprintf(wd, sizeof wd, "--work_dir=%s/w", dir);
    snprintf(rt, sizeof rt, "--runtime_dir=%s/run", dir);
    snprintf(log, sizeof log, "%s/log%zu", dir, i);
    char *argv[] = {path, "--master=127.0.0.1:1", wd, "--port=0", "--ip=127.0.0.1",
                    strncmp(cases[i].flag, "--runtime_dir", 13) == 0 ? (char *)cases[i].flag : rt,
                    (char *)cases[i].flag, (char *)cases[i].flag2, NULL};
    pid_t pid = mesos_test_spawn(argv, log);
    ck_assert_int_gt(pid, 0);
    int st = 0;
    long long t0 = sim_fw_now_ms();
    while (waitpid(pid, &st, WNOHANG) == 0 && sim_fw_now_ms() - t0 < 10000) usleep(20000);
    if (sim_fw_now_ms() - t0 >= 10000) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      ck_abort_msg("%s: the agent kept running", cases[i].flag);
    }
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: exit status %d", cases[i].flag, st);
    const char *text = mesos_test_slurp(log);
    ck_assert_msg(strstr(text, cases[i].says) != NULL, "%s: '%s' not in: %s", cases[i].flag,
                  cases[i].says, text);
  }
  mesos_test_rm_tree(dir);
}
END_TEST

START_TEST(test_containers__docker_archive_task_sees_its_image_pid_1_and_memory_limit) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 1);
  char host_marker[400], cmd[1200];
  snprintf(host_marker, sizeof host_marker, "%s/host-only-marker", ctr.base_dir);
  FILE *hm = fopen(host_marker, "w");
  ck_assert_ptr_nonnull(hm);
  fclose(hm);
  snprintf(cmd, sizeof cmd,
           "echo marker=$(cat /etc/image-marker); test -e %s && echo host-visible; "
           "test -e /usr/bin/busybox && echo host-usr; echo me=$$ img=$IMG; "
           "echo sandbox=$MESOS_SANDBOX; echo in-sandbox > $MESOS_SANDBOX/written; "
           "echo started; while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.05; done; echo bye",
           host_marker);
  sim_fw f;
  run_task(&f, 0, "img", "busybox:latest", 64, cmd);
  free(sim_fw_expect_update(&f, "img", "TASK_STARTING", 20000));
  free(sim_fw_expect_update(&f, "img", "TASK_RUNNING", 10000));
  char sandbox[1200], container[128];
  sandbox_of("img", sandbox, sizeof sandbox);
  snprintf(container, sizeof container, "%s", strrchr(sandbox, '/') + 1);
  char *out = wait_output(sandbox, "stdout", "started");
  ck_assert_msg(strstr(out, "marker=from-the-image\n") != NULL, "stdout: %s", out);
  ck_assert_msg(strstr(out, "host-visible") == NULL, "the host's files are visible: %s", out);
  ck_assert_msg(strstr(out, "host-usr") == NULL, "the host's /usr is visible: %s", out);
  /* PID 1 is the container's init, the task's shell the next one. */
  ck_assert_msg(strstr(out, "me=2 img=yes\n") != NULL, "stdout: %s", out);
  ck_assert_msg(strstr(out, "sandbox=/mnt/mesos/sandbox\n") != NULL, "stdout: %s", out);
  char p[1400];
  snprintf(p, sizeof p, "%s/written", sandbox);
  ck_assert_str_eq(mesos_test_slurp(p), "in-sandbox\n");
  /* Its memory limit is in its own cgroup (64 MB). */
  pid_t init = init_pid(container);
  ck_assert_str_eq(memory_limit_of(init), "67108864\n");
  char cg[300];
  snprintf(cg, sizeof cg, "/%s/%s", ctr.cg_root, container);
  snprintf(p, sizeof p, "/proc/%d/cgroup", (int)init);
  ck_assert_msg(strstr(mesos_test_slurp(p), cg) != NULL, "not in %s: %s", cg, mesos_test_slurp(p));
  /* GET_CONTAINERS lists it, with statistics from that cgroup. */
  mesos_test_response r;
  const char *body = "{\"type\":\"GET_CONTAINERS\"}";
  ck_assert_int_eq(mesos_test_http(agent_port, "POST", "/api/v1", "application/json", NULL, body,
                                   &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_msg(strstr(r.body, container) != NULL, "%s", r.body);
  ck_assert_msg(strstr(r.body, "\"mem_limit_bytes\":67108864") != NULL, "%s", r.body);
  ck_assert_msg(strstr(r.body, "\"mem_total_bytes\"") != NULL, "%s", r.body);
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(agent_port, "GET", "/monitor/statistics", NULL, NULL, NULL,
                                   &r), 0);
  ck_assert_msg(strstr(r.body, "\"mem_limit_bytes\":67108864") != NULL, "%s", r.body);
  mesos_test_response_free(&r);
  /* Let it finish. */
  snprintf(p, sizeof p, "%s/go", sandbox);
  FILE *go = fopen(p, "w");
  ck_assert_ptr_nonnull(go);
  fclose(go);
  free(sim_fw_expect_final(&f, "img", "TASK_FINISHED", 10000));
  for (int i = 0; i < 100 && kill(init, 0) == 0; i++) usleep(20000);
  ck_assert_msg(kill(init, 0) != 0, "the container's init %d is still there", (int)init);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

START_TEST(test_containers__oci_layout_on_overlay_runs_with_the_image_env) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 2);
  sim_fw f;
  run_task(&f, 1, "oci", "ocibox", 32, "echo oci-$IMG; cat /etc/image-marker; ls /proc/1/root >/dev/null && echo ok");
  char *rec = sim_fw_expect_final(&f, "oci", "TASK_FINISHED", 20000);
  free(rec);
  char sandbox[1200];
  sandbox_of("oci", sandbox, sizeof sandbox);
  char *out = wait_output(sandbox, "stdout", "from-the-image");
  ck_assert_msg(strstr(out, "oci-yes\n") != NULL, "stdout: %s", out);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

START_TEST(test_containers__unknown_image_fails_the_task_naming_it) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 3);
  sim_fw f;
  run_task(&f, 0, "ghost", "nosuch-image:1.0", 32, "true");
  char *rec = sim_fw_expect_final(&f, "ghost", "TASK_FAILED", 20000);
  ck_assert_msg(strstr(rec, "REASON_CONTAINER_LAUNCH_FAILED") != NULL, "%s", rec);
  ck_assert_msg(strstr(rec, "nosuch-image:1.0") != NULL, "%s", rec);
  free(rec);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

START_TEST(test_containers__memory_hog_fails_with_limitation_memory_from_the_agent) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 4);
  sim_fw f;
  /* No image: with cgroups in --isolation every command task gets a
   * container.  Doubling a shell string passes 32 MB in ~25 rounds. */
  run_task(&f, 0, "hog", NULL, 32, "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done");
  char *rec = sim_fw_expect_final(&f, "hog", "TASK_FAILED", 30000);
  ck_assert_msg(strstr(rec, "REASON_CONTAINER_LIMITATION_MEMORY") != NULL, "%s", rec);
  ck_assert_msg(strstr(rec, "SOURCE_AGENT") != NULL, "%s", rec);
  free(rec);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

START_TEST(test_containers__container_survives_agent_kill_9_and_the_task_finishes) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 5);
  sim_fw f;
  run_task(&f, 1, "keep", "busybox:latest", 32,
           "echo started; while [ ! -e $MESOS_SANDBOX/go ]; do sleep 0.05; done; echo bye");
  free(sim_fw_expect_update(&f, "keep", "TASK_STARTING", 20000));
  char *rec = NULL;
  free(sim_fw_expect_update(&f, "keep", "TASK_RUNNING", 10000));
  char sandbox[1200], container[128];
  sandbox_of("keep", sandbox, sizeof sandbox);
  snprintf(container, sizeof container, "%s", strrchr(sandbox, '/') + 1);
  wait_output(sandbox, "stdout", "started");
  pid_t init = init_pid(container);
  /* The acknowledgements reach the agent (polled on its disk). */
  mesos_test_wait_acks(work_dir, "keep", "keep", 2, 10000);
  kill_agent();
  ck_assert_msg(kill(init, 0) == 0, "the container died with the agent");
  start_agent(1);
  char p[1400];
  /* Re-attached: the agent log says so before the task is let go. */
  for (int i = 0; i < 250 && strstr(mesos_test_slurp(agent_log), "re-attached") == NULL; i++) usleep(20000);
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "re-attached") != NULL, "%s", mesos_test_slurp(agent_log));
  snprintf(p, sizeof p, "%s/go", sandbox);
  FILE *go = fopen(p, "w");
  ck_assert_ptr_nonnull(go);
  fclose(go);
  rec = sim_fw_expect_final(&f, "keep", "TASK_FINISHED", 15000);
  free(rec);
  wait_output(sandbox, "stdout", "bye");
  for (int i = 0; i < 100 && kill(init, 0) == 0; i++) usleep(20000);
  ck_assert_msg(kill(init, 0) != 0, "the container's init %d is still there", (int)init);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* The example framework (examples/image_task.c) against the real daemons:
 * it runs the image's command, prints the states and where the output is,
 * and that path serves the output through the agent's /files/read. */
START_TEST(test_containers__image_task_example_runs_a_task_in_an_image_and_exits_0) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 6);
  start_master();
  start_agent(1);
  char bin[4096], example[4200], master[64], out_path[600];
  mesos_test_daemon_path("mesos-agent", bin, sizeof bin);
  *strrchr(bin, '/') = '\0';
  snprintf(example, sizeof example, "%s/../examples/image_task", bin);
  snprintf(master, sizeof master, "--master=http://127.0.0.1:%d", master_port);
  snprintf(out_path, sizeof out_path, "%s/example.out", ctr.base_dir);
  char cmd[6000];
  snprintf(cmd, sizeof cmd,
           "'%s' '%s' --image=busybox:latest --command='echo hello from $IMG; cat "
           "/etc/image-marker' --timeout=30 > '%s' 2>&1",
           example, master, out_path);
  int st = system(cmd);
  char *out = strdup(mesos_test_slurp(out_path));
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit %d: %s", st, out);
  ck_assert_msg(strstr(out, "is TASK_RUNNING") != NULL, "%s", out);
  ck_assert_msg(strstr(out, "is TASK_FINISHED") != NULL, "%s", out);
  const char *p = strstr(out, "output: ");
  ck_assert_msg(p != NULL, "%s", out);
  p += 8;
  char files[800];
  snprintf(files, sizeof files, "/files/read?path=%.*s&offset=0&length=4096",
           (int)strcspn(p, " \n"), p);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(agent_port, "GET", files, NULL, NULL, NULL, &r), 0);
  ck_assert_msg(r.status == 200, "%s: %d %s", files, r.status, r.body ? r.body : "");
  ck_assert_msg(strstr(r.body, "hello from yes") != NULL, "%s", r.body);
  ck_assert_msg(strstr(r.body, "from-the-image") != NULL, "%s", r.body);
  mesos_test_response_free(&r);
  free(out);
  /* Without --command the image's Cmd ("sh", reading an empty stdin) runs. */
  snprintf(cmd, sizeof cmd, "'%s' '%s' --image=ocibox --timeout=30 > '%s' 2>&1", example, master,
           out_path);
  st = system(cmd);
  out = strdup(mesos_test_slurp(out_path));
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit %d: %s", st, out);
  ck_assert_msg(strstr(out, "is TASK_FINISHED") != NULL, "%s", out);
  free(out);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* A framework without checkpointing: its container is an orphan after the
 * restart, destroyed (processes, cgroups, mounts, rootfs), and its task
 * reported lost. */
START_TEST(test_containers__orphan_container_is_destroyed_after_a_restart) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 7);
  sim_fw f;
  checkpointing = 0;
  run_task(&f, 1, "orphan", "busybox:latest", 32, "echo started; sleep 1000");
  free(sim_fw_expect_update(&f, "orphan", "TASK_STARTING", 20000));
  free(sim_fw_expect_update(&f, "orphan", "TASK_RUNNING", 10000));
  char sandbox[1200], container[128];
  sandbox_of("orphan", sandbox, sizeof sandbox);
  snprintf(container, sizeof container, "%s", strrchr(sandbox, '/') + 1);
  wait_output(sandbox, "stdout", "started");
  pid_t init = init_pid(container);
  /* No checkpointing: the agent keeps no acknowledgements to wait for. */
  kill_agent();
  ck_assert_msg(kill(init, 0) == 0, "the container died with the agent");
  start_agent(1);
  char *rec = sim_fw_expect_final(&f, "orphan", "TASK_LOST", 15000);
  free(rec);
  for (int i = 0; i < 100 && kill(init, 0) == 0; i++) usleep(20000);
  ck_assert_msg(kill(init, 0) != 0, "the orphan's init %d is still there", (int)init);
  ck_assert_msg(strstr(mesos_test_slurp(agent_log), "orphan container") != NULL, "%s", mesos_test_slurp(agent_log));
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_containers");
  TCase *tc = tcase_create("containers");
  tcase_set_timeout(tc, 90);
  tcase_add_test(tc, test_containers__bad_flags_end_the_agent_with_a_clear_message);
  tcase_add_test(tc, test_containers__docker_archive_task_sees_its_image_pid_1_and_memory_limit);
  tcase_add_test(tc, test_containers__oci_layout_on_overlay_runs_with_the_image_env);
  tcase_add_test(tc, test_containers__unknown_image_fails_the_task_naming_it);
  tcase_add_test(tc, test_containers__memory_hog_fails_with_limitation_memory_from_the_agent);
  tcase_add_test(tc, test_containers__container_survives_agent_kill_9_and_the_task_finishes);
  tcase_add_test(tc, test_containers__image_task_example_runs_a_task_in_an_image_and_exits_0);
  tcase_add_test(tc, test_containers__orphan_container_is_destroyed_after_a_restart);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  mesos_test_ctr_init(&ctr, "ctr", 1);
  return mesos_test_main(make_suite());
}

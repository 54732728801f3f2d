/*
 * More tasks in containers, end to end (the harness is the one of
 * test_agent_containers.c: real mesos-master and mesos-agent, a JSON
 * scheduler over raw HTTP on loopback, busybox images built with umoci and
 * skopeo by tests/support/container_images.bash):
 *
 *  - an image whose User is numeric ("1000:1000", not in its passwd) or a
 *    name of its passwd ("nobody") runs the task with those ids;
 *  - TASK_RUNNING and the terminal update of a containerized task carry
 *    ContainerStatus: the container id, the init's pid, the address;
 *  - while a containerized task fetches a URI from a server that stalls,
 *    the agent keeps answering /health at once (provisioning, fetching
 *    and the container's start all run off the agent's loop);
 *  - --default_container_info gives tasks without a ContainerInfo its
 *    image; bad values end the agent with a clear message;
 *  - Image.cached=false: an image replaced in the registry between two
 *    launches is what the second task gets.
 *
 * After every test nothing is left: no mount under the test's directory,
 * no container cgroup, no runtime state, no process.  Needs root,
 * busybox-static, umoci, skopeo and writable cgroups: SKIPPED with the
 * reason otherwise.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "support/container_harness.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static mesos_test_ctr ctr; /* the host side: support/container_harness.h */
static pid_t master_pid = -1, agent_pid = -1;
static const char *agent_extra_flag; /* one more agent flag, or NULL */
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
                  "--image_providers=docker", reg, store, run, cgr, backend,
                  (char *)agent_extra_flag, NULL};
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
}

/* ------------------------------------------------------------ framework */

/* LAUNCH of one task: `image` NULL for none, `mem` MB, `uri` NULL or a
 * CommandInfo URI to fetch. */
static int image_uncached; /* the next launches' Image.cached=false */

static void launch_uri(sim_fw *f, const char *offer, const char *agent, const char *task,
                       const char *image, double mem, const char *command, const char *uri) {
  char container[400] = "", uris[600] = "";
  if (image)
    snprintf(container, sizeof container,
             "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\","
             "%s\"docker\":{\"name\":\"%s\"}}}},",
             image_uncached ? "\"cached\":false," : "", image);
  if (uri) snprintf(uris, sizeof uris, "\"uris\":[{\"value\":\"%s\"}],", uri);
  ck_assert_int_eq(
      sim_fw_call(f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},%s"
              "\"command\":{%s\"value\":\"%s\"},\"resources\":["
              "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
              "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}}]}]}}],"
              "\"filters\":{\"refuse_seconds\":0}}}",
              f->id, offer, task, agent, container, uris, command, mem),
      202);
}

/* Master, agent and a checkpointing framework, waiting for an offer. */
static void start_cluster(sim_fw *f, char *offer, char *agent, size_t cap) {
  start_master();
  start_agent(0);
  sim_fw_subscribe(f, master_port,
                   "\"user\":\"nobody\",\"name\":\"containers2 test\",\"checkpoint\":true,"
                   "\"failover_timeout\":60");
  sim_fw_wait_offer_min(f, "agent-test", 0.5, 32, offer, agent, cap);
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


/* ------------------------------------------------------------ tests */

START_TEST(test_containers2__image_user_numeric_and_named_and_container_status_in_updates) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 1);
  sim_fw f;
  char offer[160], agent[160];
  start_cluster(&f, offer, agent, sizeof offer);
  launch_uri(&f, offer, agent, "uid", "ociuid", 32, "echo ids=$(id -u):$(id -g)", NULL);
  char *rec = sim_fw_expect_update(&f, "uid", "TASK_STARTING", 20000);
  free(rec);
  rec = sim_fw_expect_update(&f, "uid", "TASK_RUNNING", 10000);
  char sandbox[1200], container[128];
  sandbox_of("uid", sandbox, sizeof sandbox);
  snprintf(container, sizeof container, "%s", strrchr(sandbox, '/') + 1);
  /* ContainerStatus as Mesos fills it: the container, its init, the
   * address (the agent's: the container shares the host's network). */
  char want[300];
  snprintf(want, sizeof want, "\"container_status\":{\"network_infos\":[{\"ip_addresses\":"
           "[{\"protocol\":\"IPv4\",\"ip_address\":\"127.0.0.1\"}]}],\"executor_pid\":");
  ck_assert_msg(strstr(rec, want) != NULL, "RUNNING: %s", rec);
  snprintf(want, sizeof want, "\"container_id\":{\"value\":\"%s\"}}", container);
  ck_assert_msg(strstr(rec, want) != NULL, "RUNNING: %s", rec);
  const char *pid = strstr(rec, "\"executor_pid\":");
  ck_assert_ptr_nonnull(pid);
  ck_assert_int_gt(strtol(pid + 15, NULL, 10), 1);
  free(rec);
  rec = sim_fw_expect_final(&f, "uid", "TASK_FINISHED", 10000);
  ck_assert_msg(strstr(rec, want) != NULL, "FINISHED: %s", rec);
  free(rec);
  char *out = wait_output(sandbox, "stdout", "ids=");
  ck_assert_msg(strstr(out, "ids=1000:1000\n") != NULL, "stdout: %s", out);

  sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
  launch_uri(&f, offer, agent, "named", "ocinobody", 32, "echo ids=$(id -u):$(id -g)", NULL);
  free(sim_fw_expect_final(&f, "named", "TASK_FINISHED", 20000));
  sandbox_of("named", sandbox, sizeof sandbox);
  out = wait_output(sandbox, "stdout", "ids=");
  ck_assert_msg(strstr(out, "ids=65534:65534\n") != NULL, "stdout: %s", out);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* A server on loopback that answers its first request only after
 * `stall_ms`, with `body`. */
static pid_t slow_server(int *port, int stall_ms, const char *body) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(s, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(listen(s, 4), 0);
  socklen_t len = sizeof sa;
  ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &len), 0);
  *port = ntohs(sa.sin_port);
  pid_t parent = getpid();
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    for (;;) {
      int c = accept(s, NULL, NULL);
      if (c < 0) _exit(1);
      char req[4096];
      ssize_t n = read(c, req, sizeof req);
      (void)n;
      usleep((useconds_t)stall_ms * 1000);
      char resp[512];
      int m = snprintf(resp, sizeof resp,
                       "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                       strlen(body), body);
      if (write(c, resp, (size_t)m) != m) _exit(1);
      close(c);
    }
  }
  close(s);
  return p;
}

START_TEST(test_containers2__agent_answers_health_while_a_container_task_fetches_slowly) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 2);
  int port;
  pid_t server = slow_server(&port, 2500, "fetched-slowly\n");
  sim_fw f;
  char offer[160], agent[160];
  start_cluster(&f, offer, agent, sizeof offer);
  char uri[128];
  snprintf(uri, sizeof uri, "http://127.0.0.1:%d/payload.txt", port);
  launch_uri(&f, offer, agent, "slow", "busybox:latest", 32, "cat $MESOS_SANDBOX/payload.txt", uri);
  /* While the fetch stalls: every /health answers quickly. */
  long long t0 = sim_fw_now_ms(), worst = 0;
  int probes = 0;
  while (sim_fw_now_ms() - t0 < 1500) {
    long long a = sim_fw_now_ms();
    mesos_test_response r;
    ck_assert_int_eq(mesos_test_http(agent_port, "GET", "/health", NULL, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    mesos_test_response_free(&r);
    long long took = sim_fw_now_ms() - a;
    if (took > worst) worst = took;
    probes++;
    usleep(50000);
  }
  ck_assert_msg(worst < 500, "/health took %lld ms while a task fetched", worst);
  ck_assert_int_ge(probes, 5);
  free(sim_fw_expect_update(&f, "slow", "TASK_STARTING", 20000));
  free(sim_fw_expect_update(&f, "slow", "TASK_RUNNING", 20000));
  free(sim_fw_expect_final(&f, "slow", "TASK_FINISHED", 10000));
  /* The task ran only after the stall (it printed what was fetched). */
  ck_assert_msg(sim_fw_now_ms() - t0 >= 2400, "the fetch did not stall");
  char sandbox[1200];
  sandbox_of("slow", sandbox, sizeof sandbox);
  wait_output(sandbox, "stdout", "fetched-slowly");
  kill(server, SIGKILL);
  waitpid(server, NULL, 0);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* --default_container_info: a task without a ContainerInfo runs in the
 * default's image; a task with its own keeps it; bad values end the agent
 * with a clear message. */
START_TEST(test_containers2__default_container_info_applies_to_tasks_without_one) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 3);
  agent_extra_flag = "--default_container_info={\"type\":\"MESOS\",\"mesos\":{\"image\":"
                     "{\"type\":\"DOCKER\",\"docker\":{\"name\":\"busybox:latest\"}}}}";
  sim_fw f;
  char offer[160], agent[160];
  start_cluster(&f, offer, agent, sizeof offer);
  agent_extra_flag = NULL;
  launch_uri(&f, offer, agent, "dflt", NULL, 32, "echo m=$(cat /etc/image-marker) me=$$", NULL);
  free(sim_fw_expect_final(&f, "dflt", "TASK_FINISHED", 20000));
  char sandbox[1200];
  sandbox_of("dflt", sandbox, sizeof sandbox);
  char *out = wait_output(sandbox, "stdout", "m=");
  ck_assert_msg(strstr(out, "m=from-the-image me=2\n") != NULL, "stdout: %s", out);
  sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
  launch_uri(&f, offer, agent, "own", "ocinobody", 32, "echo u=$(id -u)", NULL);
  free(sim_fw_expect_final(&f, "own", "TASK_FINISHED", 20000));
  sandbox_of("own", sandbox, sizeof sandbox);
  out = wait_output(sandbox, "stdout", "u=");
  ck_assert_msg(strstr(out, "u=65534\n") != NULL, "stdout: %s", out);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);

  char path[4096], dir[] = "/tmp/mesos-ctr2-flags-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  struct {
    const char *flag, *flag2, *says;
  } cases[] = {
      {"--default_container_info={\"type\":\"DOCKER\"}", "--isolation=filesystem/linux",
       "only type MESOS"},
      {"--default_container_info=not json", "--isolation=filesystem/linux",
       "--default_container_info: "},
      {"--default_container_info={\"type\":\"MESOS\"}", NULL, "needs the mesos containerizer"},
      {"--default_container_info={\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\","
       "\"docker\":{\"name\":\"x\"}}}}",
       "--isolation=filesystem/linux", "an image needs --image_providers=docker"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char wd[300], log[300], rt[300];
    snprintf(wd, sizeof wd, "--work_dir=%s/w", dir);
    snprintf(rt, sizeof rt, "--runtime_dir=%s/run", dir);
    snprintf(log, sizeof log, "%s/log%zu", dir, i);
    char *argv[] = {path, "--master=127.0.0.1:1", wd, "--port=0", "--ip=127.0.0.1", rt,
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

/* Image.cached=false: every launch reads the registry again, so an image
 * replaced there is what the next task gets. */
START_TEST(test_containers2__uncached_image_is_read_again_from_the_registry) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 4);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "set -e; cd '%s/registry'; rm -rf ocire; cp -a ocibox ocire", ctr.fix_dir);
  ck_assert_int_eq(system(cmd), 0);
  sim_fw f;
  char offer[160], agent[160];
  start_cluster(&f, offer, agent, sizeof offer);
  image_uncached = 1;
  launch_uri(&f, offer, agent, "first", "ocire", 32, "echo m=$(cat /etc/image-marker)", NULL);
  free(sim_fw_expect_final(&f, "first", "TASK_FINISHED", 20000));
  char sandbox[1200];
  sandbox_of("first", sandbox, sizeof sandbox);
  char *out = wait_output(sandbox, "stdout", "m=");
  ck_assert_msg(strstr(out, "m=from-the-image\n") != NULL, "stdout: %s", out);
  /* A new version of the image in the registry (a new layer). */
  snprintf(cmd, sizeof cmd,
           "set -e; d=$(mktemp -d); mkdir -p $d/etc; echo second-version > $d/etc/image-marker; "
           "cd '%s/registry'; umoci insert --image ocire:latest $d/etc/image-marker "
           "/etc/image-marker >/dev/null; umoci gc --layout ocire; rm -rf $d",
           ctr.fix_dir);
  ck_assert_int_eq(system(cmd), 0);
  sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
  launch_uri(&f, offer, agent, "second", "ocire", 32, "echo m=$(cat /etc/image-marker)", NULL);
  image_uncached = 0;
  free(sim_fw_expect_final(&f, "second", "TASK_FINISHED", 20000));
  sandbox_of("second", sandbox, sizeof sandbox);
  out = wait_output(sandbox, "stdout", "m=");
  ck_assert_msg(strstr(out, "m=second-version\n") != NULL, "stdout: %s", out);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* Two more OCI images from the harness's, with umoci: User "1000:1000"
 * (numeric, not in the image's passwd) and "nobody" (a name there). */
static void more_images(void) {
  if (ctr.why_not[0]) return;
  char cmd[1200], line[512];
  snprintf(cmd, sizeof cmd,
           "set -e; cd '%s/registry'; for v in ociuid:1000:1000 ocinobody:nobody; do "
           "n=${v%%%%:*}; u=${v#*:}; cp -a ocibox $n; umoci config --image $n:latest "
           "--config.user $u >/dev/null; umoci gc --layout $n; done 2>&1",
           ctr.fix_dir);
  FILE *f = popen(cmd, "r");
  while (f && fgets(line, sizeof line, f)) fputs(line, stderr);
  if (f == NULL || pclose(f) != 0)
    snprintf(ctr.why_not, sizeof ctr.why_not, "!umoci config --config.user failed");
}

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_containers2");
  TCase *tc = tcase_create("containers2");
  tcase_set_timeout(tc, 90);
  tcase_add_test(tc, test_containers2__image_user_numeric_and_named_and_container_status_in_updates);
  tcase_add_test(tc, test_containers2__agent_answers_health_while_a_container_task_fetches_slowly);
  tcase_add_test(tc, test_containers2__default_container_info_applies_to_tasks_without_one);
  tcase_add_test(tc, test_containers2__uncached_image_is_read_again_from_the_registry);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  mesos_test_ctr_init(&ctr, "ctr2", 1);
  more_images();
  return mesos_test_main(make_suite());
}

/*
 * Tasks in containers, end to end, third part (real mesos-master and
 * mesos-agent on loopback, the scheduler of tests/support/sim_fw.h,
 * busybox images built with umoci and skopeo by
 * tests/support/container_images.bash):
 *
 *  - a task whose URI download never gets an answer keeps its launch
 *    pending while /health answers in well under 200 ms each time (the
 *    launch pipeline is off the agent's loop); a KILL during that fetch
 *    gives TASK_KILLED (REASON_TASK_KILLED_DURING_LAUNCH), cancels the
 *    download (the server sees the connection close) and leaves no root
 *    filesystem, partial download, mount, cgroup or process behind;
 *  - executors that ask for a container this agent cannot give them (a
 *    DOCKER container on a custom executor, an image on a default
 *    executor, a task of a group with its own image) fail with REASON_CONTAINER_LAUNCH_FAILED and say why, and no
 *    executor process runs on the host in their place;
 *  - Image.cached (default true) reuses the image as the agent last read
 *    it, so an image replaced in the registry is not seen; cached=false
 *    reads the registry again (and later cached launches get that).
 *
 * After every test nothing is left: no mount under the test's directory,
 * no container cgroup, no runtime state, no process (teardown kills by pid
 * whatever still has its cwd under the test's directory).  Needs root,
 * busybox-static, umoci, skopeo and writable cgroups: SKIPPED with the
 * reason otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/container_harness.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static mesos_test_ctr ctr; /* the host side: support/container_harness.h */
static pid_t master_pid = -1, agent_pid = -1, server_pid = -1;
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
  agent_port = mesos_test_free_port();
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
                  "cgroups/mem",
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

/* Master, agent and a (non-checkpointing) framework with an offer. */
static void start_cluster(sim_fw *f, char *offer, char *agent, size_t cap) {
  start_master();
  start_agent();
  sim_fw_subscribe(f, master_port, "\"user\":\"root\",\"name\":\"containers3\"");
  sim_fw_wait_offer_min(f, "agent-test", 0.5, 64, offer, agent, cap);
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

/* Polls (every 20 ms, up to `ms`) until `path` exists (want 1) or not
 * (want 0). */
static int wait_exists(const char *path, int want, int ms) {
  for (int t = 0; t < ms; t += 20) {
    if (exists(path) == want) return 1;
    usleep(20000);
  }
  return exists(path) == want;
}

#define RES                                                                  \
  "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.2}},"     \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]"
/* A quarter of RES: a group (two tasks and its executor) fits the smallest
 * offer a freed task or executor (RES) may come back in. */
#define RES_Q                                                                \
  "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.05}},"    \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":8}}]"
#define IMAGE(name) \
  "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\",\"docker\":{\"name\":\"" name "\"}}}}"

/* ------------------------------------------------------------ the stalled fetch */

/* A server on loopback that reads each request and never answers.  It
 * creates <base>/asked once a request arrived and <base>/closed when the
 * client closed that connection. */
static pid_t mute_server(int *port) {
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
    char asked[400], closed[400];
    snprintf(asked, sizeof asked, "%s/asked", ctr.base_dir);
    snprintf(closed, sizeof closed, "%s/closed", ctr.base_dir);
    int c = accept(s, NULL, NULL);
    if (c < 0) _exit(1);
    char req[4096];
    if (read(c, req, sizeof req) <= 0) _exit(1);
    close(open(asked, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    /* Never answer; wait for the client to go away. */
    for (;;) {
      ssize_t n = read(c, req, sizeof req);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    close(open(closed, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    pause();
    _exit(0);
  }
  close(s);
  return p;
}

START_TEST(test_containers3__health_stays_fast_during_a_stalled_fetch_and_kill_cancels_it) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 1);
  sim_fw f;
  char offer[160], agent[160];
  start_cluster(&f, offer, agent, sizeof offer);
  int port;
  server_pid = mute_server(&port);
  ck_assert_int_eq(
      sim_fw_call(&f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
                  "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
                  "[{\"name\":\"t\",\"task_id\":{\"value\":\"stall\"},\"agent_id\":{\"value\":\"%s\"},"
                  IMAGE("busybox:latest") ",\"command\":{\"uris\":[{\"value\":"
                  "\"http://127.0.0.1:%d/payload\"}],\"value\":\"cat $MESOS_SANDBOX/payload\"},"
                  "\"resources\":" RES "}]}}],\"filters\":{\"refuse_seconds\":0}}}",
                  f.id, offer, agent, port),
      202);
  /* The image is provisioned and the download asked for: the launch now
   * waits on a server that never answers. */
  char asked[400], closed[400];
  snprintf(asked, sizeof asked, "%s/asked", ctr.base_dir);
  snprintf(closed, sizeof closed, "%s/closed", ctr.base_dir);
  ck_assert_msg(wait_exists(asked, 1, 20000), "the agent never asked for the URI: %s",
                mesos_test_slurp(agent_log));
  /* Meanwhile every /health answers at once (a launch step on the loop,
   * such as a synchronous fetch, makes one of these take seconds). */
  long long worst = 0;
  for (int i = 0; i < 10; i++) {
    long long a = sim_fw_now_ms();
    mesos_test_response r;
    ck_assert_int_eq(mesos_test_http(agent_port, "GET", "/health", NULL, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    mesos_test_response_free(&r);
    long long took = sim_fw_now_ms() - a;
    if (took > worst) worst = took;
    usleep(50000);
  }
  ck_assert_msg(worst < 200, "/health took %lld ms while a launch waited on its fetch", worst);
  ck_assert_msg(!exists(closed), "the download ended before the kill");
  /* KILL while fetching. */
  ck_assert_int_eq(sim_fw_call(&f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":{"
                               "\"task_id\":{\"value\":\"stall\"},\"agent_id\":{\"value\":\"%s\"}}}",
                               f.id, agent),
                   202);
  char *rec = sim_fw_expect_final(&f, "stall", "TASK_KILLED", 10000);
  ck_assert_msg(strstr(rec, "REASON_TASK_KILLED_DURING_LAUNCH") != NULL, "%s", rec);
  free(rec);
  /* The download is cancelled (the server sees the close), the partial
   * file and the root filesystem go, while the agent still runs. */
  ck_assert_msg(wait_exists(closed, 1, 5000), "the download was not cancelled");
  char p[700];
  snprintf(p, sizeof p, "%s/provisioner/containers", work_dir);
  int left = mesos_test_count_entries(p);
  for (int t = 0; t < 5000 && left > 0; t += 20) {
    usleep(20000);
    left = mesos_test_count_entries(p);
  }
  ck_assert_msg(left == 0, "the killed task's root filesystem is still in %s", p);
  char pattern[1200];
  snprintf(pattern, sizeof pattern, "%s/slaves/*/frameworks/*/executors/stall/runs/*/.fetch-*",
           work_dir);
  glob_t g;
  ck_assert_msg(glob(pattern, 0, NULL, &g) == GLOB_NOMATCH, "a partial download is left");
  globfree(&g);
  snprintf(p, sizeof p, "%s/run/containers", ctr.base_dir);
  ck_assert_int_eq(mesos_test_count_entries(p), 0);
  finish_test(&f);
}
END_TEST

/* ------------------------------------------------------------ executors */

START_TEST(test_containers3__executors_asking_for_images_fail_with_the_reason_and_never_run) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 2);
  sim_fw f;
  char offer[160], agent[160], ran[400];
  start_cluster(&f, offer, agent, sizeof offer);
  snprintf(ran, sizeof ran, "%s/executor-ran", ctr.base_dir);
  /* A custom executor in a DOCKER container (custom executors in MESOS
   * images run: test_agent_containers4). */
  ck_assert_int_eq(
      sim_fw_call(&f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
                  "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
                  "[{\"name\":\"t\",\"task_id\":{\"value\":\"custom\"},\"agent_id\":{\"value\":\"%s\"},"
                  "\"executor\":{\"type\":\"CUSTOM\",\"executor_id\":{\"value\":\"ex-img\"},"
                  "\"command\":{\"value\":\"touch %s; sleep 30\"},\"container\":{\"type\":\"DOCKER\","
                  "\"docker\":{\"image\":\"busybox\"}},"
                  "\"resources\":" RES "},\"resources\":" RES "}]}}],"
                  "\"filters\":{\"refuse_seconds\":0}}}",
                  f.id, offer, agent, ran),
      202);
  char *rec = sim_fw_expect_final(&f, "custom", "TASK_FAILED", 10000);
  ck_assert_msg(strstr(rec, "REASON_CONTAINER_LAUNCH_FAILED") && strstr(rec, "Docker containerizer"),
                "%s", rec);
  free(rec);
  /* A task group whose default executor has an image, and one whose task
   * has its own image. */
  const char *groups[][2] = {
      {"g-exec", "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"gx1\"},"
                 "\"framework_id\":{\"value\":\"%s\"}," IMAGE("busybox:latest") ","
                 "\"resources\":" RES_Q "},"},
      {"g-task", "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"gx2\"},"
                 "\"framework_id\":{\"value\":\"%s\"},\"resources\":" RES_Q "},"},
  };
  for (size_t i = 0, tries = 0; i < 2; i++) {
    sim_fw_wait_offer_min(&f, "agent-test", 0.5, 64, offer, agent, sizeof offer);
    char exec[1024], body[4096];
    snprintf(exec, sizeof exec, groups[i][1], f.id);
    snprintf(body, sizeof body,
             "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
             "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{%s"
             "\"task_group\":{\"tasks\":[{\"name\":\"g\",\"task_id\":{\"value\":\"%s-a\"},"
             "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"touch %s\"},%s"
             "\"resources\":" RES_Q "},{\"name\":\"g\",\"task_id\":{\"value\":\"%s-b\"},"
             "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"touch %s\"},"
             "\"resources\":" RES_Q "}]}}}],\"filters\":{\"refuse_seconds\":0}}}",
             f.id, offer, exec, groups[i][0], agent, ran, i == 1 ? IMAGE("busybox:latest") "," : "",
             groups[i][0], agent, ran);
    ck_assert_int_eq(sim_fw_call(&f, "%s", body), 202);
    for (int k = 0; k < 2; k++) {
      char task[64], tid[100];
      snprintf(task, sizeof task, "%s-%c", groups[i][0], k ? 'b' : 'a');
      /* The offer kept may have nothing left to give (seen under ASan: the
       * master answers TASK_ERROR "... than available " with nothing
       * listed): that group goes again on the next offer.  Not what this
       * test is about; the agent's refusal is. */
      snprintf(tid, sizeof tid, "\"value\":\"%s\"", task);
      rec = sim_fw_next(&f, 10000, "\"type\":\"UPDATE\"", tid, NULL);
      ck_assert_msg(rec != NULL, "no update for %s", task);
      if (strstr(rec, "TASK_ERROR") && strstr(rec, "than available") && tries < 3) {
        free(rec);
        if (k == 0) free(sim_fw_next(&f, 10000, "\"type\":\"UPDATE\"", "-b\"", NULL));
        tries++;
        i--;
        break;
      }
      ck_assert_msg(strstr(rec, "\"TASK_FAILED\"") &&
                        strstr(rec, "REASON_CONTAINER_LAUNCH_FAILED") &&
                        strstr(rec, "not supported"),
                    "%s", rec);
      sim_fw_ack(&f, rec);
      free(rec);
    }
  }
  /* Nothing ran on the host instead. */
  usleep(300000);
  ck_assert_msg(!exists(ran), "an executor or task ran although its launch failed");
  finish_test(&f);
}
END_TEST

/* ------------------------------------------------------------ Image.cached */

static void launch_marker(sim_fw *f, const char *offer, const char *agent, const char *task,
                          const char *cached) {
  char body[2048];
  int code = sim_fw_call_body(f, body, sizeof body,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
                  "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
                  "[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
                  "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":\"DOCKER\",%s"
                  "\"docker\":{\"name\":\"ocicache\"}}}},\"command\":{\"value\":"
                  "\"echo m=$(cat /etc/image-marker)\"},\"resources\":" RES "}]}}],"
                  "\"filters\":{\"refuse_seconds\":0}}}",
                  f->id, offer, task, agent, cached);
  ck_assert_msg(code == 202, "ACCEPT of %s: %d %s", task, code, body);
}

/* What task `task` printed (its only run's stdout), once it has. */
static const char *marker_of(const char *task) {
  char pattern[1200];
  snprintf(pattern, sizeof pattern, "%s/slaves/*/frameworks/*/executors/%s/runs/*-*/stdout",
           work_dir, task);
  for (int t = 0; t < 5000; t += 20) {
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
      const char *s = mesos_test_slurp(g.gl_pathv[0]);
      globfree(&g);
      if (strstr(s, "m=")) return strstr(s, "m=");
    }
    usleep(20000);
  }
  ck_abort_msg("%s printed no marker", task);
  return NULL;
}

START_TEST(test_containers3__cached_images_are_not_read_again_until_cached_is_false) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 3);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "set -e; cd '%s/registry'; rm -rf ocicache; cp -a ocibox ocicache",
           ctr.fix_dir);
  ck_assert_int_eq(system(cmd), 0);
  sim_fw f;
  char offer[160], agent[160];
  start_cluster(&f, offer, agent, sizeof offer);
  launch_marker(&f, offer, agent, "c1", "");
  free(sim_fw_expect_final(&f, "c1", "TASK_FINISHED", 20000));
  ck_assert_msg(strncmp(marker_of("c1"), "m=from-the-image\n", 17) == 0, "c1: %s", marker_of("c1"));
  /* A new version of the image in the registry (a new top layer). */
  snprintf(cmd, sizeof cmd,
           "set -e; d=$(mktemp -d); mkdir -p $d/etc; echo second-version > $d/etc/image-marker; "
           "cd '%s/registry'; umoci insert --image ocicache:latest $d/etc/image-marker "
           "/etc/image-marker >/dev/null; umoci gc --layout ocicache; rm -rf $d",
           ctr.fix_dir);
  ck_assert_int_eq(system(cmd), 0);
  const struct {
    const char *task, *cached, *want;
  } steps[] = {
      {"c2", "", "m=from-the-image\n"},                 /* cached (the default): as read before */
      {"c3", "\"cached\":true,", "m=from-the-image\n"},  /* the same, said explicitly */
      {"c4", "\"cached\":false,", "m=second-version\n"}, /* read again */
      {"c5", "", "m=second-version\n"},                 /* remembered from c4's read */
  };
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    sim_fw_wait_offer_min(&f, "agent-test", 0.5, 64, offer, agent, sizeof offer);
    launch_marker(&f, offer, agent, steps[i].task, steps[i].cached);
    free(sim_fw_expect_final(&f, steps[i].task, "TASK_FINISHED", 20000));
    const char *m = marker_of(steps[i].task);
    ck_assert_msg(strncmp(m, steps[i].want, strlen(steps[i].want)) == 0, "%s: %s",
                  steps[i].task, m);
  }
  finish_test(&f);
}
END_TEST

static void teardown(void) {
  /* A failed test: its daemons, server, containers and tasks. */
  if (agent_pid > 0) kill(agent_pid, SIGKILL);
  if (master_pid > 0) kill(master_pid, SIGKILL);
  if (server_pid > 0) kill(server_pid, SIGKILL);
  if (ctr.base_dir[0]) mesos_test_kill_under(ctr.base_dir);
}

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_containers3");
  TCase *tc = tcase_create("containers3");
  tcase_set_timeout(tc, 90);
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, test_containers3__health_stays_fast_during_a_stalled_fetch_and_kill_cancels_it);
  tcase_add_test(tc, test_containers3__executors_asking_for_images_fail_with_the_reason_and_never_run);
  tcase_add_test(tc, test_containers3__cached_images_are_not_read_again_until_cached_is_false);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  mesos_test_ctr_init(&ctr, "ctr3", 1);
  return mesos_test_main(make_suite());
}

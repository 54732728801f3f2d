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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "containerizer/cgroups.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static char fix_dir[256];     /* images, built once by the runner */
static char why_not[512];     /* non-empty: the reason every root test skips */
static int have_overlay;
static pid_t runner_pid;
static char base_dir[256];    /* per test, under /tmp/mesos-ctr2-<runner>- */
static char cg_root[96];
static pid_t master_pid = -1, agent_pid = -1;
static const char *agent_extra_flag; /* one more agent flag, or NULL */
static int master_port, agent_port;
static char work_dir[512], agent_log[512];

/* ------------------------------------------------------------ host state */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void rm_tree(const char *dir) {
  if (dir[0]) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *slurp(const char *path) {
  static char buf[1 << 16];
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (f == NULL) return buf;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* Unmounts (lazily, deepest first) everything mounted under `prefix`. */
static int umount_under(const char *prefix) {
  char *mounts = strdup(slurp("/proc/self/mounts"));
  char *paths[256];
  int n = 0;
  for (char *line = strtok(mounts, "\n"); line && n < 256; line = strtok(NULL, "\n")) {
    char dev[512], dir[1024];
    if (sscanf(line, "%511s %1023s", dev, dir) == 2 && strncmp(dir, prefix, strlen(prefix)) == 0)
      paths[n++] = strdup(dir);
  }
  free(mounts);
  for (int i = n - 1; i >= 0; i--) {
    umount2(paths[i], MNT_DETACH);
    free(paths[i]);
  }
  return n;
}

/* The directories of cgroup root `root` in every hierarchy. */
static int cg_dirs(const char *root, char out[][1024], int cap) {
  mesos__cg_layout l;
  if (mesos__cg_layout_detect(&l, NULL) != MESOS_OK) return 0;
  int n = 0;
  for (int c = 0; c <= MESOS__CG_COUNT && n < cap; c++) {
    const char *mnt = c == MESOS__CG_COUNT ? l.v2_mount : l.v1_mount[c];
    const char *self = c == MESOS__CG_COUNT ? l.v2_self : l.v1_self[c];
    if (mnt == NULL) continue;
    snprintf(out[n], 1024, "%s%s/%s", mnt, strcmp(self, "/") ? self : "", root);
    int dup = 0;
    for (int i = 0; i < n; i++) dup |= strcmp(out[i], out[n]) == 0;
    if (!dup) n++;
  }
  mesos__cg_layout_free(&l);
  return n;
}

/* Container cgroups (sub-directories) left under `root`; kills their
 * processes and removes them when `remove` is set. */
static int cg_leftovers(const char *root, int remove) {
  char dirs[16][1024];
  int nd = cg_dirs(root, dirs, 16), left = 0;
  for (int i = 0; i < nd; i++) {
    DIR *d = opendir(dirs[i]);
    if (d == NULL) continue;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (de->d_type != DT_DIR || de->d_name[0] == '.') continue;
      left++;
      fprintf(stderr, "cgroup left: %s/%s\n", dirs[i], de->d_name);
      if (!remove) continue;
      char cmd[5000];
      /* Processes first (and the v2 leaf), then the directories. */
      snprintf(cmd, sizeof cmd,
               "for f in $(find '%.1000s/%.200s' -name cgroup.procs); do for p in $(cat $f); do kill -9 $p; "
               "done; done 2>/dev/null; sleep 0.2; find '%.1000s/%.200s' -depth -type d -exec rmdir {} + "
               "2>/dev/null",
               dirs[i], de->d_name, dirs[i], de->d_name);
      if (system(cmd) != 0) { /* reported by the caller's checks */ }
    }
    closedir(d);
    if (remove) rmdir(dirs[i]);
  }
  return left;
}

/* Kills the inits of the containers in runtime dir `run` (a test that
 * failed before its agent destroyed them). */
static void kill_containers(const char *run) {
  char pattern[600];
  snprintf(pattern, sizeof pattern, "%s/containers/*/pid", run);
  glob_t g;
  if (glob(pattern, 0, NULL, &g) != 0) return;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    long pid = strtol(slurp(g.gl_pathv[i]), NULL, 10);
    if (pid > 1) kill((pid_t)pid, SIGKILL);
  }
  globfree(&g);
}

/* At the runner's exit: whatever its tests left. */
static void runner_cleanup(void) {
  if (getpid() != runner_pid) return;
  char pattern[128];
  snprintf(pattern, sizeof pattern, "/tmp/mesos-ctr2-%d-*", (int)runner_pid);
  glob_t g;
  if (glob(pattern, 0, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++) {
      char run[400];
      snprintf(run, sizeof run, "%s/run", g.gl_pathv[i]);
      /* Executors and tasks run in their own session (PDEATHSIG on the
       * agent never reaches them) with their sandbox as their cwd. */
      mesos_test_kill_under(g.gl_pathv[i]);
      kill_containers(run);
    }
    usleep(100000);
    for (size_t i = 0; i < g.gl_pathc; i++) {
      umount_under(g.gl_pathv[i]);
      if (getenv("MESOS_TEST_KEEP") == NULL) rm_tree(g.gl_pathv[i]);
    }
    globfree(&g);
  }
  for (int k = 0; k < 32; k++) {
    char root[96];
    snprintf(root, sizeof root, "mesos-ctest2-%d-%d", (int)runner_pid, k);
    cg_leftovers(root, 1);
  }
  if (fix_dir[0]) rm_tree(fix_dir);
}

/* Why the root tests cannot run here ("" when they can). */
static void probe(void) {
  if (geteuid() != 0) {
    snprintf(why_not, sizeof why_not, "needs root (namespaces, mounts, cgroups)");
    return;
  }
  mesos__cg_layout l;
  if (mesos__cg_layout_detect(&l, NULL) != MESOS_OK) {
    snprintf(why_not, sizeof why_not, "cannot read the cgroup layout");
    return;
  }
  int ok = l.where[MESOS__CG_MEMORY] != MESOS__CG_NONE && l.where[MESOS__CG_CPU] != MESOS__CG_NONE;
  mesos__cg_layout_free(&l);
  if (!ok) {
    snprintf(why_not, sizeof why_not, "needs the cpu and memory cgroup controllers");
    return;
  }
  char dirs[16][1024], probe_root[64];
  snprintf(probe_root, sizeof probe_root, "mesos-ctest2-probe-%d", (int)getpid());
  int nd = cg_dirs(probe_root, dirs, 16);
  for (int i = 0; i < nd; i++) {
    if (mkdir(dirs[i], 0755) != 0 || rmdir(dirs[i]) != 0) {
      snprintf(why_not, sizeof why_not, "the cgroup hierarchy is not writable here (%.400s)", dirs[i]);
      return;
    }
  }
  pid_t p = fork();
  if (p == 0) _exit(unshare(CLONE_NEWNS | CLONE_NEWPID) == 0 ? 0 : 1);
  int ws = 0;
  if (p < 0 || waitpid(p, &ws, 0) != p || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
    snprintf(why_not, sizeof why_not, "creating mount and pid namespaces is not permitted here");
    return;
  }
  snprintf(fix_dir, sizeof fix_dir, "/tmp/mesos-ctr2-fix-XXXXXX");
  if (mkdtemp(fix_dir) == NULL) {
    snprintf(why_not, sizeof why_not, "cannot create a temporary directory");
    fix_dir[0] = '\0';
    return;
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "bash tests/support/container_images.bash '%s' 2>&1", fix_dir);
  FILE *f = popen(cmd, "r");
  char line[512];
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "tools-missing: ", 15) == 0) {
      line[strcspn(line, "\n")] = '\0';
      snprintf(why_not, sizeof why_not, "image tools missing: %.400s", line + 15);
    } else if (strncmp(line, "overlay: yes", 12) == 0) {
      have_overlay = 1;
    } else if (strncmp(line, "overlay: no", 11) != 0) {
      fputs(line, stderr);
    }
  }
  if (f == NULL || pclose(f) != 0)
    if (!why_not[0]) snprintf(why_not, sizeof why_not, "!container_images.bash failed");
  if (why_not[0]) return;
  /* Two more OCI images from the fixture's, with umoci: User "1000:1000"
   * (numeric, not in the image's passwd) and "nobody" (a name there). */
  snprintf(cmd, sizeof cmd,
           "set -e; cd '%s/registry'; for v in ociuid:1000:1000 ocinobody:nobody; do "
           "n=${v%%%%:*}; u=${v#*:}; cp -a ocibox $n; umoci config --image $n:latest "
           "--config.user $u >/dev/null; umoci gc --layout $n; done 2>&1",
           fix_dir);
  f = popen(cmd, "r");
  while (f && fgets(line, sizeof line, f)) fputs(line, stderr);
  if (f == NULL || pclose(f) != 0) snprintf(why_not, sizeof why_not, "!umoci config --config.user failed");
}

#define NEED_CONTAINERS()                                                               \
  do {                                                                                  \
    if (why_not[0] == '!') ck_abort_msg("%s", why_not + 1);                             \
    if (why_not[0]) MESOS_TEST_SKIP("%s", why_not);                                     \
  } while (0)


static void make_base(int k) {
  snprintf(base_dir, sizeof base_dir, "/tmp/mesos-ctr2-%d-XXXXXX", (int)getppid());
  ck_assert_ptr_nonnull(mkdtemp(base_dir));
  /* One cgroups root per test (numbered by the test's order in the run,
   * which the runner's cleanup walks). */
  snprintf(cg_root, sizeof cg_root, "mesos-ctest2-%d-%d", (int)getppid(), k);
}

/* Nothing of the test's containers may be left (call after the agent
 * stopped or destroyed them). */
static void assert_clean(void) {
  const char *mounts = slurp("/proc/self/mounts");
  ck_assert_msg(strstr(mounts, base_dir) == NULL, "a mount under %s is left:\n%s", base_dir,
                mounts);
  ck_assert_msg(cg_leftovers(cg_root, 0) == 0, "container cgroups under %s are left", cg_root);
  char p[600];
  snprintf(p, sizeof p, "%s/run/containers", base_dir);
  DIR *d = opendir(p);
  int n = 0;
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) n += de->d_name[0] != '.';
    closedir(d);
  }
  ck_assert_msg(n == 0, "runtime state left in %s", p);
  snprintf(p, sizeof p, "%s/agent/provisioner/containers", base_dir);
  d = opendir(p);
  n = 0;
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) n += de->d_name[0] != '.';
    closedir(d);
  }
  ck_assert_msg(n == 0, "container root filesystems left in %s", p);
}

static void remove_base(void) {
  if (getenv("MESOS_TEST_KEEP")) {
    fprintf(stderr, "kept %s\n", base_dir);
    return;
  }
  rm_tree(base_dir);
}

/* ------------------------------------------------------------ processes */

static void start_master(void) {
  char path[4096], port_arg[64], wd_arg[400];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/master", base_dir);
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
  snprintf(work_dir, sizeof work_dir, "%s/agent", base_dir);
  snprintf(agent_log, sizeof agent_log, "%s/agent.log", base_dir);
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(port_arg, sizeof port_arg, "--port=%d", agent_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s", work_dir);
  snprintf(reg, sizeof reg, "--docker_registry=%s/registry", fix_dir);
  snprintf(store, sizeof store, "--docker_store_dir=%s/store", base_dir);
  snprintf(run, sizeof run, "--runtime_dir=%s/run", base_dir);
  snprintf(cgr, sizeof cgr, "--cgroups_root=%s", cg_root);
  snprintf(backend, sizeof backend, "--image_provisioner_backend=%s",
           overlay && have_overlay ? "overlay" : "copy");
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
                slurp(agent_log));
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
    char *s = slurp(p);
    if (strstr(s, text)) return s;
    usleep(20000);
  }
  ck_abort_msg("%s never got '%s': %s", p, text, slurp(p));
  return NULL;
}


/* ------------------------------------------------------------ tests */

START_TEST(test_containers2__image_user_numeric_and_named_and_container_status_in_updates) {
  NEED_CONTAINERS();
  make_base(1);
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
  assert_clean();
  remove_base();
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
  NEED_CONTAINERS();
  make_base(2);
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
  assert_clean();
  remove_base();
}
END_TEST

/* --default_container_info: a task without a ContainerInfo runs in the
 * default's image; a task with its own keeps it; bad values end the agent
 * with a clear message. */
START_TEST(test_containers2__default_container_info_applies_to_tasks_without_one) {
  NEED_CONTAINERS();
  make_base(3);
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
  assert_clean();
  remove_base();

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
    const char *text = slurp(log);
    ck_assert_msg(strstr(text, cases[i].says) != NULL, "%s: '%s' not in: %s", cases[i].flag,
                  cases[i].says, text);
  }
  rm_tree(dir);
}
END_TEST

/* Image.cached=false: every launch reads the registry again, so an image
 * replaced there is what the next task gets. */
START_TEST(test_containers2__uncached_image_is_read_again_from_the_registry) {
  NEED_CONTAINERS();
  make_base(4);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "set -e; cd '%s/registry'; rm -rf ocire; cp -a ocibox ocire", fix_dir);
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
           fix_dir);
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
  assert_clean();
  remove_base();
}
END_TEST

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
  runner_pid = getpid();
  atexit(runner_cleanup);
  probe();
  return mesos_test_main(make_suite());
}

/*
 * Persistent volumes in tasks, end to end: the real mesos-master and
 * mesos-agent, a JSON scheduler over raw HTTP on loopback, the operator
 * API for RESERVE_RESOURCES / CREATE_VOLUMES / DESTROY_VOLUMES.
 *
 * Checked: a task in a busybox image sees a volume at its absolute
 * container_path (in the image) and at a relative one (in its sandbox),
 * what it writes there is in the agent's volume directory and the next
 * task using the volume reads it; a read-only volume refuses writes; an
 * absolute container_path without an image is refused as Mesos does; a
 * task of a task group sees its volume in its own sandbox; DESTROY of a
 * volume a task uses is refused and the data stays until the task ended;
 * a read-only volume where it cannot be enforced (no mount namespace)
 * fails the task with the reason; and nothing is left: no mount under
 * the test's directory, no container cgroup, no process.
 *
 * The image tests need root, busybox-static, umoci and skopeo (SKIPPED
 * with the reason otherwise); the host-process tests need nothing.  The
 * container-test harness (root probe, mount/cgroup clean-up) is a minimal
 * copy of test_agent_containers.c's until tests/support has a shared one.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerizer/cgroups.h"
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
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 10000));
}

/* mesos-agent; `images`: with the mesos containerizer (filesystem/linux,
 * docker images), else tasks run as plain processes. */
static void start_agent(int images) {
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
  /* Without images the argument list ends before the containerizer's. */
  char *argv[] = {path, master_arg, port_arg, wd_arg, launcher, "--ip=127.0.0.1",
                  "--hostname=agent-test", "--resources=cpus:4;mem:1024;disk:1024",
                  "--registration_backoff_factor=50ms", "--executor_shutdown_grace_period=1secs",
                  images ? "--isolation=filesystem/linux,docker/runtime" : NULL,
                  "--image_providers=docker", reg, store, run, cgr,
                  "--image_provisioner_backend=copy", NULL};
  agent_pid = mesos_test_spawn(argv, agent_log);
  ck_assert_int_gt(agent_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(agent_port, "/health", 10000), "agent did not start: %s",
                mesos_test_slurp(agent_log));
}

static void stop_all(void) {
  if (agent_pid > 0) {
    int st = mesos_test_stop(agent_pid, 10000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
    agent_pid = -1;
  }
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 10000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
    master_pid = -1;
  }
}

/* The agent id the agent checkpointed (meta/slaves/latest), waited for. */
static void agent_id(char *out, size_t cap) {
  char link[700];
  snprintf(link, sizeof link, "%s/meta/slaves/latest", work_dir);
  long long deadline = sim_fw_now_ms() + 10000;
  for (;;) {
    ssize_t n = readlink(link, out, cap - 1);
    if (n > 0) {
      out[n] = '\0';
      return;
    }
    ck_assert_msg(sim_fw_now_ms() < deadline, "the agent never checkpointed its id (%s)", link);
    usleep(10000);
  }
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

static void wait_exists(const char *path, int want, int timeout_ms) {
  long long deadline = sim_fw_now_ms() + timeout_ms;
  while (exists(path) != want && sim_fw_now_ms() < deadline) usleep(20000);
  ck_assert_msg(exists(path) == want, "%s %s; agent log:\n%s", path,
                want ? "never appeared" : "is still there", mesos_test_slurp(agent_log));
}

/* POSTs an operator call (printf-formatted JSON) to the master; its HTTP
 * status, the body in `out` (when not NULL). */
static int operator_call(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int operator_call(char *out, size_t cap, const char *fmt, ...) {
  char body[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  ck_assert_int_lt(n, (int)sizeof body);
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(
      mesos_test_http(master_port, "POST", "/api/v1", "application/json", NULL, body, &r), 0);
  int status = r.status;
  if (out) snprintf(out, cap, "%s", r.body ? r.body : "");
  mesos_test_response_free(&r);
  return status;
}

/* ------------------------------------------------------------ volumes */

#define RESERVATION "\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"vol\",\"principal\":\"ops\"}]"
#define DISK64 "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}," RESERVATION
#define VOLUME(id, mode, path)                                                            \
  DISK64 ",\"disk\":{\"persistence\":{\"id\":\"" id "\",\"principal\":\"ops\"},\"volume\":{" \
         "\"mode\":\"" mode "\",\"container_path\":\"" path "\"}}}"
#define V_ABS VOLUME("v-abs", "RW", "/data")
#define V_REL VOLUME("v-rel", "RW", "rel")
#define V_RO VOLUME("v-ro", "RO", "/ro")
#define V_RO_REL VOLUME("v-ro-rel", "RO", "ro")
#define FW_INFO "\"user\":\"root\",\"name\":\"volumes\",\"role\":\"vol\",\"checkpoint\":true"

/* Reserves cpus, mem and disk for role "vol" and creates the four
 * volumes; waits until the agent has made their directories. */
static void reserve_and_create(const char *aid) {
  char body[2048];
  int st = operator_call(
      body, sizeof body,
      "{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{\"agent_id\":{\"value\":\"%s\"},"
      "\"resources\":[{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":256}," RESERVATION
      "},{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}," RESERVATION "},"
      "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":256}," RESERVATION "}]}}",
      aid);
  ck_assert_msg(st == 202, "RESERVE_RESOURCES: %d %s", st, body);
  st = operator_call(body, sizeof body,
                     "{\"type\":\"CREATE_VOLUMES\",\"create_volumes\":{\"agent_id\":{\"value\":"
                     "\"%s\"},\"volumes\":[" V_ABS "," V_REL "," V_RO "," V_RO_REL "]}}",
                     aid);
  ck_assert_msg(st == 202, "CREATE_VOLUMES: %d %s", st, body);
  const char *ids[] = {"v-abs", "v-rel", "v-ro", "v-ro-rel"};
  for (size_t i = 0; i < 4; i++) {
    char dir[700];
    snprintf(dir, sizeof dir, "%s/volumes/roles/vol/%s", work_dir, ids[i]);
    wait_exists(dir, 1, 10000);
  }
}

static void voldir(const char *id, char *out, size_t cap) {
  snprintf(out, cap, "%s/volumes/roles/vol/%s", work_dir, id);
}

/* Reserved cpus and mem of one task (taken from role "vol" only, so a
 * task's resources come back in one piece with its volumes). */
#define TASK_RES                                                                          \
  "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.25}," RESERVATION "},"   \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}," RESERVATION "}"

/* The next offer that holds every volume named in the NULL-terminated
 * list (f->offers first). */
static void wait_offer_with(sim_fw *f, char *offer, char *agent, size_t cap, ...) {
  const char *want[8];
  size_t n = 0;
  va_list ap;
  va_start(ap, cap);
  for (const char *s; n < 8 && (s = va_arg(ap, const char *)) != NULL;) want[n++] = s;
  va_end(ap);
  long long deadline = sim_fw_now_ms() + 20000;
  char *rec = f->offers;
  f->offers = NULL;
  for (;;) {
    int ok = rec != NULL;
    for (size_t i = 0; ok && i < n; i++) {
      char q[80];
      snprintf(q, sizeof q, "\"%s\"", want[i]);
      ok = strstr(rec, q) != NULL;
    }
    if (ok) break;
    free(rec);
    rec = NULL;
    ck_assert_msg(sim_fw_now_ms() < deadline, "no offer with volume %s; agent log:\n%s", want[0],
                  mesos_test_slurp(agent_log));
    rec = sim_fw_next(f, 2000, "\"type\":\"OFFERS\"", NULL);
    if (rec == NULL && f->offers) {
      rec = f->offers;
      f->offers = NULL;
    }
  }
  sim_fw_json_id(rec, "id", offer, cap);
  sim_fw_json_id(rec, "agent_id", agent, cap);
  free(rec);
  sim_fw_take_offer(f, offer); /* answered by the caller: no longer held */
}

/* Appends to `buf` the TaskInfo of `task` using `vols` (JSON resources),
 * in the busybox image when `image`. */
static void task_json(char *buf, size_t cap, const char *agent, const char *task, int image,
                      const char *vols, const char *command) {
  size_t len = strlen(buf);
  int n = snprintf(buf + len, cap - len,
                   "%s{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":"
                   "\"%s\"},\"command\":{\"value\":\"%s\"},%s\"resources\":[" TASK_RES ",%s]}",
                   len ? "," : "", task, agent, command,
                   image ? "\"container\":{\"type\":\"MESOS\",\"mesos\":{\"image\":{\"type\":"
                           "\"DOCKER\",\"docker\":{\"name\":\"busybox:latest\"}}}},"
                         : "",
                   vols);
  ck_assert(n > 0 && (size_t)n < cap - len);
}

/* ACCEPTs `offer` with one LAUNCH of the TaskInfos `tasks` (JSON). */
static void launch_tasks(sim_fw *f, const char *offer, const char *tasks) {
  ck_assert_int_eq(
      sim_fw_call(f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                  "\"launch\":{\"task_infos\":[%s]}}],\"filters\":{\"refuse_seconds\":0}}}",
                  f->id, offer, tasks),
      202);
}

static void launch_vol(sim_fw *f, const char *offer, const char *agent, const char *task,
                       int image, const char *vols, const char *command) {
  char tasks[4096] = "";
  task_json(tasks, sizeof tasks, agent, task, image, vols, command);
  launch_tasks(f, offer, tasks);
}

/* Acknowledges every update until each of the `n` tasks `ids` had its
 * terminal one, kept in finals[i] (the caller frees them). */
static void wait_finals(sim_fw *f, size_t n, const char *const *ids, char **finals) {
  size_t left = n;
  for (size_t i = 0; i < n; i++) finals[i] = NULL;
  long long deadline = sim_fw_now_ms() + 30000;
  while (left > 0) {
    long long ms = deadline - sim_fw_now_ms();
    char *rec = ms > 0 ? sim_fw_next(f, (int)ms, "\"type\":\"UPDATE\"", NULL) : NULL;
    ck_assert_msg(rec != NULL, "%zu task(s) never ended; agent log:\n%s", left, mesos_test_slurp(agent_log));
    sim_fw_ack(f, rec);
    int terminal = strstr(rec, "\"TASK_STARTING\"") == NULL && strstr(rec, "\"TASK_RUNNING\"") == NULL;
    for (size_t i = 0; terminal && i < n; i++) {
      char tid[256];
      snprintf(tid, sizeof tid, "\"task_id\":{\"value\":\"%s\"}", ids[i]);
      if (finals[i] == NULL && strstr(rec, tid)) {
        finals[i] = rec;
        rec = NULL;
        left--;
        break;
      }
    }
    free(rec);
  }
}

/* Master, agent, the volumes and a subscribed framework of role "vol". */
static void cluster(sim_fw *f, int images, char *aid, size_t cap) {
  start_master();
  start_agent(images);
  agent_id(aid, cap);
  reserve_and_create(aid);
  sim_fw_subscribe(f, master_port, FW_INFO);
}

static void ensure_contains(const char *path, const char *want) {
  const char *got = mesos_test_slurp(path);
  ck_assert_msg(strcmp(got, want) == 0, "%s holds '%s', not '%s'", path, got, want);
}

/* ------------------------------------------------------------ tests */

/* In an image: absolute (in the rootfs) and relative (in the sandbox)
 * volumes, written by one task and read by the next; the host does not
 * see the bind mounts, and none is left after the agent stopped. */
START_TEST(test_volumes__image_task_writes_and_the_next_task_reads) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 0);
  sim_fw f;
  char aid[256], offer[160], agent[160], dir[800], file[900];
  cluster(&f, 1, aid, sizeof aid);
  wait_offer_with(&f, offer, agent, sizeof offer, "v-abs", "v-rel", NULL);
  launch_vol(&f, offer, agent, "writer", 1, V_ABS "," V_REL,
             "grep -q from-the-image /etc/image-marker && echo persisted > /data/f && "
             "echo relative > $MESOS_SANDBOX/rel/g");
  char *u = sim_fw_expect_final(&f, "writer", "TASK_FINISHED", 30000);
  free(u);
  voldir("v-abs", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/f", dir);
  ensure_contains(file, "persisted\n");
  voldir("v-rel", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/g", dir);
  ensure_contains(file, "relative\n");

  wait_offer_with(&f, offer, agent, sizeof offer, "v-abs", "v-rel", NULL);
  launch_vol(&f, offer, agent, "reader", 1, V_ABS "," V_REL,
             "test \\\"$(cat /data/f)\\\" = persisted && "
             "test \\\"$(cat $MESOS_SANDBOX/rel/g)\\\" = relative && echo again >> /data/f");
  free(sim_fw_expect_final(&f, "reader", "TASK_FINISHED", 30000));
  voldir("v-abs", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/f", dir);
  ensure_contains(file, "persisted\nagain\n");
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_kill_under(ctr.base_dir);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* A read-only volume in an image: reads work, writes fail (the task
 * checks both and finishes only if so); an absolute container_path
 * without an image is refused naming the reason. */
START_TEST(test_volumes__read_only_volume_refuses_writes_and_absolute_needs_an_image) {
  MESOS_TEST_NEED_CONTAINERS(&ctr);
  mesos_test_ctr_make_base(&ctr, 1);
  sim_fw f;
  char aid[256], offer[160], agent[160], dir[800], file[900];
  cluster(&f, 1, aid, sizeof aid);
  voldir("v-ro", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/seed", dir);
  FILE *fp = fopen(file, "w");
  ck_assert_ptr_nonnull(fp);
  fputs("seeded\n", fp);
  fclose(fp);
  /* Both tasks in one ACCEPT: the framework keeps only the last offer it
   * skipped, so a second offer with the other volume may never be seen. */
  wait_offer_with(&f, offer, agent, sizeof offer, "v-ro", "v-ro-rel", "v-abs", NULL);
  char tasks[8192] = "";
  task_json(tasks, sizeof tasks, agent, "ro", 1, V_RO "," V_RO_REL,
            "test \\\"$(cat /ro/seed)\\\" = seeded && ls $MESOS_SANDBOX/ro && "
            "if echo x > /ro/w; then exit 3; fi; if echo x > $MESOS_SANDBOX/ro/w; then exit 4; "
            "fi; echo checked");
  /* No image: an absolute container path has nowhere to go. */
  task_json(tasks, sizeof tasks, agent, "abs", 0, V_ABS, "true");
  launch_tasks(&f, offer, tasks);
  char *u = sim_fw_expect_final(&f, "ro", "TASK_FINISHED", 30000);
  free(u);
  snprintf(file, sizeof file, "%s/w", dir);
  ck_assert_msg(!exists(file), "%s was written through a read-only volume", file);

  u = sim_fw_expect_final(&f, "abs", "TASK_FAILED", 30000);
  ck_assert_msg(strstr(u, "needs a container image") && strstr(u, "REASON_CONTAINER_LAUNCH_FAILED"),
                "%s", u);
  free(u);
  sim_fw_close(&f);
  stop_all();
  mesos_test_ctr_assert_clean(&ctr);
  mesos_test_kill_under(ctr.base_dir);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* Host processes (no containerizer): a task group's task sees its volume
 * in its own sandbox; a read-only volume, which a link cannot enforce,
 * fails the task with the reason. */
START_TEST(test_volumes__task_group_task_sees_its_volume_and_read_only_is_refused_on_the_host) {
  mesos_test_ctr_make_base(&ctr, 2);
  sim_fw f;
  char aid[256], offer[160], agent[160], dir[800], file[900];
  cluster(&f, 0, aid, sizeof aid);
  /* The group and the read-only task in one ACCEPT (the framework keeps
   * only the last offer it skipped). */
  wait_offer_with(&f, offer, agent, sizeof offer, "v-rel", "v-ro-rel", NULL);
  char ro[2048] = "";
  task_json(ro, sizeof ro, agent, "ro-host", 0, V_RO_REL, "echo x > ro/w");
  ck_assert_int_eq(
      sim_fw_call(&f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\","
                  "\"launch_group\":{\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{"
                  "\"value\":\"gx\"},\"framework_id\":{\"value\":\"%s\"},\"resources\":["
                  TASK_RES "]},\"task_group\":{\"tasks\":["
                  "{\"name\":\"g\",\"task_id\":{\"value\":\"g1\"},\"agent_id\":{\"value\":\"%s\"},"
                  "\"command\":{\"value\":\"echo from-group > $MESOS_SANDBOX/rel/h && "
                  "test \\\"$(pwd)\\\" = \\\"$MESOS_SANDBOX\\\"\"},\"resources\":[" TASK_RES
                  "," V_REL "]},"
                  "{\"name\":\"g\",\"task_id\":{\"value\":\"g2\"},\"agent_id\":{\"value\":\"%s\"},"
                  "\"command\":{\"value\":\"test ! -e rel\"},\"resources\":[" TASK_RES "]}"
                  "]}}},{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[%s]}}],"
                  "\"filters\":{\"refuse_seconds\":0}}}",
                  f.id, offer, f.id, agent, agent, ro),
      202);
  const char *ids[] = {"g1", "g2", "ro-host"};
  char *finals[3];
  wait_finals(&f, 3, ids, finals);
  ck_assert_msg(strstr(finals[0], "TASK_FINISHED"), "%s", finals[0]);
  ck_assert_msg(strstr(finals[1], "TASK_FINISHED"), "%s", finals[1]);
  ck_assert_msg(strstr(finals[2], "TASK_FAILED") && strstr(finals[2], "read-only"), "%s",
                finals[2]);
  for (int i = 0; i < 3; i++) free(finals[i]);
  voldir("v-rel", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/h", dir);
  ensure_contains(file, "from-group\n");
  voldir("v-ro-rel", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/w", dir);
  ck_assert(!exists(file));
  sim_fw_close(&f);
  stop_all();
  mesos_test_kill_under(ctr.base_dir);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

/* The agent's /state lists its reservations and volumes as Mesos's
 * does, and GET_STATE the running task "holder" with its volume. */
static void check_agent_state(void) {
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(mesos_test_http(agent_port, "GET", "/state", NULL, NULL, NULL, &r), 0);
  ck_assert_int_eq(r.status, 200);
  const char *b = r.body ? r.body : "";
  static const char *const want[] = {
      "\"resources\":{\"cpus\":4,\"gpus\":0,\"mem\":1024,\"disk\":1024,",
      "\"reserved_resources\":{\"vol\":{\"cpus\":2,\"gpus\":0,\"mem\":256,\"disk\":256}}",
      "\"unreserved_resources\":{\"cpus\":2,\"gpus\":0,\"mem\":768,\"disk\":768,\"ports\":",
      "\"reserved_resources_full\":{\"vol\":[{",
      "\"persistence\":{\"id\":\"v-abs\",\"principal\":\"ops\"}",
      "\"container_path\":\"/data\"",
      "\"persistence\":{\"id\":\"v-ro\"",
      "\"mode\":\"RO\"",
      "\"unreserved_resources_full\":[{\"name\":",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    ck_assert_msg(strstr(b, want[i]) != NULL, "/state lacks %s:\n%s", want[i], b);
  /* Every volume in the reserved view, none in the unreserved one. */
  const char *unres = strstr(b, "\"unreserved_resources_full\"");
  ck_assert_msg(strstr(unres, "persistence") == NULL, "%s", unres);
  mesos_test_response_free(&r);

  memset(&r, 0, sizeof r);
  ck_assert_int_eq(mesos_test_http(agent_port, "POST", "/api/v1", "application/json", NULL,
                                   "{\"type\":\"GET_STATE\"}", &r),
                   0);
  ck_assert_int_eq(r.status, 200);
  b = r.body ? r.body : "";
  const char *task = strstr(b, "\"holder\"");
  ck_assert_msg(task && strstr(task, "\"persistence\":{\"id\":\"v-rel\"") &&
                    strstr(task, "\"container_path\":\"rel\""),
                "GET_STATE lacks holder's volume:\n%s", b);
  mesos_test_response_free(&r);
}

/* DESTROY_VOLUMES of a volume a running task uses is refused and its
 * data stays; once the task ended, DESTROY removes the directory. */
START_TEST(test_volumes__destroy_of_a_volume_in_use_is_refused_until_the_task_ended) {
  mesos_test_ctr_make_base(&ctr, 3);
  sim_fw f;
  char aid[256], offer[160], agent[160], dir[800], file[900], body[2048];
  cluster(&f, 0, aid, sizeof aid);
  wait_offer_with(&f, offer, agent, sizeof offer, "v-rel", NULL);
  launch_vol(&f, offer, agent, "holder", 0, V_REL, "echo kept > rel/k && sleep 60");
  free(sim_fw_expect_update(&f, "holder", "TASK_STARTING", 30000));
  free(sim_fw_expect_update(&f, "holder", "TASK_RUNNING", 30000));
  voldir("v-rel", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/k", dir);
  wait_exists(file, 1, 10000);
  check_agent_state();
  int st = operator_call(body, sizeof body,
                         "{\"type\":\"DESTROY_VOLUMES\",\"destroy_volumes\":{\"agent_id\":{"
                         "\"value\":\"%s\"},\"volumes\":[" V_REL "]}}",
                         aid);
  ck_assert_msg(st == 409, "DESTROY_VOLUMES of a volume in use: %d %s", st, body);
  ck_assert(exists(file));

  ck_assert_int_eq(sim_fw_call(&f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":{"
                               "\"task_id\":{\"value\":\"holder\"}}}",
                               f.id),
                   202);
  free(sim_fw_expect_final(&f, "holder", "TASK_KILLED", 30000));
  ck_assert_msg(exists(file), "%s went with the task", file);
  /* The master gets the volume back with the terminal update (it may
   * still be offered: polled). */
  long long deadline = sim_fw_now_ms() + 20000;
  do {
    st = operator_call(body, sizeof body,
                       "{\"type\":\"DESTROY_VOLUMES\",\"destroy_volumes\":{\"agent_id\":{"
                       "\"value\":\"%s\"},\"volumes\":[" V_REL "]}}",
                       aid);
    if (st != 202) usleep(100000);
  } while (st != 202 && sim_fw_now_ms() < deadline);
  ck_assert_msg(st == 202, "DESTROY_VOLUMES after the task: %d %s", st, body);
  wait_exists(dir, 0, 10000);
  sim_fw_close(&f);
  stop_all();
  mesos_test_kill_under(ctr.base_dir);
  mesos_test_ctr_remove_base(&ctr);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_volumes");
  TCase *tc = tcase_create("volumes");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_volumes__image_task_writes_and_the_next_task_reads);
  tcase_add_test(tc, test_volumes__read_only_volume_refuses_writes_and_absolute_needs_an_image);
  tcase_add_test(tc, test_volumes__task_group_task_sees_its_volume_and_read_only_is_refused_on_the_host);
  tcase_add_test(tc, test_volumes__destroy_of_a_volume_in_use_is_refused_until_the_task_ended);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  mesos_test_ctr_init(&ctr, "vol", 1);
  return mesos_test_main(make_suite());
}

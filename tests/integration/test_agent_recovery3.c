/*
 * Agent recovery, third file: the agent's checkpointed resources and the
 * handling of damaged checkpoints.
 *  - reservations and persistent volumes made through the operator API
 *    are checkpointed by the agent (meta/resources/resources.info, the
 *    volume's directory under work_dir/volumes/roles/<role>/<id>); after
 *    kill -9 of the agent AND of a master with an in_memory registry, the
 *    agent's report restores them: the volume is offered to its role again
 *    and a task using it reads the file an earlier task wrote there;
 *  - a volume destroyed while its agent was down is removed (directory
 *    included) once the agent re-registers and hears the master's set;
 *  - the master forwards a STATUS_UPDATE only when it comes on the agent's
 *    current connection (AgentCall.connection_id) while its event stream
 *    is up, so that the acknowledgement can reach the agent the way the
 *    update came: an update from an older connection (overtaken by the
 *    re-registration that sent it again) or from a disconnected agent is
 *    refused with 409 and never reaches the framework (the double delivery
 *    after an agent restart);
 *  - every checkpoint file kind (framework.info, executor.info, task.info,
 *    task.updates, resources.info) damaged, and each but task.updates
 *    truncated (a short stream is a torn tail, accepted by design): with
 *    --strict (the default)
 *    start-up stops with an error naming the file, with --strict=false the
 *    agent comes up and reports what it could not recover.
 *
 * Real mesos-master and mesos-agent over loopback; a JSON scheduler over
 * raw HTTP (support/sim_fw).  The teardown kills (by pid) whatever still
 * runs under the test's directory.
 */
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "mesos/internal/internal.pb-c.h"
#include "support/cluster.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static mesos_test_cluster cl;

/* ------------------------------------------------------------ processes */

/* Unchecked (in the parent, once): a failing test's process ends before
 * any teardown of its own runs; its daemons die with it (PDEATHSIG) and
 * what they started (executors, tasks, in sessions of their own) is
 * killed by the cluster's teardown by pid, then the directory goes.  Each
 * test works in its own subdirectory. */
static void make_base(void) {
  mesos_test_cluster_make_base(&cl, "/tmp/mesos-recovery3-test");
  cl.keep_agent_port = 1; /* executors come back to the agent's address */
  cl.agent_resources = "cpus:4;mem:1024;disk:1024";
}

/* Checked: before each test. */
static void reset(void) {
  cl.master_pid = cl.agent_pid = -1;
  cl.master_port = cl.agent_port = 0;
  cl.work_dir[0] = '\0';
}

static void remove_base(void) { mesos_test_cluster_remove_base(&cl); }

/* A master with an in_memory registry: a restart forgets every agent,
 * reservation and volume. */
static void start_master(int keep_port) {
  char *extra[] = {"--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=10",
                   "--registry=in_memory", NULL};
  if (keep_port) mesos_test_cluster_restart_master(&cl, extra);
  else mesos_test_cluster_start_master(&cl, extra);
}

static pid_t spawn_agent(const char *name, const char *extra) {
  char *flags[] = {"--executor_reregistration_timeout=3secs", "--recovery_timeout=30secs",
                   (char *)(extra ? extra : "--logging_level=INFO"), NULL};
  return mesos_test_cluster_spawn_agent(&cl, name, NULL, flags);
}

static void start_agent(const char *name, const char *extra) {
  cl.agent_pid = spawn_agent(name, extra);
  ck_assert_int_gt(cl.agent_pid, 0);
  ck_assert(mesos_test_wait_http_ok(cl.agent_port, "/health", 10000));
}

static void stop_all(void) { mesos_test_cluster_stop(&cl); }

/* The file's bytes (NUL-terminated) and their count; 0 when absent. */
static size_t read_file(const char *path, char *out, size_t cap) {
  out[0] = '\0';
  FILE *fp = fopen(path, "r");
  if (fp == NULL) return 0;
  size_t n = fread(out, 1, cap - 1, fp);
  out[n] = '\0';
  fclose(fp);
  return n;
}

/* The agent id the agent checkpointed (meta/slaves/latest), waited for. */
static void agent_id(char *out, size_t cap) {
  char link[700];
  snprintf(link, sizeof link, "%s/meta/slaves/latest", cl.work_dir);
  for (int i = 0; i < 500; i++) {
    ssize_t n = readlink(link, out, cap - 1);
    if (n > 0) {
      out[n] = '\0';
      return;
    }
    usleep(10000);
  }
  ck_abort_msg("the agent never checkpointed its id (%s)", link);
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

static void wait_exists(const char *path, int want, int timeout_ms) {
  long long deadline = sim_fw_now_ms() + timeout_ms;
  while (exists(path) != want && sim_fw_now_ms() < deadline) usleep(20000);
  char log[1 << 15];
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(exists(path) == want, "%s %s; agent log:\n%s", path,
                want ? "never appeared" : "is still there", log);
}

/* Waits until meta/resources/resources.info holds `what` (the directory of
 * a new volume comes first, the checkpoint naming it right after). */
static void wait_checkpoint_has(const char *what, int timeout_ms) {
  char ckpt[700], text[4096];
  snprintf(ckpt, sizeof ckpt, "%s/meta/resources/resources.info", cl.work_dir);
  long long deadline = sim_fw_now_ms() + timeout_ms;
  for (;;) {
    size_t n = read_file(ckpt, text, sizeof text);
    if (memmem(text, n, what, strlen(what))) return;
    ck_assert_msg(sim_fw_now_ms() < deadline, "%s never names %s", ckpt, what);
    usleep(20000);
  }
}

/* POSTs an operator call (printf-formatted JSON) to the master; returns
 * the HTTP status. */
static int operator_call(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int operator_call(const char *fmt, ...) {
  char body[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  ck_assert_int_lt(n, (int)sizeof body);
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(
      mesos_test_http(cl.master_port, "POST", "/api/v1", "application/json", NULL, body, &r), 0);
  int status = r.status;
  if (status >= 300) fprintf(stderr, "operator call answered %d: %s\n", status, r.body ? r.body : "");
  mesos_test_response_free(&r);
  return status;
}

/* ------------------------------------------------------------ volumes */

#define RESERVATION "\"reservations\":[{\"type\":\"DYNAMIC\",\"role\":\"vol\",\"principal\":\"ops\"}]"
#define VOLUME                                                                            \
  "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}," RESERVATION         \
  ",\"disk\":{\"persistence\":{\"id\":\"v1\",\"principal\":\"ops\"},\"volume\":{\"mode\":" \
  "\"RW\",\"container_path\":\"data\"}}}"

static void reserve_and_create(const char *aid) {
  ck_assert_int_eq(operator_call("{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{"
                                 "\"agent_id\":{\"value\":\"%s\"},\"resources\":[{\"name\":"
                                 "\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}," RESERVATION
                                 "},{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":"
                                 "1}," RESERVATION "}]}}",
                                 aid),
                   202);
  ck_assert_int_eq(operator_call("{\"type\":\"CREATE_VOLUMES\",\"create_volumes\":{\"agent_id\":"
                                 "{\"value\":\"%s\"},\"volumes\":[" VOLUME "]}}",
                                 aid),
                   202);
}

/* ACCEPTs `offer` with a task on the reserved cpus and the volume. */
static void launch_with_volume(sim_fw *f, const char *offer, const char *agent, const char *task,
                               const char *command) {
  ck_assert_int_eq(
      sim_fw_call(f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                  "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},"
                  "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"%s\"},\"resources\":["
                  "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}," RESERVATION
                  "},{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}," VOLUME
                  "]}]}}],\"filters\":{\"refuse_seconds\":0}}}",
                  f->id, offer, task, agent, command),
      202);
}

/* An offer of the agent that holds volume v1. */
static void wait_volume_offer(sim_fw *f, char *offer, char *agent, size_t cap) {
  char *rec = f->offers;
  f->offers = NULL;
  if (rec == NULL || strstr(rec, "\"v1\"") == NULL) {
    free(rec);
    rec = sim_fw_next(f, 10000, "\"type\":\"OFFERS\"", "\"persistence\"", "\"v1\"", NULL);
  }
  char log[1 << 15];
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(rec != NULL, "volume v1 never offered; agent log:\n%s", log);
  sim_fw_json_id(rec, "id", offer, cap);
  sim_fw_json_id(rec, "agent_id", agent, cap);
  free(rec);
  sim_fw_take_offer(f, offer); /* answered by launch_with_volume */
}

#define FW_INFO "\"user\":\"root\",\"name\":\"volumes\",\"role\":\"vol\",\"checkpoint\":true"

START_TEST(test_recovery3__volume_survives_loss_of_master_registry_and_agent) {
  start_master(0);
  start_agent("vol", NULL);
  char aid[256];
  agent_id(aid, sizeof aid);
  reserve_and_create(aid);
  char ckpt[700], voldir[700];
  snprintf(ckpt, sizeof ckpt, "%s/meta/resources/resources.info", cl.work_dir);
  snprintf(voldir, sizeof voldir, "%s/volumes/roles/vol/v1", cl.work_dir);
  wait_exists(ckpt, 1, 5000);
  wait_exists(voldir, 1, 5000);

  /* A task writes into the volume. */
  sim_fw f;
  sim_fw_subscribe(&f, cl.master_port, FW_INFO);
  char offer[160], agent[160];
  wait_volume_offer(&f, offer, agent, sizeof offer);
  launch_with_volume(&f, offer, agent, "writer", "echo persisted > data/f");
  free(sim_fw_expect_final(&f, "writer", "TASK_FINISHED", 10000));
  char file[800], text[64];
  snprintf(file, sizeof file, "%s/f", voldir);
  read_file(file, text, sizeof text);
  ck_assert_str_eq(text, "persisted\n");
  sim_fw_close(&f);

  /* Both die; the new master has no registry to remember anything. */
  mesos_test_cluster_kill_agent(&cl);
  mesos_test_cluster_kill_master(&cl);
  start_master(1);
  start_agent("vol", NULL);

  /* The agent's report restores the reservation and the volume: the role
   * is offered the volume and a new task reads what the first wrote. */
  sim_fw g;
  sim_fw_subscribe(&g, cl.master_port, FW_INFO);
  wait_volume_offer(&g, offer, agent, sizeof offer);
  ck_assert_str_eq(agent, aid);
  launch_with_volume(&g, offer, agent, "reader", "test \\\"$(cat data/f)\\\" = persisted");
  free(sim_fw_expect_final(&g, "reader", "TASK_FINISHED", 10000));
  /* The master recorded them anew: its state lists the volume. */
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  const char *get = "{\"type\":\"GET_AGENTS\"}";
  ck_assert_int_eq(
      mesos_test_http(cl.master_port, "POST", "/api/v1", "application/json", NULL, get, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_msg(r.body && strstr(r.body, "\"v1\"") != NULL, "%s", r.body ? r.body : "");
  mesos_test_response_free(&r);
  sim_fw_close(&g);
  stop_all();
}
END_TEST

START_TEST(test_recovery3__volume_destroyed_while_agent_down_is_removed_on_reregistration) {
  start_master(0);
  start_agent("destroy", NULL);
  char aid[256];
  agent_id(aid, sizeof aid);
  reserve_and_create(aid);
  char voldir[700];
  snprintf(voldir, sizeof voldir, "%s/volumes/roles/vol/v1", cl.work_dir);
  wait_checkpoint_has("v1", 5000);
  wait_exists(voldir, 1, 5000);
  /* Down: the agent misses the DESTROY's CHECKPOINT_RESOURCES. */
  kill(cl.agent_pid, SIGSTOP);
  ck_assert_int_eq(operator_call("{\"type\":\"DESTROY_VOLUMES\",\"destroy_volumes\":{"
                                 "\"agent_id\":{\"value\":\"%s\"},\"volumes\":[" VOLUME "]}}",
                                 aid),
                   202);
  mesos_test_cluster_kill_agent(&cl);
  ck_assert(exists(voldir));
  start_agent("destroy", NULL);
  /* It reports v1; the master's set (without it) wins and the agent drops
   * the directory. */
  wait_exists(voldir, 0, 10000);
  char ckpt[700], text[4096];
  snprintf(ckpt, sizeof ckpt, "%s/meta/resources/resources.info", cl.work_dir);
  size_t n = read_file(ckpt, text, sizeof text);
  ck_assert_uint_gt(n, 0);
  ck_assert_ptr_null(memmem(text, n, "v1", 2));
  stop_all();
}
END_TEST

/* ------------------------------------------------------------ connections */

/* A raw agent over the internal protocol (protobuf): its event stream and
 * the connection_id of its last (RE)REGISTERED. */
typedef struct raw_agent {
  mesos_test_conn stream;
  char id[160];
  uint64_t conn_id;
} raw_agent;

static int post_call(const Mesos__Internal__AgentCall *call) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__pb_pack(&call->base, 0, &bytes, &len, NULL), MESOS_OK);
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, cl.master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1/agent", "application/x-protobuf",
                                           NULL, (const char *)bytes, len),
                   0);
  mesos__free(bytes);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 1, 5000), 0);
  int status = r.status;
  mesos_test_response_free(&r);
  mesos_test_conn_close(&c);
  return status;
}

/* REGISTER (no id yet) or REREGISTER; keeps the connection_id. */
static void raw_open(raw_agent *a) {
  Mesos__V1__Value__Scalar one = MESOS__V1__VALUE__SCALAR__INIT;
  one.value = 1;
  Mesos__V1__Resource cpus = MESOS__V1__RESOURCE__INIT, *res = &cpus;
  cpus.name = "cpus";
  cpus.type = MESOS__V1__VALUE__TYPE__SCALAR;
  cpus.scalar = &one;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  info.hostname = "raw-agent";
  info.n_resources = 1;
  info.resources = &res;
  Mesos__Internal__RegisterAgent ra = MESOS__INTERNAL__REGISTER_AGENT__INIT;
  Mesos__Internal__ReregisterAgent rr = MESOS__INTERNAL__REREGISTER_AGENT__INIT;
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  call.protocol_version = 1;
  call.has_type = 1;
  if (a->id[0]) {
    info.id = &aid;
    rr.agent = &info;
    call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER;
    call.agent_id = &aid;
    call.reregister_agent = &rr;
  } else {
    ra.agent = &info;
    call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER;
    call.register_agent = &ra;
  }
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__pb_pack(&call.base, 0, &bytes, &len, NULL), MESOS_OK);
  ck_assert_int_eq(mesos_test_conn_open(&a->stream, cl.master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&a->stream, "POST", "/api/v1/agent",
                                           "application/x-protobuf",
                                           "Accept: application/x-protobuf\r\n",
                                           (const char *)bytes, len),
                   0);
  mesos__free(bytes);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&a->stream, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  char *rec = NULL;
  long n = mesos_test_conn_next_record(&a->stream, &rec, 5000);
  ck_assert_int_gt(n, 0);
  ProtobufCMessage *m = NULL;
  ck_assert_int_eq(mesos__pb_unpack(&mesos__internal__agent_event__descriptor, (uint8_t *)rec,
                                    (size_t)n, 0, 0, &m, NULL),
                   MESOS_OK);
  free(rec);
  Mesos__Internal__AgentEvent *ev = (Mesos__Internal__AgentEvent *)m;
  if (a->id[0]) {
    ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__REREGISTERED);
    ck_assert(ev->agent_reregistered->has_connection_id);
    a->conn_id = ev->agent_reregistered->connection_id;
  } else {
    ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__REGISTERED);
    ck_assert(ev->agent_registered->has_connection_id);
    a->conn_id = ev->agent_registered->connection_id;
    snprintf(a->id, sizeof a->id, "%s", ev->agent_registered->agent_id->value);
  }
  mesos__pb_free(m);
}

/* STATUS_UPDATE of task `task` (TASK_RUNNING, a uuid) sent as on
 * connection `conn_id`; the HTTP status. */
static int raw_update(raw_agent *a, const char *fw, const char *task, uint64_t conn_id) {
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  tid.value = (char *)task;
  aid.value = a->id;
  fid.value = (char *)fw;
  uint8_t uuid[16] = {7};
  memcpy(uuid + 1, task, strlen(task) < 15 ? strlen(task) : 15);
  Mesos__V1__TaskStatus st = MESOS__V1__TASK_STATUS__INIT;
  st.task_id = &tid;
  st.agent_id = &aid;
  st.state = MESOS__V1__TASK_STATE__TASK_RUNNING;
  st.has_uuid = 1;
  st.uuid.data = uuid;
  st.uuid.len = 16;
  Mesos__Internal__StatusUpdate su = MESOS__INTERNAL__STATUS_UPDATE__INIT;
  su.framework_id = &fid;
  su.agent_id = &aid;
  su.status = &st;
  su.timestamp = 1.0;
  su.has_uuid = 1;
  su.uuid = st.uuid;
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  call.protocol_version = 1;
  call.has_type = 1;
  call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__STATUS_UPDATE;
  call.agent_id = &aid;
  call.status_update = &su;
  call.has_connection_id = 1;
  call.connection_id = conn_id;
  return post_call(&call);
}

START_TEST(test_recovery3__master_takes_updates_only_on_the_agents_current_connection) {
  start_master(0);
  sim_fw f;
  sim_fw_subscribe(&f, cl.master_port, "\"user\":\"nobody\",\"name\":\"connections\"");
  raw_agent a;
  memset(&a, 0, sizeof a);
  raw_open(&a);
  uint64_t c1 = a.conn_id;
  ck_assert_int_eq(raw_update(&a, f.id, "on-c1", c1), 202);
  /* Another connection's id: refused. */
  ck_assert_int_eq(raw_update(&a, f.id, "other-id", c1 + 1000), 409);
  /* The stream is gone: refused even with the right id. */
  mesos_test_conn_close(&a.stream);
  long long deadline = sim_fw_now_ms() + 5000;
  int status = 0;
  char task[32];
  for (int i = 0; sim_fw_now_ms() < deadline; i++) {
    /* Until the master noticed the close, updates still go through; each
     * try names its own task so those can be told apart. */
    snprintf(task, sizeof task, "closing-%d", i);
    if ((status = raw_update(&a, f.id, task, c1)) == 409) break;
    ck_assert_int_eq(status, 202);
    usleep(20000);
  }
  ck_assert_int_eq(status, 409);
  char refused_closed[32];
  snprintf(refused_closed, sizeof refused_closed, "%s", task);
  /* Re-registered: a new id; the old one is refused, the new one taken. */
  raw_open(&a);
  ck_assert_uint_ne(a.conn_id, c1);
  ck_assert_int_eq(raw_update(&a, f.id, "old-conn", c1), 409);
  ck_assert_int_eq(raw_update(&a, f.id, "on-c2", a.conn_id), 202);
  /* The framework got the two accepted ones and none of the refused. */
  char *rec = sim_fw_next(&f, 5000, "\"type\":\"UPDATE\"", "\"on-c1\"", NULL);
  ck_assert_ptr_nonnull(rec);
  free(rec);
  deadline = sim_fw_now_ms() + 5000;
  int got_c2 = 0;
  while (!got_c2 && (rec = sim_fw_next(&f, (int)(deadline - sim_fw_now_ms()),
                                       "\"type\":\"UPDATE\"", NULL)) != NULL) {
    ck_assert_msg(strstr(rec, "other-id") == NULL && strstr(rec, "old-conn") == NULL &&
                      strstr(rec, refused_closed) == NULL,
                  "a refused update reached the framework: %s", rec);
    got_c2 = strstr(rec, "\"on-c2\"") != NULL;
    free(rec);
  }
  ck_assert(got_c2);
  mesos_test_conn_close(&a.stream);
  sim_fw_close(&f);
  stop_all();
}
END_TEST

/* ------------------------------------------------------------ damaged checkpoints */

/* Flips a byte in the middle of `path`. */
static void damage(const char *path) {
  int fd = open(path, O_RDWR);
  ck_assert_msg(fd >= 0, "cannot open %s", path);
  struct stat sb;
  ck_assert_int_eq(fstat(fd, &sb), 0);
  char c;
  ck_assert_int_eq(pread(fd, &c, 1, sb.st_size / 2), 1);
  c ^= 0x5a;
  ck_assert_int_eq(pwrite(fd, &c, 1, sb.st_size / 2), 1);
  close(fd);
}

/* The one file matching `pattern` under the work dir (latest links skipped). */
static void find_one(const char *pattern, char *out, size_t cap) {
  char full[1400];
  snprintf(full, sizeof full, "%s/%s", cl.work_dir, pattern);
  glob_t g;
  ck_assert_msg(glob(full, 0, NULL, &g) == 0, "no %s", full);
  size_t found = 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    if (strstr(g.gl_pathv[i], "/latest/")) continue;
    snprintf(out, cap, "%s", g.gl_pathv[i]);
    found++;
  }
  globfree(&g);
  ck_assert_msg(found == 1, "%zu files match %s", found, full);
}

static const char *const damaged_files[] = {
    "meta/slaves/*/frameworks/*/framework.info",
    "meta/slaves/*/frameworks/*/executors/*/executor.info",
    "meta/slaves/*/frameworks/*/executors/*/runs/*/tasks/*/task.info",
    "meta/slaves/*/frameworks/*/executors/*/runs/*/tasks/*/task.updates",
    "meta/resources/resources.info",
};

/* Cuts `path` to half its size. */
static void truncate_half(const char *path) {
  struct stat sb;
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert_int_eq(truncate(path, sb.st_size / 2), 0);
}

/* The damaged_files kinds truncated too (the _i past the damaged ones);
 * not task.updates: a short stream is a torn tail, which a crash leaves
 * and recovery accepts by design (checkpoint.h). */
static const int truncated_kinds[] = {0, 1, 2, 4};

/* For each kind of checkpoint file: a checkpointing framework's task runs
 * (and a reservation exists), the agent is killed, the file damaged (a
 * byte flipped) or truncated.
 * --strict: exit 1 naming the file, nothing touched.  --strict=false: the
 * agent runs, re-registers, and the task is reported (TASK_LOST) or, for
 * resources.info, the agent still serves its task. */
START_TEST(test_recovery3__each_damaged_checkpoint_kind_names_its_file) {
  int ndamaged = (int)(sizeof damaged_files / sizeof *damaged_files);
  int cut = _i >= ndamaged;
  const char *kind = damaged_files[cut ? truncated_kinds[_i - ndamaged] : _i];
  char name[32];
  snprintf(name, sizeof name, "damaged-%d", _i);
  start_master(0);
  start_agent(name, NULL);
  char aid[256];
  agent_id(aid, sizeof aid);
  ck_assert_int_eq(operator_call("{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{"
                                 "\"agent_id\":{\"value\":\"%s\"},\"resources\":[{\"name\":"
                                 "\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}," RESERVATION
                                 "}]}}",
                                 aid),
                   202);
  char ckpt[700];
  snprintf(ckpt, sizeof ckpt, "%s/meta/resources/resources.info", cl.work_dir);
  wait_exists(ckpt, 1, 5000);
  sim_fw f;
  sim_fw_subscribe(&f, cl.master_port,
                   "\"user\":\"root\",\"name\":\"damage\",\"checkpoint\":true,"
                   "\"failover_timeout\":60");
  char offer[160], agent[160];
  sim_fw_wait_offer_min(&f, "agent-test", 0.5, 32, offer, agent, sizeof offer);
  sim_fw_launch(&f, offer, agent, "d", NULL, 32, "sleep 1000");
  free(sim_fw_expect_update(&f, "d", "TASK_STARTING", 10000));
  free(sim_fw_expect_update(&f, "d", "TASK_RUNNING", 10000));
  /* The acknowledgements reach the agent (polled on its disk): else the
   * restarted agent re-sends RUNNING, an update the resources.info case
   * says must not come. */
  mesos_test_wait_acks(cl.work_dir, "d", "d", 2, 10000);
  mesos_test_cluster_kill_agent(&cl);
  char path[1400];
  find_one(kind, path, sizeof path);
  if (cut) truncate_half(path);
  else damage(path);

  pid_t p = spawn_agent(name, NULL);
  int st = 0;
  long long deadline = sim_fw_now_ms() + 10000;
  while (waitpid(p, &st, WNOHANG) == 0) {
    if (sim_fw_now_ms() > deadline) {
      kill(p, SIGKILL);
      waitpid(p, &st, 0);
      ck_abort_msg("%s damaged: the agent did not stop with --strict", kind);
    }
    usleep(20000);
  }
  char log[1 << 16];
  read_file(cl.agent_log, log, sizeof log);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: exit status %d\n%s", kind, st, log);
  ck_assert_msg(strstr(log, path) != NULL, "the error does not name %s:\n%s", path, log);

  start_agent(name, "--strict=false");
  if (strstr(kind, "resources.info")) {
    /* The reservation is dropped on the agent's side; the task is fine. */
    char *rec = sim_fw_next(&f, 1500, "\"type\":\"UPDATE\"", NULL);
    ck_assert_msg(rec == NULL, "unexpected update: %s", rec ? rec : "");
    read_file(cl.agent_log, log, sizeof log);
    ck_assert_msg(strstr(log, path) != NULL, "the warning does not name %s:\n%s", path, log);
  } else {
    char *rec = sim_fw_expect_final(&f, "d", "TASK_LOST", 10000);
    free(rec);
  }
  sim_fw_close(&f);
  stop_all();
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("agent_recovery3");
  TCase *tc = tcase_create("recovery3");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, make_base, remove_base);
  tcase_add_checked_fixture(tc, reset, NULL);
  tcase_add_test(tc, test_recovery3__volume_survives_loss_of_master_registry_and_agent);
  tcase_add_test(tc, test_recovery3__volume_destroyed_while_agent_down_is_removed_on_reregistration);
  tcase_add_test(tc, test_recovery3__master_takes_updates_only_on_the_agents_current_connection);
  tcase_add_loop_test(tc, test_recovery3__each_damaged_checkpoint_kind_names_its_file, 0,
                      (int)(sizeof damaged_files / sizeof *damaged_files +
                            sizeof truncated_kinds / sizeof *truncated_kinds));
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }

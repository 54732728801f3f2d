/*
 * The master's ACCEPT and custom executors' own resources, against a real
 * mesos-master over loopback HTTP with a simulated agent (our agent
 * protocol) and a JSON scheduler:
 *  - a LAUNCH whose task brings a new ExecutorInfo with resources takes
 *    them from the offer too: task + executor must fit (else TASK_ERROR,
 *    REASON_TASK_INVALID, "Task uses more resources ... than available
 *    ...", as Mesos says); they stay allocated while the executor runs,
 *    after its tasks ended, and return when the agent reports its exit;
 *  - an executor without resources launches (Mesos 1.0 only warns);
 *  - a task group's new executor must fit beside the group (Mesos's
 *    "Total resources ... required by task group and its executor ...");
 *  - reservations and a persistent volume made through ACCEPT, with a
 *    real mesos-master (durable registry) and a real mesos-agent: the
 *    master is killed with SIGKILL right after the ACCEPT was answered
 *    202, restarted, the agent re-registers by itself, and the reserved
 *    cpus and the volume are offered to their role again.
 *
 * The raw-HTTP harness is test_master_operator2.c's; it should move to
 * tests/support/sim_fw once that exists on main.
 */
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "mesos/internal/internal.pb-c.h"
#include "support/daemon.h"
#include "support/testutil.h"

static pid_t master_pid = -1;
static int master_port;

/* Agents miss 3 pings of 300 ms before they are unreachable: the test
 * answers pings between its calls (agent_pump), a gone stream is noticed
 * within ~1.2 s. */
static void start_master(void) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *argv[] = {path,
                  "--ip=127.0.0.1",
                  port_arg,
                  "--allocation_interval=50ms",
                  "--agent_ping_timeout=300ms",
                  "--max_agent_ping_timeouts=3",
                  "--logging_level=WARNING",
                  NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(master_port, "/health", 5000), "master did not come up");
}

static void stop_master(void) {
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 3000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  }
  master_pid = -1;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ agent side */

typedef struct sim_agent {
  mesos_test_conn stream;
  char id[160];
  const char *hostname;
} sim_agent;

static int post_agent_call(const Mesos__Internal__AgentCall *call) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__pb_pack(&call->base, 0, &bytes, &len, NULL), MESOS_OK);
  mesos_test_response r;
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1/agent", "application/x-protobuf",
                                           NULL, (const char *)bytes, len),
                   0);
  mesos__free(bytes);
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 1, 5000), 0);
  int status = r.status;
  mesos_test_response_free(&r);
  mesos_test_conn_close(&c);
  return status;
}

/* The next event that is not a PING (PINGs are answered); NULL when none
 * came within `timeout_ms`. */
static Mesos__Internal__AgentEvent *agent_next(sim_agent *a, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - now_ms();
    char *rec = NULL;
    long n = mesos_test_conn_next_record(&a->stream, &rec, left > 0 ? (int)left : 0);
    if (n < 0) return NULL;
    ProtobufCMessage *msg = NULL;
    ck_assert_int_eq(mesos__pb_unpack(&mesos__internal__agent_event__descriptor, (uint8_t *)rec,
                                      (size_t)n, 0, 0, &msg, NULL),
                     MESOS_OK);
    free(rec);
    Mesos__Internal__AgentEvent *ev = (Mesos__Internal__AgentEvent *)msg;
    if (ev->type != MESOS__INTERNAL__AGENT_EVENT__TYPE__PING) return ev;
    Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
    Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
    aid.value = a->id;
    call.protocol_version = 1;
    call.has_type = 1;
    call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__PONG;
    call.agent_id = &aid;
    ck_assert_int_eq(post_agent_call(&call), 202);
    mesos__pb_free(ev);
  }
}

/* The next event of `type` within 5 s, answering pings and skipping
 * others. */
static Mesos__Internal__AgentEvent *agent_expect(sim_agent *a,
                                                 Mesos__Internal__AgentEvent__Type type) {
  long long deadline = now_ms() + 5000;
  while (now_ms() < deadline) {
    Mesos__Internal__AgentEvent *ev = agent_next(a, (int)(deadline - now_ms()));
    if (ev == NULL) return NULL;
    if (ev->type == type) return ev;
    mesos__pb_free(ev);
  }
  return NULL;
}

/* Answers pings (dropping other events) for `ms`: keeps the agent alive
 * while the test does something else. */
static void agent_pump(sim_agent *a, int ms) {
  long long deadline = now_ms() + ms;
  while (now_ms() < deadline) {
    Mesos__Internal__AgentEvent *ev = agent_next(a, (int)(deadline - now_ms()));
    if (ev == NULL) break;
    mesos__pb_free(ev);
  }
}

/* cpus (agent_cpus, default 4), mem 1024, disk 1000. */
static double agent_cpus = 4;

typedef struct sim_resources {
  Mesos__V1__Resource res[3], *resp[3];
  Mesos__V1__Value__Scalar v[3];
} sim_resources;

static void sim_resources_init(sim_resources *r) {
  static const char *const names[] = {"cpus", "mem", "disk"};
  const double values[] = {agent_cpus, 1024, 1000};
  for (int i = 0; i < 3; i++) {
    mesos__v1__value__scalar__init(&r->v[i]);
    r->v[i].value = values[i];
    mesos__v1__resource__init(&r->res[i]);
    r->res[i].name = (char *)names[i];
    r->res[i].type = MESOS__V1__VALUE__TYPE__SCALAR;
    r->res[i].scalar = &r->v[i];
    r->resp[i] = &r->res[i];
  }
}

/* REGISTER, or (rereg) REREGISTER reporting task `task_id` of framework
 * `fw_id` as running when both are given; asserts 200 and the answer. */
static void agent_connect(sim_agent *a, int rereg, const char *fw_id, const char *task_id) {
  sim_resources sr;
  sim_resources_init(&sr);
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  info.hostname = (char *)a->hostname;
  info.n_resources = 3;
  info.resources = sr.resp;
  Mesos__Internal__RegisterAgent ra = MESOS__INTERNAL__REGISTER_AGENT__INIT;
  ra.agent = &info;
  Mesos__Internal__ReregisterAgent rr = MESOS__INTERNAL__REREGISTER_AGENT__INIT;
  Mesos__V1__Task task = MESOS__V1__TASK__INIT, *tasks[1] = {&task};
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT, *fis[1] = {&fi};
  Mesos__V1__Value__Scalar one = MESOS__V1__VALUE__SCALAR__INIT;
  Mesos__V1__Value__Scalar m64 = MESOS__V1__VALUE__SCALAR__INIT;
  Mesos__V1__Resource tr[2], *task_res[2] = {&tr[0], &tr[1]};
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  call.protocol_version = 1;
  call.has_type = 1;
  if (rereg) {
    aid.value = a->id;
    info.id = &aid;
    rr.agent = &info;
    if (fw_id && task_id) {
      one.value = 1;
      m64.value = 64;
      tr[0] = sr.res[0];
      tr[0].scalar = &one;
      tr[1] = sr.res[1];
      tr[1].scalar = &m64;
      tid.value = (char *)task_id;
      fid.value = (char *)fw_id;
      task.name = "t";
      task.task_id = &tid;
      task.framework_id = &fid;
      task.agent_id = &aid;
      task.state = MESOS__V1__TASK_STATE__TASK_RUNNING;
      task.n_resources = 2;
      task.resources = task_res;
      fi.user = "nobody";
      fi.name = "scheduler2 test";
      fi.id = &fid;
      rr.n_tasks = 1;
      rr.tasks = tasks;
      rr.n_frameworks = 1;
      rr.frameworks = fis;
    }
    call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER;
    call.agent_id = &aid;
    call.reregister_agent = &rr;
  } else {
    call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER;
    call.register_agent = &ra;
  }
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__pb_pack(&call.base, 0, &bytes, &len, NULL), MESOS_OK);
  ck_assert_int_eq(mesos_test_conn_open(&a->stream, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&a->stream, "POST", "/api/v1/agent",
                                           "application/x-protobuf",
                                           "Accept: application/x-protobuf\r\n",
                                           (const char *)bytes, len),
                   0);
  mesos__free(bytes);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&a->stream, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  mesos_test_response_free(&r);
  Mesos__Internal__AgentEvent *ev = agent_next(a, 5000);
  ck_assert_ptr_nonnull(ev);
  if (rereg) {
    ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__REREGISTERED);
  } else {
    ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__REGISTERED);
    snprintf(a->id, sizeof a->id, "%s", ev->agent_registered->agent_id->value);
  }
  mesos__pb_free(ev);
}

static void agent_status(sim_agent *a, const char *fw, const char *task, const char *state) {
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  Mesos__Internal__StatusUpdate su = MESOS__INTERNAL__STATUS_UPDATE__INIT;
  Mesos__V1__TaskStatus st = MESOS__V1__TASK_STATUS__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  tid.value = (char *)task;
  aid.value = a->id;
  fid.value = (char *)fw;
  st.task_id = &tid;
  st.agent_id = &aid;
  const ProtobufCEnumValue *v =
      protobuf_c_enum_descriptor_get_value_by_name(&mesos__v1__task_state__descriptor, state);
  ck_assert_ptr_nonnull(v);
  st.state = (Mesos__V1__TaskState)v->value;
  /* What an executor would say: the drain's reason must replace it. */
  st.has_reason = 1;
  st.reason = MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
  su.framework_id = &fid;
  su.agent_id = &aid;
  su.status = &st;
  su.timestamp = 1.0;
  call.protocol_version = 1;
  call.has_type = 1;
  call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__STATUS_UPDATE;
  call.agent_id = &aid;
  call.status_update = &su;
  ck_assert_int_eq(post_agent_call(&call), 202);
}

/* ------------------------------------------------------------ scheduler side */

typedef struct sim_fw {
  mesos_test_conn stream;
  char id[160];
  char sid[64];
} sim_fw;

static void fw_subscribe(sim_fw *f, const char *extra_info) {
  char body[1024];
  snprintf(body, sizeof body,
           "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"nobody\","
           "\"name\":\"operator2 test\"%s}}}",
           extra_info ? extra_info : "");
  ck_assert_int_eq(mesos_test_conn_open(&f->stream, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&f->stream, "POST", "/api/v1/scheduler",
                                           "application/json", NULL, body, strlen(body)),
                   0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&f->stream, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  mesos_test_response_header(&r, "Mesos-Stream-Id", f->sid, sizeof f->sid);
  mesos_test_response_free(&r);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&f->stream, &rec, 5000), 0);
  const char *p = strstr(rec, "\"framework_id\":{\"value\":\"");
  ck_assert_ptr_nonnull(p);
  p += strlen("\"framework_id\":{\"value\":\"");
  snprintf(f->id, sizeof f->id, "%.*s", (int)(strchr(p, '"') - p), p);
  free(rec);
}

/* The next event holding `want` (others are skipped); NULL on timeout. */
static char *fw_next(sim_fw *f, const char *want, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - now_ms();
    char *rec = NULL;
    if (left <= 0 || mesos_test_conn_next_record(&f->stream, &rec, (int)left) < 0) return NULL;
    if (strstr(rec, want)) return rec;
    free(rec);
  }
}

static int fw_call(sim_fw *f, const char *json_fmt, ...) __attribute__((format(printf, 2, 3)));
static int fw_call(sim_fw *f, const char *json_fmt, ...) {
  char body[8192], hdr[128];
  va_list ap;
  va_start(ap, json_fmt);
  vsnprintf(body, sizeof body, json_fmt, ap);
  va_end(ap);
  snprintf(hdr, sizeof hdr, "Mesos-Stream-Id: %s\r\n", f->sid);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json",
                                   hdr, body, &r),
                   0);
  int s = r.status;
  mesos_test_response_free(&r);
  return s;
}

static void json_id(const char *rec, const char *key, char *out, size_t cap) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\":{\"value\":\"", key);
  const char *p = strstr(rec, pat);
  ck_assert_msg(p != NULL, "%s not in %s", key, rec);
  p += strlen(pat);
  snprintf(out, cap, "%.*s", (int)(strchr(p, '"') - p), p);
}


/* ------------------------------------------------------------ offers */

/* The next OFFERS event; its offer id into `offer` and its cpus (0 when
 * the offer has none). */
static double next_offer(sim_fw *f, sim_agent *a, char *offer, size_t cap) {
  char *rec = NULL;
  long long deadline = now_ms() + 5000;
  while (rec == NULL && now_ms() < deadline) {
    rec = fw_next(f, "\"type\":\"OFFERS\"", 100);
    agent_pump(a, 1);
  }
  ck_assert_msg(rec != NULL, "no offer came");
  json_id(rec, "id", offer, cap);
  double cpus = 0;
  const char *p = strstr(rec, "\"name\":\"cpus\"");
  if (p) {
    const char *v = strstr(p, "\"scalar\":{\"value\":");
    ck_assert_ptr_nonnull(v);
    cpus = strtod(v + strlen("\"scalar\":{\"value\":"), NULL);
  }
  free(rec);
  return cpus;
}

static void decline(sim_fw *f, const char *offer) {
  ck_assert_int_eq(fw_call(f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"DECLINE\","
                           "\"decline\":{\"offer_ids\":[{\"value\":\"%s\"}],\"filters\":{"
                           "\"refuse_seconds\":0}}}",
                           f->id, offer),
                   202);
}

/* Declines offers until one offers `cpus` (within 0.001); fails after 5 s. */
static void offer_until_cpus(sim_fw *f, sim_agent *a, double cpus, char *offer, size_t cap) {
  long long deadline = now_ms() + 5000;
  double got = -1;
  while (now_ms() < deadline) {
    got = next_offer(f, a, offer, cap);
    if (got > cpus - 0.001 && got < cpus + 0.001) return;
    decline(f, offer);
  }
  ck_abort_msg("no offer with %g cpus came (last had %g)", cpus, got);
}

#define SCALAR(name, v) "{\"name\":\"" name "\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" v "}}"

/* ACCEPT of `offer` launching `task` (task_cpus, 64 mem) with executor
 * `exec` whose resources are `exec_res` (a JSON array body, "" for none). */
static void launch_with_executor(sim_fw *f, sim_agent *a, const char *offer, const char *task,
                                 const char *task_cpus, const char *exec, const char *exec_res) {
  ck_assert_int_eq(
      fw_call(f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
              "\"executor\":{\"executor_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"true\"},"
              "\"resources\":[%s]},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
              "\"scalar\":{\"value\":%s}}," SCALAR("mem", "64") "]}]}}],\"filters\":{"
              "\"refuse_seconds\":0}}}",
              f->id, offer, task, a->id, exec, exec_res, task_cpus),
      202);
}

static void agent_executor_exited(sim_agent *a, const char *fw, const char *exec) {
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  Mesos__Internal__ExitedExecutor ee = MESOS__INTERNAL__EXITED_EXECUTOR__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  fid.value = (char *)fw;
  eid.value = (char *)exec;
  aid.value = a->id;
  ee.framework_id = &fid;
  ee.executor_id = &eid;
  ee.has_status = 1;
  ee.status = 0;
  call.protocol_version = 1;
  call.has_type = 1;
  call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__EXITED_EXECUTOR;
  call.agent_id = &aid;
  call.exited_executor = &ee;
  ck_assert_int_eq(post_agent_call(&call), 202);
}

/* ------------------------------------------------------------ tests */

/* Offer 1 cpu: executor 0.5 + task 0.6 is a TASK_ERROR; executor 0.5 +
 * task 0.5 launches, and the executor's 0.5 cpu is offered again only
 * once the agent reports the executor gone (not when its task ends). */
START_TEST(test_scheduler2__executor_resources_come_out_of_the_offer) {
  agent_cpus = 1;
  start_master();
  sim_agent a = {.hostname = "exec-res-1"};
  agent_connect(&a, 0, NULL, NULL);
  sim_fw f;
  fw_subscribe(&f, NULL);
  char offer[160];
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "too-big", "0.6", "exec-1",
                       SCALAR("cpus", "0.5") "," SCALAR("mem", "32"));
  char *rec = fw_next(&f, "\"TASK_ERROR\"", 5000);
  ck_assert_msg(rec != NULL, "no TASK_ERROR for a task that does not fit with its executor");
  ck_assert_msg(strstr(rec, "\"too-big\""), "%s", rec);
  ck_assert_msg(strstr(rec, "\"REASON_TASK_INVALID\""), "%s", rec);
  ck_assert_msg(strstr(rec, "Task uses more resources cpus(*):0.6; mem(*):64 than available"), "%s",
                rec);
  free(rec);

  /* Nothing was taken: the whole cpu is offered again. */
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "fits", "0.5", "exec-1",
                       SCALAR("cpus", "0.5") "," SCALAR("mem", "32"));
  Mesos__Internal__AgentEvent *ev = agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  ck_assert_ptr_nonnull(ev);
  ck_assert_str_eq(ev->run_task->task->task_id->value, "fits");
  mesos__pb_free(ev);
  agent_status(&a, f.id, "fits", "TASK_RUNNING");
  /* Task 0.5 + executor 0.5: no cpus left to offer (mem is). */
  double c = next_offer(&f, &a, offer, sizeof offer);
  ck_assert_msg(c == 0, "an offer had %g cpus while task and executor hold all", c);
  decline(&f, offer);

  /* The task ends: its 0.5 comes back, the executor's does not. */
  agent_status(&a, f.id, "fits", "TASK_FINISHED");
  offer_until_cpus(&f, &a, 0.5, offer, sizeof offer);
  decline(&f, offer);
  /* Still 0.5 a while later: the executor holds the rest. */
  c = next_offer(&f, &a, offer, sizeof offer);
  ck_assert_msg(c > 0.499 && c < 0.501, "offer had %g cpus while the executor runs", c);
  decline(&f, offer);

  /* The agent reports the executor gone: the whole cpu is offered. */
  agent_executor_exited(&a, f.id, "exec-1");
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  mesos_test_conn_close(&f.stream);
  mesos_test_conn_close(&a.stream);
  stop_master();
  agent_cpus = 4;
}
END_TEST

/* An executor with no resources launches (Mesos 1.0 warns only), and a
 * second task for an executor the agent already has does not count the
 * executor's resources again. */
START_TEST(test_scheduler2__executor_without_resources_and_a_known_executor) {
  agent_cpus = 1;
  start_master();
  sim_agent a = {.hostname = "exec-res-2"};
  agent_connect(&a, 0, NULL, NULL);
  sim_fw f;
  fw_subscribe(&f, NULL);
  char offer[160];
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "bare", "1", "exec-bare", "");
  Mesos__Internal__AgentEvent *ev = agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  ck_assert_ptr_nonnull(ev);
  ck_assert_str_eq(ev->run_task->task->task_id->value, "bare");
  mesos__pb_free(ev);
  agent_status(&a, f.id, "bare", "TASK_RUNNING");
  agent_status(&a, f.id, "bare", "TASK_FINISHED");

  /* exec-2 with 0.5 cpu, then a second task for it: the second needs only
   * its own 0.5 (the executor's are already held). */
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "first", "0.5", "exec-2", SCALAR("cpus", "0.5"));
  ev = agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  ck_assert_ptr_nonnull(ev);
  mesos__pb_free(ev);
  agent_status(&a, f.id, "first", "TASK_RUNNING");
  agent_status(&a, f.id, "first", "TASK_FINISHED");
  offer_until_cpus(&f, &a, 0.5, offer, sizeof offer);
  launch_with_executor(&f, &a, offer, "second", "0.5", "exec-2", SCALAR("cpus", "0.5"));
  ev = agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  ck_assert_msg(ev != NULL, "the second task of a running executor was not launched");
  ck_assert_str_eq(ev->run_task->task->task_id->value, "second");
  mesos__pb_free(ev);
  mesos_test_conn_close(&f.stream);
  mesos_test_conn_close(&a.stream);
  stop_master();
  agent_cpus = 4;
}
END_TEST

/* LAUNCH_GROUP: a new default executor's resources must fit beside the
 * group's tasks. */
START_TEST(test_scheduler2__task_group_and_its_executor_must_fit) {
  agent_cpus = 1;
  start_master();
  sim_agent a = {.hostname = "exec-res-3"};
  agent_connect(&a, 0, NULL, NULL);
  sim_fw f;
  fw_subscribe(&f, NULL);
  char offer[160];
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
#define GROUP_TASK(id)                                                                       \
  "{\"name\":\"g\",\"task_id\":{\"value\":\"" id "\"},\"agent_id\":{\"value\":\"%s\"},"      \
  "\"command\":{\"value\":\"true\"},\"resources\":[" SCALAR("cpus", "0.3") "]}"
  ck_assert_int_eq(
      fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
              "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"grp-exec\"},"
              "\"resources\":[" SCALAR("cpus", "0.5") "]},\"task_group\":{\"tasks\":["
              GROUP_TASK("g1") "," GROUP_TASK("g2") "]}}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer, a.id, a.id),
      202);
  char *rec = fw_next(&f, "\"TASK_ERROR\"", 5000);
  ck_assert_msg(rec != NULL, "no TASK_ERROR for a group that does not fit with its executor");
  ck_assert_msg(strstr(rec, "\"REASON_TASK_GROUP_INVALID\""), "%s", rec);
  ck_assert_msg(strstr(rec, "required by task group and its executor are more than available"),
                "%s", rec);
  free(rec);
  /* Nothing was launched or taken. */
  offer_until_cpus(&f, &a, 1, offer, sizeof offer);
  mesos_test_conn_close(&f.stream);
  mesos_test_conn_close(&a.stream);
  stop_master();
  agent_cpus = 4;
}
END_TEST


/* ------------------------------------------------------------ restart */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static char base[64];

/* Unchecked fixtures run in the parent process: the work directory goes
 * away also when the test fails (the daemons die with the test process:
 * PDEATHSIG). */
static void make_base(void) {
  snprintf(base, sizeof base, "/tmp/mesos-scheduler2-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(base));
}

static void remove_base(void) {
  if (base[0]) nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A master with a durable registry under base/master on master_port. */
static void start_durable_master(void) {
  char path[4096], port_arg[64], wd_arg[600], log[600];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/master", base);
  snprintf(log, sizeof log, "%s/master.log", base);
  char *argv[] = {path,        "--ip=127.0.0.1", port_arg, wd_arg, "--allocation_interval=50ms",
                  "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(argv, log);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(master_port, "/health", 5000), "master did not come up");
}

#define R1_DISK(amount)                                                                     \
  "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" #amount "},\"role\":"     \
  "\"r1\",\"reservation\":{\"principal\":\"ops\"}}"
#define R1_CPUS                                                                             \
  "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1},\"role\":\"r1\","        \
  "\"reservation\":{\"principal\":\"ops\"}}"
#define R1_VOLUME                                                                           \
  "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":100},\"role\":\"r1\","      \
  "\"reservation\":{\"principal\":\"ops\"},\"disk\":{\"persistence\":{\"id\":\"vol-9\","    \
  "\"principal\":\"ops\"},\"volume\":{\"container_path\":\"data\",\"mode\":\"RW\"}}}"

/* The next offer (within 15 s) that holds `want`; others are declined. */
static char *offer_with(sim_fw *f, const char *want) {
  long long deadline = now_ms() + 15000;
  while (now_ms() < deadline) {
    char *rec = fw_next(f, "\"type\":\"OFFERS\"", (int)(deadline - now_ms()));
    if (rec == NULL) break;
    if (strstr(rec, want)) return rec;
    char offer[160];
    json_id(rec, "id", offer, sizeof offer);
    free(rec);
    decline(f, offer);
  }
  return NULL;
}

START_TEST(test_scheduler2__accept_reservations_survive_master_kill9) {
  master_port = mesos_test_free_port();
  start_durable_master();
  char path[4096], master_arg[64], port_arg[64], wd_arg[600], log[600];
  mesos_test_daemon_path("mesos-agent", path, sizeof path);
  int agent_port = mesos_test_free_port();
  snprintf(master_arg, sizeof master_arg, "--master=127.0.0.1:%d", master_port);
  snprintf(port_arg, sizeof port_arg, "--port=%d", agent_port);
  snprintf(wd_arg, sizeof wd_arg, "--work_dir=%s/agent", base);
  snprintf(log, sizeof log, "%s/agent.log", base);
  char *argv[] = {path,
                  master_arg,
                  port_arg,
                  wd_arg,
                  "--ip=127.0.0.1",
                  "--hostname=kill9-host",
                  "--resources=cpus:4;mem:1024;disk:1024",
                  "--registration_backoff_factor=50ms",
                  NULL};
  pid_t agent = mesos_test_spawn(argv, log);
  ck_assert_int_gt(agent, 0);
  ck_assert(mesos_test_wait_http_ok(agent_port, "/health", 5000));

  sim_fw f;
  fw_subscribe(&f, ",\"role\":\"r1\",\"principal\":\"ops\"");
  char *rec = fw_next(&f, "\"type\":\"OFFERS\"", 10000);
  ck_assert_msg(rec != NULL, "no offer from the real agent");
  char offer[160];
  json_id(rec, "id", offer, sizeof offer);
  free(rec);
  ck_assert_int_eq(
      fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"RESERVE\",\"reserve\":{"
              "\"resources\":[" R1_CPUS "," R1_DISK(300) "]}},{\"type\":\"CREATE\",\"create\":{"
              "\"volumes\":[" R1_VOLUME "]}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer),
      202);
  /* Acknowledged (202): the master dies at once, before anything else. */
  ck_assert_int_eq(kill(master_pid, SIGKILL), 0);
  int st = 0;
  ck_assert_int_eq(waitpid(master_pid, &st, 0), master_pid);
  master_pid = -1;
  mesos_test_conn_close(&f.stream);

  start_durable_master();
  sim_fw g;
  fw_subscribe(&g, ",\"role\":\"r1\",\"principal\":\"ops\"");
  /* The agent re-registers by itself; the reserved cpus and the volume
   * are offered to r1 again. */
  rec = offer_with(&g, "\"persistence\":{\"id\":\"vol-9\"");
  ck_assert_msg(rec != NULL, "the volume was not offered after the master's restart");
  ck_assert_msg(strstr(rec, "\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1.0},"
                            "\"role\":\"r1\",\"reservation\":{\"principal\":\"ops\"}"),
                "reserved cpus missing: %s", rec);
  ck_assert_msg(strstr(rec, "\"scalar\":{\"value\":200.0},\"role\":\"r1\",\"reservation\""),
                "the rest of the reserved disk missing: %s", rec);
  free(rec);
  mesos_test_conn_close(&g.stream);
  st = mesos_test_stop(agent, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
  stop_master();
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_scheduler2");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_scheduler2__executor_resources_come_out_of_the_offer);
  tcase_add_test(tc, test_scheduler2__executor_without_resources_and_a_known_executor);
  tcase_add_test(tc, test_scheduler2__task_group_and_its_executor_must_fit);
  suite_add_tcase(s, tc);
  TCase *real = tcase_create("real_daemons");
  tcase_set_timeout(real, 60);
  tcase_add_unchecked_fixture(real, make_base, remove_base);
  tcase_add_test(real, test_scheduler2__accept_reservations_survive_master_kill9);
  suite_add_tcase(s, real);
  return s;
}

int main(void) { return mesos_test_main(suite()); }

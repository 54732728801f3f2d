/* The step-by-step simulated agent: see sim_raw_agent.h. */
#include "support/sim_raw_agent.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "support/sim_fw.h"

void sim_raw_agent_init(sim_raw_agent *a, int master_port, const char *hostname) {
  memset(a, 0, sizeof *a);
  a->stream.fd = -1;
  a->master_port = master_port;
  a->hostname = hostname;
  a->cpus = 4;
  a->mem = 1024;
  a->disk = 1000;
}

static void new_call(Mesos__Internal__AgentCall *call, Mesos__Internal__AgentCall__Type type) {
  mesos__internal__agent_call__init(call);
  call->protocol_version = 1;
  call->has_type = 1;
  call->type = type;
}

int sim_raw_agent_post(int master_port, const Mesos__Internal__AgentCall *call) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__pb_pack(&call->base, 0, &bytes, &len, NULL), MESOS_OK);
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, master_port), 0);
  int sent = mesos_test_conn_request(&c, "POST", "/api/v1/agent", "application/x-protobuf", NULL,
                                     (const char *)bytes, len);
  mesos__free(bytes);
  ck_assert_int_eq(sent, 0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 1, 5000), 0);
  int status = r.status;
  mesos_test_response_free(&r);
  mesos_test_conn_close(&c);
  return status;
}

int sim_raw_agent_open(sim_raw_agent *a, const Mesos__Internal__AgentCall *call) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__pb_pack(&call->base, 0, &bytes, &len, NULL), MESOS_OK);
  ck_assert_int_eq(mesos_test_conn_open(&a->stream, a->master_port), 0);
  int sent = mesos_test_conn_request(&a->stream, "POST", "/api/v1/agent", "application/x-protobuf",
                                     "Accept: application/x-protobuf\r\n", (const char *)bytes,
                                     len);
  mesos__free(bytes);
  ck_assert_int_eq(sent, 0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&a->stream, &r, 0, 5000), 0);
  int status = r.status;
  mesos_test_response_free(&r);
  if (status != 200) mesos_test_conn_close(&a->stream);
  return status;
}

void sim_raw_agent_close(sim_raw_agent *a) { mesos_test_conn_close(&a->stream); }

Mesos__Internal__AgentEvent *sim_raw_agent_next(sim_raw_agent *a, int timeout_ms) {
  long long deadline = sim_fw_now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - sim_fw_now_ms();
    char *rec = NULL;
    long n = mesos_test_conn_next_record(&a->stream, &rec, left > 0 ? (int)left : 0);
    if (n < 0) return NULL;
    ProtobufCMessage *msg = NULL;
    mesos_status st = mesos__pb_unpack(&mesos__internal__agent_event__descriptor, (uint8_t *)rec,
                                       (size_t)n, 0, 0, &msg, NULL);
    free(rec);
    ck_assert_int_eq(st, MESOS_OK);
    Mesos__Internal__AgentEvent *ev = (Mesos__Internal__AgentEvent *)msg;
    if (ev->type != MESOS__INTERNAL__AGENT_EVENT__TYPE__PING) return ev;
    mesos__pb_free(ev);
    /* Answer like a live agent. */
    Mesos__Internal__AgentCall call;
    Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
    aid.value = a->id;
    new_call(&call, MESOS__INTERNAL__AGENT_CALL__TYPE__PONG);
    call.agent_id = &aid;
    ck_assert_int_eq(sim_raw_agent_post(a->master_port, &call), 202);
  }
}

Mesos__Internal__AgentEvent *sim_raw_agent_expect(sim_raw_agent *a,
                                                  Mesos__Internal__AgentEvent__Type type,
                                                  int timeout_ms) {
  long long deadline = sim_fw_now_ms() + timeout_ms;
  while (sim_fw_now_ms() < deadline) {
    Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(a, (int)(deadline - sim_fw_now_ms()));
    if (ev == NULL) return NULL;
    if (ev->type == type) return ev;
    mesos__pb_free(ev);
  }
  return NULL;
}

void sim_raw_agent_pump(sim_raw_agent *a, int ms) {
  long long deadline = sim_fw_now_ms() + ms;
  while (sim_fw_now_ms() < deadline) {
    Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(a, (int)(deadline - sim_fw_now_ms()));
    if (ev == NULL) break;
    mesos__pb_free(ev);
  }
}

/* a's non-zero scalar resources, pointing into `r`/`v`; their count. */
static size_t agent_resources(const sim_raw_agent *a, Mesos__V1__Resource r[3],
                              Mesos__V1__Value__Scalar v[3], Mesos__V1__Resource *p[3]) {
  const char *const names[] = {"cpus", "mem", "disk"};
  const double values[] = {a->cpus, a->mem, a->disk};
  size_t n = 0;
  for (int i = 0; i < 3; i++) {
    if (values[i] == 0) continue;
    mesos__v1__value__scalar__init(&v[n]);
    v[n].value = values[i];
    mesos__v1__resource__init(&r[n]);
    r[n].name = (char *)names[i];
    r[n].type = MESOS__V1__VALUE__TYPE__SCALAR;
    r[n].scalar = &v[n];
    p[n] = &r[n];
    n++;
  }
  return n;
}

int sim_raw_agent_register_status(sim_raw_agent *a) {
  Mesos__V1__Resource res[3], *resp[3];
  Mesos__V1__Value__Scalar vals[3];
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  info.hostname = (char *)a->hostname;
  info.n_resources = agent_resources(a, res, vals, resp);
  info.resources = resp;
  Mesos__Internal__RegisterAgent ra = MESOS__INTERNAL__REGISTER_AGENT__INIT;
  ra.agent = &info;
  Mesos__Internal__AgentCall call;
  new_call(&call, MESOS__INTERNAL__AGENT_CALL__TYPE__REGISTER);
  call.register_agent = &ra;
  return sim_raw_agent_open(a, &call);
}

void sim_raw_agent_register(sim_raw_agent *a) {
  ck_assert_int_eq(sim_raw_agent_register_status(a), 200);
  Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(a, 5000);
  ck_assert_msg(ev != NULL, "no REGISTERED for %s", a->hostname);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__REGISTERED);
  snprintf(a->id, sizeof a->id, "%s", ev->agent_registered->agent_id->value);
  a->ping_timeout_s = ev->agent_registered->connection
                          ? ev->agent_registered->connection->total_ping_timeout_seconds
                          : 0;
  mesos__pb_free(ev);
}

/* REREGISTER with `rr` (whose agent the caller set); the HTTP status. */
static int reregister_rr(sim_raw_agent *a, Mesos__Internal__ReregisterAgent *rr) {
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  Mesos__Internal__AgentCall call;
  new_call(&call, MESOS__INTERNAL__AGENT_CALL__TYPE__REREGISTER);
  call.agent_id = &aid;
  call.reregister_agent = rr;
  return sim_raw_agent_open(a, &call);
}

static void expect_reregistered(sim_raw_agent *a) {
  Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(a, 5000);
  ck_assert_msg(ev != NULL, "no REREGISTERED for %s", a->id);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__REREGISTERED);
  ck_assert_str_eq(ev->agent_reregistered->agent_id->value, a->id);
  mesos__pb_free(ev);
}

int sim_raw_agent_reregister_status(sim_raw_agent *a, const char *fw_id, const char *task_id) {
  Mesos__V1__Resource res[3], *resp[3];
  Mesos__V1__Value__Scalar vals[3];
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  info.hostname = (char *)a->hostname;
  info.id = &aid;
  info.n_resources = agent_resources(a, res, vals, resp);
  info.resources = resp;
  Mesos__Internal__ReregisterAgent rr = MESOS__INTERNAL__REREGISTER_AGENT__INIT;
  rr.agent = &info;
  /* The reported task: 1 cpu and 64 mem of the agent's, running. */
  Mesos__V1__Task task = MESOS__V1__TASK__INIT, *tasks[1] = {&task};
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT, *fis[1] = {&fi};
  Mesos__V1__Value__Scalar one = MESOS__V1__VALUE__SCALAR__INIT;
  Mesos__V1__Value__Scalar m64 = MESOS__V1__VALUE__SCALAR__INIT;
  Mesos__V1__Resource tr[2], *task_res[2] = {&tr[0], &tr[1]};
  if (fw_id && task_id) {
    one.value = 1;
    m64.value = 64;
    for (int i = 0; i < 2; i++) {
      mesos__v1__resource__init(&tr[i]);
      tr[i].name = i == 0 ? "cpus" : "mem";
      tr[i].type = MESOS__V1__VALUE__TYPE__SCALAR;
      tr[i].scalar = i == 0 ? &one : &m64;
    }
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
    fi.name = "reported by sim_raw_agent";
    fi.id = &fid;
    rr.n_tasks = 1;
    rr.tasks = tasks;
    rr.n_frameworks = 1;
    rr.frameworks = fis;
  }
  return reregister_rr(a, &rr);
}

void sim_raw_agent_reregister(sim_raw_agent *a, const char *fw_id, const char *task_id) {
  ck_assert_int_eq(sim_raw_agent_reregister_status(a, fw_id, task_id), 200);
  expect_reregistered(a);
}

void sim_raw_agent_reregister_with(sim_raw_agent *a, Mesos__Internal__ReregisterAgent *rr) {
  mesos_test_conn_close(&a->stream);
  ck_assert_int_eq(reregister_rr(a, rr), 200);
  expect_reregistered(a);
}

void sim_raw_agent_status(sim_raw_agent *a, const char *fw, const char *task, const char *state,
                          int flags) {
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
  ck_assert_msg(v != NULL, "no task state %s", state);
  st.state = (Mesos__V1__TaskState)v->value;
  if (flags & SIM_RAW_FROM_EXECUTOR) {
    st.has_source = 1;
    st.source = MESOS__V1__TASK_STATUS__SOURCE__SOURCE_EXECUTOR;
  }
  if (flags & SIM_RAW_EXECUTOR_REASON) {
    st.has_reason = 1;
    st.reason = MESOS__V1__TASK_STATUS__REASON__REASON_EXECUTOR_TERMINATED;
  }
  uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, (uint8_t)st.state};
  if (flags & SIM_RAW_UUID) {
    st.has_uuid = 1;
    st.uuid.data = uuid;
    st.uuid.len = sizeof uuid;
    su.has_uuid = 1;
    su.uuid = st.uuid;
  }
  su.framework_id = &fid;
  su.agent_id = &aid;
  su.status = &st;
  su.timestamp = 1.0;
  Mesos__Internal__AgentCall call;
  new_call(&call, MESOS__INTERNAL__AGENT_CALL__TYPE__STATUS_UPDATE);
  call.agent_id = &aid;
  call.status_update = &su;
  ck_assert_int_eq(sim_raw_agent_post(a->master_port, &call), 202);
}

void sim_raw_agent_exited_executor(sim_raw_agent *a, const char *fw, const char *executor,
                                   int status) {
  Mesos__Internal__ExitedExecutor ee = MESOS__INTERNAL__EXITED_EXECUTOR__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  aid.value = a->id;
  fid.value = (char *)fw;
  eid.value = (char *)executor;
  ee.framework_id = &fid;
  ee.executor_id = &eid;
  ee.has_status = 1;
  ee.status = status;
  Mesos__Internal__AgentCall call;
  new_call(&call, MESOS__INTERNAL__AGENT_CALL__TYPE__EXITED_EXECUTOR);
  call.agent_id = &aid;
  call.exited_executor = &ee;
  ck_assert_int_eq(sim_raw_agent_post(a->master_port, &call), 202);
}

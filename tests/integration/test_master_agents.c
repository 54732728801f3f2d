/*
 * The real mesos-master with a simulated agent (speaking our agent protocol
 * over loopback HTTP, as the real agent will) and a JSON scheduler: offers,
 * launches, status updates and acknowledgements, invalid operations, and
 * an agent that stops answering pings.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "mesos/internal/internal.pb-c.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/sim_raw_agent.h"
#include "support/testutil.h"

static pid_t master_pid = -1;
static int master_port;

static void start_master_ping(const char *ping_arg) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *argv[] = {path,
                  "--ip=127.0.0.1",
                  port_arg,
                  "--allocation_interval=50ms",
                  (char *)ping_arg,
                  "--max_agent_ping_timeouts=3",
                  "--http_heartbeat_interval=10secs",
                  "--logging_level=WARNING",
                  NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));
}

/* Agents in these tests answer pings only while the test reads their
 * stream; the short timeout is for the test that wants a silent agent. */
static void start_master(void) { start_master_ping("--agent_ping_timeout=10secs"); }

static void stop_master(void) {
  int st = mesos_test_stop(master_pid, 3000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  master_pid = -1;
}

/* ------------------------------------------------------------ agent side */

/* Registers `a` as `hostname` with cpus 4 and mem 1024 (no disk). */
static void agent_register(sim_raw_agent *a, const char *hostname) {
  sim_raw_agent_init(a, master_port, hostname);
  a->disk = 0;
  sim_raw_agent_register(a);
  ck_assert(a->ping_timeout_s > 0.5);
}

/* ------------------------------------------------------------ framework side */

static void fw_subscribe(sim_fw *f, const char *extra_info) {
  char info[1024];
  snprintf(info, sizeof info, "\"user\":\"nobody\",\"name\":\"agents test\"%s",
           extra_info ? extra_info : "");
  sim_fw_subscribe(f, master_port, info);
}

static const char *task_json(char *buf, size_t cap, const char *task, const char *agent,
                             double cpus, double mem) {
  snprintf(buf, cap,
           "{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
           "\"command\":{\"value\":\"true\"},\"resources\":["
           "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}},"
           "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}}]}",
           task, agent, cpus, mem);
  return buf;
}

START_TEST(test_master__offer_launch_update_acknowledge_round_trip) {
  start_master();
  sim_raw_agent a;
  agent_register(&a, "agent-one");
  sim_fw f;
  fw_subscribe(&f, NULL);
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, "\"hostname\":\"agent-one\""));
  ck_assert_ptr_nonnull(strstr(rec, "\"allocation_info\":{\"role\":\"*\"}"));
  ck_assert_ptr_nonnull(strstr(rec, "\"name\":\"cpus\""));
  char offer[160], agent[160];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  sim_fw_json_id(rec, "agent_id", agent, sizeof agent);
  ck_assert_str_eq(agent, a.id);
  free(rec);

  char t1[1024];
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[%s]}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer, task_json(t1, sizeof t1, "task-1", a.id, 1, 128)),
      202);
  Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  ck_assert_str_eq(ev->run_task->task->task_id->value, "task-1");
  ck_assert_str_eq(ev->run_task->framework->id->value, f.id);
  mesos__pb_free(ev);

  sim_raw_agent_status(&a, f.id, "task-1", "TASK_RUNNING", SIM_RAW_FROM_EXECUTOR | SIM_RAW_UUID);
  rec = sim_fw_next_strict(&f, "\"type\":\"UPDATE\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_RUNNING\""));
  ck_assert_ptr_nonnull(strstr(rec, "\"uuid\":\"AQIDBAUGBwgJCgsMDQ4PAQ==\""));
  free(rec);
  ck_assert_int_eq(sim_fw_call(&f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACKNOWLEDGE\","
                           "\"acknowledge\":{\"agent_id\":{\"value\":\"%s\"},\"task_id\":"
                           "{\"value\":\"task-1\"},\"uuid\":\"AQIDBAUGBwgJCgsMDQ4PAQ==\"}}",
                           f.id, a.id),
                   202);
  ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__STATUS_UPDATE_ACKNOWLEDGEMENT);
  ck_assert_str_eq(ev->status_update_acknowledgement->task_id->value, "task-1");
  ck_assert_uint_eq(ev->status_update_acknowledgement->uuid.len, 16);
  mesos__pb_free(ev);

  /* Implicit reconciliation reports the running task. */
  ck_assert_int_eq(sim_fw_call(&f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"RECONCILE\","
                           "\"reconcile\":{}}",
                           f.id),
                   202);
  rec = sim_fw_next_strict(&f, "REASON_RECONCILIATION", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_RUNNING\""));
  free(rec);

  /* KILL goes to the agent. */
  ck_assert_int_eq(sim_fw_call(&f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":"
                           "{\"task_id\":{\"value\":\"task-1\"}}}",
                           f.id),
                   202);
  ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__KILL_TASK);
  mesos__pb_free(ev);
  sim_raw_agent_status(&a, f.id, "task-1", "TASK_KILLED", SIM_RAW_FROM_EXECUTOR | SIM_RAW_UUID);
  rec = sim_fw_next_strict(&f, "TASK_KILLED", 5000);
  ck_assert_ptr_nonnull(rec);
  free(rec);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

/* Sum of the scalar `name` over every resource of an OFFERS event. */
static double offered_scalar(const char *rec, const char *name) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"name\":\"%s\"", name);
  double sum = 0;
  for (const char *p = strstr(rec, pat); p; p = strstr(p + 1, pat)) {
    const char *v = strstr(p, "\"scalar\":{\"value\":");
    ck_assert_ptr_nonnull(v);
    sum += strtod(v + strlen("\"scalar\":{\"value\":"), NULL);
  }
  return sum;
}

static int accept_launch(sim_fw *f, const char *offers_json, const char *task_json_text) {
  return sim_fw_call(f,
                 "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                 "\"offer_ids\":[%s],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
                 "\"task_infos\":[%s]}}],\"filters\":{\"refuse_seconds\":0}}}",
                 f->id, offers_json, task_json_text);
}

/* Two offers of one agent from two allocation cycles, combined in one
 * ACCEPT: the task launched from them and what the ACCEPT leaves over
 * span both grants.  Everything must come back to the allocator (the
 * leftover when the ACCEPT is done, the task's share when it ends), so
 * the agent's whole resources are offered again, exactly. */
START_TEST(test_master__accept_combining_offers_of_two_cycles_gives_everything_back) {
  start_master();
  sim_raw_agent a;
  agent_register(&a, "agent-combined");
  sim_fw f;
  fw_subscribe(&f, NULL);
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  char o1[160], o2[160], o3[160], ids[512], t[1024];
  sim_fw_json_id(rec, "id", o1, sizeof o1);
  free(rec);
  snprintf(ids, sizeof ids, "{\"value\":\"%s\"}", o1);
  ck_assert_int_eq(accept_launch(&f, ids, task_json(t, sizeof t, "first", a.id, 1, 128)), 202);
  Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  mesos__pb_free(ev);
  /* The rest of the agent in the next cycle: offer 2 (held). */
  rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  sim_fw_json_id(rec, "id", o2, sizeof o2);
  ck_assert_double_eq_tol(offered_scalar(rec, "cpus"), 3, 1e-9);
  free(rec);
  /* The first task ends: its resources make offer 3 in a later cycle. */
  sim_raw_agent_status(&a, f.id, "first", "TASK_FINISHED", SIM_RAW_FROM_EXECUTOR);
  rec = sim_fw_next_strict(&f, "TASK_FINISHED", 5000);
  ck_assert_ptr_nonnull(rec);
  free(rec);
  rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  sim_fw_json_id(rec, "id", o3, sizeof o3);
  ck_assert_double_eq_tol(offered_scalar(rec, "cpus"), 1, 1e-9);
  free(rec);
  /* One ACCEPT over both: the task takes half a cpu; the 3.5 cpus left
   * are more than either grant held. */
  snprintf(ids, sizeof ids, "{\"value\":\"%s\"},{\"value\":\"%s\"}", o2, o3);
  ck_assert_int_eq(accept_launch(&f, ids, task_json(t, sizeof t, "second", a.id, 0.5, 64)), 202);
  ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  ck_assert_str_eq(ev->run_task->task->task_id->value, "second");
  mesos__pb_free(ev);
  rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_msg(rec != NULL, "the ACCEPT's leftover was not offered again");
  double cpus = offered_scalar(rec, "cpus"), mem = offered_scalar(rec, "mem");
  ck_assert_double_eq_tol(cpus, 3.5, 1e-9);
  ck_assert_double_eq_tol(mem, 960, 1e-9);
  free(rec);
  /* The second task is killed: its share comes back too, and the offers
   * outstanding now hold the whole agent. */
  ck_assert_int_eq(sim_fw_call(&f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"KILL\",\"kill\":"
                           "{\"task_id\":{\"value\":\"second\"}}}",
                           f.id),
                   202);
  ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__KILL_TASK);
  mesos__pb_free(ev);
  sim_raw_agent_status(&a, f.id, "second", "TASK_KILLED", SIM_RAW_FROM_EXECUTOR);
  rec = sim_fw_next_strict(&f, "TASK_KILLED", 5000);
  ck_assert_ptr_nonnull(rec);
  free(rec);
  rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  cpus += offered_scalar(rec, "cpus");
  mem += offered_scalar(rec, "mem");
  free(rec);
  ck_assert_double_eq_tol(cpus, 4, 1e-9);
  ck_assert_double_eq_tol(mem, 1024, 1e-9);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

START_TEST(test_master__invalid_launches_are_answered_with_task_error_or_lost) {
  start_master();
  sim_raw_agent a;
  agent_register(&a, "agent-two");
  sim_fw f;
  fw_subscribe(&f, NULL);
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  char offer[160];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  char big[1024], ok[1024], dup[1024];
  /* More cpus than offered, then a valid one, then its duplicate. */
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[%s,%s,%s]}}]}}",
              f.id, offer, task_json(big, sizeof big, "too-big", a.id, 64, 128),
              task_json(ok, sizeof ok, "fits", a.id, 1, 64),
              task_json(dup, sizeof dup, "fits", a.id, 1, 64)),
      202);
  rec = sim_fw_next_strict(&f, "too-big", 5000);
  ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_ERROR\""));
  ck_assert_ptr_nonnull(strstr(rec, "REASON_TASK_INVALID"));
  ck_assert_ptr_nonnull(strstr(rec, "more resources"));
  free(rec);
  rec = sim_fw_next_strict(&f, "duplicate ID", 5000);
  ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_ERROR\""));
  free(rec);
  Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(&a, 5000);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  ck_assert_str_eq(ev->run_task->task->task_id->value, "fits");
  mesos__pb_free(ev);
  /* The same (used) offer again: the launch is LOST with INVALID_OFFERS. */
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[%s]}}]}}",
              f.id, offer, task_json(ok, sizeof ok, "late", a.id, 1, 64)),
      202);
  rec = sim_fw_next_strict(&f, "\"late\"", 5000);
  ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_LOST\""));
  ck_assert_ptr_nonnull(strstr(rec, "REASON_INVALID_OFFERS"));
  free(rec);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

START_TEST(test_master__silent_agent_is_removed_and_its_tasks_are_lost) {
  start_master_ping("--agent_ping_timeout=200ms");
  sim_raw_agent a;
  agent_register(&a, "agent-three");
  sim_fw f;
  fw_subscribe(&f, NULL);
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  char offer[160], t[1024];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[%s]}}]}}",
              f.id, offer, task_json(t, sizeof t, "doomed", a.id, 1, 64)),
      202);
  Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(&a, 5000);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  mesos__pb_free(ev);
  /* The agent goes silent: its connection drops and no PONG comes. */
  sim_raw_agent_close(&a);
  rec = sim_fw_next_strict(&f, "\"doomed\"", 5000);
  ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_LOST\""));
  ck_assert_ptr_nonnull(strstr(rec, "REASON_AGENT_REMOVED"));
  free(rec);
  rec = sim_fw_next_strict(&f, "\"type\":\"FAILURE\"", 5000);
  ck_assert_ptr_nonnull(strstr(rec, a.id));
  free(rec);
  /* A call from the removed agent is told to register again. */
  Mesos__Internal__AgentCall call = MESOS__INTERNAL__AGENT_CALL__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a.id;
  call.protocol_version = 1;
  call.has_type = 1;
  call.type = MESOS__INTERNAL__AGENT_CALL__TYPE__PONG;
  call.agent_id = &aid;
  ck_assert_int_eq(sim_raw_agent_post(master_port, &call), 404);
  call.protocol_version = 7;
  ck_assert_int_eq(sim_raw_agent_post(master_port, &call), 400);
  /* Undecodable bodies and wrong media types are refused before dispatch. */
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/agent", "application/json",
                                   NULL, "{\"protocol_version\": ", &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  ck_assert_ptr_nonnull(strstr(r.body, "Failed to parse body into AgentCall"));
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/agent", "text/plain", NULL,
                                   "x", &r),
                   0);
  ck_assert_int_eq(r.status, 415);
  mesos_test_response_free(&r);
  mesos_test_conn_close(&f.stream);
  stop_master();
}
END_TEST

START_TEST(test_master__declined_resources_return_after_revive) {
  start_master();
  sim_raw_agent a;
  agent_register(&a, "agent-four");
  sim_fw f;
  fw_subscribe(&f, NULL);
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  char offer[160];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  ck_assert_int_eq(sim_fw_call(&f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"DECLINE\",\"decline\":"
                           "{\"offer_ids\":[{\"value\":\"%s\"}],\"filters\":{\"refuse_seconds\":"
                           "3600}}}",
                           f.id, offer),
                   202);
  /* Filtered for an hour: no offer within a few allocation cycles. */
  char *none = NULL;
  ck_assert_int_eq(mesos_test_conn_next_record(&f.stream, &none, 400), -1);
  ck_assert_int_eq(sim_fw_call(&f, "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"REVIVE\"}", f.id),
                   202);
  rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  free(rec);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

START_TEST(test_master__reserve_and_unreserve_change_offers_and_agent_checkpoints) {
  start_master();
  sim_raw_agent a;
  agent_register(&a, "agent-five");
  sim_fw f;
  fw_subscribe(&f, ",\"role\":\"eng\",\"principal\":\"ops\"");
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  char offer[160];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  /* Wrong principal: the operation is dropped, nothing is reserved. */
  const char *reserve_fmt =
      "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
      "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"%s\",\"%s\":{\"resources\":[{"
      "\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1},\"role\":\"eng\","
      "\"reservation\":{\"principal\":\"%s\"}}]}}],\"filters\":{\"refuse_seconds\":0}}}";
  ck_assert_int_eq(sim_fw_call(&f, reserve_fmt, f.id, offer, "RESERVE", "reserve", "mallory"), 202);
  rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_null(strstr(rec, "\"reservation\""));
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  /* The framework's own principal: the agent is told to checkpoint the
   * reservation and the next offer carries it. */
  ck_assert_int_eq(sim_fw_call(&f, reserve_fmt, f.id, offer, "RESERVE", "reserve", "ops"), 202);
  Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__CHECKPOINT_RESOURCES);
  ck_assert_uint_eq(ev->checkpoint_resources->n_resources, 1);
  ck_assert_str_eq(ev->checkpoint_resources->resources[0]->role, "eng");
  mesos__pb_free(ev);
  rec = sim_fw_next_strict(&f, "\"reservation\":{\"principal\":\"ops\"}", 5000);
  ck_assert_ptr_nonnull(rec);
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  /* Unreserve it again: the checkpoint becomes empty. */
  ck_assert_int_eq(sim_fw_call(&f, reserve_fmt, f.id, offer, "UNRESERVE", "unreserve", "ops"), 202);
  ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__CHECKPOINT_RESOURCES);
  ck_assert_uint_eq(ev->checkpoint_resources->n_resources, 0);
  mesos__pb_free(ev);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

/* Starts a master on `port` with a durable registry in `work_dir`, logging
 * to `log`. */
static pid_t start_durable(int port, const char *work_dir, const char *log, const char *ping) {
  char path[4096], port_arg[64], wd[512];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  snprintf(port_arg, sizeof port_arg, "--port=%d", port);
  snprintf(wd, sizeof wd, "--work_dir=%s", work_dir);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, wd, "--allocation_interval=50ms",
                  (char *)ping, "--max_agent_ping_timeouts=2", NULL};
  pid_t pid = mesos_test_spawn(argv, log);
  ck_assert_int_gt(pid, 0);
  ck_assert(mesos_test_wait_http_ok(port, "/health", 5000));
  return pid;
}

static int file_contains(const char *path, const char *needle) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strstr(buf, needle) != NULL;
}

/* REREGISTER as "agent-durable" reporting no resources (what the agent
 * re-registers with does not matter to the registry tests). */
static void agent_reregister(sim_raw_agent *a) {
  a->hostname = "agent-durable";
  a->cpus = a->mem = a->disk = 0;
  sim_raw_agent_reregister(a, NULL, NULL);
}

START_TEST(test_master__admitted_and_unreachable_agents_survive_kill_9) {
  char dir[] = "/tmp/mesos-master-test-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char log[600];
  snprintf(log, sizeof log, "%s/master.log", dir);
  master_port = mesos_test_free_port();
  master_pid = start_durable(master_port, dir, log, "--agent_ping_timeout=10secs");
  sim_raw_agent a, b;
  agent_register(&a, "agent-a");
  agent_register(&b, "agent-b");
  /* Crash: no chance to flush anything that was not already durable. */
  kill(master_pid, SIGKILL);
  waitpid(master_pid, NULL, 0);
  sim_raw_agent_close(&a);
  sim_raw_agent_close(&b);
  master_pid = start_durable(master_port, dir, log, "--agent_ping_timeout=100ms");
  ck_assert_msg(file_contains(log, "2 admitted agents, 0 unreachable"), "registry not recovered");
  agent_reregister(&a);
  /* b stays away: marked unreachable after 2 missed pings.  Polled on the
   * master's log ("Removing agent"), then fenced with a request: the loop
   * answers it only after the callback that wrote the registry. */
  for (long long until = sim_fw_now_ms() + 10000;
       !file_contains(log, "Removing agent") && sim_fw_now_ms() < until;)
    usleep(20000);
  ck_assert_msg(file_contains(log, "Removing agent"), "no agent was marked unreachable");
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));
  kill(master_pid, SIGKILL);
  waitpid(master_pid, NULL, 0);
  sim_raw_agent_close(&a);
  master_pid = start_durable(master_port, dir, log, "--agent_ping_timeout=10secs");
  ck_assert_msg(file_contains(log, "1 admitted agents, 1 unreachable"),
                "unreachable agent not recorded durably");
  /* ...and is re-admitted when it comes back. */
  agent_reregister(&b);
  sim_raw_agent_close(&b);
  stop_master();
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ------------------------------------------------------------ issue 4 remainder */

/* Asserts that nothing but heartbeats (and OFFERS when `offers_ok`)
 * arrives on the stream for `ms`. */
static void fw_quiet(sim_fw *f, int ms, int offers_ok) {
  char *rec = NULL;
  while (mesos_test_conn_next_record(&f->stream, &rec, ms) >= 0) {
    ck_assert_msg(strstr(rec, "HEARTBEAT") != NULL ||
                      (offers_ok && strstr(rec, "\"type\":\"OFFERS\"") != NULL),
                  "unexpected event: %s", rec);
    free(rec);
    rec = NULL;
  }
}

#define UPDATE_FMT                                                                            \
  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"UPDATE_FRAMEWORK\",\"update_framework\":" \
  "{\"framework_info\":{\"id\":{\"value\":\"%s\"},\"user\":\"%s\",\"name\":\"%s\",%s}%s}}"
#define MULTI_ROLE "\"capabilities\":[{\"type\":\"MULTI_ROLE\"}]"

START_TEST(test_master__update_framework_changes_roles_and_refuses_invalid_updates) {
  start_master();
  sim_raw_agent a;
  agent_register(&a, "agent-update");
  sim_fw f;
  fw_subscribe(&f, ",\"roles\":[\"blue\"]," MULTI_ROLE ",\"principal\":\"ops\"");
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(strstr(rec, "\"allocation_info\":{\"role\":\"blue\"}"));
  char offer[160];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);

  /* Every refusal is a 400 with the reason, and changes nothing. */
  struct {
    const char *id, *user, *rest, *extra, *want;
  } bad[] = {
      {"other", "nobody", "\"roles\":[\"green\"]," MULTI_ROLE ",\"principal\":\"ops\"", "",
       "differs from 'update_framework.framework_info.id'"},
      {NULL, "root", "\"roles\":[\"green\"]," MULTI_ROLE ",\"principal\":\"ops\"", "",
       "'FrameworkInfo.user'"},
      {NULL, "nobody", "\"roles\":[\"green\"]," MULTI_ROLE ",\"principal\":\"eve\"", "",
       "principal is not allowed"},
      {NULL, "nobody",
       "\"roles\":[\"green\"]," MULTI_ROLE ",\"principal\":\"ops\",\"checkpoint\":true", "",
       "'FrameworkInfo.checkpoint'"},
      {NULL, "nobody", "\"roles\":[\"a//b\"]," MULTI_ROLE ",\"principal\":\"ops\"", "",
       "Role 'a//b' is invalid"},
      {NULL, "nobody", "\"roles\":[\"green\",\"green\"]," MULTI_ROLE ",\"principal\":\"ops\"",
       "", "duplicate role"},
      {NULL, "nobody", "\"roles\":[\"green\"]," MULTI_ROLE ",\"principal\":\"ops\"",
       ",\"suppressed_roles\":[\"blue\"]", "Suppressed role 'blue'"},
      /* Mesos 1.11's attribute constraints: refused, not ignored. */
      {NULL, "nobody", "\"roles\":[\"green\"]," MULTI_ROLE ",\"principal\":\"ops\"",
       ",\"offer_constraints\":{\"role_constraints\":{\"green\":{\"groups\":[{"
       "\"attribute_constraints\":[{\"selector\":{\"attribute_name\":\"rack\"},"
       "\"predicate\":{\"exists\":{}}}]}]}}}",
       "'offer_constraints' are not supported"},
  };
  char body[1024];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int s = sim_fw_call_body(&f, body, sizeof body, UPDATE_FMT, f.id, bad[i].id ? bad[i].id : f.id,
                         bad[i].user, "renamed", bad[i].rest, bad[i].extra);
    ck_assert_msg(s == 400, "case %zu: status %d", i, s);
    ck_assert_msg(strstr(body, bad[i].want) != NULL, "case %zu: body '%s'", i, body);
  }
  ck_assert_int_eq(sim_fw_call_body(&f, body, sizeof body,
                                "{\"framework_id\":{\"value\":\"%s\"},\"type\":"
                                "\"UPDATE_FRAMEWORK\"}",
                                f.id),
                   400);
  ck_assert_ptr_nonnull(strstr(body, "Expecting 'update_framework' to be present"));
  /* A subscription with offer constraints is refused with an ERROR event. */
  {
    const char *sub =
        "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"nobody\","
        "\"name\":\"constrained\"},\"offer_constraints\":{\"role_constraints\":{\"*\":{"
        "\"groups\":[{\"attribute_constraints\":[{\"selector\":{\"attribute_name\":\"rack\"},"
        "\"predicate\":{\"not_exists\":{}}}]}]}}}}}";
    mesos_test_conn c;
    ck_assert_int_eq(mesos_test_conn_open(&c, master_port), 0);
    ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1/scheduler", "application/json",
                                             NULL, sub, strlen(sub)),
                     0);
    mesos_test_response r;
    ck_assert_int_eq(mesos_test_conn_response(&c, &r, 0, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    mesos_test_response_free(&r);
    char *err_rec = NULL;
    ck_assert_int_gt(mesos_test_conn_next_record(&c, &err_rec, 5000), 0);
    ck_assert_ptr_nonnull(strstr(err_rec, "\"type\":\"ERROR\""));
    ck_assert_ptr_nonnull(strstr(err_rec, "'offer_constraints' are not supported"));
    free(err_rec);
    mesos_test_conn_close(&c);
  }
  /* Still role blue: the offer was neither rescinded nor replaced. */
  fw_quiet(&f, 300, 0);

  /* The real change: blue -> green.  200, the blue offer is rescinded and
   * its resources come back offered to green. */
  ck_assert_int_eq(sim_fw_call_body(&f, body, sizeof body, UPDATE_FMT, f.id, f.id, "nobody",
                                "renamed",
                                "\"roles\":[\"green\"]," MULTI_ROLE ",\"principal\":\"ops\"",
                                ",\"offer_constraints\":{}"),
                   200);
  rec = sim_fw_next_strict(&f, "\"type\":\"RESCIND\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, offer));
  free(rec);
  rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, "\"allocation_info\":{\"role\":\"green\"}"));
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  /* The old offer is gone for good; the new one works. */
  char t[1024];
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[%s]}}]}}",
              f.id, offer, task_json(t, sizeof t, "green-task", a.id, 1, 64)),
      202);
  Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
  ck_assert_str_eq(ev->run_task->framework->name, "renamed");
  mesos__pb_free(ev);
  /* An update that keeps the role but suppresses it: no more offers until
   * the role leaves the suppressed set again. */
  ck_assert_int_eq(sim_fw_call_body(&f, body, sizeof body, UPDATE_FMT, f.id, f.id, "nobody",
                                "renamed again",
                                "\"roles\":[\"green\"]," MULTI_ROLE ",\"principal\":\"ops\"",
                                ",\"suppressed_roles\":[\"green\"]"),
                   200);
  /* The agent learns the new FrameworkInfo (it runs a task of it). */
  ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__UPDATE_FRAMEWORK);
  ck_assert_str_eq(ev->update_framework->framework_info->name, "renamed again");
  mesos__pb_free(ev);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

START_TEST(test_master__executor_exit_is_a_failure_event_only_for_custom_executors) {
  start_master();
  sim_raw_agent a;
  agent_register(&a, "agent-exec");
  sim_fw f;
  fw_subscribe(&f, NULL);
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  char offer[160], t[1024];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  char custom[1024];
  snprintf(custom, sizeof custom,
           "{\"name\":\"c\",\"task_id\":{\"value\":\"custom-task\"},\"agent_id\":{\"value\":"
           "\"%s\"},\"executor\":{\"executor_id\":{\"value\":\"my-executor\"},\"command\":"
           "{\"value\":\"exec-me\"}},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
           "\"scalar\":{\"value\":1}}]}",
           a.id);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[%s,%s]}}]}}",
              f.id, offer, task_json(t, sizeof t, "command-task", a.id, 1, 64), custom),
      202);
  for (int i = 0; i < 2; i++) {
    Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(&a, 5000);
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
    mesos__pb_free(ev);
  }
  /* The command executor (named after its task) ends: not forwarded. */
  sim_raw_agent_status(&a, f.id, "command-task", "TASK_FINISHED", SIM_RAW_FROM_EXECUTOR);
  rec = sim_fw_next_strict(&f, "TASK_FINISHED", 5000);
  ck_assert_ptr_nonnull(rec);
  free(rec);
  sim_raw_agent_exited_executor(&a, f.id, "command-task", 256);
  /* The custom executor ends: FAILURE with its id and status. */
  sim_raw_agent_exited_executor(&a, f.id, "my-executor", 256);
  rec = sim_fw_next_strict(&f, "\"type\":\"FAILURE\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_msg(strstr(rec, "\"executor_id\":{\"value\":\"my-executor\"}") != NULL,
                "first FAILURE is not the custom executor's: %s", rec);
  ck_assert_ptr_nonnull(strstr(rec, "\"status\":256"));
  free(rec);
  /* Once gone it is unknown: a second report is not forwarded either. */
  sim_raw_agent_exited_executor(&a, f.id, "my-executor", 256);
  fw_quiet(&f, 300, 1);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

/* Re-registers `a`, reporting tasks (framework id, task id, state) and the
 * frameworks' infos; leaves the stream open after REREGISTERED. */
typedef struct reported_task {
  const char *fw, *task, *state;
} reported_task;

static void agent_reregister_with(sim_raw_agent *a, const reported_task *tasks, size_t n) {
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  info.hostname = "agent-durable";
  info.id = &aid;
  Mesos__Internal__ReregisterAgent rr = MESOS__INTERNAL__REREGISTER_AGENT__INIT;
  rr.agent = &info;
  Mesos__V1__Task tv[8], *tp[8];
  Mesos__V1__TaskID tids[8];
  Mesos__V1__FrameworkID fids[8];
  Mesos__V1__FrameworkInfo fis[8], *fip[8];
  ck_assert_uint_le(n, 8);
  for (size_t i = 0; i < n; i++) {
    mesos__v1__task__init(&tv[i]);
    mesos__v1__task_id__init(&tids[i]);
    mesos__v1__framework_id__init(&fids[i]);
    mesos__v1__framework_info__init(&fis[i]);
    tids[i].value = (char *)tasks[i].task;
    fids[i].value = (char *)tasks[i].fw;
    tv[i].name = "t";
    tv[i].task_id = &tids[i];
    tv[i].framework_id = &fids[i];
    tv[i].agent_id = &aid;
    tv[i].executor_id = NULL;
    tv[i].state = (Mesos__V1__TaskState)protobuf_c_enum_descriptor_get_value_by_name(
                      &mesos__v1__task_state__descriptor, tasks[i].state)
                      ->value;
    fis[i].id = &fids[i];
    fis[i].user = "nobody";
    fis[i].name = "reported";
    tp[i] = &tv[i];
    fip[i] = &fis[i];
  }
  rr.tasks = tp;
  rr.n_tasks = n;
  rr.frameworks = fip;
  rr.n_frameworks = n;
  sim_raw_agent_reregister_with(a, &rr);
}

START_TEST(test_master__reregistering_agent_is_reconciled_with_the_master) {
  start_master();
  sim_raw_agent a;
  agent_register(&a, "agent-rec");
  sim_fw f, gone;
  fw_subscribe(&f, ",\"capabilities\":[{\"type\":\"PARTITION_AWARE\"}]");
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  char offer[160], t1[1024], t2[1024], t3[1024];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[%s,%s,%s]}}]}}",
              f.id, offer, task_json(t1, sizeof t1, "kept", a.id, 1, 64),
              task_json(t2, sizeof t2, "never-arrived", a.id, 1, 64),
              task_json(t3, sizeof t3, "vanished", a.id, 1, 64)),
      202);
  for (int i = 0; i < 3; i++) {
    Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(&a, 5000);
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK);
    mesos__pb_free(ev);
  }
  sim_raw_agent_status(&a, f.id, "kept", "TASK_RUNNING", SIM_RAW_FROM_EXECUTOR);
  sim_raw_agent_status(&a, f.id, "vanished", "TASK_RUNNING", SIM_RAW_FROM_EXECUTOR);
  for (int i = 0; i < 2; i++) {
    rec = sim_fw_next_strict(&f, "TASK_RUNNING", 5000);
    ck_assert_ptr_nonnull(rec);
    free(rec);
  }
  /* A second framework goes away; the agent will still report a task. */
  fw_subscribe(&gone, NULL);
  ck_assert_int_eq(sim_fw_call(&gone, "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"TEARDOWN\"}",
                           gone.id),
                   202);
  mesos_test_conn_close(&gone.stream);

  reported_task report[] = {{f.id, "kept", "TASK_RUNNING"},
                            {gone.id, "orphan", "TASK_RUNNING"}};
  agent_reregister_with(&a, report, 2);
  /* The agent is told to end the removed framework... */
  Mesos__Internal__AgentEvent *ev = sim_raw_agent_next(&a, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(ev->type, MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_FRAMEWORK);
  ck_assert_str_eq(ev->shutdown_framework->framework_id->value, gone.id);
  mesos__pb_free(ev);
  /* ...and the framework hears about the two tasks the agent lost: the
   * one that never left STAGING is DROPPED, the running one GONE. */
  int dropped = 0, gone_seen = 0;
  for (int i = 0; i < 2; i++) {
    rec = sim_fw_next_strict(&f, "REASON_RECONCILIATION", 5000);
    ck_assert_ptr_nonnull(rec);
    if (strstr(rec, "\"never-arrived\"")) {
      ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_DROPPED\""));
      dropped++;
    } else {
      ck_assert_ptr_nonnull(strstr(rec, "\"vanished\""));
      ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_GONE\""));
      gone_seen++;
    }
    ck_assert_ptr_null(strstr(rec, "\"uuid\""));
    free(rec);
  }
  ck_assert_int_eq(dropped, 1);
  ck_assert_int_eq(gone_seen, 1);
  /* Implicit reconciliation now reports only the task that survived. */
  ck_assert_int_eq(sim_fw_call(&f,
                           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"RECONCILE\","
                           "\"reconcile\":{}}",
                           f.id),
                   202);
  rec = sim_fw_next_strict(&f, "REASON_RECONCILIATION", 5000);
  ck_assert_ptr_nonnull(strstr(rec, "\"kept\""));
  free(rec);
  fw_quiet(&f, 300, 1);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

static Mesos__V1__Resource *test_scalar(Mesos__V1__Resource *r, Mesos__V1__Value__Scalar *v,
                                        const char *name, double value) {
  mesos__v1__resource__init(r);
  mesos__v1__value__scalar__init(v);
  v->value = value;
  r->name = (char *)name;
  r->type = MESOS__V1__VALUE__TYPE__SCALAR;
  r->scalar = v;
  return r;
}

/* An agent re-registering with the ExecutorInfos of the executors it runs
 * (one with a task, one whose tasks are all done): the master keeps them
 * (their exit is a FAILURE event), their own resources are accounted to
 * the framework (not offered) until the executor exits, and the task's
 * executor shows in GET_EXECUTORS. */
START_TEST(test_master__reregistering_agent_reports_executors_and_their_resources) {
  start_master();
  sim_raw_agent a;
  agent_register(&a, "agent-executors");
  sim_fw f;
  fw_subscribe(&f, NULL);
  char *rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_double_eq_tol(offered_scalar(rec, "cpus"), 4, 1e-9);
  free(rec);

  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT, *fip = &fi;
  aid.value = a.id;
  fid.value = f.id;
  info.hostname = "agent-executors";
  info.id = &aid;
  fi.id = &fid;
  fi.user = "nobody";
  fi.name = "agents test";
  Mesos__V1__Resource r[6], *er1[2], *er2[2], *tr[2];
  Mesos__V1__Value__Scalar v[6];
  er1[0] = test_scalar(&r[0], &v[0], "cpus", 1);
  er1[1] = test_scalar(&r[1], &v[1], "mem", 256);
  er2[0] = test_scalar(&r[2], &v[2], "cpus", 0.5);
  er2[1] = test_scalar(&r[3], &v[3], "mem", 32);
  tr[0] = test_scalar(&r[4], &v[4], "cpus", 1);
  tr[1] = test_scalar(&r[5], &v[5], "mem", 128);
  Mesos__V1__ExecutorID eid1 = MESOS__V1__EXECUTOR_ID__INIT, eid2 = MESOS__V1__EXECUTOR_ID__INIT;
  eid1.value = "exec-busy";
  eid2.value = "exec-idle";
  Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
  cmd.value = "my-executor";
  Mesos__V1__ExecutorInfo e1 = MESOS__V1__EXECUTOR_INFO__INIT, e2 = MESOS__V1__EXECUTOR_INFO__INIT;
  Mesos__V1__ExecutorInfo *eis[2] = {&e1, &e2};
  e1.executor_id = &eid1;
  e1.framework_id = &fid;
  e1.command = &cmd;
  e1.resources = er1;
  e1.n_resources = 2;
  e2 = e1;
  e2.executor_id = &eid2;
  e2.resources = er2;
  Mesos__V1__Task task = MESOS__V1__TASK__INIT, *tp = &task;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  tid.value = "executed";
  task.name = "t";
  task.task_id = &tid;
  task.framework_id = &fid;
  task.agent_id = &aid;
  task.executor_id = &eid1;
  task.state = MESOS__V1__TASK_STATE__TASK_RUNNING;
  task.resources = tr;
  task.n_resources = 2;
  Mesos__Internal__ReregisterAgent rr = MESOS__INTERNAL__REREGISTER_AGENT__INIT;
  rr.agent = &info;
  rr.tasks = &tp;
  rr.n_tasks = 1;
  rr.frameworks = &fip;
  rr.n_frameworks = 1;
  rr.executor_infos = eis;
  rr.n_executor_infos = 2;
  sim_raw_agent_reregister_with(&a, &rr);
  /* The old offer is rescinded; the new one leaves out the task and both
   * executors: 4 - 1 - 1 - 0.5 cpus, 1024 - 128 - 256 - 32 mem. */
  rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_double_eq_tol(offered_scalar(rec, "cpus"), 1.5, 1e-9);
  ck_assert_double_eq_tol(offered_scalar(rec, "mem"), 608, 1e-9);
  free(rec);
  /* The task's record names its executor (and keeps its resources). */
  mesos_test_response resp;
  const char *get = "{\"type\":\"GET_EXECUTORS\"}";
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1", "application/json", NULL, get,
                                   &resp),
                   0);
  ck_assert_int_eq(resp.status, 200);
  ck_assert_ptr_nonnull(strstr(resp.body, "\"exec-busy\""));
  /* The agent's ExecutorInfos are the whole truth: the busy executor, first
   * known by id from its task, shows its command; the idle one is listed
   * though no task names it.  Two entries, no id-only duplicate. */
  ck_assert_ptr_nonnull(strstr(resp.body, "\"exec-idle\""));
  {
    const char *p = resp.body;
    int commands = 0, entries = 0;
    while ((p = strstr(p, "\"my-executor\"")) != NULL) commands++, p++;
    for (p = resp.body; (p = strstr(p, "\"executor_info\"")) != NULL; p++) entries++;
    ck_assert_int_eq(commands, 2);
    ck_assert_int_eq(entries, 2);
  }
  mesos_test_response_free(&resp);
  const char *tasks = "{\"type\":\"GET_TASKS\"}";
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1", "application/json", NULL,
                                   tasks, &resp),
                   0);
  ck_assert_int_eq(resp.status, 200);
  ck_assert_ptr_nonnull(strstr(resp.body, "\"executed\""));
  ck_assert_ptr_nonnull(strstr(resp.body, "\"executor_id\":{\"value\":\"exec-busy\"}"));
  ck_assert_ptr_nonnull(strstr(resp.body, "\"value\":128"));
  mesos_test_response_free(&resp);
  /* The idle executor exits: a FAILURE event (a custom executor the
   * master knows), and its resources are offered again. */
  sim_raw_agent_exited_executor(&a, f.id, "exec-idle", 256);
  rec = sim_fw_next_strict(&f, "\"type\":\"FAILURE\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, "exec-idle"));
  free(rec);
  rec = sim_fw_next_strict(&f, "\"type\":\"OFFERS\"", 5000);
  ck_assert_msg(rec != NULL, "the exited executor's resources were not offered again");
  ck_assert_double_eq_tol(offered_scalar(rec, "cpus"), 0.5, 1e-9);
  ck_assert_double_eq_tol(offered_scalar(rec, "mem"), 32, 1e-9);
  free(rec);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

START_TEST(test_master__agents_that_miss_the_reregister_window_become_unreachable) {
  /* The flag's minimum is Mesos's 10 s... */
  char path[4096], cmd[4200];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  snprintf(cmd, sizeof cmd, "%s --agent_reregister_timeout=5secs 2>&1", path);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char out[4096];
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  ck_assert_int_eq(WEXITSTATUS(pclose(p)), 1);
  ck_assert_msg(strstr(out, "--agent_reregister_timeout: expected at least 10secs") != NULL,
                "%s", out);

  char dir[] = "/tmp/mesos-master-test-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char log[600];
  snprintf(log, sizeof log, "%s/master.log", dir);
  master_port = mesos_test_free_port();
  master_pid = start_durable(master_port, dir, log, "--agent_ping_timeout=10secs");
  sim_raw_agent a, b;
  agent_register(&a, "agent-back");
  agent_register(&b, "agent-away");
  kill(master_pid, SIGKILL);
  waitpid(master_pid, NULL, 0);
  sim_raw_agent_close(&a);
  sim_raw_agent_close(&b);
  /* ...so the test shortens the window through the test-only knob. */
  setenv("LIBMESOS_CORE_TEST_AGENT_REREGISTER_TIMEOUT_MS", "1500", 1);
  master_pid = start_durable(master_port, dir, log, "--agent_ping_timeout=10secs");
  unsetenv("LIBMESOS_CORE_TEST_AGENT_REREGISTER_TIMEOUT_MS");
  sim_fw f;
  fw_subscribe(&f, ",\"capabilities\":[{\"type\":\"PARTITION_AWARE\"}]");
  agent_reregister(&a);
  /* While b may still come back, reconciling a task on it gets no answer. */
  const char *reconcile =
      "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"RECONCILE\",\"reconcile\":{\"tasks\":"
      "[{\"task_id\":{\"value\":\"t-away\"},\"agent_id\":{\"value\":\"%s\"}}]}}";
  ck_assert_int_eq(sim_fw_call(&f, reconcile, f.id, b.id), 202);
  fw_quiet(&f, 200, 1);
  /* The window closes: b is lost (FAILURE) and unreachable, durably. */
  char *rec = sim_fw_next_strict(&f, "\"type\":\"FAILURE\"", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, b.id));
  free(rec);
  ck_assert_int_eq(sim_fw_call(&f, reconcile, f.id, b.id), 202);
  rec = sim_fw_next_strict(&f, "REASON_RECONCILIATION", 5000);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_UNREACHABLE\""));
  ck_assert_ptr_nonnull(strstr(rec, "\"unreachable_time\""));
  free(rec);
  mesos_test_conn_close(&f.stream);
  sim_raw_agent_close(&a);
  kill(master_pid, SIGKILL);
  waitpid(master_pid, NULL, 0);
  master_pid = start_durable(master_port, dir, log, "--agent_ping_timeout=10secs");
  ck_assert_msg(file_contains(log, "1 admitted agents, 1 unreachable"),
                "the unreachable mark was not durable");
  /* b may still come back later: it is re-admitted. */
  agent_reregister(&b);
  sim_raw_agent_close(&b);
  stop_master();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_agents");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_master__offer_launch_update_acknowledge_round_trip);
  tcase_add_test(tc, test_master__invalid_launches_are_answered_with_task_error_or_lost);
  tcase_add_test(tc, test_master__accept_combining_offers_of_two_cycles_gives_everything_back);
  tcase_add_test(tc, test_master__silent_agent_is_removed_and_its_tasks_are_lost);
  tcase_add_test(tc, test_master__declined_resources_return_after_revive);
  tcase_add_test(tc, test_master__admitted_and_unreachable_agents_survive_kill_9);
  tcase_add_test(tc, test_master__reserve_and_unreserve_change_offers_and_agent_checkpoints);
  tcase_add_test(tc, test_master__update_framework_changes_roles_and_refuses_invalid_updates);
  tcase_add_test(tc, test_master__executor_exit_is_a_failure_event_only_for_custom_executors);
  tcase_add_test(tc, test_master__reregistering_agent_is_reconciled_with_the_master);
  tcase_add_test(tc, test_master__reregistering_agent_reports_executors_and_their_resources);
  tcase_add_test(tc, test_master__agents_that_miss_the_reregister_window_become_unreachable);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }

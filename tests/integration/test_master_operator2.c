/*
 * More of the master's operator API against a real mesos-master over
 * loopback HTTP, with simulated agents (our agent protocol) and a JSON
 * scheduler:
 *  - an agent marked unreachable (missed pings) and later re-admitted keeps
 *    its operator reservations, persistent volumes, deactivation and drain
 *    state, as Mesos's registry carries drain_info/deactivated over
 *    MARK_UNREACHABLE -> readmission (and Mesos agents report their
 *    checkpointed resources);
 *  - DRAIN_AGENT / DEACTIVATE_AGENT take unreachable agents too (Mesos);
 *  - tasks killed by a drain carry REASON_AGENT_DRAINING, and become
 *    TASK_GONE_BY_OPERATOR for partition-aware frameworks when the drain
 *    marks the agent gone;
 *  - REACTIVATE_AGENT of an agent that is not deactivated is a 400.
 *
 * The scheduler is tests/support/sim_fw.h, the agents
 * tests/support/sim_raw_agent.h.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
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

/* POSTs a JSON operator call; asserts the status (and that the body holds
 * `want`, when given); returns the body (malloc'd). */
static char *json_call(int expect, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static char *json_call(int expect, const char *want, const char *fmt, ...) {
  char body[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof body, fmt, ap);
  va_end(ap);
  mesos_test_response r;
  ck_assert_int_eq(
      mesos_test_http(master_port, "POST", "/api/v1", "application/json", NULL, body, &r), 0);
  char *out = r.body;
  r.body = NULL;
  int st = r.status;
  mesos_test_response_free(&r);
  ck_assert_msg(st == expect, "%s -> %d (want %d): %s", body, st, expect, out ? out : "");
  if (want) ck_assert_msg(out && strstr(out, want), "%s -> %s (want %s)", body, out, want);
  return out;
}

/* Closes the agent's stream and waits (answering nothing) until the
 * master has marked it unreachable: it leaves GET_AGENTS. */
static void agent_goes_unreachable(sim_raw_agent *a) {
  sim_raw_agent_close(a);
  long long deadline = sim_fw_now_ms() + 8000;
  int gone = 0;
  while (!gone && sim_fw_now_ms() < deadline) {
    char *b = json_call(200, NULL, "{\"type\":\"GET_AGENTS\"}");
    gone = strstr(b, a->id) == NULL;
    free(b);
    if (!gone) usleep(50000);
  }
  ck_assert_msg(gone, "agent %s was not marked unreachable", a->id);
}

/* SUBSCRIBE as a new framework (user nobody) with the framework_info
 * members `extra_info` (",\"role\":..." or NULL) besides its name. */
static void fw_subscribe(sim_fw *f, const char *extra_info) {
  char info[1024];
  snprintf(info, sizeof info, "\"user\":\"nobody\",\"name\":\"operator2 test\"%s",
           extra_info ? extra_info : "");
  sim_fw_subscribe(f, master_port, info);
}

/* Launches `task` (1 cpu, 64 mem) on `a` with the next offer; the agent
 * receives RUN_TASK and reports TASK_RUNNING. */
static void launch_running(sim_fw *f, sim_raw_agent *a, const char *task) {
  char *rec = NULL;
  long long deadline = sim_fw_now_ms() + 5000;
  while (rec == NULL && sim_fw_now_ms() < deadline) {
    rec = sim_fw_next(f, 200, "\"type\":\"OFFERS\"", NULL);
    sim_raw_agent_pump(a, 1);
  }
  ck_assert_ptr_nonnull(rec);
  char offer[160];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  ck_assert_int_eq(
      sim_fw_call(f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
              "\"command\":{\"value\":\"sleep 1000\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
              "\"SCALAR\",\"scalar\":{\"value\":1}},{\"name\":\"mem\",\"type\":\"SCALAR\","
              "\"scalar\":{\"value\":64}}]}]}}],\"filters\":{\"refuse_seconds\":0}}}",
              f->id, offer, task, a->id),
      202);
  Mesos__Internal__AgentEvent *ev =
      sim_raw_agent_expect(a, MESOS__INTERNAL__AGENT_EVENT__TYPE__RUN_TASK, 5000);
  ck_assert_ptr_nonnull(ev);
  mesos__pb_free(ev);
  sim_raw_agent_status(a, f->id, task, "TASK_RUNNING", SIM_RAW_EXECUTOR_REASON);
  rec = sim_fw_next(f, 5000, "\"TASK_RUNNING\"", NULL);
  ck_assert_ptr_nonnull(rec);
  free(rec);
}

/* GET_AGENTS until it holds `want` (the agent re-registered, a drain moved
 * on); returns the body that did. */
static char *agents_until(sim_raw_agent *a, const char *want) {
  long long deadline = sim_fw_now_ms() + 5000;
  while (sim_fw_now_ms() < deadline) {
    char *b = json_call(200, NULL, "{\"type\":\"GET_AGENTS\"}");
    if (strstr(b, want)) return b;
    free(b);
    if (a) sim_raw_agent_pump(a, 30);
    else usleep(30000);
  }
  ck_abort_msg("GET_AGENTS never showed %s", want);
  return NULL;
}

#define RESERVED(what, amount)                                                              \
  "{\"name\":\"" what "\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" #amount "},\"role\":" \
  "\"r1\",\"reservation\":{\"principal\":\"ops\"}}"

#define VOLUME                                                                              \
  "{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":100},\"role\":\"r1\","      \
  "\"reservation\":{\"principal\":\"ops\"},\"disk\":{\"persistence\":{\"id\":\"vol-1\","    \
  "\"principal\":\"ops\"},\"volume\":{\"container_path\":\"data\",\"mode\":\"RW\"}}}"

/* ------------------------------------------------------------ tests */

/* Reservations and a volume made by the operator are offered to their
 * role again after the agent was unreachable and came back. */
START_TEST(test_operator2__unreachable_agent_keeps_reservations_and_volumes) {
  start_master();
  sim_raw_agent a;
  sim_raw_agent_init(&a, master_port, "unreach-host-1");
  sim_raw_agent_register(&a);
  free(json_call(202, NULL,
                 "{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{\"agent_id\":"
                 "{\"value\":\"%s\"},\"resources\":[" RESERVED("cpus", 1) "," RESERVED("disk", 300)
                 "]}}",
                 a.id));
  sim_raw_agent_pump(&a, 20);
  free(json_call(202, NULL,
                 "{\"type\":\"CREATE_VOLUMES\",\"create_volumes\":{\"agent_id\":{\"value\":\"%s\"},"
                 "\"volumes\":[" VOLUME "]}}",
                 a.id));
  char *b = agents_until(&a, "vol-1");
  free(b);

  agent_goes_unreachable(&a);
  sim_raw_agent_reregister(&a, NULL, NULL);
  b = agents_until(&a, a.id);
  ck_assert_msg(strstr(b, "\"persistence\":{\"id\":\"vol-1\""), "volume lost: %s", b);
  ck_assert_msg(strstr(b, "\"role\":\"r1\""), "reservation lost: %s", b);
  free(b);

  /* A framework of role r1 is offered the reserved cpus and the volume;
   * the reserved disk left beside the volume is 200. */
  sim_fw f;
  fw_subscribe(&f, ",\"roles\":[\"r1\"],\"capabilities\":[{\"type\":\"MULTI_ROLE\"}]");
  char *rec = NULL;
  long long deadline = sim_fw_now_ms() + 5000;
  while (rec == NULL && sim_fw_now_ms() < deadline) {
    rec = sim_fw_next(&f, 200, "\"type\":\"OFFERS\"", NULL);
    sim_raw_agent_pump(&a, 1);
  }
  ck_assert_msg(rec != NULL, "no offer after readmission");
  ck_assert_msg(strstr(rec, "\"id\":\"vol-1\""), "volume not offered: %s", rec);
  ck_assert_msg(strstr(rec, "\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1.0}") ||
                    strstr(rec, "\"scalar\":{\"value\":1}"),
                "reserved cpus not offered: %s", rec);
  ck_assert_msg(strstr(rec, "\"value\":200"), "reserved disk not offered: %s", rec);
  free(rec);
  sim_fw_close(&f);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

/* An agent DRAINING when it became unreachable is still DRAINING after it
 * comes back: the task it reports is killed again, the kill carries
 * REASON_AGENT_DRAINING, then the agent is DRAINED and gets no offers. */
START_TEST(test_operator2__draining_agent_stays_draining_across_unreachable) {
  start_master();
  sim_raw_agent a;
  sim_raw_agent_init(&a, master_port, "unreach-host-2");
  sim_raw_agent_register(&a);
  sim_fw f;
  fw_subscribe(&f, NULL);
  launch_running(&f, &a, "dr-1");
  free(json_call(200, NULL,
                 "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"},"
                 "\"max_grace_period\":{\"seconds\":30}}}",
                 a.id));
  Mesos__Internal__AgentEvent *ev =
      sim_raw_agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__KILL_TASK, 5000);
  ck_assert_ptr_nonnull(ev);
  mesos__pb_free(ev);
  free(agents_until(&a, "\"state\":\"DRAINING\""));

  /* The task outlives its kill (grace period) while the agent is away. */
  agent_goes_unreachable(&a);
  char *rec = sim_fw_next(&f, 5000, "\"dr-1\"", NULL);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, "TASK_LOST"));
  free(rec);
  sim_raw_agent_reregister(&a, f.id, "dr-1");
  char *b = agents_until(&a, a.id);
  ck_assert_msg(strstr(b, "\"state\":\"DRAINING\""), "drain lost on readmission: %s", b);
  ck_assert_msg(strstr(b, "\"deactivated\":true"), "deactivation lost: %s", b);
  free(b);
  ev = sim_raw_agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__KILL_TASK, 5000);
  ck_assert_msg(ev != NULL, "the re-admitted draining agent's task was not killed");
  ck_assert_str_eq(ev->kill_task->task_id->value, "dr-1");
  mesos__pb_free(ev);
  free(json_call(409, "DRAINING",
                 "{\"type\":\"REACTIVATE_AGENT\",\"reactivate_agent\":{\"agent_id\":"
                 "{\"value\":\"%s\"}}}",
                 a.id));

  sim_raw_agent_status(&a, f.id, "dr-1", "TASK_KILLED", SIM_RAW_EXECUTOR_REASON);
  rec = sim_fw_next(&f, 5000, "\"TASK_KILLED\"", NULL);
  ck_assert_ptr_nonnull(rec);
  ck_assert_msg(strstr(rec, "\"reason\":\"REASON_AGENT_DRAINING\""), "no drain reason: %s", rec);
  free(rec);
  free(agents_until(&a, "\"state\":\"DRAINED\""));
  rec = sim_fw_next(&f, 400, "\"type\":\"OFFERS\"", NULL);
  ck_assert_msg(rec == NULL, "an offer for a drained agent: %s", rec);
  sim_fw_close(&f);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

/* DEACTIVATE_AGENT and DRAIN_AGENT of an unreachable agent are recorded
 * and apply when it comes back (Mesos takes both for unreachable agents);
 * REACTIVATE_AGENT of an active agent is a 400; an unknown agent is a 400
 * for all three. */
START_TEST(test_operator2__deactivate_and_drain_an_unreachable_agent) {
  start_master();
  sim_raw_agent a, c;
  sim_raw_agent_init(&a, master_port, "unreach-host-3");
  sim_raw_agent_init(&c, master_port, "unreach-host-4");
  sim_raw_agent_register(&a);
  sim_raw_agent_register(&c);
  free(json_call(400, "not deactivated",
                 "{\"type\":\"REACTIVATE_AGENT\",\"reactivate_agent\":{\"agent_id\":"
                 "{\"value\":\"%s\"}}}",
                 a.id));
  static const char *const calls[] = {"DEACTIVATE_AGENT\",\"deactivate_agent",
                                      "REACTIVATE_AGENT\",\"reactivate_agent",
                                      "DRAIN_AGENT\",\"drain_agent"};
  for (int i = 0; i < 3; i++)
    free(json_call(400, "Unknown agent",
                   "{\"type\":\"%s\":{\"agent_id\":{\"value\":\"no-such-agent\"}}}", calls[i]));
  sim_raw_agent_pump(&a, 1);
  sim_raw_agent_pump(&c, 1);

  /* a is deactivated, c drained (with mark_gone false), both while away. */
  sim_raw_agent_close(&c);
  agent_goes_unreachable(&a);
  free(json_call(200, NULL,
                 "{\"type\":\"DEACTIVATE_AGENT\",\"deactivate_agent\":{\"agent_id\":"
                 "{\"value\":\"%s\"}}}",
                 a.id));
  long long deadline = sim_fw_now_ms() + 5000;
  int refused = 1;
  while (refused && sim_fw_now_ms() < deadline) {
    /* c may take a moment longer to be marked unreachable. */
    char *b = json_call(200, NULL, "{\"type\":\"GET_AGENTS\"}");
    refused = strstr(b, c.id) != NULL;
    free(b);
    if (refused) usleep(50000);
  }
  ck_assert_msg(!refused, "agent c was not marked unreachable");
  free(json_call(200, NULL,
                 "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"}}}",
                 c.id));

  sim_raw_agent_reregister(&a, NULL, NULL);
  sim_raw_agent_reregister(&c, NULL, NULL);
  char *b = agents_until(&a, c.id);
  free(b);
  b = agents_until(&c, "\"state\":\"DRAINED\"");
  free(b);
  b = agents_until(&a, a.id);
  /* Both deactivated: a by the operator, c by its drain. */
  const char *p = strstr(b, "\"deactivated\":true");
  ck_assert_msg(p && strstr(p + 1, "\"deactivated\":true"), "deactivation lost: %s", b);
  ck_assert_ptr_null(strstr(b, "\"deactivated\":false"));
  free(b);
  sim_fw f;
  fw_subscribe(&f, NULL);
  char *rec = sim_fw_next(&f, 400, "\"type\":\"OFFERS\"", NULL);
  ck_assert_msg(rec == NULL, "an offer for a deactivated agent: %s", rec);
  /* Reactivated, a is offered again. */
  free(json_call(200, NULL,
                 "{\"type\":\"REACTIVATE_AGENT\",\"reactivate_agent\":{\"agent_id\":"
                 "{\"value\":\"%s\"}}}",
                 a.id));
  rec = NULL;
  deadline = sim_fw_now_ms() + 5000;
  while (rec == NULL && sim_fw_now_ms() < deadline) {
    rec = sim_fw_next(&f, 200, "\"type\":\"OFFERS\"", NULL);
    sim_raw_agent_pump(&a, 1);
    sim_raw_agent_pump(&c, 1);
  }
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(strstr(rec, a.id));
  ck_assert_ptr_null(strstr(rec, c.id));
  free(rec);
  sim_fw_close(&f);
  sim_raw_agent_close(&a);
  sim_raw_agent_close(&c);
  stop_master();
}
END_TEST

/* A drain with mark_gone: a partition-aware framework hears
 * TASK_GONE_BY_OPERATOR with REASON_AGENT_DRAINING for the killed task,
 * then the agent is gone for good. */
START_TEST(test_operator2__drain_mark_gone_tells_partition_aware_frameworks) {
  start_master();
  sim_raw_agent a;
  sim_raw_agent_init(&a, master_port, "gone-host");
  sim_raw_agent_register(&a);
  sim_fw f;
  fw_subscribe(&f, ",\"capabilities\":[{\"type\":\"PARTITION_AWARE\"}]");
  launch_running(&f, &a, "g-1");
  free(json_call(200, NULL,
                 "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"},"
                 "\"mark_gone\":true}}",
                 a.id));
  Mesos__Internal__AgentEvent *ev =
      sim_raw_agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__KILL_TASK, 5000);
  ck_assert_ptr_nonnull(ev);
  mesos__pb_free(ev);
  sim_raw_agent_status(&a, f.id, "g-1", "TASK_KILLED", SIM_RAW_EXECUTOR_REASON);
  char *rec = sim_fw_next(&f, 5000, "\"g-1\"", NULL);
  ck_assert_ptr_nonnull(rec);
  ck_assert_msg(strstr(rec, "\"state\":\"TASK_GONE_BY_OPERATOR\""), "%s", rec);
  ck_assert_msg(strstr(rec, "\"reason\":\"REASON_AGENT_DRAINING\""), "%s", rec);
  free(rec);
  long long deadline = sim_fw_now_ms() + 5000;
  int gone = 0;
  while (!gone && sim_fw_now_ms() < deadline) {
    char *b = json_call(200, NULL, "{\"type\":\"GET_AGENTS\"}");
    gone = strstr(b, a.id) == NULL;
    free(b);
    if (!gone) sim_raw_agent_pump(&a, 30);
  }
  ck_assert_msg(gone, "the drained agent was not marked gone");
  /* Gone agents may not come back. */
  sim_raw_agent_close(&a);
  free(json_call(400, "Unknown agent",
                 "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"}}}",
                 a.id));
  sim_fw_close(&f);
  stop_master();
}
END_TEST

/* A reservation a framework made through ACCEPT is recorded like the
 * operator's: it is offered to its role again after the agent was
 * unreachable and came back. */
START_TEST(test_operator2__accept_reservation_survives_unreachable) {
  start_master();
  sim_raw_agent a;
  sim_raw_agent_init(&a, master_port, "unreach-host-5");
  sim_raw_agent_register(&a);
  sim_fw f;
  fw_subscribe(&f, ",\"role\":\"r1\",\"principal\":\"ops\"");
  char *rec = NULL;
  long long deadline = sim_fw_now_ms() + 5000;
  while (rec == NULL && sim_fw_now_ms() < deadline) {
    rec = sim_fw_next(&f, 200, "\"type\":\"OFFERS\"", NULL);
    sim_raw_agent_pump(&a, 1);
  }
  ck_assert_ptr_nonnull(rec);
  char offer[160];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  free(rec);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
              "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"RESERVE\","
              "\"reserve\":{\"resources\":[" RESERVED("cpus", 2) "]}}],\"filters\":{"
              "\"refuse_seconds\":0}}}",
              f.id, offer),
      202);
  Mesos__Internal__AgentEvent *ev =
      sim_raw_agent_expect(&a, MESOS__INTERNAL__AGENT_EVENT__TYPE__CHECKPOINT_RESOURCES, 5000);
  ck_assert_ptr_nonnull(ev);
  ck_assert_uint_eq(ev->checkpoint_resources->n_resources, 1);
  mesos__pb_free(ev);

  agent_goes_unreachable(&a);
  sim_raw_agent_reregister(&a, NULL, NULL);
  char *b = agents_until(&a, a.id);
  ck_assert_msg(strstr(b, "\"role\":\"r1\""), "ACCEPT's reservation lost: %s", b);
  free(b);
  rec = NULL;
  deadline = sim_fw_now_ms() + 5000;
  while (rec == NULL && sim_fw_now_ms() < deadline) {
    rec = sim_fw_next(&f, 200, "\"reservation\":{\"principal\":\"ops\"}", NULL);
    sim_raw_agent_pump(&a, 1);
  }
  ck_assert_msg(rec != NULL, "the reservation was not offered after readmission");
  free(rec);
  sim_fw_close(&f);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

/* GET on a classic endpoint; asserts the status, returns the body. */
static char *http_get(const char *path, int expect) {
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(master_port, "GET", path, NULL, NULL, NULL, &r), 0);
  ck_assert_msg(r.status == expect, "GET %s -> %d (want %d): %s", path, r.status, expect,
                r.body ? r.body : "");
  char *b = r.body;
  r.body = NULL;
  mesos_test_response_free(&r);
  return b;
}

/* build_date is "YYYY-MM-DD hh:mm:ss" and build_time a plausible epoch
 * number (after 2020), in a /version-shaped JSON body. */
static void check_build_info(const char *b) {
  const char *d = strstr(b, "\"build_date\":\"");
  ck_assert_msg(d != NULL, "no build_date: %s", b);
  d += strlen("\"build_date\":\"");
  int y, mo, da, h, mi, se;
  char end;
  ck_assert_msg(sscanf(d, "%4d-%2d-%2d %2d:%2d:%2d%c", &y, &mo, &da, &h, &mi, &se, &end) == 7 &&
                    end == '"' && y >= 2020 && mo >= 1 && mo <= 12 && da >= 1 && da <= 31,
                "build_date is not YYYY-MM-DD hh:mm:ss: %s", b);
  const char *t = strstr(b, "\"build_time\":");
  ck_assert_msg(t != NULL, "no build_time: %s", b);
  ck_assert_msg(strtod(t + strlen("\"build_time\":"), NULL) > 1.5e9, "build_time: %s", b);
}

/* The calls and classic endpoints of issue 6 that had no test of their
 * success path or of a bad input elsewhere: UPDATE_QUOTA; every call's
 * missing sub-message; SET_LOGGING_LEVEL without a duration; READ_FILE
 * with a negative offset; the resource calls with unknown agents and
 * wrong resources; /version and /health under both paths; the files endpoints without
 * a path; Mesos metric names. */
START_TEST(test_operator2__remaining_calls_success_and_bad_input) {
  start_master();
  /* UPDATE_QUOTA (1.8): stored with guarantees and limits (force: no
   * agent has the resources yet); invalid configs change nothing. */
  free(json_call(200, NULL,
                 "{\"type\":\"UPDATE_QUOTA\",\"update_quota\":{\"force\":true,\"quota_configs\":"
                 "[{\"role\":\"q1\",\"guarantees\":{\"cpus\":{\"value\":1}},\"limits\":"
                 "{\"cpus\":{\"value\":2}}}]}}"));
  char *b = json_call(200, "\"configs\":[{\"role\":\"q1\"", "{\"type\":\"GET_QUOTA\"}");
  ck_assert_msg(strstr(b, "\"limits\":{\"cpus\":{\"value\":2"), "%s", b);
  free(b);
  free(json_call(400, "non-negative",
                 "{\"type\":\"UPDATE_QUOTA\",\"update_quota\":{\"quota_configs\":[{\"role\":"
                 "\"q2\",\"guarantees\":{\"cpus\":{\"value\":-1}}}]}}"));
  free(json_call(400, "below its guarantee",
                 "{\"type\":\"UPDATE_QUOTA\",\"update_quota\":{\"force\":true,\"quota_configs\":"
                 "[{\"role\":\"q2\",\"guarantees\":{\"cpus\":{\"value\":3}},\"limits\":{\"cpus\":"
                 "{\"value\":2}}}]}}"));
  free(json_call(400, "'*'",
                 "{\"type\":\"UPDATE_QUOTA\",\"update_quota\":{\"quota_configs\":[{\"role\":\"*\","
                 "\"limits\":{\"cpus\":{\"value\":2}}}]}}"));
  b = json_call(200, NULL, "{\"type\":\"GET_QUOTA\"}");
  ck_assert_msg(strstr(b, "q2") == NULL, "an invalid quota was stored: %s", b);
  free(b);
  free(json_call(200, NULL, "{\"type\":\"REMOVE_QUOTA\",\"remove_quota\":{\"role\":\"q1\"}}"));
  free(json_call(200, "\"get_quota\":{\"status\":{}}", "{\"type\":\"GET_QUOTA\"}"));

  /* A call without the sub-message it needs: 400 naming the field. */
  static const char *const need[][2] = {
      {"GET_METRICS", "get_metrics"},
      {"SET_LOGGING_LEVEL", "set_logging_level"},
      {"LIST_FILES", "list_files"},
      {"READ_FILE", "read_file"},
      {"UPDATE_WEIGHTS", "update_weights"},
      {"RESERVE_RESOURCES", "reserve_resources"},
      {"UNRESERVE_RESOURCES", "unreserve_resources"},
      {"CREATE_VOLUMES", "create_volumes"},
      {"DESTROY_VOLUMES", "destroy_volumes"},
      {"GROW_VOLUME", "grow_volume"},
      {"SHRINK_VOLUME", "shrink_volume"},
      {"UPDATE_MAINTENANCE_SCHEDULE", "update_maintenance_schedule"},
      {"START_MAINTENANCE", "start_maintenance"},
      {"STOP_MAINTENANCE", "stop_maintenance"},
      {"SET_QUOTA", "set_quota"},
      {"UPDATE_QUOTA", "update_quota"},
      {"REMOVE_QUOTA", "remove_quota"},
      {"TEARDOWN", "teardown"},
      {"MARK_AGENT_GONE", "mark_agent_gone"},
      {"DRAIN_AGENT", "drain_agent"},
      {"DEACTIVATE_AGENT", "deactivate_agent"},
      {"REACTIVATE_AGENT", "reactivate_agent"},
  };
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
    char want[96];
    snprintf(want, sizeof want, "Expecting '%s' to be present", need[i][1]);
    free(json_call(400, want, "{\"type\":\"%s\"}", need[i][0]));
  }
  /* Required fields inside the sub-message, and out-of-range numbers. */
  free(json_call(400, "duration",
                 "{\"type\":\"SET_LOGGING_LEVEL\",\"set_logging_level\":{\"level\":1}}"));
  free(json_call(200, "\"level\":0", "{\"type\":\"GET_LOGGING_LEVEL\"}"));
  free(json_call(400, "offset",
                 "{\"type\":\"READ_FILE\",\"read_file\":{\"path\":\"/master/log\",\"offset\":-5}}"));
  free(json_call(400, "expected an enum name", "{\"type\":5}"));
  free(json_call(400, "JSON object", "[]"));

  /* Resource calls: unknown agent, then wrong resources on a real one. */
  static const char *const res_calls[][2] = {{"UNRESERVE_RESOURCES", "unreserve_resources\":{"
                                                                     "\"resources"},
                                             {"CREATE_VOLUMES", "create_volumes\":{\"volumes"},
                                             {"DESTROY_VOLUMES", "destroy_volumes\":{\"volumes"}};
  for (int i = 0; i < 3; i++)
    free(json_call(400, "No agent found",
                   "{\"type\":\"%s\",\"%s\":[],\"agent_id\":{\"value\":\"nope\"}}}",
                   res_calls[i][0], res_calls[i][1]));
  sim_raw_agent a;
  sim_raw_agent_init(&a, master_port, "calls-host");
  sim_raw_agent_register(&a);
  free(json_call(400, "no resources given",
                 "{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{\"agent_id\":{\"value\":"
                 "\"%s\"},\"resources\":[]}}",
                 a.id));
  free(json_call(400, "not dynamically reserved",
                 "{\"type\":\"UNRESERVE_RESOURCES\",\"unreserve_resources\":{\"agent_id\":"
                 "{\"value\":\"%s\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\","
                 "\"scalar\":{\"value\":1}}]}}",
                 a.id));
  free(json_call(409, "does not hold",
                 "{\"type\":\"UNRESERVE_RESOURCES\",\"unreserve_resources\":{\"agent_id\":"
                 "{\"value\":\"%s\"},\"resources\":[" RESERVED("cpus", 1) "]}}",
                 a.id));
  free(json_call(400, "not a persistent volume",
                 "{\"type\":\"CREATE_VOLUMES\",\"create_volumes\":{\"agent_id\":{\"value\":\"%s\"},"
                 "\"volumes\":[" RESERVED("disk", 10) "]}}",
                 a.id));
  free(json_call(400, "Invalid resource",
                 "{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{\"agent_id\":{\"value\":"
                 "\"%s\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":"
                 "{\"value\":-1},\"role\":\"r1\",\"reservation\":{\"principal\":\"ops\"}}]}}",
                 a.id));
  /* Nothing of that changed the agent. */
  b = json_call(200, NULL, "{\"type\":\"GET_AGENTS\"}");
  ck_assert_msg(strstr(b, "\"r1\"") == NULL, "a refused call changed the agent: %s", b);
  free(b);
  sim_raw_agent_pump(&a, 1);
  /* An agent in the maintenance schedule is not drained by DRAIN_AGENT
   * (Mesos: 400); out of the schedule again, it may be. */
  free(json_call(200, NULL,
                 "{\"type\":\"UPDATE_MAINTENANCE_SCHEDULE\",\"update_maintenance_schedule\":"
                 "{\"schedule\":{\"windows\":[{\"machine_ids\":[{\"hostname\":\"calls-host\"}],"
                 "\"unavailability\":{\"start\":{\"nanoseconds\":1}}}]}}}"));
  free(json_call(400, "maintenance schedule",
                 "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"}}}",
                 a.id));
  b = json_call(200, NULL, "{\"type\":\"GET_AGENTS\"}");
  ck_assert_msg(strstr(b, "DRAINING") == NULL, "a refused drain was recorded: %s", b);
  free(b);
  free(json_call(200, NULL,
                 "{\"type\":\"UPDATE_MAINTENANCE_SCHEDULE\",\"update_maintenance_schedule\":"
                 "{\"schedule\":{}}}"));
  free(json_call(200, NULL,
                 "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"}}}",
                 a.id));
  free(agents_until(&a, "\"state\":\"DRAINED\""));

  /* Classic endpoints. */
  b = http_get("/version", 200);
  ck_assert_ptr_nonnull(strstr(b, "\"version\":\"1.0.0\""));
  check_build_info(b);
  free(b);
  free(http_get("/master/version", 200));
  b = json_call(200, NULL, "{\"type\":\"GET_VERSION\"}");
  check_build_info(b);
  free(b);
  b = http_get("/state", 200);
  check_build_info(b);
  free(b);
  free(http_get("/health", 200));
  free(http_get("/master/health", 200));
  b = http_get("/files/browse", 400);
  ck_assert_msg(b && strstr(b, "path"), "%s", b);
  free(b);
  free(http_get("/files/read", 400));
  free(http_get("/files/browse?path=/no-such-dir", 404));
  b = http_get("/metrics/snapshot", 200);
  static const char *const names[] = {"master/uptime_secs", "master/tasks_running",
                                      "master/slaves_active", "master/frameworks_active",
                                      "allocator/mesos/allocation_runs",
                                      "allocator/event_queue_dispatches"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char want[96];
    snprintf(want, sizeof want, "\"%s\":", names[i]);
    ck_assert_msg(strstr(b, want) != NULL, "metric %s missing", names[i]);
  }
  free(b);
  b = http_get("/master/flags", 200);
  ck_assert_ptr_nonnull(strstr(b, "\"agent_ping_timeout\":\"300ms\""));
  free(b);
  b = http_get("/master/state-summary", 200);
  ck_assert_ptr_nonnull(strstr(b, a.id));
  free(b);
  sim_raw_agent_close(&a);
  stop_master();
}
END_TEST

/* ------------------------------------------------------------ a real agent */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

/* The next UPDATE of `task` in `state` (others of it are acknowledged
 * and skipped); acknowledged when it has a uuid. */
static char *real_update(sim_fw *f, const char *task, const char *state) {
  char tid[256];
  snprintf(tid, sizeof tid, "\"task_id\":{\"value\":\"%s\"}", task);
  long long deadline = sim_fw_now_ms() + 10000;
  while (sim_fw_now_ms() < deadline) {
    char *rec = sim_fw_next(f, (int)(deadline - sim_fw_now_ms()), tid, NULL);
    if (rec == NULL) break;
    if (!strstr(rec, "\"type\":\"UPDATE\"")) {
      free(rec);
      continue;
    }
    if (strstr(rec, "\"uuid\":\"")) sim_fw_ack(f, rec);
    if (strstr(rec, state)) return rec;
    free(rec);
  }
  ck_abort_msg("no %s update for %s", state, task);
  return NULL;
}

/* The same story with a real mesos-agent: stopped (SIGSTOP) until the
 * master marks it unreachable, then continued; it re-registers by
 * itself, keeps the operator's reservation, and the drain that follows
 * kills its real task with REASON_AGENT_DRAINING. */
static char base[64];

/* Unchecked fixtures run in the parent process: the work directory goes
 * away also when the test fails. */
static void make_base(void) {
  snprintf(base, sizeof base, "/tmp/mesos-operator2-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(base));
}

static void remove_base(void) {
  if (base[0] == '\0') return;
  /* The command executor and its `sleep` outlive a test that failed before
   * stopping the agent (own session, no PDEATHSIG): kill them by pid. */
  mesos_test_kill_under(base);
  nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

START_TEST(test_operator2__real_agent_unreachable_then_drained) {
  start_master();
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
                  "--hostname=real-unreach",
                  "--resources=cpus:4;mem:1024;disk:1024",
                  "--registration_backoff_factor=50ms",
                  "--executor_shutdown_grace_period=1secs",
                  NULL};
  pid_t agent = mesos_test_spawn(argv, log);
  ck_assert_int_gt(agent, 0);
  ck_assert(mesos_test_wait_http_ok(agent_port, "/health", 5000));

  sim_fw f;
  fw_subscribe(&f, NULL);
  char *rec = sim_fw_next(&f, 10000, "\"type\":\"OFFERS\"", NULL);
  ck_assert_msg(rec != NULL, "no offer from the real agent");
  char offer[160], aid[160];
  sim_fw_json_id(rec, "id", offer, sizeof offer);
  sim_fw_json_id(rec, "agent_id", aid, sizeof aid);
  free(rec);
  ck_assert_int_eq(
      sim_fw_call(&f,
              "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
              "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
              "[{\"name\":\"t\",\"task_id\":{\"value\":\"real-1\"},\"agent_id\":{\"value\":\"%s\"},"
              "\"command\":{\"value\":\"sleep 1000\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
              "\"SCALAR\",\"scalar\":{\"value\":0.5}},{\"name\":\"mem\",\"type\":\"SCALAR\","
              "\"scalar\":{\"value\":32}}]}]}}],\"filters\":{\"refuse_seconds\":0}}}",
              f.id, offer, aid),
      202);
  free(real_update(&f, "real-1", "TASK_RUNNING"));
  free(json_call(202, NULL,
                 "{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{\"agent_id\":"
                 "{\"value\":\"%s\"},\"resources\":[" RESERVED("cpus", 1) "]}}",
                 aid));

  /* Stopped: missed pings make it unreachable; its task is LOST. */
  kill(agent, SIGSTOP);
  rec = real_update(&f, "real-1", "TASK_LOST");
  free(rec);
  kill(agent, SIGCONT);
  char want[200];
  snprintf(want, sizeof want, "\"id\":{\"value\":\"%s\"}", aid);
  long long deadline = sim_fw_now_ms() + 10000;
  char *b = NULL;
  while (sim_fw_now_ms() < deadline) {
    b = json_call(200, NULL, "{\"type\":\"GET_AGENTS\"}");
    if (strstr(b, want)) break;
    free(b);
    b = NULL;
    usleep(50000);
  }
  ck_assert_msg(b != NULL, "the real agent did not come back");
  ck_assert_msg(strstr(b, "\"role\":\"r1\""), "reservation lost on readmission: %s", b);
  free(b);

  free(json_call(200, NULL,
                 "{\"type\":\"DRAIN_AGENT\",\"drain_agent\":{\"agent_id\":{\"value\":\"%s\"},"
                 "\"max_grace_period\":{\"seconds\":1}}}",
                 aid));
  rec = real_update(&f, "real-1", "TASK_KILLED");
  ck_assert_msg(strstr(rec, "\"reason\":\"REASON_AGENT_DRAINING\""), "no drain reason: %s", rec);
  free(rec);
  free(agents_until(NULL, "\"state\":\"DRAINED\""));
  sim_fw_close(&f);
  int st = mesos_test_stop(agent, 5000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-agent exit status %d", st);
  stop_master();
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_operator2");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_operator2__unreachable_agent_keeps_reservations_and_volumes);
  tcase_add_test(tc, test_operator2__draining_agent_stays_draining_across_unreachable);
  tcase_add_test(tc, test_operator2__deactivate_and_drain_an_unreachable_agent);
  tcase_add_test(tc, test_operator2__drain_mark_gone_tells_partition_aware_frameworks);
  tcase_add_test(tc, test_operator2__accept_reservation_survives_unreachable);
  tcase_add_test(tc, test_operator2__remaining_calls_success_and_bad_input);
  suite_add_tcase(s, tc);
  TCase *real = tcase_create("real_agent");
  tcase_set_timeout(real, 60);
  tcase_add_unchecked_fixture(real, make_base, remove_base);
  tcase_add_test(real, test_operator2__real_agent_unreachable_then_drained);
  suite_add_tcase(s, real);
  return s;
}

int main(void) { return mesos_test_main(suite()); }

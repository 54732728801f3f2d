/*
 * The master's ACCEPT validation of executors, against a real mesos-master
 * over loopback HTTP with a simulated agent (sim_agent.h) and a JSON
 * scheduler (sim_fw.h):
 *  - a LAUNCH whose task names an ExecutorID the agent already runs (or
 *    was just sent, also earlier in the same ACCEPT) with a different
 *    ExecutorInfo is refused as Mesos refuses it: TASK_ERROR,
 *    REASON_TASK_INVALID, "ExecutorInfo is not compatible with existing
 *    ExecutorInfo with same ExecutorID." and both ExecutorInfos; the same
 *    ExecutorInfo again launches; a LAUNCH_GROUP's executor is held to the
 *    same rule (REASON_TASK_GROUP_INVALID, as Mesos reports a group);
 *  - bad calls (malformed protobuf, a wrong Mesos-Stream-Id, an unknown
 *    framework, an unknown offer, an oversized body) get a 4xx with a
 *    message (an unknown offer: 202 and TASK_LOST, REASON_INVALID_OFFERS,
 *    as Mesos) and change nothing: the offer they named stays valid and
 *    launches afterwards, nothing reached the agent before.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/daemon.h"
#include "support/sim_agent.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

static pid_t master_pid = -1;
static int master_port;
static mesos_sim_agent *agent;

static void start_master(void) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--allocation_interval=50ms",
                  "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(master_port, "/health", 5000), "master did not come up");
}

static void setup(void) {
  start_master();
  agent = mesos_sim_agent_start(master_port, "exec-check", 4, 4096, 0);
  ck_assert_ptr_nonnull(agent);
}

static void teardown(void) {
  mesos_sim_agent_stop(agent);
  agent = NULL;
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 3000);
    master_pid = -1;
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  }
}

/* One task_info of 0.1 cpus and 16 mem using executor `exec` whose command
 * is `cmd`. */
#define TASK_WITH_EXECUTOR                                                                  \
  "{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"         \
  "\"executor\":{\"executor_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"%s\"}},"       \
  "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}},"      \
  "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":16}}]}"

/* ACCEPT of `offer` with one LAUNCH of two tasks (each with its executor
 * and command); asserts 202. */
static void launch_two(sim_fw *f, const char *offer, const char *agent_id, const char *t1,
                       const char *e1, const char *c1, const char *t2, const char *e2,
                       const char *c2) {
  ck_assert_int_eq(
      sim_fw_call(f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                  "\"launch\":{\"task_infos\":[" TASK_WITH_EXECUTOR "," TASK_WITH_EXECUTOR
                  "]}}],\"filters\":{\"refuse_seconds\":0}}}",
                  f->id, offer, t1, agent_id, e1, c1, t2, agent_id, e2, c2),
      202);
}

static void launch_one(sim_fw *f, const char *offer, const char *agent_id, const char *t,
                       const char *e, const char *c) {
  ck_assert_int_eq(
      sim_fw_call(f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                  "\"launch\":{\"task_infos\":[" TASK_WITH_EXECUTOR
                  "]}}],\"filters\":{\"refuse_seconds\":0}}}",
                  f->id, offer, t, agent_id, e, c),
      202);
}

/* The TASK_ERROR for `task`: Mesos's reason (REASON_TASK_INVALID, or
 * REASON_TASK_GROUP_INVALID for a task group) and message. */
static void expect_incompatible(sim_fw *f, const char *task, const char *reason,
                                const char *old_cmd, const char *new_cmd) {
  char want[200];
  snprintf(want, sizeof want, "\"task_id\":{\"value\":\"%s\"}", task);
  char *rec = sim_fw_next(f, 5000, "\"TASK_ERROR\"", want, NULL);
  ck_assert_msg(rec != NULL, "no TASK_ERROR for %s", task);
  char r[80];
  snprintf(r, sizeof r, "\"reason\":\"%s\"", reason);
  ck_assert_msg(strstr(rec, r), "%s", rec);
  ck_assert_msg(strstr(rec, "\"SOURCE_MASTER\""), "%s", rec);
  ck_assert_msg(strstr(rec, "ExecutorInfo is not compatible with existing ExecutorInfo with same "
                            "ExecutorID."),
                "%s", rec);
  /* Both ExecutorInfos are in the message, the running one first. */
  const char *a = strstr(rec, old_cmd), *b = strstr(rec, new_cmd);
  ck_assert_msg(a && b && a < b, "%s", rec);
  free(rec);
}

/* The UPDATE TASK_RUNNING the simulated agent sends for `task`. */
static void expect_running(sim_fw *f, const char *task) {
  char *rec = sim_fw_expect_update(f, task, "TASK_RUNNING", 5000);
  free(rec);
}

START_TEST(test_scheduler3__executor_info_must_match_the_running_one) {
  sim_fw f;
  sim_fw_subscribe(&f, master_port, "\"user\":\"nobody\",\"name\":\"exec-check\"");
  char offer[160], agent_id[160];
  sim_fw_wait_offer(&f, "exec-check", offer, agent_id, sizeof offer);

  /* In one ACCEPT: the first task brings executor e1, the second names e1
   * with another command. */
  launch_two(&f, offer, agent_id, "a", "e1", "run-one", "b", "e1", "run-two");
  expect_incompatible(&f, "b", "REASON_TASK_INVALID", "run-one", "run-two");
  expect_running(&f, "a");
  ck_assert_int_eq(mesos_sim_agent_launched(agent), 1);

  /* Later ACCEPTs: the same ExecutorInfo joins e1, another is refused;
   * a different executor id is a new executor and launches. */
  sim_fw_wait_offer(&f, "exec-check", offer, agent_id, sizeof offer);
  launch_one(&f, offer, agent_id, "c", "e1", "run-one");
  expect_running(&f, "c");
  sim_fw_wait_offer(&f, "exec-check", offer, agent_id, sizeof offer);
  launch_one(&f, offer, agent_id, "d", "e1", "run-three");
  expect_incompatible(&f, "d", "REASON_TASK_INVALID", "run-one", "run-three");
  sim_fw_wait_offer(&f, "exec-check", offer, agent_id, sizeof offer);
  launch_one(&f, offer, agent_id, "e", "e2", "run-three");
  expect_running(&f, "e");
  ck_assert_int_eq(mesos_sim_agent_launched(agent), 3);

  /* A LAUNCH_GROUP naming e1 as its (default) executor differs too. */
  sim_fw_wait_offer(&f, "exec-check", offer, agent_id, sizeof offer);
  ck_assert_int_eq(
      sim_fw_call(
          &f,
          "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
          "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH_GROUP\",\"launch_group\":{"
          "\"executor\":{\"type\":\"DEFAULT\",\"executor_id\":{\"value\":\"e1\"},"
          "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}},"
          "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]},"
          "\"task_group\":{\"tasks\":[{\"name\":\"g\",\"task_id\":{\"value\":\"g1\"},"
          "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"run-group\"},"
          "\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}},"
          "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":16}}]}]}}}],"
          "\"filters\":{\"refuse_seconds\":0}}}",
          f.id, offer, agent_id),
      202);
  expect_incompatible(&f, "g1", "REASON_TASK_GROUP_INVALID", "run-one", "DEFAULT");
  ck_assert_int_eq(mesos_sim_agent_launched(agent), 3);
  char errs[256] = "";
  ck_assert_msg(mesos_sim_agent_errors(agent, errs, sizeof errs) == 0, "%s", errs);
  sim_fw_close(&f);
}
END_TEST

/* The status line's code of a POST announcing `length` body bytes, sent
 * without the body (the master must answer from the headers alone). */
static int post_announcing(int port, size_t length) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  char req[256];
  int n = snprintf(req, sizeof req,
                   "POST /api/v1/scheduler HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                   "application/json\r\nContent-Length: %zu\r\n\r\n",
                   length);
  ck_assert_int_eq(write(fd, req, (size_t)n), n);
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char resp[512];
  ssize_t got = read(fd, resp, sizeof resp - 1);
  close(fd);
  ck_assert_int_gt(got, 12);
  resp[got] = '\0';
  return atoi(resp + 9);
}

START_TEST(test_scheduler3__bad_calls_are_4xx_and_change_nothing) {
  sim_fw f;
  sim_fw_subscribe(&f, master_port, "\"user\":\"nobody\",\"name\":\"bad-input\"");
  char offer[160], agent_id[160], call[2048], extra[128];
  sim_fw_wait_offer(&f, "exec-check", offer, agent_id, sizeof offer);
  snprintf(call, sizeof call,
           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
           "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
           "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"ok\"},"
           "\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":\"true\"},\"resources\":["
           "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}}]}]}}]}}",
           f.id, offer, agent_id);
  mesos_test_response r;

  /* Malformed protobuf: 400 with the parser's message. */
  snprintf(extra, sizeof extra, "Mesos-Stream-Id: %s\r\n", f.sid);
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler",
                                   "application/x-protobuf", extra, "\x08\xff\xff\xff\xff", &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  ck_assert_msg(r.body && strstr(r.body, "Failed to parse"), "%s", r.body ? r.body : "");
  mesos_test_response_free(&r);

  /* The valid ACCEPT with a wrong stream id, and with none. */
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json",
                                   "Mesos-Stream-Id: 00000000-0000-4000-8000-000000000000\r\n",
                                   call, &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  ck_assert_msg(r.body && strlen(r.body) > 0, "400 without a message");
  mesos_test_response_free(&r);
  ck_assert_int_eq(
      mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json", NULL, call, &r),
      0);
  ck_assert_int_eq(r.status, 400);
  mesos_test_response_free(&r);

  /* An unknown framework. */
  ck_assert_int_eq(sim_fw_call(&f,
                               "{\"framework_id\":{\"value\":\"no-such-framework\"},"
                               "\"type\":\"DECLINE\",\"decline\":{\"offer_ids\":[{\"value\":"
                               "\"%s\"}]}}",
                               offer),
                   400);

  /* An unknown offer: 202, and the task is lost for invalid offers. */
  ck_assert_int_eq(
      sim_fw_call(&f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"no-such-offer\"}],\"operations\":[{\"type\":"
                  "\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{"
                  "\"value\":\"lost\"},\"agent_id\":{\"value\":\"%s\"},\"command\":{"
                  "\"value\":\"true\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
                  "\"SCALAR\",\"scalar\":{\"value\":0.1}}]}]}}]}}",
                  f.id, agent_id),
      202);
  char *rec = sim_fw_next(&f, 5000, "\"TASK_LOST\"", "\"lost\"", NULL);
  ck_assert_msg(rec != NULL, "no TASK_LOST for a launch on an unknown offer");
  ck_assert_msg(strstr(rec, "\"REASON_INVALID_OFFERS\""), "%s", rec);
  free(rec);

  /* A body over the master's 16 MiB limit: 413 from the headers alone. */
  ck_assert_int_eq(post_announcing(master_port, ((size_t)16 << 20) + 1), 413);

  /* Nothing of that reached the agent or used the offer: it launches. */
  ck_assert_int_eq(mesos_sim_agent_launched(agent), 0);
  ck_assert_int_eq(sim_fw_call(&f, "%s", call), 202);
  rec = sim_fw_expect_update(&f, "ok", "TASK_RUNNING", 5000);
  free(rec);
  ck_assert_int_eq(mesos_sim_agent_launched(agent), 1);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 2000));
  sim_fw_close(&f);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_scheduler3");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_scheduler3__executor_info_must_match_the_running_one);
  tcase_add_test(tc, test_scheduler3__bad_calls_are_4xx_and_change_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }

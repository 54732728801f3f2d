/*
 * A vendor authorizer that answers later (issue 8), on the agent: its
 * operator calls, /state, /flags and /files wait for the answer without
 * blocking the loop, over real HTTP; a client leaving while its request
 * waits is forgotten.
 *
 * The agent runs in this process on a loop thread (a vendor authorizer
 * is given with mesos_agent_set_authorizer), with --http_credentials for
 * "ops" and "guest" and no reachable master; the authorizer is
 * tests/support/late_authz.h (ops allowed, guest denied, 150 ms late).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "authz/authz_int.h"
#include "mesos/agent.h"
#include "mesos/loop.h"
#include "support/daemon.h"
#include "support/late_authz.h"
#include "support/sim_fw.h"
#include "support/testutil.h"

/* The agent in this process with the late authorizer: support/late_authz.h. */
static void world_start(late_world *w) { late_world_start_agent(w, "test_agent_auth3"); }

static int req(late_world *w, const char *method, const char *path, const char *who,
               const char *json, char *out, size_t cap) {
  return late_world_http(w, method, who, path, json, out, cap);
}

START_TEST(test_agent_auth3__calls_and_endpoints_wait_for_a_late_answer) {
  late_world w;
  world_start(&w);
  char body[16384];
  long long t0 = sim_fw_now_ms();
  ck_assert_int_eq(req(&w, "POST", "/api/v1", LATE_AUTHZ_OPS, "{\"type\":\"GET_FLAGS\"}", body,
                       sizeof body),
                   200);
  ck_assert_int_ge(sim_fw_now_ms() - t0, LATE_AUTHZ_DELAY_MS);
  ck_assert_ptr_nonnull(strstr(body, "get_flags"));
  ck_assert_int_eq(req(&w, "POST", "/api/v1", LATE_AUTHZ_GUEST, "{\"type\":\"GET_FLAGS\"}", body,
                       sizeof body),
                   403);
  /* Filtered reads: the approvers come late too. */
  t0 = sim_fw_now_ms();
  ck_assert_int_eq(req(&w, "POST", "/api/v1", LATE_AUTHZ_GUEST, "{\"type\":\"GET_STATE\"}", body,
                       sizeof body),
                   200);
  ck_assert_int_ge(sim_fw_now_ms() - t0, LATE_AUTHZ_DELAY_MS);
  ck_assert_ptr_nonnull(strstr(body, "get_state"));
  /* /state: "flags" only with VIEW_FLAGS (ops), late. */
  ck_assert_int_eq(req(&w, "GET", "/state", LATE_AUTHZ_OPS, NULL, body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "\"flags\""));
  ck_assert_int_eq(req(&w, "GET", "/state", LATE_AUTHZ_GUEST, NULL, body, sizeof body), 200);
  ck_assert_ptr_null(strstr(body, "\"flags\""));
  ck_assert_int_eq(req(&w, "GET", "/flags", LATE_AUTHZ_GUEST, NULL, NULL, 0), 403);
  ck_assert_int_eq(req(&w, "GET", "/flags", LATE_AUTHZ_OPS, NULL, NULL, 0), 200);
  /* /files: ACCESS_MESOS_LOG for a path outside the sandboxes: guest
   * 403, ops past authorization (404: nothing attached there). */
  t0 = sim_fw_now_ms();
  ck_assert_int_eq(req(&w, "GET", "/files/browse?path=/nowhere", LATE_AUTHZ_GUEST, NULL, NULL, 0),
                   403);
  ck_assert_int_ge(sim_fw_now_ms() - t0, LATE_AUTHZ_DELAY_MS);
  ck_assert_int_eq(req(&w, "GET", "/files/browse?path=/nowhere", LATE_AUTHZ_OPS, NULL, NULL, 0),
                   404);
  late_world_stop(&w);
}
END_TEST

START_TEST(test_agent_auth3__a_client_leaving_while_its_request_waits_is_forgotten) {
  late_world w;
  world_start(&w);
  atomic_store(&w.l.hold, 1);
  static const struct {
    const char *method, *path, *body;
  } reqs[] = {
      {"POST", "/api/v1", "{\"type\":\"GET_STATE\"}"},
      {"GET", "/state", NULL},
      {"GET", "/files/read?path=/nowhere&offset=0", NULL},
  };
  for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
    int before = atomic_load(&w.l.asked);
    mesos_test_conn c;
    ck_assert_int_eq(mesos_test_conn_open(&c, w.port), 0);
    ck_assert_int_eq(mesos_test_conn_request(&c, reqs[i].method, reqs[i].path,
                                             reqs[i].body ? "application/json" : NULL,
                                             LATE_AUTHZ_OPS, reqs[i].body,
                                             reqs[i].body ? strlen(reqs[i].body) : 0),
                     0);
    long long deadline = sim_fw_now_ms() + 5000;
    while (atomic_load(&w.l.asked) == before && sim_fw_now_ms() < deadline) usleep(5000);
    ck_assert_int_gt(atomic_load(&w.l.asked), before);
    mesos_test_conn_close(&c);
  }
  usleep(100000);
  atomic_store(&w.l.hold, 0);
  long long deadline = sim_fw_now_ms() + 5000;
  while (atomic_load(&w.l.answered) < atomic_load(&w.l.asked) && sim_fw_now_ms() < deadline)
    usleep(10000);
  ck_assert_int_eq(atomic_load(&w.l.answered), atomic_load(&w.l.asked));
  ck_assert_int_eq(req(&w, "POST", "/api/v1", LATE_AUTHZ_OPS, "{\"type\":\"GET_FLAGS\"}", NULL, 0),
                   200);
  deadline = sim_fw_now_ms() + 5000;
  while (mesos__auth_waiting(w.a->auth) && sim_fw_now_ms() < deadline) usleep(10000);
  ck_assert_uint_eq(mesos__auth_waiting(w.a->auth), 0);
  late_world_stop(&w);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("agent_auth3");
  TCase *tc = tcase_create("late");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_agent_auth3__calls_and_endpoints_wait_for_a_late_answer);
  tcase_add_test(tc, test_agent_auth3__a_client_leaving_while_its_request_waits_is_forgotten);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }

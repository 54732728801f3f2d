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

typedef struct world {
  mesos_loop *loop;
  mesos_agent *a;
  late l;
  pthread_t thread;
  atomic_int stop;
  int port;
  char dir[256];
} world;

static void on_wakeup(mesos_loop *loop, void *ud) {
  world *w = ud;
  if (atomic_load(&w->stop)) mesos_loop_stop(loop);
}

static void *loop_main(void *arg) {
  world *w = arg;
  mesos_loop_run(w->loop, NULL);
  return NULL;
}

static void world_start(world *w) {
  memset(w, 0, sizeof *w);
  snprintf(w->dir, sizeof w->dir, "/tmp/test_agent_auth3.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(w->dir));
  char cred[320], credflag[400], wd[400];
  late_authz_credentials(w->dir, cred, sizeof cred);
  snprintf(credflag, sizeof credflag, "--http_credentials=%s", cred);
  snprintf(wd, sizeof wd, "--work_dir=%s/work", w->dir);
  mesos_loop_options lo;
  ck_assert_int_eq(mesos_loop_options_init(&lo, MESOS_LOOP_OPTIONS_VERSION), MESOS_OK);
  lo.wakeup_cb = on_wakeup;
  lo.wakeup_ud = w;
  ck_assert_int_eq(mesos_loop_new(&w->loop, &lo, NULL), MESOS_OK);
  char *argv[] = {"mesos-agent", "--master=http://127.0.0.1:1", wd, "--ip=127.0.0.1",
                  "--port=0", "--logging_level=WARNING", credflag, NULL};
  mesos_agent_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_agent_flags_parse(&flags, 7, argv, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_agent_new(&w->a, w->loop, NULL, flags, &err), &err);
  mesos_agent_flags_free(flags);
  ck_assert_mesos_ok(mesos_agent_set_authorizer(w->a, late_authz_new(&w->l, w->loop), &err),
                     &err);
  w->port = (int)mesos_agent_port(w->a);
  ck_assert_int_eq(pthread_create(&w->thread, NULL, loop_main, w), 0);
}

static void world_stop(world *w) {
  atomic_store(&w->stop, 1);
  mesos_loop_wakeup(w->loop);
  pthread_join(w->thread, NULL);
  mesos_agent_free(w->a);
  while (mesos_loop_run_once(w->loop) > 0) {
  }
  mesos_loop_free(w->loop);
  mesos_test_kill_under(w->dir);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
  ck_assert_int_eq(system(cmd), 0);
}

static int req(world *w, const char *method, const char *path, const char *who,
               const char *json, char *out, size_t cap) {
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(mesos_test_http(w->port, method, path, json ? "application/json" : NULL, who,
                                   json, &r),
                   0);
  if (out) snprintf(out, cap, "%s", r.body ? r.body : "");
  int st = r.status;
  mesos_test_response_free(&r);
  return st;
}

START_TEST(test_agent_auth3__calls_and_endpoints_wait_for_a_late_answer) {
  world w;
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
  world_stop(&w);
}
END_TEST

START_TEST(test_agent_auth3__a_client_leaving_while_its_request_waits_is_forgotten) {
  world w;
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
  world_stop(&w);
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

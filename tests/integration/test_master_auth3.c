/*
 * A vendor authorizer that answers later (issue 8): the master waits for
 * the answer without blocking its loop, over real HTTP.
 *
 * The master runs in this process on a loop thread (a vendor authorizer
 * can only be given to a master in-process: mesos_master_set_authorizer),
 * with --credentials for two principals; the clients are this thread's
 * blocking HTTP connections.  The test authorizer answers every question
 * on a loop timer DELAY_MS later: principal "ops" (and a framework whose
 * FrameworkInfo.principal is "ops") is allowed everything, anyone else
 * nothing; in "hold" mode it does not answer until released.
 *
 *  - operator calls (GET_FLAGS, TEARDOWN), /flags, /state and GET_STATE
 *    filtering, scheduler SUBSCRIBE and ACCEPT (RUN_TASK): allowed and
 *    denied after the delay, and /health answers meanwhile (agents'
 *    REGISTER_AGENT is allowed, late too);
 *  - a request whose answer does not come within the bound gets 503;
 *  - a client that disconnects while its request waits: the request is
 *    forgotten, the late answer dropped (no leak under ASan), the master
 *    keeps serving.
 *
 * And the C scheduler client's TLS client certificate (options version
 * 3) against a master with --tls_verify_client=required.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authz/authz_int.h"
#include "base/alloc.h"
#include "master/master_int.h"
#include "mesos/authz.h"
#include "mesos/loop.h"
#include "mesos/master.h"
#include "mesos/scheduler.h"
#include "support/certs.h"
#include "support/daemon.h"
#include "support/sim_fw.h"
#include "support/late_authz.h"
#include "support/sim_raw_agent.h"
#include "support/testutil.h"

#define DELAY_MS LATE_AUTHZ_DELAY_MS
#define OPS LATE_AUTHZ_OPS
#define GUEST LATE_AUTHZ_GUEST

/* ------------------------------------------------------------ the world */

/* The in-process master with the late authorizer: support/late_authz.h. */
typedef late_world world;

static void world_start(world *w, uint64_t timeout_ms) {
  late_world_start(w, "test_master_auth3", timeout_ms);
}
static void world_stop(world *w) { late_world_stop(w); }
static int op_call(world *w, const char *who, const char *json, char *out, size_t cap) {
  return late_world_call(w, who, json, out, cap);
}
static int get(world *w, const char *who, const char *path, char *out, size_t cap) {
  return late_world_get(w, who, path, out, cap);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_master_auth3__operator_calls_and_endpoints_wait_for_a_late_answer) {
  world w;
  world_start(&w, 0);
  char body[8192];
  long long t0 = sim_fw_now_ms();
  ck_assert_int_eq(op_call(&w, OPS, "{\"type\":\"GET_FLAGS\"}", body, sizeof body), 200);
  ck_assert_int_ge(sim_fw_now_ms() - t0, DELAY_MS);
  ck_assert_ptr_nonnull(strstr(body, "get_flags"));
  t0 = sim_fw_now_ms();
  ck_assert_int_eq(op_call(&w, GUEST, "{\"type\":\"GET_FLAGS\"}", body, sizeof body), 403);
  ck_assert_int_ge(sim_fw_now_ms() - t0, DELAY_MS);
  ck_assert_ptr_nonnull(strstr(body, "guest"));
  /* A route-level action (/flags: VIEW_FLAGS). */
  ck_assert_int_eq(get(&w, OPS, "/flags", body, sizeof body), 200);
  ck_assert_int_eq(get(&w, GUEST, "/flags", NULL, 0), 403);
  /* The filtered reads' approvers (GET_ROLES: VIEW_ROLE). */
  ck_assert_int_eq(op_call(&w, GUEST, "{\"type\":\"GET_ROLES\"}", body, sizeof body), 200);

  /* While an answer is held, the loop serves /health at once. */
  atomic_store(&w.l.hold, 1);
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, w.port), 0);
  const char *call = "{\"type\":\"GET_FLAGS\"}";
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1", "application/json", OPS, call,
                                           strlen(call)),
                   0);
  int asked = atomic_load(&w.l.asked);
  t0 = sim_fw_now_ms();
  ck_assert_int_eq(get(&w, NULL, "/health", NULL, 0), 200);
  ck_assert_int_lt(sim_fw_now_ms() - t0, 1000);
  (void)asked;
  atomic_store(&w.l.hold, 0);
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 1, 10000), 0);
  ck_assert_int_eq(r.status, 200);
  mesos_test_response_free(&r);
  mesos_test_conn_close(&c);
  world_stop(&w);
}
END_TEST

START_TEST(test_master_auth3__scheduler_subscribe_accept_teardown_and_state_filtering) {
  world w;
  world_start(&w, 0);
  /* SUBSCRIBE: REGISTER_FRAMEWORK for the claimed principal. */
  sim_fw f;
  memset(&f, 0, sizeof f);
  long long t0 = sim_fw_now_ms();
  sim_fw_subscribe(&f, w.port,
                   "\"user\":\"root\",\"name\":\"late\",\"principal\":\"ops\",\"role\":\"*\"");
  ck_assert_int_ge(sim_fw_now_ms() - t0, DELAY_MS);
  mesos_test_response r;
  memset(&r, 0, sizeof r);
  const char *bad = "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":"
                    "\"root\",\"name\":\"x\",\"principal\":\"guest\"}}}";
  ck_assert_int_eq(mesos_test_http(w.port, "POST", "/api/v1/scheduler", "application/json", NULL,
                                   bad, &r),
                   0);
  /* Denied: an ERROR event on the stream (Mesos's answer), not SUBSCRIBED. */
  ck_assert_ptr_nonnull(strstr(r.body ? r.body : "", "Not authorized"));
  ck_assert_ptr_null(strstr(r.body ? r.body : "", "SUBSCRIBED"));
  mesos_test_response_free(&r);

  /* ACCEPT: RUN_TASK (the framework principal "ops" is allowed). */
  sim_raw_agent ag;
  sim_raw_agent_init(&ag, w.port, "late-agent");
  sim_raw_agent_register(&ag);
  char offer[256], agent[256];
  sim_fw_wait_offer(&f, "late-agent", offer, agent, sizeof offer);
  /* A task as user "nobody": RUN_TASK denied, late: TASK_ERROR. */
  t0 = sim_fw_now_ms();
  ck_assert_int_eq(
      sim_fw_call(&f,
                  "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{"
                  "\"offer_ids\":[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\","
                  "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":"
                  "\"t-denied\"},\"agent_id\":{\"value\":\"%s\"},\"command\":{\"value\":"
                  "\"true\",\"user\":\"nobody\"},\"resources\":[{\"name\":\"cpus\",\"type\":"
                  "\"SCALAR\",\"scalar\":{\"value\":0.1}}]}]}}],\"filters\":{"
                  "\"refuse_seconds\":0}}}",
                  f.id, offer, agent),
      202);
  ck_assert_int_ge(sim_fw_now_ms() - t0, DELAY_MS);
  char *ev = sim_fw_next(&f, 10000, "TASK_ERROR", "t-denied", "REASON_TASK_UNAUTHORIZED", NULL);
  ck_assert_ptr_nonnull(ev);
  free(ev);
  sim_fw_wait_offer_min(&f, "late-agent", 0.5, 16, offer, agent, sizeof offer);
  t0 = sim_fw_now_ms();
  sim_fw_launch(&f, offer, agent, "t-ok", NULL, 16, "true");
  ck_assert_int_ge(sim_fw_now_ms() - t0, DELAY_MS);
  char body[65536];
  /* The task was launched (STAGING in /tasks, seen by ops). */
  ck_assert_int_eq(get(&w, OPS, "/tasks", body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "t-ok"));

  /* /state and GET_STATE: ops sees the framework, guest nothing. */
  ck_assert_int_eq(get(&w, OPS, "/state", body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "\"late\""));
  ck_assert_int_eq(get(&w, GUEST, "/state", body, sizeof body), 200);
  ck_assert_ptr_null(strstr(body, "\"late\""));
  ck_assert_int_eq(op_call(&w, OPS, "{\"type\":\"GET_STATE\"}", body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "t-ok"));
  ck_assert_int_eq(op_call(&w, GUEST, "{\"type\":\"GET_STATE\"}", body, sizeof body), 200);
  ck_assert_ptr_null(strstr(body, "t-ok"));
  ck_assert_ptr_nonnull(strstr(body, "get_state"));

  /* Operator TEARDOWN: guest refused, ops tears it down. */
  char call[512];
  snprintf(call, sizeof call, "{\"type\":\"TEARDOWN\",\"teardown\":{\"framework_id\":{\"value\":\"%s\"}}}",
           f.id);
  ck_assert_int_eq(op_call(&w, GUEST, call, body, sizeof body), 403);
  ck_assert_int_eq(op_call(&w, OPS, call, body, sizeof body), 200);
  ck_assert_int_eq(get(&w, OPS, "/frameworks", body, sizeof body), 200);
  ck_assert_ptr_nonnull(strstr(body, "completed_frameworks"));
  sim_fw_close(&f);
  sim_raw_agent_close(&ag);
  world_stop(&w);
}
END_TEST

START_TEST(test_master_auth3__a_request_not_answered_in_time_gets_503) {
  world w;
  world_start(&w, 300);
  atomic_store(&w.l.hold, 1);
  char body[1024];
  long long t0 = sim_fw_now_ms();
  ck_assert_int_eq(op_call(&w, OPS, "{\"type\":\"GET_FLAGS\"}", body, sizeof body), 503);
  ck_assert_int_ge(sim_fw_now_ms() - t0, 300);
  ck_assert_ptr_nonnull(strstr(body, "authorizer did not answer"));
  /* The late answer comes after the 503 and is dropped. */
  atomic_store(&w.l.hold, 0);
  long long deadline = sim_fw_now_ms() + 5000;
  while (atomic_load(&w.l.answered) < atomic_load(&w.l.asked) && sim_fw_now_ms() < deadline)
    usleep(10000);
  ck_assert_int_eq(atomic_load(&w.l.answered), atomic_load(&w.l.asked));
  ck_assert_int_eq(op_call(&w, OPS, "{\"type\":\"GET_FLAGS\"}", NULL, 0), 200);
  world_stop(&w);
}
END_TEST

START_TEST(test_master_auth3__a_client_leaving_while_its_request_waits_is_forgotten) {
  world w;
  world_start(&w, 0);
  atomic_store(&w.l.hold, 1);
  /* Several kinds of waiting requests, each client gone before the answer. */
  static const struct {
    const char *method, *path, *body;
  } reqs[] = {
      {"POST", "/api/v1", "{\"type\":\"GET_FLAGS\"}"},
      {"POST", "/api/v1", "{\"type\":\"GET_STATE\"}"},
      {"GET", "/state", NULL},
      {"GET", "/flags", NULL},
  };
  for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
    int before = atomic_load(&w.l.asked);
    mesos_test_conn c;
    ck_assert_int_eq(mesos_test_conn_open(&c, w.port), 0);
    ck_assert_int_eq(mesos_test_conn_request(&c, reqs[i].method, reqs[i].path,
                                             reqs[i].body ? "application/json" : NULL, OPS,
                                             reqs[i].body, reqs[i].body ? strlen(reqs[i].body) : 0),
                     0);
    long long deadline = sim_fw_now_ms() + 5000;
    while (atomic_load(&w.l.asked) == before && sim_fw_now_ms() < deadline) usleep(5000);
    ck_assert_int_gt(atomic_load(&w.l.asked), before);
    mesos_test_conn_close(&c);
  }
  /* The master noticed every one of them before the answers come. */
  usleep(100000);
  atomic_store(&w.l.hold, 0);
  long long deadline = sim_fw_now_ms() + 5000;
  while (atomic_load(&w.l.answered) < atomic_load(&w.l.asked) && sim_fw_now_ms() < deadline)
    usleep(10000);
  ck_assert_int_eq(atomic_load(&w.l.answered), atomic_load(&w.l.asked));
  /* Still serving, and every record is gone. */
  ck_assert_int_eq(op_call(&w, OPS, "{\"type\":\"GET_FLAGS\"}", NULL, 0), 200);
  deadline = sim_fw_now_ms() + 5000;
  while (mesos__auth_waiting(w.m->auth) && sim_fw_now_ms() < deadline) usleep(10000);
  ck_assert_uint_eq(mesos__auth_waiting(w.m->auth), 0);
  /* A request still waiting when the master is freed: the authorizer's
   * free answers it with a failure, nothing is replayed. */
  atomic_store(&w.l.hold, 1);
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, w.port), 0);
  const char *call = "{\"type\":\"GET_FLAGS\"}";
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1", "application/json", OPS, call,
                                           strlen(call)),
                   0);
  int before = atomic_load(&w.l.answered);
  deadline = sim_fw_now_ms() + 5000;
  while (atomic_load(&w.l.asked) == before && sim_fw_now_ms() < deadline) usleep(5000);
  world_stop(&w);
  mesos_test_conn_close(&c);
}
END_TEST

START_TEST(test_master_auth3__set_authorizer_refuses_bad_arguments) {
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_master_set_authorizer(NULL, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(err);
  mesos_error_free(err);
}
END_TEST

/* ------------------------------------------------------------ TLS client certificate */

typedef struct tls_fw {
  int connected, disconnected;
  char reason[256];
} tls_fw;

static void tls_connected(mesos_scheduler *s, void *ud) {
  (void)s;
  ((tls_fw *)ud)->connected++;
}

static void tls_disconnected(mesos_scheduler *s, const char *reason, void *ud) {
  (void)s;
  tls_fw *f = ud;
  f->disconnected++;
  snprintf(f->reason, sizeof f->reason, "%s", reason ? reason : "");
}

static mesos_status tls_scheduler(mesos_scheduler **out, mesos_loop *loop, int port,
                                  const char *certs, const char *cert, const char *key,
                                  tls_fw *f, mesos_error **err) {
  char masters[64];
  snprintf(masters, sizeof masters, "https://127.0.0.1:%d", port);
  mesos_scheduler_options o = MESOS_SCHEDULER_OPTIONS_INIT;
  o.masters = masters;
  o.content_type = MESOS_SCHEDULER_CONTENT_JSON;
  o.framework_info_json = "{\"user\":\"nobody\",\"name\":\"tls client\"}";
  o.backoff_min_ms = 50;
  o.backoff_max_ms = 100;
  o.tls_ca_file = mesos_test_cert(certs, "ca.crt");
  o.tls_cert_file = cert ? mesos_test_cert(certs, cert) : NULL;
  o.tls_key_file = key ? mesos_test_cert(certs, key) : NULL;
  o.on_connected = tls_connected;
  o.on_disconnected = tls_disconnected;
  o.ud = f;
  return mesos_scheduler_new(out, loop, &o, err);
}

/* The C scheduler client presents a client certificate (options version
 * 3) to a master with --tls_verify_client=required: with the CA's client
 * certificate it subscribes; without one, or with another CA's, the
 * handshake fails and it never does; a certificate without its key (or
 * the reverse) is refused at once. */
START_TEST(test_master_auth3__the_scheduler_client_presents_a_client_certificate) {
  if (!mesos_test_have_openssl()) MESOS_TEST_SKIP("openssl is not installed");
  char certs[64];
  ck_assert_int_eq(mesos_test_certs_dir(certs, sizeof certs), 0);
  ck_assert_int_eq(mesos_test_make_certs(certs), 0);
  mesos_loop *loop = NULL;
  ck_assert_int_eq(mesos_loop_new(&loop, NULL, NULL), MESOS_OK);
  char cert[160], key[160], ca[160];
  snprintf(cert, sizeof cert, "--tls_cert=%s/server.crt", certs);
  snprintf(key, sizeof key, "--tls_key=%s/server.key", certs);
  snprintf(ca, sizeof ca, "--tls_ca=%s/ca.crt", certs);
  char *argv[] = {"test", "--ip=127.0.0.1", "--port=0", "--logging_level=ERROR", cert, key, ca,
                  "--tls_verify_client=required", NULL};
  mesos_master_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_master_flags_parse(&flags, 8, argv, NULL, &err), &err);
  mesos_master *m = NULL;
  ck_assert_mesos_ok(mesos_master_new(&m, loop, NULL, flags, &err), &err);
  mesos_master_flags_free(flags);
  int port = (int)mesos_master_port(m);

  /* Half a pair: refused at once, naming the field. */
  tls_fw bad = {0};
  mesos_scheduler *s = NULL;
  ck_assert_int_eq(tls_scheduler(&s, loop, port, certs, "client.crt", NULL, &bad, &err),
                   MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "tls_cert_file"));
  mesos_error_free(err);
  err = NULL;
  /* A key that does not match the certificate: refused at once. */
  ck_assert_int_eq(
      tls_scheduler(&s, loop, port, certs, "client.crt", "other-client.key", &bad, &err),
      MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;

  tls_fw good = {0}, none = {0}, other = {0};
  mesos_scheduler *sg = NULL, *sn = NULL, *so = NULL;
  ck_assert_mesos_ok(tls_scheduler(&sg, loop, port, certs, "client.crt", "client.key", &good,
                                   &err),
                     &err);
  ck_assert_mesos_ok(tls_scheduler(&sn, loop, port, certs, NULL, NULL, &none, &err), &err);
  ck_assert_mesos_ok(tls_scheduler(&so, loop, port, certs, "other-client.crt",
                                   "other-client.key", &other, &err),
                     &err);
  long long deadline = sim_fw_now_ms() + 10000;
  /* Until the good one subscribed and each other one failed twice. */
  while (sim_fw_now_ms() < deadline &&
         !(good.connected && none.disconnected >= 2 && other.disconnected >= 2))
    mesos_loop_run_once(loop);
  ck_assert_int_eq(good.connected, 1);
  ck_assert_str_eq(good.reason, "");
  ck_assert_int_ge(none.disconnected, 2);
  ck_assert_int_eq(none.connected, 0);
  ck_assert_int_ge(other.disconnected, 2);
  ck_assert_int_eq(other.connected, 0);
  mesos_scheduler_free(sg);
  mesos_scheduler_free(sn);
  mesos_scheduler_free(so);
  mesos_master_free(m);
  while (mesos_loop_run_once(loop) > 0) {
  }
  mesos_loop_free(loop);
  mesos_test_rmtree(certs);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_auth3");
  TCase *tc = tcase_create("late");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_master_auth3__operator_calls_and_endpoints_wait_for_a_late_answer);
  tcase_add_test(tc, test_master_auth3__scheduler_subscribe_accept_teardown_and_state_filtering);
  tcase_add_test(tc, test_master_auth3__a_request_not_answered_in_time_gets_503);
  tcase_add_test(tc, test_master_auth3__a_client_leaving_while_its_request_waits_is_forgotten);
  tcase_add_test(tc, test_master_auth3__set_authorizer_refuses_bad_arguments);
  suite_add_tcase(s, tc);
  TCase *tls = tcase_create("tls");
  tcase_set_timeout(tls, 60);
  tcase_add_test(tls, test_master_auth3__the_scheduler_client_presents_a_client_certificate);
  suite_add_tcase(s, tls);
  return s;
}

int main(void) { return mesos_test_main(suite()); }

/*
 * The C scheduler client (mesos/scheduler.h) against the real mesos-master
 * and a simulated agent: subscribe, offers, decline, launch, status updates
 * and acknowledgements, reconnect across a master crash, 307 redirects,
 * heartbeat loss, failover ERROR, teardown, bad input; plus the same API
 * driven by curl with JSON.
 */
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "codec/recordio.h"
#include "http/server.h"
#include "http/tls.h"
#include "mesos/mesos.h"
#include "mesos/v1/scheduler.pb-c.h"
#include "scheduler/scheduler_int.h"
#include "support/certs.h"
#include "support/daemon.h"
#include "support/oom.h"
#include "support/sim_agent.h"
#include "support/testutil.h"

static pid_t master_pid = -1;
static int master_port;
/* Files go to a directory made before the tests and removed after them by
 * the runner process, so a failing test leaves nothing behind. */
static char tmpdir[64];

static void make_tmpdir(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sched-client-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) tmpdir[0] = '\0';
}

static void remove_tmpdir(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (tmpdir[0] && system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* A fresh subdirectory of tmpdir for one test. */
static void test_dir(char *out, size_t cap, const char *what) {
  ck_assert_msg(tmpdir[0] != '\0', "no temporary directory");
  snprintf(out, cap, "%s/%s-%d", tmpdir, what, (int)getpid());
  ck_assert_int_eq(mkdir(out, 0700), 0);
}

static pid_t spawn_master(int port) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  snprintf(port_arg, sizeof port_arg, "--port=%d", port);
  char *argv[] = {path,
                  "--ip=127.0.0.1",
                  port_arg,
                  "--allocation_interval=50ms",
                  "--http_heartbeat_interval=200ms",
                  "--agent_ping_timeout=10secs",
                  "--logging_level=WARNING",
                  NULL};
  pid_t pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(pid, 0);
  ck_assert(mesos_test_wait_http_ok(port, "/health", 5000));
  return pid;
}

static void start_master(void) {
  master_port = mesos_test_free_port();
  master_pid = spawn_master(master_port);
}

static void stop_master(void) {
  if (master_pid <= 0) return;
  int st = mesos_test_stop(master_pid, 3000);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  master_pid = -1;
}

/* ------------------------------------------------------------ harness */

typedef struct harness {
  mesos_loop *loop;
  mesos_scheduler *s;
  int connected, disconnected, events, offer_events, heartbeats, errors;
  int updates, acked, running, finished, terminal;
  int auto_ack;
  int free_on_offers; /* frees the scheduler inside on_event */
  /* The typed callbacks (options version 2). */
  int t_offers, t_updates, t_finished, t_uuid, t_before_event, free_on_update;
  int teardown_on_finished;
  int freed;
  char offer_id[160], offer_agent[160];
  char fw_at_connect[160];
  char reason[1024];
  char error_msg[512];
} harness;

static void h_connected(mesos_scheduler *s, void *ud) {
  harness *h = ud;
  h->connected++;
  ck_assert_ptr_nonnull(mesos_scheduler_framework_id(s));
  snprintf(h->fw_at_connect, sizeof h->fw_at_connect, "%s", mesos_scheduler_framework_id(s));
  ck_assert(mesos_scheduler_connected(s));
}

static void h_disconnected(mesos_scheduler *s, const char *reason, void *ud) {
  harness *h = ud;
  h->disconnected++;
  snprintf(h->reason, sizeof h->reason, "%s", reason);
}

static void h_event(mesos_scheduler *s, const char *type, const uint8_t *ev, size_t len,
                    void *ud) {
  harness *h = ud;
  mesos_error *err = NULL;
  h->events++;
  if (strcmp(type, "HEARTBEAT") == 0) h->heartbeats++;
  if (strcmp(type, "OFFERS") == 0) {
    mesos_scheduler_offer *offers = NULL;
    size_t n = 0;
    ck_assert_mesos_ok(mesos_scheduler_event_offers(ev, len, &offers, &n, &err), &err);
    ck_assert_uint_ge(n, 1);
    ck_assert_double_gt(offers[0].cpus, 0);
    snprintf(h->offer_id, sizeof h->offer_id, "%s", offers[0].id);
    snprintf(h->offer_agent, sizeof h->offer_agent, "%s", offers[0].agent_id);
    mesos_free(offers);
    h->offer_events++;
    if (h->free_on_offers) {
      mesos_scheduler_free(s);
      h->s = NULL;
      h->freed = 1;
    }
  } else if (strcmp(type, "UPDATE") == 0) {
    mesos_scheduler_task_status *st = NULL;
    ck_assert_mesos_ok(mesos_scheduler_event_update(ev, len, &st, &err), &err);
    h->updates++;
    if (strcmp(st->state, "TASK_RUNNING") == 0) h->running++;
    if (strcmp(st->state, "TASK_FINISHED") == 0) h->finished++;
    if (st->terminal) h->terminal++;
    if (h->auto_ack && st->has_uuid) {
      ck_assert_mesos_ok(mesos_scheduler_acknowledge(s, st->agent_id, st->task_id, st->uuid, &err),
                         &err);
      h->acked++;
    }
    mesos_free(st);
  } else if (strcmp(type, "ERROR") == 0) {
    char *m = NULL;
    ck_assert_mesos_ok(mesos_scheduler_event_error(ev, len, &m, &err), &err);
    snprintf(h->error_msg, sizeof h->error_msg, "%s", m);
    mesos_free(m);
    h->errors++;
  }
}

static mesos_scheduler_options h_options(harness *h, const char *masters, uint32_t content) {
  mesos_scheduler_options o = MESOS_SCHEDULER_OPTIONS_INIT;
  o.masters = masters;
  o.content_type = content;
  o.framework_info_json = "{\"user\":\"nobody\",\"name\":\"sched client test\","
                          "\"failover_timeout\":60}";
  o.backoff_min_ms = 50;
  o.backoff_max_ms = 200;
  o.on_connected = h_connected;
  o.on_disconnected = h_disconnected;
  o.on_event = h_event;
  o.ud = h;
  return o;
}

static void h_start(harness *h, const char *masters, uint32_t content) {
  memset(h, 0, sizeof *h);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&h->loop, NULL, &err), &err);
  mesos_scheduler_options o = h_options(h, masters, content);
  ck_assert_mesos_ok(mesos_scheduler_new(&h->s, h->loop, &o, &err), &err);
}

static void h_stop(harness *h) {
  mesos_scheduler_free(h->s);
  h->s = NULL;
  /* Let closing sockets finish, then the loop must be empty. */
  for (int i = 0; i < 10; i++) mesos_loop_run_once(h->loop);
  mesos_loop_free(h->loop);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Drives the loop as an embedding host would (poll its fd) until `*v`
 * reaches `want` or `timeout_ms` passes. */
static int wait_int(harness *h, int *v, int want, int timeout_ms) {
  uint64_t end = now_ms() + (uint64_t)timeout_ms;
  while (*v < want && now_ms() < end) {
    int to = mesos_loop_timeout_ms(h->loop);
    if (to < 0 || to > 20) to = 20;
    struct pollfd p = {mesos_loop_fd(h->loop), POLLIN, 0};
    poll(&p, 1, to);
    mesos_loop_run_once(h->loop);
  }
  return *v >= want;
}

/* Like wait_int for a counter of the sim agent: the loop keeps running
 * meanwhile, so calls the scheduler queued (acknowledgements) go out. */
static int wait_agent(harness *h, mesos_sim_agent *a, int (*counter)(mesos_sim_agent *),
                      int want, int timeout_ms) {
  uint64_t end = now_ms() + (uint64_t)timeout_ms;
  while (counter(a) < want && now_ms() < end) {
    struct pollfd p = {mesos_loop_fd(h->loop), POLLIN, 0};
    poll(&p, 1, 10);
    mesos_loop_run_once(h->loop);
  }
  return counter(a) >= want;
}

static void launch_json(harness *h, const char *task_id, int expect_ok) {
  char call[2048];
  snprintf(call, sizeof call,
           "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"%s\"}],"
           "\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\","
           "\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},"
           "\"command\":{\"value\":\"true\"},\"resources\":["
           "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
           "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64}}]}]}}],"
           "\"filters\":{\"refuse_seconds\":0}}}",
           h->offer_id, task_id, h->offer_agent);
  mesos_error *err = NULL;
  mesos_status st = mesos_scheduler_call_json(h->s, call, NULL, NULL, &err);
  if (expect_ok) ck_assert_mesos_ok(st, &err);
  mesos_error_free(err);
}

/* ------------------------------------------------------------ tests */

static void full_round_trip(uint32_t content) {
  start_master();
  mesos_sim_agent *a = mesos_sim_agent_start(master_port, "agent-sched", 4, 1024, 1);
  ck_assert_ptr_nonnull(a);
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h;
  h_start(&h, masters, content);
  mesos_error *err = NULL;
  /* Nothing is sent before SUBSCRIBED. */
  ck_assert_int_eq(mesos_scheduler_revive(h.s, &err), MESOS_EAGAIN);
  mesos_error_free(err);
  err = NULL;
  ck_assert_ptr_null(mesos_scheduler_framework_id(h.s));

  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  ck_assert_str_eq(mesos_scheduler_framework_id(h.s), h.fw_at_connect);
  ck_assert_ptr_nonnull(mesos__scheduler_stream_id(h.s));
  ck_assert(wait_int(&h, &h.offer_events, 1, 5000));
  ck_assert_str_eq(h.offer_agent, mesos_sim_agent_id(a));

  /* Decline for an hour: no offer for a while; REVIVE brings it back. */
  ck_assert_mesos_ok(mesos_scheduler_decline(h.s, h.offer_id, 3600, &err), &err);
  int before = h.offer_events;
  ck_assert(!wait_int(&h, &h.offer_events, before + 1, 400));
  ck_assert_mesos_ok(mesos_scheduler_revive(h.s, &err), &err);
  ck_assert(wait_int(&h, &h.offer_events, before + 1, 5000));

  /* Launch; the agent reports RUNNING then FINISHED, each acknowledged. */
  h.auto_ack = 1;
  launch_json(&h, "task-1", 1);
  ck_assert(wait_int(&h, &h.finished, 1, 5000));
  ck_assert_int_eq(h.running, 1);
  ck_assert_int_eq(h.acked, 2);
  ck_assert(wait_agent(&h, a, mesos_sim_agent_acks, 2, 5000));
  ck_assert_int_eq(mesos_sim_agent_acks(a), 2);

  /* Implicit reconciliation answers (the finished task may be gone). */
  ck_assert_mesos_ok(mesos_scheduler_reconcile(h.s, "task-1", mesos_sim_agent_id(a), &err), &err);
  int u = h.updates;
  ck_assert(wait_int(&h, &h.updates, u + 1, 5000));

  /* Heartbeats arrive at the master's 200 ms. */
  int hb = h.heartbeats;
  ck_assert(wait_int(&h, &h.heartbeats, hb + 2, 10000));
  ck_assert_int_eq(h.disconnected, 0);

  char buf[512];
  ck_assert_msg(mesos_sim_agent_errors(a, buf, sizeof buf) == 0, "sim agent: %s", buf);
  h_stop(&h);
  mesos_sim_agent_stop(a);
  stop_master();
}

START_TEST(test_scheduler_client__protobuf_subscribe_decline_launch_acknowledge) {
  full_round_trip(MESOS_SCHEDULER_CONTENT_PROTOBUF);
}
END_TEST

START_TEST(test_scheduler_client__json_subscribe_decline_launch_acknowledge) {
  full_round_trip(MESOS_SCHEDULER_CONTENT_JSON);
}
END_TEST

START_TEST(test_scheduler_client__resubscribes_with_the_same_id_after_master_kill_9) {
  start_master();
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h;
  h_start(&h, masters, MESOS_SCHEDULER_CONTENT_PROTOBUF);
  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  char fw[160], sid[160];
  snprintf(fw, sizeof fw, "%s", h.fw_at_connect);
  snprintf(sid, sizeof sid, "%s", mesos__scheduler_stream_id(h.s));

  kill(master_pid, SIGKILL);
  waitpid(master_pid, NULL, 0);
  ck_assert(wait_int(&h, &h.disconnected, 1, 5000));
  ck_assert(!mesos_scheduler_connected(h.s));
  mesos_error *err = NULL;
  ck_assert_int_eq(mesos_scheduler_revive(h.s, &err), MESOS_EAGAIN);
  mesos_error_free(err);
  /* A few failed attempts while the master is down. */
  ck_assert(wait_int(&h, &h.disconnected, 3, 5000));

  master_pid = spawn_master(master_port);
  ck_assert(wait_int(&h, &h.connected, 2, 10000));
  ck_assert_str_eq(h.fw_at_connect, fw);
  ck_assert_str_ne(mesos__scheduler_stream_id(h.s), sid);
  ck_assert_mesos_ok(mesos_scheduler_revive(h.s, &err), &err);
  h_stop(&h);
  stop_master();
}
END_TEST

/* A non-leading "master": answers every scheduler call with a 307 to the
 * real one, protocol-relative as Mesos does. */
static int redirects_served;
static void redirect_handler(mesos__http_request *req, void *ud) {
  char loc[128];
  snprintf(loc, sizeof loc, "//127.0.0.1:%d/api/v1/scheduler", master_port);
  mesos__http_headers hd;
  mesos__http_headers_init(&hd);
  ck_assert_int_eq(mesos__http_headers_set(&hd, "Location", loc), MESOS_OK);
  mesos__http_respond(req, 307, &hd, NULL, 0);
  mesos__http_headers_free(&hd);
  redirects_served++;
}

START_TEST(test_scheduler_client__follows_a_307_from_a_non_leader) {
  start_master();
  harness h;
  memset(&h, 0, sizeof h);
  mesos_error *err = NULL;
  mesos_loop *loop = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  mesos__http_server *srv = NULL;
  mesos__http_server_options so = {0};
  so.listen = "127.0.0.1:0";
  ck_assert_mesos_ok(mesos__http_server_new(&srv, loop, &so, &err), &err);
  ck_assert_mesos_ok(
      mesos__http_server_route(srv, NULL, "/api/v1/scheduler", 0, redirect_handler, NULL), &err);
  /* The list names a dead master first, then the non-leader. */
  char masters[128];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d, http://127.0.0.1:%u",
           mesos_test_free_port(), mesos__http_server_port(srv));
  h.loop = loop;
  mesos_scheduler_options o = h_options(&h, masters, MESOS_SCHEDULER_CONTENT_JSON);
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  ck_assert_int_ge(h.disconnected, 1); /* the dead one */
  ck_assert_int_ge(redirects_served, 1);
  char want[128];
  snprintf(want, sizeof want, "http://127.0.0.1:%d/api/v1/scheduler", master_port);
  ck_assert_str_eq(mesos__scheduler_leader(h.s), want);
  /* Calls go straight to the leader. */
  int served = redirects_served;
  ck_assert_mesos_ok(mesos_scheduler_reconcile(h.s, NULL, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_scheduler_suppress(h.s, &err), &err);
  for (int i = 0; i < 20; i++) mesos_loop_run_once(loop), usleep(5000);
  ck_assert_int_eq(redirects_served, served);
  mesos_scheduler_free(h.s);
  mesos__http_server_free(srv);
  for (int i = 0; i < 10; i++) mesos_loop_run_once(loop);
  mesos_loop_free(loop);
  stop_master();
}
END_TEST

/* A fake master that sends SUBSCRIBED with a 100 ms heartbeat interval and
 * then goes silent (the connection stays open). */
static int fake_subscribes;
static mesos__http_request *fake_req;
static void fake_abort(mesos__http_request *req, void *ud) {
  if (fake_req == req) fake_req = NULL;
}
static void silent_master(mesos__http_request *req, void *ud) {
  fake_subscribes++;
  mesos__http_headers hd;
  mesos__http_headers_init(&hd);
  mesos__http_headers_set(&hd, "Content-Type", "application/json");
  mesos__http_headers_set(&hd, "Mesos-Stream-Id", "11111111-2222-3333-4444-555555555555");
  ck_assert_int_eq(mesos__http_stream_start(req, 200, &hd), MESOS_OK);
  mesos__http_headers_free(&hd);
  const char *ev = "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":"
                   "\"fw-silent\"},\"heartbeat_interval_seconds\":0.1}}";
  char rec[512];
  int n = snprintf(rec, sizeof rec, "%zu\n%s", strlen(ev), ev);
  ck_assert_int_eq(mesos__http_stream_send(req, rec, (size_t)n), MESOS_OK);
  mesos__http_request_on_abort(req, fake_abort, NULL);
  if (fake_req) mesos__http_stream_end(fake_req);
  fake_req = req;
}

START_TEST(test_scheduler_client__silent_stream_is_replaced_after_missed_heartbeats) {
  harness h;
  memset(&h, 0, sizeof h);
  mesos_error *err = NULL;
  mesos_loop *loop = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  mesos__http_server *srv = NULL;
  mesos__http_server_options so = {0};
  so.listen = "127.0.0.1:0";
  ck_assert_mesos_ok(mesos__http_server_new(&srv, loop, &so, &err), &err);
  ck_assert_mesos_ok(
      mesos__http_server_route(srv, NULL, "/api/v1/scheduler", 0, silent_master, NULL), &err);
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%u", mesos__http_server_port(srv));
  h.loop = loop;
  mesos_scheduler_options o = h_options(&h, masters, MESOS_SCHEDULER_CONTENT_JSON);
  o.heartbeat_misses = 3;
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  ck_assert_str_eq(mesos_scheduler_framework_id(h.s), "fw-silent");
  uint64_t t0 = now_ms();
  ck_assert(wait_int(&h, &h.disconnected, 1, 5000));
  uint64_t waited = now_ms() - t0;
  ck_assert_msg(waited >= 250 && waited < 2000, "gave up after %llu ms",
                (unsigned long long)waited);
  ck_assert_msg(strstr(h.reason, "heartbeat") != NULL, "reason: %s", h.reason);
  /* ...and subscribes again, failing over with the id it was given. */
  ck_assert(wait_int(&h, &h.connected, 2, 5000));
  ck_assert_int_ge(fake_subscribes, 2);
  mesos_scheduler_free(h.s);
  if (fake_req) mesos__http_stream_end(fake_req);
  fake_req = NULL;
  mesos__http_server_free(srv);
  for (int i = 0; i < 10; i++) mesos_loop_run_once(loop);
  mesos_loop_free(loop);
}
END_TEST

/* A flaky "master": the first SUBSCRIBE gets 503, the second a stream whose
 * first record is not an Event, the third a proper SUBSCRIBED. */
static int flaky_count;
static char flaky_reasons[3][256];
static void flaky_master(mesos__http_request *req, void *ud) {
  int n = flaky_count++;
  if (n == 0) {
    const char *msg = "Master has not finished recovery";
    mesos__http_respond(req, 503, NULL, msg, strlen(msg));
    return;
  }
  if (n == 1) {
    mesos__http_headers hd;
    mesos__http_headers_init(&hd);
    mesos__http_headers_set(&hd, "Content-Type", "application/json");
    mesos__http_headers_set(&hd, "Mesos-Stream-Id", "s-1");
    mesos__http_stream_start(req, 200, &hd);
    mesos__http_headers_free(&hd);
    mesos__http_stream_send(req, "5\n{bad}", 7);
    mesos__http_stream_end(req);
    return;
  }
  silent_master(req, ud);
}

static void flaky_disconnected(mesos_scheduler *s, const char *reason, void *ud) {
  harness *h = ud;
  if (h->disconnected < 3)
    snprintf(flaky_reasons[h->disconnected], sizeof flaky_reasons[0], "%s", reason);
  h_disconnected(s, reason, ud);
}

START_TEST(test_scheduler_client__refused_and_garbled_subscriptions_are_retried) {
  harness h;
  memset(&h, 0, sizeof h);
  mesos_error *err = NULL;
  mesos_loop *loop = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  mesos__http_server *srv = NULL;
  mesos__http_server_options so = {0};
  so.listen = "127.0.0.1:0";
  ck_assert_mesos_ok(mesos__http_server_new(&srv, loop, &so, &err), &err);
  ck_assert_mesos_ok(
      mesos__http_server_route(srv, NULL, "/api/v1/scheduler", 0, flaky_master, NULL), &err);
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%u", mesos__http_server_port(srv));
  h.loop = loop;
  mesos_scheduler_options o = h_options(&h, masters, MESOS_SCHEDULER_CONTENT_JSON);
  o.on_disconnected = flaky_disconnected;
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  ck_assert_int_eq(h.disconnected, 2);
  ck_assert_msg(strstr(flaky_reasons[0], "HTTP 503: Master has not finished recovery") != NULL,
                "first: %s", flaky_reasons[0]);
  ck_assert_msg(strstr(flaky_reasons[1], "undecodable event") != NULL, "second: %s",
                flaky_reasons[1]);
  ck_assert_int_eq(flaky_count, 3);
  mesos_scheduler_free(h.s);
  if (fake_req) mesos__http_stream_end(fake_req);
  fake_req = NULL;
  mesos__http_server_free(srv);
  for (int i = 0; i < 10; i++) mesos_loop_run_once(loop);
  mesos_loop_free(loop);
}
END_TEST

START_TEST(test_scheduler_client__failed_over_instance_gets_error_and_stops) {
  start_master();
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h1, h2;
  h_start(&h1, masters, MESOS_SCHEDULER_CONTENT_PROTOBUF);
  ck_assert(wait_int(&h1, &h1.connected, 1, 5000));
  /* A second instance takes over the framework id, on the same loop. */
  memset(&h2, 0, sizeof h2);
  h2.loop = h1.loop;
  char info[256];
  snprintf(info, sizeof info,
           "{\"user\":\"nobody\",\"name\":\"sched client test\",\"id\":{\"value\":\"%s\"},"
           "\"failover_timeout\":60}",
           h1.fw_at_connect);
  mesos_scheduler_options o = h_options(&h2, masters, MESOS_SCHEDULER_CONTENT_JSON);
  o.framework_info_json = info;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_scheduler_new(&h2.s, h1.loop, &o, &err), &err);
  ck_assert(wait_int(&h2, &h2.connected, 1, 5000));
  ck_assert_str_eq(h2.fw_at_connect, h1.fw_at_connect);
  ck_assert(wait_int(&h1, &h1.disconnected, 1, 5000));
  ck_assert_int_eq(h1.errors, 1);
  ck_assert_msg(strstr(h1.error_msg, "failed over") != NULL, "ERROR: %s", h1.error_msg);
  ck_assert_msg(strstr(h1.reason, "ERROR") != NULL, "reason: %s", h1.reason);
  /* The old instance stays down: no reconnect fights the new one. */
  ck_assert(!wait_int(&h1, &h1.connected, 2, 600));
  ck_assert_int_eq(h1.disconnected, 1);
  ck_assert_int_eq(mesos_scheduler_revive(h1.s, &err), MESOS_ECLOSED);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(h2.disconnected, 0);
  mesos_scheduler_free(h2.s);
  h_stop(&h1);
  stop_master();
}
END_TEST

START_TEST(test_scheduler_client__teardown_ends_the_framework_and_the_subscription) {
  start_master();
  mesos_sim_agent *a = mesos_sim_agent_start(master_port, "agent-td", 4, 1024, 0);
  ck_assert_ptr_nonnull(a);
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h;
  h_start(&h, masters, MESOS_SCHEDULER_CONTENT_JSON);
  h.auto_ack = 1;
  ck_assert(wait_int(&h, &h.offer_events, 1, 5000));
  launch_json(&h, "long-1", 1);
  ck_assert(wait_int(&h, &h.running, 1, 5000));
  mesos_error *err = NULL;
  /* KILL reaches the agent, whose TASK_KILLED comes back as an UPDATE. */
  int offers_before = h.offer_events;
  ck_assert_mesos_ok(mesos_scheduler_kill(h.s, "long-1", mesos_sim_agent_id(a), &err), &err);
  ck_assert(wait_int(&h, &h.terminal, 1, 5000));
  /* Another one runs when the framework is torn down.  The killed task's
   * resources are offered again, possibly before the UPDATE is read: count
   * offers from before the KILL. */
  ck_assert_mesos_ok(mesos_scheduler_revive(h.s, &err), &err);
  ck_assert(wait_int(&h, &h.offer_events, offers_before + 1, 5000));
  launch_json(&h, "long-2", 1);
  ck_assert(wait_int(&h, &h.running, 2, 5000));
  ck_assert_mesos_ok(mesos_scheduler_teardown(h.s, &err), &err);
  ck_assert_int_eq(mesos_scheduler_revive(h.s, &err), MESOS_ECLOSED);
  mesos_error_free(err);
  err = NULL;
  ck_assert(wait_int(&h, &h.disconnected, 1, 5000));
  ck_assert_str_eq(h.reason, "torn down");
  ck_assert(wait_agent(&h, a, mesos_sim_agent_shutdowns, 1, 5000));
  ck_assert(!wait_int(&h, &h.connected, 2, 400));
  h_stop(&h);
  mesos_sim_agent_stop(a);
  stop_master();
}
END_TEST

/* on_offers: runs after on_event saw the same OFFERS event. */
static void t_offers(mesos_scheduler *s, const struct mesos_scheduler_offer *offers, size_t n,
                     void *ud) {
  harness *h = ud;
  ck_assert_uint_ge(n, 1);
  ck_assert_double_gt(offers[0].cpus, 0);
  h->t_offers++;
  if (h->t_offers > h->offer_events) h->t_before_event++;
  snprintf(h->offer_id, sizeof h->offer_id, "%s", offers[0].id);
  snprintf(h->offer_agent, sizeof h->offer_agent, "%s", offers[0].agent_id);
}

static void t_update(mesos_scheduler *s, const struct mesos_scheduler_task_status *st, void *ud) {
  harness *h = ud;
  h->t_updates++;
  if (h->t_updates > h->updates) h->t_before_event++;
  h->t_uuid += st->has_uuid;
  if (strcmp(st->state, "TASK_FINISHED") == 0) {
    h->t_finished++;
    if (h->teardown_on_finished) {
      mesos_error *err = NULL;
      ck_assert_mesos_ok(mesos_scheduler_teardown(s, &err), &err);
    }
  }
  if (h->free_on_update) {
    mesos_scheduler_free(s);
    h->s = NULL;
    h->freed = 1;
  }
}

/* Options version 2: on_offers and on_update get the flattened events
 * (after on_event), and auto_acknowledge acknowledges every update with
 * a uuid once on_update returned: the agent sees both of a task's
 * acknowledgements though the program sent none, the last one although
 * on_update tore the framework down on it (the acknowledgement goes
 * first). */
START_TEST(test_scheduler_client__typed_callbacks_and_implicit_acknowledgements) {
  start_master();
  mesos_sim_agent *a = mesos_sim_agent_start(master_port, "agent-typed", 4, 1024, 1);
  ck_assert_ptr_nonnull(a);
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h;
  memset(&h, 0, sizeof h);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&h.loop, NULL, &err), &err);
  mesos_scheduler_options o = h_options(&h, masters, MESOS_SCHEDULER_CONTENT_JSON);
  ck_assert_uint_ge(o.version, 2);
  o.on_offers = t_offers;
  o.on_update = t_update;
  o.auto_acknowledge = 1;
  h.teardown_on_finished = 1;
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, h.loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.t_offers, 1, 5000));
  ck_assert_int_eq(h.offer_events, h.t_offers);
  launch_json(&h, "typed-1", 1);
  ck_assert(wait_int(&h, &h.t_finished, 1, 5000));
  ck_assert_int_eq(h.t_updates, 2); /* RUNNING, FINISHED */
  ck_assert_int_eq(h.t_uuid, 2);
  ck_assert_int_eq(h.updates, 2);   /* on_event saw them too */
  ck_assert_int_eq(h.acked, 0);     /* the program acknowledged nothing */
  ck_assert_int_eq(h.t_before_event, 0);
  ck_assert(wait_agent(&h, a, mesos_sim_agent_acks, 2, 5000));
  ck_assert_int_eq(mesos_sim_agent_acks(a), 2);
  ck_assert(wait_int(&h, &h.disconnected, 1, 5000));
  ck_assert_str_eq(h.reason, "torn down");
  char buf[512];
  ck_assert_msg(mesos_sim_agent_errors(a, buf, sizeof buf) == 0, "sim agent: %s", buf);
  h_stop(&h);
  mesos_sim_agent_stop(a);
  stop_master();
}
END_TEST

static int v1_typed_calls;
static void v1_offers(mesos_scheduler *s, const struct mesos_scheduler_offer *o, size_t n,
                      void *ud) {
  v1_typed_calls++;
}

/* A version 1 struct (a program built against the older header) has no
 * typed fields: mesos_scheduler_options_init(o, 1) does not write them
 * and mesos_scheduler_new never reads them.  And a scheduler freed
 * inside on_update sends no implicit acknowledgement and runs no callback
 * after. */
START_TEST(test_scheduler_client__version_1_options_and_freeing_inside_on_update) {
  mesos_scheduler_options o;
  memset(&o, 0x5a, sizeof o);
  ck_assert_int_eq(mesos_scheduler_options_init(&o, 1), MESOS_OK);
  ck_assert_uint_eq(o.version, 1);
  ck_assert_ptr_null(o.on_event);
  const unsigned char *tail = (const unsigned char *)&o.on_offers;
  for (size_t i = 0; i < sizeof o - offsetof(mesos_scheduler_options, on_offers); i++)
    ck_assert_uint_eq(tail[i], 0x5a);
  memset(&o, 0x5a, sizeof o);
  ck_assert_int_eq(mesos_scheduler_options_init(&o, 2), MESOS_OK);
  ck_assert_ptr_null(o.on_offers);
  ck_assert_uint_eq(o.auto_acknowledge, 0);
  /* Version 2 has no client certificate fields: not written. */
  tail = (const unsigned char *)&o.tls_cert_file;
  for (size_t i = 0; i < sizeof o - offsetof(mesos_scheduler_options, tls_cert_file); i++)
    ck_assert_uint_eq(tail[i], 0x5a);
  ck_assert_int_eq(mesos_scheduler_options_init(&o, 3), MESOS_OK);
  ck_assert_ptr_null(o.tls_cert_file);
  ck_assert_ptr_null(o.tls_key_file);
  ck_assert_int_eq(mesos_scheduler_options_init(&o, 0), MESOS_EVERSION);
  ck_assert_int_eq(mesos_scheduler_options_init(&o, 4), MESOS_EVERSION);

  start_master();
  mesos_sim_agent *a = mesos_sim_agent_start(master_port, "agent-v1", 4, 1024, 1);
  ck_assert_ptr_nonnull(a);
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h;
  memset(&h, 0, sizeof h);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&h.loop, NULL, &err), &err);
  o = h_options(&h, masters, MESOS_SCHEDULER_CONTENT_PROTOBUF);
  o.version = 1;
  o.on_offers = v1_offers; /* beyond a version 1 struct: never called */
  o.on_update = t_update;
  o.auto_acknowledge = 1;
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, h.loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.offer_events, 1, 5000));
  launch_json(&h, "v1-1", 1);
  ck_assert(wait_int(&h, &h.running, 1, 5000));
  ck_assert_int_eq(v1_typed_calls, 0);
  ck_assert_int_eq(h.t_updates, 0);
  /* Nobody acknowledged RUNNING: FINISHED never comes. */
  ck_assert(!wait_int(&h, &h.finished, 1, 300));
  ck_assert_int_eq(mesos_sim_agent_acks(a), 0);
  h_stop(&h);

  /* Version 2, freed inside on_update: no acknowledgement goes out. */
  memset(&h, 0, sizeof h);
  ck_assert_mesos_ok(mesos_loop_new(&h.loop, NULL, &err), &err);
  o = h_options(&h, masters, MESOS_SCHEDULER_CONTENT_PROTOBUF);
  o.on_update = t_update;
  o.auto_acknowledge = 1;
  h.free_on_update = 1;
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, h.loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.offer_events, 1, 5000));
  launch_json(&h, "v2-free", 1);
  ck_assert(wait_int(&h, &h.freed, 1, 5000));
  int events = h.events;
  for (int i = 0; i < 30; i++) mesos_loop_run_once(h.loop), usleep(10000);
  ck_assert_int_eq(h.events, events);
  ck_assert_int_eq(h.t_updates, 1);
  ck_assert_int_eq(mesos_sim_agent_acks(a), 0);
  h_stop(&h);
  mesos_sim_agent_stop(a);
  stop_master();
}
END_TEST

START_TEST(test_scheduler_client__freeing_inside_on_event_is_safe) {
  start_master();
  mesos_sim_agent *a = mesos_sim_agent_start(master_port, "agent-free", 4, 1024, 0);
  ck_assert_ptr_nonnull(a);
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h;
  h_start(&h, masters, MESOS_SCHEDULER_CONTENT_PROTOBUF);
  h.free_on_offers = 1;
  ck_assert(wait_int(&h, &h.freed, 1, 5000));
  int ev = h.events;
  for (int i = 0; i < 20; i++) mesos_loop_run_once(h.loop), usleep(10000);
  ck_assert_int_eq(h.events, ev);
  ck_assert_int_eq(h.disconnected, 0); /* no callback after free */
  h_stop(&h);
  mesos_sim_agent_stop(a);
  stop_master();
}
END_TEST

static void free_on_disconnect(mesos_scheduler *s, const char *reason, void *ud) {
  harness *h = ud;
  h->disconnected++;
  mesos_scheduler_free(s);
  h->s = NULL;
}

static void free_on_connect(mesos_scheduler *s, void *ud) {
  harness *h = ud;
  h->connected++;
  mesos_scheduler_free(s);
  h->s = NULL;
}

START_TEST(test_scheduler_client__freeing_in_connect_or_disconnect_callback_is_safe) {
  start_master();
  char masters[128];
  harness h;
  memset(&h, 0, sizeof h);
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&h.loop, NULL, &err), &err);
  /* A failed attempt: freed from on_disconnected, no retry follows. */
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", mesos_test_free_port());
  mesos_scheduler_options o = h_options(&h, masters, MESOS_SCHEDULER_CONTENT_PROTOBUF);
  o.on_disconnected = free_on_disconnect;
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, h.loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.disconnected, 1, 5000));
  ck_assert(!wait_int(&h, &h.disconnected, 2, 300));
  /* Freed from on_connected: no SUBSCRIBED event is delivered after it. */
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  o = h_options(&h, masters, MESOS_SCHEDULER_CONTENT_JSON);
  o.on_connected = free_on_connect;
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, h.loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  ck_assert(!wait_int(&h, &h.events, 1, 300));
  h_stop(&h);
  stop_master();
}
END_TEST

START_TEST(test_scheduler_client__bad_options_and_calls_are_refused) {
  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  harness h;
  memset(&h, 0, sizeof h);
  mesos_scheduler *s = NULL;
  mesos_scheduler_options o = h_options(&h, "http://127.0.0.1:1", MESOS_SCHEDULER_CONTENT_JSON);

  ck_assert_int_eq(mesos_scheduler_options_init(NULL, 1), MESOS_EINVAL);
  ck_assert_int_eq(mesos_scheduler_options_init(&o, 99), MESOS_EVERSION);
  o = h_options(&h, "http://127.0.0.1:1", MESOS_SCHEDULER_CONTENT_JSON);
  o.version = 99;
  ck_assert_int_eq(mesos_scheduler_new(&s, loop, &o, &err), MESOS_EVERSION);
  mesos_error_free(err);
  err = NULL;

  struct {
    const char *masters, *info;
    uint32_t content;
    const char *needle;
  } bad[] = {
      {NULL, "{\"user\":\"u\",\"name\":\"n\"}", 1, "masters"},
      {" , ", "{\"user\":\"u\",\"name\":\"n\"}", 1, "no master"},
      {"ftp://x:1", "{\"user\":\"u\",\"name\":\"n\"}", 1, "bad master URL"},
      {"http://127.0.0.1:1", "{\"user\":\"u\"}", 1, "FrameworkInfo"},
      {"http://127.0.0.1:1", "{\"user\":", 1, "FrameworkInfo"},
      {"http://127.0.0.1:1", NULL, 1, "exactly one"},
      {"http://127.0.0.1:1", "{\"user\":\"u\",\"name\":\"n\"}", 7, "content_type"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    o = h_options(&h, bad[i].masters, bad[i].content);
    o.framework_info_json = bad[i].info;
    ck_assert_int_eq(mesos_scheduler_new(&s, loop, &o, &err), MESOS_EINVAL);
    ck_assert_msg(strstr(mesos_error_message(err), bad[i].needle) != NULL, "case %zu: %s", i,
                  mesos_error_message(err));
    mesos_error_free(err);
    err = NULL;
  }
  /* Both forms of FrameworkInfo at once. */
  o = h_options(&h, "http://127.0.0.1:1", 1);
  o.framework_info = (const uint8_t *)"\x0a\x01u\x12\x01n";
  o.framework_info_len = 6;
  ck_assert_int_eq(mesos_scheduler_new(&s, loop, &o, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  /* Protobuf FrameworkInfo alone is fine. */
  o.framework_info_json = NULL;
  ck_assert_mesos_ok(mesos_scheduler_new(&s, loop, &o, &err), &err);

  /* Malformed calls: EINVAL without contacting anyone (the master here
   * does not even exist). */
  const uint8_t junk[] = {0xff, 0xff, 0xff};
  ck_assert_int_eq(mesos_scheduler_call(s, junk, sizeof junk, NULL, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_scheduler_call_json(s, "{\"type\":", NULL, NULL, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_scheduler_call_json(s, "{}", NULL, NULL, &err), MESOS_EINVAL);
  ck_assert_ptr_nonnull(strstr(mesos_error_message(err), "type"));
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_scheduler_call_json(s, "{\"type\":\"SUBSCRIBE\"}", NULL, NULL, &err),
                   MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_scheduler_call_json(s, "{\"type\":\"ACKNOWLEDGE\",\"acknowledge\":{}}",
                                             NULL, NULL, &err),
                   MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_scheduler_decline(s, NULL, 1, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  ck_assert_int_eq(mesos_scheduler_call_json(s, "{\"type\":\"REVIVE\"}", NULL, NULL, &err),
                   MESOS_EAGAIN);
  mesos_error_free(err);
  err = NULL;

  /* Event accessors refuse what they cannot read. */
  mesos_scheduler_offer *offers = NULL;
  size_t n = 0;
  ck_assert_int_eq(mesos_scheduler_event_offers(junk, sizeof junk, &offers, &n, &err),
                   MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  const uint8_t heartbeat[] = {0x08, 0x08}; /* Event{type: HEARTBEAT} */
  ck_assert_int_eq(mesos_scheduler_event_offers(heartbeat, 2, &offers, &n, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  mesos_scheduler_task_status *st = NULL;
  ck_assert_int_eq(mesos_scheduler_event_update(heartbeat, 2, &st, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;
  char *m = NULL;
  ck_assert_int_eq(mesos_scheduler_event_error(heartbeat, 2, &m, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;

  /* Failed attempts against the dead port are reported, then freed. */
  h.loop = loop;
  ck_assert(wait_int(&h, &h.disconnected, 1, 10000));
  ck_assert_ptr_nonnull(strstr(h.reason, "SUBSCRIBE"));
  mesos_scheduler_free(s);
  mesos_scheduler_free(NULL);
  for (int i = 0; i < 10; i++) mesos_loop_run_once(loop);
  mesos_loop_free(loop);
}
END_TEST

/* The scheduler API with curl and JSON, as a shell framework would use it:
 * SUBSCRIBE, then read the first RecordIO record from the stream. */
START_TEST(test_scheduler_client__curl_json_subscribe_gets_subscribed_record) {
  if (system("curl --version >/dev/null 2>&1") != 0) MESOS_TEST_SKIP("curl is not installed");
  start_master();
  char dir[128];
  test_dir(dir, sizeof dir, "curl");
  char body_path[256], out_path[256], hdr_path[256], cmd[1024];
  snprintf(body_path, sizeof body_path, "%s/subscribe.json", dir);
  snprintf(out_path, sizeof out_path, "%s/stream", dir);
  snprintf(hdr_path, sizeof hdr_path, "%s/headers", dir);
  FILE *f = fopen(body_path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"nobody\","
        "\"name\":\"curl\"}}}",
        f);
  fclose(f);
  /* The stream never ends: curl stops after a second (exit 28). */
  snprintf(cmd, sizeof cmd,
           "curl -sN --max-time 1 -D '%s' -H 'Content-Type: application/json' "
           "-H 'Accept: application/json' -d @'%s' http://127.0.0.1:%d/api/v1/scheduler > '%s'",
           hdr_path, body_path, master_port, out_path);
  int rc = system(cmd);
  ck_assert_msg(WIFEXITED(rc) && (WEXITSTATUS(rc) == 28 || WEXITSTATUS(rc) == 0), "curl: %d", rc);
  char out[8192], hdrs[4096];
  f = fopen(out_path, "r");
  ck_assert_ptr_nonnull(f);
  size_t n = fread(out, 1, sizeof out - 1, f);
  fclose(f);
  out[n] = '\0';
  f = fopen(hdr_path, "r");
  ck_assert_ptr_nonnull(f);
  size_t hn = fread(hdrs, 1, sizeof hdrs - 1, f);
  fclose(f);
  hdrs[hn] = '\0';
  ck_assert_ptr_nonnull(strstr(hdrs, "200"));
  ck_assert_ptr_nonnull(strcasestr(hdrs, "Mesos-Stream-Id:"));
  /* The first record: "<len>\n" then exactly len bytes of SUBSCRIBED. */
  mesos__recordio_decoder d;
  mesos__recordio_decoder_init(&d, 0);
  ck_assert_int_eq(mesos__recordio_decoder_feed(&d, out, n, NULL), MESOS_OK);
  const uint8_t *rec = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__recordio_decoder_next(&d, &rec, &len, NULL), MESOS_OK);
  char first[4096];
  snprintf(first, sizeof first, "%.*s", (int)len, (const char *)rec);
  mesos__recordio_decoder_free(&d);
  ck_assert_msg(strncmp(first, "{\"type\":\"SUBSCRIBED\"", 20) == 0, "first record: %s", first);
  ck_assert_ptr_nonnull(strstr(first, "\"framework_id\":{\"value\":\""));
  ck_assert_ptr_nonnull(strstr(first, "\"heartbeat_interval_seconds\":"));
  stop_master();
}
END_TEST


/* ------------------------------------------------------------ call outcomes */

typedef struct outcome {
  int done;
  mesos_status status;
  int http;
  char message[512];
} outcome;

static void on_outcome(mesos_scheduler *s, mesos_status status, int http, const char *message,
                       void *ud) {
  outcome *o = ud;
  o->done++;
  o->status = status;
  o->http = http;
  snprintf(o->message, sizeof o->message, "%s", message ? message : "");
}

START_TEST(test_scheduler_client__call_callback_reports_accepted_and_refused_calls) {
  start_master();
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h;
  h_start(&h, masters, MESOS_SCHEDULER_CONTENT_PROTOBUF);
  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  mesos_error *err = NULL;

  /* A protobuf Call built by the user (no framework_id: the library adds
   * it): accepted with 202. */
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__REVIVE;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_mesos_ok(mesos__pb_pack(&call.base, 0, &bytes, &len, &err), &err);
  outcome ok = {0};
  ck_assert_mesos_ok(mesos_scheduler_call(h.s, bytes, len, on_outcome, &ok, &err), &err);
  mesos__free(bytes);
  ck_assert(wait_int(&h, &ok.done, 1, 5000));
  ck_assert_int_eq(ok.status, MESOS_OK);
  ck_assert_int_eq(ok.http, 202);

  /* The master refuses an acknowledgement whose uuid is not 16 bytes: the
   * callback gets the 400 and the master's message. */
  outcome bad = {0};
  ck_assert_mesos_ok(
      mesos_scheduler_call_json(h.s,
                                "{\"type\":\"ACKNOWLEDGE\",\"acknowledge\":{\"agent_id\":"
                                "{\"value\":\"a\"},\"task_id\":{\"value\":\"t\"},"
                                "\"uuid\":\"AAEC\"}}",
                                on_outcome, &bad, &err),
      &err);
  ck_assert(wait_int(&h, &bad.done, 1, 5000));
  ck_assert_int_eq(bad.status, MESOS_EPROTO);
  ck_assert_int_eq(bad.http, 400);
  ck_assert_msg(strstr(bad.message, "uuid") != NULL, "message: %s", bad.message);
  ck_assert_int_eq(ok.done, 1);
  h_stop(&h);
  stop_master();
}
END_TEST

typedef struct burst {
  int done, ok, closed, other;
} burst;

static void on_burst(mesos_scheduler *s, mesos_status status, int http, const char *message,
                     void *ud) {
  burst *b = ud;
  b->done++;
  if (status == MESOS_OK) b->ok++;
  else if (status == MESOS_ECLOSED) b->closed++;
  else b->other++;
}

START_TEST(test_scheduler_client__a_burst_of_calls_uses_a_bounded_window) {
  start_master();
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h;
  h_start(&h, masters, MESOS_SCHEDULER_CONTENT_PROTOBUF);
  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  mesos_error *err = NULL;
  burst b = {0};
  for (int i = 0; i < 300; i++)
    ck_assert_mesos_ok(mesos_scheduler_call_json(h.s, "{\"type\":\"REVIVE\"}", on_burst, &b, &err),
                       &err);
  ck_assert_uint_eq(mesos__scheduler_calls_inflight(h.s), 8);
  ck_assert_uint_eq(mesos__scheduler_calls_queued(h.s), 292);
  ck_assert(wait_int(&h, &b.done, 300, 10000));
  ck_assert_int_eq(b.ok, 300);
  ck_assert_uint_eq(mesos__scheduler_calls_inflight(h.s), 0);

  /* Calls still waiting when the subscription breaks fail with ECLOSED. */
  burst c = {0};
  for (int i = 0; i < 50; i++)
    ck_assert_mesos_ok(mesos_scheduler_call_json(h.s, "{\"type\":\"REVIVE\"}", on_burst, &c, &err),
                       &err);
  kill(master_pid, SIGKILL);
  waitpid(master_pid, NULL, 0);
  master_pid = -1;
  ck_assert(wait_int(&h, &c.done, 50, 5000));
  ck_assert_int_eq(c.ok + c.closed + c.other, 50);
  ck_assert_int_gt(c.closed, 0);
  ck_assert_uint_eq(mesos__scheduler_calls_queued(h.s), 0);
  h_stop(&h);
}
END_TEST

START_TEST(test_scheduler_client__too_many_waiting_calls_are_refused_with_elimit) {
  start_master();
  char masters[64];
  snprintf(masters, sizeof masters, "http://127.0.0.1:%d", master_port);
  harness h;
  h_start(&h, masters, MESOS_SCHEDULER_CONTENT_PROTOBUF);
  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  mesos_error *err = NULL;
  /* The loop does not run here, so nothing is answered meanwhile. */
  int sent = 0;
  mesos_status st;
  while ((st = mesos_scheduler_suppress(h.s, &err)) == MESOS_OK) sent++;
  ck_assert_int_eq(st, MESOS_ELIMIT);
  ck_assert_int_eq(sent, 8 + 65536);
  mesos_error_free(err);
  /* Freeing drops the waiting calls without callbacks or leaks. */
  h_stop(&h);
  stop_master();
}
END_TEST

/* ------------------------------------------------------------ TLS */

START_TEST(test_scheduler_client__subscribes_over_https_verified_with_tls_ca_file) {
  if (!mesos_test_have_openssl()) MESOS_TEST_SKIP("openssl binary not found");
  char dir[128];
  test_dir(dir, sizeof dir, "certs");
  ck_assert_int_eq(mesos_test_make_certs(dir), 0);
  harness h;
  memset(&h, 0, sizeof h);
  mesos_error *err = NULL;
  mesos_loop *loop = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, &err), &err);
  mesos__tls_config_options to = {0};
  to.is_server = 1;
  to.cert_file = mesos_test_cert(dir, "server.crt");
  to.key_file = mesos_test_cert(dir, "server.key");
  mesos__tls_config *tls = NULL;
  ck_assert_mesos_ok(mesos__tls_config_new(&tls, &to, &err), &err);
  mesos__http_server *srv = NULL;
  mesos__http_server_options so = {0};
  so.listen = "127.0.0.1:0";
  so.tls = tls;
  ck_assert_mesos_ok(mesos__http_server_new(&srv, loop, &so, &err), &err);
  mesos__tls_config_unref(tls);
  ck_assert_mesos_ok(
      mesos__http_server_route(srv, NULL, "/api/v1/scheduler", 0, silent_master, NULL), &err);
  char masters[64];
  snprintf(masters, sizeof masters, "https://127.0.0.1:%u", mesos__http_server_port(srv));
  h.loop = loop;
  mesos_scheduler_options o = h_options(&h, masters, MESOS_SCHEDULER_CONTENT_JSON);

  /* A CA file that does not exist is refused up front. */
  o.tls_ca_file = "/nonexistent/ca.crt";
  mesos_scheduler *s = NULL;
  ck_assert_int_eq(mesos_scheduler_new(&s, loop, &o, &err), MESOS_EINVAL);
  mesos_error_free(err);
  err = NULL;

  /* The wrong CA: every attempt fails verification. */
  o.tls_ca_file = mesos_test_cert(dir, "other-ca.crt");
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.disconnected, 1, 5000));
  ck_assert_int_eq(h.connected, 0);
  mesos_scheduler_free(h.s);

  /* The right one. */
  o.tls_ca_file = mesos_test_cert(dir, "ca.crt");
  ck_assert_mesos_ok(mesos_scheduler_new(&h.s, loop, &o, &err), &err);
  ck_assert(wait_int(&h, &h.connected, 1, 5000));
  ck_assert_str_eq(mesos_scheduler_framework_id(h.s), "fw-silent");
  mesos_scheduler_free(h.s);
  if (fake_req) mesos__http_stream_end(fake_req);
  fake_req = NULL;
  mesos__http_server_free(srv);
  for (int i = 0; i < 10; i++) mesos_loop_run_once(loop);
  mesos_loop_free(loop);
}
END_TEST

/* ------------------------------------------------------------ OOM */

static mesos_status oom_new_free(void *ud) {
  mesos_loop *loop = ud;
  mesos_scheduler_options o = MESOS_SCHEDULER_OPTIONS_INIT;
  o.masters = "http://127.0.0.1:1,http://localhost:2";
  o.framework_info_json = "{\"user\":\"u\",\"name\":\"n\",\"id\":{\"value\":\"fw-1\"}}";
  mesos_scheduler *s = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos_scheduler_new(&s, loop, &o, &err);
  mesos_error_free(err);
  mesos_scheduler_free(s);
  /* Timers and sockets are released as the loop runs. */
  for (int i = 0; i < 3; i++) mesos_loop_run_once(loop);
  return st;
}

typedef struct oom_event {
  uint8_t *offers;
  size_t offers_len;
  uint8_t *update;
  size_t update_len;
} oom_event;

static mesos_status oom_accessors(void *ud) {
  oom_event *e = ud;
  mesos_scheduler_offer *offers = NULL;
  size_t n = 0;
  mesos_scheduler_task_status *st = NULL;
  mesos_error *err = NULL;
  mesos_status rc = mesos_scheduler_event_offers(e->offers, e->offers_len, &offers, &n, &err);
  if (rc == MESOS_OK) {
    mesos_free(offers);
    rc = mesos_scheduler_event_update(e->update, e->update_len, &st, &err);
    if (rc == MESOS_OK) mesos_free(st);
  }
  mesos_error_free(err);
  return rc;
}

START_TEST(test_scheduler_client__allocation_failures_are_clean) {
  mesos_loop *loop = NULL;
  ck_assert_mesos_ok(mesos_loop_new(&loop, NULL, NULL), NULL);
  ck_assert_uint_gt(mesos_test_oom_torture(oom_new_free, loop, 100000), 5);
  mesos_loop_free(loop);

  /* An OFFERS event with two offers and an UPDATE, encoded as the
   * library hands them to on_event. */
  const char *offers_json =
      "{\"type\":\"OFFERS\",\"offers\":{\"offers\":["
      "{\"id\":{\"value\":\"o1\"},\"framework_id\":{\"value\":\"f\"},"
      "\"agent_id\":{\"value\":\"a1\"},\"hostname\":\"h1\",\"resources\":["
      "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2}},"
      "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1.5},\"role\":\"r\"},"
      "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":512}}]},"
      "{\"id\":{\"value\":\"o2\"},\"framework_id\":{\"value\":\"f\"},"
      "\"agent_id\":{\"value\":\"a2\"},\"hostname\":\"h2\"}]}}";
  const char *update_json =
      "{\"type\":\"UPDATE\",\"update\":{\"status\":{\"task_id\":{\"value\":\"t\"},"
      "\"state\":\"TASK_LOST\",\"reason\":\"REASON_AGENT_REMOVED\",\"message\":\"gone\","
      "\"uuid\":\"AAECAwQFBgcICQoLDA0ODw==\"}}}";
  oom_event e;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_codec_json_to_protobuf("mesos.v1.scheduler.Event", offers_json,
                                                  strlen(offers_json), &e.offers, &e.offers_len,
                                                  &err),
                     &err);
  ck_assert_mesos_ok(mesos_codec_json_to_protobuf("mesos.v1.scheduler.Event", update_json,
                                                  strlen(update_json), &e.update, &e.update_len,
                                                  &err),
                     &err);
  /* What the accessors return, first. */
  mesos_scheduler_offer *offers = NULL;
  size_t n = 0;
  ck_assert_mesos_ok(mesos_scheduler_event_offers(e.offers, e.offers_len, &offers, &n, &err),
                     &err);
  ck_assert_uint_eq(n, 2);
  ck_assert_str_eq(offers[0].id, "o1");
  ck_assert_str_eq(offers[0].agent_id, "a1");
  ck_assert_str_eq(offers[1].hostname, "h2");
  ck_assert_double_eq(offers[0].cpus, 3.5);
  ck_assert_double_eq(offers[0].mem, 512);
  ck_assert_double_eq(offers[1].cpus, 0);
  mesos_free(offers);
  mesos_scheduler_task_status *st = NULL;
  ck_assert_mesos_ok(mesos_scheduler_event_update(e.update, e.update_len, &st, &err), &err);
  ck_assert_str_eq(st->task_id, "t");
  ck_assert_ptr_null(st->agent_id);
  ck_assert_str_eq(st->state, "TASK_LOST");
  ck_assert_str_eq(st->reason, "REASON_AGENT_REMOVED");
  ck_assert_str_eq(st->message, "gone");
  ck_assert_ptr_null(st->source);
  ck_assert_int_eq(st->has_uuid, 1);
  ck_assert_int_eq(st->uuid[15], 15);
  ck_assert_int_eq(st->terminal, 1);
  mesos_free(st);
  ck_assert_uint_gt(mesos_test_oom_torture(oom_accessors, &e, 100000), 2);
  mesos_free(e.offers);
  mesos_free(e.update);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("scheduler_client");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
  tcase_add_test(tc, test_scheduler_client__protobuf_subscribe_decline_launch_acknowledge);
  tcase_add_test(tc, test_scheduler_client__json_subscribe_decline_launch_acknowledge);
  tcase_add_test(tc, test_scheduler_client__resubscribes_with_the_same_id_after_master_kill_9);
  tcase_add_test(tc, test_scheduler_client__follows_a_307_from_a_non_leader);
  tcase_add_test(tc, test_scheduler_client__silent_stream_is_replaced_after_missed_heartbeats);
  tcase_add_test(tc, test_scheduler_client__refused_and_garbled_subscriptions_are_retried);
  tcase_add_test(tc, test_scheduler_client__failed_over_instance_gets_error_and_stops);
  tcase_add_test(tc, test_scheduler_client__teardown_ends_the_framework_and_the_subscription);
  tcase_add_test(tc, test_scheduler_client__typed_callbacks_and_implicit_acknowledgements);
  tcase_add_test(tc, test_scheduler_client__version_1_options_and_freeing_inside_on_update);
  tcase_add_test(tc, test_scheduler_client__freeing_inside_on_event_is_safe);
  tcase_add_test(tc, test_scheduler_client__freeing_in_connect_or_disconnect_callback_is_safe);
  tcase_add_test(tc, test_scheduler_client__bad_options_and_calls_are_refused);
  tcase_add_test(tc, test_scheduler_client__curl_json_subscribe_gets_subscribed_record);
  tcase_add_test(tc, test_scheduler_client__allocation_failures_are_clean);
  tcase_add_test(tc, test_scheduler_client__call_callback_reports_accepted_and_refused_calls);
  tcase_add_test(tc, test_scheduler_client__subscribes_over_https_verified_with_tls_ca_file);
  tcase_add_test(tc, test_scheduler_client__a_burst_of_calls_uses_a_bounded_window);
  tcase_add_test(tc, test_scheduler_client__too_many_waiting_calls_are_refused_with_elimit);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }

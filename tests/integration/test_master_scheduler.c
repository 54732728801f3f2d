/*
 * The real mesos-master daemon, driven over loopback HTTP the way a v1
 * scheduler (in any language) drives it: JSON and protobuf, the RecordIO
 * event stream, Mesos-Stream-Id rules, failover and bad input.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "codec/pb.h"
#include "mesos/v1/scheduler.pb-c.h"
#include "support/daemon.h"
#include "support/testutil.h"

static pid_t master_pid = -1;
static int master_port;

static void start_master(void) {
  char path[4096], port_arg[64];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--http_heartbeat_interval=200ms",
                  "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert_int_gt(master_pid, 0);
  ck_assert_msg(mesos_test_wait_http_ok(master_port, "/health", 5000),
                "mesos-master did not come up on port %d", master_port);
}

static void stop_master(void) {
  if (master_pid > 0) {
    int st = mesos_test_stop(master_pid, 3000);
    /* A clean SIGTERM shutdown exits 0; anything else (crash, ASan report)
     * fails the test. */
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mesos-master exit status %d", st);
  }
  master_pid = -1;
}

static const char *subscribe_json(const char *id, double failover_timeout, const char *role,
                                  char *buf, size_t cap) {
  char idpart[128] = "";
  char top[128] = "";
  if (id) {
    snprintf(idpart, sizeof idpart, "\"id\":{\"value\":\"%s\"},", id);
    snprintf(top, sizeof top, "\"framework_id\":{\"value\":\"%s\"},", id);
  }
  snprintf(buf, cap,
           "{%s\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{%s\"user\":\"nobody\","
           "\"name\":\"test framework\",\"role\":\"%s\",\"failover_timeout\":%g}}}",
           top, idpart, role, failover_timeout);
  return buf;
}

/* Opens a SUBSCRIBE stream; returns the framework id and stream id. */
static void subscribe(mesos_test_conn *c, const char *id, double failover, char *fw_id,
                      size_t fw_cap, char *stream_id, size_t sid_cap) {
  char body[1024];
  ck_assert_int_eq(mesos_test_conn_open(c, master_port), 0);
  subscribe_json(id, failover, "*", body, sizeof body);
  ck_assert_int_eq(mesos_test_conn_request(c, "POST", "/api/v1/scheduler", "application/json",
                                           "Accept: application/json\r\n", body, strlen(body)),
                   0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(c, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  char v[256];
  ck_assert_str_eq(mesos_test_response_header(&r, "Content-Type", v, sizeof v),
                   "application/json");
  ck_assert_ptr_nonnull(mesos_test_response_header(&r, "Mesos-Stream-Id", stream_id, sid_cap));
  ck_assert_uint_eq(strlen(stream_id), 36);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(c, &rec, 5000), 0);
  ck_assert_msg(strstr(rec, "\"type\":\"SUBSCRIBED\"") != NULL, "first event: %s", rec);
  ck_assert_ptr_nonnull(strstr(rec, "\"heartbeat_interval_seconds\":0.2"));
  ck_assert_ptr_nonnull(strstr(rec, "\"master_info\""));
  const char *p = strstr(rec, "\"framework_id\":{\"value\":\"");
  ck_assert_ptr_nonnull(p);
  p += strlen("\"framework_id\":{\"value\":\"");
  const char *q = strchr(p, '"');
  snprintf(fw_id, fw_cap, "%.*s", (int)(q - p), p);
  free(rec);
}

static int post_call(const char *stream_id, const char *body, mesos_test_response *r) {
  char hdr[256] = "";
  if (stream_id) snprintf(hdr, sizeof hdr, "Mesos-Stream-Id: %s\r\n", stream_id);
  return mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json", hdr, body,
                         r);
}

static int post_status(const char *stream_id, const char *body) {
  mesos_test_response r;
  if (post_call(stream_id, body, &r) != 0) return -1;
  int s = r.status;
  mesos_test_response_free(&r);
  return s;
}

START_TEST(test_master__help_lists_flags_and_unknown_flags_exit_1) {
  char path[4096];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "%s --help", path);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char out[65536];
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  ck_assert_int_eq(WEXITSTATUS(pclose(p)), 0);
  ck_assert_ptr_nonnull(strstr(out, "--work_dir=VALUE"));
  ck_assert_ptr_nonnull(strstr(out, "--agent_ping_timeout"));
  snprintf(cmd, sizeof cmd, "%s --no_such_flag=1 2>&1", path);
  p = popen(cmd, "r");
  n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  ck_assert_int_eq(WEXITSTATUS(pclose(p)), 1);
  ck_assert_ptr_nonnull(strstr(out, "unknown flag '--no_such_flag'"));
  snprintf(cmd, sizeof cmd, "%s --port=notaport 2>&1", path);
  p = popen(cmd, "r");
  n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  ck_assert_int_eq(WEXITSTATUS(pclose(p)), 1);
  ck_assert_ptr_nonnull(strstr(out, "port"));
}
END_TEST

START_TEST(test_master__version_and_health_answer_like_mesos) {
  start_master();
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(master_port, "GET", "/version", NULL, NULL, NULL, &r), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strstr(r.body, "\"version\":\"1.0.0\""));
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(master_port, "GET", "/master/health", NULL, NULL, NULL, &r),
                   0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, 0);
  mesos_test_response_free(&r);
  stop_master();
}
END_TEST

START_TEST(test_master__subscribe_streams_subscribed_then_heartbeats) {
  start_master();
  mesos_test_conn c;
  char fw[128], sid[64];
  subscribe(&c, NULL, 0, fw, sizeof fw, sid, sizeof sid);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&c, &rec, 10000), 0);
  ck_assert_str_eq(rec, "{\"type\":\"HEARTBEAT\"}");
  free(rec);
  mesos_test_conn_close(&c);
  stop_master();
}
END_TEST

START_TEST(test_master__calls_need_the_current_stream_id) {
  start_master();
  mesos_test_conn c;
  char fw[128], sid[64], body[512];
  subscribe(&c, NULL, 0, fw, sizeof fw, sid, sizeof sid);
  snprintf(body, sizeof body,
           "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"RECONCILE\",\"reconcile\":{\"tasks\":"
           "[{\"task_id\":{\"value\":\"t1\"}}]}}",
           fw);
  ck_assert_int_eq(post_status(NULL, body), 400);
  ck_assert_int_eq(post_status("00000000-0000-4000-8000-000000000000", body), 400);
  ck_assert_int_eq(post_status(sid, body), 202);
  /* Explicit reconciliation of a task the master does not know: TASK_LOST
   * for a framework without PARTITION_AWARE, from the master, no uuid. */
  char *rec = NULL;
  do {
    free(rec);
    rec = NULL;
    ck_assert_int_gt(mesos_test_conn_next_record(&c, &rec, 10000), 0);
  } while (strstr(rec, "HEARTBEAT"));
  ck_assert_ptr_nonnull(strstr(rec, "\"type\":\"UPDATE\""));
  ck_assert_ptr_nonnull(strstr(rec, "\"state\":\"TASK_LOST\""));
  ck_assert_ptr_nonnull(strstr(rec, "\"reason\":\"REASON_RECONCILIATION\""));
  ck_assert_ptr_nonnull(strstr(rec, "\"source\":\"SOURCE_MASTER\""));
  ck_assert_ptr_null(strstr(rec, "\"uuid\""));
  free(rec);
  /* A SUBSCRIBE must not carry a stream id. */
  mesos_test_response r;
  char sub[1024];
  subscribe_json(NULL, 0, "*", sub, sizeof sub);
  ck_assert_int_eq(post_call(sid, sub, &r), 0);
  ck_assert_int_eq(r.status, 400);
  mesos_test_response_free(&r);
  /* Unknown framework. */
  ck_assert_int_eq(post_status(sid, "{\"framework_id\":{\"value\":\"nope\"},\"type\":\"REVIVE\"}"),
                   400);
  mesos_test_conn_close(&c);
  stop_master();
}
END_TEST

START_TEST(test_master__teardown_ends_the_stream_and_the_id_cannot_return) {
  start_master();
  mesos_test_conn c;
  char fw[128], sid[64], body[512];
  subscribe(&c, NULL, 3600, fw, sizeof fw, sid, sizeof sid);
  snprintf(body, sizeof body, "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"TEARDOWN\"}", fw);
  ck_assert_int_eq(post_status(sid, body), 202);
  char *rec = NULL;
  long n;
  while ((n = mesos_test_conn_next_record(&c, &rec, 10000)) > 0) {
    ck_assert_ptr_nonnull(strstr(rec, "HEARTBEAT"));
    free(rec);
    rec = NULL;
  }
  ck_assert_int_eq(n, -1); /* stream ended */
  mesos_test_conn_close(&c);
  /* Resubscribing with the removed id: the stream opens with ERROR. */
  mesos_test_conn c2;
  ck_assert_int_eq(mesos_test_conn_open(&c2, master_port), 0);
  subscribe_json(fw, 0, "*", body, sizeof body);
  ck_assert_int_eq(mesos_test_conn_request(&c2, "POST", "/api/v1/scheduler", "application/json",
                                           NULL, body, strlen(body)),
                   0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&c2, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_int_gt(mesos_test_conn_next_record(&c2, &rec, 10000), 0);
  ck_assert_ptr_nonnull(strstr(rec, "\"type\":\"ERROR\""));
  ck_assert_ptr_nonnull(strstr(rec, "Framework has been removed"));
  free(rec);
  mesos_test_conn_close(&c2);
  stop_master();
}
END_TEST

START_TEST(test_master__resubscribe_keeps_the_framework_and_fails_over_the_old_stream) {
  start_master();
  mesos_test_conn a, b;
  char fw[128], sid1[64], fw2[128], sid2[64];
  subscribe(&a, NULL, 3600, fw, sizeof fw, sid1, sizeof sid1);
  subscribe(&b, fw, 3600, fw2, sizeof fw2, sid2, sizeof sid2);
  ck_assert_str_eq(fw, fw2);
  ck_assert_str_ne(sid1, sid2);
  /* The old stream gets ERROR "Framework failed over" and ends. */
  char *rec = NULL;
  for (;;) {
    ck_assert_int_gt(mesos_test_conn_next_record(&a, &rec, 10000), 0);
    if (!strstr(rec, "HEARTBEAT")) break;
    free(rec);
  }
  ck_assert_ptr_nonnull(strstr(rec, "Framework failed over"));
  free(rec);
  rec = NULL;
  ck_assert_int_eq(mesos_test_conn_next_record(&a, &rec, 2000), -1);
  mesos_test_conn_close(&a);
  /* The old stream id is dead, the new one works. */
  char body[256];
  snprintf(body, sizeof body, "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"REVIVE\"}", fw);
  ck_assert_int_eq(post_status(sid1, body), 400);
  ck_assert_int_eq(post_status(sid2, body), 202);
  /* Disconnect: with a failover timeout the framework waits for us. */
  mesos_test_conn_close(&b);
  /* Polled: the master sees the close when its loop gets to it. */
  int st = 0;
  for (int i = 0; i < 250 && (st = post_status(sid2, body)) != 403; i++) usleep(20000);
  ck_assert_int_eq(st, 403);
  mesos_test_conn c;
  char fw3[128], sid3[64];
  subscribe(&c, fw, 3600, fw3, sizeof fw3, sid3, sizeof sid3);
  ck_assert_str_eq(fw, fw3);
  mesos_test_conn_close(&c);
  stop_master();
}
END_TEST

START_TEST(test_master__zero_failover_timeout_removes_a_disconnected_framework) {
  start_master();
  mesos_test_conn a, b;
  char fw[128], sid[64];
  subscribe(&a, NULL, 0, fw, sizeof fw, sid, sizeof sid);
  mesos_test_conn_close(&a);
  /* Removed once the master saw the close: polled in GET_FRAMEWORKS (a
   * SUBSCRIBE before would be a valid failover). */
  int removed = 0;
  for (int i = 0; i < 250 && !removed; i++) {
    mesos_test_response fr;
    ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1", "application/json", NULL,
                                     "{\"type\":\"GET_FRAMEWORKS\"}", &fr),
                     0);
    const char *done = fr.body ? strstr(fr.body, "\"completed_frameworks\"") : NULL;
    removed = done && strstr(done, fw) != NULL;
    mesos_test_response_free(&fr);
    if (!removed) usleep(20000);
  }
  ck_assert_msg(removed, "framework %s was not removed", fw);
  char body[1024];
  ck_assert_int_eq(mesos_test_conn_open(&b, master_port), 0);
  subscribe_json(fw, 0, "*", body, sizeof body);
  ck_assert_int_eq(mesos_test_conn_request(&b, "POST", "/api/v1/scheduler", "application/json",
                                           NULL, body, strlen(body)),
                   0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&b, &r, 0, 5000), 0);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&b, &rec, 10000), 0);
  ck_assert_ptr_nonnull(strstr(rec, "Framework has been removed"));
  free(rec);
  mesos_test_conn_close(&b);
  stop_master();
}
END_TEST

START_TEST(test_master__bad_requests_get_mesos_status_codes) {
  start_master();
  mesos_test_response r;
  char sub[1024];
  subscribe_json(NULL, 0, "*", sub, sizeof sub);
  /* No Content-Type. */
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler", NULL, NULL, sub, &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  mesos_test_response_free(&r);
  ck_assert_int_eq(
      mesos_test_http(master_port, "POST", "/api/v1/scheduler", "text/plain", NULL, sub, &r), 0);
  ck_assert_int_eq(r.status, 415);
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json",
                                   NULL, "{\"type\": ", &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  ck_assert_ptr_nonnull(strstr(r.body, "Failed to parse"));
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json",
                                   NULL, "{\"type\":\"NOT_A_CALL\"}", &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json",
                                   NULL, "{\"type\":\"SUBSCRIBE\"}", &r),
                   0);
  ck_assert_int_eq(r.status, 400);
  ck_assert_ptr_nonnull(strstr(r.body, "subscribe"));
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(master_port, "GET", "/api/v1/scheduler", NULL, NULL, NULL, &r),
                   0);
  ck_assert_int_eq(r.status, 405);
  mesos_test_response_free(&r);
  ck_assert_int_eq(mesos_test_http(master_port, "POST", "/api/v1/scheduler", "application/json",
                                   "Accept: text/html\r\n", sub, &r),
                   0);
  ck_assert_int_eq(r.status, 406);
  mesos_test_response_free(&r);
  /* Invalid FrameworkInfo: the stream opens with one ERROR event. */
  subscribe_json(NULL, 0, "bad role", sub, sizeof sub);
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1/scheduler", "application/json",
                                           NULL, sub, strlen(sub)),
                   0);
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&c, &rec, 10000), 0);
  ck_assert_ptr_nonnull(strstr(rec, "\"type\":\"ERROR\""));
  ck_assert_ptr_nonnull(strstr(rec, "bad role"));
  free(rec);
  ck_assert_int_eq(mesos_test_conn_next_record(&c, &rec, 2000), -1);
  mesos_test_conn_close(&c);
  /* The master is still healthy after all that. */
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 10000));
  stop_master();
}
END_TEST

START_TEST(test_master__protobuf_subscribe_gets_protobuf_events) {
  start_master();
  Mesos__V1__Scheduler__Call call = MESOS__V1__SCHEDULER__CALL__INIT;
  Mesos__V1__Scheduler__Call__Subscribe sub = MESOS__V1__SCHEDULER__CALL__SUBSCRIBE__INIT;
  Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
  fi.user = "nobody";
  fi.name = "protobuf framework";
  sub.framework_info = &fi;
  call.has_type = 1;
  call.type = MESOS__V1__SCHEDULER__CALL__TYPE__SUBSCRIBE;
  call.subscribe = &sub;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ck_assert_int_eq(mesos__pb_pack(&call.base, 0, &bytes, &len, NULL), MESOS_OK);
  mesos_test_conn c;
  ck_assert_int_eq(mesos_test_conn_open(&c, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1/scheduler",
                                           "application/x-protobuf",
                                           "Accept: application/x-protobuf\r\n",
                                           (const char *)bytes, len),
                   0);
  mesos__free(bytes);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  char v[64];
  ck_assert_str_eq(mesos_test_response_header(&r, "Content-Type", v, sizeof v),
                   "application/x-protobuf");
  char *rec = NULL;
  long n = mesos_test_conn_next_record(&c, &rec, 5000);
  ck_assert_int_gt(n, 0);
  ProtobufCMessage *msg = NULL;
  ck_assert_int_eq(mesos__pb_unpack(&mesos__v1__scheduler__event__descriptor, (uint8_t *)rec,
                                    (size_t)n, 0, 0, &msg, NULL),
                   MESOS_OK);
  Mesos__V1__Scheduler__Event *ev = (Mesos__V1__Scheduler__Event *)msg;
  ck_assert_int_eq(ev->type, MESOS__V1__SCHEDULER__EVENT__TYPE__SUBSCRIBED);
  ck_assert_ptr_nonnull(ev->subscribed->framework_id->value);
  ck_assert_ptr_nonnull(ev->subscribed->master_info);
  ck_assert_uint_eq(ev->subscribed->master_info->port, (uint32_t)master_port);
  mesos__pb_free(msg);
  free(rec);
  mesos_test_conn_close(&c);
  stop_master();
}
END_TEST

START_TEST(test_master__roles_whitelist_and_weights_flags_are_enforced) {
  char path[4096], cmd[4300], out[4096];
  mesos_test_daemon_path("mesos-master", path, sizeof path);
  snprintf(cmd, sizeof cmd, "%s --ip=127.0.0.1 --port=0 --weights=eng=2,ops=zero 2>&1", path);
  FILE *p = popen(cmd, "r");
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  ck_assert_int_eq(WEXITSTATUS(pclose(p)), 1);
  ck_assert_msg(strstr(out, "--weights: 'ops'") != NULL, "%s", out);

  char port_arg[64];
  master_port = mesos_test_free_port();
  snprintf(port_arg, sizeof port_arg, "--port=%d", master_port);
  char *argv[] = {path, "--ip=127.0.0.1", port_arg, "--roles=eng,ops", "--weights=eng=2,ops=0.5",
                  "--logging_level=WARNING", NULL};
  master_pid = mesos_test_spawn(argv, NULL);
  ck_assert(mesos_test_wait_http_ok(master_port, "/health", 5000));
  char body[1024];
  mesos_test_conn c;
  subscribe_json(NULL, 0, "finance", body, sizeof body);
  ck_assert_int_eq(mesos_test_conn_open(&c, master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&c, "POST", "/api/v1/scheduler", "application/json",
                                           NULL, body, strlen(body)),
                   0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&c, &r, 0, 5000), 0);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&c, &rec, 10000), 0);
  ck_assert_ptr_nonnull(strstr(rec, "not present in the master's --roles"));
  free(rec);
  mesos_test_conn_close(&c);
  char fw[128], sid[64];
  mesos_test_conn ok;
  ck_assert_int_eq(mesos_test_conn_open(&ok, master_port), 0);
  subscribe_json(NULL, 0, "eng", body, sizeof body);
  ck_assert_int_eq(mesos_test_conn_request(&ok, "POST", "/api/v1/scheduler", "application/json",
                                           NULL, body, strlen(body)),
                   0);
  ck_assert_int_eq(mesos_test_conn_response(&ok, &r, 0, 5000), 0);
  ck_assert_int_gt(mesos_test_conn_next_record(&ok, &rec, 10000), 0);
  ck_assert_ptr_nonnull(strstr(rec, "SUBSCRIBED"));
  free(rec);
  (void)fw;
  (void)sid;
  mesos_test_conn_close(&ok);
  stop_master();
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("master_scheduler");
  TCase *tc = tcase_create("daemon");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_master__help_lists_flags_and_unknown_flags_exit_1);
  tcase_add_test(tc, test_master__version_and_health_answer_like_mesos);
  tcase_add_test(tc, test_master__subscribe_streams_subscribed_then_heartbeats);
  tcase_add_test(tc, test_master__calls_need_the_current_stream_id);
  tcase_add_test(tc, test_master__teardown_ends_the_stream_and_the_id_cannot_return);
  tcase_add_test(tc, test_master__resubscribe_keeps_the_framework_and_fails_over_the_old_stream);
  tcase_add_test(tc, test_master__zero_failover_timeout_removes_a_disconnected_framework);
  tcase_add_test(tc, test_master__bad_requests_get_mesos_status_codes);
  tcase_add_test(tc, test_master__protobuf_subscribe_gets_protobuf_events);
  tcase_add_test(tc, test_master__roles_whitelist_and_weights_flags_are_enforced);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(suite()); }

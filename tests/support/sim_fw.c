/* A simulated framework over raw HTTP: see sim_fw.h. */
#include "support/sim_fw.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long long sim_fw_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void subscribe_body(sim_fw *f, const char *body) {
  f->offers = NULL;
  ck_assert_int_eq(mesos_test_conn_open(&f->stream, f->master_port), 0);
  ck_assert_int_eq(mesos_test_conn_request(&f->stream, "POST", "/api/v1/scheduler",
                                           "application/json", NULL, body, strlen(body)),
                   0);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_conn_response(&f->stream, &r, 0, 5000), 0);
  ck_assert_int_eq(r.status, 200);
  mesos_test_response_header(&r, "Mesos-Stream-Id", f->sid, sizeof f->sid);
  char *rec = NULL;
  ck_assert_int_gt(mesos_test_conn_next_record(&f->stream, &rec, 5000), 0);
  const char *p = strstr(rec, "\"framework_id\":{\"value\":\"");
  ck_assert_ptr_nonnull(p);
  p += strlen("\"framework_id\":{\"value\":\"");
  const char *end = strchr(p, '"');
  ck_assert_ptr_nonnull(end);
  snprintf(f->id, sizeof f->id, "%.*s", (int)(end - p), p);
  free(rec);
}

void sim_fw_subscribe(sim_fw *f, int master_port, const char *info) {
  memset(f, 0, sizeof *f);
  f->master_port = master_port;
  char body[2048];
  int n = snprintf(body, sizeof body,
                   "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{%s}}}", info);
  ck_assert_int_lt(n, (int)sizeof body);
  subscribe_body(f, body);
}

void sim_fw_resubscribe(sim_fw *f, int master_port, const char *info) {
  ck_assert_msg(f->id[0] != '\0', "resubscribe without a framework id");
  f->master_port = master_port;
  char body[2048];
  int n = snprintf(body, sizeof body,
                   "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"SUBSCRIBE\",\"subscribe\":"
                   "{\"framework_info\":{\"id\":{\"value\":\"%s\"},%s}}}",
                   f->id, f->id, info);
  ck_assert_int_lt(n, (int)sizeof body);
  subscribe_body(f, body);
}

void sim_fw_close(sim_fw *f) {
  mesos_test_conn_close(&f->stream);
  free(f->offers);
  f->offers = NULL;
}

char *sim_fw_next(sim_fw *f, int timeout_ms, ...) {
  long long deadline = sim_fw_now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - sim_fw_now_ms();
    if (left <= 0) return NULL;
    char *rec = NULL;
    if (mesos_test_conn_next_record(&f->stream, &rec, (int)left) < 0) return NULL;
    va_list ap;
    va_start(ap, timeout_ms);
    int all = 1;
    for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *))
      all &= strstr(rec, want) != NULL;
    va_end(ap);
    if (all) return rec;
    if (strstr(rec, "\"type\":\"OFFERS\"")) {
      free(f->offers);
      f->offers = rec;
      continue;
    }
    free(rec);
  }
}

char *sim_fw_next_strict(sim_fw *f, const char *want, int timeout_ms) {
  for (;;) {
    char *rec = NULL;
    if (mesos_test_conn_next_record(&f->stream, &rec, timeout_ms) < 0) return NULL;
    if (strstr(rec, want)) return rec;
    ck_assert_msg(strstr(rec, "HEARTBEAT") || strstr(rec, "\"OFFERS\"") ||
                      strstr(rec, "\"RESCIND\""),
                  "unexpected event while waiting for %s: %s", want, rec);
    free(rec);
  }
}

static int vcall(sim_fw *f, char *out, size_t cap, const char *json_fmt, va_list ap) {
  char body[8192], hdr[128];
  int n = vsnprintf(body, sizeof body, json_fmt, ap);
  ck_assert_int_lt(n, (int)sizeof body);
  snprintf(hdr, sizeof hdr, "Mesos-Stream-Id: %s\r\n", f->sid);
  mesos_test_response r;
  ck_assert_int_eq(mesos_test_http(f->master_port, "POST", "/api/v1/scheduler",
                                   "application/json", hdr, body, &r),
                   0);
  int s = r.status;
  if (out) snprintf(out, cap, "%s", r.body ? r.body : "");
  mesos_test_response_free(&r);
  return s;
}

int sim_fw_call(sim_fw *f, const char *json_fmt, ...) {
  va_list ap;
  va_start(ap, json_fmt);
  int s = vcall(f, NULL, 0, json_fmt, ap);
  va_end(ap);
  return s;
}

int sim_fw_call_body(sim_fw *f, char *out, size_t cap, const char *json_fmt, ...) {
  va_list ap;
  va_start(ap, json_fmt);
  int s = vcall(f, out, cap, json_fmt, ap);
  va_end(ap);
  return s;
}

static void json_after(const char *rec, const char *pat, const char *key, char *out, size_t cap) {
  const char *p = strstr(rec, pat);
  ck_assert_msg(p != NULL, "%s not in %s", key, rec);
  p += strlen(pat);
  const char *end = strchr(p, '"');
  ck_assert_msg(end != NULL, "%s unterminated in %s", key, rec);
  snprintf(out, cap, "%.*s", (int)(end - p), p);
}

void sim_fw_json_id(const char *rec, const char *key, char *out, size_t cap) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\":{\"value\":\"", key);
  json_after(rec, pat, key, out, cap);
}

void sim_fw_json_str(const char *rec, const char *key, char *out, size_t cap) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  json_after(rec, pat, key, out, cap);
}

void sim_fw_wait_offer(sim_fw *f, const char *hostname, char *offer, char *agent, size_t cap) {
  char *rec = f->offers;
  f->offers = NULL;
  if (rec == NULL || strstr(rec, hostname) == NULL) {
    free(rec);
    rec = sim_fw_next(f, 10000, "\"type\":\"OFFERS\"", hostname, NULL);
  }
  ck_assert_msg(rec != NULL, "no offer from the agent");
  sim_fw_json_id(rec, "id", offer, cap);
  sim_fw_json_id(rec, "agent_id", agent, cap);
  free(rec);
}

void sim_fw_launch(sim_fw *f, const char *offer, const char *agent, const char *task,
                   const char *container, double mem, const char *command) {
  ck_assert_int_eq(
      sim_fw_call(
          f,
          "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":"
          "[{\"value\":\"%s\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":"
          "[{\"name\":\"t\",\"task_id\":{\"value\":\"%s\"},\"agent_id\":{\"value\":\"%s\"},%s"
          "\"command\":{\"value\":\"%s\"},\"resources\":["
          "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}},"
          "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":%g}}]}]}}],"
          "\"filters\":{\"refuse_seconds\":0}}}",
          f->id, offer, task, agent, container ? container : "", command, mem),
      202);
}

void sim_fw_ack(sim_fw *f, const char *rec) {
  char agent[160], task[160], uuid[64];
  sim_fw_json_id(rec, "agent_id", agent, sizeof agent);
  sim_fw_json_id(rec, "task_id", task, sizeof task);
  sim_fw_json_str(rec, "uuid", uuid, sizeof uuid);
  ck_assert_int_eq(sim_fw_call(f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"ACKNOWLEDGE\","
                               "\"acknowledge\":{\"agent_id\":{\"value\":\"%s\"},\"task_id\":"
                               "{\"value\":\"%s\"},\"uuid\":\"%s\"}}",
                               f->id, agent, task, uuid),
                   202);
}

char *sim_fw_expect_update(sim_fw *f, const char *task, const char *state, int timeout_ms) {
  char tid[256];
  snprintf(tid, sizeof tid, "\"task_id\":{\"value\":\"%s\"}", task);
  char *rec = sim_fw_next(f, timeout_ms, "\"type\":\"UPDATE\"", tid, NULL);
  ck_assert_msg(rec != NULL, "no update for %s (wanted %s)", task, state);
  ck_assert_msg(strstr(rec, state) != NULL, "wanted %s, got %s", state, rec);
  ck_assert_ptr_nonnull(strstr(rec, "\"uuid\":\""));
  sim_fw_ack(f, rec);
  return rec;
}

char *sim_fw_expect_final(sim_fw *f, const char *task, const char *state, int timeout_ms) {
  char tid[256];
  snprintf(tid, sizeof tid, "\"task_id\":{\"value\":\"%s\"}", task);
  long long deadline = sim_fw_now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - sim_fw_now_ms();
    char *rec = left > 0 ? sim_fw_next(f, (int)left, "\"type\":\"UPDATE\"", tid, NULL) : NULL;
    ck_assert_msg(rec != NULL, "no update for %s (wanted %s)", task, state);
    sim_fw_ack(f, rec);
    if (strstr(rec, "\"TASK_STARTING\"") || strstr(rec, "\"TASK_RUNNING\"")) {
      free(rec);
      continue;
    }
    ck_assert_msg(strstr(rec, state) != NULL, "wanted %s, got %s", state, rec);
    return rec;
  }
}

/* A simulated framework over raw HTTP: see sim_fw.h. */
#include "support/sim_fw.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/json.h"
#include "codec/pb.h"
#include "mesos/v1/scheduler.pb-c.h"

long long sim_fw_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void subscribe_body(sim_fw *f, const char *body) {
  f->offers = NULL;
  /* A (re-)subscribed framework holds none of its old offers: the master
   * rescinded them with the old connection. */
  f->n_held = 0;
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
  f->n_held = 0;
}

/* ------------------------------------------------------------ held offers */

static void held_drop(sim_fw *f, size_t i) {
  memmove(&f->held[i], &f->held[i + 1], (f->n_held - i - 1) * sizeof f->held[0]);
  f->n_held--;
}

static void held_forget(sim_fw *f, const char *id) {
  for (size_t i = 0; i < f->n_held; i++)
    if (strcmp(f->held[i].id, id) == 0) {
      held_drop(f, i);
      return;
    }
}

static void held_add(sim_fw *f, const Mesos__V1__Offer *o) {
  if (o->id == NULL || o->agent_id == NULL) return;
  held_forget(f, o->id->value);
  if (f->n_held == SIM_FW_MAX_HELD) held_drop(f, 0);
  sim_fw_offer *h = &f->held[f->n_held++];
  memset(h, 0, sizeof *h);
  snprintf(h->id, sizeof h->id, "%s", o->id->value);
  snprintf(h->agent, sizeof h->agent, "%s", o->agent_id->value);
  snprintf(h->hostname, sizeof h->hostname, "%s", o->hostname ? o->hostname : "");
  for (size_t i = 0; i < o->n_resources; i++) {
    const Mesos__V1__Resource *r = o->resources[i];
    if (r->scalar == NULL || r->name == NULL) continue;
    if (strcmp(r->name, "cpus") == 0) h->cpus += r->scalar->value;
    else if (strcmp(r->name, "mem") == 0) h->mem += r->scalar->value;
  }
}

void sim_fw_take_offer(sim_fw *f, const char *offer) { held_forget(f, offer); }

void sim_fw_note_event(sim_fw *f, const char *rec) {
  int offers = strstr(rec, "\"type\":\"OFFERS\"") != NULL;
  int rescind = strstr(rec, "\"type\":\"RESCIND\"") != NULL;
  if (!offers && !rescind) return;
  ProtobufCMessage *msg = NULL;
  mesos_error *err = NULL;
  mesos_status st = mesos__json_decode(&mesos__v1__scheduler__event__descriptor, rec,
                                       strlen(rec), NULL, &msg, &err);
  ck_assert_msg(st == MESOS_OK, "an event that does not decode (%s): %s",
                err ? mesos_error_message(err) : "?", rec);
  const Mesos__V1__Scheduler__Event *ev = (const Mesos__V1__Scheduler__Event *)msg;
  if (ev->type == MESOS__V1__SCHEDULER__EVENT__TYPE__OFFERS && ev->offers)
    for (size_t i = 0; i < ev->offers->n_offers; i++) held_add(f, ev->offers->offers[i]);
  if (ev->type == MESOS__V1__SCHEDULER__EVENT__TYPE__RESCIND && ev->rescind &&
      ev->rescind->offer_id)
    held_forget(f, ev->rescind->offer_id->value);
  mesos__pb_free(msg);
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
    sim_fw_note_event(f, rec);
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
    sim_fw_note_event(f, rec);
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

/* The newest held offer of `hostname` with at least cpus/mem, or -1. */
static long held_find(const sim_fw *f, const char *hostname, double cpus, double mem) {
  for (size_t i = f->n_held; i-- > 0;) {
    const sim_fw_offer *h = &f->held[i];
    /* A hair below: 0.1 + 0.2 cpus must count as 0.3. */
    if (strstr(h->hostname, hostname) && h->cpus >= cpus - 1e-6 && h->mem >= mem - 1e-6)
      return (long)i;
  }
  return -1;
}

/* DECLINEs, in one call, every held offer of `hostname` (refuse 0 s): their
 * resources go back to the allocator together and come as one offer.
 * `seen` gets what they offered, for the failure message. */
static void decline_held(sim_fw *f, const char *hostname, char *seen, size_t cap) {
  char ids[4096] = "";
  size_t len = 0, n = 0;
  for (size_t i = 0; i < f->n_held;) {
    const sim_fw_offer *h = &f->held[i];
    if (strstr(h->hostname, hostname) == NULL) {
      i++;
      continue;
    }
    size_t used = strlen(seen);
    if (used < cap) snprintf(seen + used, cap - used, " %g cpus/%g MB;", h->cpus, h->mem);
    int w = snprintf(ids + len, sizeof ids - len, "%s{\"value\":\"%s\"}", n ? "," : "", h->id);
    ck_assert_msg(w > 0 && (size_t)w < sizeof ids - len, "too many offers to decline");
    len += (size_t)w;
    n++;
    held_drop(f, i);
  }
  if (n == 0) return;
  if (getenv("SIM_FW_DEBUG")) fprintf(stderr, "sim_fw: declining %zu offer(s):%s\n", n, seen);
  ck_assert_int_eq(sim_fw_call(f,
                               "{\"framework_id\":{\"value\":\"%s\"},\"type\":\"DECLINE\","
                               "\"decline\":{\"offer_ids\":[%s],\"filters\":{\"refuse_seconds\":0}}}",
                               f->id, ids),
                   202);
}

void sim_fw_wait_offer_min(sim_fw *f, const char *hostname, double cpus, double mem,
                           char *offer, char *agent, size_t cap) {
  /* Generous: under ASan on a loaded machine an allocation round and the
   * offer's way to us can take seconds. */
  long long deadline = sim_fw_now_ms() + 20000;
  char seen[1024] = "";
  for (;;) {
    long i = held_find(f, hostname, cpus, mem);
    if (i >= 0) {
      snprintf(offer, cap, "%s", f->held[i].id);
      snprintf(agent, cap, "%s", f->held[i].agent);
      held_drop(f, (size_t)i);
      /* f->offers may be the event that had it: it is taken now. */
      free(f->offers);
      f->offers = NULL;
      return;
    }
    decline_held(f, hostname, seen, sizeof seen);
    long long left = deadline - sim_fw_now_ms();
    char *rec = left > 0 ? sim_fw_next(f, (int)left, "\"type\":\"OFFERS\"", NULL) : NULL;
    ck_assert_msg(rec != NULL, "no offer from %s with %g cpus and %g MB (offered:%s)", hostname,
                  cpus, mem, seen[0] ? seen : " nothing");
    sim_fw_note_event(f, rec);
    free(rec);
  }
}

void sim_fw_wait_offer(sim_fw *f, const char *hostname, char *offer, char *agent, size_t cap) {
  sim_fw_wait_offer_min(f, hostname, 0, 0, offer, agent, cap);
}

void sim_fw_launch(sim_fw *f, const char *offer, const char *agent, const char *task,
                   const char *container, double mem, const char *command) {
  held_forget(f, offer);
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

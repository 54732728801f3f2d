/*
 * The master's metrics, under Mesos's names, for /metrics/snapshot and the
 * operator GET_METRICS call.
 *
 * Nothing here is sampled in the background: gauges (tasks per state,
 * resources, agents, frameworks) are computed when asked, by walking the
 * master's tables once; counters are the few integers operator.c bumps in
 * its hooks.  So every metric is always "ready" and a collection timeout
 * can only ever be met; the `timeout` is still validated.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/units.h"
#include "master/master_auth.h"
#include "master/operator_int.h"
#include "resources/resources_int.h"

#define NSTATES 16 /* TaskState values are 0..13 today */

typedef struct metric {
  const char *name;
  double value;
} metric;

typedef struct metrics {
  metric v[128];
  size_t n;
} metrics;

static void put(metrics *ms, const char *name, double value) {
  if (ms->n < sizeof ms->v / sizeof ms->v[0]) {
    ms->v[ms->n].name = name;
    ms->v[ms->n].value = isfinite(value) ? value : 0.0;
    ms->n++;
  }
}

static void count_state(uint64_t *states, Mesos__V1__TaskState s) {
  if ((int)s >= 0 && (int)s < NSTATES) states[s]++;
}

static void collect(mesos_master *m, metrics *ms) {
  mesos__operator *op = m->op;
  uint64_t now = mesos_loop_now_ms(m->loop);
  put(ms, "master/uptime_secs", (double)(now - m->start_ms) / 1000.0);
  put(ms, "master/elected", 1.0);

  /* Agents and their resources. */
  uint64_t agents_connected = 0, agents_disconnected = 0;
  static const char *const res_names[] = {"cpus", "mem", "disk", "gpus"};
  int64_t total[4] = {0, 0, 0, 0}, used[4] = {0, 0, 0, 0};
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->agents, &it, NULL, &v)) {
    mesos__agent *a = v;
    if (a->stream) agents_connected++;
    else agents_disconnected++;
    for (int k = 0; k < 4; k++) total[k] += mesos__resources_scalar_milli(&a->total->r, res_names[k]);
  }
  put(ms, "master/slaves_active", (double)agents_connected);
  put(ms, "master/slaves_inactive", 0.0);
  put(ms, "master/slaves_connected", (double)agents_connected);
  put(ms, "master/slaves_disconnected", (double)agents_disconnected);
  const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
  put(ms, "master/slaves_unreachable", reg ? (double)reg->n_unreachable : 0.0);
  put(ms, "master/slave_registrations", op ? (double)op->c.agents_added : 0.0);
  put(ms, "master/slave_removals", op ? (double)op->c.agents_removed : 0.0);

  /* Frameworks and tasks. */
  uint64_t fw_connected = 0, fw_disconnected = 0;
  uint64_t states[NSTATES];
  memset(states, 0, sizeof states);
  it = 0;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    mesos__framework *fw = v;
    if (fw->stream) fw_connected++;
    else fw_disconnected++;
    size_t k = 0;
    void *tv;
    while (mesos__map_next(&fw->tasks, &k, NULL, &tv)) {
      mesos__task *t = tv;
      count_state(states, t->state);
      if (!t->released && t->resources)
        for (int r = 0; r < 4; r++)
          used[r] += mesos__resources_scalar_milli(&t->resources->r, res_names[r]);
    }
    const mesos__op_tasks *ring = mesos__op_completed_tasks(m, fw->id);
    for (size_t i = 0; ring && i < ring->n; i++)
      count_state(states, ring->v[(ring->head + i) % ring->cap]->state);
  }
  for (size_t i = 0; op && i < op->done_n; i++) {
    const mesos__op_tasks *ring = &op->done[(op->done_head + i) % op->done_cap].tasks;
    for (size_t k = 0; k < ring->n; k++) count_state(states, ring->v[(ring->head + k) % ring->cap]->state);
  }
  put(ms, "master/frameworks_active", (double)fw_connected);
  put(ms, "master/frameworks_inactive", (double)fw_disconnected);
  put(ms, "master/frameworks_connected", (double)fw_connected);
  put(ms, "master/frameworks_disconnected", (double)fw_disconnected);
  static const struct {
    const char *name;
    Mesos__V1__TaskState state;
  } task_metrics[] = {
      {"master/tasks_staging", MESOS__V1__TASK_STATE__TASK_STAGING},
      {"master/tasks_starting", MESOS__V1__TASK_STATE__TASK_STARTING},
      {"master/tasks_running", MESOS__V1__TASK_STATE__TASK_RUNNING},
      {"master/tasks_killing", MESOS__V1__TASK_STATE__TASK_KILLING},
      {"master/tasks_finished", MESOS__V1__TASK_STATE__TASK_FINISHED},
      {"master/tasks_failed", MESOS__V1__TASK_STATE__TASK_FAILED},
      {"master/tasks_killed", MESOS__V1__TASK_STATE__TASK_KILLED},
      {"master/tasks_lost", MESOS__V1__TASK_STATE__TASK_LOST},
      {"master/tasks_error", MESOS__V1__TASK_STATE__TASK_ERROR},
      {"master/tasks_dropped", MESOS__V1__TASK_STATE__TASK_DROPPED},
      {"master/tasks_unreachable", MESOS__V1__TASK_STATE__TASK_UNREACHABLE},
      {"master/tasks_gone", MESOS__V1__TASK_STATE__TASK_GONE},
      {"master/tasks_gone_by_operator", MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR},
      {"master/tasks_unknown", MESOS__V1__TASK_STATE__TASK_UNKNOWN},
  };
  for (size_t i = 0; i < sizeof task_metrics / sizeof task_metrics[0]; i++)
    put(ms, task_metrics[i].name, (double)states[task_metrics[i].state]);

  put(ms, "master/outstanding_offers", (double)mesos__map_count(&m->offers));
  static const char *const totals[] = {"master/cpus_total", "master/mem_total", "master/disk_total",
                                       "master/gpus_total"};
  static const char *const useds[] = {"master/cpus_used", "master/mem_used", "master/disk_used",
                                      "master/gpus_used"};
  static const char *const pcts[] = {"master/cpus_percent", "master/mem_percent",
                                     "master/disk_percent", "master/gpus_percent"};
  for (int k = 0; k < 4; k++) {
    put(ms, totals[k], (double)total[k] / 1000.0);
    put(ms, useds[k], (double)used[k] / 1000.0);
    put(ms, pcts[k], total[k] > 0 ? (double)used[k] / (double)total[k] : 0.0);
  }
  put(ms, "master/valid_status_updates", op ? (double)op->c.valid_status_updates : 0.0);
  put(ms, "master/invalid_status_updates", op ? (double)op->c.invalid_status_updates : 0.0);
  put(ms, "master/messages_operator_calls", op ? (double)op->c.operator_calls : 0.0);
  put(ms, "master/operator_event_stream_subscriptions", op ? (double)op->nsubs : 0.0);
  put(ms, "master/operator_event_stream_subscribers_dropped",
      op ? (double)op->c.subscribers_dropped : 0.0);
  /* One loop, no actor queues: these are always empty. */
  put(ms, "master/event_queue_messages", 0.0);
  put(ms, "master/event_queue_dispatches", 0.0);
  put(ms, "master/event_queue_http_requests", 0.0);
  put(ms, "allocator/event_queue_dispatches", 0.0);
  mesos_allocator_stats as = MESOS_ALLOCATOR_STATS_INIT;
  if (m->allocator && mesos_allocator_stats_get(m->allocator, &as, NULL) == MESOS_OK) {
    put(ms, "allocator/mesos/allocation_runs", (double)as.cycles);
    put(ms, "allocator/mesos/allocation_run_ms", (double)as.last_cycle_ns / 1e6);
    put(ms, "allocator/mesos/offer_filters/active", (double)as.filters);
  }
  put(ms, "registrar/queued_operations", 0.0);
  put(ms, "registrar/registry_size_bytes", 0.0);

  /* The host. */
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  put(ms, "system/cpus_total", ncpu > 0 ? (double)ncpu : 0.0);
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) {
    put(ms, "system/load_1min", load[0]);
    put(ms, "system/load_5min", load[1]);
    put(ms, "system/load_15min", load[2]);
  }
  struct sysinfo si;
  if (sysinfo(&si) == 0) {
    put(ms, "system/mem_total_bytes", (double)si.totalram * si.mem_unit);
    put(ms, "system/mem_free_bytes", (double)si.freeram * si.mem_unit);
  }
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const metric *)a)->name, ((const metric *)b)->name);
}

mesos_status mesos__metrics_json(mesos_master *m, mesos__buf *out) {
  metrics ms;
  ms.n = 0;
  collect(m, &ms);
  qsort(ms.v, ms.n, sizeof ms.v[0], by_name);
  mesos_status st = mesos__buf_putc(out, '{');
  for (size_t i = 0; st == MESOS_OK && i < ms.n; i++) {
    double x = ms.v[i].value;
    /* Mesos writes every metric as a double: "1.0", not "1". */
    if (x == floor(x) && fabs(x) < 1e15)
      st = mesos__buf_printf(out, "%s\"%s\":%.1f", i ? "," : "", ms.v[i].name, x);
    else st = mesos__buf_printf(out, "%s\"%s\":%.17g", i ? "," : "", ms.v[i].name, x);
  }
  if (st == MESOS_OK) st = mesos__buf_putc(out, '}');
  return st;
}

Mesos__V1__Metric **mesos__metrics_protos(mesos_master *m, mesos__op_scratch *s, size_t *n) {
  metrics ms;
  ms.n = 0;
  collect(m, &ms);
  qsort(ms.v, ms.n, sizeof ms.v[0], by_name);
  *n = 0;
  Mesos__V1__Metric **v = mesos__op_alloc(s, ms.n * sizeof *v);
  for (size_t i = 0; v && i < ms.n; i++) {
    Mesos__V1__Metric *x = mesos__op_alloc(s, sizeof *x);
    if (x == NULL) break;
    mesos__v1__metric__init(x);
    x->name = (char *)ms.v[i].name;
    x->has_value = 1;
    x->value = ms.v[i].value;
    v[(*n)++] = x;
  }
  return v;
}

/* GET /metrics/snapshot[?timeout=5secs] */
static void snapshot_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  const char *q = mesos__http_request_query(req);
  const char *t = strstr(q, "timeout=");
  if (t && (t == q || t[-1] == '&')) {
    char val[64];
    size_t len = strcspn(t + 8, "&");
    uint64_t ns = 0;
    if (len >= sizeof val) len = sizeof val - 1;
    memcpy(val, t + 8, len);
    val[len] = '\0';
    if (mesos__parse_duration(val, &ns, NULL) != MESOS_OK) {
      char msg[160];
      snprintf(msg, sizeof msg, "Invalid timeout '%s': expected a duration such as 5secs", val);
      mesos__http_respond_text(req, 400, msg);
      return;
    }
  }
  mesos__buf b = MESOS__BUF_INIT(1 << 20);
  if (mesos__metrics_json(m, &b) != MESOS_OK) {
    mesos__buf_free(&b);
    mesos__http_respond_text(req, 500, "Failed to render the metrics");
    return;
  }
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", "application/json");
  mesos__http_respond(req, 200, &h, b.data, b.len);
  mesos__http_headers_free(&h);
  mesos__buf_free(&b);
}

mesos_status mesos__metrics_routes(mesos_master *m) {
  /* Read-only realm; GET_ENDPOINT_WITH_PATH as Mesos checks it. */
  mesos_status st = mesos__auth_route(m->auth, m->http, "GET", "/metrics/snapshot", 0,
                                      MESOS__REALM_READONLY, MESOS_AUTHZ_GET_ENDPOINT_WITH_PATH,
                                      "/metrics/snapshot", snapshot_handler, m);
  if (st == MESOS_OK)
    st = mesos__auth_route(m->auth, m->http, "POST", "/metrics/snapshot", 0,
                           MESOS__REALM_READONLY, MESOS_AUTHZ_GET_ENDPOINT_WITH_PATH,
                           "/metrics/snapshot", snapshot_handler, m);
  return st;
}

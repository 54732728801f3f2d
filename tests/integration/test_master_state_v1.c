/*
 * The v1 state calls' direct renderer (state_v1.c, issue 6): GET_STATE,
 * GET_AGENTS, GET_FRAMEWORKS, GET_TASKS, GET_EXECUTORS and the operator
 * SUBSCRIBED event are written straight from a snapshot in JSON and in the
 * protobuf wire format, without a protobuf-c tree.  Each answer is compared
 * with what operator.c's tree builders (mesos__op_get_state, the on-loop
 * path with an authorizer) encode to through the generic encoders: the
 * same bytes, and -- so a difference would say what differs -- both
 * decoded to the same message.
 *
 * The master runs in this process, populated through its internal
 * functions with what the shapes have: reserved resources, ranges and
 * attributes on agents, offers, executors with and without a framework
 * id, tasks naming an executor, completed tasks and a completed framework,
 * strings that need escaping.  A second, larger master makes responses of
 * several output chunks (the protobuf lengths of the big messages are
 * filled in across them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "master/master_int.h"
#include "master/operator_int.h"
#include "resources/resources_int.h"
#include "support/testutil.h"

typedef struct world {
  mesos_loop *loop;
  mesos_master *m;
  mesos__framework *fws[3];
  mesos__agent **agents;
  size_t nagents;
} world;

static mesos_resources *parse_res(const char *text) {
  mesos_resources *r = NULL;
  ck_assert_int_eq(mesos_resources_new(&r, NULL), MESOS_OK);
  ck_assert_int_eq(mesos__resources_parse(&r->r, text, NULL, NULL), MESOS_OK);
  return r;
}

static mesos__agent *add_agent(world *w, size_t i, const char *total) {
  mesos_master *m = w->m;
  mesos__agent *a = MESOS__NEW(mesos__agent);
  ck_assert_ptr_nonnull(a);
  char id[128], host[64];
  snprintf(id, sizeof id, "%s-S%zu", m->id, i);
  snprintf(host, sizeof host, "agent-%zu.example.com", i);
  a->master = m;
  a->id = mesos__strdup(id);
  Mesos__V1__AgentInfo info = MESOS__V1__AGENT_INFO__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  info.id = &aid;
  info.hostname = host;
  info.has_port = i % 2;
  info.port = 5052;
  Mesos__V1__Attribute at = MESOS__V1__ATTRIBUTE__INIT;
  Mesos__V1__Value__Text txt = MESOS__V1__VALUE__TEXT__INIT;
  Mesos__V1__Attribute *ats[1] = {&at};
  at.name = "rack";
  at.type = MESOS__V1__VALUE__TYPE__TEXT;
  txt.value = "r\"1\\\n";
  at.text = &txt;
  info.n_attributes = 1;
  info.attributes = ats;
  uint8_t *bytes = NULL;
  size_t len = 0;
  ProtobufCMessage *copy = NULL;
  ck_assert_int_eq(mesos__pb_pack(&info.base, 0, &bytes, &len, NULL), MESOS_OK);
  ck_assert_int_eq(
      mesos__pb_unpack(&mesos__v1__agent_info__descriptor, bytes, len, 0, 0, &copy, NULL),
      MESOS_OK);
  mesos__free(bytes);
  a->info = (Mesos__V1__AgentInfo *)copy;
  a->total = parse_res(total);
  a->registered_time = mesos__master_now();
  if (i % 3 == 1) a->reregistered_time = a->registered_time + 1.5;
  ck_assert_int_eq(mesos__map_put(&m->agents, a->id, a), MESOS_OK);
  return a;
}

static mesos__task *add_task(world *w, mesos__framework *fw, mesos__agent *a, const char *id,
                             const char *res, const char *executor) {
  mesos_resources *r = parse_res(res);
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = a->id;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  tid.value = (char *)id;
  Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
  cmd.value = "sleep 1000";
  Mesos__V1__ExecutorInfo ei = MESOS__V1__EXECUTOR_INFO__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  eid.value = (char *)executor;
  ei.executor_id = &eid;
  ei.command = &cmd;
  Mesos__V1__Resource **protos = NULL;
  size_t nprotos = 0;
  ck_assert_int_eq(mesos__resources_to_protos(&r->r, &protos, &nprotos, NULL), MESOS_OK);
  Mesos__V1__TaskInfo ti = MESOS__V1__TASK_INFO__INIT;
  ti.name = (char *)id;
  ti.task_id = &tid;
  ti.agent_id = &aid;
  if (executor) ti.executor = &ei;
  else ti.command = &cmd;
  ti.n_resources = nprotos;
  ti.resources = protos;
  mesos__task *t = NULL;
  ck_assert_int_eq(mesos__task_new(&t, fw, a, &ti, "*", r), MESOS_OK);
  for (size_t i = 0; i < nprotos; i++) mesos__pb_free(protos[i]);
  mesos__free(protos);
  mesos_resources_free(r);
  t->task->state = MESOS__V1__TASK_STATE__TASK_RUNNING;
  return t;
}

static void add_offer(world *w, mesos__framework *fw, mesos__agent *a, const char *id,
                      const char *res) {
  mesos__offer *o = MESOS__NEW(mesos__offer);
  ck_assert_ptr_nonnull(o);
  o->id = mesos__strdup(id);
  o->fw = fw;
  o->agent = a;
  o->role = mesos__strdup("*");
  o->resources = parse_res(res);
  ck_assert_int_eq(mesos__map_put(&w->m->offers, o->id, o), MESOS_OK);
  ck_assert_int_eq(mesos__map_put(&fw->offers, o->id, o), MESOS_OK);
}

static void add_executor(mesos__agent *a, mesos__framework *fw, const char *id, int with_fid) {
  Mesos__V1__ExecutorInfo ei = MESOS__V1__EXECUTOR_INFO__INIT;
  Mesos__V1__ExecutorID eid = MESOS__V1__EXECUTOR_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
  eid.value = (char *)id;
  fid.value = fw->id;
  cmd.value = "./executor --flag=\"x\"";
  ei.executor_id = &eid;
  ei.framework_id = with_fid ? &fid : NULL;
  ei.command = &cmd;
  ei.name = "my executor";
  mesos__agent_add_executor(a, fw->id, &ei);
}

static void finish_task(mesos__task *t) {
  t->task->state = MESOS__V1__TASK_STATE__TASK_FINISHED;
  t->released = 1;
  mesos__task_free(t);
}

/* `agents` agents of three shapes (one with reservations), three
 * frameworks (the third ends up completed), `per` tasks per agent. */
static void world_start(world *w, size_t agents, size_t per) {
  memset(w, 0, sizeof *w);
  ck_assert_int_eq(mesos_loop_new(&w->loop, NULL, NULL), MESOS_OK);
  char *argv[] = {"test", "--ip=127.0.0.1", "--port=0", "--max_completed_tasks_per_framework=50",
                  "--logging_level=ERROR", "--allocation_interval=1hrs", NULL};
  mesos_master_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_master_flags_parse(&flags, 6, argv, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_master_new(&w->m, w->loop, NULL, flags, &err), &err);
  mesos_master_flags_free(flags);
  for (size_t f = 0; f < 3; f++) {
    Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
    char name[64], id[128];
    snprintf(name, sizeof name, "framework \"%zu\"\t", f);
    snprintf(id, sizeof id, "%s-%04zu", w->m->id, f);
    fi.user = "nobody";
    fi.name = name;
    fi.role = f == 1 ? "role1" : "*";
    ck_assert_int_eq(mesos__framework_new(&w->fws[f], w->m, id, &fi), MESOS_OK);
  }
  w->fws[0]->registered_time = mesos__master_now();
  w->fws[1]->reregistered_time = mesos__master_now();
  w->agents = mesos__calloc(agents, sizeof *w->agents);
  w->nagents = agents;
  static const char *totals[] = {
      "cpus:24;mem:4096;disk:4096;ports:[31000-32000]",
      "cpus:8;mem:1024;cpus(role1):2;mem(role1):512;ports:[31000-31010,31020-31030]",
      "cpus:4;mem:2048;gpus:1;disk:100;zones:{a,b}",
  };
  /* Tasks on one agent have one shape (see agent_usage in state_v1.c). */
  static const char *task_res[] = {"cpus:0.1;mem:32", "cpus:0.25;mem:64;ports:[31001-31001]",
                                   "cpus:0.5;mem:16;gpus:1"};
  for (size_t a = 0; a < agents; a++) {
    w->agents[a] = add_agent(w, a, totals[a % 3]);
    for (size_t j = 0; j < per; j++) {
      char id[64];
      snprintf(id, sizeof id, "task-%zu-%zu", a, j);
      const char *exec = j == 1 ? (a % 2 ? "exec-a" : "exec-b") : NULL;
      mesos__task *t = add_task(w, w->fws[(a + j) % 3], w->agents[a], id, task_res[a % 3], exec);
      if (j % 3 == 2) finish_task(t);
      else if (j % 4 == 3) t->task->state = MESOS__V1__TASK_STATE__TASK_STAGING;
    }
  }
  add_executor(w->agents[0], w->fws[0], "exec-a", 1);
  add_executor(w->agents[0], w->fws[1], "exec-no-fid", 0);
  if (agents > 1) add_executor(w->agents[1], w->fws[1], "exec-a", 1);
  add_offer(w, w->fws[0], w->agents[0], "offer-1", "cpus:1;mem:128;ports:[31500-31600]");
  add_offer(w, w->fws[0], w->agents[agents > 2 ? 2 : 0], "offer-2", "cpus:0.5");
  add_offer(w, w->fws[1], w->agents[0], "offer-3", "mem:64");
  /* The third framework goes: a completed framework with its tasks. */
  mesos__framework_remove(w->fws[2], "test");
  w->fws[2] = NULL;
}

static void world_stop(world *w) {
  mesos_master_free(w->m);
  mesos__free(w->agents);
  mesos_loop_free(w->loop);
}

/* ------------------------------------------------------------ comparing */

static const struct {
  const char *name;
  int call;
  Mesos__V1__Master__Response__Type type;
} calls[] = {
    {"GET_STATE", MESOS__V1__MASTER__CALL__TYPE__GET_STATE,
     MESOS__V1__MASTER__RESPONSE__TYPE__GET_STATE},
    {"GET_AGENTS", MESOS__V1__MASTER__CALL__TYPE__GET_AGENTS,
     MESOS__V1__MASTER__RESPONSE__TYPE__GET_AGENTS},
    {"GET_FRAMEWORKS", MESOS__V1__MASTER__CALL__TYPE__GET_FRAMEWORKS,
     MESOS__V1__MASTER__RESPONSE__TYPE__GET_FRAMEWORKS},
    {"GET_TASKS", MESOS__V1__MASTER__CALL__TYPE__GET_TASKS,
     MESOS__V1__MASTER__RESPONSE__TYPE__GET_TASKS},
    {"GET_EXECUTORS", MESOS__V1__MASTER__CALL__TYPE__GET_EXECUTORS,
     MESOS__V1__MASTER__RESPONSE__TYPE__GET_EXECUTORS},
    {"SUBSCRIBE", MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE, 0},
};

/* What the tree builders encode to (SUBSCRIBE: the RecordIO record). */
static void reference(world *w, size_t c, int pb, mesos__buf *out) {
  mesos__op_scratch sc;
  mesos__op_scratch_init(&sc, 1 << 16);
  Mesos__V1__Master__Response__GetState *gs = mesos__op_get_state(&sc, w->m);
  ck_assert_ptr_nonnull(gs);
  ck_assert_int_eq(sc.oom, 0);
  mesos__media media = pb ? MESOS__MEDIA_PROTOBUF : MESOS__MEDIA_JSON;
  if (calls[c].call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE) {
    Mesos__V1__Master__Event ev = MESOS__V1__MASTER__EVENT__INIT;
    Mesos__V1__Master__Event__Subscribed sub = MESOS__V1__MASTER__EVENT__SUBSCRIBED__INIT;
    sub.get_state = gs;
    sub.has_heartbeat_interval_seconds = 1;
    sub.heartbeat_interval_seconds = (double)w->m->heartbeat_ms / 1000.0;
    ev.has_type = 1;
    ev.type = MESOS__V1__MASTER__EVENT__TYPE__SUBSCRIBED;
    ev.subscribed = &sub;
    mesos__buf body = MESOS__BUF_INIT((size_t)1 << 30);
    ck_assert_int_eq(pb ? mesos__pb_pack_buf(&ev.base, &body, NULL)
                        : mesos__json_encode(&ev.base, &body, NULL),
                     MESOS_OK);
    ck_assert_int_eq(mesos__buf_printf(out, "%zu\n", body.len), MESOS_OK);
    ck_assert_int_eq(mesos__buf_append(out, body.data, body.len), MESOS_OK);
    mesos__buf_free(&body);
    mesos__op_scratch_free(&sc);
    return;
  }
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  r.has_type = 1;
  r.type = calls[c].type;
  switch (calls[c].type) {
    case MESOS__V1__MASTER__RESPONSE__TYPE__GET_STATE: r.get_state = gs; break;
    case MESOS__V1__MASTER__RESPONSE__TYPE__GET_AGENTS: r.get_agents = gs->get_agents; break;
    case MESOS__V1__MASTER__RESPONSE__TYPE__GET_FRAMEWORKS:
      r.get_frameworks = gs->get_frameworks;
      break;
    case MESOS__V1__MASTER__RESPONSE__TYPE__GET_TASKS: r.get_tasks = gs->get_tasks; break;
    default: r.get_executors = gs->get_executors; break;
  }
  (void)media;
  ck_assert_int_eq(pb ? mesos__pb_pack_buf(&r.base, out, NULL)
                      : mesos__json_encode(&r.base, out, NULL),
                   MESOS_OK);
  mesos__op_scratch_free(&sc);
}

/* The message in `data` (a Response, or SUBSCRIBE's Event after its
 * RecordIO length), decoded and packed again: canonical bytes to compare. */
static void canonical(size_t c, int pb, const char *data, size_t len, mesos__buf *out) {
  const ProtobufCMessageDescriptor *d = &mesos__v1__master__response__descriptor;
  if (calls[c].call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE) {
    d = &mesos__v1__master__event__descriptor;
    const char *nl = memchr(data, '\n', len < 24 ? len : 24);
    ck_assert_ptr_nonnull(nl);
    char *end = NULL;
    unsigned long long n = strtoull(data, &end, 10);
    ck_assert_ptr_eq(end, nl);
    ck_assert_uint_eq(n, len - (size_t)(nl + 1 - data));
    len -= (size_t)(nl + 1 - data);
    data = nl + 1;
  }
  ProtobufCMessage *msg = NULL;
  mesos_error *err = NULL;
  if (pb) {
    ck_assert_mesos_ok(mesos__pb_unpack(d, (const uint8_t *)data, len, 0, 0, &msg, &err), &err);
  } else {
    mesos__json_limits lim = {0, (size_t)1 << 30, (size_t)1 << 30};
    ck_assert_mesos_ok(mesos__json_decode(d, data, len, &lim, &msg, &err), &err);
  }
  ck_assert_int_eq(mesos__pb_pack_buf(msg, out, NULL), MESOS_OK);
  mesos__pb_free(msg);
}

static void compare_all(world *w) {
  for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
    for (int pb = 0; pb < 2; pb++) {
      mesos__buf want = MESOS__BUF_INIT((size_t)1 << 30);
      mesos__buf got = MESOS__BUF_INIT((size_t)1 << 30);
      reference(w, c, pb, &want);
      mesos_status st = MESOS_OK;
      mesos__v1snap *s = mesos__v1snap_take(w->m, calls[c].call, &st);
      ck_assert_ptr_nonnull(s);
      ck_assert_int_eq(st, MESOS_OK);
      ck_assert_int_eq(
          mesos__v1snap_render(s, pb ? MESOS__MEDIA_PROTOBUF : MESOS__MEDIA_JSON, &got),
          MESOS_OK);
      mesos__v1snap_free(s);
      /* Decoded, the same message... */
      mesos__buf cw = MESOS__BUF_INIT((size_t)1 << 30), cg = MESOS__BUF_INIT((size_t)1 << 30);
      canonical(c, pb, want.data, want.len, &cw);
      canonical(c, pb, got.data, got.len, &cg);
      ck_assert_msg(cw.len == cg.len && memcmp(cw.data, cg.data, cw.len) == 0,
                    "%s (%s): the direct render decodes to another message (%zu vs %zu bytes)",
                    calls[c].name, pb ? "protobuf" : "JSON", cg.len, cw.len);
      /* ... and the same bytes. */
      ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
                    "%s (%s): %zu bytes rendered, %zu from the tree", calls[c].name,
                    pb ? "protobuf" : "JSON", got.len, want.len);
      mesos__buf_free(&cw);
      mesos__buf_free(&cg);
      mesos__buf_free(&want);
      mesos__buf_free(&got);
    }
  }
}

START_TEST(test_state_v1__direct_render_is_what_the_tree_encodes_to) {
  world w;
  world_start(&w, 7, 8);
  compare_all(&w);
  /* The shapes were there to compare. */
  mesos__buf b = MESOS__BUF_INIT((size_t)1 << 30);
  mesos_status st = MESOS_OK;
  mesos__v1snap *s = mesos__v1snap_take(w.m, MESOS__V1__MASTER__CALL__TYPE__GET_STATE, &st);
  ck_assert_int_eq(mesos__v1snap_render(s, MESOS__MEDIA_JSON, &b), MESOS_OK);
  mesos__v1snap_free(s);
  static const char *must[] = {"\"offers\":[", "\"completed_frameworks\":[",
                               "\"completed_tasks\":[", "\"exec-no-fid\"", "\"role1\"",
                               "\"reregistered_time\"", "\"ranges\"", "\"set\"",
                               "\"executor_id\":{\"value\":\"exec-b\"}", "TASK_STAGING"};
  for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
    ck_assert_msg(strstr(b.data, must[i]) != NULL, "no %s in GET_STATE", must[i]);
  mesos__buf_free(&b);
  world_stop(&w);
}
END_TEST

/* Responses of several output chunks (1 MiB each). */
START_TEST(test_state_v1__direct_render_across_chunks) {
  world w;
  world_start(&w, 400, 32);
  mesos__buf b = MESOS__BUF_INIT((size_t)1 << 30);
  mesos_status st = MESOS_OK;
  mesos__v1snap *s = mesos__v1snap_take(w.m, MESOS__V1__MASTER__CALL__TYPE__GET_STATE, &st);
  ck_assert_int_eq(mesos__v1snap_render(s, MESOS__MEDIA_PROTOBUF, &b), MESOS_OK);
  mesos__v1snap_free(s);
  ck_assert_msg(b.len > ((size_t)1 << 20), "GET_STATE is %zu bytes", b.len);
  mesos__buf_free(&b);
  compare_all(&w);
  world_stop(&w);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("state_v1");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_state_v1__direct_render_is_what_the_tree_encodes_to);
  tcase_add_test(tc, test_state_v1__direct_render_across_chunks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }

/*
 * The v1 state calls' direct renderer (state_v1.c, issue 6): GET_STATE,
 * GET_AGENTS, GET_FRAMEWORKS, GET_TASKS, GET_EXECUTORS and the operator
 * SUBSCRIBED event are written straight from a snapshot in JSON and in the
 * protobuf wire format, without a protobuf-c tree.  (It replaced the tree
 * builders of state_v1.c and operator.c; until they were deleted this
 * test compared its bytes with theirs, for every call and media.)  Now:
 *  - the JSON and the protobuf answers decode to the same message, and
 *    that message has what the master holds (every live and completed
 *    task, executor, framework, offer, agent, with the usage added up);
 *  - responses of several output chunks (the protobuf lengths of the big
 *    messages are filled in across them) decode;
 *  - with an authorizer, the snapshot taken for a principal leaves out the
 *    frameworks, tasks and executors it may not view, and nothing else.
 *
 * The master runs in this process, populated through its internal
 * functions with what the shapes have: reserved resources, ranges, sets
 * and attributes on agents, offers, executors with and without a
 * framework id, tasks naming an executor, completed tasks and a completed
 * framework, strings that need escaping.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "master/master_auth.h"
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
  t->state = MESOS__V1__TASK_STATE__TASK_RUNNING;
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

/* Bodies are immutable: a test that wants a task with more in it gives
 * the task a new body made from its message with `change` applied. */
static void rebody(mesos__task *t, void (*change)(Mesos__V1__Task *, size_t), size_t salt) {
  Mesos__V1__Task msg;
  mesos__task_view(t, &msg);
  change(&msg, salt);
  mesos__task_body *b = NULL;
  ck_assert_int_eq(mesos__task_body_new(t->fw->master, &msg, t->fw->id, t->agent->id, &b),
                   MESOS_OK);
  mesos__task_body_free(t->fw->master, t->body);
  t->body = b;
}

/* As the master leaves a task after a status update: its state and uuid
 * (an agent reports the uuid of a re-registering task's latest update). */
static void uuid_set(Mesos__V1__Task *t, size_t salt) {
  static uint8_t uuid[16];
  t->has_status_update_uuid = 1;
  t->status_update_uuid.len = 16;
  t->status_update_uuid.data = uuid;
  for (size_t i = 0; i < 16; i++) uuid[i] = (uint8_t)(i * 37 + salt);
}

static void task_updated(mesos__task *t, size_t salt) {
  t->has_su_state = 1;
  t->su_state = MESOS__V1__TASK_STATE__TASK_RUNNING;
  rebody(t, uuid_set, salt);
}

/* Something the hand-written task writer leaves to the generic encoder. */
static void task_labelled(Mesos__V1__Task *t, size_t salt) {
  (void)salt;
  static Mesos__V1__Labels ls;
  static Mesos__V1__Label l, *lp[1];
  mesos__v1__labels__init(&ls);
  mesos__v1__label__init(&l);
  l.key = "tier";
  l.value = "front \"end\"";
  lp[0] = &l;
  ls.labels = lp;
  ls.n_labels = 1;
  t->labels = &ls;
}

static void finish_task(mesos__task *t) {
  t->state = MESOS__V1__TASK_STATE__TASK_FINISHED;
  t->released = 1;
  mesos__task_free(t);
}

/* `agents` agents of three shapes (one with reservations), three
 * frameworks (the third ends up completed), `per` tasks per agent. */
static const char *const users[3] = {"alice", "bob", "alice"};

static void world_start(world *w, size_t agents, size_t per, const char *acls) {
  memset(w, 0, sizeof *w);
  ck_assert_int_eq(mesos_loop_new(&w->loop, NULL, NULL), MESOS_OK);
  char *argv[] = {"test", "--ip=127.0.0.1", "--port=0", "--max_completed_tasks_per_framework=50",
                  "--logging_level=ERROR", "--allocation_interval=1hrs", (char *)acls, NULL};
  mesos_master_flags *flags = NULL;
  mesos_error *err = NULL;
  ck_assert_mesos_ok(mesos_master_flags_parse(&flags, acls ? 7 : 6, argv, NULL, &err), &err);
  ck_assert_mesos_ok(mesos_master_new(&w->m, w->loop, NULL, flags, &err), &err);
  mesos_master_flags_free(flags);
  for (size_t f = 0; f < 3; f++) {
    Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
    char name[64], id[128];
    snprintf(name, sizeof name, "framework \"%zu\"\t", f);
    snprintf(id, sizeof id, "%s-%04zu", w->m->id, f);
    fi.user = (char *)users[f];
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
      if (j == 3 || j == 5) task_updated(t, a);
      if (j == 4 && a % 2) rebody(t, task_labelled, 0);
      if (j % 3 == 2) finish_task(t);
      else if (j % 4 == 3) t->state = MESOS__V1__TASK_STATE__TASK_STAGING;
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

/* ------------------------------------------------------------ checking */

static const struct {
  const char *name;
  int call;
} calls[] = {
    {"GET_STATE", MESOS__V1__MASTER__CALL__TYPE__GET_STATE},
    {"GET_AGENTS", MESOS__V1__MASTER__CALL__TYPE__GET_AGENTS},
    {"GET_FRAMEWORKS", MESOS__V1__MASTER__CALL__TYPE__GET_FRAMEWORKS},
    {"GET_TASKS", MESOS__V1__MASTER__CALL__TYPE__GET_TASKS},
    {"GET_EXECUTORS", MESOS__V1__MASTER__CALL__TYPE__GET_EXECUTORS},
    {"SUBSCRIBE", MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE},
};

static void render(world *w, int call, int pb, mesos__buf *out) {
  mesos_status st = MESOS_OK;
  mesos__v1snap *s = mesos__v1snap_take(w->m, call, &st);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(st, MESOS_OK);
  ck_assert_int_eq(mesos__v1snap_render(s, pb ? MESOS__MEDIA_PROTOBUF : MESOS__MEDIA_JSON, out),
                   MESOS_OK);
  mesos__v1snap_free(s);
}

/* The message in `data` (a Response; SUBSCRIBE's Event after its RecordIO
 * length, which must be the rest's), decoded (free with mesos__pb_free). */
static ProtobufCMessage *decode(int call, int pb, const char *data, size_t len) {
  const ProtobufCMessageDescriptor *d = &mesos__v1__master__response__descriptor;
  if (call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE) {
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
  return msg;
}

static const Mesos__V1__Master__Response__GetState *state_of(int call,
                                                             const ProtobufCMessage *msg) {
  if (call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE) {
    const Mesos__V1__Master__Event *ev = (const Mesos__V1__Master__Event *)msg;
    ck_assert_int_eq(ev->type, MESOS__V1__MASTER__EVENT__TYPE__SUBSCRIBED);
    ck_assert_ptr_nonnull(ev->subscribed);
    ck_assert(ev->subscribed->has_heartbeat_interval_seconds);
    return ev->subscribed->get_state;
  }
  return ((const Mesos__V1__Master__Response *)msg)->get_state;
}

/* The body after SUBSCRIBE's RecordIO length (checked), else all of it. */
static const char *body_of(int call, const mesos__buf *b, size_t *len) {
  if (call != MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE) {
    *len = b->len;
    return b->data;
  }
  const char *nl = memchr(b->data, '\n', b->len < 24 ? b->len : 24);
  ck_assert_ptr_nonnull(nl);
  *len = b->len - (size_t)(nl + 1 - b->data);
  ck_assert_uint_eq(strtoull(b->data, NULL, 10), *len);
  return nl + 1;
}

/* The protobuf answer, decoded and written as JSON by the generic
 * encoder, is the JSON answer, byte for byte (both from the same state). */
static void same_in_both_media(world *w) {
  for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
    int call = calls[c].call;
    mesos__buf pb = MESOS__BUF_INIT((size_t)1 << 30), js = MESOS__BUF_INIT((size_t)1 << 30);
    render(w, call, 1, &pb);
    render(w, call, 0, &js);
    ProtobufCMessage *msg = decode(call, 1, pb.data, pb.len);
    mesos__buf want = MESOS__BUF_INIT((size_t)1 << 30);
    ck_assert_int_eq(mesos__json_encode(msg, &want, NULL), MESOS_OK);
    size_t len = 0;
    const char *got = body_of(call, &js, &len);
    ck_assert_msg(len == want.len && memcmp(got, want.data, len) == 0,
                  "%s: the JSON answer (%zu bytes) is not the protobuf one's JSON (%zu bytes)",
                  calls[c].name, len, want.len);
    /* And the JSON decodes. */
    ProtobufCMessage *jmsg = decode(call, 0, js.data, js.len);
    mesos__pb_free(jmsg);
    mesos__pb_free(msg);
    mesos__buf_free(&want);
    mesos__buf_free(&pb);
    mesos__buf_free(&js);
  }
}

static size_t completed_count(mesos_master *m, int (*keep)(const char *user)) {
  size_t n = 0;
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    const mesos__op_tasks *r = mesos__op_completed_tasks(m, ((mesos__framework *)v)->id);
    const char *u = ((mesos__framework *)v)->info->user;
    if (r && (!keep || keep(u))) n += r->n;
  }
  for (size_t i = 0; i < m->op->done_n; i++) {
    const mesos__op_done_fw *d = &m->op->done[(m->op->done_head + i) % m->op->done_cap];
    if (!keep || keep(d->info->user)) n += d->tasks.n;
  }
  return n;
}

static int is_alice(const char *user) { return user && strcmp(user, "alice") == 0; }

/* What the master holds, in the decoded GET_STATE. */
static void check_state(world *w, const Mesos__V1__Master__Response__GetState *gs,
                        int (*keep)(const char *user), int pb) {
  mesos_master *m = w->m;
  ck_assert_ptr_nonnull(gs);
  ck_assert_ptr_nonnull(gs->get_tasks);
  ck_assert_ptr_nonnull(gs->get_frameworks);
  ck_assert_ptr_nonnull(gs->get_agents);
  ck_assert_ptr_nonnull(gs->get_executors);
  size_t live = 0, fws = 0;
  int64_t used_milli = 0; /* cpus of every live task, whoever views */
  for (size_t f = 0; f < 2; f++) {
    size_t n = 0;
    mesos__task **all = mesos__tasks_snapshot(&w->fws[f]->tasks, &n);
    for (size_t i = 0; i < n; i++)
      if (!all[i]->released) used_milli += mesos__resources_scalar_milli(&all[i]->resources->r, "cpus");
    mesos__free(all);
    if (!keep || keep(w->fws[f]->info->user)) {
      live += n;
      fws++;
    }
  }
  ck_assert_uint_eq(gs->get_tasks->n_tasks, live);
  ck_assert_uint_eq(gs->get_tasks->n_completed_tasks, completed_count(m, keep));
  ck_assert_uint_gt(gs->get_tasks->n_completed_tasks, 0);
  for (size_t i = 0; i < gs->get_tasks->n_tasks; i++) {
    const Mesos__V1__Task *t = gs->get_tasks->tasks[i];
    ck_assert(t->state == MESOS__V1__TASK_STATE__TASK_RUNNING ||
              t->state == MESOS__V1__TASK_STATE__TASK_STAGING);
    ck_assert_uint_gt(t->n_resources, 0);
  }
  /* Every task is its message, field for field (also the ones written by
   * hand rather than by the generic encoder). */
  mesos__map byid;
  mesos__map_init(&byid);
  /* Live tasks: their records as Task messages (freed below). */
  Mesos__V1__Task **live_msgs = NULL;
  size_t nlive_msgs = 0;
  for (size_t f = 0; f < 2; f++) {
    size_t n = 0;
    mesos__task **all = mesos__tasks_snapshot(&w->fws[f]->tasks, &n);
    Mesos__V1__Task **grown = mesos__realloc(live_msgs, (nlive_msgs + n + 1) * sizeof *grown);
    ck_assert_ptr_nonnull(grown);
    live_msgs = grown;
    for (size_t i = 0; i < n; i++) {
      Mesos__V1__Task *msg = mesos__task_to_proto(all[i]);
      ck_assert_ptr_nonnull(msg);
      live_msgs[nlive_msgs++] = msg;
      ck_assert_int_eq(mesos__map_put(&byid, msg->task_id->value, msg), MESOS_OK);
    }
    mesos__free(all);
  }
  size_t it = 0;
  void *fv;
  while (mesos__map_next(&m->frameworks, &it, NULL, &fv)) {
    const mesos__op_tasks *r = mesos__op_completed_tasks(m, ((mesos__framework *)fv)->id);
    for (size_t i = 0; r && i < r->n; i++) {
      Mesos__V1__Task *t = r->v[(r->head + i) % r->cap];
      ck_assert_int_eq(mesos__map_put(&byid, t->task_id->value, t), MESOS_OK);
    }
  }
  for (size_t d = 0; d < m->op->done_n; d++) {
    const mesos__op_tasks *r = &m->op->done[(m->op->done_head + d) % m->op->done_cap].tasks;
    for (size_t i = 0; i < r->n; i++) {
      Mesos__V1__Task *t = r->v[(r->head + i) % r->cap];
      ck_assert_int_eq(mesos__map_put(&byid, t->task_id->value, t), MESOS_OK);
    }
  }
  int labelled = 0, uuids = 0;
  for (int part = 0; part < 2; part++) {
    Mesos__V1__Task **v = part ? gs->get_tasks->completed_tasks : gs->get_tasks->tasks;
    size_t n = part ? gs->get_tasks->n_completed_tasks : gs->get_tasks->n_tasks;
    for (size_t i = 0; i < n; i++) {
      const Mesos__V1__Task *orig = mesos__map_get(&byid, v[i]->task_id->value);
      ck_assert_msg(orig != NULL, "task %s is not the master's", v[i]->task_id->value);
      /* From protobuf: the same bytes; from JSON (which writes defaults,
       * so they come back set): the same JSON. */
      mesos__buf x = MESOS__BUF_INIT(1 << 20), y = MESOS__BUF_INIT(1 << 20);
      if (pb) {
        ck_assert_int_eq(mesos__pb_pack_buf(&v[i]->base, &x, NULL), MESOS_OK);
        ck_assert_int_eq(mesos__pb_pack_buf(&orig->base, &y, NULL), MESOS_OK);
      } else {
        ck_assert_int_eq(mesos__json_encode(&v[i]->base, &x, NULL), MESOS_OK);
        ck_assert_int_eq(mesos__json_encode(&orig->base, &y, NULL), MESOS_OK);
      }
      ck_assert_msg(x.len == y.len && memcmp(x.data, y.data, x.len) == 0,
                    "task %s differs from its message", v[i]->task_id->value);
      mesos__buf_free(&x);
      mesos__buf_free(&y);
      labelled += v[i]->labels != NULL;
      uuids += v[i]->has_status_update_uuid;
    }
  }
  ck_assert_int_gt(labelled, 0);
  ck_assert_int_gt(uuids, 0);
  mesos__map_free(&byid);
  for (size_t i = 0; i < nlive_msgs; i++) mesos__pb_free(live_msgs[i]);
  mesos__free(live_msgs);
  ck_assert_uint_eq(gs->get_frameworks->n_frameworks, fws);
  ck_assert_uint_eq(gs->get_frameworks->n_completed_frameworks, 1);
  size_t offers = 0;
  for (size_t i = 0; i < gs->get_frameworks->n_frameworks; i++)
    offers += gs->get_frameworks->frameworks[i]->n_offers;
  ck_assert_uint_eq(offers, keep ? 2 : 3);
  /* Agents are never filtered; what they use counts every task. */
  ck_assert_uint_eq(gs->get_agents->n_agents, w->nagents);
  int64_t agents_used = 0;
  for (size_t i = 0; i < gs->get_agents->n_agents; i++) {
    const Mesos__V1__Master__Response__GetAgents__Agent *a = gs->get_agents->agents[i];
    ck_assert_ptr_nonnull(a->agent_info);
    ck_assert_str_eq(a->version, "1.0.0");
    ck_assert_ptr_nonnull(a->registered_time);
    ck_assert_uint_gt(a->n_total_resources, 0);
    for (size_t k = 0; k < a->n_allocated_resources; k++)
      if (strcmp(a->allocated_resources[k]->name, "cpus") == 0)
        agents_used += llround(a->allocated_resources[k]->scalar->value * 1000);
  }
  ck_assert_int_eq(agents_used, used_milli);
  /* Executors: the agents' (one without a framework id: filled in), and
   * one per executor only tasks name. */
  int no_fid = 0, from_task = 0;
  for (size_t i = 0; i < gs->get_executors->n_executors; i++) {
    const Mesos__V1__ExecutorInfo *ei = gs->get_executors->executors[i]->executor_info;
    ck_assert_ptr_nonnull(ei->framework_id);
    ck_assert_ptr_nonnull(gs->get_executors->executors[i]->agent_id);
    if (strcmp(ei->executor_id->value, "exec-no-fid") == 0) {
      no_fid = 1;
      ck_assert_str_eq(ei->framework_id->value, w->fws[1]->id);
    }
    if (strcmp(ei->executor_id->value, "exec-b") == 0) from_task = 1;
    if (keep) ck_assert_str_ne(ei->framework_id->value, w->fws[1]->id); /* bob's */
  }
  ck_assert_int_eq(no_fid, keep ? 0 : 1);
  ck_assert_int_eq(from_task, 1);
}

START_TEST(test_state_v1__both_media_say_what_the_master_holds) {
  world w;
  world_start(&w, 7, 8, NULL);
  same_in_both_media(&w);
  for (int pb = 0; pb < 2; pb++) {
    int call = pb ? MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE : MESOS__V1__MASTER__CALL__TYPE__GET_STATE;
    mesos__buf b = MESOS__BUF_INIT((size_t)1 << 30);
    render(&w, call, pb, &b);
    ProtobufCMessage *msg = decode(call, pb, b.data, b.len);
    check_state(&w, state_of(call, msg), NULL, pb);
    mesos__pb_free(msg);
    if (!pb) {
      static const char *must[] = {"\"offers\":[", "\"completed_frameworks\":[", "\"role1\"",
                                   "\"reregistered_time\"", "\"ranges\"", "\"set\"",
                                   "TASK_STAGING", "\"framework \\\"0\\\"\\t\""};
      for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        ck_assert_msg(strstr(b.data, must[i]) != NULL, "no %s in GET_STATE", must[i]);
    }
    mesos__buf_free(&b);
  }
  world_stop(&w);
}
END_TEST

/* Responses of several output chunks (1 MiB each). */
START_TEST(test_state_v1__direct_render_across_chunks) {
  world w;
  world_start(&w, 400, 32, NULL);
  mesos__buf b = MESOS__BUF_INIT((size_t)1 << 30);
  render(&w, MESOS__V1__MASTER__CALL__TYPE__GET_STATE, 1, &b);
  ck_assert_msg(b.len > ((size_t)1 << 20), "GET_STATE is %zu bytes", b.len);
  mesos__buf_free(&b);
  same_in_both_media(&w);
  world_stop(&w);
}
END_TEST

/* With an authorizer: the snapshot for principal "tenant-a" (which may
 * view alice's frameworks, tasks and executors only) has bob's framework,
 * its tasks and executors left out; agents and usage are whole. */
START_TEST(test_state_v1__filtered_for_the_principal) {
  static const char acls[] =
      "--acls={\"view_frameworks\": ["
      "  {\"principals\": {\"values\": [\"tenant-a\"]}, \"users\": {\"values\": [\"alice\"]}},"
      "  {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
      " \"view_tasks\": ["
      "  {\"principals\": {\"values\": [\"tenant-a\"]}, \"users\": {\"values\": [\"alice\"]}},"
      "  {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}],"
      " \"view_executors\": ["
      "  {\"principals\": {\"values\": [\"tenant-a\"]}, \"users\": {\"values\": [\"alice\"]}},"
      "  {\"principals\": {\"type\": \"ANY\"}, \"users\": {\"type\": \"NONE\"}}]}";
  world w;
  world_start(&w, 7, 8, acls);
  mesos__auth_view v;
  mesos__auth_view_init(&v, w.m->auth, "tenant-a");
  w.m->view = &v;
  same_in_both_media(&w);
  for (int pb = 0; pb < 2; pb++) {
    mesos__buf b = MESOS__BUF_INIT((size_t)1 << 30);
    render(&w, MESOS__V1__MASTER__CALL__TYPE__GET_STATE, pb, &b);
    ProtobufCMessage *msg = decode(MESOS__V1__MASTER__CALL__TYPE__GET_STATE, pb, b.data, b.len);
    check_state(&w, state_of(MESOS__V1__MASTER__CALL__TYPE__GET_STATE, msg), is_alice, pb);
    mesos__pb_free(msg);
    mesos__buf_free(&b);
  }
  w.m->view = NULL;
  mesos__auth_view_free(&v);
  /* Nobody's principal sees no framework, task or executor. */
  mesos__auth_view_init(&v, w.m->auth, "someone-else");
  w.m->view = &v;
  mesos__buf b = MESOS__BUF_INIT((size_t)1 << 30);
  render(&w, MESOS__V1__MASTER__CALL__TYPE__GET_STATE, 1, &b);
  ProtobufCMessage *msg = decode(MESOS__V1__MASTER__CALL__TYPE__GET_STATE, 1, b.data, b.len);
  const Mesos__V1__Master__Response__GetState *gs =
      state_of(MESOS__V1__MASTER__CALL__TYPE__GET_STATE, msg);
  ck_assert_uint_eq(gs->get_tasks->n_tasks + gs->get_tasks->n_completed_tasks, 0);
  ck_assert_uint_eq(gs->get_frameworks->n_frameworks + gs->get_frameworks->n_completed_frameworks,
                    0);
  ck_assert_uint_eq(gs->get_executors->n_executors, 0);
  ck_assert_uint_eq(gs->get_agents->n_agents, w.nagents);
  mesos__pb_free(msg);
  mesos__buf_free(&b);
  w.m->view = NULL;
  mesos__auth_view_free(&v);
  world_stop(&w);
}
END_TEST

/* ------------------------------------------------------------ the cache */

/* As the endpoints render (state.c): a snapshot served from the fragment
 * cache, rendered in one media, its new fragments kept. */
static void render_cached(world *w, int call, int pb, mesos__buf *out) {
  mesos_status st = MESOS_OK;
  mesos__media media = pb ? MESOS__MEDIA_PROTOBUF : MESOS__MEDIA_JSON;
  mesos__v1snap *s = mesos__v1snap_take_cached(w->m, call, media, &st);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(st, MESOS_OK);
  ck_assert_int_eq(mesos__v1snap_render(s, media, out), MESOS_OK);
  mesos__v1snap_keep(w->m, s);
  mesos__v1snap_free(s);
}

/* A status update of task-0-0 (framework 0) to `state`. */
static void task_0_0_update(world *w, Mesos__V1__TaskState state) {
  Mesos__Internal__StatusUpdate su = MESOS__INTERNAL__STATUS_UPDATE__INIT;
  Mesos__V1__TaskStatus status = MESOS__V1__TASK_STATUS__INIT;
  Mesos__V1__TaskID tid = MESOS__V1__TASK_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  tid.value = "task-0-0";
  fid.value = w->fws[0]->id;
  status.task_id = &tid;
  status.state = state;
  su.framework_id = &fid;
  su.status = &status;
  mesos__task_status_update(w->m, &su);
}

static int has(const mesos__buf *b, const char *what) {
  return b->data && strstr(b->data, what) != NULL;
}

/* Every call in both media, twice from the cache (filling it, then served
 * by it), is byte for byte the render without the cache; returns the
 * uncached GET_STATE JSON (free it). */
static mesos__buf cached_is_fresh(world *w, const char *after) {
  mesos__buf state = MESOS__BUF_INIT((size_t)1 << 30);
  for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++)
    for (int pb = 0; pb < 2; pb++) {
      mesos__buf want = MESOS__BUF_INIT((size_t)1 << 30);
      render(w, calls[c].call, pb, &want);
      for (int round = 0; round < 2; round++) {
        mesos__buf got = MESOS__BUF_INIT((size_t)1 << 30);
        render_cached(w, calls[c].call, pb, &got);
        ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
                      "after %s: %s (%s, round %d) from the cache differs from a fresh render",
                      after, calls[c].name, pb ? "protobuf" : "JSON", round);
        mesos__buf_free(&got);
      }
      if (c == 0 && !pb) state = want;
      else mesos__buf_free(&want);
    }
  /* The classic documents made of the same records (/tasks has no cache:
   * it must come out the same all the same). */
  static const char *const docs[] = {"/state",         "/frameworks", "/slaves", "/tasks",
                                     "/state-summary", "/roles"};
  for (int d = 0; d < 6; d++) {
    mesos__buf want = MESOS__BUF_INIT((size_t)1 << 30);
    ck_assert_int_eq(mesos__state_doc(w->m, d, 0, &want), MESOS_OK);
    for (int round = 0; round < 2; round++) {
      mesos__buf got = MESOS__BUF_INIT((size_t)1 << 30);
      ck_assert_int_eq(mesos__state_doc(w->m, d, 1, &got), MESOS_OK);
      ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
                    "after %s: %s (round %d) from the cache differs from a fresh render", after,
                    docs[d], round);
      mesos__buf_free(&got);
    }
    mesos__buf_free(&want);
  }
  /* GET_ROLES adds up per framework usage kept while it does not change. */
  mesos__buf want = MESOS__BUF_INIT((size_t)1 << 30);
  mesos__state_test_cache(w->m, 0);
  ck_assert_int_eq(mesos__op_get_roles_json(w->m, &want), MESOS_OK);
  mesos__state_test_cache(w->m, 1);
  ck_assert(has(&want, "\"role1\""));
  for (int round = 0; round < 2; round++) {
    mesos__buf got = MESOS__BUF_INIT((size_t)1 << 30);
    ck_assert_int_eq(mesos__op_get_roles_json(w->m, &got), MESOS_OK);
    ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
                  "after %s: GET_ROLES (round %d) from the cache differs: %s\nvs %s", after, round,
                  got.data, want.data);
    mesos__buf_free(&got);
  }
  mesos__buf_free(&want);
  size_t frags = 0, bytes = 0;
  mesos__frag_stats(w->m, &frags, &bytes);
  ck_assert_uint_gt(frags, 0);
  ck_assert_uint_gt(bytes, 0);
  return state;
}


/* A mutation between two polls is in the next one, from the cache as
 * without it (the v1 calls in both media, /state, /frameworks, /slaves,
 * /state-summary):
 * a task's state, a new task, a finished task, a removed agent, a
 * framework's info, an offer gone. */
START_TEST(test_state_v1__cache_follows_mutations) {
  world w;
  world_start(&w, 7, 8, NULL);
  mesos__buf b = cached_is_fresh(&w, "start");
  ck_assert(!has(&b, "TASK_KILLING"));
  mesos__buf_free(&b);

  /* A status update: task-0-0 (framework 0) is killing. */
  ck_assert_ptr_nonnull(mesos__map_get(&w.fws[0]->tasks, "task-0-0"));
  task_0_0_update(&w, MESOS__V1__TASK_STATE__TASK_KILLING);
  b = cached_is_fresh(&w, "a status update");
  ck_assert(has(&b, "TASK_KILLING"));
  mesos__buf_free(&b);

  /* A new task. */
  add_task(&w, w.fws[1], w.agents[3], "task-new", "cpus:0.25;mem:64;ports:[31001-31001]", NULL);
  b = cached_is_fresh(&w, "a new task");
  ck_assert(has(&b, "\"task-new\""));
  mesos__buf_free(&b);

  /* A finished task (acknowledged: it moves to the completed tasks). */
  task_0_0_update(&w, MESOS__V1__TASK_STATE__TASK_FINISHED);
  ck_assert_ptr_null(mesos__map_get(&w.fws[0]->tasks, "task-0-0"));
  b = cached_is_fresh(&w, "a finished task");
  mesos__buf_free(&b);

  /* A removed agent (its hostname is only in its entry and its offers). */
  const char *gone = "\"agent-2.example.com\"";
  b = cached_is_fresh(&w, "nothing");
  ck_assert(has(&b, gone));
  mesos__buf_free(&b);
  mesos__agent_remove(w.agents[2], "test", 0);
  w.agents[2] = NULL;
  b = cached_is_fresh(&w, "a removed agent");
  ck_assert(!has(&b, gone));
  mesos__buf_free(&b);

  /* A framework's new info. */
  Mesos__V1__FrameworkInfo fi = MESOS__V1__FRAMEWORK_INFO__INIT;
  fi.user = "bob";
  fi.name = "renamed framework";
  fi.role = "role1";
  ck_assert_int_eq(mesos__framework_set_info(w.fws[1], &fi), MESOS_OK);
  mesos__master_framework_updated(w.fws[1]);
  b = cached_is_fresh(&w, "a framework's new info");
  ck_assert(has(&b, "renamed framework"));
  mesos__buf_free(&b);

  /* An offer goes. */
  mesos__offer *o = mesos__map_get(&w.m->offers, "offer-3");
  ck_assert_ptr_nonnull(o);
  mesos__offer_remove(o, 0, 0, 0);
  b = cached_is_fresh(&w, "an offer removed");
  ck_assert(!has(&b, "offer-3"));
  mesos__buf_free(&b);
  world_stop(&w);
}
END_TEST

/* ---- big fragments: written into the output blocks and sent by
 * reference (state.c's mesos__blk, mesos__capture) */

/* The chunks' bytes, one after the other. */
static void chunks_join(const mesos__chunks *c, mesos__buf *out) {
  for (size_t i = 0; i < c->n; i++)
    ck_assert_int_eq(mesos__buf_append(out, c->v[i].data, c->v[i].len), MESOS_OK);
}

/* Whether a chunk of `now` is a piece of a block an earlier output's
 * chunk was (a fragment sent by reference, not copied). */
static int shares_block(const mesos__chunks *now, const mesos__chunks *before) {
  for (size_t i = 0; i < now->n; i++)
    for (size_t k = 0; now->v[i].blk && k < before->n; k++)
      if (now->v[i].blk == before->v[k].blk) return 1;
  return 0;
}

/* One poll as the endpoint makes it: chunks from pooled blocks, the
 * fragments made kept; `doc` < 0: the v1 call, else the classic document. */
static void poll_chunks(world *w, int doc, int call, int pb, mesos__chunks *c) {
  if (doc >= 0) {
    ck_assert_int_eq(mesos__state_doc_chunks(w->m, doc, c), MESOS_OK);
    return;
  }
  mesos_status st = MESOS_OK;
  mesos__media media = pb ? MESOS__MEDIA_PROTOBUF : MESOS__MEDIA_JSON;
  mesos__v1snap *s = mesos__v1snap_take_cached(w->m, call, media, &st);
  ck_assert_int_eq(st, MESOS_OK);
  memset(c, 0, sizeof *c);
  c->sv = w->m->op->state;
  ck_assert_int_eq(mesos__v1snap_render_chunks(s, media, c), MESOS_OK);
  mesos__v1snap_keep(w->m, s);
  mesos__v1snap_free(s);
}

/* Three polls of each: the first renders (its fragments are the blocks
 * it wrote), the next two send the big ones by reference; every poll is
 * byte for byte the render without the cache. */
static void big_polls(world *w, const char *after) {
  static const char *const docs[] = {"/state", "/frameworks", "/slaves"};
  for (int d = -1; d < 3; d++)
    for (size_t c = 0; c < (d < 0 ? sizeof calls / sizeof calls[0] : 1); c++)
      for (int pb = 0; pb < (d < 0 ? 2 : 1); pb++) {
        mesos__buf want = MESOS__BUF_INIT((size_t)1 << 30);
        if (d < 0) render(w, calls[c].call, pb, &want);
        else ck_assert_int_eq(mesos__state_doc(w->m, d, 0, &want), MESOS_OK);
        mesos__chunks prev;
        memset(&prev, 0, sizeof prev);
        for (int round = 0; round < 3; round++) {
          mesos__chunks now;
          poll_chunks(w, d, calls[c].call, pb, &now);
          mesos__buf got = MESOS__BUF_INIT((size_t)1 << 30);
          chunks_join(&now, &got);
          const char *what = d < 0 ? calls[c].name : docs[d];
          ck_assert_msg(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
                        "after %s: %s (%s, round %d) from the cache differs from a fresh render",
                        after, what, pb ? "protobuf" : "JSON", round);
          /* Frameworks of ~4,000 tasks: their tasks are sent by reference
           * (GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS and /slaves have
           * only small parts: copied). */
          int c_small = calls[c].call == MESOS__V1__MASTER__CALL__TYPE__GET_AGENTS ||
                        calls[c].call == MESOS__V1__MASTER__CALL__TYPE__GET_FRAMEWORKS ||
                        calls[c].call == MESOS__V1__MASTER__CALL__TYPE__GET_EXECUTORS;
          if (round > 0 && (d < 0 ? !c_small : d != 2))
            ck_assert_msg(shares_block(&now, &prev), "%s (%s, round %d): nothing referenced", what,
                          pb ? "protobuf" : "JSON", round);
          mesos__buf_free(&got);
          mesos__state_chunks_free(&prev);
          prev = now;
        }
        mesos__state_chunks_free(&prev);
        mesos__buf_free(&want);
      }
}

/* Agents and frameworks big enough that their rendered parts span output
 * blocks (a framework's tasks are ~1 MB): cached, referenced, and after
 * a change to one framework and then to every record, still the bytes of
 * a fresh render. */
START_TEST(test_state_v1__cache_big_fragments_by_reference) {
  world w;
  world_start(&w, 400, 32, NULL);
  big_polls(&w, "start");
  /* One task's state changes: its framework is rendered again, the
   * other one still referenced. */
  task_0_0_update(&w, MESOS__V1__TASK_STATE__TASK_KILLING);
  big_polls(&w, "a status update");
  /* Everything changes: rendered again into fresh blocks, the old ones
   * let go of. */
  size_t it = 0;
  void *v;
  while (mesos__map_next(&w.m->agents, &it, NULL, &v)) mesos__agent_changed(v);
  it = 0;
  while (mesos__map_next(&w.m->frameworks, &it, NULL, &v)) mesos__framework_changed(v);
  big_polls(&w, "every record changed");
  world_stop(&w);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("state_v1");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_state_v1__both_media_say_what_the_master_holds);
  tcase_add_test(tc, test_state_v1__direct_render_across_chunks);
  tcase_add_test(tc, test_state_v1__filtered_for_the_principal);
  tcase_add_test(tc, test_state_v1__cache_follows_mutations);
  tcase_add_test(tc, test_state_v1__cache_big_fragments_by_reference);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return mesos_test_main(make_suite()); }

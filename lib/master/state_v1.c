/*
 * The v1 operator API's state calls -- GET_STATE, GET_AGENTS,
 * GET_FRAMEWORKS, GET_TASKS, GET_EXECUTORS -- built and encoded off the
 * loop thread (issue 6).  At 20,000 agents and 400,000 tasks a GET_STATE
 * is 58 MB of protobuf or 129 MB of JSON and took 2-4 s of the loop when
 * operator.c built and encoded it there.
 *
 * The same split as /state (state.c, which runs the batches, the thread
 * pool and the streaming): on the loop, a snapshot of what the response
 * needs -- the tasks as pointers to their (pinned) Task messages plus the
 * state fields the master changes in place, completed-task ring pointers,
 * each agent's and framework's info packed into bytes (one pack, no
 * allocation per field), copies of the few resource bags that change
 * (agent totals, offers); off the loop, the response tree, built exactly
 * as operator.c's builders build it (same messages, same order), and its
 * encoding.  So the bytes are the same as the on-loop answer, with one
 * exception noted at agent_usage().  What the tasks use is added up off
 * the loop from their resource bags, pinned like their Task messages.
 *
 * Only without an authorizer: filtering (master_auth.c) runs on the
 * built tree with approvers that belong to the loop thread, so with an
 * authorizer the calls keep the on-loop path in operator.c.
 */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "master/operator_int.h"
#include "resources/resources_int.h"

#define API_VERSION "1.0.0"

typedef struct v1_bytes {
  uint8_t *p; /* NULL: absent */
  size_t n;
} v1_bytes;

typedef struct v1_task {
  const Mesos__V1__Task *t;    /* pinned; only fields the master never changes are read */
  const mesos__resources *res; /* pinned; NULL once released */
  const void *agent;           /* the mesos__agent, as a key only */
  int32_t state, su_state;
  int has_su;
} v1_task;

typedef struct v1_exec {
  char *key;     /* "<framework id>/<executor id>", the agent's map key */
  v1_bytes info; /* ExecutorInfo */
} v1_exec;

typedef struct v1_offer {
  char *id, *fw_id, *agent_id, *hostname;
  mesos__resources res;
  int has_res;
} v1_offer;

typedef struct v1_agent {
  const void *key;
  char *id;
  int has_info_id;
  v1_bytes info;
  int active;
  double registered, reregistered;
  mesos__resources total, offered;
  int has_total;
  int has_deactivated, deactivated;
  v1_bytes drain;
  v1_exec *execs;
  size_t nexecs;
} v1_agent;

typedef struct v1_fw {
  char *id;
  v1_bytes info;
  int active;
  double registered, reregistered;
  v1_task *tasks;
  size_t ntasks;
  const Mesos__V1__Task **done;
  size_t ndone;
  v1_offer *offers;
  size_t noffers;
} v1_fw;

typedef struct v1_done_fw {
  v1_bytes info;
  double registered, unregistered;
  const Mesos__V1__Task **tasks;
  size_t ntasks;
} v1_done_fw;

struct mesos__v1snap {
  int call; /* Mesos__V1__Master__Call__Type, or SUBSCRIBE */
  double heartbeat_s;
  mesos__pb_arena *arena;
  int oom;
  v1_agent *agents;
  size_t nagents;
  v1_bytes *recovered;
  size_t nrecovered;
  v1_fw *fws;
  size_t nfws;
  v1_done_fw *done;
  size_t ndone;
};

/* ------------------------------------------------------------ on the loop */

static void *s_alloc(mesos__v1snap *s, size_t count, size_t size) {
  size_t n;
  if (!mesos__size_mul(&n, count ? count : 1, size)) {
    s->oom = 1;
    return NULL;
  }
  void *p = mesos__pb_arena_alloc(s->arena, n);
  if (p == NULL) {
    s->oom = 1;
    return NULL;
  }
  memset(p, 0, n);
  return p;
}

static char *s_str(mesos__v1snap *s, const char *src) {
  if (src == NULL) return NULL;
  size_t n = strlen(src) + 1;
  char *p = mesos__pb_arena_alloc_bytes(s->arena, n);
  if (p == NULL) {
    s->oom = 1;
    return NULL;
  }
  memcpy(p, src, n);
  return p;
}

/* The message packed into the arena (unpacked off the loop): one walk of
 * the message, no allocation per field. */
static v1_bytes s_pack(mesos__v1snap *s, const ProtobufCMessage *msg) {
  v1_bytes b = {NULL, 0};
  if (msg == NULL) return b;
  size_t n = protobuf_c_message_get_packed_size(msg);
  b.p = mesos__pb_arena_alloc_bytes(s->arena, n ? n : 1);
  if (b.p == NULL) {
    s->oom = 1;
    return b;
  }
  b.n = protobuf_c_message_pack(msg, b.p);
  return b;
}

static int want_agents(int call) {
  return call == MESOS__V1__MASTER__CALL__TYPE__GET_STATE ||
         call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE ||
         call == MESOS__V1__MASTER__CALL__TYPE__GET_AGENTS;
}

static int want_frameworks(int call) {
  return call == MESOS__V1__MASTER__CALL__TYPE__GET_STATE ||
         call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE ||
         call == MESOS__V1__MASTER__CALL__TYPE__GET_FRAMEWORKS;
}

static int want_tasks(int call) {
  return call == MESOS__V1__MASTER__CALL__TYPE__GET_STATE ||
         call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE ||
         call == MESOS__V1__MASTER__CALL__TYPE__GET_TASKS;
}

static int want_executors(int call) {
  return call == MESOS__V1__MASTER__CALL__TYPE__GET_STATE ||
         call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE ||
         call == MESOS__V1__MASTER__CALL__TYPE__GET_EXECUTORS;
}

static void snap_ring(mesos__v1snap *s, const Mesos__V1__Task ***out, size_t *n,
                      const mesos__op_tasks *ring) {
  *n = 0;
  if (ring == NULL || ring->n == 0) return;
  const Mesos__V1__Task **v = s_alloc(s, ring->n, sizeof *v);
  if (v == NULL) return;
  size_t first = ring->cap - ring->head < ring->n ? ring->cap - ring->head : ring->n;
  memcpy(v, ring->v + ring->head, first * sizeof *v);
  memcpy(v + first, ring->v, (ring->n - first) * sizeof *v);
  *out = v;
  *n = ring->n;
}

/* The framework's live tasks, walked with prefetches as in state.c. */
static void snap_tasks(mesos__v1snap *s, v1_fw *d, mesos__framework *fw) {
  size_t n = mesos__map_count(&fw->tasks);
  if (n == 0) return;
  d->tasks = s_alloc(s, n, sizeof *d->tasks);
  mesos__task **v = mesos__malloc(n * sizeof *v);
  if (v == NULL || d->tasks == NULL) {
    mesos__free(v);
    s->oom = 1;
    return;
  }
  size_t k = 0, it = 0;
  void *val;
  while (k < n && mesos__map_next(&fw->tasks, &it, NULL, &val)) v[k++] = val;
  enum { AHEAD = 8 };
  for (size_t i = 0; i < k; i++) {
    if (i + 2 * AHEAD < k) __builtin_prefetch(v[i + 2 * AHEAD]);
    if (i + AHEAD < k) __builtin_prefetch(v[i + AHEAD]->task);
    mesos__task *t = v[i];
    if (t->task == NULL) continue;
    v1_task *x = &d->tasks[d->ntasks++];
    x->t = t->task;
    x->res = !t->released && t->resources ? &t->resources->r : NULL;
    x->agent = t->agent;
    x->state = t->task->state;
    x->has_su = t->task->has_status_update_state;
    x->su_state = t->task->status_update_state;
  }
  mesos__free(v);
}

static void snap_frameworks(mesos_master *m, mesos__v1snap *s) {
  int fws = want_frameworks(s->call), tasks = want_tasks(s->call);
  size_t n = mesos__map_count(&m->frameworks);
  s->fws = s_alloc(s, n, sizeof *s->fws);
  size_t it = 0;
  void *v;
  while (s->fws && s->nfws < n && mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    mesos__framework *fw = v;
    v1_fw *d = &s->fws[s->nfws++];
    d->id = s_str(s, fw->id);
    snap_tasks(s, d, fw);
    if (tasks) snap_ring(s, &d->done, &d->ndone, mesos__op_completed_tasks(m, fw->id));
    if (!fws) continue;
    d->info = s_pack(s, fw->info ? &fw->info->base : NULL);
    d->active = fw->stream != NULL;
    d->registered = fw->registered_time;
    d->reregistered = fw->reregistered_time;
    size_t no = mesos__map_count(&fw->offers);
    if (no) d->offers = s_alloc(s, no, sizeof *d->offers);
    size_t oit = 0;
    void *ov;
    while (d->offers && d->noffers < no && mesos__map_next(&fw->offers, &oit, NULL, &ov)) {
      mesos__offer *o = ov;
      v1_offer *x = &d->offers[d->noffers++];
      x->id = s_str(s, o->id);
      x->fw_id = s_str(s, o->fw->id);
      x->agent_id = s_str(s, o->agent->id);
      x->hostname = s_str(s, o->agent->info->hostname);
      mesos__resources_init(&x->res);
      x->has_res = o->resources != NULL;
      if (o->resources && mesos__resources_copy(&x->res, &o->resources->r) != MESOS_OK) s->oom = 1;
    }
  }
  mesos__operator *op = m->op;
  if (op && op->done_n && (fws || tasks)) {
    s->done = s_alloc(s, op->done_n, sizeof *s->done);
    for (size_t i = 0; s->done && i < op->done_n; i++) {
      const mesos__op_done_fw *dn = &op->done[(op->done_head + i) % op->done_cap];
      v1_done_fw *d = &s->done[s->ndone++];
      if (fws) d->info = s_pack(s, dn->info ? &dn->info->base : NULL);
      d->registered = dn->registered_time;
      d->unregistered = dn->unregistered_time;
      if (tasks) snap_ring(s, &d->tasks, &d->ntasks, &dn->tasks);
    }
  }
}

static void snap_agents(mesos_master *m, mesos__v1snap *s) {
  int full = want_agents(s->call);
  size_t n = mesos__map_count(&m->agents);
  s->agents = s_alloc(s, n, sizeof *s->agents);
  if (s->agents == NULL) return;
  /* agent id -> index + 1, for the offers below. */
  mesos__map index;
  mesos__map_init(&index);
  size_t it = 0;
  void *v;
  while (s->nagents < n && mesos__map_next(&m->agents, &it, NULL, &v)) {
    mesos__agent *a = v;
    v1_agent *d = &s->agents[s->nagents++];
    d->key = a;
    d->id = s_str(s, a->id);
    d->has_info_id = a->info && a->info->id;
    mesos__resources_init(&d->total);
    mesos__resources_init(&d->offered);
    if (full) {
      d->info = s_pack(s, a->info ? &a->info->base : NULL);
      d->active = a->stream != NULL;
      d->registered = a->registered_time;
      d->reregistered = a->reregistered_time;
      d->has_total = a->total != NULL;
      if (a->total && mesos__resources_copy(&d->total, &a->total->r) != MESOS_OK) s->oom = 1;
      Mesos__V1__Master__Response__GetAgents__Agent tmp =
          MESOS__V1__MASTER__RESPONSE__GET_AGENTS__AGENT__INIT;
      mesos__op_agent_drain_view(m, a, &tmp);
      d->has_deactivated = tmp.has_deactivated;
      d->deactivated = tmp.deactivated;
      d->drain = s_pack(s, tmp.drain_info ? &tmp.drain_info->base : NULL);
      /* Only needed to place offers (none, mostly: no map then). */
      if (mesos__map_count(&m->offers) &&
          mesos__map_put(&index, a->id, (void *)(uintptr_t)s->nagents) != MESOS_OK)
        s->oom = 1;
    }
    if (want_executors(s->call)) {
      size_t ne = mesos__map_count(&a->executors);
      if (ne) d->execs = s_alloc(s, ne, sizeof *d->execs);
      size_t k = 0;
      const char *key;
      void *ev;
      while (d->execs && d->nexecs < ne && mesos__map_next(&a->executors, &k, &key, &ev)) {
        v1_exec *x = &d->execs[d->nexecs++];
        x->key = s_str(s, key);
        x->info = s_pack(s, &((Mesos__V1__ExecutorInfo *)ev)->base);
      }
    }
  }
  if (full) {
    /* Offered, per agent in the master's offer table order (as
     * operator.c's agent_offered adds them up). */
    it = 0;
    while (mesos__map_next(&m->offers, &it, NULL, &v)) {
      mesos__offer *o = v;
      uintptr_t i = o->resources ? (uintptr_t)mesos__map_get(&index, o->agent->id) : 0;
      if (i && mesos__resources_add_all(&s->agents[i - 1].offered, &o->resources->r) != MESOS_OK)
        s->oom = 1;
    }
    /* Admitted agents that have not come back since a master restart. */
    const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
    if (reg && reg->n_agents) {
      s->recovered = s_alloc(s, reg->n_agents, sizeof *s->recovered);
      for (size_t i = 0; s->recovered && i < reg->n_agents; i++) {
        const Mesos__V1__AgentInfo *ai = reg->agents[i]->info;
        if (ai && ai->id && ai->id->value && !mesos__map_get(&m->agents, ai->id->value))
          s->recovered[s->nrecovered++] = s_pack(s, &ai->base);
      }
    }
  }
  mesos__map_free(&index);
}

mesos__v1snap *mesos__v1snap_take(mesos_master *m, int call, mesos_status *st) {
  mesos__v1snap *s = MESOS__NEW(mesos__v1snap);
  if (s == NULL || (s->arena = mesos__pb_arena_new((size_t)1 << 20)) == NULL) {
    mesos__free(s);
    *st = MESOS_ENOMEM;
    return NULL;
  }
  s->call = call;
  s->heartbeat_s = (double)m->heartbeat_ms / 1000.0;
  if (want_agents(call) || want_executors(call)) snap_agents(m, s);
  snap_frameworks(m, s);
  *st = s->oom ? MESOS_ENOMEM : MESOS_OK;
  return s;
}

void mesos__v1snap_free(mesos__v1snap *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->nagents; i++) {
    mesos__resources_free(&s->agents[i].total);
    mesos__resources_free(&s->agents[i].offered);
  }
  for (size_t i = 0; i < s->nfws; i++)
    for (size_t k = 0; k < s->fws[i].noffers; k++) mesos__resources_free(&s->fws[i].offers[k].res);
  mesos__pb_arena_free(s->arena);
  mesos__free(s);
}

/* ------------------------------------------------------------ off the loop */

static void *unpack(mesos__op_scratch *sc, const ProtobufCMessageDescriptor *d, v1_bytes b) {
  if (b.p == NULL) return NULL;
  ProtobufCMessage *msg = NULL;
  if (mesos__pb_unpack(d, b.p, b.n, 0, 0, &msg, NULL) != MESOS_OK) {
    sc->oom = 1;
    return NULL;
  }
  mesos__op_own(sc, msg);
  return msg;
}

static Mesos__V1__TimeInfo *time_info(mesos__op_scratch *s, double seconds) {
  if (!(seconds > 0)) return NULL;
  Mesos__V1__TimeInfo *t = mesos__op_alloc(s, sizeof *t);
  if (t == NULL) return NULL;
  mesos__v1__time_info__init(t);
  t->nanoseconds = (int64_t)(seconds * 1e9);
  return t;
}

/* mesos__op_resources for a bare bag. */
static Mesos__V1__Resource **res_protos(mesos__op_scratch *s, const mesos__resources *r,
                                        size_t *n) {
  *n = 0;
  if (r == NULL || r->n == 0) return NULL;
  Mesos__V1__Resource **v = NULL;
  size_t k = 0;
  if (mesos__resources_to_protos(r, &v, &k, NULL) != MESOS_OK) {
    s->oom = 1;
    return NULL;
  }
  Mesos__V1__Resource **out = mesos__op_alloc(s, k * sizeof *out);
  for (size_t i = 0; i < k; i++) {
    mesos__op_own(s, v[i]);
    if (out) out[i] = v[i];
  }
  mesos__free(v);
  if (out) *n = k;
  return out;
}

/* A live task as the response shows it: the pinned message's fields with
 * the state fields of the snapshot.  Copied in ranges that leave out the
 * state fields, which the loop may be writing meanwhile. */
static Mesos__V1__Task *task_view(mesos__op_scratch *sc, const v1_task *x) {
  Mesos__V1__Task *c = mesos__op_alloc(sc, sizeof *c);
  if (c == NULL) return NULL;
  const char *src = (const char *)x->t;
  char *dst = (char *)c;
  size_t a = offsetof(Mesos__V1__Task, state);
  size_t b = offsetof(Mesos__V1__Task, n_resources);
  size_t cc = offsetof(Mesos__V1__Task, has_status_update_state);
  size_t d = offsetof(Mesos__V1__Task, has_status_update_uuid);
  memcpy(dst, src, a);
  memcpy(dst + b, src + b, cc - b);
  memcpy(dst + d, src + d, sizeof *c - d);
  c->state = (Mesos__V1__TaskState)x->state;
  c->has_status_update_state = x->has_su;
  c->status_update_state = (Mesos__V1__TaskState)x->su_state;
  return c;
}

static Mesos__V1__Master__Response__GetTasks *get_tasks(mesos__op_scratch *sc,
                                                       const mesos__v1snap *s) {
  Mesos__V1__Master__Response__GetTasks *r = mesos__op_alloc(sc, sizeof *r);
  if (r == NULL) return NULL;
  mesos__v1__master__response__get_tasks__init(r);
  size_t live = 0, done = 0;
  for (size_t i = 0; i < s->nfws; i++) {
    live += s->fws[i].ntasks;
    done += s->fws[i].ndone;
  }
  for (size_t i = 0; i < s->ndone; i++) done += s->done[i].ntasks;
  r->tasks = mesos__op_alloc(sc, (live ? live : 1) * sizeof *r->tasks);
  r->completed_tasks = mesos__op_alloc(sc, (done ? done : 1) * sizeof *r->completed_tasks);
  if (r->tasks == NULL || r->completed_tasks == NULL) return NULL;
  for (size_t i = 0; i < s->nfws; i++) {
    const v1_fw *f = &s->fws[i];
    for (size_t k = 0; k < f->ntasks; k++) {
      Mesos__V1__Task *t = task_view(sc, &f->tasks[k]);
      if (t) r->tasks[r->n_tasks++] = t;
    }
    for (size_t k = 0; k < f->ndone; k++)
      r->completed_tasks[r->n_completed_tasks++] = (Mesos__V1__Task *)f->done[k];
  }
  for (size_t i = 0; i < s->ndone; i++)
    for (size_t k = 0; k < s->done[i].ntasks; k++)
      r->completed_tasks[r->n_completed_tasks++] = (Mesos__V1__Task *)s->done[i].tasks[k];
  return r;
}

static Mesos__V1__Master__Response__GetExecutors__Executor *executor_entry(
    mesos__op_scratch *s, Mesos__V1__ExecutorInfo *ei, Mesos__V1__AgentID *agent_id) {
  Mesos__V1__Master__Response__GetExecutors__Executor *e = mesos__op_alloc(s, sizeof *e);
  if (e == NULL) return NULL;
  mesos__v1__master__response__get_executors__executor__init(e);
  e->executor_info = ei;
  e->agent_id = agent_id;
  return e;
}

/* operator.c's get_executors over the snapshot: the agents' executors
 * first, then an id-only entry per (agent, framework, executor) that live
 * tasks name and nothing listed yet. */
static Mesos__V1__Master__Response__GetExecutors *get_executors(mesos__op_scratch *sc,
                                                               const mesos__v1snap *s) {
  Mesos__V1__Master__Response__GetExecutors *r = mesos__op_alloc(sc, sizeof *r);
  if (r == NULL) return NULL;
  mesos__v1__master__response__get_executors__init(r);
  mesos__map seen;
  mesos__map_init(&seen);
  size_t cap = 0;
  for (size_t i = 0; i < s->nfws; i++) cap += s->fws[i].ntasks;
  for (size_t i = 0; i < s->nagents; i++) cap += s->agents[i].nexecs;
  r->executors = mesos__op_alloc(sc, (cap ? cap : 1) * sizeof *r->executors);
  char key[1024];
  for (size_t i = 0; r->executors && !sc->oom && i < s->nagents; i++) {
    const v1_agent *a = &s->agents[i];
    Mesos__V1__AgentID *aid = NULL;
    for (size_t k = 0; k < a->nexecs && !sc->oom; k++) {
      const char *mkey = a->execs[k].key;
      Mesos__V1__ExecutorInfo *ei =
          unpack(sc, &mesos__v1__executor_info__descriptor, a->execs[k].info);
      const char *slash = mkey ? strchr(mkey, '/') : NULL;
      if (slash == NULL || ei == NULL || ei->executor_id == NULL ||
          ei->executor_id->value == NULL || !a->has_info_id)
        continue;
      int flen = (int)(slash - mkey);
      snprintf(key, sizeof key, "%s\n%.*s\n%s", a->id, flen, mkey, ei->executor_id->value);
      if (mesos__map_get(&seen, key)) continue;
      if (ei->framework_id == NULL) {
        Mesos__V1__FrameworkID *fid = mesos__op_alloc(sc, sizeof *fid);
        char *fv = mesos__op_alloc(sc, (size_t)flen + 1);
        if (!fid || !fv) {
          sc->oom = 1;
          break;
        }
        mesos__v1__framework_id__init(fid);
        memcpy(fv, mkey, (size_t)flen);
        fv[flen] = '\0';
        fid->value = fv;
        ei->framework_id = fid;
      }
      if (aid == NULL) {
        aid = mesos__op_alloc(sc, sizeof *aid);
        if (aid == NULL) break;
        mesos__v1__agent_id__init(aid);
        aid->value = a->id;
      }
      Mesos__V1__Master__Response__GetExecutors__Executor *e = executor_entry(sc, ei, aid);
      if (e == NULL || mesos__map_put(&seen, key, (void *)a) != MESOS_OK) {
        sc->oom = 1;
        break;
      }
      r->executors[r->n_executors++] = e;
    }
  }
  for (size_t i = 0; r->executors && !sc->oom && i < s->nfws; i++) {
    const v1_fw *f = &s->fws[i];
    for (size_t k = 0; k < f->ntasks; k++) {
      const Mesos__V1__Task *t = f->tasks[k].t;
      if (t->executor_id == NULL || t->executor_id->value == NULL) continue;
      /* The task's agent id is the record's: the master sets it to the
       * agent's id when it creates or adopts the task. */
      snprintf(key, sizeof key, "%s\n%s\n%s", t->agent_id ? t->agent_id->value : "", f->id,
               t->executor_id->value);
      if (mesos__map_get(&seen, key)) continue;
      if (mesos__map_put(&seen, key, (void *)t) != MESOS_OK) {
        sc->oom = 1;
        break;
      }
      Mesos__V1__ExecutorInfo *ei = mesos__op_alloc(sc, sizeof *ei);
      if (ei == NULL) break;
      mesos__v1__executor_info__init(ei);
      ei->executor_id = t->executor_id;
      ei->framework_id = t->framework_id;
      Mesos__V1__Master__Response__GetExecutors__Executor *e =
          executor_entry(sc, ei, t->agent_id);
      if (e == NULL) break;
      r->executors[r->n_executors++] = e;
    }
  }
  mesos__map_free(&seen);
  return r;
}

static Mesos__V1__Offer *offer_proto(mesos__op_scratch *s, const v1_offer *o) {
  Mesos__V1__Offer *p = mesos__op_alloc(s, sizeof *p);
  Mesos__V1__OfferID *oid = mesos__op_alloc(s, sizeof *oid);
  Mesos__V1__FrameworkID *fid = mesos__op_alloc(s, sizeof *fid);
  Mesos__V1__AgentID *aid = mesos__op_alloc(s, sizeof *aid);
  if (!p || !oid || !fid || !aid) return NULL;
  mesos__v1__offer__init(p);
  mesos__v1__offer_id__init(oid);
  mesos__v1__framework_id__init(fid);
  mesos__v1__agent_id__init(aid);
  oid->value = o->id;
  fid->value = o->fw_id;
  aid->value = o->agent_id;
  p->id = oid;
  p->framework_id = fid;
  p->agent_id = aid;
  p->hostname = o->hostname;
  p->resources = o->has_res ? res_protos(s, &o->res, &p->n_resources) : NULL;
  return p;
}

static Mesos__V1__Master__Response__GetFrameworks *get_frameworks(mesos__op_scratch *sc,
                                                                 const mesos__v1snap *s) {
  Mesos__V1__Master__Response__GetFrameworks *r = mesos__op_alloc(sc, sizeof *r);
  if (r == NULL) return NULL;
  mesos__v1__master__response__get_frameworks__init(r);
  r->frameworks = mesos__op_alloc(sc, (s->nfws ? s->nfws : 1) * sizeof *r->frameworks);
  for (size_t i = 0; r->frameworks && i < s->nfws; i++) {
    const v1_fw *fw = &s->fws[i];
    Mesos__V1__Master__Response__GetFrameworks__Framework *f = mesos__op_alloc(sc, sizeof *f);
    if (f == NULL) break;
    mesos__v1__master__response__get_frameworks__framework__init(f);
    f->framework_info = unpack(sc, &mesos__v1__framework_info__descriptor, fw->info);
    f->active = fw->active;
    f->connected = fw->active;
    f->recovered = 0;
    f->registered_time = time_info(sc, fw->registered);
    f->reregistered_time = time_info(sc, fw->reregistered);
    if (fw->noffers) {
      f->offers = mesos__op_alloc(sc, fw->noffers * sizeof *f->offers);
      for (size_t k = 0; f->offers && k < fw->noffers; k++) {
        Mesos__V1__Offer *p = offer_proto(sc, &fw->offers[k]);
        if (p) f->offers[f->n_offers++] = p;
      }
    }
    /* Used and offered, added up in the order operator.c's sum_usage
     * walks them (the framework's tasks, its offers). */
    mesos__resources used, offered;
    mesos__resources_init(&used);
    mesos__resources_init(&offered);
    for (size_t k = 0; k < fw->ntasks; k++)
      if (fw->tasks[k].res && mesos__resources_add_all(&used, fw->tasks[k].res) != MESOS_OK)
        sc->oom = 1;
    for (size_t k = 0; k < fw->noffers; k++)
      if (fw->offers[k].has_res && mesos__resources_add_all(&offered, &fw->offers[k].res) != MESOS_OK)
        sc->oom = 1;
    f->allocated_resources = res_protos(sc, &used, &f->n_allocated_resources);
    f->offered_resources = res_protos(sc, &offered, &f->n_offered_resources);
    mesos__resources_free(&used);
    mesos__resources_free(&offered);
    r->frameworks[r->n_frameworks++] = f;
  }
  if (s->ndone) {
    r->completed_frameworks = mesos__op_alloc(sc, s->ndone * sizeof *r->completed_frameworks);
    for (size_t i = 0; r->completed_frameworks && i < s->ndone; i++) {
      const v1_done_fw *d = &s->done[i];
      Mesos__V1__Master__Response__GetFrameworks__Framework *f = mesos__op_alloc(sc, sizeof *f);
      if (f == NULL) break;
      mesos__v1__master__response__get_frameworks__framework__init(f);
      f->framework_info = unpack(sc, &mesos__v1__framework_info__descriptor, d->info);
      f->registered_time = time_info(sc, d->registered);
      f->unregistered_time = time_info(sc, d->unregistered);
      r->completed_frameworks[r->n_completed_frameworks++] = f;
    }
  }
  return r;
}

static size_t ptr_hash(const void *p, size_t mask) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x & mask;
}

/* What each agent's live tasks use.  Added up framework by framework (the
 * order of the snapshot), where operator.c walked each agent's own task
 * table: for tasks of different resource kinds the entries can come out
 * in another order (the same resources); for tasks of one shape, as in
 * the benchmark and the tests, the bytes are the same.  `used` has one
 * bag per agent. */
static void agent_usage(const mesos__v1snap *s, mesos__resources *used, int *oom) {
  if (s->nagents == 0) return;
  size_t cap = 16;
  while (cap < s->nagents * 2) cap <<= 1;
  size_t mask = cap - 1;
  uint32_t *slots = mesos__calloc(cap, sizeof *slots);
  if (slots == NULL) {
    *oom = 1;
    return;
  }
  for (size_t i = 0; i < s->nagents; i++) {
    size_t h = ptr_hash(s->agents[i].key, mask);
    while (slots[h]) h = (h + 1) & mask;
    slots[h] = (uint32_t)i + 1;
  }
  for (size_t f = 0; f < s->nfws; f++)
    for (size_t k = 0; k < s->fws[f].ntasks; k++) {
      const v1_task *x = &s->fws[f].tasks[k];
      if (x->res == NULL) continue;
      size_t h = ptr_hash(x->agent, mask);
      while (slots[h] && s->agents[slots[h] - 1].key != x->agent) h = (h + 1) & mask;
      if (slots[h] && mesos__resources_add_all(&used[slots[h] - 1], x->res) != MESOS_OK) *oom = 1;
    }
  mesos__free(slots);
}

static Mesos__V1__Master__Response__GetAgents *get_agents(mesos__op_scratch *sc,
                                                         const mesos__v1snap *s) {
  Mesos__V1__Master__Response__GetAgents *r = mesos__op_alloc(sc, sizeof *r);
  if (r == NULL) return NULL;
  mesos__v1__master__response__get_agents__init(r);
  r->agents = mesos__op_alloc(sc, (s->nagents ? s->nagents : 1) * sizeof *r->agents);
  mesos__resources *used = mesos__calloc(s->nagents ? s->nagents : 1, sizeof *used);
  if (r->agents == NULL || used == NULL) {
    mesos__free(used);
    sc->oom = 1;
    return r;
  }
  agent_usage(s, used, &sc->oom);
  for (size_t i = 0; i < s->nagents; i++) {
    const v1_agent *a = &s->agents[i];
    Mesos__V1__Master__Response__GetAgents__Agent *ag = mesos__op_alloc(sc, sizeof *ag);
    if (ag == NULL) break;
    mesos__v1__master__response__get_agents__agent__init(ag);
    ag->agent_info = unpack(sc, &mesos__v1__agent_info__descriptor, a->info);
    ag->active = a->active;
    ag->version = (char *)API_VERSION;
    char pid[320];
    snprintf(pid, sizeof pid, "slave(1)@%s",
             ag->agent_info && ag->agent_info->hostname ? ag->agent_info->hostname : "");
    ag->pid = mesos__pb_arena_alloc_bytes(sc->arena, strlen(pid) + 1);
    if (ag->pid) memcpy(ag->pid, pid, strlen(pid) + 1);
    ag->registered_time = time_info(sc, a->registered);
    ag->reregistered_time = time_info(sc, a->reregistered);
    ag->total_resources =
        a->has_total ? res_protos(sc, &a->total, &ag->n_total_resources) : NULL;
    ag->allocated_resources = res_protos(sc, &used[i], &ag->n_allocated_resources);
    ag->offered_resources = res_protos(sc, &a->offered, &ag->n_offered_resources);
    ag->has_deactivated = a->has_deactivated;
    ag->deactivated = a->deactivated;
    ag->drain_info = unpack(sc, &mesos__v1__drain_info__descriptor, a->drain);
    r->agents[r->n_agents++] = ag;
  }
  for (size_t i = 0; i < s->nagents; i++) mesos__resources_free(&used[i]);
  mesos__free(used);
  if (s->nrecovered) {
    r->recovered_agents = mesos__op_alloc(sc, s->nrecovered * sizeof *r->recovered_agents);
    for (size_t i = 0; r->recovered_agents && i < s->nrecovered; i++) {
      Mesos__V1__AgentInfo *ai = unpack(sc, &mesos__v1__agent_info__descriptor, s->recovered[i]);
      if (ai) r->recovered_agents[r->n_recovered_agents++] = ai;
    }
  }
  return r;
}

static Mesos__V1__Master__Response__GetState *get_state(mesos__op_scratch *sc,
                                                       const mesos__v1snap *s) {
  Mesos__V1__Master__Response__GetState *r = mesos__op_alloc(sc, sizeof *r);
  if (r == NULL) return NULL;
  mesos__v1__master__response__get_state__init(r);
  r->get_tasks = get_tasks(sc, s);
  r->get_executors = get_executors(sc, s);
  r->get_frameworks = get_frameworks(sc, s);
  r->get_agents = get_agents(sc, s);
  return r;
}

/* One RecordIO record ("<length>\n<bytes>") of `msg` appended to `out`.
 * Not mesos__encode_event_record: that one caps an event at what a
 * scheduler stream may carry, and SUBSCRIBED is the whole cluster. */
static mesos_status encode_record(const ProtobufCMessage *msg, mesos__media media,
                                  mesos__buf *out) {
  mesos__buf body = MESOS__BUF_INIT(MESOS__OP_RESPONSE_MAX);
  mesos_status st = media == MESOS__MEDIA_PROTOBUF ? mesos__pb_pack_buf(msg, &body, NULL)
                                                   : mesos__json_encode(msg, &body, NULL);
  if (st == MESOS_OK) st = mesos__buf_printf(out, "%zu\n", body.len);
  if (st == MESOS_OK) st = mesos__buf_append(out, body.data ? body.data : "", body.len);
  mesos__buf_free(&body);
  return st;
}

mesos_status mesos__v1snap_render(const mesos__v1snap *s, mesos__media media, mesos__buf *out) {
  mesos__op_scratch sc;
  mesos__op_scratch_init(&sc, (size_t)1 << 20);
  Mesos__V1__Master__Response r = MESOS__V1__MASTER__RESPONSE__INIT;
  r.has_type = 1;
  switch (s->call) {
    case MESOS__V1__MASTER__CALL__TYPE__GET_AGENTS:
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_AGENTS;
      r.get_agents = get_agents(&sc, s);
      break;
    case MESOS__V1__MASTER__CALL__TYPE__GET_FRAMEWORKS:
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_FRAMEWORKS;
      r.get_frameworks = get_frameworks(&sc, s);
      break;
    case MESOS__V1__MASTER__CALL__TYPE__GET_EXECUTORS:
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_EXECUTORS;
      r.get_executors = get_executors(&sc, s);
      break;
    case MESOS__V1__MASTER__CALL__TYPE__GET_TASKS:
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_TASKS;
      r.get_tasks = get_tasks(&sc, s);
      break;
    default:
      r.type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_STATE;
      r.get_state = get_state(&sc, s);
      break;
  }
  mesos_status st = sc.oom ? MESOS_ENOMEM : MESOS_OK;
  if (st == MESOS_OK && s->call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE) {
    /* The operator stream's first event, as one RecordIO record. */
    Mesos__V1__Master__Event ev = MESOS__V1__MASTER__EVENT__INIT;
    Mesos__V1__Master__Event__Subscribed sub = MESOS__V1__MASTER__EVENT__SUBSCRIBED__INIT;
    sub.get_state = r.get_state;
    sub.has_heartbeat_interval_seconds = 1;
    sub.heartbeat_interval_seconds = s->heartbeat_s;
    ev.has_type = 1;
    ev.type = MESOS__V1__MASTER__EVENT__TYPE__SUBSCRIBED;
    ev.subscribed = &sub;
    st = sub.get_state ? encode_record(&ev.base, media, out) : MESOS_ENOMEM;
  } else if (st == MESOS_OK) {
    st = media == MESOS__MEDIA_PROTOBUF ? mesos__pb_pack_buf(&r.base, out, NULL)
                                        : mesos__json_encode(&r.base, out, NULL);
  }
  mesos__op_scratch_free(&sc);
  return st;
}

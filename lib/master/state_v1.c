/*
 * The v1 operator API's state calls -- GET_STATE, GET_AGENTS,
 * GET_FRAMEWORKS, GET_TASKS, GET_EXECUTORS -- and the operator stream's
 * SUBSCRIBED event, written off the loop thread (issue 6).  At 20,000
 * agents and 400,000 tasks a GET_STATE is 58 MB of protobuf or 129 MB of
 * JSON and took 2-4 s of the loop when operator.c built and encoded it
 * there.
 *
 * The same split as /state (state.c, which runs the batches, the thread
 * pool and the streaming): on the loop, a snapshot of what the response
 * needs -- the tasks as pointers to their (pinned) Task messages plus the
 * state fields the master changes in place, completed-task ring pointers,
 * each agent's and framework's info packed into bytes (one pack, no
 * allocation per field), copies of the few resource bags that change
 * (agent totals, offers); off the loop, the response written straight
 * from the snapshot (below).  What the tasks use is added up off the loop
 * from their resource bags, pinned like their Task messages.
 *
 * With an authorizer, state.c sets the request principal's view on the
 * master while the snapshot is taken (batches are per principal), and the
 * snapshot marks what it may not view, as operator.c's tree filter
 * (master_auth.c) dropped it: frameworks by VIEW_FRAMEWORK, tasks by
 * VIEW_TASK of their user (else their framework's), executors by
 * VIEW_EXECUTOR of their command's user (else their framework's).
 * Agents are all listed; their resources (agent_info's, total, allocated,
 * offered) only where VIEW_ROLE lets the principal see every role one
 * names (master_auth.h: the snapshot's role table, asked on the loop,
 * read by the writer).  The decisions are made on the loop, where the
 * approvers belong; the writer skips what is marked.
 * One difference from that filter: a completed framework's task without a
 * user of its own is decided on that framework's user also in GET_TASKS
 * (the tree's GET_TASKS looked only at live frameworks, so such a task
 * counted as "any user" there and as its framework's in GET_STATE).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "codec/base64.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "master/master_auth.h"
#include "master/operator_int.h"
#include "resources/resources_int.h"

#define API_VERSION "1.0.0"

typedef struct v1_bytes {
  uint8_t *p; /* NULL: absent */
  size_t n;
} v1_bytes;

typedef struct v1_task {
  const mesos__task_body *b;   /* pinned, immutable (task_body.h) */
  const mesos__resources *res; /* pinned; NULL once released */
  const void *agent;           /* the mesos__agent, as a key only */
  int32_t state, su_state;
  uint8_t has_su;
  uint8_t hidden; /* not for the request's principal (still counted in usage) */
} v1_task;

typedef struct v1_exec {
  char *key;     /* "<framework id>/<executor id>", the agent's map key */
  char *exec_id; /* ExecutorInfo.executor_id.value (NULL: none) */
  int has_fid;   /* ExecutorInfo.framework_id is set */
  int hidden;    /* not for the request's principal */
  v1_bytes info; /* ExecutorInfo */
} v1_exec;

typedef struct v1_offer {
  char *id, *fw_id, *agent_id, *hostname;
  mesos__resources res;
  int has_res;
} v1_offer;

typedef struct v1_agent {
  const void *key;
  uint64_t gen;          /* cache mode: the record's generation */
  mesos__frag *hit;      /* cache mode: its element, cached */
  mesos__frag **fresh;   /* cache mode: where the render leaves the element it made */
  /* What its live tasks use: their resource bags (pinned, like the tasks'
   * messages), added up off the loop in the agent's own task order. */
  const mesos__resources **used;
  size_t nused;
  char *id;
  char *hostname; /* AgentInfo.hostname, for the pid */
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
  /* VIEW_ROLE (the snapshot's table, NULL: show every resource). */
  const mesos__auth_roles *roles;
} v1_agent;

typedef struct v1_fw {
  const void *key;
  uint64_t gen;
  /* Cache mode: every fragment the call needs was cached (nothing else of
   * the framework is in the snapshot then), or where the render leaves the
   * ones it made. */
  int cached;
  mesos__frag *hit[MESOS__FRAG_SLOTS];
  mesos__frag **fresh;
  char *id;
  v1_bytes info;
  int hidden;      /* the framework's entry is not for the principal */
  int exec_hidden; /* nor executors known only from its tasks */
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
  int hidden;
  double registered, unregistered;
  const Mesos__V1__Task **tasks;
  size_t ntasks;
} v1_done_fw;

struct mesos__v1snap {
  int call; /* Mesos__V1__Master__Call__Type, or SUBSCRIBE */
  /* Cache mode (mesos__v1snap_take_cached): the cache and the one media
   * the snapshot is rendered in. */
  struct mesos__state_srv *cache;
  mesos__media media;
  double heartbeat_s;
  /* Bump allocation in state.c's pooled blocks (a fresh 1 MiB arena
   * block per snapshot cost a page fault per 4 KiB on the loop); what
   * does not fit a quarter block is allocated on its own. */
  struct mesos__state_srv *sv;
  char **blocks;
  size_t nblocks, capblocks;
  void **big;
  size_t nbig, capbig;
  char *cur;
  size_t left;
  int oom;
  v1_agent *agents;
  size_t nagents;
  v1_bytes *recovered;
  size_t nrecovered;
  v1_fw *fws;
  size_t nfws;
  v1_done_fw *done;
  size_t ndone;
  mesos__auth_roles *roles; /* VIEW_ROLE for agents' resources (master_auth.h) */
};

/* ------------------------------------------------------------ on the loop */

static int push_ptr(void ***v, size_t *n, size_t *cap, void *p) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 16;
    void **g = mesos__realloc(*v, c * sizeof *g);
    if (g == NULL) return 0;
    *v = g;
    *cap = c;
  }
  (*v)[(*n)++] = p;
  return 1;
}

/* n bytes aligned to 16, or NULL. */
static void *s_get(mesos__v1snap *s, size_t n) {
  size_t pad = (16 - ((uintptr_t)s->cur & 15)) & 15;
  if (n > MESOS__STATE_BLOCK / 4) {
    void *p = mesos__malloc(n ? n : 1);
    if (p && !push_ptr(&s->big, &s->nbig, &s->capbig, p)) {
      mesos__free(p);
      p = NULL;
    }
    return p;
  }
  if (s->cur == NULL || n + pad > s->left) {
    char *b = mesos__state_block_get(s->sv);
    if (b && !push_ptr((void ***)&s->blocks, &s->nblocks, &s->capblocks, b)) {
      mesos__state_block_put(s->sv, b, MESOS__STATE_BLOCK);
      b = NULL;
    }
    if (b == NULL) return NULL;
    s->cur = b;
    s->left = MESOS__STATE_BLOCK;
    pad = 0;
  }
  char *p = s->cur + pad;
  s->cur += pad + n;
  s->left -= pad + n;
  return p;
}

static void *s_alloc(mesos__v1snap *s, size_t count, size_t size) {
  size_t n;
  if (!mesos__size_mul(&n, count ? count : 1, size)) {
    s->oom = 1;
    return NULL;
  }
  void *p = s_get(s, n);
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
  char *p = s_get(s, n);
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
  b.p = s_get(s, n ? n : 1);
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

/* The ring's Task pointers, oldest first; with a view set (an
 * authorizer), only the tasks its principal may see (VIEW_TASK by the
 * task's user, else `fw_user`, its framework's). */
static void snap_ring(mesos_master *m, mesos__v1snap *s, const Mesos__V1__Task ***out,
                      size_t *n, const mesos__op_tasks *ring, const char *fw_user) {
  *n = 0;
  if (ring == NULL || ring->n == 0) return;
  const Mesos__V1__Task **v = s_alloc(s, ring->n, sizeof *v);
  if (v == NULL) return;
  size_t first = ring->cap - ring->head < ring->n ? ring->cap - ring->head : ring->n;
  memcpy(v, ring->v + ring->head, first * sizeof *v);
  memcpy(v + first, ring->v, (ring->n - first) * sizeof *v);
  *out = v;
  *n = ring->n;
  if (m->view == NULL) return;
  size_t kept = 0;
  for (size_t i = 0; i < ring->n; i++)
    if (mesos__auth_view_task(m->view, v[i]->user ? v[i]->user : fw_user)) v[kept++] = v[i];
  *n = kept;
}

/* The framework's live tasks, walked with prefetches as in state.c. */
static void snap_tasks(mesos_master *m, mesos__v1snap *s, v1_fw *d, mesos__framework *fw) {
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
  /* A hidden framework's tasks are hidden too (as the tree filter does). */
  int fw_hidden = m->view && !mesos__master_auth_sees_framework(m, fw);
  enum { AHEAD = 8 };
  for (size_t i = 0; i < k; i++) {
    if (i + 2 * AHEAD < k) __builtin_prefetch(v[i + 2 * AHEAD]);
    if (i + AHEAD < k) __builtin_prefetch(v[i + AHEAD]->body);
    mesos__task *t = v[i];
    if (t->body == NULL) continue;
    v1_task *x = &d->tasks[d->ntasks++];
    x->b = t->body;
    x->res = !t->released && t->resources ? &t->resources->r : NULL;
    x->agent = t->agent;
    x->state = t->state;
    x->has_su = t->has_su_state;
    x->su_state = t->su_state;
    x->hidden = fw_hidden || (m->view && !mesos__master_auth_sees_task(m, fw, t));
  }
  mesos__free(v);
}

/* The fragment slot of `base` (a JSON slot) in the snapshot's media. */
static int slot_of(const mesos__v1snap *s, int base) {
  return base + (s->media == MESOS__MEDIA_PROTOBUF ? 1 : 0);
}

/* Cache mode: whether every fragment of the framework the call needs is
 * cached (then taken into d->hit); else none is kept and d->fresh is set
 * up for the ones the render makes. */
static int fw_from_cache(mesos__v1snap *s, v1_fw *d, mesos__framework *fw) {
  int need[4], n = 0;
  if (want_tasks(s->call)) {
    need[n++] = slot_of(s, MESOS__FRAG_V1_TASKS_JSON);
    need[n++] = slot_of(s, MESOS__FRAG_V1_DONE_JSON);
  }
  if (want_frameworks(s->call)) need[n++] = slot_of(s, MESOS__FRAG_V1_ENTRY_JSON);
  if (want_executors(s->call)) need[n++] = MESOS__FRAG_V1_EXECS;
  double stamp[3] = {fw->stream != NULL, fw->registered_time, fw->reregistered_time};
  d->key = fw;
  d->gen = mesos__frag_gen(s->cache, fw, &fw->state_gen, stamp);
  int all = 1;
  for (int i = 0; i < n; i++)
    if ((d->hit[need[i]] = mesos__frag_get(s->cache, fw, d->gen, need[i])) == NULL) all = 0;
  if (all) return d->cached = 1;
  for (int i = 0; i < MESOS__FRAG_SLOTS; i++) {
    mesos__frag_unref(d->hit[i]);
    d->hit[i] = NULL;
  }
  d->fresh = s_alloc(s, MESOS__FRAG_SLOTS, sizeof *d->fresh);
  return 0;
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
    if (s->cache && fw_from_cache(s, d, fw)) continue;
    const char *user = fw->info ? fw->info->user : NULL;
    snap_tasks(m, s, d, fw);
    if (tasks) snap_ring(m, s, &d->done, &d->ndone, mesos__op_completed_tasks(m, fw->id), user);
    /* Filtered as operator.c's tree was: the framework's entry by
     * VIEW_FRAMEWORK, executors only its tasks name by VIEW_EXECUTOR of
     * its user (they have no command). */
    d->hidden = m->view && !(fw->info && mesos__auth_view_framework(m->view, user));
    d->exec_hidden = m->view && (d->hidden || !mesos__auth_view_executor(m->view, user));
    /* A hidden framework's tasks are hidden too (the live ones in
     * snap_tasks). */
    if (d->hidden) d->ndone = 0;
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
      const char *user = dn->info ? dn->info->user : NULL;
      d->hidden = m->view && !(dn->info && mesos__auth_view_framework(m->view, user));
      if (fws) d->info = s_pack(s, dn->info ? &dn->info->base : NULL);
      d->registered = dn->registered_time;
      d->unregistered = dn->unregistered_time;
      if (tasks) snap_ring(m, s, &d->tasks, &d->ntasks, &dn->tasks, user);
    }
  }
}

/* VIEW_EXECUTOR's object: the executor's command user, else its
 * framework's (by ExecutorInfo.framework_id, else the agent's key
 * "<framework id>/<executor id>"), NULL when the framework is unknown. */
static const char *executor_user(mesos_master *m, const Mesos__V1__ExecutorInfo *ei,
                                 const char *key) {
  if (ei->command && ei->command->user) return ei->command->user;
  char fid[512];
  const char *id = ei->framework_id ? ei->framework_id->value : NULL;
  if (id == NULL) {
    const char *slash = key ? strchr(key, '/') : NULL;
    if (slash == NULL) return NULL;
    snprintf(fid, sizeof fid, "%.*s", (int)(slash - key), key);
    id = fid;
  }
  const mesos__framework *fw = id ? mesos__map_get(&m->frameworks, id) : NULL;
  return fw && fw->info ? fw->info->user : NULL;
}

/* An executor is shown when its framework (if the master knows it) may be
 * viewed and the executor may be, as master_auth.c filters trees. */
static int executor_visible(mesos_master *m, const Mesos__V1__ExecutorInfo *ei, const char *key) {
  char fid[512];
  const char *id = ei->framework_id ? ei->framework_id->value : NULL;
  const char *slash = id == NULL && key ? strchr(key, '/') : NULL;
  if (slash) {
    snprintf(fid, sizeof fid, "%.*s", (int)(slash - key), key);
    id = fid;
  }
  const mesos__framework *fw = id ? mesos__map_get(&m->frameworks, id) : NULL;
  if (fw && !mesos__master_auth_sees_framework(m, fw)) return 0;
  return mesos__auth_view_executor(m->view, executor_user(m, ei, key));
}

static void snap_agents(mesos_master *m, mesos__v1snap *s) {
  int full = want_agents(s->call);
  size_t n = mesos__map_count(&m->agents);
  s->agents = s_alloc(s, n, sizeof *s->agents);
  if (s->agents == NULL) return;
  /* VIEW_ROLE of the resources shown (NULL: no view, or no ACLs). */
  if (full && m->view) s->roles = mesos__master_auth_roles_new(m, &s->oom);
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
    if (full && s->cache) {
      double stamp[3] = {a->stream != NULL, a->registered_time, a->reregistered_time};
      d->gen = mesos__frag_gen(s->cache, a, &a->state_gen, stamp);
      d->hit = mesos__frag_get(s->cache, a, d->gen, slot_of(s, MESOS__FRAG_V1_ENTRY_JSON));
      if (d->hit == NULL) d->fresh = s_alloc(s, 1, sizeof *d->fresh);
    }
    if (full && d->hit == NULL) {
      d->hostname = s_str(s, a->info && a->info->hostname ? a->info->hostname : "");
      size_t nt = mesos__map_count(&a->tasks);
      if (nt) d->used = s_alloc(s, nt, sizeof *d->used);
      size_t k = 0;
      void *tv;
      while (d->used && d->nused < nt && mesos__map_next(&a->tasks, &k, NULL, &tv)) {
        const mesos__task *t = tv;
        if (t->body && !t->released && t->resources &&
            mesos__master_auth_sees_allocation(s->roles, t->role))
          d->used[d->nused++] = &t->resources->r;
      }
      d->roles = s->roles;
      Mesos__V1__AgentInfo shown;
      if (mesos__master_auth_agent_info(s->roles, a->info, &shown)) {
        d->info = s_pack(s, &shown.base); /* without the resources of hidden roles */
        mesos__free(shown.resources);
      } else {
        d->info = s_pack(s, a->info ? &a->info->base : NULL);
      }
      d->active = a->stream != NULL;
      d->registered = a->registered_time;
      d->reregistered = a->reregistered_time;
      d->has_total = a->total != NULL;
      if (a->total && mesos__resources_copy(&d->total, &a->total->r) != MESOS_OK) s->oom = 1;
      mesos__master_auth_learn_bag(s->roles, &d->total);
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
        const Mesos__V1__ExecutorInfo *ei = ev;
        v1_exec *x = &d->execs[d->nexecs++];
        x->key = s_str(s, key);
        x->exec_id = ei->executor_id ? s_str(s, ei->executor_id->value) : NULL;
        x->has_fid = ei->framework_id != NULL;
        x->info = s_pack(s, &ei->base);
        if (m->view) x->hidden = !executor_visible(m, ei, key);
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
      if (i && mesos__master_auth_sees_allocation(s->roles, o->role) &&
          mesos__resources_add_all(&s->agents[i - 1].offered, &o->resources->r) != MESOS_OK)
        s->oom = 1;
    }
    for (size_t i = 0; s->roles && i < s->nagents; i++)
      mesos__master_auth_learn_bag(s->roles, &s->agents[i].offered);
    mesos__auth_roles_freeze(s->roles); /* read off the loop from here on */
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

static mesos__v1snap *take(mesos_master *m, int call, struct mesos__state_srv *cache,
                          mesos__media media, mesos_status *st) {
  mesos__v1snap *s = MESOS__NEW(mesos__v1snap);
  if (s == NULL) {
    *st = MESOS_ENOMEM;
    return NULL;
  }
  s->sv = m->op ? m->op->state : NULL;
  s->cache = cache;
  s->media = media;
  s->call = call;
  s->heartbeat_s = (double)m->heartbeat_ms / 1000.0;
  if (want_agents(call) || want_executors(call)) snap_agents(m, s);
  snap_frameworks(m, s);
  *st = s->oom ? MESOS_ENOMEM : MESOS_OK;
  return s;
}

mesos__v1snap *mesos__v1snap_take(mesos_master *m, int call, mesos_status *st) {
  return take(m, call, NULL, MESOS__MEDIA_JSON, st);
}

mesos__v1snap *mesos__v1snap_take_cached(mesos_master *m, int call, mesos__media media,
                                         mesos_status *st) {
  return take(m, call, mesos__frag_cache(m), media, st);
}

void mesos__v1snap_keep(mesos_master *m, mesos__v1snap *s) {
  (void)m;
  if (s == NULL || s->cache == NULL) return;
  for (size_t i = 0; i < s->nagents; i++) {
    const v1_agent *a = &s->agents[i];
    if (a->fresh && a->fresh[0])
      mesos__frag_put(s->cache, a->key, a->gen, slot_of(s, MESOS__FRAG_V1_ENTRY_JSON), a->fresh[0]);
  }
  for (size_t i = 0; i < s->nfws; i++) {
    const v1_fw *f = &s->fws[i];
    for (int k = 0; f->fresh && k < MESOS__FRAG_SLOTS; k++)
      if (f->fresh[k]) mesos__frag_put(s->cache, f->key, f->gen, k, f->fresh[k]);
  }
}

void mesos__v1snap_free(mesos__v1snap *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->nagents; i++) {
    mesos__resources_free(&s->agents[i].total);
    mesos__resources_free(&s->agents[i].offered);
    mesos__frag_unref(s->agents[i].hit);
    if (s->agents[i].fresh) mesos__frag_unref(s->agents[i].fresh[0]);
  }
  for (size_t i = 0; i < s->nfws; i++) {
    v1_fw *f = &s->fws[i];
    for (int k = 0; k < MESOS__FRAG_SLOTS; k++) {
      mesos__frag_unref(f->hit[k]);
      if (f->fresh) mesos__frag_unref(f->fresh[k]);
    }
  }
  for (size_t i = 0; i < s->nfws; i++)
    for (size_t k = 0; k < s->fws[i].noffers; k++) mesos__resources_free(&s->fws[i].offers[k].res);
  for (size_t i = 0; i < s->nbig; i++) mesos__free(s->big[i]);
  for (size_t i = 0; i < s->nblocks; i++)
    mesos__state_block_put(s->sv, s->blocks[i], MESOS__STATE_BLOCK);
  mesos__free(s->big);
  mesos__free(s->blocks);
  mesos__auth_roles_free(s->roles);
  mesos__free(s);
}

/* ------------------------------------------------------------ off the loop */

/*
 * The response is written straight from the snapshot, in JSON or in the
 * protobuf wire format, without building it as a protobuf-c tree first
 * (that tree -- a Task view, Resource messages and unpacked infos per
 * entry, all allocated -- cost 3-6x the writing itself at 400,000 tasks).
 * The container messages (Response, GetState, GetTasks, GetAgents.Agent,
 * ...) are written field by field here; the leaves are written by the
 * generic encoders from what the snapshot holds: a Task as a stack view
 * of its pinned message, a Resource as a stack copy of its bag entry's
 * identity with the value attached, and infos packed on the loop copied
 * as they are (protobuf) or unpacked and encoded (JSON).  Fields come in
 * field-number order, which is the order both generic encoders use, so
 * the bytes are the ones a tree of the same messages encodes to.
 *
 * Protobuf needs every nested message's length before its bytes.  Small
 * messages (a task, an agent entry) are written after a 5-byte gap that
 * is filled with the length when the message ends; the body moves back
 * over what the length did not need (a few hundred bytes).  The big ones
 * (GetState, GetTasks, ... and the RecordIO length of SUBSCRIBED) span
 * many output chunks: their header is a chunk of its own, inserted when
 * they open and filled in when they close, so nothing is moved.
 */

#define VW_DEPTH 24
#define VW_GAP 5 /* a varint length up to 2^35 */

typedef struct vw_level {
  uint8_t any;      /* JSON: a member was written at this level */
  uint8_t arr_open; /* JSON: the pending array's '[' was written */
  uint8_t arr_any;  /* JSON: an element was written in it */
  const char *arr_key;
  uint32_t arr_no;
} vw_level;

typedef struct vw {
  int pb;
  mesos__chunks *out;
  mesos__buf cur; /* the chunk being filled */
  mesos_status st;
  /* Protobuf: the offsets in `cur` of the open small messages' gaps. */
  size_t gap[VW_DEPTH];
  int ngap;
  /* Open big messages: header chunk index and the output total then. */
  size_t sec_piece[VW_DEPTH], sec_total[VW_DEPTH];
  int nsec;
  /* JSON object nesting. */
  vw_level lv[VW_DEPTH];
  int depth;
  /* Cache mode: elements of records that changed are captured as they
   * are written (mesos__capture), and big cached ones referenced. */
  int cache;
  /* The block `cur` is (NULL: a plain allocation, for what does not fit
   * a block) and how much of it is pushed to the output already. */
  mesos__blk *blk;
  size_t seg;
  mesos__capture cap;
} vw;

static void vw_fail(vw *w, mesos_status st) {
  if (w->st == MESOS_OK) w->st = st;
}

static void vw_outgrow(vw *w, size_t n);

static inline char *vw_room(vw *w, size_t n) {
  if (w->st != MESOS_OK) return NULL;
  mesos__buf *b = &w->cur;
  if (b->data == NULL || n + 1 > b->cap - b->len) {
    if (w->blk) {
      vw_outgrow(w, n); /* a block is referenced, never moved */
      return w->st == MESOS_OK ? b->data + b->len : NULL;
    }
    mesos_status st = mesos__buf_reserve(b, n + 1);
    if (st != MESOS_OK) {
      vw_fail(w, st);
      return NULL;
    }
  }
  return b->data + b->len;
}

static inline void vw_put(vw *w, const void *p, size_t n) {
  char *d = vw_room(w, n);
  if (d == NULL) return;
  memcpy(d, p, n);
  w->cur.len += n;
}

static inline void vw_putc(vw *w, char c) {
  char *d = vw_room(w, 1);
  if (d == NULL) return;
  *d = c;
  w->cur.len++;
}

static mesos_status vw_new_block(vw *w) {
  w->cur.data = mesos__state_block_get(w->out->sv);
  w->cur.len = 0;
  w->cur.cap = w->cur.data ? MESOS__STATE_BLOCK : 0;
  w->cur.max = MESOS__OP_RESPONSE_MAX;
  w->blk = w->cur.data ? mesos__state_blk_of(w->cur.data) : NULL;
  w->seg = 0;
  return w->cur.data ? MESOS_OK : MESOS_ENOMEM;
}

/* The writer lets go of its current buffer. */
static void vw_release(vw *w) {
  if (w->blk) mesos__state_blk_done(w->blk, w->cur.len);
  if (w->blk) mesos__state_blk_unref(w->out->sv, w->blk);
  else mesos__free(w->cur.data);
  w->blk = NULL;
  w->cur.data = NULL;
  w->cur.len = w->cur.cap = 0;
}

/* Sends the current block's bytes not sent yet to the output (a piece of
 * the block, with a reference); writing goes on after them. */
static void vw_push(vw *w) {
  if (w->out == NULL || w->blk == NULL || w->st != MESOS_OK || w->cur.len == w->seg) return;
  size_t n = w->cur.len - w->seg;
  mesos_status st = mesos__state_chunks_push(w->out, w->cur.data + w->seg, n, 0, w->blk);
  if (st != MESOS_OK) {
    vw_fail(w, st);
    return;
  }
  mesos__cap_pushed(&w->cap, w->cur.data + w->seg, n, w->blk);
  w->seg = w->cur.len;
}

/* Hands the current chunk to the output and starts a fresh block. */
static void vw_flush(vw *w) {
  if (w->out == NULL || w->st != MESOS_OK || w->cur.len == 0) return;
  if (w->blk) {
    vw_push(w);
    if (w->st != MESOS_OK) return;
    mesos__state_blk_done(w->blk, w->cur.len);
    mesos__state_blk_unref(w->out->sv, w->blk);
  } else {
    /* A plain buffer goes out whole. */
    mesos_status st = mesos__state_chunks_push(w->out, w->cur.data, w->cur.len, w->cur.cap, NULL);
    if (st != MESOS_OK) {
      vw_fail(w, st);
      return;
    }
    mesos__cap_pushed(&w->cap, w->cur.data, w->cur.len, NULL);
  }
  mesos_status st = vw_new_block(w);
  if (st != MESOS_OK) vw_fail(w, st);
}

/* The block has no room for n more bytes.  Between messages it goes out
 * and a fresh one follows; inside small messages (their lengths are
 * filled in later, in place) what is not sent yet moves to a plain buffer
 * that can grow, and so does anything bigger than a block. */
static void vw_outgrow(vw *w, size_t n) {
  if (w->ngap == 0) {
    vw_flush(w);
    if (w->st != MESOS_OK || n + 1 <= w->cur.cap - w->cur.len) return;
  }
  size_t keep = w->cur.len - w->seg, cap;
  if (!mesos__size_add(&cap, keep, n + 1) || !mesos__size_add(&cap, cap, cap / 2)) {
    vw_fail(w, MESOS_ELIMIT);
    return;
  }
  char *p = mesos__malloc(cap);
  if (p == NULL) {
    vw_fail(w, MESOS_ENOMEM);
    return;
  }
  memcpy(p, w->cur.data + w->seg, keep);
  for (int i = 0; i < w->ngap; i++) w->gap[i] -= w->seg;
  /* A capture cannot follow bytes that moved. */
  if (w->cap.on) w->cap.fail = 1;
  mesos__state_blk_done(w->blk, w->seg);
  mesos__state_blk_unref(w->out->sv, w->blk);
  w->blk = NULL;
  w->seg = 0;
  w->cur.data = p;
  w->cur.len = keep;
  w->cur.cap = cap;
}

/* Between entries: a full chunk goes out (never inside a small message). */
static inline void vw_maybe_flush(vw *w) {
  if (w->ngap == 0 && w->cur.len >= MESOS__STATE_CHUNK) vw_flush(w);
}

/* ---- protobuf wire format */

static size_t varint_at(uint8_t *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

static inline void pb_varint(vw *w, uint64_t v) {
  uint8_t *p = (uint8_t *)vw_room(w, 10);
  if (p) w->cur.len += varint_at(p, v);
}

static inline void pb_tag(vw *w, uint32_t no, int wire) {
  pb_varint(w, ((uint64_t)no << 3) | (uint64_t)wire);
}

static void pb_bytes(vw *w, uint32_t no, const void *p, size_t n) {
  pb_tag(w, no, 2);
  pb_varint(w, n);
  vw_put(w, p, n);
}

/* ---- JSON */

static void j_str(vw *w, const char *s) {
  if (s == NULL) s = "";
  size_t n = strlen(s);
  if (n > MESOS__JSON_QUOTE_MAX_IN) {
    vw_fail(w, MESOS_ELIMIT);
    return;
  }
  char *p = vw_room(w, MESOS__JSON_QUOTE_ROOM(n));
  if (p == NULL) return;
  w->cur.len += (size_t)(mesos__json_quote(p, s, n) - p);
}

/* A member's key (keys here are field names: nothing to escape). */
static void j_key(vw *w, const char *key) {
  vw_level *l = &w->lv[w->depth];
  if (l->any) vw_putc(w, ',');
  l->any = 1;
  vw_putc(w, '"');
  vw_put(w, key, strlen(key));
  vw_put(w, "\":", 2);
}

/* A message level opens (both formats: its repeated fields' state). */
static void lv_push(vw *w) {
  if (w->depth + 1 >= VW_DEPTH) {
    vw_fail(w, MESOS_ELIMIT);
    return;
  }
  w->depth++;
  memset(&w->lv[w->depth], 0, sizeof w->lv[w->depth]);
}

static void lv_pop(vw *w) {
  if (w->depth > 0) w->depth--;
}

static void j_open(vw *w) {
  vw_putc(w, '{');
  lv_push(w);
}

static void j_close(vw *w) {
  vw_putc(w, '}');
  lv_pop(w);
}

/* ---- fields, in either format */

/* A message field, small enough to stay in one chunk. */
static void v_begin(vw *w, uint32_t no, const char *key) {
  if (!w->pb) {
    j_key(w, key);
    j_open(w);
    return;
  }
  pb_tag(w, no, 2);
  if (vw_room(w, VW_GAP) == NULL) return;
  if (w->ngap == VW_DEPTH) {
    vw_fail(w, MESOS_ELIMIT);
    return;
  }
  w->gap[w->ngap++] = w->cur.len;
  w->cur.len += VW_GAP;
  lv_push(w);
}

static void v_end(vw *w) {
  if (!w->pb) {
    j_close(w);
    return;
  }
  lv_pop(w);
  if (w->st != MESOS_OK || w->ngap == 0) return;
  size_t at = w->gap[--w->ngap];
  size_t body = w->cur.len - at - VW_GAP;
  if (body >= ((uint64_t)1 << 35)) {
    vw_fail(w, MESOS_ELIMIT);
    return;
  }
  uint8_t len[VW_GAP];
  size_t k = varint_at(len, body);
  uint8_t *p = (uint8_t *)w->cur.data + at;
  if (k < VW_GAP) memmove(p + k, p + VW_GAP, body);
  memcpy(p, len, k);
  w->cur.len -= VW_GAP - k;
}

/* A message field that spans chunks (see the top of this part). */
static void v_sec_begin(vw *w, uint32_t no, const char *key) {
  if (!w->pb) {
    j_key(w, key);
    j_open(w);
    return;
  }
  pb_tag(w, no, 2);
  vw_flush(w);
  if (w->st != MESOS_OK) return;
  if (w->nsec == VW_DEPTH || w->ngap) {
    vw_fail(w, MESOS_ELIMIT);
    return;
  }
  char *h = mesos__malloc(16);
  if (h == NULL || mesos__state_chunks_push(w->out, h, 0, 16, NULL) != MESOS_OK) {
    mesos__free(h);
    vw_fail(w, MESOS_ENOMEM);
    return;
  }
  w->sec_piece[w->nsec] = w->out->n - 1;
  w->sec_total[w->nsec++] = w->out->total;
  lv_push(w);
}

static void v_sec_end(vw *w) {
  if (!w->pb) {
    j_close(w);
    return;
  }
  lv_pop(w);
  vw_flush(w);
  if (w->st != MESOS_OK || w->nsec == 0) return;
  w->nsec--;
  mesos__chunk *h = &w->out->v[w->sec_piece[w->nsec]];
  h->len = varint_at((uint8_t *)h->data, w->out->total - w->sec_total[w->nsec]);
  w->out->total += h->len;
}

/* A repeated field: elements follow (an empty one is left out). */
static void v_arr_begin(vw *w, uint32_t no, const char *key) {
  vw_level *l = &w->lv[w->depth];
  l->arr_key = key;
  l->arr_no = no;
  l->arr_open = 0;
  l->arr_any = 0;
}

static void v_arr_end(vw *w) {
  vw_level *l = &w->lv[w->depth];
  if (!w->pb && l->arr_open) vw_putc(w, ']');
  l->arr_open = 0;
}

/* Before an element: JSON's key, bracket and comma. */
static void j_elem(vw *w) {
  vw_level *l = &w->lv[w->depth];
  if (!l->arr_open) {
    j_key(w, l->arr_key);
    vw_putc(w, '[');
    l->arr_open = 1;
  }
  if (l->arr_any) vw_putc(w, ',');
  l->arr_any = 1;
}

/* An element written field by field (v_elem_end closes it). */
static void v_elem_begin(vw *w) {
  if (!w->pb) {
    j_elem(w);
    j_open(w);
    return;
  }
  v_begin(w, w->lv[w->depth].arr_no, NULL);
}

static void v_elem_end(vw *w) {
  v_end(w);
  vw_maybe_flush(w);
}

/* A leaf message through the generic encoders. */
static void leaf(vw *w, uint32_t no, const ProtobufCMessage *msg) {
  if (w->st != MESOS_OK) return;
  if (!w->pb) {
    mesos_status st = mesos__json_encode(msg, &w->cur, NULL);
    if (st != MESOS_OK) vw_fail(w, st);
    return;
  }
  size_t n = protobuf_c_message_get_packed_size(msg);
  pb_tag(w, no, 2);
  pb_varint(w, n);
  uint8_t *p = (uint8_t *)vw_room(w, n);
  if (p == NULL) return;
  w->cur.len += protobuf_c_message_pack(msg, p);
}

static void v_msg(vw *w, uint32_t no, const char *key, const ProtobufCMessage *msg) {
  if (!w->pb) j_key(w, key);
  leaf(w, no, msg);
}

static void v_elem_msg(vw *w, const ProtobufCMessage *msg) {
  if (!w->pb) j_elem(w);
  leaf(w, w->lv[w->depth].arr_no, msg);
  vw_maybe_flush(w);
}

/* A leaf packed on the loop: copied (protobuf) or decoded and encoded
 * (JSON).  Absent: an empty message (the tree builders' required infos
 * are never absent; an empty one is what an unset pointer encodes to). */
static void packed(vw *w, uint32_t no, v1_bytes b, const ProtobufCMessageDescriptor *d) {
  if (w->pb) {
    pb_bytes(w, no, b.p, b.p ? b.n : 0);
    return;
  }
  if (b.p == NULL) {
    vw_put(w, "{}", 2);
    return;
  }
  ProtobufCMessage *msg = NULL;
  if (mesos__pb_unpack(d, b.p, b.n, 0, 0, &msg, NULL) != MESOS_OK) {
    vw_fail(w, MESOS_ENOMEM);
    return;
  }
  leaf(w, no, msg);
  mesos__pb_free(msg);
}

static void v_packed(vw *w, uint32_t no, const char *key, v1_bytes b,
                     const ProtobufCMessageDescriptor *d) {
  if (!w->pb) j_key(w, key);
  packed(w, no, b, d);
}

static void v_elem_packed(vw *w, v1_bytes b, const ProtobufCMessageDescriptor *d) {
  if (!w->pb) j_elem(w);
  packed(w, w->lv[w->depth].arr_no, b, d);
  vw_maybe_flush(w);
}

static void v_str(vw *w, uint32_t no, const char *key, const char *s) {
  if (w->pb) {
    pb_bytes(w, no, s ? s : "", s ? strlen(s) : 0);
    return;
  }
  j_key(w, key);
  j_str(w, s);
}

static void v_bool(vw *w, uint32_t no, const char *key, int b) {
  if (w->pb) {
    pb_tag(w, no, 0);
    pb_varint(w, b ? 1 : 0);
    return;
  }
  j_key(w, key);
  if (b) vw_put(w, "true", 4);
  else vw_put(w, "false", 5);
}

static void v_int64(vw *w, uint32_t no, const char *key, int64_t v) {
  if (w->pb) {
    pb_tag(w, no, 0);
    pb_varint(w, (uint64_t)v);
    return;
  }
  char num[32];
  int n = snprintf(num, sizeof num, "%lld", (long long)v);
  j_key(w, key);
  vw_put(w, num, (size_t)n);
}

static void v_enum(vw *w, uint32_t no, const char *key, int v, const ProtobufCEnumDescriptor *d) {
  if (w->pb) {
    pb_tag(w, no, 0);
    pb_varint(w, (uint64_t)(int64_t)v);
    return;
  }
  const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
  if (ev == NULL) return; /* as the generic encoder: unknown numbers are left out */
  j_key(w, key);
  j_str(w, ev->name);
}

/* TimeInfo, when set (the builders leave out times that are not). */
static void v_time(vw *w, uint32_t no, const char *key, double seconds) {
  if (!(seconds > 0)) return;
  v_begin(w, no, key);
  v_int64(w, 1, "nanoseconds", (int64_t)(seconds * 1e9));
  v_end(w);
}

/* One entry of a resources bag as the Resource message
 * mesos__res_to_proto makes of it, on the stack. */
static void v_elem_res(vw *w, const mesos__res *x) {
  Mesos__V1__Resource r = *x->proto;
  Mesos__V1__Value__Scalar sc = MESOS__V1__VALUE__SCALAR__INIT;
  Mesos__V1__Value__Ranges rs = MESOS__V1__VALUE__RANGES__INIT;
  Mesos__V1__Value__Set set = MESOS__V1__VALUE__SET__INIT;
  Mesos__V1__Value__Range one[8], **ptrs = NULL, *ptr_one[8];
  Mesos__V1__Value__Range *many = NULL;
  switch (x->type) {
    case MESOS__V1__VALUE__TYPE__SCALAR:
      sc.value = (double)x->milli / 1000;
      r.scalar = &sc;
      break;
    case MESOS__V1__VALUE__TYPE__RANGES: {
      Mesos__V1__Value__Range *v = one;
      ptrs = ptr_one;
      if (x->nranges > 8) {
        v = many = mesos__calloc(x->nranges, sizeof *many);
        ptrs = mesos__calloc(x->nranges, sizeof *ptrs);
        if (many == NULL || ptrs == NULL) {
          mesos__free(many);
          mesos__free(ptrs);
          vw_fail(w, MESOS_ENOMEM);
          return;
        }
      }
      for (size_t i = 0; i < x->nranges; i++) {
        mesos__v1__value__range__init(&v[i]);
        v[i].begin = x->ranges[i].begin;
        v[i].end = x->ranges[i].end;
        ptrs[i] = &v[i];
      }
      rs.n_range = x->nranges;
      rs.range = x->nranges ? ptrs : NULL;
      r.ranges = &rs;
      break;
    }
    case MESOS__V1__VALUE__TYPE__SET:
      set.n_item = x->nitems;
      set.item = x->nitems ? x->items : NULL;
      r.set = &set;
      break;
    default:
      break;
  }
  v_elem_msg(w, &r.base);
  if (many) {
    mesos__free(many);
    mesos__free(ptrs);
  }
}

/* `roles`: only the resources it shows (VIEW_ROLE; NULL: all). */
static void v_res_shown(vw *w, uint32_t no, const char *key, const mesos__resources *r,
                        const mesos__auth_roles *roles) {
  v_arr_begin(w, no, key);
  for (size_t i = 0; r && i < r->n; i++)
    if (roles == NULL || mesos__auth_roles_sees_resource(roles, r->v[i].proto))
      v_elem_res(w, &r->v[i]);
  v_arr_end(w);
}

static void v_res(vw *w, uint32_t no, const char *key, const mesos__resources *r) {
  v_res_shown(w, no, key, r, NULL);
}

/* ---- the responses */

/* A live task as the response shows it: the pinned body's fields with
 * the state fields of the snapshot (the body never changes; the loop
 * keeps the state fields in the task, not in the body). */
static void task_view(Mesos__V1__Task *c, const v1_task *x) {
  mesos__task_body_view(x->b, x->state, x->has_su, x->su_state, c);
}

/* ---- tasks by hand
 *
 * A task is most of the response (400,000 of them in the benchmark), and
 * the generic encoders walk every one of Task's and Resource's fields
 * through their descriptors and format each 0.1 with snprintf and strtod.
 * The usual task -- ids, state, scalar resources, user, the status
 * update's state and uuid -- is written here directly; a task with
 * anything else (labels, container, discovery, health check, kill policy,
 * status history, unknown fields, a resource with reservations, disk,
 * ranges or sets, ...) goes through the generic encoders as before.  The
 * bytes are the same either way (test_master_state_v1 compares every
 * task with its message). */

static int id_ok(const ProtobufCMessage *m, const char *value) {
  return m != NULL && value != NULL && m->n_unknown_fields == 0;
}

/* A scalar resource whose identity is a name, a type and maybe a role. */
static int fast_res(const Mesos__V1__Resource *r) {
  return r->base.n_unknown_fields == 0 && r->name &&
         r->type == MESOS__V1__VALUE__TYPE__SCALAR && r->scalar && !r->ranges && !r->set &&
         r->scalar->base.n_unknown_fields == 0 && !r->disk && !r->reservation && !r->revocable &&
         !r->shared && !r->allocation_info && !r->provider_id && r->n_reservations == 0;
}

static int fast_task(const Mesos__V1__Task *t) {
  if (t->base.n_unknown_fields || !t->name || !t->task_id || !id_ok(&t->task_id->base, t->task_id->value) ||
      !t->framework_id || !id_ok(&t->framework_id->base, t->framework_id->value) || !t->agent_id ||
      !id_ok(&t->agent_id->base, t->agent_id->value) || t->n_statuses || t->labels ||
      t->discovery || t->container || t->health_check || t->kill_policy ||
      !protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, (int)t->state) ||
      (t->has_status_update_state &&
       !protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor,
                                             (int)t->status_update_state)))
    return 0;
  if (t->executor_id && !id_ok(&t->executor_id->base, t->executor_id->value)) return 0;
  for (size_t i = 0; i < t->n_resources; i++)
    if (!fast_res(t->resources[i])) return 0;
  return 1;
}

/* A double as json_encode.c writes it, for the values resources have
 * (whole, or thousandths, below 1e12); 0 for any other (the caller then
 * takes the generic path). */
static size_t fmt_milli_double(char *out, double v) {
  if (!(v > 0) || v >= 1e12) return 0;
  double k = nearbyint(v * 1000);
  if (k / 1000 != v) return 0;
  long long milli = (long long)k;
  int n = snprintf(out, 40, "%lld.%03lld", milli / 1000, milli % 1000);
  if (n <= 0) return 0;
  size_t len = (size_t)n;
  while (out[len - 1] == '0' && out[len - 2] != '.') len--; /* "0.100" -> "0.1", "32.000" -> "32.0" */
  return len;
}

static void v_id(vw *w, uint32_t no, const char *key, const char *value) {
  v_begin(w, no, key);
  v_str(w, 1, "value", value);
  v_end(w);
}

/* 1 when written; 0 (nothing written) for a value fmt_milli_double cannot
 * write. */
static int write_res(vw *w, const Mesos__V1__Resource *r) {
  char num[48];
  size_t n = fmt_milli_double(num, r->scalar->value);
  if (n == 0) return 0;
  v_elem_begin(w);
  v_str(w, 1, "name", r->name);
  v_enum(w, 2, "type", MESOS__V1__VALUE__TYPE__SCALAR, &mesos__v1__value__type__descriptor);
  v_begin(w, 3, "scalar");
  if (w->pb) {
    pb_tag(w, 1, 1);
    uint64_t bits;
    memcpy(&bits, &r->scalar->value, sizeof bits);
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)(bits >> (8 * i));
    vw_put(w, le, 8);
  } else {
    j_key(w, "value");
    vw_put(w, num, n);
  }
  v_end(w);
  /* Resource.role defaults to "*": JSON writes the default, protobuf only
   * a set value (protobuf-c: not the descriptor's default string, which
   * an unpacked message without the field points at). */
  const ProtobufCFieldDescriptor *fd =
      protobuf_c_message_descriptor_get_field(&mesos__v1__resource__descriptor, 6);
  int set = r->role != NULL && (fd == NULL || r->role != fd->default_value);
  if (set) v_str(w, 6, "role", r->role);
  else if (!w->pb) v_str(w, 6, "role", fd && fd->default_value ? fd->default_value : "*");
  v_elem_end(w);
  return 1;
}

static int res_writable(const Mesos__V1__Task *t) {
  char num[48];
  for (size_t i = 0; i < t->n_resources; i++)
    if (fmt_milli_double(num, t->resources[i]->scalar->value) == 0) return 0;
  return 1;
}

static void write_task(vw *w, const Mesos__V1__Task *t) {
  if (!fast_task(t) || !res_writable(t)) {
    v_elem_msg(w, &t->base);
    return;
  }
  v_elem_begin(w);
  v_str(w, 1, "name", t->name);
  v_id(w, 2, "task_id", t->task_id->value);
  v_id(w, 3, "framework_id", t->framework_id->value);
  if (t->executor_id) v_id(w, 4, "executor_id", t->executor_id->value);
  v_id(w, 5, "agent_id", t->agent_id->value);
  v_enum(w, 6, "state", (int)t->state, &mesos__v1__task_state__descriptor);
  v_arr_begin(w, 7, "resources");
  for (size_t i = 0; i < t->n_resources; i++) (void)write_res(w, t->resources[i]);
  v_arr_end(w);
  if (t->has_status_update_state)
    v_enum(w, 9, "status_update_state", (int)t->status_update_state,
           &mesos__v1__task_state__descriptor);
  if (t->has_status_update_uuid) {
    if (w->pb) {
      pb_bytes(w, 10, t->status_update_uuid.data, t->status_update_uuid.len);
    } else {
      size_t n = 0;
      char *p;
      if (!mesos__base64_encoded_len(t->status_update_uuid.len, &n) || n > 4096) {
        vw_fail(w, MESOS_ELIMIT);
      } else {
        j_key(w, "status_update_uuid");
        if ((p = vw_room(w, n + 2)) != NULL) {
          p[0] = '"';
          if (t->status_update_uuid.len)
            mesos__base64_encode(t->status_update_uuid.data, t->status_update_uuid.len, p + 1);
          p[n + 1] = '"';
          w->cur.len += n + 2;
        }
      }
    }
  }
  if (t->user) v_str(w, 14, "user", t->user);
  v_elem_end(w);
}

/* ---- fragments (cache mode, see operator_int.h) */

/* Copies n bytes into the output, across chunks (between elements
 * nothing waits for a length). */
static void v_copy(vw *w, const char *p, size_t n) {
  while (n > 0 && w->st == MESOS_OK) {
    if (w->out == NULL || w->ngap) {
      vw_put(w, p, n);
      break;
    }
    size_t room = w->cur.cap > w->cur.len + 1 ? w->cur.cap - w->cur.len - 1 : 0;
    if (room == 0) {
      vw_flush(w);
      continue;
    }
    size_t k = n < room ? n : room;
    vw_put(w, p, k);
    p += k;
    n -= k;
  }
}

/* Bytes of elements written elsewhere go into the current repeated field
 * (JSON: its key, bracket and comma as for any element): a big fragment
 * made into blocks by reference (its pieces join the output as they
 * are), anything else copied. */
static void v_splice(vw *w, const mesos__frag *f) {
  if (f == NULL || f->len == 0 || w->st != MESOS_OK) return;
  if (!w->pb) j_elem(w);
  if (w->out && w->blk && w->ngap == 0 && f->data == NULL && f->len >= MESOS__FRAG_REF_MIN) {
    vw_push(w);
    for (size_t i = 0; i < f->nseg && w->st == MESOS_OK; i++) {
      mesos_status st =
          mesos__state_chunks_push(w->out, (char *)f->seg[i].data, f->seg[i].len, 0, f->seg[i].blk);
      if (st != MESOS_OK) vw_fail(w, st);
    }
    return;
  }
  if (f->data) {
    v_copy(w, f->data, f->len);
  } else {
    for (size_t i = 0; i < f->nseg; i++) v_copy(w, f->seg[i].data, f->seg[i].len);
  }
  vw_maybe_flush(w);
}

typedef void (*elems_fn)(vw *w, const void *arg);

/* Elements of the current repeated field for one record: the cached ones
 * (`hit`), or written by `fn` straight into the output -- in cache mode
 * (`fresh` set) captured as they are written, the fragment left in
 * *fresh for the cache: a cold poll costs what a render without the
 * cache does. */
static void v_elems(vw *w, const mesos__frag *hit, mesos__frag **fresh, elems_fn fn,
                    const void *arg) {
  if (w->st != MESOS_OK) return;
  if (hit) {
    v_splice(w, hit);
    return;
  }
  if (fresh == NULL || !w->cache || w->out == NULL || w->ngap) {
    fn(w, arg);
    return;
  }
  /* JSON: the separator (the key and bracket, or a comma) first, it is
   * not the fragment's; taken back when no element is written.  Room for
   * it and the first element's head in this block, then the capture. */
  vw_level *l = &w->lv[w->depth];
  vw_level saved = *l;
  size_t key = l->arr_key ? strlen(l->arr_key) : 0;
  if (vw_room(w, key + 32) == NULL) return;
  size_t before = w->cur.len;
  if (!w->pb) {
    j_elem(w);
    l->arr_any = 0; /* the first element writes no comma */
  }
  size_t at = w->cur.len;
  mesos__cap_begin(&w->cap, w->blk, w->cur.data + at);
  fn(w, arg);
  if (w->st == MESOS_OK && w->cap.first && w->blk == w->cap.blk0 && w->cur.len == at) {
    w->cur.len = before;
    *l = saved;
  } else if (!w->pb) {
    l->arr_any = 1;
  }
  mesos_status st = MESOS_OK;
  mesos__frag *f = mesos__cap_end(&w->cap, w->out->sv, w->cur.data + w->seg,
                                  w->cur.data + w->cur.len, w->blk, &st);
  if (st != MESOS_OK) vw_fail(w, st);
  if (f && w->st == MESOS_OK) {
    mesos__frag_unref(*fresh);
    *fresh = f;
  } else {
    mesos__frag_unref(f);
  }
}

static void fw_tasks_elems(vw *w, const void *arg) {
  const v1_fw *f = arg;
  Mesos__V1__Task view;
  for (size_t k = 0; k < f->ntasks && w->st == MESOS_OK; k++) {
    if (f->tasks[k].hidden) continue;
    task_view(&view, &f->tasks[k]);
    write_task(w, &view);
  }
}

static void fw_done_elems(vw *w, const void *arg) {
  const v1_fw *f = arg;
  for (size_t k = 0; k < f->ndone && w->st == MESOS_OK; k++) write_task(w, f->done[k]);
}

static mesos__frag **fresh_of(const v1_fw *f, int slot) { return f->fresh ? &f->fresh[slot] : NULL; }

static void get_tasks(vw *w, const mesos__v1snap *s) {
  int tj = slot_of(s, MESOS__FRAG_V1_TASKS_JSON), dj = slot_of(s, MESOS__FRAG_V1_DONE_JSON);
  v_arr_begin(w, 2, "tasks");
  for (size_t i = 0; i < s->nfws && w->st == MESOS_OK; i++)
    v_elems(w, s->fws[i].hit[tj], fresh_of(&s->fws[i], tj), fw_tasks_elems, &s->fws[i]);
  v_arr_end(w);
  v_arr_begin(w, 3, "completed_tasks");
  for (size_t i = 0; i < s->nfws && w->st == MESOS_OK; i++)
    v_elems(w, s->fws[i].hit[dj], fresh_of(&s->fws[i], dj), fw_done_elems, &s->fws[i]);
  for (size_t i = 0; i < s->ndone && w->st == MESOS_OK; i++)
    for (size_t k = 0; k < s->done[i].ntasks; k++) write_task(w, s->done[i].tasks[k]);
  v_arr_end(w);
}

static void executor_entry(vw *w, const ProtobufCMessage *ei, v1_bytes packed_ei,
                           const char *agent_id) {
  v_elem_begin(w);
  if (ei) v_msg(w, 1, "executor_info", ei);
  else v_packed(w, 1, "executor_info", packed_ei, &mesos__v1__executor_info__descriptor);
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  aid.value = (char *)agent_id;
  v_msg(w, 2, "agent_id", &aid.base);
  v_elem_end(w);
}

/* One entry per (agent, framework, executor id): the agents' executors
 * first, then an id-only entry per one that live tasks name and nothing
 * listed yet (as operator.c's builder). */
static void get_executors(vw *w, const mesos__v1snap *s) {
  mesos__map seen;
  mesos__map_init(&seen);
  char key[1024];
  v_arr_begin(w, 1, "executors");
  for (size_t i = 0; w->st == MESOS_OK && i < s->nagents; i++) {
    const v1_agent *a = &s->agents[i];
    for (size_t k = 0; k < a->nexecs && w->st == MESOS_OK; k++) {
      const v1_exec *x = &a->execs[k];
      const char *slash = x->key ? strchr(x->key, '/') : NULL;
      if (slash == NULL || x->exec_id == NULL || x->info.p == NULL || !a->has_info_id) continue;
      int flen = (int)(slash - x->key);
      snprintf(key, sizeof key, "%s\n%.*s\n%s", a->id, flen, x->key, x->exec_id);
      if (mesos__map_get(&seen, key)) continue;
      if (mesos__map_put(&seen, key, (void *)a) != MESOS_OK) {
        vw_fail(w, MESOS_ENOMEM);
        break;
      }
      if (x->hidden) continue;
      if (x->has_fid) {
        executor_entry(w, NULL, x->info, a->id);
        continue;
      }
      /* Frameworks may leave the framework id out of a launch: the entry
       * names the framework of the agent's key. */
      ProtobufCMessage *msg = NULL;
      char fv[512];
      snprintf(fv, sizeof fv, "%.*s", flen, x->key);
      if (mesos__pb_unpack(&mesos__v1__executor_info__descriptor, x->info.p, x->info.n, 0, 0,
                           &msg, NULL) != MESOS_OK) {
        vw_fail(w, MESOS_ENOMEM);
        break;
      }
      Mesos__V1__ExecutorInfo *ei = (Mesos__V1__ExecutorInfo *)msg;
      Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
      fid.value = fv;
      ei->framework_id = &fid;
      executor_entry(w, msg, x->info, a->id);
      ei->framework_id = NULL;
      mesos__pb_free(msg);
    }
  }
  for (size_t i = 0; w->st == MESOS_OK && i < s->nfws; i++) {
    const v1_fw *f = &s->fws[i];
    /* "<agent id>\0<executor id>\0" of each of its tasks naming one (the
     * task's agent id is the record's: the master sets it to the agent's
     * id when it creates or adopts the task). */
    mesos__frag *pairs = f->hit[MESOS__FRAG_V1_EXECS], *made = NULL;
    if (pairs == NULL) {
      mesos__buf b = MESOS__BUF_INIT(MESOS__OP_RESPONSE_MAX);
      for (size_t k = 0; k < f->ntasks; k++) {
        Mesos__V1__Task view;
        task_view(&view, &f->tasks[k]);
        const Mesos__V1__Task *t = &view;
        if (t->executor_id == NULL || t->executor_id->value == NULL) continue;
        const char *aid = t->agent_id && t->agent_id->value ? t->agent_id->value : "";
        if (mesos__buf_append(&b, aid, strlen(aid) + 1) != MESOS_OK ||
            mesos__buf_append(&b, t->executor_id->value, strlen(t->executor_id->value) + 1) !=
                MESOS_OK)
          vw_fail(w, MESOS_ENOMEM);
      }
      pairs = made = mesos__frag_new(b.data, b.len);
      if (made == NULL) {
        vw_fail(w, MESOS_ENOMEM);
        break;
      }
    }
    for (size_t at = 0; at < pairs->len && w->st == MESOS_OK;) {
      const char *aid = pairs->data + at;
      const char *eid = aid + strlen(aid) + 1;
      at = (size_t)(eid - pairs->data) + strlen(eid) + 1;
      snprintf(key, sizeof key, "%s\n%s\n%s", aid, f->id, eid);
      if (mesos__map_get(&seen, key)) continue;
      if (mesos__map_put(&seen, key, (void *)f) != MESOS_OK) {
        vw_fail(w, MESOS_ENOMEM);
        break;
      }
      if (f->exec_hidden) continue;
      Mesos__V1__ExecutorInfo ei = MESOS__V1__EXECUTOR_INFO__INIT;
      Mesos__V1__ExecutorID xid = MESOS__V1__EXECUTOR_ID__INIT;
      Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
      xid.value = (char *)eid;
      fid.value = f->id;
      ei.executor_id = &xid;
      ei.framework_id = &fid;
      executor_entry(w, &ei.base, (v1_bytes){NULL, 0}, aid);
    }
    mesos__frag **fresh = fresh_of(f, MESOS__FRAG_V1_EXECS);
    if (made && fresh) {
      mesos__frag_unref(*fresh);
      *fresh = made;
    } else {
      mesos__frag_unref(made);
    }
  }
  v_arr_end(w);
  mesos__map_free(&seen);
}

static void offer_elem(vw *w, const v1_offer *o) {
  v_elem_begin(w);
  Mesos__V1__OfferID oid = MESOS__V1__OFFER_ID__INIT;
  Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
  Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
  oid.value = o->id;
  fid.value = o->fw_id;
  aid.value = o->agent_id;
  v_msg(w, 1, "id", &oid.base);
  v_msg(w, 2, "framework_id", &fid.base);
  v_msg(w, 3, "agent_id", &aid.base);
  v_str(w, 4, "hostname", o->hostname);
  if (o->has_res) v_res(w, 5, "resources", &o->res);
  v_elem_end(w);
}

static void fw_entry_elem(vw *w, const void *arg) {
  const v1_fw *fw = arg;
  {
    v_elem_begin(w);
    v_packed(w, 1, "framework_info", fw->info, &mesos__v1__framework_info__descriptor);
    v_bool(w, 2, "active", fw->active);
    v_bool(w, 3, "connected", fw->active);
    v_time(w, 4, "registered_time", fw->registered);
    v_time(w, 5, "reregistered_time", fw->reregistered);
    v_arr_begin(w, 7, "offers");
    for (size_t k = 0; k < fw->noffers; k++) offer_elem(w, &fw->offers[k]);
    v_arr_end(w);
    /* Used and offered, added up in the order operator.c's sum_usage
     * walks them (the framework's tasks, its offers). */
    mesos__resources used, offered;
    mesos__resources_init(&used);
    mesos__resources_init(&offered);
    for (size_t k = 0; k < fw->ntasks; k++)
      if (fw->tasks[k].res && mesos__resources_add_all(&used, fw->tasks[k].res) != MESOS_OK)
        vw_fail(w, MESOS_ENOMEM);
    for (size_t k = 0; k < fw->noffers; k++)
      if (fw->offers[k].has_res &&
          mesos__resources_add_all(&offered, &fw->offers[k].res) != MESOS_OK)
        vw_fail(w, MESOS_ENOMEM);
    v_res(w, 9, "allocated_resources", &used);
    v_res(w, 10, "offered_resources", &offered);
    mesos__resources_free(&used);
    mesos__resources_free(&offered);
    v_bool(w, 11, "recovered", 0);
    v_elem_end(w);
  }
}

static void get_frameworks(vw *w, const mesos__v1snap *s) {
  int ej = slot_of(s, MESOS__FRAG_V1_ENTRY_JSON);
  v_arr_begin(w, 1, "frameworks");
  for (size_t i = 0; i < s->nfws && w->st == MESOS_OK; i++) {
    const v1_fw *fw = &s->fws[i];
    if (fw->hidden) continue;
    v_elems(w, fw->hit[ej], fresh_of(fw, ej), fw_entry_elem, fw);
  }
  v_arr_end(w);
  v_arr_begin(w, 2, "completed_frameworks");
  for (size_t i = 0; i < s->ndone && w->st == MESOS_OK; i++) {
    const v1_done_fw *d = &s->done[i];
    if (d->hidden) continue;
    v_elem_begin(w);
    v_packed(w, 1, "framework_info", d->info, &mesos__v1__framework_info__descriptor);
    v_bool(w, 2, "active", 0);
    v_bool(w, 3, "connected", 0);
    v_time(w, 4, "registered_time", d->registered);
    v_time(w, 6, "unregistered_time", d->unregistered);
    v_bool(w, 11, "recovered", 0);
    v_elem_end(w);
  }
  v_arr_end(w);
}

/* One agent's element.  What its live tasks use is added up here, in the
 * agent's own task order (as operator.c's AGENT_ADDED builder walks
 * them). */
static void agent_elem(vw *w, const void *arg) {
  const v1_agent *a = arg;
  mesos__resources used;
  mesos__resources_init(&used);
  for (size_t k = 0; k < a->nused; k++)
    if (mesos__resources_add_all(&used, a->used[k]) != MESOS_OK) vw_fail(w, MESOS_ENOMEM);
  {
    v_elem_begin(w);
    v_packed(w, 1, "agent_info", a->info, &mesos__v1__agent_info__descriptor);
    v_bool(w, 2, "active", a->active);
    v_str(w, 3, "version", API_VERSION);
    char pid[320];
    snprintf(pid, sizeof pid, "slave(1)@%s", a->hostname ? a->hostname : "");
    v_str(w, 4, "pid", pid);
    v_time(w, 5, "registered_time", a->registered);
    v_time(w, 6, "reregistered_time", a->reregistered);
    if (a->has_total) v_res_shown(w, 7, "total_resources", &a->total, a->roles);
    v_res_shown(w, 8, "allocated_resources", &used, a->roles);
    v_res_shown(w, 9, "offered_resources", &a->offered, a->roles);
    if (a->has_deactivated) v_bool(w, 12, "deactivated", a->deactivated);
    if (a->drain.p) v_packed(w, 13, "drain_info", a->drain, &mesos__v1__drain_info__descriptor);
    v_elem_end(w);
  }
  mesos__resources_free(&used);
}

static void get_agents(vw *w, const mesos__v1snap *s) {
  v_arr_begin(w, 1, "agents");
  for (size_t i = 0; i < s->nagents && w->st == MESOS_OK; i++) {
    const v1_agent *a = &s->agents[i];
    v_elems(w, a->hit, a->fresh, agent_elem, a);
  }
  v_arr_end(w);
  v_arr_begin(w, 2, "recovered_agents");
  for (size_t i = 0; i < s->nrecovered && w->st == MESOS_OK; i++)
    v_elem_packed(w, s->recovered[i], &mesos__v1__agent_info__descriptor);
  v_arr_end(w);
}

static void get_state(vw *w, const mesos__v1snap *s) {
  v_sec_begin(w, 1, "get_tasks");
  get_tasks(w, s);
  v_sec_end(w);
  v_sec_begin(w, 2, "get_executors");
  get_executors(w, s);
  v_sec_end(w);
  v_sec_begin(w, 3, "get_frameworks");
  get_frameworks(w, s);
  v_sec_end(w);
  v_sec_begin(w, 4, "get_agents");
  get_agents(w, s);
  v_sec_end(w);
}

/* The Response of the call (or the SUBSCRIBED Event), top level. */
static void response(vw *w, const mesos__v1snap *s) {
  if (!w->pb) j_open(w);
  if (s->call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE) {
    v_enum(w, 1, "type", MESOS__V1__MASTER__EVENT__TYPE__SUBSCRIBED,
           &mesos__v1__master__event__type__descriptor);
    v_sec_begin(w, 2, "subscribed");
    v_sec_begin(w, 1, "get_state");
    get_state(w, s);
    v_sec_end(w);
    if (w->pb) {
      pb_tag(w, 2, 1);
      uint64_t bits;
      double hb = s->heartbeat_s;
      memcpy(&bits, &hb, sizeof bits);
      uint8_t le[8];
      for (int i = 0; i < 8; i++) le[i] = (uint8_t)(bits >> (8 * i));
      vw_put(w, le, 8);
    } else {
      /* The double as the generic encoder writes it: its members. */
      Mesos__V1__Master__Event__Subscribed sub = MESOS__V1__MASTER__EVENT__SUBSCRIBED__INIT;
      sub.has_heartbeat_interval_seconds = 1;
      sub.heartbeat_interval_seconds = s->heartbeat_s;
      mesos__buf tmp = MESOS__BUF_INIT(4096);
      mesos_status st = mesos__json_encode(&sub.base, &tmp, NULL);
      if (st != MESOS_OK || tmp.len < 2) {
        vw_fail(w, st != MESOS_OK ? st : MESOS_EINVAL);
      } else {
        vw_putc(w, ',');
        vw_put(w, tmp.data + 1, tmp.len - 2);
      }
      mesos__buf_free(&tmp);
    }
    v_sec_end(w);
  } else {
    int type;
    switch (s->call) {
      case MESOS__V1__MASTER__CALL__TYPE__GET_AGENTS:
        type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_AGENTS;
        break;
      case MESOS__V1__MASTER__CALL__TYPE__GET_FRAMEWORKS:
        type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_FRAMEWORKS;
        break;
      case MESOS__V1__MASTER__CALL__TYPE__GET_EXECUTORS:
        type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_EXECUTORS;
        break;
      case MESOS__V1__MASTER__CALL__TYPE__GET_TASKS:
        type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_TASKS;
        break;
      default:
        type = MESOS__V1__MASTER__RESPONSE__TYPE__GET_STATE;
        break;
    }
    v_enum(w, 1, "type", type, &mesos__v1__master__response__type__descriptor);
    switch (type) {
      case MESOS__V1__MASTER__RESPONSE__TYPE__GET_AGENTS:
        v_sec_begin(w, 10, "get_agents");
        get_agents(w, s);
        break;
      case MESOS__V1__MASTER__RESPONSE__TYPE__GET_FRAMEWORKS:
        v_sec_begin(w, 11, "get_frameworks");
        get_frameworks(w, s);
        break;
      case MESOS__V1__MASTER__RESPONSE__TYPE__GET_EXECUTORS:
        v_sec_begin(w, 12, "get_executors");
        get_executors(w, s);
        break;
      case MESOS__V1__MASTER__RESPONSE__TYPE__GET_TASKS:
        v_sec_begin(w, 13, "get_tasks");
        get_tasks(w, s);
        break;
      default:
        v_sec_begin(w, 9, "get_state");
        get_state(w, s);
        break;
    }
    v_sec_end(w);
  }
  if (!w->pb) j_close(w);
}

mesos_status mesos__v1snap_render_chunks(const mesos__v1snap *s, mesos__media media,
                                         mesos__chunks *out) {
  /* Cache mode: fragments are in the snapshot's one media. */
  if (s->cache && media != s->media) return MESOS_EINVAL;
  vw w;
  memset(&w, 0, sizeof w);
  w.pb = media == MESOS__MEDIA_PROTOBUF;
  w.out = out;
  w.cache = s->cache != NULL;
  w.st = vw_new_block(&w);
  /* SUBSCRIBED is one RecordIO record: "<length>\n" in a chunk of its
   * own, filled in at the end. */
  size_t rec_piece = 0, rec_total = 0;
  int sub = s->call == MESOS__V1__MASTER__CALL__TYPE__SUBSCRIBE;
  if (sub && w.st == MESOS_OK) {
    char *h = mesos__malloc(32);
    if (h == NULL || mesos__state_chunks_push(out, h, 0, 32, NULL) != MESOS_OK) {
      mesos__free(h);
      w.st = MESOS_ENOMEM;
    }
    rec_piece = out->n - 1;
    rec_total = out->total;
  }
  if (w.st == MESOS_OK) response(&w, s);
  vw_flush(&w);
  if (w.st == MESOS_OK && sub) {
    mesos__chunk *h = &out->v[rec_piece];
    int n = snprintf(h->data, 32, "%zu\n", out->total - rec_total);
    h->len = n > 0 ? (size_t)n : 0;
    out->total += h->len;
  }
  /* The last block (its pieces hold their own references). */
  vw_release(&w);
  return w.st;
}

mesos_status mesos__v1snap_render(const mesos__v1snap *s, mesos__media media, mesos__buf *out) {
  mesos__chunks c;
  memset(&c, 0, sizeof c);
  mesos_status st = mesos__v1snap_render_chunks(s, media, &c);
  for (size_t i = 0; st == MESOS_OK && i < c.n; i++)
    st = mesos__buf_append(out, c.v[i].data, c.v[i].len);
  mesos__state_chunks_free(&c);
  return st;
}

#include "registry/registry.h"

#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "codec/pb.h"
#include "registry/log.h"

typedef Mesos__Internal__Registry Registry;
typedef Mesos__Internal__RegistryOperation Op;
typedef Mesos__Internal__RegistryEntry Entry;
typedef Mesos__Internal__Registry__Agent Agent;
typedef Mesos__Internal__Registry__UnreachableAgent Unreach;
typedef Mesos__Internal__Registry__GoneAgent Gone;
typedef Mesos__V1__MachineID MachineID;
typedef Mesos__V1__MachineInfo MachineInfo;
typedef Mesos__V1__Maintenance__Schedule Schedule;
typedef Mesos__V1__Maintenance__Window Window;

#define NPOS ((size_t)-1)

/* Where an agent id lives in the state, so that lookups by id stay O(1)
 * however many agents a cluster has (a linear scan made admitting 10,000
 * agents quadratic: 90% of the time went to strcmp). */
enum { LIST_NONE, LIST_AGENTS, LIST_UNREACHABLE, LIST_GONE };

typedef struct {
  int list;   /* LIST_*; LIST_NONE while an admission is being prepared */
  size_t idx; /* index in that repeated field */
} agent_loc;

struct mesos__registry {
  Registry *state;
  mesos__map index; /* agent id -> agent_loc (owned), over all three lists */
  mesos__rlog *log; /* NULL in memory */
  uint64_t seq;     /* sequence of the last applied operation */
  uint32_t compact_every;
  size_t max;
};

/* ---- helpers ---- */

/* Deep copy through the wire format: protobuf-c has no copy, and the
 * unpacked copy is allocated exactly as the state's own parts are, so it
 * can be grafted into the state and freed with it. */
static mesos_status dup_msg(const ProtobufCMessage *m, void *out, mesos_error **err) {
  uint8_t *buf = NULL;
  size_t len = 0;
  mesos_status s = mesos__pb_pack(m, MESOS__RECORD_MAX_LIMIT, &buf, &len, err);
  if (s != MESOS_OK) return s;
  s = mesos__pb_unpack(m->descriptor, buf, len, MESOS__RECORD_MAX_LIMIT, 0,
                       (ProtobufCMessage **)out, err);
  mesos__free(buf);
  return s;
}

static const char *str_or_empty(const char *s) { return s ? s : ""; }

static const char *agent_id_of(const Mesos__V1__AgentID *id) {
  return id ? str_or_empty(id->value) : "";
}

static size_t find_in(const mesos__registry *r, const char *id, int list) {
  const agent_loc *l = mesos__map_get(&r->index, id);
  return l != NULL && l->list == list ? l->idx : NPOS;
}

static size_t find_agent(const mesos__registry *r, const char *id) {
  return find_in(r, id, LIST_AGENTS);
}

static size_t find_unreach(const mesos__registry *r, const char *id) {
  return find_in(r, id, LIST_UNREACHABLE);
}

static size_t find_gone(const mesos__registry *r, const char *id) {
  return find_in(r, id, LIST_GONE);
}

/* The agent id of an entry of `list`. */
static const char *entry_id(int list, const void *e) {
  switch (list) {
    case LIST_AGENTS: return agent_id_of(((const Agent *)e)->info->id);
    case LIST_UNREACHABLE: return agent_id_of(((const Unreach *)e)->id);
    default: return agent_id_of(((const Gone *)e)->id);
  }
}

static void index_free(mesos__registry *r) {
  const char *k;
  void *v;
  for (size_t it = 0; mesos__map_next(&r->index, &it, &k, &v);) mesos__free(v);
  mesos__map_free(&r->index);
  mesos__map_init(&r->index);
}

/* Indexes the state from scratch (after loading a snapshot).  An id in two
 * places, or none, cannot come from our own operations: EPROTO. */
static mesos_status index_build(mesos__registry *r, mesos_error **err) {
  index_free(r);
  Registry *st = r->state;
  void **lists[] = {NULL, (void **)st->agents, (void **)st->unreachable, (void **)st->gone};
  size_t counts[] = {0, st->n_agents, st->n_unreachable, st->n_gone};
  for (int list = LIST_AGENTS; list <= LIST_GONE; list++) {
    for (size_t i = 0; i < counts[list]; i++) {
      const char *id = entry_id(list, lists[list][i]);
      if (id[0] == '\0') return mesos__err(err, MESOS_EPROTO, "registry entry without agent id");
      if (mesos__map_get(&r->index, id) != NULL)
        return mesos__err(err, MESOS_EPROTO, "agent %s appears twice in the registry", id);
      agent_loc *l = MESOS__NEW(agent_loc);
      if (l == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      l->list = list;
      l->idx = i;
      if (mesos__map_put(&r->index, id, l) != MESOS_OK) {
        mesos__free(l);
        return mesos__err(err, MESOS_ENOMEM, "out of memory");
      }
    }
  }
  return MESOS_OK;
}

static bool machine_eq(const MachineID *a, const MachineID *b) {
  return strcmp(str_or_empty(a->hostname), str_or_empty(b->hostname)) == 0 &&
         strcmp(str_or_empty(a->ip), str_or_empty(b->ip)) == 0;
}

static MachineInfo *find_machine(const Registry *st, const MachineID *id) {
  for (size_t i = 0; i < st->n_machines; i++)
    if (machine_eq(st->machines[i]->id, id)) return st->machines[i];
  return NULL;
}

static bool in_machine_list(MachineID *const *list, size_t n, const MachineID *id) {
  for (size_t i = 0; i < n; i++)
    if (machine_eq(list[i], id)) return true;
  return false;
}

static bool scheduled(const Schedule *s, const MachineID *id) {
  for (size_t w = 0; w < s->n_windows; w++)
    if (in_machine_list(s->windows[w]->machine_ids, s->windows[w]->n_machine_ids, id))
      return true;
  return false;
}

static const char *machine_name(const MachineID *id) {
  return id->hostname && id->hostname[0] ? id->hostname : str_or_empty(id->ip);
}

/* Makes room for one more pointer at the end of a repeated field, so that
 * the commit after the durable append cannot fail. */
static mesos_status reserve(void ***arr, size_t n, mesos_error **err) {
  size_t bytes;
  if (!mesos__size_add(&bytes, n, 1) || !mesos__size_mul(&bytes, bytes, sizeof(void *)))
    return mesos__err(err, MESOS_ELIMIT, "registry too large");
  void **p = mesos__realloc(*arr, bytes);
  if (p == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  *arr = p;
  return MESOS_OK;
}

/* Removes entry i of `list` by moving the last entry into its place (O(1);
 * the order of agents means nothing, and replay reproduces it exactly). */
static void remove_at(mesos__registry *r, int list, void **arr, size_t *n, size_t i) {
  mesos__pb_free(arr[i]);
  if (i != *n - 1) {
    arr[i] = arr[*n - 1];
    agent_loc *l = mesos__map_get(&r->index, entry_id(list, arr[i]));
    l->idx = i;
  }
  (*n)--;
}

/* ---- operations: check and prepare, then commit ----
 *
 * An operation is applied in two halves.  prepare() checks it against the
 * state and builds everything the change needs (copies of new entries,
 * whole new collections, array room) without touching the state; then the
 * operation is appended to the log; then commit() links the prepared parts
 * in with pointer moves only, which cannot fail.  So a failed check or a
 * failed append leaves the state exactly as it was, and a durable
 * operation is never half-applied in memory. */

typedef struct {
  const char *id;     /* the agent the operation is about (borrowed from it) */
  agent_loc *new_loc; /* an admission's index entry, in the index already */
  bool forget;        /* REMOVE_AGENT: drop the id from the index */
  size_t agent_idx;   /* admitted entry to drop or replace */
  size_t unreach_idx; /* unreachable entry to drop */
  size_t gone_idx;    /* gone entry to drop */
  bool replace_agent; /* new_agent replaces agents[agent_idx] */
  bool replace_unreach; /* new_unreach replaces unreachable[unreach_idx] */
  Agent *new_agent;
  Unreach *new_unreach;
  Gone *new_gone;
  Registry *scratch; /* holds the new collections below */
  bool weights, quotas, schedules, machines;
  bool start_maintenance;
} plan;

static void plan_free(mesos__registry *r, plan *p) {
  if (p->new_loc != NULL) { /* not committed: take the placeholder out */
    mesos__map_remove(&r->index, p->id);
    mesos__free(p->new_loc);
  }
  mesos__pb_free(p->new_agent);
  mesos__pb_free(p->new_unreach);
  mesos__pb_free(p->new_gone);
  mesos__pb_free(p->scratch);
}

static mesos_status need_agent_info(const Op *op, const char **id, mesos_error **err) {
  if (op->agent_info == NULL || op->agent_info->id == NULL)
    return mesos__err(err, MESOS_EINVAL, "operation needs agent_info with an id");
  *id = agent_id_of(op->agent_info->id);
  if ((*id)[0] == '\0') return mesos__err(err, MESOS_EINVAL, "operation has an empty agent id");
  if (op->agent_id != NULL && strcmp(agent_id_of(op->agent_id), *id) != 0)
    return mesos__err(err, MESOS_EINVAL, "agent_id %s differs from agent_info.id %s",
                      agent_id_of(op->agent_id), *id);
  return MESOS_OK;
}

static mesos_status need_agent_id(const Op *op, bool timestamp, const char **id,
                                  mesos_error **err) {
  *id = agent_id_of(op->agent_id);
  if ((*id)[0] == '\0') return mesos__err(err, MESOS_EINVAL, "operation needs agent_id");
  if (timestamp && op->timestamp == NULL)
    return mesos__err(err, MESOS_EINVAL, "operation needs a timestamp");
  return MESOS_OK;
}

static mesos_status copy_agent(const Op *op, bool full, Agent **out, mesos_error **err) {
  Agent view = MESOS__INTERNAL__REGISTRY__AGENT__INIT;
  view.info = op->agent_info;
  view.n_resources = op->n_resources;
  view.resources = op->resources;
  if (full) {
    view.drain_info = op->drain_info;
    view.has_deactivated = op->has_deactivated;
    view.deactivated = op->deactivated;
  }
  return dup_msg(&view.base, out, err);
}

static mesos_status prep_admit(mesos__registry *r, const Op *op, plan *p, bool readmit,
                               mesos_error **err) {
  const char *id;
  mesos_status s = need_agent_info(op, &id, err);
  if (s != MESOS_OK) return s;
  if (find_gone(r, id) != NPOS)
    return mesos__err(err, MESOS_EPERM, "agent %s was marked gone and may not come back", id);
  if (find_agent(r, id) != NPOS)
    return mesos__err(err, MESOS_EEXIST, "agent %s is already admitted", id);
  size_t u = find_unreach(r, id);
  if (!readmit && u != NPOS)
    return mesos__err(err, MESOS_EEXIST, "agent %s is unreachable; readmit it instead", id);
  if (readmit && u == NPOS)
    return mesos__err(err, MESOS_ENOTFOUND, "agent %s is not unreachable", id);
  p->id = id;
  p->unreach_idx = u;
  Registry *st = r->state;
  s = reserve((void ***)&st->agents, st->n_agents, err);
  if (s == MESOS_OK && readmit) {
    /* The record comes back as it was when the agent was marked
     * unreachable: its reservations and volumes, drain state and
     * deactivation (Mesos's MarkSlaveReachable carries drain_info and
     * deactivated over the same way). */
    const Unreach *u0 = st->unreachable[u];
    Agent view = MESOS__INTERNAL__REGISTRY__AGENT__INIT;
    view.info = op->agent_info;
    view.n_resources = u0->n_resources;
    view.resources = u0->resources;
    view.drain_info = u0->drain_info;
    view.has_deactivated = u0->has_deactivated;
    view.deactivated = u0->deactivated;
    return dup_msg(&view.base, &p->new_agent, err);
  }
  if (s == MESOS_OK) s = copy_agent(op, false, &p->new_agent, err);
  if (s != MESOS_OK || readmit) return s;
  /* A new id: its index entry is made now, while failing is still
   * harmless, and taken out again by plan_free if the append fails. */
  agent_loc *l = MESOS__NEW(agent_loc);
  if (l == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (mesos__map_put(&r->index, id, l) != MESOS_OK) {
    mesos__free(l);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  p->new_loc = l;
  return MESOS_OK;
}

static mesos_status prep_unreachable(mesos__registry *r, const Op *op, plan *p,
                                     mesos_error **err) {
  const char *id;
  mesos_status s = need_agent_id(op, true, &id, err);
  if (s != MESOS_OK) return s;
  if ((p->agent_idx = find_agent(r, id)) == NPOS)
    return mesos__err(err, MESOS_ENOTFOUND, "agent %s is not admitted", id);
  p->id = id;
  Registry *st = r->state;
  Unreach view = MESOS__INTERNAL__REGISTRY__UNREACHABLE_AGENT__INIT;
  view.id = op->agent_id;
  view.timestamp = op->timestamp;
  /* Kept for the agent's readmission (see prep_admit). */
  const Agent *was = st->agents[p->agent_idx];
  view.n_resources = was->n_resources;
  view.resources = was->resources;
  view.drain_info = was->drain_info;
  view.has_deactivated = was->has_deactivated;
  view.deactivated = was->deactivated;
  s = reserve((void ***)&st->unreachable, st->n_unreachable, err);
  if (s == MESOS_OK) s = dup_msg(&view.base, &p->new_unreach, err);
  return s;
}

static mesos_status prep_gone(mesos__registry *r, const Op *op, plan *p, mesos_error **err) {
  const char *id;
  mesos_status s = need_agent_id(op, true, &id, err);
  if (s != MESOS_OK) return s;
  if (find_gone(r, id) != NPOS)
    return mesos__err(err, MESOS_EEXIST, "agent %s is already gone", id);
  p->agent_idx = find_agent(r, id);
  p->unreach_idx = find_unreach(r, id);
  if (p->agent_idx == NPOS && p->unreach_idx == NPOS)
    return mesos__err(err, MESOS_ENOTFOUND, "agent %s is neither admitted nor unreachable", id);
  p->id = id;
  Registry *st = r->state;
  Gone view = MESOS__INTERNAL__REGISTRY__GONE_AGENT__INIT;
  view.id = op->agent_id;
  view.timestamp = op->timestamp;
  s = reserve((void ***)&st->gone, st->n_gone, err);
  if (s == MESOS_OK) s = dup_msg(&view.base, &p->new_gone, err);
  return s;
}

static mesos_status prep_remove(mesos__registry *r, const Op *op, plan *p, mesos_error **err) {
  const char *id;
  mesos_status s = need_agent_id(op, false, &id, err);
  if (s != MESOS_OK) return s;
  p->agent_idx = find_agent(r, id);
  p->unreach_idx = find_unreach(r, id);
  p->gone_idx = find_gone(r, id);
  if (p->agent_idx == NPOS && p->unreach_idx == NPOS && p->gone_idx == NPOS)
    return mesos__err(err, MESOS_ENOTFOUND, "agent %s is not in the registry", id);
  p->id = id;
  p->forget = true;
  return MESOS_OK;
}

/* UPDATE_AGENT of an unreachable agent names it by agent_id alone (the
 * master has no AgentInfo of it): its kept drain state, deactivation and
 * resources are replaced, as Mesos's DrainAgent/DeactivateAgent do on the
 * unreachable list. */
static mesos_status prep_update_unreachable(mesos__registry *r, const Op *op, plan *p,
                                            mesos_error **err) {
  const char *id;
  mesos_status s = need_agent_id(op, false, &id, err);
  if (s != MESOS_OK) return s;
  if ((p->unreach_idx = find_unreach(r, id)) == NPOS)
    return mesos__err(err, MESOS_ENOTFOUND, "agent %s is not unreachable", id);
  p->id = id;
  const Unreach *was = r->state->unreachable[p->unreach_idx];
  Unreach view = MESOS__INTERNAL__REGISTRY__UNREACHABLE_AGENT__INIT;
  view.id = was->id;
  view.timestamp = was->timestamp;
  view.n_resources = op->n_resources;
  view.resources = op->resources;
  view.drain_info = op->drain_info;
  view.has_deactivated = op->has_deactivated;
  view.deactivated = op->deactivated;
  p->replace_unreach = true;
  return dup_msg(&view.base, &p->new_unreach, err);
}

static mesos_status prep_update_agent(mesos__registry *r, const Op *op, plan *p,
                                      mesos_error **err) {
  const char *id;
  if (op->agent_info == NULL) return prep_update_unreachable(r, op, p, err);
  mesos_status s = need_agent_info(op, &id, err);
  if (s != MESOS_OK) return s;
  if ((p->agent_idx = find_agent(r, id)) == NPOS)
    return mesos__err(err, MESOS_ENOTFOUND, "agent %s is not admitted", id);
  p->replace_agent = true;
  return copy_agent(op, true, &p->new_agent, err);
}

/* Builds p->scratch from a view whose repeated fields borrow pointers. */
static mesos_status take_view(Registry *view, plan *p, mesos_error **err) {
  return dup_msg(&view->base, &p->scratch, err);
}

static mesos_status prep_weights(const Registry *st, const Op *op, plan *p, mesos_error **err) {
  if (op->n_weights == 0) return mesos__err(err, MESOS_EINVAL, "UPDATE_WEIGHTS without weights");
  for (size_t i = 0; i < op->n_weights; i++) {
    const Mesos__V1__WeightInfo *w = op->weights[i];
    if (w->role == NULL || w->role[0] == '\0')
      return mesos__err(err, MESOS_EINVAL, "weight %zu has no role", i);
    if (!isfinite(w->weight) || w->weight <= 0)
      return mesos__err(err, MESOS_EINVAL, "weight of role %s must be a positive number",
                        w->role);
    for (size_t j = 0; j < i; j++)
      if (strcmp(op->weights[j]->role, w->role) == 0)
        return mesos__err(err, MESOS_EINVAL, "role %s is given two weights", w->role);
  }
  size_t cap;
  if (!mesos__size_add(&cap, st->n_weights, op->n_weights))
    return mesos__err(err, MESOS_ELIMIT, "too many weights");
  Mesos__V1__WeightInfo **arr = mesos__calloc(cap ? cap : 1, sizeof *arr);
  if (arr == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t n = 0;
  /* Existing roles keep their place; new ones go at the end; weight 1.0
   * is the default and is not stored. */
  for (size_t i = 0; i < st->n_weights; i++) {
    Mesos__V1__WeightInfo *w = st->weights[i];
    for (size_t j = 0; j < op->n_weights; j++)
      if (strcmp(str_or_empty(w->role), op->weights[j]->role) == 0) w = op->weights[j];
    if (w->weight != 1.0) arr[n++] = w;
  }
  for (size_t j = 0; j < op->n_weights; j++) {
    bool known = false;
    for (size_t i = 0; i < st->n_weights && !known; i++)
      known = strcmp(str_or_empty(st->weights[i]->role), op->weights[j]->role) == 0;
    if (!known && op->weights[j]->weight != 1.0) arr[n++] = op->weights[j];
  }
  Registry view = MESOS__INTERNAL__REGISTRY__INIT;
  view.n_weights = n;
  view.weights = arr;
  mesos_status s = take_view(&view, p, err);
  mesos__free(arr);
  p->weights = true;
  return s;
}

/* One entry of a quota config's guarantees or limits map.  The two maps'
 * generated entry types differ, so each is read into these first. */
typedef struct {
  const char *key;
  const Mesos__V1__Value__Scalar *value;
} quota_kv;

/* Checks one scalar map (guarantees or limits) of a quota config. */
static mesos_status check_quota_map(const char *role, const char *what, const quota_kv *e,
                                    size_t n, mesos_error **err) {
  for (size_t i = 0; i < n; i++) {
    if (e[i].key == NULL || e[i].key[0] == '\0')
      return mesos__err(err, MESOS_EINVAL, "quota of role %s: %s entry without a name", role,
                        what);
    if (e[i].value == NULL || !isfinite(e[i].value->value) || e[i].value->value < 0)
      return mesos__err(err, MESOS_EINVAL,
                        "quota of role %s: %s of %s must be a non-negative number", role, what,
                        e[i].key);
    for (size_t j = 0; j < i; j++)
      if (strcmp(e[j].key, e[i].key) == 0)
        return mesos__err(err, MESOS_EINVAL, "quota of role %s: %s of %s given twice", role,
                          what, e[i].key);
  }
  return MESOS_OK;
}

static mesos_status check_quota(const Mesos__V1__Quota__QuotaConfig *q, mesos_error **err) {
  if (q->role == NULL || q->role[0] == '\0')
    return mesos__err(err, MESOS_EINVAL, "quota without a role");
  quota_kv *g = mesos__calloc(q->n_guarantees + 1, sizeof *g);
  quota_kv *l = mesos__calloc(q->n_limits + 1, sizeof *l);
  mesos_status s = MESOS_OK;
  if (g == NULL || l == NULL) {
    s = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < q->n_guarantees; i++)
    g[i] = (quota_kv){q->guarantees[i]->key, q->guarantees[i]->value};
  for (size_t i = 0; i < q->n_limits; i++)
    l[i] = (quota_kv){q->limits[i]->key, q->limits[i]->value};
  s = check_quota_map(q->role, "guarantee", g, q->n_guarantees, err);
  if (s == MESOS_OK) s = check_quota_map(q->role, "limit", l, q->n_limits, err);
  for (size_t i = 0; s == MESOS_OK && i < q->n_guarantees; i++)
    for (size_t j = 0; s == MESOS_OK && j < q->n_limits; j++)
      if (strcmp(g[i].key, l[j].key) == 0 && l[j].value->value < g[i].value->value)
        s = mesos__err(err, MESOS_EINVAL, "quota of role %s: limit of %s is below its guarantee",
                       q->role, l[j].key);
out:
  mesos__free(g);
  mesos__free(l);
  return s;
}

static mesos_status prep_quota(const Registry *st, const Op *op, plan *p, mesos_error **err) {
  if (op->n_quotas == 0) return mesos__err(err, MESOS_EINVAL, "UPDATE_QUOTA without quotas");
  for (size_t i = 0; i < op->n_quotas; i++) {
    mesos_status s = check_quota(op->quotas[i], err);
    if (s != MESOS_OK) return s;
    for (size_t j = 0; j < i; j++)
      if (strcmp(op->quotas[j]->role, op->quotas[i]->role) == 0)
        return mesos__err(err, MESOS_EINVAL, "role %s is given two quotas", op->quotas[i]->role);
  }
  size_t cap;
  if (!mesos__size_add(&cap, st->n_quotas, op->n_quotas))
    return mesos__err(err, MESOS_ELIMIT, "too many quotas");
  Mesos__V1__Quota__QuotaConfig **arr = mesos__calloc(cap ? cap : 1, sizeof *arr);
  if (arr == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  size_t n = 0;
  for (size_t i = 0; i < st->n_quotas; i++) {
    Mesos__V1__Quota__QuotaConfig *q = st->quotas[i];
    for (size_t j = 0; j < op->n_quotas; j++)
      if (strcmp(str_or_empty(q->role), op->quotas[j]->role) == 0) q = op->quotas[j];
    if (q->n_guarantees > 0 || q->n_limits > 0) arr[n++] = q;
  }
  for (size_t j = 0; j < op->n_quotas; j++) {
    bool known = false;
    for (size_t i = 0; i < st->n_quotas && !known; i++)
      known = strcmp(str_or_empty(st->quotas[i]->role), op->quotas[j]->role) == 0;
    if (!known && (op->quotas[j]->n_guarantees > 0 || op->quotas[j]->n_limits > 0))
      arr[n++] = op->quotas[j];
  }
  /* The setters: the old ones of roles the operation leaves alone, then
   * the operation's for the roles it gives a quota. */
  size_t scap;
  if (!mesos__size_add(&scap, st->n_quota_setters, op->n_quota_setters)) {
    mesos__free(arr);
    return mesos__err(err, MESOS_ELIMIT, "too many quota setters");
  }
  Mesos__Internal__Registry__QuotaSetter **set = mesos__calloc(scap ? scap : 1, sizeof *set);
  if (set == NULL) {
    mesos__free(arr);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  size_t ns = 0;
  for (size_t i = 0; i < st->n_quota_setters; i++) {
    bool replaced = false;
    for (size_t j = 0; j < op->n_quotas && !replaced; j++)
      replaced = strcmp(str_or_empty(st->quota_setters[i]->role), op->quotas[j]->role) == 0;
    if (!replaced) set[ns++] = st->quota_setters[i];
  }
  for (size_t k = 0; k < op->n_quota_setters; k++) {
    const Mesos__Internal__Registry__QuotaSetter *qs = op->quota_setters[k];
    bool set_now = false;
    for (size_t j = 0; j < op->n_quotas && !set_now; j++)
      set_now = strcmp(str_or_empty(qs->role), op->quotas[j]->role) == 0 &&
                (op->quotas[j]->n_guarantees > 0 || op->quotas[j]->n_limits > 0);
    if (set_now && qs->principal) set[ns++] = op->quota_setters[k];
  }
  Registry view = MESOS__INTERNAL__REGISTRY__INIT;
  view.n_quotas = n;
  view.quotas = arr;
  view.n_quota_setters = ns;
  view.quota_setters = set;
  mesos_status s = take_view(&view, p, err);
  mesos__free(arr);
  mesos__free(set);
  p->quotas = true;
  return s;
}

static mesos_status check_machine_id(const MachineID *m, mesos_error **err) {
  if ((m->hostname == NULL || m->hostname[0] == '\0') && (m->ip == NULL || m->ip[0] == '\0'))
    return mesos__err(err, MESOS_EINVAL, "machine id needs a hostname or an ip");
  return MESOS_OK;
}

static mesos_status prep_schedule(const Registry *st, const Op *op, plan *p,
                                  mesos_error **err) {
  const Schedule *sch = op->schedule;
  if (sch == NULL) return mesos__err(err, MESOS_EINVAL, "UPDATE_SCHEDULE without a schedule");
  size_t total = 0;
  for (size_t w = 0; w < sch->n_windows; w++) {
    const Window *win = sch->windows[w];
    if (win->n_machine_ids == 0 || win->unavailability == NULL)
      return mesos__err(err, MESOS_EINVAL,
                        "maintenance window %zu needs machines and an unavailability", w);
    for (size_t m = 0; m < win->n_machine_ids; m++) {
      const MachineID *id = win->machine_ids[m];
      mesos_status s = check_machine_id(id, err);
      if (s != MESOS_OK) return s;
      /* Earlier in this window or in an earlier one: listed twice. */
      bool twice = in_machine_list(win->machine_ids, m, id);
      for (size_t v = 0; v < w && !twice; v++)
        twice = in_machine_list(sch->windows[v]->machine_ids, sch->windows[v]->n_machine_ids, id);
      if (twice)
        return mesos__err(err, MESOS_EINVAL, "machine %s is in the schedule twice",
                          machine_name(id));
      total++;
    }
  }
  for (size_t i = 0; i < st->n_machines; i++) {
    const MachineInfo *mi = st->machines[i];
    if (mi->mode == MESOS__V1__MACHINE_INFO__MODE__DOWN && !scheduled(sch, mi->id))
      return mesos__err(err, MESOS_EINVAL,
                        "machine %s is down for maintenance and cannot leave the schedule; "
                        "stop its maintenance first",
                        machine_name(mi->id));
  }
  MachineInfo *tmp = mesos__calloc(total ? total : 1, sizeof *tmp);
  MachineInfo **arr = mesos__calloc(total ? total : 1, sizeof *arr);
  if (tmp == NULL || arr == NULL) {
    mesos__free(tmp);
    mesos__free(arr);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  size_t k = 0;
  for (size_t w = 0; w < sch->n_windows; w++) {
    for (size_t m = 0; m < sch->windows[w]->n_machine_ids; m++, k++) {
      const MachineInfo *old = find_machine(st, sch->windows[w]->machine_ids[m]);
      mesos__v1__machine_info__init(&tmp[k]);
      tmp[k].id = sch->windows[w]->machine_ids[m];
      tmp[k].has_mode = true;
      tmp[k].mode = old ? old->mode : MESOS__V1__MACHINE_INFO__MODE__DRAINING;
      tmp[k].unavailability = sch->windows[w]->unavailability;
      arr[k] = &tmp[k];
    }
  }
  Registry view = MESOS__INTERNAL__REGISTRY__INIT;
  Schedule *one = (Schedule *)sch;
  view.n_schedules = sch->n_windows > 0 ? 1 : 0;
  view.schedules = &one;
  view.n_machines = total;
  view.machines = arr;
  mesos_status s = take_view(&view, p, err);
  mesos__free(tmp);
  mesos__free(arr);
  p->schedules = p->machines = true;
  return s;
}

static mesos_status check_maintenance_machines(const Registry *st, const Op *op,
                                               Mesos__V1__MachineInfo__Mode want,
                                               mesos_error **err) {
  if (op->n_machines == 0)
    return mesos__err(err, MESOS_EINVAL, "maintenance operation without machines");
  for (size_t i = 0; i < op->n_machines; i++) {
    mesos_status s = check_machine_id(op->machines[i], err);
    if (s != MESOS_OK) return s;
    const MachineInfo *mi = find_machine(st, op->machines[i]);
    if (mi == NULL)
      return mesos__err(err, MESOS_ENOTFOUND, "machine %s is not scheduled for maintenance",
                        machine_name(op->machines[i]));
    if (mi->mode != want)
      return mesos__err(err, MESOS_EINVAL, "machine %s is %s", machine_name(op->machines[i]),
                        mi->mode == MESOS__V1__MACHINE_INFO__MODE__DOWN
                            ? "already down for maintenance"
                            : "not down for maintenance");
  }
  return MESOS_OK;
}

static mesos_status prep_stop(const Registry *st, const Op *op, plan *p, mesos_error **err) {
  mesos_status s =
      check_maintenance_machines(st, op, MESOS__V1__MACHINE_INFO__MODE__DOWN, err);
  if (s != MESOS_OK) return s;
  /* Borrowed views of the schedules without the stopped machines. */
  size_t nwin = 0, nids = 0;
  for (size_t i = 0; i < st->n_schedules; i++) {
    nwin += st->schedules[i]->n_windows;
    for (size_t w = 0; w < st->schedules[i]->n_windows; w++)
      nids += st->schedules[i]->windows[w]->n_machine_ids;
  }
  Schedule *scheds = mesos__calloc(st->n_schedules + 1, sizeof *scheds);
  Schedule **sched_ptrs = mesos__calloc(st->n_schedules + 1, sizeof *sched_ptrs);
  Window *wins = mesos__calloc(nwin + 1, sizeof *wins);
  Window **win_ptrs = mesos__calloc(nwin + 1, sizeof *win_ptrs);
  MachineID **ids = mesos__calloc(nids + 1, sizeof *ids);
  MachineInfo **machines = mesos__calloc(st->n_machines + 1, sizeof *machines);
  if (!scheds || !sched_ptrs || !wins || !win_ptrs || !ids || !machines) {
    s = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto out;
  }
  size_t ns = 0, wi = 0, ii = 0;
  for (size_t i = 0; i < st->n_schedules; i++) {
    Schedule *sc = &scheds[ns];
    mesos__v1__maintenance__schedule__init(sc);
    sc->windows = &win_ptrs[wi];
    for (size_t w = 0; w < st->schedules[i]->n_windows; w++) {
      const Window *old = st->schedules[i]->windows[w];
      Window *nw = &wins[wi];
      mesos__v1__maintenance__window__init(nw);
      nw->machine_ids = &ids[ii];
      nw->unavailability = old->unavailability;
      for (size_t m = 0; m < old->n_machine_ids; m++)
        if (!in_machine_list(op->machines, op->n_machines, old->machine_ids[m]))
          ids[ii + nw->n_machine_ids++] = old->machine_ids[m];
      if (nw->n_machine_ids == 0) continue; /* an emptied window goes */
      ii += nw->n_machine_ids;
      win_ptrs[wi++] = nw;
      sc->n_windows++;
    }
    if (sc->n_windows > 0) sched_ptrs[ns++] = sc;
  }
  size_t nm = 0;
  for (size_t i = 0; i < st->n_machines; i++)
    if (!in_machine_list(op->machines, op->n_machines, st->machines[i]->id))
      machines[nm++] = st->machines[i];
  Registry view = MESOS__INTERNAL__REGISTRY__INIT;
  view.n_schedules = ns;
  view.schedules = sched_ptrs;
  view.n_machines = nm;
  view.machines = machines;
  s = take_view(&view, p, err);
  p->schedules = p->machines = true;
out:
  mesos__free(scheds);
  mesos__free(sched_ptrs);
  mesos__free(wins);
  mesos__free(win_ptrs);
  mesos__free(ids);
  mesos__free(machines);
  return s;
}

static const char *op_name(const Op *op) {
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
      &mesos__internal__registry_operation__type__descriptor, (int)op->type);
  return v ? v->name : "UNKNOWN";
}

/* Checks `op` against `st` and builds p.  Touches the state only to make
 * room at the end of an array it will grow. */
static mesos_status prepare(mesos__registry *r, const Op *op, plan *p, mesos_error **err) {
  const Registry *st = r->state;
  memset(p, 0, sizeof *p);
  p->agent_idx = p->unreach_idx = p->gone_idx = NPOS;
  if (op == NULL || op->base.descriptor != &mesos__internal__registry_operation__descriptor)
    return mesos__err(err, MESOS_EINVAL, "not a RegistryOperation");
  /* Packing a message with a missing required field would dereference
   * NULL inside protobuf-c: refuse it here. */
  if (!protobuf_c_message_check(&op->base))
    return mesos__err(err, MESOS_EINVAL, "%s operation is missing a required field",
                      op_name(op));
  switch (op->type) {
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__ADMIT_AGENT:
      return prep_admit(r, op, p, false, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__READMIT_AGENT:
      return prep_admit(r, op, p, true, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__MARK_AGENT_UNREACHABLE:
      return prep_unreachable(r, op, p, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__MARK_AGENT_GONE:
      return prep_gone(r, op, p, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__REMOVE_AGENT:
      return prep_remove(r, op, p, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__UPDATE_AGENT:
      return prep_update_agent(r, op, p, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__UPDATE_WEIGHTS:
      return prep_weights(st, op, p, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__UPDATE_QUOTA:
      return prep_quota(st, op, p, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__UPDATE_SCHEDULE:
      return prep_schedule(st, op, p, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__START_MAINTENANCE:
      p->start_maintenance = true;
      return check_maintenance_machines(st, op, MESOS__V1__MACHINE_INFO__MODE__DRAINING, err);
    case MESOS__INTERNAL__REGISTRY_OPERATION__TYPE__STOP_MAINTENANCE:
      return prep_stop(st, op, p, err);
    default:
      return mesos__err(err, MESOS_EINVAL, "unknown registry operation type %d", (int)op->type);
  }
}

#define SWAP_FIELD(a, b, field)         \
  do {                                  \
    size_t n_ = (a)->n_##field;         \
    void *p_ = (void *)(a)->field;      \
    (a)->n_##field = (b)->n_##field;    \
    (a)->field = (b)->field;            \
    (b)->n_##field = n_;                \
    (b)->field = p_;                    \
  } while (0)

/* Links the prepared parts into the state.  Cannot fail: it only moves
 * pointers and updates index entries that exist already. */
static void commit(mesos__registry *r, plan *p, const Op *op) {
  Registry *st = r->state;
  if (p->replace_unreach) {
    mesos__pb_free(st->unreachable[p->unreach_idx]);
    st->unreachable[p->unreach_idx] = p->new_unreach;
    p->new_unreach = NULL;
    p->unreach_idx = NPOS;
  }
  if (p->unreach_idx != NPOS)
    remove_at(r, LIST_UNREACHABLE, (void **)st->unreachable, &st->n_unreachable, p->unreach_idx);
  if (p->gone_idx != NPOS) remove_at(r, LIST_GONE, (void **)st->gone, &st->n_gone, p->gone_idx);
  if (p->agent_idx != NPOS) {
    if (p->replace_agent) {
      mesos__pb_free(st->agents[p->agent_idx]);
      st->agents[p->agent_idx] = p->new_agent;
      p->new_agent = NULL;
    } else {
      remove_at(r, LIST_AGENTS, (void **)st->agents, &st->n_agents, p->agent_idx);
    }
  }
  agent_loc *loc = p->id != NULL ? mesos__map_get(&r->index, p->id) : NULL;
  if (p->new_agent != NULL) {
    *loc = (agent_loc){LIST_AGENTS, st->n_agents};
    st->agents[st->n_agents++] = p->new_agent;
  }
  if (p->new_unreach != NULL) {
    *loc = (agent_loc){LIST_UNREACHABLE, st->n_unreachable};
    st->unreachable[st->n_unreachable++] = p->new_unreach;
  }
  if (p->new_gone != NULL) {
    *loc = (agent_loc){LIST_GONE, st->n_gone};
    st->gone[st->n_gone++] = p->new_gone;
  }
  if (p->forget) mesos__free(mesos__map_remove(&r->index, p->id));
  p->new_agent = NULL;
  p->new_unreach = NULL;
  p->new_gone = NULL;
  p->new_loc = NULL; /* the index owns it now */
  if (p->weights) SWAP_FIELD(st, p->scratch, weights);
  if (p->quotas) {
    SWAP_FIELD(st, p->scratch, quotas);
    SWAP_FIELD(st, p->scratch, quota_setters);
  }
  if (p->schedules) SWAP_FIELD(st, p->scratch, schedules);
  if (p->machines) SWAP_FIELD(st, p->scratch, machines);
  if (p->start_maintenance) {
    for (size_t i = 0; i < op->n_machines; i++) {
      MachineInfo *mi = find_machine(st, op->machines[i]);
      if (mi != NULL) mi->mode = MESOS__V1__MACHINE_INFO__MODE__DOWN;
    }
  }
  /* plan_free now releases what was swapped out. */
}

/* ---- open, replay, apply, compact ---- */

typedef struct {
  mesos__registry *r;
  mesos_error *err;
} replay_ctx;

static mesos_status replay_cb(mesos__rlog_item item, const uint8_t *data, size_t len,
                              void *ud) {
  replay_ctx *c = ud;
  mesos__registry *r = c->r;
  Entry *e = NULL;
  mesos_error *cause = NULL;
  mesos_status s = mesos__pb_unpack(&mesos__internal__registry_entry__descriptor, data, len,
                                    r->max, 0, (ProtobufCMessage **)&e, &cause);
  if (s == MESOS_ENOMEM) {
    mesos__err_move(&c->err, cause);
    return s;
  }
  if (s != MESOS_OK)
    return mesos__err_wrap(&c->err, MESOS_EPROTO, cause, "registry entry after sequence %llu "
                           "does not decode", (unsigned long long)r->seq);
  if (item == MESOS__RLOG_ITEM_SNAPSHOT) {
    if (e->snapshot == NULL || e->operation != NULL) {
      s = mesos__err(&c->err, MESOS_EPROTO, "registry snapshot entry holds no snapshot");
    } else if (e->snapshot->has_format_version &&
               e->snapshot->format_version > MESOS__REGISTRY_FORMAT_VERSION) {
      s = mesos__err(&c->err, MESOS_EVERSION,
                     "registry snapshot has format version %u, this build reads %u",
                     e->snapshot->format_version, MESOS__REGISTRY_FORMAT_VERSION);
    } else {
      mesos__pb_free(r->state);
      r->state = e->snapshot;
      e->snapshot = NULL;
      r->state->has_format_version = true;
      r->state->format_version = MESOS__REGISTRY_FORMAT_VERSION;
      r->seq = e->sequence;
      s = index_build(r, &c->err);
    }
  } else if (e->operation == NULL || e->snapshot != NULL) {
    s = mesos__err(&c->err, MESOS_EPROTO, "registry log entry %llu holds no operation",
                   (unsigned long long)e->sequence);
  } else if (e->sequence != r->seq + 1) {
    s = mesos__err(&c->err, MESOS_EPROTO,
                   "registry log entry has sequence %llu where %llu was expected",
                   (unsigned long long)e->sequence, (unsigned long long)r->seq + 1);
  } else {
    plan p;
    s = prepare(r, e->operation, &p, &cause);
    if (s == MESOS_OK) {
      commit(r, &p, e->operation);
      r->seq++;
    } else if (s == MESOS_ENOMEM) {
      mesos__err_move(&c->err, cause);
    } else {
      s = mesos__err_wrap(&c->err, MESOS_EPROTO, cause,
                          "registry log entry %llu (%s) does not apply to the recovered state",
                          (unsigned long long)e->sequence, op_name(e->operation));
    }
    plan_free(r, &p);
  }
  mesos__pb_free(e);
  return s;
}

static mesos_status empty_state(Registry **out, mesos_error **err) {
  static const uint8_t nothing[1] = {0};
  mesos_status s = mesos__pb_unpack(&mesos__internal__registry__descriptor, nothing, 0, 0, 0,
                                    (ProtobufCMessage **)out, err);
  if (s == MESOS_OK) {
    (*out)->has_format_version = true;
    (*out)->format_version = MESOS__REGISTRY_FORMAT_VERSION;
  }
  return s;
}

mesos_status mesos__registry_open(mesos__registry **out, const mesos__registry_options *opts,
                                  mesos_error **err) {
  mesos__registry_options defaults = {NULL, 0, 0};
  if (opts == NULL) opts = &defaults;
  mesos__registry *r = MESOS__NEW(mesos__registry);
  if (r == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__map_init(&r->index);
  r->compact_every = opts->compact_every ? opts->compact_every
                                         : MESOS__REGISTRY_COMPACT_EVERY_DEFAULT;
  r->max = opts->max_record ? opts->max_record : MESOS__RECORD_MAX_DEFAULT;
  if (r->max > MESOS__RECORD_MAX_LIMIT) r->max = MESOS__RECORD_MAX_LIMIT;
  mesos_status s = empty_state(&r->state, err);
  if (s == MESOS_OK && opts->dir != NULL) {
    mesos__rlog_options lo = {r->max, true};
    replay_ctx c = {r, NULL};
    mesos_error *e = NULL;
    s = mesos__rlog_open(&r->log, opts->dir, &lo, replay_cb, &c, &e);
    /* The callback's own error explains a failure it caused. */
    if (c.err != NULL) {
      mesos_error_free(e);
      mesos__err_move(err, c.err);
    } else if (e != NULL) {
      mesos__err_move(err, e);
    }
  }
  if (s != MESOS_OK) {
    mesos__registry_close(r);
    return s;
  }
  if (r->log != NULL)
    LOG_DEBUG("registry %s recovered: %zu agents admitted, %zu unreachable, %zu gone, sequence "
             "%llu",
             opts->dir, r->state->n_agents, r->state->n_unreachable, r->state->n_gone,
             (unsigned long long)r->seq);
  *out = r;
  return MESOS_OK;
}

mesos_status mesos__registry_compact(mesos__registry *r, mesos_error **err) {
  if (r->log == NULL) return MESOS_OK;
  Entry e = MESOS__INTERNAL__REGISTRY_ENTRY__INIT;
  e.sequence = r->seq;
  e.snapshot = r->state;
  uint8_t *buf = NULL;
  size_t len = 0;
  mesos_status s = mesos__pb_pack(&e.base, r->max, &buf, &len, err);
  if (s != MESOS_OK) return s;
  s = mesos__rlog_snapshot(r->log, buf, len, err);
  mesos__free(buf);
  if (s == MESOS_OK)
    LOG_DEBUG("registry compacted: %zu bytes of state at sequence %llu", len,
              (unsigned long long)r->seq);
  return s;
}

mesos_status mesos__registry_apply(mesos__registry *r,
                                   const Mesos__Internal__RegistryOperation *op,
                                   mesos_error **err) {
  plan p;
  mesos_status s = prepare(r, op, &p, err);
  if (s == MESOS_OK && r->log != NULL) {
    Entry e = MESOS__INTERNAL__REGISTRY_ENTRY__INIT;
    e.sequence = r->seq + 1;
    e.operation = (Op *)op;
    uint8_t *buf = NULL;
    size_t len = 0;
    s = mesos__pb_pack(&e.base, r->max, &buf, &len, err);
    if (s == MESOS_OK) s = mesos__rlog_append(r->log, buf, len, err);
    mesos__free(buf);
  }
  if (s != MESOS_OK) {
    plan_free(r, &p);
    return s;
  }
  commit(r, &p, op);
  plan_free(r, &p);
  r->seq++;
  if (r->log != NULL && mesos__rlog_records_since_snapshot(r->log) >= r->compact_every) {
    /* The operation is durable whatever happens here: a failed compaction
     * only leaves a longer log, retried at the next operation. */
    mesos_error *e = NULL;
    if (mesos__registry_compact(r, &e) != MESOS_OK) {
      LOG_WARN("registry compaction failed: %s", mesos_error_message(e));
      mesos_error_free(e);
    }
  }
  return MESOS_OK;
}

const Mesos__Internal__Registry *mesos__registry_state(const mesos__registry *r) {
  return r->state;
}

uint64_t mesos__registry_sequence(const mesos__registry *r) { return r->seq; }

uint64_t mesos__registry_pending_compaction(const mesos__registry *r) {
  return r->log ? mesos__rlog_records_since_snapshot(r->log) : 0;
}

mesos__registry_agent_state mesos__registry_agent(const mesos__registry *r,
                                                  const char *agent_id) {
  if (agent_id == NULL) return MESOS__REGISTRY_AGENT_UNKNOWN;
  const agent_loc *l = mesos__map_get(&r->index, agent_id);
  if (l == NULL) return MESOS__REGISTRY_AGENT_UNKNOWN;
  switch (l->list) {
    case LIST_AGENTS: return MESOS__REGISTRY_AGENT_ADMITTED;
    case LIST_UNREACHABLE: return MESOS__REGISTRY_AGENT_UNREACHABLE;
    case LIST_GONE: return MESOS__REGISTRY_AGENT_GONE;
    default: return MESOS__REGISTRY_AGENT_UNKNOWN;
  }
}

const Mesos__Internal__Registry__Agent *mesos__registry_find_agent(const mesos__registry *r,
                                                                   const char *agent_id) {
  size_t i = agent_id ? find_agent(r, agent_id) : NPOS;
  return i == NPOS ? NULL : r->state->agents[i];
}

const Mesos__Internal__Registry__UnreachableAgent *mesos__registry_find_unreachable(
    const mesos__registry *r, const char *agent_id) {
  size_t i = agent_id ? find_unreach(r, agent_id) : NPOS;
  return i == NPOS ? NULL : r->state->unreachable[i];
}

void mesos__registry_close(mesos__registry *r) {
  if (r == NULL) return;
  mesos__rlog_close(r->log);
  index_free(r);
  mesos__pb_free(r->state);
  mesos__free(r);
}

/*
 * The built-in allocator: hierarchical DRF as Mesos's
 * HierarchicalDRFAllocator, registered through the public vtable like any
 * vendor's (mesos/sys/allocator.h).  A pure policy: no I/O, no timers; the
 * master calls allocate() and receives offers through the callback.
 *
 * A cycle visits the dirty agents only: an agent becomes dirty when its
 * available resources change, when a filter on it goes away, or (all of
 * them at once) when the set of frameworks that may receive offers grows
 * or weights/quota change.  An agent nobody could take stays clean and
 * costs nothing until then.
 *
 * The cycle runs two stages over those agents, as Mesos does:
 *  1. quota: roles below their guarantee, lowest share first, receive
 *     unreserved resources up to what they still miss (scalars are cut to
 *     size) plus their reservations;
 *  2. fair share: walk the sorter tree in order (roles by weighted
 *     dominant share, frameworks by share) to the first framework that may
 *     take what the agent has for its role; give it everything offerable;
 *     repeat while something allocatable is left.  Unreserved resources
 *     are held back while giving them away would leave less than the
 *     quota roles still need (the headroom).
 * Offers made in a cycle are handed out through the callback at its end,
 * one per (framework, role, agent).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allocator/bag.h"
#include "allocator/hierarchical_int.h"
#include "base/alloc.h"
#include "base/error.h"

#define NN(h) ((h)->sorter.nnames)

static uint64_t default_clock(void *ud) {
  (void)ud;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ names */

static int name_index(const h_alloc *h, const char *name) {
  for (uint32_t i = 0; i < NN(h); i++)
    if (strcmp(h->names[i], name) == 0) return (int)i;
  return -1;
}

static mesos_status name_intern(h_alloc *h, const char *name, int *out, mesos_error **err) {
  int i = name_index(h, name);
  if (i < 0) {
    if (NN(h) == MESOS__ALLOC_MAX_NAMES)
      return mesos__err(err, MESOS_ELIMIT,
                        "allocator: resource '%s': more than %d distinct scalar resource names",
                        name, MESOS__ALLOC_MAX_NAMES);
    char *copy = mesos__strdup(name);
    if (copy == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    i = (int)NN(h);
    h->names[i] = copy;
    h->sorter.nnames++;
  }
  if (out) *out = i;
  return MESOS_OK;
}

static mesos_status intern_bag(h_alloc *h, const mesos__resources *r, mesos_error **err) {
  for (size_t i = 0; i < r->n; i++) {
    if (r->v[i].type != MESOS__V1__VALUE__TYPE__SCALAR) continue;
    mesos_status st = name_intern(h, r->v[i].proto->name, NULL, err);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

static bool res_unreserved(const mesos__res *x) {
  const char *r = mesos__resource_role(x->proto);
  return r[0] == '*' && r[1] == '\0';
}

/* Scalar quantities of a bag; `unres` (may be NULL) gets the unreserved,
 * non-revocable part (what quota headroom counts). */
/* Quantity vectors are only ever read in their first NN(h) slots, and NN
 * only grows; slots past it stay zero in every vector kept in a struct
 * (calloc), so the helpers below touch the live slots only: a cycle copies
 * and clears a lot of vectors. */
static inline void qv_zero(const h_alloc *h, mesos__qv *q) {
  memset(q->v, 0, NN(h) * sizeof q->v[0]);
}

static inline void qv_copy(const h_alloc *h, mesos__qv *dst, const mesos__qv *src) {
  memcpy(dst->v, src->v, NN(h) * sizeof dst->v[0]);
}

/* Sums saturate: see mesos__qv_add. */
static inline void sat_add(int64_t *a, int64_t d) {
  if (__builtin_add_overflow(*a, d, a)) *a = d > 0 ? INT64_MAX : INT64_MIN;
}

static void bag_q(const h_alloc *h, const mesos__resources *r, mesos__qv *all, mesos__qv *unres) {
  qv_zero(h, all);
  if (unres) qv_zero(h, unres);
  for (size_t i = 0; i < r->n; i++) {
    const mesos__res *x = &r->v[i];
    if (x->type != MESOS__V1__VALUE__TYPE__SCALAR) continue;
    int k = name_index(h, x->proto->name);
    if (k < 0) continue;
    sat_add(&all->v[k], x->milli);
    if (unres && res_unreserved(x) && x->proto->revocable == NULL) sat_add(&unres->v[k], x->milli);
  }
}

static bool allocatable(const h_alloc *h, const mesos__qv *q) {
  bool any = false;
  for (uint32_t i = 0; i < NN(h); i++) any |= q->v[i] > 0;
  if (!any) return false;
  if (h->nmin_alts == 0) return true;
  for (uint32_t a = 0; a < h->nmin_alts; a++) {
    const h_min_alt *m = &h->min_alts[a];
    bool ok = true;
    for (uint32_t i = 0; i < NN(h) && ok; i++)
      if ((m->mask >> i) & 1u) ok = q->v[i] >= m->q.v[i];
    if (ok) return true;
  }
  return false;
}

/* ------------------------------------------------------------ roles */

static bool component_ok(const char *p, size_t len) {
  if (len == 0) return false;
  if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) return false;
  if (p[0] == '-') return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c <= ' ' || c >= 0x7f || c == '\\') return false;
    if (c == '*' && !(len == 1)) return false;
  }
  return true;
}

/* Mesos role names: "*", or '/'-separated components, none empty, "." or
 * "..", none starting with '-', printable, no whitespace; "*" only alone. */
static mesos_status role_check(const char *name, uint32_t *depth, mesos_error **err) {
  size_t len = strlen(name);
  if (len == 0 || len > MESOS__ALLOC_MAX_ROLE_LEN)
    return mesos__err(err, MESOS_EINVAL, "allocator: invalid role '%s' (length)", name);
  if (strcmp(name, "*") == 0) {
    *depth = 1;
    return MESOS_OK;
  }
  uint32_t d = 0;
  const char *p = name;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (!component_ok(p, n) || (n == 1 && p[0] == '*'))
      return mesos__err(err, MESOS_EINVAL, "allocator: invalid role '%s'", name);
    if (++d > MESOS__ALLOC_MAX_ROLE_DEPTH)
      return mesos__err(err, MESOS_EINVAL, "allocator: role '%s' is deeper than %d levels", name,
                        MESOS__ALLOC_MAX_ROLE_DEPTH);
    if (!slash) break;
    p = slash + 1;
  }
  *depth = d;
  return MESOS_OK;
}

static void role_unref(h_alloc *h, h_role *r) {
  while (r && --r->refs == 0) {
    h_role *parent = r->parent;
    mesos__snode_detach(&r->self);
    mesos__snode_detach(&r->node);
    mesos__snode_fini(&r->self);
    mesos__snode_fini(&r->node);
    mesos__map_remove(&h->roles, r->name);
    mesos__free(r->name);
    mesos__free(r);
    r = parent;
  }
}

/* Finds or creates `name` and its ancestors; the caller takes one ref. */
static mesos_status role_get(h_alloc *h, const char *name, h_role **out, mesos_error **err) {
  h_role *r = mesos__map_get(&h->roles, name);
  if (r) {
    r->refs++;
    *out = r;
    return MESOS_OK;
  }
  uint32_t depth;
  mesos_status st = role_check(name, &depth, err);
  if (st != MESOS_OK) return st;
  h_role *parent = NULL;
  const char *slash = strrchr(name, '/');
  if (slash && strcmp(name, "*") != 0) {
    char *pname = mesos__strndup(name, (size_t)(slash - name));
    if (pname == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    st = role_get(h, pname, &parent, err); /* depth bounded by role_check */
    mesos__free(pname);
    if (st != MESOS_OK) return st;
  }
  r = MESOS__NEW(h_role);
  if (r == NULL || (r->name = mesos__strdup(name)) == NULL) {
    mesos__free(r);
    role_unref(h, parent);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  r->parent = parent;
  r->depth = depth;
  r->refs = 1;
  mesos__snode_init(&r->node, MESOS__SNODE_ROLE, r->name, r);
  mesos__snode_init(&r->self, MESOS__SNODE_SELF, r->name, r);
  if (mesos__snode_attach(&h->sorter, &r->node, &r->self) != MESOS_OK ||
      mesos__snode_attach(&h->sorter, parent ? &parent->node : &h->sorter.root, &r->node) !=
          MESOS_OK ||
      mesos__map_put(&h->roles, r->name, r) != MESOS_OK) {
    mesos__snode_detach(&r->self);
    mesos__snode_detach(&r->node);
    mesos__snode_fini(&r->self);
    mesos__snode_fini(&r->node);
    mesos__free(r->name);
    mesos__free(r);
    role_unref(h, parent);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  *out = r;
  return MESOS_OK;
}

/* Role `r` may use resources reserved to `res_role`: the same role or an
 * ancestor (hierarchical reservations are shared downwards). */
static bool role_within(const char *r, const char *res_role) {
  size_t n = strlen(res_role);
  return strncmp(r, res_role, n) == 0 && (r[n] == '\0' || r[n] == '/');
}

static bool quota_unmet(const h_alloc *h, const h_role *r, mesos__qv *rem) {
  bool unmet = false;
  for (uint32_t i = 0; i < NN(h); i++) {
    int64_t g = r->guarantee.v[i], left = 0;
    if (g > r->node.alloc.v[i] && __builtin_sub_overflow(g, r->node.alloc.v[i], &left))
      left = INT64_MAX;
    if (rem) rem->v[i] = left;
    unmet |= left > 0;
  }
  return unmet;
}

static bool lineage_unmet_quota(const h_alloc *h, const h_role *r) {
  for (; r; r = r->parent)
    if (r->has_quota && quota_unmet(h, r, NULL)) return true;
  return false;
}

/* ------------------------------------------------------------ frameworks */

static void fwrole_refresh(h_fwrole *fr) {
  bool e = fr->subscribed && !fr->suppressed && fr->fw->known && fr->fw->active;
  if (e == fr->eligible) return;
  fr->eligible = e;
  mesos__sorter_eligible(&fr->leaf, e ? 1 : -1);
}

static h_fwrole *fwrole_find(const h_framework *fw, const char *role) {
  for (uint32_t i = 0; i < fw->nroles; i++)
    if (strcmp(fw->roles[i]->role->name, role) == 0) return fw->roles[i];
  return NULL;
}

static mesos_status fwrole_get(h_alloc *h, h_framework *fw, const char *role, h_fwrole **out,
                               mesos_error **err) {
  h_fwrole *fr = fwrole_find(fw, role);
  if (fr) {
    *out = fr;
    return MESOS_OK;
  }
  if (fw->nroles == fw->caproles) {
    uint32_t cap = fw->caproles ? fw->caproles * 2 : 2;
    h_fwrole **v = mesos__realloc(fw->roles, (size_t)cap * sizeof *v);
    if (v == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    fw->roles = v;
    fw->caproles = cap;
  }
  fr = MESOS__NEW(h_fwrole);
  if (fr == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = role_get(h, role, &fr->role, err);
  if (st != MESOS_OK) {
    mesos__free(fr);
    return st;
  }
  fr->fw = fw;
  mesos__snode_init(&fr->leaf, MESOS__SNODE_LEAF, fw->id, fr);
  fw->roles[fw->nroles++] = fr;
  *out = fr;
  return MESOS_OK;
}

/* Frees a framework-role that is neither subscribed nor holding anything. */
static void fwrole_maybe_free(h_alloc *h, h_fwrole *fr) {
  if (fr->subscribed || fr->nchunks > 0) return;
  h_framework *fw = fr->fw;
  for (uint32_t i = 0; i < fw->nroles; i++) {
    if (fw->roles[i] != fr) continue;
    memmove(&fw->roles[i], &fw->roles[i + 1], (size_t)(fw->nroles - i - 1) * sizeof *fw->roles);
    fw->nroles--;
    break;
  }
  role_unref(h, fr->role);
  mesos__free(fr);
}

static mesos_status fwrole_subscribe(h_alloc *h, h_fwrole *fr) {
  if (fr->subscribed) return MESOS_OK;
  /* The leaf's allocation is already inside role->self: attach without
   * adding it again. */
  mesos_status st = mesos__snode_attach(&h->sorter, &fr->role->self, &fr->leaf);
  if (st != MESOS_OK) return st;
  fr->subscribed = true;
  fwrole_refresh(fr);
  return MESOS_OK;
}

static void fwrole_unsubscribe(h_alloc *h, h_fwrole *fr) {
  if (!fr->subscribed) return;
  fr->subscribed = false;
  fwrole_refresh(fr);
  mesos__snode_detach(&fr->leaf);
  fr->suppressed = false;
  fwrole_maybe_free(h, fr);
}

static void account(h_alloc *h, h_fwrole *fr, const mesos__qv *q, int sign) {
  if (fr->subscribed) {
    mesos__sorter_add(&h->sorter, &fr->leaf, q, sign);
  } else {
    mesos__qv_add(&fr->leaf.alloc, q, NN(h), sign);
    mesos__sorter_add(&h->sorter, &fr->role->self, q, sign);
  }
}

static mesos_status framework_get(h_alloc *h, const char *id, bool create, h_framework **out,
                                  mesos_error **err) {
  h_framework *fw = mesos__map_get(&h->frameworks, id);
  if (fw || !create) {
    *out = fw;
    return MESOS_OK;
  }
  if (h->nfree_idx == 0 && h->next_idx == UINT32_MAX)
    return mesos__err(err, MESOS_ELIMIT, "allocator: too many frameworks");
  fw = MESOS__NEW(h_framework);
  if (fw == NULL || (fw->id = mesos__strdup(id)) == NULL ||
      mesos__map_put(&h->frameworks, fw->id, fw) != MESOS_OK) {
    if (fw) mesos__free(fw->id);
    mesos__free(fw);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  fw->idx = h->nfree_idx ? h->free_idx[--h->nfree_idx] : h->next_idx++;
  *out = fw;
  return MESOS_OK;
}

static void framework_free(h_alloc *h, h_framework *fw) {
  while (fw->filters) mesos__hfilter_free(h, fw->filters);
  mesos__map_remove(&h->frameworks, fw->id);
  if (h->nfree_idx == h->capfree_idx) {
    uint32_t cap = h->capfree_idx ? h->capfree_idx * 2 : 64;
    uint32_t *v = mesos__realloc(h->free_idx, (size_t)cap * sizeof *v);
    if (v) {
      h->free_idx = v;
      h->capfree_idx = cap;
    }
  }
  /* If the list cannot grow the index is simply not reused. */
  if (h->nfree_idx < h->capfree_idx) h->free_idx[h->nfree_idx++] = fw->idx;
  mesos__free(fw->roles);
  mesos__free(fw->id);
  mesos__free(fw);
}

static void framework_maybe_free(h_alloc *h, h_framework *fw) {
  if (!fw->known && fw->nroles == 0) framework_free(h, fw);
}

/* ------------------------------------------------------------ agents */

void mesos__hagent_mark_dirty(h_alloc *h, h_agent *ag) {
  if (ag->dirty || h->all_dirty) return;
  if (h->ndirty == h->capdirty) {
    uint32_t cap = h->capdirty ? h->capdirty * 2 : 64;
    h_agent **v = mesos__realloc(h->dirty, (size_t)cap * sizeof *v);
    if (v == NULL) {
      /* Cannot remember one agent: look at all of them next cycle. */
      h->all_dirty = true;
      return;
    }
    h->dirty = v;
    h->capdirty = cap;
  }
  ag->dirty = true;
  h->dirty[h->ndirty++] = ag;
}

static void mark_all_dirty(h_alloc *h) { h->all_dirty = true; }

/* Recomputes the cached quantities of ag->avail. */
static void agent_refresh(h_alloc *h, h_agent *ag) {
  ag->avail_gen++;
  if (ag->active) mesos__qv_add(&h->unres_avail, &ag->unres_q, NN(h), -1);
  if (ag->avail.r.n == 0) {
    /* Everything was offered: the usual case in a cycle. */
    memset(ag->avail_q.v, 0, NN(h) * sizeof ag->avail_q.v[0]);
    memset(ag->unres_q.v, 0, NN(h) * sizeof ag->unres_q.v[0]);
    ag->simple = true;
    mesos__hagent_mark_dirty(h, ag);
    return;
  }
  bag_q(h, &ag->avail.r, &ag->avail_q, &ag->unres_q);
  bool simple = true;
  for (size_t i = 0; i < ag->avail.r.n && simple; i++) {
    const mesos__res *x = &ag->avail.r.v[i];
    simple = res_unreserved(x) && x->proto->revocable == NULL && x->proto->shared == NULL;
  }
  ag->simple = simple;
  if (ag->active) mesos__qv_add(&h->unres_avail, &ag->unres_q, NN(h), 1);
  mesos__hagent_mark_dirty(h, ag);
}

static void set_total(h_alloc *h, h_agent *ag, int sign) {
  mesos__qv_add(&h->sorter.total, &ag->total_q, NN(h), sign);
  h->sorter.stale = true;
}

static mesos_status chunk_push(h_alloc *h, h_agent *ag, h_fwrole *fr, uint32_t *out) {
  (void)h;
  if (ag->nchunks == ag->capchunks) {
    uint32_t cap = ag->capchunks ? ag->capchunks * 2 : 4;
    h_chunk *v = mesos__realloc(ag->chunks, (size_t)cap * sizeof *v);
    if (v == NULL) return MESOS_ENOMEM;
    ag->chunks = v;
    ag->capchunks = cap;
  }
  h_chunk *c = &ag->chunks[ag->nchunks];
  memset(c, 0, sizeof *c);
  c->fr = fr;
  mesos__resources_init(&c->res.r);
  fr->nchunks++;
  *out = ag->nchunks++;
  return MESOS_OK;
}

/* Removes chunk i (its resources must have been accounted away and moved
 * out or freed by the caller). */
static void chunk_drop(h_alloc *h, h_agent *ag, uint32_t i) {
  h_fwrole *fr = ag->chunks[i].fr;
  mesos__resources_free(&ag->chunks[i].res.r);
  memmove(&ag->chunks[i], &ag->chunks[i + 1], (size_t)(ag->nchunks - i - 1) * sizeof *ag->chunks);
  ag->nchunks--;
  fr->nchunks--;
  h_framework *fw = fr->fw;
  fwrole_maybe_free(h, fr);
  framework_maybe_free(h, fw);
}

/* Gives chunk i back to the agent's availability. */
static mesos_status chunk_release(h_alloc *h, h_agent *ag, uint32_t i) {
  h_chunk *c = &ag->chunks[i];
  mesos__qv q;
  bag_q(h, &c->res.r, &q, NULL);
  mesos_status st = mesos__bag_move_all(&ag->avail.r, &c->res.r);
  if (st != MESOS_OK) return st;
  account(h, c->fr, &q, -1);
  chunk_drop(h, ag, i);
  return MESOS_OK;
}

static void agent_free(h_alloc *h, h_agent *ag) {
  while (ag->filters) mesos__hfilter_free(h, ag->filters);
  while (ag->nchunks > 0) {
    h_chunk *c = &ag->chunks[ag->nchunks - 1];
    mesos__qv q;
    bag_q(h, &c->res.r, &q, NULL);
    account(h, c->fr, &q, -1);
    chunk_drop(h, ag, ag->nchunks - 1);
  }
  mesos__resources_free(&ag->total.r);
  mesos__resources_free(&ag->avail.r);
  mesos__free(ag->chunks);
  mesos__free(ag->fbits);
  mesos__free(ag->io);
  mesos__free(ag->id);
  mesos__free(ag->hostname);
  mesos__free(ag);
}

/* ------------------------------------------------------------ offers */

/* What a framework-role may receive from an agent. */
typedef struct offer_ctx {
  const h_role *role;
  uint32_t caps;
  bool unres;          /* unreserved resources may be included */
} offer_ctx;

static bool offer_include(const mesos__res *x, void *p) {
  const offer_ctx *o = p;
  if (x->proto->revocable && !(o->caps & MESOS_ALLOCATOR_CAP_REVOCABLE_RESOURCES)) return false;
  if (x->proto->shared && !(o->caps & MESOS_ALLOCATOR_CAP_SHARED_RESOURCES)) return false;
  if (res_unreserved(x)) return o->unres;
  return role_within(o->role->name, mesos__resource_role(x->proto));
}

static void offerable_q(const h_alloc *h, const h_agent *ag, const offer_ctx *o, mesos__qv *all,
                        mesos__qv *unres) {
  if (ag->simple) {
    if (o->unres) {
      qv_copy(h, all, &ag->avail_q);
      qv_copy(h, unres, &ag->avail_q);
    } else {
      qv_zero(h, all);
      qv_zero(h, unres);
    }
    return;
  }
  qv_zero(h, all);
  qv_zero(h, unres);
  for (size_t i = 0; i < ag->avail.r.n; i++) {
    const mesos__res *x = &ag->avail.r.v[i];
    if (x->type != MESOS__V1__VALUE__TYPE__SCALAR || !offer_include(x, (void *)o)) continue;
    int k = name_index(h, x->proto->name);
    if (k < 0) continue;
    sat_add(&all->v[k], x->milli);
    if (res_unreserved(x) && x->proto->revocable == NULL) sat_add(&unres->v[k], x->milli);
  }
}

static bool headroom_ok(const h_alloc *h, const mesos__qv *unres) {
  for (uint32_t i = 0; i < NN(h); i++) {
    int64_t left;
    if (h->need.v[i] > 0 &&
        (__builtin_sub_overflow(h->unres_avail.v[i], unres->v[i], &left) || left < h->need.v[i]))
      return false;
  }
  return true;
}

static bool gpu_ok(const h_alloc *h, const h_agent *ag, const h_framework *fw) {
  return !h->filter_gpus || !ag->gpus || (fw->caps & MESOS_ALLOCATOR_CAP_GPU_RESOURCES);
}

/* Moves what `o` allows (cut to `chop` for unreserved scalars with a
 * non-zero entry there, when chop is given) from the agent to fr. */
static mesos_status give(h_alloc *h, h_agent *ag, h_fwrole *fr, const offer_ctx *o,
                         mesos__qv *chop) {
  uint32_t ci = UINT32_MAX;
  for (uint32_t i = ag->nchunks; i-- > 0;) {
    if (ag->chunks[i].fr == fr && ag->chunks[i].cycle == h->cycle) {
      ci = i;
      break;
    }
  }
  if (ci == UINT32_MAX) {
    if (h->npending == h->cappending) {
      uint32_t cap = h->cappending ? h->cappending * 2 : 256;
      h_pending *v = mesos__realloc(h->pending, (size_t)cap * sizeof *v);
      if (v == NULL) return MESOS_ENOMEM;
      h->pending = v;
      h->cappending = cap;
    }
    mesos_status st = chunk_push(h, ag, fr, &ci);
    if (st != MESOS_OK) return st;
    ag->chunks[ci].cycle = h->cycle;
    h->pending[h->npending++] = (h_pending){ag, ci, fr->fw->id, fr->role->name};
  }
  h_chunk *c = &ag->chunks[ci];
  mesos__qv moved;
  mesos_status st = MESOS_OK;
  if (ag->simple && o->unres && chop == NULL) {
    /* The common case: the agent's whole availability, moved as is. */
    qv_copy(h, &moved, &ag->avail_q);
    st = mesos__bag_move_all(&c->res.r, &ag->avail.r);
  } else {
    mesos__qv before;
    bag_q(h, &c->res.r, &before, NULL);
    for (size_t i = ag->avail.r.n; i-- > 0 && st == MESOS_OK;) {
      mesos__res *x = &ag->avail.r.v[i];
      if (!offer_include(x, (void *)o)) continue;
      if (chop && x->type == MESOS__V1__VALUE__TYPE__SCALAR && res_unreserved(x)) {
        int k = name_index(h, x->proto->name);
        if (k >= 0 && chop->v[k] > 0) {
          int64_t take = x->milli < chop->v[k] ? x->milli : chop->v[k];
          chop->v[k] -= take;
          st = mesos__bag_take_scalar(&c->res.r, &ag->avail.r, i, take);
          continue;
        }
        if (k >= 0 && h->nquota > 0 && chop->v[k] == 0 && h->need.v[k] > 0) {
          /* A quota name this role no longer needs: leave it for the
           * roles that still do. */
          bool guaranteed = false;
          for (const h_role *r = o->role; r && !guaranteed; r = r->parent)
            guaranteed = r->has_quota && r->guarantee.v[k] > 0;
          if (guaranteed) continue;
        }
      }
      st = mesos__bag_take(&c->res.r, &ag->avail.r, i);
    }
    bag_q(h, &c->res.r, &moved, NULL);
    mesos__qv_add(&moved, &before, NN(h), -1);
  }
  account(h, fr, &moved, 1);
  agent_refresh(h, ag);
  return st;
}

/* The first subscribed, eligible framework-role under `n` (in sort order)
 * that may receive something allocatable from `ag`; fills *o.  Recursion
 * follows the role tree, whose depth role_check bounds. */
static h_fwrole *pick(h_alloc *h, h_agent *ag, mesos__snode *n, offer_ctx *o, bool *held) {
  for (uint32_t i = 0; i < n->nkids; i++) {
    mesos__snode *k = n->kids[i];
    if (k->eligible == 0) continue;
    if (k->kind == MESOS__SNODE_ROLE) {
      h_fwrole *fr = pick(h, ag, k, o, held);
      if (fr) return fr;
      continue;
    }
    /* SELF: the frameworks of one role. */
    const h_role *role = k->owner;
    offer_ctx base = {role, ~0u, true};
    mesos__qv all, unres;
    offerable_q(h, ag, &base, &all, &unres);
    if (h->need_any && !lineage_unmet_quota(h, role) && !headroom_ok(h, &unres)) {
      base.unres = false;
      *held = true;
      offerable_q(h, ag, &base, &all, &unres);
    }
    if (!allocatable(h, &all)) continue;
    for (uint32_t j = 0; j < k->nkids; j++) {
      mesos__snode *leaf = k->kids[j];
      if (leaf->eligible == 0) continue;
      h_fwrole *fr = leaf->owner;
      if (!gpu_ok(h, ag, fr->fw)) continue;
      offer_ctx mine = {role, fr->fw->caps, base.unres};
      if (!ag->simple) {
        mesos__qv a2, u2;
        offerable_q(h, ag, &mine, &a2, &u2);
        if (!allocatable(h, &a2)) continue;
      }
      if (mesos__hfilter_covers(ag, fr->fw, ag->simple && mine.unres ? NULL : offer_include,
                                &mine))
        continue;
      *o = mine;
      return fr;
    }
  }
  return NULL;
}

static int qrole_cmp(const void *a, const void *b) {
  const h_role *x = *(h_role *const *)a, *y = *(h_role *const *)b;
  if (x->node.share != y->node.share) return x->node.share < y->node.share ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Keeps qlist sorted after role qlist[i] received resources; drops it once
 * its guarantee is met. */
static void qlist_update(h_alloc *h, uint32_t i) {
  h_role *r = h->qlist[i];
  memmove(&h->qlist[i], &h->qlist[i + 1], (size_t)(h->nqlist - i - 1) * sizeof *h->qlist);
  h->nqlist--;
  if (!quota_unmet(h, r, NULL)) return;
  uint32_t lo = 0, hi = h->nqlist;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (qrole_cmp(&h->qlist[mid], &r) < 0) lo = mid + 1;
    else hi = mid;
  }
  memmove(&h->qlist[lo + 1], &h->qlist[lo], (size_t)(h->nqlist - lo) * sizeof *h->qlist);
  h->qlist[lo] = r;
  h->nqlist++;
}

static mesos_status stage_quota(h_alloc *h, h_agent *ag) {
  uint32_t i = 0;
  while (i < h->nqlist && allocatable(h, &ag->avail_q)) {
    h_role *q = h->qlist[i];
    mesos__qv rem;
    quota_unmet(h, q, &rem);
    offer_ctx o;
    bool held = false;
    /* Inside the quota role's subtree; headroom does not apply to it. */
    bool need_any = h->need_any;
    h->need_any = false;
    h_fwrole *fr = pick(h, ag, &q->node, &o, &held);
    h->need_any = need_any;
    if (fr == NULL) {
      i++;
      continue;
    }
    mesos__qv before;
    qv_copy(h, &before, &rem);
    mesos_status st = give(h, ag, fr, &o, &rem);
    if (st != MESOS_OK) return st;
    /* What the quota roles still miss shrank by what q just got.  (With
     * nested quota roles an ancestor's need shrinks too; the headroom is
     * then overestimated until the next cycle recomputes it, which only
     * holds back more.) */
    mesos__qv after;
    quota_unmet(h, q, &after);
    h->need_any = false;
    for (uint32_t k = 0; k < NN(h); k++) {
      /* Both are in [0, INT64_MAX]: the difference cannot overflow. */
      int64_t got = before.v[k] - after.v[k];
      if (__builtin_sub_overflow(h->need.v[k], got, &h->need.v[k]))
        h->need.v[k] = got > 0 ? 0 : INT64_MAX;
      if (h->need.v[k] < 0) h->need.v[k] = 0;
      h->need_any |= h->need.v[k] > 0;
    }
    qlist_update(h, i);
  }
  return MESOS_OK;
}

static mesos_status stage_fair(h_alloc *h, h_agent *ag, bool *held) {
  /* Each pass gives something away, so this ends; the bound is a guard. */
  for (uint32_t guard = 0; guard < 4096; guard++) {
    if (ag->simple && !allocatable(h, &ag->avail_q)) break;
    if (ag->avail.r.n == 0) break;
    offer_ctx o;
    h_fwrole *fr = pick(h, ag, &h->sorter.root, &o, held);
    if (fr == NULL) break;
    mesos_status st = give(h, ag, fr, &o, NULL);
    if (st != MESOS_OK) return st;
  }
  return MESOS_OK;
}

static void compute_need(h_alloc *h) {
  memset(&h->need, 0, sizeof h->need);
  h->need_any = false;
  h->nqlist = 0;
  if (h->nquota == 0) return;
  for (size_t it = 0;;) {
    const char *key;
    void *val;
    if (!mesos__map_next(&h->roles, &it, &key, &val)) break;
    h_role *r = val;
    mesos__qv rem;
    if (!r->has_quota || !quota_unmet(h, r, &rem)) continue;
    mesos__qv_add(&h->need, &rem, NN(h), 1);
    h->need_any = true;
    if (h->nqlist == h->capqlist) {
      uint32_t cap = h->capqlist ? h->capqlist * 2 : 16;
      h_role **v = mesos__realloc(h->qlist, (size_t)cap * sizeof *v);
      if (v == NULL) continue; /* that role waits for the next cycle */
      h->qlist = v;
      h->capqlist = cap;
    }
    h->qlist[h->nqlist++] = r;
  }
  if (h->nqlist > 1) qsort(h->qlist, h->nqlist, sizeof *h->qlist, qrole_cmp);
}

static void inverse_offers(h_alloc *h) {
  if (h->nunavail == 0 || h->inverse == NULL) return;
  for (uint32_t a = 0; a < h->nagents; a++) {
    h_agent *ag = h->agents[a];
    if (!ag->has_unavail) continue;
    for (uint32_t c = 0; c < ag->nchunks; c++) {
      h_framework *fw = ag->chunks[c].fr->fw;
      if (!fw->known) continue;
      h_invoff *io = NULL;
      for (uint32_t k = 0; k < ag->nio && !io; k++)
        if (ag->io[k].fw == fw) io = &ag->io[k];
      if (io == NULL) {
        if (ag->nio == ag->capio) {
          uint32_t cap = ag->capio ? ag->capio * 2 : 4;
          h_invoff *v = mesos__realloc(ag->io, (size_t)cap * sizeof *v);
          if (v == NULL) return;
          ag->io = v;
          ag->capio = cap;
        }
        io = &ag->io[ag->nio++];
        *io = (h_invoff){fw, false, 0};
      }
      if (io->outstanding || h->now < io->until_ns) continue;
      io->outstanding = true;
      h->stats.inverse_offers++;
      h->inverse(fw->id, ag->id, &ag->unavail, h->cb_ud);
    }
  }
}

static void forget_invoffs(h_alloc *h, h_framework *fw) {
  if (h->nunavail == 0) return;
  for (uint32_t a = 0; a < h->nagents; a++) {
    h_agent *ag = h->agents[a];
    for (uint32_t k = 0; k < ag->nio; k++) {
      if (ag->io[k].fw != fw) continue;
      ag->io[k] = ag->io[--ag->nio];
      break;
    }
  }
}

/* ------------------------------------------------------------ vtable */

static mesos_status h_initialize(void *ud, mesos_allocator_offer_fn offer,
                                 mesos_allocator_inverse_offer_fn inverse, void *cb_ud,
                                 mesos_error **err) {
  (void)err;
  h_alloc *h = ud;
  h->offer = offer;
  h->inverse = inverse;
  h->cb_ud = cb_ud;
  return MESOS_OK;
}

static void h_destroy(void *ud) {
  h_alloc *h = ud;
  if (h == NULL) return;
  /* Everything goes: nothing is detached or re-sorted on the way out. */
  while (h->nagents > 0) {
    h_agent *ag = h->agents[--h->nagents];
    while (ag->filters) mesos__hfilter_free(h, ag->filters);
    for (uint32_t i = 0; i < ag->nchunks; i++) mesos__resources_free(&ag->chunks[i].res.r);
    ag->nchunks = 0;
    agent_free(h, ag);
  }
  for (size_t it = 0;;) {
    const char *key;
    void *val;
    if (!mesos__map_next(&h->frameworks, &it, &key, &val)) break;
    h_framework *fw = val;
    for (uint32_t i = 0; i < fw->nroles; i++) mesos__free(fw->roles[i]);
    mesos__free(fw->roles);
    mesos__free(fw->id);
    mesos__free(fw);
  }
  for (size_t it = 0;;) {
    const char *key;
    void *val;
    if (!mesos__map_next(&h->roles, &it, &key, &val)) break;
    h_role *r = val;
    mesos__snode_fini(&r->self);
    mesos__snode_fini(&r->node);
    mesos__free(r->name);
    mesos__free(r);
  }
  mesos__map_free(&h->roles);
  mesos__map_free(&h->frameworks);
  mesos__map_free(&h->agent_ids);
  mesos__sorter_fini(&h->sorter);
  for (uint32_t i = 0; i < MESOS__ALLOC_MAX_NAMES; i++) mesos__free(h->names[i]);
  mesos__free(h->agents);
  mesos__free(h->dirty);
  mesos__free(h->visit);
  mesos__free(h->free_idx);
  mesos__free(h->heap);
  mesos__free(h->pending);
  mesos__free(h->qlist);
  mesos__free(h);
}

static mesos_status check_framework(const mesos_allocator_framework *f, mesos_error **err) {
  if (f->nroles > 1 && !(f->capabilities & MESOS_ALLOCATOR_CAP_MULTI_ROLE))
    return mesos__err(err, MESOS_EINVAL,
                      "allocator: framework '%s' has %zu roles but not the MULTI_ROLE capability",
                      f->id, f->nroles);
  for (size_t i = 0; i < f->nroles; i++) {
    uint32_t depth;
    mesos_status st = role_check(f->roles[i], &depth, err);
    if (st != MESOS_OK) return st;
    for (size_t j = 0; j < i; j++)
      if (strcmp(f->roles[i], f->roles[j]) == 0)
        return mesos__err(err, MESOS_EINVAL, "allocator: framework '%s' lists role '%s' twice",
                          f->id, f->roles[i]);
  }
  return MESOS_OK;
}

/* Subscribes fw to exactly f's roles. */
static mesos_status set_roles(h_alloc *h, h_framework *fw, const mesos_allocator_framework *f,
                              mesos_error **err) {
  for (size_t i = 0; i < f->nroles; i++) {
    h_fwrole *fr;
    mesos_status st = fwrole_get(h, fw, f->roles[i], &fr, err);
    if (st == MESOS_OK) st = fwrole_subscribe(h, fr);
    if (st != MESOS_OK) return mesos__err(err, st, "allocator: framework '%s': %s", fw->id,
                                          mesos_status_str(st));
  }
  for (uint32_t i = fw->nroles; i-- > 0;) {
    h_fwrole *fr = fw->roles[i];
    bool keep = false;
    for (size_t j = 0; j < f->nroles && !keep; j++) keep = strcmp(fr->role->name, f->roles[j]) == 0;
    if (!keep) fwrole_unsubscribe(h, fr);
  }
  return MESOS_OK;
}

static mesos_status h_add_framework(void *ud, const mesos_allocator_framework *f, int active,
                                    mesos_error **err) {
  h_alloc *h = ud;
  mesos_status st = check_framework(f, err);
  if (st != MESOS_OK) return st;
  h_framework *fw = NULL;
  st = framework_get(h, f->id, true, &fw, err);
  if (st != MESOS_OK) return st;
  if (fw->known)
    return mesos__err(err, MESOS_EEXIST, "allocator: framework '%s' already added", f->id);
  fw->known = true;
  fw->active = active != 0;
  fw->caps = f->capabilities;
  st = set_roles(h, fw, f, err);
  for (uint32_t i = 0; i < fw->nroles; i++) fwrole_refresh(fw->roles[i]);
  if (st != MESOS_OK) return st;
  mark_all_dirty(h);
  return MESOS_OK;
}

static mesos_status known_framework(h_alloc *h, const char *id, h_framework **out,
                                    mesos_error **err) {
  h_framework *fw = mesos__map_get(&h->frameworks, id);
  if (fw == NULL || !fw->known)
    return mesos__err(err, MESOS_ENOTFOUND, "allocator: unknown framework '%s'", id);
  *out = fw;
  return MESOS_OK;
}

static mesos_status h_update_framework(void *ud, const mesos_allocator_framework *f,
                                       mesos_error **err) {
  h_alloc *h = ud;
  h_framework *fw = NULL;
  mesos_status st = known_framework(h, f->id, &fw, err);
  if (st == MESOS_OK) st = check_framework(f, err);
  if (st != MESOS_OK) return st;
  fw->caps = f->capabilities;
  st = set_roles(h, fw, f, err);
  mark_all_dirty(h);
  return st;
}

static mesos_status h_remove_framework(void *ud, const char *id, mesos_error **err) {
  h_alloc *h = ud;
  h_framework *fw = NULL;
  mesos_status st = known_framework(h, id, &fw, err);
  if (st != MESOS_OK) return st;
  while (fw->filters) mesos__hfilter_free(h, fw->filters);
  forget_invoffs(h, fw);
  bool holds = false;
  for (uint32_t i = 0; i < fw->nroles; i++) holds |= fw->roles[i]->nchunks > 0;
  /* Its subscriptions go first, so chunk_drop can free the records. */
  fw->known = false;
  for (uint32_t i = fw->nroles; i-- > 0;) {
    fwrole_refresh(fw->roles[i]);
    fwrole_unsubscribe(h, fw->roles[i]);
  }
  if (holds) {
    /* Keep fw alive while its chunks go (chunk_drop may free it last). */
    fw->known = true;
    for (uint32_t a = 0; a < h->nagents; a++) {
      h_agent *ag = h->agents[a];
      bool changed = false;
      for (uint32_t c = ag->nchunks; c-- > 0;) {
        if (ag->chunks[c].fr->fw != fw) continue;
        st = chunk_release(h, ag, c);
        if (st != MESOS_OK) return mesos__err(err, st, "allocator: removing framework '%s'", id);
        changed = true;
      }
      if (changed) agent_refresh(h, ag);
    }
    fw->known = false;
  }
  framework_maybe_free(h, fw);
  return MESOS_OK;
}

static mesos_status set_active(h_alloc *h, const char *id, bool active, mesos_error **err) {
  h_framework *fw = NULL;
  mesos_status st = known_framework(h, id, &fw, err);
  if (st != MESOS_OK) return st;
  fw->active = active;
  for (uint32_t i = 0; i < fw->nroles; i++) fwrole_refresh(fw->roles[i]);
  if (active) mark_all_dirty(h);
  return MESOS_OK;
}

static mesos_status h_activate_framework(void *ud, const char *id, mesos_error **err) {
  return set_active(ud, id, true, err);
}

static mesos_status h_deactivate_framework(void *ud, const char *id, mesos_error **err) {
  return set_active(ud, id, false, err);
}

static mesos_status agents_push(h_alloc *h, h_agent *ag) {
  if (h->nagents == h->capagents) {
    uint32_t cap = h->capagents ? h->capagents * 2 : 64;
    h_agent **v = mesos__realloc(h->agents, (size_t)cap * sizeof *v);
    if (v == NULL) return MESOS_ENOMEM;
    h->agents = v;
    h->capagents = cap;
  }
  ag->idx = h->nagents;
  h->agents[h->nagents++] = ag;
  return MESOS_OK;
}

static mesos_status h_remove_agent(void *ud, const char *id, mesos_error **err);

static mesos_status h_add_agent(void *ud, const mesos_allocator_agent *a, mesos_error **err) {
  h_alloc *h = ud;
  if (mesos__map_get(&h->agent_ids, a->id))
    return mesos__err(err, MESOS_EEXIST, "allocator: agent '%s' already added", a->id);
  mesos_status st = intern_bag(h, &a->total->r, err);
  if (st != MESOS_OK) return st;
  /* Check everything before changing anything. */
  mesos__resources avail;
  st = mesos__resources_copy(&avail, &a->total->r);
  for (size_t i = 0; i < a->nused && st == MESOS_OK; i++) {
    uint32_t depth;
    st = role_check(a->used[i].role, &depth, err);
    if (st == MESOS_OK) {
      st = mesos__resources_subtract_all(&avail, &a->used[i].resources->r, NULL);
      if (st == MESOS_EINVAL)
        st = mesos__err(err, st,
                        "allocator: agent '%s': used resources of framework '%s' exceed its total",
                        a->id, a->used[i].framework_id);
      else if (st != MESOS_OK)
        st = mesos__err(err, st, "allocator: adding agent '%s'", a->id);
    }
  }
  h_agent *ag = st == MESOS_OK ? MESOS__NEW(h_agent) : NULL;
  if (st == MESOS_OK && ag == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st != MESOS_OK) {
    mesos__resources_free(&avail);
    return st;
  }
  ag->avail.r = avail;
  ag->active = true;
  ag->id = mesos__strdup(a->id);
  ag->hostname = a->hostname ? mesos__strdup(a->hostname) : NULL;
  if (ag->id == NULL || (a->hostname && ag->hostname == NULL) ||
      mesos__resources_copy(&ag->total.r, &a->total->r) != MESOS_OK ||
      mesos__map_put(&h->agent_ids, ag->id, ag) != MESOS_OK) {
    agent_free(h, ag);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (agents_push(h, ag) != MESOS_OK) {
    mesos__map_remove(&h->agent_ids, ag->id);
    agent_free(h, ag);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  bag_q(h, &ag->total.r, &ag->total_q, NULL);
  int g = name_index(h, "gpus");
  ag->gpus = g >= 0 && ag->total_q.v[g] > 0;
  set_total(h, ag, 1);
  /* Room for every allocation at once: a re-registering agent brings one
   * per task, and growing 4, 8, 16... cost a copy each time. */
  if (a->nused > 4 && a->nused <= UINT32_MAX) {
    h_chunk *v = mesos__realloc(ag->chunks, a->nused * sizeof *v);
    if (v) {
      ag->chunks = v;
      ag->capchunks = (uint32_t)a->nused;
    }
  }
  for (size_t i = 0; i < a->nused; i++) {
    const mesos_allocator_allocation *u = &a->used[i];
    h_framework *fw;
    h_fwrole *fr;
    uint32_t ci;
    st = framework_get(h, u->framework_id, true, &fw, err);
    if (st == MESOS_OK) st = fwrole_get(h, fw, u->role, &fr, err);
    if (st == MESOS_OK) st = chunk_push(h, ag, fr, &ci);
    if (st == MESOS_OK) st = mesos__resources_add_all(&ag->chunks[ci].res.r, &u->resources->r);
    if (st != MESOS_OK) {
      /* Undo the whole agent (its chunks so far are accounted). */
      agent_refresh(h, ag);
      h_remove_agent(h, a->id, NULL);
      return mesos__err(err, st, "allocator: adding agent '%s'", a->id);
    }
    ag->chunks[ci].cycle = UINT64_MAX;
    mesos__qv q;
    bag_q(h, &u->resources->r, &q, NULL);
    account(h, fr, &q, 1);
  }
  agent_refresh(h, ag);
  return MESOS_OK;
}

static mesos_status find_agent(h_alloc *h, const char *id, h_agent **out, mesos_error **err) {
  *out = mesos__map_get(&h->agent_ids, id);
  if (*out == NULL) return mesos__err(err, MESOS_ENOTFOUND, "allocator: unknown agent '%s'", id);
  return MESOS_OK;
}

static mesos_status h_remove_agent(void *ud, const char *id, mesos_error **err) {
  h_alloc *h = ud;
  h_agent *ag = NULL;
  mesos_status st = find_agent(h, id, &ag, err);
  if (st != MESOS_OK) return st;
  if (ag->active) mesos__qv_add(&h->unres_avail, &ag->unres_q, NN(h), -1);
  ag->active = false;
  set_total(h, ag, -1);
  if (ag->dirty) {
    for (uint32_t i = 0; i < h->ndirty; i++) {
      if (h->dirty[i] != ag) continue;
      h->dirty[i] = h->dirty[--h->ndirty];
      break;
    }
  }
  if (ag->has_unavail) h->nunavail--;
  h->agents[ag->idx] = h->agents[--h->nagents];
  h->agents[ag->idx]->idx = ag->idx;
  mesos__map_remove(&h->agent_ids, ag->id);
  ag->dirty = true; /* filters going away must not queue it */
  agent_free(h, ag);
  return MESOS_OK;
}

static mesos_status h_update_agent(void *ud, const char *id, const mesos_resources *total,
                                   mesos_error **err) {
  h_alloc *h = ud;
  h_agent *ag = NULL;
  mesos_status st = find_agent(h, id, &ag, err);
  if (st == MESOS_OK) st = intern_bag(h, &total->r, err);
  if (st != MESOS_OK) return st;
  mesos__resources avail;
  st = mesos__resources_copy(&avail, &total->r);
  for (uint32_t i = 0; i < ag->nchunks && st == MESOS_OK; i++) {
    st = mesos__resources_subtract_all(&avail, &ag->chunks[i].res.r, NULL);
    if (st == MESOS_EINVAL)
      st = mesos__err(err, st,
                      "allocator: agent '%s': new total does not hold what is allocated", id);
    else if (st != MESOS_OK)
      st = mesos__err(err, st, "allocator: updating agent '%s'", id);
  }
  mesos__resources tot;
  if (st == MESOS_OK && mesos__resources_copy(&tot, &total->r) != MESOS_OK) {
    mesos__resources_free(&tot);
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  if (st != MESOS_OK) {
    mesos__resources_free(&avail);
    return st;
  }
  set_total(h, ag, -1);
  mesos__resources_free(&ag->total.r);
  mesos__resources_free(&ag->avail.r);
  ag->total.r = tot;
  ag->avail.r = avail;
  bag_q(h, &ag->total.r, &ag->total_q, NULL);
  int g = name_index(h, "gpus");
  ag->gpus = g >= 0 && ag->total_q.v[g] > 0;
  set_total(h, ag, 1);
  agent_refresh(h, ag);
  return MESOS_OK;
}

static mesos_status agent_set_active(h_alloc *h, const char *id, bool active,
                                     mesos_error **err) {
  h_agent *ag = NULL;
  mesos_status st = find_agent(h, id, &ag, err);
  if (st != MESOS_OK) return st;
  if (ag->active == active) return MESOS_OK;
  mesos__qv_add(&h->unres_avail, &ag->unres_q, NN(h), active ? 1 : -1);
  ag->active = active;
  if (active) mesos__hagent_mark_dirty(h, ag);
  return MESOS_OK;
}

static mesos_status h_activate_agent(void *ud, const char *id, mesos_error **err) {
  return agent_set_active(ud, id, true, err);
}

static mesos_status h_deactivate_agent(void *ud, const char *id, mesos_error **err) {
  return agent_set_active(ud, id, false, err);
}

static mesos_status h_update_unavailability(void *ud, const char *id,
                                            const mesos_allocator_unavailability *u,
                                            mesos_error **err) {
  h_alloc *h = ud;
  h_agent *ag = NULL;
  mesos_status st = find_agent(h, id, &ag, err);
  if (st != MESOS_OK) return st;
  if (ag->has_unavail) h->nunavail--;
  ag->has_unavail = u != NULL;
  if (u) {
    ag->unavail = *u;
    h->nunavail++;
  }
  /* A new window asks everyone again. */
  ag->nio = 0;
  return MESOS_OK;
}

static uint64_t refuse_until(const h_alloc *h, double seconds) {
  if (isinf(seconds) || seconds >= MESOS_ALLOCATOR_REFUSE_FOREVER) return UINT64_MAX;
  double ns = seconds * 1e9;
  uint64_t now = h->clock_ns(h->clock_ud);
  if (ns >= (double)(UINT64_MAX - now)) return UINT64_MAX - 1;
  return now + (uint64_t)ns;
}

static mesos_status h_update_inverse_offer(void *ud, const char *fw_id, const char *agent_id,
                                           double refuse_seconds, mesos_error **err) {
  h_alloc *h = ud;
  h_framework *fw = NULL;
  h_agent *ag = NULL;
  mesos_status st = known_framework(h, fw_id, &fw, err);
  if (st == MESOS_OK) st = find_agent(h, agent_id, &ag, err);
  if (st != MESOS_OK) return st;
  for (uint32_t k = 0; k < ag->nio; k++) {
    if (ag->io[k].fw != fw) continue;
    ag->io[k].outstanding = false;
    ag->io[k].until_ns = refuse_seconds > 0 ? refuse_until(h, refuse_seconds) : 0;
    return MESOS_OK;
  }
  return mesos__err(err, MESOS_ENOTFOUND,
                    "allocator: no inverse offer to framework '%s' for agent '%s'", fw_id,
                    agent_id);
}

/* Applies conversions to `bags` (nb bags, each consumed must fit in one of
 * them) and to `total`, on copies; on success the copies replace the
 * originals.  All or nothing. */
static mesos_status convert(h_alloc *h, mesos__resources **bags, uint32_t nb,
                            mesos__resources *total, const mesos_allocator_conversion *ops,
                            size_t nops, const char *what, mesos_error **err) {
  for (size_t i = 0; i < nops; i++) {
    mesos_status st = intern_bag(h, &ops[i].converted->r, err);
    if (st != MESOS_OK) return st;
  }
  mesos__resources *copies = mesos__calloc((size_t)nb + 1, sizeof *copies);
  if (copies == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = MESOS_OK;
  uint32_t made = 0;
  for (; made < nb && st == MESOS_OK; made++) st = mesos__resources_copy(&copies[made], bags[made]);
  if (st == MESOS_OK) st = mesos__resources_copy(&copies[nb], total);
  made = nb + 1;
  for (size_t i = 0; i < nops && st == MESOS_OK; i++) {
    uint32_t b = 0;
    while (b < nb && !mesos__resources_contains_all(&copies[b], &ops[i].consumed->r)) b++;
    if (b == nb) {
      st = mesos__err(err, MESOS_EINVAL, "allocator: operation %zu: consumed resources are not %s",
                      i, what);
      break;
    }
    st = mesos__resources_subtract_all(&copies[b], &ops[i].consumed->r, err);
    if (st == MESOS_OK) st = mesos__resources_add_all(&copies[b], &ops[i].converted->r);
    if (st == MESOS_OK) {
      st = mesos__resources_subtract_all(&copies[nb], &ops[i].consumed->r, NULL);
      if (st == MESOS_EINVAL)
        st = mesos__err(err, st, "allocator: operation %zu: not in the agent's total", i);
      else if (st != MESOS_OK)
        st = mesos__err(err, st, "allocator: operation %zu", i);
    }
    if (st == MESOS_OK) st = mesos__resources_add_all(&copies[nb], &ops[i].converted->r);
  }
  if (st == MESOS_OK) {
    for (uint32_t b = 0; b < nb; b++) {
      mesos__resources_free(bags[b]);
      *bags[b] = copies[b];
    }
    mesos__resources_free(total);
    *total = copies[nb];
  } else {
    for (uint32_t b = 0; b < made; b++) mesos__resources_free(&copies[b]);
  }
  mesos__free(copies);
  return st;
}

static void total_changed(h_alloc *h, h_agent *ag) {
  set_total(h, ag, -1);
  bag_q(h, &ag->total.r, &ag->total_q, NULL);
  set_total(h, ag, 1);
}

static mesos_status h_update_allocation(void *ud, const char *fw_id, const char *agent_id,
                                        const char *role, const mesos_allocator_conversion *ops,
                                        size_t nops, mesos_error **err) {
  h_alloc *h = ud;
  h_framework *fw = NULL;
  h_agent *ag = NULL;
  mesos_status st = known_framework(h, fw_id, &fw, err);
  if (st == MESOS_OK) st = find_agent(h, agent_id, &ag, err);
  if (st != MESOS_OK) return st;
  mesos__resources **bags = mesos__calloc(ag->nchunks ? ag->nchunks : 1, sizeof *bags);
  uint32_t *idx = mesos__calloc(ag->nchunks ? ag->nchunks : 1, sizeof *idx);
  if (bags == NULL || idx == NULL) {
    mesos__free(bags);
    mesos__free(idx);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  uint32_t nb = 0;
  for (uint32_t c = 0; c < ag->nchunks; c++) {
    h_chunk *ch = &ag->chunks[c];
    if (ch->fr->fw != fw || (role && strcmp(ch->fr->role->name, role) != 0)) continue;
    idx[nb] = c;
    bags[nb++] = &ch->res.r;
  }
  /* Account old quantities out, new ones in, around the conversion. */
  mesos__qv *old = mesos__calloc(nb ? nb : 1, sizeof *old);
  if (old == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  for (uint32_t b = 0; b < nb && st == MESOS_OK; b++) bag_q(h, bags[b], &old[b], NULL);
  if (st == MESOS_OK)
    st = convert(h, bags, nb, &ag->total.r, ops, nops, "allocated to the framework", err);
  if (st == MESOS_OK) {
    for (uint32_t b = 0; b < nb; b++) {
      mesos__qv q;
      bag_q(h, bags[b], &q, NULL);
      mesos__qv_add(&q, &old[b], NN(h), -1);
      account(h, ag->chunks[idx[b]].fr, &q, 1);
    }
    total_changed(h, ag);
  }
  mesos__free(old);
  mesos__free(bags);
  mesos__free(idx);
  return st;
}

static mesos_status h_update_available(void *ud, const char *agent_id,
                                       const mesos_allocator_conversion *ops, size_t nops,
                                       mesos_error **err) {
  h_alloc *h = ud;
  h_agent *ag = NULL;
  mesos_status st = find_agent(h, agent_id, &ag, err);
  if (st != MESOS_OK) return st;
  mesos__resources *bags[1] = {&ag->avail.r};
  st = convert(h, bags, 1, &ag->total.r, ops, nops, "available", err);
  if (st != MESOS_OK) return st;
  total_changed(h, ag);
  agent_refresh(h, ag);
  return MESOS_OK;
}

/* For each entry of `r`, the chunk of fw (and role, when given) on `ag`
 * that holds all of it, in where[i].  Returns SIZE_MAX when every entry
 * has one, else the index of the first entry that has none. */
static size_t locate_entries(const h_agent *ag, const h_framework *fw, const char *role,
                             const mesos__resources *r, uint32_t *where) {
  for (size_t i = 0; i < r->n; i++) {
    mesos__resources one = mesos__bag_view(r, i);
    where[i] = UINT32_MAX;
    for (uint32_t c = 0; c < ag->nchunks && where[i] == UINT32_MAX; c++) {
      const h_chunk *ch = &ag->chunks[c];
      if (ch->fr->fw != fw || (role && strcmp(ch->fr->role->name, role) != 0)) continue;
      if (mesos__resources_contains_all(&ch->res.r, &one)) where[i] = c;
    }
    if (where[i] == UINT32_MAX) return i;
  }
  return SIZE_MAX;
}

/* Resources coming back can span several chunks of one framework-role: an
 * ACCEPT may combine offers of the same agent made in different cycles
 * (each its own chunk), and the task launched from them, or what the
 * ACCEPT left over, then holds "cpus:3" out of chunks of 1 and 2.  When
 * the chunks of fw (and role) on `ag` together hold all of `r`, each
 * framework-role's chunks there are merged into one (its accounting, kept
 * per framework-role, does not change) so every entry has a chunk holding
 * it.  Returns true when it merged; false (nothing changed) when even
 * together they do not hold `r` or memory ran out.  Rare: only after such
 * an ACCEPT. */
static bool merge_chunks_holding(h_alloc *h, h_agent *ag, const h_framework *fw, const char *role,
                                 const mesos__resources *r) {
  mesos__resources all;
  mesos__resources_init(&all);
  mesos_status st = MESOS_OK;
  for (uint32_t c = 0; c < ag->nchunks && st == MESOS_OK; c++) {
    const h_chunk *ch = &ag->chunks[c];
    if (ch->fr->fw != fw || (role && strcmp(ch->fr->role->name, role) != 0)) continue;
    st = mesos__resources_add_all(&all, &ch->res.r);
  }
  bool held = st == MESOS_OK && mesos__resources_contains_all(&all, r);
  mesos__resources_free(&all);
  if (!held) return false;
  bool merged = false;
  for (uint32_t c = 0; c < ag->nchunks; c++) {
    h_chunk *first = &ag->chunks[c];
    if (first->fr->fw != fw || (role && strcmp(first->fr->role->name, role) != 0)) continue;
    /* Later chunks of the same framework-role move into `first`; the
     * framework-role keeps at least `first`, so chunk_drop frees nothing
     * but the emptied chunk. */
    for (uint32_t d = ag->nchunks; d-- > c + 1;) {
      h_chunk *other = &ag->chunks[d];
      if (other->fr != first->fr) continue;
      if (mesos__bag_move_all(&ag->chunks[c].res.r, &other->res.r) != MESOS_OK) return merged;
      chunk_drop(h, ag, d);
      merged = true;
    }
  }
  return merged;
}

static mesos_status h_recover_resources(void *ud, const char *fw_id, const char *agent_id,
                                        const char *role, const mesos_resources *res,
                                        double refuse_seconds, mesos_error **err) {
  h_alloc *h = ud;
  h_framework *fw = mesos__map_get(&h->frameworks, fw_id);
  h_agent *ag = mesos__map_get(&h->agent_ids, agent_id);
  /* A decline racing a removal: the resources are already back. */
  if (fw == NULL || ag == NULL) return MESOS_OK;
  const mesos__resources *r = &res->r;
  if (r->n == 0) return MESOS_OK;
  mesos_status st = MESOS_OK;
  /* Fast path: a whole offer comes back untouched. */
  uint32_t whole = UINT32_MAX;
  for (uint32_t c = ag->nchunks; c-- > 0;) {
    h_chunk *ch = &ag->chunks[c];
    if (ch->fr->fw != fw || (role && strcmp(ch->fr->role->name, role) != 0)) continue;
    if (mesos__resources_equal(&ch->res.r, r)) {
      whole = c;
      break;
    }
  }
  mesos__resources refused;
  mesos__resources_init(&refused);
  bool want_filter = refuse_seconds > 0;
  if (want_filter && mesos__resources_copy(&refused, r) != MESOS_OK) {
    mesos__resources_free(&refused);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  /* Declining a whole offer on an agent that had nothing else left: the
   * refused resources are now exactly its availability. */
  bool exact = whole != UINT32_MAX && ag->avail.r.n == 0;
  if (whole != UINT32_MAX) {
    st = chunk_release(h, ag, whole);
  } else {
    /* Entry by entry: each must sit inside one of its allocations here. */
    uint32_t *where = mesos__calloc(r->n, sizeof *where);
    if (where == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    size_t bad = where ? locate_entries(ag, fw, role, r, where) : 0;
    if (where && bad != SIZE_MAX && merge_chunks_holding(h, ag, fw, role, r))
      bad = locate_entries(ag, fw, role, r, where);
    if (where && bad != SIZE_MAX)
      st = mesos__err(err, MESOS_EINVAL,
                      "allocator: resource '%s' is not allocated to framework '%s' on agent '%s'",
                      r->v[bad].proto->name, fw_id, agent_id);
    if (st == MESOS_OK) st = mesos__resources_add_all(&ag->avail.r, r);
    if (st == MESOS_OK) {
      for (size_t i = 0; i < r->n; i++) {
        h_chunk *ch = &ag->chunks[where[i]];
        mesos__resources one = mesos__bag_view(r, i);
        mesos__qv q;
        bag_q(h, &one, &q, NULL);
        mesos__resources_subtract_all(&ch->res.r, &one, NULL);
        account(h, ch->fr, &q, -1);
      }
      for (uint32_t c = ag->nchunks; c-- > 0;)
        if (ag->chunks[c].res.r.n == 0) chunk_drop(h, ag, c);
    }
    mesos__free(where);
  }
  if (st != MESOS_OK) {
    mesos__resources_free(&refused);
    return st;
  }
  agent_refresh(h, ag);
  /* fw may have been freed with its last chunk if it was a placeholder. */
  fw = mesos__map_get(&h->frameworks, fw_id);
  if (want_filter && fw && fw->known)
    st = mesos__hfilter_add(h, fw, ag, &refused, refuse_until(h, refuse_seconds),
                            exact ? ag->avail_gen : 0);
  mesos__resources_free(&refused);
  if (st != MESOS_OK) return mesos__err(err, st, "allocator: adding a filter");
  return MESOS_OK;
}

static mesos_status set_suppressed(h_alloc *h, const char *fw_id, const char *role, bool on,
                                   mesos_error **err) {
  h_framework *fw = NULL;
  mesos_status st = known_framework(h, fw_id, &fw, err);
  if (st != MESOS_OK) return st;
  h_fwrole *only = NULL;
  if (role) {
    only = fwrole_find(fw, role);
    if (only == NULL || !only->subscribed)
      return mesos__err(err, MESOS_ENOTFOUND, "allocator: framework '%s' is not in role '%s'",
                        fw_id, role);
  }
  for (uint32_t i = 0; i < fw->nroles; i++) {
    h_fwrole *fr = fw->roles[i];
    if ((only && fr != only) || !fr->subscribed) continue;
    fr->suppressed = on;
    fwrole_refresh(fr);
  }
  if (!on) {
    while (fw->filters) mesos__hfilter_free(h, fw->filters);
    mark_all_dirty(h);
  }
  return MESOS_OK;
}

static mesos_status h_suppress(void *ud, const char *fw_id, const char *role,
                               mesos_error **err) {
  return set_suppressed(ud, fw_id, role, true, err);
}

static mesos_status h_revive(void *ud, const char *fw_id, const char *role, mesos_error **err) {
  return set_suppressed(ud, fw_id, role, false, err);
}

static mesos_status h_update_weights(void *ud, const char *const *roles, const double *weights,
                                     size_t n, mesos_error **err) {
  h_alloc *h = ud;
  for (size_t i = 0; i < n; i++) {
    uint32_t depth;
    mesos_status st = role_check(roles[i], &depth, err);
    if (st != MESOS_OK) return st;
  }
  for (size_t i = 0; i < n; i++) {
    h_role *r;
    mesos_status st = role_get(h, roles[i], &r, err);
    if (st != MESOS_OK) return st;
    if (r->weight_set) role_unref(h, r); /* keep one weight ref */
    r->weight_set = true;
    mesos__sorter_set_weight(&h->sorter, &r->node, weights[i]);
  }
  mark_all_dirty(h);
  return MESOS_OK;
}

static mesos_status h_set_quota(void *ud, const char *role, const mesos_resources *g,
                                mesos_error **err) {
  h_alloc *h = ud;
  uint32_t depth;
  mesos_status st = role_check(role, &depth, err);
  if (st != MESOS_OK) return st;
  if (strcmp(role, "*") == 0)
    return mesos__err(err, MESOS_EINVAL, "allocator: quota cannot be set for role '*'");
  for (size_t i = 0; i < g->r.n; i++) {
    const mesos__res *x = &g->r.v[i];
    if (x->type != MESOS__V1__VALUE__TYPE__SCALAR)
      return mesos__err(err, MESOS_EINVAL, "allocator: quota for '%s': '%s' is not a scalar",
                        role, x->proto->name);
    if (!res_unreserved(x))
      return mesos__err(err, MESOS_EINVAL, "allocator: quota for '%s': '%s' is reserved", role,
                        x->proto->name);
  }
  st = intern_bag(h, &g->r, err);
  if (st != MESOS_OK) return st;
  h_role *r;
  st = role_get(h, role, &r, err);
  if (st != MESOS_OK) return st;
  if (r->has_quota) role_unref(h, r);
  else h->nquota++;
  r->has_quota = true;
  bag_q(h, &g->r, &r->guarantee, NULL);
  mark_all_dirty(h);
  return MESOS_OK;
}

static mesos_status h_remove_quota(void *ud, const char *role, mesos_error **err) {
  h_alloc *h = ud;
  h_role *r = mesos__map_get(&h->roles, role);
  if (r == NULL || !r->has_quota)
    return mesos__err(err, MESOS_ENOTFOUND, "allocator: role '%s' has no quota", role);
  r->has_quota = false;
  memset(&r->guarantee, 0, sizeof r->guarantee);
  h->nquota--;
  role_unref(h, r);
  mark_all_dirty(h);
  return MESOS_OK;
}

static mesos_status h_allocate(void *ud, mesos_error **err) {
  h_alloc *h = ud;
  uint64_t t0 = default_clock(NULL);
  h->now = h->clock_ns(h->clock_ud);
  mesos__hfilter_expire(h, h->now);
  if (h->sorter.stale) mesos__sorter_resort(&h->sorter);
  h->cycle++;
  h->npending = 0;

  /* The agents to look at: swap the dirty list out, so agents marked
   * during the cycle (held back for quota) are kept for the next. */
  uint32_t nvisit;
  h_agent **visit;
  if (h->all_dirty) {
    for (uint32_t i = 0; i < h->ndirty; i++) h->dirty[i]->dirty = false;
    h->ndirty = 0;
    h->all_dirty = false;
    visit = h->agents;
    nvisit = h->nagents;
  } else {
    if (h->capvisit < h->ndirty) {
      h_agent **v = mesos__realloc(h->visit, (size_t)h->ndirty * sizeof *v);
      if (v == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      h->visit = v;
      h->capvisit = h->ndirty;
    }
    if (h->ndirty) memcpy(h->visit, h->dirty, (size_t)h->ndirty * sizeof *h->dirty);
    visit = h->visit;
    nvisit = h->ndirty;
    for (uint32_t i = 0; i < nvisit; i++) visit[i]->dirty = false;
    h->ndirty = 0;
  }
  /* Marks made while offering are for this very cycle: suppress them. */
  for (uint32_t i = 0; i < nvisit; i++) visit[i]->dirty = true;

  compute_need(h);
  mesos_status st = MESOS_OK;
  if (h->nqlist > 0)
    for (uint32_t i = 0; i < nvisit && st == MESOS_OK; i++)
      if (visit[i]->active) st = stage_quota(h, visit[i]);
  for (uint32_t i = 0; i < nvisit && st == MESOS_OK; i++) {
    bool held = false;
    if (visit[i]->active) st = stage_fair(h, visit[i], &held);
    visit[i]->held = held;
  }
  /* Agents whose unreserved resources were held back for quota are looked
   * at again next cycle: the headroom may be gone by then. */
  for (uint32_t i = 0; i < nvisit; i++) visit[i]->dirty = false;
  for (uint32_t i = 0; i < nvisit; i++) {
    if (!visit[i]->held) continue;
    visit[i]->held = false;
    mesos__hagent_mark_dirty(h, visit[i]);
  }

  inverse_offers(h);
  for (uint32_t i = 0; i < h->npending; i++) {
    const h_pending *p = &h->pending[i];
    h->stats.offers++;
    h->offer(p->fw_id, p->role, p->ag->id, &p->ag->chunks[p->chunk].res, h->cb_ud);
  }
  h->npending = 0;
  h->stats.cycles++;
  h->stats.last_cycle_agents = nvisit;
  h->stats.last_cycle_ns = default_clock(NULL) - t0;
  if (st != MESOS_OK) return mesos__err(err, st, "allocator: cycle: %s", mesos_status_str(st));
  return MESOS_OK;
}

static mesos_status h_stats(void *ud, mesos_allocator_stats *out, mesos_error **err) {
  (void)err;
  h_alloc *h = ud;
  uint32_t version = out->version;
  *out = h->stats;
  out->version = version;
  uint64_t known = 0;
  for (size_t it = 0;;) {
    const char *key;
    void *val;
    if (!mesos__map_next(&h->frameworks, &it, &key, &val)) break;
    known += ((h_framework *)val)->known;
  }
  out->frameworks = known;
  out->agents = h->nagents;
  out->filters = h->nfilters;
  return MESOS_OK;
}

static const mesos_allocator_ops hierarchical_ops = {
    .version = MESOS_ALLOCATOR_OPS_VERSION,
    .initialize = h_initialize,
    .destroy = h_destroy,
    .add_framework = h_add_framework,
    .remove_framework = h_remove_framework,
    .activate_framework = h_activate_framework,
    .deactivate_framework = h_deactivate_framework,
    .update_framework = h_update_framework,
    .add_agent = h_add_agent,
    .remove_agent = h_remove_agent,
    .update_agent = h_update_agent,
    .activate_agent = h_activate_agent,
    .deactivate_agent = h_deactivate_agent,
    .update_unavailability = h_update_unavailability,
    .update_inverse_offer = h_update_inverse_offer,
    .update_allocation = h_update_allocation,
    .update_available = h_update_available,
    .recover_resources = h_recover_resources,
    .suppress = h_suppress,
    .revive = h_revive,
    .update_weights = h_update_weights,
    .set_quota = h_set_quota,
    .remove_quota = h_remove_quota,
    .allocate = h_allocate,
    .stats = h_stats,
};

/* ------------------------------------------------------------ options */

/* Parses "cpus:0.01|mem:32" (alternatives of name:quantity lists). */
static mesos_status parse_min(h_alloc *h, const char *text, mesos_error **err) {
  if (strlen(text) > 4096)
    return mesos__err(err, MESOS_EINVAL, "min_allocatable_resources: longer than 4096 bytes");
  char *copy = mesos__strdup(text);
  if (copy == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = MESOS_OK;
  char *alt = copy;
  while (alt && st == MESOS_OK) {
    char *bar = strchr(alt, '|');
    if (bar) *bar++ = '\0';
    if (h->nmin_alts == MESOS__ALLOC_MAX_MIN_ALTS) {
      st = mesos__err(err, MESOS_EINVAL, "min_allocatable_resources: more than %d alternatives",
                      MESOS__ALLOC_MAX_MIN_ALTS);
      break;
    }
    h_min_alt *m = &h->min_alts[h->nmin_alts];
    memset(m, 0, sizeof *m);
    char *item = alt;
    bool any = false;
    while (item && st == MESOS_OK) {
      char *semi = strchr(item, ';');
      if (semi) *semi++ = '\0';
      while (*item == ' ') item++;
      if (*item == '\0') {
        item = semi;
        continue;
      }
      char *colon = strchr(item, ':');
      char *end = NULL;
      double v = colon ? strtod(colon + 1, &end) : 0;
      if (colon == NULL || colon == item || end == colon + 1 || (*end != '\0' && *end != ' ') ||
          !isfinite(v) || v < 0 || v > 1e15) {
        st = mesos__err(err, MESOS_EINVAL,
                        "min_allocatable_resources: '%s' is not name:quantity", item);
        break;
      }
      *colon = '\0';
      int k;
      st = name_intern(h, item, &k, err);
      if (st != MESOS_OK) break;
      m->q.v[k] = llround(v * 1000);
      m->mask |= (uint64_t)1 << k;
      any = true;
      item = semi;
    }
    if (st == MESOS_OK && !any)
      st = mesos__err(err, MESOS_EINVAL, "min_allocatable_resources: empty alternative in '%s'",
                      text);
    if (st == MESOS_OK) h->nmin_alts++;
    alt = bar;
  }
  mesos__free(copy);
  return st;
}

static mesos_status parse_excluded(h_alloc *h, const char *text, mesos_error **err) {
  if (strlen(text) > 4096)
    return mesos__err(err, MESOS_EINVAL,
                      "fair_sharing_excluded_resource_names: longer than 4096 bytes");
  char *copy = mesos__strdup(text);
  if (copy == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = MESOS_OK;
  for (char *p = copy; p && st == MESOS_OK;) {
    char *comma = strchr(p, ',');
    if (comma) *comma++ = '\0';
    while (*p == ' ') p++;
    char *e = p + strlen(p);
    while (e > p && e[-1] == ' ') *--e = '\0';
    if (*p == '\0') {
      st = mesos__err(err, MESOS_EINVAL,
                      "fair_sharing_excluded_resource_names: empty name in '%s'", text);
      break;
    }
    int k;
    st = name_intern(h, p, &k, err);
    if (st == MESOS_OK) h->sorter.excluded |= (uint64_t)1 << k;
    p = comma;
  }
  mesos__free(copy);
  return st;
}

MESOS_EXTERN(mesos_status) mesos_hierarchical_allocator_options_init(
    mesos_hierarchical_allocator_options *opts, uint32_t version) {
  if (opts == NULL) return MESOS_EINVAL;
  if (version != MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_VERSION) return MESOS_EVERSION;
  memset(opts, 0, sizeof *opts);
  opts->version = version;
  opts->filter_gpu_resources = 1;
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_hierarchical_allocator_new(
    mesos_allocator **out, const mesos_hierarchical_allocator_options *opts,
    mesos_error **err) {
  if (out == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_hierarchical_allocator_new: out is NULL");
  *out = NULL;
  mesos_hierarchical_allocator_options o;
  if (opts) {
    if (opts->version != MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_VERSION)
      return mesos__err(err, MESOS_EVERSION,
                        "mesos_hierarchical_allocator_options: version %u not supported (this "
                        "library: %u)",
                        opts->version, MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_VERSION);
    o = *opts;
  } else {
    mesos_hierarchical_allocator_options_init(&o, MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_VERSION);
  }
  h_alloc *h = MESOS__NEW(h_alloc);
  if (h == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__sorter_init(&h->sorter);
  mesos__map_init(&h->roles);
  mesos__map_init(&h->frameworks);
  mesos__map_init(&h->agent_ids);
  h->clock_ns = o.clock_ns ? o.clock_ns : default_clock;
  h->clock_ud = o.clock_ud;
  h->filter_gpus = o.filter_gpu_resources != 0;
  h->stats.version = MESOS_ALLOCATOR_STATS_VERSION;
  mesos_status st = parse_min(h, o.min_allocatable_resources ? o.min_allocatable_resources
                                                             : "cpus:0.01|mem:32",
                              err);
  if (st == MESOS_OK && o.fair_sharing_excluded_resource_names)
    st = parse_excluded(h, o.fair_sharing_excluded_resource_names, err);
  if (st == MESOS_OK) st = mesos_allocator_new(out, &hierarchical_ops, h, err);
  if (st != MESOS_OK) {
    h_destroy(h);
    return st;
  }
  return MESOS_OK;
}

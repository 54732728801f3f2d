/*
 * The built-in hierarchical DRF allocator's state, shared by its parts:
 * hierarchical.c (the vtable members and the cycle) and filter.c (refuse
 * filters).  Nothing here is visible outside lib/allocator.
 */
#ifndef MESOS_ALLOCATOR_HIERARCHICAL_INT_H
#define MESOS_ALLOCATOR_HIERARCHICAL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "allocator/sorter.h"
#include "base/map.h"
#include "mesos/sys/allocator.h"
#include "resources/resources_int.h"

/* Role names deeper than this are refused: the sorter recurses along the
 * role tree, and no real hierarchy comes close. */
#define MESOS__ALLOC_MAX_ROLE_DEPTH 16
#define MESOS__ALLOC_MAX_ROLE_LEN 1024
/* Alternatives in --min_allocatable_resources. */
#define MESOS__ALLOC_MAX_MIN_ALTS 16

typedef struct h_role h_role;
typedef struct h_framework h_framework;
typedef struct h_fwrole h_fwrole;
typedef struct h_agent h_agent;
typedef struct h_filter h_filter;

struct h_role {
  char *name;
  h_role *parent;
  uint32_t depth;
  uint32_t refs;       /* sub-roles, framework-roles, quota, weight */
  mesos__snode node;   /* this role in its parent's child list */
  mesos__snode self;   /* first child of node: the role's own frameworks */
  bool weight_set;
  bool has_quota;
  mesos__qv guarantee;
};

/* A framework's tie to one role: subscribed, or still holding resources
 * allocated to that role. */
struct h_fwrole {
  h_framework *fw;
  h_role *role;
  mesos__snode leaf;   /* in role->self while subscribed */
  bool subscribed;
  bool suppressed;
  bool eligible;       /* counted in the sorter's eligible totals */
  uint32_t nchunks;    /* allocations of this framework-role on agents */
};

struct h_framework {
  char *id;
  uint32_t idx;        /* bit in the agents' filter bitmaps */
  bool known;          /* false: only seen in an agent's used resources */
  bool active;
  uint32_t caps;
  h_fwrole **roles;
  uint32_t nroles, caproles;
  h_filter *filters;   /* its refuse filters (list via fnext) */
};

/* Resources of one framework-role on one agent.  Each offer makes one;
 * `cycle` lets the offers of one cycle to the same framework-role merge. */
typedef struct h_chunk {
  h_fwrole *fr;
  uint64_t cycle;
  mesos_resources res;
} h_chunk;

typedef struct h_invoff {
  h_framework *fw;
  bool outstanding;
  uint64_t until_ns;
} h_invoff;

/* Fields a cycle touches come first; the quantity vectors are large
 * (MESOS__ALLOC_MAX_NAMES slots) and only their first slots are hot. */
struct h_agent {
  bool active;
  bool dirty;
  bool held;           /* this cycle held unreserved resources back */
  bool simple;         /* avail is all unreserved, non-revocable, unshared */
  bool gpus;
  bool has_unavail;
  uint32_t idx;        /* in h->agents */
  uint32_t nchunks, capchunks;
  uint32_t nfwords;
  uint64_t avail_gen;  /* bumped whenever avail changes */
  char *id;
  mesos_resources avail;
  h_chunk *chunks;
  uint64_t *fbits;     /* bit fw->idx: that framework has a filter here */
  h_filter *filters;   /* list via anext */
  mesos__qv avail_q;   /* scalar quantities of avail */
  mesos__qv unres_q;   /* ... of its unreserved, non-revocable part */
  char *hostname;
  mesos_resources total;
  mesos__qv total_q;
  mesos_allocator_unavailability unavail;
  h_invoff *io;
  uint32_t nio, capio;
};

struct h_filter {
  h_framework *fw;
  h_agent *ag;
  uint64_t expires_ns; /* UINT64_MAX: until revive */
  uint64_t covers_gen; /* the agent's avail_gen at which the filter was
                        * known to cover all of avail (0: not known) */
  size_t heap;         /* index in the expiry heap, SIZE_MAX when unbounded */
  mesos__resources refused;
  h_filter *fprev, *fnext;
  h_filter *aprev, *anext;
};

typedef struct h_min_alt {
  mesos__qv q;
  uint64_t mask;
} h_min_alt;

/* An offer made in the current cycle, handed out at its end.  The ids are
 * kept here, read while hot, so the hand-out loop does not chase them. */
typedef struct h_pending {
  h_agent *ag;
  uint32_t chunk;
  const char *fw_id, *role;
} h_pending;

typedef struct h_alloc {
  /* options */
  uint64_t (*clock_ns)(void *ud);
  void *clock_ud;
  bool filter_gpus;
  h_min_alt min_alts[MESOS__ALLOC_MAX_MIN_ALTS];
  uint32_t nmin_alts;

  mesos_allocator_offer_fn offer;
  mesos_allocator_inverse_offer_fn inverse;
  void *cb_ud;

  char *names[MESOS__ALLOC_MAX_NAMES];
  mesos__sorter sorter;
  mesos__map roles, frameworks, agent_ids;

  h_agent **agents;
  uint32_t nagents, capagents;
  h_agent **dirty;
  uint32_t ndirty, capdirty;
  bool all_dirty;
  h_agent **visit;     /* scratch for a cycle */
  uint32_t capvisit;

  uint32_t *free_idx;  /* framework bit indices to reuse */
  uint32_t nfree_idx, capfree_idx, next_idx;

  h_filter **heap;     /* timed filters, earliest expiry first */
  size_t nheap, capheap;
  uint64_t nfilters;

  mesos__qv unres_avail; /* unreserved available on active agents */
  mesos__qv need;        /* unmet quota this cycle */
  bool need_any;
  uint32_t nquota;
  uint32_t nunavail;

  h_pending *pending;
  uint32_t npending, cappending;
  h_role **qlist;
  uint32_t nqlist, capqlist;

  uint64_t cycle;
  uint64_t now;
  mesos_allocator_stats stats;
} h_alloc;

/* filter.c */
/* Takes `refused` over (left empty on success; untouched on error).
 * `covers_gen`: ag->avail_gen if `refused` is known to hold all of the
 * agent's availability now, else 0. */
mesos_status mesos__hfilter_add(h_alloc *h, h_framework *fw, h_agent *ag,
                                mesos__resources *refused, uint64_t expires_ns,
                                uint64_t covers_gen);
void mesos__hfilter_free(h_alloc *h, h_filter *f);
/* Frees the filters whose time has come. */
void mesos__hfilter_expire(h_alloc *h, uint64_t now);
/* Whether one of fw's filters on ag covers the entries of ag->avail for
 * which include(i) is true. */
bool mesos__hfilter_covers(h_agent *ag, const h_framework *fw,
                           bool (*include)(const mesos__res *x, void *ctx), void *ctx);
void mesos__hagent_mark_dirty(h_alloc *h, h_agent *ag);

static inline bool mesos__hagent_fbit(const h_agent *ag, uint32_t idx) {
  uint32_t w = idx / 64;
  return w < ag->nfwords && ((ag->fbits[w] >> (idx % 64)) & 1u);
}

#endif

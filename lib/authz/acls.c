#include "authz/acls.h"

#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "base/map.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "mesos/acls.pb-c.h"
#include "mesos/internal/acls_1_0.pb-c.h"
#include "mesos/authz.h"

/* ACL JSON is configuration written by people: nesting deeper than an
 * ACL's own four levels (ACLs, list, rule, entity, values) is hostile. */
#define ACLS_MAX_DEPTH 8

/* An object entity with more values than this gets a hash set, so a rule
 * listing thousands of users costs one lookup, not a scan. */
#define ENTITY_SET_MIN 9

enum {
  ENT_SOME = MESOS__ACL__ENTITY__TYPE__SOME,
  ENT_ANY = MESOS__ACL__ENTITY__TYPE__ANY,
  ENT_NONE = MESOS__ACL__ENTITY__TYPE__NONE
};

/* How a key's object entity is compared (spec/authorization.md §2.6). */
typedef enum key_kind {
  KIND_VALUE,    /* exact values */
  KIND_ROLE,     /* exact values, and "prefix/%" for every role below prefix */
  KIND_ANY_NONE, /* only ANY or NONE may be written; requests carry no object */
  KIND_ENDPOINT  /* exact paths, only those Mesos authorizes */
} key_kind;

typedef struct key_def {
  const char *key;
  int32_t action;
  key_kind kind;
  int second; /* 1: the *_under_parent_with_user key of a two-key action */
} key_def;

static const key_def KEYS[] = {
  {"register_frameworks", MESOS_AUTHZ_REGISTER_FRAMEWORK, KIND_ROLE, 0},
  {"run_tasks", MESOS_AUTHZ_RUN_TASK, KIND_VALUE, 0},
  {"reserve_resources", MESOS_AUTHZ_RESERVE_RESOURCES, KIND_ROLE, 0},
  {"unreserve_resources", MESOS_AUTHZ_UNRESERVE_RESOURCES, KIND_VALUE, 0},
  {"create_volumes", MESOS_AUTHZ_CREATE_VOLUME, KIND_ROLE, 0},
  {"destroy_volumes", MESOS_AUTHZ_DESTROY_VOLUME, KIND_VALUE, 0},
  {"teardown_frameworks", MESOS_AUTHZ_TEARDOWN_FRAMEWORK, KIND_VALUE, 0},
  {"update_weights", MESOS_AUTHZ_UPDATE_WEIGHT, KIND_ROLE, 0},
  {"get_endpoints", MESOS_AUTHZ_GET_ENDPOINT_WITH_PATH, KIND_ENDPOINT, 0},
  {"get_quotas", MESOS_AUTHZ_GET_QUOTA, KIND_ROLE, 0},
  {"update_quotas", MESOS_AUTHZ_UPDATE_QUOTA, KIND_ROLE, 0},
  {"view_frameworks", MESOS_AUTHZ_VIEW_FRAMEWORK, KIND_VALUE, 0},
  {"view_tasks", MESOS_AUTHZ_VIEW_TASK, KIND_VALUE, 0},
  {"view_executors", MESOS_AUTHZ_VIEW_EXECUTOR, KIND_VALUE, 0},
  {"access_sandboxes", MESOS_AUTHZ_ACCESS_SANDBOX, KIND_VALUE, 0},
  {"access_mesos_logs", MESOS_AUTHZ_ACCESS_MESOS_LOG, KIND_ANY_NONE, 0},
  {"view_roles", MESOS_AUTHZ_VIEW_ROLE, KIND_ROLE, 0},
  {"view_flags", MESOS_AUTHZ_VIEW_FLAGS, KIND_ANY_NONE, 0},
  {"launch_nested_containers_as_user", MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER, KIND_VALUE, 0},
  {"launch_nested_containers_under_parent_with_user", MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER,
   KIND_VALUE, 1},
  {"kill_nested_containers", MESOS_AUTHZ_KILL_NESTED_CONTAINER, KIND_VALUE, 0},
  {"wait_nested_containers", MESOS_AUTHZ_WAIT_NESTED_CONTAINER, KIND_VALUE, 0},
  {"launch_nested_container_sessions_as_user", MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER_SESSION,
   KIND_VALUE, 0},
  {"launch_nested_container_sessions_under_parent_with_user",
   MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER_SESSION, KIND_VALUE, 1},
  {"attach_containers_input", MESOS_AUTHZ_ATTACH_CONTAINER_INPUT, KIND_VALUE, 0},
  {"attach_containers_output", MESOS_AUTHZ_ATTACH_CONTAINER_OUTPUT, KIND_VALUE, 0},
  {"view_containers", MESOS_AUTHZ_VIEW_CONTAINER, KIND_VALUE, 0},
  {"set_log_level", MESOS_AUTHZ_SET_LOG_LEVEL, KIND_ANY_NONE, 0},
  {"remove_nested_containers", MESOS_AUTHZ_REMOVE_NESTED_CONTAINER, KIND_VALUE, 0},
  {"register_agents", MESOS_AUTHZ_REGISTER_AGENT, KIND_ANY_NONE, 0},
  {"update_maintenance_schedules", MESOS_AUTHZ_UPDATE_MAINTENANCE_SCHEDULE, KIND_ANY_NONE, 0},
  {"get_maintenance_schedules", MESOS_AUTHZ_GET_MAINTENANCE_SCHEDULE, KIND_ANY_NONE, 0},
  {"start_maintenances", MESOS_AUTHZ_START_MAINTENANCE, KIND_ANY_NONE, 0},
  {"stop_maintenances", MESOS_AUTHZ_STOP_MAINTENANCE, KIND_ANY_NONE, 0},
  {"get_maintenance_statuses", MESOS_AUTHZ_GET_MAINTENANCE_STATUS, KIND_ANY_NONE, 0},
  {"mark_agents_gone", MESOS_AUTHZ_MARK_AGENT_GONE, KIND_VALUE, 0},
  {"launch_standalone_containers", MESOS_AUTHZ_LAUNCH_STANDALONE_CONTAINER, KIND_ANY_NONE, 0},
  {"kill_standalone_containers", MESOS_AUTHZ_KILL_STANDALONE_CONTAINER, KIND_ANY_NONE, 0},
  {"wait_standalone_containers", MESOS_AUTHZ_WAIT_STANDALONE_CONTAINER, KIND_ANY_NONE, 0},
  {"remove_standalone_containers", MESOS_AUTHZ_REMOVE_STANDALONE_CONTAINER, KIND_ANY_NONE, 0},
  {"modify_resource_provider_configs", MESOS_AUTHZ_MODIFY_RESOURCE_PROVIDER_CONFIG,
   KIND_ANY_NONE, 0},
  {"view_standalone_containers", MESOS_AUTHZ_VIEW_STANDALONE_CONTAINER, KIND_ANY_NONE, 0},
  {"prune_images", MESOS_AUTHZ_PRUNE_IMAGES, KIND_ANY_NONE, 0},
  {"resize_volumes", MESOS_AUTHZ_RESIZE_VOLUME, KIND_ROLE, 0},
  {"create_block_disks", MESOS_AUTHZ_CREATE_BLOCK_DISK, KIND_ROLE, 0},
  {"destroy_block_disks", MESOS_AUTHZ_DESTROY_BLOCK_DISK, KIND_ROLE, 0},
  {"create_mount_disks", MESOS_AUTHZ_CREATE_MOUNT_DISK, KIND_ROLE, 0},
  {"destroy_mount_disks", MESOS_AUTHZ_DESTROY_MOUNT_DISK, KIND_ROLE, 0},
  {"view_resource_providers", MESOS_AUTHZ_VIEW_RESOURCE_PROVIDER, KIND_ANY_NONE, 0},
  {"mark_resource_providers_gone", MESOS_AUTHZ_MARK_RESOURCE_PROVIDER_GONE, KIND_ANY_NONE, 0},
  {"destroy_raw_disks", MESOS_AUTHZ_DESTROY_RAW_DISK, KIND_ROLE, 0},
  {"drain_agents", MESOS_AUTHZ_DRAIN_AGENT, KIND_ANY_NONE, 0},
  {"deactivate_agents", MESOS_AUTHZ_DEACTIVATE_AGENT, KIND_ANY_NONE, 0},
  {"reactivate_agents", MESOS_AUTHZ_REACTIVATE_AGENT, KIND_ANY_NONE, 0},
  /* Mesos 1.0's, in acls_1_0.proto (not in mesos__acls_keys): removing a
   * quota, by the principal that set it. */
  {"remove_quotas", MESOS__AUTHZ_REMOVE_QUOTA_LEGACY, KIND_VALUE, 0},
};
#define NKEYS (sizeof(KEYS) / sizeof(KEYS[0]))

const char *const mesos__acls_keys[NKEYS + 1] = {
  "register_frameworks", "run_tasks", "reserve_resources", "unreserve_resources",
  "create_volumes", "destroy_volumes", "teardown_frameworks", "update_weights",
  "get_endpoints", "get_quotas", "update_quotas", "view_frameworks", "view_tasks",
  "view_executors", "access_sandboxes", "access_mesos_logs", "view_roles", "view_flags",
  "launch_nested_containers_as_user", "launch_nested_containers_under_parent_with_user",
  "kill_nested_containers", "wait_nested_containers",
  "launch_nested_container_sessions_as_user",
  "launch_nested_container_sessions_under_parent_with_user", "attach_containers_input",
  "attach_containers_output", "view_containers", "set_log_level", "remove_nested_containers",
  "register_agents", "update_maintenance_schedules", "get_maintenance_schedules",
  "start_maintenances", "stop_maintenances", "get_maintenance_statuses", "mark_agents_gone",
  "launch_standalone_containers", "kill_standalone_containers", "wait_standalone_containers",
  "remove_standalone_containers", "modify_resource_provider_configs",
  "view_standalone_containers", "prune_images", "resize_volumes", "create_block_disks",
  "destroy_block_disks", "create_mount_disks", "destroy_mount_disks",
  "view_resource_providers", "mark_resource_providers_gone", "destroy_raw_disks",
  "drain_agents", "deactivate_agents", "reactivate_agents", NULL, NULL};

/* The only paths Mesos lets get_endpoints name (others are a load error:
 * the remaining endpoints are guarded by their own actions). */
static const char *const ENDPOINT_PATHS[] = {
  "/containers", "/containerizer/debug", "/files/debug",
  "/logging/toggle", "/metrics/snapshot", "/monitor/statistics"};

/* Actions go up to 53 (REACTIVATE_AGENT); the one internal action
 * (MESOS__AUTHZ_REMOVE_QUOTA_LEGACY) takes the slot after them. */
#define MAX_ACTION 53
#define NSLOTS (MAX_ACTION + 2)

static int slot_of(int32_t action) {
  if (action >= 1 && action <= MAX_ACTION) return action;
  return action == MESOS__AUTHZ_REMOVE_QUOTA_LEGACY ? MAX_ACTION + 1 : -1;
}

typedef struct entity {
  int type;
  size_t n;
  char **values;
  mesos__map set; /* when n >= ENTITY_SET_MIN: value -> non-NULL */
} entity;

typedef struct rule {
  entity subj;
  entity obj;
} rule;

typedef struct idx_list {
  size_t n;
  uint32_t idx[];
} idx_list;

typedef struct key_rules {
  const key_def *def;
  rule *rules;
  size_t n;
  /* Rules whose subject is ANY or NONE (they match any request subject):
   * the candidates of a request without a principal or with one no rule
   * names. */
  idx_list *wild;
  mesos__map by_principal; /* principal -> idx_list* (its rules + wild, merged) */
  bool scan;               /* index too large: scan every rule */
} key_rules;

struct mesos__acls {
  atomic_uint refs;
  bool permissive;
  key_rules keys[NKEYS];
  /* action -> index into keys of its first and second key, or -1 */
  int16_t first[NSLOTS];
  int16_t second[NSLOTS];
  bool legacy_quota; /* Mesos 1.0's set_quotas / remove_quotas rules */
};

static size_t index_budget = MESOS__ACLS_MAX_INDEX;

size_t mesos__acls_set_index_budget(size_t entries) {
  size_t old = index_budget;
  index_budget = entries;
  return old;
}

bool mesos__authz_action_valid(int32_t action) {
  return action >= 1 && action <= MAX_ACTION && mesos_authz_action_name(action) != NULL;
}

/* ------------------------------------------------------------ matching */

static bool entity_has(const entity *e, const char *v, key_kind kind) {
  bool big = e->n >= ENTITY_SET_MIN;
  if (big && mesos__map_get(&e->set, v)) return true;
  if (big && kind != KIND_ROLE) return false;
  for (size_t i = 0; i < e->n; i++) {
    const char *rv = e->values[i];
    if (!big && strcmp(rv, v) == 0) return true;
    if (kind == KIND_ROLE) {
      /* "eng/%" covers every role strictly below "eng". */
      size_t rl = strlen(rv);
      if (rl >= 2 && rv[rl - 1] == '%' && rv[rl - 2] == '/' && strncmp(rv, v, rl - 1) == 0 &&
          v[rl - 1] != '\0')
        return true;
    }
  }
  return false;
}

/* §2.4 tables, for a request entity that is SOME with one value `v`, or
 * ANY when `v` is NULL. */
static bool ent_matches(const entity *e, const char *v, key_kind kind) {
  switch (e->type) {
    case ENT_ANY:
    case ENT_NONE:
      return true;
    default:
      return v && entity_has(e, v, kind);
  }
}

static bool ent_allows(const entity *e, const char *v, key_kind kind) {
  switch (e->type) {
    case ENT_ANY:
      return true;
    case ENT_NONE:
      return false;
    default:
      return v && entity_has(e, v, kind);
  }
}

/* The rules of `kr` that can match `subject`, in file order: NULL means
 * "scan all" (index over budget). */
static const idx_list *candidates(const key_rules *kr, const char *subject) {
  if (kr->scan) return NULL;
  const idx_list *cand = NULL;
  if (subject && kr->by_principal.count) cand = mesos__map_get(&kr->by_principal, subject);
  return cand ? cand : kr->wild;
}

static const idx_list EMPTY_LIST = {0};

static int check_cand(const mesos__acls *a, const key_rules *kr, const idx_list *cand,
                      const char *subject, const char *object) {
  key_kind kind = kr->def->kind;
  if (kind == KIND_ANY_NONE) object = NULL;
  if (kr->scan) {
    for (size_t i = 0; i < kr->n; i++) {
      const rule *r = &kr->rules[i];
      if (!ent_matches(&r->subj, subject, KIND_VALUE) || !ent_matches(&r->obj, object, kind))
        continue;
      return ent_allows(&r->subj, subject, KIND_VALUE) && ent_allows(&r->obj, object, kind);
    }
    return a->permissive;
  }
  if (cand) {
    for (size_t i = 0; i < cand->n; i++) {
      const rule *r = &kr->rules[cand->idx[i]];
      /* The subject matches by construction of the candidate list. */
      if (!ent_matches(&r->obj, object, kind)) continue;
      return ent_allows(&r->subj, subject, KIND_VALUE) && ent_allows(&r->obj, object, kind);
    }
  }
  return a->permissive;
}

/* The decision of one key for `subject` when it does not depend on the
 * object, else -1.  Among the candidates, a SOME-object rule that matches
 * a single-value object also allows it, so it decides by its subject
 * alone; an ANY-object rule matches everything and decides by its
 * subject; a NONE-object rule matches everything and denies.  So the
 * candidates up to the first ANY/NONE-object rule (or all of them, then
 * `permissive`) decide every object alike when all their decisions agree.
 * State filtering asks one approver about every task: a principal that
 * may view everything (or nothing) is then answered without looking at
 * the task's user at all. */
static int key_constant(const mesos__acls *a, const key_rules *kr, const idx_list *cand,
                        const char *subject) {
  if (kr->scan || cand == NULL) return -1;
  int d = -1;
  for (size_t i = 0; i < cand->n; i++) {
    const rule *r = &kr->rules[cand->idx[i]];
    int sa = ent_allows(&r->subj, subject, KIND_VALUE);
    int rd = r->obj.type == ENT_NONE ? 0 : sa;
    if (d >= 0 && rd != d) return -1;
    d = rd;
    if (r->obj.type == ENT_ANY || r->obj.type == ENT_NONE) return d;
  }
  int p = a->permissive ? 1 : 0;
  return d < 0 || d == p ? p : -1;
}

void mesos__acls_bind(mesos__acls_binding *b, const mesos__acls *a, int32_t action,
                      const char *subject) {
  memset(b, 0, sizeof(*b));
  b->acls = a;
  b->subject = subject;
  b->k1 = b->k2 = -1;
  int slot = slot_of(action);
  if (!a || slot < 0) return;
  b->k1 = a->first[slot];
  b->k2 = a->second[slot];
  if (b->k1 >= 0) {
    const idx_list *c = candidates(&a->keys[b->k1], subject);
    b->c1 = c ? c : (a->keys[b->k1].scan ? NULL : &EMPTY_LIST);
  }
  if (b->k2 >= 0) {
    const idx_list *c = candidates(&a->keys[b->k2], subject);
    b->c2 = c ? c : (a->keys[b->k2].scan ? NULL : &EMPTY_LIST);
  }
  b->constant = -1;
}

void mesos__acls_bind_precompute(mesos__acls_binding *b) {
  const mesos__acls *a = b->acls;
  if (!a) return;
  b->constant = b->k1 < 0 ? 0 : key_constant(a, &a->keys[b->k1], b->c1, b->subject);
  if (b->constant == 1 && b->k2 >= 0)
    b->constant = key_constant(a, &a->keys[b->k2], b->c2, b->subject);
}

int mesos__acls_check_bound(const mesos__acls_binding *b, const char *object,
                            const char *parent) {
  const mesos__acls *a = b->acls;
  if (!a) return 1;
  if (b->constant >= 0) return b->constant;
  if (b->k1 < 0) return 0;
  if (!check_cand(a, &a->keys[b->k1], b->c1, b->subject, object)) return 0;
  if (b->k2 >= 0 && !check_cand(a, &a->keys[b->k2], b->c2, b->subject, parent)) return 0;
  return 1;
}

int mesos__acls_check2(const mesos__acls *a, int32_t action, const char *subject,
                       const char *object, const char *parent) {
  mesos__acls_binding b;
  mesos__acls_bind(&b, a, action, subject);
  return mesos__acls_check_bound(&b, object, parent);
}

int mesos__acls_check(const mesos__acls *a, int32_t action, const char *subject,
                      const char *object) {
  return mesos__acls_check2(a, action, subject, object, object);
}

bool mesos__acls_legacy_quota(const mesos__acls *a) { return a && a->legacy_quota; }

bool mesos__acls_permissive(const mesos__acls *a) { return a->permissive; }

long mesos__acls_rule_count(const mesos__acls *a, const char *key) {
  for (size_t k = 0; k < NKEYS; k++)
    if (strcmp(KEYS[k].key, key) == 0) return (long)a->keys[k].n;
  return -1;
}

/* ------------------------------------------------------------ lifetime */

static void entity_free(entity *e) {
  for (size_t i = 0; i < e->n; i++) mesos__free(e->values[i]);
  mesos__free(e->values);
  mesos__map_free(&e->set);
}

static void key_rules_free(key_rules *kr) {
  for (size_t i = 0; i < kr->n; i++) {
    entity_free(&kr->rules[i].subj);
    entity_free(&kr->rules[i].obj);
  }
  mesos__free(kr->rules);
  size_t it = 0;
  const char *k;
  void *v;
  while (mesos__map_next(&kr->by_principal, &it, &k, &v)) mesos__free(v);
  mesos__map_free(&kr->by_principal);
  mesos__free(kr->wild);
}

static void acls_free(mesos__acls *a) {
  for (size_t k = 0; k < NKEYS; k++) key_rules_free(&a->keys[k]);
  mesos__free(a);
}

mesos__acls *mesos__acls_ref(mesos__acls *a) {
  if (a) atomic_fetch_add(&a->refs, 1);
  return a;
}

void mesos__acls_unref(mesos__acls *a) {
  if (a && atomic_fetch_sub(&a->refs, 1) == 1) acls_free(a);
}

/* ------------------------------------------------------------ compiling */

static mesos_status entity_copy(entity *dst, const Mesos__ACL__Entity *src, bool want_set,
                                mesos_error **err) {
  mesos__map_init(&dst->set);
  dst->type = src->has_type ? (int)src->type : ENT_SOME;
  if (dst->type != ENT_SOME) return MESOS_OK; /* Mesos ignores values of ANY / NONE */
  if (src->n_values == 0) return MESOS_OK;
  dst->values = mesos__calloc(src->n_values, sizeof(char *));
  if (!dst->values) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  for (size_t i = 0; i < src->n_values; i++) {
    dst->values[i] = mesos__strdup(src->values[i] ? src->values[i] : "");
    if (!dst->values[i]) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    dst->n = i + 1;
    if (want_set && src->n_values >= ENTITY_SET_MIN &&
        mesos__map_put(&dst->set, dst->values[i], dst->values[i]) != MESOS_OK)
      return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  return MESOS_OK;
}

static idx_list *idx_new(size_t n) {
  size_t bytes;
  if (!mesos__size_mul(&bytes, n, sizeof(uint32_t)) ||
      !mesos__size_add(&bytes, bytes, sizeof(idx_list)))
    return NULL;
  idx_list *l = mesos__malloc(bytes);
  if (l) l->n = 0;
  return l;
}

/* A growable per-principal list while compiling. */
typedef struct tmp_list {
  size_t n, cap;
  uint32_t *idx;
} tmp_list;

static mesos_status build_index(key_rules *kr, size_t *budget, mesos_error **err) {
  mesos_status st = MESOS_OK;
  mesos__map tmp;
  mesos__map_init(&tmp);
  size_t nwild = 0;
  for (size_t i = 0; i < kr->n; i++)
    if (kr->rules[i].subj.type != ENT_SOME) nwild++;
  kr->wild = idx_new(nwild);
  if (!kr->wild) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < kr->n; i++) {
    const entity *s = &kr->rules[i].subj;
    if (s->type != ENT_SOME) {
      kr->wild->idx[kr->wild->n++] = (uint32_t)i;
      continue;
    }
    for (size_t j = 0; j < s->n; j++) {
      tmp_list *l = mesos__map_get(&tmp, s->values[j]);
      if (!l) {
        l = mesos__calloc(1, sizeof(*l));
        if (!l || mesos__map_put(&tmp, s->values[j], l) != MESOS_OK) {
          mesos__free(l);
          st = mesos__err(err, MESOS_ENOMEM, "out of memory");
          goto done;
        }
      }
      if (l->n > 0 && l->idx[l->n - 1] == (uint32_t)i) continue; /* value listed twice */
      if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 4;
        uint32_t *p = mesos__realloc(l->idx, ncap * sizeof(uint32_t));
        if (!p) {
          st = mesos__err(err, MESOS_ENOMEM, "out of memory");
          goto done;
        }
        l->idx = p;
        l->cap = ncap;
      }
      l->idx[l->n++] = (uint32_t)i;
    }
  }
  /* Merge each principal's rules with the wild ones, keeping file order. */
  size_t it = 0;
  const char *k;
  void *v;
  while (mesos__map_next(&tmp, &it, &k, &v)) {
    tmp_list *l = v;
    size_t total = l->n + nwild;
    if (total > *budget) {
      kr->scan = true;
      break;
    }
    *budget -= total;
    idx_list *m = idx_new(total);
    if (!m || mesos__map_put(&kr->by_principal, k, m) != MESOS_OK) {
      mesos__free(m);
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      goto done;
    }
    size_t a = 0, b = 0;
    while (a < l->n || b < nwild) {
      if (b >= nwild || (a < l->n && l->idx[a] < kr->wild->idx[b]))
        m->idx[m->n++] = l->idx[a++];
      else
        m->idx[m->n++] = kr->wild->idx[b++];
    }
  }
done:
  it = 0;
  while (mesos__map_next(&tmp, &it, &k, &v)) {
    tmp_list *l = v;
    mesos__free(l->idx);
    mesos__free(l);
  }
  mesos__map_free(&tmp);
  return st;
}

static bool endpoint_ok(const char *p) {
  for (size_t i = 0; i < sizeof(ENDPOINT_PATHS) / sizeof(ENDPOINT_PATHS[0]); i++)
    if (strcmp(ENDPOINT_PATHS[i], p) == 0) return true;
  return false;
}

/* Mesos 1.0's deprecated keys, still read as 1.0 masters read them: their
 * rules follow the current key's, in file order (shutdown_frameworks after
 * teardown_frameworks for TEARDOWN_FRAMEWORK, set_quotas after
 * update_quotas for setting quotas).  Ignoring them, as unknown keys are,
 * would silently drop the denials of an old file. */
static const struct {
  const char *key, *alias;
} ALIASES[] = {
  {"teardown_frameworks", "shutdown_frameworks"},
  {"update_quotas", "set_quotas"},
};

/* Compiles the rules of `def`: its own field of the ACLs message
 * (`fds[0]` in msgs[0]) and, after it, a deprecated 1.0 alias (`fds[1]`
 * in msgs[1], the ACLs_1_0 message; may be NULL). */
static mesos_status compile_key(key_rules *kr, const key_def *def,
                                const ProtobufCFieldDescriptor *const fds[2],
                                const ProtobufCMessage *const msgs[2], mesos_error **err) {
  kr->def = def;
  mesos__map_init(&kr->by_principal);
  size_t total = 0;
  for (int f = 0; f < 2; f++)
    if (fds[f]) total += *(const size_t *)((const char *)msgs[f] + fds[f]->quantifier_offset);
  if (total == 0) return MESOS_OK;
  if (total > UINT32_MAX) return mesos__err(err, MESOS_ELIMIT, "%s: too many rules", def->key);
  kr->rules = mesos__calloc(total, sizeof(rule));
  if (!kr->rules) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  for (int f = 0; f < 2; f++) {
    const ProtobufCFieldDescriptor *fd = fds[f];
    if (!fd) continue;
    size_t n = *(const size_t *)((const char *)msgs[f] + fd->quantifier_offset);
    if (n == 0) continue;
    ProtobufCMessage *const *items =
        *(ProtobufCMessage *const *const *)((const char *)msgs[f] + fd->offset);
    const ProtobufCMessageDescriptor *rd = fd->descriptor;
    const ProtobufCFieldDescriptor *sf = protobuf_c_message_descriptor_get_field(rd, 1);
    const ProtobufCFieldDescriptor *of = protobuf_c_message_descriptor_get_field(rd, 2);
    if (!sf || !of || sf->type != PROTOBUF_C_TYPE_MESSAGE || of->type != PROTOBUF_C_TYPE_MESSAGE)
      return mesos__err(err, MESOS_EINVAL, "%s: unexpected rule shape", fd->name);
    for (size_t i = 0; i < n; i++) {
      const Mesos__ACL__Entity *se =
          *(Mesos__ACL__Entity *const *)((const char *)items[i] + sf->offset);
      const Mesos__ACL__Entity *oe =
          *(Mesos__ACL__Entity *const *)((const char *)items[i] + of->offset);
      rule *r = &kr->rules[kr->n];
      kr->n++;
      mesos__map_init(&r->subj.set);
      mesos__map_init(&r->obj.set);
      /* The codec enforces the required fields; this guards a descriptor
       * that lost its `required`. */
      if (!se || !oe)
        return mesos__err(err, MESOS_EINVAL, "%s[%zu]: '%s' and '%s' are required", fd->name,
                          i, sf->name, of->name);
      mesos_status st = entity_copy(&r->subj, se, false, err);
      if (st == MESOS_OK) st = entity_copy(&r->obj, oe, true, err);
      if (st != MESOS_OK) return st;
      if (def->kind == KIND_ANY_NONE && r->obj.type == ENT_SOME)
        return mesos__err(err, MESOS_EINVAL,
                          "%s[%zu].%s: only {\"type\": \"ANY\"} or {\"type\": \"NONE\"} is "
                          "allowed",
                          fd->name, i, of->name);
      if (def->kind == KIND_ENDPOINT) {
        for (size_t j = 0; j < r->obj.n; j++)
          if (!endpoint_ok(r->obj.values[j]))
            return mesos__err(err, MESOS_EINVAL,
                              "%s[%zu].%s: path '%.200s' cannot be authorized with get_endpoints",
                              fd->name, i, of->name, r->obj.values[j]);
      }
    }
  }
  return MESOS_OK;
}

/* Reads the JSON string starting at json[i] == '"'; returns the index past
 * its closing quote (or len when unterminated). */
static size_t skip_string(const char *json, size_t len, size_t i) {
  for (i++; i < len; i++) {
    if (json[i] == '\\') i++;
    else if (json[i] == '"') return i + 1;
  }
  return len;
}

/* The codec drops an unknown enum name in an optional field (newer peers
 * may add values), which for an ACL would turn a misspelled "ANY" into an
 * empty SOME entity that silently matches nobody.  Configuration written by
 * people deserves an error instead: every "type" key must name SOME, ANY
 * or NONE.  Runs on text the codec already accepted, so it is well-formed
 * JSON. */
static mesos_status check_entity_types(const char *json, size_t len, mesos_error **err) {
  size_t i = 0;
  while (i < len) {
    if (json[i] != '"') {
      i++;
      continue;
    }
    size_t end = skip_string(json, len, i);
    bool is_type = end - i == 6 && memcmp(json + i, "\"type\"", 6) == 0;
    i = end;
    if (!is_type) continue;
    size_t j = i;
    while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r'))
      j++;
    if (j >= len || json[j] != ':') continue; /* a value "type", not a key */
    j++;
    while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r'))
      j++;
    if (j >= len || json[j] != '"') continue; /* a wrong type: the codec reported it */
    size_t vend = skip_string(json, len, j);
    size_t vl = vend - j;
    if (!((vl == 6 && memcmp(json + j, "\"SOME\"", 6) == 0) ||
          (vl == 5 && memcmp(json + j, "\"ANY\"", 5) == 0) ||
          (vl == 6 && memcmp(json + j, "\"NONE\"", 6) == 0)))
      return mesos__err(err, MESOS_EINVAL,
                        "ACLs: entity type %.*s is not one of SOME, ANY, NONE (offset %zu)",
                        vl > 40 ? 40 : (int)vl, json + j, j);
    i = vend;
  }
  return MESOS_OK;
}

mesos_status mesos__acls_parse(mesos__acls **out, const char *json, size_t len,
                               mesos_error **err) {
  if (len > MESOS_ACLS_MAX_BYTES)
    return mesos__err(err, MESOS_ELIMIT, "ACLs: %zu bytes, more than the %u allowed", len,
                      (unsigned)MESOS_ACLS_MAX_BYTES);
  mesos__json_limits lim = {ACLS_MAX_DEPTH, MESOS_ACLS_MAX_BYTES, (size_t)64 << 20};
  ProtobufCMessage *m = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__json_decode(&mesos__acls__descriptor, json, len, &lim, &m, &e);
  if (st != MESOS_OK) return mesos__err_wrap(err, st, e, "ACLs: %s", mesos_error_message(e));
  const Mesos__ACLs *msg = (const Mesos__ACLs *)m;
  if ((st = check_entity_types(json, len, err)) != MESOS_OK) {
    mesos__pb_free(m);
    return st;
  }
  /* The same text again for Mesos 1.0's removed keys (acls_1_0.proto). */
  ProtobufCMessage *m10 = NULL;
  st = mesos__json_decode(&mesos__internal__acls_1_0__descriptor, json, len, &lim, &m10, &e);
  if (st != MESOS_OK) {
    mesos__pb_free(m);
    return mesos__err_wrap(err, st, e, "ACLs: %s", mesos_error_message(e));
  }
  const Mesos__Internal__ACLs10 *old = (const Mesos__Internal__ACLs10 *)m10;

  /* As Mesos 1.0: update_quotas replaces set_quotas and remove_quotas and
   * cannot be combined with them (which would decide a removal?). */
  if (msg->n_update_quotas > 0 && (old->n_set_quotas > 0 || old->n_remove_quotas > 0)) {
    mesos__pb_free(m);
    mesos__pb_free(m10);
    return mesos__err(err, MESOS_EINVAL,
                      "ACLs: update_quotas cannot be combined with the deprecated set_quotas "
                      "or remove_quotas (Mesos 1.0): write update_quotas rules only");
  }
  mesos__acls *a = mesos__calloc(1, sizeof(*a));
  if (!a) {
    mesos__pb_free(m);
    mesos__pb_free(m10);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  atomic_init(&a->refs, 1);
  a->permissive = msg->has_permissive ? msg->permissive : true;
  for (size_t k = 0; k < NKEYS; k++) mesos__map_init(&a->keys[k].by_principal);
  for (int i = 0; i < NSLOTS; i++) a->first[i] = a->second[i] = -1;
  a->legacy_quota = old->n_set_quotas > 0 || old->n_remove_quotas > 0;

  size_t budget = index_budget;
  const ProtobufCMessageDescriptor *d = &mesos__acls__descriptor;
  for (size_t k = 0; k < NKEYS && st == MESOS_OK; k++) {
    const key_def *def = &KEYS[k];
    if (def->second)
      a->second[slot_of(def->action)] = (int16_t)k;
    else
      a->first[slot_of(def->action)] = (int16_t)k;
    a->keys[k].def = def;
    const ProtobufCFieldDescriptor *fds[2] = {
        protobuf_c_message_descriptor_get_field_by_name(d, def->key), NULL};
    if (!fds[0] && def->action == MESOS__AUTHZ_REMOVE_QUOTA_LEGACY) {
      /* Only in the 1.0 message: compiled from there alone. */
      fds[1] = protobuf_c_message_descriptor_get_field_by_name(
          &mesos__internal__acls_1_0__descriptor, def->key);
      const ProtobufCMessage *const msgs[2] = {m, m10};
      if (fds[1] && fds[1]->label == PROTOBUF_C_LABEL_REPEATED)
        st = compile_key(&a->keys[k], def, fds, msgs, err);
      if (st == MESOS_OK && a->keys[k].n) st = build_index(&a->keys[k], &budget, err);
      continue;
    }
    if (!fds[0] || fds[0]->label != PROTOBUF_C_LABEL_REPEATED) continue;
    for (size_t j = 0; j < sizeof ALIASES / sizeof ALIASES[0]; j++)
      if (strcmp(ALIASES[j].key, def->key) == 0)
        fds[1] = protobuf_c_message_descriptor_get_field_by_name(
            &mesos__internal__acls_1_0__descriptor, ALIASES[j].alias);
    if (fds[1] && fds[1]->label != PROTOBUF_C_LABEL_REPEATED) fds[1] = NULL;
    const ProtobufCMessage *const msgs[2] = {m, m10};
    st = compile_key(&a->keys[k], def, fds, msgs, err);
    if (st == MESOS_OK && a->keys[k].n) st = build_index(&a->keys[k], &budget, err);
  }
  /* UPDATE_QUOTA_WITH_CONFIG (1.9) is decided by the update_quotas rules. */
  a->first[MESOS_AUTHZ_UPDATE_QUOTA_WITH_CONFIG] = a->first[MESOS_AUTHZ_UPDATE_QUOTA];
  mesos__pb_free(m);
  mesos__pb_free(m10);
  if (st != MESOS_OK) {
    acls_free(a);
    return st;
  }
  *out = a;
  return MESOS_OK;
}

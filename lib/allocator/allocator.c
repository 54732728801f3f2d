/*
 * The allocator handle the master talks to: a checked copy of a plugin's
 * ops table (mesos/sys/allocator.h).  The wrapper is where the contract is
 * enforced once for every plugin, so a plugin can trust its arguments:
 * required members present, no NULL ids, no call before initialize, and no
 * re-entrant call from inside an offer callback (a plugin iterating its own
 * structures while making offers must not see them change underneath).
 */
#include "mesos/sys/allocator.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

struct mesos_allocator {
  mesos_allocator_ops ops;
  void *ud;
  int initialized;
  int in_callback; /* > 0 while an offer callback runs */
  mesos_allocator_offer_fn offer;
  mesos_allocator_inverse_offer_fn inverse;
  void *cb_ud;
};

/* The members a plugin must provide, with their names for the error. */
#define REQUIRED(X)                                                              \
  X(initialize) X(add_framework) X(remove_framework) X(activate_framework)        \
  X(deactivate_framework) X(add_agent) X(remove_agent) X(activate_agent)          \
  X(deactivate_agent) X(update_allocation) X(update_available) X(recover_resources) \
  X(suppress) X(revive) X(allocate)

MESOS_EXTERN(mesos_status) mesos_allocator_new(mesos_allocator **out,
                                               const mesos_allocator_ops *ops, void *ud,
                                               mesos_error **err) {
  if (out == NULL || ops == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_allocator_new: NULL %s", out ? "ops" : "out");
  *out = NULL;
  if (ops->version != MESOS_ALLOCATOR_OPS_VERSION)
    return mesos__err(err, MESOS_EVERSION,
                      "mesos_allocator_ops: version %u not supported (this library: %u)",
                      ops->version, MESOS_ALLOCATOR_OPS_VERSION);
#define CHECK(m)                                                                     \
  if (ops->m == NULL)                                                                \
    return mesos__err(err, MESOS_EINVAL, "mesos_allocator_ops: required member '" #m \
                      "' is NULL");
  REQUIRED(CHECK)
#undef CHECK
  mesos_allocator *a = MESOS__NEW(mesos_allocator);
  if (a == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  a->ops = *ops;
  a->ud = ud;
  *out = a;
  return MESOS_OK;
}

MESOS_EXTERN(void) mesos_allocator_free(mesos_allocator *a) {
  if (a == NULL) return;
  if (a->ops.destroy) a->ops.destroy(a->ud);
  mesos__free(a);
}

MESOS_EXTERN(void *) mesos_allocator_userdata(const mesos_allocator *a) {
  return a ? a->ud : NULL;
}

/* Trampolines: the wrapper sees every callback so it can refuse re-entry. */
static void offer_tramp(const char *fw, const char *role, const char *agent,
                        const mesos_resources *res, void *ud) {
  mesos_allocator *a = ud;
  a->in_callback++;
  a->offer(fw, role, agent, res, a->cb_ud);
  a->in_callback--;
}

static void inverse_tramp(const char *fw, const char *agent,
                          const mesos_allocator_unavailability *u, void *ud) {
  mesos_allocator *a = ud;
  a->in_callback++;
  a->inverse(fw, agent, u, a->cb_ud);
  a->in_callback--;
}

static mesos_status enter(mesos_allocator *a, const char *fn, mesos_error **err) {
  if (a == NULL) return mesos__err(err, MESOS_EINVAL, "%s: NULL allocator", fn);
  if (a->in_callback)
    return mesos__err(err, MESOS_EBUSY, "%s: called from inside an allocator callback", fn);
  if (!a->initialized)
    return mesos__err(err, MESOS_EAGAIN, "%s: allocator is not initialized", fn);
  return MESOS_OK;
}

#define ENTER(fn)                                  \
  do {                                             \
    mesos_status st_ = enter(a, #fn, err);         \
    if (st_ != MESOS_OK) return st_;               \
  } while (0)

#define NEED(arg, fn)                                                         \
  do {                                                                        \
    if ((arg) == NULL) return mesos__err(err, MESOS_EINVAL, #fn ": " #arg " is NULL"); \
  } while (0)

#define OPTIONAL(member, fn)                                                          \
  do {                                                                                \
    if (a->ops.member == NULL)                                                        \
      return mesos__err(err, MESOS_EUNSUPPORTED, #fn ": the allocator has no '" #member \
                        "'");                                                         \
  } while (0)

MESOS_EXTERN(mesos_status) mesos_allocator_initialize(mesos_allocator *a,
                                                      mesos_allocator_offer_fn offer,
                                                      mesos_allocator_inverse_offer_fn inverse,
                                                      void *ud, mesos_error **err) {
  if (a == NULL) return mesos__err(err, MESOS_EINVAL, "mesos_allocator_initialize: NULL allocator");
  NEED(offer, mesos_allocator_initialize);
  if (a->in_callback)
    return mesos__err(err, MESOS_EBUSY, "mesos_allocator_initialize: called from a callback");
  if (a->initialized)
    return mesos__err(err, MESOS_EEXIST, "mesos_allocator_initialize: already initialized");
  a->offer = offer;
  a->inverse = inverse;
  a->cb_ud = ud;
  mesos_status st = a->ops.initialize(a->ud, offer_tramp, inverse ? inverse_tramp : NULL, a, err);
  if (st == MESOS_OK) a->initialized = 1;
  return st;
}

static mesos_status check_framework(const mesos_allocator_framework *fw, const char *fn,
                                    mesos_error **err) {
  if (fw == NULL) return mesos__err(err, MESOS_EINVAL, "%s: framework is NULL", fn);
  if (fw->version != MESOS_ALLOCATOR_FRAMEWORK_VERSION)
    return mesos__err(err, MESOS_EVERSION,
                      "mesos_allocator_framework: version %u not supported (this library: %u)",
                      fw->version, MESOS_ALLOCATOR_FRAMEWORK_VERSION);
  if (fw->id == NULL || fw->id[0] == '\0')
    return mesos__err(err, MESOS_EINVAL, "%s: framework id is empty", fn);
  if (fw->nroles == 0 || fw->roles == NULL)
    return mesos__err(err, MESOS_EINVAL, "%s: framework '%s' has no role", fn, fw->id);
  for (size_t i = 0; i < fw->nroles; i++)
    if (fw->roles[i] == NULL)
      return mesos__err(err, MESOS_EINVAL, "%s: framework '%s': role %zu is NULL", fn, fw->id, i);
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_allocator_add_framework(mesos_allocator *a,
                                                         const mesos_allocator_framework *fw,
                                                         int active, mesos_error **err) {
  ENTER(mesos_allocator_add_framework);
  mesos_status st = check_framework(fw, "mesos_allocator_add_framework", err);
  if (st != MESOS_OK) return st;
  return a->ops.add_framework(a->ud, fw, active, err);
}

#define BY_ID(name, member, arg)                                                     \
  MESOS_EXTERN(mesos_status) name(mesos_allocator *a, const char *arg, mesos_error **err) { \
    ENTER(name);                                                                     \
    NEED(arg, name);                                                                 \
    return a->ops.member(a->ud, arg, err);                                           \
  }

BY_ID(mesos_allocator_remove_framework, remove_framework, framework_id)
BY_ID(mesos_allocator_activate_framework, activate_framework, framework_id)
BY_ID(mesos_allocator_deactivate_framework, deactivate_framework, framework_id)
BY_ID(mesos_allocator_remove_agent, remove_agent, agent_id)
BY_ID(mesos_allocator_activate_agent, activate_agent, agent_id)
BY_ID(mesos_allocator_deactivate_agent, deactivate_agent, agent_id)

MESOS_EXTERN(mesos_status) mesos_allocator_update_framework(mesos_allocator *a,
                                                            const mesos_allocator_framework *fw,
                                                            mesos_error **err) {
  ENTER(mesos_allocator_update_framework);
  OPTIONAL(update_framework, mesos_allocator_update_framework);
  mesos_status st = check_framework(fw, "mesos_allocator_update_framework", err);
  if (st != MESOS_OK) return st;
  return a->ops.update_framework(a->ud, fw, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_add_agent(mesos_allocator *a,
                                                     const mesos_allocator_agent *agent,
                                                     mesos_error **err) {
  ENTER(mesos_allocator_add_agent);
  NEED(agent, mesos_allocator_add_agent);
  if (agent->version != MESOS_ALLOCATOR_AGENT_VERSION)
    return mesos__err(err, MESOS_EVERSION,
                      "mesos_allocator_agent: version %u not supported (this library: %u)",
                      agent->version, MESOS_ALLOCATOR_AGENT_VERSION);
  if (agent->id == NULL || agent->id[0] == '\0')
    return mesos__err(err, MESOS_EINVAL, "mesos_allocator_add_agent: agent id is empty");
  if (agent->total == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_allocator_add_agent: agent '%s' has no total",
                      agent->id);
  if (agent->nused > 0 && agent->used == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_allocator_add_agent: used is NULL");
  for (size_t i = 0; i < agent->nused; i++) {
    const mesos_allocator_allocation *u = &agent->used[i];
    if (u->framework_id == NULL || u->role == NULL || u->resources == NULL)
      return mesos__err(err, MESOS_EINVAL,
                        "mesos_allocator_add_agent: used[%zu] lacks framework, role or resources",
                        i);
  }
  return a->ops.add_agent(a->ud, agent, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_update_agent(mesos_allocator *a,
                                                        const char *agent_id,
                                                        const mesos_resources *total,
                                                        mesos_error **err) {
  ENTER(mesos_allocator_update_agent);
  OPTIONAL(update_agent, mesos_allocator_update_agent);
  NEED(agent_id, mesos_allocator_update_agent);
  NEED(total, mesos_allocator_update_agent);
  return a->ops.update_agent(a->ud, agent_id, total, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_update_unavailability(
    mesos_allocator *a, const char *agent_id, const mesos_allocator_unavailability *u,
    mesos_error **err) {
  ENTER(mesos_allocator_update_unavailability);
  OPTIONAL(update_unavailability, mesos_allocator_update_unavailability);
  NEED(agent_id, mesos_allocator_update_unavailability);
  return a->ops.update_unavailability(a->ud, agent_id, u, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_update_inverse_offer(mesos_allocator *a,
                                                                const char *framework_id,
                                                                const char *agent_id,
                                                                double refuse_seconds,
                                                                mesos_error **err) {
  ENTER(mesos_allocator_update_inverse_offer);
  OPTIONAL(update_inverse_offer, mesos_allocator_update_inverse_offer);
  NEED(framework_id, mesos_allocator_update_inverse_offer);
  NEED(agent_id, mesos_allocator_update_inverse_offer);
  return a->ops.update_inverse_offer(a->ud, framework_id, agent_id, refuse_seconds, err);
}

static mesos_status check_conversions(const mesos_allocator_conversion *ops, size_t nops,
                                      const char *fn, mesos_error **err) {
  if (nops > 0 && ops == NULL) return mesos__err(err, MESOS_EINVAL, "%s: ops is NULL", fn);
  for (size_t i = 0; i < nops; i++)
    if (ops[i].consumed == NULL || ops[i].converted == NULL)
      return mesos__err(err, MESOS_EINVAL, "%s: operation %zu lacks consumed or converted", fn,
                        i);
  return MESOS_OK;
}

MESOS_EXTERN(mesos_status) mesos_allocator_update_allocation(
    mesos_allocator *a, const char *framework_id, const char *agent_id, const char *role,
    const mesos_allocator_conversion *ops, size_t nops, mesos_error **err) {
  ENTER(mesos_allocator_update_allocation);
  NEED(framework_id, mesos_allocator_update_allocation);
  NEED(agent_id, mesos_allocator_update_allocation);
  mesos_status st = check_conversions(ops, nops, "mesos_allocator_update_allocation", err);
  if (st != MESOS_OK) return st;
  return a->ops.update_allocation(a->ud, framework_id, agent_id, role, ops, nops, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_update_available(
    mesos_allocator *a, const char *agent_id, const mesos_allocator_conversion *ops,
    size_t nops, mesos_error **err) {
  ENTER(mesos_allocator_update_available);
  NEED(agent_id, mesos_allocator_update_available);
  mesos_status st = check_conversions(ops, nops, "mesos_allocator_update_available", err);
  if (st != MESOS_OK) return st;
  return a->ops.update_available(a->ud, agent_id, ops, nops, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_recover_resources(
    mesos_allocator *a, const char *framework_id, const char *agent_id, const char *role,
    const mesos_resources *resources, double refuse_seconds, mesos_error **err) {
  ENTER(mesos_allocator_recover_resources);
  NEED(framework_id, mesos_allocator_recover_resources);
  NEED(agent_id, mesos_allocator_recover_resources);
  NEED(resources, mesos_allocator_recover_resources);
  return a->ops.recover_resources(a->ud, framework_id, agent_id, role, resources,
                                  refuse_seconds, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_suppress(mesos_allocator *a,
                                                    const char *framework_id,
                                                    const char *role, mesos_error **err) {
  ENTER(mesos_allocator_suppress);
  NEED(framework_id, mesos_allocator_suppress);
  return a->ops.suppress(a->ud, framework_id, role, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_revive(mesos_allocator *a, const char *framework_id,
                                                  const char *role, mesos_error **err) {
  ENTER(mesos_allocator_revive);
  NEED(framework_id, mesos_allocator_revive);
  return a->ops.revive(a->ud, framework_id, role, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_update_weights(mesos_allocator *a,
                                                          const char *const *roles,
                                                          const double *weights, size_t n,
                                                          mesos_error **err) {
  ENTER(mesos_allocator_update_weights);
  OPTIONAL(update_weights, mesos_allocator_update_weights);
  if (n > 0 && (roles == NULL || weights == NULL))
    return mesos__err(err, MESOS_EINVAL, "mesos_allocator_update_weights: NULL roles or weights");
  for (size_t i = 0; i < n; i++) {
    if (roles[i] == NULL)
      return mesos__err(err, MESOS_EINVAL, "mesos_allocator_update_weights: role %zu is NULL", i);
    if (!(weights[i] > 0) || weights[i] > 1e9)
      return mesos__err(err, MESOS_EINVAL,
                        "mesos_allocator_update_weights: weight of '%s' must be > 0", roles[i]);
  }
  return a->ops.update_weights(a->ud, roles, weights, n, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_set_quota(mesos_allocator *a, const char *role,
                                                     const mesos_resources *guarantee,
                                                     mesos_error **err) {
  ENTER(mesos_allocator_set_quota);
  OPTIONAL(set_quota, mesos_allocator_set_quota);
  NEED(role, mesos_allocator_set_quota);
  NEED(guarantee, mesos_allocator_set_quota);
  return a->ops.set_quota(a->ud, role, guarantee, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_remove_quota(mesos_allocator *a, const char *role,
                                                        mesos_error **err) {
  ENTER(mesos_allocator_remove_quota);
  OPTIONAL(remove_quota, mesos_allocator_remove_quota);
  NEED(role, mesos_allocator_remove_quota);
  return a->ops.remove_quota(a->ud, role, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_allocate(mesos_allocator *a, mesos_error **err) {
  ENTER(mesos_allocator_allocate);
  return a->ops.allocate(a->ud, err);
}

MESOS_EXTERN(mesos_status) mesos_allocator_stats_get(mesos_allocator *a,
                                                     mesos_allocator_stats *stats,
                                                     mesos_error **err) {
  ENTER(mesos_allocator_stats_get);
  OPTIONAL(stats, mesos_allocator_stats_get);
  NEED(stats, mesos_allocator_stats_get);
  if (stats->version != MESOS_ALLOCATOR_STATS_VERSION)
    return mesos__err(err, MESOS_EVERSION,
                      "mesos_allocator_stats: version %u not supported (this library: %u)",
                      stats->version, MESOS_ALLOCATOR_STATS_VERSION);
  return a->ops.stats(a->ud, stats, err);
}

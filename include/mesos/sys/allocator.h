/*
 * mesos/sys/allocator.h - the pluggable resource allocator.
 *
 * The master decides *who gets what* through an allocator: it tells the
 * allocator about frameworks, agents and resource changes, and the
 * allocator hands resources out through the offer callback.  The allocator
 * is a pure policy: it does no I/O, owns no timers and never blocks; the
 * master drives it (mesos_allocator_allocate() every --allocation_interval).
 *
 * Two layers:
 *
 *  - mesos_allocator_ops: a const table of functions a vendor implements,
 *    opening with `version`, each member taking the plugin's `void *ud`
 *    first.  mesos_allocator_new() copies the table, checks its version and
 *    required members (the error names the offender) and wraps it in a
 *    mesos_allocator handle.
 *  - mesos_allocator_*(): the calls the master makes on that handle.  They
 *    check arguments, refuse re-entrant calls from inside a callback
 *    (MESOS_EBUSY) and forward to the ops.
 *
 * The built-in hierarchical DRF allocator (mesos_hierarchical_allocator_new)
 * is registered through this same table.
 *
 * Identifiers (framework, agent, role) are NUL-terminated strings, borrowed
 * for the duration of a call.  Resources cross the table as
 * mesos_resources (mesos/resources.h), also borrowed: an implementation
 * copies what it keeps.  Resources given to and taken from the allocator
 * carry no allocation info (Resource.allocation_info): the role they are
 * allocated to travels as an explicit argument.
 *
 * Thread safety: an allocator handle is used by one thread at a time (the
 * master's loop thread).  Callbacks run on the calling thread, inside
 * mesos_allocator_allocate() only.
 *
 * Since 1.0.
 */
#ifndef MESOS_SYS_ALLOCATOR_H
#define MESOS_SYS_ALLOCATOR_H

#include "../common.h"
#include "../error.h"
#include "../resources.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ data */

/* FrameworkInfo.capabilities the allocator looks at. */
#define MESOS_ALLOCATOR_CAP_REVOCABLE_RESOURCES 0x1u /* may receive revocable resources */
#define MESOS_ALLOCATOR_CAP_GPU_RESOURCES 0x2u       /* may receive agents with GPUs */
#define MESOS_ALLOCATOR_CAP_SHARED_RESOURCES 0x4u    /* may receive shared resources */
#define MESOS_ALLOCATOR_CAP_MULTI_ROLE 0x8u          /* subscribed to several roles */

/*
 * A framework as the allocator sees it: the FrameworkInfo fields that
 * matter to allocation.  `roles` holds `nroles` role names (at least one;
 * a framework registered with the legacy single role passes that one).
 */
#define MESOS_ALLOCATOR_FRAMEWORK_VERSION 1
typedef struct mesos_allocator_framework {
  uint32_t version;        /* MESOS_ALLOCATOR_FRAMEWORK_VERSION */
  const char *id;          /* FrameworkID.value */
  const char *const *roles;
  size_t nroles;
  uint32_t capabilities;   /* MESOS_ALLOCATOR_CAP_* bits */
} mesos_allocator_framework;
#define MESOS_ALLOCATOR_FRAMEWORK_INIT { MESOS_ALLOCATOR_FRAMEWORK_VERSION, NULL, NULL, 0, 0 }

/*
 * Resources already allocated when a framework or an agent is added (tasks
 * that survived a master fail-over): `resources` on `agent_id` held by
 * `framework_id` in `role`.
 */
typedef struct mesos_allocator_allocation {
  const char *framework_id;
  const char *agent_id;    /* ignored inside mesos_allocator_agent.used */
  const char *role;
  const mesos_resources *resources;
} mesos_allocator_allocation;

/* An agent as the allocator sees it. */
#define MESOS_ALLOCATOR_AGENT_VERSION 1
typedef struct mesos_allocator_agent {
  uint32_t version;        /* MESOS_ALLOCATOR_AGENT_VERSION */
  const char *id;          /* AgentID.value */
  const char *hostname;    /* may be NULL */
  const mesos_resources *total;  /* everything the agent has, incl. reservations */
  const mesos_allocator_allocation *used; /* `nused` allocations already running */
  size_t nused;
} mesos_allocator_agent;
#define MESOS_ALLOCATOR_AGENT_INIT { MESOS_ALLOCATOR_AGENT_VERSION, NULL, NULL, NULL, NULL, 0 }

/*
 * An offer operation as the allocator applies it: `consumed` resources are
 * replaced by `converted` ones in place (RESERVE: unreserved -> reserved,
 * UNRESERVE the reverse, CREATE: disk -> persistent volume, DESTROY the
 * reverse).  The master builds both sides from the Offer.Operation; the
 * allocator needs no knowledge of the operation's kind.
 */
typedef struct mesos_allocator_conversion {
  const mesos_resources *consumed;
  const mesos_resources *converted;
} mesos_allocator_conversion;

/* Planned maintenance of an agent (mesos.v1.Unavailability), in
 * nanoseconds since the epoch; duration_ns 0 means open-ended. */
typedef struct mesos_allocator_unavailability {
  int64_t start_ns;
  int64_t duration_ns;
} mesos_allocator_unavailability;

/* Counters for metrics and benchmarks (all since initialize). */
#define MESOS_ALLOCATOR_STATS_VERSION 1
typedef struct mesos_allocator_stats {
  uint32_t version;             /* MESOS_ALLOCATOR_STATS_VERSION */
  uint64_t cycles;              /* allocation cycles run */
  uint64_t offers;              /* offer callbacks made */
  uint64_t inverse_offers;      /* inverse offer callbacks made */
  uint64_t last_cycle_ns;       /* duration of the last cycle */
  uint64_t last_cycle_agents;   /* agents the last cycle looked at */
  uint64_t frameworks;          /* frameworks known now */
  uint64_t agents;              /* agents known now */
  uint64_t filters;             /* refuse filters in force now */
} mesos_allocator_stats;
#define MESOS_ALLOCATOR_STATS_INIT { MESOS_ALLOCATOR_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0 }

/* A refuse_seconds at or above this (what frameworks pass for "forever",
 * INT32_MAX seconds), or +infinity, makes a filter that never expires; it is
 * cleared by revive or by removing the framework or the agent. */
#define MESOS_ALLOCATOR_REFUSE_FOREVER 2147483647.0

/* ------------------------------------------------------------ callbacks */

/*
 * Hands `resources` on `agent_id` to `framework_id` for `role`.  The
 * resources are now allocated to the framework until it gives them back
 * with mesos_allocator_recover_resources().  `resources` is borrowed for
 * the call; clone it to keep it.  The callback must not call into the
 * allocator (such calls fail with MESOS_EBUSY).
 */
typedef void (*mesos_allocator_offer_fn)(const char *framework_id, const char *role,
                                         const char *agent_id,
                                         const mesos_resources *resources, void *ud);

/* Asks `framework_id` to give back what it holds on `agent_id` before the
 * maintenance window `unavailability`. Same rules as the offer callback. */
typedef void (*mesos_allocator_inverse_offer_fn)(
    const char *framework_id, const char *agent_id,
    const mesos_allocator_unavailability *unavailability, void *ud);

/* ------------------------------------------------------------ the table */

/*
 * Members marked REQUIRED must be set; for the others NULL says what the
 * wrapper does instead.  Every member returns MESOS_OK or a negative
 * mesos_status, and may set *err (which may be NULL).  An implementation
 * leaves its state unchanged when it returns an error.
 *
 * Version 1 has every member below.
 */
#define MESOS_ALLOCATOR_OPS_VERSION 1

typedef struct mesos_allocator_ops {
  uint32_t version; /* MESOS_ALLOCATOR_OPS_VERSION */

  /* REQUIRED.  Called once, first: the callbacks the allocator hands
   * offers out through, and their user data.  inverse_offer may be NULL. */
  mesos_status (*initialize)(void *ud, mesos_allocator_offer_fn offer,
                             mesos_allocator_inverse_offer_fn inverse_offer, void *cb_ud,
                             mesos_error **err);
  /* NULL: nothing to free.  Called once by mesos_allocator_free(). */
  void (*destroy)(void *ud);

  /* REQUIRED.  A framework subscribes (active: it may receive offers).
   * MESOS_EEXIST if known. */
  mesos_status (*add_framework)(void *ud, const mesos_allocator_framework *fw, int active,
                                mesos_error **err);
  /* REQUIRED.  Frees everything the framework holds.  MESOS_ENOTFOUND. */
  mesos_status (*remove_framework)(void *ud, const char *framework_id, mesos_error **err);
  /* REQUIRED.  Offers flow to active frameworks only.  MESOS_ENOTFOUND. */
  mesos_status (*activate_framework)(void *ud, const char *framework_id, mesos_error **err);
  mesos_status (*deactivate_framework)(void *ud, const char *framework_id, mesos_error **err);
  /* NULL: the wrapper answers MESOS_EUNSUPPORTED.  New roles or
   * capabilities for a known framework. */
  mesos_status (*update_framework)(void *ud, const mesos_allocator_framework *fw,
                                   mesos_error **err);

  /* REQUIRED.  An agent registers with its total and used resources.
   * MESOS_EEXIST, MESOS_EINVAL (used not contained in total). */
  mesos_status (*add_agent)(void *ud, const mesos_allocator_agent *agent, mesos_error **err);
  /* REQUIRED.  Releases everything on the agent.  MESOS_ENOTFOUND. */
  mesos_status (*remove_agent)(void *ud, const char *agent_id, mesos_error **err);
  /* NULL: MESOS_EUNSUPPORTED.  A new total (e.g. oversubscribed revocable
   * resources changed); MESOS_EINVAL if it no longer holds what is
   * allocated. */
  mesos_status (*update_agent)(void *ud, const char *agent_id, const mesos_resources *total,
                               mesos_error **err);
  /* REQUIRED.  Offers are made from active agents only. */
  mesos_status (*activate_agent)(void *ud, const char *agent_id, mesos_error **err);
  mesos_status (*deactivate_agent)(void *ud, const char *agent_id, mesos_error **err);
  /* NULL: MESOS_EUNSUPPORTED.  Sets (or with NULL clears) planned
   * maintenance; frameworks holding resources there get inverse offers. */
  mesos_status (*update_unavailability)(void *ud, const char *agent_id,
                                        const mesos_allocator_unavailability *u,
                                        mesos_error **err);
  /* NULL: MESOS_EUNSUPPORTED.  A framework answered an inverse offer;
   * it is not asked again for `refuse_seconds` (<= 0: next cycle). */
  mesos_status (*update_inverse_offer)(void *ud, const char *framework_id,
                                       const char *agent_id, double refuse_seconds,
                                       mesos_error **err);

  /* REQUIRED.  Applies operations to resources allocated to the framework
   * on the agent (role NULL: any of its roles), all or nothing.
   * MESOS_ENOTFOUND, MESOS_EINVAL (consumed not allocated). */
  mesos_status (*update_allocation)(void *ud, const char *framework_id, const char *agent_id,
                                    const char *role, const mesos_allocator_conversion *ops,
                                    size_t nops, mesos_error **err);
  /* REQUIRED.  Applies operations to the agent's unallocated resources
   * (operator reserve/unreserve, volumes), all or nothing.
   * MESOS_ENOTFOUND, MESOS_EINVAL (consumed not available). */
  mesos_status (*update_available)(void *ud, const char *agent_id,
                                   const mesos_allocator_conversion *ops, size_t nops,
                                   mesos_error **err);
  /* REQUIRED.  The framework gives back resources (declined offer, task
   * ended, offer rescinded).  role NULL: from any of its roles.  A
   * refuse_seconds > 0 keeps resources of the agent that fit inside
   * `resources` from the framework for that long (see
   * MESOS_ALLOCATOR_REFUSE_FOREVER).  MESOS_EINVAL (not allocated to
   * it).  An unknown framework or agent is not an error (a decline racing
   * a removal, whose resources are already back): MESOS_OK, nothing done. */
  mesos_status (*recover_resources)(void *ud, const char *framework_id, const char *agent_id,
                                    const char *role, const mesos_resources *resources,
                                    double refuse_seconds, mesos_error **err);

  /* REQUIRED.  Stop / resume offers to a framework for `role` (NULL: all
   * its roles).  Revive also clears the framework's refuse filters. */
  mesos_status (*suppress)(void *ud, const char *framework_id, const char *role,
                           mesos_error **err);
  mesos_status (*revive)(void *ud, const char *framework_id, const char *role,
                         mesos_error **err);

  /* NULL: MESOS_EUNSUPPORTED.  Sets the weights of `n` roles (weight > 0;
   * the default is 1). */
  mesos_status (*update_weights)(void *ud, const char *const *roles, const double *weights,
                                 size_t n, mesos_error **err);
  /* NULL: MESOS_EUNSUPPORTED.  Sets the role's quota guarantee (scalar
   * resources), or removes it. */
  mesos_status (*set_quota)(void *ud, const char *role, const mesos_resources *guarantee,
                            mesos_error **err);
  mesos_status (*remove_quota)(void *ud, const char *role, mesos_error **err);

  /* REQUIRED.  Runs one allocation cycle now; offers are made through the
   * callbacks before it returns. */
  mesos_status (*allocate)(void *ud, mesos_error **err);

  /* NULL: MESOS_EUNSUPPORTED.  Fills *stats (stats->version set by the
   * caller). */
  mesos_status (*stats)(void *ud, mesos_allocator_stats *stats, mesos_error **err);
} mesos_allocator_ops;

/* ------------------------------------------------------------ the handle */

typedef struct mesos_allocator mesos_allocator;

/*
 * Registers an allocator: copies `ops` (the caller may free it), keeps
 * `ud`, which every member receives.  Errors: MESOS_EINVAL (NULL out or
 * ops, or a REQUIRED member is NULL: the message names it), MESOS_EVERSION
 * (ops->version unknown), MESOS_ENOMEM.  On error ops->destroy is not
 * called.
 */
MESOS_EXTERN(mesos_status) mesos_allocator_new(mesos_allocator **out,
                                               const mesos_allocator_ops *ops, void *ud,
                                               mesos_error **err);

/* Calls ops->destroy(ud) and frees the handle.  NULL is accepted. */
MESOS_EXTERN(void) mesos_allocator_free(mesos_allocator *a);

/* The `ud` given to mesos_allocator_new(). */
MESOS_EXTERN(void *) mesos_allocator_userdata(const mesos_allocator *a);

/*
 * The calls below forward to the member of the same name.  Besides the
 * member's own errors: MESOS_EINVAL (a NULL handle or a NULL required
 * argument), MESOS_EBUSY (called from inside an offer callback),
 * MESOS_EAGAIN (any call but initialize before initialize succeeded),
 * MESOS_EUNSUPPORTED (an optional member the plugin left NULL).
 */
MESOS_EXTERN(mesos_status) mesos_allocator_initialize(mesos_allocator *a,
                                                      mesos_allocator_offer_fn offer,
                                                      mesos_allocator_inverse_offer_fn inverse,
                                                      void *ud, mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_add_framework(mesos_allocator *a,
                                                         const mesos_allocator_framework *fw,
                                                         int active, mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_remove_framework(mesos_allocator *a,
                                                            const char *framework_id,
                                                            mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_activate_framework(mesos_allocator *a,
                                                              const char *framework_id,
                                                              mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_deactivate_framework(mesos_allocator *a,
                                                                const char *framework_id,
                                                                mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_update_framework(mesos_allocator *a,
                                                            const mesos_allocator_framework *fw,
                                                            mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_add_agent(mesos_allocator *a,
                                                     const mesos_allocator_agent *agent,
                                                     mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_remove_agent(mesos_allocator *a,
                                                        const char *agent_id,
                                                        mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_update_agent(mesos_allocator *a,
                                                        const char *agent_id,
                                                        const mesos_resources *total,
                                                        mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_activate_agent(mesos_allocator *a,
                                                          const char *agent_id,
                                                          mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_deactivate_agent(mesos_allocator *a,
                                                            const char *agent_id,
                                                            mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_update_unavailability(
    mesos_allocator *a, const char *agent_id, const mesos_allocator_unavailability *u,
    mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_update_inverse_offer(mesos_allocator *a,
                                                                const char *framework_id,
                                                                const char *agent_id,
                                                                double refuse_seconds,
                                                                mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_update_allocation(
    mesos_allocator *a, const char *framework_id, const char *agent_id, const char *role,
    const mesos_allocator_conversion *ops, size_t nops, mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_update_available(
    mesos_allocator *a, const char *agent_id, const mesos_allocator_conversion *ops,
    size_t nops, mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_recover_resources(
    mesos_allocator *a, const char *framework_id, const char *agent_id, const char *role,
    const mesos_resources *resources, double refuse_seconds, mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_suppress(mesos_allocator *a,
                                                    const char *framework_id,
                                                    const char *role, mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_revive(mesos_allocator *a, const char *framework_id,
                                                  const char *role, mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_update_weights(mesos_allocator *a,
                                                          const char *const *roles,
                                                          const double *weights, size_t n,
                                                          mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_set_quota(mesos_allocator *a, const char *role,
                                                     const mesos_resources *guarantee,
                                                     mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_remove_quota(mesos_allocator *a, const char *role,
                                                        mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_allocate(mesos_allocator *a, mesos_error **err);
MESOS_EXTERN(mesos_status) mesos_allocator_stats_get(mesos_allocator *a,
                                                     mesos_allocator_stats *stats,
                                                     mesos_error **err);

/* ------------------------------------------------------------ built-in */

/*
 * The built-in hierarchical DRF allocator (Mesos's default): roles form a
 * tree from their '/'-separated names, siblings are ordered by dominant
 * share divided by weight, frameworks within a role by dominant share;
 * quota guarantees are met first and unreserved headroom is held back for
 * them; reserved resources go to their role and its descendants only;
 * refuse filters, suppress and revive as in Mesos.
 *
 * Where Mesos versions differ, it behaves as follows:
 *  - a role below its quota receives unreserved scalars cut to what it
 *    still misses (Mesos >= 1.5), not whole agents (1.0); what is left of
 *    the agent goes on to other roles in the same cycle;
 *  - a refuse filter holds while the agent's offerable resources fit in
 *    what was declined; refuse_seconds <= 0 (or NaN) installs none;
 *  - revive clears all the framework's filters and unsuppresses the role
 *    (NULL: all its roles);
 *  - each cycle looks only at agents whose availability or filters changed,
 *    or at all of them after a change of frameworks, weights or quota.
 * Offers carry the agent's whole offerable availability for the role, one
 * offer per (framework, role, agent) per cycle.
 */
#define MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_VERSION 1
typedef struct mesos_hierarchical_allocator_options {
  uint32_t version; /* MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_VERSION */
  /* --fair_sharing_excluded_resource_names: comma-separated scalar names
   * left out of dominant shares (e.g. "gpus").  NULL: none. */
  const char *fair_sharing_excluded_resource_names;
  /* --min_allocatable_resources: alternatives separated by '|', each a
   * ';'-separated list of name:quantity; an agent's offerable resources
   * are offered only if they hold all quantities of one alternative.
   * NULL: "cpus:0.01|mem:32", Mesos's default. */
  const char *min_allocatable_resources;
  /* 1: agents with GPUs are offered only to frameworks with
   * MESOS_ALLOCATOR_CAP_GPU_RESOURCES (--filter_gpu_resources). */
  int filter_gpu_resources;
  /* The clock refuse filters and inverse-offer refusals expire against, in
   * nanoseconds of any monotonic origin.  NULL: CLOCK_MONOTONIC.  Tests
   * pass their own to control time. */
  uint64_t (*clock_ns)(void *ud);
  void *clock_ud;
} mesos_hierarchical_allocator_options;
#define MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_INIT \
  { MESOS_HIERARCHICAL_ALLOCATOR_OPTIONS_VERSION, NULL, NULL, 1, NULL, NULL }

/* FFI twin of the macro.  MESOS_EVERSION for an unknown version,
 * MESOS_EINVAL for NULL. */
MESOS_EXTERN(mesos_status) mesos_hierarchical_allocator_options_init(
    mesos_hierarchical_allocator_options *opts, uint32_t version);

/*
 * Creates the built-in allocator, registered through mesos_allocator_new()
 * with its own ops table.  `opts` may be NULL (defaults); it is copied.
 * Errors: MESOS_EVERSION, MESOS_EINVAL (an option does not parse: the
 * message names it), MESOS_ENOMEM.
 */
MESOS_EXTERN(mesos_status) mesos_hierarchical_allocator_new(
    mesos_allocator **out, const mesos_hierarchical_allocator_options *opts,
    mesos_error **err);

#ifdef __cplusplus
}
#endif

#endif /* MESOS_SYS_ALLOCATOR_H */

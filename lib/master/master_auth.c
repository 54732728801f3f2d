/* The master's authentication and authorization (master_auth.h). */
#include "master/master_auth.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/arena.h"
#include "master/operator_int.h"
#include "resources/resources.h"

mesos_status mesos__master_auth_init(mesos_master *m, mesos_error **err) {
  mesos__auth_options o;
  memset(&o, 0, sizeof o);
  o.daemon = "master";
  o.credentials = mesos__flags_get(m->flags, "credentials");
  o.acls = mesos__flags_get(m->flags, "acls");
  if (o.credentials && !*o.credentials) o.credentials = NULL;
  if (o.acls && !*o.acls) o.acls = NULL;
  o.authenticate[MESOS__REALM_FRAMEWORK] =
      mesos__flags_bool(m->flags, "authenticate_frameworks") ||
      mesos__flags_bool(m->flags, "authenticate_http_frameworks");
  o.authenticate[MESOS__REALM_AGENT] = mesos__flags_bool(m->flags, "authenticate_agents");
  o.authenticate[MESOS__REALM_READONLY] =
      mesos__flags_bool(m->flags, "authenticate_http_readonly");
  o.authenticate[MESOS__REALM_READWRITE] =
      mesos__flags_bool(m->flags, "authenticate_http_readwrite");
  mesos__auth *a = NULL;
  mesos_status st = mesos__auth_new(&a, &o, err);
  if (st != MESOS_OK) return st;
  m->auth = a;
  if (o.credentials || o.acls)
    LOG_INFO("Authentication: frameworks %s, agents %s, readonly %s, readwrite %s; %s",
             o.authenticate[MESOS__REALM_FRAMEWORK] ? "required" : "optional",
             o.authenticate[MESOS__REALM_AGENT] ? "required" : "optional",
             o.authenticate[MESOS__REALM_READONLY] ? "required" : "optional",
             o.authenticate[MESOS__REALM_READWRITE] ? "required" : "optional",
             o.acls ? "local authorizer with ACLs" : "no ACLs (everything allowed)");
  return MESOS_OK;
}

void mesos__master_auth_fini(mesos_master *m) {
  mesos__auth_free(m->auth);
  m->auth = NULL;
}

bool mesos__master_auth_subscribe(mesos_master *m, mesos__http_request *req,
                                  const ProtobufCMessage *root, Mesos__V1__FrameworkInfo *fi,
                                  int *http_status, char *why, size_t cap) {
  const char *p = mesos__http_request_principal(req);
  *http_status = 0;
  if (p) {
    if (fi->principal && strcmp(fi->principal, p) != 0) {
      *http_status = 400;
      snprintf(why, cap,
               "Authenticated principal '%.200s' does not match principal '%.200s' set in "
               "`FrameworkInfo`",
               p, fi->principal);
      return false;
    }
    if (!fi->principal) {
      /* Mesos fills in the authenticated principal.  The string must be
       * freed with the call: from its arena when the JSON decoder made it,
       * else by protobuf-c through mesos__pb_allocator (mesos__free). */
      size_t n = strlen(p) + 1;
      mesos__pb_arena *arena = mesos__pb_arena_of(root);
      char *copy = arena ? mesos__pb_arena_alloc_bytes(arena, n) : mesos__malloc(n);
      if (!copy) {
        *http_status = 503;
        snprintf(why, cap, "Out of memory");
        return false;
      }
      memcpy(copy, p, n);
      fi->principal = copy;
    }
  }
  if (!mesos__auth_has_authorizer(m->auth)) return true;
  /* REGISTER_FRAMEWORK once per role; the subject is the principal the
   * framework claims (authenticated or not, as Mesos does). */
  const char *single = fi->role ? fi->role : "*";
  char *const *roles = fi->n_roles ? fi->roles : (char *const *)&single;
  size_t n = fi->n_roles ? fi->n_roles : 1;
  /* A MULTI_ROLE framework with no roles names no role: it is asked about
   * no particular role (object ANY), which only rules with an ANY or NONE
   * role entity match, else `permissive` decides (spec §2.4). */
  for (size_t i = 0; i < fi->n_capabilities && !fi->n_roles; i++)
    if (fi->capabilities[i]->has_type &&
        fi->capabilities[i]->type == MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__MULTI_ROLE)
      roles = NULL;
  if (!roles) {
    if (mesos__auth_allowed(m->auth, fi->principal, MESOS_AUTHZ_REGISTER_FRAMEWORK, NULL))
      return true;
    if (mesos__auth_parked(m->auth)) return false; /* replayed with the answer */
    snprintf(why, cap, "Not authorized to subscribe as principal '%.200s' without roles",
             fi->principal ? fi->principal : "");
    return false;
  }
  /* Every role is asked before deciding, so a late authorizer answers
   * them together (one wait, not one per role). */
  size_t denied = n;
  for (size_t i = 0; i < n; i++)
    if (!mesos__auth_allowed(m->auth, fi->principal, MESOS_AUTHZ_REGISTER_FRAMEWORK, roles[i]) &&
        denied == n && !mesos__auth_parked(m->auth))
      denied = i;
  if (mesos__auth_parked(m->auth)) return false;
  if (denied < n) {
    snprintf(why, cap, "Not authorized to subscribe as principal '%.200s' with role '%.200s'",
             fi->principal ? fi->principal : "", roles[denied]);
    LOG_INFO("Refusing subscription of framework '%s': %s", fi->name ? fi->name : "", why);
    return false;
  }
  return true;
}

bool mesos__master_auth_call(mesos_master *m, mesos__http_request *req,
                             const Mesos__V1__FrameworkInfo *fi) {
  (void)m;
  const char *p = mesos__http_request_principal(req);
  if (!p) return true;
  if (fi->principal && strcmp(fi->principal, p) == 0) return true;
  char msg[512];
  snprintf(msg, sizeof msg,
           "Authenticated principal '%.200s' does not match principal '%.200s' set in "
           "`FrameworkInfo`",
           p, fi->principal ? fi->principal : "");
  mesos__http_respond_text(req, 400, msg);
  return false;
}

bool mesos__master_auth_run_task(mesos_master *m, const Mesos__V1__FrameworkInfo *fi,
                                 const Mesos__V1__TaskInfo *task) {
  if (!mesos__auth_has_authorizer(m->auth)) return true;
  const char *user = NULL;
  if (task->command && task->command->user) user = task->command->user;
  else if (task->executor && task->executor->command && task->executor->command->user)
    user = task->executor->command->user;
  else user = fi->user;
  return mesos__auth_allowed(m->auth, fi->principal, MESOS_AUTHZ_RUN_TASK, user);
}

bool mesos__master_auth_accept(mesos_master *m, const Mesos__V1__FrameworkInfo *fi,
                               const Mesos__V1__Scheduler__Call__Accept *acc) {
  if (!mesos__auth_may_wait(m->auth)) return true;
  char why[64];
  for (size_t i = 0; i < acc->n_operations; i++) {
    const Mesos__V1__Offer__Operation *op = acc->operations[i];
    if (op->launch) {
      for (size_t k = 0; k < op->launch->n_task_infos; k++)
        (void)mesos__master_auth_run_task(m, fi, op->launch->task_infos[k]);
    } else if (op->launch_group && op->launch_group->executor && op->launch_group->task_group) {
      /* As offer.c asks it: the group's executor stands in for each task's. */
      const Mesos__V1__TaskGroupInfo *tg = op->launch_group->task_group;
      for (size_t k = 0; k < tg->n_tasks; k++) {
        Mesos__V1__TaskInfo chk = *tg->tasks[k];
        chk.executor = op->launch_group->executor;
        chk.command = NULL;
        (void)mesos__master_auth_run_task(m, fi, &chk);
      }
    } else {
      (void)mesos__master_auth_operation(m, fi, op, why, sizeof why);
    }
  }
  return !mesos__auth_parked(m->auth);
}

/* The reservation a resource carries: the last entry of `reservations`
 * (the refined, innermost one), else the legacy `reservation`. */
static const Mesos__V1__Resource__ReservationInfo *last_reservation(
    const Mesos__V1__Resource *r) {
  if (r->n_reservations) return r->reservations[r->n_reservations - 1];
  return r->reservation;
}

static const char *reservation_role(const Mesos__V1__Resource *r) {
  const Mesos__V1__Resource__ReservationInfo *ri = last_reservation(r);
  if (ri && ri->role) return ri->role;
  return r->role;
}

/* The action's object for one resource of a RESERVE / UNRESERVE / CREATE
 * / DESTROY (spec/authorization.md §2.6). */
static const char *resource_object(int32_t action, const Mesos__V1__Resource *r) {
  const Mesos__V1__Resource__ReservationInfo *ri;
  switch (action) {
    case MESOS_AUTHZ_RESERVE_RESOURCES:
    case MESOS_AUTHZ_CREATE_VOLUME:
      return reservation_role(r);
    case MESOS_AUTHZ_UNRESERVE_RESOURCES:
      ri = last_reservation(r);
      return ri ? ri->principal : NULL;
    default: /* DESTROY_VOLUME */
      return r->disk && r->disk->persistence ? r->disk->persistence->principal : NULL;
  }
}

static bool deny_msg(const char *p, int32_t action, const char *object, char *why, size_t cap) {
  snprintf(why, cap, "Not authorized: principal '%.200s' may not %s%s%.200s%s",
           p ? p : "(none)", mesos_authz_action_name(action), object ? " on '" : "",
           object ? object : "", object ? "'" : "");
  return false;
}

/* Every resource is asked before deciding (one wait for a late
 * authorizer); the first denied one is named. */
static bool check_resources(mesos_master *m, const char *p, int32_t action,
                            Mesos__V1__Resource *const *rs, size_t n, char *why, size_t cap) {
  size_t denied = n;
  for (size_t i = 0; i < n; i++)
    if (!mesos__auth_allowed(m->auth, p, action, resource_object(action, rs[i])) &&
        denied == n && !mesos__auth_parked(m->auth))
      denied = i;
  if (mesos__auth_parked(m->auth)) {
    snprintf(why, cap, "Not authorized yet: the authorizer has not answered");
    return false;
  }
  if (denied < n) return deny_msg(p, action, resource_object(action, rs[denied]), why, cap);
  return true;
}

bool mesos__master_auth_operation(mesos_master *m, const Mesos__V1__FrameworkInfo *fi,
                                  const Mesos__V1__Offer__Operation *op, char *why,
                                  size_t cap) {
  if (!mesos__auth_has_authorizer(m->auth) || !op->has_type) return true;
  const char *p = fi->principal;
  switch (op->type) {
    case MESOS__V1__OFFER__OPERATION__TYPE__RESERVE:
      return !op->reserve || check_resources(m, p, MESOS_AUTHZ_RESERVE_RESOURCES,
                                             op->reserve->resources, op->reserve->n_resources,
                                             why, cap);
    case MESOS__V1__OFFER__OPERATION__TYPE__UNRESERVE:
      return !op->unreserve ||
             check_resources(m, p, MESOS_AUTHZ_UNRESERVE_RESOURCES, op->unreserve->resources,
                             op->unreserve->n_resources, why, cap);
    case MESOS__V1__OFFER__OPERATION__TYPE__CREATE:
      return !op->create || check_resources(m, p, MESOS_AUTHZ_CREATE_VOLUME,
                                            op->create->volumes, op->create->n_volumes, why,
                                            cap);
    case MESOS__V1__OFFER__OPERATION__TYPE__DESTROY:
      return !op->destroy || check_resources(m, p, MESOS_AUTHZ_DESTROY_VOLUME,
                                             op->destroy->volumes, op->destroy->n_volumes, why,
                                             cap);
    default:
      return true;
  }
}

/* The principal that set `role`'s quota (the registry keeps it), or NULL. */
static const char *quota_setter(mesos_master *m, const char *role) {
  const Mesos__Internal__Registry *reg = role ? mesos__registry_state(m->registry) : NULL;
  for (size_t i = 0; reg && i < reg->n_quota_setters; i++)
    if (reg->quota_setters[i]->role && strcmp(reg->quota_setters[i]->role, role) == 0)
      return reg->quota_setters[i]->principal;
  return NULL;
}

bool mesos__master_auth_operator_call(mesos_master *m, mesos__http_request *req,
                                      const Mesos__V1__Master__Call *c) {
  if (!mesos__auth_has_authorizer(m->auth)) return true;
  const char *p = mesos__http_request_principal(req);
  char why[640];
  bool ok = true;
  int32_t action = 0;
  const char *object = NULL;
  switch (c->type) {
    case MESOS__V1__MASTER__CALL__TYPE__GET_FLAGS:
      action = MESOS_AUTHZ_VIEW_FLAGS;
      break;
    case MESOS__V1__MASTER__CALL__TYPE__SET_LOGGING_LEVEL:
      action = MESOS_AUTHZ_SET_LOG_LEVEL;
      break;
    case MESOS__V1__MASTER__CALL__TYPE__MARK_AGENT_GONE:
      action = MESOS_AUTHZ_MARK_AGENT_GONE;
      break;
    case MESOS__V1__MASTER__CALL__TYPE__UPDATE_MAINTENANCE_SCHEDULE:
      action = MESOS_AUTHZ_UPDATE_MAINTENANCE_SCHEDULE;
      break;
    case MESOS__V1__MASTER__CALL__TYPE__START_MAINTENANCE:
      action = MESOS_AUTHZ_START_MAINTENANCE;
      break;
    case MESOS__V1__MASTER__CALL__TYPE__STOP_MAINTENANCE:
      action = MESOS_AUTHZ_STOP_MAINTENANCE;
      break;
    /* Mesos 1.9's agent calls: ANY/NONE-only objects. */
    case MESOS__V1__MASTER__CALL__TYPE__DRAIN_AGENT: {
      /* A drain that ends with the agent marked gone is also a
       * MARK_AGENT_GONE (Mesos asks both, DRAIN_AGENT first): otherwise a
       * principal denied mark_agents_gone could remove an agent for good
       * through a drain.  Both are asked before either decides (one wait
       * for a late authorizer). */
      bool drain = mesos__auth_allowed(m->auth, p, MESOS_AUTHZ_DRAIN_AGENT, NULL);
      bool gone = !(c->drain_agent && c->drain_agent->has_mark_gone &&
                    c->drain_agent->mark_gone) ||
                  mesos__auth_allowed(m->auth, p, MESOS_AUTHZ_MARK_AGENT_GONE, NULL);
      if (!drain) ok = deny_msg(p, MESOS_AUTHZ_DRAIN_AGENT, NULL, why, sizeof why);
      else if (!gone) ok = deny_msg(p, MESOS_AUTHZ_MARK_AGENT_GONE, NULL, why, sizeof why);
      break;
    }
    case MESOS__V1__MASTER__CALL__TYPE__DEACTIVATE_AGENT:
      action = MESOS_AUTHZ_DEACTIVATE_AGENT;
      break;
    case MESOS__V1__MASTER__CALL__TYPE__REACTIVATE_AGENT:
      action = MESOS_AUTHZ_REACTIVATE_AGENT;
      break;
    /* Resizing a volume: RESIZE_VOLUME on the volume's role (before the
     * 409 these calls get here). */
    case MESOS__V1__MASTER__CALL__TYPE__GROW_VOLUME:
      action = MESOS_AUTHZ_RESIZE_VOLUME;
      object = c->grow_volume && c->grow_volume->volume ? reservation_role(c->grow_volume->volume)
                                                        : NULL;
      break;
    case MESOS__V1__MASTER__CALL__TYPE__SHRINK_VOLUME:
      action = MESOS_AUTHZ_RESIZE_VOLUME;
      object = c->shrink_volume && c->shrink_volume->volume
                   ? reservation_role(c->shrink_volume->volume)
                   : NULL;
      break;
    case MESOS__V1__MASTER__CALL__TYPE__TEARDOWN: {
      /* The object is the principal of the framework torn down. */
      const mesos__framework *fw =
          c->teardown && c->teardown->framework_id && c->teardown->framework_id->value
              ? mesos__map_get(&m->frameworks, c->teardown->framework_id->value)
              : NULL;
      action = MESOS_AUTHZ_TEARDOWN_FRAMEWORK;
      object = fw ? fw->info->principal : NULL;
      break;
    }
    case MESOS__V1__MASTER__CALL__TYPE__UPDATE_WEIGHTS:
      /* Every role asked before deciding (one wait); the first denied is named. */
      for (size_t i = 0; c->update_weights && i < c->update_weights->n_weight_infos; i++) {
        const char *role = c->update_weights->weight_infos[i]->role;
        if (!mesos__auth_allowed(m->auth, p, MESOS_AUTHZ_UPDATE_WEIGHT, role) && ok)
          ok = deny_msg(p, MESOS_AUTHZ_UPDATE_WEIGHT, role, why, sizeof why);
      }
      break;
    case MESOS__V1__MASTER__CALL__TYPE__SET_QUOTA:
      action = MESOS_AUTHZ_UPDATE_QUOTA;
      object = c->set_quota && c->set_quota->quota_request ? c->set_quota->quota_request->role
                                                           : NULL;
      break;
    case MESOS__V1__MASTER__CALL__TYPE__REMOVE_QUOTA: {
      object = c->remove_quota ? c->remove_quota->role : NULL;
      /* Mesos 1.0's remove_quotas rules, when the ACLs have them, decide
       * by who set the quota; else UPDATE_QUOTA on the role. */
      const char *setter = quota_setter(m, object);
      int legacy = mesos__auth_legacy_remove_quota(m->auth, p, setter);
      if (legacy == 0) {
        snprintf(why, sizeof why,
                 "Not authorized: principal '%.200s' may not remove the quota of role '%.200s'"
                 " set by '%.200s' (remove_quotas)",
                 p ? p : "(none)", object ? object : "", setter ? setter : "(none)");
        ok = false;
      }
      if (legacy < 0) action = MESOS_AUTHZ_UPDATE_QUOTA;
      break;
    }
    case MESOS__V1__MASTER__CALL__TYPE__UPDATE_QUOTA:
      for (size_t i = 0; c->update_quota && i < c->update_quota->n_quota_configs; i++) {
        const char *role = c->update_quota->quota_configs[i]->role;
        if (!mesos__auth_allowed(m->auth, p, MESOS_AUTHZ_UPDATE_QUOTA_WITH_CONFIG, role) && ok)
          ok = deny_msg(p, MESOS_AUTHZ_UPDATE_QUOTA_WITH_CONFIG, role, why, sizeof why);
      }
      break;
    case MESOS__V1__MASTER__CALL__TYPE__RESERVE_RESOURCES:
      ok = !c->reserve_resources ||
           check_resources(m, p, MESOS_AUTHZ_RESERVE_RESOURCES, c->reserve_resources->resources,
                           c->reserve_resources->n_resources, why, sizeof why);
      break;
    case MESOS__V1__MASTER__CALL__TYPE__UNRESERVE_RESOURCES:
      ok = !c->unreserve_resources ||
           check_resources(m, p, MESOS_AUTHZ_UNRESERVE_RESOURCES,
                           c->unreserve_resources->resources,
                           c->unreserve_resources->n_resources, why, sizeof why);
      break;
    case MESOS__V1__MASTER__CALL__TYPE__CREATE_VOLUMES:
      ok = !c->create_volumes ||
           check_resources(m, p, MESOS_AUTHZ_CREATE_VOLUME, c->create_volumes->volumes,
                           c->create_volumes->n_volumes, why, sizeof why);
      break;
    case MESOS__V1__MASTER__CALL__TYPE__DESTROY_VOLUMES:
      ok = !c->destroy_volumes ||
           check_resources(m, p, MESOS_AUTHZ_DESTROY_VOLUME, c->destroy_volumes->volumes,
                           c->destroy_volumes->n_volumes, why, sizeof why);
      break;
    case MESOS__V1__MASTER__CALL__TYPE__LIST_FILES:
    case MESOS__V1__MASTER__CALL__TYPE__READ_FILE:
      /* The master's files are its own log (/master/log); no sandbox lives
       * here, so every path is ACCESS_MESOS_LOG (spec authorization.md
       * §3.3), decided before the path is looked up. */
      action = MESOS_AUTHZ_ACCESS_MESOS_LOG;
      break;
    /* The read calls filtered in their handlers (filter_lists): asked
     * here first, so a late authorizer parks the call before anything is
     * rendered; the handler then finds the answers. */
    case MESOS__V1__MASTER__CALL__TYPE__GET_ROLES:
    case MESOS__V1__MASTER__CALL__TYPE__GET_WEIGHTS:
      mesos_authz_approver_free(mesos__auth_approver(m->auth, p, MESOS_AUTHZ_VIEW_ROLE));
      return !mesos__auth_parked(m->auth);
    case MESOS__V1__MASTER__CALL__TYPE__GET_QUOTA:
      mesos_authz_approver_free(mesos__auth_approver(m->auth, p, MESOS_AUTHZ_GET_QUOTA));
      return !mesos__auth_parked(m->auth);
    case MESOS__V1__MASTER__CALL__TYPE__GET_MAINTENANCE_SCHEDULE:
      (void)mesos__auth_allowed(m->auth, p, MESOS_AUTHZ_GET_MAINTENANCE_SCHEDULE, NULL);
      return !mesos__auth_parked(m->auth);
    case MESOS__V1__MASTER__CALL__TYPE__GET_MAINTENANCE_STATUS:
      (void)mesos__auth_allowed(m->auth, p, MESOS_AUTHZ_GET_MAINTENANCE_STATUS, NULL);
      return !mesos__auth_parked(m->auth);
    default:
      return true;
  }
  if (ok && action && !mesos__auth_allowed(m->auth, p, action, object))
    ok = deny_msg(p, action, object, why, sizeof why);
  if (mesos__auth_parked(m->auth)) return false; /* replayed with the answers */
  if (!ok) {
    LOG_INFO("operator call %d refused: %s", (int)c->type, why);
    mesos__http_respond_text(req, 403, why);
  }
  return ok;
}

MESOS_EXTERN(mesos_status) mesos_master_reload(mesos_master *m, mesos_error **err) {
  if (!m) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  mesos_status st = mesos__auth_reload(m->auth, err);
  if (st == MESOS_OK) LOG_INFO("Reloaded credentials and ACLs");
  return st;
}

MESOS_EXTERN(mesos_status) mesos_master_set_authorizer(mesos_master *m, mesos_authorizer *az,
                                                       mesos_error **err) {
  if (!m || !az) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  mesos_status st = mesos__auth_set_authorizer(m->auth, az, err);
  if (st == MESOS_OK) LOG_INFO("Authorization: a vendor authorizer replaces the local one");
  return st;
}

/* ------------------------------------------------------------ filtering */

/* A framework's user, looked up in the master's frameworks (on the loop:
 * the operator SUBSCRIBE events). */
typedef struct fw_users {
  mesos_master *m;
  /* The last lookup: a framework's tasks come one after another, so most
   * lookups are the previous one again (a compare, not a hash). */
  const char *last_id, *last_user;
  bool last_known;
} fw_users;

/* The user a framework runs as, by id (NULL when unknown: the object is
 * then "any user"); *known says whether the framework is in the source at
 * all (an orphan task's or executor's framework is not). */
static const char *framework_user_known(fw_users *u, const Mesos__V1__FrameworkID *id,
                                        bool *known) {
  *known = false;
  if (!id || !id->value) return NULL;
  if (u->last_id && strcmp(u->last_id, id->value) == 0) {
    *known = u->last_known;
    return u->last_user;
  }
  const mesos__framework *fw = mesos__map_get(&u->m->frameworks, id->value);
  *known = fw != NULL;
  const char *user = fw && fw->info ? fw->info->user : NULL;
  u->last_id = id->value;
  u->last_user = user;
  u->last_known = *known;
  return user;
}

static const char *framework_user(fw_users *u, const Mesos__V1__FrameworkID *id) {
  bool known;
  return framework_user_known(u, id, &known);
}

static const char *task_user(fw_users *u, const Mesos__V1__Task *t) {
  return t->user ? t->user : framework_user(u, t->framework_id);
}



/* Keeps the items the approver approves, in order; returns the new count. */
#define FILTER(arr, n, keep_expr)                                     \
  do {                                                                \
    size_t kept_ = 0;                                                 \
    for (size_t i_ = 0; i_ < (n); i_++) {                             \
      __typeof__((arr)[0]) it = (arr)[i_];                            \
      if (keep_expr) (arr)[kept_++] = it;                             \
    }                                                                 \
    (n) = kept_;                                                      \
  } while (0)









void mesos__master_auth_filter_lists(mesos_master *m, mesos__http_request *req,
                                     Mesos__V1__Master__Response *r,
                                     struct mesos__op_scratch *s) {
  if (!mesos__auth_has_authorizer(m->auth)) return;
  const char *p = mesos__http_request_principal(req);
  if (r->get_roles || r->get_weights) {
    mesos_authz_approver *ap = mesos__auth_approver(m->auth, p, MESOS_AUTHZ_VIEW_ROLE);
    if (r->get_roles)
      FILTER(r->get_roles->roles, r->get_roles->n_roles, mesos__auth_approved(ap, it->name));
    if (r->get_weights)
      FILTER(r->get_weights->weight_infos, r->get_weights->n_weight_infos,
             mesos__auth_approved(ap, it->role));
    mesos_authz_approver_free(ap);
  }
  if (r->get_quota && r->get_quota->status) {
    Mesos__V1__Quota__QuotaStatus *qs = r->get_quota->status;
    mesos_authz_approver *ap = mesos__auth_approver(m->auth, p, MESOS_AUTHZ_GET_QUOTA);
    FILTER(qs->infos, qs->n_infos, mesos__auth_approved(ap, it->role));
    /* The configs are the registry's own array: filter a copy. */
    Mesos__V1__Quota__QuotaConfig **copy =
        qs->n_configs && s ? mesos__op_alloc(s, qs->n_configs * sizeof *copy) : NULL;
    size_t k = 0;
    for (size_t i = 0; copy && i < qs->n_configs; i++)
      if (mesos__auth_approved(ap, qs->configs[i]->role)) copy[k++] = qs->configs[i];
    if (qs->n_configs) {
      qs->configs = copy; /* NULL (out of memory): none shown rather than all */
      qs->n_configs = k;
    }
    mesos_authz_approver_free(ap);
  }
  /* Nothing to show: an empty schedule (a static one: the response only
   * borrows it). */
  static Mesos__V1__Maintenance__Schedule no_schedule = MESOS__V1__MAINTENANCE__SCHEDULE__INIT;
  if (r->get_maintenance_schedule &&
      !mesos__auth_allowed(m->auth, p, MESOS_AUTHZ_GET_MAINTENANCE_SCHEDULE, NULL))
    r->get_maintenance_schedule->schedule = &no_schedule;
  if (r->get_maintenance_status && r->get_maintenance_status->status)
    mesos__master_auth_filter_cluster_status(m, p, r->get_maintenance_status->status);
}

void mesos__master_auth_filter_cluster_status(mesos_master *m, const char *principal,
                                              Mesos__V1__Maintenance__ClusterStatus *cs) {
  if (!mesos__auth_allowed(m->auth, principal, MESOS_AUTHZ_GET_MAINTENANCE_STATUS, NULL)) {
    cs->n_draining_machines = 0;
    cs->n_down_machines = 0;
  }
}

bool mesos__master_auth_view_take(mesos_master *m, mesos__http_request *req,
                                  mesos__auth_view *v) {
  memset(v, 0, sizeof *v);
  /* The local authorizer's view is built when the snapshot is taken (one
   * per batch); a vendor's is asked for now, in the request's pass. */
  if (!mesos__auth_may_wait(m->auth)) return true;
  mesos__auth_view_init(v, m->auth, mesos__http_request_principal(req));
  if (!mesos__auth_parked(m->auth)) return true;
  mesos__auth_view_free(v);
  return false;
}

void mesos__master_auth_view_begin(mesos_master *m, mesos__http_request *req,
                                   mesos__auth_view *v) {
  if (!mesos__auth_has_authorizer(m->auth)) return;
  if (!v->set) mesos__auth_view_init(v, m->auth, mesos__http_request_principal(req));
  m->view = v;
}

void mesos__master_auth_view_end(mesos_master *m, mesos__auth_view *v) {
  if (m->view == v) m->view = NULL;
  mesos__auth_view_free(v);
}

bool mesos__master_auth_sees_framework(const mesos_master *m, const mesos__framework *fw) {
  return !m->view || mesos__auth_view_framework(m->view, fw->info ? fw->info->user : NULL);
}

bool mesos__master_auth_sees_task(const mesos_master *m, const mesos__framework *fw,
                                  const mesos__task *t) {
  if (!m->view) return true;
  const char *tu = mesos__task_user(t);
  const char *user = tu ? tu : fw->info ? fw->info->user : NULL;
  return mesos__auth_view_task(m->view, user);
}

/* ------------------------------------------------------------ VIEW_ROLE */

bool mesos__master_auth_sees_role(const mesos_master *m, const char *role) {
  return !m->view || mesos__auth_view_role(m->view, role);
}

mesos__auth_roles *mesos__master_auth_roles_new(mesos_master *m, int *failed) {
  if (!m->view || !m->view->set || !m->view->role) return NULL;
  mesos__auth_roles *t = mesos__auth_roles_new(m->view);
  if (t == NULL) {
    *failed = 1;
    return NULL;
  }
  size_t it = 0;
  void *v;
  while (mesos__map_next(&m->frameworks, &it, NULL, &v)) {
    const mesos__framework *fw = v;
    const Mesos__V1__FrameworkInfo *fi = fw->info;
    if (fi == NULL) continue;
    if (fi->role) mesos__auth_roles_learn(t, fi->role);
    for (size_t i = 0; i < fi->n_roles; i++) mesos__auth_roles_learn(t, fi->roles[i]);
  }
  return t;
}

void mesos__master_auth_learn_bag(mesos__auth_roles *t, const mesos__resources *r) {
  for (size_t i = 0; t && r && i < r->n; i++) mesos__auth_roles_learn_resource(t, r->v[i].proto);
}

bool mesos__master_auth_sees_allocation(mesos__auth_roles *t, const char *role) {
  if (t == NULL) return true;
  mesos__auth_roles_learn(t, role);
  return mesos__auth_roles_sees(t, role);
}

bool mesos__master_auth_agent_info(mesos__auth_roles *t, const Mesos__V1__AgentInfo *ai,
                                   Mesos__V1__AgentInfo *out) {
  if (t == NULL || ai == NULL) return false;
  size_t shown = 0;
  for (size_t i = 0; i < ai->n_resources; i++) {
    mesos__auth_roles_learn_resource(t, ai->resources[i]);
    if (mesos__auth_roles_sees_resource(t, ai->resources[i])) shown++;
  }
  if (shown == ai->n_resources) return false; /* the usual case: nothing to hide */
  *out = *ai; /* a shallow copy: only the array differs */
  out->n_resources = 0;
  out->resources = shown ? mesos__calloc(shown, sizeof *out->resources) : NULL;
  for (size_t i = 0; out->resources && i < ai->n_resources; i++)
    if (mesos__auth_roles_sees_resource(t, ai->resources[i]))
      out->resources[out->n_resources++] = ai->resources[i];
  return true; /* out of memory: no resources shown rather than all */
}

/* The user of a task the master knows, by framework and task id. */
static const char *known_task_user(mesos_master *m, const Mesos__V1__FrameworkID *fid,
                                   const Mesos__V1__TaskID *tid) {
  const mesos__framework *fw = fid && fid->value ? mesos__map_get(&m->frameworks, fid->value)
                                                 : NULL;
  if (!fw) return NULL;
  const mesos__task *t = tid && tid->value ? mesos__map_get(&fw->tasks, tid->value) : NULL;
  if (t && mesos__task_user(t)) return mesos__task_user(t);
  return fw->info ? fw->info->user : NULL;
}

bool mesos__master_auth_event_visible(mesos_master *m, const mesos__auth_view *v,
                                      const Mesos__V1__Master__Event *ev) {
  if (!mesos__auth_has_authorizer(m->auth) || !ev->has_type || !v->set) return true;
  fw_users mu = {m, NULL, NULL, false};
  switch (ev->type) {
    /* Task events: the framework must be viewable too, as in GET_TASKS. */
    case MESOS__V1__MASTER__EVENT__TYPE__TASK_ADDED: {
      if (!ev->task_added || !ev->task_added->task) return true;
      bool known;
      const char *fu = framework_user_known(&mu, ev->task_added->task->framework_id, &known);
      if (known && !mesos__auth_view_framework(v, fu)) return false;
      return mesos__auth_view_task(v, task_user(&mu, ev->task_added->task));
    }
    case MESOS__V1__MASTER__EVENT__TYPE__TASK_UPDATED: {
      if (!ev->task_updated || !ev->task_updated->status) return true;
      bool known;
      const char *fu = framework_user_known(&mu, ev->task_updated->framework_id, &known);
      if (known && !mesos__auth_view_framework(v, fu)) return false;
      return mesos__auth_view_task(v, known_task_user(m, ev->task_updated->framework_id,
                                                      ev->task_updated->status->task_id));
    }
    case MESOS__V1__MASTER__EVENT__TYPE__FRAMEWORK_ADDED:
      if (!ev->framework_added || !ev->framework_added->framework ||
          !ev->framework_added->framework->framework_info)
        return true;
      return mesos__auth_view_framework(v, ev->framework_added->framework->framework_info->user);
    case MESOS__V1__MASTER__EVENT__TYPE__FRAMEWORK_UPDATED:
      if (!ev->framework_updated || !ev->framework_updated->framework ||
          !ev->framework_updated->framework->framework_info)
        return true;
      return mesos__auth_view_framework(v,
                                        ev->framework_updated->framework->framework_info->user);
    case MESOS__V1__MASTER__EVENT__TYPE__FRAMEWORK_REMOVED:
      if (!ev->framework_removed || !ev->framework_removed->framework_info) return true;
      return mesos__auth_view_framework(v, ev->framework_removed->framework_info->user);
    default:
      return true;
  }
}

mesos_status mesos__master_tls_config(mesos_master *m, mesos__tls_config **out,
                                      mesos_error **err) {
  *out = NULL;
  const char *cert = mesos__flags_get(m->flags, "tls_cert");
  const char *key = mesos__flags_get(m->flags, "tls_key");
  const char *ca = mesos__flags_get(m->flags, "tls_ca");
  const char *verify = mesos__flags_get(m->flags, "tls_verify_client");
  if (cert && !*cert) cert = NULL;
  if (key && !*key) key = NULL;
  if (ca && !*ca) ca = NULL;
  int v = !verify || strcmp(verify, "none") == 0 ? 0 : strcmp(verify, "optional") == 0 ? 1 : 2;
  if (!cert && !key) {
    if (v || ca)
      return mesos__err(err, MESOS_EINVAL,
                        "--tls_ca / --tls_verify_client need --tls_cert and --tls_key");
    return MESOS_OK;
  }
  if (!cert || !key)
    return mesos__err(err, MESOS_EINVAL, "--tls_cert and --tls_key go together");
  if (v && !ca)
    return mesos__err(err, MESOS_EINVAL, "--tls_verify_client=%s needs --tls_ca", verify);
  mesos__tls_config_options o;
  memset(&o, 0, sizeof o);
  o.is_server = 1;
  o.cert_file = cert;
  o.key_file = key;
  o.ca_file = ca;
  o.verify_peer = v;
  return mesos__tls_config_new(out, &o, err);
}

/* The master's authentication and authorization (master_auth.h). */
#include "master/master_auth.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/arena.h"

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
  for (size_t i = 0; i < n; i++) {
    if (!mesos__auth_allowed(m->auth, fi->principal, MESOS_AUTHZ_REGISTER_FRAMEWORK, roles[i])) {
      snprintf(why, cap,
               "Not authorized to subscribe as principal '%.200s' with role '%.200s'",
               fi->principal ? fi->principal : "", roles[i]);
      LOG_INFO("Refusing subscription of framework '%s': %s", fi->name ? fi->name : "", why);
      return false;
    }
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
  mesos__respond_text(req, 400, msg);
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

bool mesos__master_auth_operation(mesos_master *m, const Mesos__V1__FrameworkInfo *fi,
                                  const Mesos__V1__Offer__Operation *op, char *why,
                                  size_t cap) {
  if (!mesos__auth_has_authorizer(m->auth) || !op->has_type) return true;
  const char *p = fi->principal;
  Mesos__V1__Resource **rs = NULL;
  size_t n = 0;
  int32_t action = 0;
  switch (op->type) {
    case MESOS__V1__OFFER__OPERATION__TYPE__RESERVE:
      if (op->reserve) rs = op->reserve->resources, n = op->reserve->n_resources;
      action = MESOS_AUTHZ_RESERVE_RESOURCES;
      break;
    case MESOS__V1__OFFER__OPERATION__TYPE__UNRESERVE:
      if (op->unreserve) rs = op->unreserve->resources, n = op->unreserve->n_resources;
      action = MESOS_AUTHZ_UNRESERVE_RESOURCES;
      break;
    case MESOS__V1__OFFER__OPERATION__TYPE__CREATE:
      if (op->create) rs = op->create->volumes, n = op->create->n_volumes;
      action = MESOS_AUTHZ_CREATE_VOLUME;
      break;
    case MESOS__V1__OFFER__OPERATION__TYPE__DESTROY:
      if (op->destroy) rs = op->destroy->volumes, n = op->destroy->n_volumes;
      action = MESOS_AUTHZ_DESTROY_VOLUME;
      break;
    default:
      return true;
  }
  for (size_t i = 0; i < n; i++) {
    const Mesos__V1__Resource *r = rs[i];
    const char *object = NULL;
    const Mesos__V1__Resource__ReservationInfo *ri;
    switch (action) {
      case MESOS_AUTHZ_RESERVE_RESOURCES:
      case MESOS_AUTHZ_CREATE_VOLUME:
        object = reservation_role(r);
        break;
      case MESOS_AUTHZ_UNRESERVE_RESOURCES:
        ri = last_reservation(r);
        object = ri ? ri->principal : NULL;
        break;
      default: /* DESTROY_VOLUME */
        object = r->disk && r->disk->persistence ? r->disk->persistence->principal : NULL;
        break;
    }
    if (!mesos__auth_allowed(m->auth, p, action, object)) {
      snprintf(why, cap, "Not authorized: principal '%.200s' may not %s%s%.200s%s",
               p ? p : "", mesos_authz_action_name(action), object ? " on '" : "",
               object ? object : "", object ? "'" : "");
      return false;
    }
  }
  return true;
}

MESOS_EXTERN(mesos_status) mesos_master_reload(mesos_master *m, mesos_error **err) {
  if (!m) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  mesos_status st = mesos__auth_reload(m->auth, err);
  if (st == MESOS_OK) LOG_INFO("Reloaded credentials and ACLs");
  return st;
}

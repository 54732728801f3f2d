/* VIEW_ROLE on role-tagged resources (authz_int.h, mesos__auth_roles).
 *
 * Mesos hides a Resource from a principal when its legacy `role` is not
 * "*" and may not be viewed, when any role along its `reservations` may
 * not be, or when its `allocation_info.role` may not be.  State responses
 * carry thousands of resources (20,000 agents' totals, offers, what tasks
 * use), some of them summed off the loop thread where approvers may not
 * be used, and they name a handful of roles: so each role is asked once,
 * on the loop, and the answers kept in a small table read from any
 * thread afterwards. */
#include <string.h>

#include "authz/authz_int.h"
#include "base/alloc.h"
#include "base/map.h"

/* Values in the table: what the approver answered. */
#define SEEN ((void *)(uintptr_t)1)
#define HIDDEN ((void *)(uintptr_t)2)

/* At most this many roles are kept; a role past it counts as hidden (a
 * response then shows less, never more). */
#define ROLES_MAX 65536u

struct mesos__auth_roles {
  const mesos_authz_approver *ap; /* borrowed from the view, while learning */
  mesos__map map;
  bool oom;      /* a role could not be kept (it stays hidden) */
};

mesos__auth_roles *mesos__auth_roles_new(const mesos__auth_view *v) {
  if (v == NULL || !v->set || v->role == NULL) return NULL; /* no ACLs: all visible */
  mesos__auth_roles *t = MESOS__NEW(mesos__auth_roles);
  if (t == NULL) return NULL;
  t->ap = v->role;
  mesos__map_init(&t->map);
  return t;
}

void mesos__auth_roles_learn(mesos__auth_roles *t, const char *role) {
  if (t == NULL || role == NULL || t->ap == NULL) return;
  if (mesos__map_get(&t->map, role)) return;
  if (mesos__map_count(&t->map) >= ROLES_MAX) {
    t->oom = true;
    return;
  }
  bool ok = mesos__auth_approved(t->ap, role);
  if (mesos__map_put(&t->map, role, ok ? SEEN : HIDDEN) != MESOS_OK) {
    t->oom = true;
    return;
  }
}

void mesos__auth_roles_learn_resource(mesos__auth_roles *t, const Mesos__V1__Resource *r) {
  if (t == NULL || r == NULL) return;
  if (r->role && strcmp(r->role, "*") != 0) mesos__auth_roles_learn(t, r->role);
  for (size_t i = 0; i < r->n_reservations; i++)
    if (r->reservations[i]) mesos__auth_roles_learn(t, r->reservations[i]->role);
  if (r->allocation_info && r->allocation_info->role)
    mesos__auth_roles_learn(t, r->allocation_info->role);
}

void mesos__auth_roles_freeze(mesos__auth_roles *t) {
  if (t) t->ap = NULL;
}

bool mesos__auth_roles_sees(const mesos__auth_roles *t, const char *role) {
  if (t == NULL) return true;
  if (role == NULL) return false; /* a reservation without a role: nothing to ask */
  return mesos__map_get(&t->map, role) == SEEN;
}

/* Mesos's rule, with `sees` deciding one role. */
static bool rule(const Mesos__V1__Resource *r, bool (*sees)(const void *ctx, const char *role),
                 const void *ctx) {
  if (r->role && strcmp(r->role, "*") != 0 && !sees(ctx, r->role)) return false;
  for (size_t i = 0; i < r->n_reservations; i++)
    if (r->reservations[i] && !sees(ctx, r->reservations[i]->role)) return false;
  if (r->allocation_info && r->allocation_info->role && !sees(ctx, r->allocation_info->role))
    return false;
  return true;
}

static bool table_sees(const void *ctx, const char *role) {
  return mesos__auth_roles_sees(ctx, role);
}

bool mesos__auth_roles_sees_resource(const mesos__auth_roles *t, const Mesos__V1__Resource *r) {
  if (t == NULL || r == NULL) return true;
  return rule(r, table_sees, t);
}

static bool view_sees(const void *ctx, const char *role) {
  return role != NULL && mesos__auth_view_role(ctx, role);
}

bool mesos__auth_view_resource(const mesos__auth_view *v, const Mesos__V1__Resource *r) {
  if (v == NULL || !v->set || v->role == NULL || r == NULL) return true;
  return rule(r, view_sees, v);
}

void mesos__auth_roles_free(mesos__auth_roles *t) {
  if (t == NULL) return;
  mesos__map_free(&t->map);
  mesos__free(t);
}

/* The authorizer vtable wrapper, approvers, and the local ACL authorizer
 * (mesos/authz.h). */
#include <string.h>

#include "authz/acls.h"
#include "authz/authz_int.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"

struct mesos_authorizer {
  mesos_authorizer_ops ops;
  void *ud;
};

struct mesos_authz_approver {
  const mesos_authz_approver_ops *ops;
  void *aud;
};

static const char *const ACTION_NAMES[] = {
  [MESOS_AUTHZ_REGISTER_FRAMEWORK] = "REGISTER_FRAMEWORK",
  [MESOS_AUTHZ_RUN_TASK] = "RUN_TASK",
  [MESOS_AUTHZ_TEARDOWN_FRAMEWORK] = "TEARDOWN_FRAMEWORK",
  [MESOS_AUTHZ_RESERVE_RESOURCES] = "RESERVE_RESOURCES",
  [MESOS_AUTHZ_UNRESERVE_RESOURCES] = "UNRESERVE_RESOURCES",
  [MESOS_AUTHZ_CREATE_VOLUME] = "CREATE_VOLUME",
  [MESOS_AUTHZ_DESTROY_VOLUME] = "DESTROY_VOLUME",
  [MESOS_AUTHZ_GET_ENDPOINT_WITH_PATH] = "GET_ENDPOINT_WITH_PATH",
  [MESOS_AUTHZ_VIEW_ROLE] = "VIEW_ROLE",
  [MESOS_AUTHZ_UPDATE_WEIGHT] = "UPDATE_WEIGHT",
  [MESOS_AUTHZ_GET_QUOTA] = "GET_QUOTA",
  [MESOS_AUTHZ_UPDATE_QUOTA] = "UPDATE_QUOTA",
  [MESOS_AUTHZ_VIEW_FRAMEWORK] = "VIEW_FRAMEWORK",
  [MESOS_AUTHZ_VIEW_TASK] = "VIEW_TASK",
  [MESOS_AUTHZ_VIEW_EXECUTOR] = "VIEW_EXECUTOR",
  [MESOS_AUTHZ_ACCESS_SANDBOX] = "ACCESS_SANDBOX",
  [MESOS_AUTHZ_ACCESS_MESOS_LOG] = "ACCESS_MESOS_LOG",
  [MESOS_AUTHZ_VIEW_FLAGS] = "VIEW_FLAGS",
  [MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER] = "LAUNCH_NESTED_CONTAINER",
  [MESOS_AUTHZ_KILL_NESTED_CONTAINER] = "KILL_NESTED_CONTAINER",
  [MESOS_AUTHZ_WAIT_NESTED_CONTAINER] = "WAIT_NESTED_CONTAINER",
  [MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER_SESSION] = "LAUNCH_NESTED_CONTAINER_SESSION",
  [MESOS_AUTHZ_ATTACH_CONTAINER_INPUT] = "ATTACH_CONTAINER_INPUT",
  [MESOS_AUTHZ_ATTACH_CONTAINER_OUTPUT] = "ATTACH_CONTAINER_OUTPUT",
  [MESOS_AUTHZ_VIEW_CONTAINER] = "VIEW_CONTAINER",
  [MESOS_AUTHZ_SET_LOG_LEVEL] = "SET_LOG_LEVEL",
  [MESOS_AUTHZ_REMOVE_NESTED_CONTAINER] = "REMOVE_NESTED_CONTAINER",
  [MESOS_AUTHZ_REGISTER_AGENT] = "REGISTER_AGENT",
  [MESOS_AUTHZ_UPDATE_MAINTENANCE_SCHEDULE] = "UPDATE_MAINTENANCE_SCHEDULE",
  [MESOS_AUTHZ_GET_MAINTENANCE_SCHEDULE] = "GET_MAINTENANCE_SCHEDULE",
  [MESOS_AUTHZ_START_MAINTENANCE] = "START_MAINTENANCE",
  [MESOS_AUTHZ_STOP_MAINTENANCE] = "STOP_MAINTENANCE",
  [MESOS_AUTHZ_GET_MAINTENANCE_STATUS] = "GET_MAINTENANCE_STATUS",
  [MESOS_AUTHZ_MARK_AGENT_GONE] = "MARK_AGENT_GONE",
  [MESOS_AUTHZ_LAUNCH_STANDALONE_CONTAINER] = "LAUNCH_STANDALONE_CONTAINER",
  [MESOS_AUTHZ_KILL_STANDALONE_CONTAINER] = "KILL_STANDALONE_CONTAINER",
  [MESOS_AUTHZ_WAIT_STANDALONE_CONTAINER] = "WAIT_STANDALONE_CONTAINER",
  [MESOS_AUTHZ_REMOVE_STANDALONE_CONTAINER] = "REMOVE_STANDALONE_CONTAINER",
  [MESOS_AUTHZ_MODIFY_RESOURCE_PROVIDER_CONFIG] = "MODIFY_RESOURCE_PROVIDER_CONFIG",
  [MESOS_AUTHZ_VIEW_STANDALONE_CONTAINER] = "VIEW_STANDALONE_CONTAINER",
  [MESOS_AUTHZ_PRUNE_IMAGES] = "PRUNE_IMAGES",
  [MESOS_AUTHZ_RESIZE_VOLUME] = "RESIZE_VOLUME",
  [MESOS_AUTHZ_CREATE_BLOCK_DISK] = "CREATE_BLOCK_DISK",
  [MESOS_AUTHZ_DESTROY_BLOCK_DISK] = "DESTROY_BLOCK_DISK",
  [MESOS_AUTHZ_CREATE_MOUNT_DISK] = "CREATE_MOUNT_DISK",
  [MESOS_AUTHZ_DESTROY_MOUNT_DISK] = "DESTROY_MOUNT_DISK",
  [MESOS_AUTHZ_VIEW_RESOURCE_PROVIDER] = "VIEW_RESOURCE_PROVIDER",
  [MESOS_AUTHZ_MARK_RESOURCE_PROVIDER_GONE] = "MARK_RESOURCE_PROVIDER_GONE",
  [MESOS_AUTHZ_DESTROY_RAW_DISK] = "DESTROY_RAW_DISK",
  [MESOS_AUTHZ_UPDATE_QUOTA_WITH_CONFIG] = "UPDATE_QUOTA_WITH_CONFIG",
  [MESOS_AUTHZ_DRAIN_AGENT] = "DRAIN_AGENT",
  [MESOS_AUTHZ_DEACTIVATE_AGENT] = "DEACTIVATE_AGENT",
  [MESOS_AUTHZ_REACTIVATE_AGENT] = "REACTIVATE_AGENT",
};

const char *mesos_authz_action_name(int32_t action) {
  if (action < 1 || (size_t)action >= sizeof(ACTION_NAMES) / sizeof(ACTION_NAMES[0]))
    return NULL;
  return ACTION_NAMES[action];
}

/* ------------------------------------------------------------ wrapper */

mesos_status mesos_authorizer_new(mesos_authorizer **out, const mesos_authorizer_ops *ops,
                                  void *ud, mesos_error **err) {
  if (!out || !ops) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  if (ops->version != MESOS_AUTHORIZER_OPS_VERSION)
    return mesos__err(err, MESOS_EVERSION, "mesos_authorizer_ops: version %u not supported",
                      (unsigned)ops->version);
  if (!ops->authorized)
    return mesos__err(err, MESOS_EINVAL, "mesos_authorizer_ops: 'authorized' is required");
  if (!ops->approver)
    return mesos__err(err, MESOS_EINVAL, "mesos_authorizer_ops: 'approver' is required");
  mesos_authorizer *az = MESOS__NEW(mesos_authorizer);
  if (!az) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  az->ops = *ops;
  az->ud = ud;
  *out = az;
  return MESOS_OK;
}

mesos_status mesos_authorizer_authorized(mesos_authorizer *az, const mesos_authz_request *req,
                                         mesos_authz_done_fn done, void *done_ud) {
  if (!az || !req || !done) return MESOS_EINVAL;
  if (req->version != MESOS_AUTHZ_REQUEST_VERSION || !mesos__authz_action_valid(req->action))
    return MESOS_EINVAL;
  if (req->object && req->object->version != MESOS_AUTHZ_OBJECT_VERSION) return MESOS_EINVAL;
  az->ops.authorized(az->ud, req, done, done_ud);
  return MESOS_OK;
}

typedef struct approver_wait {
  mesos_authz_approver_done_fn done;
  void *ud;
} approver_wait;

static void approver_ready(mesos_status st, const mesos_authz_approver_ops *ops, void *aud,
                           void *ud) {
  approver_wait *w = ud;
  mesos_authz_approver_done_fn done = w->done;
  void *dud = w->ud;
  mesos__free(w);
  if (st == MESOS_OK && (!ops || ops->version != MESOS_AUTHZ_APPROVER_OPS_VERSION ||
                         !ops->approved))
    st = MESOS_EINVAL;
  mesos_authz_approver *ap = NULL;
  if (st == MESOS_OK && !(ap = MESOS__NEW(mesos_authz_approver))) st = MESOS_ENOMEM;
  if (st != MESOS_OK) {
    if (ops && ops->free && aud) ops->free(aud);
    done(st == MESOS_OK ? MESOS_ERROR : st, NULL, dud);
    return;
  }
  ap->ops = ops;
  ap->aud = aud;
  done(MESOS_OK, ap, dud);
}

mesos_status mesos_authorizer_approver(mesos_authorizer *az, const char *subject,
                                       int32_t action, mesos_authz_approver_done_fn done,
                                       void *done_ud) {
  if (!az || !done || !mesos__authz_action_valid(action)) return MESOS_EINVAL;
  approver_wait *w = MESOS__NEW(approver_wait);
  if (!w) return MESOS_ENOMEM;
  w->done = done;
  w->ud = done_ud;
  az->ops.approver(az->ud, subject, action, approver_ready, w);
  return MESOS_OK;
}

int mesos_authz_approver_approved(const mesos_authz_approver *ap,
                                  const mesos_authz_object *object) {
  if (!ap) return 0;
  if (object && object->version != MESOS_AUTHZ_OBJECT_VERSION) return 0;
  return ap->ops->approved(ap->aud, object) ? 1 : 0;
}

mesos_status mesos__authz_approver_wrap(const mesos_authz_approver_ops *ops, void *aud,
                                       mesos_authz_approver **out) {
  mesos_authz_approver *ap = MESOS__NEW(mesos_authz_approver);
  if (!ap) return MESOS_ENOMEM;
  ap->ops = ops;
  ap->aud = aud;
  *out = ap;
  return MESOS_OK;
}

static int deny_all_approved(void *aud, const mesos_authz_object *object) {
  (void)aud;
  (void)object;
  return 0;
}
static const mesos_authz_approver_ops DENY_ALL_OPS = {
  MESOS_AUTHZ_APPROVER_OPS_VERSION, deny_all_approved, NULL,
};
static mesos_authz_approver DENY_ALL = {&DENY_ALL_OPS, NULL};

mesos_authz_approver *mesos__authz_deny_all(void) { return &DENY_ALL; }

void mesos_authz_approver_free(mesos_authz_approver *ap) {
  if (!ap || ap == &DENY_ALL) return;
  if (ap->ops->free) ap->ops->free(ap->aud);
  mesos__free(ap);
}

mesos_status mesos_authorizer_reload(mesos_authorizer *az, mesos_error **err) {
  if (!az) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  return az->ops.reload ? az->ops.reload(az->ud, err) : MESOS_OK;
}

void mesos_authorizer_free(mesos_authorizer *az) {
  if (!az) return;
  if (az->ops.free) az->ops.free(az->ud);
  mesos__free(az);
}

/* ------------------------------------------------------------ local */

typedef struct local {
  char *path;        /* NULL: the ACLs were given inline (reload keeps them) */
  mesos__acls *acls; /* NULL: no ACLs, everything allowed */
} local;

typedef struct local_approver {
  mesos__acls *acls; /* a reference: survives reloads */
  char *subject;
  mesos__acls_binding bound;
  /* The last decision: state rendering asks about runs of objects with
   * the same user (a framework's tasks), so one string compare often
   * replaces a scan of the candidate rules. */
  bool memo_valid;
  bool memo_parent_same; /* the memo was for parent_value == value (else NULL) */
  int memo_decision;
  char memo_value[64];
} local_approver;

static void local_authorized(void *ud, const mesos_authz_request *req, mesos_authz_done_fn done,
                             void *done_ud) {
  local *l = ud;
  const char *v = req->object ? req->object->value : NULL;
  const char *pv = req->object ? req->object->parent_value : NULL;
  done(MESOS_OK, mesos__acls_check2(l->acls, req->action, req->subject, v, pv), done_ud);
}

static int local_approved(void *aud, const mesos_authz_object *object) {
  local_approver *la = aud;
  /* Decided at bind time when no object changes the answer. */
  if (la->bound.constant >= 0) return la->bound.constant;
  const char *v = object ? object->value : NULL;
  const char *pv = object ? object->parent_value : NULL;
  /* Only single-value decisions are memoised (the two-key actions also
   * depend on the parent value). */
  bool memoisable = v && (!pv || pv == v) && strlen(v) < sizeof(la->memo_value);
  if (memoisable && la->memo_valid && la->memo_parent_same == (pv != NULL) &&
      strcmp(la->memo_value, v) == 0)
    return la->memo_decision;
  int d = mesos__acls_check_bound(&la->bound, v, pv);
  if (memoisable) {
    memcpy(la->memo_value, v, strlen(v) + 1);
    la->memo_decision = d;
    la->memo_parent_same = pv != NULL;
    la->memo_valid = true;
  }
  return d;
}

static void local_approver_free(void *aud) {
  local_approver *la = aud;
  mesos__acls_unref(la->acls);
  mesos__free(la->subject);
  mesos__free(la);
}

static const mesos_authz_approver_ops LOCAL_APPROVER_OPS = {
  MESOS_AUTHZ_APPROVER_OPS_VERSION, local_approved, local_approver_free,
};

static void local_approver_new(void *ud, const char *subject, int32_t action,
                               mesos_authz_approver_fn done, void *done_ud) {
  local *l = ud;
  local_approver *la = MESOS__NEW(local_approver);
  if (!la || (subject && !(la->subject = mesos__strdup(subject)))) {
    mesos__free(la);
    done(MESOS_ENOMEM, NULL, NULL, done_ud);
    return;
  }
  la->acls = mesos__acls_ref(l->acls);
  mesos__acls_bind(&la->bound, la->acls, action, la->subject);
  mesos__acls_bind_precompute(&la->bound);
  done(MESOS_OK, &LOCAL_APPROVER_OPS, la, done_ud);
}

static mesos_status acls_from_text(mesos__acls **out, const char *text, size_t len,
                                   const char *what, mesos_error **err) {
  mesos_error *e = NULL;
  mesos_status st = mesos__acls_parse(out, text, len, &e);
  if (st != MESOS_OK) return mesos__err_wrap(err, st, e, "%s: %s", what, mesos_error_message(e));
  return MESOS_OK;
}

static mesos_status local_reload(void *ud, mesos_error **err) {
  local *l = ud;
  if (!l->path) return MESOS_OK;
  char *text = NULL;
  size_t len = 0;
  mesos_status st = mesos__authz_read_file(l->path, MESOS_ACLS_MAX_BYTES, &text, &len, err);
  if (st != MESOS_OK) return st;
  mesos__acls *a = NULL;
  st = acls_from_text(&a, text, len, l->path, err);
  mesos__free(text);
  if (st != MESOS_OK) return st; /* the old ACLs stay in force */
  mesos__acls_unref(l->acls);
  l->acls = a;
  return MESOS_OK;
}

static void local_free(void *ud) {
  local *l = ud;
  mesos__acls_unref(l->acls);
  mesos__free(l->path);
  mesos__free(l);
}

static const mesos_authorizer_ops LOCAL_OPS = {
  MESOS_AUTHORIZER_OPS_VERSION, local_authorized, local_approver_new, local_reload, local_free,
};

mesos_status mesos_local_authorizer_new(mesos_authorizer **out, const char *acls,
                                        mesos_error **err) {
  if (!out) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  local *l = MESOS__NEW(local);
  if (!l) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = MESOS_OK;
  if (acls) {
    const char *p = acls;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p == '{') {
      st = acls_from_text(&l->acls, acls, strlen(acls), "--acls", err);
    } else if (!(l->path = mesos__strdup(acls))) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    } else {
      st = local_reload(l, err);
    }
  }
  if (st == MESOS_OK) st = mesos_authorizer_new(out, &LOCAL_OPS, l, err);
  if (st != MESOS_OK) local_free(l);
  return st;
}

int mesos__authz_local_check(mesos_authorizer *az, int32_t action, const char *subject,
                             const char *object, bool only_legacy_quota) {
  if (!az || az->ops.authorized != local_authorized) return -1; /* a vendor's */
  const local *l = az->ud;
  if (!l->acls) return 1; /* no ACLs: everything allowed */
  if (only_legacy_quota && !mesos__acls_legacy_quota(l->acls)) return -1;
  return mesos__acls_check(l->acls, action, subject, object);
}

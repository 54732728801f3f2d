/* Authentication and authorization for the daemons' HTTP handlers.
 *
 * A master or agent owns one mesos__auth: which realms need a principal
 * (the --authenticate_* flags), the authenticator (Basic over
 * --credentials / --http_credentials unless the embedder gave its own),
 * and the authorizer (local over --acls unless given; none at all when
 * there are no ACLs, so everything is allowed).
 *
 * How a handler uses it:
 *
 *   - Register the route through mesos__auth_route(): the request is
 *     authenticated for its realm first (401 with the challenge when that
 *     fails; the wrapped handler never runs), the principal is stored on
 *     the request (mesos__http_request_principal), and, when the route
 *     names an action, that action is authorized (403 with a message when
 *     denied) before the handler runs.
 *   - Inside a handler, decide one more thing with mesos__auth_check():
 *         if (!mesos__auth_check(auth, req, MESOS_AUTHZ_VIEW_FLAGS, NULL))
 *           return;  // 403 already answered
 *   - Filter a list (frameworks, tasks, executors of GET_STATE / /state)
 *     with one approver per (principal, action), asked per object:
 *         mesos__auth_view v;
 *         mesos__auth_view_init(&v, auth, mesos__http_request_principal(req));
 *         ... if (mesos__auth_view_task(&v, task_user)) render(task);
 *         mesos__auth_view_free(&v);
 *   - Code off the HTTP path (scheduler ACCEPT, agent registration) asks
 *     mesos__auth_allowed().
 *
 * Authentication (mesos__auth_http, the first step of mesos__auth_route)
 * waits for a late authenticator answer.  Authorization waits too, for a
 * vendor authorizer that answers later (mesos/authz.h), inside the
 * handler pass of a mesos__auth_route route: a decision or approver not
 * answered at once parks the request (the ask reports a denial and
 * mesos__auth_parked() turns true: the caller returns WITHOUT answering or
 * changing anything), and the route's handler runs again on the same
 * request once the answers are in, each earlier question answered from
 * the request's record.  So a handler asks everything it needs before it
 * changes anything.  A client that leaves meanwhile frees the request (the
 * late answers are awaited and dropped); after MESOS__AUTHZ_WAIT_MS (or
 * mesos__auth_set_timeout) the request gets 503.  Outside a route's
 * handler pass (a stream event, a renderer) an answer must come at once:
 * a late one is a denial (logged).  The local authorizer always answers
 * at once and none of this runs for it. */
#ifndef MESOS_AUTHZ_INT_H
#define MESOS_AUTHZ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/server.h"
#include "mesos/authn.h"
#include "mesos/authz.h"
#include "mesos/v1/mesos.pb-c.h"

typedef enum mesos__auth_realm {
  MESOS__REALM_NONE = 0,  /* never authenticated (/health, /version) */
  MESOS__REALM_READONLY,  /* mesos-<daemon>-readonly */
  MESOS__REALM_READWRITE, /* mesos-<daemon>-readwrite (incl. /api/v1) */
  MESOS__REALM_FRAMEWORK, /* mesos-master-scheduler: /api/v1/scheduler */
  MESOS__REALM_AGENT,     /* agents registering with the master */
  MESOS__REALM_EXECUTOR,  /* mesos-agent-executor */
  MESOS__REALM_COUNT
} mesos__auth_realm;

typedef struct mesos__auth_options {
  const char *daemon;        /* "master" or "agent": realm names */
  const char *credentials;   /* credentials file path or NULL */
  const char *acls;          /* ACL JSON, or its path, or NULL */
  bool authenticate[MESOS__REALM_COUNT]; /* which realms need a principal */
  /* Embedder overrides (the auth takes ownership, also on failure);
   * NULL: the built-in ones. */
  mesos_authenticator *authenticator;
  mesos_authorizer *authorizer;
} mesos__auth_options;

typedef struct mesos__auth mesos__auth;

/* Loads the credentials and ACLs.  Errors as mesos_credentials_load and
 * mesos_local_authorizer_new; a realm requiring authentication without a
 * credentials file or authenticator is MESOS_EINVAL (nobody could ever
 * pass). */
mesos_status mesos__auth_new(mesos__auth **out, const mesos__auth_options *opts,
                             mesos_error **err);
void mesos__auth_free(mesos__auth *a);

/* Re-reads credentials and ACLs (SIGHUP).  Each one that fails keeps its
 * old contents in force; the error says which and why. */
mesos_status mesos__auth_reload(mesos__auth *a, mesos_error **err);

bool mesos__auth_required(const mesos__auth *a, mesos__auth_realm realm);
/* Whether any authorization is configured (false: everything allowed). */
bool mesos__auth_has_authorizer(const mesos__auth *a);
/* Whether the authorizer may answer later (a vendor's): only then do the
 * "ask first" steps of the daemons (mesos__auth_parked) matter. */
bool mesos__auth_may_wait(const mesos__auth *a);
/* The realm's name, e.g. "mesos-master-readonly". */
const char *mesos__auth_realm_name(const mesos__auth *a, mesos__auth_realm realm);

/* Authenticates `req` for `realm` and then calls cont(req, ud) (principal
 * stored on the request; NULL when the realm needs none and the request
 * carries no valid credentials).  Otherwise answers 401 + WWW-Authenticate
 * (or 503 when the authenticator failed) and cont never runs.  cont may
 * run before this returns. */
typedef void (*mesos__auth_cont_fn)(mesos__http_request *req, void *ud);
void mesos__auth_http(mesos__auth *a, mesos__http_request *req, mesos__auth_realm realm,
                      mesos__auth_cont_fn cont, void *ud);

/* A realm that also takes "Authorization: Bearer <token>" (the agent's
 * executor tokens on its operator API): fn(ud, req, token, why, cap)
 * returns true when the token is valid, else false with `why` filled in.
 * A valid token lets the request through WITHOUT a principal: the
 * handler must ask the daemon who the bearer is (mesos__auth_is_bearer
 * on the Authorization header, then the daemon's own check) before it
 * authorizes anything.  A bad token gets 401 where the realm requires
 * authentication and is ignored elsewhere (as a bad Basic header is).
 * The realm's 401 challenge then lists both schemes, comma-separated. */
typedef bool (*mesos__auth_bearer_fn)(void *ud, mesos__http_request *req, const char *token,
                                      char *why, size_t cap);
void mesos__auth_set_bearer(mesos__auth *a, mesos__auth_realm realm, mesos__auth_bearer_fn fn,
                            void *ud);
/* Whether an Authorization header value is a Bearer token. */
bool mesos__auth_is_bearer(const char *authorization);

/* Routes method+path (as mesos__http_server_route) to `handler` behind
 * mesos__auth_http(realm) and, if `action` is not 0, authorization of
 * `action` for the request's principal with object `object` (NULL: no
 * object).  `object` is copied.  The route's state lives as long as `a`.
 * Errors as mesos__http_server_route. */
mesos_status mesos__auth_route(mesos__auth *a, mesos__http_server *srv, const char *method,
                               const char *path, int prefix, mesos__auth_realm realm,
                               int32_t action, const char *object,
                               mesos__http_handler handler, void *ud);

/* How long a request may wait for a late authorizer answer (503 after),
 * and how many requests may wait at once (more: denied).  30 s: longer
 * than any sane remote decision, shorter than clients' usual timeouts. */
#define MESOS__AUTHZ_WAIT_MS 30000u
#define MESOS__AUTHZ_WAIT_MAX 4096u

/* The bound on one request's wait (0: MESOS__AUTHZ_WAIT_MS). */
void mesos__auth_set_timeout(mesos__auth *a, uint64_t ms);

/* Replaces the authorizer with a vendor one (taken over on success).
 * MESOS_EBUSY while the current one still owes answers (it could not be
 * freed), MESOS_EINVAL. */
mesos_status mesos__auth_set_authorizer(mesos__auth *a, mesos_authorizer *az,
                                        mesos_error **err);

/* Requests held for a late answer, or gone and awaiting one (tests). */
size_t mesos__auth_waiting(const mesos__auth *a);

/* Whether the handler pass running now is parked: something it asked is
 * not answered yet.  A false from the functions below then means "not
 * decided yet": return without answering or changing anything (the pass
 * is replayed).  Always false with the local authorizer. */
bool mesos__auth_parked(const mesos__auth *a);

/* A replayed pass must not repeat what its first pass did before it
 * parked: decoding the body, counting the call in the metrics.  So a
 * handler keeps what it made for the replay and takes it back then:
 *
 *   Call *c = mesos__auth_take_kept(auth);  // a replay: the first pass's
 *   if (c == NULL) { c = decode(req); count(); }
 *   ... asks, maybe parks ...
 *   if (!mesos__auth_keep_for_replay(auth, c, free_call)) free_call(c);
 *
 * keep_for_replay keeps `v` (freed with free_fn when the request is
 * answered, gone or timed out, unless taken back) only when the pass is
 * parked: false otherwise, the caller still owns it.  take_kept returns
 * it, once, in the replay (NULL in a first pass).  replaying: whether the
 * pass running now is a replay (for counters of work the handler does not
 * keep). */
bool mesos__auth_keep_for_replay(mesos__auth *a, void *v, void (*free_fn)(void *));
void *mesos__auth_take_kept(mesos__auth *a);
bool mesos__auth_replaying(const mesos__auth *a);
/* How many handler passes the last request that waited for the
 * authorizer took, its replays included (tests and benchmarks). */
unsigned mesos__auth_last_passes(const mesos__auth *a);

/* Decision for (principal, action, object value; NULL = none).
 * true: allowed (also when no authorizer is configured). */
bool mesos__auth_allowed(mesos__auth *a, const char *principal, int32_t action,
                         const char *object);

/* The same with the object spelled out: `value` and, for the actions that
 * check two ACL keys (LAUNCH_NESTED_CONTAINER[_SESSION]), `parent_value`
 * (the parent executor's user); either NULL: matched as ANY.  has_object
 * false: the request has no object at all. */
bool mesos__auth_allowed2(mesos__auth *a, const char *principal, int32_t action,
                          const char *value, const char *parent_value, bool has_object);

/* mesos__auth_allowed for the request's principal; when denied, answers
 * 403 "Forbidden: <principal> may not <action> <object>" and returns false
 * (the request is then finished, unless mesos__auth_parked: then nothing
 * was answered). */
bool mesos__auth_check(mesos__auth *a, mesos__http_request *req, int32_t action,
                       const char *object);

/* mesos__auth_check with mesos__auth_allowed2's object. */
bool mesos__auth_check2(mesos__auth *a, mesos__http_request *req, int32_t action,
                        const char *value, const char *parent_value, bool has_object);

/* One approver per (principal, action), NULL = approve everything (no
 * authorizer).  A failed approver denies everything (logged); a late one
 * too, and parks the pass when asked inside one (mesos__auth_parked). */
mesos_authz_approver *mesos__auth_approver(mesos__auth *a, const char *principal,
                                           int32_t action);
/* Whether `ap` approves the object value `value` (NULL: none); a NULL
 * approver approves everything. */
bool mesos__auth_approved(const mesos_authz_approver *ap, const char *value);

/* The three approvers state rendering needs (VIEW_FRAMEWORK, VIEW_TASK,
 * VIEW_EXECUTOR) plus VIEW_ROLE, built once per request. */
typedef struct mesos__auth_view {
  mesos_authz_approver *framework, *task, *executor, *role;
  bool set; /* built (init); cleared by free */
} mesos__auth_view;
void mesos__auth_view_init(mesos__auth_view *v, mesos__auth *a, const char *principal);
static inline bool mesos__auth_view_framework(const mesos__auth_view *v, const char *user) {
  return mesos__auth_approved(v->framework, user);
}
static inline bool mesos__auth_view_task(const mesos__auth_view *v, const char *user) {
  return mesos__auth_approved(v->task, user);
}
static inline bool mesos__auth_view_executor(const mesos__auth_view *v, const char *user) {
  return mesos__auth_approved(v->executor, user);
}
static inline bool mesos__auth_view_role(const mesos__auth_view *v, const char *role) {
  return mesos__auth_approved(v->role, role);
}
void mesos__auth_view_free(mesos__auth_view *v);

/* VIEW_ROLE on role-tagged resources (view_role.c): Mesos hides a
 * Resource when its legacy `role` is not "*" and may not be viewed, when
 * any role along its `reservations` may not be, or when its
 * `allocation_info.role` may not be.  State responses filter thousands of
 * resources naming a few roles, some off the loop thread, so the
 * decisions go through a table: built from a view on the loop, each role
 * asked once there (learn), then read from any thread (sees).  A role
 * never learned is hidden: a response can show less, never more.
 *
 *   mesos__auth_roles *t = mesos__auth_roles_new(view);  // NULL: no ACLs
 *   ... mesos__auth_roles_learn_resource(t, r) for what will be shown ...
 *   mesos__auth_roles_freeze(t);                // the view may go now
 *   ... anywhere: if (mesos__auth_roles_sees_resource(t, r)) show(r);
 *   mesos__auth_roles_free(t);
 *
 * new returns NULL when the view has no VIEW_ROLE approver (no ACLs: the
 * NULL table sees everything) and when out of memory: a caller that has
 * a view with an approver (v->role) must treat NULL as a failure. */
typedef struct mesos__auth_roles mesos__auth_roles;
mesos__auth_roles *mesos__auth_roles_new(const mesos__auth_view *v);
/* Asks VIEW_ROLE of `role` (once); loop thread, before freeze. */
void mesos__auth_roles_learn(mesos__auth_roles *t, const char *role);
/* Learns every role of `r` the rule looks at. */
void mesos__auth_roles_learn_resource(mesos__auth_roles *t, const Mesos__V1__Resource *r);
/* No more learning (the view's approver may be freed after this). */
void mesos__auth_roles_freeze(mesos__auth_roles *t);
bool mesos__auth_roles_sees(const mesos__auth_roles *t, const char *role);
/* Mesos's rule above, over learned roles. */
bool mesos__auth_roles_sees_resource(const mesos__auth_roles *t, const Mesos__V1__Resource *r);
void mesos__auth_roles_free(mesos__auth_roles *t);
/* The same rule asked of the view's approver directly, on the loop (a
 * daemon rendering there: the agent).  An unset view sees everything. */
bool mesos__auth_view_resource(const mesos__auth_view *v, const Mesos__V1__Resource *r);

/* A static approver that approves nothing (freeing it does nothing): what
 * filtering falls back to when an authorizer fails, so a failure never
 * shows more than it should. */
mesos_authz_approver *mesos__authz_deny_all(void);

/* An approver over `ops` and `aud` (borrowed ops; `aud` released by
 * ops->free with the approver).  MESOS_ENOMEM (then nothing is taken). */
mesos_status mesos__authz_approver_wrap(const mesos_authz_approver_ops *ops, void *aud,
                                       mesos_authz_approver **out);

/* The local authorizer's decision, asked of its ACLs directly (also an
 * internal action, acls.h): 1 allowed, 0 denied, -1 when `az` is not the
 * local authorizer or (only_legacy_quota) its ACLs have no Mesos 1.0
 * quota rules. */
int mesos__authz_local_check(mesos_authorizer *az, int32_t action, const char *subject,
                             const char *object, bool only_legacy_quota);
/* Mesos 1.0's remove_quotas (acls.h): whether `principal` may remove the
 * quota `setter` set (NULL: no recorded setter) -- 1 / 0 -- or -1 when the
 * ACLs have no 1.0 quota rules (or a vendor authorizer decides): then
 * UPDATE_QUOTA on the role decides, as for any other quota call. */
int mesos__auth_legacy_remove_quota(mesos__auth *a, const char *principal, const char *setter);

/* Reads a whole file ("/path" or "file:///path") of at most `max` bytes
 * into a new NUL-terminated buffer; warns when others may read it.
 * MESOS_EIO, MESOS_EINVAL (not a regular file), MESOS_ELIMIT, MESOS_ENOMEM. */
mesos_status mesos__authz_read_file(const char *path, size_t max, char **out, size_t *len,
                                    mesos_error **err);

#endif

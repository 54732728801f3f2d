/* The daemons' authentication and authorization step (authz_int.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authz/authz_int.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/list.h"
#include "base/log.h"

typedef struct auth_route {
  struct auth_route *next;
  mesos__auth *auth;
  mesos__auth_realm realm;
  int32_t action;
  char *object;
  mesos__http_handler handler;
  void *ud;
} auth_route;

/* A realm's second scheme: "Bearer" tokens checked by the daemon
 * (the agent's executor tokens on its operator API). */
typedef struct bearer_hook {
  mesos__auth_bearer_fn fn; /* NULL: the realm takes no Bearer tokens */
  void *ud;
} bearer_hook;

struct mesos__auth {
  char *daemon;
  bool authenticate[MESOS__REALM_COUNT];
  bearer_hook bearer[MESOS__REALM_COUNT];
  mesos_authenticator *authn; /* always set (Basic with no credentials at worst) */
  mesos_authorizer *authz;    /* NULL: no authorization */
  char realm_names[MESOS__REALM_COUNT][48];
  auth_route *routes;
};

static const char *const REALM_SUFFIX[MESOS__REALM_COUNT] = {
  [MESOS__REALM_NONE] = "none",        [MESOS__REALM_READONLY] = "readonly",
  [MESOS__REALM_READWRITE] = "readwrite", [MESOS__REALM_FRAMEWORK] = "scheduler",
  [MESOS__REALM_AGENT] = "agent",      [MESOS__REALM_EXECUTOR] = "executor",
};

mesos_status mesos__auth_new(mesos__auth **out, const mesos__auth_options *o,
                             mesos_error **err) {
  mesos__auth *a = MESOS__NEW(mesos__auth);
  mesos_status st = MESOS_OK;
  if (!a || !(a->daemon = mesos__strdup(o->daemon ? o->daemon : "master"))) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto fail;
  }
  for (int r = 0; r < MESOS__REALM_COUNT; r++) {
    a->authenticate[r] = r != MESOS__REALM_NONE && o->authenticate[r];
    snprintf(a->realm_names[r], sizeof(a->realm_names[r]), "mesos-%s-%s", a->daemon,
             REALM_SUFFIX[r]);
  }
  bool any = false;
  for (int r = 0; r < MESOS__REALM_COUNT; r++) any = any || a->authenticate[r];
  if (o->authenticator) {
    a->authn = o->authenticator;
  } else {
    if (any && !o->credentials) {
      st = mesos__err(err, MESOS_EINVAL,
                      "authentication is required but no credentials were given "
                      "(--credentials / --http_credentials)");
      goto fail;
    }
    st = mesos_basic_authenticator_new(&a->authn, o->credentials, err);
    if (st != MESOS_OK) goto fail;
  }
  if (o->authorizer) {
    a->authz = o->authorizer;
  } else if (o->acls) {
    st = mesos_local_authorizer_new(&a->authz, o->acls, err);
    if (st != MESOS_OK) goto fail;
  }
  *out = a;
  return MESOS_OK;
fail:
  if (o->authenticator && (!a || a->authn != o->authenticator))
    mesos_authenticator_free(o->authenticator);
  if (o->authorizer && (!a || a->authz != o->authorizer)) mesos_authorizer_free(o->authorizer);
  mesos__auth_free(a);
  return st;
}

void mesos__auth_free(mesos__auth *a) {
  if (!a) return;
  while (a->routes) {
    auth_route *r = a->routes;
    a->routes = r->next;
    mesos__free(r->object);
    mesos__free(r);
  }
  mesos_authenticator_free(a->authn);
  mesos_authorizer_free(a->authz);
  mesos__free(a->daemon);
  mesos__free(a);
}

mesos_status mesos__auth_reload(mesos__auth *a, mesos_error **err) {
  mesos_error *e1 = NULL, *e2 = NULL;
  mesos_status s1 = mesos_authenticator_reload(a->authn, &e1);
  mesos_status s2 = a->authz ? mesos_authorizer_reload(a->authz, &e2) : MESOS_OK;
  if (s1 == MESOS_OK && s2 == MESOS_OK) return MESOS_OK;
  mesos_status st;
  if (s1 != MESOS_OK && s2 != MESOS_OK)
    st = mesos__err(err, s1, "credentials not reloaded (old ones kept): %s; "
                             "ACLs not reloaded (old ones kept): %s",
                    mesos_error_message(e1), mesos_error_message(e2));
  else if (s1 != MESOS_OK)
    st = mesos__err(err, s1, "credentials not reloaded (old ones kept): %s",
                    mesos_error_message(e1));
  else
    st = mesos__err(err, s2, "ACLs not reloaded (old ones kept): %s", mesos_error_message(e2));
  mesos_error_free(e1);
  mesos_error_free(e2);
  return st;
}

bool mesos__auth_required(const mesos__auth *a, mesos__auth_realm realm) {
  return a && realm > MESOS__REALM_NONE && realm < MESOS__REALM_COUNT && a->authenticate[realm];
}

bool mesos__auth_has_authorizer(const mesos__auth *a) { return a && a->authz; }

const char *mesos__auth_realm_name(const mesos__auth *a, mesos__auth_realm realm) {
  if (realm < 0 || realm >= MESOS__REALM_COUNT) realm = MESOS__REALM_NONE;
  return a->realm_names[realm];
}

/* ------------------------------------------------------------ authentication */

void mesos__auth_set_bearer(mesos__auth *a, mesos__auth_realm realm, mesos__auth_bearer_fn fn,
                            void *ud) {
  if (!a || realm <= MESOS__REALM_NONE || realm >= MESOS__REALM_COUNT) return;
  a->bearer[realm].fn = fn;
  a->bearer[realm].ud = ud;
}

/* The WWW-Authenticate value of a realm: one challenge per scheme it
 * takes, comma-separated in one header (spec authorization.md §1.1). */
static void challenge(const mesos__auth *a, mesos__auth_realm realm, char *out, size_t cap) {
  const char *name = mesos__auth_realm_name(a, realm);
  if (a->bearer[realm].fn)
    snprintf(out, cap, "%s realm=\"%s\",Bearer realm=\"%s\"", mesos_authenticator_scheme(a->authn),
             name, name);
  else
    snprintf(out, cap, "%s realm=\"%s\"", mesos_authenticator_scheme(a->authn), name);
}

static void respond_401(mesos__auth *a, mesos__http_request *req, mesos__auth_realm realm,
                        const char *message);

typedef struct pending_authn {
  mesos__auth *auth;
  mesos__http_request *req; /* NULL once the client went away */
  mesos__auth_realm realm;
  mesos__auth_cont_fn cont;
  void *ud;
  bool returned; /* authenticate() has returned */
  bool answered;
} pending_authn;

static void respond_text(mesos__http_request *req, int code, const mesos__http_headers *h,
                         const char *msg) {
  mesos__http_headers hh;
  mesos__http_headers_init(&hh);
  if (h) (void)mesos__http_headers_copy(&hh, h);
  (void)mesos__http_headers_set(&hh, "Content-Type", "text/plain; charset=utf-8");
  (void)mesos__http_respond(req, code, &hh, msg, strlen(msg));
  mesos__http_headers_free(&hh);
}

static void authn_abort(mesos__http_request *req, void *ud) {
  pending_authn *p = ud;
  (void)req;
  p->req = NULL;
}

static void authn_done(mesos_status st, const char *principal, const char *message, void *ud) {
  pending_authn *p = ud;
  if (p->answered) {
    LOG_ERROR("authenticator answered twice; the second answer is ignored");
    return;
  }
  p->answered = true;
  mesos__http_request *req = p->req;
  if (req) {
    mesos__http_request_on_abort(req, NULL, NULL);
    if (st == MESOS_OK) {
      if (mesos__http_request_set_principal(req, principal) != MESOS_OK) {
        respond_text(req, 503, NULL, "Service Unavailable: out of memory\n");
      } else {
        p->cont(req, p->ud);
      }
    } else if (st == MESOS_EPERM && !mesos__auth_required(p->auth, p->realm)) {
      /* Authentication is off for this realm: bad or absent credentials
       * are ignored, as Mesos does, and the request has no principal. */
      p->cont(req, p->ud);
    } else if (st == MESOS_EPERM) {
      respond_401(p->auth, req, p->realm, message);
    } else {
      LOG_WARN("authenticator failed: %s (%s)", mesos_status_name(st),
               message ? message : "no message");
      respond_text(req, 503, NULL, "Service Unavailable: the authenticator failed\n");
    }
  }
  if (p->returned) mesos__free(p);
}

static void respond_401(mesos__auth *a, mesos__http_request *req, mesos__auth_realm realm,
                        const char *message) {
  LOG_INFO("%s %s from %s: not authenticated (%s)", mesos__http_request_method(req),
           mesos__http_request_path(req), mesos__http_request_peer(req),
           message ? message : "no reason given");
  char chal[256];
  challenge(a, realm, chal, sizeof chal);
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  (void)mesos__http_headers_set(&h, "WWW-Authenticate", chal);
  char body[512];
  snprintf(body, sizeof(body), "Unauthorized: %s\n", message ? message : "authentication failed");
  respond_text(req, 401, &h, body);
  mesos__http_headers_free(&h);
}

bool mesos__auth_is_bearer(const char *authorization) {
  return authorization && strncasecmp(authorization, "Bearer ", 7) == 0;
}

void mesos__auth_http(mesos__auth *a, mesos__http_request *req, mesos__auth_realm realm,
                      mesos__auth_cont_fn cont, void *ud) {
  if (realm == MESOS__REALM_NONE) {
    cont(req, ud);
    return;
  }
  const char *authz = mesos__http_request_header(req, "Authorization");
  if (!authz && !mesos__auth_required(a, realm)) {
    cont(req, ud);
    return;
  }
  if (a->bearer[realm].fn && mesos__auth_is_bearer(authz)) {
    /* The daemon's own token check; the request goes on without a
     * principal (the handler asks the daemon who the bearer is).  A bad
     * token on a realm that needs no authentication is ignored, as a bad
     * Basic header is. */
    char why[256] = "";
    if (a->bearer[realm].fn(a->bearer[realm].ud, req, authz + 7, why, sizeof why) ||
        !mesos__auth_required(a, realm))
      cont(req, ud);
    else
      respond_401(a, req, realm, why[0] ? why : "the token does not verify");
    return;
  }
  pending_authn *p = MESOS__NEW(pending_authn);
  if (!p) {
    respond_text(req, 503, NULL, "Service Unavailable: out of memory\n");
    return;
  }
  p->auth = a;
  p->req = req;
  p->realm = realm;
  p->cont = cont;
  p->ud = ud;
  mesos__http_request_on_abort(req, authn_abort, p);
  mesos_authn_request ar = MESOS_AUTHN_REQUEST_INIT;
  ar.realm = mesos__auth_realm_name(a, realm);
  ar.method = mesos__http_request_method(req);
  ar.path = mesos__http_request_path(req);
  ar.authorization = authz;
  ar.peer = mesos__http_request_peer(req);
  (void)mesos_authenticator_authenticate(a->authn, &ar, authn_done, p);
  p->returned = true;
  /* Answered inside the call: free now.  Otherwise authn_done frees it,
   * and the abort callback keeps it from touching a dead request. */
  if (p->answered) mesos__free(p);
}

/* ------------------------------------------------------------ authorization */

typedef struct sync_answer {
  bool answered, allowed, abandoned;
} sync_answer;

static void sync_done(mesos_status st, int allowed, void *ud) {
  sync_answer *s = ud;
  if (s->abandoned) {
    mesos__free(s);
    return;
  }
  s->answered = true;
  s->allowed = st == MESOS_OK && allowed;
}

bool mesos__auth_allowed(mesos__auth *a, const char *principal, int32_t action,
                         const char *object) {
  return mesos__auth_allowed2(a, principal, action, object, object, object != NULL);
}

bool mesos__auth_allowed2(mesos__auth *a, const char *principal, int32_t action,
                          const char *value, const char *parent_value, bool has_object) {
  if (!a || !a->authz) return true;
  sync_answer *s = MESOS__NEW(sync_answer);
  if (!s) return false;
  mesos_authz_object obj = MESOS_AUTHZ_OBJECT_INIT;
  obj.value = value;
  obj.parent_value = parent_value;
  mesos_authz_request r = MESOS_AUTHZ_REQUEST_INIT;
  r.action = action;
  r.subject = principal;
  r.object = has_object ? &obj : NULL;
  if (mesos_authorizer_authorized(a->authz, &r, sync_done, s) != MESOS_OK) {
    mesos__free(s);
    return false;
  }
  if (!s->answered) {
    LOG_WARN("authorizer did not answer %s at once; denied",
             mesos_authz_action_name(action));
    s->abandoned = true;
    return false;
  }
  bool ok = s->allowed;
  mesos__free(s);
  return ok;
}

bool mesos__auth_check(mesos__auth *a, mesos__http_request *req, int32_t action,
                       const char *object) {
  return mesos__auth_check2(a, req, action, object, object, object != NULL);
}

bool mesos__auth_check2(mesos__auth *a, mesos__http_request *req, int32_t action,
                        const char *value, const char *parent_value, bool has_object) {
  const char *p = mesos__http_request_principal(req);
  if (mesos__auth_allowed2(a, p, action, value, parent_value, has_object)) return true;
  const char *object = value;
  const char *an = mesos_authz_action_name(action);
  LOG_INFO("%s %s: %s%s%s denied %s%s%s", mesos__http_request_method(req),
           mesos__http_request_path(req), p ? "principal '" : "", p ? p : "anonymous request",
           p ? "'" : "", an ? an : "?", object ? " on " : "", object ? object : "");
  char body[640];
  snprintf(body, sizeof(body), "Forbidden: %s%.200s%s is not authorized to %s%s%.200s%s\n",
           p ? "principal '" : "", p ? p : "an unauthenticated request", p ? "'" : "",
           an ? an : "do this", object ? " on '" : "", object ? object : "",
           object ? "'" : "");
  respond_text(req, 403, NULL, body);
  return false;
}

/* ------------------------------------------------------------ routes */

static void route_authenticated(mesos__http_request *req, void *ud) {
  auth_route *r = ud;
  if (r->action && !mesos__auth_check(r->auth, req, r->action, r->object)) return;
  r->handler(req, r->ud);
}

static void route_entry(mesos__http_request *req, void *ud) {
  auth_route *r = ud;
  mesos__auth_http(r->auth, req, r->realm, route_authenticated, r);
}

mesos_status mesos__auth_route(mesos__auth *a, mesos__http_server *srv, const char *method,
                               const char *path, int prefix, mesos__auth_realm realm,
                               int32_t action, const char *object,
                               mesos__http_handler handler, void *ud) {
  auth_route *r = MESOS__NEW(auth_route);
  if (!r || (object && !(r->object = mesos__strdup(object)))) {
    mesos__free(r);
    return MESOS_ENOMEM;
  }
  r->auth = a;
  r->realm = realm;
  r->action = action;
  r->handler = handler;
  r->ud = ud;
  mesos_status st = mesos__http_server_route(srv, method, path, prefix, route_entry, r);
  if (st != MESOS_OK) {
    mesos__free(r->object);
    mesos__free(r);
    return st;
  }
  r->next = a->routes;
  a->routes = r;
  return MESOS_OK;
}

/* ------------------------------------------------------------ filtering */

typedef struct approver_box {
  bool answered, abandoned;
  mesos_authz_approver *ap;
} approver_box;

static void approver_got(mesos_status st, mesos_authz_approver *ap, void *ud) {
  approver_box *b = ud;
  if (b->abandoned) {
    mesos_authz_approver_free(ap);
    mesos__free(b);
    return;
  }
  b->answered = true;
  b->ap = st == MESOS_OK ? ap : NULL;
}

mesos_authz_approver *mesos__auth_approver(mesos__auth *a, const char *principal,
                                           int32_t action) {
  if (!a || !a->authz) return NULL;
  approver_box *b = MESOS__NEW(approver_box);
  mesos_authz_approver *ap = NULL;
  if (b && mesos_authorizer_approver(a->authz, principal, action, approver_got, b) == MESOS_OK) {
    if (b->answered) {
      ap = b->ap;
      mesos__free(b);
    } else {
      b->abandoned = true;
    }
  } else {
    mesos__free(b);
  }
  if (!ap) {
    LOG_WARN("no approver for %s; everything is filtered out", mesos_authz_action_name(action));
    ap = mesos__authz_deny_all();
  }
  return ap;
}

bool mesos__auth_approved(const mesos_authz_approver *ap, const char *value) {
  if (!ap) return true;
  mesos_authz_object obj = MESOS_AUTHZ_OBJECT_INIT;
  obj.value = value;
  obj.parent_value = value;
  return mesos_authz_approver_approved(ap, value ? &obj : NULL);
}

void mesos__auth_view_init(mesos__auth_view *v, mesos__auth *a, const char *principal) {
  v->framework = mesos__auth_approver(a, principal, MESOS_AUTHZ_VIEW_FRAMEWORK);
  v->task = mesos__auth_approver(a, principal, MESOS_AUTHZ_VIEW_TASK);
  v->executor = mesos__auth_approver(a, principal, MESOS_AUTHZ_VIEW_EXECUTOR);
  v->role = mesos__auth_approver(a, principal, MESOS_AUTHZ_VIEW_ROLE);
}

void mesos__auth_view_free(mesos__auth_view *v) {
  mesos_authz_approver_free(v->framework);
  mesos_authz_approver_free(v->task);
  mesos_authz_approver_free(v->executor);
  mesos_authz_approver_free(v->role);
  v->framework = v->task = v->executor = v->role = NULL;
}

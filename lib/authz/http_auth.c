/* The daemons' authentication and authorization step (authz_int.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authz/authz_int.h"
#include "authz/acls.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/list.h"
#include "base/log.h"
#include "mesos/loop.h"

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
  /* Asynchronous authorizer answers (see "waiting for answers" below):
   * false for the built-in local authorizer, which always answers inside
   * the call, so none of that machinery runs for it. */
  bool authz_may_wait;
  struct dispatch *cur;   /* the handler pass running now (innermost) */
  mesos__list parked;     /* parked_req.node: requests waiting or finishing */
  size_t nparked;
  unsigned last_passes; /* handler passes of the last request that waited */
  uint64_t timeout_ms;    /* the bound on one request's wait */
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
  mesos__list_init(&a->parked);
  a->timeout_ms = MESOS__AUTHZ_WAIT_MS;
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
    a->authz_may_wait = true;
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

static void parked_all_detach(mesos__auth *a);
static void parked_all_free(mesos__auth *a);

void mesos__auth_free(mesos__auth *a) {
  if (!a) return;
  /* The authorizer first: a vendor's free may still call the answers it
   * drops (with a failure); the records they point at are alive and
   * marked finished, so nothing is replayed.  Then the records. */
  parked_all_detach(a);
  mesos_authorizer_free(a->authz);
  a->authz = NULL;
  parked_all_free(a);
  while (a->routes) {
    auth_route *r = a->routes;
    a->routes = r->next;
    mesos__free(r->object);
    mesos__free(r);
  }
  mesos_authenticator_free(a->authn);
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

int mesos__auth_legacy_remove_quota(mesos__auth *a, const char *principal, const char *setter) {
  if (!a || !a->authz) return -1;
  return mesos__authz_local_check(a->authz, MESOS__AUTHZ_REMOVE_QUOTA_LEGACY, principal, setter,
                                  true);
}

bool mesos__auth_may_wait(const mesos__auth *a) { return a && a->authz && a->authz_may_wait; }

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

/* ------------------------------------------------------------ waiting for answers */

/* A vendor authorizer may answer later (mesos/authz.h).  A handler asks
 * synchronously, so a request whose answer has not come yet is parked and
 * its handler pass replayed once every answer it asked for is in:
 *
 *  - every route of mesos__auth_route runs its handler inside a "dispatch"
 *    (a->cur).  A decision or approver asked inside one and not answered
 *    at once makes the pass "parked": the ask reports a denial, the
 *    helpers (mesos__auth_check, the daemons' check functions) see
 *    mesos__auth_parked() and return without answering or changing
 *    anything, and the handler returns;
 *  - the request is then held (abort callback: a client that leaves
 *    frees it, the late answers are still awaited and dropped) with a
 *    bound (a->timeout_ms: 503 when it passes);
 *  - when the last outstanding answer arrives, the route's handler runs
 *    again on a fresh loop turn, on the same request, and every decision
 *    asked before is answered from the record: the pass goes through, or
 *    asks something new and parks again.
 *
 * Handlers therefore ask everything they need before they change
 * anything (the daemons' call sites do: see the "ask first" helpers).
 * The local authorizer always answers inside the call: none of this runs
 * for it (a->authz_may_wait is false). */

typedef struct decision {
  struct decision *next;
  struct parked_req *owner;
  int32_t action;
  bool is_approver, has_object, answered, allowed;
  char *subject, *value, *parent;
  mesos_authz_approver *ap; /* is_approver and answered: the approver (NULL: failed) */
  struct shared_ap *shared; /* once shared: holds `ap` (one reference is the record's) */
} decision;

static void shared_release(void *aud);

enum { P_RUNNING, P_WAITING, P_DONE };

typedef struct parked_req {
  mesos__list node; /* a->parked */
  mesos__auth *auth;
  mesos__http_request *req; /* NULL once P_DONE */
  auth_route *route;
  int state;
  decision *decisions;
  unsigned outstanding; /* answers asked for and not given yet */
  bool pending_now;     /* this pass asked something not answered yet */
  bool timeout_started; /* the bound runs from the first park */
  mesos_timer *timeout;
  mesos_timer *resume;
  /* What a parked pass kept for the replay (mesos__auth_keep_for_replay):
   * its decoded call, so the replay neither decodes nor counts again. */
  void *kept;
  void (*kept_free)(void *);
  unsigned passes; /* handler passes run (tests, the bench) */
} parked_req;

typedef struct dispatch {
  struct dispatch *prev;
  mesos__http_request *req;
  auth_route *route;
  parked_req *p; /* created by the first decision asked */
  bool replay;   /* a replayed pass (an earlier one parked) */
} dispatch;

static void decision_free(decision *d) {
  mesos_authz_approver_free(d->ap);
  if (d->shared) shared_release(d->shared);
  mesos__free(d->subject);
  mesos__free(d->value);
  mesos__free(d->parent);
  mesos__free(d);
}

static void parked_free(parked_req *p) {
  mesos__list_remove(&p->node);
  p->auth->nparked--;
  while (p->decisions) {
    decision *d = p->decisions;
    p->decisions = d->next;
    decision_free(d);
  }
  mesos_timer_free(p->timeout);
  mesos_timer_free(p->resume);
  if (p->kept && p->kept_free) p->kept_free(p->kept);
  mesos__free(p);
}

/* The request is answered, gone, or its pass went through: the record
 * only waits for the answers still owed (then it is freed). */
static void parked_done(parked_req *p) {
  p->state = P_DONE;
  p->req = NULL;
  if (p->timeout) mesos_timer_stop(p->timeout);
  if (p->resume) mesos_timer_stop(p->resume);
  if (p->outstanding == 0) parked_free(p);
}

static void parked_abort(mesos__http_request *req, void *ud) {
  parked_req *p = ud;
  (void)req;
  LOG_INFO("a request waiting for the authorizer went away");
  parked_done(p);
}

static void parked_timeout(mesos_timer *t, void *ud) {
  parked_req *p = ud;
  (void)t;
  if (p->state != P_WAITING || !p->req) return;
  mesos__http_request *req = p->req;
  mesos__http_request_on_abort(req, NULL, NULL);
  LOG_WARN("%s %s from %s: the authorizer did not answer within %llu ms",
           mesos__http_request_method(req), mesos__http_request_path(req),
           mesos__http_request_peer(req), (unsigned long long)p->auth->timeout_ms);
  char body[160];
  snprintf(body, sizeof body,
           "Service Unavailable: the authorizer did not answer within %llu ms\n",
           (unsigned long long)p->auth->timeout_ms);
  parked_done(p);
  respond_text(req, 503, NULL, body);
}

static void route_run(auth_route *r, mesos__http_request *req, parked_req *p);

static void parked_resume(mesos_timer *t, void *ud) {
  parked_req *p = ud;
  (void)t;
  if (p->state != P_WAITING || !p->req || p->outstanding) return;
  mesos__http_request_on_abort(p->req, NULL, NULL);
  p->state = P_RUNNING;
  route_run(p->route, p->req, p);
}

static void decision_answered(decision *d) {
  parked_req *p = d->owner;
  d->answered = true;
  p->outstanding--;
  if (p->outstanding) return;
  if (p->state == P_DONE) {
    parked_free(p);
  } else if (p->state == P_WAITING && p->resume) {
    /* A fresh loop turn: not inside the vendor's callback, which may hold
     * its own state (and the replay asks it again). */
    (void)mesos_timer_start(p->resume, 0, 0);
  }
}

static void decision_done(mesos_status st, int allowed, void *ud) {
  decision *d = ud;
  if (d->answered) {
    LOG_ERROR("authorizer answered twice; the second answer is ignored");
    return;
  }
  d->allowed = st == MESOS_OK && allowed;
  if (st != MESOS_OK)
    LOG_WARN("authorizer failed on %s: %s; denied", mesos_authz_action_name(d->action),
             mesos_status_name(st));
  decision_answered(d);
}

static void decision_approver(mesos_status st, mesos_authz_approver *ap, void *ud) {
  decision *d = ud;
  if (d->answered) {
    mesos_authz_approver_free(ap);
    return;
  }
  if (st != MESOS_OK)
    LOG_WARN("authorizer failed to give an approver for %s: %s; everything is filtered out",
             mesos_authz_action_name(d->action), mesos_status_name(st));
  d->ap = st == MESOS_OK ? ap : NULL;
  if (st == MESOS_OK && !ap) d->ap = NULL;
  decision_answered(d);
}

static bool str_eq(const char *x, const char *y) {
  return x == y || (x && y && strcmp(x, y) == 0);
}

/* The current pass's record, created on first use; NULL outside a pass,
 * with an authorizer that never waits, or when too many requests wait. */
static parked_req *current_record(mesos__auth *a) {
  dispatch *d = a->cur;
  if (!a->authz_may_wait || !d) return NULL;
  if (d->p) return d->p;
  if (a->nparked >= MESOS__AUTHZ_WAIT_MAX) {
    LOG_WARN("%zu requests wait for the authorizer already: this one is denied", a->nparked);
    return NULL;
  }
  parked_req *p = MESOS__NEW(parked_req);
  if (!p) return NULL;
  p->auth = a;
  p->req = d->req;
  p->route = d->route;
  p->state = P_RUNNING;
  mesos__list_insert_tail(&a->parked, &p->node);
  a->nparked++;
  d->p = p;
  return p;
}

static decision *decision_find(parked_req *p, bool is_approver, const char *subject,
                               int32_t action, const char *value, const char *parent,
                               bool has_object) {
  for (decision *d = p->decisions; d; d = d->next)
    if (d->is_approver == is_approver && d->action == action && str_eq(d->subject, subject) &&
        (is_approver || (d->has_object == has_object && str_eq(d->value, value) &&
                         str_eq(d->parent, parent))))
      return d;
  return NULL;
}

static decision *decision_new(parked_req *p, bool is_approver, const char *subject,
                              int32_t action, const char *value, const char *parent,
                              bool has_object) {
  decision *d = MESOS__NEW(decision);
  if (!d) return NULL;
  d->owner = p;
  d->is_approver = is_approver;
  d->action = action;
  d->has_object = has_object;
  if ((subject && !(d->subject = mesos__strdup(subject))) ||
      (value && !(d->value = mesos__strdup(value))) ||
      (parent && !(d->parent = mesos__strdup(parent)))) {
    decision_free(d);
    return NULL;
  }
  d->next = p->decisions;
  p->decisions = d;
  p->outstanding++;
  return d;
}

static void decision_unlink(parked_req *p, decision *d) {
  for (decision **pp = &p->decisions; *pp; pp = &(*pp)->next)
    if (*pp == d) {
      *pp = d->next;
      return;
    }
}

size_t mesos__auth_waiting(const mesos__auth *a) { return a ? a->nparked : 0; }

bool mesos__auth_parked(const mesos__auth *a) {
  return a && a->cur && a->cur->p && a->cur->p->pending_now;
}

bool mesos__auth_replaying(const mesos__auth *a) { return a && a->cur && a->cur->replay; }

bool mesos__auth_keep_for_replay(mesos__auth *a, void *v, void (*free_fn)(void *)) {
  if (!mesos__auth_parked(a)) return false;
  parked_req *p = a->cur->p;
  if (p->kept && p->kept != v && p->kept_free) p->kept_free(p->kept);
  p->kept = v;
  p->kept_free = free_fn;
  return true;
}

void *mesos__auth_take_kept(mesos__auth *a) {
  if (!a || !a->cur || !a->cur->replay || !a->cur->p) return NULL;
  void *v = a->cur->p->kept;
  a->cur->p->kept = NULL;
  return v;
}

unsigned mesos__auth_last_passes(const mesos__auth *a) { return a ? a->last_passes : 0; }

void mesos__auth_set_timeout(mesos__auth *a, uint64_t ms) {
  if (a) a->timeout_ms = ms ? ms : MESOS__AUTHZ_WAIT_MS;
}

mesos_status mesos__auth_set_authorizer(mesos__auth *a, mesos_authorizer *az,
                                        mesos_error **err) {
  if (!a || !az) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  mesos__list *it;
  for (it = a->parked.next; it != &a->parked; it = it->next)
    if (mesos__container_of(it, parked_req, node)->outstanding)
      return mesos__err(err, MESOS_EBUSY,
                        "the current authorizer still owes answers; try again later");
  mesos_authorizer_free(a->authz);
  a->authz = az;
  a->authz_may_wait = true;
  return MESOS_OK;
}

static void parked_all_detach(mesos__auth *a) {
  mesos__list *it;
  for (it = a->parked.next; it != &a->parked; it = it->next) {
    parked_req *p = mesos__container_of(it, parked_req, node);
    if (p->req) mesos__http_request_on_abort(p->req, NULL, NULL);
    p->req = NULL;
    p->state = P_DONE;
    p->outstanding++; /* keeps it off parked_free while the authorizer goes */
  }
}

static void parked_all_free(mesos__auth *a) {
  while (!mesos__list_empty(&a->parked))
    parked_free(mesos__container_of(a->parked.next, parked_req, node));
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

/* Outside a handler pass (or with an authorizer that never waits): the
 * answer must come inside the call; a late one is a denial. */
static bool allowed_now(mesos__auth *a, const mesos_authz_request *r) {
  sync_answer *s = MESOS__NEW(sync_answer);
  if (!s) return false;
  if (mesos_authorizer_authorized(a->authz, r, sync_done, s) != MESOS_OK) {
    mesos__free(s);
    return false;
  }
  if (!s->answered) {
    LOG_WARN("authorizer did not answer %s at once outside a request; denied",
             mesos_authz_action_name(r->action));
    s->abandoned = true;
    return false;
  }
  bool ok = s->allowed;
  mesos__free(s);
  return ok;
}

bool mesos__auth_allowed2(mesos__auth *a, const char *principal, int32_t action,
                          const char *value, const char *parent_value, bool has_object) {
  if (!a || !a->authz) return true;
  mesos_authz_object obj = MESOS_AUTHZ_OBJECT_INIT;
  obj.value = value;
  obj.parent_value = parent_value;
  mesos_authz_request r = MESOS_AUTHZ_REQUEST_INIT;
  r.action = action;
  r.subject = principal;
  r.object = has_object ? &obj : NULL;
  parked_req *p = current_record(a);
  if (!p) return allowed_now(a, &r);
  decision *d = decision_find(p, false, principal, action, value, parent_value, has_object);
  if (!d) {
    d = decision_new(p, false, principal, action, value, parent_value, has_object);
    if (!d) return false;
    if (mesos_authorizer_authorized(a->authz, &r, decision_done, d) != MESOS_OK) {
      decision_unlink(p, d);
      p->outstanding--;
      decision_free(d);
      return false;
    }
  }
  if (!d->answered) {
    p->pending_now = true;
    return false;
  }
  return d->allowed;
}

bool mesos__auth_check(mesos__auth *a, mesos__http_request *req, int32_t action,
                       const char *object) {
  return mesos__auth_check2(a, req, action, object, object, object != NULL);
}

bool mesos__auth_check2(mesos__auth *a, mesos__http_request *req, int32_t action,
                        const char *value, const char *parent_value, bool has_object) {
  const char *p = mesos__http_request_principal(req);
  if (mesos__auth_allowed2(a, p, action, value, parent_value, has_object)) return true;
  if (mesos__auth_parked(a)) return false; /* answered when the pass is replayed */
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

/* One handler pass of route `r` on `req`, first or replayed (`p`: the
 * record of the earlier passes). */
static void route_run(auth_route *r, mesos__http_request *req, parked_req *p) {
  mesos__auth *a = r->auth;
  dispatch d = {a->cur, req, r, p, p != NULL};
  if (p) p->pending_now = false;
  a->cur = &d;
  if (!r->action || mesos__auth_check(a, req, r->action, r->object)) r->handler(req, r->ud);
  a->cur = d.prev;
  p = d.p;
  if (!p) return;
  p->passes++;
  if (!p->pending_now) {
    a->last_passes = p->passes;
    parked_done(p); /* answered (or handed on) by the handler */
    return;
  }
  /* Parked: the handler returned without answering. */
  p->state = P_WAITING;
  mesos_loop *loop = mesos__http_server_loop(mesos__http_request_server(req));
  if ((!p->timeout && mesos_timer_new(&p->timeout, loop, parked_timeout, p, NULL) != MESOS_OK) ||
      (!p->resume && mesos_timer_new(&p->resume, loop, parked_resume, p, NULL) != MESOS_OK)) {
    parked_done(p);
    respond_text(req, 503, NULL, "Service Unavailable: out of memory\n");
    return;
  }
  mesos__http_request_on_abort(req, parked_abort, p);
  if (!p->timeout_started) (void)mesos_timer_start(p->timeout, a->timeout_ms, 0);
  p->timeout_started = true;
  if (p->outstanding == 0) (void)mesos_timer_start(p->resume, 0, 0);
}

static void route_authenticated(mesos__http_request *req, void *ud) {
  route_run(ud, req, NULL);
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

/* A share of a record's approver: the inner one is freed with the last
 * share (the record holds one).  Loop thread only. */
typedef struct shared_ap {
  mesos_authz_approver *inner;
  size_t refs;
} shared_ap;

static int shared_approved(void *aud, const mesos_authz_object *object) {
  shared_ap *sh = aud;
  return mesos_authz_approver_approved(sh->inner, object);
}

static void shared_release(void *aud) {
  shared_ap *sh = aud;
  if (--sh->refs) return;
  mesos_authz_approver_free(sh->inner);
  mesos__free(sh);
}

static const mesos_authz_approver_ops SHARED_OPS = {
  MESOS_AUTHZ_APPROVER_OPS_VERSION, shared_approved, shared_release,
};

static mesos_authz_approver *shared_approver(decision *d) {
  if (!d->shared) {
    if (!(d->shared = MESOS__NEW(shared_ap))) return NULL;
    d->shared->inner = d->ap;
    d->shared->refs = 1; /* the record's */
    d->ap = NULL;
  }
  mesos_authz_approver *ap = NULL;
  if (mesos__authz_approver_wrap(&SHARED_OPS, d->shared, &ap) != MESOS_OK) return NULL;
  d->shared->refs++;
  return ap;
}

/* Outside a handler pass: the approver must come inside the call. */
static mesos_authz_approver *approver_now(mesos__auth *a, const char *principal,
                                          int32_t action) {
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
  return ap;
}

mesos_authz_approver *mesos__auth_approver(mesos__auth *a, const char *principal,
                                           int32_t action) {
  if (!a || !a->authz) return NULL;
  mesos_authz_approver *ap = NULL;
  parked_req *p = current_record(a);
  if (!p) {
    ap = approver_now(a, principal, action);
  } else {
    decision *d = decision_find(p, true, principal, action, NULL, NULL, false);
    if (!d && (d = decision_new(p, true, principal, action, NULL, NULL, false)) &&
        mesos_authorizer_approver(a->authz, principal, action, decision_approver, d) !=
            MESOS_OK) {
      decision_unlink(p, d);
      p->outstanding--;
      decision_free(d);
      d = NULL;
    }
    if (d && !d->answered) {
      p->pending_now = true;
      return mesos__authz_deny_all(); /* the pass is parked: nothing is shown */
    }
    /* A share of the record's approver: every ask in every pass gets one
     * (a pass may ask twice: operator SUBSCRIBE's events and its
     * snapshot), the answer is not asked for again. */
    if (d && (d->ap || d->shared)) ap = shared_approver(d);
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
  v->set = true;
}

void mesos__auth_view_free(mesos__auth_view *v) {
  mesos_authz_approver_free(v->framework);
  mesos_authz_approver_free(v->task);
  mesos_authz_approver_free(v->executor);
  mesos_authz_approver_free(v->role);
  v->framework = v->task = v->executor = v->role = NULL;
  v->set = false;
}

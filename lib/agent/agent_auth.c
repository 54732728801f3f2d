/* The agent's authentication and authorization (agent_auth.h). */
#include "agent/agent_auth.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include <mbedtls/platform_util.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "mesos/v1/mesos.pb-c.h"

/* A credential file is one JSON object or one line; a few KiB at most. */
#define CREDENTIAL_MAX ((size_t)64 << 10)

/* Reads the agent's own credential: the JSON `Credential` message, or the
 * Mesos 1.0 text form (one "principal secret" line, the first of a
 * credentials list also accepted).  Builds the Basic header value. */
static mesos_status load_credential(const char *path, char **header, mesos_error **err) {
  char *text = NULL;
  size_t len = 0;
  mesos_status st = mesos__authz_read_file(path, CREDENTIAL_MAX, &text, &len, err);
  if (st != MESOS_OK) return st;
  size_t i = 0;
  while (i < len && strchr(" \t\r\n", text[i])) i++;
  if (i < len && text[i] == '{') {
    mesos__json_limits lim = {4, CREDENTIAL_MAX, (size_t)1 << 20};
    ProtobufCMessage *m = NULL;
    mesos_error *e = NULL;
    st = mesos__json_decode(&mesos__v1__credential__descriptor, text, len, &lim, &m, &e);
    if (st != MESOS_OK) {
      st = mesos__err_wrap(err, st, e, "--credential %s: %s", path, mesos_error_message(e));
    } else {
      const Mesos__V1__Credential *c = (const Mesos__V1__Credential *)m;
      st = mesos_basic_auth_encode(c->principal, c->secret ? c->secret : "", header, err);
      mesos__pb_free(m);
    }
  } else {
    /* One credential in the text form: exactly one non-empty line. */
    mesos_credentials *cs = NULL;
    mesos_error *e = NULL;
    st = mesos_credentials_parse(&cs, text, len, &e);
    if (st != MESOS_OK) {
      st = mesos__err_wrap(err, st, e, "--credential %s: %s", path, mesos_error_message(e));
    } else {
      size_t n = mesos_credentials_count(cs);
      mesos_credentials_free(cs);
      char *p = NULL, *s = NULL;
      const char *line = text + i;
      size_t ll = strcspn(line, "\r\n");
      const char *sp = memchr(line, ' ', ll);
      if (n != 1 || !sp) {
        st = mesos__err(err, MESOS_EINVAL, "--credential %s: expected one credential", path);
      } else if (!(p = mesos__strndup(line, (size_t)(sp - line))) ||
                 !(s = mesos__strndup(sp + 1 + strspn(sp + 1, " \t"),
                                      ll - (size_t)(sp + 1 - line) - strspn(sp + 1, " \t")))) {
        st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      } else {
        /* Trailing blanks are not part of the secret. */
        size_t sl = strlen(s);
        while (sl && (s[sl - 1] == ' ' || s[sl - 1] == '\t')) s[--sl] = '\0';
        st = mesos_basic_auth_encode(p, s, header, err);
      }
      if (s) mbedtls_platform_zeroize(s, strlen(s));
      mesos__free(p);
      mesos__free(s);
    }
  }
  mbedtls_platform_zeroize(text, len);
  mesos__free(text);
  return st;
}

/* ------------------------------------------------------------ executor tokens */

struct mesos__agent_exec_auth {
  uint8_t *key; /* the --jwt_secret_key file's bytes */
  size_t keylen;
  /* The key before the last reload that changed it: tokens handed to
   * executors started before the rotation keep verifying (they cannot be
   * given new ones), until the next rotation retires it.  NULL: none. */
  uint8_t *old_key;
  size_t old_keylen;
  char *path;    /* the flag's value, re-read on SIGHUP */
  bool required; /* --authenticate_http_executors */
};

static void free_key(uint8_t *key, size_t len) {
  if (key == NULL) return;
  mbedtls_platform_zeroize(key, len);
  mesos__free(key);
}

/* Reads a key file: its bytes as they are (non-empty). */
static mesos_status read_key(const char *path, uint8_t **key, size_t *len, mesos_error **err) {
  char *text = NULL;
  mesos_error *e = NULL;
  mesos_status st = mesos__authz_read_file(path, MESOS__JWT_MAX_KEY, &text, len, &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st, e, "--jwt_secret_key %s: %s", path, mesos_error_message(e));
  if (*len == 0) {
    mesos__free(text);
    return mesos__err(err, MESOS_EINVAL, "--jwt_secret_key %s: the key file is empty", path);
  }
  *key = (uint8_t *)text;
  return MESOS_OK;
}

/* Mesos signs executor tokens with the key file's bytes as they are (a
 * trailing newline is part of the key); so do we, so that one key file
 * serves both. */
static mesos_status exec_auth_init(mesos_agent *a, mesos_error **err) {
  const char *path = mesos__flags_get(a->flags, "jwt_secret_key");
  bool required = mesos__flags_bool(a->flags, "authenticate_http_executors");
  if (path && !*path) path = NULL;
  if (!path)
    return required ? mesos__err(err, MESOS_EINVAL,
                                 "--authenticate_http_executors needs --jwt_secret_key")
                    : MESOS_OK;
  uint8_t *key = NULL;
  size_t len = 0;
  mesos_status st = read_key(path, &key, &len, err);
  if (st != MESOS_OK) return st;
  struct mesos__agent_exec_auth *x = MESOS__NEW(struct mesos__agent_exec_auth);
  if (x == NULL || (x->path = mesos__strdup(path)) == NULL) {
    free_key(key, len);
    mesos__free(x);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  x->key = key;
  x->keylen = len;
  x->required = required;
  a->exec_auth = x;
  return MESOS_OK;
}

/* SIGHUP: re-reads the key file.  A missing, unreadable or empty file
 * keeps the key in force (the error says why); a changed key signs every
 * later token and the one it replaces still verifies (see old_key). */
static mesos_status exec_auth_reload(mesos_agent *a, mesos_error **err) {
  struct mesos__agent_exec_auth *x = a->exec_auth;
  if (x == NULL) return MESOS_OK;
  uint8_t *key = NULL;
  size_t len = 0;
  mesos_error *e = NULL;
  mesos_status st = read_key(x->path, &key, &len, &e);
  if (st != MESOS_OK)
    return mesos__err_wrap(err, st, e, "executor token key not reloaded (old one kept): %s",
                           mesos_error_message(e));
  if (len == x->keylen && memcmp(key, x->key, len) == 0) {
    free_key(key, len); /* unchanged: the previous key stays as it was */
    return MESOS_OK;
  }
  free_key(x->old_key, x->old_keylen);
  x->old_key = x->key;
  x->old_keylen = x->keylen;
  x->key = key;
  x->keylen = len;
  LOG_INFO("Executor token key reloaded from %s; tokens signed with the previous key stay valid "
           "until the next change",
           x->path);
  return MESOS_OK;
}

/* Verifies a token against the key, then the previous one. */
static mesos_status exec_verify(const struct mesos__agent_exec_auth *x, const char *tok,
                                size_t len, mesos__jwt_claims *claims, mesos_error **err) {
  int64_t now = (int64_t)time(NULL);
  mesos_error *e = NULL;
  mesos_status st = mesos__jwt_verify(x->key, x->keylen, tok, len, now, claims, &e);
  if (st == MESOS_EPERM && x->old_key) {
    mesos__jwt_claims_free(claims);
    if (mesos__jwt_verify(x->old_key, x->old_keylen, tok, len, now, claims, NULL) == MESOS_OK) {
      mesos_error_free(e);
      return MESOS_OK;
    }
  }
  if (st != MESOS_OK) {
    if (err) *err = e;
    else mesos_error_free(e);
  }
  return st;
}

static void exec_auth_fini(mesos_agent *a) {
  struct mesos__agent_exec_auth *x = a->exec_auth;
  if (x == NULL) return;
  free_key(x->key, x->keylen);
  free_key(x->old_key, x->old_keylen);
  mesos__free(x->path);
  mesos__free(x);
  a->exec_auth = NULL;
}

char *mesos__agent_exec_token_env(mesos_agent *a, const char *fid, const char *eid,
                                  const char *cid) {
  if (a->exec_auth == NULL) return NULL;
  char *tok = NULL;
  mesos_error *e = NULL;
  if (mesos__jwt_sign(a->exec_auth->key, a->exec_auth->keylen, fid, eid, cid, &tok, &e) !=
      MESOS_OK) {
    LOG_ERROR("executor %s of framework %s: cannot sign its token: %s", eid ? eid : "?",
              fid ? fid : "?", e ? mesos_error_message(e) : "");
    mesos_error_free(e);
    return NULL;
  }
  static const char name[] = "MESOS_EXECUTOR_AUTHENTICATION_TOKEN=";
  size_t n = sizeof name + strlen(tok);
  char *env = mesos__malloc(n);
  if (env) snprintf(env, n, "%s%s", name, tok);
  else LOG_ERROR("executor %s: out of memory for its token", eid ? eid : "?");
  mbedtls_platform_zeroize(tok, strlen(tok));
  mesos__free(tok);
  return env;
}

static void respond_plain(mesos__http_request *req, int code, const char *challenge,
                          const char *body) {
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  (void)mesos__http_headers_set(&h, "Content-Type", "text/plain; charset=utf-8");
  if (challenge) (void)mesos__http_headers_set(&h, "WWW-Authenticate", challenge);
  (void)mesos__http_respond(req, code, &h, body, strlen(body));
  mesos__http_headers_free(&h);
}

bool mesos__agent_exec_authenticate(mesos_agent *a, mesos__http_request *req,
                                    mesos__jwt_claims *claims) {
  memset(claims, 0, sizeof *claims);
  if (a->exec_auth == NULL || !a->exec_auth->required) return true;
  const char *h = mesos__http_request_header(req, "Authorization");
  mesos_error *e = NULL;
  const char *why = NULL;
  if (h == NULL) {
    why = "no Authorization header (an executor sends 'Bearer "
          "<MESOS_EXECUTOR_AUTHENTICATION_TOKEN>')";
  } else if (strncasecmp(h, "Bearer ", 7) != 0) {
    why = "the Authorization header is not a Bearer token";
  } else if (exec_verify(a->exec_auth, h + 7, strlen(h + 7), claims, &e) != MESOS_OK) {
    why = e ? mesos_error_message(e) : "the token does not verify";
  }
  if (why == NULL) return true;
  LOG_INFO("%s %s from %s: executor not authenticated (%s)", mesos__http_request_method(req),
           mesos__http_request_path(req), mesos__http_request_peer(req), why);
  char chal[96], body[512];
  snprintf(chal, sizeof chal, "Bearer realm=\"%s\"",
           mesos__auth_realm_name(a->auth, MESOS__REALM_EXECUTOR));
  snprintf(body, sizeof body, "Unauthorized: %s\n", why);
  respond_plain(req, 401, chal, body);
  mesos_error_free(e);
  return false;
}

/* One claim against the value the call names: absent or different is a
 * mismatch. */
static bool claim_is(const char *claim, const char *want) {
  return want == NULL || (claim != NULL && strcmp(claim, want) == 0);
}

bool mesos__agent_exec_authorized(mesos_agent *a, mesos__http_request *req,
                                  const mesos__jwt_claims *claims, const char *fid,
                                  const char *eid, const char *cid) {
  if (a->exec_auth == NULL || !a->exec_auth->required) return true;
  const char *bad = !claim_is(claims->fid, fid)   ? "framework"
                    : !claim_is(claims->eid, eid) ? "executor"
                    : !claim_is(claims->cid, cid) ? "container"
                                                  : NULL;
  if (bad == NULL) return true;
  LOG_INFO("%s %s from %s: an executor token for %s/%s/%s used for %s/%s", mesos__http_request_method(req),
           mesos__http_request_path(req), mesos__http_request_peer(req),
           claims->fid ? claims->fid : "-", claims->eid ? claims->eid : "-",
           claims->cid ? claims->cid : "-", fid ? fid : "-", eid ? eid : "-");
  char body[256];
  snprintf(body, sizeof body,
           "Forbidden: the authenticated executor's token does not name this %s (an executor "
           "may only act as itself)\n",
           bad);
  respond_plain(req, 403, NULL, body);
  return false;
}

/* ------------------------------------------------------------ executors on the operator API */

/* The read-write realm's Bearer check (mesos__auth_set_bearer): an
 * executor's token on /api/v1, as Mesos takes it there for the calls an
 * executor makes about its own containers. */
static bool operator_bearer(void *ud, mesos__http_request *req, const char *token, char *why,
                            size_t cap) {
  mesos_agent *a = ud;
  (void)req;
  mesos__jwt_claims c;
  mesos_error *e = NULL;
  mesos_status st = exec_verify(a->exec_auth, token, strlen(token), &c, &e);
  mesos__jwt_claims_free(&c);
  if (st != MESOS_OK)
    snprintf(why, cap, "executor token: %s", e ? mesos_error_message(e) : mesos_status_str(st));
  mesos_error_free(e);
  return st == MESOS_OK;
}

bool mesos__agent_exec_caller(mesos_agent *a, mesos__http_request *req,
                              mesos__jwt_claims *claims) {
  memset(claims, 0, sizeof *claims);
  if (a->exec_auth == NULL) return false;
  const char *h = mesos__http_request_header(req, "Authorization");
  if (!mesos__auth_is_bearer(h)) return false;
  if (exec_verify(a->exec_auth, h + 7, strlen(h + 7), claims, NULL) == MESOS_OK) return true;
  mesos__jwt_claims_free(claims);
  return false;
}

/* The calls an executor's token may make: its own containers' (checked
 * against the cid claim by mesos__agent_auth_container_call), the list of
 * containers (filtered to its own), and the two that need nothing. */
static bool executor_may_call(Mesos__V1__Agent__Call__Type t) {
  switch (t) {
    case MESOS__V1__AGENT__CALL__TYPE__GET_HEALTH:
    case MESOS__V1__AGENT__CALL__TYPE__GET_VERSION:
    case MESOS__V1__AGENT__CALL__TYPE__GET_CONTAINERS:
    case MESOS__V1__AGENT__CALL__TYPE__LAUNCH_NESTED_CONTAINER:
    case MESOS__V1__AGENT__CALL__TYPE__LAUNCH_NESTED_CONTAINER_SESSION:
    case MESOS__V1__AGENT__CALL__TYPE__WAIT_NESTED_CONTAINER:
    case MESOS__V1__AGENT__CALL__TYPE__KILL_NESTED_CONTAINER:
    case MESOS__V1__AGENT__CALL__TYPE__REMOVE_NESTED_CONTAINER:
    case MESOS__V1__AGENT__CALL__TYPE__ATTACH_CONTAINER_INPUT:
    case MESOS__V1__AGENT__CALL__TYPE__ATTACH_CONTAINER_OUTPUT:
    case MESOS__V1__AGENT__CALL__TYPE__LAUNCH_CONTAINER:
    case MESOS__V1__AGENT__CALL__TYPE__WAIT_CONTAINER:
    case MESOS__V1__AGENT__CALL__TYPE__KILL_CONTAINER:
    case MESOS__V1__AGENT__CALL__TYPE__REMOVE_CONTAINER:
      return true;
    default:
      return false;
  }
}

static const char *call_name(Mesos__V1__Agent__Call__Type t) {
  const ProtobufCEnumValue *ev =
      protobuf_c_enum_descriptor_get_value(&mesos__v1__agent__call__type__descriptor, (int)t);
  return ev ? ev->name : "this call";
}

bool mesos__agent_auth_operator_call(mesos_agent *a, mesos__http_request *req,
                                     const Mesos__V1__Agent__Call *call) {
  mesos__jwt_claims c;
  if (!mesos__agent_exec_caller(a, req, &c)) {
    /* Principals (or none): the calls guarded by a plain action. */
    switch (call->type) {
      case MESOS__V1__AGENT__CALL__TYPE__GET_FLAGS:
        return mesos__auth_check(a->auth, req, MESOS_AUTHZ_VIEW_FLAGS, NULL);
      case MESOS__V1__AGENT__CALL__TYPE__SET_LOGGING_LEVEL:
        return mesos__auth_check(a->auth, req, MESOS_AUTHZ_SET_LOG_LEVEL, NULL);
      /* Mesos answers 403 rather than an empty list (the object is
       * ANY/NONE-only, so there is nothing to filter by). */
      case MESOS__V1__AGENT__CALL__TYPE__GET_RESOURCE_PROVIDERS:
        return mesos__auth_check(a->auth, req, MESOS_AUTHZ_VIEW_RESOURCE_PROVIDER, NULL);
      /* Filtered by the request's view: asked first (a late authorizer
       * parks the call before anything is rendered). */
      case MESOS__V1__AGENT__CALL__TYPE__GET_STATE:
      case MESOS__V1__AGENT__CALL__TYPE__GET_FRAMEWORKS:
      case MESOS__V1__AGENT__CALL__TYPE__GET_EXECUTORS:
      case MESOS__V1__AGENT__CALL__TYPE__GET_TASKS:
      case MESOS__V1__AGENT__CALL__TYPE__GET_CONTAINERS:
      case MESOS__V1__AGENT__CALL__TYPE__GET_AGENT:
        return mesos__agent_view_ready(a, req);
      default:
        return true;
    }
  }
  bool ok = executor_may_call(call->type);
  if (!ok) {
    LOG_INFO("%s %s from %s: executor %s/%s may not make %s", mesos__http_request_method(req),
             mesos__http_request_path(req), mesos__http_request_peer(req), c.fid ? c.fid : "-",
             c.eid ? c.eid : "-", call_name(call->type));
    char body[256];
    snprintf(body, sizeof body,
             "Forbidden: an executor's token may not make %s (only GET_CONTAINERS and the "
             "container calls on its own container)\n",
             call_name(call->type));
    respond_plain(req, 403, NULL, body);
  }
  mesos__jwt_claims_free(&c);
  return ok && mesos__agent_view_ready(a, req);
}

mesos_status mesos__agent_auth_init(mesos_agent *a, mesos_error **err) {
  const char *cred = mesos__flags_get(a->flags, "credential");
  if (cred && *cred) {
    mesos_status st = load_credential(cred, &a->master_authorization, err);
    if (st != MESOS_OK) return st;
  }
  mesos_status xst = exec_auth_init(a, err);
  if (xst != MESOS_OK) return xst;
  mesos__auth_options o;
  memset(&o, 0, sizeof o);
  o.daemon = "agent";
  o.credentials = mesos__flags_get(a->flags, "http_credentials");
  o.acls = mesos__flags_get(a->flags, "acls");
  if (o.credentials && !*o.credentials) o.credentials = NULL;
  if (o.acls && !*o.acls) o.acls = NULL;
  o.authenticate[MESOS__REALM_READONLY] =
      mesos__flags_bool(a->flags, "authenticate_http_readonly");
  o.authenticate[MESOS__REALM_READWRITE] =
      mesos__flags_bool(a->flags, "authenticate_http_readwrite");
  mesos_status st = mesos__auth_new(&a->auth, &o, err);
  /* With a key, executors hold tokens: the operator API takes them too. */
  if (st == MESOS_OK && a->exec_auth)
    mesos__auth_set_bearer(a->auth, MESOS__REALM_READWRITE, operator_bearer, a);
  return st;
}

void mesos__agent_auth_fini(mesos_agent *a) {
  mesos__auth_free(a->auth);
  a->auth = NULL;
  exec_auth_fini(a);
  if (a->master_authorization) {
    mbedtls_platform_zeroize(a->master_authorization, strlen(a->master_authorization));
    mesos__free(a->master_authorization);
    a->master_authorization = NULL;
  }
}

/* Copies path component `idx` (0 = the first after the leading '/') of
 * the normalised `path` into out; -1 when there is none or it is too long. */
static int path_component(const char *path, int idx, char *out, size_t cap) {
  const char *p = path;
  for (int i = 0; *p == '/' && i <= idx; i++) {
    const char *s = p + 1, *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (i == idx) {
      if (n == 0 || n >= cap) return -1;
      memcpy(out, s, n);
      out[n] = '\0';
      return 0;
    }
    if (e == NULL) return -1;
    p = e;
  }
  return -1;
}

/* The user whose sandbox frameworks/<fid>/executors/<eid> is, or NULL. */
static const char *sandbox_user(mesos_agent *a, const char *fid, const char *eid) {
  size_t it = 0;
  void *v;
  while (eid && mesos__map_next(&a->tasks, &it, NULL, &v)) {
    const mesos__agent_task *t = v;
    if (t->framework_id == NULL || t->executor_id == NULL || t->info == NULL) continue;
    if (strcmp(t->framework_id, fid) != 0 || strcmp(t->executor_id, eid) != 0) continue;
    const Mesos__V1__TaskInfo *ti = t->info;
    if (ti->executor && ti->executor->command && ti->executor->command->user)
      return ti->executor->command->user;
    if (ti->command && ti->command->user) return ti->command->user;
    break;
  }
  const Mesos__V1__FrameworkInfo *fw = mesos__map_get(&a->frameworks, fid);
  return fw && fw->user ? fw->user : NULL;
}

static mesos_status authorize_file(void *ud, const char *principal, const char *path,
                                   mesos_error **err) {
  mesos_agent *a = ud;
  if (!mesos__auth_has_authorizer(a->auth)) return MESOS_OK;
  /* Which form: the virtual /frameworks/... or the real path under the
   * work directory; `base` is the component index of "frameworks". */
  int base = -1;
  if (strncmp(path, "/frameworks/", 12) == 0 || strcmp(path, "/frameworks") == 0) {
    base = 0;
  } else {
    char wd[MESOS__FILES_MAX_PATH + 2];
    if (mesos__files_normalize(a->work_dir, wd, sizeof wd, NULL) == MESOS_OK) {
      size_t wl = strcmp(wd, "/") == 0 ? 0 : strlen(wd);
      if (strncmp(path, wd, wl) == 0 && strncmp(path + wl, "/slaves/", 8) == 0) {
        int n = 0; /* components of the work dir */
        for (size_t i = 0; i < wl; i++) n += wd[i] == '/';
        base = n + 2; /* .../slaves/<agent>/frameworks */
        char c[16];
        if (path_component(path, base, c, sizeof c) != 0 || strcmp(c, "frameworks") != 0)
          base = -2; /* elsewhere under slaves/: a sandbox-kind path too */
      }
    }
  }
  const char *who = principal ? principal : "anonymous";
  if (base == -1) {
    if (mesos__auth_allowed(a->auth, principal, MESOS_AUTHZ_ACCESS_MESOS_LOG, NULL))
      return MESOS_OK;
    if (mesos__auth_parked(a->auth)) return MESOS_EAGAIN; /* replayed with the answer */
    return mesos__err(err, MESOS_EPERM, "Forbidden: '%s' may not access the agent's log '%s'",
                      who, path);
  }
  char fid[256], eid[256];
  const char *user = NULL;
  if (base >= 0 && path_component(path, base + 1, fid, sizeof fid) == 0) {
    int has_e = path_component(path, base + 3, eid, sizeof eid) == 0;
    user = sandbox_user(a, fid, has_e ? eid : NULL);
  }
  if (mesos__auth_allowed(a->auth, principal, MESOS_AUTHZ_ACCESS_SANDBOX, user)) return MESOS_OK;
  if (mesos__auth_parked(a->auth)) return MESOS_EAGAIN; /* replayed with the answer */
  return mesos__err(err, MESOS_EPERM, "Forbidden: '%s' may not access the sandbox '%s'", who,
                    path);
}

/* ------------------------------------------------------------ state filtering */

static const char *framework_user(mesos_agent *a, const char *fid) {
  const Mesos__V1__FrameworkInfo *fw = fid ? mesos__map_get(&a->frameworks, fid) : NULL;
  return fw && fw->user ? fw->user : NULL;
}

/* The user an executor runs as: its command user, else (the command
 * executor) its task's command user, else its framework's. */
static const char *executor_user(mesos_agent *a, const mesos__agent_task *t) {
  const Mesos__V1__TaskInfo *ti = t->info;
  if (ti && ti->executor && ti->executor->command && ti->executor->command->user)
    return ti->executor->command->user;
  if (ti && ti->command && ti->command->user) return ti->command->user;
  return framework_user(a, t->framework_id);
}

void mesos__agent_view_init(mesos__agent_view *v, mesos_agent *a, mesos__http_request *req) {
  const char *p = mesos__http_request_principal(req);
  memset(v, 0, sizeof *v);
  mesos__jwt_claims c;
  if (mesos__agent_exec_caller(a, req, &c)) {
    /* An executor (its token, no principal): its own container only; an
     * executor that cannot be told apart sees nothing. */
    v->executor = true;
    v->exec_cid = c.cid ? mesos__strdup(c.cid) : NULL;
    mesos__jwt_claims_free(&c);
  }
  mesos__auth_view_init(&v->v, a->auth, p);
  v->container = mesos__auth_approver(a->auth, p, MESOS_AUTHZ_VIEW_CONTAINER);
  v->flags = mesos__auth_allowed(a->auth, p, MESOS_AUTHZ_VIEW_FLAGS, NULL);
}

bool mesos__agent_view_ready(mesos_agent *a, mesos__http_request *req) {
  if (!mesos__auth_may_wait(a->auth)) return true;
  mesos__agent_view v;
  mesos__agent_view_init(&v, a, req);
  mesos__agent_view_free(&v);
  return !mesos__auth_parked(a->auth);
}

void mesos__agent_view_free(mesos__agent_view *v) {
  mesos__auth_view_free(&v->v);
  mesos_authz_approver_free(v->container);
  v->container = NULL;
  mesos__free(v->exec_cid);
  v->exec_cid = NULL;
}

bool mesos__agent_view_container(const mesos__agent_view *v, mesos_agent *a,
                                 const mesos__agent_task *t) {
  if (v->executor)
    return v->exec_cid && t->container_id && strcmp(t->container_id, v->exec_cid) == 0;
  if (v->container == NULL) return true; /* no ACLs */
  return mesos__auth_approved(v->container, executor_user(a, t));
}

bool mesos__agent_view_role(const mesos__agent_view *v, const char *role) {
  return mesos__auth_view_role(&v->v, role);
}

bool mesos__agent_view_resource(const mesos__agent_view *v, const Mesos__V1__Resource *r) {
  return mesos__auth_view_resource(&v->v, r);
}

bool mesos__agent_view_framework(const mesos__agent_view *v, mesos_agent *a, const char *fid) {
  if (v->v.framework == NULL) return true; /* no ACLs */
  return mesos__auth_view_framework(&v->v, framework_user(a, fid));
}

/* As Mesos's agent: an executor is shown only when its framework (if the
 * agent still knows it) may be viewed (VIEW_FRAMEWORK) and it may be
 * (VIEW_EXECUTOR); a task only when
 * its executor is shown and it may be (VIEW_TASK).  So GET_EXECUTORS and
 * GET_TASKS never show what GET_FRAMEWORKS hides. */
bool mesos__agent_view_executor(const mesos__agent_view *v, mesos_agent *a,
                                const mesos__agent_task *t) {
  if (v->v.executor == NULL) return true;
  /* A completed task's framework may be gone: then it is not asked. */
  if (t->framework_id && mesos__map_get(&a->frameworks, t->framework_id) &&
      !mesos__agent_view_framework(v, a, t->framework_id))
    return false;
  return mesos__auth_view_executor(&v->v, executor_user(a, t));
}

bool mesos__agent_view_task(const mesos__agent_view *v, mesos_agent *a,
                            const mesos__agent_task *t) {
  if (v->v.task == NULL) return true;
  if (!mesos__agent_view_executor(v, a, t)) return false;
  const Mesos__V1__TaskInfo *ti = t->info;
  const char *u = NULL;
  if (ti && ti->command && ti->command->user)
    u = ti->command->user;
  else if (ti && ti->executor && ti->executor->command && ti->executor->command->user)
    u = ti->executor->command->user;
  else
    u = framework_user(a, t->framework_id);
  return mesos__auth_view_task(&v->v, u);
}

/* ------------------------------------------------------------ container calls */

/* The user of the executor whose (top-level) container is `cid`: its
 * command user, else its task's command user, else its framework's. */
static const char *container_user(mesos_agent *a, const char *cid) {
  size_t it = 0;
  void *v;
  while (cid && mesos__map_next(&a->tasks, &it, NULL, &v)) {
    const mesos__agent_task *t = v;
    if (t->container_id == NULL || strcmp(t->container_id, cid) != 0) continue;
    const Mesos__V1__TaskInfo *ti = t->info;
    if (ti && ti->executor && ti->executor->command && ti->executor->command->user)
      return ti->executor->command->user;
    if (ti && ti->command && ti->command->user) return ti->command->user;
    const Mesos__V1__FrameworkInfo *fw = mesos__map_get(&a->frameworks, t->framework_id);
    return fw && fw->user ? fw->user : NULL;
  }
  return NULL;
}

/* Nested ids are chains of parents; the executor's is the top one.  The
 * decoder bounds the nesting already; this bounds the walk anyway. */
#define MAX_CONTAINER_DEPTH 32

static const char *parent_executor_user(mesos_agent *a, const Mesos__V1__ContainerID *id) {
  for (int i = 0; id && id->parent && i < MAX_CONTAINER_DEPTH; i++) id = id->parent;
  return id && !id->parent ? container_user(a, id->value) : NULL;
}

bool mesos__agent_auth_container_call(mesos_agent *a, mesos__http_request *req,
                                      const Mesos__V1__Agent__Call *call) {
  const Mesos__V1__ContainerID *id = NULL;
  const Mesos__V1__CommandInfo *cmd = NULL;
  const char *field = NULL; /* the sub-message, for a 400 */
  int32_t action = 0;
  bool nested_only = false, standalone_if_top = false, has_object = true;
  switch (call->type) {
    case MESOS__V1__AGENT__CALL__TYPE__LAUNCH_NESTED_CONTAINER:
      field = "launch_nested_container";
      action = MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER;
      nested_only = true;
      if (call->launch_nested_container) {
        id = call->launch_nested_container->container_id;
        cmd = call->launch_nested_container->command;
      }
      break;
    case MESOS__V1__AGENT__CALL__TYPE__LAUNCH_NESTED_CONTAINER_SESSION:
      field = "launch_nested_container_session";
      action = MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER_SESSION;
      nested_only = true;
      if (call->launch_nested_container_session) {
        id = call->launch_nested_container_session->container_id;
        cmd = call->launch_nested_container_session->command;
      }
      break;
    case MESOS__V1__AGENT__CALL__TYPE__WAIT_NESTED_CONTAINER:
      field = "wait_nested_container";
      action = MESOS_AUTHZ_WAIT_NESTED_CONTAINER;
      nested_only = true;
      if (call->wait_nested_container) id = call->wait_nested_container->container_id;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__KILL_NESTED_CONTAINER:
      field = "kill_nested_container";
      action = MESOS_AUTHZ_KILL_NESTED_CONTAINER;
      nested_only = true;
      if (call->kill_nested_container) id = call->kill_nested_container->container_id;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__REMOVE_NESTED_CONTAINER:
      field = "remove_nested_container";
      action = MESOS_AUTHZ_REMOVE_NESTED_CONTAINER;
      nested_only = true;
      if (call->remove_nested_container) id = call->remove_nested_container->container_id;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__ATTACH_CONTAINER_INPUT:
      /* The first message of the input stream names the container. */
      field = "attach_container_input";
      action = MESOS_AUTHZ_ATTACH_CONTAINER_INPUT;
      if (call->attach_container_input) id = call->attach_container_input->container_id;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__ATTACH_CONTAINER_OUTPUT:
      field = "attach_container_output";
      action = MESOS_AUTHZ_ATTACH_CONTAINER_OUTPUT;
      if (call->attach_container_output) id = call->attach_container_output->container_id;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__LAUNCH_CONTAINER:
      field = "launch_container";
      if (call->launch_container) {
        id = call->launch_container->container_id;
        cmd = call->launch_container->command;
      }
      action = id && id->parent ? MESOS_AUTHZ_LAUNCH_NESTED_CONTAINER
                                : MESOS_AUTHZ_LAUNCH_STANDALONE_CONTAINER;
      standalone_if_top = true;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__WAIT_CONTAINER:
      field = "wait_container";
      if (call->wait_container) id = call->wait_container->container_id;
      action = id && id->parent ? MESOS_AUTHZ_WAIT_NESTED_CONTAINER
                                : MESOS_AUTHZ_WAIT_STANDALONE_CONTAINER;
      standalone_if_top = true;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__KILL_CONTAINER:
      field = "kill_container";
      if (call->kill_container) id = call->kill_container->container_id;
      action = id && id->parent ? MESOS_AUTHZ_KILL_NESTED_CONTAINER
                                : MESOS_AUTHZ_KILL_STANDALONE_CONTAINER;
      standalone_if_top = true;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__REMOVE_CONTAINER:
      field = "remove_container";
      if (call->remove_container) id = call->remove_container->container_id;
      action = id && id->parent ? MESOS_AUTHZ_REMOVE_NESTED_CONTAINER
                                : MESOS_AUTHZ_REMOVE_STANDALONE_CONTAINER;
      standalone_if_top = true;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__ADD_RESOURCE_PROVIDER_CONFIG:
    case MESOS__V1__AGENT__CALL__TYPE__UPDATE_RESOURCE_PROVIDER_CONFIG:
    case MESOS__V1__AGENT__CALL__TYPE__REMOVE_RESOURCE_PROVIDER_CONFIG:
      action = MESOS_AUTHZ_MODIFY_RESOURCE_PROVIDER_CONFIG;
      has_object = false;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__MARK_RESOURCE_PROVIDER_GONE:
      action = MESOS_AUTHZ_MARK_RESOURCE_PROVIDER_GONE;
      has_object = false;
      break;
    case MESOS__V1__AGENT__CALL__TYPE__PRUNE_IMAGES:
      action = MESOS_AUTHZ_PRUNE_IMAGES;
      has_object = false;
      break;
    default:
      return true; /* nothing to authorize */
  }
  if (field && (id == NULL || id->value == NULL || (nested_only && id->parent == NULL))) {
    char msg[160];
    snprintf(msg, sizeof msg, "Expecting '%s.container_id%s' to be present", field,
             id && id->value && nested_only ? ".parent" : "");
    mesos__http_respond_text(req, 400, msg);
    return false;
  }
  mesos__jwt_claims c;
  if (mesos__agent_exec_caller(a, req, &c)) {
    /* An executor's token: the container named or its parent must be the
     * executor's own (its cid claim); the ACLs are not consulted, as in
     * Mesos (spec authorization.md §3.3). */
    const char *parent = id && id->parent ? id->parent->value : NULL;
    bool ok = field && c.cid && id && id->value &&
              (strcmp(id->value, c.cid) == 0 || (parent && strcmp(parent, c.cid) == 0));
    if (!ok) {
      LOG_INFO("%s from %s: executor container %s may not make %s on container %s",
               mesos__http_request_path(req), mesos__http_request_peer(req),
               c.cid ? c.cid : "-", call_name(call->type), id && id->value ? id->value : "-");
      char body[640];
      snprintf(body, sizeof body,
               "Forbidden: the executor's token allows %s only on its own container '%.200s' "
               "and the containers nested in it, not on '%.200s'\n",
               call_name(call->type), c.cid ? c.cid : "", id && id->value ? id->value : "");
      respond_plain(req, 403, NULL, body);
    }
    mesos__jwt_claims_free(&c);
    return ok;
  }
  /* Standalone containers are objects of ANY/NONE-only rules. */
  if (standalone_if_top && id->parent == NULL) has_object = false;
  const char *parent_user = has_object ? parent_executor_user(a, id) : NULL;
  const char *user = cmd && cmd->user ? cmd->user : parent_user;
  return mesos__auth_check2(a->auth, req, action, has_object ? user : NULL, parent_user,
                            has_object);
}

void mesos__agent_auth_files(mesos_agent *a, mesos__files *f) {
  mesos__files_auth fa = {a->auth, authorize_file, a};
  mesos__files_set_auth(f, &fa);
}

mesos_status mesos__agent_tls_configs(mesos_agent *a, int master_https,
                                      mesos__tls_config **server, mesos__tls_config **client,
                                      mesos_error **err) {
  *server = *client = NULL;
  const char *cert = mesos__flags_get(a->flags, "tls_cert");
  const char *key = mesos__flags_get(a->flags, "tls_key");
  const char *ca = mesos__flags_get(a->flags, "tls_ca");
  const char *verify = mesos__flags_get(a->flags, "tls_verify_client");
  if (cert && !*cert) cert = NULL;
  if (key && !*key) key = NULL;
  if (ca && !*ca) ca = NULL;
  int v = !verify || strcmp(verify, "none") == 0 ? 0 : strcmp(verify, "optional") == 0 ? 1 : 2;
  if (!cert != !key) return mesos__err(err, MESOS_EINVAL, "--tls_cert and --tls_key go together");
  if (!cert && v)
    return mesos__err(err, MESOS_EINVAL, "--tls_verify_client needs --tls_cert and --tls_key");
  if (!cert && ca && !master_https)
    return mesos__err(err, MESOS_EINVAL,
                      "--tls_ca needs --tls_cert and --tls_key or an https:// --master");
  if (v && !ca)
    return mesos__err(err, MESOS_EINVAL, "--tls_verify_client=%s needs --tls_ca", verify);
  mesos__tls_config_options o;
  mesos_status st = MESOS_OK;
  if (cert) {
    memset(&o, 0, sizeof o);
    o.is_server = 1;
    o.cert_file = cert;
    o.key_file = key;
    o.ca_file = ca;
    o.verify_peer = v;
    st = mesos__tls_config_new(server, &o, err);
  }
  if (st == MESOS_OK && master_https) {
    memset(&o, 0, sizeof o);
    o.verify_peer = 1; /* the master's certificate and host name */
    o.cert_file = cert; /* our client certificate, for a verifying master */
    o.key_file = key;
    o.ca_file = ca;
    st = mesos__tls_config_new(client, &o, err);
  }
  if (st != MESOS_OK) {
    mesos__tls_config_unref(*server);
    *server = NULL;
    *client = NULL;
  }
  return st;
}

void mesos__agent_auth_headers(const mesos_agent *a, mesos__http_headers *h) {
  if (a->master_authorization)
    (void)mesos__http_headers_set(h, "Authorization", a->master_authorization);
}

MESOS_EXTERN(mesos_status) mesos_agent_reload(mesos_agent *a, mesos_error **err) {
  if (!a) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  mesos_error *e1 = NULL, *e2 = NULL;
  mesos_status s1 = a->auth ? mesos__auth_reload(a->auth, &e1) : MESOS_OK;
  mesos_status s2 = exec_auth_reload(a, &e2);
  mesos_status st = MESOS_OK;
  if (s1 == MESOS_OK && s2 == MESOS_OK) {
    LOG_INFO("Reloaded HTTP credentials and ACLs%s", a->exec_auth ? " and the executor token key" : "");
  } else if (s1 != MESOS_OK && s2 != MESOS_OK) {
    st = mesos__err(err, s1, "%s; %s", mesos_error_message(e1), mesos_error_message(e2));
  } else {
    mesos_error *e = s1 != MESOS_OK ? e1 : e2;
    st = mesos__err(err, s1 != MESOS_OK ? s1 : s2, "%s", mesos_error_message(e));
  }
  if (st != MESOS_OK) LOG_WARN("SIGHUP reload: %s", err && *err ? mesos_error_message(*err) : "failed");
  mesos_error_free(e1);
  mesos_error_free(e2);
  return st;
}

MESOS_EXTERN(mesos_status) mesos_agent_set_authorizer(mesos_agent *a, mesos_authorizer *az,
                                                      mesos_error **err) {
  if (!a || !az || !a->auth) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  mesos_status st = mesos__auth_set_authorizer(a->auth, az, err);
  if (st == MESOS_OK) LOG_INFO("Authorization: a vendor authorizer replaces the local one");
  return st;
}

/* The authenticator vtable wrapper and the built-in Basic authenticator
 * (mesos/authn.h). */
#include <string.h>

#include <mbedtls/platform_util.h>

#include "authz/authz_int.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"

struct mesos_authenticator {
  mesos_authenticator_ops ops;
  char *scheme;
  void *ud;
};

/* A scheme is an HTTP token (RFC 7235): it goes into the challenge header
 * unquoted. */
static bool scheme_ok(const char *s) {
  if (!s || !*s || strlen(s) > 64) return false;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c <= ' ' || c >= 127 || strchr("\"(),/:;<=>?@[\\]{}", c)) return false;
  }
  return true;
}

mesos_status mesos_authenticator_new(mesos_authenticator **out,
                                     const mesos_authenticator_ops *ops, void *ud,
                                     mesos_error **err) {
  if (!out || !ops) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  if (ops->version != MESOS_AUTHENTICATOR_OPS_VERSION)
    return mesos__err(err, MESOS_EVERSION, "mesos_authenticator_ops: version %u not supported",
                      (unsigned)ops->version);
  if (!ops->authenticate)
    return mesos__err(err, MESOS_EINVAL, "mesos_authenticator_ops: 'authenticate' is required");
  if (!scheme_ok(ops->scheme))
    return mesos__err(err, MESOS_EINVAL,
                      "mesos_authenticator_ops: 'scheme' must be an HTTP token such as Basic");
  mesos_authenticator *a = MESOS__NEW(mesos_authenticator);
  char *sc = mesos__strdup(ops->scheme);
  if (!a || !sc) {
    mesos__free(a);
    mesos__free(sc);
    return mesos__err(err, MESOS_ENOMEM, "out of memory");
  }
  a->ops = *ops;
  a->scheme = sc;
  a->ops.scheme = sc;
  a->ud = ud;
  *out = a;
  return MESOS_OK;
}

const char *mesos_authenticator_scheme(const mesos_authenticator *a) {
  return a ? a->scheme : NULL;
}

mesos_status mesos_authenticator_authenticate(mesos_authenticator *a,
                                              const mesos_authn_request *req,
                                              mesos_authn_done_fn done, void *done_ud) {
  if (!a || !req || !done) return mesos__err(NULL, MESOS_EINVAL, "NULL argument");
  if (req->version != MESOS_AUTHN_REQUEST_VERSION) return MESOS_EINVAL;
  a->ops.authenticate(a->ud, req, done, done_ud);
  return MESOS_OK;
}

mesos_status mesos_authenticator_reload(mesos_authenticator *a, mesos_error **err) {
  if (!a) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  return a->ops.reload ? a->ops.reload(a->ud, err) : MESOS_OK;
}

void mesos_authenticator_free(mesos_authenticator *a) {
  if (!a) return;
  if (a->ops.free) a->ops.free(a->ud);
  mesos__free(a->scheme);
  mesos__free(a);
}

/* ------------------------------------------------------------ Basic */

typedef struct basic {
  char *path; /* NULL: no credentials */
  mesos_credentials *creds;
} basic;

static void basic_authenticate(void *ud, const mesos_authn_request *req,
                               mesos_authn_done_fn done, void *done_ud) {
  basic *b = ud;
  if (!req->authorization) {
    done(MESOS_EPERM, NULL, "Missing 'Authorization' header", done_ud);
    return;
  }
  char *p = NULL, *s = NULL;
  mesos_error *e = NULL;
  if (mesos_basic_auth_parse(req->authorization, &p, &s, &e) != MESOS_OK) {
    done(MESOS_EPERM, NULL, mesos_error_message(e), done_ud);
    mesos_error_free(e);
    return;
  }
  size_t sl = strlen(s);
  int ok = mesos_credentials_verify(b->creds, p, s, sl);
  mbedtls_platform_zeroize(s, sl);
  mesos__free(s);
  if (ok)
    done(MESOS_OK, p, NULL, done_ud);
  else
    /* The principal is named in the log by the caller, never the secret. */
    done(MESOS_EPERM, NULL, "Authentication failed: wrong principal or secret", done_ud);
  mesos__free(p);
}

static mesos_status basic_reload(void *ud, mesos_error **err) {
  basic *b = ud;
  if (!b->path) return MESOS_OK;
  mesos_credentials *c = NULL;
  mesos_status st = mesos_credentials_load(&c, b->path, err);
  if (st != MESOS_OK) return st;
  mesos_credentials_free(b->creds);
  b->creds = c;
  return MESOS_OK;
}

static void basic_free(void *ud) {
  basic *b = ud;
  mesos_credentials_free(b->creds);
  mesos__free(b->path);
  mesos__free(b);
}

static const mesos_authenticator_ops BASIC_OPS = {
  MESOS_AUTHENTICATOR_OPS_VERSION, "Basic", basic_authenticate, basic_reload, basic_free,
};

mesos_status mesos_basic_authenticator_new(mesos_authenticator **out,
                                           const char *credentials_path, mesos_error **err) {
  if (!out) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  basic *b = MESOS__NEW(basic);
  if (!b) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = MESOS_OK;
  if (credentials_path && !(b->path = mesos__strdup(credentials_path)))
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
  if (st == MESOS_OK && b->path) st = basic_reload(b, err);
  if (st == MESOS_OK && !b->creds) st = mesos_credentials_parse(&b->creds, "", 0, err);
  if (st == MESOS_OK) st = mesos_authenticator_new(out, &BASIC_OPS, b, err);
  if (st != MESOS_OK) basic_free(b);
  return st;
}

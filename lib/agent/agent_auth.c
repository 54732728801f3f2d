/* The agent's authentication and authorization (agent_auth.h). */
#include "agent/agent_auth.h"

#include <string.h>

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

mesos_status mesos__agent_auth_init(mesos_agent *a, mesos_error **err) {
  const char *cred = mesos__flags_get(a->flags, "credential");
  if (cred && *cred) {
    mesos_status st = load_credential(cred, &a->master_authorization, err);
    if (st != MESOS_OK) return st;
  }
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
  return mesos__auth_new(&a->auth, &o, err);
}

void mesos__agent_auth_fini(mesos_agent *a) {
  mesos__auth_free(a->auth);
  a->auth = NULL;
  if (a->master_authorization) {
    mbedtls_platform_zeroize(a->master_authorization, strlen(a->master_authorization));
    mesos__free(a->master_authorization);
    a->master_authorization = NULL;
  }
}

void mesos__agent_auth_headers(const mesos_agent *a, mesos__http_headers *h) {
  if (a->master_authorization)
    (void)mesos__http_headers_set(h, "Authorization", a->master_authorization);
}

MESOS_EXTERN(mesos_status) mesos_agent_reload(mesos_agent *a, mesos_error **err) {
  if (!a) return mesos__err(err, MESOS_EINVAL, "NULL argument");
  if (!a->auth) return MESOS_OK;
  mesos_status st = mesos__auth_reload(a->auth, err);
  if (st == MESOS_OK) LOG_INFO("Reloaded HTTP credentials and ACLs");
  return st;
}

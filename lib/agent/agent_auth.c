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
  return mesos__err(err, MESOS_EPERM, "Forbidden: '%s' may not access the sandbox '%s'", who,
                    path);
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
  if (!a->auth) return MESOS_OK;
  mesos_status st = mesos__auth_reload(a->auth, err);
  if (st == MESOS_OK) LOG_INFO("Reloaded HTTP credentials and ACLs");
  return st;
}

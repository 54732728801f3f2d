/* The agent's authentication and authorization (issue 8): its own
 * credential toward the master (--credential), HTTP Basic on its endpoints
 * (--http_credentials, --authenticate_http_readonly/readwrite) and the
 * local authorizer (--acls), as a mesos__auth (lib/authz/authz_int.h). */
#ifndef MESOS_AGENT_AUTH_H
#define MESOS_AGENT_AUTH_H

#include "agent/agent_int.h"
#include "authz/authz_int.h"
#include "files/files.h"
#include "http/tls.h"
#include "http/http.h"

#define MESOS__AGENT_AUTH_FLAGS                                                                \
  {"credential", MESOS__FLAG_STRING, NULL,                                                     \
   "Path (or file:// URL) of the agent's own credential toward the master: JSON "              \
   "{\"principal\": ..., \"secret\": ...} or one 'principal secret' line", NULL, NULL},        \
  {"http_credentials", MESOS__FLAG_STRING, NULL,                                               \
   "Path (or file:// URL) of the credentials file for HTTP Basic on the agent's endpoints; "   \
   "re-read on SIGHUP", NULL, NULL},                                                           \
  {"authenticate_http_readonly", MESOS__FLAG_BOOL, "false",                                    \
   "Read-only endpoints (/state, /flags, /metrics/snapshot, ...) need authentication",        \
   NULL, NULL},                                                                                \
  {"authenticate_http_readwrite", MESOS__FLAG_BOOL, "false",                                   \
   "The operator API /api/v1 needs authentication", NULL, NULL},                               \
  {"http_authenticators", MESOS__FLAG_STRING, "basic",                                         \
   "HTTP authenticator for endpoints (only 'basic')", NULL, "basic"},                          \
  {"acls", MESOS__FLAG_STRING, NULL,                                                           \
   "ACLs as JSON, or the path (or file:// URL) of a JSON file re-read on SIGHUP", NULL,        \
   NULL},                                                                                      \
  {"authorizer", MESOS__FLAG_STRING, "local", "Authorizer (only 'local')", NULL, "local"}

/* Agent-side TLS (issue 8).  --tls_cert/--tls_key turn the listener into
 * HTTPS (client certificates per --tls_ca/--tls_verify_client, as the
 * master's flags); --master=https://host:port connects to the master over
 * TLS, verifying it against --tls_ca (the system bundle without one) and
 * presenting --tls_cert/--tls_key as the client certificate -- the one
 * flag set Mesos spreads over LIBPROCESS_SSL_CERT_FILE / _KEY_FILE /
 * _CA_FILE / _VERIFY_CERT. */
#define MESOS__AGENT_TLS_FLAGS                                                                 \
  {"tls_cert", MESOS__FLAG_STRING, NULL,                                                       \
   "PEM certificate (chain) the agent serves HTTPS with (and presents to an https:// "        \
   "master); with --tls_key", NULL, NULL},                                                     \
  {"tls_key", MESOS__FLAG_STRING, NULL, "PEM private key of --tls_cert (unencrypted)", NULL,   \
   NULL},                                                                                      \
  {"tls_ca", MESOS__FLAG_STRING, NULL,                                                         \
   "PEM CA bundle client certificates and an https:// --master are verified against",         \
   NULL, NULL},                                                                                \
  {"tls_verify_client", MESOS__FLAG_STRING, "none",                                            \
   "Client certificates: none, optional (a sent one must verify) or required", NULL,          \
   "none|optional|required"}

/* The listener's TLS configuration (*server; NULL without --tls_cert) and,
 * when --master is https://, the client's (*client; else NULL).  New
 * references (mesos__tls_config_unref), both NULL on failure.
 * MESOS_EINVAL (a key without a certificate or the reverse, verification
 * without a CA), MESOS_ETLS / MESOS_EIO (the message names the file). */
mesos_status mesos__agent_tls_configs(mesos_agent *a, int master_https,
                                      mesos__tls_config **server, mesos__tls_config **client,
                                      mesos_error **err);

/* Loads --credential (kept as the Authorization value sent to the
 * master), --http_credentials and --acls into a->auth.  Errors name the
 * file and say why. */
mesos_status mesos__agent_auth_init(mesos_agent *a, mesos_error **err);
void mesos__agent_auth_fini(mesos_agent *a);

/* Installs the files service's authentication (read-only realm) and
 * authorization hook (mesos__files_set_auth): a sandbox path
 * (/frameworks/<f>/executors/<e>/..., or the same under
 * <work_dir>/slaves/<agent>/) needs ACCESS_SANDBOX on the executor's user
 * (the task's or custom executor's command user, else the framework's
 * user; none when the framework is unknown, which only an ANY rule
 * passes); every other path is the agent's own log (ACCESS_MESOS_LOG).
 * Call before mesos__files_routes(). */
void mesos__agent_auth_files(mesos_agent *a, mesos__files *f);

/* Adds the agent's Authorization header to a request to the master (when
 * --credential was given). */
void mesos__agent_auth_headers(const mesos_agent *a, mesos__http_headers *h);

#endif

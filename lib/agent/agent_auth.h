/* The agent's authentication and authorization (issue 8): its own
 * credential toward the master (--credential), HTTP Basic on its endpoints
 * (--http_credentials, --authenticate_http_readonly/readwrite) and the
 * local authorizer (--acls), as a mesos__auth (lib/authz/authz_int.h). */
#ifndef MESOS_AGENT_AUTH_H
#define MESOS_AGENT_AUTH_H

#include "agent/agent_int.h"
#include "authz/authz_int.h"
#include "authz/jwt.h"
#include "files/files.h"
#include "http/tls.h"
#include "http/http.h"
#include "mesos/v1/agent.pb-c.h"

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
  {"authorizer", MESOS__FLAG_STRING, "local", "Authorizer (only 'local')", NULL, "local"},   \
  {"authenticate_http_executors", MESOS__FLAG_BOOL, "false",                                   \
   "The executor API /api/v1/executor needs the executor's token (Authorization: Bearer, "     \
   "a JWT this agent signed with --jwt_secret_key)", NULL, NULL},                              \
  {"jwt_secret_key", MESOS__FLAG_STRING, NULL,                                                 \
   "Path (or file:// URL) of the key (the file's bytes, as they are) executor tokens are "     \
   "signed with (HMAC-SHA256); executors get theirs in MESOS_EXECUTOR_AUTHENTICATION_TOKEN; " \
   "re-read on SIGHUP",                                                                        \
   "executor_secret_key", NULL}

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

/* ---- executor authentication (--authenticate_http_executors, --jwt_secret_key) */

/* "MESOS_EXECUTOR_AUTHENTICATION_TOKEN=<jwt>" for the environment of the
 * executor (fid, eid) in container `cid`: a new string (mesos__free), or
 * NULL when the agent has no --jwt_secret_key (or signing failed, which is
 * logged: that executor then cannot authenticate). */
char *mesos__agent_exec_token_env(mesos_agent *a, const char *fid, const char *eid,
                                  const char *cid);

/* The executor API's authentication, before anything else of the request
 * is looked at: with --authenticate_http_executors the request must carry
 * "Authorization: Bearer <token>" with a token this agent signed (MAC
 * compared in constant time) that has not expired; its claims go to
 * *claims (free with mesos__jwt_claims_free).  false: answered 401 with
 * `WWW-Authenticate: Bearer realm="mesos-agent-executor"` already.
 * Without the flag: true, no claims (an Authorization header is ignored,
 * as Mesos does when a realm's authentication is off). */
bool mesos__agent_exec_authenticate(mesos_agent *a, mesos__http_request *req,
                                    mesos__jwt_claims *claims);

/* Whether the authenticated executor (its `claims`) may make a call as
 * executor `eid` of framework `fid` in container `cid` (NULL: not known
 * yet, not compared): an executor may act only as itself.  false:
 * answered 403 with a message already.  Always true without
 * --authenticate_http_executors. */
bool mesos__agent_exec_authorized(mesos_agent *a, mesos__http_request *req,
                                  const mesos__jwt_claims *claims, const char *fid,
                                  const char *eid, const char *cid);

/* ---- filtering the agent's state per principal (spec §3.3): /state,
 * GET_STATE, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS show only the
 * frameworks (VIEW_FRAMEWORK, by the framework's user), executors
 * (VIEW_EXECUTOR, by the executor's command user, else the task's, else
 * the framework's) and tasks (VIEW_TASK, by the task's command user, else
 * its executor's, else the framework's) the request's principal may see;
 * /state shows its `flags` only with VIEW_FLAGS.  One approver per action
 * per request; without ACLs everything is shown at the cost of a NULL
 * check.  A framework the agent no longer knows has no user (only rules
 * with an ANY object show it). */
typedef struct mesos__agent_view {
  mesos__auth_view v;
  bool flags; /* VIEW_FLAGS */
  /* Containers (GET_CONTAINERS, /containers, /monitor/statistics):
   * VIEW_CONTAINER by the executor's user; a caller holding an executor's
   * token (no principal) sees only its own container (exec_cid, owned). */
  mesos_authz_approver *container;
  bool executor;
  char *exec_cid;
} mesos__agent_view;
void mesos__agent_view_init(mesos__agent_view *v, mesos_agent *a, mesos__http_request *req);
void mesos__agent_view_free(mesos__agent_view *v);
/* In a request's handler pass, before rendering: asks a vendor
 * authorizer (which may answer later) for what the view needs.  false:
 * parked, return without answering (the pass is replayed and the view
 * then built from the answers).  Always true with the local authorizer. */
bool mesos__agent_view_ready(mesos_agent *a, mesos__http_request *req);
bool mesos__agent_view_framework(const mesos__agent_view *v, mesos_agent *a, const char *fid);
bool mesos__agent_view_executor(const mesos__agent_view *v, mesos_agent *a,
                                const mesos__agent_task *t);
bool mesos__agent_view_task(const mesos__agent_view *v, mesos_agent *a,
                            const mesos__agent_task *t);
bool mesos__agent_view_container(const mesos__agent_view *v, mesos_agent *a,
                                 const mesos__agent_task *t);
/* VIEW_ROLE (spec §3.3), as Mesos's agent: /state's reserved_resources
 * and reserved_resources_full list only the roles the view may see
 * (view_role); GET_AGENT's agent_info keeps only the resources whose
 * every role it may see (view_resource: the rule in authz_int.h). */
bool mesos__agent_view_role(const mesos__agent_view *v, const char *role);
bool mesos__agent_view_resource(const mesos__agent_view *v, const Mesos__V1__Resource *r);

/* ---- executors on the operator API (spec authorization.md §3.3).  With
 * --jwt_secret_key the read-write realm (/api/v1) also takes an
 * executor's token ("Authorization: Bearer <jwt>", 401 with both
 * challenges when bad and the realm requires authentication).  Such a
 * caller has no principal; it is the executor its claims name, and may
 * make only GET_HEALTH, GET_VERSION, GET_CONTAINERS (its own container
 * shown) and the container calls whose container, or that container's
 * parent, is its own (the cid claim) -- decided by the claims, not the
 * ACLs, as Mesos does. */

/* Whether the request carries a valid executor token (the current key or
 * the one before the last reload); *claims filled in then (free with
 * mesos__jwt_claims_free; zeroed otherwise). */
bool mesos__agent_exec_caller(mesos_agent *a, mesos__http_request *req,
                              mesos__jwt_claims *claims);

/* First check of every operator call: an executor's token making a call
 * it may not make, GET_FLAGS without VIEW_FLAGS, SET_LOGGING_LEVEL
 * without SET_LOG_LEVEL are answered 403 (false).  Otherwise true (the
 * container calls and the filtered GET_* decide more later). */
bool mesos__agent_auth_operator_call(mesos_agent *a, mesos__http_request *req,
                                     const Mesos__V1__Agent__Call *call);

/* The container calls of the agent operator API this agent does not run
 * yet (LAUNCH_/WAIT_/KILL_/REMOVE_NESTED_CONTAINER, _SESSION,
 * ATTACH_CONTAINER_INPUT/OUTPUT, LAUNCH/WAIT/KILL/REMOVE_CONTAINER,
 * resource provider configs, PRUNE_IMAGES) are authorized first, as Mesos
 * does, so a principal that may not make one learns that (403) rather
 * than that it is not implemented (501).  Objects (spec §2.6/§3.3): the
 * parent executor's user (its command user, else its framework's user;
 * NULL, matched as ANY, when no executor of this agent has that
 * container) and, to launch, the nested command's user (default: the
 * parent's); LAUNCH/WAIT/KILL/REMOVE_CONTAINER use the nested actions for
 * an id with a parent and the standalone ones (no object) for a top-level
 * id.  false: answered already (403, or 400 for a call without its
 * container id). */
bool mesos__agent_auth_container_call(mesos_agent *a, mesos__http_request *req,
                                      const Mesos__V1__Agent__Call *call);

/* Adds the agent's Authorization header to a request to the master (when
 * --credential was given). */
void mesos__agent_auth_headers(const mesos_agent *a, mesos__http_headers *h);

#endif

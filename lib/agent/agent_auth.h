/* The agent's authentication and authorization (issue 8): its own
 * credential toward the master (--credential), HTTP Basic on its endpoints
 * (--http_credentials, --authenticate_http_readonly/readwrite) and the
 * local authorizer (--acls), as a mesos__auth (lib/authz/authz_int.h). */
#ifndef MESOS_AGENT_AUTH_H
#define MESOS_AGENT_AUTH_H

#include "agent/agent_int.h"
#include "authz/authz_int.h"
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

/* Loads --credential (kept as the Authorization value sent to the
 * master), --http_credentials and --acls into a->auth.  Errors name the
 * file and say why. */
mesos_status mesos__agent_auth_init(mesos_agent *a, mesos_error **err);
void mesos__agent_auth_fini(mesos_agent *a);

/* Adds the agent's Authorization header to a request to the master (when
 * --credential was given). */
void mesos__agent_auth_headers(const mesos_agent *a, mesos__http_headers *h);

#endif

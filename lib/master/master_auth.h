/* The master's authentication and authorization (issue 8): the flags
 * (--credentials, --authenticate_*, --acls, ...) turned into a mesos__auth
 * (lib/authz/authz_int.h), and the checks the scheduler API makes. */
#ifndef MESOS_MASTER_AUTH_H
#define MESOS_MASTER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "authz/authz_int.h"
#include "http/tls.h"
#include "master/master_int.h"
#include "mesos/v1/master.pb-c.h"

/* The master's authentication and authorization flags, spliced into its
 * flag table by MESOS__MASTER_AUTH_FLAGS. */
#define MESOS__MASTER_AUTH_FLAGS                                                               \
  {"credentials", MESOS__FLAG_STRING, NULL,                                                    \
   "Path (or file:// URL) of the credentials file (JSON, or 'principal secret' lines) "        \
   "for HTTP Basic authentication; re-read on SIGHUP", NULL, NULL},                            \
  {"authenticate_frameworks", MESOS__FLAG_BOOL, "false",                                       \
   "Frameworks must authenticate (HTTP Basic on /api/v1/scheduler; there is no driver "        \
   "protocol here)", "authenticate", NULL},                                                    \
  {"authenticate_http_frameworks", MESOS__FLAG_BOOL, "false",                                  \
   "HTTP schedulers must authenticate on /api/v1/scheduler", NULL, NULL},                      \
  {"http_framework_authenticators", MESOS__FLAG_STRING, NULL,                                  \
   "HTTP authenticator for schedulers (only 'basic')", NULL, "basic"},                         \
  {"authenticate_agents", MESOS__FLAG_BOOL, "false",                                           \
   "Agents must authenticate (HTTP Basic with their --credential) to register",                \
   "authenticate_slaves", NULL},                                                               \
  {"authenticate_http_readonly", MESOS__FLAG_BOOL, "false",                                    \
   "Read-only endpoints (/state, /flags, /metrics/snapshot, ...) need authentication",        \
   NULL, NULL},                                                                                \
  {"authenticate_http_readwrite", MESOS__FLAG_BOOL, "false",                                   \
   "Read-write endpoints and the operator API /api/v1 need authentication", NULL, NULL},       \
  {"http_authenticators", MESOS__FLAG_STRING, "basic",                                         \
   "HTTP authenticator for endpoints (only 'basic')", NULL, "basic"},                          \
  {"acls", MESOS__FLAG_STRING, NULL,                                                           \
   "ACLs as JSON, or the path (or file:// URL) of a JSON file re-read on SIGHUP", NULL,        \
   NULL},                                                                                      \
  {"authorizers", MESOS__FLAG_STRING, "local", "Authorizer (only 'local')", NULL, "local"},   \
  {"tls_cert", MESOS__FLAG_STRING, NULL,                                                       \
   "PEM certificate (chain) the master serves HTTPS with; with --tls_key", NULL, NULL},        \
  {"tls_key", MESOS__FLAG_STRING, NULL, "PEM private key of --tls_cert (unencrypted)", NULL,   \
   NULL},                                                                                      \
  {"tls_ca", MESOS__FLAG_STRING, NULL,                                                         \
   "PEM CA bundle client certificates are verified against", NULL, NULL},                      \
  {"tls_verify_client", MESOS__FLAG_STRING, "none",                                            \
   "Client certificates: none, optional (a sent one must verify) or required", NULL,          \
   "none|optional|required"}

/* The listener's TLS configuration from --tls_cert, --tls_key, --tls_ca
 * and --tls_verify_client: *out is NULL without --tls_cert, else a new
 * reference (mesos__tls_config_unref).  MESOS_EINVAL (a key without a
 * certificate or the reverse, verification without a CA), MESOS_ETLS /
 * MESOS_EIO (unreadable or mismatched files; the message names them). */
mesos_status mesos__master_tls_config(mesos_master *m, mesos__tls_config **out,
                                      mesos_error **err);

/* Builds m->auth from the flags.  Errors as mesos__auth_new. */
mesos_status mesos__master_auth_init(mesos_master *m, mesos_error **err);
void mesos__master_auth_fini(mesos_master *m);

/* SUBSCRIBE: checks the authenticated principal against
 * FrameworkInfo.principal (an absent one is set to it, allocated the way
 * `root`, the decoded call holding `fi`, is freed) and REGISTER_FRAMEWORK
 * for every role.
 * true: go on.  false: *http_status is 400 (answer with that status) or 0
 * (answer with an ERROR event on the stream), and `why` says why. */
bool mesos__master_auth_subscribe(mesos_master *m, mesos__http_request *req,
                                  const ProtobufCMessage *root, Mesos__V1__FrameworkInfo *fi,
                                  int *http_status, char *why, size_t cap);

/* Any other scheduler call: the authenticated principal (if any) must be
 * the framework's.  false: answered 400 already. */
bool mesos__master_auth_call(mesos_master *m, mesos__http_request *req,
                             const Mesos__V1__FrameworkInfo *fi);

/* RUN_TASK for a task of the framework: the user is the task's command
 * user, else its executor's, else the framework's. */
bool mesos__master_auth_run_task(mesos_master *m, const Mesos__V1__FrameworkInfo *fi,
                                 const Mesos__V1__TaskInfo *task);

/* ACCEPT, before anything is applied: asks every RUN_TASK and operation
 * decision the call will need, so a late authorizer answers them all
 * before the call changes anything.  false: parked (return without
 * answering; the call is replayed).  Always true with the local
 * authorizer (nothing to wait for). */
bool mesos__master_auth_accept(mesos_master *m, const Mesos__V1__FrameworkInfo *fi,
                               const Mesos__V1__Scheduler__Call__Accept *acc);
/* RESERVE / UNRESERVE / CREATE / DESTROY in ACCEPT: the matching action
 * per resource (role of the reservation, principal of the reservation,
 * role of the volume, creator of the volume).  false: `why` says why. */
bool mesos__master_auth_operation(mesos_master *m, const Mesos__V1__FrameworkInfo *fi,
                                  const Mesos__V1__Offer__Operation *op, char *why,
                                  size_t cap);

/* An operator call (/api/v1) that changes something: the matching action
 * (GET_FLAGS, TEARDOWN, weights, quota, reservations and volumes,
 * maintenance, MARK_AGENT_GONE, SET_LOGGING_LEVEL; spec §3.2).  false:
 * answered 403 with the reason. */
bool mesos__master_auth_operator_call(mesos_master *m, mesos__http_request *req,
                                      const Mesos__V1__Master__Call *c);

/* GET_ROLES and GET_WEIGHTS (VIEW_ROLE per role), GET_QUOTA (GET_QUOTA
 * per role), GET_MAINTENANCE_SCHEDULE / GET_MAINTENANCE_STATUS (their
 * actions; the ACL object is ANY/NONE only, so a principal sees the whole
 * schedule or status or an empty one): drops what the request's principal
 * may not see, in place (arrays of `r` are the response builder's; the
 * quota configs, which borrow the registry's array, are copied into `s`,
 * which may be NULL for the other types).  Other types: nothing. */
struct mesos__op_scratch;
void mesos__master_auth_filter_lists(mesos_master *m, mesos__http_request *req,
                                     Mesos__V1__Master__Response *r,
                                     struct mesos__op_scratch *s);

/* GET_MAINTENANCE_STATUS and /maintenance/status: empties `cs` (its
 * machine lists) unless `principal` may GET_MAINTENANCE_STATUS (an
 * ANY/NONE-only object: all or nothing).  Needs only the principal, so a
 * renderer off the request can call it. */
void mesos__master_auth_filter_cluster_status(mesos_master *m, const char *principal,
                                              Mesos__V1__Maintenance__ClusterStatus *cs);

/* /state, /frameworks, /tasks: the renderer asks per framework and task
 * while a view is set on the master (m->view) for the request's
 * principal; without one everything is shown.  begin/end bracket one
 * synchronous rendering.  take, in the request's handler pass, gets the
 * view of a vendor authorizer (which may answer later; false: parked,
 * return without answering) and leaves the local authorizer's unset;
 * begin builds an unset view for `req`'s principal, end frees it. */
bool mesos__master_auth_view_take(mesos_master *m, mesos__http_request *req,
                                  mesos__auth_view *v);
void mesos__master_auth_view_begin(mesos_master *m, mesos__http_request *req,
                                   mesos__auth_view *v);
void mesos__master_auth_view_end(mesos_master *m, mesos__auth_view *v);
bool mesos__master_auth_sees_framework(const mesos_master *m, const mesos__framework *fw);
/* VIEW_TASK only: a caller shows no task of a framework sees_framework
 * hides (checked once per framework, not per task). */
bool mesos__master_auth_sees_task(const mesos_master *m, const mesos__framework *fw,
                                  const mesos__task *t);

/* VIEW_ROLE on resources (spec authorization.md §3.2; Mesos's rule in
 * authz_int.h, mesos__auth_roles).  /state, /slaves and /state-summary
 * show an agent's reserved_resources only for the roles the view may see
 * (sees_role, on the loop while the view is set); the v1 agent entries
 * (GET_AGENTS, GET_STATE, the SUBSCRIBED snapshot) show agent_info's,
 * total, allocated and offered resources only when every role they name
 * may be seen.  Those are written off the loop, so the snapshot keeps a
 * role table: roles_new (NULL without a view or ACLs; *failed set when
 * out of memory) learns the roles of the master's live frameworks (what
 * allocation_info names); learn_bag learns a bag's roles (an agent's
 * total and offered resources: the reservations anything used is carved
 * from); agent_info gives a copy of `ai` without what the table hides
 * (true: `out` is that copy, its `resources` array to be freed with
 * mesos__free; false: show `ai` as it is). */
bool mesos__master_auth_sees_role(const mesos_master *m, const char *role);
mesos__auth_roles *mesos__master_auth_roles_new(mesos_master *m, int *failed);
struct mesos__resources;
void mesos__master_auth_learn_bag(mesos__auth_roles *t, const struct mesos__resources *r);
/* Whether resources allocated to `role` (a task's, an offer's: the
 * master keeps no allocation_info in its bags) may be shown; learns the
 * role first.  A NULL table shows everything. */
bool mesos__master_auth_sees_allocation(mesos__auth_roles *t, const char *role);
bool mesos__master_auth_agent_info(mesos__auth_roles *t, const Mesos__V1__AgentInfo *ai,
                                   Mesos__V1__AgentInfo *out);

/* The operator SUBSCRIBE stream (its SUBSCRIBED snapshot is filtered as
 * GET_STATE, by the view): each later TASK_ADDED / TASK_UPDATED /
 * FRAMEWORK_* event is sent to a subscriber only if its view `v` (built
 * when it subscribed, as Mesos keeps a subscriber's approvers; unset: no
 * authorizer) shows that task or framework. */
bool mesos__master_auth_event_visible(mesos_master *m, const mesos__auth_view *v,
                                      const Mesos__V1__Master__Event *ev);

#endif

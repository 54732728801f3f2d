/*
 * POST /api/v1/scheduler: transport checks in Mesos's order, decoding,
 * validation, dispatch (spec/http-api.md sections 1.5 and 2).
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/log.h"
#include "codec/json.h"
#include "codec/negotiate.h"
#include "codec/pb.h"
#include "master/master_auth.h"
#include "master/master_int.h"

#define ID_MAX 255 /* NAME_MAX: ids become directory names on agents */

const char *mesos__validate_id(const char *id) {
  if (id == NULL || id[0] == '\0') return "id must not be empty";
  size_t len = strlen(id);
  if (len > ID_MAX) return "id is longer than 255 bytes";
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0) return "id must not be '.' or '..'";
  for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
    if (*p == '/' || *p == '\\') return "id must not contain '/' or '\\'";
    if (iscntrl(*p)) return "id must not contain control characters";
  }
  return NULL;
}

const char *mesos__validate_role(const char *role) {
  if (role == NULL || role[0] == '\0') return "role must not be empty";
  if (strcmp(role, "*") == 0) return NULL;
  size_t len = strlen(role);
  if (role[0] == '/' || role[len - 1] == '/') return "role must not start or end with '/'";
  if (strstr(role, "//")) return "role must not contain '//'";
  const char *p = role;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if ((n == 1 && (p[0] == '.' || p[0] == '*')) || (n == 2 && p[0] == '.' && p[1] == '.'))
      return "role component must not be '.', '..' or '*'";
    if (p[0] == '-') return "role component must not start with '-'";
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)p[i];
      if (isspace(c) || iscntrl(c)) return "role must not contain whitespace or control characters";
    }
    if (!slash) break;
    p = slash + 1;
  }
  return NULL;
}

static bool has_capability(const Mesos__V1__FrameworkInfo *fi,
                           Mesos__V1__FrameworkInfo__Capability__Type type) {
  for (size_t i = 0; i < fi->n_capabilities; i++)
    if (fi->capabilities[i]->has_type && fi->capabilities[i]->type == type) return true;
  return false;
}

/* FrameworkInfo checks whose failure opens the stream with an ERROR event
 * (spec 2.2).  Writes the reason into `why`. */
static bool framework_info_valid(mesos_master *m, const Mesos__V1__FrameworkInfo *fi, char *why,
                                 size_t cap) {
  const char *r;
  if (has_capability(fi, MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__MULTI_ROLE)) {
    /* A MULTI_ROLE framework leaves the legacy `role` unset (protobuf-c
     * keeps the default's own pointer there when the field is absent). */
    if (fi->role && fi->role != mesos__v1__framework_info__role__default_value) {
      snprintf(why, cap, "'FrameworkInfo.role' must not be set when MULTI_ROLE is set");
      return false;
    }
    for (size_t i = 0; i < fi->n_roles; i++) {
      if ((r = mesos__validate_role(fi->roles[i])) != NULL) {
        snprintf(why, cap, "Role '%s' is invalid: %s", fi->roles[i], r);
        return false;
      }
      for (size_t k = 0; k < i; k++)
        if (strcmp(fi->roles[k], fi->roles[i]) == 0) {
          snprintf(why, cap, "'FrameworkInfo.roles' contains duplicate role '%s'", fi->roles[i]);
          return false;
        }
    }
  } else {
    if (fi->n_roles > 0) {
      snprintf(why, cap, "'FrameworkInfo.roles' must be empty when MULTI_ROLE is not set");
      return false;
    }
    const char *role = fi->role ? fi->role : "*";
    if ((r = mesos__validate_role(role)) != NULL) {
      snprintf(why, cap, "Role '%s' is invalid: %s", role, r);
      return false;
    }
  }
  /* --roles: the deprecated whitelist; when set, every role must be on it. */
  const char *whitelist = mesos__flags_get(m->flags, "roles");
  if (whitelist) {
    const char *single = fi->role ? fi->role : "*";
    size_t n = fi->n_roles ? fi->n_roles : 1;
    for (size_t i = 0; i < n; i++) {
      const char *role = fi->n_roles ? fi->roles[i] : single;
      if (strcmp(role, "*") == 0) continue;
      size_t len = strlen(role);
      bool listed = false;
      for (const char *p = whitelist; p && *p && !listed;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        listed = l == len && strncmp(p, role, len) == 0;
        p = comma ? comma + 1 : NULL;
      }
      if (!listed) {
        snprintf(why, cap, "Role '%s' is not present in the master's --roles", role);
        return false;
      }
    }
  }
  if (fi->id && fi->id->value && fi->id->value[0] && (r = mesos__validate_id(fi->id->value))) {
    snprintf(why, cap, "'FrameworkInfo.id' is invalid: %s", r);
    return false;
  }
  if (fi->has_failover_timeout && (!isfinite(fi->failover_timeout) || fi->failover_timeout < 0)) {
    snprintf(why, cap, "Invalid 'FrameworkInfo.failover_timeout': %g", fi->failover_timeout);
    return false;
  }
  if (fi->user && strcmp(fi->user, "root") == 0 &&
      !mesos__flags_bool(m->flags, "root_submissions")) {
    snprintf(why, cap, "User 'root' is not allowed to run frameworks without --root_submissions");
    return false;
  }
  return true;
}

/* Call validation (spec 2.2): NULL when valid, else the reason. */
static const char *call_invalid(const Mesos__V1__Scheduler__Call *c) {
  if (!c->has_type) return "Expecting 'type' to be present";
  if (c->type == MESOS__V1__SCHEDULER__CALL__TYPE__SUBSCRIBE) {
    if (!c->subscribe) return "Expecting 'subscribe' to be present";
    const Mesos__V1__FrameworkInfo *fi = c->subscribe->framework_info;
    bool info_id = fi && fi->id && fi->id->value;
    bool call_id = c->framework_id && c->framework_id->value;
    if (info_id != call_id) return "'framework_id' differs from 'subscribe.framework_info.id'";
    if (info_id && strcmp(fi->id->value, c->framework_id->value) != 0)
      return "'framework_id' differs from 'subscribe.framework_info.id'";
    return NULL;
  }
  if (!c->framework_id || !c->framework_id->value) return "Expecting 'framework_id' to be present";
  switch (c->type) {
    case MESOS__V1__SCHEDULER__CALL__TYPE__ACCEPT:
      return c->accept ? NULL : "Expecting 'accept' to be present";
    case MESOS__V1__SCHEDULER__CALL__TYPE__DECLINE:
      return c->decline ? NULL : "Expecting 'decline' to be present";
    case MESOS__V1__SCHEDULER__CALL__TYPE__ACCEPT_INVERSE_OFFERS:
      return c->accept_inverse_offers ? NULL : "Expecting 'accept_inverse_offers' to be present";
    case MESOS__V1__SCHEDULER__CALL__TYPE__DECLINE_INVERSE_OFFERS:
      return c->decline_inverse_offers ? NULL : "Expecting 'decline_inverse_offers' to be present";
    case MESOS__V1__SCHEDULER__CALL__TYPE__KILL:
      return c->kill ? NULL : "Expecting 'kill' to be present";
    case MESOS__V1__SCHEDULER__CALL__TYPE__SHUTDOWN:
      return c->shutdown ? NULL : "Expecting 'shutdown' to be present";
    case MESOS__V1__SCHEDULER__CALL__TYPE__ACKNOWLEDGE:
      if (!c->acknowledge) return "Expecting 'acknowledge' to be present";
      if (c->acknowledge->uuid.len != 16) return "'acknowledge.uuid' must be 16 bytes";
      return NULL;
    case MESOS__V1__SCHEDULER__CALL__TYPE__RECONCILE:
      return c->reconcile ? NULL : "Expecting 'reconcile' to be present";
    case MESOS__V1__SCHEDULER__CALL__TYPE__MESSAGE:
      return c->message ? NULL : "Expecting 'message' to be present";
    case MESOS__V1__SCHEDULER__CALL__TYPE__REQUEST:
      return c->request ? NULL : "Expecting 'request' to be present";
    case MESOS__V1__SCHEDULER__CALL__TYPE__UPDATE_FRAMEWORK: {
      if (!c->update_framework) return "Expecting 'update_framework' to be present";
      const Mesos__V1__FrameworkInfo *fi = c->update_framework->framework_info;
      if (!fi || !fi->id || !fi->id->value || strcmp(fi->id->value, c->framework_id->value) != 0)
        return "'framework_id' differs from 'update_framework.framework_info.id'";
      return NULL;
    }
    default:
      return NULL;
  }
}

static void respond_202(mesos__http_request *req) { mesos__http_respond(req, 202, NULL, "", 0); }

/* ------------------------------------------------------------ UPDATE_FRAMEWORK */

static bool str_eq(const char *a, const char *b) {
  return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool effective_checkpoint(const Mesos__V1__FrameworkInfo *fi) {
  return fi->has_checkpoint && fi->checkpoint;
}

/* The roles a FrameworkInfo subscribes to (the legacy `role`, "*" when
 * unset, or `roles`). */
static size_t info_roles(const Mesos__V1__FrameworkInfo *fi, const char *const **out,
                         const char **single) {
  if (fi->n_roles) {
    *out = (const char *const *)fi->roles;
    return fi->n_roles;
  }
  if (has_capability(fi, MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__MULTI_ROLE)) {
    *out = NULL;
    return 0;
  }
  *single = fi->role ? fi->role : "*";
  *out = single;
  return 1;
}

static bool in_list(const char *s, const char *const *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(s, v[i]) == 0) return true;
  return false;
}

/* Everything UPDATE_FRAMEWORK (and a resubscription) may refuse, before
 * anything changes: NULL when the update is acceptable. */
static const char *update_invalid(mesos_master *m, const mesos__framework *fw,
                                  const Mesos__V1__FrameworkInfo *fi, char *const *suppressed,
                                  size_t nsuppressed, char *why, size_t cap) {
  if (!framework_info_valid(m, fi, why, cap)) return why;
  if (!str_eq(fw->info->principal, fi->principal))
    return "Changing framework's principal is not allowed";
  if (!str_eq(fw->info->user, fi->user)) return "Updating 'FrameworkInfo.user' is unsupported";
  if (effective_checkpoint(fw->info) != effective_checkpoint(fi))
    return "Updating 'FrameworkInfo.checkpoint' is unsupported";
  const char *single = NULL;
  const char *const *roles = NULL;
  size_t n = info_roles(fi, &roles, &single);
  for (size_t i = 0; i < nsuppressed; i++) {
    if (!in_list(suppressed[i], roles, n)) {
      snprintf(why, cap, "Suppressed role '%s' is not contained in the list of roles",
               suppressed[i]);
      return why;
    }
  }
  return NULL;
}

/* Applies a validated FrameworkInfo (all or nothing): the allocator gets
 * the new roles and capabilities, offers for roles the framework left are
 * rescinded, the suppressed set becomes `suppressed` (roles leaving it are
 * revived, which clears their filters), agents running its tasks get the
 * new info.  MESOS_OK, or an error with nothing changed. */
static mesos_status apply_framework_update(mesos__framework *fw,
                                           const Mesos__V1__FrameworkInfo *fi,
                                           char *const *suppressed, size_t nsuppressed,
                                           mesos_error **err) {
  mesos_master *m = fw->master;
  Mesos__V1__FrameworkInfo *old = fw->info;
  fw->info = NULL;
  mesos_status st = mesos__framework_set_info(fw, fi);
  if (st != MESOS_OK) {
    fw->info = old;
    return mesos__err(err, st, "out of memory");
  }
  st = mesos__allocator_framework_update(fw, err);
  if (st != MESOS_OK) {
    mesos__pb_free(fw->info);
    fw->info = old;
    return st;
  }
  mesos__pb_free(old);
  const char *single = NULL;
  const char *const *roles = NULL;
  size_t n = info_roles(fw->info, &roles, &single);
  mesos__offers_rescind_roles(fw, roles, n);
  /* The new suppressed set, and allocator calls for roles that change. */
  mesos__map next;
  mesos__map_init(&next);
  for (size_t i = 0; i < n; i++) {
    bool want = in_list(roles[i], (const char *const *)suppressed, nsuppressed);
    bool had = mesos__map_get(&fw->suppressed, roles[i]) != NULL;
    if (want) mesos__map_put(&next, roles[i], fw);
    if (m->allocator == NULL || !fw->in_allocator || want == had) continue;
    if (want) mesos_allocator_suppress(m->allocator, fw->id, roles[i], NULL);
    else mesos_allocator_revive(m->allocator, fw->id, roles[i], NULL);
  }
  mesos__map_free(&fw->suppressed);
  fw->suppressed = next;
  /* Agents keep the FrameworkInfo for their executors. */
  Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
  Mesos__Internal__UpdateFramework uf = MESOS__INTERNAL__UPDATE_FRAMEWORK__INIT;
  uf.framework_info = fw->info;
  ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
  ev.has_type = 1;
  ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__UPDATE_FRAMEWORK;
  ev.update_framework = &uf;
  mesos__map agents;
  mesos__map_init(&agents);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&fw->tasks, &it, NULL, &v)) {
    mesos__task *t = v;
    if (mesos__map_get(&agents, t->agent->id) == NULL) {
      mesos__map_put(&agents, t->agent->id, t->agent);
      mesos__agent_send(t->agent, &ev);
    }
  }
  mesos__map_free(&agents);
  LOG_INFO("Framework %s (%s) updated its FrameworkInfo", fw->id,
           fw->info->name ? fw->info->name : "");
  mesos__master_framework_updated(fw);
  return MESOS_OK;
}

/* OfferConstraints (attribute predicates on agents, with RE2 regular
 * expressions) came with Mesos 1.11; this master implements the 1.0 API.
 * A scheduler that sends some is refused rather than silently offered
 * agents its constraints exclude.  An empty message constrains nothing. */
#define OFFER_CONSTRAINTS_UNSUPPORTED                                                    \
  "'offer_constraints' are not supported by this master (added in Mesos 1.11; this " \
  "master implements the Mesos 1.0 scheduler API)"

static bool has_offer_constraints(const Mesos__V1__Scheduler__OfferConstraints *oc) {
  return oc != NULL && oc->n_role_constraints > 0;
}

static void handle_update_framework(mesos__framework *fw, mesos__http_request *req,
                                    const Mesos__V1__Scheduler__Call__UpdateFramework *uf) {
  char why[512];
  if (has_offer_constraints(uf->offer_constraints)) {
    mesos__http_respond_text(req, 400, "Invalid UPDATE_FRAMEWORK call: "
                                       OFFER_CONSTRAINTS_UNSUPPORTED);
    return;
  }
  const char *bad = update_invalid(fw->master, fw, uf->framework_info, uf->suppressed_roles,
                                   uf->n_suppressed_roles, why, sizeof why);
  if (bad) {
    char text[640];
    snprintf(text, sizeof text, "Invalid UPDATE_FRAMEWORK call: %s", bad);
    mesos__http_respond_text(req, 400, text);
    return;
  }
  mesos_error *e = NULL;
  if (apply_framework_update(fw, uf->framework_info, uf->suppressed_roles,
                             uf->n_suppressed_roles, &e) != MESOS_OK) {
    char text[640];
    snprintf(text, sizeof text, "Cannot update the framework: %s",
             e ? mesos_error_message(e) : "out of memory");
    mesos_error_free(e);
    mesos__http_respond_text(req, 500, text);
    return;
  }
  mesos__http_respond(req, 200, NULL, "", 0);
}

/* ------------------------------------------------------------ SUBSCRIBE */

static void handle_subscribe(mesos_master *m, mesos__http_request *req,
                             const Mesos__V1__Scheduler__Call *call, mesos__media media) {
  if (mesos__http_request_header(req, "Mesos-Stream-Id")) {
    mesos__http_respond_text(req, 400, "Received unexpected 'Mesos-Stream-Id' header");
    return;
  }
  const Mesos__V1__FrameworkInfo *fi = call->subscribe->framework_info;
  char why[512];
  if (has_offer_constraints(call->subscribe->offer_constraints)) {
    LOG_INFO("Refusing subscription of framework '%s': offer_constraints",
             fi->name ? fi->name : "");
    mesos__scheduler_error_stream(req, media, OFFER_CONSTRAINTS_UNSUPPORTED);
    return;
  }
  if (!framework_info_valid(m, fi, why, sizeof why)) {
    LOG_INFO("Refusing subscription of framework '%s': %s", fi->name ? fi->name : "", why);
    mesos__scheduler_error_stream(req, media, why);
    return;
  }
  int auth_status = 0;
  if (!mesos__master_auth_subscribe(m, req, &call->base, (Mesos__V1__FrameworkInfo *)fi,
                                    &auth_status, why, sizeof why)) {
    if (mesos__auth_parked(m->auth)) return; /* replayed with the authorizer's answers */
    if (auth_status) mesos__http_respond_text(req, auth_status, why);
    else mesos__scheduler_error_stream(req, media, why);
    return;
  }
  const char *want = fi->id && fi->id->value && fi->id->value[0] ? fi->id->value : NULL;
  mesos__framework *fw = NULL;
  if (want) {
    if (mesos__map_get(&m->removed, want)) {
      mesos__scheduler_error_stream(req, media, "Framework has been removed");
      return;
    }
    fw = mesos__map_get(&m->frameworks, want);
    if (fw && fw->info->principal && fi->principal &&
        strcmp(fw->info->principal, fi->principal) != 0) {
      mesos__scheduler_error_stream(req, media, "Changing framework's principal is not allowed");
      return;
    }
  }
  /* A resubscription updates the FrameworkInfo by UPDATE_FRAMEWORK's
   * rules, except that `user` and `checkpoint` keep their old values
   * (spec 2.6); `principal` was checked above. */
  Mesos__V1__FrameworkInfo merged = *fi;
  if (fw) {
    merged.user = fw->info->user;
    merged.has_checkpoint = fw->info->has_checkpoint;
    merged.checkpoint = fw->info->checkpoint;
    if (!fi->principal) merged.principal = fw->info->principal;
  }
  bool existed = fw != NULL;
  char *const *suppressed = call->subscribe->suppressed_roles;
  size_t nsuppressed = call->subscribe->n_suppressed_roles;
  if (fw) {
    const char *bad = update_invalid(m, fw, &merged, suppressed, nsuppressed, why, sizeof why);
    if (bad) {
      mesos__scheduler_error_stream(req, media, bad);
      return;
    }
  } else {
    const char *single = NULL;
    const char *const *roles = NULL;
    size_t n = info_roles(fi, &roles, &single);
    for (size_t i = 0; i < nsuppressed; i++)
      if (!in_list(suppressed[i], roles, n)) {
        snprintf(why, sizeof why, "Suppressed role '%s' is not contained in the list of roles",
                 suppressed[i]);
        mesos__scheduler_error_stream(req, media, why);
        return;
      }
  }
  if (fw == NULL) {
    char id[64];
    if (want) {
      snprintf(id, sizeof id, "%s", want);
    } else {
      snprintf(id, sizeof id, "%s-%04llu", m->id, (unsigned long long)m->next_framework++);
    }
    if (mesos__framework_new(&fw, m, id, fi) != MESOS_OK) {
      mesos__http_respond_text(req, 500, "Out of memory");
      return;
    }
  }
  if (mesos__framework_attach(fw, req, media) != MESOS_OK) {
    LOG_WARN("framework %s: subscription stream could not be started", fw->id);
    return;
  }
  if (!existed && nsuppressed == 0) return;
  mesos_error *e = NULL;
  if (apply_framework_update(fw, &merged, suppressed, nsuppressed, &e) != MESOS_OK) {
    LOG_WARN("framework %s: FrameworkInfo of the resubscription not applied: %s", fw->id,
             e ? mesos_error_message(e) : "");
    mesos_error_free(e);
  }
}

/* ------------------------------------------------------------ RECONCILE */

static void send_reconcile_update(mesos__framework *fw, const Mesos__V1__TaskID *task_id,
                                  const Mesos__V1__AgentID *agent_id, Mesos__V1__TaskState state,
                                  const char *message) {
  mesos__send_master_update(fw, task_id, agent_id, state,
                            MESOS__V1__TASK_STATUS__REASON__REASON_RECONCILIATION, message);
}

/* Spec 2.7.  Known tasks report their latest state; for unknown ones the
 * answer depends on what the master knows of the agent named. */
static void handle_reconcile(mesos__framework *fw, const Mesos__V1__Scheduler__Call *call) {
  mesos_master *m = fw->master;
  bool partition_aware = has_capability(
      fw->info, MESOS__V1__FRAMEWORK_INFO__CAPABILITY__TYPE__PARTITION_AWARE);
  const Mesos__V1__Scheduler__Call__Reconcile *rc = call->reconcile;
  if (rc->n_tasks == 0) {
    size_t it = 0;
    void *v;
    while (mesos__map_next(&fw->tasks, &it, NULL, &v)) {
      mesos__task *t = v;
      Mesos__V1__AgentID taid = MESOS__V1__AGENT_ID__INIT;
      taid.value = t->agent->id;
      send_reconcile_update(fw, mesos__task_tid(t), &taid, mesos__task_state(t),
                            "Reconciliation: Latest task state");
    }
    return;
  }
  for (size_t i = 0; i < rc->n_tasks; i++) {
    const Mesos__V1__Scheduler__Call__Reconcile__Task *rt = rc->tasks[i];
    mesos__task *t = mesos__map_get(&fw->tasks, rt->task_id->value);
    if (t) {
      Mesos__V1__AgentID taid = MESOS__V1__AGENT_ID__INIT;
      taid.value = t->agent->id;
      send_reconcile_update(fw, mesos__task_tid(t), &taid, mesos__task_state(t),
                            "Reconciliation: Latest task state");
      continue;
    }
    const char *aid = rt->agent_id ? rt->agent_id->value : NULL;
    /* Agents still expected back after a restart may know the task: no
     * answer yet, the scheduler retries. */
    if (aid ? mesos__map_get(&m->expected, aid) != NULL : mesos__map_count(&m->expected) > 0)
      continue;
    Mesos__V1__TaskState state = MESOS__V1__TASK_STATE__TASK_UNKNOWN;
    const char *message = "Reconciliation: Task is unknown";
    const Mesos__V1__TimeInfo *unreachable_time = NULL;
    if (aid && mesos__map_get(&m->agents, aid)) {
      state = MESOS__V1__TASK_STATE__TASK_GONE;
      message = "Reconciliation: Task is unknown to the agent";
    } else if (aid) {
      switch (mesos__registry_agent(m->registry, aid)) {
        case MESOS__REGISTRY_AGENT_UNREACHABLE: {
          state = MESOS__V1__TASK_STATE__TASK_UNREACHABLE;
          message = "Reconciliation: Task is unreachable";
          const Mesos__Internal__Registry *reg = mesos__registry_state(m->registry);
          for (size_t k = 0; k < reg->n_unreachable; k++)
            if (reg->unreachable[k]->id && reg->unreachable[k]->id->value &&
                strcmp(reg->unreachable[k]->id->value, aid) == 0)
              unreachable_time = reg->unreachable[k]->timestamp;
          break;
        }
        case MESOS__REGISTRY_AGENT_GONE:
          state = MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR;
          message = "Reconciliation: Task is gone";
          break;
        default:
          break;
      }
    }
    if (!partition_aware) {
      state = MESOS__V1__TASK_STATE__TASK_LOST;
      unreachable_time = NULL;
    }
    mesos__send_master_update_at(fw, rt->task_id, rt->agent_id, state,
                                 MESOS__V1__TASK_STATUS__REASON__REASON_RECONCILIATION, message,
                                 unreachable_time);
  }
}

/* ------------------------------------------------------------ dispatch */

static void dispatch(mesos_master *m, mesos__http_request *req,
                     const Mesos__V1__Scheduler__Call *call) {
  const char *id = call->framework_id->value;
  mesos__framework *fw = mesos__map_get(&m->frameworks, id);
  if (fw == NULL) {
    mesos__http_respond_text(req, 400, "Framework cannot be found");
    return;
  }
  if (!mesos__master_auth_call(m, req, fw->info)) return;
  if (fw->stream == NULL) {
    mesos__http_respond_text(req, 403, "Framework is not subscribed");
    return;
  }
  const char *sid = mesos__http_request_header(req, "Mesos-Stream-Id");
  if (sid == NULL) {
    mesos__http_respond_text(req, 400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
    return;
  }
  if (strcmp(sid, fw->stream_id) != 0) {
    char msg[256];
    snprintf(msg, sizeof msg, "The stream ID '%.64s' included in this request didn't match the "
             "stream ID currently associated with framework ID %.80s", sid, fw->id);
    mesos__http_respond_text(req, 400, msg);
    return;
  }
  switch (call->type) {
    case MESOS__V1__SCHEDULER__CALL__TYPE__TEARDOWN:
      respond_202(req);
      mesos__framework_remove(fw, "TEARDOWN call");
      return;
    case MESOS__V1__SCHEDULER__CALL__TYPE__RECONCILE:
      respond_202(req);
      handle_reconcile(fw, call);
      return;
    case MESOS__V1__SCHEDULER__CALL__TYPE__ACCEPT:
      /* A late authorizer answers every decision first (replayed). */
      if (!mesos__master_auth_accept(m, fw->info, call->accept)) return;
      respond_202(req);
      mesos__master_accept(fw, call->accept);
      return;
    case MESOS__V1__SCHEDULER__CALL__TYPE__DECLINE:
      respond_202(req);
      mesos__master_decline(fw, call->decline);
      return;
    case MESOS__V1__SCHEDULER__CALL__TYPE__ACCEPT_INVERSE_OFFERS:
      respond_202(req);
      mesos__maintenance_inverse_answer(fw, call->accept_inverse_offers->inverse_offer_ids,
                                        call->accept_inverse_offers->n_inverse_offer_ids,
                                        call->accept_inverse_offers->filters, 1);
      return;
    case MESOS__V1__SCHEDULER__CALL__TYPE__DECLINE_INVERSE_OFFERS:
      respond_202(req);
      mesos__maintenance_inverse_answer(fw, call->decline_inverse_offers->inverse_offer_ids,
                                        call->decline_inverse_offers->n_inverse_offer_ids,
                                        call->decline_inverse_offers->filters, 0);
      return;
    case MESOS__V1__SCHEDULER__CALL__TYPE__REVIVE:
    case MESOS__V1__SCHEDULER__CALL__TYPE__SUPPRESS: {
      respond_202(req);
      int revive = call->type == MESOS__V1__SCHEDULER__CALL__TYPE__REVIVE;
      char **roles = revive ? (call->revive ? call->revive->roles : NULL)
                            : (call->suppress ? call->suppress->roles : NULL);
      size_t n = revive ? (call->revive ? call->revive->n_roles : 0)
                        : (call->suppress ? call->suppress->n_roles : 0);
      if (n == 0) {
        /* All of the framework's roles. */
        const char *single = NULL;
        const char *const *all = NULL;
        size_t na = info_roles(fw->info, &all, &single);
        mesos__map_free(&fw->suppressed);
        mesos__map_init(&fw->suppressed);
        for (size_t i = 0; !revive && i < na; i++) mesos__map_put(&fw->suppressed, all[i], fw);
      }
      for (size_t i = 0; i < n; i++) {
        if (revive) mesos__map_remove(&fw->suppressed, roles[i]);
        else mesos__map_put(&fw->suppressed, roles[i], fw);
      }
      if (m->allocator == NULL || !fw->in_allocator) return;
      for (size_t i = 0; i < (n ? n : 1); i++) {
        const char *role = n ? roles[i] : NULL;
        if (revive) mesos_allocator_revive(m->allocator, fw->id, role, NULL);
        else mesos_allocator_suppress(m->allocator, fw->id, role, NULL);
      }
      return;
    }
    case MESOS__V1__SCHEDULER__CALL__TYPE__KILL:
      respond_202(req);
      mesos__master_kill(fw, call->kill);
      return;
    case MESOS__V1__SCHEDULER__CALL__TYPE__ACKNOWLEDGE:
      respond_202(req);
      mesos__master_acknowledge(fw, call->acknowledge);
      return;
    case MESOS__V1__SCHEDULER__CALL__TYPE__SHUTDOWN:
    case MESOS__V1__SCHEDULER__CALL__TYPE__MESSAGE: {
      respond_202(req);
      int shutdown = call->type == MESOS__V1__SCHEDULER__CALL__TYPE__SHUTDOWN;
      const Mesos__V1__AgentID *aid = shutdown ? call->shutdown->agent_id : call->message->agent_id;
      mesos__agent *a = aid ? mesos__map_get(&m->agents, aid->value) : NULL;
      if (a == NULL) {
        LOG_INFO("Framework %s: %s for unknown agent dropped", fw->id,
                 shutdown ? "SHUTDOWN" : "MESSAGE");
        return;
      }
      Mesos__Internal__AgentEvent ev = MESOS__INTERNAL__AGENT_EVENT__INIT;
      Mesos__Internal__ShutdownExecutor se = MESOS__INTERNAL__SHUTDOWN_EXECUTOR__INIT;
      Mesos__Internal__FrameworkMessage fm = MESOS__INTERNAL__FRAMEWORK_MESSAGE__INIT;
      Mesos__V1__FrameworkID fid = MESOS__V1__FRAMEWORK_ID__INIT;
      fid.value = fw->id;
      ev.protocol_version = MESOS__AGENT_PROTOCOL_VERSION;
      ev.has_type = 1;
      if (shutdown) {
        se.framework_id = &fid;
        se.executor_id = call->shutdown->executor_id;
        ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__SHUTDOWN_EXECUTOR;
        ev.shutdown_executor = &se;
      } else {
        fm.framework_id = &fid;
        fm.executor_id = call->message->executor_id;
        fm.data = call->message->data;
        ev.type = MESOS__INTERNAL__AGENT_EVENT__TYPE__FRAMEWORK_MESSAGE;
        ev.framework_message = &fm;
      }
      mesos__agent_send(a, &ev);
      return;
    }
    case MESOS__V1__SCHEDULER__CALL__TYPE__REQUEST:
      /* Passed to the allocator in Mesos; the built-in one ignores it. */
      respond_202(req);
      return;
    case MESOS__V1__SCHEDULER__CALL__TYPE__UPDATE_FRAMEWORK:
      handle_update_framework(fw, req, call->update_framework);
      return;
    default:
      mesos__http_respond_text(req, 501, "Unsupported call type");
      return;
  }
}

void mesos__scheduler_api_handler(mesos__http_request *req, void *ud) {
  mesos_master *m = ud;
  /* A pass replayed after a late authorizer answer: decoded already. */
  ProtobufCMessage *msg = mesos__auth_take_kept(m->auth);
  if (msg == NULL) msg = mesos__decode_call(req, &mesos__v1__scheduler__call__descriptor, "Call");
  if (msg == NULL) return;
  const Mesos__V1__Scheduler__Call *call = (const Mesos__V1__Scheduler__Call *)msg;
  const char *invalid = call_invalid(call);
  if (invalid) {
    char text[512];
    snprintf(text, sizeof text, "Failed to validate scheduler::Call: %s", invalid);
    mesos__http_respond_text(req, 400, text);
  } else if (call->type == MESOS__V1__SCHEDULER__CALL__TYPE__UNKNOWN) {
    mesos__http_respond_text(req, 501, "Received 'UNKNOWN' call");
  } else if (call->type == MESOS__V1__SCHEDULER__CALL__TYPE__SUBSCRIBE) {
    mesos__negotiated resp;
    mesos__negotiate_response(mesos__http_request_header(req, "Accept"), NULL, false, &resp);
    if (resp.http_status) mesos__http_respond_text(req, resp.http_status, resp.error);
    else handle_subscribe(m, req, call, resp.message);
  } else {
    dispatch(m, req, call);
  }
  if (!mesos__auth_keep_for_replay(m->auth, msg, mesos__pb_free)) mesos__pb_free(msg);
}

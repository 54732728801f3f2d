/*
 * The agent object: configuration (flags or options), the resources and
 * attributes it announces, the checkpointed agent id, its own HTTP
 * listener, and the life cycle that ties the other pieces together (see
 * agent_int.h for the map).
 *
 * Scope of this version: registration and re-registration with the same
 * id after a restart, command tasks under mesos-executor (the executor API,
 * executor_api.c) or, as a fallback, forked by the agent itself
 * (task_runner.c), reliable status updates.  Tasks that were running when
 * the agent died are not recovered yet.
 */
#include "agent/agent_auth.h"
#include "agent/agent_int.h"
#include "agent/volumes.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/build_info.h"
#include "base/error.h"
#include "base/log.h"
#include "base/units.h"
#include "codec/json.h"
#include "codec/pb.h"
#include "mesos/internal/checkpoint.pb-c.h"
#include "mesos/memory.h"
#include "mesos/version.h"
#include "registry/agent_paths.h"
#include "registry/checkpoint.h"
#include "registry/fsutil.h"
#include "resources/resources_int.h"

#define AGENT_API_VERSION "1.0.0"

/* Flags mesos-agent accepts, with Mesos's names and defaults.  The ones
 * marked "(not yet implemented)" are accepted so that existing command
 * lines keep working, and warned about when set (never silently). */
static const mesos__flag_def agent_flags[] = {
  {"master", MESOS__FLAG_TEXT, NULL, "Master to register with: host:port or http://host:port (required)", NULL, NULL},
  {"work_dir", MESOS__FLAG_STRING, NULL, "Directory for checkpoints and sandboxes (required)", NULL, NULL},
  {"ip", MESOS__FLAG_STRING, "0.0.0.0", "IP address to listen on", NULL, NULL},
  {"port", MESOS__FLAG_INT, "5051", "Port to listen on (0: any free port)", NULL, NULL},
  {"hostname", MESOS__FLAG_STRING, NULL, "Hostname announced in AgentInfo (default: the host's name)", NULL, NULL},
  {"resources", MESOS__FLAG_TEXT, NULL,
   "Resources: name(role):value;... or a JSON array of Resource (default: detected cpus, mem, disk, ports)", NULL, NULL},
  {"attributes", MESOS__FLAG_TEXT, NULL, "Attributes: name:value;... (text, scalar, [a-b] ranges, {a,b} sets)", NULL, NULL},
  {"default_role", MESOS__FLAG_STRING, "*", "Role of resources given without one", NULL, NULL},
  {"executor_registration_timeout", MESOS__FLAG_DURATION, "1mins", "Executors must subscribe within this time", NULL, NULL},
  {"executor_shutdown_grace_period", MESOS__FLAG_DURATION, "5secs",
   "Grace period between SIGTERM and SIGKILL when a task is killed without a kill policy", NULL, NULL},
  {"recover", MESOS__FLAG_STRING, "reconnect",
   "reconnect: re-register with the checkpointed agent id and reattach to live executors; cleanup: kill "
   "them, report their tasks, then register anew", NULL,
   "reconnect|cleanup"},
  {"executor_reregistration_timeout", MESOS__FLAG_DURATION, "2secs",
   "After a restart, executors must re-subscribe within this time or they are killed", NULL, NULL},
  {"recovery_timeout", MESOS__FLAG_DURATION, "15mins",
   "How long executors of checkpointing frameworks wait for a restarted agent before they exit", NULL,
   NULL},
  {"executor_heartbeat_interval", MESOS__FLAG_DURATION, "30secs",
   "Period of HEARTBEAT events on executor streams (libmesos-core)", NULL, NULL},
  {"strict", MESOS__FLAG_BOOL, "true", "Fail start-up on a damaged checkpoint instead of discarding it", NULL, NULL},
  {"registration_backoff_factor", MESOS__FLAG_DURATION, "1secs", "Registration retry back-off factor", NULL, NULL},
  {"status_update_retry_interval", MESOS__FLAG_DURATION, "10secs",
   "First re-send interval of an unacknowledged status update, doubling up to 10mins (libmesos-core)", NULL, NULL},
  {"launcher_dir", MESOS__FLAG_STRING, NULL,
   "Directory holding mesos-executor (default: the directory of the running program)", NULL, NULL},
  {"in_agent_command_runner", MESOS__FLAG_BOOL, "false",
   "Run command tasks inside the agent instead of under mesos-executor (libmesos-core)", NULL, NULL},
  {"logging_level", MESOS__FLAG_STRING, "INFO", "Log level: ERROR, WARNING, INFO, DEBUG or TRACE", NULL, NULL},
  {"quiet", MESOS__FLAG_BOOL, "false", "Log nothing to stderr", NULL, NULL},
  {"help", MESOS__FLAG_BOOL, "false", "Print this help and exit", NULL, NULL},
  {"version", MESOS__FLAG_BOOL, "false", "Print the version and exit", NULL, NULL},
  MESOS__AGENT_TLS_FLAGS,
  MESOS__AGENT_AUTH_FLAGS,
  MESOS__AGENT_CONTAINER_FLAGS,
  /* Accepted, not acted on yet. */
  {"advertise_ip", MESOS__FLAG_STRING, NULL, "IP published to others (not yet implemented)", NULL, NULL},
  {"advertise_port", MESOS__FLAG_INT, NULL, "Port published to others (not yet implemented)", NULL, NULL},
  {"hostname_lookup", MESOS__FLAG_BOOL, "true", "Reverse-lookup the hostname (not yet implemented)", NULL, NULL},
  {"launcher", MESOS__FLAG_STRING, NULL, "Launcher (not yet implemented)", NULL, NULL},
  {"executor_environment_variables", MESOS__FLAG_TEXT, NULL, "Executor environment (not yet implemented)", NULL, NULL},
  {"switch_user", MESOS__FLAG_BOOL, "true", "Run tasks as their user (not yet implemented)", NULL, NULL},
  {"http_command_executor", MESOS__FLAG_BOOL, "false", "Command executor uses the HTTP API (not yet implemented)", NULL, NULL},
  {"frameworks_home", MESOS__FLAG_STRING, NULL, "Base of relative executor paths (not yet implemented)", NULL, NULL},
  {"gc_delay", MESOS__FLAG_DURATION, "1weeks", "Sandbox garbage collection delay (not yet implemented)", NULL, NULL},
  {"disk_watch_interval", MESOS__FLAG_DURATION, "1mins", "Disk usage check period (not yet implemented)", NULL, NULL},
  {"log_dir", MESOS__FLAG_STRING, NULL, "Log directory (not yet implemented)", NULL, NULL},
  {"modules", MESOS__FLAG_TEXT, NULL, "Modules (not yet implemented)", NULL, NULL},
};
#define NAGENT_FLAGS (sizeof agent_flags / sizeof agent_flags[0])

double mesos__agent_now(void) { return mesos__wall_seconds(); }

/* ------------------------------------------------------------ flags API */

/* The bodies are flags.h's, shared with the other daemon: the handle's
 * first member is its mesos__flags. */
_Static_assert(offsetof(struct mesos_agent_flags, f) == 0, "flags.h's handles");

MESOS_EXTERN(mesos_status) mesos_agent_flags_parse(mesos_agent_flags **out, int argc,
                                                   char *const *argv, char *const *envp,
                                                   mesos_error **err) {
  if (out == NULL) return mesos__err(err, MESOS_EINVAL, "mesos_agent_flags_parse: out is NULL");
  void *h = NULL;
  mesos_status st = mesos__flags_handle_parse(&h, sizeof **out, agent_flags, NAGENT_FLAGS, argc, argv,
                                               envp, err);
  if (st == MESOS_OK) *out = h;
  return st;
}

MESOS_EXTERN(void) mesos_agent_flags_free(mesos_agent_flags *flags) {
  mesos__flags_handle_free(flags);
}

MESOS_EXTERN(int) mesos_agent_flags_bool(const mesos_agent_flags *flags, const char *name) {
  return mesos__flags_handle_bool(flags, name);
}

MESOS_EXTERN(const char *) mesos_agent_flags_get(const mesos_agent_flags *flags,
                                                 const char *name) {
  return mesos__flags_handle_get(flags, name);
}

MESOS_EXTERN(mesos_status) mesos_agent_flags_usage(const char *program, char **out,
                                                   mesos_error **err) {
  if (out == NULL) return mesos__err(err, MESOS_EINVAL, "mesos_agent_flags_usage: out is NULL");
  return mesos__flags_usage_string(agent_flags, NAGENT_FLAGS, program ? program : "mesos-agent",
                                   out, err);
}

MESOS_EXTERN(mesos_status) mesos_agent_options_init(mesos_agent_options *opts,
                                                    uint32_t version) {
  if (opts == NULL) return MESOS_EINVAL;
  if (version != MESOS_AGENT_OPTIONS_VERSION) return MESOS_EVERSION;
  mesos_agent_options d = MESOS_AGENT_OPTIONS_INIT;
  *opts = d;
  return MESOS_OK;
}

/* Renders a flag set or an options struct as a command line and parses it
 * with the agent's table, so both paths share one configuration (and the
 * agent owns its copy). */
static mesos_status copy_flags(mesos_agent *a, const mesos_agent_options *o,
                               const mesos_agent_flags *flags, mesos_error **err) {
  if (flags) return mesos__flags_copy(&a->flags, agent_flags, NAGENT_FLAGS, flags->f, err);
  char *argv[NAGENT_FLAGS + 2];
  char *store[NAGENT_FLAGS + 1];
  int argc = 1, nstore = 0;
  argv[0] = "mesos-agent";
  mesos_status st = MESOS_OK;
#define ADD(name, value)                                                   \
  do {                                                                     \
    size_t len_ = strlen(name) + strlen(value) + 4;                        \
    char *s_ = mesos__malloc(len_);                                        \
    if (s_ == NULL) {                                                      \
      st = MESOS_ENOMEM;                                                   \
      break;                                                               \
    }                                                                      \
    snprintf(s_, len_, "--%s=%s", name, value);                            \
    store[nstore++] = s_;                                                  \
    argv[argc++] = s_;                                                     \
  } while (0)
  {
    char port[32];
    snprintf(port, sizeof port, "%u", (unsigned)o->port);
    if (o->master) ADD("master", o->master);
    if (st == MESOS_OK && o->work_dir) ADD("work_dir", o->work_dir);
    if (st == MESOS_OK && o->ip) ADD("ip", o->ip);
    if (st == MESOS_OK) ADD("port", port);
    if (st == MESOS_OK && o->hostname) ADD("hostname", o->hostname);
    if (st == MESOS_OK && o->resources) ADD("resources", o->resources);
    if (st == MESOS_OK && o->attributes) ADD("attributes", o->attributes);
  }
#undef ADD
  if (st == MESOS_OK)
    st = mesos__flags_parse(&a->flags, agent_flags, NAGENT_FLAGS, argc, argv, NULL, err);
  else
    mesos__err(err, st, "out of memory");
  for (int k = 0; k < nstore; k++) mesos__free(store[k]);
  return st;
}

/* ------------------------------------------------------------ resources */

static int has_resource(Mesos__V1__Resource **rs, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (rs[i]->name && strcmp(rs[i]->name, name) == 0) return 1;
  return 0;
}

/* What Mesos detects for resources --resources does not name
 * (versioning.md 7): all CPUs; memory minus 1 GB for the system (half of
 * it below 2 GB); the work_dir file system minus 5 GB (half below 10 GB);
 * ports 31000-32000. */
static mesos_status detect_resources(mesos_agent *a, mesos_resources *r, mesos_error **err) {
  Mesos__V1__Resource **rs = NULL;
  size_t n = 0;
  mesos_status st = mesos__resources_to_protos(&r->r, &rs, &n, err);
  if (st != MESOS_OK) return st;
  char text[256] = "";
  size_t len = 0;
  if (!has_resource(rs, n, "cpus")) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    len += (size_t)snprintf(text + len, sizeof text - len, "cpus:%ld;", cpus > 0 ? cpus : 1);
  }
  if (!has_resource(rs, n, "mem")) {
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    double mb = pages > 0 && psize > 0 ? (double)pages * (double)psize / 1048576.0 : 1024;
    mb = mb < 2048 ? mb / 2 : mb - 1024;
    len += (size_t)snprintf(text + len, sizeof text - len, "mem:%.0f;", mb);
  }
  if (!has_resource(rs, n, "disk")) {
    struct statvfs sv;
    double mb = statvfs(a->work_dir, &sv) == 0
                    ? (double)sv.f_blocks * (double)sv.f_frsize / 1048576.0
                    : 1024;
    mb = mb < 10240 ? mb / 2 : mb - 5120;
    len += (size_t)snprintf(text + len, sizeof text - len, "disk:%.0f;", mb);
  }
  if (!has_resource(rs, n, "ports"))
    len += (size_t)snprintf(text + len, sizeof text - len, "ports:[31000-32000];");
  for (size_t i = 0; i < n; i++) mesos__pb_free(rs[i]);
  mesos__free(rs);
  if (len == 0) return MESOS_OK;
  text[len - 1] = '\0';
  return mesos__resources_parse(&r->r, text, mesos__flags_get(a->flags, "default_role"), err);
}

static mesos_status build_resources(mesos_agent *a, Mesos__V1__Resource ***out, size_t *n,
                                    mesos_error **err) {
  const char *text = mesos__flags_get(a->flags, "resources");
  mesos_resources *r = NULL;
  mesos_status st = mesos_resources_new(&r, err);
  if (st != MESOS_OK) return st;
  mesos_error *e = NULL;
  if (text) {
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    if (*p == '[') {
      /* A JSON array of Resource: decoded as the resources of an
       * AgentInfo, which is what they will become anyway. */
      mesos__buf b = MESOS__BUF_INIT((size_t)1 << 20);
      st = mesos__buf_printf(&b, "{\"hostname\":\"-\",\"resources\":%s}", p);
      ProtobufCMessage *m = NULL;
      if (st == MESOS_OK)
        st = mesos__json_decode(&mesos__v1__agent_info__descriptor, b.data, b.len, NULL, &m, &e);
      mesos__buf_free(&b);
      const Mesos__V1__AgentInfo *ai = (const Mesos__V1__AgentInfo *)m;
      for (size_t i = 0; st == MESOS_OK && i < ai->n_resources; i++)
        st = mesos__resources_add(&r->r, ai->resources[i], &e);
      mesos__pb_free(m);
    } else {
      st = mesos__resources_parse(&r->r, text, mesos__flags_get(a->flags, "default_role"), &e);
    }
    if (st != MESOS_OK) {
      st = mesos__err_wrap(err, st == MESOS_ENOMEM ? st : MESOS_EINVAL, e,
                           "--resources: cannot parse '%s': %s", text,
                           e ? mesos_error_message(e) : mesos_status_str(st));
      mesos_resources_free(r);
      return st;
    }
  }
  st = detect_resources(a, r, err);
  if (st == MESOS_OK) st = mesos__resources_to_protos(&r->r, out, n, err);
  mesos_resources_free(r);
  return st;
}

/* ------------------------------------------------------------ attributes */

static int all_numeric(const char *s) {
  char *end = NULL;
  if (*s == '\0') return 0;
  errno = 0;
  strtod(s, &end);
  return errno == 0 && end && *end == '\0';
}

/* Parses one attribute value into `at` (type and value), allocations
 * through the pb allocator so the whole AgentInfo frees with mesos__pb_free. */
static mesos_status parse_attribute_value(Mesos__V1__Attribute *at, char *v, mesos_error **err) {
  size_t len = strlen(v);
  if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
    v[len - 1] = '\0';
    Mesos__V1__Value__Ranges *rs = MESOS__NEW(Mesos__V1__Value__Ranges);
    if (rs == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    mesos__v1__value__ranges__init(rs);
    at->type = MESOS__V1__VALUE__TYPE__RANGES;
    at->ranges = rs;
    for (char *save = NULL, *tok = strtok_r(v + 1, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
      unsigned long long b = 0, e = 0;
      int used = 0;
      while (*tok == ' ') tok++;
      if (sscanf(tok, "%llu-%llu%n", &b, &e, &used) != 2 || tok[used] != '\0' || b > e)
        return mesos__err(err, MESOS_EINVAL, "bad range '%s'", tok);
      if (rs->n_range >= 1024) return mesos__err(err, MESOS_ELIMIT, "more than 1024 ranges");
      Mesos__V1__Value__Range **grown =
          mesos__realloc(rs->range, (rs->n_range + 1) * sizeof *grown);
      if (grown == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      rs->range = grown;
      Mesos__V1__Value__Range *r = MESOS__NEW(Mesos__V1__Value__Range);
      if (r == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      mesos__v1__value__range__init(r);
      r->begin = b;
      r->end = e;
      rs->range[rs->n_range++] = r;
    }
    return MESOS_OK;
  }
  if (len >= 2 && v[0] == '{' && v[len - 1] == '}') {
    v[len - 1] = '\0';
    Mesos__V1__Value__Set *set = MESOS__NEW(Mesos__V1__Value__Set);
    if (set == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    mesos__v1__value__set__init(set);
    at->type = MESOS__V1__VALUE__TYPE__SET;
    at->set = set;
    for (char *save = NULL, *tok = strtok_r(v + 1, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
      while (*tok == ' ') tok++;
      if (set->n_item >= 1024) return mesos__err(err, MESOS_ELIMIT, "more than 1024 set items");
      char **grown = mesos__realloc(set->item, (set->n_item + 1) * sizeof *grown);
      if (grown == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
      set->item = grown;
      if ((set->item[set->n_item] = mesos__strdup(tok)) == NULL)
        return mesos__err(err, MESOS_ENOMEM, "out of memory");
      set->n_item++;
    }
    return MESOS_OK;
  }
  if (all_numeric(v)) {
    Mesos__V1__Value__Scalar *s = MESOS__NEW(Mesos__V1__Value__Scalar);
    if (s == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
    mesos__v1__value__scalar__init(s);
    s->value = strtod(v, NULL);
    at->type = MESOS__V1__VALUE__TYPE__SCALAR;
    at->scalar = s;
    return MESOS_OK;
  }
  Mesos__V1__Value__Text *t = MESOS__NEW(Mesos__V1__Value__Text);
  if (t == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__v1__value__text__init(t);
  at->type = MESOS__V1__VALUE__TYPE__TEXT;
  at->text = t;
  t->value = mesos__strdup(v);
  return t->value ? MESOS_OK : mesos__err(err, MESOS_ENOMEM, "out of memory");
}

/* --attributes=name:value;name:value into info->attributes. */
static mesos_status build_attributes(Mesos__V1__AgentInfo *info, const char *text,
                                     mesos_error **err) {
  if (text == NULL || *text == '\0') return MESOS_OK;
  char *copy = mesos__strdup(text);
  if (copy == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos_status st = MESOS_OK;
  mesos_error *e = NULL;
  for (char *save = NULL, *tok = strtok_r(copy, ";", &save); tok && st == MESOS_OK;
       tok = strtok_r(NULL, ";", &save)) {
    while (*tok == ' ') tok++;
    if (*tok == '\0') continue;
    char *colon = strchr(tok, ':');
    if (colon == NULL || colon == tok || colon[1] == '\0') {
      st = mesos__err(err, MESOS_EINVAL, "--attributes: '%s' is not name:value", tok);
      break;
    }
    *colon = '\0';
    if (info->n_attributes >= 1024) {
      st = mesos__err(err, MESOS_ELIMIT, "--attributes: more than 1024 attributes");
      break;
    }
    Mesos__V1__Attribute **grown =
        mesos__realloc(info->attributes, (info->n_attributes + 1) * sizeof *grown);
    Mesos__V1__Attribute *at = grown ? MESOS__NEW(Mesos__V1__Attribute) : NULL;
    if (grown) info->attributes = grown;
    if (at == NULL) {
      st = mesos__err(err, MESOS_ENOMEM, "out of memory");
      break;
    }
    mesos__v1__attribute__init(at);
    info->attributes[info->n_attributes++] = at;
    at->name = mesos__strdup(tok);
    if (at->name == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    else st = parse_attribute_value(at, colon + 1, &e);
    if (st != MESOS_OK && e) {
      st = mesos__err_wrap(err, st, e, "--attributes: '%s': %s", tok, mesos_error_message(e));
      e = NULL;
    }
  }
  mesos_error_free(e);
  mesos__free(copy);
  return st;
}

/* ------------------------------------------------------------ checkpoint */

static mesos_status agent_path(mesos_agent *a, mesos__agent_path_kind kind, const char *id,
                               char **out, mesos_error **err) {
  mesos__agent_path_ids ids = {id, NULL, NULL, NULL, NULL};
  return mesos__agent_path(out, a->work_dir, kind, &ids, err);
}

mesos_status mesos__agent_checkpoint_id(mesos_agent *a, const char *id, mesos_error **err) {
  char *info_path = NULL, *latest = NULL;
  mesos_status st = agent_path(a, MESOS__AGENT_PATH_AGENT_INFO, id, &info_path, err);
  if (st == MESOS_OK) st = agent_path(a, MESOS__AGENT_PATH_LATEST_AGENT, NULL, &latest, err);
  if (st == MESOS_OK) {
    Mesos__Internal__AgentCheckpoint cp = MESOS__INTERNAL__AGENT_CHECKPOINT__INIT;
    Mesos__V1__AgentInfo info = *a->info;
    Mesos__V1__AgentID aid = MESOS__V1__AGENT_ID__INIT;
    aid.value = (char *)id;
    info.id = &aid;
    cp.info = &info;
    st = mesos__checkpoint_write(info_path, &cp.base, err);
  }
  if (st == MESOS_OK) {
    st = mesos__checkpoint_symlink(latest, id, err);
  }
  mesos__free(info_path);
  mesos__free(latest);
  return st;
}

/* Reads the id of a previous run from meta/slaves/latest and its
 * slave.info.  No checkpoint: OK with a->id NULL.  A damaged one is an
 * error naming the file (or, with --no-strict, a warning and a fresh
 * registration). */
static mesos_status recover_id(mesos_agent *a, mesos_error **err) {
  char *latest = NULL;
  mesos_status st = agent_path(a, MESOS__AGENT_PATH_LATEST_AGENT, NULL, &latest, err);
  if (st != MESOS_OK) return st;
  char target[512];
  ssize_t n = readlink(latest, target, sizeof target - 1);
  if (n < 0) {
    int e = errno;
    if (e == ENOENT) {
      mesos__free(latest);
      return MESOS_OK;
    }
    st = mesos__err_errno(err, MESOS_EIO, e, latest);
    mesos__free(latest);
    return st;
  }
  target[n] = '\0';
  /* --recover=cleanup keeps the id until the killed executors' tasks are
   * reported (recover.c), then registers anew. */
  a->cleanup_pending = strcmp(mesos__flags_get(a->flags, "recover"), "cleanup") == 0;
  char *info_path = NULL;
  mesos_error *e = NULL;
  st = agent_path(a, MESOS__AGENT_PATH_AGENT_INFO, target, &info_path, &e);
  ProtobufCMessage *m = NULL;
  if (st == MESOS_OK)
    st = mesos__checkpoint_read(info_path, &mesos__internal__agent_checkpoint__descriptor, &m,
                                &e);
  if (st == MESOS_OK) {
    const Mesos__Internal__AgentCheckpoint *cp = (const Mesos__Internal__AgentCheckpoint *)m;
    if (cp->info->id == NULL || cp->info->id->value == NULL ||
        strcmp(cp->info->id->value, target) != 0)
      st = mesos__err(&e, MESOS_EPROTO, "the agent id inside does not match %s", latest);
  }
  if (st != MESOS_OK) {
    const char *path = info_path ? info_path : latest;
    if (mesos__flags_bool(a->flags, "strict")) {
      st = mesos__err_wrap(err, st, e, "cannot recover the agent checkpoint %s: %s", path,
                           e ? mesos_error_message(e) : mesos_status_str(st));
    } else {
      LOG_WARN("discarding the damaged agent checkpoint %s (--no-strict): %s", path,
               e ? mesos_error_message(e) : mesos_status_str(st));
      mesos_error_free(e);
      st = MESOS_OK;
    }
  } else {
    a->id = mesos__strdup(target);
    if (a->id == NULL) st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    else LOG_INFO("Recovered agent id %s from %s", a->id, info_path);
  }
  mesos__pb_free(m);
  mesos__free(info_path);
  mesos__free(latest);
  return st;
}

/* ------------------------------------------------------------ endpoints */

/* The master's /version shape (build_date, build_time as Mesos shows them). */
static void version_handler(mesos__http_request *req, void *ud) {
  (void)ud;
  char body[256], date[32];
  int n = snprintf(body, sizeof body,
                   "{\"version\":\"%s\",\"build_date\":\"%s\",\"build_time\":%.0f,"
                   "\"build_user\":\"libmesos-core\",\"libmesos_core_version\":\"%s\"}",
                   AGENT_API_VERSION, mesos__build_date(date, sizeof date), mesos__build_time(),
                   mesos_version_string());
  mesos__http_headers h;
  mesos__http_headers_init(&h);
  mesos__http_headers_set(&h, "Content-Type", "application/json");
  mesos__http_respond(req, 200, &h, body, (size_t)n);
  mesos__http_headers_free(&h);
}

static void health_handler(mesos__http_request *req, void *ud) {
  (void)ud;
  mesos__http_respond(req, 200, NULL, "", 0);
}

/* ------------------------------------------------------------ lifecycle */

/* Command tasks run under mesos-executor from --launcher_dir, by default
 * the directory of the running program (where make and make install put
 * it beside mesos-agent).  Without it (a program embedding the library
 * elsewhere) the agent runs commands itself and says so. */
static mesos_status find_executor(mesos_agent *a, mesos_error **err) {
  if (mesos__flags_bool(a->flags, "in_agent_command_runner")) {
    LOG_INFO("Command tasks run inside the agent (--in_agent_command_runner)");
    return MESOS_OK;
  }
  char dir[4096];
  const char *given = mesos__flags_get(a->flags, "launcher_dir");
  if (given) {
    snprintf(dir, sizeof dir, "%s", given);
  } else {
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) n = 0;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
  }
  char *path = NULL;
  mesos_status st = mesos__fs_join(&path, dir, "mesos-executor", err);
  if (st != MESOS_OK) return st;
  if (access(path, X_OK) == 0) {
    a->executor_path = path;
    LOG_INFO("Command tasks run under %s", path);
    return MESOS_OK;
  }
  if (given) {
    st = mesos__err(err, MESOS_EINVAL, "--launcher_dir: %s is not an executable", path);
    mesos__free(path);
    return st;
  }
  LOG_WARN("%s not found: command tasks run inside the agent", path);
  mesos__free(path);
  return MESOS_OK;
}

/* The plain loopback listener of an HTTPS agent's executors.  Its port is
 * kept in meta/executor_port and taken again after a restart: checkpointing
 * executors re-subscribe to the MESOS_AGENT_ENDPOINT they were started
 * with.  A port taken meanwhile gets a new one (logged: those executors
 * then cannot come back). */
static mesos_status exec_listener(mesos_agent *a, mesos_loop *loop, mesos_error **err) {
  char *path = NULL;
  mesos_status st = mesos__fs_join(&path, a->work_dir, "meta/executor_port", err);
  if (st != MESOS_OK) return st;
  unsigned port = 0;
  uint8_t *data = NULL;
  size_t len = 0;
  if (mesos__checkpoint_read_bytes(path, 16, &data, &len, NULL) == MESOS_OK && len == 2)
    port = (unsigned)data[0] << 8 | data[1];
  mesos__free(data);
  char listen[32];
  snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
  mesos__http_server_options eopts;
  memset(&eopts, 0, sizeof eopts);
  eopts.listen = listen;
  st = mesos__http_server_new(&a->exec_http, loop, &eopts, NULL);
  if (st != MESOS_OK && port != 0) {
    LOG_WARN("Executor port 127.0.0.1:%u is taken: executors started before the restart "
             "cannot re-subscribe", port);
    eopts.listen = "127.0.0.1:0";
    st = mesos__http_server_new(&a->exec_http, loop, &eopts, NULL);
  }
  if (st != MESOS_OK) {
    mesos__free(path);
    return mesos__err(err, st, "cannot listen for executors on 127.0.0.1");
  }
  a->exec_port = mesos__http_server_port(a->exec_http);
  uint8_t b[2] = {(uint8_t)(a->exec_port >> 8), (uint8_t)(a->exec_port & 0xff)};
  st = mesos__checkpoint_write_bytes(path, b, sizeof b, err);
  mesos__free(path);
  return st;
}

/* --master: host:port, http://host:port[/] or https://host:port[/]. */
static mesos_status parse_master(mesos_agent *a, mesos_error **err) {
  const char *m = mesos__flags_get(a->flags, "master");
  if (m == NULL || *m == '\0') return mesos__err(err, MESOS_EINVAL, "--master is required");
  char hostport[400];
  const char *p = m;
  int https = strncmp(p, "https://", 8) == 0;
  if (strncmp(p, "http://", 7) == 0) p += 7;
  else if (https) p += 8;
  else if (strstr(p, "://"))
    return mesos__err(err, MESOS_EINVAL,
                      "--master: '%s': only host:port, http://host:port or https://host:port", m);
  size_t len = strcspn(p, "/ \n");
  if (len == 0 || len >= sizeof hostport)
    return mesos__err(err, MESOS_EINVAL, "--master: '%s' is not host:port", m);
  memcpy(hostport, p, len);
  hostport[len] = '\0';
  const char *colon = strrchr(hostport, ':');
  if (colon == NULL || colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1))
    return mesos__err(err, MESOS_EINVAL, "--master: '%s' has no port", m);
  snprintf(a->master_url, sizeof a->master_url, "%s://%s/api/v1/agent", https ? "https" : "http",
           hostport);
  return MESOS_OK;
}

static mesos_status build_info(mesos_agent *a, mesos_error **err) {
  const char *host = mesos__flags_get(a->flags, "hostname");
  /* Announced to the master and to frameworks in every offer. */
  int host_ok = host == NULL || (host[0] != '\0' && strlen(host) < sizeof a->hostname);
  for (const char *c = host; host_ok && c && *c; c++)
    host_ok = !isspace((unsigned char)*c) && !iscntrl((unsigned char)*c);
  if (!host_ok) return mesos__err(err, MESOS_EINVAL, "--hostname: '%s' is not a host name", host);
  const char *role = mesos__flags_get(a->flags, "default_role");
  if (role == NULL || !mesos__role_valid(role))
    return mesos__err(err, MESOS_EINVAL, "--default_role: '%s' is not a valid role name",
                      role ? role : "");
  if (host) snprintf(a->hostname, sizeof a->hostname, "%s", host);
  else if (gethostname(a->hostname, sizeof a->hostname) != 0)
    snprintf(a->hostname, sizeof a->hostname, "localhost");
  a->hostname[sizeof a->hostname - 1] = '\0';
  Mesos__V1__AgentInfo *info = MESOS__NEW(Mesos__V1__AgentInfo);
  if (info == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  mesos__v1__agent_info__init(info);
  a->info = info;
  info->hostname = mesos__strdup(a->hostname);
  if (info->hostname == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  info->has_port = 1;
  info->port = (int32_t)a->port;
  mesos_status st = build_resources(a, &info->resources, &info->n_resources, err);
  if (st == MESOS_OK) st = build_attributes(info, mesos__flags_get(a->flags, "attributes"), err);
  return st;
}

MESOS_EXTERN(mesos_status) mesos_agent_new(mesos_agent **out, mesos_loop *loop,
                                           const mesos_agent_options *opts,
                                           const mesos_agent_flags *flags, mesos_error **err) {
  if (out == NULL || loop == NULL)
    return mesos__err(err, MESOS_EINVAL, "mesos_agent_new: out and loop are required");
  if (opts && flags)
    return mesos__err(err, MESOS_EINVAL, "mesos_agent_new: pass options or flags, not both");
  if (!opts && !flags)
    return mesos__err(err, MESOS_EINVAL, "mesos_agent_new: options or flags are required");
  if (opts && opts->version != MESOS_AGENT_OPTIONS_VERSION)
    return mesos__err(err, MESOS_EVERSION,
                      "mesos_agent_options: version %u not supported (this library: %u)",
                      opts->version, MESOS_AGENT_OPTIONS_VERSION);
  mesos_agent *a = MESOS__NEW(mesos_agent);
  if (a == NULL) return mesos__err(err, MESOS_ENOMEM, "out of memory");
  a->loop = loop;
  mesos__map_init(&a->frameworks);
  mesos__map_init(&a->tasks);
  mesos__map_init(&a->streams);
  mesos__map_init(&a->executors);
  mesos__recordio_decoder_init(&a->dec, (size_t)16 << 20);
  mesos__tls_config *client_tls = NULL; /* for an https:// --master */
  mesos_status st = copy_flags(a, opts, flags, err);
  if (st != MESOS_OK) goto fail;
  /* The table lists the flags not implemented yet last, from advertise_ip. */
  int not_yet = 0;
  for (size_t i = 0; i < NAGENT_FLAGS; i++)
    if ((not_yet |= strcmp(agent_flags[i].name, "advertise_ip") == 0) &&
        mesos__flags_is_set(a->flags, agent_flags[i].name))
      LOG_WARN("--%s is accepted for compatibility but not implemented yet",
               agent_flags[i].name);
  if ((st = parse_master(a, err)) != MESOS_OK) goto fail;
  const char *wd = mesos__flags_get(a->flags, "work_dir");
  if (wd == NULL || *wd == '\0') {
    st = mesos__err(err, MESOS_EINVAL, "--work_dir is required");
    goto fail;
  }
  if ((a->work_dir = mesos__strdup(wd)) == NULL) {
    st = mesos__err(err, MESOS_ENOMEM, "out of memory");
    goto fail;
  }
  if (mkdir(wd, 0755) != 0 && errno != EEXIST) {
    st = mesos__err_errno(err, MESOS_EIO, errno, wd);
    goto fail;
  }
  int64_t port = mesos__flags_int(a->flags, "port");
  if (port < 0 || port > 65535) {
    st = mesos__err(err, MESOS_EINVAL, "--port: %lld is not a TCP port", (long long)port);
    goto fail;
  }
  a->backoff_factor_ms = mesos__flags_duration_ns(a->flags, "registration_backoff_factor") /
                         MESOS__NS_PER_MS;
  a->retry_base_ms = mesos__flags_duration_ns(a->flags, "status_update_retry_interval") /
                     MESOS__NS_PER_MS;
  a->shutdown_grace_ms = mesos__flags_duration_ns(a->flags, "executor_shutdown_grace_period") /
                         MESOS__NS_PER_MS;
  if (a->retry_base_ms == 0) {
    st = mesos__err(err, MESOS_EINVAL, "--status_update_retry_interval must be positive");
    goto fail;
  }
  a->exec_reg_timeout_ms = mesos__flags_duration_ns(a->flags, "executor_registration_timeout") /
                           MESOS__NS_PER_MS;
  a->exec_rereg_timeout_ms =
      mesos__flags_duration_ns(a->flags, "executor_reregistration_timeout") / MESOS__NS_PER_MS;
  a->recovery_timeout_ms = mesos__flags_duration_ns(a->flags, "recovery_timeout") / MESOS__NS_PER_MS;
  a->exec_heartbeat_ms =
      mesos__flags_duration_ns(a->flags, "executor_heartbeat_interval") / MESOS__NS_PER_MS;
  snprintf(a->ip, sizeof a->ip, "%s", mesos__flags_get(a->flags, "ip"));
  if ((st = find_executor(a, err)) != MESOS_OK) goto fail;

  char listen[128];
  snprintf(listen, sizeof listen, strchr(a->ip, ':') ? "[%s]:%lld" : "%s:%lld", a->ip,
           (long long)port);
  mesos__http_server_options hopts;
  memset(&hopts, 0, sizeof hopts);
  hopts.listen = listen;
  st = mesos__agent_tls_configs(a, strncmp(a->master_url, "https:", 6) == 0, &hopts.tls,
                                &client_tls, err);
  if (st != MESOS_OK) goto fail;
  st = mesos__http_server_new(&a->http, loop, &hopts, err);
  mesos__tls_config_unref(hopts.tls); /* the server holds its own reference */
  if (st != MESOS_OK) goto fail;
  a->port = mesos__http_server_port(a->http);
  /* Executors speak plain HTTP (mesos-executor, the default executor and
   * custom ones built on lib/executor have no TLS settings): on an HTTPS
   * agent they get a second, plain listener bound to loopback only, which
   * serves the executor API and nothing else, and MESOS_AGENT_ENDPOINT
   * names it (mesos__agent_executor_endpoint).  Executors run on this host,
   * so their traffic never leaves it. */
  if (hopts.tls && (st = exec_listener(a, loop, err)) != MESOS_OK) goto fail;
  static const char *const exec_paths[] = {"/api/v1/executor", "/slave(1)/api/v1/executor"};
  for (size_t i = 0; i < 2 && st == MESOS_OK; i++)
    st = mesos__http_server_route(a->http, "POST", exec_paths[i], 0,
                                  mesos__agent_executor_api_handler, a);
  for (size_t i = 0; i < 2 && st == MESOS_OK && a->exec_http; i++)
    st = mesos__http_server_route(a->exec_http, "POST", exec_paths[i], 0,
                                  mesos__agent_executor_api_handler, a);
  static const char *const version_paths[] = {"/version", "/slave(1)/version"};
  static const char *const health_paths[] = {"/health", "/slave(1)/health"};
  for (size_t i = 0; i < 2 && st == MESOS_OK; i++)
    st = mesos__http_server_route(a->http, "GET", version_paths[i], 0, version_handler, a);
  for (size_t i = 0; i < 2 && st == MESOS_OK; i++)
    st = mesos__http_server_route(a->http, "GET", health_paths[i], 0, health_handler, a);
  if (st != MESOS_OK) {
    mesos__err(err, st, "cannot register routes");
    goto fail;
  }
  if ((st = mesos__agent_operator_init(a, err)) != MESOS_OK) goto fail;
  if ((st = build_info(a, err)) != MESOS_OK) goto fail;
  if ((st = recover_id(a, err)) != MESOS_OK) goto fail;
  if ((st = mesos__agent_volumes_recover(a, err)) != MESOS_OK) goto fail; /* volumes.c */
  mesos__http_client_options copts;
  memset(&copts, 0, sizeof copts);
  copts.connect_timeout_ms = 5000;
  /* Status updates of many tasks go to the master at once (one in flight
   * per task): with the default 4 idle connections, each burst beyond 4
   * opened and closed connections (connect was ~2% of the agent's CPU in
   * bench_task_launch, plus the master's accepts). */
  copts.max_idle_per_host = 32;
  copts.tls = client_tls; /* NULL unless --master is https:// */
  st = mesos__http_client_new(&a->client, loop, &copts, err);
  if (st == MESOS_OK) st = mesos__agent_link_init(a, client_tls, err);
  mesos__tls_config_unref(client_tls); /* the client and pipe took their own references */
  client_tls = NULL;
  if (st != MESOS_OK) goto fail;
  if ((st = mesos__agent_executor_api_init(a, err)) != MESOS_OK) goto fail;
  if ((st = mesos__agent_containers_init(a, err)) != MESOS_OK) goto fail;
  if ((st = mesos__agent_recover_updates(a, err)) != MESOS_OK) goto fail;
  mesos__agent_containers_recovered(a); /* orphans: after the tasks re-attached */
  char *res = NULL;
  mesos_resources *r = NULL;
  if (mesos_resources_new(&r, NULL) == MESOS_OK) {
    for (size_t i = 0; i < a->info->n_resources; i++)
      mesos__resources_add(&r->r, a->info->resources[i], NULL);
    mesos_resources_format(r, &res, NULL);
  }
  LOG_INFO("Agent (%s) listening on %s:%u with %s; master %s", a->hostname, a->ip,
           (unsigned)a->port, res ? res : "", a->master_url);
  mesos_free(res);
  mesos_resources_free(r);
  mesos__agent_link_start(a);
  *out = a;
  return MESOS_OK;
fail:
  mesos__tls_config_unref(client_tls);
  mesos_agent_free(a);
  return st;
}

void mesos__agent_executor_endpoint(const mesos_agent *a, char *buf, size_t cap) {
  if (a->exec_http) {
    snprintf(buf, cap, "127.0.0.1:%u", (unsigned)a->exec_port);
    return;
  }
  const char *ip = strcmp(a->ip, "0.0.0.0") == 0 ? "127.0.0.1" : a->ip;
  snprintf(buf, cap, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, (unsigned)a->port);
}

MESOS_EXTERN(uint32_t) mesos_agent_port(const mesos_agent *agent) {
  return agent ? agent->port : 0;
}

MESOS_EXTERN(const char *) mesos_agent_id(const mesos_agent *agent) {
  return agent ? agent->id : NULL;
}

MESOS_EXTERN(void) mesos_agent_free(mesos_agent *a) {
  if (a == NULL) return;
  a->closing = 1;
  mesos__agent_link_stop(a);
  mesos__agent_executor_api_fini(a);
  mesos__agent_release_executors(a); /* checkpointing frameworks' outlive us */
  mesos__agent_recover_fini(a);
  mesos__agent_containers_fini(a);
  mesos__agent_tasks_free(a);
  mesos__agent_status_free_all(a);
  mesos__http_client_free(a->client);
  mesos__http_server_free(a->http);
  mesos__http_server_free(a->exec_http);
  mesos__agent_operator_fini(a);
  mesos_timer_free(a->reconnect);
  mesos_timer_free(a->ping_timeout);
  size_t it = 0;
  void *v;
  while (mesos__map_next(&a->frameworks, &it, NULL, &v)) mesos__pb_free(v);
  mesos__map_free(&a->frameworks);
  mesos__map_free(&a->tasks);
  mesos__map_free(&a->streams);
  mesos__recordio_decoder_free(&a->dec);
  mesos__pb_free(a->info);
  mesos__agent_volumes_free(a);
  mesos__flags_free(a->flags);
  mesos__free(a->work_dir);
  mesos__free(a->executor_path);
  mesos__free(a->id);
  mesos__free(a);
}
